//! The `berth` command line: `berth daemon` serves; every other command is a
//! docker-style client of the API, with docker's verbs (both the short form
//! and the `image …` management form), flags, tables and exit codes.

pub mod accounts;
pub mod build;
pub mod commit;
pub mod containers;
pub mod copy;
pub mod format;
pub mod http;
pub mod images;
pub mod networks;
pub mod progress;
pub mod prune;
pub mod registry;
pub mod stats;
pub mod system;
pub mod volumes;

use crate::daemon::{self, DaemonConfig, DEFAULT_DATA_ROOT, DEFAULT_HOST};
use clap::{Args, Parser, Subcommand};
use http::{Client, ClientError};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "berth",
    version,
    about = "A self-hosted container engine that speaks the Docker Engine API"
)]
pub struct Cli {
    /// Daemon socket to connect to (default unix:///run/berth/berth.sock, or $BERTH_HOST)
    #[arg(short = 'H', long = "host")]
    host: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the Berth daemon
    Daemon(DaemonArgs),
    /// The per-container shim (started by the daemon)
    #[command(hide = true)]
    Shim {
        /// Start ahead of time and wait for a container directory on stdin
        #[arg(long)]
        spare: bool,
        dir: Option<PathBuf>,
    },
    /// The shim of an exec (started by the daemon)
    #[command(hide = true, name = "shim-exec")]
    ShimExec { config: PathBuf },
    /// Show the Berth version information
    Version,
    /// Display system-wide information
    Info,
    /// Get real time events from the server
    Events(system::EventsArgs),
    /// Create and run a new container from an image
    Run(containers::RunArgs),
    /// Create a new container
    Create(containers::CreateArgs),
    /// Start one or more stopped containers
    Start(containers::StartArgs),
    /// Stop one or more running containers
    Stop(containers::StopArgs),
    /// Restart one or more containers
    Restart(containers::StopArgs),
    /// Kill one or more running containers
    Kill(containers::KillArgs),
    /// Remove one or more containers
    Rm(containers::RmArgs),
    /// List containers
    Ps(containers::PsArgs),
    /// Fetch the logs of a container
    Logs(containers::LogsArgs),
    /// Block until one or more containers stop, then print their exit codes
    Wait(containers::WaitArgs),
    /// Rename a container
    Rename(containers::RenameArgs),
    /// Inspect changes to files or directories on a container's filesystem
    Diff(commit::DiffArgs),
    /// Create a new image from a container's changes
    Commit(commit::CommitArgs),
    /// Build an image from a Dockerfile
    Build(build::BuildArgs),
    /// Copy files/folders between a container and the local filesystem
    Cp(copy::CpArgs),
    /// Export a container's filesystem as a tar archive
    Export(copy::ExportArgs),
    /// Display a live stream of container(s) resource usage statistics
    Stats(stats::StatsArgs),
    /// Display the running processes of a container
    Top(containers::TopArgs),
    /// List port mappings or a specific mapping for the container
    Port(containers::PortArgs),
    /// Attach local standard input, output, and error streams to a running container
    Attach(containers::AttachArgs),
    /// Execute a command in a running container
    Exec(containers::ExecArgs),
    /// Manage containers
    #[command(subcommand)]
    Container(ContainerCommand),
    /// Manage networks
    #[command(subcommand)]
    Network(networks::NetworkCommand),
    /// Manage volumes
    #[command(subcommand)]
    Volume(volumes::VolumeCommand),
    /// Manage builds
    #[command(subcommand)]
    Builder(BuilderCommand),
    /// Manage dashboard and API accounts (admins; root on the unix socket)
    #[command(subcommand)]
    User(accounts::UserCommand),
    /// Manage teams (admins)
    #[command(subcommand)]
    Team(accounts::TeamCommand),
    /// Manage your API tokens (over TCP, with BERTH_TOKEN)
    #[command(subcommand)]
    Token(accounts::TokenCommand),
    /// Log in to a registry (the daemon keeps the credentials)
    Login(registry::LoginArgs),
    /// Log out from a registry
    Logout(registry::LogoutArgs),
    /// Search registries and local images
    Search(registry::SearchArgs),
    /// List images
    Images(images::ImagesArgs),
    /// Import the contents from a tarball to create a filesystem image
    Import(images::ImportArgs),
    /// Load an image from a tar archive or STDIN
    Load(images::LoadArgs),
    /// Download an image from a registry
    Pull(images::PullArgs),
    /// Upload an image to a registry
    Push(images::PushArgs),
    /// Save one or more images to a tar archive (streamed to STDOUT by default)
    Save(images::SaveArgs),
    /// Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE
    Tag(images::TagArgs),
    /// Remove one or more images
    Rmi(images::RmiArgs),
    /// Show the history of an image
    History(images::HistoryArgs),
    /// Return low-level information on Berth objects
    Inspect(images::InspectArgs),
    /// Manage images
    #[command(subcommand)]
    Image(ImageCommand),
    /// Manage Berth
    #[command(subcommand)]
    System(SystemCommand),
}

