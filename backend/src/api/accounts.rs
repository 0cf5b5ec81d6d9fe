//! Berth's account endpoints: login and logout (session cookies), the
//! caller's session, password and API tokens, and, for admins, users and
//! teams. Passwords and tokens are never answered back, except a new
//! token, once, to the user who made it.

use super::auth::{check_password, SESSION_COOKIE};
use super::error::{ApiError, ApiResult};
use super::State;
use crate::auth::revocation::Ended;
use crate::auth::{secrets, CredentialId, Principal, Role};
use axum::extract::{ConnectInfo, Path};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::net::SocketAddr;

/// The user name a login was tried for, set on the response for the
/// activity history (the password is never recorded).
#[derive(Debug, Clone)]
pub struct LoginAttempt(pub String);

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LoginRequest {
    username: String,
    password: String,
}

fn body<T: serde::de::DeserializeOwned>(b: &[u8], what: &str) -> ApiResult<T> {
    serde_json::from_slice(b).map_err(|e| ApiError::bad_request(format!("invalid {what}: {e}")))
}

fn session_json(p: &Principal) -> Value {
    json!({
        "Username": p.user,
        "Role": p.role,
        "Teams": p.teams.iter().map(|t| &t.1).collect::<Vec<_>>(),
        "Team": p.team.as_ref().map(|t| &t.1),
        "CsrfToken": p.csrf,
    })
}

/// `POST /berth/login {"Username","Password"}`: a session cookie
/// (HttpOnly, SameSite=Strict) and the session's CSRF token.
pub async fn login(
    state: State,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    raw: axum::body::Bytes,
) -> Response {
    let req: LoginRequest = match body(&raw, "login") {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    let attempt = LoginAttempt(req.username.clone());
    let mut res = match start_session(&state, &req, peer).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    };
    res.extensions_mut().insert(attempt);
    res
}

async fn start_session(
    state: &super::AppState,
    req: &LoginRequest,
    peer: SocketAddr,
) -> ApiResult<Response> {
    let user = check_password(state, &req.username, &req.password, peer).await?;
    let secret = secrets::random_hex(32);
    let csrf = secrets::random_hex(32);
    let ttl = state.auth.session_ttl;
    let expires = crate::timefmt::unix_nanos_now() + ttl.as_nanos() as i64;
    state
        .db
        .create_session(
            &secrets::sha256_hex(&secret),
            user.id,
            &csrf,
            &peer.ip().to_string(),
            expires,
        )
        .await?;
    let teams = state.db.teams_of(user.id).await?;
    let p = Principal {
        user: user.name,
        user_id: Some(user.id),
        role: Role::parse(&user.role).unwrap_or(Role::Viewer),
        team: teams.first().cloned(),
        teams,
        credential: CredentialId::Session(String::new()),
        csrf: Some(csrf),
        expires_nano: Some(expires),
    };
    let cookie = format!(
        "{SESSION_COOKIE}={secret}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}",
        ttl.as_secs()
    );
    let mut res = Json(session_json(&p)).into_response();
    res.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(|e| ApiError::internal(e.to_string()))?,
    );
    Ok(res)
}

/// `GET /berth/session`: who is logged in.
pub async fn session(p: Principal) -> Json<Value> {
    Json(session_json(&p))
}

