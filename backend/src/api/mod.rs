//! The HTTP face of the daemon: the Docker Engine API (versioned `/v1.40`…`/v1.47`
//! and unversioned paths), Docker's headers and error JSON, and the dashboard's
//! static files. Handlers are thin: they parse, call an engine module (in
//! `spawn_blocking` where it blocks), record events, and shape JSON.

pub mod accounts;
pub mod activity;
pub mod archive;
pub mod attach;
pub mod auth;
pub mod build;
pub mod commit;
pub mod containers;
pub mod distribution;
pub mod error;
pub mod events;
pub mod exec;
pub mod images;
pub mod lists;
pub mod networks;
pub mod openapi;
pub mod ownership;
pub mod params;
pub mod prune;
pub mod recording;
pub mod registry;
pub mod stats;
pub mod system;
pub mod terminals;
pub mod ui;
pub mod volumes;

use crate::db::Db;
use crate::image::ImageStore;
use axum::extract::{FromRequestParts, Request};
use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use berth_types::{API_VERSION, MIN_API_VERSION};
use error::ApiError;
use futures_util::FutureExt;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::sync::Arc;

/// What every handler can reach.
#[derive(Debug)]
pub struct AppState {
    pub images: Arc<ImageStore>,
    pub db: Db,
    pub data_root: PathBuf,
    pub ui: Option<ui::UiAssets>,
    /// Registry logins (`berth login`), used when a request brings no credentials.
    pub credentials: crate::registry::CredentialStore,
    /// How registries are reached: insecure registries, certificates.
    pub transport: Arc<crate::registry::Transport>,
    /// Blob uploads in progress into Berth's own registry (`/v2/`).
    pub uploads: Arc<crate::registry::uploads::UploadSessions>,
    /// Containers, volumes and their lifecycle.
    pub containers: Arc<crate::container::Supervisor>,
    /// A random id of this daemon's data root (`docker info` shows it).
    pub daemon_id: String,
    /// The build step cache (`build-cache.json`).
    pub build_cache: Arc<crate::build::cache::Cache>,
    /// Login throttling, ended credentials, session lifetime.
    pub auth: crate::auth::AuthState,
    /// Terminal recordings (asciicast v2), `<data-root>/recordings`.
    pub recordings: PathBuf,
    /// Dashboard shells kept while their browser is away.
    pub terminals: Arc<terminals::Terminals>,
}

pub type State = axum::extract::State<Arc<AppState>>;

/// Which listener a request came in on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Listener {
    /// The root-only unix socket: trusted like docker.sock.
    Unix,
    /// TCP: dashboard and remote clients.
    Tcp,
}

/// Who made a request, for the event log: the account name (`root` on the
/// unix socket) and the team that new objects go to.
#[derive(Debug, Clone)]
pub struct Actor(pub String, pub Option<i64>);

impl<S: Send + Sync> FromRequestParts<S> for Actor {
    type Rejection = ApiError;
    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        s: &S,
    ) -> Result<Self, Self::Rejection> {
        let p = crate::auth::Principal::from_request_parts(parts, s).await?;
        Ok(Actor(p.user, p.team.map(|t| t.0)))
    }
}

