//! `GET /containers/{id}/changes` (`docker diff`) and `POST /commit`
//! (`docker commit`).

use super::error::{ApiError, ApiResult};
use super::params::Params;
use super::{Actor, State};
use crate::container::commit::CommitRequest;
use crate::db::events::NewEvent;
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
    let tag = p
        .value("repo")
        .map(|repo| super::images::tag_target(repo, p.value("tag")))
        .transpose()?;
    let text = |k: &str| p.value(k).map(str::to_string);
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
    let event = NewEvent::image("commit", made.id.to_string(), name, &actor.0);
    super::images::record_made(&state, event, &actor).await;
    Ok((
        StatusCode::CREATED,
        Json(json!({"Id": made.id.to_string()})),
    )
        .into_response())
}
