//! Container endpoints of the Engine API: create, start, stop, restart, kill,
//! wait (headers at once, body at exit), attach (hijacked stream), logs,
//! list, inspect, rename, top and remove. The work is done by
//! `container::Supervisor`; this module parses and shapes JSON.

use super::attach::{self, parse_detach_keys, AttachOptions};
use super::error::{ApiError, ApiResult};
use super::params::Params;
use super::{AppState, State};
use crate::auth::{Principal, Role};
use crate::container::logs::{self, LogFilter};
use crate::container::model::ZERO_TIME;
use crate::container::supervisor::{log_path, WaitCondition};
use crate::container::{Container, ContainerError, CreateRequest, Status};
use crate::image::ImageError;
use crate::network::store::{Kind, NetworkStore};
use crate::timefmt;
use axum::body::Body;
use axum::extract::{Path, Request};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

/// `NotModified` answers 304 with no body, as Docker does.
fn or_not_modified(r: Result<(), ContainerError>) -> ApiResult<Response> {
    match r {
        Ok(()) => Ok(no_content()),
        Err(ContainerError::NotModified(_)) => Ok(StatusCode::NOT_MODIFIED.into_response()),
        Err(e) => Err(e.into()),
    }
}

pub async fn create(
    state: State,
    who: Principal,
    p: Params,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let req: CreateRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("invalid container config: {e}")))?;
    if req.config.image.is_empty() {
        return Err(ApiError::bad_request("config.Image is required"));
    }
    let new_volumes = super::ownership::check_create(&state, &who, &req).await?;
    let name = p.value("name").map(str::to_string);
    let sup = state.containers.clone();
    let image_name = req.config.image.clone();
    let created = tokio::task::spawn_blocking(move || {
        let image = sup.images.get(&image_name).map_err(|e| match e {
            ImageError::NotFound(_) => ApiError::not_found(format!("No such image: {image_name}")),
            e => e.into(),
        })?;
        let (c, _, warnings) = crate::container::create::build(
            req,
            name.as_deref(),
            &image,
            &sup.store,
            &sup.volumes,
            &sup.networks,
        )?;
        sup.store.insert(c.clone())?;
        Ok::<_, ApiError>((c, warnings))
    })
    .await??;
    let (c, warnings) = created;
    let team = who.team.as_ref().map(|t| t.0);
    super::ownership::claim(&state, team, "container", &c.id).await;
    for v in new_volumes {
        super::ownership::claim(&state, team, "volume", &v).await;
    }
    state.containers.created(&c);
    Ok((
        StatusCode::CREATED,
        Json(json!({"Id": c.id, "Warnings": warnings})),
    )
        .into_response())
}

pub async fn start(state: State, Path(id): Path<String>) -> ApiResult<Response> {
    or_not_modified(state.containers.start(&id).await.map(|_| ()))
}

fn timeout(p: &Params) -> ApiResult<Option<i64>> {
    p.value("t")
        .or_else(|| p.value("timeout"))
        .map(|t| {
            t.parse::<i64>()
                .map_err(|_| ApiError::bad_request(format!("invalid timeout {t:?}")))
        })
        .transpose()
}

pub async fn stop(state: State, Path(id): Path<String>, p: Params) -> ApiResult<Response> {
    let t = timeout(&p)?;
    or_not_modified(state.containers.stop(&id, t).await)
}

pub async fn restart(state: State, Path(id): Path<String>, p: Params) -> ApiResult<Response> {
    let t = timeout(&p)?;
    state.containers.restart(&id, t).await?;
    Ok(no_content())
}

pub async fn kill(state: State, Path(id): Path<String>, p: Params) -> ApiResult<Response> {
    let signal = p.value("signal").unwrap_or("SIGKILL").to_string();
    state.containers.kill(&id, &signal).await?;
    Ok(no_content())
}

pub async fn remove(state: State, Path(id): Path<String>, p: Params) -> ApiResult<Response> {
    let force = p.flag("force")?;
    let volumes = p.flag("v")?;
    state.containers.remove(&id, force, volumes).await?;
    Ok(no_content())
}

pub async fn rename(state: State, Path(id): Path<String>, p: Params) -> ApiResult<Response> {
    let name = p
        .value("name")
        .ok_or_else(|| ApiError::bad_request("name is required"))?;
    let name = crate::container::names::validate(name).map_err(ApiError::bad_request)?;
    let c = state.containers.store.get(&id)?;
    state.containers.store.rename(&c.id, &name)?;
    Ok(no_content())
}

