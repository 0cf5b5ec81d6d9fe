//! Image endpoints of the Engine API: list, inspect, history, tag, remove,
//! import (`POST /images/create?fromSrc=-`), load and save. Image names may
//! contain slashes, so `/images/{*rest}` is dispatched on its last segment.

use super::error::{ApiError, ApiResult};
use super::params::Params;
use super::{Actor, AppState, State};
use crate::db::events::NewEvent;
use crate::fsutil::{self, ScratchGuard};
use crate::image::{HistoryEntry, ImageRecord, ImportOptions, Reference, Registered, Removal};
use crate::timefmt;
use axum::body::Body;
use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use berth_types::{HistoryItem, ImageDeleteItem, ImageSummary, JsonMessage};
use futures_util::StreamExt;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use tokio::io::AsyncWriteExt;

/// Runs blocking store work off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, crate::image::ImageError> + Send + 'static,
) -> ApiResult<T> {
    Ok(tokio::task::spawn_blocking(f).await??)
}

pub(super) async fn record(state: &AppState, e: NewEvent) {
    if let Err(err) = state.db.record_event(e).await {
        tracing::error!(error = %err, "could not record event");
    }
}

/// Records the event of an image made (import, load, build, commit) and
/// gives the image to the actor's team.
pub(super) async fn record_made(state: &AppState, e: NewEvent, actor: &Actor) {
    super::ownership::claim(state, actor.1, "image", &e.object_id).await;
    record(state, e).await;
}

fn created_secs(rec: &ImageRecord) -> i64 {
    rec.config
        .created
        .as_deref()
        .and_then(timefmt::parse_rfc3339_secs)
        .unwrap_or(0)
}

fn familiar_tags(rec: &ImageRecord) -> Vec<String> {
    rec.tags.iter().map(Reference::familiar).collect()
}

fn repo_digests(rec: &ImageRecord) -> Vec<String> {
    rec.repo_digests.iter().map(Reference::familiar).collect()
}

pub fn summary(rec: &ImageRecord) -> ImageSummary {
    ImageSummary {
        id: rec.id.to_string(),
        parent_id: rec
            .parent
            .as_ref()
            .map(|p| p.to_string())
            .unwrap_or_default(),
        repo_tags: familiar_tags(rec),
        repo_digests: repo_digests(rec),
        created: created_secs(rec),
        size: rec.size as i64,
        shared_size: -1,
        labels: rec.config.config.labels.clone().unwrap_or_default(),
        containers: -1,
    }
}

/// `GET /images/json?all=&filters=`
pub async fn list(
    state: State,
    who: crate::auth::Principal,
    params: Params,
) -> ApiResult<Json<Vec<ImageSummary>>> {
    let visible = super::ownership::visible(&state, &who, "image").await?;
    let all = params.flag("all")?;
    let filters = params.filters()?;
    filters.allow_only(&["dangling", "reference", "label", "before", "since"])?;
    let images = state.images.list();
    let parents: HashSet<_> = images.iter().filter_map(|i| i.parent.clone()).collect();
    let time_of = |name: &String| -> ApiResult<i64> { Ok(created_secs(&state.images.get(name)?)) };
    let before = filters
        .get("before")
        .iter()
        .map(time_of)
        .collect::<ApiResult<Vec<_>>>()?;
    let since = filters
        .get("since")
        .iter()
        .map(time_of)
        .collect::<ApiResult<Vec<_>>>()?;
    let mut out: Vec<ImageSummary> = images
        .iter()
        .filter(|i| super::ownership::sees(&visible, &i.id.to_string()))
        .filter(|i| all || !i.tags.is_empty() || !parents.contains(&i.id))
        .filter(|i| {
            filters
                .get("dangling")
                .iter()
                .all(|d| (d == "true" || d == "1") == i.tags.is_empty())
                && (filters.get("reference").is_empty()
                    || filters.get("reference").iter().any(|pat| {
                        i.tags.iter().any(|t| {
                            glob(pat, &t.familiar()) || glob(pat, &t.familiar_repository())
                        })
                    }))
                && filters.get("label").iter().all(|l| {
                    let labels = i.config.config.labels.clone().unwrap_or_default();
                    match l.split_once('=') {
                        Some((k, v)) => labels.get(k).is_some_and(|x| x == v),
                        None => labels.contains_key(l),
                    }
                })
                && before.iter().all(|t| created_secs(i) < *t)
                && since.iter().all(|t| created_secs(i) > *t)
        })
        .map(|i| {
            let mut s = summary(i);
            // Like Docker, a reference filter also narrows the tags shown.
            let pats = filters.get("reference");
            if !pats.is_empty() {
                s.repo_tags.retain(|t| {
                    pats.iter().any(|p| {
                        glob(p, t) || glob(p, t.rsplit_once(':').map_or(t.as_str(), |(r, _)| r))
                    })
                });
            }
            s
        })
        .collect();
    out.sort_by(|a, b| b.created.cmp(&a.created).then(a.id.cmp(&b.id)));
    Ok(Json(out))
}

