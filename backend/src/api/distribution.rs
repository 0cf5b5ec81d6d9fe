//! Berth as a registry: the OCI distribution API at `/v2/`, backed by the same
//! image store. Repositories are the local tags' paths; a push to
//! `HOST:PORT/NAME:TAG` becomes the local tag `HOST:PORT/NAME:TAG` without
//! copying blobs twice. Errors use the distribution spec's `{"errors": […]}`.

use super::ownership::{sees, visible, Visible};
use super::params::Params;
use super::{Actor, AppState, State};
use crate::auth::Principal;
use crate::db::events::NewEvent;
use crate::image::{BlobRemoval, Digest, ImageRecord, Reference};
use crate::registry::uploads::UploadError;
use axum::body::Body;
use axum::extract::{Path, Request};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde_json::json;
use std::collections::BTreeSet;

const MAX_MANIFEST: usize = 4 << 20;

/// A distribution-spec error.
struct DistError(StatusCode, &'static str, String);

impl IntoResponse for DistError {
    fn into_response(self) -> Response {
        let body = json!({"errors": [{"code": self.1, "message": self.2, "detail": null}]});
        with_api_version((self.0, axum::Json(body)).into_response())
    }
}

impl From<UploadError> for DistError {
    fn from(e: UploadError) -> Self {
        match e {
            UploadError::Unknown(_) => {
                DistError(StatusCode::NOT_FOUND, "BLOB_UPLOAD_UNKNOWN", e.to_string())
            }
            UploadError::DigestMismatch { .. } => {
                DistError(StatusCode::BAD_REQUEST, "DIGEST_INVALID", e.to_string())
            }
            UploadError::Image(i) => internal(i),
        }
    }
}

fn internal(e: impl std::fmt::Display) -> DistError {
    DistError(StatusCode::INTERNAL_SERVER_ERROR, "UNKNOWN", e.to_string())
}

fn with_api_version(mut r: Response) -> Response {
    r.headers_mut().insert(
        "Docker-Distribution-API-Version",
        HeaderValue::from_static("registry/2.0"),
    );
    r
}

type DistResult = Result<Response, DistError>;

/// `GET /v2/`
pub async fn base() -> Response {
    with_api_version(axum::Json(json!({})).into_response())
}

/// The `Host` the client used: the registry domain of pushed tags.
fn host_of(headers: &HeaderMap) -> String {
    headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost")
        .to_string()
}

/// The tags of repository `name` the caller may see, those pushed as `host` first.
fn repo_tags(
    state: &AppState,
    seen: &Option<Visible>,
    host: &str,
    name: &str,
) -> Vec<(Reference, ImageRecord)> {
    let mut all: Vec<(Reference, ImageRecord)> = Vec::new();
    for rec in state
        .images
        .list()
        .into_iter()
        .filter(|r| sees(seen, &r.id.to_string()))
    {
        for t in rec.tags.iter().filter(|t| t.path() == name) {
            all.push((t.clone(), rec.clone()));
        }
    }
    all.sort_by_key(|(t, _)| (t.domain() != host, t.to_string()));
    all
}

fn paginate(items: Vec<String>, p: &Params) -> (Vec<String>, bool) {
    let after: Vec<String> = items
        .into_iter()
        .filter(|i| p.value("last").is_none_or(|l| i.as_str() > l))
        .collect();
    match p.value("n").and_then(|n| n.parse::<usize>().ok()) {
        Some(n) if after.len() > n => (after[..n].to_vec(), true),
        _ => (after, false),
    }
}

/// `GET /v2/_catalog?n=&last=`
pub async fn catalog(state: State, who: Principal, p: Params) -> Response {
    let seen = match visible(&state, &who, "image").await {
        Ok(v) => v,
        Err(e) => return internal(e.message).into_response(),
    };
    let repos: BTreeSet<String> = state
        .images
        .list()
        .iter()
        .filter(|r| sees(&seen, &r.id.to_string()))
        .flat_map(|r| r.tags.iter().map(|t| t.path().to_string()))
        .collect();
    let (page, more) = paginate(repos.into_iter().collect(), &p);
    let mut r = axum::Json(json!({"repositories": page})).into_response();
    if more {
        let last = page.last().cloned().unwrap_or_default();
        let link = format!(
            "</v2/_catalog?last={last}&n={}>; rel=\"next\"",
            p.value("n").unwrap_or("100")
        );
        if let Ok(v) = HeaderValue::from_str(&link) {
            r.headers_mut().insert(header::LINK, v);
        }
    }
    with_api_version(r)
}

/// Who pushes or pulls, and what of the store they may see.
#[derive(Clone, Copy)]
struct Caller<'a> {
    actor: &'a Actor,
    who: &'a Principal,
    seen: &'a Option<Visible>,
}

