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
