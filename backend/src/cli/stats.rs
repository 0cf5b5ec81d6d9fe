//! `berth stats` (and `container stats`): docker's table of CPU %, memory,
//! network and block I/O and pids per container, once (`--no-stream`) or
//! redrawn every second until interrupted.

use super::format::Table;
use super::http::Client;
use anyhow::Result;
use berth_types::units::{bytes_size, human_size};
use clap::Args;
use serde_json::Value;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct StatsArgs {
    /// Show all containers (default shows just running)
    #[arg(short = 'a', long)]
    all: bool,
    /// Disable streaming stats and only pull the first result
    #[arg(long)]
    no_stream: bool,
    /// Do not truncate output
    #[arg(long)]
    no_trunc: bool,
    containers: Vec<String>,
}

/// Docker's CPU %: the container's share of the host's CPU time since the
/// previous reading, times the CPUs.
pub fn cpu_percent(v: &Value) -> f64 {
    let f = |p: &str| v.pointer(p).and_then(Value::as_f64).unwrap_or(0.0);
    let cpu = f("/cpu_stats/cpu_usage/total_usage") - f("/precpu_stats/cpu_usage/total_usage");
    let sys = f("/cpu_stats/system_cpu_usage") - f("/precpu_stats/system_cpu_usage");
    let cpus = f("/cpu_stats/online_cpus").max(1.0);
    if cpu > 0.0 && sys > 0.0 {
        cpu / sys * cpus * 100.0
    } else {
        0.0
    }
}

/// Memory in use as docker counts it: without the inactive page cache.
pub fn mem_used(v: &Value) -> u64 {
    let usage = v
        .pointer("/memory_stats/usage")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let stats = &v["memory_stats"]["stats"];
    let inactive = stats["total_inactive_file"]
        .as_u64()
        .or_else(|| stats["inactive_file"].as_u64())
        .unwrap_or(0);
    if inactive < usage {
        usage - inactive
    } else {
        usage
    }
}

fn io_pair(v: &Value) -> (u64, u64, u64, u64) {
    let (mut rx, mut tx) = (0, 0);
    if let Some(nets) = v["networks"].as_object() {
        for n in nets.values() {
            rx += n["rx_bytes"].as_u64().unwrap_or(0);
            tx += n["tx_bytes"].as_u64().unwrap_or(0);
        }
    }
    let (mut r, mut w) = (0, 0);
    for e in v["blkio_stats"]["io_service_bytes_recursive"]
        .as_array()
        .into_iter()
        .flatten()
    {
        match e["op"].as_str().unwrap_or("").to_lowercase().as_str() {
            "read" => r += e["value"].as_u64().unwrap_or(0),
            "write" => w += e["value"].as_u64().unwrap_or(0),
            _ => {}
        }
    }
    (rx, tx, r, w)
}

fn row(v: &Value, no_trunc: bool) -> Vec<String> {
    let id = v["id"].as_str().unwrap_or_default();
    let used = mem_used(v);
    let limit = v
        .pointer("/memory_stats/limit")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let mem_pct = if limit > 0 {
        used as f64 / limit as f64 * 100.0
    } else {
        0.0
    };
    let (rx, tx, r, w) = io_pair(v);
    let size = |n: u64| human_size(n as i64);
    vec![
        if no_trunc {
            id.to_string()
        } else {
            id.chars().take(12).collect()
        },
        v["name"]
            .as_str()
            .unwrap_or_default()
            .trim_start_matches('/')
            .to_string(),
        format!("{:.2}%", cpu_percent(v)),
        format!("{} / {}", bytes_size(used), bytes_size(limit)),
        format!("{mem_pct:.2}%"),
        format!("{} / {}", size(rx), size(tx)),
        format!("{} / {}", size(r), size(w)),
        v.pointer("/pids_stats/current")
            .and_then(Value::as_u64)
            .unwrap_or(0)
            .to_string(),
    ]
}

async fn names(client: &Client, a: &StatsArgs) -> Result<Vec<String>> {
    if !a.containers.is_empty() {
        return Ok(a.containers.clone());
    }
    let path = if a.all {
        "/containers/json?all=1"
    } else {
        "/containers/json"
    };
    let list: Vec<Value> = client.get_json(path).await?;
    Ok(list
        .iter()
        .filter_map(|c| c["Id"].as_str().map(str::to_string))
        .collect())
}

/// One table: each container's stats, read at the same time.
async fn table(client: &Client, targets: &[String], no_trunc: bool) -> (String, bool) {
    let reads = targets.iter().map(|t| async move {
        client
            .get_json::<Value>(&format!("/containers/{t}/stats?stream=0"))
            .await
    });
    let results = futures_util::future::join_all(reads).await;
    let mut t = Table::new(&[
        "CONTAINER ID",
        "NAME",
        "CPU %",
        "MEM USAGE / LIMIT",
        "MEM %",
        "NET I/O",
        "BLOCK I/O",
        "PIDS",
    ]);
    let mut failed = false;
    for r in results {
        match r {
            Ok(v) => t.row(row(&v, no_trunc)),
            Err(e) => {
                eprintln!("{e}");
                failed = true;
            }
        }
    }
    (t.render(), failed)
}

pub async fn stats(client: &Client, a: StatsArgs) -> Result<ExitCode> {
    let named = !a.containers.is_empty();
    if a.no_stream {
        let targets = names(client, &a).await?;
        let (out, failed) = table(client, &targets, a.no_trunc).await;
        print!("{out}");
        return Ok(super::exit_status(failed && named));
    }
    let tty = std::io::stdout().is_terminal();
    loop {
        let targets = names(client, &a).await?;
        let (out, failed) = table(client, &targets, a.no_trunc).await;
        if failed && named {
            return Ok(ExitCode::from(1));
        }
        let mut so = std::io::stdout().lock();
        if tty {
            let _ = write!(so, "\x1b[2J\x1b[H");
        }
        let _ = write!(so, "{out}");
        let _ = so.flush();
        drop(so);
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cpu_and_memory_as_docker_counts_them() {
        let v = json!({
            "cpu_stats": {"cpu_usage": {"total_usage": 1_500_000_000u64}, "system_cpu_usage": 12_000_000_000u64, "online_cpus": 2},
            "precpu_stats": {"cpu_usage": {"total_usage": 1_000_000_000u64}, "system_cpu_usage": 10_000_000_000u64},
            "memory_stats": {"usage": 10_485_760, "limit": 104_857_600, "stats": {"total_inactive_file": 2_097_152}},
            "networks": {"eth0": {"rx_bytes": 1500, "tx_bytes": 800}},
            "blkio_stats": {"io_service_bytes_recursive": [{"op": "Read", "value": 4096}, {"op": "Write", "value": 8192}]},
            "pids_stats": {"current": 3},
            "id": "0123456789abcdef", "name": "/web"
        });
        assert!((cpu_percent(&v) - 50.0).abs() < 1e-9);
        assert_eq!(mem_used(&v), 8_388_608);
        assert_eq!(
            row(&v, false),
            [
                "0123456789ab",
                "web",
                "50.00%",
                "8MiB / 100MiB",
                "8.00%",
                "1.5kB / 800B",
                "4.1kB / 8.19kB",
                "3"
            ]
        );
    }
}