/// A push may not move a tag that points at another team's (or the host's) image.
async fn taken_by_another_team(
    state: &AppState,
    who: &Principal,
    tag: &Reference,
) -> Result<(), DistError> {
    if who.is_admin() {
        return Ok(());
    }
    let Ok(rec) = state.images.get(&tag.to_string()) else {
        return Ok(());
    };
    let owners = state
        .db
        .owners("image", &rec.id.to_string())
        .await
        .map_err(internal)?;
    if who.owns(&owners) {
        return Ok(());
    }
    Err(DistError(
        StatusCode::FORBIDDEN,
        "DENIED",
        format!("{tag} is an image that is not your team's: push under another name"),
    ))
}

/// Everything under `/v2/NAME/…`.
pub async fn dispatch(
    state: State,
    Path(rest): Path<String>,
    p: Params,
    actor: Actor,
    who: Principal,
    req: Request,
) -> Response {
    let method = req.method().clone();
    let host = host_of(req.headers());
    let seen = match visible(&state, &who, "image").await {
        Ok(v) => v,
        Err(e) => return internal(e.message).into_response(),
    };
    let name = rest
        .strip_suffix("/tags/list")
        .or_else(|| rest.split_once("/blobs/").map(|(n, _)| n))
        .or_else(|| rest.rsplit_once("/manifests/").map(|(n, _)| n));
    if let Some(n) = name.filter(|n| !crate::image::reference::valid_repository_path(n)) {
        return DistError(
            StatusCode::BAD_REQUEST,
            "NAME_INVALID",
            format!("invalid repository name {n:?}"),
        )
        .into_response();
    }
    let res = if let Some(name) = rest.strip_suffix("/tags/list") {
        tags_list(&state, &seen, &host, name, &p)
    } else if let Some((name, id)) = rest.split_once("/blobs/uploads") {
        let id = id.trim_start_matches('/');
        uploads(&state, &method, name, id, &p, req).await
    } else if let Some((name, reference)) = rest.rsplit_once("/manifests/") {
        let caller = Caller {
            actor: &actor,
            who: &who,
            seen: &seen,
        };
        manifests(&state, &method, &host, name, reference, caller, req).await
    } else if let Some((name, digest)) = rest.rsplit_once("/blobs/") {
        blobs(&state, &method, name, digest, req.headers()).await
    } else {
        Err(DistError(
            StatusCode::NOT_FOUND,
            "UNSUPPORTED",
            format!("no such registry endpoint: /v2/{rest}"),
        ))
    };
    match res {
        Ok(r) => with_api_version(r),
        Err(e) => e.into_response(),
    }
}

fn tags_list(
    state: &AppState,
    seen: &Option<Visible>,
    host: &str,
    name: &str,
    p: &Params,
) -> DistResult {
    let tags: BTreeSet<String> = repo_tags(state, seen, host, name)
        .iter()
        .filter_map(|(t, _)| t.tag().map(str::to_string))
        .collect();
    if tags.is_empty() {
        return Err(DistError(
            StatusCode::NOT_FOUND,
            "NAME_UNKNOWN",
            format!("repository name not known to registry: {name}"),
        ));
    }
    let (page, more) = paginate(tags.into_iter().collect(), p);
    let mut r = axum::Json(json!({"name": name, "tags": page})).into_response();
    if more {
        let link = format!(
            "</v2/{name}/tags/list?last={}&n={}>; rel=\"next\"",
            page.last().cloned().unwrap_or_default(),
            p.value("n").unwrap_or("100")
        );
        if let Ok(v) = HeaderValue::from_str(&link) {
            r.headers_mut().insert(header::LINK, v);
        }
    }
    Ok(r)
}

