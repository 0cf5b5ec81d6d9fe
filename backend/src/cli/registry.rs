//! Registry commands of the CLI: login, logout and search.

use super::http::{self, Client};
use anyhow::{bail, Context, Result};
use clap::Args;
use hyper::Method;
use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// Username
    #[arg(short, long)]
    username: Option<String>,
    /// Password (prefer --password-stdin)
    #[arg(short, long)]
    password: Option<String>,
    /// Take the password from stdin
    #[arg(long)]
    password_stdin: bool,
    /// The registry, e.g. 127.0.0.1:5000 (default Docker Hub)
    server: Option<String>,
}

fn prompt(label: &str) -> Result<String> {
    eprint!("{label}: ");
    std::io::stderr().flush().ok();
    let mut s = String::new();
    std::io::stdin().lock().read_line(&mut s)?;
    Ok(s.trim().to_string())
}

/// A password from `--password` (with docker's warning), one line of stdin
/// (`--password-stdin`), or a prompt without echo on a terminal.
pub(super) fn read_password(arg: Option<String>, from_stdin: bool, label: &str) -> Result<String> {
    Ok(match (arg, from_stdin) {
        (Some(_), true) => bail!("--password and --password-stdin are mutually exclusive"),
        (Some(p), false) => {
            eprintln!("WARNING! Using --password via the CLI is insecure. Use --password-stdin.");
            p
        }
        (None, true) => {
            let mut s = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut s)
                .context("read the password from stdin")?;
            s.trim_end_matches(['\r', '\n']).to_string()
        }
        (None, false) if std::io::stdin().is_terminal() => {
            eprint!("{label}: ");
            std::io::stderr().flush().ok();
            let p = crate::sys::read_line_noecho().context("read the password")?;
            eprintln!();
            p
        }
        (None, false) => bail!("password is required: use --password-stdin"),
    })
}

pub async fn login(client: &Client, a: LoginArgs) -> Result<ExitCode> {
    let interactive = std::io::stdin().is_terminal();
    let username = match a.username {
        Some(u) => u,
        None if interactive && !a.password_stdin => prompt("Username")?,
        None => bail!("username is required: use -u USER"),
    };
    let password = read_password(a.password, a.password_stdin, "Password")?;
    if username.is_empty() || password.is_empty() {
        bail!("username and password are required");
    }
    let server = a.server.unwrap_or_default();
    let body =
        serde_json::json!({"username": username, "password": password, "serveraddress": server});
    let res = client
        .send(
            Method::POST,
            "/auth",
            http::full(body.to_string()),
            Some("application/json"),
        )
        .await?;
    let v: serde_json::Value = http::read_json(res).await?;
    println!("{}", v["Status"].as_str().unwrap_or("Login Succeeded"));
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// The registry (default Docker Hub)
    server: Option<String>,
}

pub async fn logout(client: &Client, a: LogoutArgs) -> Result<ExitCode> {
    let server = a.server.unwrap_or_else(|| "docker.io".into());
    let escaped: String = form_urlencoded::byte_serialize(server.as_bytes()).collect();
    match client
        .send(
            Method::DELETE,
            &format!("/berth/auth/{escaped}"),
            http::empty(),
            None,
        )
        .await
    {
        Ok(_) => println!("Removing login credentials for {server}"),
        Err(http::ClientError::Daemon { status, .. }) if status == hyper::StatusCode::NOT_FOUND => {
            println!("Not logged in to {server}")
        }
        Err(e) => return Err(e.into()),
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Max number of search results
    #[arg(long, default_value_t = 25)]
    limit: usize,
    /// Don't truncate output
    #[arg(long)]
    no_trunc: bool,
    /// Filter output based on conditions provided (is-official=, stars=)
    #[arg(short, long = "filter")]
    filter: Vec<String>,
    /// What to search for; start it with a registry (127.0.0.1:5000/app) to search only there
    term: String,
}

pub async fn search(client: &Client, a: SearchArgs) -> Result<ExitCode> {
    let mut q = form_urlencoded::Serializer::new(String::new());
    q.append_pair("term", &a.term);
    q.append_pair("limit", &a.limit.to_string());
    q.append_pair("filters", &super::images::filters_json(&a.filter)?);
    let results: Vec<berth_types::SearchResult> = client
        .get_json(&format!("/images/search?{}", q.finish()))
        .await?;
    let mut t = super::format::Table::new(&["NAME", "DESCRIPTION", "STARS", "OFFICIAL"]);
    for r in results {
        let d = r.description.replace('\n', " ");
        let d = if a.no_trunc {
            d
        } else {
            super::format::ellipsis(&d, 45)
        };
        t.row(vec![
            r.name,
            d,
            r.star_count.to_string(),
            if r.is_official {
                "[OK]".into()
            } else {
                String::new()
            },
        ]);
    }
    print!("{}", t.render());
    Ok(ExitCode::SUCCESS)
}
