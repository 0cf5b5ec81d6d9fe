//! The home page: the host's CPU, memory and the data root's disk, the
//! counts of containers and images, and charts of the last two minutes,
//! from `/berth/host` every two seconds.

use super::container_stats::sparkline;
use crate::api;
use berth_types::units::{bytes_size, human_size};
use leptos::prelude::*;
use serde::Deserialize;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

#[derive(Debug, Clone, Deserialize, PartialEq, Default)]
#[serde(rename_all = "PascalCase")]
struct Host {
    cpus: u64,
    cpu_percent: f64,
    mem_total: u64,
    mem_available: u64,
    disk_total: u64,
    disk_free: u64,
    containers: u64,
    containers_running: u64,
    images: u64,
}

const KEEP: usize = 60;

#[component]
pub fn HomePage() -> impl IntoView {
    let history = RwSignal::new(Vec::<Host>::new());
    let error = RwSignal::new(None::<String>);
    let stop = Arc::new(AtomicBool::new(false));
    let stop2 = stop.clone();
    leptos::task::spawn_local(async move {
        while !stop2.load(Ordering::Relaxed) {
            match api::get::<Host>("/berth/host").await {
                Ok(h) => {
                    let _ = error.try_set(None);
                    let _ = history.try_update(|v| {
                        v.push(h);
                        if v.len() > KEEP {
                            v.remove(0);
                        }
                    });
                }
                Err(e) => {
                    let _ = error.try_set(Some(e));
                }
            }
            api::sleep_ms(2000).await;
        }
    });
    on_cleanup(move || stop.store(true, Ordering::Relaxed));
    view! {
        <div class="page-head"><h1>"Home"</h1></div>
        {move || error.get().map(|e| view! { <p class="error">{e}</p> })}
        {move || {
            let h = history.get();
            match h.last().cloned() {
                None => view! { <p class="muted">"Reading the host…"</p> }.into_any(),
                Some(now) => {
                    let cpu: Vec<f64> = h.iter().map(|x| x.cpu_percent).collect();
                    let mem: Vec<f64> = h.iter().map(|x| x.mem_total.saturating_sub(x.mem_available) as f64).collect();
                    let used_mem = now.mem_total.saturating_sub(now.mem_available);
                    let used_disk = now.disk_total.saturating_sub(now.disk_free);
                    view! {
                        <div class="home-grid">
                            <div class="panel home-card">
                                <div class="muted small">{format!("CPU ({} cores)", now.cpus)}</div>
                                <div class="big home-cpu">{format!("{:.1}%", now.cpu_percent)}</div>
                                {sparkline(&cpu, 100.0, "spark-cpu")}
                            </div>
                            <div class="panel home-card">
                                <div class="muted small">"Memory"</div>
                                <div class="big home-mem">{format!("{} / {}", bytes_size(used_mem), bytes_size(now.mem_total))}</div>
                                {sparkline(&mem, now.mem_total as f64, "spark-mem")}
                            </div>
                            <div class="panel home-card">
                                <div class="muted small">"Disk (data root)"</div>
                                <div class="big home-disk">{format!("{} / {}", human_size(used_disk as i64), human_size(now.disk_total as i64))}</div>
                                <div class="bar"><div class="fill" style=format!("width: {}%", (used_disk * 100).checked_div(now.disk_total).unwrap_or(0))></div></div>
                            </div>
                            <a class="panel home-card home-link" href="/ui/containers">
                                <div class="muted small">"Containers"</div>
                                <div class="big home-containers">{format!("{} running of {}", now.containers_running, now.containers)}</div>
                            </a>
                            <a class="panel home-card home-link" href="/ui/images">
                                <div class="muted small">"Images"</div>
                                <div class="big home-images">{now.images}</div>
                            </a>
                        </div>
                    }.into_any()
                }
            }
        }}
    }
}