async fn manifests(
    state: &AppState,
    method: &Method,
    host: &str,
    name: &str,
    reference: &str,
    caller: Caller<'_>,
    req: Request,
) -> DistResult {
    let actor = caller.actor;
    let unknown = || {
        DistError(
            StatusCode::NOT_FOUND,
            "MANIFEST_UNKNOWN",
            format!("manifest unknown: {name}:{reference}"),
        )
    };
    match *method {
        Method::GET | Method::HEAD => {
            let found = repo_tags(state, caller.seen, host, name)
                .into_iter()
                .find(|(t, rec)| match reference.parse::<Digest>() {
                    Ok(d) => rec.manifest_desc.digest == d,
                    Err(_) => t.tag() == Some(reference),
                });
            let (_, rec) = found.ok_or_else(unknown)?;
            let bytes = state
                .images
                .blobs()
                .read_verified(&rec.manifest_desc.digest)
                .map_err(internal)?;
            let mut r = if *method == Method::HEAD {
                Response::new(Body::empty())
            } else {
                Response::new(Body::from(bytes.clone()))
            };
            let h = r.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_str(&rec.manifest_desc.media_type).map_err(internal)?,
            );
            h.insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
            h.insert(
                "Docker-Content-Digest",
                HeaderValue::from_str(rec.manifest_desc.digest.as_str()).map_err(internal)?,
            );
            Ok(r)
        }
        Method::PUT => {
            let ct = req
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string();
            if ct.contains("index") || ct.contains("manifest.list") {
                return Err(DistError(
                    StatusCode::BAD_REQUEST,
                    "UNSUPPORTED",
                    "manifest lists and indexes cannot be pushed to Berth yet".into(),
                ));
            }
            let bytes = axum::body::to_bytes(req.into_body(), MAX_MANIFEST)
                .await
                .map_err(|e| {
                    DistError(
                        StatusCode::BAD_REQUEST,
                        "MANIFEST_INVALID",
                        format!("reading manifest: {e}"),
                    )
                })?;
            let digest = Digest::of(&bytes);
            let tag = match reference.parse::<Digest>() {
                Ok(d) if d != digest => {
                    return Err(DistError(
                        StatusCode::BAD_REQUEST,
                        "DIGEST_INVALID",
                        format!("manifest digest is {digest}, not {d}"),
                    ))
                }
                Ok(_) => None,
                Err(_) => Some(
                    Reference::parse(&format!("{host}/{name}:{reference}")).map_err(|e| {
                        DistError(StatusCode::BAD_REQUEST, "TAG_INVALID", e.to_string())
                    })?,
                ),
            };
            if let Some(t) = &tag {
                taken_by_another_team(state, caller.who, t).await?;
            }
            let images = state.images.clone();
            let t = tag.clone();
            let reg = tokio::task::spawn_blocking(move || images.accept_manifest(&bytes, t))
                .await
                .map_err(internal)?
                .map_err(|e| {
                    DistError(StatusCode::BAD_REQUEST, "MANIFEST_INVALID", e.to_string())
                })?;
            let e = NewEvent::image(
                "push",
                reg.id.to_string(),
                tag.map(|t| t.familiar()),
                &actor.0,
            );
            super::ownership::claim(state, actor.1, "image", &reg.id.to_string()).await;
            if let Err(err) = state.db.record_event(e).await {
                tracing::error!(error = %err, "could not record event");
            }
            let mut r = StatusCode::CREATED.into_response();
            let h = r.headers_mut();
            h.insert(
                header::LOCATION,
                HeaderValue::from_str(&format!("/v2/{name}/manifests/{digest}"))
                    .map_err(internal)?,
            );
            h.insert(
                "Docker-Content-Digest",
                HeaderValue::from_str(digest.as_str()).map_err(internal)?,
            );
            Ok(r)
        }
        Method::DELETE => {
            let d: Digest = reference.parse().map_err(|_| {
                DistError(
                    StatusCode::BAD_REQUEST,
                    "UNSUPPORTED",
                    "delete manifests by digest".into(),
                )
            })?;
            let tags: Vec<Reference> = repo_tags(state, caller.seen, host, name)
                .into_iter()
                .filter(|(_, rec)| rec.manifest_desc.digest == d)
                .map(|(t, _)| t)
                .collect();
            if tags.is_empty() {
                return Err(unknown());
            }
            for t in &tags {
                taken_by_another_team(state, caller.who, t).await?;
            }
            for t in tags {
                let images = state.images.clone();
                tokio::task::spawn_blocking(move || {
                    images.remove(&t.to_string(), false, true, &Default::default())
                })
                .await
                .map_err(internal)?
                .map_err(internal)?;
            }
            Ok(StatusCode::ACCEPTED.into_response())
        }
        _ => Err(DistError(
            StatusCode::METHOD_NOT_ALLOWED,
            "UNSUPPORTED",
            format!("{method} is not allowed on manifests"),
        )),
    }
}

