//! `berth network create|ls|inspect|rm|connect|disconnect|prune`, with
//! docker's flags and output.

use super::format::Table;
use super::http::{self, Client, ClientError};
use super::images::with_filters;
use anyhow::{bail, Result};
use clap::{Args, Subcommand};
use hyper::Method;
use serde_json::{json, Value};
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum NetworkCommand {
    /// Create a network
    Create(CreateArgs),
    /// Connect a container to a network
    Connect(ConnectArgs),
    /// Disconnect a container from a network
    Disconnect(DisconnectArgs),
    /// Display detailed information on one or more networks
    Inspect(super::InspectNames),
    /// List networks
    #[command(visible_alias = "list")]
    Ls(LsArgs),
    /// Remove all unused networks
    Prune(super::prune::PruneArgs),
    /// Remove one or more networks
    #[command(visible_alias = "remove")]
    Rm(NamesArgs),
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Driver to manage the Network
    #[arg(short = 'd', long, default_value = "bridge")]
    driver: String,
    /// Subnet in CIDR format that represents a network segment
    #[arg(long)]
    subnet: Option<String>,
    /// IPv4 Gateway for the master subnet
    #[arg(long)]
    gateway: Option<String>,
    /// Allocate container ip from a sub-range
    #[arg(long = "ip-range")]
    ip_range: Option<String>,
    /// Restrict external access to the network
    #[arg(long)]
    internal: bool,
    /// Enable manual container attachment
    #[arg(long)]
    attachable: bool,
    /// Enable IPv6 networking
    #[arg(long)]
    ipv6: bool,
    /// Set metadata on a network
    #[arg(long)]
    label: Vec<String>,
    /// Set driver specific options
    #[arg(short = 'o', long = "opt")]
    opt: Vec<String>,
    name: String,
}

#[derive(Debug, Args)]
pub struct ConnectArgs {
    /// Add network-scoped alias for the container
    #[arg(long)]
    alias: Vec<String>,
    /// IPv4 address (e.g., "10.89.0.10")
    #[arg(long)]
    ip: Option<String>,
    network: String,
    container: String,
}

#[derive(Debug, Args)]
pub struct DisconnectArgs {
    /// Force the container to disconnect from a network
    #[arg(short = 'f', long)]
    force: bool,
    network: String,
    container: String,
}

#[derive(Debug, Args)]
pub struct LsArgs {
    /// Only display network IDs
    #[arg(short = 'q', long)]
    quiet: bool,
    /// Do not truncate the output
    #[arg(long = "no-trunc")]
    no_trunc: bool,
    /// Provide filter values (e.g. "driver=bridge")
    #[arg(short = 'f', long = "filter")]
    filter: Vec<String>,
}

#[derive(Debug, Args)]
pub struct NamesArgs {
    #[arg(required = true)]
    names: Vec<String>,
}

/// `KEY=VALUE` pairs as a JSON object.
fn pairs(list: &[String], flag: &str, need_value: bool) -> Result<serde_json::Map<String, Value>> {
    let mut out = serde_json::Map::new();
    for kv in list {
        match kv.split_once('=') {
            Some((k, v)) => out.insert(k.to_string(), json!(v)),
            None if !need_value => out.insert(kv.clone(), json!("")),
            None => bail!("invalid {flag} {kv:?}: want key=value"),
        };
    }
    Ok(out)
}

async fn post_json(
    client: &Client,
    path: &str,
    body: Value,
) -> Result<hyper::Response<hyper::body::Incoming>, ClientError> {
    client
        .send(
            Method::POST,
            path,
            http::full(body.to_string()),
            Some("application/json"),
        )
        .await
}

pub async fn run(client: &Client, cmd: NetworkCommand) -> Result<ExitCode> {
    match cmd {
        NetworkCommand::Create(a) => {
            let mut config = json!({});
            if let Some(s) = &a.subnet {
                config["Subnet"] = json!(s);
            }
            if let Some(g) = &a.gateway {
                config["Gateway"] = json!(g);
            }
            if let Some(r) = &a.ip_range {
                config["IPRange"] = json!(r);
            }
            let configs = if config.as_object().is_some_and(|m| m.is_empty()) {
                json!([])
            } else {
                json!([config])
            };
            let body = json!({
                "Name": a.name,
                "Driver": a.driver,
                "Internal": a.internal,
                "Attachable": a.attachable,
                "EnableIPv6": a.ipv6,
                "IPAM": {"Driver": "default", "Config": configs},
                "Labels": pairs(&a.label, "--label", false)?,
                "Options": pairs(&a.opt, "--opt", true)?,
            });
            let res = post_json(client, "/networks/create", body).await?;
            let v: Value = http::read_json(res).await?;
            println!("{}", v["Id"].as_str().unwrap_or_default());
            Ok(ExitCode::SUCCESS)
        }
        NetworkCommand::Connect(a) => {
            let mut ep = json!({});
            if !a.alias.is_empty() {
                ep["Aliases"] = json!(a.alias);
            }
            if let Some(ip) = &a.ip {
                ep["IPAMConfig"] = json!({ "IPv4Address": ip });
            }
            let body = json!({"Container": a.container, "EndpointConfig": ep});
            post_json(client, &format!("/networks/{}/connect", a.network), body).await?;
            Ok(ExitCode::SUCCESS)
        }
        NetworkCommand::Disconnect(a) => {
            let body = json!({"Container": a.container, "Force": a.force});
            post_json(client, &format!("/networks/{}/disconnect", a.network), body).await?;
            Ok(ExitCode::SUCCESS)
        }
        NetworkCommand::Ls(a) => {
            let path = with_filters("/networks", &a.filter)?;
            let list: Vec<Value> = client.get_json(&path).await?;
            let id = |n: &Value| {
                let id = n["Id"].as_str().unwrap_or_default();
                if a.no_trunc {
                    id.to_string()
                } else {
                    id.chars().take(12).collect()
                }
            };
            if a.quiet {
                for n in &list {
                    println!("{}", id(n));
                }
                return Ok(ExitCode::SUCCESS);
            }
            let mut t = Table::new(&["NETWORK ID", "NAME", "DRIVER", "SCOPE"]);
            for n in &list {
                t.row(vec![
                    id(n),
                    n["Name"].as_str().unwrap_or_default().to_string(),
                    n["Driver"].as_str().unwrap_or_default().to_string(),
                    n["Scope"].as_str().unwrap_or_default().to_string(),
                ]);
            }
            print!("{}", t.render());
            Ok(ExitCode::SUCCESS)
        }
        NetworkCommand::Inspect(a) => {
            super::inspect_each(client, "/networks", &a.names, a.format.as_deref()).await
        }
        NetworkCommand::Rm(a) => super::remove_each(client, "/networks", &a.names, "").await,
        NetworkCommand::Prune(a) => super::prune::network_prune(client, a).await,
    }
}
