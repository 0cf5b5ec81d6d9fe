//! A new container from a ContainerCreate request and its image: Docker's
//! rules for the command (ENTRYPOINT + CMD, overrides), environment, working
//! directory and hostname, the checks of `HostConfig`, and the mounts.

use super::model::{Config, Container, CreateRequest, State, ZERO_TIME};
use super::mounts::{self, MountPoint};
use super::names;
use super::volumes::VolumeStore;
use super::{ContainerError, ContainerStore};
use crate::image::ImageRecord;
use crate::runtime::caps;

pub const DEFAULT_PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// Docker's smallest memory limit.
const MIN_MEMORY: i64 = 6 * 1024 * 1024;

/// 64 random hex digits (container ids, anonymous volume names).
pub fn random_hex() -> String {
    let mut b = [0u8; 32];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        let _ = std::io::Read::read_exact(&mut f, &mut b);
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Merges `over` into `base` by variable name (`over` wins).
pub fn merge_env(base: &[String], over: &[String]) -> Vec<String> {
    let key = |e: &str| e.split_once('=').map_or(e, |(k, _)| k).to_string();
    let mut out: Vec<String> = base.to_vec();
    for e in over {
        let k = key(e);
        if !e.contains('=') {
            // `-e NAME` without a value and not set on the client: dropped.
            continue;
        }
        match out.iter_mut().find(|x| key(x) == k) {
            Some(slot) => *slot = e.clone(),
            None => out.push(e.clone()),
        }
    }
    out
}

/// Checks what `HostConfig` asks for, with Docker's messages.
pub fn check_host_config(req: &CreateRequest) -> Result<Vec<String>, ContainerError> {
    let hc = &req.host_config;
    let warnings = Vec::new();
    match hc.restart_policy.name.as_str() {
        "" | "no" | "always" | "unless-stopped" | "on-failure" => {}
        other => {
            return Err(ContainerError::Invalid(format!(
                "invalid restart policy: unknown policy '{other}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'"
            )))
        }
    }
    if hc.restart_policy.maximum_retry_count < 0 {
        return Err(ContainerError::Invalid(
            "invalid restart policy: maximum retry count cannot be negative".into(),
        ));
    }
    if hc.restart_policy.maximum_retry_count > 0 && hc.restart_policy.name != "on-failure" {
        return Err(ContainerError::Invalid(
            "invalid restart policy: maximum retry count can only be used with 'on-failure'".into(),
        ));
    }
    if hc.auto_remove && !matches!(hc.restart_policy.name.as_str(), "" | "no") {
        return Err(ContainerError::Invalid(
            "can't create 'AutoRemove' container with restart policy".into(),
        ));
    }
    if hc.memory != 0 && hc.memory < MIN_MEMORY {
        return Err(ContainerError::Invalid(
            "Minimum memory limit allowed is 6MB".into(),
        ));
    }
    if hc.nano_cpus < 0 {
        return Err(ContainerError::Invalid(
            "Range of CPUs is from 0.01 to the number of CPUs available".into(),
        ));
    }
    let ncpu = std::thread::available_parallelism().map_or(1, |n| n.get()) as i64;
    if hc.nano_cpus > ncpu * 1_000_000_000 {
        return Err(ContainerError::Invalid(format!(
            "Range of CPUs is from 0.01 to {ncpu}.00, as there are only {ncpu} CPUs available"
        )));
    }
    if hc.privileged {
        return Err(ContainerError::Invalid(
            "privileged containers are not supported by Berth yet".into(),
        ));
    }
    for o in hc.security_opt.iter().flatten() {
        match o.as_str() {
            "seccomp=unconfined" | "seccomp:unconfined" | "no-new-privileges" | "no-new-privileges:true" | "no-new-privileges=true" => {}
            other => {
                return Err(ContainerError::Invalid(format!(
                    "Invalid --security-opt: {other:?}: Berth takes seccomp=unconfined and no-new-privileges"
                )))
            }
        }
    }
    match hc.log_config["Type"].as_str().unwrap_or("") {
        "" | "json-file" => {}
        other => {
            return Err(ContainerError::Invalid(format!(
                "logger: no log driver named '{other}' is registered: Berth has json-file"
            )))
        }
    }
    crate::runtime::jsonlog::LogOptions::parse(&hc.log_config["Config"])
        .map_err(ContainerError::Invalid)?;
    caps::resolve(
        hc.cap_add.as_deref().unwrap_or_default(),
        hc.cap_drop.as_deref().unwrap_or_default(),
    )
    .map_err(ContainerError::Invalid)?;
    Ok(warnings)
}

/// Builds the record of a new container named `name` (or a random name).
pub fn build(
    req: CreateRequest,
    name: Option<&str>,
    image: &ImageRecord,
    store: &ContainerStore,
    volumes: &VolumeStore,
    networks: &crate::network::store::NetworkStore,
) -> Result<(Container, Vec<MountPoint>, Vec<String>), ContainerError> {
    let mut req = req;
    let warnings = check_host_config(&req)?;
    let (network_mode, attachments) = super::networking::attachments(&req, networks)?;
    req.host_config.network_mode = network_mode;
    let id = random_hex();
    let name = match name.filter(|n| !n.is_empty()) {
        Some(n) => names::validate(n).map_err(ContainerError::Invalid)?,
        None => names::random(id.as_bytes(), |n| store.name_taken(n)),
    };
    if store.name_taken(&name) {
        let other = store.get(&name)?;
        return Err(ContainerError::Conflict(format!(
            "Conflict. The container name \"/{name}\" is already in use by container \"{}\". You have to remove (or rename) that container to be able to reuse that name.",
            other.id
        )));
    }
    let img = &image.config.config;
    let mut config: Config = req.config.clone();

    // ENTRYPOINT and CMD, as Docker combines them.
    let entrypoint_given = config.entrypoint.is_some();
    let entrypoint: Vec<String> = match &config.entrypoint {
        Some(e) if e.len() == 1 && e[0].is_empty() => Vec::new(),
        Some(e) => e.clone(),
        None => img.entrypoint.clone().unwrap_or_default(),
    };
    let cmd: Vec<String> = match &config.cmd {
        Some(c) if !c.is_empty() => c.clone(),
        _ if entrypoint_given => Vec::new(),
        _ => img.cmd.clone().unwrap_or_default(),
    };
    let mut argv: Vec<String> = entrypoint.iter().chain(&cmd).cloned().collect();
    if argv.is_empty() {
        return Err(ContainerError::Invalid("No command specified".into()));
    }
    let path = argv.remove(0);
    config.entrypoint = (!entrypoint.is_empty()).then_some(entrypoint);
    config.cmd = (!cmd.is_empty()).then_some(cmd);

    let mut env = merge_env(
        img.env.as_deref().unwrap_or_default(),
        config.env.as_deref().unwrap_or_default(),
    );
    if !env.iter().any(|e| e.starts_with("PATH=")) {
        env.insert(0, DEFAULT_PATH.to_string());
    }
    config.env = Some(env);
    if config.working_dir.is_empty() {
        config.working_dir = img.working_dir.clone();
    }
    if config.user.is_empty() {
        config.user = img.user.clone();
    }
    if config.hostname.is_empty() {
        config.hostname = id[..12].to_string();
    }
    if config.stop_signal.is_none() && !img.stop_signal.is_empty() {
        config.stop_signal = Some(img.stop_signal.clone());
    }
    let mut labels = img.labels.clone().unwrap_or_default();
    labels.extend(config.labels.clone().unwrap_or_default());
    config.labels = Some(labels);
    let mut exposed = img.exposed_ports.clone().unwrap_or_default();
    exposed.extend(config.exposed_ports.clone().unwrap_or_default());
    config.exposed_ports = (!exposed.is_empty()).then_some(exposed);
    if config.image.is_empty() {
        config.image = image.id.to_string();
    }

    // Mounts: binds and named volumes, then anonymous ones (`-v /ctr`, VOLUME).
    let mut mount_points = Vec::new();
    for b in req.host_config.binds.as_deref().unwrap_or_default() {
        mount_points.push(mounts::parse_bind(b, volumes)?);
    }
    let anon_dests = config
        .volumes
        .iter()
        .chain(img.volumes.iter())
        .flat_map(|m| m.keys().cloned())
        .collect::<Vec<_>>();
    let anon = mounts::anonymous(anon_dests, &mount_points, volumes)?;
    mount_points.extend(anon);

    let c = Container {
        id,
        name,
        created: crate::timefmt::now_rfc3339(),
        path,
        args: argv,
        image: image.id.to_string(),
        config,
        host_config: req.host_config,
        state: State {
            started_at: ZERO_TIME.into(),
            finished_at: ZERO_TIME.into(),
            ..Default::default()
        },
        restart_count: 0,
        mounts: mount_points.clone(),
        networks: attachments,
        network: Default::default(),
    };
    Ok((c, mount_points, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_merge() {
        let base = vec!["PATH=/bin".to_string(), "A=1".to_string()];
        let over = vec!["A=2".to_string(), "B=3".to_string(), "C".to_string()];
        assert_eq!(merge_env(&base, &over), vec!["PATH=/bin", "A=2", "B=3"]);
    }
}
