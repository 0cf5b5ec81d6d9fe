//! `berth daemon`: opens the data root (database, image store), binds the
//! listeners given with `-H` (a root-only unix socket, TCP for the dashboard),
//! serves the API on each, and shuts down cleanly on SIGINT/SIGTERM.

use crate::api::{self, AppState, Listener};
use crate::db::Db;
use crate::image::ImageStore;
use anyhow::{anyhow, bail, Context, Result};
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub const DEFAULT_DATA_ROOT: &str = "/var/lib/berth";
pub const DEFAULT_HOST: &str = "unix:///run/berth/berth.sock";
/// Where `make run` installs the dashboard.
pub const DEFAULT_UI_DIR: &str = "/usr/local/share/berth/ui";

#[derive(Debug, Clone)]
pub struct DaemonConfig {
    pub data_root: PathBuf,
    pub hosts: Vec<String>,
    pub ui_dir: Option<PathBuf>,
    /// `--insecure-registry` values: CIDR ranges or host[:port].
    pub insecure_registries: Vec<String>,
    /// Per-registry CA and client certificates (`DIR/HOST:PORT/ca.crt`).
    pub certs_dir: PathBuf,
    /// The containers' bridge and its address (`GATEWAY/PREFIX`).
    pub bridge: String,
    pub bip: String,
    /// `--default-address-pool`: subnets for user-defined networks.
    pub address_pool: String,
    /// `--max-layer-size`, `--max-layer-entries`.
    pub layer_limits: crate::image::unpack::Limits,
    /// Days the activity history is kept; 0 keeps it forever.
    pub activity_retention_days: u32,
    /// Where the first admin's password is, if not generated.
    pub admin_password_file: Option<PathBuf>,
    /// How long a dashboard login lasts.
    pub session_ttl: Duration,
    /// How long the first lock after failed logins lasts.
    pub login_lockout: Duration,
}

/// A parsed `-H` value.
#[derive(Debug, Clone, PartialEq)]
pub enum HostAddr {
    Unix(PathBuf),
    Tcp(String),
}

impl HostAddr {
    pub fn parse(s: &str) -> Result<Self> {
        if let Some(p) = s.strip_prefix("unix://") {
            if p.is_empty() {
                return Ok(HostAddr::Unix(PathBuf::from("/run/berth/berth.sock")));
            }
            return Ok(HostAddr::Unix(PathBuf::from(p)));
        }
        if s.starts_with('/') {
            return Ok(HostAddr::Unix(PathBuf::from(s)));
        }
        if let Some(a) = s
            .strip_prefix("tcp://")
            .or_else(|| s.strip_prefix("http://"))
        {
            let a = a.trim_end_matches('/');
            let a = if a.starts_with(':') {
                format!("127.0.0.1{a}")
            } else {
                a.to_string()
            };
            if a.rsplit_once(':')
                .and_then(|(_, p)| p.parse::<u16>().ok())
                .is_none()
            {
                bail!("invalid host {s:?}: tcp addresses need a port, e.g. tcp://127.0.0.1:8375");
            }
            return Ok(HostAddr::Tcp(a));
        }
        bail!("invalid host {s:?}: use unix:///path/to/socket or tcp://HOST:PORT")
    }
}

