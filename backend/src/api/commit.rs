//! `GET /containers/{id}/changes` (`docker diff`) and `POST /commit`
//! (`docker commit`).

use super::error::{ApiError, ApiResult};
use super::params::Params;
use super::{Actor, State};
use crate::container::commit::CommitRequest;
use crate::db::events::NewEvent;
use crate::image::Reference;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

/// `GET /containers/{id}/changes`: `[{"Path": "/etc", "Kind": 0}, …]`.
pub async fn changes(state: State, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let list = state.containers.changes(&id).await?;
    Ok(Json(Value::Array(
        list.into_iter()
            .map(|(path, kind)| json!({"Path": path, "Kind": kind as u8}))
            .collect(),
    )))
}

/// `POST /commit?container=&repo=&tag=&author=&comment=&changes=&pause=`.
pub async fn commit(state: State, actor: Actor, p: Params) -> ApiResult<Response> {
    let container = p
        .value("container")
        .ok_or_else(|| ApiError::bad_request("container is required"))?;
    let tag = match p.value("repo").filter(|r| !r.is_empty()) {
        None => None,
        Some(repo) => {
            let r = Reference::parse(repo).map_err(|e| ApiError::bad_request(e.to_string()))?;
            let r = match p.value("tag").filter(|t| !t.is_empty()) {
                Some(t) => r
                    .with_tag(t)
                    .map_err(|e| ApiError::bad_request(e.to_string()))?,
                None => r.with_default_tag(),
            };
            if r.digest().is_some() {
                return Err(ApiError::bad_request(format!(
                    "refusing to create a tag with a digest reference: {repo}"
                )));
            }
            Some(r)
        }
    };
    let text = |k: &str| p.value(k).filter(|v| !v.is_empty()).map(str::to_string);
    let req = CommitRequest {
        tag: tag.clone(),
        author: text("author"),
        comment: text("comment"),
        // The docker CLI sends one `changes` per instruction; older clients
        // one value with an instruction per line.
        changes: p
            .all("changes")
            .iter()
            .flat_map(|c| c.lines().map(str::to_string).collect::<Vec<_>>())
            .filter(|c| !c.trim().is_empty())
            .collect(),
        pause: p.value("pause").map_or(Ok(true), |_| p.flag("pause"))?,
    };
    let made = state.containers.commit(container, req).await?;
    let name = tag.map(|t| t.to_string());
    if let Err(e) = state
        .db
        .record_event(NewEvent::image(
            "commit",
            made.id.to_string(),
            name,
            &actor.0,
        ))
        .await
    {
        tracing::error!(error = %e, "could not record event");
    }
    Ok((
        StatusCode::CREATED,
        Json(json!({"Id": made.id.to_string()})),
    )
        .into_response())
}
