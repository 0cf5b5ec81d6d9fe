//! The lifecycle of containers: start (bundle, spec and shim), stop, kill,
//! restart, remove, waiting for states, and watching each running container's
//! shim (a pidfd) to record its exit, apply its restart policy and remove it
//! when `--rm` asked. After a daemon restart, `recover` finds the shims that
//! kept running and the exits that happened meanwhile.

use super::model::{Container, PortBinding, Status};
use super::mounts::MountPoint;
use super::volumes::VolumeStore;
use super::{ContainerError, ContainerStore};
use crate::image::ImageStore;
use crate::network::proxy;
use crate::runtime::shim::{
    ExitRecord, ShimConfig, ShimState, EXIT_FILE, SHIM_FILE, SPEC_FILE, STATE_FILE,
};
use crate::runtime::spec::{NetworkMode, SpecInput};
use crate::runtime::{caps, cgroup, spec, user};
use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::broadcast;

/// Something that happened to a container, for the event log.
#[derive(Debug, Clone)]
pub struct ContainerEvent {
    pub action: String,
    pub id: String,
    pub attributes: BTreeMap<String, String>,
}

/// What `wait` waits for (`condition` of the Engine API).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum WaitCondition {
    NotRunning,
    NextExit,
    Removed,
}

#[derive(Debug)]
pub struct Supervisor {
    pub store: Arc<ContainerStore>,
    pub images: Arc<ImageStore>,
    pub volumes: Arc<VolumeStore>,
    /// The `berth` binary that runs shims.
    exe: PathBuf,
    /// A shim started ahead of the next container start.
    spares: super::spare::SpareShims,
    events: broadcast::Sender<ContainerEvent>,
    /// The networks containers join (the default bridge and user-defined ones).
    pub networks: Arc<crate::network::store::NetworkStore>,
    /// The DNS servers of user-defined networks.
    pub(super) dns: super::networking::DnsServers,
    proxies: crate::network::proxy::Proxies,
    /// Processes started with `exec`.
    pub execs: super::exec::Execs,
    /// Attaches waiting for a container to start, per container.
    pending_attach: std::sync::Mutex<std::collections::HashMap<String, usize>>,
    /// Exit codes of removed containers, for `wait` (`--rm`); the latest 256.
    removed_exits: std::sync::Mutex<std::collections::VecDeque<(String, i32)>>,
}

pub(super) fn blocking_err(e: tokio::task::JoinError) -> ContainerError {
    ContainerError::Io(format!("task failed: {e}"))
}

