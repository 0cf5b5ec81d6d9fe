//! Authentication and authorisation of every request on a TCP listener.
//! The unix socket is root's, trusted like docker.sock. On TCP, a request
//! carries a session cookie (the dashboard), `Authorization: Bearer TOKEN`
//! (scripts, `berth` with `BERTH_TOKEN`, the docker CLI's `HttpHeaders`), or
//! Basic credentials (registry clients on `/v2/`). The permission table
//! (`auth::policy`) gives the role a route needs and the objects it names;
//! a caller who does not own an object gets Docker's "No such …" answer.

use super::error::ApiError;
use super::AppState;
use crate::auth::policy::{self, Need, Object};
use crate::auth::{secrets, CredentialId, Principal, Role};
use axum::extract::{ConnectInfo, Request};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;
use std::sync::Arc;

pub const SESSION_COOKIE: &str = "berth_session";
pub const CSRF_HEADER: &str = "x-csrf-token";
pub const TEAM_HEADER: &str = "x-berth-team";

/// Authenticates, authorises, and hands the handler a [`Principal`] (also
/// set on the response, for the activity history).
pub async fn authorize(
    axum::extract::State(state): axum::extract::State<Arc<AppState>>,
    mut req: Request,
    next: Next,
) -> Response {
    let Some(ConnectInfo(peer)) = req.extensions().get::<ConnectInfo<SocketAddr>>().copied() else {
        req.extensions_mut().insert(Principal::root());
        return next.run(req).await;
    };
    let path = req.uri().path().to_string();
    let registry = path == "/v2" || path.starts_with("/v2/");
    let rule = policy::classify(req.method().as_str(), &path, req.uri().query());
    let principal = match authenticate(&state, req.headers(), peer).await {
        Ok(p) => p,
        Err(e) => return refuse(e, registry),
    };
    let Some(p) = principal else {
        if rule.need == Need::Public {
            return next.run(req).await;
        }
        return refuse(
            ApiError::unauthorized(
                "authentication required: log in, or send an API token (Authorization: Bearer TOKEN)",
            ),
            registry,
        );
    };
    let with_caller = |e: ApiError| {
        let mut res = e.into_response();
        res.extensions_mut().insert(p.clone());
        res
    };
    if let Need::Role(need) = rule.need {
        if p.role < need {
            return with_caller(ApiError::forbidden(format!(
                "forbidden: {} may not {} {}: it needs the {} role",
                p.user,
                req.method(),
                path,
                need.as_str()
            )));
        }
    }
    // What an operator makes belongs to a team: without one it would be
    // the host's, out of their own reach.
    if rule.need == Need::Role(Role::Operator) && !p.is_admin() && p.team.is_none() {
        return with_caller(ApiError::forbidden(format!(
            "forbidden: {} belongs to no team: an admin must add them to one",
            p.user
        )));
    }
    if let Err(e) = check_browser_request(&p, req.headers(), req.method()) {
        return with_caller(e);
    }
    let mut resolved = Vec::new();
    for o in &rule.objects {
        match check_object(&state, &p, o).await {
            Ok(r) => resolved.extend(r),
            Err(e) => return with_caller(e),
        }
    }
    let delete = req.method() == Method::DELETE;
    req.extensions_mut().insert(p.clone());
    let mut res = next.run(req).await;
    // A volume's name can be used again by another team: its owners go with it.
    // (Container ids are never reused; their rows go at the daemon's start.)
    if delete && res.status().is_success() {
        for (kind, id) in resolved {
            if kind == "volume" {
                let _ = state.db.release(kind, &id, None).await;
            }
        }
    }
    res.extensions_mut().insert(p);
    res
}

fn refuse(e: ApiError, registry: bool) -> Response {
    let status = e.status;
    let mut res = e.into_response();
    if status == StatusCode::UNAUTHORIZED && registry {
        res.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"Berth\""),
        );
    }
    res
}

/// Cookie-authenticated requests come from a browser: a state change needs
/// the session's CSRF token in `X-CSRF-Token`, and a WebSocket must come
/// from the dashboard's own origin.
fn check_browser_request(p: &Principal, h: &HeaderMap, method: &Method) -> Result<(), ApiError> {
    let CredentialId::Session(_) = p.credential else {
        return Ok(());
    };
    if method != Method::GET && method != Method::HEAD && method != Method::OPTIONS {
        let sent = h
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let want = p.csrf.as_deref().unwrap_or("");
        if sent.is_empty() || !secrets::same_secret(sent, want) {
            return Err(ApiError::forbidden(
                "CSRF token missing or wrong: send the session's X-CSRF-Token header",
            ));
        }
    }
    if h.contains_key(header::UPGRADE) {
        let origin = h.get(header::ORIGIN).and_then(|v| v.to_str().ok());
        let host = h
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if let Some(o) = origin {
            let o = o.split_once("://").map_or(o, |(_, rest)| rest);
            if o != host {
                return Err(ApiError::forbidden(format!(
                    "WebSocket from another origin ({o}) refused"
                )));
            }
        }
    }
    Ok(())
}

