//! `berth volume create|ls|inspect|rm`, with docker's output.

use super::format::Table;
use super::http::{self, Client, ClientError};
use super::images::{filters_json, query};
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
    Inspect(NamesArgs),
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
            let path = if a.filter.is_empty() {
                "/volumes".to_string()
            } else {
                format!(
                    "/volumes?{}",
                    query(&[("filters", &filters_json(&a.filter)?)])
                )
            };
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
            let mut out = Vec::new();
            let mut failed = false;
            for n in &a.names {
                match client.get_json::<Value>(&format!("/volumes/{n}")).await {
                    Ok(v) => out.push(v),
                    Err(e @ ClientError::Daemon { .. }) => {
                        eprintln!("{e}");
                        failed = true;
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            println!("{}", super::format::docker_json(&out)?);
            Ok(super::exit_status(failed))
        }
        VolumeCommand::Rm(a) => {
            let mut failed = false;
            let q = if a.force { "?force=1" } else { "" };
            for n in &a.names {
                match client
                    .send(
                        Method::DELETE,
                        &format!("/volumes/{n}{q}"),
                        http::empty(),
                        None,
                    )
                    .await
                {
                    Ok(_) => println!("{n}"),
                    Err(e) => {
                        eprintln!("{e}");
                        failed = true;
                    }
                }
            }
            Ok(super::exit_status(failed))
        }
    }
}
