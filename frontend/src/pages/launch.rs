//! The launch form: image (local tags as suggestions, and a search of the
//! registries), name, command, environment, ports, volumes, links,
//! auto-remove, terminal and stdin, restart policy and limits, the network
//! and its aliases. It creates
//! and starts the container through the Engine API, pulling the image
//! first when it is not here (as `docker run` does), then opens the
//! container's page. At `/ui/containers/:id/edit` the same form starts from
//! a container's settings and *recreates* it: the old one is stopped and
//! renamed aside, the new one made under its name with its volumes, and the
//! old one removed (its volumes kept); a failure puts the old one back.

use crate::api;
use berth_types::{ImageSummary, SearchResult};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::hooks::{use_navigate, use_params_map};
use serde_json::{json, Map, Value};

/// Splits a command line on spaces, keeping quoted parts together.
pub fn split_command(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    for ch in s.chars() {
        match (quote, ch) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => {
                quote = Some(ch);
                any = true;
            }
            (None, c) if c.is_whitespace() => {
                if !cur.is_empty() || any {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            (None, c) => cur.push(c),
        }
    }
    if !cur.is_empty() || any {
        out.push(cur);
    }
    out
}

/// `64m`, `1g`, `512k` → bytes; empty → 0 (no limit).
fn bytes(s: &str) -> Result<i64, String> {
    let t = s.trim().to_lowercase();
    if t.is_empty() {
        return Ok(0);
    }
    let (num, mult) = match t.chars().last() {
        Some('k') => (&t[..t.len() - 1], 1i64 << 10),
        Some('m') => (&t[..t.len() - 1], 1 << 20),
        Some('g') => (&t[..t.len() - 1], 1 << 30),
        _ => (t.as_str(), 1),
    };
    num.parse::<f64>().map(|n| (n * mult as f64) as i64).map_err(|_| format!("invalid memory limit: {s:?}"))
}

/// `repo[:tag]` or `repo@digest` → the `fromImage` and `tag` of a pull.
fn pull_parts(image: &str) -> (String, String) {
    if image.contains('@') {
        return (image.to_string(), String::new());
    }
    match image.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => (repo.to_string(), tag.to_string()),
        _ => (image.to_string(), "latest".to_string()),
    }
}

/// Creates the container; an image that is not here is pulled first, with
/// the pull's progress shown in `status`.
async fn create_pulling(path: &str, body: &Value, image: &str, status: WriteSignal<Option<String>>) -> Result<Value, String> {
    match api::post_json::<_, Value>(path, body).await {
        Err(e) if e.starts_with("No such image") => {
            let (from, tag) = pull_parts(image);
            status.set(Some(format!("Pulling {image}…")));
            let pull = format!("/images/create?fromImage={}&tag={}", api::escape(&from), api::escape(&tag));
            let pulled = api::post_stream(&pull, |m| {
                if let Some(s) = m.status {
                    status.set(Some(match m.id {
                        Some(id) => format!("{id}: {s}"),
                        None => s,
                    }));
                }
            })
            .await;
            status.set(None);
            pulled.map_err(|e| format!("pull {image}: {e}"))?;
            api::post_json(path, body).await
        }
        r => r,
    }
}

#[derive(Clone, Copy)]
struct PortRow {
    host: RwSignal<String>,
    container: RwSignal<String>,
    udp: RwSignal<bool>,
}

#[derive(Clone, Copy)]
struct VolumeRow {
    source: RwSignal<String>,
    target: RwSignal<String>,
    read_only: RwSignal<bool>,
}

/// Quotes a command word that holds spaces, so `split_command` reads it back.
fn quote(w: &str) -> String {
    if w.is_empty() || w.contains(char::is_whitespace) {
        format!("'{w}'")
    } else {
        w.to_string()
    }
}

/// Bytes → the shortest of `Ng`, `Nm`, `Nk` that is exact.
fn size_text(n: i64) -> String {
    match n {
        0 => String::new(),
        n if n % (1 << 30) == 0 => format!("{}g", n >> 30),
        n if n % (1 << 20) == 0 => format!("{}m", n >> 20),
        n if n % (1 << 10) == 0 => format!("{}k", n >> 10),
        n => n.to_string(),
    }
}

