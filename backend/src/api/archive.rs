//! Copying files in and out of containers: `GET|HEAD|PUT
//! /containers/{id}/archive?path=` (what `docker cp` uses, with Docker's
//! `X-Docker-Container-Path-Stat`) and `GET /containers/{id}/export`. The
//! work is `container::copy`, which never leaves the container's root.

use super::error::{ApiError, ApiResult};
use super::params::Params;
use super::{AppState, State};
use crate::container::copy::{Access, PathStat, Root};
use crate::container::Container;
use axum::body::Body;
use axum::extract::{Path, Request};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};

const STAT_HEADER: &str = "X-Docker-Container-Path-Stat";

/// What `Root::open` needs for container `c`.
fn access_parts(state: &AppState, c: &Container) -> (std::path::PathBuf, Vec<std::path::PathBuf>) {
    let lowers = c
        .image
        .parse()
        .ok()
        .and_then(|d| state.images.get_by_id(&d))
        .map(|img| state.images.lower_dirs(&img))
        .unwrap_or_default();
    (state.containers.store.dir(&c.id), lowers)
}

/// Opens the container's root (in a blocking task) and runs `f` on it.
async fn with_root<T: Send + 'static>(
    state: &AppState,
    c: &Container,
    write: bool,
    export: bool,
    f: impl FnOnce(&Root) -> std::io::Result<T> + Send + 'static,
) -> ApiResult<std::io::Result<T>> {
    let (dir, lowers) = access_parts(state, c);
    let scratch = state.images.scratch().to_path_buf();
    let pid = if c.is_running() && !export {
        c.state.pid
    } else {
        0
    };
    Ok(tokio::task::spawn_blocking(move || {
        let (diff, work) = (dir.join("diff"), dir.join("work"));
        let access = if export {
            Access::Layers {
                diff: &diff,
                lowers: &lowers,
            }
        } else if pid > 0 {
            Access::Running(pid)
        } else {
            Access::Stopped {
                diff: &diff,
                work: &work,
                lowers: &lowers,
                write,
            }
        };
        let root = Root::open(access, &scratch)?;
        f(&root)
    })
    .await?)
}

fn path_param(p: &Params) -> ApiResult<String> {
    match p.value("path") {
        Some(v) if !v.is_empty() => Ok(v.to_string()),
        _ => Err(ApiError::bad_request("path is required")),
    }
}

fn not_found(c: &Container, path: &str, e: &std::io::Error) -> ApiError {
    if e.kind() == std::io::ErrorKind::NotFound {
        ApiError::not_found(format!(
            "Could not find the file {path} in container {}",
            c.name.trim_start_matches('/')
        ))
    } else {
        ApiError::bad_request(format!("{path}: {e}"))
    }
}

fn stat_header(s: &PathStat) -> ApiResult<HeaderValue> {
    let json = serde_json::to_vec(s).map_err(|e| ApiError::internal(e.to_string()))?;
    HeaderValue::from_str(&crate::registry::auth::base64_encode(&json))
        .map_err(|e| ApiError::internal(e.to_string()))
}

/// Streams a finished scratch file as the body; the file goes when sent.
async fn stream_file(guard: crate::fsutil::ScratchGuard) -> ApiResult<Body> {
    let f = tokio::fs::File::open(guard.path())
        .await
        .map_err(|e| ApiError::internal(format!("open archive: {e}")))?;
    let stream = tokio_util::io::ReaderStream::new(f);
    let stream = futures_util::StreamExt::map(stream, move |chunk| {
        let _keep = &guard;
        chunk
    });
    Ok(Body::from_stream(stream))
}

