//! `berth user`, `berth team` and `berth token`: accounts over the API
//! (`/berth/users`, `/berth/teams`, `/berth/tokens`). Root on the unix
//! socket manages users and teams (and can reset a forgotten admin
//! password); tokens belong to an account, so `berth token` runs over TCP
//! with `BERTH_TOKEN`.

use super::format::{ago, Table};
use super::http::{self, Client};
use super::registry::read_password;
use anyhow::Result;
use clap::{Args, Subcommand};
use hyper::Method;
use serde_json::{json, Value};
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// List accounts
    #[command(visible_alias = "list")]
    Ls,
    /// Create an account (the password is prompted for, or read with --password-stdin)
    Create(UserCreateArgs),
    /// Change an account's role or password (ends its sessions)
    Update(UserUpdateArgs),
    /// Remove accounts
    #[command(visible_alias = "remove")]
    Rm(NamesArgs),
}

#[derive(Debug, Args)]
pub struct UserCreateArgs {
    /// admin, operator or viewer
    #[arg(long, default_value = "operator")]
    role: String,
    /// A team to join (repeatable)
    #[arg(long)]
    team: Vec<String>,
    /// Take the password from stdin
    #[arg(long)]
    password_stdin: bool,
    name: String,
}

#[derive(Debug, Args)]
pub struct UserUpdateArgs {
    /// admin, operator or viewer
    #[arg(long)]
    role: Option<String>,
    /// Set a new password (prompted for, or from stdin with --password-stdin)
    #[arg(long)]
    password: bool,
    /// Take the new password from stdin
    #[arg(long)]
    password_stdin: bool,
    name: String,
}