impl Supervisor {
    pub fn new(
        store: Arc<ContainerStore>,
        images: Arc<ImageStore>,
        volumes: Arc<VolumeStore>,
        networks: Arc<crate::network::store::NetworkStore>,
    ) -> Arc<Self> {
        let exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("/proc/self/exe"));
        Arc::new(Self {
            store,
            images,
            volumes,
            spares: super::spare::SpareShims::new(exe.clone()),
            exe,
            events: broadcast::channel(256).0,
            removed_exits: Default::default(),
            pending_attach: Default::default(),
            execs: Default::default(),
            networks,
            dns: Default::default(),
            proxies: Default::default(),
        })
    }

    pub fn subscribe_events(&self) -> broadcast::Receiver<ContainerEvent> {
        self.events.subscribe()
    }

    fn emit(&self, action: &str, c: &Container, extra: &[(&str, String)]) {
        let mut attributes = BTreeMap::new();
        attributes.insert("name".to_string(), c.name.clone());
        attributes.insert("image".to_string(), c.config.image.clone());
        for (k, v) in extra {
            attributes.insert(k.to_string(), v.clone());
        }
        let _ = self.events.send(ContainerEvent {
            action: action.to_string(),
            id: c.id.clone(),
            attributes,
        });
    }

    /// Announces a new container (`create`).
    pub fn created(&self, c: &Container) {
        self.emit("create", c, &[]);
    }

    /// Starts a container; `NotModified` when it already runs.
    pub async fn start(self: &Arc<Self>, name_or_id: &str) -> Result<Container, ContainerError> {
        let c = self.store.get(name_or_id)?;
        if c.is_running() {
            return Err(ContainerError::NotModified(
                "container already started".into(),
            ));
        }
        let this = self.clone();
        let id = c.id.clone();
        let started = tokio::task::spawn_blocking(move || {
            let started = this.start_blocking(&id);
            this.refill_spare(); // for the next start
            started
        })
        .await
        .map_err(blocking_err)?;
        match started {
            Ok((state, c, bound)) => {
                if let Some(ep) = c.primary_endpoint() {
                    self.proxies.serve(&c.id, ep.ip, bound);
                }
                self.emit("start", &c, &[]);
                self.watch(c.id.clone(), state.shim_pid);
                Ok(c)
            }
            Err(e) => {
                if c.host_config.auto_remove {
                    let _ = self.remove(&c.id, true, true).await;
                }
                Err(e)
            }
        }
    }

    fn start_blocking(
        &self,
        id: &str,
    ) -> Result<(ShimState, Container, Vec<proxy::Bound>), ContainerError> {
        let c = self.store.get(id)?;
        let dir = self.store.dir(id);
        let image = self.image_of(&c)?;
        let (upper, work, rootfs) = (dir.join("diff"), dir.join("work"), dir.join("rootfs"));
        for d in [&upper, &work, &rootfs] {
            std::fs::create_dir_all(d)
                .map_err(|e| ContainerError::io("create container directories", e))?;
        }
        let mut lower_dirs = self.images.lower_dirs(&image);
        if lower_dirs.is_empty() {
            let empty = dir.join("empty");
            std::fs::create_dir_all(&empty)
                .map_err(|e| ContainerError::io("create empty layer", e))?;
            lower_dirs.push(empty);
        }
        let layers: Vec<PathBuf> = std::iter::once(upper.clone())
            .chain(lower_dirs.iter().cloned())
            .collect();
        let read_etc = |name: &str| read_in_layers(&layers, name);
        let resolved = user::resolve(
            &c.config.user,
            &read_etc("/etc/passwd"),
            &read_etc("/etc/group"),
        )
        .map_err(|e| ContainerError::StartFailed(125, e))?;
        let mut links = Vec::new();
        let (network, joined, bound, published) = match c.primary_network() {
            "host" => (NetworkMode::Host, None, Vec::new(), BTreeMap::new()),
            "none" => (NetworkMode::None, None, Vec::new(), BTreeMap::new()),
            _ => {
                links = self.resolve_links(&c)?;
                let requests = port_requests(&c)?;
                let bound = proxy::bind(&requests).map_err(ContainerError::Invalid)?;
                let mut published: BTreeMap<String, Vec<PortBinding>> = BTreeMap::new();
                for (r, b) in requests.iter().zip(&bound) {
                    published
                        .entry(format!("{}/{}", r.container_port, r.proto.as_str()))
                        .or_default()
                        .push(PortBinding {
                            host_ip: r.host_ip.to_string(),
                            host_port: b.host_port().to_string(),
                        });
                }
                let joined = self.join_networks(&c)?;
                (
                    NetworkMode::Path(joined.netns.clone()),
                    Some(joined),
                    bound,
                    published,
                )
            }
        };
        let endpoints = joined
            .as_ref()
            .map(|j| j.endpoints.clone())
            .unwrap_or_default();
        let nameserver = joined.as_ref().and_then(|j| j.nameserver(&self.networks));
        let result = self.start_with_network(
            &c,
            &dir,
            network,
            EtcInputs {
                primary: endpoints
                    .get(c.primary_network())
                    .or_else(|| endpoints.values().next())
                    .cloned(),
                links: &links,
                nameserver,
            },
            read_etc,
            resolved,
            lower_dirs,
            upper,
            work,
            rootfs,
        );
        match result {
            Ok(state) => {
                let c = self.store.update(id, |c| {
                    c.state.status = Status::Running;
                    c.state.pid = state.init_pid;
                    c.state.shim_pid = state.shim_pid;
                    c.state.started_at = state.started_at.clone();
                    c.state.exit_code = 0;
                    c.state.error.clear();
                    c.state.oom_killed = false;
                    c.state.stopped_by_user = false;
                    c.network.endpoints = endpoints.clone();
                    c.network.ports = published.clone();
                    Ok(())
                })?;
                Ok((state, c, bound))
            }
            Err(e) => {
                if joined.is_some() {
                    self.leave_networks(&c.id);
                }
                Err(e)
            }
        }
    }

    /// Start after the network is in place: etc files, spec, shim.
    #[allow(clippy::too_many_arguments)]
    fn start_with_network(
        &self,
        c: &Container,
        dir: &Path,
        network: NetworkMode,
        etc: EtcInputs<'_>,
        read_etc: impl Fn(&str) -> String,
        resolved: user::ResolvedUser,
        lower_dirs: Vec<PathBuf>,
        upper: PathBuf,
        work: PathBuf,
        rootfs: PathBuf,
    ) -> Result<ShimState, ContainerError> {
        let id = c.id.as_str();
        let etc_files = write_etc_files(c, dir, &network, &etc)?;
        let capabilities = caps::resolve(
            c.host_config.cap_add.as_deref().unwrap_or_default(),
            c.host_config.cap_drop.as_deref().unwrap_or_default(),
        )
        .map_err(ContainerError::Invalid)?;
        let mut env = c.config.env.clone().unwrap_or_default();
        for l in etc.links {
            for e in l.env(&c.name) {
                if !env
                    .iter()
                    .any(|x| x.split('=').next() == e.split('=').next())
                {
                    env.push(e);
                }
            }
        }
        if !env.iter().any(|e| e.starts_with("HOSTNAME=")) {
            env.push(format!("HOSTNAME={}", c.config.hostname));
        }
        if !env.iter().any(|e| e.starts_with("HOME=")) {
            let home = user::home_of(&read_etc("/etc/passwd"), resolved.uid);
            env.push(format!("HOME={home}"));
        }
        let mut args = vec![c.path.clone()];
        args.extend(c.args.iter().cloned());
        let mut oci = spec::build(&SpecInput {
            terminal: c.config.tty,
            args,
            env,
            cwd: c.config.working_dir.clone(),
            uid: resolved.uid,
            gid: resolved.gid,
            additional_gids: resolved.additional_gids,
            hostname: c.config.hostname.clone(),
            capabilities,
            readonly_rootfs: c.host_config.readonly_rootfs,
            network,
            etc_files,
        })
        .map_err(ContainerError::Io)?;
        add_volume_mounts(&mut oci, &c.mounts)?;
        oci.save(dir.join(SPEC_FILE))
            .map_err(|e| ContainerError::io("write runtime spec", e))?;
        let limits = cgroup::Limits {
            memory: (c.host_config.memory > 0).then_some(c.host_config.memory),
            nano_cpus: (c.host_config.nano_cpus > 0).then_some(c.host_config.nano_cpus),
            pids: c.host_config.pids_limit.filter(|p| *p > 0),
        };
        let shim = ShimConfig {
            id: c.id.clone(),
            rootfs,
            lower_dirs,
            upper,
            work,
            log_path: log_path(dir, &c.id),
            limits,
            open_stdin: c.config.open_stdin,
            wait_attach: self.attach_pending(id),
            init: c.host_config.init.unwrap_or(false),
            seccomp: c.host_config.seccomp(),
            log_options: crate::runtime::jsonlog::LogOptions::parse(
                &c.host_config.log_config["Config"],
            )
            .map_err(ContainerError::Invalid)?,
        };
        let bytes =
            serde_json::to_vec_pretty(&shim).map_err(|e| ContainerError::Io(e.to_string()))?;
        crate::fsutil::replace_file(&dir.join(SHIM_FILE), &bytes)
            .map_err(|e| ContainerError::io("write shim config", e))?;

        let line = self.spawn_shim(dir)?;
        if let Some(rest) = line.strip_prefix("err ") {
            let (code, msg) = crate::runtime::shim::split_failure(rest, 125);
            self.store.update(id, |c| {
                c.state.exit_code = code;
                c.state.error = msg.clone();
                Ok(())
            })?;
            return Err(ContainerError::StartFailed(code, msg));
        }
        if !line.starts_with("ok ") {
            return Err(ContainerError::Io(format!(
                "the shim did not start: {line:?}"
            )));
        }
        let state: ShimState = serde_json::from_slice(
            &std::fs::read(dir.join(STATE_FILE))
                .map_err(|e| ContainerError::io("read shim state", e))?,
        )
        .map_err(|e| ContainerError::Io(format!("shim state: {e}")))?;
        Ok(state)
    }

    /// Starts the container in `dir` on the spare shim, or on a new
    /// `berth shim DIR`, and returns the shim's status line.
    fn spawn_shim(&self, dir: &Path) -> Result<String, ContainerError> {
        if let Some(started) = self.spares.start(dir) {
            return started.map_err(ContainerError::Io);
        }
        let mut child = std::process::Command::new(&self.exe)
            .arg("shim")
            .arg(dir)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .map_err(|e| ContainerError::io("start the container shim", e))?;
        let stdout = child.stdout.take().expect("piped stdout");
        let mut line = String::new();
        let read = std::io::BufReader::new(stdout).read_line(&mut line);
        let _ = child.wait();
        read.map_err(|e| ContainerError::io("read the shim's status", e))?;
        Ok(line.trim_end().to_string())
    }

    /// Starts a spare shim in the background unless one is ready.
    fn refill_spare(self: &Arc<Self>) {
        let this = self.clone();
        std::thread::spawn(move || this.spares.refill());
    }

    /// The image a container was made from.
    pub(super) fn image_of(
        &self,
        c: &Container,
    ) -> Result<crate::image::catalog::ImageRecord, ContainerError> {
        let image_id: crate::image::Digest = c
            .image
            .parse()
            .map_err(|e| ContainerError::Io(format!("container image id: {e}")))?;
        self.images.get_by_id(&image_id).ok_or_else(|| {
            ContainerError::Invalid(format!(
                "the image of container {} ({}) is gone",
                c.name, c.image
            ))
        })
    }

    /// Watches a running container's shim and handles its exit.
    fn watch(self: &Arc<Self>, id: String, shim_pid: i32) {
        let this = self.clone();
        tokio::spawn(async move {
            wait_for_exit(shim_pid).await;
            this.on_exit(&id).await;
        });
    }

    /// Records an exit, then applies `--rm` or the restart policy.
    async fn on_exit(self: &Arc<Self>, id: &str) {
        let dir = self.store.dir(id);
        let rec: ExitRecord = std::fs::read(dir.join(EXIT_FILE))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or(ExitRecord {
                exit_code: 255,
                oom_killed: false,
                finished_at: crate::timefmt::now_rfc3339(),
                error: "the container's shim ended without recording an exit status".into(),
            });
        let Ok(c) = self.store.update(id, |c| {
            c.state.status = Status::Exited;
            c.state.pid = 0;
            c.state.shim_pid = 0;
            c.state.exit_code = rec.exit_code;
            c.state.oom_killed = rec.oom_killed;
            c.state.finished_at = rec.finished_at.clone();
            c.state.error = rec.error.clone();
            c.network = Default::default();
            Ok(())
        }) else {
            return;
        };
        self.proxies.stop(id);
        self.leave_networks(id);
        cgroup::remove(id);
        if rec.oom_killed {
            self.emit("oom", &c, &[]);
        }
        self.emit("die", &c, &[("exitCode", rec.exit_code.to_string())]);
        if c.host_config.auto_remove {
            let _ = self.remove(id, true, true).await;
            return;
        }
        if self.should_restart(&c) {
            let this = self.clone();
            let id = id.to_string();
            let delay = Duration::from_millis(100u64 << c.restart_count.clamp(0, 6));
            let _ = self.store.update(&id, |c| {
                c.restart_count += 1;
                Ok(())
            });
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                if let Ok(c) = this.store.get(&id) {
                    if !c.state.stopped_by_user && !c.is_running() {
                        if let Err(e) = this.start(&id).await {
                            tracing::warn!(%id, error = %e, "restart failed");
                        }
                    }
                }
            });
        }
    }

    fn should_restart(&self, c: &Container) -> bool {
        if c.state.stopped_by_user {
            return false;
        }
        let p = &c.host_config.restart_policy;
        match p.name.as_str() {
            "always" | "unless-stopped" => true,
            "on-failure" => {
                c.state.exit_code != 0
                    && (p.maximum_retry_count == 0 || c.restart_count < p.maximum_retry_count)
            }
            _ => false,
        }
    }

    /// Resolves `--link NAME[:ALIAS]`: the linked container must run on the bridge.
    fn resolve_links(&self, c: &Container) -> Result<Vec<Link>, ContainerError> {
        let mut out = Vec::new();
        for l in c.host_config.links.iter().flatten() {
            // Docker's stored form is "/name:/self/alias"; the CLI sends "name:alias".
            let (name, alias) = l.split_once(':').unwrap_or((l, l));
            let name = name.trim_start_matches('/');
            let alias = alias.rsplit('/').next().unwrap_or(alias);
            let other = self.store.get(name).map_err(|_| {
                ContainerError::Invalid(format!("could not get container for {name}"))
            })?;
            let Some(ep) = other
                .primary_endpoint()
                .cloned()
                .filter(|_| other.is_running())
            else {
                return Err(ContainerError::Invalid(format!(
                    "Cannot link to a non running container: /{} AS /{}/{alias}",
                    other.name, c.name
                )));
            };
            let exposed = other
                .config
                .exposed_ports
                .iter()
                .flat_map(|m| m.keys())
                .filter_map(|k| {
                    let (p, proto) = k.split_once('/').unwrap_or((k, "tcp"));
                    Some((p.parse().ok()?, proto.to_string()))
                })
                .collect();
            out.push(Link {
                alias: alias.to_string(),
                name: other.name.clone(),
                id: other.id.clone(),
                ip: ep.ip,
                exposed,
                env: other.config.env.clone().unwrap_or_default(),
            });
        }
        Ok(out)
    }

    /// Listens again on a running container's published ports (daemon restart).
    fn republish(&self, c: &Container) {
        let Some(ep) = c.primary_endpoint() else {
            return;
        };
        let mut requests = Vec::new();
        for (key, list) in &c.network.ports {
            let (port, proto) = key.split_once('/').unwrap_or((key, "tcp"));
            for b in list {
                if let (Ok(container_port), Ok(host_port), Ok(host_ip), Some(proto)) = (
                    port.parse(),
                    b.host_port.parse(),
                    b.host_ip.parse(),
                    proxy::Proto::parse(proto),
                ) {
                    requests.push(proxy::PortRequest {
                        host_ip,
                        host_port,
                        container_port,
                        proto,
                    });
                }
            }
        }
        match proxy::bind(&requests) {
            Ok(bound) => self.proxies.serve(&c.id, ep.ip, bound),
            Err(e) => {
                tracing::warn!(id = %c.short_id(), error = %e, "could not publish ports again")
            }
        }
    }

    /// Sends `signal` to the container's process (`kill`).
    pub async fn kill(&self, name_or_id: &str, signal: &str) -> Result<(), ContainerError> {
        let c = self.store.get(name_or_id)?;
        if !c.is_running() {
            return Err(ContainerError::Conflict(format!(
                "cannot kill container: {}: container {} is not running",
                name_or_id, c.id
            )));
        }
        let sig = parse_signal(signal)?;
        if sig == nix::sys::signal::Signal::SIGKILL || sig == nix::sys::signal::Signal::SIGTERM {
            self.store.update(&c.id, |c| {
                c.state.stopped_by_user = true;
                Ok(())
            })?;
        }
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(c.state.pid), sig)
            .map_err(|e| ContainerError::io("signal the container", e))?;
        self.emit("kill", &c, &[("signal", (sig as i32).to_string())]);
        Ok(())
    }

    /// Stops a container: its stop signal, then SIGKILL after `timeout` seconds.
    pub async fn stop(&self, name_or_id: &str, timeout: Option<i64>) -> Result<(), ContainerError> {
        let c = self.store.get(name_or_id)?;
        if !c.is_running() {
            return Err(ContainerError::NotModified(
                "container already stopped".into(),
            ));
        }
        self.store.update(&c.id, |c| {
            c.state.stopped_by_user = true;
            Ok(())
        })?;
        let signal = c
            .config
            .stop_signal
            .clone()
            .unwrap_or_else(|| "SIGTERM".into());
        let secs = timeout.or(c.config.stop_timeout).unwrap_or(10);
        let pid = nix::unistd::Pid::from_raw(c.state.pid);
        let _ = nix::sys::signal::kill(pid, parse_signal(&signal)?);
        let stopped = if secs < 0 {
            self.wait_not_running(&c.id, None).await;
            true
        } else {
            self.wait_not_running(&c.id, Some(Duration::from_secs(secs as u64)))
                .await
        };
        if !stopped {
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
            self.wait_not_running(&c.id, Some(Duration::from_secs(30)))
                .await;
        }
        self.emit("stop", &c, &[]);
        Ok(())
    }

    /// Stops (if running) and starts a container again.
    pub async fn restart(
        self: &Arc<Self>,
        name_or_id: &str,
        timeout: Option<i64>,
    ) -> Result<(), ContainerError> {
        let c = self.store.get(name_or_id)?;
        if c.is_running() {
            self.stop(&c.id, timeout).await?;
        }
        self.start(&c.id).await?;
        self.emit("restart", &c, &[]);
        Ok(())
    }

    /// True once the container is not running; false when `limit` passed first.
    pub async fn wait_not_running(&self, id: &str, limit: Option<Duration>) -> bool {
        let mut rx = self.store.subscribe();
        let wait = async {
            loop {
                match self.store.get(id) {
                    Ok(c) if c.is_running() => {}
                    _ => return,
                }
                if rx.changed().await.is_err() {
                    return;
                }
            }
        };
        match limit {
            Some(d) => tokio::time::timeout(d, wait).await.is_ok(),
            None => {
                wait.await;
                true
            }
        }
    }

    /// Waits for `condition` and returns the exit code then.
    pub async fn wait(
        &self,
        name_or_id: &str,
        condition: WaitCondition,
    ) -> Result<i32, ContainerError> {
        let c = self.store.get(name_or_id)?;
        let id = c.id.clone();
        let mut rx = self.store.subscribe();
        let mut seen_running = c.is_running();
        // An exit that happens between two looks still counts as the next exit.
        let first_finish = c.state.finished_at.clone();
        let mut last = c;
        loop {
            match self.store.get(&id) {
                Ok(c) => {
                    let exited_since = c.state.finished_at != first_finish;
                    let done = match condition {
                        WaitCondition::NotRunning => !c.is_running(),
                        WaitCondition::NextExit => {
                            (seen_running || exited_since) && !c.is_running()
                        }
                        WaitCondition::Removed => false,
                    };
                    seen_running |= c.is_running();
                    if done {
                        return Ok(c.state.exit_code);
                    }
                    last = c;
                }
                Err(_) => return Ok(self.removed_exit(&id).unwrap_or(last.state.exit_code)),
            }
            if rx.changed().await.is_err() {
                return Ok(last.state.exit_code);
            }
        }
    }

    /// The container's /etc/passwd and /etc/group (from its layers).
    pub fn etc_files_of(&self, c: &Container) -> (String, String) {
        let dir = self.store.dir(&c.id);
        let mut layers = vec![dir.join("diff")];
        if let Some(img) = c.image.parse().ok().and_then(|d| self.images.get_by_id(&d)) {
            layers.extend(self.images.lower_dirs(&img));
        }
        (
            read_in_layers(&layers, "/etc/passwd"),
            read_in_layers(&layers, "/etc/group"),
        )
    }

    pub fn exe(&self) -> &Path {
        &self.exe
    }

    pub fn emit_exec(&self, action: &str, c: &Container, cmd: &str) {
        self.emit(&format!("{action}: {cmd}"), c, &[("execID", String::new())]);
    }

    /// Wakes waiters after an exec changed.
    pub fn exec_changed(&self) {
        self.store.touch();
    }

    fn attach_pending(&self, id: &str) -> bool {
        self.pending_attach
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .is_some_and(|n| *n > 0)
    }

    /// Connects to a container's attach socket; for a container not started
    /// yet, waits for its start (which then holds the process until this
    /// connection is made, so no output is missed). `None` once the
    /// container is gone.
    pub async fn connect_attach(&self, id: &str) -> Option<tokio::net::UnixStream> {
        let path = self.store.dir(id).join(crate::runtime::shim::ATTACH_SOCKET);
        let c = self.store.get(id).ok()?;
        if c.is_running() {
            return crate::runtime::stdio::connect(&path).await.ok();
        }
        *self
            .pending_attach
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(id.to_string())
            .or_default() += 1;
        let first_start = c.state.started_at.clone();
        let first_error = c.state.error.clone();
        let mut rx = self.store.subscribe();
        let result = loop {
            if let Ok(s) = crate::runtime::stdio::connect(&path).await {
                break Some(s);
            }
            match self.store.get(id) {
                Err(_) => break None,
                Ok(c) if c.state.started_at != first_start && !c.is_running() => break None,
                Ok(c) if !c.state.error.is_empty() && c.state.error != first_error => break None,
                Ok(_) => {}
            }
            // The start waits for this connection: look often.
            tokio::select! {
                _ = rx.changed() => {}
                _ = tokio::time::sleep(Duration::from_millis(1)) => {}
            }
        };
        if let Some(n) = self
            .pending_attach
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_mut(id)
        {
            *n = n.saturating_sub(1);
        }
        result
    }

    fn removed_exit(&self, id: &str) -> Option<i32> {
        self.removed_exits
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .rev()
            .find(|(i, _)| i == id)
            .map(|(_, c)| *c)
    }

    /// Removes a container (`force` kills it first; `volumes` removes its
    /// anonymous volumes).
    pub async fn remove(
        &self,
        name_or_id: &str,
        force: bool,
        volumes: bool,
    ) -> Result<(), ContainerError> {
        let c = self.store.get(name_or_id)?;
        if c.is_running() {
            if !force {
                return Err(ContainerError::Conflict(format!(
                    "cannot remove container \"/{}\": container is running: stop the container before removing or force remove",
                    c.name
                )));
            }
            self.store.update(&c.id, |c| {
                c.state.stopped_by_user = true;
                Ok(())
            })?;
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(c.state.pid),
                nix::sys::signal::Signal::SIGKILL,
            );
            self.wait_not_running(&c.id, Some(Duration::from_secs(30)))
                .await;
        }
        let c = self.store.get(&c.id)?;
        let store = self.store.clone();
        let vols = self.volumes.clone();
        let mounts: Vec<MountPoint> = c.mounts.clone();
        let id = c.id.clone();
        {
            let mut exits = self.removed_exits.lock().unwrap_or_else(|p| p.into_inner());
            if exits.len() >= 256 {
                exits.pop_front();
            }
            exits.push_back((c.id.clone(), c.state.exit_code));
        }
        self.execs.forget_container(&c.id);
        // A start cut short by a daemon crash may have left its namespace
        // (and with it a veth pair): it goes with the container.
        self.leave_networks(&c.id);
        crate::runtime::cgroup::remove(&c.id);
        tokio::task::spawn_blocking(move || {
            store.remove(&id);
            if volumes {
                for m in mounts.iter().filter(|m| m.anonymous) {
                    let _ = vols.remove(&m.name);
                }
            }
        })
        .await
        .map_err(blocking_err)?;
        self.emit("destroy", &c, &[]);
        Ok(())
    }

    /// After a daemon start: watch shims that still run, record the exits of
    /// those that ended, and start `always` containers that are down.
    pub fn recover(self: &Arc<Self>) {
        cgroup::remove_stale_spares();
        self.refill_spare();
        for c in self.store.list() {
            if c.is_running() {
                if shim_alive(c.state.shim_pid, &c.id, &self.store.dir(&c.id)) {
                    tracing::info!(id = %c.short_id(), "container still running; watching it again");
                    self.readopt_addresses(&c);
                    self.republish(&c);
                    self.watch(c.id.clone(), c.state.shim_pid);
                } else {
                    let this = self.clone();
                    tokio::spawn(async move { this.on_exit(&c.id).await });
                }
            } else if c.state.status == Status::Exited
                && (c.host_config.restart_policy.name == "always"
                    || (c.host_config.restart_policy.name == "unless-stopped"
                        && !c.state.stopped_by_user))
            {
                let this = self.clone();
                tokio::spawn(async move {
                    if let Err(e) = this.start(&c.id).await {
                        tracing::warn!(id = %c.id, error = %e, "restart after daemon start failed");
                    }
                });
            }
        }
    }
}