/// `GET|HEAD|PUT /containers/{id}/archive?path=`
pub async fn archive(
    state: State,
    Path(id): Path<String>,
    p: Params,
    req: Request,
) -> ApiResult<Response> {
    let c = state.containers.store.get(&id)?;
    let path = path_param(&p)?;
    match *req.method() {
        Method::HEAD => {
            let pth = path.clone();
            let stat = with_root(&state, &c, false, false, move |r| r.stat(&pth))
                .await?
                .map_err(|e| not_found(&c, &path, &e))?;
            let mut res = StatusCode::OK.into_response();
            res.headers_mut().insert(STAT_HEADER, stat_header(&stat)?);
            Ok(res)
        }
        Method::PUT => {
            let keep_owner = p.flag("copyUIDGID")?;
            let no_overwrite = p.flag("noOverwriteDirNonDir")?;
            let upload = super::images::spool(&state, req.into_body()).await?;
            let up = upload.path().to_path_buf();
            let pth = path.clone();
            let r = with_root(&state, &c, true, false, move |r| {
                let f = std::fs::File::open(&up)?;
                let data = crate::image::unpack::decompressed(f, "the archive").map_err(|e| {
                    std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string())
                })?;
                r.extract(&pth, data, keep_owner, no_overwrite)
            })
            .await?;
            drop(upload);
            r.map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => not_found(&c, &path, &e),
                std::io::ErrorKind::AlreadyExists => {
                    ApiError::new(StatusCode::CONFLICT, e.to_string())
                }
                _ => ApiError::bad_request(format!("copy into {path}: {e}")),
            })?;
            Ok(StatusCode::OK.into_response())
        }
        _ => {
            let out = crate::fsutil::ScratchGuard::new(crate::fsutil::unique_path(
                state.images.scratch(),
                "archive",
            ));
            let (pth, file) = (path.clone(), out.path().to_path_buf());
            let stat = with_root(&state, &c, false, false, move |r| {
                let stat = r.stat(&pth)?;
                r.archive(&pth, std::io::BufWriter::new(std::fs::File::create(&file)?))?;
                Ok(stat)
            })
            .await?
            .map_err(|e| not_found(&c, &path, &e))?;
            let mut res = (
                [(header::CONTENT_TYPE, "application/x-tar")],
                stream_file(out).await?,
            )
                .into_response();
            res.headers_mut().insert(STAT_HEADER, stat_header(&stat)?);
            Ok(res)
        }
    }
}

/// The largest file the dashboard's file browser reads in one piece.
const FILE_LIMIT: u64 = 16 * 1024 * 1024;

/// `GET /berth/containers/{id}/files?path=/dir`: a directory's entries
/// (name, size, Go file mode, mtime, link target), for the file browser.
pub async fn files(state: State, Path(id): Path<String>, p: Params) -> ApiResult<Response> {
    let c = state.containers.store.get(&id)?;
    let path = p.value("path").unwrap_or("/").to_string();
    let pth = path.clone();
    let list = with_root(&state, &c, false, false, move |r| r.list(&pth))
        .await?
        .map_err(|e| not_found(&c, &path, &e))?;
    let entries: Vec<serde_json::Value> = list
        .iter()
        .map(|s| {
            serde_json::json!({
                "Name": s.name, "Size": s.size, "Mode": s.mode, "ModTime": s.mtime,
                "LinkTarget": s.link_target, "IsDir": s.is_dir(),
            })
        })
        .collect();
    Ok(axum::Json(serde_json::json!({"Path": path, "Entries": entries})).into_response())
}

/// `GET /berth/containers/{id}/files/content?path=`: one file's bytes, as a
/// download (up to 16 MiB; bigger ones go through `cp`).
pub async fn file_content(state: State, Path(id): Path<String>, p: Params) -> ApiResult<Response> {
    let c = state.containers.store.get(&id)?;
    let path = path_param(&p)?;
    let pth = path.clone();
    let (data, more) = with_root(&state, &c, false, false, move |r| {
        r.read_file(&pth, FILE_LIMIT)
    })
    .await?
    .map_err(|e| not_found(&c, &path, &e))?;
    if more {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("{path} is larger than 16 MiB: use `berth cp`"),
        ));
    }
    let name = std::path::Path::new(&path)
        .file_name()
        .map(|n| n.to_string_lossy().replace('"', ""))
        .unwrap_or_default();
    let mut res = ([(header::CONTENT_TYPE, "application/octet-stream")], data).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(res)
}

/// `GET /containers/{id}/export`: the container's filesystem as one tar
/// (its layers and writable layer; not its volumes or mounts).
pub async fn export(state: State, Path(id): Path<String>) -> ApiResult<Response> {
    let c = state.containers.store.get(&id)?;
    let out = crate::fsutil::ScratchGuard::new(crate::fsutil::unique_path(
        state.images.scratch(),
        "export",
    ));
    let file = out.path().to_path_buf();
    with_root(&state, &c, false, true, move |r| {
        r.archive_contents(std::io::BufWriter::new(std::fs::File::create(&file)?))
    })
    .await?
    .map_err(|e| ApiError::internal(format!("export {}: {e}", c.name)))?;
    Ok((
        [(header::CONTENT_TYPE, "application/x-tar")],
        stream_file(out).await?,
    )
        .into_response())
}