#[derive(Debug, Subcommand)]
enum ImageCommand {
    /// Build an image from a Dockerfile
    Build(build::BuildArgs),
    /// Remove unused images
    Prune(prune::ImagePruneArgs),
    /// List images
    #[command(visible_alias = "list")]
    Ls(images::ImagesArgs),
    /// Import the contents from a tarball to create a filesystem image
    Import(images::ImportArgs),
    /// Load an image from a tar archive or STDIN
    Load(images::LoadArgs),
    /// Download an image from a registry
    Pull(images::PullArgs),
    /// Upload an image to a registry
    Push(images::PushArgs),
    /// Save one or more images to a tar archive
    Save(images::SaveArgs),
    /// Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE
    Tag(images::TagArgs),
    /// Remove one or more images
    #[command(visible_alias = "remove", visible_alias = "rmi")]
    Rm(images::RmiArgs),
    /// Show the history of an image
    History(images::HistoryArgs),
    /// Display detailed information on one or more images
    Inspect(images::InspectArgs),
}

#[derive(Debug, Subcommand)]
enum ContainerCommand {
    /// Create and run a new container from an image
    Run(containers::RunArgs),
    /// Remove all stopped containers
    Prune(prune::PruneArgs),
    /// Create a new container
    Create(containers::CreateArgs),
    /// Start one or more stopped containers
    Start(containers::StartArgs),
    /// Stop one or more running containers
    Stop(containers::StopArgs),
    /// Restart one or more containers
    Restart(containers::StopArgs),
    /// Kill one or more running containers
    Kill(containers::KillArgs),
    /// Remove one or more containers
    #[command(visible_alias = "remove")]
    Rm(containers::RmArgs),
    /// List containers
    #[command(visible_alias = "ps", visible_alias = "list")]
    Ls(containers::PsArgs),
    /// Fetch the logs of a container
    Logs(containers::LogsArgs),
    /// Block until one or more containers stop, then print their exit codes
    Wait(containers::WaitArgs),
    /// Rename a container
    Rename(containers::RenameArgs),
    /// Inspect changes to files or directories on a container's filesystem
    Diff(commit::DiffArgs),
    /// Create a new image from a container's changes
    Commit(commit::CommitArgs),
    /// Copy files/folders between a container and the local filesystem
    Cp(copy::CpArgs),
    /// Export a container's filesystem as a tar archive
    Export(copy::ExportArgs),
    /// Display a live stream of container(s) resource usage statistics
    Stats(stats::StatsArgs),
    /// Display the running processes of a container
    Top(containers::TopArgs),
    /// List port mappings or a specific mapping for the container
    Port(containers::PortArgs),
    /// Display detailed information on one or more containers
    Inspect(images::InspectArgs),
    /// Attach local standard input, output, and error streams to a running container
    Attach(containers::AttachArgs),
    /// Execute a command in a running container
    Exec(containers::ExecArgs),
}

#[derive(Debug, Subcommand)]
enum SystemCommand {
    /// Display system-wide information
    Info,
    /// Show docker disk usage
    Df(prune::DfArgs),
    /// Remove unused data
    Prune(prune::SystemPruneArgs),
    /// Get real time events from the server
    Events(system::EventsArgs),
    /// Verify every blob, reference and layer of the image store (exit 1 on a problem)
    Check,
}

#[derive(Debug, Subcommand)]
enum BuilderCommand {
    /// Remove build cache
    Prune(prune::PruneArgs),
}