/// A file of the container's root as the layers (top first) show it.
pub(crate) fn read_in_layers(layers: &[PathBuf], name: &str) -> String {
    layers
        .iter()
        .find_map(|l| {
            let p = crate::runtime::rootpath::resolve(l, Path::new(name)).ok()?;
            std::fs::read_to_string(p).ok()
        })
        .unwrap_or_default()
}

/// A linked container as seen from the container linking it.
#[derive(Debug, Clone)]
pub struct Link {
    pub alias: String,
    pub name: String,
    pub id: String,
    pub ip: std::net::Ipv4Addr,
    pub exposed: Vec<(u16, String)>,
    pub env: Vec<String>,
}

impl Link {
    /// Docker's legacy link variables (`DB_PORT_5432_TCP_ADDR`, …).
    pub fn env(&self, own_name: &str) -> Vec<String> {
        let p: String = self
            .alias
            .chars()
            .map(|ch| {
                if ch.is_ascii_alphanumeric() {
                    ch.to_ascii_uppercase()
                } else {
                    '_'
                }
            })
            .collect();
        let mut out = vec![format!("{p}_NAME=/{own_name}/{}", self.alias)];
        let mut ports = self.exposed.clone();
        ports.sort();
        if let Some((port, proto)) = ports.first() {
            out.push(format!("{p}_PORT={proto}://{}:{port}", self.ip));
        }
        for (port, proto) in &ports {
            let k = format!("{p}_PORT_{port}_{}", proto.to_ascii_uppercase());
            out.push(format!("{k}={proto}://{}:{port}", self.ip));
            out.push(format!("{k}_ADDR={}", self.ip));
            out.push(format!("{k}_PORT={port}"));
            out.push(format!("{k}_PROTO={proto}"));
        }
        for e in &self.env {
            if let Some((k, v)) = e.split_once('=') {
                if k != "HOME" && k != "PATH" {
                    out.push(format!("{p}_ENV_{k}={v}"));
                }
            }
        }
        out
    }
}

