//! Container commands of the CLI: run, create, start, stop, restart, kill, rm,
//! ps, logs, wait, rename, top, port, and the container side of inspect —
//! docker's flags, columns and exit codes (125 daemon error, 126 cannot
//! invoke, 127 not found, otherwise the container's own code).

use super::format::{ago, ellipsis, Table};
use super::http::{self, Client, ClientError};
use super::images::{filters_json, query};
use anyhow::{bail, Context, Result};
use berth_types::short_id;
use clap::{ArgAction, Args};
use hyper::{Method, StatusCode};
use serde_json::{json, Value};
use std::process::ExitCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The options `run` and `create` share.
#[derive(Debug, Args, Clone)]
pub struct ContainerOptions {
    /// Assign a name to the container
    #[arg(long)]
    pub name: Option<String>,
    /// Set environment variables
    #[arg(short = 'e', long = "env")]
    pub env: Vec<String>,
    /// Read in a file of environment variables
    #[arg(long = "env-file")]
    pub env_file: Vec<std::path::PathBuf>,
    /// Set meta data on a container
    #[arg(short = 'l', long = "label")]
    pub label: Vec<String>,
    /// Bind mount a volume (SRC:DST[:ro], NAME:DST or DST)
    #[arg(short = 'v', long = "volume")]
    pub volume: Vec<String>,
    /// Working directory inside the container
    #[arg(short = 'w', long)]
    pub workdir: Option<String>,
    /// Username or UID (format: <name|uid>[:<group|gid>])
    #[arg(short = 'u', long)]
    pub user: Option<String>,
    /// Overwrite the default ENTRYPOINT of the image
    #[arg(long)]
    pub entrypoint: Option<String>,
    /// Container host name
    #[arg(short = 'h', long)]
    pub hostname: Option<String>,
    /// Publish a container's port(s) to the host ([IP:][HOST_PORT:]CONTAINER_PORT[/PROTO])
    #[arg(short = 'p', long = "publish")]
    pub publish: Vec<String>,
    /// Publish all exposed ports to random ports
    #[arg(short = 'P', long = "publish-all")]
    pub publish_all: bool,
    /// Expose a port or a range of ports
    #[arg(long)]
    pub expose: Vec<String>,
    /// Add link to another container (NAME[:ALIAS])
    #[arg(long)]
    pub link: Vec<String>,
    /// Connect a container to a network (bridge, none, host, or a network's name); repeat for more
    #[arg(long, alias = "net")]
    pub network: Vec<String>,
    /// Add network-scoped alias for the container
    #[arg(long = "network-alias", alias = "net-alias")]
    pub network_alias: Vec<String>,
    /// IPv4 address (e.g., 10.89.0.10) on the first network
    #[arg(long)]
    pub ip: Option<String>,
    /// Restart policy (no, always, on-failure[:max-retries], unless-stopped)
    #[arg(long)]
    pub restart: Option<String>,
    /// Memory limit (e.g. 64m, 1g)
    #[arg(short = 'm', long)]
    pub memory: Option<String>,
    /// Number of CPUs
    #[arg(long)]
    pub cpus: Option<String>,
    /// Tune container pids limit (-1 for unlimited)
    #[arg(long = "pids-limit")]
    pub pids_limit: Option<i64>,
    /// Mount the container's root filesystem as read only
    #[arg(long = "read-only")]
    pub read_only: bool,
    /// Add Linux capabilities
    #[arg(long = "cap-add")]
    pub cap_add: Vec<String>,
    /// Drop Linux capabilities
    #[arg(long = "cap-drop")]
    pub cap_drop: Vec<String>,
    /// Signal to stop the container
    #[arg(long = "stop-signal")]
    pub stop_signal: Option<String>,
    /// Timeout (in seconds) to stop a container
    #[arg(long = "stop-timeout")]
    pub stop_timeout: Option<i64>,
    /// Automatically remove the container when it exits
    #[arg(long)]
    pub rm: bool,
    /// Run an init inside the container that forwards signals and reaps processes
    #[arg(long)]
    pub init: bool,
    /// Security options (seccomp=unconfined)
    #[arg(long = "security-opt")]
    pub security_opt: Vec<String>,
    /// Logging driver for the container (json-file)
    #[arg(long = "log-driver")]
    pub log_driver: Option<String>,
    /// Log driver options (max-size=10m, max-file=3)
    #[arg(long = "log-opt")]
    pub log_opt: Vec<String>,
    /// Keep STDIN open even if not attached
    #[arg(short = 'i', long)]
    pub interactive: bool,
    /// Allocate a pseudo-TTY
    #[arg(short = 't', long)]
    pub tty: bool,
    /// Print help
    #[arg(long, action = ArgAction::Help)]
    pub help: Option<bool>,
    /// The image to run
    pub image: String,
    /// The command and its arguments
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub command: Vec<String>,
}

#[derive(Debug, Args)]
#[command(disable_help_flag = true)]
pub struct RunArgs {
    /// Run container in background and print container ID
    #[arg(short = 'd', long)]
    pub detach: bool,
    #[command(flatten)]
    pub opts: ContainerOptions,
}

#[derive(Debug, Args)]
#[command(disable_help_flag = true)]
pub struct CreateArgs {
    #[command(flatten)]
    pub opts: ContainerOptions,
}

/// `64m`, `1g`, `512k`, `1024` → bytes.
pub fn parse_bytes(s: &str) -> Result<i64> {
    let t = s.trim().to_ascii_lowercase();
    let t = t.strip_suffix('b').unwrap_or(&t);
    let (num, mult) = match t.chars().last() {
        Some('k') => (&t[..t.len() - 1], 1i64 << 10),
        Some('m') => (&t[..t.len() - 1], 1 << 20),
        Some('g') => (&t[..t.len() - 1], 1 << 30),
        Some('t') => (&t[..t.len() - 1], 1 << 40),
        _ => (t, 1),
    };
    let n: f64 = num
        .parse()
        .ok()
        .filter(|n: &f64| *n >= 0.0)
        .with_context(|| format!("invalid size: '{s}'"))?;
    Ok((n * mult as f64) as i64)
}

