//! A container as the daemon keeps it (`containers/ID/container.json`), in the
//! shapes of Docker's API: `Config`, `HostConfig` and `State`.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// `Config` of ContainerCreate and ContainerInspect.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Config {
    pub hostname: String,
    pub domainname: String,
    pub user: String,
    pub attach_stdin: bool,
    pub attach_stdout: bool,
    pub attach_stderr: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exposed_ports: Option<BTreeMap<String, Value>>,
    pub tty: bool,
    pub open_stdin: bool,
    pub stdin_once: bool,
    pub env: Option<Vec<String>>,
    pub cmd: Option<Vec<String>>,
    pub image: String,
    pub volumes: Option<BTreeMap<String, Value>>,
    pub working_dir: String,
    pub entrypoint: Option<Vec<String>>,
    pub labels: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stop_timeout: Option<i64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct RestartPolicy {
    pub name: String,
    pub maximum_retry_count: i64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct PortBinding {
    pub host_ip: String,
    pub host_port: String,
}

/// `HostConfig`: what the host gives the container.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct HostConfig {
    pub binds: Option<Vec<String>>,
    pub network_mode: String,
    pub port_bindings: Option<BTreeMap<String, Option<Vec<PortBinding>>>>,
    pub restart_policy: RestartPolicy,
    pub auto_remove: bool,
    pub cap_add: Option<Vec<String>>,
    pub cap_drop: Option<Vec<String>>,
    pub readonly_rootfs: bool,
    pub memory: i64,
    pub nano_cpus: i64,
    pub cpu_quota: i64,
    pub cpu_period: i64,
    pub pids_limit: Option<i64>,
    pub init: Option<bool>,
    pub links: Option<Vec<String>>,
    pub publish_all_ports: bool,
    pub privileged: bool,
    pub security_opt: Option<Vec<String>>,
    pub log_config: Value,
}

/// ContainerCreate's body: `Config` with `HostConfig` and
/// `NetworkingConfig` inside.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct CreateRequest {
    #[serde(flatten)]
    pub config: Config,
    pub host_config: HostConfig,
    pub networking_config: NetworkingConfig,
}

/// `NetworkingConfig` of ContainerCreate: settings per network.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkingConfig {
    pub endpoints_config: Option<BTreeMap<String, Option<EndpointConfig>>>,
}

/// An `EndpointSettings` as a client sends it (create, network connect).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct EndpointConfig {
    pub aliases: Option<Vec<String>>,
    #[serde(rename = "IPAMConfig")]
    pub ipam_config: Option<EndpointIpam>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct EndpointIpam {
    #[serde(rename = "IPv4Address")]
    pub ipv4_address: Option<String>,
}

/// A network the container is on, and its settings there (kept while it
/// is stopped too; the addresses come with each start).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase", default)]
pub struct Attachment {
    #[serde(rename = "NetworkID")]
    pub network_id: String,
    pub aliases: Vec<String>,
    /// The address asked for (`--ip`).
    #[serde(rename = "IPv4Address")]
    pub ipv4_address: Option<std::net::Ipv4Addr>,
}

#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    #[default]
    Created,
    Running,
    Restarting,
    Exited,
    Removing,
    Dead,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Restarting => "restarting",
            Status::Exited => "exited",
            Status::Removing => "removing",
            Status::Dead => "dead",
        }
    }
}

/// `State` of ContainerInspect, plus what the daemon needs to find the shim.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct State {
    pub status: Status,
    pub pid: i32,
    pub exit_code: i32,
    pub error: String,
    #[serde(rename = "OOMKilled")]
    pub oom_killed: bool,
    pub started_at: String,
    pub finished_at: String,
    /// The shim's pid while the container runs.
    pub shim_pid: i32,
    /// Stopped by the user (stop, kill): restart policies leave it alone.
    pub stopped_by_user: bool,
}

pub const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// The daemon's record of one container.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Container {
    pub id: String,
    /// Without the leading `/`.
    pub name: String,
    pub created: String,
    pub path: String,
    pub args: Vec<String>,
    /// The image id (`sha256:…`).
    pub image: String,
    pub config: Config,
    pub host_config: HostConfig,
    pub state: State,
    pub restart_count: i64,
    #[serde(default)]
    pub mounts: Vec<super::mounts::MountPoint>,
    /// The networks it is on, by name (`NetworkMode`'s first).
    #[serde(default)]
    pub networks: BTreeMap<String, Attachment>,
    /// Where the container sits on its networks and what it publishes, while it runs.
    #[serde(default)]
    pub network: NetworkState,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkState {
    /// Records written before user-defined networks: read and moved into
    /// `endpoints` when the record is loaded.
    #[serde(skip_serializing)]
    pub endpoint: Option<crate::network::Endpoint>,
    /// Network name → the container's interface and address on it.
    pub endpoints: BTreeMap<String, crate::network::Endpoint>,
    /// `"80/tcp"` → the host bindings actually made.
    pub ports: BTreeMap<String, Vec<PortBinding>>,
}

impl HostConfig {
    /// Whether the default seccomp filter applies (`seccomp=unconfined` lifts it).
    pub fn seccomp(&self) -> bool {
        !self
            .security_opt
            .iter()
            .flatten()
            .any(|o| o == "seccomp=unconfined" || o == "seccomp:unconfined")
    }
}

impl Container {
    pub fn short_id(&self) -> &str {
        &self.id[..12]
    }

    /// The network `NetworkMode` names: `bridge`, `host`, `none` or a
    /// user-defined network's name.
    pub fn primary_network(&self) -> &str {
        match self.host_config.network_mode.as_str() {
            "" | "default" => "bridge",
            m => m,
        }
    }

    /// The endpoint on the primary network (where published ports lead).
    pub fn primary_endpoint(&self) -> Option<&crate::network::Endpoint> {
        self.network
            .endpoints
            .get(self.primary_network())
            .or_else(|| self.network.endpoints.values().next())
    }

    /// The networks in the order their interfaces are made: the primary
    /// one first (`eth0`), then the others by name.
    pub fn networks_in_order(&self) -> Vec<(&String, &Attachment)> {
        let primary = self.primary_network();
        let mut out: Vec<_> = self.networks.iter().collect();
        out.sort_by_key(|(name, _)| (name.as_str() != primary, name.as_str()));
        out
    }

    /// Moves what older records kept into today's fields.
    pub fn upgrade_record(&mut self) {
        if let Some(ep) = self.network.endpoint.take() {
            let name = self.primary_network().to_string();
            self.network.endpoints.entry(name).or_insert(ep);
        }
        if self.networks.is_empty() {
            self.networks
                .insert(self.primary_network().to_string(), Attachment::default());
        }
    }

    pub fn is_running(&self) -> bool {
        matches!(self.state.status, Status::Running | Status::Restarting)
    }

    /// The command as `ps` shows it.
    pub fn command_line(&self) -> String {
        std::iter::once(self.path.as_str())
            .chain(self.args.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" ")
    }
}