/// The ports to publish: `-p` bindings and, with `-P`, every exposed port.
fn port_requests(c: &Container) -> Result<Vec<proxy::PortRequest>, ContainerError> {
    let mut out = Vec::new();
    let mut add = |key: &str, host_ip: &str, host_port: &str| -> Result<(), ContainerError> {
        let (port, proto) = key.split_once('/').unwrap_or((key, "tcp"));
        let proto = proxy::Proto::parse(proto)
            .ok_or_else(|| ContainerError::Invalid(format!("invalid proto: {proto}")))?;
        let container_port: u16 = port
            .parse()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| ContainerError::Invalid(format!("invalid containerPort: {port}")))?;
        let host_ip: std::net::IpAddr = if host_ip.is_empty() {
            std::net::Ipv4Addr::UNSPECIFIED.into()
        } else {
            host_ip
                .parse()
                .map_err(|_| ContainerError::Invalid(format!("invalid IP address: {host_ip}")))?
        };
        let host_port: u16 = if host_port.is_empty() {
            0
        } else {
            host_port
                .parse()
                .map_err(|_| ContainerError::Invalid(format!("invalid hostPort: {host_port}")))?
        };
        out.push(proxy::PortRequest {
            host_ip,
            host_port,
            container_port,
            proto,
        });
        Ok(())
    };
    let bindings = c.host_config.port_bindings.clone().unwrap_or_default();
    for (key, list) in &bindings {
        let list = list.clone().unwrap_or_default();
        if list.is_empty() {
            add(key, "", "")?;
        }
        for b in list {
            add(key, &b.host_ip, &b.host_port)?;
        }
    }
    if c.host_config.publish_all_ports {
        for key in c.config.exposed_ports.iter().flat_map(|m| m.keys()) {
            if !bindings.contains_key(key) {
                add(key, "", "")?;
            }
        }
    }
    Ok(out)
}