/// `POST /containers/{id}/wait`: the status line and headers go out at once,
/// the body when the condition is met.
pub async fn wait(state: State, Path(id): Path<String>, p: Params) -> ApiResult<Response> {
    let condition = match p.value("condition").unwrap_or("not-running") {
        "not-running" => WaitCondition::NotRunning,
        "next-exit" => WaitCondition::NextExit,
        "removed" => WaitCondition::Removed,
        other => {
            return Err(ApiError::bad_request(format!(
                "invalid condition: {other:?}"
            )))
        }
    };
    state.containers.store.get(&id)?;
    let sup = state.containers.clone();
    let body = futures_util::stream::once(async move {
        let code = sup.wait(&id, condition).await.unwrap_or(-1);
        let v = json!({"StatusCode": code, "Error": null});
        Ok::<_, std::io::Error>(bytes::Bytes::from(format!("{v}\n")))
    });
    Response::builder()
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from_stream(body))
        .map_err(|e| ApiError::internal(e.to_string()))
}

fn port_list(c: &Container) -> Vec<Value> {
    let mut out = Vec::new();
    for (port, bindings) in &c.network.ports {
        let (num, proto) = port.split_once('/').unwrap_or((port, "tcp"));
        for b in bindings {
            out.push(json!({
                "IP": if b.host_ip.is_empty() { "0.0.0.0" } else { &b.host_ip },
                "PrivatePort": num.parse::<u16>().unwrap_or(0),
                "PublicPort": b.host_port.parse::<u16>().unwrap_or(0),
                "Type": proto,
            }));
        }
    }
    for port in c.config.exposed_ports.iter().flat_map(|m| m.keys()) {
        if !c.network.ports.contains_key(port) {
            let (num, proto) = port.split_once('/').unwrap_or((port, "tcp"));
            out.push(json!({"PrivatePort": num.parse::<u16>().unwrap_or(0), "Type": proto}));
        }
    }
    out
}

/// `NetworkSettings` of inspect (and, in part, of the list).
fn network_settings(c: &Container, networks: &NetworkStore) -> Value {
    let mut ports = serde_json::Map::new();
    for port in c.config.exposed_ports.iter().flat_map(|m| m.keys()) {
        ports.insert(port.clone(), Value::Null);
    }
    for (port, b) in &c.network.ports {
        ports.insert(port.clone(), serde_json::to_value(b).unwrap_or(Value::Null));
    }
    let ep = c.primary_endpoint();
    let ip = ep.map(|e| e.ip.to_string()).unwrap_or_default();
    let gw = ep.map(|e| e.gateway.to_string()).unwrap_or_default();
    let prefix = ep.map_or(0, |e| e.prefix_len);
    let mac = ep.map(|e| e.mac_address.clone()).unwrap_or_default();
    let mut out = serde_json::Map::new();
    for (name, att) in &c.networks {
        let net = networks.get(name).ok();
        let user = net.as_ref().is_some_and(|n| n.kind == Kind::User);
        let network_id = match &net {
            Some(n) => n.id.clone(),
            None => att.network_id.clone(),
        };
        let e = c.network.endpoints.get(name);
        // Docker before 25 listed the short id among the aliases, and
        // compose 1.x looks for it there.
        let dns_names: Vec<String> = std::iter::once(c.name.clone())
            .chain(std::iter::once(c.short_id().to_string()))
            .chain(att.aliases.iter().cloned())
            .collect();
        let aliases = user.then(|| {
            let mut a = att.aliases.clone();
            a.push(c.short_id().to_string());
            a
        });
        out.insert(
            name.clone(),
            json!({
                "IPAMConfig": att.ipv4_address.map(|ip| json!({"IPv4Address": ip.to_string()})),
                "Links": if name == "bridge" { json!(c.host_config.links) } else { Value::Null },
                "Aliases": aliases,
                "MacAddress": e.map(|e| e.mac_address.clone()).unwrap_or_default(),
                "DriverOpts": null,
                "NetworkID": network_id,
                "EndpointID": e.map(|_| super::networks::endpoint_id(&c.id, &network_id)).unwrap_or_default(),
                "Gateway": e.map(|e| e.gateway.to_string()).unwrap_or_default(),
                "IPAddress": e.map(|e| e.ip.to_string()).unwrap_or_default(),
                "IPPrefixLen": e.map_or(0, |e| e.prefix_len),
                "IPv6Gateway": "",
                "GlobalIPv6Address": "",
                "GlobalIPv6PrefixLen": 0,
                "DNSNames": if user { json!(dns_names) } else { Value::Null },
            }),
        );
    }
    json!({
        "Ports": ports,
        "Networks": out,
        "IPAddress": ip,
        "Gateway": gw,
        "IPPrefixLen": prefix,
        "MacAddress": mac,
        "SandboxKey": ep.map(|e| e.netns.display().to_string()).unwrap_or_default(),
    })
}

