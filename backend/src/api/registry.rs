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
    let client = RegistryClient::for_host(state.transport.clone(), &host, Some(creds.clone()))?;
    match client.authenticate(&host).await {
        Ok(()) => {}
        Err(RegistryError::Unauthorized { .. }) => {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                format!(
                    "login attempt to {}://{host}/v2/ failed with status: 401 Unauthorized",
                    client.scheme().as_str()
                ),
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

/// `GET /berth/registries`: the registries the daemon is logged in to, with user
/// names and never passwords.
pub async fn list(state: State) -> Json<Value> {
    let list: Vec<Value> = state
        .credentials
        .logins()
        .into_iter()
        .map(|(server, user)| json!({"ServerAddress": server, "Username": user}))
        .collect();
    Json(Value::Array(list))
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

/// `GET /images/search?term=&limit=&filters=`: a term starting with a registry
/// (`127.0.0.1:5000/app`) searches that registry; otherwise every registry the
/// daemon is logged in to, and the local images.
pub async fn search(
    state: State,
    params: super::params::Params,
) -> ApiResult<Json<Vec<berth_types::SearchResult>>> {
    use berth_types::SearchResult;
    let term = params
        .value("term")
        .ok_or_else(|| ApiError::bad_request("term is required: what to search for"))?;
    let limit = match params.value("limit") {
        None => 25,
        Some(l) => match l.parse::<usize>() {
            Ok(n) if (1..=100).contains(&n) => n,
            _ => {
                return Err(ApiError::bad_request(format!(
                    "limit {l} is outside the range of [1, 100]"
                )))
            }
        },
    };
    let filters = params.filters()?;
    filters.allow_only(&["is-official", "is-automated", "stars"])?;
    let (hosts, needle, named) = match term.split_once('/') {
        Some((h, rest)) if h.contains(['.', ':']) || h == "localhost" => {
            (vec![h.to_string()], rest.to_string(), true)
        }
        _ => (state.credentials.registries(), term.to_string(), false),
    };
    let mut out: Vec<SearchResult> = Vec::new();
    for host in hosts {
        let found = async {
            let client = RegistryClient::for_host(
                state.transport.clone(),
                &host,
                state.credentials.get(&host),
            )?;
            crate::registry::search::search(&client, &needle, limit).await
        }
        .await;
        match found {
            Ok(r) => out.extend(r),
            Err(e) if named => return Err(e.into()),
            Err(e) => tracing::warn!(registry = %host, error = %e, "search skipped a registry"),
        }
    }
    if !named {
        let needle = needle.to_lowercase();
        let mut local: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        for rec in state.images.list() {
            for t in &rec.tags {
                let repo = t.familiar_repository();
                if repo.contains(&needle) {
                    local
                        .entry(repo)
                        .or_default()
                        .extend(t.tag().map(str::to_string));
                }
            }
        }
        for (name, mut tags) in local {
            tags.sort();
            if !out.iter().any(|r| r.name == name) {
                let description = format!("local image (tags: {})", tags.join(", "));
                out.push(SearchResult {
                    name,
                    description,
                    star_count: 0,
                    is_official: false,
                    is_automated: false,
                });
            }
        }
    }
    let want = |key: &str| filters.get(key).first().map(|v| v == "true" || v == "1");
    out.retain(|r| {
        want("is-official").is_none_or(|w| w == r.is_official)
            && want("is-automated").is_none_or(|w| w == r.is_automated)
            && filters
                .get("stars")
                .iter()
                .all(|s| s.parse::<u64>().is_ok_and(|n| r.star_count >= n))
    });
    out.truncate(limit);
    Ok(Json(out))
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
