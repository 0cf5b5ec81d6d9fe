//! A running container's resource use on its page: CPU %, memory, network
//! and pids read every two seconds from `/containers/{id}/stats`, with
//! charts of the last two minutes.

use crate::api;
use berth_types::units::{bytes_size, human_size};
use leptos::prelude::*;
use serde_json::Value;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// How many readings the charts keep.
const KEEP: usize = 60;

#[derive(Clone, Default, PartialEq)]
struct Reading {
    cpu: f64,
    mem: u64,
    limit: u64,
    rx: u64,
    tx: u64,
    pids: u64,
}

fn reading(v: &Value) -> Reading {
    let f = |p: &str| v.pointer(p).and_then(Value::as_f64).unwrap_or(0.0);
    let cpu_d = f("/cpu_stats/cpu_usage/total_usage") - f("/precpu_stats/cpu_usage/total_usage");
    let sys_d = f("/cpu_stats/system_cpu_usage") - f("/precpu_stats/system_cpu_usage");
    let cpus = f("/cpu_stats/online_cpus").max(1.0);
    let usage = v.pointer("/memory_stats/usage").and_then(Value::as_u64).unwrap_or(0);
    let stats = &v["memory_stats"]["stats"];
    let inactive = stats["total_inactive_file"].as_u64().or_else(|| stats["inactive_file"].as_u64()).unwrap_or(0);
    let (mut rx, mut tx) = (0, 0);
    for n in v["networks"].as_object().into_iter().flat_map(|m| m.values()) {
        rx += n["rx_bytes"].as_u64().unwrap_or(0);
        tx += n["tx_bytes"].as_u64().unwrap_or(0);
    }
    Reading {
        cpu: if cpu_d > 0.0 && sys_d > 0.0 { cpu_d / sys_d * cpus * 100.0 } else { 0.0 },
        mem: usage.saturating_sub(if inactive < usage { inactive } else { 0 }),
        limit: v.pointer("/memory_stats/limit").and_then(Value::as_u64).unwrap_or(0),
        rx,
        tx,
        pids: v.pointer("/pids_stats/current").and_then(Value::as_u64).unwrap_or(0),
    }
}

/// An SVG polyline of `values` scaled to `max`.
pub fn sparkline(values: &[f64], max: f64, class: &'static str) -> impl IntoView {
    let (w, h) = (240.0, 48.0);
    let max = if max > 0.0 { max } else { 1.0 };
    let step = w / (KEEP.max(2) - 1) as f64;
    let start = KEEP.saturating_sub(values.len()) as f64 * step;
    let points: Vec<String> = values
        .iter()
        .enumerate()
        .map(|(i, v)| format!("{:.1},{:.1}", start + i as f64 * step, h - (v / max).min(1.0) * h))
        .collect();
    view! {
        <svg class=format!("spark {class}") viewBox="0 0 240 48" preserveAspectRatio="none">
            <polyline points=points.join(" ") fill="none" stroke-width="2"/>
        </svg>
    }
}

#[component]
pub fn Stats(id: String, running: bool) -> impl IntoView {
    let history = RwSignal::new(Vec::<Reading>::new());
    let error = RwSignal::new(None::<String>);
    let stop = Arc::new(AtomicBool::new(false));
    if running {
        let stop2 = stop.clone();
        leptos::task::spawn_local(async move {
            let path = format!("/containers/{}/stats?stream=false", api::escape(&id));
            while !stop2.load(Ordering::Relaxed) {
                match api::get::<Value>(&path).await {
                    Ok(v) => {
                        let r = reading(&v);
                        let _ = history.try_update(|h| {
                            h.push(r);
                            if h.len() > KEEP {
                                h.remove(0);
                            }
                        });
                    }
                    Err(e) => {
                        let _ = error.try_set(Some(e));
                        return;
                    }
                }
                api::sleep_ms(1500).await;
            }
        });
    }
    on_cleanup(move || stop.store(true, Ordering::Relaxed));
    view! {
        <div class="panel stats-panel">
            <h2>"Resource use"</h2>
            {(!running).then(|| view! { <p class="muted">"Start the container to see its resource use."</p> })}
            {move || error.get().map(|e| view! { <p class="error">{e}</p> })}
            {move || {
                let h = history.get();
                h.last().cloned().map(|now| {
                    let cpu: Vec<f64> = h.iter().map(|r| r.cpu).collect();
                    let mem: Vec<f64> = h.iter().map(|r| r.mem as f64).collect();
                    let cpu_max = cpu.iter().cloned().fold(100.0, f64::max);
                    view! {
                        <div class="stats-grid">
                            <div><div class="muted small">"CPU"</div><div class="stats-cpu big">{format!("{:.2}%", now.cpu)}</div>{sparkline(&cpu, cpu_max, "spark-cpu")}</div>
                            <div><div class="muted small">"Memory"</div><div class="stats-mem big">{format!("{} / {}", bytes_size(now.mem), bytes_size(now.limit))}</div>{sparkline(&mem, now.limit as f64, "spark-mem")}</div>
                            <div><div class="muted small">"Network in / out"</div><div class="stats-net big">{format!("{} / {}", human_size(now.rx as i64), human_size(now.tx as i64))}</div></div>
                            <div><div class="muted small">"Processes"</div><div class="stats-pids big">{now.pids}</div></div>
                        </div>
                    }
                })
            }}
        </div>
    }
}
