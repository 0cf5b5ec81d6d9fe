//! The Activity page: the recorded state changes, newest first, filtered
//! by who, team, action and object, a timeline of them, a CSV export of
//! what is shown, and (admins) the replay of recorded terminals.

use crate::api;
use crate::time::{ago, local};
use leptos::prelude::*;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
struct Activity {
    time_nano: i64,
    actor: String,
    address: String,
    action: String,
    object: String,
    method: String,
    path: String,
    status: i64,
    #[serde(default)]
    team: String,
    #[serde(default)]
    recording: String,
}

/// Buckets of the shown rows over their time span: (start secs, ok, failed).
fn timeline(rows: &[Activity], buckets: usize) -> Vec<(i64, usize, usize)> {
    let (Some(first), Some(last)) = (rows.iter().map(|a| a.time_nano).min(), rows.iter().map(|a| a.time_nano).max()) else {
        return Vec::new();
    };
    let span = (last - first).max(1);
    let mut out: Vec<(i64, usize, usize)> =
        (0..buckets).map(|i| ((first + span * i as i64 / buckets as i64) / 1_000_000_000, 0, 0)).collect();
    for a in rows {
        let i = (((a.time_nano - first) as i128 * buckets as i128) / (span as i128 + 1)) as usize;
        let b = &mut out[i.min(buckets - 1)];
        if a.status < 400 { b.1 += 1 } else { b.2 += 1 }
    }
    out
}

/// The query string of the filters (empty ones left out).
fn query(actor: &str, team: &str, action: &str, object: &str) -> String {
    let mut q = Vec::new();
    for (k, v) in [("actor", actor), ("team", team), ("action", action), ("object", object)] {
        if !v.trim().is_empty() {
            q.push(format!("{k}={}", api::escape(v.trim())));
        }
    }
    q.join("&")
}

#[component]
pub fn ActivityPage() -> impl IntoView {
    let actor = RwSignal::new(String::new());
    let team = RwSignal::new(String::new());
    let replay = RwSignal::new(None::<String>);
    let admin = move || crate::layout::session().get().is_admin();
    let action = RwSignal::new(String::new());
    let object = RwSignal::new(String::new());
    let (applied, set_applied) = signal(String::new());
    let rows = LocalResource::new(move || {
        let q = applied.get();
        async move { api::get::<Vec<Activity>>(&format!("/berth/activity?limit=500&{q}")).await }
    });
    let apply = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        set_applied.set(query(&actor.get(), &team.get(), &action.get(), &object.get()));
    };
    view! {
        <div class="page-head">
            <h1>"Activity"</h1>
            <form class="row activity-filters" on:submit=apply>
                <input name="actor" placeholder="who (root, a user)" prop:value=actor on:input=move |e| actor.set(event_target_value(&e))/>
                <input name="team" placeholder="team" prop:value=team on:input=move |e| team.set(event_target_value(&e))/>
                <input name="action" placeholder="action (container, image.push)" prop:value=action on:input=move |e| action.set(event_target_value(&e))/>
                <input name="object" placeholder="object (id or name)" prop:value=object on:input=move |e| object.set(event_target_value(&e))/>
                <button class="btn activity-apply" type="submit">"Filter"</button>
                <a class="btn btn-quiet activity-csv" href=move || format!("/berth/activity?format=csv&{}", applied.get())>"CSV"</a>
            </form>
        </div>
        <Suspense fallback=|| view! { <p class="muted">"Loading activity…"</p> }>
            {move || Suspend::new(async move {
                match rows.await {
                    Err(e) => view! { <p class="error">{e}</p> }.into_any(),
                    Ok(list) if list.is_empty() => view! { <p class="muted empty">"Nothing recorded that matches."</p> }.into_any(),
                    Ok(list) => {
                                let bars = timeline(&list, 48);
                                let peak = bars.iter().map(|b| b.1 + b.2).max().unwrap_or(1).max(1);
                                view! {
                        <div class="panel timeline-panel">
                            <h2>"Timeline"</h2>
                            <div class="timeline">
                                {bars.into_iter().map(|(t, ok, bad)| {
                                    let h = |n: usize| format!("height: {}%", n * 100 / peak);
                                    view! {
                                        <div class="tl-bucket" title=format!("{}: {} ok, {} failed", local(t), ok, bad)>
                                            <div class="tl-bad" style=h(bad)></div>
                                            <div class="tl-ok" style=h(ok)></div>
                                        </div>
                                    }
                                }).collect_view()}
                            </div>
                        </div>
                        {move || replay.get().map(|id| view! {
                            <div class="panel replay-panel">
                                <div class="panel-head"><h2>"Terminal replay"</h2>
                                    <button class="btn btn-quiet" on:click=move |_| replay.set(None)>"Close"</button></div>
                                <crate::pages::replay::Replay id=id/>
                            </div>
                        })}
                        <div class="panel">
                            <table class="activity-table">
                                <thead><tr><th>"When"</th><th>"Who"</th><th>"Team"</th><th>"From"</th><th>"Action"</th><th>"Object"</th><th>"Result"</th><th>"Request"</th></tr></thead>
                                <tbody>
                                    {list.into_iter().map(|a| {
                                        let secs = a.time_nano / 1_000_000_000;
                                        let ok = a.status < 400;
                                        let rec = a.recording.clone();
                                        view! {
                                            <tr class="activity-row">
                                                <td title=local(secs)>{ago(secs)}</td>
                                                <td>{a.actor}</td>
                                                <td>{a.team}</td>
                                                <td class="mono">{a.address}</td>
                                                <td class="mono">{a.action}
                                                    {(!rec.is_empty() && admin()).then(|| {
                                                        let r = rec.clone();
                                                        view! { " " <button class="btn btn-quiet replay-btn" on:click=move |_| replay.set(Some(r.clone()))>"Replay"</button> }
                                                    })}
                                                </td>
                                                <td class="mono">{a.object.chars().take(40).collect::<String>()}</td>
                                                <td class=if ok { "ok" } else { "error" }>{a.status}</td>
                                                <td class="mono muted">{format!("{} {}", a.method, a.path)}</td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }.into_any()},
                }
            })}
        </Suspense>
    }
}