/// `-p [IP:][HOST_PORT:]CONTAINER_PORT[/PROTO]` → ("80/tcp", {HostIp, HostPort}).
pub fn parse_publish(s: &str) -> Result<(String, Value)> {
    let bad = || {
        anyhow::anyhow!("invalid argument \"{s}\" for \"-p, --publish\" flag: invalid port format")
    };
    let (spec, proto) = s.rsplit_once('/').unwrap_or((s, "tcp"));
    if !matches!(proto, "tcp" | "udp") {
        bail!("invalid argument \"{s}\" for \"-p, --publish\" flag: invalid proto: {proto}");
    }
    // An IPv6 host address comes in brackets.
    let (ip, rest) = match spec.strip_prefix('[') {
        Some(r) => {
            let (ip, rest) = r.split_once("]:").ok_or_else(bad)?;
            (ip.to_string(), rest.to_string())
        }
        None => {
            let parts: Vec<&str> = spec.split(':').collect();
            match parts.as_slice() {
                [c] => (String::new(), (*c).to_string()),
                [h, c] => (String::new(), format!("{h}:{c}")),
                [ip, h, c] => ((*ip).to_string(), format!("{h}:{c}")),
                _ => return Err(bad()),
            }
        }
    };
    let (host_port, ctr) = match rest.split_once(':') {
        Some((h, c)) => (h.to_string(), c.to_string()),
        None => (String::new(), rest),
    };
    let valid = |p: &str| p.parse::<u16>().is_ok_and(|n| n > 0);
    if !valid(&ctr) || (!host_port.is_empty() && !valid(&host_port)) {
        return Err(bad());
    }
    if !ip.is_empty() && ip.parse::<std::net::IpAddr>().is_err() {
        bail!("invalid argument \"{s}\" for \"-p, --publish\" flag: invalid IP address: {ip}");
    }
    Ok((
        format!("{ctr}/{proto}"),
        json!({"HostIp": ip, "HostPort": host_port}),
    ))
}

/// `on-failure:3` → the API's RestartPolicy.
fn restart_policy(s: &str) -> Result<Value> {
    let (name, count) = s.split_once(':').unwrap_or((s, ""));
    let count: i64 = if count.is_empty() {
        0
    } else {
        count.parse().with_context(|| {
            format!(
                "invalid restart policy format: maximum retry count must be an integer: '{count}'"
            )
        })?
    };
    if !matches!(name, "no" | "always" | "unless-stopped" | "on-failure") {
        bail!("invalid restart policy format: unknown policy '{name}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'");
    }
    Ok(json!({"Name": name, "MaximumRetryCount": count}))
}

fn read_env_files(files: &[std::path::PathBuf]) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(f).with_context(|| format!("open {}", f.display()))?;
        for line in text.lines() {
            let l = line.trim_start();
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            out.push(l.to_string());
        }
    }
    Ok(out)
}

/// `-e NAME` takes the value from the client's environment, as docker does.
fn expand_env(vars: Vec<String>) -> Vec<String> {
    vars.into_iter()
        .filter_map(|v| {
            if v.contains('=') {
                Some(v)
            } else {
                std::env::var(&v).ok().map(|val| format!("{v}={val}"))
            }
        })
        .collect()
}

/// The ContainerCreate body for these options (`detach`: `run -d`).
/// `NetworkingConfig.EndpointsConfig` for `--network`, `--network-alias`
/// and `--ip` (the alias and address go with the first network, as
/// docker's do).
fn endpoints_config(o: &ContainerOptions) -> Result<Option<Value>> {
    if o.network.is_empty() {
        if !o.network_alias.is_empty() || o.ip.is_some() {
            bail!("--network-alias and --ip need --network with a user-defined network");
        }
        return Ok(None);
    }
    let mut map = serde_json::Map::new();
    for (i, n) in o.network.iter().enumerate() {
        let mut ep = json!({});
        if i == 0 {
            if !o.network_alias.is_empty() {
                ep["Aliases"] = json!(o.network_alias);
            }
            if let Some(ip) = &o.ip {
                ep["IPAMConfig"] = json!({ "IPv4Address": ip });
            }
        }
        if map.insert(n.clone(), ep).is_some() {
            bail!("network {n:?} is specified multiple times");
        }
    }
    Ok(Some(Value::Object(map)))
}