/// The caller of a TCP request, if it brought credentials; an error if they
/// are wrong.
async fn authenticate(
    state: &AppState,
    h: &HeaderMap,
    peer: SocketAddr,
) -> Result<Option<Principal>, ApiError> {
    let auth = h.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let (user_id, credential, csrf, expires_nano) = if let Some(token) = auth.and_then(bearer) {
        let (id, c) = state
            .db
            .use_token(&secrets::sha256_hex(token))
            .await?
            .ok_or_else(|| ApiError::unauthorized("invalid, expired or revoked API token"))?;
        (c.user_id, CredentialId::Token(id), None, c.expires_nano)
    } else if let Some((user, secret)) = auth.and_then(basic) {
        let (u, c) = basic_login(state, &user, &secret, peer).await?;
        (u, c, None, None)
    } else if let Some(cookie) = session_cookie(h) {
        let hash = secrets::sha256_hex(&cookie);
        match state.db.session(&hash).await? {
            Some(c) => (
                c.user_id,
                CredentialId::Session(hash),
                c.csrf,
                c.expires_nano,
            ),
            // An ended session is as good as none: the login page still loads.
            None => return Ok(None),
        }
    } else {
        return Ok(None);
    };
    let user = state
        .db
        .user_by_id(user_id)
        .await?
        .ok_or_else(|| ApiError::unauthorized("the account was removed"))?;
    let role = Role::parse(&user.role).unwrap_or(Role::Viewer);
    let teams = state.db.teams_of(user.id).await?;
    let team = match h.get(TEAM_HEADER).and_then(|v| v.to_str().ok()) {
        Some(name) => Some(pick_team(state, &teams, role, name).await?),
        None => teams.first().cloned(),
    };
    Ok(Some(Principal {
        user: user.name,
        user_id: Some(user.id),
        role,
        teams,
        team,
        credential,
        csrf,
        expires_nano,
    }))
}

async fn pick_team(
    state: &AppState,
    teams: &[(i64, String)],
    role: Role,
    name: &str,
) -> Result<(i64, String), ApiError> {
    if let Some(t) = teams.iter().find(|t| t.1 == name) {
        return Ok(t.clone());
    }
    if role == Role::Admin {
        if let Some(id) = state.db.team_by_name(name).await? {
            return Ok((id, name.to_string()));
        }
    }
    Err(ApiError::forbidden(format!(
        "X-Berth-Team {name:?}: not a team of yours"
    )))
}

/// Basic credentials (registry clients): the password may be an API token.
async fn basic_login(
    state: &AppState,
    user: &str,
    secret: &str,
    peer: SocketAddr,
) -> Result<(i64, CredentialId), ApiError> {
    let wrong = || ApiError::unauthorized("invalid username or password");
    if secret.starts_with("berth_") {
        let (id, c) = state
            .db
            .use_token(&secrets::sha256_hex(secret))
            .await?
            .ok_or_else(wrong)?;
        let owner = state.db.user_by_id(c.user_id).await?.ok_or_else(wrong)?;
        if owner.name != user {
            return Err(wrong());
        }
        return Ok((c.user_id, CredentialId::Token(id)));
    }
    let u = check_password(state, user, secret, peer).await?;
    Ok((u.id, CredentialId::Password(u.id)))
}

/// Checks a password against the limiter and the stored hash.
pub async fn check_password(
    state: &AppState,
    user: &str,
    password: &str,
    peer: SocketAddr,
) -> Result<crate::db::accounts::User, ApiError> {
    use crate::auth::limiter::Refusal;
    match state.auth.limiter.check(user, peer.ip()) {
        Ok(()) => {}
        Err(Refusal::Locked(d)) => {
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "account {user:?} is locked after repeated failed logins: try again in {} s",
                    d.as_secs().max(1)
                ),
            ))
        }
        Err(Refusal::TooFast) => {
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too many login attempts from this address: wait a minute",
            ))
        }
    }
    let found = state.db.user_by_name(user).await?;
    // Unknown users cost the same as known ones.
    let hash = found
        .as_ref()
        .map(|u| u.password_hash.clone())
        .unwrap_or_else(|| DUMMY_HASH.to_string());
    let pw = password.to_string();
    let ok = tokio::task::spawn_blocking(move || secrets::verify_password(&pw, &hash))
        .await
        .unwrap_or(false);
    match found {
        Some(u) if ok => {
            state.auth.limiter.succeeded(user);
            Ok(u)
        }
        _ => {
            state.auth.limiter.failed(user);
            Err(ApiError::unauthorized("invalid username or password"))
        }
    }
}

/// An argon2 hash of nothing anyone knows, checked for unknown users.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$wJ4I1wRjrcFQ3xsF0Ii4yHgTqWJdkcHTg5kT5oD0j4E";

