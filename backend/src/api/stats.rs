//! `GET /containers/{id}/stats?stream=&one-shot=`: Docker's stats JSON — CPU
//! (with the previous reading as `precpu_stats`, so clients compute CPU %),
//! memory, pids, block I/O and network — once, or a line a second.

use super::error::ApiResult;
use super::params::Params;
use super::State;
use crate::runtime::stats::{sample, Sample};
use axum::body::Body;
use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use std::time::Duration;

/// Between the two readings of a single answer (Docker waits a second; half
/// is enough for a CPU figure and makes `stats --no-stream` quicker).
const SINGLE_GAP: Duration = Duration::from_millis(500);
const STREAM_EVERY: Duration = Duration::from_secs(1);

fn time(nanos: i64) -> String {
    if nanos == 0 {
        return crate::container::model::ZERO_TIME.to_string();
    }
    crate::timefmt::rfc3339_of_nanos(nanos)
}

fn cpu_json(s: &Sample) -> Value {
    json!({
        "cpu_usage": {
            "total_usage": s.cpu_total,
            "percpu_usage": if s.cpu_percpu.is_empty() { Value::Null } else { json!(s.cpu_percpu) },
            "usage_in_kernelmode": s.cpu_system,
            "usage_in_usermode": s.cpu_user,
        },
        "system_cpu_usage": s.system_cpu,
        "online_cpus": s.online_cpus,
        "throttling_data": {"periods": 0, "throttled_periods": 0, "throttled_time": 0},
    })
}

/// One stats object: `now` with `before` as the previous reading.
pub fn stats_json(name: &str, id: &str, now: &Sample, before: &Sample) -> Value {
    let blkio: Vec<Value> = now
        .blkio
        .iter()
        .map(|(major, minor, op, value)| json!({"major": major, "minor": minor, "op": op, "value": value}))
        .collect();
    let networks: serde_json::Map<String, Value> = now
        .networks
        .iter()
        .map(|(n, d)| {
            (
                n.clone(),
                json!({
                    "rx_bytes": d.rx_bytes, "rx_packets": d.rx_packets,
                    "rx_errors": d.rx_errors, "rx_dropped": d.rx_dropped,
                    "tx_bytes": d.tx_bytes, "tx_packets": d.tx_packets,
                    "tx_errors": d.tx_errors, "tx_dropped": d.tx_dropped,
                }),
            )
        })
        .collect();
    let mut v = json!({
        "read": time(now.read_nano),
        "preread": time(before.read_nano),
        "pids_stats": {"current": now.pids},
        "blkio_stats": {
            "io_service_bytes_recursive": if blkio.is_empty() { Value::Null } else { json!(blkio) },
            "io_serviced_recursive": null, "io_queue_recursive": null, "io_service_time_recursive": null,
            "io_wait_time_recursive": null, "io_merged_recursive": null, "io_time_recursive": null,
            "sectors_recursive": null,
        },
        "num_procs": 0,
        "storage_stats": {},
        "cpu_stats": cpu_json(now),
        "precpu_stats": cpu_json(before),
        "memory_stats": {
            "usage": now.mem_usage,
            "max_usage": now.mem_max_usage,
            "stats": now.mem_stats,
            "limit": now.mem_limit,
        },
        "name": format!("/{}", name.trim_start_matches('/')),
        "id": id,
    });
    if let Some(l) = now.pids_limit {
        v["pids_stats"]["limit"] = json!(l);
    }
    if !networks.is_empty() {
        v["networks"] = Value::Object(networks);
    }
    v
}

async fn read(id: String, pid: i32) -> Sample {
    tokio::task::spawn_blocking(move || sample(&id, pid))
        .await
        .unwrap_or_default()
}

pub async fn stats(state: State, Path(id): Path<String>, p: Params) -> ApiResult<Response> {
    let c = state.containers.store.get(&id)?;
    let stream = p.value("stream").map_or(Ok(true), |_| p.flag("stream"))?;
    let one_shot = p.flag("one-shot")?;
    let (cid, name) = (c.id.clone(), c.name.clone());
    let running = c.is_running();
    let pid = c.state.pid;
    let line = |v: Value| {
        let mut b = serde_json::to_vec(&v).unwrap_or_default();
        b.push(b'\n');
        bytes::Bytes::from(b)
    };
    if !running {
        // Docker answers zeros for a container that is not running.
        let zero = Sample::default();
        let body = line(stats_json(&name, &cid, &zero, &zero));
        return Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response());
    }
    if !stream {
        let first = if one_shot {
            Sample::default()
        } else {
            let s = read(cid.clone(), pid).await;
            tokio::time::sleep(SINGLE_GAP).await;
            s
        };
        let now = read(cid.clone(), pid).await;
        let body = line(stats_json(&name, &cid, &now, &first));
        return Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response());
    }
    let sup = state.containers.clone();
    let (tx, rx) = tokio::sync::mpsc::channel::<bytes::Bytes>(4);
    tokio::spawn(async move {
        let mut before = Sample::default();
        loop {
            let now = read(cid.clone(), pid).await;
            if tx
                .send(line(stats_json(&name, &cid, &now, &before)))
                .await
                .is_err()
            {
                return;
            }
            before = now;
            tokio::time::sleep(STREAM_EVERY).await;
            match sup.store.get(&cid) {
                Ok(c) if c.is_running() && c.state.pid == pid => {}
                _ => return,
            }
        }
    });
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, std::io::Error>(b), rx))
    });
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        Body::from_stream(body),
    )
        .into_response())
}
