//! A container's page: the summary of inspect, start/stop/restart/kill/remove,
//! its live logs, a terminal in the browser — attached to the container or a
//! new shell (exec) — over a WebSocket, its resource use (`container_stats`),
//! its files (`container_files`) and its changes (`container_changes`).

use super::containers::action;
use crate::api;
use crate::terminal;
use leptos::html::Div;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_params_map};
use serde_json::Value;

fn strings(v: &Value) -> Vec<String> {
    v.as_array().map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect()).unwrap_or_default()
}

#[component]
pub fn ContainerDetail() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let (refresh, set_refresh) = signal(0u64);
    let inspect = LocalResource::new(move || {
        let id = id();
        let _ = refresh.get();
        async move { api::get::<Value>(&format!("/containers/{}/json", api::escape(&id))).await }
    });
    view! {
        <div class="crumbs"><a href="/ui/containers">"Containers"</a>" / "{move || id().chars().take(12).collect::<String>()}</div>
        <Suspense fallback=|| view! { <p class="muted">"Loading container…"</p> }>
            {move || Suspend::new(async move {
                match inspect.await {
                    Err(e) => view! { <p class="error">{e}</p> }.into_any(),
                    Ok(v) => view! {
                        <Summary v=v.clone() refresh=set_refresh/>
                        <Terminal id=v["Id"].as_str().unwrap_or_default().to_string() running=v["State"]["Running"].as_bool().unwrap_or(false)/>
                        <super::container_stats::Stats id=v["Id"].as_str().unwrap_or_default().to_string() running=v["State"]["Running"].as_bool().unwrap_or(false)/>
                        <Logs id=v["Id"].as_str().unwrap_or_default().to_string() tty=v["Config"]["Tty"].as_bool().unwrap_or(false)/>
                        <super::container_files::Files id=v["Id"].as_str().unwrap_or_default().to_string()/>
                        <super::container_changes::Changes id=v["Id"].as_str().unwrap_or_default().to_string()/>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Summary(v: Value, refresh: WriteSignal<u64>) -> impl IntoView {
    let name = v["Name"].as_str().unwrap_or("").trim_start_matches('/').to_string();
    let id = v["Id"].as_str().unwrap_or("").to_string();
    let state = v["State"]["Status"].as_str().unwrap_or("").to_string();
    let running = v["State"]["Running"].as_bool().unwrap_or(false);
    let exit = v["State"]["ExitCode"].as_i64().unwrap_or(0);
    let command = std::iter::once(v["Path"].as_str().unwrap_or("").to_string()).chain(strings(&v["Args"])).collect::<Vec<_>>().join(" ");
    let image = v["Config"]["Image"].as_str().unwrap_or("").to_string();
    let ip = v["NetworkSettings"]["IPAddress"].as_str().unwrap_or("").to_string();
    let ports: Vec<String> = v["NetworkSettings"]["Ports"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, b)| match b.as_array().and_then(|a| a.first()) {
                    Some(x) => format!("{}:{} → {k}", x["HostIp"].as_str().unwrap_or(""), x["HostPort"].as_str().unwrap_or("")),
                    None => k.clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    let mounts: Vec<String> = v["Mounts"]
        .as_array()
        .map(|a| a.iter().map(|m| format!("{} → {}{}", m["Source"].as_str().unwrap_or(""), m["Destination"].as_str().unwrap_or(""), if m["RW"].as_bool() == Some(false) { " (ro)" } else { "" })).collect())
        .unwrap_or_default();
    let restart = v["HostConfig"]["RestartPolicy"]["Name"].as_str().unwrap_or("no").to_string();
    let started = v["State"]["StartedAt"].as_str().unwrap_or("").to_string();
    let (error, set_error) = signal(None::<String>);
    let navigate = use_navigate();
    let edit_href = format!("/ui/containers/{id}/edit");
    let act = move |verb: &'static str| {
        let id = id.clone();
        let navigate = navigate.clone();
        move |_| {
            let (path, method) = match verb {
                "remove" => (format!("/containers/{id}?force=1"), "DELETE"),
                "stop" => (format!("/containers/{id}/stop?t=3"), "POST"),
                v => (format!("/containers/{id}/{v}"), "POST"),
            };
            let navigate = navigate.clone();
            action(path, method, set_error, move || {
                if verb == "remove" {
                    navigate("/ui/containers", Default::default());
                } else {
                    refresh.update(|n| *n += 1);
                }
            });
        }
    };
    let or_dash = |s: String| if s.is_empty() { "—".to_string() } else { s };
    view! {
        <div class="page-head">
            <h1>{name}</h1>
            <div class="actions">
                {crate::layout::can_operate().then(|| view! {
                {if running {
                    view! {
                        <button class="btn btn-quiet act-stop" on:click=act("stop")>"Stop"</button>
                        <button class="btn btn-quiet act-restart" on:click=act("restart")>"Restart"</button>
                        <button class="btn btn-quiet act-kill" on:click=act("kill")>"Kill"</button>
                    }.into_any()
                } else {
                    view! { <button class="btn btn-quiet act-start" on:click=act("start")>"Start"</button> }.into_any()
                }}
                <button class="btn btn-quiet act-remove" on:click=act("remove")>"Remove"</button>
                <a class="btn btn-quiet act-edit" href=edit_href.clone()>"Edit"</a>
                })}
            </div>
        </div>
        {move || error.get().map(|e| view! { <p class="error">{e}</p> })}
        <div class="panel">
            <div class="facts">
                <div>"State"</div><div class="state-text">{if running { state.clone() } else { format!("{state} (exit code {exit})") }}</div>
                <div>"Image"</div><div>{image}</div>
                <div>"Command"</div><div class="mono">{command}</div>
                <div>"IP address"</div><div class="mono">{or_dash(ip)}</div>
                <div>"Ports"</div><div class="mono">{or_dash(ports.join(", "))}</div>
                <div>"Volumes"</div><div class="mono wrap">{or_dash(mounts.join("\n"))}</div>
                <div>"Restart policy"</div><div>{restart}</div>
                <div>"Started"</div><div>{started}</div>
                <div>"ID"</div><div class="mono">{v["Id"].as_str().unwrap_or("").to_string()}</div>
            </div>
        </div>
    }
}

#[component]
fn Terminal(id: String, running: bool) -> impl IntoView {
    let host = NodeRef::<Div>::new();
    let session = StoredValue::new_local(None::<terminal::Session>);
    let (error, set_error) = signal(None::<String>);
    let open = move |path: String, keep: Option<terminal::Keep>| {
        let Some(el) = host.get_untracked() else { return };
        session.update_value(|s| *s = None);
        el.set_inner_html("");
        match terminal::open(&el, &path, terminal::columns_for(&el), 24, keep) {
            Ok(s) => {
                session.set_value(Some(s));
                set_error.set(None);
            }
            Err(e) => set_error.set(Some(e)),
        }
    };
    let attach_path = format!("/containers/{id}/attach/ws?stdin=1");
    // The shell lives on in the daemon: its session id is kept for this tab,
    // and a dropped connection asks for it again (`reconnects`).
    let key = format!("berth-shell:{id}");
    let reconnects = RwSignal::new(0u32);
    let open_shell = {
        let key = key.clone();
        move || {
            let mut path = format!("/berth/containers/{id}/shell/ws?cmd=sh");
            if let Some(sid) = terminal::kept_session(&key) {
                path.push_str(&format!("&session={}", api::escape(&sid)));
            }
            let on_lost = std::rc::Rc::new(move || reconnects.update(|n| *n += 1));
            open(path, Some(terminal::Keep { key: key.clone(), on_lost }));
        }
    };
    let again = open_shell.clone();
    Effect::new(move |seen: Option<u32>| {
        let n = reconnects.get();
        if seen.is_some() {
            again();
        }
        n
    });
    // Back on the page of a shell left running: show it again.
    let resume = open_shell.clone();
    Effect::new(move |done: Option<bool>| {
        if done == Some(true) {
            return true;
        }
        let ready = host.get().is_some();
        if ready && running && terminal::kept_session(&key).is_some() {
            // After layout, so the terminal gets the panel's real width.
            let resume = resume.clone();
            request_animation_frame(move || resume());
        }
        ready
    });
    let o1 = open;
    let o2 = open_shell;
    // The terminal follows the window's width.
    let listener = window_event_listener(leptos::ev::resize, move |_| {
        if let Some(el) = host.get_untracked() {
            let cols = terminal::columns_for(&el);
            session.with_value(|s| {
                if let Some(s) = s {
                    s.resize(cols, 24);
                }
            });
        }
    });
    on_cleanup(move || {
        listener.remove();
        session.update_value(|s| *s = None);
    });
    view! {
        <div class="panel terminal-panel">
            <div class="panel-head">
                <h2>"Terminal"</h2>
                {running.then(|| view! {
                    <button class="btn btn-quiet term-attach" on:click=move |_| o1(attach_path.clone(), None)>"Attach"</button>
                    {crate::layout::can_operate().then(|| {
                        let o2 = o2.clone();
                        view! { <button class="btn btn-quiet term-shell" on:click=move |_| o2()>"Shell"</button> }
                    })}
                })}
            </div>
            {(!running).then(|| view! { <p class="muted">"Start the container to open a terminal."</p> })}
            {move || error.get().map(|e| view! { <p class="error">{e}</p> })}
            <div class="term" node_ref=host></div>
        </div>
    }
}

/// Splits a multiplexed stream into text, keeping a partial frame for later.
fn demux(buf: &mut Vec<u8>, out: &mut String) {
    while buf.len() >= 8 {
        let len = u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]) as usize;
        if buf.len() < 8 + len {
            break;
        }
        out.push_str(&String::from_utf8_lossy(&buf[8..8 + len]));
        buf.drain(..8 + len);
    }
}

#[component]
fn Logs(id: String, tty: bool) -> impl IntoView {
    let (text, set_text) = signal(String::new());
    let abort = api::abort_on_cleanup();
    spawn_local(async move {
        let mut pending = Vec::new();
        let path = format!("/containers/{id}/logs?stdout=1&stderr=1&follow=1&tail=500");
        let _ = api::get_stream(&path, abort.as_ref(), |chunk| {
            let mut add = String::new();
            if tty {
                add.push_str(&String::from_utf8_lossy(chunk));
            } else {
                pending.extend_from_slice(chunk);
                demux(&mut pending, &mut add);
            }
            if !add.is_empty() {
                set_text.update(|t| {
                    t.push_str(&add);
                    if t.len() > 200_000 {
                        let cut = t.len() - 200_000;
                        let cut = (cut..t.len()).find(|i| t.is_char_boundary(*i)).unwrap_or(t.len());
                        t.drain(..cut);
                    }
                });
            }
        })
        .await;
    });
    view! {
        <div class="panel">
            <div class="panel-head"><h2>"Logs"</h2></div>
            <pre class="logs mono">{move || { let t = text.get(); if t.is_empty() { "No output yet.".to_string() } else { t } }}</pre>
        </div>
    }
}
