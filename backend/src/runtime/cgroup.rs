//! The container's control group, through cgroups-rs: `berth/<id>` in every
//! hierarchy (cgroup v1, v2, or a hybrid host like this one), with the memory,
//! CPU and pids limits of `docker run -m/--cpus/--pids-limit`.

use cgroups_rs::cgroup_builder::CgroupBuilder;
use cgroups_rs::{Cgroup, CgroupPid, MaxValue};

/// The CFS period used for `--cpus` (Docker's).
const CPU_PERIOD: u64 = 100_000;

#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize, PartialEq)]
pub struct Limits {
    /// Bytes; `None` for no limit.
    pub memory: Option<i64>,
    /// CPUs × 10⁹ (`NanoCpus`).
    pub nano_cpus: Option<i64>,
    pub pids: Option<i64>,
}

fn name(id: &str) -> String {
    format!("berth/{id}")
}

/// Creates (or reuses) the container's cgroup with `limits`.
pub fn create(id: &str, limits: &Limits) -> Result<Cgroup, String> {
    let mut b = CgroupBuilder::new(&name(id));
    if let Some(m) = limits.memory {
        b = b.memory().memory_hard_limit(m).done();
    }
    if let Some(n) = limits.nano_cpus {
        let quota = (n as u128 * CPU_PERIOD as u128 / 1_000_000_000) as i64;
        b = b.cpu().period(CPU_PERIOD).quota(quota.max(1000)).done();
    }
    if let Some(p) = limits.pids {
        b = b
            .pid()
            .maximum_number_of_processes(MaxValue::Value(p))
            .done();
    }
    b.build(cgroups_rs::hierarchies::auto())
        .map_err(|e| format!("create cgroup {}: {e}", name(id)))
}

/// Renames cgroup `from` to `to` (both under `berth/`) in every hierarchy,
/// processes and all; cgroup v1 allows this, v2 does not (an error then).
pub fn rename(from: &str, to: &str) -> Result<(), String> {
    let cg = load(from);
    let mut done: Vec<std::path::PathBuf> = Vec::new();
    for sub in cg.subsystems() {
        let path = sub.to_controller().path().to_path_buf();
        if done.contains(&path) {
            continue; // co-mounted controllers share a directory
        }
        let target = path.with_file_name(to);
        if let Err(e) = std::fs::rename(&path, &target) {
            for moved in done {
                let _ = std::fs::rename(moved.with_file_name(to), moved);
            }
            return Err(format!("rename cgroup {} to {to}: {e}", path.display()));
        }
        done.push(path);
    }
    Ok(())
}

/// Removes the spare cgroups (`berth/spare-PID`) of spare shims that are
/// gone; a live spare's cgroup is not empty and stays.
pub fn remove_stale_spares() {
    let probe = load("spare-probe");
    let Some(parent) = probe
        .subsystems()
        .first()
        .and_then(|s| s.to_controller().path().parent().map(|p| p.to_path_buf()))
    else {
        return;
    };
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with("spare-") {
            remove(&name);
        }
    }
}

/// Freezes (`true`) or thaws the container's processes (the freezer).
pub fn set_frozen(id: &str, frozen: bool) -> Result<(), String> {
    let cg = load(id);
    let freezer: &cgroups_rs::freezer::FreezerController = cg
        .controller_of()
        .ok_or_else(|| "no freezer controller on this host".to_string())?;
    if frozen {
        freezer.freeze()
    } else {
        freezer.thaw()
    }
    .map_err(|e| {
        format!(
            "{} container {id}: {e}",
            if frozen { "pause" } else { "unpause" }
        )
    })
}

/// Moves process `pid` into the cgroup.
pub fn add(cg: &Cgroup, pid: i32) -> Result<(), String> {
    cg.add_task_by_tgid(CgroupPid::from(pid as u64))
        .map_err(|e| format!("add process {pid} to its cgroup: {e}"))
}

/// The cgroup of a container that may already exist.
pub fn load(id: &str) -> Cgroup {
    Cgroup::load(cgroups_rs::hierarchies::auto(), name(id))
}

/// Whether the kernel's OOM killer ended a process in the cgroup.
pub fn oom_killed(id: &str) -> bool {
    let v1 = format!("/sys/fs/cgroup/memory/{}/memory.oom_control", name(id));
    let v2 = format!("/sys/fs/cgroup/{}/memory.events", name(id));
    [v1, v2].iter().any(|p| {
        std::fs::read_to_string(p).is_ok_and(|s| {
            s.lines().any(|l| {
                l.strip_prefix("oom_kill ")
                    .and_then(|n| n.trim().parse::<u64>().ok())
                    .is_some_and(|n| n > 0)
            })
        })
    })
}

/// Removes the container's cgroup (its processes must be gone).
pub fn remove(id: &str) {
    let cg = load(id);
    if let Err(e) = cg.delete() {
        tracing::debug!(%id, error = %e, "cgroup removal");
    }
}

/// The host pids in the container's cgroup.
pub fn pids(id: &str) -> Vec<u64> {
    load(id).procs().into_iter().map(|p| p.pid).collect()
}