/// `POST /berth/logout[?everywhere=1]`: ends this session (or all of the
/// user's sessions), closing the terminals opened with it.
pub async fn logout(
    state: State,
    p: Principal,
    params: super::params::Params,
) -> ApiResult<Response> {
    let everywhere = params.flag("everywhere")?;
    let (Some(uid), CredentialId::Session(hash)) = (p.user_id, &p.credential) else {
        return Err(ApiError::bad_request(
            "not a browser session: revoke an API token with DELETE /berth/tokens/ID",
        ));
    };
    if everywhere {
        for h in state.db.delete_sessions_of(uid).await? {
            state
                .auth
                .revocations
                .announce(Ended::Credential(CredentialId::Session(h)));
        }
    } else {
        state.db.delete_session(hash).await?;
        state
            .auth
            .revocations
            .announce(Ended::Credential(p.credential.clone()));
    }
    let mut res = StatusCode::NO_CONTENT.into_response();
    res.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("berth_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    Ok(res)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PasswordChange {
    current: String,
    new: String,
}

/// `PUT /berth/password {"Current","New"}`: ends the user's other sessions.
pub async fn change_password(
    state: State,
    p: Principal,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    raw: axum::body::Bytes,
) -> ApiResult<Response> {
    let req: PasswordChange = body(&raw, "password change")?;
    secrets::check_password(&req.new).map_err(ApiError::bad_request)?;
    let user = check_password(&state, &p.user, &req.current, peer).await?;
    let hash = hash(req.new).await?;
    state.db.update_user(user.id, None, Some(&hash)).await?;
    let keep = match &p.credential {
        CredentialId::Session(h) => h.as_str(),
        _ => "",
    };
    for h in state.db.delete_other_sessions(user.id, keep).await? {
        state
            .auth
            .revocations
            .announce(Ended::Credential(CredentialId::Session(h)));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn hash(password: String) -> ApiResult<String> {
    tokio::task::spawn_blocking(move || secrets::hash_password(&password))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?
        .map_err(ApiError::internal)
}

fn account_user(p: &Principal) -> ApiResult<i64> {
    p.user_id.ok_or_else(|| {
        ApiError::bad_request("root on the unix socket has no tokens: use an account over TCP")
    })
}

/// `GET /berth/tokens`: the caller's tokens (never their secrets).
pub async fn tokens(state: State, p: Principal) -> ApiResult<Json<Value>> {
    let uid = account_user(&p)?;
    Ok(Json(json!(state.db.tokens_of(uid).await?)))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct NewToken {
    name: String,
    /// Days until it expires; absent or 0: never.
    #[serde(default)]
    expires_in_days: u32,
}

/// `POST /berth/tokens {"Name","ExpiresInDays"}`: a new token, shown once.
pub async fn create_token(
    state: State,
    p: Principal,
    raw: axum::body::Bytes,
) -> ApiResult<Response> {
    let uid = account_user(&p)?;
    let req: NewToken = body(&raw, "token request")?;
    let name = req.name.trim();
    if name.is_empty() || name.len() > 64 {
        return Err(ApiError::bad_request("token Name: 1 to 64 characters"));
    }
    let expires = (req.expires_in_days > 0).then(|| {
        crate::timefmt::unix_nanos_now() + i64::from(req.expires_in_days) * 86_400_000_000_000
    });
    let token = secrets::new_token();
    let id = state
        .db
        .create_token(uid, name, &secrets::sha256_hex(&token), expires)
        .await?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::CONFLICT,
                format!("you already have a token named {name:?}"),
            )
        })?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"Id": id, "Name": name, "Token": token, "ExpiresNano": expires})),
    )
        .into_response())
}

/// `DELETE /berth/tokens/{id}`: revokes a token; its terminals close.
pub async fn revoke_token(
    state: State,
    p: Principal,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let uid = account_user(&p)?;
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::bad_request(format!("invalid token id {id:?}")))?;
    if !state.db.delete_token(uid, id).await? {
        return Err(ApiError::not_found(format!("No such token: {id}")));
    }
    state
        .auth
        .revocations
        .announce(Ended::Credential(CredentialId::Token(id)));
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct NewUser {
    name: String,
    password: String,
    role: String,
    #[serde(default)]
    teams: Vec<String>,
}

fn valid_name(kind: &str, n: &str) -> ApiResult<()> {
    let ok = !n.is_empty()
        && n.len() <= 64
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !ok {
        return Err(ApiError::bad_request(format!(
            "invalid {kind} name {n:?}: 1 to 64 of a-z, A-Z, 0-9, '.', '_', '-'"
        )));
    }
    Ok(())
}

fn role_of(s: &str) -> ApiResult<Role> {
    Role::parse(s).ok_or_else(|| {
        ApiError::bad_request(format!("invalid role {s:?}: admin, operator or viewer"))
    })
}

async fn team_id(state: &super::AppState, name: &str) -> ApiResult<i64> {
    state
        .db
        .team_by_name(name)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("No such team: {name}")))
}

async fn user_id(state: &super::AppState, name: &str) -> ApiResult<crate::db::accounts::User> {
    state
        .db
        .user_by_name(name)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("No such user: {name}")))
}

/// `GET /berth/users`: every account with its teams.
pub async fn users(state: State) -> ApiResult<Json<Value>> {
    let mut out = Vec::new();
    for u in state.db.users().await? {
        let teams: Vec<String> = state
            .db
            .teams_of(u.id)
            .await?
            .into_iter()
            .map(|t| t.1)
            .collect();
        let mut v = json!(u);
        v["Teams"] = json!(teams);
        out.push(v);
    }
    Ok(Json(json!(out)))
}