#[derive(Debug, Args)]
pub struct NamesArgs {
    #[arg(required = true)]
    names: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum TeamCommand {
    /// List teams and their members
    #[command(visible_alias = "list")]
    Ls,
    /// Create a team
    Create { name: String },
    /// Remove teams (what they own becomes the host's)
    #[command(visible_alias = "remove")]
    Rm(NamesArgs),
    /// Add a user to a team
    Add { team: String, user: String },
    /// Take a user out of a team (their terminals close)
    Kick { team: String, user: String },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// List your API tokens
    #[command(visible_alias = "list")]
    Ls,
    /// Make an API token (printed once)
    Create {
        /// Days until it expires (0: never)
        #[arg(long, default_value_t = 90)]
        expires_in_days: u32,
        name: String,
    },
    /// Revoke API tokens by id
    #[command(visible_alias = "revoke")]
    Rm(NamesArgs),
}

async fn send(client: &Client, method: Method, path: &str, body: Option<Value>) -> Result<()> {
    let (b, ct) = match body {
        Some(v) => (http::full(v.to_string()), Some("application/json")),
        None => (http::empty(), None),
    };
    client.send(method, path, b, ct).await?;
    Ok(())
}

/// DELETEs `base/NAME` for each name, printing each as docker's `rm` does.
async fn remove_each(client: &Client, base: &str, names: &[String]) -> Result<()> {
    for n in names {
        send(client, Method::DELETE, &format!("{base}/{}", esc(n)), None).await?;
        println!("{n}");
    }
    Ok(())
}

/// A JSON array of strings as `a,b,c`.
fn joined(v: &Value) -> String {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default()
}

fn esc(s: &str) -> String {
    super::images::query(&[("", s)])
        .trim_start_matches('=')
        .to_string()
}

pub async fn user(client: &Client, cmd: UserCommand) -> Result<ExitCode> {
    match cmd {
        UserCommand::Ls => {
            let users: Vec<Value> = client.get_json("/berth/users").await?;
            let mut t = Table::new(&["NAME", "ROLE", "TEAMS", "CREATED"]);
            for u in &users {
                t.row(vec![
                    u["Name"].as_str().unwrap_or_default().to_string(),
                    u["Role"].as_str().unwrap_or_default().to_string(),
                    joined(&u["Teams"]),
                    ago(u["CreatedNano"].as_i64().unwrap_or(0) / 1_000_000_000),
                ]);
            }
            print!("{}", t.render());
        }
        UserCommand::Create(a) => {
            let pw = read_password(None, a.password_stdin, "Password")?;
            let body = json!({"Name": a.name, "Password": pw, "Role": a.role, "Teams": a.team});
            send(client, Method::POST, "/berth/users", Some(body)).await?;
            println!("{}", a.name);
        }
        UserCommand::Update(a) => {
            let password = if a.password || a.password_stdin {
                Some(read_password(None, a.password_stdin, "New password")?)
            } else {
                None
            };
            if a.role.is_none() && password.is_none() {
                anyhow::bail!("nothing to change: give --role and/or --password");
            }
            let body = json!({"Role": a.role, "Password": password});
            let path = format!("/berth/users/{}", esc(&a.name));
            send(client, Method::PATCH, &path, Some(body)).await?;
            println!("{}", a.name);
        }
        UserCommand::Rm(a) => {
            remove_each(client, "/berth/users", &a.names).await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn team(client: &Client, cmd: TeamCommand) -> Result<ExitCode> {
    let members = |t: &str, u: &str| format!("/berth/teams/{}/members/{}", esc(t), esc(u));
    match cmd {
        TeamCommand::Ls => {
            let teams: Vec<Value> = client.get_json("/berth/teams").await?;
            let mut t = Table::new(&["TEAM", "MEMBERS"]);
            for x in &teams {
                t.row(vec![
                    x["Name"].as_str().unwrap_or_default().to_string(),
                    joined(&x["Members"]),
                ]);
            }
            print!("{}", t.render());
        }
        TeamCommand::Create { name } => {
            send(
                client,
                Method::POST,
                "/berth/teams",
                Some(json!({"Name": name})),
            )
            .await?;
            println!("{name}");
        }
        TeamCommand::Rm(a) => {
            remove_each(client, "/berth/teams", &a.names).await?;
        }
        TeamCommand::Add { team, user } => {
            send(client, Method::PUT, &members(&team, &user), None).await?;
        }
        TeamCommand::Kick { team, user } => {
            send(client, Method::DELETE, &members(&team, &user), None).await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn token(client: &Client, cmd: TokenCommand) -> Result<ExitCode> {
    match cmd {
        TokenCommand::Ls => {
            let tokens: Vec<Value> = client.get_json("/berth/tokens").await?;
            let mut t = Table::new(&["ID", "NAME", "CREATED", "EXPIRES", "LAST USED"]);
            let when = |v: &Value, never: &str| {
                v.as_i64()
                    .map(|n| crate::timefmt::rfc3339_of_nanos(n)[..10].to_string())
                    .unwrap_or_else(|| never.to_string())
            };
            for x in &tokens {
                t.row(vec![
                    x["Id"].to_string(),
                    x["Name"].as_str().unwrap_or_default().to_string(),
                    ago(x["CreatedNano"].as_i64().unwrap_or(0) / 1_000_000_000),
                    when(&x["ExpiresNano"], "never"),
                    x["LastUsedNano"]
                        .as_i64()
                        .map(|n| ago(n / 1_000_000_000))
                        .unwrap_or_else(|| "never".into()),
                ]);
            }
            print!("{}", t.render());
        }
        TokenCommand::Create {
            expires_in_days,
            name,
        } => {
            let body = json!({"Name": name, "ExpiresInDays": expires_in_days});
            let res = client
                .send(
                    Method::POST,
                    "/berth/tokens",
                    http::full(body.to_string()),
                    Some("application/json"),
                )
                .await?;
            let v: Value = http::read_json(res).await?;
            println!("{}", v["Token"].as_str().unwrap_or_default());
        }
        TokenCommand::Rm(a) => {
            remove_each(client, "/berth/tokens", &a.names).await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
