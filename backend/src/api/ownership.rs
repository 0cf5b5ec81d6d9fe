//! Which team owns what, as handlers need it: claiming a new container,
//! image or volume for the caller's team, filtering lists to what a caller
//! may see, and the checks on a new container's options.

use super::error::{ApiError, ApiResult};
use super::AppState;
use crate::auth::policy;
use crate::auth::Principal;
use crate::container::CreateRequest;
use std::collections::HashMap;

/// Records that the caller's team owns a new object (nothing for root or a
/// team-less admin: the object is the host's).
pub async fn claim(state: &AppState, team: Option<i64>, kind: &str, id: &str) {
    if let Some(t) = team {
        if let Err(e) = state.db.claim(kind, id, t).await {
            tracing::error!(error = %e, kind, id, "could not record the owning team");
        }
    }
}

/// What one caller may see of one kind of object.
pub struct Visible {
    owned: HashMap<String, Vec<i64>>,
    principal: Principal,
    host_visible: bool,
}

impl Visible {
    pub fn sees(&self, id: &str) -> bool {
        self.principal.sees(self.owners(id), self.host_visible)
    }

    /// Whether the caller's teams own `id` (host objects are not theirs).
    pub fn owns(&self, id: &str) -> bool {
        self.principal.owns(self.owners(id))
    }

    fn owners(&self, id: &str) -> &[i64] {
        self.owned.get(id).map(Vec::as_slice).unwrap_or_default()
    }
}

/// `None`: the caller sees everything (an admin).
pub async fn visible(state: &AppState, p: &Principal, kind: &str) -> ApiResult<Option<Visible>> {
    if p.is_admin() {
        return Ok(None);
    }
    Ok(Some(Visible {
        owned: state.db.ownership(kind).await?,
        principal: p.clone(),
        host_visible: kind == "image",
    }))
}

/// Whether `v` (from [`visible`]) lets the caller see `id`.
pub fn sees(v: &Option<Visible>, id: &str) -> bool {
    v.as_ref().is_none_or(|v| v.sees(id))
}

/// Checks a new container against the caller's rights: host-level options
/// are for admins; the image must be one the caller sees; named volumes that
/// exist must be the caller's team's. Returns the volumes it will create.
pub async fn check_create(
    state: &AppState,
    p: &Principal,
    req: &CreateRequest,
) -> ApiResult<Vec<String>> {
    let volumes: Vec<String> = req
        .host_config
        .binds
        .iter()
        .flatten()
        .filter(|b| !b.starts_with('/'))
        .filter_map(|b| b.split(':').next().map(str::to_string))
        .collect();
    let new_volumes: Vec<String> = volumes
        .iter()
        .filter(|v| state.containers.volumes.get(v).is_err())
        .cloned()
        .collect();
    if p.is_admin() {
        return Ok(new_volumes);
    }
    let host = policy::host_options(req);
    if !host.is_empty() {
        return Err(ApiError::forbidden(format!(
            "forbidden: only admins may use {}",
            host.join(", ")
        )));
    }
    if let Ok(img) = state.images.get(&req.config.image) {
        let owners = state.db.owners("image", &img.id.to_string()).await?;
        if !p.sees(&owners, true) {
            return Err(ApiError::not_found(format!(
                "No such image: {}",
                req.config.image
            )));
        }
    }
    for v in volumes.iter().filter(|v| !new_volumes.contains(v)) {
        let owners = state.db.owners("volume", v).await?;
        if !p.owns(&owners) {
            return Err(ApiError::forbidden(format!(
                "forbidden: volume {v} belongs to another team"
            )));
        }
    }
    Ok(new_volumes)
}