async fn blobs(
    state: &AppState,
    method: &Method,
    name: &str,
    digest: &str,
    headers: &HeaderMap,
) -> DistResult {
    let d: Digest = digest.parse().map_err(|_| {
        DistError(
            StatusCode::BAD_REQUEST,
            "DIGEST_INVALID",
            format!("invalid digest {digest}"),
        )
    })?;
    if *method == Method::DELETE {
        let images = state.images.clone();
        let d2 = d.clone();
        let removal = tokio::task::spawn_blocking(move || images.remove_unused_blob(&d2))
            .await
            .map_err(internal)?;
        return match removal {
            BlobRemoval::Removed => Ok(StatusCode::ACCEPTED.into_response()),
            BlobRemoval::Unknown => Err(DistError(
                StatusCode::NOT_FOUND,
                "BLOB_UNKNOWN",
                format!("blob unknown to registry: {d} in {name}"),
            )),
            BlobRemoval::InUse(id) => Err(DistError(
                StatusCode::METHOD_NOT_ALLOWED,
                "UNSUPPORTED",
                format!(
                    "blob {d} is used by image {}: delete the image's manifest first",
                    &id.hex()[..12]
                ),
            )),
        };
    }
    if *method != Method::GET && *method != Method::HEAD {
        return Err(DistError(
            StatusCode::METHOD_NOT_ALLOWED,
            "UNSUPPORTED",
            format!("{method} is not allowed on blobs"),
        ));
    }
    if !state.images.blobs().has(&d) {
        return Err(DistError(
            StatusCode::NOT_FOUND,
            "BLOB_UNKNOWN",
            format!("blob unknown to registry: {d} in {name}"),
        ));
    }
    let size = state.images.blobs().size(&d).map_err(internal)?;
    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| parse_range(r, size));
    let (start, end) = range.unwrap_or((0, size.saturating_sub(1)));
    let len = if size == 0 { 0 } else { end - start + 1 };
    let mut r = if *method == Method::HEAD {
        Response::new(Body::empty())
    } else {
        use tokio::io::{AsyncReadExt, AsyncSeekExt};
        let mut f = tokio::fs::File::open(state.images.blobs().path(&d))
            .await
            .map_err(internal)?;
        f.seek(std::io::SeekFrom::Start(start))
            .await
            .map_err(internal)?;
        Response::new(Body::from_stream(
            tokio_util::io::ReaderStream::with_capacity(f.take(len), 256 * 1024),
        ))
    };
    if range.is_some() {
        *r.status_mut() = StatusCode::PARTIAL_CONTENT;
        r.headers_mut().insert(
            header::CONTENT_RANGE,
            HeaderValue::from_str(&format!("bytes {start}-{end}/{size}")).map_err(internal)?,
        );
    }
    let h = r.headers_mut();
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(
        "Docker-Content-Digest",
        HeaderValue::from_str(d.as_str()).map_err(internal)?,
    );
    Ok(r)
}

/// `bytes=a-b` (or `a-`) within `size`.
fn parse_range(r: &str, size: u64) -> Option<(u64, u64)> {
    let (a, b) = r.strip_prefix("bytes=")?.split_once('-')?;
    let start: u64 = a.parse().ok()?;
    let end: u64 = if b.is_empty() {
        size.checked_sub(1)?
    } else {
        b.parse::<u64>().ok()?.min(size.checked_sub(1)?)
    };
    (start <= end).then_some((start, end))
}

