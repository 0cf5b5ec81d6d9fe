//! The activity history over HTTP: a middleware that records every
//! state-changing request (and every terminal opened over a WebSocket)
//! with who made it, from where and its status; and
//! `GET /berth/activity?actor=&action=&object=&since=&until=&limit=&format=csv`.

use super::accounts::LoginAttempt;
use super::error::{ApiError, ApiResult};
use super::params::Params;
use super::{AppState, State};
use crate::auth::Principal;
use crate::db::activity::{self, Activity, ActivityFilter};
use axum::extract::{ConnectInfo, Request};
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::SocketAddr;
use std::sync::Arc;

/// Whether a request changes something (or opens a terminal).
fn recorded(req: &Request) -> bool {
    req.method() != Method::GET && req.method() != Method::HEAD || req.uri().path().ends_with("/ws")
}

/// Records a state-changing request once it is answered.
pub async fn record(
    axum::extract::State(state): axum::extract::State<Arc<AppState>>,
    req: Request,
    next: Next,
) -> Response {
    if !recorded(&req) {
        return next.run(req).await;
    }
    let address = match req.extensions().get::<ConnectInfo<SocketAddr>>() {
        Some(ConnectInfo(addr)) => addr.to_string(),
        None => "unix".to_string(),
    };
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let res = next.run(req).await;
    let (actor, team) = if let Some(p) = res.extensions().get::<Principal>() {
        (p.user.clone(), p.team_name())
    } else if let Some(LoginAttempt(u)) = res.extensions().get::<LoginAttempt>() {
        (u.clone(), String::new())
    } else if address == "unix" {
        ("root".to_string(), String::new())
    } else {
        ("anonymous".to_string(), String::new())
    };
    let recording = res
        .extensions()
        .get::<Recording>()
        .map(|r| r.0.clone())
        .unwrap_or_default();
    let (action, object) = activity::describe(&method, &path);
    let row = Activity {
        id: 0,
        time_nano: crate::timefmt::unix_nanos_now(),
        actor,
        address,
        action,
        object,
        method,
        path,
        status: i64::from(res.status().as_u16()),
        team,
        recording,
    };
    // Written beside the answer, not before it: a start is not slowed by it.
    let db = state.db.clone();
    tokio::spawn(async move {
        if let Err(e) = db.record_activity(&row).await {
            tracing::error!(error = %e, "could not record activity");
        }
    });
    res
}

/// The id of the terminal recording a request made (set on its response).
#[derive(Debug, Clone)]
pub struct Recording(pub String);

/// `GET /berth/activity`: JSON newest first, or CSV with `format=csv`.
/// Admins see everything; others the rows of their teams.
pub async fn list(state: State, who: Principal, p: Params) -> ApiResult<Response> {
    let time = |k: &str| -> ApiResult<Option<i64>> {
        p.value(k)
            .map(|v| {
                crate::timefmt::parse_api_time(v)
                    .ok_or_else(|| ApiError::bad_request(format!("invalid {k}: {v:?}")))
            })
            .transpose()
    };
    let filter = ActivityFilter {
        actor: p.value("actor").map(str::to_string),
        action: p.value("action").map(str::to_string),
        object: p.value("object").map(str::to_string),
        team: p.value("team").map(str::to_string),
        within_teams: (!who.is_admin()).then(|| who.teams.iter().map(|t| t.1.clone()).collect()),
        since: time("since")?,
        until: time("until")?,
        limit: p
            .value("limit")
            .map(|l| {
                l.parse::<i64>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| ApiError::bad_request(format!("invalid limit: {l:?}")))
            })
            .transpose()?,
    };
    let rows = state
        .db
        .activity(&filter)
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    match p.value("format") {
        None | Some("json") => Ok(axum::Json(rows).into_response()),
        Some("csv") => Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"berth-activity.csv\"",
                ),
            ],
            activity::to_csv(&rows),
        )
            .into_response()),
        Some(other) => Err(ApiError::bad_request(format!(
            "invalid format {other:?}: json or csv"
        ))),
    }
}

/// `GET /berth/recordings/{id}`: a terminal session in asciicast v2 (admins).
pub async fn recording(
    state: State,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> ApiResult<Response> {
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::bad_request(format!(
            "invalid recording id {id:?}"
        )));
    }
    let path = state.recordings.join(format!("{id}.cast"));
    let data = tokio::fs::read(&path)
        .await
        .map_err(|_| ApiError::not_found(format!("No such recording: {id}")))?;
    Ok(([(header::CONTENT_TYPE, "application/x-asciicast")], data).into_response())
}