pub async fn run(cfg: DaemonConfig) -> Result<()> {
    crate::image::unpack::set_limits(cfg.layer_limits);
    let root = &cfg.data_root;
    std::fs::create_dir_all(root)
        .with_context(|| format!("create data root {}", root.display()))?;
    std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o711)).ok();
    // Layers and container roots hold setuid files from images: no host
    // user may reach them (Docker's /var/lib/docker is closed the same way).
    for private in ["image", "containers", "volumes"] {
        let dir = root.join(private);
        std::fs::create_dir_all(&dir).with_context(|| format!("create {}", dir.display()))?;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("close {} to other users", dir.display()))?;
    }
    let _lock = lock_data_root(root)?;

    let db = Db::open(&root.join("berth.db")).await?;
    if let Some(pw) = api::accounts::first_admin(&db, cfg.admin_password_file.as_deref()).await? {
        // Shown once, on the daemon's own terminal: never in the log.
        eprintln!(
            "\nBerth: the dashboard's admin account is \"admin\" with the password\n\n    {pw}\n\nIt is shown only now. Change it in the dashboard (Account).\n"
        );
    }
    let image_root = root.join("image");
    let images = tokio::task::spawn_blocking(move || ImageStore::open(&image_root)).await??;
    let ui = load_ui(cfg.ui_dir.as_deref());
    let images = Arc::new(images);
    let container_store = Arc::new(
        crate::container::ContainerStore::open(&root.join("containers"))
            .with_context(|| format!("open {}", root.join("containers").display()))?,
    );
    let volumes = Arc::new(
        crate::container::volumes::VolumeStore::open(&root.join("volumes"))
            .with_context(|| format!("open {}", root.join("volumes").display()))?,
    );
    let bridge = crate::network::Bridge::new(&cfg.bridge, &cfg.bip).map_err(|e| anyhow!(e))?;
    let networks = Arc::new(
        crate::network::store::NetworkStore::open(
            &root.join("networks"),
            bridge,
            crate::network::store::Pool::parse(&cfg.address_pool).map_err(|e| anyhow!(e))?,
        )
        .with_context(|| format!("open {}", root.join("networks").display()))?,
    );
    let containers =
        crate::container::Supervisor::new(container_store, images.clone(), volumes, networks);
    forward_container_events(&containers, db.clone());
    containers.restore_networks();
    containers.recover();
    let state = Arc::new(AppState {
        containers,
        images,
        db,
        data_root: root.clone(),
        ui,
        credentials: crate::registry::CredentialStore::open(root.join("registry-auth.json"))
            .with_context(|| format!("read {}", root.join("registry-auth.json").display()))?,
        transport: Arc::new(
            crate::registry::Transport::new(&cfg.insecure_registries, &cfg.certs_dir)
                .map_err(|e| anyhow!(e))?,
        ),
        uploads: Default::default(),
        build_cache: Arc::new(crate::build::cache::Cache::open(
            root.join("build-cache.json"),
        )),
        daemon_id: daemon_id(root)?,
        auth: crate::auth::AuthState {
            limiter: crate::auth::limiter::LoginLimiter::new(cfg.login_lockout),
            revocations: Default::default(),
            session_ttl: cfg.session_ttl,
        },
        recordings: root.join("recordings"),
        terminals: Default::default(),
    });

    prune_activity(&state, cfg.activity_retention_days);
    forget_removed_owners(&state).await;

    let hosts = if cfg.hosts.is_empty() {
        vec![DEFAULT_HOST.to_string()]
    } else {
        cfg.hosts.clone()
    };
    let mut servers = tokio::task::JoinSet::new();
    let mut sockets = Vec::new();
    for h in &hosts {
        match HostAddr::parse(h)? {
            HostAddr::Unix(path) => {
                let listener = bind_unix(&path)?;
                tracing::info!(socket = %path.display(), "API listening");
                sockets.push(path);
                let app = api::service(state.clone(), Listener::Unix);
                servers.spawn(async move {
                    axum::serve(listener, app)
                        .await
                        .map_err(anyhow::Error::from)
                });
            }
            HostAddr::Tcp(addr) => {
                let listener = tokio::net::TcpListener::bind(&addr)
                    .await
                    .with_context(|| format!("listen on tcp://{addr}"))?;
                let local = listener.local_addr()?;
                if !local.ip().is_loopback() {
                    tracing::warn!(%local, "API listening on a non-loopback address: anyone who reaches it controls this host");
                }
                tracing::info!(address = %local, dashboard = %format!("http://{local}/"), "API listening");
                let app = api::service(state.clone(), Listener::Tcp)
                    .into_make_service_with_connect_info::<SocketAddr>();
                servers.spawn(async move {
                    axum::serve(listener, app)
                        .await
                        .map_err(anyhow::Error::from)
                });
            }
        }
    }
    tracing::info!(data_root = %root.display(), images = state.images.list().len(), "daemon started");

    let result = tokio::select! {
        r = servers.join_next() => match r {
            Some(Ok(Err(e))) => Err(e),
            Some(Err(e)) => Err(anyhow!("listener task failed: {e}")),
            _ => Ok(()),
        },
        _ = shutdown_signal() => {
            tracing::info!("shutting down");
            Ok(())
        }
    };
    servers.abort_all();
    tokio::time::timeout(Duration::from_secs(2), async {
        while servers.join_next().await.is_some() {}
    })
    .await
    .ok();
    for s in sockets {
        std::fs::remove_file(&s).ok();
    }
    result
}

fn bind_unix(path: &Path) -> Result<tokio::net::UnixListener> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("create {}", dir.display()))?;
    }
    if std::os::unix::net::UnixStream::connect(path).is_ok() {
        bail!(
            "{} is in use: another daemon is listening there",
            path.display()
        );
    }
    std::fs::remove_file(path).ok(); // a stale socket from a daemon that died
    let l = tokio::net::UnixListener::bind(path)
        .with_context(|| format!("listen on {}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
        .with_context(|| format!("restrict {} to root", path.display()))?;
    Ok(l)
}

/// Holds an exclusive lock on `<root>/berth.lock` for the daemon's lifetime.
fn lock_data_root(root: &Path) -> Result<std::fs::File> {
    let p = root.join("berth.lock");
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&p)
        .with_context(|| format!("open {}", p.display()))?;
    crate::sys::try_lock_exclusive(&f).with_context(|| {
        format!(
            "data root {} is in use by another berth daemon",
            root.display()
        )
    })?;
    Ok(f)
}