async fn uploads(
    state: &AppState,
    method: &Method,
    name: &str,
    id: &str,
    p: &Params,
    req: Request,
) -> DistResult {
    let sessions = &state.uploads;
    let store = &state.images;
    let location = |id: &str| format!("/v2/{name}/blobs/uploads/{id}");
    let progress = |id: &str, size: u64, status: StatusCode| -> DistResult {
        let mut r = status.into_response();
        let h = r.headers_mut();
        h.insert(
            header::LOCATION,
            HeaderValue::from_str(&location(id)).map_err(internal)?,
        );
        h.insert(
            header::RANGE,
            HeaderValue::from_str(&format!("0-{}", size.saturating_sub(1))).map_err(internal)?,
        );
        h.insert(
            "Docker-Upload-UUID",
            HeaderValue::from_str(id).map_err(internal)?,
        );
        h.insert(header::CONTENT_LENGTH, HeaderValue::from(0));
        Ok(r)
    };
    let created = |d: &Digest| -> DistResult {
        let mut r = StatusCode::CREATED.into_response();
        let h = r.headers_mut();
        h.insert(
            header::LOCATION,
            HeaderValue::from_str(&format!("/v2/{name}/blobs/{d}")).map_err(internal)?,
        );
        h.insert(
            "Docker-Content-Digest",
            HeaderValue::from_str(d.as_str()).map_err(internal)?,
        );
        h.insert(header::CONTENT_LENGTH, HeaderValue::from(0));
        Ok(r)
    };
    let digest_param = || -> Result<Option<Digest>, DistError> {
        p.value("digest")
            .map(|d| {
                d.parse().map_err(|_| {
                    DistError(
                        StatusCode::BAD_REQUEST,
                        "DIGEST_INVALID",
                        format!("invalid digest {d}"),
                    )
                })
            })
            .transpose()
    };
    match (method.clone(), id.is_empty()) {
        (Method::POST, true) => {
            if let Some(m) = p.value("mount") {
                if let Ok(d) = m.parse::<Digest>() {
                    if store.blobs().has(&d) {
                        return created(&d);
                    }
                }
            }
            let id = sessions.start(store)?;
            if let Some(d) = digest_param()? {
                append_body(state, &id, req.into_body()).await?;
                finish(state, &id, d.clone()).await?;
                return created(&d);
            }
            progress(&id, 0, StatusCode::ACCEPTED)
        }
        (Method::PATCH, false) => {
            let size = append_body(state, id, req.into_body()).await?;
            progress(id, size, StatusCode::ACCEPTED)
        }
        (Method::PUT, false) => {
            let d = digest_param()?.ok_or_else(|| {
                DistError(
                    StatusCode::BAD_REQUEST,
                    "DIGEST_INVALID",
                    "digest is required to finish an upload".into(),
                )
            })?;
            append_body(state, id, req.into_body()).await?;
            finish(state, id, d.clone()).await?;
            created(&d)
        }
        (Method::GET, false) => progress(id, sessions.size(id)?, StatusCode::NO_CONTENT),
        (Method::DELETE, false) => {
            sessions.cancel(id)?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        _ => Err(DistError(
            StatusCode::METHOD_NOT_ALLOWED,
            "UNSUPPORTED",
            format!("{method} is not allowed here"),
        )),
    }
}

/// Streams a request body into an upload session; returns its new size.
async fn append_body(state: &AppState, id: &str, body: Body) -> Result<u64, DistError> {
    let mut size = state.uploads.size(id)?;
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            DistError(
                StatusCode::BAD_REQUEST,
                "BLOB_UPLOAD_INVALID",
                format!("reading upload: {e}"),
            )
        })?;
        size = state.uploads.append(id, &chunk)?;
    }
    Ok(size)
}

async fn finish(state: &AppState, id: &str, d: Digest) -> Result<(), DistError> {
    let (uploads, images, id) = (state.uploads.clone(), state.images.clone(), id.to_string());
    tokio::task::spawn_blocking(move || uploads.finish(&images, &id, &d))
        .await
        .map_err(internal)??;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_range;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-9", 100), Some((0, 9)));
        assert_eq!(parse_range("bytes=90-", 100), Some((90, 99)));
        assert_eq!(parse_range("bytes=50-500", 100), Some((50, 99)));
        assert_eq!(parse_range("bytes=9-1", 100), None);
        assert_eq!(parse_range("items=0-1", 100), None);
    }
}