/// The json-file log of a container.
pub fn log_path(dir: &Path, id: &str) -> PathBuf {
    dir.join(format!("{id}-json.log"))
}

fn add_volume_mounts(
    oci: &mut oci_spec::runtime::Spec,
    mounts: &[MountPoint],
) -> Result<(), ContainerError> {
    let mut list = oci.mounts().clone().unwrap_or_default();
    for m in mounts {
        let mut options = vec!["rbind".to_string(), "rprivate".to_string()];
        if !m.rw {
            options.push("ro".into());
        }
        let mount = oci_spec::runtime::MountBuilder::default()
            .destination(&m.destination)
            .typ("bind")
            .source(&m.source)
            .options(options)
            .build()
            .map_err(|e| ContainerError::Io(format!("mount {}: {e}", m.destination)))?;
        list.push(mount);
    }
    oci.set_mounts(Some(list));
    Ok(())
}

/// What a container's /etc files are made from.
struct EtcInputs<'a> {
    /// The endpoint on its primary network.
    primary: Option<crate::network::Endpoint>,
    links: &'a [Link],
    /// The DNS server of its user-defined network, if it is on one.
    nameserver: Option<std::net::Ipv4Addr>,
}

/// /etc/hostname, /etc/hosts and /etc/resolv.conf of the container.
fn write_etc_files(
    c: &Container,
    dir: &Path,
    network: &NetworkMode,
    etc: &EtcInputs<'_>,
) -> Result<Vec<(PathBuf, &'static str)>, ContainerError> {
    if *network == NetworkMode::Host {
        let mut files = vec![];
        for (host, dest) in [
            ("/etc/hosts", "/etc/hosts"),
            ("/etc/resolv.conf", "/etc/resolv.conf"),
        ] {
            if Path::new(host).exists() {
                files.push((PathBuf::from(host), dest));
            }
        }
        return Ok(files);
    }
    let w = |name: &str, text: String| -> Result<PathBuf, ContainerError> {
        let p = dir.join(name);
        std::fs::write(&p, text).map_err(|e| ContainerError::io(&format!("write {name}"), e))?;
        Ok(p)
    };
    let hostname = w("hostname", format!("{}\n", c.config.hostname))?;
    let mut hosts_text = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n".to_string();
    for l in etc.links {
        hosts_text.push_str(&format!(
            "{}\t{} {} {}\n",
            l.ip,
            l.alias,
            &l.id[..12],
            l.name
        ));
    }
    if let Some(ep) = &etc.primary {
        hosts_text.push_str(&format!("{}\t{}\n", ep.ip, c.config.hostname));
    }
    let hosts = w("hosts", hosts_text)?;
    let resolv = match etc.nameserver {
        Some(ns) => super::networking::resolv_conf_via(ns),
        None => host_resolv_conf(),
    };
    let resolv = w("resolv.conf", resolv)?;
    Ok(vec![
        (hostname, "/etc/hostname"),
        (hosts, "/etc/hosts"),
        (resolv, "/etc/resolv.conf"),
    ])
}