pub fn create_body(o: &ContainerOptions, detach: bool) -> Result<Value> {
    let mut env = read_env_files(&o.env_file)?;
    env.extend(o.env.iter().cloned());
    let env = expand_env(env);
    let mut labels = serde_json::Map::new();
    for l in &o.label {
        let (k, v) = l.split_once('=').unwrap_or((l, ""));
        labels.insert(k.to_string(), Value::String(v.to_string()));
    }
    let mut binds = Vec::new();
    let mut volumes = serde_json::Map::new();
    for v in &o.volume {
        if v.is_empty() {
            bail!("invalid empty volume spec");
        }
        if v.contains(':') {
            binds.push(v.clone());
        } else {
            volumes.insert(v.clone(), json!({}));
        }
    }
    let mut exposed = serde_json::Map::new();
    let mut bindings = serde_json::Map::new();
    for p in &o.publish {
        let (key, binding) = parse_publish(p)?;
        exposed.insert(key.clone(), json!({}));
        let entry = bindings.entry(key).or_insert_with(|| json!([]));
        if let Some(list) = entry.as_array_mut() {
            list.push(binding);
        }
    }
    for e in &o.expose {
        let key = if e.contains('/') {
            e.clone()
        } else {
            format!("{e}/tcp")
        };
        exposed.insert(key, json!({}));
    }
    let links: Vec<String> = o
        .link
        .iter()
        .map(|l| {
            if l.contains(':') {
                l.clone()
            } else {
                format!("{l}:{l}")
            }
        })
        .collect();
    let mut host = json!({
        "PortBindings": bindings,
        "PublishAllPorts": o.publish_all,
        "Links": links,
        "Binds": binds,
        "NetworkMode": o.network.first().cloned().unwrap_or_else(|| "default".into()),
        "AutoRemove": o.rm,
        "ReadonlyRootfs": o.read_only,
        "CapAdd": o.cap_add,
        "CapDrop": o.cap_drop,
        "Init": o.init,
        "SecurityOpt": o.security_opt,
    });
    let mut log_cfg = serde_json::Map::new();
    for kv in &o.log_opt {
        let (k, v) = kv
            .split_once('=')
            .with_context(|| format!("invalid log opt {kv:?}: want key=value"))?;
        log_cfg.insert(k.to_string(), json!(v));
    }
    host["LogConfig"] =
        json!({"Type": o.log_driver.clone().unwrap_or_default(), "Config": log_cfg});
    if let Some(r) = &o.restart {
        host["RestartPolicy"] = restart_policy(r)?;
        if o.rm && !matches!(r.as_str(), "no" | "") {
            bail!("conflicting options: cannot specify both --restart and --rm");
        }
    }
    if let Some(m) = &o.memory {
        host["Memory"] = json!(parse_bytes(m)?);
    }
    if let Some(c) = &o.cpus {
        let n: f64 = c
            .parse()
            .ok()
            .filter(|n: &f64| *n > 0.0)
            .with_context(|| format!("invalid argument \"{c}\" for \"--cpus\" flag: failed to parse {c} as a rational number"))?;
        host["NanoCpus"] = json!((n * 1e9) as i64);
    }
    if let Some(p) = o.pids_limit {
        host["PidsLimit"] = json!(p);
    }
    let mut body = json!({
        "Image": o.image,
        "Env": env,
        "Labels": labels,
        "Tty": o.tty,
        "OpenStdin": o.interactive,
        "StdinOnce": o.interactive && !detach,
        "AttachStdin": o.interactive,
        "AttachStdout": true,
        "AttachStderr": true,
        "HostConfig": host,
    });
    if let Some(endpoints) = endpoints_config(o)? {
        body["NetworkingConfig"] = json!({ "EndpointsConfig": endpoints });
    }
    if !volumes.is_empty() {
        body["Volumes"] = Value::Object(volumes);
    }
    if !exposed.is_empty() {
        body["ExposedPorts"] = Value::Object(exposed);
    }
    if !o.command.is_empty() {
        body["Cmd"] = json!(o.command);
    }
    if let Some(e) = &o.entrypoint {
        body["Entrypoint"] = json!([e]);
    }
    for (key, val) in [
        ("WorkingDir", &o.workdir),
        ("User", &o.user),
        ("Hostname", &o.hostname),
        ("StopSignal", &o.stop_signal),
    ] {
        if let Some(v) = val {
            body[key] = json!(v);
        }
    }
    if let Some(t) = o.stop_timeout {
        body["StopTimeout"] = json!(t);
    }
    Ok(body)
}

/// Creates the container, pulling its image first when it is missing.
async fn create_container(client: &Client, o: &ContainerOptions, detach: bool) -> Result<String> {
    let body = create_body(o, detach)?;
    let path = match &o.name {
        Some(n) => format!("/containers/create?{}", query(&[("name", n)])),
        None => "/containers/create".to_string(),
    };
    let send = || {
        client.send(
            Method::POST,
            &path,
            http::full(body.to_string()),
            Some("application/json"),
        )
    };
    let res = match send().await {
        Err(ClientError::Daemon { status, message })
            if status == StatusCode::NOT_FOUND && message.starts_with("No such image") =>
        {
            let reference = crate::image::Reference::parse(&o.image)
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .with_default_tag();
            eprintln!("Unable to find image '{}' locally", reference.familiar());
            pull_quietly(client, &reference).await?;
            send().await?
        }
        r => r?,
    };
    let v: Value = http::read_json(res).await?;
    for w in v["Warnings"].as_array().into_iter().flatten() {
        eprintln!("WARNING: {}", w.as_str().unwrap_or_default());
    }
    Ok(v["Id"].as_str().unwrap_or_default().to_string())
}

/// Pulls for `run`/`create`, printing docker's progress lines on stderr.
async fn pull_quietly(client: &Client, r: &crate::image::Reference) -> Result<()> {
    let tag = r.tag().unwrap_or("latest").to_string();
    let repo = r.repository();
    let res = client
        .send(
            Method::POST,
            &format!(
                "/images/create?{}",
                query(&[("fromImage", &repo), ("tag", &tag)])
            ),
            http::empty(),
            None,
        )
        .await?;
    let mut failure = None;
    http::for_each_line(res, |line| {
        if let Ok(m) = serde_json::from_slice::<berth_types::JsonMessage>(line) {
            if let Some(e) = m
                .error_detail
                .as_ref()
                .map(|e| e.message.clone())
                .or(m.error.clone())
            {
                failure = Some(e);
            } else if m.progress_detail.is_none()
                || m.status
                    .as_deref()
                    .is_some_and(|s| s.starts_with("Digest") || s.starts_with("Status"))
            {
                match (&m.id, &m.status) {
                    (Some(id), Some(s)) => eprintln!("{id}: {s}"),
                    (None, Some(s)) => eprintln!("{s}"),
                    _ => {}
                }
            }
        }
        Ok(())
    })
    .await?;
    if let Some(e) = failure {
        return Err(ClientError::Daemon {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            message: e,
        }
        .into());
    }
    Ok(())
}