/// "Up 5 seconds", "Exited (0) 3 minutes ago", "Created".
fn status_text(c: &Container) -> String {
    let ago = |t: &str| {
        timefmt::parse_rfc3339_secs(t)
            .map(|s| chrono::Utc::now().timestamp() - s)
            .unwrap_or(0)
    };
    match c.state.status {
        Status::Running => format!(
            "Up {}",
            berth_types::units::human_duration(ago(&c.state.started_at))
        ),
        Status::Restarting => format!(
            "Restarting ({}) {} ago",
            c.state.exit_code,
            berth_types::units::human_duration(ago(&c.state.finished_at))
        ),
        Status::Exited if c.state.finished_at != ZERO_TIME && !c.state.finished_at.is_empty() => {
            format!(
                "Exited ({}) {} ago",
                c.state.exit_code,
                berth_types::units::human_duration(ago(&c.state.finished_at))
            )
        }
        Status::Exited | Status::Created => "Created".into(),
        Status::Removing => "Removal In Progress".into(),
        Status::Dead => "Dead".into(),
    }
}

fn mounts_json(c: &Container) -> Value {
    serde_json::to_value(&c.mounts).unwrap_or_else(|_| json!([]))
}

pub(super) fn summary(c: &Container, networks: &NetworkStore) -> Value {
    json!({
        "Id": c.id,
        "Names": [format!("/{}", c.name)],
        "Image": c.config.image,
        "ImageID": c.image,
        "Command": c.command_line(),
        "Created": timefmt::parse_rfc3339_secs(&c.created).unwrap_or(0),
        "Ports": port_list(c),
        "Labels": c.config.labels.clone().unwrap_or_default(),
        "State": c.state.status.as_str(),
        "Status": status_text(c),
        "HostConfig": {"NetworkMode": c.primary_network()},
        "NetworkSettings": {"Networks": network_settings(c, networks)["Networks"]},
        "Mounts": mounts_json(c),
    })
}

fn filter_matches(c: &Container, key: &str, values: &[String]) -> bool {
    values.iter().any(|v| match key {
        "status" => c.state.status.as_str() == v,
        "name" => c.name.contains(v.trim_start_matches('/')),
        "id" => c.id.starts_with(v.as_str()),
        "exited" => c.state.status == Status::Exited && c.state.exit_code.to_string() == *v,
        "label" => {
            let labels = c.config.labels.clone().unwrap_or_default();
            match v.split_once('=') {
                Some((k, val)) => labels.get(k).is_some_and(|x| x == val),
                None => labels.contains_key(v.as_str()),
            }
        }
        "ancestor" => {
            c.config.image == *v
                || c.image == *v
                || c.image
                    .trim_start_matches("sha256:")
                    .starts_with(v.as_str())
        }
        _ => false,
    })
}

pub async fn list(state: State, who: Principal, p: Params) -> ApiResult<Json<Vec<Value>>> {
    let visible = super::ownership::visible(&state, &who, "container").await?;
    let all = p.flag("all")?;
    let filters = p.filters()?;
    filters.allow_only(&["status", "name", "id", "exited", "label", "ancestor"])?;
    let limit: Option<usize> = p
        .value("limit")
        .and_then(|l| l.parse::<i64>().ok())
        .filter(|l| *l > 0)
        .map(|l| l as usize);
    let has_status = !filters.get("status").is_empty();
    let mut out: Vec<Value> = state
        .containers
        .store
        .list()
        .iter()
        .filter(|c| super::ownership::sees(&visible, &c.id))
        .filter(|c| all || limit.is_some() || has_status || c.is_running())
        .filter(|c| filters.keys().all(|k| filter_matches(c, k, filters.get(k))))
        .map(|c| summary(c, &state.containers.networks))
        .collect();
    if let Some(n) = limit {
        out.truncate(n);
    }
    Ok(Json(out))
}