/// Go's `path.Match` for the patterns docker users write: `*` and `?`.
fn glob(pat: &str, s: &str) -> bool {
    fn m(p: &[u8], s: &[u8]) -> bool {
        match (p.first(), s.first()) {
            (None, None) => true,
            (Some(b'*'), _) => m(&p[1..], s) || (!s.is_empty() && s[0] != b'/' && m(p, &s[1..])),
            (Some(b'?'), Some(c)) if *c != b'/' => m(&p[1..], &s[1..]),
            (Some(a), Some(b)) if a == b => m(&p[1..], &s[1..]),
            _ => false,
        }
    }
    m(pat.as_bytes(), s.as_bytes())
}

/// `GET /images/{name}/json|history|get`
pub async fn get_dispatch(
    state: State,
    Path(rest): Path<String>,
    actor: Actor,
) -> ApiResult<Response> {
    if let Some(name) = rest.strip_suffix("/json") {
        return inspect(&state, name).map(|j| j.into_response());
    }
    if let Some(name) = rest.strip_suffix("/history") {
        return history(&state, name).map(|j| j.into_response());
    }
    if let Some(name) = rest.strip_suffix("/get") {
        return save(state.0.clone(), vec![name.to_string()], actor).await;
    }
    Err(ApiError::not_found("page not found"))
}

/// `POST /images/{name}/tag|push`
pub async fn post_dispatch(
    state: State,
    Path(rest): Path<String>,
    params: Params,
    actor: Actor,
    headers: axum::http::HeaderMap,
) -> ApiResult<Response> {
    if let Some(name) = rest.strip_suffix("/tag") {
        return tag(&state, name, &params, &actor).await;
    }
    if let Some(name) = rest.strip_suffix("/push") {
        let auth = headers
            .get("X-Registry-Auth")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        return push(&state, name, params.value("tag"), auth, actor).await;
    }
    Err(ApiError::not_found("page not found"))
}

/// `POST /images/{name}/push?tag=`: checks the image exists locally, then
/// streams Docker's push progress as NDJSON.
async fn push(
    state: &AppState,
    name: &str,
    tag: Option<&str>,
    auth: &str,
    actor: Actor,
) -> ApiResult<Response> {
    use crate::registry::{push, RegistryClient};
    let mut target = Reference::parse(name).map_err(|e| ApiError::bad_request(e.to_string()))?;
    if let Some(t) = tag {
        target = target
            .with_tag(t)
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
    }
    let target = target.with_default_tag();
    let rec = state.images.get(&target.to_string()).map_err(|_| {
        ApiError::not_found(format!(
            "An image does not exist locally with the tag: {}",
            target.familiar_repository()
        ))
    })?;
    let client = RegistryClient::new(
        state.transport.clone(),
        &target,
        credentials_for(state, target.domain(), auth)?,
    )?
    .for_push();
    let images = state.images.clone();
    let name = target.familiar();
    Ok(stream_operation(
        state,
        "push",
        name,
        actor,
        move |tx| async move {
            let digest = push::push(images.clone(), &client, &rec, &target, &tx).await?;
            if let Ok(rd) = Reference::parse(&format!("{}@{digest}", target.repository())) {
                if let Err(e) = images.add_repo_digest(&rec.id, rd) {
                    tracing::warn!(error = %e, "could not record the pushed digest");
                }
            }
            Ok(rec.id)
        },
    ))
}