/// `POST /berth/users {"Name","Password","Role","Teams"}`.
pub async fn create_user(state: State, raw: axum::body::Bytes) -> ApiResult<Response> {
    let req: NewUser = body(&raw, "user")?;
    valid_name("user", &req.name)?;
    role_of(&req.role)?;
    secrets::check_password(&req.password).map_err(ApiError::bad_request)?;
    let mut teams = Vec::new();
    for t in &req.teams {
        teams.push(team_id(&state, t).await?);
    }
    let hash = hash(req.password).await?;
    let id = state
        .db
        .create_user(&req.name, &hash, &req.role)
        .await?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::CONFLICT,
                format!("user {:?} already exists", req.name),
            )
        })?;
    for t in teams {
        state.db.add_member(t, id).await?;
    }
    Ok((
        StatusCode::CREATED,
        Json(json!({"Id": id, "Name": req.name})),
    )
        .into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UserChange {
    role: Option<String>,
    password: Option<String>,
}

/// `PATCH /berth/users/{name} {"Role","Password"}`: a changed role or
/// password ends the user's sessions and closes their terminals.
pub async fn update_user(
    state: State,
    Path(name): Path<String>,
    raw: axum::body::Bytes,
) -> ApiResult<Response> {
    let req: UserChange = body(&raw, "user change")?;
    let u = user_id(&state, &name).await?;
    if let Some(r) = &req.role {
        let r = role_of(r)?;
        if u.role == "admin" && r != Role::Admin && state.db.admin_count().await? <= 1 {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "the last admin must stay an admin",
            ));
        }
    }
    let hash = match req.password {
        Some(pw) => {
            secrets::check_password(&pw).map_err(ApiError::bad_request)?;
            Some(hash(pw).await?)
        }
        None => None,
    };
    state
        .db
        .update_user(u.id, req.role.as_deref(), hash.as_deref())
        .await?;
    end_user(&state, u.id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn end_user(state: &super::AppState, uid: i64) -> ApiResult<()> {
    state.db.delete_sessions_of(uid).await?;
    state.auth.revocations.announce(Ended::User(uid));
    Ok(())
}

/// `DELETE /berth/users/{name}`: not the last admin.
pub async fn delete_user(state: State, Path(name): Path<String>) -> ApiResult<Response> {
    let u = user_id(&state, &name).await?;
    if u.role == "admin" && state.db.admin_count().await? <= 1 {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "the last admin cannot be removed",
        ));
    }
    end_user(&state, u.id).await?;
    state.db.delete_user(u.id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /berth/teams`.
pub async fn teams(state: State) -> ApiResult<Json<Value>> {
    Ok(Json(json!(state.db.teams().await?)))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct NewTeam {
    name: String,
}

/// `POST /berth/teams {"Name"}`.
pub async fn create_team(state: State, raw: axum::body::Bytes) -> ApiResult<Response> {
    let req: NewTeam = body(&raw, "team")?;
    valid_name("team", &req.name)?;
    let id = state.db.create_team(&req.name).await?.ok_or_else(|| {
        ApiError::new(
            StatusCode::CONFLICT,
            format!("team {:?} already exists", req.name),
        )
    })?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"Id": id, "Name": req.name})),
    )
        .into_response())
}

/// `DELETE /berth/teams/{name}`: its objects become the host's (admins only).
pub async fn delete_team(state: State, Path(name): Path<String>) -> ApiResult<Response> {
    let id = team_id(&state, &name).await?;
    state.db.delete_team(id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `PUT /berth/teams/{team}/members/{user}`.
pub async fn add_member(
    state: State,
    Path((team, user)): Path<(String, String)>,
) -> ApiResult<Response> {
    let t = team_id(&state, &team).await?;
    let u = user_id(&state, &user).await?;
    state.db.add_member(t, u.id).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `DELETE /berth/teams/{team}/members/{user}`: their terminals close.
pub async fn remove_member(
    state: State,
    Path((team, user)): Path<(String, String)>,
) -> ApiResult<Response> {
    let t = team_id(&state, &team).await?;
    let u = user_id(&state, &user).await?;
    if !state.db.remove_member(t, u.id).await? {
        return Err(ApiError::not_found(format!("{user} is not in team {team}")));
    }
    state.auth.revocations.announce(Ended::User(u.id));
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Makes the first admin when there is no account: the password from
/// `password_file`, or a generated one, returned to be shown once.
pub async fn first_admin(
    db: &crate::db::Db,
    password_file: Option<&std::path::Path>,
) -> anyhow::Result<Option<String>> {
    if db.user_count().await? > 0 {
        return Ok(None);
    }
    let (password, generated) = match password_file {
        Some(f) => {
            let pw = std::fs::read_to_string(f)
                .map_err(|e| anyhow::anyhow!("--admin-password-file {}: {e}", f.display()))?;
            let pw = pw.trim_end_matches(['\n', '\r']).to_string();
            secrets::check_password(&pw)
                .map_err(|e| anyhow::anyhow!("--admin-password-file {}: {e}", f.display()))?;
            (pw, false)
        }
        None => (secrets::new_password(), true),
    };
    let pw = password.clone();
    let hash = tokio::task::spawn_blocking(move || secrets::hash_password(&pw))
        .await?
        .map_err(|e| anyhow::anyhow!(e))?;
    db.create_user("admin", &hash, "admin").await?;
    tracing::info!("created the admin account \"admin\"");
    Ok(generated.then_some(password))
}
