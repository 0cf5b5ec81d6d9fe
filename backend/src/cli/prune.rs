//! `berth container|image|volume|network|builder|system prune` and `berth system df`,
//! with docker's confirmations and output.

use super::format::Table;
use super::http::{self, Client};
use super::images::with_filters;
use anyhow::Result;
use berth_types::units::human_size;
use clap::Args;
use hyper::Method;
use serde_json::Value;
use std::io::{BufRead, Write};
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Do not prompt for confirmation
    #[arg(short = 'f', long)]
    pub force: bool,
    /// Provide filter values (e.g. "until=24h", "label=k=v")
    #[arg(long = "filter")]
    pub filter: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ImagePruneArgs {
    /// Remove all unused images, not just dangling ones
    #[arg(short = 'a', long)]
    all: bool,
    #[command(flatten)]
    common: PruneArgs,
}

#[derive(Debug, Args)]
pub struct VolumePruneArgs {
    /// Remove all unused volumes, not just anonymous ones
    #[arg(short = 'a', long)]
    all: bool,
    #[command(flatten)]
    common: PruneArgs,
}

#[derive(Debug, Args)]
pub struct SystemPruneArgs {
    /// Remove all unused images not just dangling ones
    #[arg(short = 'a', long)]
    all: bool,
    /// Prune anonymous volumes
    #[arg(long)]
    volumes: bool,
    #[command(flatten)]
    common: PruneArgs,
}

#[derive(Debug, Args)]
pub struct DfArgs {
    /// Show detailed information on space usage
    #[arg(short = 'v', long)]
    verbose: bool,
}

/// Docker's "Are you sure" prompt; true to go on.
fn confirm(force: bool, warning: &str) -> Result<bool> {
    if force {
        return Ok(true);
    }
    print!("{warning}\nAre you sure you want to continue? [y/N] ");
    std::io::stdout().flush().ok();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim().to_lowercase().as_str(), "y" | "yes"))
}

async fn post(client: &Client, path: &str, filters: &[String]) -> Result<Value> {
    let path = with_filters(path, filters)?;
    let res = client
        .send(Method::POST, &path, http::empty(), None)
        .await?;
    Ok(http::read_json(res).await?)
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|x| x.as_str().map(str::to_string))
        .collect()
}

fn space(v: &Value) -> u64 {
    v["SpaceReclaimed"].as_u64().unwrap_or(0)
}

fn print_list(title: &str, items: &[String]) {
    if !items.is_empty() {
        println!("{title}:");
        for i in items {
            println!("{i}");
        }
        println!();
    }
}

fn image_lines(v: &Value) -> Vec<String> {
    v["ImagesDeleted"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| {
            e["Untagged"]
                .as_str()
                .map(|t| format!("untagged: {t}"))
                .or_else(|| e["Deleted"].as_str().map(|d| format!("deleted: {d}")))
        })
        .collect()
}

async fn containers(client: &Client, filters: &[String]) -> Result<u64> {
    let v = post(client, "/containers/prune", filters).await?;
    print_list("Deleted Containers", &strings(&v["ContainersDeleted"]));
    Ok(space(&v))
}

async fn images(client: &Client, all: bool, filters: &[String]) -> Result<u64> {
    let mut f = filters.to_vec();
    if all {
        f.push("dangling=false".into());
    }
    let v = post(client, "/images/prune", &f).await?;
    print_list("Deleted Images", &image_lines(&v));
    Ok(space(&v))
}

async fn volumes(client: &Client, all: bool, filters: &[String]) -> Result<u64> {
    let mut f = filters.to_vec();
    if all {
        f.push("all=true".into());
    }
    let v = post(client, "/volumes/prune", &f).await?;
    print_list("Deleted Volumes", &strings(&v["VolumesDeleted"]));
    Ok(space(&v))
}

async fn networks(client: &Client, filters: &[String]) -> Result<()> {
    let v = post(client, "/networks/prune", filters).await?;
    print_list("Deleted Networks", &strings(&v["NetworksDeleted"]));
    Ok(())
}

