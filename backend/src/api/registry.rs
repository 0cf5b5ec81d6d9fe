//! Registry logins: `POST /auth` (what `docker login` and `berth login` call)
//! checks the credentials against the registry and keeps them for the daemon;
//! `DELETE /berth/auth/{server}` (a Berth extension, `berth logout`) forgets them.

use super::error::{ApiError, ApiResult};
use super::{Actor, State};
use crate::db::events::NewEvent;
use crate::registry::{Credentials, RegistryClient, RegistryError};
use axum::extract::Path;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
pub struct AuthBody {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    serveraddress: String,
}

/// `http://host:5000/v2/` or `host:5000` → `host:5000`; empty means Docker Hub.
pub fn registry_host(server: &str) -> String {
    let s = server.trim();
    let s = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
        .unwrap_or(s);
    let host = s.split('/').next().unwrap_or("");
    match host {
        "" | "index.docker.io" | "registry-1.docker.io" => {
            crate::image::reference::DEFAULT_DOMAIN.to_string()
        }
        h => h.to_string(),
    }
}

pub async fn login(state: State, actor: Actor, body: axum::body::Bytes) -> ApiResult<Json<Value>> {
    let b: AuthBody = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("invalid auth config: {e}")))?;
    if b.username.is_empty() || b.password.is_empty() {
        return Err(ApiError::bad_request("username and password are required"));
    }
    let host = registry_host(&b.serveraddress);
    let creds = Credentials {
        username: b.username,
        password: b.password,
    };
    let client = RegistryClient::for_host(&host, Some(creds.clone()))?;
    match client.authenticate(&host).await {
        Ok(()) => {}
        Err(RegistryError::Unauthorized { .. }) => {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                format!("login attempt to http://{host}/v2/ failed with status: 401 Unauthorized"),
            ))
        }
        Err(e) => return Err(e.into()),
    }
    state
        .credentials
        .set(&host, creds)
        .map_err(|e| ApiError::internal(format!("store credentials: {e}")))?;
    record(&state, "login", &host, &actor).await;
    Ok(Json(
        json!({"Status": "Login Succeeded", "IdentityToken": ""}),
    ))
}

pub async fn logout(
    state: State,
    actor: Actor,
    Path(server): Path<String>,
) -> ApiResult<StatusCode> {
    let host = registry_host(&server);
    let had = state
        .credentials
        .remove(&host)
        .map_err(|e| ApiError::internal(format!("store credentials: {e}")))?;
    if !had {
        return Err(ApiError::not_found(format!("not logged in to {host}")));
    }
    record(&state, "logout", &host, &actor).await;
    Ok(StatusCode::NO_CONTENT)
}

async fn record(state: &super::AppState, action: &'static str, host: &str, actor: &Actor) {
    let mut e = NewEvent::image(action, host, Some(host.to_string()), &actor.0);
    e.kind = "registry";
    if let Err(err) = state.db.record_event(e).await {
        tracing::error!(error = %err, "could not record event");
    }
}

#[cfg(test)]
mod tests {
    use super::registry_host;

    #[test]
    fn server_addresses_normalise() {
        assert_eq!(registry_host("http://127.0.0.1:5000/v2/"), "127.0.0.1:5000");
        assert_eq!(registry_host("127.0.0.1:5000"), "127.0.0.1:5000");
        assert_eq!(registry_host("https://index.docker.io/v1/"), "docker.io");
        assert_eq!(registry_host(""), "docker.io");
    }
}