/// The host's resolv.conf without loopback nameservers (unreachable from
/// a container's own network namespace).
pub(super) fn host_resolv_conf() -> String {
    let host = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    host.lines()
        .filter(|l| {
            !l.trim_start().starts_with("nameserver")
                || !l.split_whitespace().nth(1).is_some_and(|a| {
                    a.parse::<std::net::IpAddr>()
                        .is_ok_and(|ip| ip.is_loopback())
                })
        })
        .map(|l| format!("{l}\n"))
        .collect()
}

/// Parses `SIGTERM`, `TERM`, `term` or `15`.
pub fn parse_signal(s: &str) -> Result<nix::sys::signal::Signal, ContainerError> {
    use std::str::FromStr;
    let bad = || ContainerError::Invalid(format!("Invalid signal: {s}"));
    if let Ok(n) = s.parse::<i32>() {
        return nix::sys::signal::Signal::try_from(n).map_err(|_| bad());
    }
    let up = s.to_ascii_uppercase();
    let name = if up.starts_with("SIG") {
        up
    } else {
        format!("SIG{up}")
    };
    nix::sys::signal::Signal::from_str(&name).map_err(|_| bad())
}

/// Whether `pid` is still the shim of the container in `dir`: a shim works
/// in its container's directory (a spare shim's command line does not name
/// the container), and an older one named it on its command line.
fn shim_alive(pid: i32, id: &str, dir: &Path) -> bool {
    pid > 0
        && (std::fs::read_link(format!("/proc/{pid}/cwd")).is_ok_and(|cwd| cwd == dir)
            || std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| String::from_utf8_lossy(&c).contains(id)))
}

/// Resolves when process `pid` has ended (pidfd; polling as a fallback).
async fn wait_for_exit(pid: i32) {
    use std::os::fd::FromRawFd;
    // SAFETY: pidfd_open returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd >= 0 {
        // SAFETY: fd is a fresh descriptor we own.
        let owned = unsafe { std::os::fd::OwnedFd::from_raw_fd(fd as i32) };
        // SAFETY: `owned` is a pidfd that lives inside the AsyncFd until it drops.
        let registered = unsafe {
            tokio::io::unix::AsyncFd::register_with_interest(owned, tokio::io::Interest::READABLE)
        };
        if let Ok(afd) = registered {
            let _ = afd.readable().await;
            return;
        }
    }
    while Path::new(&format!("/proc/{pid}")).exists() {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