/// The request's own credentials (`X-Registry-Auth`), else the daemon's login for `host`.
fn credentials_for(
    state: &AppState,
    host: &str,
    header: &str,
) -> ApiResult<Option<crate::registry::Credentials>> {
    Ok(crate::registry::Credentials::from_header(header)?.or_else(|| state.credentials.get(host)))
}

/// Runs a registry operation in the background and answers with its progress
/// as NDJSON. On success records `action` for the image id it returns; on
/// failure ends the stream with Docker's error line.
fn stream_operation<F>(
    state: &AppState,
    action: &'static str,
    name: String,
    actor: Actor,
    op: impl FnOnce(tokio::sync::mpsc::Sender<JsonMessage>) -> F,
) -> Response
where
    F: std::future::Future<Output = Result<crate::image::Digest, crate::registry::RegistryError>>
        + Send
        + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel::<JsonMessage>(64);
    let db = state.db.clone();
    let work = op(tx.clone());
    tokio::spawn(async move {
        match work.await {
            Ok(id) => {
                if action == "pull" {
                    if let Some(team) = actor.1 {
                        let _ = db.claim("image", &id.to_string(), team).await;
                    }
                }
                if let Err(err) = db
                    .record_event(NewEvent::image(
                        action,
                        id.to_string(),
                        Some(name),
                        &actor.0,
                    ))
                    .await
                {
                    tracing::error!(error = %err, "could not record event");
                }
            }
            Err(e) => {
                tracing::warn!(image = %name, error = %e, "{action} failed");
                let _ = tx.send(JsonMessage::error(e.to_string())).await;
            }
        }
    });
    ndjson_stream(rx)
}

/// Streams channel messages as NDJSON until the sender is dropped.
pub(super) fn ndjson_stream(mut rx: tokio::sync::mpsc::Receiver<JsonMessage>) -> Response {
    let stream = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx)).map(|m| {
        let mut line = serde_json::to_vec(&m).unwrap_or_default();
        line.push(b'\n');
        Ok::<_, std::convert::Infallible>(bytes::Bytes::from(line))
    });
    (
        [(header::CONTENT_TYPE, "application/json")],
        Body::from_stream(stream),
    )
        .into_response()
}

fn inspect(state: &AppState, name: &str) -> ApiResult<Json<Value>> {
    let rec = state.images.get(name)?;
    let cfg = &rec.config;
    let mut run_config = json!({
        "Hostname": "", "Domainname": "", "User": "", "AttachStdin": false, "AttachStdout": false,
        "AttachStderr": false, "Tty": false, "OpenStdin": false, "StdinOnce": false, "Env": null,
        "Cmd": null, "Image": "", "Volumes": null, "WorkingDir": "", "Entrypoint": null,
        "OnBuild": null, "Labels": null
    });
    if let (Some(base), Ok(Value::Object(set))) = (
        run_config.as_object_mut(),
        serde_json::to_value(&cfg.config),
    ) {
        base.extend(set);
    }
    let dirs = state.images.lower_dirs(&rec);
    let join = |d: &[std::path::PathBuf]| {
        d.iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(":")
    };
    let mut graph = serde_json::Map::new();
    if let Some((top, lower)) = dirs.split_first() {
        graph.insert("UpperDir".into(), json!(top.display().to_string()));
        if !lower.is_empty() {
            graph.insert("LowerDir".into(), json!(join(lower)));
        }
    }
    Ok(Json(json!({
        "Id": rec.id.to_string(),
        "RepoTags": familiar_tags(&rec),
        "RepoDigests": repo_digests(&rec),
        "Parent": rec.parent.as_ref().map(|p| p.to_string()).unwrap_or_default(),
        "Comment": cfg.comment.clone().unwrap_or_default(),
        "Created": cfg.created.clone().unwrap_or_default(),
        "DockerVersion": "",
        "Author": cfg.author.clone().unwrap_or_default(),
        "Config": run_config,
        "Architecture": cfg.architecture,
        "Variant": cfg.variant,
        "Os": cfg.os,
        "Size": rec.size,
        "GraphDriver": {"Name": "overlay2", "Data": graph},
        "RootFS": {"Type": "layers", "Layers": cfg.rootfs.diff_ids},
        "Metadata": {"LastTagTime": rec.last_tag_time.clone().unwrap_or_else(|| "0001-01-01T00:00:00Z".into())},
        "Descriptor": rec.manifest_desc,
    })))
}