fn bearer(a: &str) -> Option<&str> {
    a.strip_prefix("Bearer ")
        .or_else(|| a.strip_prefix("bearer "))
        .map(str::trim)
}

fn basic(a: &str) -> Option<(String, String)> {
    let b = a
        .strip_prefix("Basic ")
        .or_else(|| a.strip_prefix("basic "))?;
    let raw = crate::registry::auth::base64_decode(b.trim())?;
    let s = String::from_utf8(raw).ok()?;
    let (u, p) = s.split_once(':')?;
    Some((u.to_string(), p.to_string()))
}

fn session_cookie(h: &HeaderMap) -> Option<String> {
    h.get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v.to_string())
        .filter(|v| !v.is_empty())
}

/// Checks that `p` may reach an object; the kind and full id it resolved to.
/// Objects that do not exist pass: the handler answers 404 as Docker does.
async fn check_object(
    state: &AppState,
    p: &Principal,
    o: &Object,
) -> Result<Option<(&'static str, String)>, ApiError> {
    let (kind, id, change, missing) = match o {
        Object::Container(name) | Object::Exec(name) => {
            let cid = match o {
                Object::Exec(e) => state.containers.execs.get(e).ok().map(|r| r.container_id),
                _ => state.containers.store.get(name).ok().map(|c| c.id),
            };
            let Some(cid) = cid else { return Ok(None) };
            let what = if matches!(o, Object::Exec(_)) {
                "exec instance"
            } else {
                "container"
            };
            ("container", cid, true, format!("No such {what}: {name}"))
        }
        Object::Volume(name) => {
            if state.containers.volumes.get(name).is_err() {
                return Ok(None);
            }
            (
                "volume",
                name.clone(),
                true,
                format!("get {name}: no such volume"),
            )
        }
        Object::Network { name, change } => {
            let Ok(n) = state.containers.networks.get(name) else {
                return Ok(None);
            };
            // Built-in networks are everyone's to use; removing them is refused anyway.
            if n.kind != crate::network::store::Kind::User {
                return Ok(None);
            }
            (
                "network",
                n.id,
                *change,
                format!("network {name} not found"),
            )
        }
        Object::TagTarget(name) => {
            let Ok(rec) = state.images.get(name) else {
                return Ok(None);
            };
            if p.is_admin() {
                return Ok(None);
            }
            let owners = state.db.owners("image", &rec.id.to_string()).await?;
            if !p.owns(&owners) {
                return Err(ApiError::forbidden(format!(
                    "forbidden: the name {name} is taken by an image that is not your team's: choose another"
                )));
            }
            return Ok(None);
        }
        Object::Image { name, change } => {
            let Ok(rec) = state.images.get(name) else {
                return Ok(None);
            };
            (
                "image",
                rec.id.to_string(),
                *change,
                format!("No such image: {name}"),
            )
        }
    };
    if p.is_admin() {
        return Ok(Some((kind, id)));
    }
    let owners = state.db.owners(kind, &id).await?;
    if !p.sees(&owners, kind == "image") {
        return Err(ApiError::not_found(missing));
    }
    if change && !p.owns(&owners) {
        return Err(ApiError::forbidden(format!(
            "forbidden: {} belongs to the host, not to a team of {}: only admins may change it",
            o.name(),
            p.user
        )));
    }
    if kind == "image" && change && owners.len() > 1 {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("image {} is also used by another team: it stays", o.name()),
        ));
    }
    Ok(Some((kind, id)))
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Principal {
    type Rejection = ApiError;
    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        if let Some(p) = parts.extensions.get::<Principal>() {
            return Ok(p.clone());
        }
        if parts.extensions.get::<ConnectInfo<SocketAddr>>().is_some() {
            return Err(ApiError::unauthorized("authentication required"));
        }
        Ok(Principal::root())
    }
}

/// Resolves when `p`'s credential ends: logout, revocation, a changed
/// account, or expiry. Never for root on the unix socket.
pub fn credential_ended(state: &AppState, p: &Principal) -> super::attach::Ended {
    let revoked = state
        .auth
        .revocations
        .ended(p.credential.clone(), p.user_id);
    let expires = p.expires_nano;
    Box::pin(async move {
        let expiry = async move {
            match expires {
                Some(e) => {
                    let left = e - crate::timefmt::unix_nanos_now();
                    tokio::time::sleep(std::time::Duration::from_nanos(left.max(0) as u64)).await
                }
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = revoked => {}
            _ = expiry => {}
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dummy_hash_is_a_valid_argon2_hash() {
        assert!(!secrets::verify_password("x", DUMMY_HASH));
        assert!(argon2::password_hash::PasswordHash::new(DUMMY_HASH).is_ok());
    }

    #[test]
    fn credentials_are_read_from_headers() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(
            basic("Basic YW5uOnB3"),
            Some(("ann".to_string(), "pw".to_string()))
        );
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; berth_session=xyz"),
        );
        assert_eq!(session_cookie(&h).as_deref(), Some("xyz"));
    }
}
