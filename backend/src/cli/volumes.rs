//! `berth volume create|ls|inspect|rm`, with docker's output.

use super::format::Table;
use super::http::{self, Client};
use super::images::with_filters;
use anyhow::Result;
use clap::{Args, Subcommand};
use hyper::Method;
use serde_json::{json, Value};
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum VolumeCommand {
    /// Create a volume
    Create(CreateArgs),
    /// Remove unused local volumes
    Prune(super::prune::VolumePruneArgs),
    /// List volumes
    #[command(visible_alias = "list")]
    Ls(LsArgs),
    /// Display detailed information on one or more volumes
    Inspect(super::InspectNames),
    /// Remove one or more volumes
    #[command(visible_alias = "remove")]
    Rm(RmArgs),
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Specify volume driver name
    #[arg(short = 'd', long, default_value = "local")]
    driver: String,
    /// Set metadata for a volume
    #[arg(long)]
    label: Vec<String>,
    name: Option<String>,
}

#[derive(Debug, Args)]
pub struct LsArgs {
    /// Only display volume names
    #[arg(short = 'q', long)]
    quiet: bool,
    /// Provide filter values (e.g. "dangling=true")
    #[arg(short = 'f', long = "filter")]
    filter: Vec<String>,
}

#[derive(Debug, Args)]
pub struct NamesArgs {
    #[arg(required = true)]
    names: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RmArgs {
    /// Force the removal of one or more volumes
    #[arg(short = 'f', long)]
    force: bool,
    #[arg(required = true)]
    names: Vec<String>,
}

pub async fn run(client: &Client, cmd: VolumeCommand) -> Result<ExitCode> {
    match cmd {
        VolumeCommand::Prune(a) => super::prune::volume_prune(client, a).await,
        VolumeCommand::Create(a) => {
            let labels: serde_json::Map<String, Value> = a
                .label
                .iter()
                .map(|l| {
                    let (k, v) = l.split_once('=').unwrap_or((l, ""));
                    (k.to_string(), json!(v))
                })
                .collect();
            let body =
                json!({"Name": a.name.unwrap_or_default(), "Driver": a.driver, "Labels": labels});
            let res = client
                .send(
                    Method::POST,
                    "/volumes/create",
                    http::full(body.to_string()),
                    Some("application/json"),
                )
                .await?;
            let v: Value = http::read_json(res).await?;
            println!("{}", v["Name"].as_str().unwrap_or_default());
            Ok(ExitCode::SUCCESS)
        }
        VolumeCommand::Ls(a) => {
            let path = with_filters("/volumes", &a.filter)?;
            let v: Value = client.get_json(&path).await?;
            let vols = v["Volumes"].as_array().cloned().unwrap_or_default();
            if a.quiet {
                for x in &vols {
                    println!("{}", x["Name"].as_str().unwrap_or_default());
                }
                return Ok(ExitCode::SUCCESS);
            }
            let mut t = Table::new(&["DRIVER", "VOLUME NAME"]);
            for x in &vols {
                t.row(vec![
                    x["Driver"].as_str().unwrap_or("local").to_string(),
                    x["Name"].as_str().unwrap_or_default().to_string(),
                ]);
            }
            print!("{}", t.render());
            Ok(ExitCode::SUCCESS)
        }
        VolumeCommand::Inspect(a) => {
            super::inspect_each(client, "/volumes", &a.names, a.format.as_deref()).await
        }
        VolumeCommand::Rm(a) => {
            let q = if a.force { "?force=1" } else { "" };
            super::remove_each(client, "/volumes", &a.names, q).await
        }
    }
}