/// Docker's exit code for a failed start: 127 not found, 126 cannot invoke, else 125.
fn start_failure_code(message: &str) -> u8 {
    if message.contains("executable file not found")
        || message.contains("no such file or directory")
    {
        127
    } else if message.contains("permission denied") || message.contains("exec format error") {
        126
    } else {
        125
    }
}

fn run_error(e: anyhow::Error, code: u8) -> ExitCode {
    let text = match e.downcast_ref::<ClientError>() {
        Some(c) => c.to_string(),
        None => format!("{e:#}"),
    };
    eprintln!("berth: {text}\n\nRun 'berth run --help' for more information");
    ExitCode::from(code)
}

/// Reads the multiplexed stream of an attach until EOF, writing each frame
/// to stdout or stderr.
async fn pump_multiplexed(mut io: impl tokio::io::AsyncRead + Unpin) -> std::io::Result<()> {
    let mut out = tokio::io::stdout();
    let mut err = tokio::io::stderr();
    let mut header = [0u8; 8];
    loop {
        match io.read_exact(&mut header).await {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(e) => return Err(e),
        }
        let len = u32::from_be_bytes([header[4], header[5], header[6], header[7]]) as usize;
        let mut buf = vec![0u8; len];
        io.read_exact(&mut buf).await?;
        if header[0] == 2 {
            err.write_all(&buf).await?;
            err.flush().await?;
        } else {
            out.write_all(&buf).await?;
            out.flush().await?;
        }
    }
}

async fn wait_status(client: &Client, id: &str, condition: &str) -> Result<i32> {
    let v: Value = client
        .call_json(
            Method::POST,
            &format!("/containers/{id}/wait?condition={condition}"),
        )
        .await?;
    Ok(v["StatusCode"].as_i64().unwrap_or(-1) as i32)
}

pub async fn run(client: &Client, a: RunArgs) -> Result<ExitCode> {
    let id = match create_container(client, &a.opts, a.detach).await {
        Ok(id) => id,
        Err(e) => return Ok(run_error(e, 125)),
    };
    if a.detach {
        if let Err(e) = client
            .send(
                Method::POST,
                &format!("/containers/{id}/start"),
                http::empty(),
                None,
            )
            .await
        {
            let code = start_failure_code(&e.to_string());
            return Ok(run_error(e.into(), code));
        }
        println!("{id}");
        return Ok(ExitCode::SUCCESS);
    }
    let condition = if a.opts.rm { "removed" } else { "next-exit" };
    let waiter = {
        let client = client.clone();
        let id = id.clone();
        tokio::spawn(async move { wait_status(&client, &id, condition).await })
    };
    let pump = start_attach(client, &id, a.opts.tty, a.opts.interactive, "").await?;
    if let Err(e) = client
        .send(
            Method::POST,
            &format!("/containers/{id}/start"),
            http::empty(),
            None,
        )
        .await
    {
        pump.abort();
        let code = start_failure_code(&e.to_string());
        if a.opts.rm {
            let _ = waiter.await;
        } else {
            waiter.abort();
        }
        return Ok(run_error(e.into(), code));
    }
    if a.opts.tty {
        send_size(client, &format!("/containers/{id}/resize")).await;
    }
    pump.finish().await;
    exit_after_output(client, &id, waiter).await
}

/// After an attach's output ended: the container's exit code, or success
/// when it keeps running (the user detached with ctrl-p ctrl-q).
async fn exit_after_output(
    client: &Client,
    id: &str,
    waiter: tokio::task::JoinHandle<Result<i32>>,
) -> Result<ExitCode> {
    let mut waiter = waiter;
    // The exit is recorded a moment after the output ends.
    if let Ok(done) = tokio::time::timeout(std::time::Duration::from_millis(300), &mut waiter).await
    {
        let code = done.context("wait")??;
        return Ok(ExitCode::from(code.clamp(0, 255) as u8));
    }
    if let Ok(v) = client
        .get_json::<Value>(&format!("/containers/{id}/json"))
        .await
    {
        if v["State"]["Running"].as_bool() == Some(true) {
            waiter.abort();
            return Ok(ExitCode::SUCCESS);
        }
    }
    let code = waiter.await.context("wait")??;
    Ok(ExitCode::from(code.clamp(0, 255) as u8))
}