#[derive(Debug, Args)]
struct DaemonArgs {
    /// Root directory of persistent Berth state
    #[arg(long, default_value = DEFAULT_DATA_ROOT)]
    data_root: PathBuf,
    /// Daemon socket(s) to listen on: unix:///path or tcp://HOST:PORT (repeatable)
    #[arg(short = 'H', long = "host")]
    hosts: Vec<String>,
    /// Directory of the built dashboard (default /usr/local/share/berth/ui)
    #[arg(long, env = "BERTH_UI_DIR")]
    ui_dir: Option<PathBuf>,
    /// Registry spoken to without verified TLS, falling back to HTTP: a CIDR
    /// range or HOST[:PORT] (repeatable; loopback always is)
    #[arg(long = "insecure-registry", value_name = "REGISTRY")]
    insecure_registries: Vec<String>,
    /// Directory of per-registry certificates: DIR/HOST:PORT/ca.crt, client.cert, client.key
    #[arg(long, default_value = crate::registry::transport::DEFAULT_CERTS_DIR)]
    certs_dir: PathBuf,
    /// The bridge containers attach to (created if missing)
    #[arg(short = 'b', long, default_value = crate::network::DEFAULT_BRIDGE)]
    bridge: String,
    /// The bridge's address and subnet
    #[arg(long, default_value = crate::network::DEFAULT_BIP)]
    bip: String,
    /// Where user-defined networks take their subnets: "base=CIDR,size=PREFIX" (docker's form) or a CIDR (/24 each)
    #[arg(long = "default-address-pool", default_value = crate::network::store::POOL)]
    default_address_pool: String,
    /// The most one image layer may unpack to, in bytes (k, m, g suffixes)
    #[arg(long = "max-layer-size", default_value = "64g")]
    max_layer_size: String,
    /// The most tar entries one image layer may hold
    #[arg(long = "max-layer-entries", default_value_t = crate::image::unpack::DEFAULT_LIMITS.entries)]
    max_layer_entries: u64,
    /// Days the activity history is kept (0 keeps it forever)
    #[arg(long, default_value_t = 90)]
    activity_retention_days: u32,
    /// The first admin's password (used once, when there is no account yet);
    /// without it a password is generated and printed once
    #[arg(long)]
    admin_password_file: Option<std::path::PathBuf>,
    /// Hours a dashboard login lasts
    #[arg(long, default_value_t = 12)]
    session_hours: u32,
    /// Seconds an account is locked after 5 failed logins (doubling each time)
    #[arg(long, default_value_t = 60)]
    login_lockout_seconds: u32,
    /// Log level filter (error, warn, info, debug, trace)
    #[arg(short = 'l', long, default_value = "info")]
    log_level: String,
}

/// Parses arguments, runs the command and maps failures to docker's exit codes.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // Before any thread exists: the shims fork.
    if let Command::Shim { spare, dir } = &cli.command {
        let code = match dir {
            Some(dir) if !spare => crate::runtime::shim::main(dir),
            None if *spare => crate::runtime::shim::spare_main(),
            _ => {
                eprintln!("berth shim: give either DIR or --spare");
                125
            }
        };
        return ExitCode::from(code.clamp(0, 255) as u8);
    }
    if let Command::ShimExec { config } = &cli.command {
        return ExitCode::from(crate::runtime::exec::main(config).clamp(0, 255) as u8);
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("berth: cannot start the async runtime: {e}");
            return ExitCode::from(125);
        }
    };
    if let Command::Daemon(args) = cli.command {
        init_logging(&args.log_level);
        let layer_bytes = match containers::parse_bytes(&args.max_layer_size) {
            Ok(n) if n > 0 => n as u64,
            _ => {
                eprintln!(
                    "berth: invalid --max-layer-size {:?}: want a size in bytes, e.g. 2g",
                    args.max_layer_size
                );
                return ExitCode::from(125);
            }
        };
        let cfg = DaemonConfig {
            data_root: args.data_root,
            hosts: args.hosts,
            ui_dir: args.ui_dir,
            insecure_registries: args.insecure_registries,
            certs_dir: args.certs_dir,
            bridge: args.bridge,
            bip: args.bip,
            address_pool: args.default_address_pool,
            layer_limits: crate::image::unpack::Limits {
                bytes: layer_bytes,
                entries: args.max_layer_entries,
            },
            activity_retention_days: args.activity_retention_days,
            admin_password_file: args.admin_password_file,
            session_ttl: std::time::Duration::from_secs(
                u64::from(args.session_hours.max(1)) * 3600,
            ),
            login_lockout: std::time::Duration::from_secs(u64::from(args.login_lockout_seconds)),
        };
        return match rt.block_on(daemon::run(cfg)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                tracing::error!("{e:#}");
                eprintln!("berth daemon: {e:#}");
                ExitCode::from(1)
            }
        };
    }
    let host = cli
        .host
        .or_else(|| std::env::var("BERTH_HOST").ok().filter(|h| !h.is_empty()))
        .unwrap_or_else(|| DEFAULT_HOST.into());
    let client = match Client::new(&host) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(125);
        }
    };
    let code = match rt.block_on(run_client(&client, cli.command)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("{}", error_text(&e));
            ExitCode::from(1)
        }
    };
    // Pending output is written out; a read of a terminal's stdin that may
    // still block a runtime thread is not waited for.
    rt.shutdown_timeout(std::time::Duration::from_millis(250));
    code
}

