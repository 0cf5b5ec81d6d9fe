//! Volume endpoints: create, list, inspect and remove local volumes; a volume
//! a container uses cannot be removed.

use super::error::{ApiError, ApiResult};
use super::params::Params;
use super::State;
use crate::container::volumes::Volume;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// A volume as Docker's API shows it.
pub(super) fn volume_json(state: &super::AppState, v: &Volume) -> Value {
    json!({
        "Name": v.name,
        "Driver": "local",
        "Mountpoint": state.containers.volumes.data_dir(&v.name),
        "CreatedAt": v.created_at,
        "Labels": v.labels,
        "Scope": "local",
        "Options": {},
    })
}

#[derive(serde::Deserialize, Default)]
#[serde(rename_all = "PascalCase", default)]
struct CreateBody {
    name: String,
    driver: String,
    labels: BTreeMap<String, String>,
}

pub async fn create(
    state: State,
    who: crate::auth::Principal,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    let b: CreateBody = if body.is_empty() {
        CreateBody::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|e| ApiError::bad_request(format!("invalid volume config: {e}")))?
    };
    if !b.driver.is_empty() && b.driver != "local" {
        return Err(ApiError::bad_request(format!(
            "volume driver {:?} is not available: only \"local\" is",
            b.driver
        )));
    }
    let name = if b.name.is_empty() {
        crate::container::volumes::VolumeStore::anonymous_name()
    } else {
        b.name
    };
    let existed = state.containers.volumes.get(&name).is_ok();
    if existed {
        let owners = state.db.owners("volume", &name).await?;
        if !who.owns(&owners) {
            return Err(ApiError::forbidden(format!(
                "forbidden: volume {name} belongs to another team"
            )));
        }
    }
    let v = state.containers.volumes.ensure(&name, b.labels, false)?;
    if !existed {
        super::ownership::claim(&state, who.team.as_ref().map(|t| t.0), "volume", &name).await;
    }
    Ok((StatusCode::CREATED, Json(volume_json(&state, &v))).into_response())
}

pub async fn list(state: State, who: crate::auth::Principal, p: Params) -> ApiResult<Json<Value>> {
    let visible = super::ownership::visible(&state, &who, "volume").await?;
    let filters = p.filters()?;
    filters.allow_only(&["name", "dangling", "label"])?;
    let used: Vec<String> = state
        .containers
        .store
        .list()
        .iter()
        .flat_map(|c| c.mounts.iter().map(|m| m.name.clone()))
        .collect();
    let vols: Vec<Value> = state
        .containers
        .volumes
        .list()
        .iter()
        .filter(|v| super::ownership::sees(&visible, &v.name))
        .filter(|v| {
            filters
                .get("name")
                .iter()
                .all(|n| v.name.contains(n.as_str()))
        })
        .filter(|v| {
            filters.get("dangling").iter().all(|d| {
                let dangling = !used.contains(&v.name);
                (d == "true" || d == "1") == dangling
            })
        })
        .filter(|v| {
            filters
                .get("label")
                .iter()
                .all(|l| match l.split_once('=') {
                    Some((k, val)) => v.labels.get(k).is_some_and(|x| x == val),
                    None => v.labels.contains_key(l.as_str()),
                })
        })
        .map(|v| volume_json(&state, v))
        .collect();
    Ok(Json(json!({"Volumes": vols, "Warnings": []})))
}

pub async fn inspect(state: State, Path(name): Path<String>) -> ApiResult<Json<Value>> {
    let v = state.containers.volumes.get(&name)?;
    Ok(Json(volume_json(&state, &v)))
}

pub async fn remove(state: State, Path(name): Path<String>, p: Params) -> ApiResult<Response> {
    let _force = p.flag("force")?;
    state.containers.volumes.get(&name)?;
    let users: Vec<String> = state
        .containers
        .store
        .list()
        .into_iter()
        .filter(|c| c.mounts.iter().any(|m| m.name == name))
        .map(|c| c.id)
        .collect();
    if !users.is_empty() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("remove {name}: volume is in use - [{}]", users.join(", ")),
        ));
    }
    state.containers.volumes.remove(&name)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
