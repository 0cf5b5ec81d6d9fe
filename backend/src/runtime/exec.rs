//! `berth shim-exec FILE`: a process started inside a running container
//! (`exec`). Like the container's shim it detaches from the daemon and owns
//! the process's streams and exit status; it joins the container's
//! namespaces and cgroup instead of making new ones. No log is kept (as in
//! Docker); clients attach through the exec's socket.

use super::cgroup;
use super::init::{self, Identity, InitError};
use super::shim::report;
use super::stdio;
use nix::sched::{setns, CloneFlags};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{fork, ForkResult};
use serde::{Deserialize, Serialize};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

/// What the daemon writes for an exec shim (`EXEC_ID.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExecConfig {
    pub container_id: String,
    /// The container's init, whose namespaces are joined.
    pub init_pid: i32,
    pub identity: Identity,
    pub cwd: String,
    pub tty: bool,
    pub open_stdin: bool,
    pub wait_attach: bool,
    /// The attach socket; the exit status goes beside it (`.exit`).
    pub socket: PathBuf,
}

pub fn exit_path(socket: &Path) -> PathBuf {
    socket.with_extension("exit")
}

/// Returns the shim's own exit code.
pub fn main(config: &Path) -> i32 {
    let cfg: ExecConfig = match std::fs::read(config)
        .map_err(|e| e.to_string())
        .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
    {
        Ok(c) => c,
        Err(e) => {
            println!("err 125 exec config {}: {e}", config.display());
            return 125;
        }
    };
    if let Some(code) = super::shim::detach() {
        return code;
    }
    match run(&cfg) {
        Ok(()) => 0,
        Err(e) => {
            report(&format!("err 125 {e}"));
            let _ = crate::fsutil::replace_file(&exit_path(&cfg.socket), b"125");
            125
        }
    }
}

fn run(cfg: &ExecConfig) -> Result<(), String> {
    let ns = |name: &str| -> Result<OwnedFd, String> {
        std::fs::File::open(format!("/proc/{}/ns/{name}", cfg.init_pid))
            .map(OwnedFd::from)
            .map_err(|e| format!("container is not running ({name} namespace: {e})"))
    };
    let (pid_ns, others) = (
        ns("pid")?,
        [
            (ns("ipc")?, CloneFlags::CLONE_NEWIPC),
            (ns("uts")?, CloneFlags::CLONE_NEWUTS),
            (ns("net")?, CloneFlags::CLONE_NEWNET),
            (ns("mnt")?, CloneFlags::CLONE_NEWNS),
        ],
    );
    let (pending_io, child_io) = stdio::make(cfg.tty, cfg.open_stdin)?;
    let listener = stdio::listen(&cfg.socket)?;
    let (sync_r, sync_w) =
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| e.to_string())?;
    let (errp_r, errp_w) =
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| e.to_string())?;
    setns(pid_ns, CloneFlags::CLONE_NEWPID).map_err(|e| format!("join pid namespace: {e}"))?;
    // SAFETY: single-threaded; the child joins the container and execs or _exits.
    let child = match unsafe { fork() }.map_err(|e| format!("fork: {e}"))? {
        ForkResult::Child => {
            drop((pending_io, listener, sync_w, errp_r));
            let e = match enter(cfg, others, &sync_r, &child_io) {
                Ok(never) => match never {},
                Err(e) => e,
            };
            let _ = nix::unistd::write(&errp_w, format!("{} {}", e.code, e.message).as_bytes());
            // SAFETY: ending the forked child.
            unsafe { libc::_exit(e.code) }
        }
        ForkResult::Parent { child } => child,
    };
    drop((child_io, sync_r, errp_w));
    let cg = cgroup::load(&cfg.container_id);
    let _ = cgroup::add(&cg, child.as_raw());
    let first = cfg
        .wait_attach
        .then(|| stdio::first_client(&listener, std::time::Duration::from_secs(10)))
        .flatten();
    let _ = nix::unistd::write(&sync_w, b"g");
    drop(sync_w);
    let parent_io = pending_io.finish();
    let mut failure = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = nix::unistd::read(errp_r.as_raw_fd(), &mut buf) {
        if n == 0 {
            break;
        }
        failure.extend_from_slice(&buf[..n]);
    }
    if !failure.is_empty() {
        let text = String::from_utf8_lossy(&failure).into_owned();
        let (code, msg) = super::shim::split_failure(&text, 126);
        let _ = waitpid(child, None);
        let _ = crate::fsutil::replace_file(&exit_path(&cfg.socket), code.to_string().as_bytes());
        report(&format!("err {code} {msg}"));
        return Ok(());
    }
    let parent_io = parent_io?;
    report(&format!("ok {}", child.as_raw()));
    let clients = stdio::Pump::new(parent_io, listener, None, first).run();
    let code = loop {
        match waitpid(child, None) {
            Ok(WaitStatus::Exited(_, c)) => break c,
            Ok(WaitStatus::Signaled(_, s, _)) => break 128 + s as i32,
            Ok(_) | Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => break 255,
        }
    };
    let _ = crate::fsutil::replace_file(&exit_path(&cfg.socket), code.to_string().as_bytes());
    let _ = std::fs::remove_file(&cfg.socket);
    drop(clients);
    Ok(())
}

/// In the child: the container's namespaces, streams, directory and identity.
fn enter(
    cfg: &ExecConfig,
    namespaces: [(OwnedFd, CloneFlags); 4],
    sync: &OwnedFd,
    io: &stdio::ChildIo,
) -> Result<std::convert::Infallible, InitError> {
    let err = |m: String| InitError {
        code: 126,
        message: m,
    };
    let mut b = [0u8; 1];
    if nix::unistd::read(sync.as_raw_fd(), &mut b) != Ok(1) {
        return Err(err("the exec shim went away".into()));
    }
    for (fd, kind) in namespaces {
        setns(fd, kind).map_err(|e| err(format!("join namespace: {e}")))?;
    }
    init::set_stdio(io)?;
    let cwd = if cfg.cwd.is_empty() {
        "/"
    } else {
        cfg.cwd.as_str()
    };
    nix::unistd::chdir(cwd).map_err(|e| InitError {
        code: 126,
        message: format!(
            "chdir to cwd (\"{cwd}\") set in config.json failed: {}",
            e.desc().to_lowercase()
        ),
    })?;
    init::become_process(&cfg.identity)
}
