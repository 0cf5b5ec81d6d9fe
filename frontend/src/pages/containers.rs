//! The Containers page: every container with its state, image, ports and
//! uptime, refreshed from the daemon's event stream as things happen, with
//! start / stop / restart / kill / remove on each row.

use crate::api;
use crate::time::ago;
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::Deserialize;

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct Port {
    #[serde(rename = "IP", default)]
    pub ip: Option<String>,
    pub private_port: u16,
    #[serde(default)]
    pub public_port: Option<u16>,
    #[serde(rename = "Type")]
    pub kind: String,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct Summary {
    pub id: String,
    pub names: Vec<String>,
    pub image: String,
    pub state: String,
    pub status: String,
    pub created: i64,
    #[serde(default)]
    pub ports: Vec<Port>,
}

pub fn ports_text(ports: &[Port]) -> String {
    ports
        .iter()
        .map(|p| match p.public_port {
            Some(h) if h > 0 => format!("{}:{h}→{}/{}", p.ip.clone().unwrap_or_default(), p.private_port, p.kind),
            _ => format!("{}/{}", p.private_port, p.kind),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A counter bumped on every container event, so views refetch.
fn live_counter() -> ReadSignal<u64> {
    let (tick, set_tick) = signal(0u64);
    let filters = api::escape(r#"{"type":["container"]}"#);
    spawn_local(async move {
        let since = (js_sys::Date::now() / 1000.0) as i64;
        let path = format!("/events?since={since}&filters={filters}");
        let _ = api::get_stream(&path, |chunk| {
            if chunk.contains(&b'\n') {
                set_tick.update(|t| *t += 1);
            }
        })
        .await;
    });
    tick
}

/// Runs a container action, then `done`; errors go to `error`.
pub fn action(path: String, method: &'static str, error: WriteSignal<Option<String>>, done: impl Fn() + 'static) {
    spawn_local(async move {
        let r = if method == "DELETE" { api::delete(&path).await } else { api::post_empty(&path).await };
        match r {
            Ok(()) => error.set(None),
            Err(e) => error.set(Some(e)),
        }
        done();
    });
}

#[component]
pub fn ContainersPage() -> impl IntoView {
    let tick = live_counter();
    let (manual, set_manual) = signal(0u64);
    let list = LocalResource::new(move || {
        let _ = (tick.get(), manual.get());
        api::get::<Vec<Summary>>("/containers/json?all=1")
    });
    let (error, set_error) = signal(None::<String>);
    view! {
        <div class="page-head">
            <h1>"Containers"</h1>
            {crate::layout::can_operate().then(|| view! { <a class="btn" href="/ui/containers/new">"Run a container"</a> })}
        </div>
        {move || error.get().map(|e| view! { <p class="error">{e}</p> })}
        <Suspense fallback=|| view! { <p class="muted">"Loading containers…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Err(e) => view! { <p class="error">{e}</p> }.into_any(),
                    Ok(items) => {
                        let total = items.len();
                        view! {
                            <div class="panel">
                                <table class="containers-table">
                                    <thead><tr><th>"Name"</th><th>"State"</th><th>"Image"</th><th>"Ports"</th><th>"Created"</th><th>"Actions"</th></tr></thead>
                                    <tbody>
                                        {if items.is_empty() {
                                            view! { <tr><td colspan="6" class="empty">"No containers yet. Run one from an image."</td></tr> }.into_any()
                                        } else {
                                            items.into_iter().map(|c| view! { <ContainerRow c=c error=set_error refresh=set_manual/> }).collect_view().into_any()
                                        }}
                                    </tbody>
                                </table>
                            </div>
                            <p class="count">{format!("{total} {}", if total == 1 { "container" } else { "containers" })}</p>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn ContainerRow(c: Summary, error: WriteSignal<Option<String>>, refresh: WriteSignal<u64>) -> impl IntoView {
    let name = c.names.first().map(|n| n.trim_start_matches('/').to_string()).unwrap_or_default();
    let href = format!("/ui/containers/{}", api::escape(&c.id));
    let running = c.state == "running";
    let id = c.id.clone();
    let act = move |verb: &'static str| {
        let id = id.clone();
        move |_| {
            let (path, method) = match verb {
                "remove" => (format!("/containers/{id}?force=1"), "DELETE"),
                "stop" => (format!("/containers/{id}/stop?t=3"), "POST"),
                v => (format!("/containers/{id}/{v}"), "POST"),
            };
            action(path, method, error, move || refresh.update(|n| *n += 1));
        }
    };
    view! {
        <tr class="container-row" data-name=name.clone()>
            <td><a href=href>{name.clone()}</a></td>
            <td><span class=format!("state state-{}", c.state)>{c.state.clone()}</span><div class="muted small">{c.status.clone()}</div></td>
            <td>{c.image.clone()}</td>
            <td class="mono">{ports_text(&c.ports)}</td>
            <td>{ago(c.created)}</td>
            <td class="actions">
                {crate::layout::can_operate().then(|| view! {
                {if running {
                    view! {
                        <button class="btn-quiet btn act-stop" on:click=act("stop")>"Stop"</button>
                        <button class="btn-quiet btn act-restart" on:click=act("restart")>"Restart"</button>
                        <button class="btn-quiet btn act-kill" on:click=act("kill")>"Kill"</button>
                    }.into_any()
                } else {
                    view! { <button class="btn-quiet btn act-start" on:click=act("start")>"Start"</button> }.into_any()
                }}
                <button class="btn-quiet btn act-remove" on:click=act("remove")>"Remove"</button>
                })}
            </td>
        </tr>
    }
}