/// Exit 1 when any item of a multi-item command failed (docker's rule).
/// `network inspect`, `volume inspect`: names and an optional format.
#[derive(Debug, clap::Args)]
pub struct InspectNames {
    /// Format the output using the given Go template ({{.Field}}, {{json .Field}}) or "json"
    #[arg(short = 'f', long)]
    pub format: Option<String>,
    #[arg(required = true)]
    pub names: Vec<String>,
}

/// `inspect` of several objects: `GET {prefix}/{name}{suffix}` each, one
/// JSON array of those found, docker's error line for each one missing.
pub async fn inspect_each(
    client: &Client,
    prefix: &str,
    names: &[String],
    format: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let mut out = Vec::new();
    let mut failed = false;
    for n in names {
        match client
            .get_json::<serde_json::Value>(&format!("{prefix}/{n}"))
            .await
        {
            Ok(v) => out.push(v),
            Err(e @ http::ClientError::Daemon { .. }) => {
                eprintln!("{e}");
                failed = true;
            }
            Err(e) => return Err(e.into()),
        }
    }
    format::print_inspected(&out, format)?;
    Ok(exit_status(failed))
}

/// `rm` of several objects: `DELETE {prefix}/{name}{query}` each, printing
/// the names removed and an error line for each failure.
pub async fn remove_each(
    client: &Client,
    prefix: &str,
    names: &[String],
    query: &str,
) -> anyhow::Result<ExitCode> {
    let mut failed = false;
    for n in names {
        match client
            .send(
                hyper::Method::DELETE,
                &format!("{prefix}/{n}{query}"),
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
    Ok(exit_status(failed))
}

pub fn exit_status(failed: bool) -> ExitCode {
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

pub fn error_text(e: &anyhow::Error) -> String {
    match e.downcast_ref::<ClientError>() {
        Some(c) => c.to_string(),
        None => format!("Error: {e:#}"),
    }
}

async fn run_client(client: &Client, command: Command) -> anyhow::Result<ExitCode> {
    use containers as c;
    use images as i;
    match command {
        Command::Daemon(_) | Command::Shim { .. } | Command::ShimExec { .. } => {
            unreachable!("handled before")
        }
        Command::Version => system::version(client).await,
        Command::Info | Command::System(SystemCommand::Info) => system::info(client).await,
        Command::System(SystemCommand::Df(a)) => prune::df(client, a).await,
        Command::System(SystemCommand::Check) => system::check(client).await,
        Command::System(SystemCommand::Prune(a)) => prune::system_prune(client, a).await,
        Command::Container(ContainerCommand::Prune(a)) => prune::container_prune(client, a).await,
        Command::Image(ImageCommand::Prune(a)) => prune::image_prune(client, a).await,
        Command::Builder(BuilderCommand::Prune(a)) => prune::builder_prune(client, a).await,
        Command::Events(a) | Command::System(SystemCommand::Events(a)) => {
            system::events(client, a).await
        }
        Command::Run(a) | Command::Container(ContainerCommand::Run(a)) => c::run(client, a).await,
        Command::Create(a) | Command::Container(ContainerCommand::Create(a)) => {
            c::create(client, a).await
        }
        Command::Start(a) | Command::Container(ContainerCommand::Start(a)) => {
            c::start(client, a).await
        }
        Command::Stop(a) | Command::Container(ContainerCommand::Stop(a)) => {
            c::stop(client, a).await
        }
        Command::Restart(a) | Command::Container(ContainerCommand::Restart(a)) => {
            c::restart(client, a).await
        }
        Command::Kill(a) | Command::Container(ContainerCommand::Kill(a)) => {
            c::kill(client, a).await
        }
        Command::Rm(a) | Command::Container(ContainerCommand::Rm(a)) => c::rm(client, a).await,
        Command::Ps(a) | Command::Container(ContainerCommand::Ls(a)) => c::ps(client, a).await,
        Command::Logs(a) | Command::Container(ContainerCommand::Logs(a)) => {
            c::logs(client, a).await
        }
        Command::Wait(a) | Command::Container(ContainerCommand::Wait(a)) => {
            c::wait(client, a).await
        }
        Command::Rename(a) | Command::Container(ContainerCommand::Rename(a)) => {
            c::rename(client, a).await
        }
        Command::Top(a) | Command::Container(ContainerCommand::Top(a)) => c::top(client, a).await,
        Command::Cp(a) | Command::Container(ContainerCommand::Cp(a)) => copy::cp(client, a).await,
        Command::Export(a) | Command::Container(ContainerCommand::Export(a)) => {
            copy::export(client, a).await
        }
        Command::Stats(a) | Command::Container(ContainerCommand::Stats(a)) => {
            stats::stats(client, a).await
        }
        Command::Diff(a) | Command::Container(ContainerCommand::Diff(a)) => {
            commit::diff(client, a).await
        }
        Command::Commit(a) | Command::Container(ContainerCommand::Commit(a)) => {
            commit::commit(client, a).await
        }
        Command::Build(a) | Command::Image(ImageCommand::Build(a)) => build::build(client, a).await,
        Command::Port(a) | Command::Container(ContainerCommand::Port(a)) => {
            c::port(client, a).await
        }
        Command::Container(ContainerCommand::Inspect(mut a)) => {
            a.kind = Some("container".into());
            i::inspect(client, a).await
        }
        Command::Attach(a) | Command::Container(ContainerCommand::Attach(a)) => {
            c::attach(client, a).await
        }
        Command::Exec(a) | Command::Container(ContainerCommand::Exec(a)) => {
            c::exec(client, a).await
        }
        Command::Network(n) => networks::run(client, n).await,
        Command::Volume(v) => volumes::run(client, v).await,
        Command::User(u) => accounts::user(client, u).await,
        Command::Team(t) => accounts::team(client, t).await,
        Command::Token(t) => accounts::token(client, t).await,
        Command::Login(a) => registry::login(client, a).await,
        Command::Logout(a) => registry::logout(client, a).await,
        Command::Search(a) => registry::search(client, a).await,
        Command::Images(a) | Command::Image(ImageCommand::Ls(a)) => i::images(client, a).await,
        Command::Import(a) | Command::Image(ImageCommand::Import(a)) => i::import(client, a).await,
        Command::Load(a) | Command::Image(ImageCommand::Load(a)) => i::load(client, a).await,
        Command::Pull(a) | Command::Image(ImageCommand::Pull(a)) => i::pull(client, a).await,
        Command::Push(a) | Command::Image(ImageCommand::Push(a)) => i::push(client, a).await,
        Command::Save(a) | Command::Image(ImageCommand::Save(a)) => i::save(client, a).await,
        Command::Tag(a) | Command::Image(ImageCommand::Tag(a)) => i::tag(client, a).await,
        Command::Rmi(a) | Command::Image(ImageCommand::Rm(a)) => i::rmi(client, a).await,
        Command::History(a) | Command::Image(ImageCommand::History(a)) => {
            i::history(client, a).await
        }
        Command::Inspect(a) | Command::Image(ImageCommand::Inspect(a)) => {
            i::inspect(client, a).await
        }
    }
}

fn init_logging(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("BERTH_LOG").unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(format!("{level},sqlx=warn,hyper=warn"))
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