/// The old container during a recreate: stopped and renamed aside.
async fn recreate(old_id: &str, name: &str, was_running: bool, make: impl std::future::Future<Output = Result<String, String>>) -> Result<String, String> {
    let aside = format!("{name}-old-{}", &old_id[..12.min(old_id.len())]);
    if was_running {
        api::post_empty(&format!("/containers/{old_id}/stop?t=10")).await?;
    }
    api::post_empty(&format!("/containers/{old_id}/rename?name={}", api::escape(&aside))).await?;
    match make.await {
        Ok(id) => {
            api::delete(&format!("/containers/{old_id}")).await?;
            Ok(id)
        }
        Err(e) => {
            // Put the old one back as it was.
            let _ = api::post_empty(&format!("/containers/{old_id}/rename?name={}", api::escape(name))).await;
            if was_running {
                let _ = api::post_empty(&format!("/containers/{old_id}/start")).await;
            }
            Err(format!("{e} (the old container is back)"))
        }
    }
}

#[component]
pub fn LaunchPage() -> impl IntoView {
    let params = use_params_map();
    let editing = params.get_untracked().get("id").filter(|i| !i.is_empty());
    // The container being edited: (id, name, running) once its settings are in the form.
    let original = RwSignal::new(None::<(String, String, bool)>);
    let images = LocalResource::new(|| api::get::<Vec<ImageSummary>>("/images/json"));
    let image = RwSignal::new(String::new());
    let name = RwSignal::new(String::new());
    let command = RwSignal::new(String::new());
    let env = RwSignal::new(vec![RwSignal::new(String::new())]);
    let ports = RwSignal::new(Vec::<PortRow>::new());
    let volumes = RwSignal::new(Vec::<VolumeRow>::new());
    let links = RwSignal::new(String::new());
    let auto_remove = RwSignal::new(false);
    let tty = RwSignal::new(true);
    let stdin = RwSignal::new(true);
    let restart = RwSignal::new("no".to_string());
    // The network it starts on, its aliases there, and (when editing) the
    // other networks it was on, kept as they were.
    let network = RwSignal::new("bridge".to_string());
    let aliases = RwSignal::new(String::new());
    let other_networks = RwSignal::new(serde_json::Map::new());
    let networks = LocalResource::new(|| api::get::<Vec<Value>>("/networks"));
    let memory = RwSignal::new(String::new());
    let cpus = RwSignal::new(String::new());
    let (error, set_error) = signal(None::<String>);
    let (busy, set_busy) = signal(false);
    let (progress, set_progress) = signal(None::<String>);
    let found = RwSignal::new(None::<Result<Vec<SearchResult>, String>>);
    let searching = RwSignal::new(false);
    let navigate = use_navigate();
    if let Some(id) = editing.clone() {
        spawn_local(async move {
            match api::get::<Value>(&format!("/containers/{}/json", api::escape(&id))).await {
                Err(e) => set_error.set(Some(e)),
                Ok(v) => {
                    let strs = |x: &Value| -> Vec<String> { x.as_array().into_iter().flatten().filter_map(|s| s.as_str().map(str::to_string)).collect() };
                    let hc = &v["HostConfig"];
                    image.set(v["Config"]["Image"].as_str().unwrap_or_default().to_string());
                    let n = v["Name"].as_str().unwrap_or_default().trim_start_matches('/').to_string();
                    name.set(n.clone());
                    command.set(strs(&v["Config"]["Cmd"]).iter().map(|w| quote(w)).collect::<Vec<_>>().join(" "));
                    env.set(strs(&v["Config"]["Env"]).into_iter().map(RwSignal::new).collect());
                    let mut rows = Vec::new();
                    for (k, b) in hc["PortBindings"].as_object().into_iter().flatten() {
                        let (port, proto) = k.split_once('/').unwrap_or((k, "tcp"));
                        for one in b.as_array().into_iter().flatten() {
                            rows.push(PortRow {
                                host: RwSignal::new(one["HostPort"].as_str().unwrap_or_default().to_string()),
                                container: RwSignal::new(port.to_string()),
                                udp: RwSignal::new(proto == "udp"),
                            });
                        }
                    }
                    ports.set(rows);
                    // Every volume stays, anonymous ones too (by their names).
                    let vols: Vec<VolumeRow> = v["Mounts"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|m| VolumeRow {
                            source: RwSignal::new(if m["Type"] == "bind" { m["Source"].as_str() } else { m["Name"].as_str() }.unwrap_or_default().to_string()),
                            target: RwSignal::new(m["Destination"].as_str().unwrap_or_default().to_string()),
                            read_only: RwSignal::new(m["RW"] == false),
                        })
                        .collect();
                    volumes.set(vols);
                    links.set(strs(&hc["Links"]).join(", "));
                    auto_remove.set(hc["AutoRemove"].as_bool().unwrap_or(false));
                    tty.set(v["Config"]["Tty"].as_bool().unwrap_or(false));
                    stdin.set(v["Config"]["OpenStdin"].as_bool().unwrap_or(false));
                    restart.set(hc["RestartPolicy"]["Name"].as_str().filter(|s| !s.is_empty()).unwrap_or("no").to_string());
                    let mode = match hc["NetworkMode"].as_str().unwrap_or("") {
                        "" | "default" => "bridge".to_string(),
                        m => m.to_string(),
                    };
                    // Aliases as given: the old container's short id was added by the daemon.
                    let short: String = v["Id"].as_str().unwrap_or_default().chars().take(12).collect();
                    let given = |n: &Value| -> Vec<String> { strs(&n["Aliases"]).into_iter().filter(|a| *a != short).collect() };
                    let mut others = serde_json::Map::new();
                    for (net, settings) in v["NetworkSettings"]["Networks"].as_object().into_iter().flatten() {
                        if *net == mode {
                            aliases.set(given(settings).join(", "));
                        } else {
                            others.insert(net.clone(), json!({"Aliases": given(settings)}));
                        }
                    }
                    network.set(mode);
                    other_networks.set(others);
                    memory.set(size_text(hc["Memory"].as_i64().unwrap_or(0)));
                    let nano = hc["NanoCpus"].as_i64().unwrap_or(0);
                    cpus.set(if nano > 0 { format!("{}", nano as f64 / 1e9) } else { String::new() });
                    original.set(Some((v["Id"].as_str().unwrap_or_default().to_string(), n, v["State"]["Running"].as_bool().unwrap_or(false))));
                }
            }
        });
    }
    let search = move |_| {
        let term = image.get_untracked().trim().to_string();
        if term.is_empty() {
            found.set(Some(Err("Type a name to search for, e.g. busybox or 127.0.0.1:5000/team".into())));
            return;
        }
        found.set(None);
        searching.set(true);
        spawn_local(async move {
            let r = api::get::<Vec<SearchResult>>(&format!("/images/search?term={}", api::escape(&term))).await;
            searching.set(false);
            found.set(Some(r));
        });
    };

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let body = (|| -> Result<Value, String> {
            if image.get().trim().is_empty() {
                return Err("Choose an image.".into());
            }
            let mut bindings = Map::new();
            let mut exposed = Map::new();
            for p in ports.get() {
                let c = p.container.get();
                if c.trim().is_empty() {
                    continue;
                }
                c.trim().parse::<u16>().map_err(|_| format!("invalid container port: {c:?}"))?;
                let key = format!("{}/{}", c.trim(), if p.udp.get() { "udp" } else { "tcp" });
                exposed.insert(key.clone(), json!({}));
                bindings.insert(key, json!([{"HostIp": "", "HostPort": p.host.get().trim()}]));
            }
            let binds: Vec<String> = volumes
                .get()
                .iter()
                .filter(|v| !v.target.get().trim().is_empty())
                .map(|v| {
                    let ro = if v.read_only.get() { ":ro" } else { "" };
                    format!("{}:{}{ro}", v.source.get().trim(), v.target.get().trim())
                })
                .collect();
            let env: Vec<String> = env.get().iter().map(|e| e.get()).filter(|e| e.contains('=')).collect();
            let links: Vec<String> = links
                .get()
                .split(',')
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(|l| if l.contains(':') { l.to_string() } else { format!("{l}:{l}") })
                .collect();
            let cpus = cpus.get();
            let nano = if cpus.trim().is_empty() {
                0
            } else {
                (cpus.trim().parse::<f64>().map_err(|_| format!("invalid CPUs: {cpus:?}"))? * 1e9) as i64
            };
            let mut body = json!({
                "Image": image.get().trim(),
                "Env": env,
                "Tty": tty.get(),
                "OpenStdin": stdin.get(),
                "AttachStdout": true,
                "AttachStderr": true,
                "ExposedPorts": exposed,
                "HostConfig": {
                    "PortBindings": bindings,
                    "Binds": binds,
                    "Links": links,
                    "AutoRemove": auto_remove.get(),
                    "RestartPolicy": {"Name": restart.get()},
                    "Memory": bytes(&memory.get())?,
                    "NanoCpus": nano,
                    "NetworkMode": network.get(),
                },
            });
            let mut endpoints = other_networks.get();
            let alias_list: Vec<String> = aliases.get().split(',').map(|a| a.trim().to_string()).filter(|a| !a.is_empty()).collect();
            endpoints.insert(network.get(), json!({"Aliases": alias_list}));
            body["NetworkingConfig"] = json!({"EndpointsConfig": endpoints});
            let cmd = split_command(&command.get());
            if !cmd.is_empty() {
                body["Cmd"] = json!(cmd);
            }
            Ok(body)
        })();
        let body = match body {
            Ok(b) => b,
            Err(e) => {
                set_error.set(Some(e));
                return;
            }
        };
        let n = name.get();
        let navigate = navigate.clone();
        set_busy.set(true);
        spawn_local(async move {
            let path = if n.trim().is_empty() {
                "/containers/create".to_string()
            } else {
                format!("/containers/create?name={}", api::escape(n.trim()))
            };
            let make = async {
                let wanted = body["Image"].as_str().unwrap_or_default().to_string();
                let v = create_pulling(&path, &body, &wanted, set_progress).await?;
                let id = v["Id"].as_str().unwrap_or_default().to_string();
                api::post_empty(&format!("/containers/{id}/start")).await?;
                Ok(id)
            };
            let r: Result<String, String> = match original.get_untracked() {
                Some((old, old_name, running)) if !n.trim().is_empty() => {
                    let _ = old_name;
                    recreate(&old, n.trim(), running, make).await
                }
                _ => make.await,
            };
            set_busy.set(false);
            match r {
                Ok(id) => navigate(&format!("/ui/containers/{id}"), Default::default()),
                Err(e) => set_error.set(Some(e)),
            }
        });
    };

    view! {
        <div class="crumbs"><a href="/ui/containers">"Containers"</a>{if editing.is_some() { " / edit" } else { " / new" }}</div>
        <div class="page-head"><h1>{if editing.is_some() { "Edit and recreate" } else { "Run a container" }}</h1></div>
        {editing.is_some().then(|| view! { <p class="muted">"Saving stops this container, makes a new one with these settings under the same name and with the same volumes, and removes the old one."</p> })}
        <form class="panel launch-form" on:submit=submit>
            <label>"Image"
                <div class="row">
                    <input name="image" class="grow" list="local-images" required placeholder="busybox:latest, or 127.0.0.1:5000/team/app:1" prop:value=image on:input=move |e| image.set(event_target_value(&e))/>
                    <button type="button" class="btn image-search" on:click=search>"Search registries"</button>
                </div>
            </label>
            {move || searching.get().then(|| view! { <p class="muted image-results">"Searching…"</p> })}
            {move || found.get().map(|r| match r {
                Err(e) => view! { <p class="error">{e}</p> }.into_any(),
                Ok(list) if list.is_empty() => view! { <p class="muted image-results">"No image found by that name."</p> }.into_any(),
                Ok(list) => view! {
                    <div class="image-results">
                        {list.into_iter().map(|r| {
                            let choice = format!("{}:{}", r.name, crate::pages::search::default_tag(&r));
                            let shown = choice.clone();
                            view! {
                                <button type="button" class="btn image-choice" title=r.description.clone()
                                    on:click=move |_| { image.set(choice.clone()); found.set(None); }>{shown}</button>
                            }
                        }).collect_view()}
                    </div>
                }.into_any(),
            })}
            <datalist id="local-images">
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        images.await.unwrap_or_default().into_iter().flat_map(|i| i.repo_tags).map(|t| view! { <option value=t/> }).collect_view()
                    })}
                </Suspense>
            </datalist>
            <label>"Name" <input name="name" placeholder="optional" prop:value=name on:input=move |e| name.set(event_target_value(&e))/></label>
            <label>"Command" <input name="command" placeholder="the image's default" prop:value=command on:input=move |e| command.set(event_target_value(&e))/></label>
            <fieldset>
                <legend>"Environment"</legend>
                {move || env.get().into_iter().map(|v| view! {
                    <input class="env-row" placeholder="NAME=value" prop:value=v on:input=move |e| v.set(event_target_value(&e))/>
                }).collect_view()}
                <button type="button" class="btn btn-quiet" on:click=move |_| env.update(|l| l.push(RwSignal::new(String::new())))>"Add variable"</button>
            </fieldset>
            <fieldset>
                <legend>"Ports"</legend>
                {move || ports.get().into_iter().map(|p| view! {
                    <div class="row">
                        <input class="port-host" placeholder="host port (empty: any)" prop:value=p.host on:input=move |e| p.host.set(event_target_value(&e))/>
                        "→"
                        <input class="port-container" placeholder="container port" prop:value=p.container on:input=move |e| p.container.set(event_target_value(&e))/>
                        <label class="check"><input type="checkbox" prop:checked=p.udp on:change=move |e| p.udp.set(event_target_checked(&e))/>"UDP"</label>
                    </div>
                }).collect_view()}
                <button type="button" class="btn btn-quiet add-port" on:click=move |_| ports.update(|l| l.push(PortRow { host: RwSignal::new(String::new()), container: RwSignal::new(String::new()), udp: RwSignal::new(false) }))>"Add port"</button>
            </fieldset>
            <fieldset>
                <legend>"Volumes"</legend>
                {move || volumes.get().into_iter().map(|v| view! {
                    <div class="row">
                        <input class="vol-source" placeholder="volume name or /host/path" prop:value=v.source on:input=move |e| v.source.set(event_target_value(&e))/>
                        "→"
                        <input class="vol-target" placeholder="/path/in/container" prop:value=v.target on:input=move |e| v.target.set(event_target_value(&e))/>
                        <label class="check"><input type="checkbox" prop:checked=v.read_only on:change=move |e| v.read_only.set(event_target_checked(&e))/>"read-only"</label>
                    </div>
                }).collect_view()}
                <button type="button" class="btn btn-quiet" on:click=move |_| volumes.update(|l| l.push(VolumeRow { source: RwSignal::new(String::new()), target: RwSignal::new(String::new()), read_only: RwSignal::new(false) }))>"Add volume"</button>
            </fieldset>
            <div class="row">
                <label>"Network"
                    <select name="network" on:change=move |e| network.set(event_target_value(&e))>
                        <Suspense fallback=|| view! { <option value="bridge">"bridge"</option> }>
                            {move || Suspend::new(async move {
                                let names: Vec<String> = networks.await.unwrap_or_default().iter().filter_map(|n| n["Name"].as_str().map(str::to_string)).collect();
                                names.into_iter().map(|n| {
                                    let v = n.clone();
                                    view! { <option value=n.clone() selected=move || network.get() == v>{n.clone()}</option> }
                                }).collect_view()
                            })}
                        </Suspense>
                    </select>
                </label>
                <label>"Network aliases" <input name="aliases" placeholder="web, www (user-defined networks)" prop:value=aliases on:input=move |e| aliases.set(event_target_value(&e))/></label>
            </div>
            <label>"Links" <input name="links" placeholder="db:database, cache" prop:value=links on:input=move |e| links.set(event_target_value(&e))/></label>
            <div class="row">
                <label class="check"><input name="tty" type="checkbox" prop:checked=tty on:change=move |e| tty.set(event_target_checked(&e))/>"Terminal (-t)"</label>
                <label class="check"><input name="stdin" type="checkbox" prop:checked=stdin on:change=move |e| stdin.set(event_target_checked(&e))/>"Keep stdin open (-i)"</label>
                <label class="check"><input name="rm" type="checkbox" prop:checked=auto_remove on:change=move |e| auto_remove.set(event_target_checked(&e))/>"Remove when it exits (--rm)"</label>
            </div>
            <div class="row">
                <label>"Restart policy"
                    <select on:change=move |e| restart.set(event_target_value(&e))>
                        {["no", "on-failure", "unless-stopped", "always"].into_iter().map(|p| view! {
                            <option value=p selected=move || restart.get() == p>{p}</option>
                        }).collect_view()}
                    </select>
                </label>
                <label>"Memory" <input name="memory" placeholder="e.g. 256m" prop:value=memory on:input=move |e| memory.set(event_target_value(&e))/></label>
                <label>"CPUs" <input name="cpus" placeholder="e.g. 0.5" prop:value=cpus on:input=move |e| cpus.set(event_target_value(&e))/></label>
            </div>
            {move || error.get().map(|e| view! { <p class="error">{e}</p> })}
            <button class="btn launch" type="submit" disabled=busy>{move || match (busy.get(), original.get().is_some()) {
                (true, _) => "Starting…",
                (false, true) => "Recreate",
                (false, false) => "Run",
            }}</button>
            {move || progress.get().map(|p| view! { <p class="muted pull-progress mono">{p}</p> })}
        </form>
    }
}
