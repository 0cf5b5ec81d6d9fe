//! The per-container shim (`berth shim DIR`, started by the daemon). It
//! detaches from the daemon (double fork, new session), creates the cgroup,
//! forks the container's init into a new pid namespace, and then owns the
//! container for its whole life: the output pipes, the log file (Docker's
//! json-file format), and the exit status (`exit.json`). The daemon may die
//! and come back meanwhile; the shim does not depend on it.
//!
//! The shim is single-threaded: it runs before any async runtime exists.
//! Its first line on stdout tells the daemon how the start went:
//! `ok INIT_PID` or `err CODE MESSAGE`.

use super::cgroup::{self, Limits};
use super::init::{self, InitIo};
use super::seed::Seed;
use super::stdio;
use crate::timefmt;
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{fork, ForkResult, Pid};
use oci_spec::runtime::{LinuxNamespaceType, Spec};
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

pub const SPEC_FILE: &str = "config.json";
pub const SHIM_FILE: &str = "shim.json";
pub const STATE_FILE: &str = "state.json";
pub const EXIT_FILE: &str = "exit.json";

/// What the shim needs beyond the OCI spec: the layers and where to log.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ShimConfig {
    pub id: String,
    /// The overlay mount point.
    pub rootfs: PathBuf,
    /// Image layers, top first.
    pub lower_dirs: Vec<PathBuf>,
    pub upper: PathBuf,
    pub work: PathBuf,
    pub log_path: PathBuf,
    pub limits: Limits,
    /// Keep stdin open for attach clients (`-i`).
    #[serde(default)]
    pub open_stdin: bool,
    /// An attach is waiting: hold the process until it connects.
    #[serde(default)]
    pub wait_attach: bool,
    /// `--init`: pid 1 is a small init that forwards signals and reaps.
    #[serde(default)]
    pub init: bool,
    /// The default seccomp filter (off with `--security-opt seccomp=unconfined`).
    #[serde(default)]
    pub seccomp: bool,
    /// Log rotation (`--log-opt max-size=… max-file=…`).
    #[serde(default)]
    pub log_options: super::jsonlog::LogOptions,
}

/// The attach socket in a container's directory.
pub const ATTACH_SOCKET: &str = "attach.sock";

/// Written by the shim once the container's process runs.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ShimState {
    pub shim_pid: i32,
    pub init_pid: i32,
    pub started_at: String,
}

/// Written by the shim when the container's process ended.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExitRecord {
    pub exit_code: i32,
    pub oom_killed: bool,
    pub finished_at: String,
    /// Why the process never ran, when it did not.
    #[serde(default)]
    pub error: String,
}

/// Reads a container's runtime spec and shim configuration from `dir`.
pub(super) fn load(dir: &Path) -> Result<(Spec, ShimConfig), String> {
    let spec = Spec::load(dir.join(SPEC_FILE)).map_err(|e| format!("read spec: {e}"))?;
    let cfg: ShimConfig = serde_json::from_slice(
        &std::fs::read(dir.join(SHIM_FILE)).map_err(|e| format!("read shim config: {e}"))?,
    )
    .map_err(|e| format!("shim config: {e}"))?;
    Ok((spec, cfg))
}

/// `berth shim DIR`: returns the process exit code.
pub fn main(dir: &Path) -> i32 {
    let (spec, cfg) = match load(dir) {
        Ok(x) => x,
        Err(e) => {
            println!("err 125 {e}");
            return 125;
        }
    };
    if let Some(code) = detach() {
        return code;
    }
    serve(dir, &spec, &cfg, None)
}

/// `berth shim --spare`: detaches, plants a seed in a spare cgroup, then
/// waits for a container directory on stdin and starts that container as
/// `berth shim DIR` would (see `seed`). End of input ends it unused.
pub fn spare_main() -> i32 {
    if let Some(code) = detach() {
        return code;
    }
    // SAFETY: prctl with integer arguments. Init, forked by the seed,
    // becomes this process's child when the seed exits.
    unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
    let seed = super::seed::Seed::plant()
        .map_err(|e| eprintln!("shim: no seed, starting without one: {e}"))
        .ok();
    let mut line = String::new();
    if std::io::stdin().read_line(&mut line).unwrap_or(0) == 0 {
        if let Some(s) = seed {
            s.discard();
        }
        return 0;
    }
    let dir = PathBuf::from(line.trim_end());
    match load(&dir) {
        Ok((spec, cfg)) => serve(&dir, &spec, &cfg, seed),
        Err(e) => {
            if let Some(s) = seed {
                s.discard();
            }
            report(&format!("err 125 {e}"));
            125
        }
    }
}

