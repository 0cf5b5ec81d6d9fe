//! System commands of the CLI: version, info, events, check.

use super::http::{self, Client};
use super::images::filters_json;
use anyhow::{Context, Result};
use berth_types::EventMessage;
use clap::Args;
use hyper::Method;
use serde_json::Value;
use std::io::Write;
use std::process::ExitCode;

pub async fn version(client: &Client) -> Result<ExitCode> {
    println!("Client:");
    println!(" Version:           {}", env!("CARGO_PKG_VERSION"));
    println!(" API version:       {}", berth_types::API_VERSION);
    println!(
        " OS/Arch:           linux/{}",
        crate::image::import::host_architecture()
    );
    println!();
    let v: Value = client.get_json("/version").await?;
    let s = |k: &str| v[k].as_str().unwrap_or("").to_string();
    println!(
        "Server: {}",
        v["Platform"]["Name"].as_str().unwrap_or("Berth")
    );
    println!(" Engine:");
    println!("  Version:          {}", s("Version"));
    println!(
        "  API version:      {} (minimum version {})",
        s("ApiVersion"),
        s("MinAPIVersion")
    );
    println!("  OS/Arch:          {}/{}", s("Os"), s("Arch"));
    println!("  Kernel Version:   {}", s("KernelVersion"));
    Ok(ExitCode::SUCCESS)
}

pub async fn info(client: &Client) -> Result<ExitCode> {
    let v: Value = client.get_json("/info").await?;
    let s = |k: &str| match &v[k] {
        Value::String(x) => x.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    println!("Client:");
    println!(" Version:    {}", env!("CARGO_PKG_VERSION"));
    println!();
    println!("Server:");
    println!(" Containers: {}", s("Containers"));
    println!("  Running: {}", s("ContainersRunning"));
    println!("  Paused: {}", s("ContainersPaused"));
    println!("  Stopped: {}", s("ContainersStopped"));
    println!(" Images: {}", s("Images"));
    println!(" Server Version: {}", s("ServerVersion"));
    println!(" Storage Driver: {}", s("Driver"));
    if let Some(st) = v["DriverStatus"].as_array() {
        for pair in st {
            println!(
                "  {}: {}",
                pair[0].as_str().unwrap_or(""),
                pair[1].as_str().unwrap_or("")
            );
        }
    }
    println!(" Logging Driver: {}", s("LoggingDriver"));
    println!(" Cgroup Driver: {}", s("CgroupDriver"));
    println!(" Cgroup Version: {}", s("CgroupVersion"));
    println!(" Default Runtime: {}", s("DefaultRuntime"));
    println!(" Kernel Version: {}", s("KernelVersion"));
    println!(" Operating System: {}", s("OperatingSystem"));
    println!(" OSType: {}", s("OSType"));
    println!(" Architecture: {}", s("Architecture"));
    println!(" CPUs: {}", s("NCPU"));
    println!(
        " Total Memory: {}",
        super::format::human_size(v["MemTotal"].as_i64().unwrap_or(0))
    );
    println!(" Name: {}", s("Name"));
    println!(" ID: {}", s("ID"));
    println!(" Berth Root Dir: {}", s("DockerRootDir"));
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Args)]
pub struct EventsArgs {
    /// Show all events created since timestamp (unix seconds, RFC 3339, or a duration like 10m)
    #[arg(long)]
    since: Option<String>,
    /// Stream events until this timestamp
    #[arg(long)]
    until: Option<String>,
    /// Filter output based on conditions provided (type=, event=, image=, container=)
    #[arg(short, long = "filter")]
    filter: Vec<String>,
    /// Print each event as JSON ("json" or "{{json .}}")
    #[arg(long)]
    format: Option<String>,
}

/// A CLI time (duration ago, unix seconds, RFC 3339) as the API's `secs.nanos`.
fn api_time(s: &str) -> Result<String> {
    let units = [("ms", 0.001), ("s", 1.0), ("m", 60.0), ("h", 3600.0)];
    for (u, mult) in units {
        if let Some(n) = s.strip_suffix(u).and_then(|n| n.parse::<f64>().ok()) {
            let secs = chrono::Utc::now().timestamp() as f64 - n * mult;
            return Ok(format!("{secs:.9}"));
        }
    }
    let nanos = crate::timefmt::parse_api_time(s).with_context(|| {
        format!("invalid time {s:?}: use unix seconds, RFC 3339, or a duration such as 10m")
    })?;
    Ok(format!(
        "{}.{:09}",
        nanos.div_euclid(1_000_000_000),
        nanos.rem_euclid(1_000_000_000)
    ))
}

pub async fn events(client: &Client, a: EventsArgs) -> Result<ExitCode> {
    let mut s = form_urlencoded::Serializer::new(String::new());
    if let Some(t) = &a.since {
        s.append_pair("since", &api_time(t)?);
    }
    if let Some(t) = &a.until {
        s.append_pair("until", &api_time(t)?);
    }
    s.append_pair("filters", &filters_json(&a.filter)?);
    let json = a
        .format
        .as_deref()
        .is_some_and(|f| f == "json" || f.replace(' ', "") == "{{json.}}");
    let res = client
        .send(
            Method::GET,
            &format!("/events?{}", s.finish()),
            http::empty(),
            None,
        )
        .await?;
    http::for_each_line(res, |line| {
        let e: EventMessage =
            serde_json::from_slice(line).map_err(|e| http::ClientError::Protocol(e.to_string()))?;
        if json {
            println!("{}", String::from_utf8_lossy(line));
        } else {
            let attrs: Vec<String> = e
                .object
                .attributes
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            let when = crate::timefmt::rfc3339_of_nanos(e.time_nano);
            let tail = if attrs.is_empty() {
                String::new()
            } else {
                format!(" ({})", attrs.join(", "))
            };
            println!("{when} {} {} {}{tail}", e.kind, e.action, e.object.id);
        }
        std::io::stdout().flush().ok();
        Ok(())
    })
    .await?;
    Ok(ExitCode::SUCCESS)
}

/// `berth system check`: the daemon verifies its store; problems exit 1.
pub async fn check(client: &Client) -> Result<ExitCode> {
    let r: Value = client.get_json("/berth/system/check").await?;
    let list = |k: &str| -> Vec<String> {
        r[k].as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect()
    };
    let (problems, notes) = (list("Problems"), list("Notes"));
    for n in &notes {
        println!("note: {n}");
    }
    for p in &problems {
        println!("problem: {p}");
    }
    let n = |k: &str| r[k].as_u64().unwrap_or(0);
    println!(
        "Checked {} images ({} references), {} blobs, {} layers: {}",
        n("Images"),
        n("References"),
        n("Blobs"),
        n("Layers"),
        match problems.len() {
            0 => "no problems".to_string(),
            1 => "1 problem".to_string(),
            k => format!("{k} problems"),
        }
    );
    Ok(super::exit_status(!problems.is_empty()))
}