/// The terminal's rows and columns, when stdout is one.
fn terminal_size() -> Option<(u16, u16)> {
    let mut ws = libc::winsize {
        ws_row: 0,
        ws_col: 0,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCGWINSZ fills a winsize for a terminal fd.
    let r = unsafe { libc::ioctl(1, libc::TIOCGWINSZ, &mut ws) };
    (r == 0 && ws.ws_row > 0).then_some((ws.ws_row, ws.ws_col))
}

/// Tells the daemon the terminal's size (`…/resize?h=&w=`).
async fn send_size(client: &Client, path: &str) {
    if let Some((h, w)) = terminal_size() {
        let _ = client
            .send(
                Method::POST,
                &format!("{path}?h={h}&w={w}"),
                http::empty(),
                None,
            )
            .await;
    }
}

/// The local terminal in raw mode until dropped.
struct RawTerminal(Option<nix::sys::termios::Termios>);

impl RawTerminal {
    fn enter() -> Self {
        use nix::sys::termios;
        let stdin = std::io::stdin();
        match termios::tcgetattr(&stdin) {
            Ok(orig) => {
                let mut raw = orig.clone();
                termios::cfmakeraw(&mut raw);
                let _ = termios::tcsetattr(&stdin, termios::SetArg::TCSANOW, &raw);
                RawTerminal(Some(orig))
            }
            Err(_) => RawTerminal(None),
        }
    }
}

impl Drop for RawTerminal {
    fn drop(&mut self) {
        if let Some(orig) = &self.0 {
            let _ = nix::sys::termios::tcsetattr(
                std::io::stdin(),
                nix::sys::termios::SetArg::TCSANOW,
                orig,
            );
        }
    }
}

/// A running attach: output copied to the terminal, input sent along.
pub struct AttachPump {
    output: tokio::task::JoinHandle<()>,
    input: Option<tokio::task::JoinHandle<()>>,
    resize: Option<tokio::task::JoinHandle<()>>,
    _raw: Option<RawTerminal>,
}

impl AttachPump {
    /// Waits for the output to end (the process ended, or a detach).
    pub async fn finish(self) {
        let _ = self.output.await;
        if let Some(i) = &self.input {
            i.abort();
        }
        if let Some(r) = &self.resize {
            r.abort();
        }
    }

    fn abort(&self) {
        self.output.abort();
        if let Some(i) = &self.input {
            i.abort();
        }
    }
}

/// Attaches to a container (`/containers/ID/attach`) or an exec: raw output
/// for a terminal, demultiplexed otherwise; stdin forwarded with `stdin`;
/// the local terminal raw while a `tty` session has stdin.
pub async fn start_attach(
    client: &Client,
    id: &str,
    tty: bool,
    stdin: bool,
    detach_keys: &str,
) -> Result<AttachPump> {
    let mut path = format!(
        "/containers/{id}/attach?stream=1&stdout=1&stderr=1&stdin={}",
        if stdin { 1 } else { 0 }
    );
    if !detach_keys.is_empty() {
        path.push_str(&format!("&{}", query(&[("detachKeys", detach_keys)])));
    }
    let io = client.hijack(&path).await?;
    Ok(pump_session(
        client,
        io,
        tty,
        stdin,
        Some(format!("/containers/{id}/resize")),
    ))
}

/// Copies a hijacked session both ways (see [`start_attach`]).
pub fn pump_session(
    client: &Client,
    io: hyper_util::rt::TokioIo<hyper::upgrade::Upgraded>,
    tty: bool,
    stdin: bool,
    resize_path: Option<String>,
) -> AttachPump {
    use std::io::IsTerminal;
    let (r, mut w) = tokio::io::split(io);
    let raw = (tty && stdin && std::io::stdin().is_terminal()).then(RawTerminal::enter);
    let output = tokio::spawn(async move {
        if tty {
            // Written straight to fd 1 so nothing is left in a buffer at exit.
            let mut r = r;
            let mut buf = vec![0u8; 16 * 1024];
            loop {
                match r.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        use std::io::Write;
                        let mut out = std::io::stdout().lock();
                        if out.write_all(&buf[..n]).and_then(|_| out.flush()).is_err() {
                            break;
                        }
                    }
                }
            }
        } else {
            let _ = pump_multiplexed(r).await;
        }
    });
    let input = stdin.then(|| {
        tokio::spawn(async move {
            let _ = tokio::io::copy(&mut tokio::io::stdin(), &mut w).await;
            let _ = w.shutdown().await;
        })
    });
    let resize = match (tty, resize_path) {
        (true, Some(path)) => {
            let client = client.clone();
            Some(tokio::spawn(async move {
                let Ok(mut sig) =
                    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::window_change())
                else {
                    return;
                };
                while sig.recv().await.is_some() {
                    send_size(&client, &path).await;
                }
            }))
        }
        _ => None,
    };
    AttachPump {
        output,
        input,
        resize,
        _raw: raw,
    }
}

pub async fn create(client: &Client, a: CreateArgs) -> Result<ExitCode> {
    match create_container(client, &a.opts, true).await {
        Ok(id) => {
            println!("{id}");
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            let text = match e.downcast_ref::<ClientError>() {
                Some(c) => c.to_string(),
                None => format!("{e:#}"),
            };
            eprintln!("berth: {text}");
            Ok(ExitCode::from(125))
        }
    }
}