pub async fn network_prune(client: &Client, a: PruneArgs) -> Result<ExitCode> {
    if !confirm(
        a.force,
        "WARNING! This will remove all custom networks not used by at least one container.",
    )? {
        return Ok(ExitCode::SUCCESS);
    }
    networks(client, &a.filter).await?;
    Ok(ExitCode::SUCCESS)
}

async fn build_cache(client: &Client) -> Result<u64> {
    let v = post(client, "/build/prune", &[]).await?;
    print_list("Deleted build cache objects", &strings(&v["CachesDeleted"]));
    Ok(space(&v))
}

fn total(bytes: u64) -> ExitCode {
    println!("Total reclaimed space: {}", human_size(bytes as i64));
    ExitCode::SUCCESS
}

pub async fn container_prune(client: &Client, a: PruneArgs) -> Result<ExitCode> {
    if !confirm(a.force, "WARNING! This will remove all stopped containers.")? {
        return Ok(ExitCode::SUCCESS);
    }
    Ok(total(containers(client, &a.filter).await?))
}

pub async fn image_prune(client: &Client, a: ImagePruneArgs) -> Result<ExitCode> {
    let warning = if a.all {
        "WARNING! This will remove all images without at least one container associated to them."
    } else {
        "WARNING! This will remove all dangling images."
    };
    if !confirm(a.common.force, warning)? {
        return Ok(ExitCode::SUCCESS);
    }
    Ok(total(images(client, a.all, &a.common.filter).await?))
}

pub async fn volume_prune(client: &Client, a: VolumePruneArgs) -> Result<ExitCode> {
    let warning = if a.all {
        "WARNING! This will remove all local volumes not used by at least one container."
    } else {
        "WARNING! This will remove anonymous local volumes not used by at least one container."
    };
    if !confirm(a.common.force, warning)? {
        return Ok(ExitCode::SUCCESS);
    }
    Ok(total(volumes(client, a.all, &a.common.filter).await?))
}

pub async fn builder_prune(client: &Client, a: PruneArgs) -> Result<ExitCode> {
    if !confirm(
        a.force,
        "WARNING! This will remove all dangling build cache.",
    )? {
        return Ok(ExitCode::SUCCESS);
    }
    Ok(total(build_cache(client).await?))
}

pub async fn system_prune(client: &Client, a: SystemPruneArgs) -> Result<ExitCode> {
    let mut warning = String::from(
        "WARNING! This will remove:\n  - all stopped containers\n  - all networks not used by at least one container\n",
    );
    if a.volumes {
        warning.push_str("  - all anonymous volumes not used by at least one container\n");
    }
    warning.push_str(if a.all {
        "  - all images without at least one container associated to them\n"
    } else {
        "  - all dangling images\n"
    });
    warning.push_str("  - all build cache\n");
    if !confirm(a.common.force, &warning)? {
        return Ok(ExitCode::SUCCESS);
    }
    let f = &a.common.filter;
    let mut sum = containers(client, f).await?;
    networks(client, f).await?;
    if a.volumes {
        sum += volumes(client, false, &[]).await?;
    }
    sum += images(client, a.all, f).await?;
    // The build cache is the admins' to clear; others keep going without it.
    match build_cache(client).await {
        Ok(n) => sum += n,
        Err(e) if e.to_string().contains("only admins") => {}
        Err(e) => return Err(e),
    }
    Ok(total(sum))
}

fn pct(part: u64, whole: u64) -> String {
    format!("{}%", (part * 100).checked_div(whole).unwrap_or(0))
}