/// `HostConfig` as Docker reports it: the log driver is always named.
fn host_config_json(c: &Container) -> Value {
    let mut hc = serde_json::to_value(&c.host_config).unwrap_or_default();
    if hc["LogConfig"]["Type"].as_str().unwrap_or("").is_empty() {
        let config = match &hc["LogConfig"]["Config"] {
            Value::Object(m) => Value::Object(m.clone()),
            _ => json!({}),
        };
        hc["LogConfig"] = json!({"Type": "json-file", "Config": config});
    }
    hc
}

pub fn inspect_json(state: &AppState, c: &Container) -> Value {
    let networks = &state.containers.networks;
    let dir = state.containers.store.dir(&c.id);
    let st = &c.state;
    json!({
        "Id": c.id,
        "Created": c.created,
        "Path": c.path,
        "Args": c.args,
        "State": {
            "Status": st.status.as_str(),
            "Running": c.is_running(),
            "Paused": false,
            "Restarting": st.status == Status::Restarting,
            "OOMKilled": st.oom_killed,
            "Dead": st.status == Status::Dead,
            "Pid": st.pid,
            "ExitCode": st.exit_code,
            "Error": st.error,
            "StartedAt": st.started_at,
            "FinishedAt": st.finished_at,
        },
        "Image": c.image,
        "ResolvConfPath": dir.join("resolv.conf"),
        "HostnamePath": dir.join("hostname"),
        "HostsPath": dir.join("hosts"),
        "LogPath": log_path(&dir, &c.id),
        "Name": format!("/{}", c.name),
        "RestartCount": c.restart_count,
        "Driver": "overlay2",
        "Platform": "linux",
        "MountLabel": "",
        "ProcessLabel": "",
        "AppArmorProfile": "",
        "ExecIDs": null,
        "HostConfig": host_config_json(c),
        "GraphDriver": {
            "Name": "overlay2",
            "Data": {"UpperDir": dir.join("diff"), "WorkDir": dir.join("work"), "MergedDir": dir.join("rootfs")},
        },
        "Mounts": mounts_json(c),
        "Config": c.config,
        "NetworkSettings": network_settings(c, networks),
    })
}

pub async fn inspect(state: State, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let c = state.containers.store.get(&id)?;
    Ok(Json(inspect_json(&state, &c)))
}

fn log_filter(p: &Params) -> ApiResult<LogFilter> {
    let time = |k: &str| -> ApiResult<Option<i64>> {
        match p.value(k) {
            None | Some("0") => Ok(None),
            Some(v) => timefmt::parse_api_time(v)
                .map(Some)
                .ok_or_else(|| ApiError::bad_request(format!("invalid value for {k}: {v:?}"))),
        }
    };
    let f = LogFilter {
        stdout: p.flag("stdout")?,
        stderr: p.flag("stderr")?,
        since: time("since")?,
        until: time("until")?,
        timestamps: p.flag("timestamps")?,
    };
    if !f.stdout && !f.stderr {
        return Err(ApiError::bad_request("You must choose at least one stream"));
    }
    Ok(f)
}

/// What to stream from a container's log.
struct LogStream {
    filter: LogFilter,
    tty: bool,
    /// Where the entries already read end.
    offset: u64,
    /// Entries read before streaming (history, `--tail`).
    first: Vec<logs::Entry>,
    /// Keep streaming new entries until the container stops.
    follow: bool,
}

/// The log entries of `ls`, then (with `follow`) new ones until the
/// container stops; each encoded for the wire.
fn follow_log(
    state: Arc<AppState>,
    id: String,
    ls: LogStream,
) -> impl futures_util::Stream<Item = Result<bytes::Bytes, std::io::Error>> {
    let path = log_path(&state.containers.store.dir(&id), &id);
    let LogStream {
        filter,
        tty,
        mut offset,
        first,
        follow,
    } = ls;
    async_stream_lite(move |tx| async move {
        for e in first.iter().filter(|e| filter.accepts(e)) {
            if tx.send(filter.encode(e, tty)).await.is_err() {
                return;
            }
        }
        if !follow {
            return;
        }
        let mut rx = state.containers.store.subscribe();
        loop {
            // The live file was rotated away: start over on the new one.
            if std::fs::metadata(&path).map_or(0, |m| m.len()) < offset {
                offset = 0;
            }
            let running = state
                .containers
                .store
                .get(&id)
                .is_ok_and(|c| c.is_running());
            let (entries, next) = logs::read_from(&path, offset);
            offset = next;
            for e in entries.iter().filter(|e| filter.accepts(e)) {
                if tx.send(filter.encode(e, tty)).await.is_err() {
                    return;
                }
            }
            if !running {
                // One last read: the shim writes its final lines before it exits.
                let (entries, _) = logs::read_from(&path, offset);
                for e in entries.iter().filter(|e| filter.accepts(e)) {
                    let _ = tx.send(filter.encode(e, tty)).await;
                }
                return;
            }
            tokio::select! {
                _ = rx.changed() => {}
                _ = tokio::time::sleep(Duration::from_millis(50)) => {}
            }
        }
    })
}

