//! Exec endpoints: create, start (detached, or hijacked and attached),
//! inspect and resize.

use super::attach::{self, parse_detach_keys, AttachOptions};
use super::containers::size_params;
use super::error::{ApiError, ApiResult};
use super::params::Params;
use super::State;
use crate::auth::Principal;
use crate::container::exec::{socket_of, ExecRequest};
use crate::container::ContainerError;
use axum::extract::{Path, Request};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

pub async fn create(
    state: State,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let req: ExecRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("invalid exec config: {e}")))?;
    if !req.detach_keys.is_empty() {
        parse_detach_keys(&req.detach_keys).map_err(ApiError::bad_request)?;
    }
    let rec = state.containers.exec_create(&id, req)?;
    Ok((StatusCode::CREATED, Json(json!({"Id": rec.id}))).into_response())
}

#[derive(serde::Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct StartBody {
    detach: bool,
}

/// `POST /exec/{id}/start`: `{"Detach": true}` starts it and returns; otherwise
/// the connection is hijacked and carries the exec's streams.
pub async fn start(
    state: State,
    who: Principal,
    Path(id): Path<String>,
    mut req: Request,
) -> ApiResult<Response> {
    let on_upgrade = hyper::upgrade::on(&mut req);
    let wants_upgrade = req.headers().contains_key(header::UPGRADE);
    let bytes = axum::body::to_bytes(std::mem::take(req.body_mut()), 1 << 20)
        .await
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let body: StartBody = if bytes.is_empty() {
        StartBody::default()
    } else {
        serde_json::from_slice(&bytes)
            .map_err(|e| ApiError::bad_request(format!("invalid body: {e}")))?
    };
    let rec = state.containers.execs.get(&id)?;
    if body.detach {
        state.containers.exec_start(&id, false).await?;
        return Ok(StatusCode::OK.into_response());
    }
    let r = rec.request.clone();
    let opts = AttachOptions {
        stdin: r.attach_stdin,
        stdout: r.attach_stdout,
        stderr: r.attach_stderr,
        tty: r.tty,
        stdin_once: true,
        detach_keys: parse_detach_keys(&r.detach_keys).map_err(ApiError::bad_request)?,
    };
    let sup = state.containers.clone();
    let exec_id = id.clone();
    let tty = r.tty;
    let ended = super::auth::credential_ended(&state, &who);
    tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        let Ok(upgraded) = on_upgrade.await else {
            return;
        };
        let mut io = hyper_util::rt::TokioIo::new(upgraded);
        match sup.exec_start(&exec_id, true).await {
            Ok(Some(sock)) => attach::session(io, sock, opts, ended).await,
            Ok(None) => {
                let _ = io.shutdown().await;
            }
            Err(e) => {
                // Docker writes the failure into the stream; the exit code is on the exec.
                let msg = match e {
                    ContainerError::StartFailed(_, m) => {
                        format!("OCI runtime exec failed: exec failed: {m}: unknown\r\n")
                    }
                    e => format!("{e}\r\n"),
                };
                // On stdout: framed unless there is a terminal.
                let bytes = if tty {
                    msg.into_bytes()
                } else {
                    crate::runtime::stdio::frame(1, msg.as_bytes())
                };
                let _ = io.write_all(&bytes).await;
                let _ = io.shutdown().await;
            }
        }
    });
    Ok(attach::hijack_response(wants_upgrade, rec.request.tty))
}

pub async fn inspect(state: State, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    state
        .containers
        .execs
        .refresh(&id, state.containers.store.root());
    let r = state.containers.execs.get(&id)?;
    let (entry, args) = r
        .request
        .cmd
        .split_first()
        .map(|(a, b)| (a.clone(), b.to_vec()))
        .unwrap_or_default();
    Ok(Json(json!({
        "ID": r.id,
        "Running": r.running,
        "ExitCode": r.exit_code,
        "ProcessConfig": {
            "tty": r.request.tty,
            "entrypoint": entry,
            "arguments": args,
            "privileged": false,
            "user": r.request.user,
        },
        "OpenStdin": r.request.attach_stdin,
        "OpenStderr": r.request.attach_stderr,
        "OpenStdout": r.request.attach_stdout,
        "CanRemove": false,
        "ContainerID": r.container_id,
        "DetachKeys": r.request.detach_keys,
        "Pid": r.pid,
    })))
}

