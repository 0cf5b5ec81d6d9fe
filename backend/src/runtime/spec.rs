//! The OCI runtime spec (`config.json`) of a container: its process, Docker's
//! default mounts, namespaces, capabilities and masked/read-only kernel paths.

use oci_spec::runtime::Spec;
use serde_json::json;
use std::path::PathBuf;

/// How the network namespace is set up.
#[derive(Debug, Clone, PartialEq)]
pub enum NetworkMode {
    /// A new namespace with only loopback.
    None,
    /// The host's namespace.
    Host,
    /// A prepared namespace (the bridge's), joined by path.
    Path(PathBuf),
}

/// Everything the spec is built from, already resolved (user ids, capabilities).
#[derive(Debug, Clone)]
pub struct SpecInput {
    /// A pseudo terminal for the process (`-t`).
    pub terminal: bool,
    pub args: Vec<String>,
    pub env: Vec<String>,
    pub cwd: String,
    pub uid: u32,
    pub gid: u32,
    pub additional_gids: Vec<u32>,
    pub hostname: String,
    pub capabilities: Vec<String>,
    pub readonly_rootfs: bool,
    pub network: NetworkMode,
    /// Files bind-mounted over /etc/hosts, /etc/hostname, /etc/resolv.conf.
    pub etc_files: Vec<(PathBuf, &'static str)>,
}

/// Docker's masked paths.
pub const MASKED_PATHS: [&str; 11] = [
    "/proc/asound",
    "/proc/acpi",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
];

/// Docker's read-only paths.
pub const READONLY_PATHS: [&str; 5] = [
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

pub fn build(input: &SpecInput) -> Result<Spec, String> {
    let mut namespaces = vec![
        json!({"type": "pid"}),
        json!({"type": "ipc"}),
        json!({"type": "uts"}),
        json!({"type": "mount"}),
    ];
    match &input.network {
        NetworkMode::Host => {}
        NetworkMode::None => namespaces.push(json!({"type": "network"})),
        NetworkMode::Path(p) => namespaces.push(json!({"type": "network", "path": p})),
    }
    let mut mounts = vec![
        json!({"destination": "/proc", "type": "proc", "source": "proc", "options": ["nosuid", "noexec", "nodev"]}),
        json!({"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]}),
        json!({"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]}),
        json!({"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]}),
        json!({"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]}),
        json!({"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]}),
    ];
    for (src, dest) in &input.etc_files {
        mounts.push(json!({"destination": dest, "type": "bind", "source": src, "options": ["rbind", "rprivate"]}));
    }
    let spec = json!({
        "ociVersion": "1.0.2",
        "process": {
            "terminal": input.terminal,
            "user": {"uid": input.uid, "gid": input.gid, "additionalGids": input.additional_gids},
            "args": input.args,
            "env": input.env,
            "cwd": if input.cwd.is_empty() { "/" } else { input.cwd.as_str() },
            "capabilities": {
                "bounding": input.capabilities,
                "effective": input.capabilities,
                "permitted": input.capabilities,
                "inheritable": input.capabilities,
            },
            "noNewPrivileges": true,
        },
        "root": {"path": "rootfs", "readonly": input.readonly_rootfs},
        "hostname": input.hostname,
        "mounts": mounts,
        "linux": {
            "namespaces": namespaces,
            "maskedPaths": MASKED_PATHS,
            "readonlyPaths": READONLY_PATHS,
        },
    });
    serde_json::from_value(spec).map_err(|e| format!("runtime spec: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_has_docker_defaults() {
        let s = build(&SpecInput {
            terminal: false,
            args: vec!["sh".into()],
            env: vec!["PATH=/bin".into()],
            cwd: String::new(),
            uid: 0,
            gid: 0,
            additional_gids: vec![],
            hostname: "abc".into(),
            capabilities: crate::runtime::caps::resolve(&[], &[]).unwrap(),
            readonly_rootfs: false,
            network: NetworkMode::None,
            etc_files: vec![],
        })
        .unwrap();
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v["process"]["cwd"], "/");
        assert_eq!(v["linux"]["namespaces"].as_array().unwrap().len(), 5);
        assert!(v["linux"]["maskedPaths"]
            .to_string()
            .contains("/proc/kcore"));
        assert_eq!(
            v["process"]["capabilities"]["bounding"]
                .as_array()
                .unwrap()
                .len(),
            14
        );
    }
}
