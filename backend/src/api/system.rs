//! `/_ping`, `/version` and `/info`: what every docker command asks first.

use super::{error::ApiResult, State};
use crate::hostinfo;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::IntoResponse;
use axum::Json;
use berth_types::{API_VERSION, MIN_API_VERSION};
use serde_json::{json, Value};

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// `GET|HEAD /_ping`: `OK` plus the negotiation headers.
pub async fn ping() -> impl IntoResponse {
    let mut h = HeaderMap::new();
    h.insert("Docker-Experimental", HeaderValue::from_static("false"));
    h.insert("Builder-Version", HeaderValue::from_static("1"));
    h.insert("Swarm", HeaderValue::from_static("inactive"));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-store, must-revalidate"),
    );
    h.insert("Pragma", HeaderValue::from_static("no-cache"));
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    (h, "OK")
}

pub async fn version() -> Json<Value> {
    let kernel = hostinfo::kernel_version();
    let arch = crate::image::import::host_architecture();
    Json(json!({
        "Platform": {"Name": "Berth"},
        "Components": [{
            "Name": "Engine",
            "Version": VERSION,
            "Details": {
                "ApiVersion": API_VERSION, "MinAPIVersion": MIN_API_VERSION, "Arch": arch,
                "Os": "linux", "KernelVersion": kernel, "Experimental": "false",
                "GitCommit": "", "GoVersion": "", "BuildTime": ""
            }
        }],
        "Version": VERSION,
        "ApiVersion": API_VERSION,
        "MinAPIVersion": MIN_API_VERSION,
        "GitCommit": "",
        "GoVersion": "",
        "Os": "linux",
        "Arch": arch,
        "KernelVersion": kernel,
        "BuildTime": ""
    }))
}

pub async fn info(state: State) -> ApiResult<Json<Value>> {
    let images = state.images.list().len();
    let root = state.data_root.display().to_string();
    Ok(Json(json!({
        "ID": state.daemon_id,
        "Containers": 0, "ContainersRunning": 0, "ContainersPaused": 0, "ContainersStopped": 0,
        "Images": images,
        "Driver": "overlay2",
        "DriverStatus": [["Backing Filesystem", hostinfo::fs_type(&state.data_root)], ["Supports d_type", "true"]],
        "Plugins": {"Volume": ["local"], "Network": ["bridge", "host", "none"], "Authorization": null,
                    "Log": ["json-file"]},
        "MemoryLimit": true, "SwapLimit": false, "CpuCfsPeriod": true, "CpuCfsQuota": true,
        "CPUShares": true, "CPUSet": true, "PidsLimit": true, "IPv4Forwarding": true,
        "Debug": false, "NFd": 0, "OomKillDisable": false, "NGoroutines": 0,
        "SystemTime": crate::timefmt::now_rfc3339(),
        "LoggingDriver": "json-file",
        "CgroupDriver": "cgroupfs",
        "CgroupVersion": hostinfo::cgroup_version(),
        "NEventsListener": 0,
        "KernelVersion": hostinfo::kernel_version(),
        "OperatingSystem": hostinfo::os_name(),
        "OSVersion": "",
        "OSType": "linux",
        "Architecture": std::env::consts::ARCH,
        "IndexServerAddress": "https://index.docker.io/v1/",
        "RegistryConfig": state.transport.registry_config(),
        "NCPU": hostinfo::cpus(),
        "MemTotal": hostinfo::mem_total(),
        "DockerRootDir": root,
        "HttpProxy": "", "HttpsProxy": "", "NoProxy": "",
        "Name": hostinfo::hostname(),
        "Labels": [],
        "ExperimentalBuild": false,
        "ServerVersion": VERSION,
        "Runtimes": {"berth": {"path": "berth"}},
        "DefaultRuntime": "berth",
        "Swarm": {"NodeID": "", "NodeAddr": "", "LocalNodeState": "inactive", "ControlAvailable": false,
                  "Error": "", "RemoteManagers": null},
        "LiveRestoreEnabled": true,
        "Isolation": "",
        "InitBinary": "",
        "SecurityOptions": ["name=seccomp,profile=builtin", "name=no-new-privileges"],
        "Warnings": []
    })))
}

/// `GET /berth/host`: the host's CPU use over a quarter second, memory,
/// the data root's disk, and the counts of containers and images (the
/// caller's teams' for non-admins), for the dashboard's home page.
pub async fn host(state: State, who: crate::auth::Principal) -> ApiResult<Json<Value>> {
    let busy = || -> (u64, u64) {
        let text = std::fs::read_to_string("/proc/stat").unwrap_or_default();
        let v: Vec<u64> = text
            .lines()
            .next()
            .unwrap_or("")
            .split_whitespace()
            .skip(1)
            .filter_map(|x| x.parse().ok())
            .collect();
        let total: u64 = v.iter().take(8).sum();
        let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
        (total, idle)
    };
    let (t0, i0) = busy();
    tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    let (t1, i1) = busy();
    let dt = t1.saturating_sub(t0).max(1) as f64;
    let cpu = (1.0 - i1.saturating_sub(i0) as f64 / dt) * 100.0;
    let (disk_total, disk_free) = hostinfo::disk(&state.data_root);
    let containers = super::ownership::visible(&state, &who, "container").await?;
    let images = super::ownership::visible(&state, &who, "image").await?;
    let cs: Vec<_> = state
        .containers
        .store
        .list()
        .into_iter()
        .filter(|c| super::ownership::sees(&containers, &c.id))
        .collect();
    let image_count = state
        .images
        .list()
        .iter()
        .filter(|i| !i.tags.is_empty() && super::ownership::sees(&images, i.id.as_str()))
        .count();
    Ok(Json(json!({
        "Cpus": hostinfo::cpus(),
        "CpuPercent": (cpu.clamp(0.0, 100.0) * 100.0).round() / 100.0,
        "MemTotal": hostinfo::mem_total(),
        "MemAvailable": hostinfo::mem_available(),
        "DiskTotal": disk_total,
        "DiskFree": disk_free,
        "Containers": cs.len(),
        "ContainersRunning": cs.iter().filter(|c| c.is_running()).count(),
        "Images": image_count,
    })))
}

/// `GET /berth/system/check`: the image store verified against itself
/// (`image::check`), and every container's image present. Admins only.
pub async fn check(state: State) -> ApiResult<Json<crate::image::check::CheckReport>> {
    let images = state.images.clone();
    let mut report = tokio::task::spawn_blocking(move || images.check())
        .await
        .map_err(|e| super::error::ApiError::internal(format!("task failed: {e}")))?;
    for c in state.containers.store.list() {
        let present = c
            .image
            .parse::<crate::image::Digest>()
            .is_ok_and(|id| state.images.get_by_id(&id).is_some());
        if !present {
            report.problems.push(format!(
                "container {}: its image {} is not in the store",
                c.name, c.image
            ));
        }
    }
    Ok(Json(report))
}
