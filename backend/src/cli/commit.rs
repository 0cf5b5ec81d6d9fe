//! `berth diff` and `berth commit` (also under `berth container`), with
//! docker's output.

use super::http::{self, Client};
use super::images::query;
use crate::container::changes::ChangeKind;
use anyhow::Result;
use clap::{ArgAction, Args};
use hyper::Method;
use serde_json::Value;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct DiffArgs {
    pub container: String,
}

/// `A /path`, `C /path`, `D /path`, one per line, as docker prints them.
pub async fn diff(client: &Client, a: DiffArgs) -> Result<ExitCode> {
    let v: Value = client
        .get_json(&format!("/containers/{}/changes", a.container))
        .await?;
    for c in v.as_array().into_iter().flatten() {
        let kind = c["Kind"]
            .as_u64()
            .and_then(ChangeKind::from_code)
            .map_or('?', ChangeKind::letter);
        println!("{kind} {}", c["Path"].as_str().unwrap_or_default());
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Args)]
pub struct CommitArgs {
    /// Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")
    #[arg(short = 'a', long)]
    pub author: Option<String>,
    /// Apply Dockerfile instruction to the created image
    #[arg(short = 'c', long = "change")]
    pub changes: Vec<String>,
    /// Commit message
    #[arg(short = 'm', long)]
    pub message: Option<String>,
    /// Pause container during commit
    #[arg(short = 'p', long, action = ArgAction::Set, num_args = 0..=1,
          default_value_t = true, default_missing_value = "true")]
    pub pause: bool,
    pub container: String,
    /// REPOSITORY[:TAG]
    pub repository: Option<String>,
}

/// Prints the new image's id (`sha256:…`), as docker does.
pub async fn commit(client: &Client, a: CommitArgs) -> Result<ExitCode> {
    let pause = if a.pause { "1" } else { "0" };
    let mut pairs: Vec<(&str, &str)> = vec![("container", &a.container), ("pause", pause)];
    if let Some(r) = &a.repository {
        pairs.push(("repo", r));
    }
    if let Some(x) = &a.author {
        pairs.push(("author", x));
    }
    if let Some(m) = &a.message {
        pairs.push(("comment", m));
    }
    for c in &a.changes {
        pairs.push(("changes", c));
    }
    let res = client
        .send(
            Method::POST,
            &format!("/commit?{}", query(&pairs)),
            http::full("{}".to_string()),
            Some("application/json"),
        )
        .await?;
    let v: Value = http::read_json(res).await?;
    println!("{}", v["Id"].as_str().unwrap_or_default());
    Ok(ExitCode::SUCCESS)
}