fn history(state: &AppState, name: &str) -> ApiResult<Json<Vec<HistoryItem>>> {
    let entries = state.images.history(name)?;
    Ok(Json(entries.into_iter().map(history_item).collect()))
}

fn history_item(e: HistoryEntry) -> HistoryItem {
    HistoryItem {
        tags: e
            .id
            .as_ref()
            .map(|_| e.tags.iter().map(Reference::familiar).collect()),
        id: e
            .id
            .map_or_else(|| "<missing>".to_string(), |d| d.to_string()),
        created: e.created,
        created_by: e.created_by,
        size: e.size as i64,
        comment: e.comment,
    }
}

/// The name `repo` (`tag` when given, else its own or `latest`) that a tag
/// or a commit points at an image; digests are refused.
pub(super) fn tag_target(repo: &str, tag: Option<&str>) -> ApiResult<Reference> {
    let target = Reference::parse(repo).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let target = match tag {
        Some(t) => target
            .with_tag(t)
            .map_err(|e| ApiError::bad_request(e.to_string()))?,
        None => target.with_default_tag(),
    };
    if target.digest().is_some() {
        return Err(ApiError::bad_request(format!(
            "refusing to create a tag with a digest reference: {repo}"
        )));
    }
    Ok(target)
}

async fn tag(state: &AppState, name: &str, params: &Params, actor: &Actor) -> ApiResult<Response> {
    let repo = params.value("repo").ok_or_else(|| {
        ApiError::bad_request("repo is required: the repository to tag the image into")
    })?;
    let target = tag_target(repo, params.value("tag"))?;
    let images = state.images.clone();
    let (source, t) = (name.to_string(), target.clone());
    let reg = blocking(move || images.tag(&source, t)).await?;
    record(
        state,
        NewEvent::image("tag", reg.id.to_string(), Some(target.familiar()), &actor.0),
    )
    .await;
    Ok(StatusCode::CREATED.into_response())
}

/// `DELETE /images/{name}?force=&noprune=`
pub async fn remove(
    state: State,
    Path(name): Path<String>,
    params: Params,
    actor: Actor,
) -> ApiResult<Json<Vec<ImageDeleteItem>>> {
    let force = params.flag("force")?;
    let prune = !params.flag("noprune")?;
    let images = state.images.clone();
    // Images containers use (any state) are kept, as Docker keeps them.
    let in_use: HashSet<crate::image::Digest> = state
        .containers
        .store
        .list()
        .iter()
        .filter_map(|c| c.image.parse().ok())
        .collect();
    let removed = blocking(move || images.remove(&name, force, prune, &in_use)).await?;
    let mut out = Vec::new();
    for r in removed {
        match r {
            Removal::Untagged(t, id) => {
                out.push(ImageDeleteItem {
                    untagged: Some(t.familiar()),
                    deleted: None,
                });
                record(
                    &state,
                    NewEvent::image("untag", id.to_string(), Some(t.familiar()), &actor.0),
                )
                .await;
            }
            Removal::Deleted(id) => {
                out.push(ImageDeleteItem {
                    untagged: None,
                    deleted: Some(id.to_string()),
                });
                record(
                    &state,
                    NewEvent::image("delete", id.to_string(), None, &actor.0),
                )
                .await;
                let _ = state.db.release("image", &id.to_string(), None).await;
            }
            Removal::DeletedLayer(c) => out.push(ImageDeleteItem {
                untagged: None,
                deleted: Some(c.to_string()),
            }),
        }
    }
    Ok(Json(out))
}

