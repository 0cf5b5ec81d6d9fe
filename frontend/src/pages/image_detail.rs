//! An image's page: what it is (tags, id, size, platform, run defaults) and its
//! history, one row per build step, newest first, as `docker history` shows it.

use crate::api;
use crate::time::{ago, local};
use berth_types::{short_id, units::human_size, HistoryItem};
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use serde_json::Value;

#[component]
pub fn ImageDetail() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let data = LocalResource::new(move || {
        let id = id();
        async move {
            let name = api::escape(&id);
            let inspect = api::get::<Value>(&format!("/images/{name}/json")).await?;
            let history = api::get::<Vec<HistoryItem>>(&format!("/images/{name}/history")).await?;
            Ok::<_, String>((inspect, history))
        }
    });
    view! {
        <div class="crumbs"><a href="/ui/images">"Images"</a>" / "{move || short_id(&id()).to_string()}</div>
        <Suspense fallback=|| view! { <p class="muted">"Loading image…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <p class="error">{e}</p> }.into_any(),
                    Ok((inspect, history)) => view! { <Summary inspect=inspect/> <History items=history/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array().map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect()).unwrap_or_default()
}

#[component]
fn Summary(inspect: Value) -> impl IntoView {
    let tags = strings(&inspect["RepoTags"]);
    let title = tags.first().cloned().unwrap_or_else(|| "<none>".into());
    let id = inspect["Id"].as_str().unwrap_or("").to_string();
    let size = human_size(inspect["Size"].as_i64().unwrap_or(0));
    let created = inspect["Created"].as_str().unwrap_or("").to_string();
    let platform = format!("{}/{}", inspect["Os"].as_str().unwrap_or(""), inspect["Architecture"].as_str().unwrap_or(""));
    let cfg = &inspect["Config"];
    let command = [strings(&cfg["Entrypoint"]), strings(&cfg["Cmd"])].concat().join(" ");
    let env = strings(&cfg["Env"]).join("\n");
    let workdir = cfg["WorkingDir"].as_str().unwrap_or("").to_string();
    let user = cfg["User"].as_str().unwrap_or("").to_string();
    let or_dash = |s: String| if s.is_empty() { "—".to_string() } else { s };
    view! {
        <div class="page-head"><h1>{title}</h1></div>
        <div class="panel">
            <h2>"Image"</h2>
            <div class="facts">
                <div>"Tags"</div>
                <div>{if tags.is_empty() { view! { <span class="muted">"untagged"</span> }.into_any() } else {
                    tags.into_iter().map(|t| view! { <span class="tag">{t}</span> }).collect_view().into_any()
                }}</div>
                <div>"ID"</div><div class="mono wrap">{id}</div>
                <div>"Size"</div><div>{size}</div>
                <div>"Created"</div><div>{created}</div>
                <div>"Platform"</div><div>{platform}</div>
                <div>"Command"</div><div class="mono wrap">{or_dash(command)}</div>
                <div>"Working dir"</div><div class="mono">{or_dash(workdir)}</div>
                <div>"User"</div><div class="mono">{or_dash(user)}</div>
                <div>"Environment"</div><div class="mono wrap">{or_dash(env)}</div>
            </div>
        </div>
    }
}

#[component]
fn History(items: Vec<HistoryItem>) -> impl IntoView {
    let n = items.len();
    view! {
        <div class="panel">
            <h2>{format!("History ({n} {})", if n == 1 { "step" } else { "steps" })}</h2>
            <table class="history-table">
                <thead><tr><th>"Layer"</th><th>"Created"</th><th>"Created by"</th><th>"Size"</th><th>"Comment"</th></tr></thead>
                <tbody>
                    {items.into_iter().map(|h| view! {
                        <tr>
                            <td class="mono">{if h.id == "<missing>" { h.id.clone() } else { short_id(&h.id).to_string() }}</td>
                            <td title=local(h.created)>{ago(h.created)}</td>
                            <td class="mono wrap">{h.created_by.clone()}</td>
                            <td>{human_size(h.size)}</td>
                            <td>{h.comment.clone()}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