/// The API routes (paths without a version prefix).
fn api_routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/_ping", get(system::ping).head(system::ping))
        .route("/version", get(system::version))
        .route("/info", get(system::info))
        .route("/berth/host", get(system::host))
        .route("/berth/system/check", get(system::check))
        .route("/berth/containers", get(lists::containers))
        .route("/berth/images", get(lists::images))
        .route("/berth/openapi.json", get(openapi::serve))
        .route("/events", get(events::events))
        .route("/auth", post(registry::login))
        .route(
            "/berth/auth/{server}",
            axum::routing::delete(registry::logout),
        )
        .route("/berth/registries", get(registry::list))
        .route("/images/json", get(images::list))
        .route("/images/search", get(registry::search))
        .route("/images/get", get(images::save_many))
        .route("/images/load", post(images::load))
        .route("/images/create", post(images::create))
        .route(
            "/images/{*rest}",
            get(images::get_dispatch)
                .post(images::post_dispatch)
                .delete(images::remove),
        )
        .route("/containers/json", get(containers::list))
        .route("/containers/prune", post(prune::containers))
        .route("/images/prune", post(prune::images))
        .route("/volumes/prune", post(prune::volumes))
        .route("/build/prune", post(prune::build_cache))
        .route("/system/df", get(prune::df))
        .route("/containers/create", post(containers::create))
        .route("/containers/{id}/json", get(containers::inspect))
        .route("/containers/{id}/logs", get(containers::logs))
        .route("/containers/{id}/top", get(containers::top))
        .route("/containers/{id}/stats", get(stats::stats))
        .route(
            "/containers/{id}/archive",
            get(archive::archive)
                .head(archive::archive)
                .put(archive::archive),
        )
        .route("/containers/{id}/export", get(archive::export))
        .route("/berth/containers/{id}/files", get(archive::files))
        .route(
            "/berth/containers/{id}/files/content",
            get(archive::file_content),
        )
        .route("/containers/{id}/changes", get(commit::changes))
        .route("/commit", post(commit::commit))
        .route("/build", post(build::build))
        .route("/berth/activity", get(activity::list))
        .route("/berth/recordings/{id}", get(activity::recording))
        .route("/berth/login", post(accounts::login))
        .route("/berth/logout", post(accounts::logout))
        .route("/berth/session", get(accounts::session))
        .route(
            "/berth/password",
            axum::routing::put(accounts::change_password),
        )
        .route(
            "/berth/tokens",
            get(accounts::tokens).post(accounts::create_token),
        )
        .route(
            "/berth/tokens/{id}",
            axum::routing::delete(accounts::revoke_token),
        )
        .route(
            "/berth/users",
            get(accounts::users).post(accounts::create_user),
        )
        .route(
            "/berth/users/{name}",
            axum::routing::patch(accounts::update_user).delete(accounts::delete_user),
        )
        .route(
            "/berth/teams",
            get(accounts::teams).post(accounts::create_team),
        )
        .route(
            "/berth/teams/{name}",
            axum::routing::delete(accounts::delete_team),
        )
        .route(
            "/berth/teams/{team}/members/{user}",
            axum::routing::put(accounts::add_member).delete(accounts::remove_member),
        )
        .route("/containers/{id}/start", post(containers::start))
        .route("/containers/{id}/stop", post(containers::stop))
        .route("/containers/{id}/restart", post(containers::restart))
        .route("/containers/{id}/kill", post(containers::kill))
        .route("/containers/{id}/wait", post(containers::wait))
        .route("/containers/{id}/rename", post(containers::rename))
        .route("/containers/{id}/attach", post(containers::attach))
        .route("/containers/{id}/resize", post(containers::resize))
        .route("/containers/{id}/attach/ws", get(containers::attach_ws))
        .route("/berth/containers/{id}/shell/ws", get(exec::shell_ws))
        .route("/containers/{id}/exec", post(exec::create))
        .route("/exec/{id}/start", post(exec::start))
        .route("/exec/{id}/resize", post(exec::resize))
        .route("/exec/{id}/json", get(exec::inspect))
        .route(
            "/containers/{id}",
            axum::routing::delete(containers::remove),
        )
        .route("/volumes", get(volumes::list))
        .route("/volumes/create", post(volumes::create))
        .route(
            "/volumes/{name}",
            get(volumes::inspect).delete(volumes::remove),
        )
        .route("/networks", get(networks::list))
        .route("/networks/create", post(networks::create))
        .route("/networks/prune", post(prune::networks))
        .route(
            "/networks/{id}",
            get(networks::inspect).delete(networks::remove),
        )
        .route("/networks/{id}/connect", post(networks::connect))
        .route("/networks/{id}/disconnect", post(networks::disconnect))
        .route("/v2/", get(distribution::base))
        .route("/v2/_catalog", get(distribution::catalog))
        .route("/v2/{*rest}", axum::routing::any(distribution::dispatch))
}

/// The whole service for one listener: version rewriting and Docker's headers
/// wrap the router, so they apply before routing and to every response.
pub fn service(state: Arc<AppState>, listener: Listener) -> Router {
    let mut app = api_routes();
    if listener == Listener::Tcp && state.ui.is_some() {
        app = app.fallback(ui::serve);
    } else {
        app = app.fallback(not_found);
    }
    let app = app
        .method_not_allowed_fallback(not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::authorize,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            activity::record,
        ))
        .with_state(state);
    Router::new()
        .fallback_service(app)
        .layer(middleware::from_fn(strip_version))
        .layer(middleware::from_fn(docker_headers))
        .layer(middleware::from_fn(catch_panic))
}

pub async fn not_found() -> ApiError {
    ApiError::not_found("page not found")
}

/// `/v1.45/images/json` → `/images/json`, refusing versions out of range.
async fn strip_version(mut req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if let Some(rest) = path.strip_prefix("/v") {
        let (ver, tail) = rest.split_once('/').map_or((rest, ""), |(v, t)| (v, t));
        if let Some(v) = parse_version(ver) {
            if v > parse_version(API_VERSION).expect("valid constant") {
                return ApiError::bad_request(format!(
                    "client version {ver} is too new. Maximum supported API version is {API_VERSION}"
                ))
                .into_response();
            }
            if v < parse_version(MIN_API_VERSION).expect("valid constant") {
                return ApiError::bad_request(format!(
                    "client version {ver} is too old. Minimum supported API version is {MIN_API_VERSION}, please upgrade your client to a newer version"
                ))
                .into_response();
            }
            let new_path = format!("/{tail}");
            let pq = match req.uri().query() {
                Some(q) => format!("{new_path}?{q}"),
                None => new_path,
            };
            let mut parts = req.uri().clone().into_parts();
            parts.path_and_query = pq.parse().ok();
            if let Ok(uri) = Uri::from_parts(parts) {
                *req.uri_mut() = uri;
            }
        }
    }
    next.run(req).await
}

fn parse_version(s: &str) -> Option<(u32, u32)> {
    let (a, b) = s.split_once('.')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

async fn docker_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::SERVER,
        HeaderValue::from_static(concat!("Berth/", env!("CARGO_PKG_VERSION"), " (linux)")),
    );
    h.insert("Api-Version", HeaderValue::from_static(API_VERSION));
    h.insert("Ostype", HeaderValue::from_static("linux"));
    res
}

/// A handler that panics answers 500 in Docker's format instead of dropping the connection.
async fn catch_panic(req: Request, next: Next) -> Response {
    match AssertUnwindSafe(next.run(req)).catch_unwind().await {
        Ok(res) => res,
        Err(p) => {
            let msg = p
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            tracing::error!(panic = %msg, "handler panicked");
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("internal error: {msg}"),
            )
            .into_response()
        }
    }
}