pub async fn resize(state: State, Path(id): Path<String>, p: Params) -> ApiResult<Response> {
    let r = state.containers.execs.get(&id)?;
    let (h, w) = size_params(&p)?;
    let sock = socket_of(state.containers.store.dir(&r.container_id), &id);
    attach::resize(&sock, h, w)
        .await
        .map_err(|e| ApiError::new(StatusCode::CONFLICT, format!("resize: {e}")))?;
    Ok(StatusCode::OK.into_response())
}

/// `GET /berth/containers/{id}/shell/ws`: a new exec with a terminal
/// (`sh` unless `cmd` is given), its streams over a WebSocket. Berth's own
/// endpoint for the dashboard; the docker CLI uses exec create + start.
pub async fn shell_ws(
    state: State,
    who: Principal,
    Path(id): Path<String>,
    p: Params,
    ws: axum::extract::ws::WebSocketUpgrade,
) -> ApiResult<Response> {
    let container = state.containers.store.get(&id)?;
    // A shell this user left running here: watch it again.
    if let Some(s) = p
        .value("session")
        .and_then(|sid| state.terminals.find(sid, &who.user, &container.id))
    {
        let recording = super::activity::Recording(s.recording_id.clone());
        let ended = super::auth::credential_ended(&state, &who);
        let mut res = ws.on_upgrade(move |socket| super::terminals::view(socket, s, ended));
        res.extensions_mut().insert(recording);
        return Ok(res);
    }
    let cmd = p.value("cmd").unwrap_or("sh").to_string();
    let size = super::containers::size_params(&p)?;
    let req = ExecRequest {
        attach_stdin: true,
        attach_stdout: true,
        attach_stderr: true,
        tty: true,
        cmd: cmd.split_whitespace().map(str::to_string).collect(),
        ..Default::default()
    };
    let rec = state.containers.exec_create(&container.id, req)?;
    let sup = state.containers.clone();
    let session_ended = super::auth::credential_ended(&state, &who);
    let viewer_ended = super::auth::credential_ended(&state, &who);
    let title = format!("{} in {} by {}", cmd, rec.container_id, who.user);
    let recorder = super::recording::Recorder::create(&state.recordings, size.1, size.0, &title)
        .map_err(|e| ApiError::internal(format!("terminal recording: {e}")))?;
    let recording = super::activity::Recording(recorder.id.clone());
    let terminals = state.terminals.clone();
    let user = who.user.clone();
    let mut res = ws.on_upgrade(move |socket| async move {
        match sup.exec_start(&rec.id, true).await {
            Ok(Some(mut shim)) => {
                if size.0 > 0 && size.1 > 0 {
                    use tokio::io::AsyncWriteExt;
                    let mut data = size.0.to_be_bytes().to_vec();
                    data.extend_from_slice(&size.1.to_be_bytes());
                    let frame =
                        crate::runtime::stdio::frame(crate::runtime::stdio::FRAME_RESIZE, &data);
                    let _ = shim.write_all(&frame).await;
                }
                let path = socket_of(sup.store.dir(&rec.container_id), &rec.id);
                let session = terminals.start(
                    &user,
                    &rec.container_id,
                    shim,
                    path,
                    (size.0, size.1),
                    std::sync::Arc::new(recorder),
                    session_ended,
                );
                super::terminals::view(socket, session, viewer_ended).await
            }
            Ok(None) => {}
            Err(e) => {
                let mut socket = socket;
                let _ = socket
                    .send(axum::extract::ws::Message::Text(format!("{e}\r\n").into()))
                    .await;
            }
        }
    });
    res.extensions_mut().insert(recording);
    Ok(res)
}