#[derive(Debug, Args)]
pub struct StartArgs {
    /// Attach STDOUT/STDERR and forward signals
    #[arg(short = 'a', long)]
    pub attach: bool,
    /// Attach container's STDIN
    #[arg(short = 'i', long)]
    pub interactive: bool,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

/// Runs `f` on each name, printing docker's per-container errors; exit 1 if any failed.
async fn each<F, Fut>(names: &[String], mut f: F) -> Result<ExitCode>
where
    F: FnMut(String) -> Fut,
    Fut: std::future::Future<Output = Result<(), ClientError>>,
{
    let mut failed = false;
    for n in names {
        match f(n.clone()).await {
            Ok(()) => println!("{n}"),
            Err(e) => {
                eprintln!("{e}");
                failed = true;
            }
        }
    }
    Ok(super::exit_status(failed))
}

async fn post(client: &Client, path: String) -> Result<(), ClientError> {
    client
        .send(Method::POST, &path, http::empty(), None)
        .await
        .map(|_| ())
}

pub async fn start(client: &Client, a: StartArgs) -> Result<ExitCode> {
    if a.attach || a.interactive {
        if a.containers.len() > 1 {
            bail!("you cannot start and attach multiple containers at once");
        }
        let name = &a.containers[0];
        let waiter = {
            let client = client.clone();
            let name = name.clone();
            tokio::spawn(async move { wait_status(&client, &name, "next-exit").await })
        };
        let io = client
            .hijack(&format!(
                "/containers/{name}/attach?stream=1&stdout=1&stderr=1"
            ))
            .await?;
        let pump = tokio::spawn(pump_multiplexed(io));
        post(client, format!("/containers/{name}/start")).await?;
        let _ = pump.await;
        let code = waiter.await.context("wait")??;
        return Ok(ExitCode::from(code.clamp(0, 255) as u8));
    }
    each(&a.containers, |n| {
        post(client, format!("/containers/{n}/start"))
    })
    .await
}

#[derive(Debug, Args)]
pub struct StopArgs {
    /// Seconds to wait before killing the container
    #[arg(short = 't', long = "time", alias = "timeout")]
    pub time: Option<i64>,
    /// Signal to send to the container
    #[arg(short = 's', long)]
    pub signal: Option<String>,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

pub async fn stop(client: &Client, a: StopArgs) -> Result<ExitCode> {
    let q = a.time.map(|t| format!("?t={t}")).unwrap_or_default();
    each(&a.containers, |n| {
        post(client, format!("/containers/{n}/stop{q}"))
    })
    .await
}

pub async fn restart(client: &Client, a: StopArgs) -> Result<ExitCode> {
    let q = a.time.map(|t| format!("?t={t}")).unwrap_or_default();
    each(&a.containers, |n| {
        post(client, format!("/containers/{n}/restart{q}"))
    })
    .await
}

#[derive(Debug, Args)]
pub struct KillArgs {
    /// Signal to send to the container
    #[arg(short = 's', long, default_value = "KILL")]
    pub signal: String,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

pub async fn kill(client: &Client, a: KillArgs) -> Result<ExitCode> {
    let q = query(&[("signal", &a.signal)]);
    each(&a.containers, |n| {
        post(client, format!("/containers/{n}/kill?{q}"))
    })
    .await
}

#[derive(Debug, Args)]
pub struct RmArgs {
    /// Force the removal of a running container (uses SIGKILL)
    #[arg(short = 'f', long)]
    pub force: bool,
    /// Remove anonymous volumes associated with the container
    #[arg(short = 'v', long)]
    pub volumes: bool,
    #[arg(required = true)]
    pub containers: Vec<String>,
}

pub async fn rm(client: &Client, a: RmArgs) -> Result<ExitCode> {
    let q = query(&[
        ("force", if a.force { "1" } else { "0" }),
        ("v", if a.volumes { "1" } else { "0" }),
    ]);
    let q = &q;
    each(&a.containers, |n| async move {
        client
            .send(
                Method::DELETE,
                &format!("/containers/{n}?{q}"),
                http::empty(),
                None,
            )
            .await
            .map(|_| ())
    })
    .await
}

#[derive(Debug, Args)]
pub struct PsArgs {
    /// Show all containers (default shows just running)
    #[arg(short = 'a', long)]
    pub all: bool,
    /// Only display container IDs
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Show n last created containers (includes all states)
    #[arg(short = 'n', long = "last")]
    pub last: Option<i64>,
    /// Show the latest created container (includes all states)
    #[arg(short = 'l', long)]
    pub latest: bool,
    /// Don't truncate output
    #[arg(long = "no-trunc")]
    pub no_trunc: bool,
    /// Filter output based on conditions provided
    #[arg(short = 'f', long = "filter")]
    pub filter: Vec<String>,
}

/// `0.0.0.0:8080->80/tcp, 53/udp`
pub fn ports_text(ports: &[Value]) -> String {
    ports
        .iter()
        .map(|p| {
            let private = p["PrivatePort"].as_u64().unwrap_or(0);
            let kind = p["Type"].as_str().unwrap_or("tcp");
            match p["PublicPort"].as_u64() {
                Some(public) if public > 0 => format!(
                    "{}:{public}->{private}/{kind}",
                    p["IP"].as_str().unwrap_or("0.0.0.0")
                ),
                _ => format!("{private}/{kind}"),
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub async fn ps(client: &Client, a: PsArgs) -> Result<ExitCode> {
    let mut pairs: Vec<(&str, String)> = vec![("all", if a.all { "1" } else { "0" }.into())];
    let last = if a.latest { Some(1) } else { a.last };
    if let Some(n) = last {
        pairs.push(("limit", n.to_string()));
    }
    if !a.filter.is_empty() {
        pairs.push(("filters", filters_json(&a.filter)?));
    }
    let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let list: Vec<Value> = client
        .get_json(&format!("/containers/json?{}", query(&pairs)))
        .await?;
    if a.quiet {
        for c in &list {
            let id = c["Id"].as_str().unwrap_or_default();
            println!(
                "{}",
                if a.no_trunc {
                    id
                } else {
                    &id[..12.min(id.len())]
                }
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    let mut t = Table::new(&[
        "CONTAINER ID",
        "IMAGE",
        "COMMAND",
        "CREATED",
        "STATUS",
        "PORTS",
        "NAMES",
    ]);
    for c in &list {
        let id = c["Id"].as_str().unwrap_or_default();
        let command = c["Command"].as_str().unwrap_or_default();
        let command = if a.no_trunc {
            format!("\"{command}\"")
        } else {
            format!("\"{}\"", ellipsis(command, 20))
        };
        let names: Vec<&str> = c["Names"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|n| n.as_str())
            .map(|n| n.trim_start_matches('/'))
            .collect();
        t.row(vec![
            if a.no_trunc {
                id.to_string()
            } else {
                short_id(id).to_string()
            },
            c["Image"].as_str().unwrap_or_default().to_string(),
            command,
            ago(c["Created"].as_i64().unwrap_or(0)),
            c["Status"].as_str().unwrap_or_default().to_string(),
            ports_text(c["Ports"].as_array().map(Vec::as_slice).unwrap_or_default()),
            names.join(","),
        ]);
    }
    print!("{}", t.render());
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// Follow log output
    #[arg(short = 'f', long)]
    pub follow: bool,
    /// Number of lines to show from the end of the logs (or "all")
    #[arg(short = 'n', long, default_value = "all")]
    pub tail: String,
    /// Show logs since timestamp (e.g. 2013-01-02T13:23:37Z) or relative (e.g. 42m for 42 minutes)
    #[arg(long)]
    pub since: Option<String>,
    /// Show logs before a timestamp or relative time
    #[arg(long)]
    pub until: Option<String>,
    /// Show timestamps
    #[arg(short = 't', long)]
    pub timestamps: bool,
    pub container: String,
}

/// `42m`, `10s`, `1h30m` → unix seconds that long ago; anything else as given.
fn api_time(s: &str) -> String {
    let mut total = 0f64;
    let mut num = String::new();
    let mut ok = !s.is_empty();
    for ch in s.chars() {
        if ch.is_ascii_digit() || ch == '.' {
            num.push(ch);
            continue;
        }
        let unit = match ch {
            's' => 1.0,
            'm' => 60.0,
            'h' => 3600.0,
            _ => {
                ok = false;
                break;
            }
        };
        match num.parse::<f64>() {
            Ok(n) => total += n * unit,
            Err(_) => ok = false,
        }
        num.clear();
    }
    if ok && num.is_empty() {
        let now = chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0) as f64 / 1e9;
        return format!("{:.9}", now - total);
    }
    s.to_string()
}

pub async fn logs(client: &Client, a: LogsArgs) -> Result<ExitCode> {
    let mut pairs: Vec<(&str, String)> = vec![
        ("stdout", "1".into()),
        ("stderr", "1".into()),
        ("tail", a.tail.clone()),
    ];
    if a.follow {
        pairs.push(("follow", "1".into()));
    }
    if a.timestamps {
        pairs.push(("timestamps", "1".into()));
    }
    if let Some(s) = &a.since {
        pairs.push(("since", api_time(s)));
    }
    if let Some(u) = &a.until {
        pairs.push(("until", api_time(u)));
    }
    let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let info: Value = client
        .get_json(&format!("/containers/{}/json", a.container))
        .await?;
    let res = client
        .send(
            Method::GET,
            &format!("/containers/{}/logs?{}", a.container, query(&pairs)),
            http::empty(),
            None,
        )
        .await?;
    if info["Config"]["Tty"].as_bool().unwrap_or(false) {
        http::copy_body(res, &mut tokio::io::stdout()).await?;
    } else {
        let body = http_body_util::BodyStream::new(res.into_body());
        use futures_util::TryStreamExt;
        let reader = tokio_util::io::StreamReader::new(
            body.try_filter_map(|f| async move { Ok(f.into_data().ok()) })
                .map_err(std::io::Error::other),
        );
        pump_multiplexed(std::pin::pin!(reader)).await?;
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Args)]
pub struct WaitArgs {
    #[arg(required = true)]
    pub containers: Vec<String>,
}

pub async fn wait(client: &Client, a: WaitArgs) -> Result<ExitCode> {
    let mut failed = false;
    for n in &a.containers {
        match wait_status(client, n, "not-running").await {
            Ok(code) => println!("{code}"),
            Err(e) => {
                eprintln!("{}", super::error_text(&e));
                failed = true;
            }
        }
    }
    Ok(super::exit_status(failed))
}

#[derive(Debug, Args)]
pub struct AttachArgs {
    /// Do not attach STDIN
    #[arg(long = "no-stdin")]
    pub no_stdin: bool,
    /// Proxy all received signals to the process
    #[arg(long = "sig-proxy", default_value_t = true, action = ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
    pub sig_proxy: bool,
    /// Override the key sequence for detaching a container
    #[arg(long = "detach-keys", default_value = "")]
    pub detach_keys: String,
    pub container: String,
}

/// `berth attach`: the container's streams on this terminal; ctrl-p ctrl-q
/// detaches and leaves it running. With `--sig-proxy` (the default, and
/// without a terminal) SIGINT and SIGTERM are passed to the container.
pub async fn attach(client: &Client, a: AttachArgs) -> Result<ExitCode> {
    let info: Value = client
        .get_json(&format!("/containers/{}/json", a.container))
        .await?;
    if info["State"]["Running"].as_bool() != Some(true) {
        bail!("You cannot attach to a stopped container, start it first");
    }
    let tty = info["Config"]["Tty"].as_bool().unwrap_or(false);
    let stdin = !a.no_stdin && info["Config"]["OpenStdin"].as_bool().unwrap_or(false);
    let id = info["Id"].as_str().unwrap_or_default().to_string();
    let waiter = {
        let client = client.clone();
        let id = id.clone();
        tokio::spawn(async move { wait_status(&client, &id, "next-exit").await })
    };
    let pump = start_attach(client, &id, tty, stdin, &a.detach_keys).await?;
    let proxy = (a.sig_proxy && !tty).then(|| {
        let client = client.clone();
        let id = id.clone();
        tokio::spawn(async move {
            use tokio::signal::unix::{signal, SignalKind};
            let (Ok(mut int), Ok(mut term)) = (
                signal(SignalKind::interrupt()),
                signal(SignalKind::terminate()),
            ) else {
                return;
            };
            loop {
                let sig = tokio::select! {
                    _ = int.recv() => "SIGINT",
                    _ = term.recv() => "SIGTERM",
                };
                let _ = post(&client, format!("/containers/{id}/kill?signal={sig}")).await;
            }
        })
    });
    if tty {
        send_size(client, &format!("/containers/{id}/resize")).await;
    }
    pump.finish().await;
    if let Some(p) = proxy {
        p.abort();
    }
    exit_after_output(client, &id, waiter).await
}

#[derive(Debug, Args)]
pub struct ExecArgs {
    /// Detached mode: run command in the background
    #[arg(short = 'd', long)]
    pub detach: bool,
    /// Keep STDIN open even if not attached
    #[arg(short = 'i', long)]
    pub interactive: bool,
    /// Allocate a pseudo-TTY
    #[arg(short = 't', long)]
    pub tty: bool,
    /// Set environment variables
    #[arg(short = 'e', long = "env")]
    pub env: Vec<String>,
    /// Username or UID (format: <name|uid>[:<group|gid>])
    #[arg(short = 'u', long)]
    pub user: Option<String>,
    /// Working directory inside the container
    #[arg(short = 'w', long)]
    pub workdir: Option<String>,
    /// Override the key sequence for detaching a container
    #[arg(long = "detach-keys", default_value = "")]
    pub detach_keys: String,
    pub container: String,
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true)]
    pub command: Vec<String>,
}

/// `berth exec`: exit code of the command; 126/127 when it cannot run.
pub async fn exec(client: &Client, a: ExecArgs) -> Result<ExitCode> {
    let body = json!({
        "AttachStdin": a.interactive && !a.detach,
        "AttachStdout": !a.detach,
        "AttachStderr": !a.detach,
        "Tty": a.tty,
        "Env": expand_env(a.env.clone()),
        "Cmd": a.command,
        "User": a.user.clone().unwrap_or_default(),
        "WorkingDir": a.workdir.clone().unwrap_or_default(),
        "DetachKeys": a.detach_keys,
    });
    let res = client
        .send(
            Method::POST,
            &format!("/containers/{}/exec", a.container),
            http::full(body.to_string()),
            Some("application/json"),
        )
        .await?;
    let v: Value = http::read_json(res).await?;
    let id = v["Id"].as_str().unwrap_or_default().to_string();
    let start = json!({"Detach": a.detach, "Tty": a.tty}).to_string();
    if a.detach {
        client
            .send(
                Method::POST,
                &format!("/exec/{id}/start"),
                http::full(start),
                Some("application/json"),
            )
            .await?;
        return Ok(ExitCode::SUCCESS);
    }
    let io = client
        .hijack_with(&format!("/exec/{id}/start"), Some(start))
        .await?;
    let pump = pump_session(
        client,
        io,
        a.tty,
        a.interactive,
        Some(format!("/exec/{id}/resize")),
    );
    if a.tty {
        send_size(client, &format!("/exec/{id}/resize")).await;
    }
    pump.finish().await;
    for _ in 0..100 {
        let v: Value = client.get_json(&format!("/exec/{id}/json")).await?;
        if v["Running"].as_bool() != Some(true) {
            if let Some(code) = v["ExitCode"].as_i64() {
                return Ok(ExitCode::from(code.clamp(0, 255) as u8));
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Args)]
pub struct RenameArgs {
    pub container: String,
    pub new_name: String,
}

pub async fn rename(client: &Client, a: RenameArgs) -> Result<ExitCode> {
    let q = query(&[("name", &a.new_name)]);
    post(client, format!("/containers/{}/rename?{q}", a.container)).await?;
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Args)]
pub struct TopArgs {
    pub container: String,
}

pub async fn top(client: &Client, a: TopArgs) -> Result<ExitCode> {
    let v: Value = client
        .get_json(&format!("/containers/{}/top", a.container))
        .await?;
    let titles: Vec<&str> = v["Titles"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t.as_str())
        .collect();
    let mut t = Table::new(&titles);
    for p in v["Processes"].as_array().into_iter().flatten() {
        t.row(
            p.as_array()
                .into_iter()
                .flatten()
                .map(|c| c.as_str().unwrap_or_default().to_string())
                .collect(),
        );
    }
    print!("{}", t.render());
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Args)]
pub struct PortArgs {
    pub container: String,
    /// PRIVATE_PORT[/PROTO]
    pub port: Option<String>,
}

pub async fn port(client: &Client, a: PortArgs) -> Result<ExitCode> {
    let v: Value = client
        .get_json(&format!("/containers/{}/json", a.container))
        .await?;
    let mut lines = Vec::new();
    for (port, bindings) in v["NetworkSettings"]["Ports"]
        .as_object()
        .into_iter()
        .flatten()
    {
        if let Some(want) = &a.port {
            let want = if want.contains('/') {
                want.clone()
            } else {
                format!("{want}/tcp")
            };
            if *port != want {
                continue;
            }
        }
        for b in bindings.as_array().into_iter().flatten() {
            let addr = format!(
                "{}:{}",
                b["HostIp"].as_str().unwrap_or("0.0.0.0"),
                b["HostPort"].as_str().unwrap_or("")
            );
            lines.push(if a.port.is_some() {
                addr
            } else {
                format!("{port} -> {addr}")
            });
        }
    }
    if lines.is_empty() {
        if let Some(p) = &a.port {
            bail!("No public port '{p}' published for {}", a.container);
        }
    }
    for l in lines {
        println!("{l}");
    }
    Ok(ExitCode::SUCCESS)
}

/// Container JSON for `inspect`, or `None` when there is no such container.
pub async fn inspect_one(client: &Client, name: &str) -> Result<Option<Value>> {
    match client
        .get_json::<Value>(&format!("/containers/{name}/json"))
        .await
    {
        Ok(v) => Ok(Some(v)),
        Err(ClientError::Daemon { status, .. }) if status == StatusCode::NOT_FOUND => Ok(None),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_times() {
        assert_eq!(parse_bytes("64m").unwrap(), 64 << 20);
        assert_eq!(parse_bytes("1g").unwrap(), 1 << 30);
        assert_eq!(parse_bytes("512").unwrap(), 512);
        assert!(parse_bytes("lots").is_err());
        assert!(api_time("10m").contains('.'));
        assert_eq!(api_time("2026-01-01T00:00:00Z"), "2026-01-01T00:00:00Z");
        assert_eq!(
            restart_policy("on-failure:3").unwrap()["MaximumRetryCount"],
            3
        );
        assert!(restart_policy("sometimes").is_err());
        let (k, v) = parse_publish("127.0.0.1:8080:80/udp").unwrap();
        assert_eq!(
            (k.as_str(), v["HostIp"].as_str(), v["HostPort"].as_str()),
            ("80/udp", Some("127.0.0.1"), Some("8080"))
        );
        assert_eq!(parse_publish("80").unwrap().1["HostPort"], "");
        assert_eq!(parse_publish("8080:80").unwrap().1["HostPort"], "8080");
        assert!(parse_publish("99999").is_err());
        assert!(parse_publish("80/sctp").is_err());
    }
}