fn daemon_id(root: &Path) -> Result<String> {
    let p = root.join("engine-id");
    if let Ok(id) = std::fs::read_to_string(&p) {
        return Ok(id.trim().to_string());
    }
    let id = crate::image::Digest::of(
        format!("{}-{}", root.display(), crate::timefmt::unix_nanos_now()).as_bytes(),
    )
    .hex()[..32]
        .to_string();
    crate::fsutil::write_atomic(&p, id.as_bytes())?;
    Ok(id)
}

fn load_ui(dir: Option<&Path>) -> Option<api::ui::UiAssets> {
    let (dir, explicit) = match dir {
        Some(d) => (d.to_path_buf(), true),
        None => (PathBuf::from(DEFAULT_UI_DIR), false),
    };
    match api::ui::UiAssets::load(&dir) {
        Ok(ui) => {
            tracing::info!(dir = %dir.display(), files = ui.len(), "dashboard loaded");
            Some(ui)
        }
        Err(e) if explicit => {
            tracing::error!(error = %e, "dashboard not available");
            None
        }
        Err(_) => {
            tracing::info!(dir = %dir.display(), "no dashboard files: serving the API only");
            None
        }
    }
}

async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("install SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

/// Records the supervisor's container events (start, die, …) in the event log.
fn forward_container_events(sup: &Arc<crate::container::Supervisor>, db: Db) {
    let mut rx = sup.subscribe_events();
    tokio::spawn(async move {
        loop {
            match rx.recv().await {
                Ok(e) => {
                    let ev = crate::db::events::NewEvent {
                        kind: "container",
                        action: e.action,
                        object_id: e.id,
                        attributes: e.attributes,
                        actor: "root".into(),
                    };
                    if let Err(err) = db.record_event(ev).await {
                        tracing::error!(error = %err, "could not record event");
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "container events dropped");
                }
                Err(_) => return,
            }
        }
    });
}

/// Drops the team ownership of containers and volumes that are gone
/// (removed by `--rm`, or while the daemon was down).
async fn forget_removed_owners(state: &AppState) {
    let containers: std::collections::HashSet<String> = state
        .containers
        .store
        .list()
        .into_iter()
        .map(|c| c.id)
        .collect();
    let volumes: std::collections::HashSet<String> = state
        .containers
        .volumes
        .list()
        .into_iter()
        .map(|v| v.name)
        .collect();
    for (kind, present) in [("container", &containers), ("volume", &volumes)] {
        let Ok(owned) = state.db.ownership(kind).await else {
            continue;
        };
        for id in owned.keys().filter(|id| !present.contains(*id)) {
            let _ = state.db.release(kind, id, None).await;
        }
    }
}

/// Now and every hour: drops activity and terminal recordings older than
/// the retention period, and expired sessions and tokens.
fn prune_activity(state: &Arc<AppState>, days: u32) {
    let db = state.db.clone();
    let recordings = state.recordings.clone();
    tokio::spawn(async move {
        let keep = i64::from(days) * 86_400 * 1_000_000_000;
        loop {
            if let Err(e) = db.prune_credentials().await {
                tracing::warn!(error = %e, "pruning expired sessions and tokens");
            }
            if days > 0 {
                let before = crate::timefmt::unix_nanos_now() - keep;
                match db.prune_activity(before).await {
                    Ok(n) if n > 0 => tracing::info!(removed = n, days, "activity history pruned"),
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "activity history pruning"),
                }
                let dir = recordings.clone();
                let n = tokio::task::spawn_blocking(move || api::recording::prune(&dir, before))
                    .await
                    .unwrap_or(0);
                if n > 0 {
                    tracing::info!(removed = n, days, "terminal recordings pruned");
                }
            }
            tokio::time::sleep(std::time::Duration::from_secs(3600)).await;
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_docker_style_hosts() {
        assert_eq!(
            HostAddr::parse("unix:///tmp/x.sock").unwrap(),
            HostAddr::Unix("/tmp/x.sock".into())
        );
        assert_eq!(
            HostAddr::parse("tcp://127.0.0.1:8375").unwrap(),
            HostAddr::Tcp("127.0.0.1:8375".into())
        );
        assert_eq!(
            HostAddr::parse("tcp://:9").unwrap(),
            HostAddr::Tcp("127.0.0.1:9".into())
        );
        assert!(HostAddr::parse("tcp://127.0.0.1").is_err());
        assert!(HostAddr::parse("ssh://x").is_err());
    }
}