pub async fn df(client: &Client, a: DfArgs) -> Result<ExitCode> {
    let v: Value = client.get_json("/system/df").await?;
    let arr = |k: &str| v[k].as_array().cloned().unwrap_or_default();
    let (images, containers, volumes, cache) = (
        arr("Images"),
        arr("Containers"),
        arr("Volumes"),
        arr("BuildCache"),
    );
    let u = |x: &Value, k: &str| x[k].as_u64().unwrap_or(0);
    let size = |n: u64| human_size(n as i64);

    let layers = u(&v, "LayersSize");
    let active_images = images.iter().filter(|i| u(i, "Containers") > 0).count();
    // Docker's figure: all layers minus what active images use alone.
    let image_used: u64 = images
        .iter()
        .filter(|i| u(i, "Containers") > 0)
        .map(|i| u(i, "Size").saturating_sub(u(i, "SharedSize")))
        .sum();
    let image_free = layers.saturating_sub(image_used);
    let running = containers
        .iter()
        .filter(|c| c["State"] == "running")
        .count();
    let ctr_size: u64 = containers.iter().map(|c| u(c, "SizeRw")).sum();
    let ctr_free: u64 = containers
        .iter()
        .filter(|c| c["State"] != "running")
        .map(|c| u(c, "SizeRw"))
        .sum();
    let vol_size: u64 = volumes
        .iter()
        .map(|x| x["UsageData"]["Size"].as_u64().unwrap_or(0))
        .sum();
    let vol_active = volumes
        .iter()
        .filter(|x| x["UsageData"]["RefCount"].as_u64().unwrap_or(0) > 0)
        .count();
    let vol_free: u64 = volumes
        .iter()
        .filter(|x| x["UsageData"]["RefCount"].as_u64().unwrap_or(0) == 0)
        .map(|x| x["UsageData"]["Size"].as_u64().unwrap_or(0))
        .sum();
    let cache_size: u64 = cache.iter().map(|c| u(c, "Size")).sum();

    let mut t = Table::new(&["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"]);
    t.row(vec![
        "Images".into(),
        images.len().to_string(),
        active_images.to_string(),
        size(layers),
        format!("{} ({})", size(image_free), pct(image_free, layers)),
    ]);
    t.row(vec![
        "Containers".into(),
        containers.len().to_string(),
        running.to_string(),
        size(ctr_size),
        format!("{} ({})", size(ctr_free), pct(ctr_free, ctr_size)),
    ]);
    t.row(vec![
        "Local Volumes".into(),
        volumes.len().to_string(),
        vol_active.to_string(),
        size(vol_size),
        format!("{} ({})", size(vol_free), pct(vol_free, vol_size)),
    ]);
    t.row(vec![
        "Build Cache".into(),
        cache.len().to_string(),
        "0".into(),
        size(cache_size),
        size(cache_size),
    ]);
    print!("{}", t.render());
    if a.verbose {
        println!("\nImages space usage:\n");
        let mut t = Table::new(&[
            "REPOSITORY",
            "TAG",
            "IMAGE ID",
            "SIZE",
            "SHARED SIZE",
            "CONTAINERS",
        ]);
        for i in &images {
            let tags: Vec<String> = strings(&i["RepoTags"]);
            let (repo, tag) = tags
                .first()
                .and_then(|t| t.rsplit_once(':'))
                .map_or(("<none>".to_string(), "<none>".to_string()), |(r, t)| {
                    (r.into(), t.into())
                });
            let id = i["Id"]
                .as_str()
                .unwrap_or_default()
                .trim_start_matches("sha256:");
            t.row(vec![
                repo,
                tag,
                id.chars().take(12).collect(),
                size(u(i, "Size")),
                size(u(i, "SharedSize")),
                u(i, "Containers").to_string(),
            ]);
        }
        print!("{}", t.render());
        println!("\nContainers space usage:\n");
        let mut t = Table::new(&["CONTAINER ID", "IMAGE", "SIZE", "STATUS", "NAMES"]);
        for c in &containers {
            t.row(vec![
                c["Id"]
                    .as_str()
                    .unwrap_or_default()
                    .chars()
                    .take(12)
                    .collect(),
                c["Image"].as_str().unwrap_or_default().to_string(),
                size(u(c, "SizeRw")),
                c["Status"].as_str().unwrap_or_default().to_string(),
                strings(&c["Names"])
                    .join(",")
                    .trim_start_matches('/')
                    .to_string(),
            ]);
        }
        print!("{}", t.render());
        println!("\nLocal Volumes space usage:\n");
        let mut t = Table::new(&["VOLUME NAME", "LINKS", "SIZE"]);
        for x in &volumes {
            t.row(vec![
                x["Name"].as_str().unwrap_or_default().to_string(),
                x["UsageData"]["RefCount"].as_u64().unwrap_or(0).to_string(),
                size(x["UsageData"]["Size"].as_u64().unwrap_or(0)),
            ]);
        }
        print!("{}", t.render());
    }
    Ok(ExitCode::SUCCESS)
}