/// The shim's life once detached: logs to `shim.log`, runs the container
/// and records how it ended.
fn serve(dir: &Path, spec: &Spec, cfg: &ShimConfig, seed: Option<Seed>) -> i32 {
    // The daemon knows its shims again by this (see `Supervisor::recover`).
    let _ = std::env::set_current_dir(dir);
    let shim_log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("shim.log"));
    if let Ok(f) = &shim_log {
        let _ = nix::unistd::dup2(f.as_raw_fd(), 2);
    }
    let _ = std::fs::remove_file(dir.join(EXIT_FILE));
    let _ = std::fs::remove_file(dir.join(STATE_FILE));
    match run(dir, spec, cfg, seed) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("shim: {e}");
            let _ = record_exit(dir, 125, false, &e);
            report(&format!("err 125 {e}"));
            125
        }
    }
}

/// Splits a failure report `CODE MESSAGE` (from the error pipe or a status
/// line's `err …`), with `default` when there is no code.
pub fn split_failure(text: &str, default: i32) -> (i32, String) {
    text.split_once(' ')
        .and_then(|(c, m)| Some((c.parse::<i32>().ok()?, m.to_string())))
        .unwrap_or((default, text.to_string()))
}

/// Leaves the daemon: forks, and the parent (which the daemon waits for)
/// returns its exit code; the child goes on in a new session (`None`).
pub(super) fn detach() -> Option<i32> {
    // SAFETY: single-threaded here; the parent only exits.
    match unsafe { fork() } {
        Ok(ForkResult::Parent { .. }) => Some(0),
        Ok(ForkResult::Child) => {
            let _ = nix::unistd::setsid();
            None
        }
        Err(e) => {
            println!("err 125 fork shim: {e}");
            Some(125)
        }
    }
}

/// Writes the one status line to the daemon and stops using stdout.
pub(super) fn report(line: &str) {
    let mut out = std::io::stdout();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
    release_daemon_pipes();
}

/// Points stdin and stdout at /dev/null: the daemon's pipes are let go.
pub(super) fn release_daemon_pipes() {
    if let Ok(null) = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
    {
        let _ = nix::unistd::dup2(null.as_raw_fd(), 0);
        let _ = nix::unistd::dup2(null.as_raw_fd(), 1);
    }
}

fn pipe() -> Result<(OwnedFd, OwnedFd), String> {
    nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| format!("pipe: {e}"))
}