/// A stream fed by a task through a channel.
fn async_stream_lite<F, Fut>(
    f: F,
) -> impl futures_util::Stream<Item = Result<bytes::Bytes, std::io::Error>>
where
    F: FnOnce(tokio::sync::mpsc::Sender<Vec<u8>>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel::<Vec<u8>>(64);
    tokio::spawn(f(tx));
    futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok(bytes::Bytes::from(b)), rx))
    })
}

pub async fn logs(state: State, Path(id): Path<String>, p: Params) -> ApiResult<Response> {
    let c = state.containers.store.get(&id)?;
    let filter = log_filter(&p)?;
    let follow = p.flag("follow")?;
    let tail = match p.value("tail").unwrap_or("all") {
        "all" => None,
        n => Some(
            n.parse::<i64>()
                .map_err(|_| ApiError::bad_request(format!("invalid value for tail: {n:?}")))?
                .max(0) as usize,
        ),
    };
    let path = log_path(&state.containers.store.dir(&c.id), &c.id);
    // Rotated files first (oldest first), then the live one.
    let mut entries = Vec::new();
    let mut offset = 0;
    for f in crate::runtime::jsonlog::files(&path) {
        let (e, end) = logs::read_from(&f, 0);
        entries.extend(e);
        offset = end;
    }
    let entries: Vec<logs::Entry> = entries.into_iter().filter(|e| filter.accepts(e)).collect();
    let first = logs::tail(entries, tail);
    let tty = c.config.tty;
    let stream = follow_log(
        state.0.clone(),
        c.id.clone(),
        LogStream {
            filter,
            tty,
            offset,
            first,
            follow,
        },
    );
    Response::builder()
        .header(header::CONTENT_TYPE, attach::stream_content_type(tty))
        .body(Body::from_stream(stream))
        .map_err(|e| ApiError::internal(e.to_string()))
}

/// `POST /containers/{id}/attach`: upgrades the connection; past output
/// first with `logs=1`, then (with `stream=1`) the live streams through the
/// shim's attach socket, and the client's input as stdin.
pub async fn attach(
    state: State,
    who: Principal,
    Path(id): Path<String>,
    p: Params,
    mut req: Request,
) -> ApiResult<Response> {
    let c = state.containers.store.get(&id)?;
    let stdin = p.flag("stdin")? && c.config.open_stdin;
    if stdin && who.role < Role::Operator {
        return Err(ApiError::forbidden(format!(
            "forbidden: {} is a viewer: attach without stdin to watch",
            who.user
        )));
    }
    let ended = super::auth::credential_ended(&state, &who);
    let opts = AttachOptions {
        stdin,
        stdout: p.flag("stdout")?,
        stderr: p.flag("stderr")?,
        tty: c.config.tty,
        stdin_once: c.config.stdin_once,
        detach_keys: parse_detach_keys(p.value("detachKeys").unwrap_or(""))
            .map_err(ApiError::bad_request)?,
    };
    let with_logs = p.flag("logs")?;
    let stream = p.flag("stream")?;
    let on_upgrade = hyper::upgrade::on(&mut req);
    let st = state.0.clone();
    let cid = c.id.clone();
    tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        let Ok(upgraded) = on_upgrade.await else {
            return;
        };
        let mut io = hyper_util::rt::TokioIo::new(upgraded);
        if with_logs {
            let filter = LogFilter {
                stdout: opts.stdout,
                stderr: opts.stderr,
                ..Default::default()
            };
            let path = log_path(&st.containers.store.dir(&cid), &cid);
            for e in logs::read_from(&path, 0)
                .0
                .iter()
                .filter(|e| filter.accepts(e))
            {
                if io.write_all(&filter.encode(e, opts.tty)).await.is_err() {
                    return;
                }
            }
        }
        if stream {
            if let Some(sock) = st.containers.connect_attach(&cid).await {
                attach::session(io, sock, opts, ended).await;
                return;
            }
        }
        let _ = io.shutdown().await;
    });
    Ok(attach::hijack_response(
        req.headers().contains_key(header::UPGRADE),
        c.config.tty,
    ))
}

