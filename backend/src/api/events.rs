//! `GET /events`: recorded events between `since` and `until`, then live ones
//! until `until` passes or the client goes away, as NDJSON.

use super::error::{ApiError, ApiResult};
use super::params::{Filters, Params};
use super::State;
use crate::auth::Principal;
use crate::timefmt;
use axum::body::Body;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use berth_types::EventMessage;
use bytes::Bytes;
use std::convert::Infallible;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};

pub async fn events(state: State, who: Principal, params: Params) -> ApiResult<Response> {
    let time = |key: &str| -> ApiResult<Option<i64>> {
        params
            .value(key)
            .map(|v| {
                timefmt::parse_api_time(v).ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "invalid {key} {v:?}: want unix seconds or RFC 3339"
                    ))
                })
            })
            .transpose()
    };
    let (since, until) = (time("since")?, time("until")?);
    let filters = params.filters()?;
    filters.allow_only(&["type", "event", "image", "container", "network", "label"])?;

    let mut live = state.db.subscribe_events();
    let past = if since.is_some() || until.is_some() {
        state.db.events_between(since, until).await?
    } else {
        Vec::new()
    };
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    let db = state.db.clone();
    tokio::spawn(async move {
        let mut last_id = 0;
        for (id, e) in past {
            last_id = id;
            if matches(&filters, &e)
                && sees(&db, &who, &e).await
                && tx.send(line(&e)).await.is_err()
            {
                return;
            }
        }
        let now = timefmt::unix_nanos_now();
        if until.is_some_and(|u| u <= now) {
            return;
        }
        let deadline =
            until.map(|u| tokio::time::Instant::now() + Duration::from_nanos((u - now) as u64));
        loop {
            let next = async {
                match deadline {
                    Some(d) => tokio::time::timeout_at(d, live.recv()).await.ok(),
                    None => Some(live.recv().await),
                }
            };
            tokio::select! {
                got = next => match got {
                    None => return, // until passed
                    Some(Ok((id, e))) if id > last_id => {
                        if matches(&filters, &e)
                            && sees(&db, &who, &e).await
                            && tx.send(line(&e)).await.is_err()
                        {
                            return;
                        }
                    }
                    Some(Ok(_)) | Some(Err(broadcast::error::RecvError::Lagged(_))) => {}
                    Some(Err(broadcast::error::RecvError::Closed)) => return,
                },
                _ = tx.closed() => return,
            }
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, Infallible>(b), rx))
    });
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        Body::from_stream(stream),
    )
        .into_response())
}

/// Whether `who` may see an event: admins see all; others the events of
/// their teams' containers, images and volumes, and of the host's images.
async fn sees(db: &crate::db::Db, who: &Principal, e: &EventMessage) -> bool {
    if who.is_admin() {
        return true;
    }
    let kind = e.kind.as_str();
    if !matches!(kind, "container" | "image" | "volume")
        || matches!(e.action.as_str(), "login" | "logout")
    {
        return false;
    }
    match db.owners(kind, &e.object.id).await {
        Ok(owners) => who.sees(&owners, kind == "image"),
        Err(_) => false,
    }
}

fn line(e: &EventMessage) -> Bytes {
    let mut v = serde_json::to_vec(e).unwrap_or_default();
    v.push(b'\n');
    Bytes::from(v)
}

fn matches(f: &Filters, e: &EventMessage) -> bool {
    let any = |key: &str, pred: &dyn Fn(&str) -> bool| {
        f.get(key).is_empty() || f.get(key).iter().any(|v| pred(v))
    };
    any("type", &|v| v == e.kind)
        && any("event", &|v| v == e.action)
        && any("image", &|v| {
            e.kind == "image"
                && (e.object.id == v
                    || e.object
                        .attributes
                        .get("name")
                        .is_some_and(|n| n == v || n.split(':').next() == Some(v)))
        })
        && any("container", &|v| {
            e.kind == "container"
                && (e.object.id.starts_with(v)
                    || e.object.attributes.get("name").is_some_and(|n| n == v))
        })
        && any("network", &|v| {
            e.kind == "network"
                && (e.object.id.starts_with(v)
                    || e.object.attributes.get("name").is_some_and(|n| n == v))
        })
        && any("label", &|v| {
            let (k, val) = v.split_once('=').map_or((v, None), |(k, x)| (k, Some(x)));
            e.object
                .attributes
                .get(k)
                .is_some_and(|a| val.is_none_or(|x| x == a))
        })
}