/// Writes a request body to a scratch file, returning its guard.
pub(super) async fn spool(state: &AppState, body: Body) -> ApiResult<ScratchGuard> {
    let guard = ScratchGuard::new(fsutil::unique_path(state.images.scratch(), "upload"));
    let mut f = tokio::fs::File::create(guard.path())
        .await
        .map_err(|e| ApiError::internal(format!("create upload file: {e}")))?;
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::bad_request(format!("reading request body: {e}")))?;
        f.write_all(&chunk)
            .await
            .map_err(|e| ApiError::internal(format!("write upload file: {e}")))?;
    }
    f.flush()
        .await
        .map_err(|e| ApiError::internal(format!("write upload file: {e}")))?;
    Ok(guard)
}

fn ndjson(messages: &[JsonMessage]) -> Response {
    let mut body = Vec::new();
    for m in messages {
        body.extend(serde_json::to_vec(m).unwrap_or_default());
        body.push(b'\n');
    }
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// `POST /images/create`: import from the request body (`fromSrc=-`).
pub async fn create(
    state: State,
    params: Params,
    actor: Actor,
    headers: axum::http::HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    if let Some(image) = params.value("fromImage") {
        let auth = headers
            .get("X-Registry-Auth")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        return pull(
            &state,
            image,
            params.value("tag"),
            params.value("platform"),
            auth,
            actor,
        )
        .await;
    }
    match params.value("fromSrc") {
        Some("-") => {}
        Some(src) => {
            return Err(ApiError::bad_request(format!(
                "fromSrc {src:?}: only \"-\" (the request body) is supported"
            )))
        }
        None => {
            return Err(ApiError::bad_request(
                "fromSrc is required: use fromSrc=- and send the archive as the body",
            ))
        }
    }
    let tag = match params.value("repo") {
        None => None,
        Some(repo) => {
            let r = Reference::parse(repo).map_err(|e| ApiError::bad_request(e.to_string()))?;
            Some(match params.value("tag") {
                Some(t) => r
                    .with_tag(t)
                    .map_err(|e| ApiError::bad_request(e.to_string()))?,
                None => r.with_default_tag(),
            })
        }
    };
    let opts = ImportOptions {
        tag,
        message: params.value("message").map(str::to_string),
        changes: params.all("changes"),
        source: "-".into(),
    };
    let upload = spool(&state, body).await?;
    let images = state.images.clone();
    let reg = blocking(move || images.import(upload.path(), &opts).map(|r| (r, opts))).await?;
    let (reg, opts) = reg;
    record_made(
        &state,
        NewEvent::image(
            "import",
            reg.id.to_string(),
            opts.tag.map(|t| t.familiar()),
            &actor.0,
        ),
        &actor,
    )
    .await;
    Ok(ndjson(&[JsonMessage::status(reg.id.to_string())]))
}

/// Pulls `reference` with the daemon's logins, progress to `tx` (the
/// builder's FROM of an image that is not here).
pub(super) async fn pull_for_build(
    state: &AppState,
    reference: Reference,
    tx: tokio::sync::mpsc::Sender<JsonMessage>,
) -> Result<(), String> {
    use crate::registry::{pull, RegistryClient};
    let creds = credentials_for(state, reference.domain(), "").map_err(|e| e.message)?;
    let client = Arc::new(
        RegistryClient::new(state.transport.clone(), &reference, creds)
            .map_err(|e| e.to_string())?,
    );
    let resolved = pull::resolve(&client, &reference, None)
        .await
        .map_err(|e| format!("pull {}: {e}", reference.familiar()))?;
    pull::pull(state.images.clone(), client, resolved, tx)
        .await
        .map(|_| ())
        .map_err(|e| format!("pull {}: {e}", reference.familiar()))
}

/// `POST /images/create?fromImage=&tag=`: resolves the manifest first (so a
/// missing image or bad credentials is an HTTP error), then streams Docker's
/// pull progress as NDJSON.
async fn pull(
    state: &AppState,
    image: &str,
    tag: Option<&str>,
    platform: Option<&str>,
    auth: &str,
    actor: Actor,
) -> ApiResult<Response> {
    use crate::registry::{pull, RegistryClient};
    let mut reference =
        Reference::parse(image).map_err(|e| ApiError::bad_request(e.to_string()))?;
    if let Some(t) = tag {
        reference = match t.parse::<crate::image::Digest>() {
            Ok(_) => Reference::parse(&format!("{}@{t}", reference.repository()))
                .map_err(|e| ApiError::bad_request(e.to_string()))?,
            Err(_) => reference
                .with_tag(t)
                .map_err(|e| ApiError::bad_request(e.to_string()))?,
        };
    }
    let reference = reference.with_default_tag();
    let creds = credentials_for(state, reference.domain(), auth)?;
    let client = Arc::new(RegistryClient::new(
        state.transport.clone(),
        &reference,
        creds,
    )?);
    let platform = match platform {
        None => None,
        Some(p) => Some(crate::image::oci::Platform::parse(p).ok_or_else(|| {
            ApiError::bad_request(format!(
                "invalid platform {p:?}: use os/arch[/variant], e.g. linux/arm64"
            ))
        })?),
    };
    let resolved = pull::resolve(&client, &reference, platform.as_ref()).await?;
    let images = state.images.clone();
    let name = reference.familiar();
    Ok(stream_operation(
        state,
        "pull",
        name,
        actor,
        move |tx| async move { Ok(pull::pull(images, client, resolved, tx).await?.id) },
    ))
}

/// `POST /images/load`
pub async fn load(state: State, actor: Actor, body: Body) -> ApiResult<Response> {
    let upload = spool(&state, body).await?;
    let images = state.images.clone();
    let loaded: Vec<Registered> =
        blocking(move || images.load(upload.path(), "the archive")).await?;
    let mut lines = Vec::new();
    for reg in &loaded {
        for (tag, old) in &reg.displaced {
            lines.push(JsonMessage::stream(format!(
                "The image {} already exists, renaming the old one with ID {old} to empty string\n",
                tag.familiar()
            )));
        }
        if reg.tags.is_empty() {
            lines.push(JsonMessage::stream(format!(
                "Loaded image ID: {}\n",
                reg.id
            )));
            record_made(
                &state,
                NewEvent::image("load", reg.id.to_string(), None, &actor.0),
                &actor,
            )
            .await;
        }
        for t in &reg.tags {
            lines.push(JsonMessage::stream(format!(
                "Loaded image: {}\n",
                t.familiar()
            )));
            record_made(
                &state,
                NewEvent::image("load", reg.id.to_string(), Some(t.familiar()), &actor.0),
                &actor,
            )
            .await;
        }
    }
    Ok(ndjson(&lines))
}

/// `GET /images/get?names=…`
pub async fn save_many(state: State, params: Params, actor: Actor) -> ApiResult<Response> {
    let names = params.all("names");
    if names.is_empty() {
        return Err(ApiError::bad_request(
            "names is required: the images to save",
        ));
    }
    save(state.0.clone(), names, actor).await
}

async fn save(state: Arc<AppState>, names: Vec<String>, actor: Actor) -> ApiResult<Response> {
    let mut ids = BTreeMap::new();
    for n in &names {
        ids.insert(state.images.resolve(n)?.id().clone(), n.clone());
    }
    for (id, name) in &ids {
        record(
            &state,
            NewEvent::image("save", id.to_string(), Some(name.clone()), &actor.0),
        )
        .await;
    }
    let (reader, writer) = tokio::io::duplex(256 * 1024);
    let images = state.images.clone();
    tokio::task::spawn_blocking(move || {
        let out = tokio_util::io::SyncIoBridge::new(writer);
        if let Err(e) = images.save(&names, std::io::BufWriter::with_capacity(256 * 1024, out)) {
            tracing::warn!(error = %e, "save stopped");
        }
    });
    let body = Body::from_stream(tokio_util::io::ReaderStream::with_capacity(
        reader,
        256 * 1024,
    ));
    Ok(([(header::CONTENT_TYPE, "application/x-tar")], body).into_response())
}

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn glob_matches_like_go_path_match() {
        assert!(glob("busy*", "busybox:latest"));
        assert!(glob("busybox:l?test", "busybox:latest"));
        assert!(!glob("*", "a/b"));
        assert!(glob("*/b", "a/b"));
    }
}
