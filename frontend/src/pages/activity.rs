//! The Activity page: the recorded state changes, newest first, filtered
//! by who, action and object, with a CSV export of what is shown.

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
}

/// The query string of the filters (empty ones left out).
fn query(actor: &str, action: &str, object: &str) -> String {
    let mut q = Vec::new();
    for (k, v) in [("actor", actor), ("action", action), ("object", object)] {
        if !v.trim().is_empty() {
            q.push(format!("{k}={}", api::escape(v.trim())));
        }
    }
    q.join("&")
}

#[component]
pub fn ActivityPage() -> impl IntoView {
    let actor = RwSignal::new(String::new());
    let action = RwSignal::new(String::new());
    let object = RwSignal::new(String::new());
    let (applied, set_applied) = signal(String::new());
    let rows = LocalResource::new(move || {
        let q = applied.get();
        async move { api::get::<Vec<Activity>>(&format!("/berth/activity?limit=500&{q}")).await }
    });
    let apply = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        set_applied.set(query(&actor.get(), &action.get(), &object.get()));
    };
    view! {
        <div class="page-head">
            <h1>"Activity"</h1>
            <form class="row activity-filters" on:submit=apply>
                <input name="actor" placeholder="who (root, tcp:10.0.0.5)" prop:value=actor on:input=move |e| actor.set(event_target_value(&e))/>
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
                    Ok(list) => view! {
                        <div class="panel">
                            <table class="activity-table">
                                <thead><tr><th>"When"</th><th>"Who"</th><th>"From"</th><th>"Action"</th><th>"Object"</th><th>"Result"</th><th>"Request"</th></tr></thead>
                                <tbody>
                                    {list.into_iter().map(|a| {
                                        let secs = a.time_nano / 1_000_000_000;
                                        let ok = a.status < 400;
                                        view! {
                                            <tr class="activity-row">
                                                <td title=local(secs)>{ago(secs)}</td>
                                                <td>{a.actor}</td>
                                                <td class="mono">{a.address}</td>
                                                <td class="mono">{a.action}</td>
                                                <td class="mono">{a.object.chars().take(40).collect::<String>()}</td>
                                                <td class=if ok { "ok" } else { "error" }>{a.status}</td>
                                                <td class="mono muted">{format!("{} {}", a.method, a.path)}</td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}
