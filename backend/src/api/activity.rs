//! The activity history over HTTP: a middleware that records every
//! state-changing request (and every terminal opened over a WebSocket)
//! with who made it, from where and its status; and
//! `GET /berth/activity?actor=&action=&object=&since=&until=&limit=&format=csv`.

use super::error::{ApiError, ApiResult};
use super::params::Params;
use super::{AppState, State};
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
    let (actor, address) = match req.extensions().get::<ConnectInfo<SocketAddr>>() {
        Some(ConnectInfo(addr)) => (format!("tcp:{}", addr.ip()), addr.to_string()),
        None => ("root".to_string(), "unix".to_string()),
    };
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let res = next.run(req).await;
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

/// `GET /berth/activity`: JSON newest first, or CSV with `format=csv`.
pub async fn list(state: State, p: Params) -> ApiResult<Response> {
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