fn run(dir: &Path, spec: &Spec, cfg: &ShimConfig, seed: Option<Seed>) -> Result<i32, String> {
    // A seed already sits in a cgroup: take that one over, or let it go.
    let seed = seed.and_then(|mut s| match s.claim_cgroup(&cfg.id) {
        Ok(()) => Some(s),
        Err(e) => {
            eprintln!("shim: starting without the seed: {e}");
            s.discard();
            None
        }
    });
    let tty = spec
        .process()
        .as_ref()
        .and_then(|p| p.terminal())
        .unwrap_or(false);
    let (pending_io, child_io) = stdio::make(tty, cfg.open_stdin)?;
    let listener = stdio::listen(&dir.join(ATTACH_SOCKET))?;
    let (sync_r, sync_w) = pipe()?;
    let (errp_r, errp_w) = pipe()?;
    let new_pid_ns = spec
        .linux()
        .as_ref()
        .and_then(|l| l.namespaces().as_ref())
        .is_some_and(|ns| ns.iter().any(|n| n.typ() == LinuxNamespaceType::Pid));
    let child = match seed {
        Some(seed) => {
            let io = InitIo {
                sync_read: sync_r,
                err_write: errp_w,
                stdio: child_io,
            };
            let child = seed.sprout(dir, new_pid_ns, io)?;
            // Limits now that the seed is gone (a pids limit counts it).
            if let Err(e) = cgroup::create(&cfg.id, &cfg.limits) {
                end_init(child);
                return Err(e);
            }
            child
        }
        None => {
            let cg = cgroup::create(&cfg.id, &cfg.limits)?;
            if new_pid_ns {
                nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWPID)
                    .map_err(|e| format!("new pid namespace: {e}"))?;
            }
            // SAFETY: single-threaded; the child sets up and execs or _exits.
            let child = match unsafe { fork() }.map_err(|e| format!("fork init: {e}"))? {
                ForkResult::Child => {
                    drop((pending_io, listener, sync_w, errp_r));
                    init::run(
                        spec,
                        cfg,
                        InitIo {
                            sync_read: sync_r,
                            err_write: errp_w,
                            stdio: child_io,
                        },
                    )
                }
                ForkResult::Parent { child } => child,
            };
            drop((child_io, sync_r, errp_w));
            if let Err(e) = cgroup::add(&cg, child.as_raw()) {
                end_init(child);
                return Err(e);
            }
            child
        }
    };
    let first = if cfg.wait_attach {
        stdio::first_client(&listener, std::time::Duration::from_secs(10))
    } else {
        None
    };
    let _ = nix::unistd::write(&sync_w, b"g");
    drop(sync_w);
    // With a terminal, its master side arrives once the container opened it.
    let parent_io = pending_io.finish();
    let mut failure = Vec::new();
    read_all(&errp_r, &mut failure);
    drop(errp_r);
    if !failure.is_empty() {
        let text = String::from_utf8_lossy(&failure).into_owned();
        let (code, message) = split_failure(&text, 125);
        let _ = waitpid(child, None);
        cgroup::remove(&cfg.id);
        record_exit(dir, code, false, &message)?;
        report(&format!("err {code} {message}"));
        return Ok(code);
    }
    let state = ShimState {
        shim_pid: std::process::id() as i32,
        init_pid: child.as_raw(),
        started_at: timefmt::now_rfc3339(),
    };
    crate::fsutil::replace_file(
        &dir.join(STATE_FILE),
        &serde_json::to_vec(&state).map_err(|e| e.to_string())?,
    )
    .map_err(|e| format!("write state: {e}"))?;
    let parent_io = match parent_io {
        Ok(p) => p,
        Err(e) => {
            end_init(child);
            cgroup::remove(&cfg.id);
            record_exit(dir, 125, false, &e)?;
            report(&format!("err 125 {e}"));
            return Ok(125);
        }
    };
    report(&format!("ok {}", child.as_raw()));

    let log = super::jsonlog::JsonLog::open(&cfg.log_path, cfg.log_options.clone())
        .map_err(|e| eprintln!("shim: open log {}: {e}", cfg.log_path.display()))
        .ok();
    let clients = stdio::Pump::new(parent_io, listener, log, first).run();
    let code = wait_exit(child);
    let oom = cgroup::oom_killed(&cfg.id);
    cgroup::remove(&cfg.id);
    record_exit(dir, code, oom, "")?;
    drop(clients);
    let _ = std::fs::remove_file(dir.join(ATTACH_SOCKET));
    Ok(0)
}

/// Ends an init that must not run (it waits for the go that never comes).
fn end_init(child: Pid) {
    let _ = nix::sys::signal::kill(child, nix::sys::signal::SIGKILL);
    let _ = waitpid(child, None);
}

fn read_all(fd: &OwnedFd, out: &mut Vec<u8>) {
    let mut buf = [0u8; 4096];
    loop {
        match nix::unistd::read(fd.as_raw_fd(), &mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => break,
        }
    }
}

/// Waits for init; its exit code, or 128+n for a signal.
fn wait_exit(child: Pid) -> i32 {
    loop {
        match waitpid(child, None) {
            Ok(WaitStatus::Exited(_, c)) => return c,
            Ok(WaitStatus::Signaled(_, s, _)) => return 128 + s as i32,
            Ok(_) | Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => return 255,
        }
    }
}

fn record_exit(dir: &Path, code: i32, oom: bool, error: &str) -> Result<(), String> {
    let rec = ExitRecord {
        exit_code: code,
        oom_killed: oom,
        finished_at: timefmt::now_rfc3339(),
        error: error.to_string(),
    };
    crate::fsutil::replace_file(
        &dir.join(EXIT_FILE),
        &serde_json::to_vec(&rec).map_err(|e| e.to_string())?,
    )
    .map_err(|e| format!("write exit status: {e}"))
}