/// `GET /containers/{id}/attach/ws`: the container's streams over a
/// WebSocket (raw bytes both ways), for the dashboard's terminal.
pub async fn attach_ws(
    state: State,
    who: Principal,
    Path(id): Path<String>,
    p: Params,
    ws: axum::extract::ws::WebSocketUpgrade,
) -> ApiResult<Response> {
    let c = state.containers.store.get(&id)?;
    if !c.is_running() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("container {} is not running", c.id),
        ));
    }
    let opts = AttachOptions {
        // A viewer watches: input is not passed on.
        stdin: p.get("stdin").is_none_or(|v| v != "0" && v != "false")
            && c.config.open_stdin
            && who.role >= Role::Operator,
        stdout: true,
        stderr: true,
        // Raw output: a browser terminal shows both streams as they come.
        tty: true,
        stdin_once: false,
        detach_keys: Vec::new(),
    };
    let sup = state.containers.clone();
    let ended = super::auth::credential_ended(&state, &who);
    let (h, w) = size_params(&p).unwrap_or((0, 0));
    let title = format!(
        "attach to {} by {}",
        c.name.trim_start_matches('/'),
        who.user
    );
    let recorder = super::recording::Recorder::create(&state.recordings, w, h, &title)
        .map_err(|e| ApiError::internal(format!("terminal recording: {e}")))?;
    let recording = super::activity::Recording(recorder.id.clone());
    let recorder = Some(Arc::new(recorder));
    let mut res = ws.on_upgrade(move |socket| async move {
        if let Some(shim) = sup.connect_attach(&c.id).await {
            let path = sup
                .store
                .dir(&c.id)
                .join(crate::runtime::shim::ATTACH_SOCKET);
            attach::websocket_session(socket, shim, path, opts, ended, recorder).await;
        }
    });
    res.extensions_mut().insert(recording);
    Ok(res)
}

/// `POST /containers/{id}/resize?h=&w=`
pub async fn resize(state: State, Path(id): Path<String>, p: Params) -> ApiResult<Response> {
    let c = state.containers.store.get(&id)?;
    let (h, w) = size_params(&p)?;
    if !c.is_running() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("Container {} is not running", c.id),
        ));
    }
    let sock = state
        .containers
        .store
        .dir(&c.id)
        .join(crate::runtime::shim::ATTACH_SOCKET);
    attach::resize(&sock, h, w)
        .await
        .map_err(|e| ApiError::internal(format!("resize: {e}")))?;
    Ok(StatusCode::OK.into_response())
}

pub fn size_params(p: &Params) -> ApiResult<(u16, u16)> {
    let get = |k: &str| -> ApiResult<u16> {
        p.value(k)
            .unwrap_or("0")
            .parse()
            .map_err(|_| ApiError::bad_request(format!("invalid {k}: {:?}", p.value(k))))
    };
    Ok((get("h")?, get("w")?))
}

pub async fn top(state: State, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let c = state.containers.store.get(&id)?;
    if !c.is_running() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("container {} is not running", c.id),
        ));
    }
    let mut processes = Vec::new();
    for pid in crate::runtime::cgroup::pids(&c.id) {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let after = stat.rsplit_once(") ").map_or("", |(_, r)| r);
        let fields: Vec<&str> = after.split_whitespace().collect();
        let ppid = fields.get(1).copied().unwrap_or("0").to_string();
        let uid = std::fs::read_to_string(format!("/proc/{pid}/status"))
            .unwrap_or_default()
            .lines()
            .find_map(|l| {
                l.strip_prefix("Uid:")
                    .map(|u| u.split_whitespace().next().unwrap_or("0").to_string())
            })
            .unwrap_or_default();
        let cmd = std::fs::read(format!("/proc/{pid}/cmdline"))
            .map(|b| {
                String::from_utf8_lossy(&b)
                    .split('\0')
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default();
        processes.push(vec![uid, pid.to_string(), ppid, cmd]);
    }
    processes.sort_by_key(|p| p[1].parse::<u64>().unwrap_or(0));
    Ok(Json(
        json!({"Titles": ["UID", "PID", "PPID", "CMD"], "Processes": processes}),
    ))
}
