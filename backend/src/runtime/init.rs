//! The container's init, run in the child the shim forks (pid 1 of the new pid
//! namespace): the remaining namespaces, the overlay root filesystem, the OCI
//! spec's mounts, a minimal /dev, `pivot_root`, masked and read-only kernel
//! paths, hostname, user, capabilities, `no_new_privs`, then `execve`.
//!
//! Failures are written to the error pipe as `CODE MESSAGE` and end the
//! process with CODE: 127 (command not found), 126 (cannot invoke) or 125.

use super::caps;
use super::rootpath;
use super::shim::ShimConfig;
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{unshare, CloneFlags};
use oci_spec::runtime::{LinuxNamespaceType, Spec};
use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

/// The pipes the shim hands to init.
pub struct InitIo {
    /// One byte arrives when the shim has put init in its cgroup.
    pub sync_read: OwnedFd,
    /// Close-on-exec: stays empty when `execve` succeeds.
    pub err_write: OwnedFd,
    pub stdio: super::stdio::ChildIo,
}

pub struct InitError {
    pub code: i32,
    pub message: String,
}

fn fail(message: impl Into<String>) -> InitError {
    InitError {
        code: 125,
        message: message.into(),
    }
}

trait Context<T> {
    fn ctx(self, what: impl FnOnce() -> String) -> Result<T, InitError>;
}

impl<T, E: std::fmt::Display> Context<T> for Result<T, E> {
    fn ctx(self, what: impl FnOnce() -> String) -> Result<T, InitError> {
        self.map_err(|e| fail(format!("{}: {e}", what())))
    }
}

/// Sets up the container and executes its process; returns only by exiting.
pub fn run(spec: &Spec, shim: &ShimConfig, io: InitIo) -> ! {
    let e = match setup_and_exec(spec, shim, &io) {
        Ok(never) => match never {},
        Err(e) => e,
    };
    let msg = format!("{} {}", e.code, e.message);
    let _ = nix::unistd::write(&io.err_write, msg.as_bytes());
    // SAFETY: ending the forked child without running the parent's destructors.
    unsafe { libc::_exit(e.code) }
}

fn setup_and_exec(
    spec: &Spec,
    shim: &ShimConfig,
    io: &InitIo,
) -> Result<std::convert::Infallible, InitError> {
    let linux = spec.linux().clone().unwrap_or_default();
    let mut flags = CloneFlags::empty();
    for ns in linux.namespaces().clone().unwrap_or_default() {
        if let Some(path) = ns.path() {
            let kind = match ns.typ() {
                LinuxNamespaceType::Network => CloneFlags::CLONE_NEWNET,
                LinuxNamespaceType::Ipc => CloneFlags::CLONE_NEWIPC,
                LinuxNamespaceType::Uts => CloneFlags::CLONE_NEWUTS,
                _ => continue,
            };
            let f =
                std::fs::File::open(path).ctx(|| format!("open namespace {}", path.display()))?;
            nix::sched::setns(f, kind).ctx(|| format!("join namespace {}", path.display()))?;
            continue;
        }
        flags |= match ns.typ() {
            LinuxNamespaceType::Mount => CloneFlags::CLONE_NEWNS,
            LinuxNamespaceType::Uts => CloneFlags::CLONE_NEWUTS,
            LinuxNamespaceType::Ipc => CloneFlags::CLONE_NEWIPC,
            LinuxNamespaceType::Network => CloneFlags::CLONE_NEWNET,
            _ => CloneFlags::empty(),
        };
    }
    unshare(flags).ctx(|| "unshare namespaces".into())?;
    if flags.contains(CloneFlags::CLONE_NEWNET) {
        loopback_up()?;
    }

    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .ctx(|| "make / private".into())?;
    let root = &shim.rootfs;
    mount_overlay(shim)?;
    for m in spec.mounts().clone().unwrap_or_default() {
        apply_mount(root, &m)?;
    }
    make_devices(root)?;
    pivot(root)?;

    for p in linux.masked_paths().clone().unwrap_or_default() {
        mask(Path::new(&p))?;
    }
    for p in linux.readonly_paths().clone().unwrap_or_default() {
        readonly(Path::new(&p))?;
    }
    if spec
        .root()
        .as_ref()
        .and_then(|r| r.readonly())
        .unwrap_or(false)
    {
        mount(
            None::<&str>,
            "/",
            None::<&str>,
            MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY,
            None::<&str>,
        )
        .ctx(|| "make the root file system read-only".into())?;
    }
    if let Some(h) = spec.hostname() {
        nix::unistd::sethostname(h).ctx(|| "set hostname".into())?;
    }

    let process = spec
        .process()
        .clone()
        .ok_or_else(|| fail("spec has no process"))?;
    // The file system is ready; the shim says go once this process is in
    // its cgroup (and an attach that was asked for is connected).
    let mut b = [0u8; 1];
    match nix::unistd::read(io.sync_read.as_raw_fd(), &mut b) {
        Ok(1) => {}
        _ => return Err(fail("the shim went away before start")),
    }
    set_stdio(&io.stdio)?;
    let cwd = process.cwd();
    std::fs::create_dir_all(cwd).ctx(|| format!("create working directory {}", cwd.display()))?;
    nix::unistd::chdir(cwd).ctx(|| format!("chdir to {}", cwd.display()))?;

    let keep: Vec<String> = process
        .capabilities()
        .as_ref()
        .and_then(|c| c.bounding().clone())
        .unwrap_or_default()
        .iter()
        .filter_map(|c| serde_json::to_value(c).ok()?.as_str().map(str::to_string))
        .collect();
    let user = process.user();
    if shim.init {
        run_as_init(
            io.err_write.as_raw_fd(),
            process.args().as_deref().unwrap_or_default(),
            &keep,
        )?;
    }
    become_process(&Identity {
        uid: user.uid(),
        gid: user.gid(),
        additional_gids: user.additional_gids().clone().unwrap_or_default(),
        capabilities: keep,
        no_new_privileges: process.no_new_privileges().unwrap_or(false),
        seccomp: shim.seccomp,
        args: process.args().clone().unwrap_or_default(),
        env: process.env().clone().unwrap_or_default(),
    })
}

/// The child pid of `--init`'s pid 1, for its signal handler.
static INIT_CHILD: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);

extern "C" fn forward_signal(sig: libc::c_int) {
    let child = INIT_CHILD.load(std::sync::atomic::Ordering::Relaxed);
    if child > 0 {
        // SAFETY: kill is async-signal-safe.
        unsafe { libc::kill(child, sig) };
    }
}

/// `--init`: forks; the child returns to become the container's process,
/// while this process stays pid 1, passes signals on, reaps orphans and
/// exits with the child's status (as tini does). Pid 1 shows as
/// `berth-init -- COMMAND` and keeps only the container's capabilities.
fn run_as_init(
    err_write: std::os::fd::RawFd,
    args: &[String],
    capabilities: &[String],
) -> Result<(), InitError> {
    // SAFETY: single-threaded; the child continues to execve.
    match unsafe { nix::unistd::fork() }.ctx(|| "fork the init's child".into())? {
        nix::unistd::ForkResult::Child => Ok(()),
        nix::unistd::ForkResult::Parent { child } => {
            // Only the child reports an exec failure: the shim waits for
            // this pipe to close before it calls the start a success.
            // SAFETY: closing our copy of the error pipe.
            unsafe { libc::close(err_write) };
            INIT_CHILD.store(child.as_raw(), std::sync::atomic::Ordering::Relaxed);
            name_init(args);
            caps::limit_bounding_set(capabilities).ctx(|| "drop capabilities".into())?;
            caps::set_process_caps(capabilities).ctx(|| "set capabilities".into())?;
            for sig in [
                libc::SIGTERM,
                libc::SIGINT,
                libc::SIGHUP,
                libc::SIGQUIT,
                libc::SIGUSR1,
                libc::SIGUSR2,
                libc::SIGWINCH,
            ] {
                // SAFETY: installing a handler that only calls kill.
                unsafe { libc::signal(sig, forward_signal as *const () as libc::sighandler_t) };
            }
            loop {
                let mut status = 0;
                // SAFETY: waitpid on any child with a valid status pointer.
                let pid = unsafe { libc::waitpid(-1, &mut status, 0) };
                if pid == child.as_raw() {
                    let code = if libc::WIFEXITED(status) {
                        libc::WEXITSTATUS(status)
                    } else {
                        128 + libc::WTERMSIG(status)
                    };
                    // SAFETY: ending pid 1 with the child's status.
                    unsafe { libc::_exit(code) }
                }
                if pid < 0 && std::io::Error::last_os_error().raw_os_error() != Some(libc::EINTR) {
                    // SAFETY: no children left.
                    unsafe { libc::_exit(255) }
                }
            }
        }
    }
}

/// Shows this process as `berth-init -- ARGS…` in `ps` and `top`: its
/// name, and its command line rewritten in place (as setproctitle does),
/// cut to the length of the shim's command line it inherited.
fn name_init(args: &[String]) {
    // SAFETY: prctl with a NUL-terminated name.
    unsafe {
        libc::prctl(
            libc::PR_SET_NAME,
            c"berth-init".as_ptr() as libc::c_ulong,
            0,
            0,
            0,
        )
    };
    // arg_start and arg_end are fields 48 and 49 of /proc/self/stat.
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return;
    };
    let Some((_, after_name)) = stat.rsplit_once(')') else {
        return;
    };
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let (Some(Ok(start)), Some(Ok(end))) = (
        fields.get(45).map(|f| f.parse::<usize>()),
        fields.get(46).map(|f| f.parse::<usize>()),
    ) else {
        return;
    };
    if end <= start + 1 {
        return;
    }
    let mut line = b"berth-init\0--\0".to_vec();
    for a in args {
        line.extend_from_slice(a.as_bytes());
        line.push(0);
    }
    let room = end - start - 1; // the last byte stays NUL
    line.truncate(room);
    line.resize(room, 0);
    // SAFETY: [start, end) is this process's own argument area on its
    // stack, which nothing else reads once the process runs.
    unsafe { std::ptr::copy_nonoverlapping(line.as_ptr(), start as *mut u8, room) };
}

/// Who the process runs as and what it runs.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Identity {
    pub uid: u32,
    pub gid: u32,
    pub additional_gids: Vec<u32>,
    /// `CAP_X` names kept.
    pub capabilities: Vec<String>,
    pub no_new_privileges: bool,
    /// Install the default seccomp filter (`seccomp=unconfined` turns it off).
    #[serde(default = "yes")]
    pub seccomp: bool,
    pub args: Vec<String>,
    pub env: Vec<String>,
}

fn yes() -> bool {
    true
}

/// Drops to `who` (capabilities, groups, user, no_new_privs) and executes
/// its command; returns only on failure.
pub fn become_process(who: &Identity) -> Result<std::convert::Infallible, InitError> {
    caps::limit_bounding_set(&who.capabilities).ctx(|| "drop capabilities".into())?;
    let gids: Vec<nix::unistd::Gid> = who
        .additional_gids
        .iter()
        .map(|g| nix::unistd::Gid::from_raw(*g))
        .collect();
    nix::unistd::setgroups(&gids).ctx(|| "setgroups".into())?;
    nix::unistd::setgid(nix::unistd::Gid::from_raw(who.gid)).ctx(|| "setgid".into())?;
    nix::unistd::setuid(nix::unistd::Uid::from_raw(who.uid)).ctx(|| "setuid".into())?;
    if who.uid == 0 {
        caps::set_process_caps(&who.capabilities).ctx(|| "set capabilities".into())?;
    }
    if who.no_new_privileges {
        // SAFETY: prctl with integer arguments.
        if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
            return Err(fail("set no_new_privs"));
        }
    }
    if who.seccomp {
        super::seccomp::install(&who.capabilities).ctx(|| "install the seccomp filter".into())?;
    }
    exec(&who.args, &who.env)
}

/// Makes the streams fds 0-2; a terminal (opened in the container's own
/// devpts) becomes the controlling terminal of a new session.
pub fn set_stdio(io: &super::stdio::ChildIo) -> Result<(), InitError> {
    use super::stdio::ChildIo;
    match io {
        ChildIo::Pipes {
            stdin,
            stdout,
            stderr,
        } => {
            for (fd, target) in [(stdin, 0), (stdout, 1), (stderr, 2)] {
                nix::unistd::dup2(fd.as_raw_fd(), target).ctx(|| "set up stdio".into())?;
            }
        }
        ChildIo::Console(sock) => {
            let slave = super::stdio::open_console(sock).map_err(fail)?;
            for target in 0..3 {
                nix::unistd::dup2(slave.as_raw_fd(), target)
                    .ctx(|| "set up the terminal".into())?;
            }
            let _ = nix::unistd::setsid();
            // SAFETY: TIOCSCTTY on fd 0, a terminal.
            if unsafe { libc::ioctl(0, libc::TIOCSCTTY, 0) } != 0 {
                return Err(fail(format!(
                    "set controlling terminal: {}",
                    std::io::Error::last_os_error()
                )));
            }
        }
    }
    Ok(())
}

fn loopback_up() -> Result<(), InitError> {
    // SAFETY: plain socket + ioctl on a stack-allocated ifreq.
    unsafe {
        let s = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
        if s < 0 {
            return Err(fail("socket for lo"));
        }
        let mut req: libc::ifreq = std::mem::zeroed();
        for (i, b) in b"lo\0".iter().enumerate() {
            req.ifr_name[i] = *b as libc::c_char;
        }
        let ok = libc::ioctl(s, libc::SIOCGIFFLAGS, &mut req) == 0 && {
            req.ifr_ifru.ifru_flags |= (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
            libc::ioctl(s, libc::SIOCSIFFLAGS, &req) == 0
        };
        libc::close(s);
        if !ok {
            return Err(fail(format!(
                "bring up lo: {}",
                std::io::Error::last_os_error()
            )));
        }
    }
    Ok(())
}

fn mount_overlay(shim: &ShimConfig) -> Result<(), InitError> {
    let lower = shim
        .lower_dirs
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(":");
    let data = format!(
        "lowerdir={lower},upperdir={},workdir={}",
        shim.upper.display(),
        shim.work.display()
    );
    mount(
        Some("overlay"),
        &shim.rootfs,
        Some("overlay"),
        MsFlags::empty(),
        Some(data.as_str()),
    )
    .ctx(|| {
        format!(
            "mount the container's overlay root file system ({} layers)",
            shim.lower_dirs.len()
        )
    })
}

/// Splits mount options into flags and the rest (the filesystem's data).
fn mount_options(options: &[String]) -> (MsFlags, String) {
    let mut flags = MsFlags::empty();
    let mut data = Vec::new();
    for o in options {
        match o.as_str() {
            "ro" => flags |= MsFlags::MS_RDONLY,
            "rw" => {}
            "nosuid" => flags |= MsFlags::MS_NOSUID,
            "nodev" => flags |= MsFlags::MS_NODEV,
            "noexec" => flags |= MsFlags::MS_NOEXEC,
            "strictatime" => flags |= MsFlags::MS_STRICTATIME,
            "relatime" => flags |= MsFlags::MS_RELATIME,
            "noatime" => flags |= MsFlags::MS_NOATIME,
            "bind" => flags |= MsFlags::MS_BIND,
            "rbind" => flags |= MsFlags::MS_BIND | MsFlags::MS_REC,
            "private" | "rprivate" | "slave" | "rslave" | "shared" | "rshared" => {}
            other => data.push(other.to_string()),
        }
    }
    (flags, data.join(","))
}

fn apply_mount(root: &Path, m: &oci_spec::runtime::Mount) -> Result<(), InitError> {
    let options = m.options().clone().unwrap_or_default();
    let (flags, data) = mount_options(&options);
    let dest = m.destination();
    let source = m.source().clone().unwrap_or_else(|| PathBuf::from("none"));
    let is_bind = flags.contains(MsFlags::MS_BIND);
    let file = is_bind && std::fs::metadata(&source).is_ok_and(|md| !md.is_dir());
    let target = rootpath::create(root, dest, file)
        .ctx(|| format!("create mount point {}", dest.display()))?;
    if is_bind {
        mount(
            Some(&source),
            &target,
            None::<&str>,
            flags & (MsFlags::MS_BIND | MsFlags::MS_REC),
            None::<&str>,
        )
        .ctx(|| format!("bind mount {} on {}", source.display(), dest.display()))?;
        let rest = flags - (MsFlags::MS_BIND | MsFlags::MS_REC);
        if !rest.is_empty() {
            mount(
                None::<&str>,
                &target,
                None::<&str>,
                rest | MsFlags::MS_BIND | MsFlags::MS_REMOUNT,
                None::<&str>,
            )
            .ctx(|| format!("remount {}", dest.display()))?;
        }
        return Ok(());
    }
    let typ = m.typ().clone().unwrap_or_default();
    let data = (!data.is_empty()).then_some(data);
    mount(
        Some(&source),
        &target,
        Some(typ.as_str()),
        flags,
        data.as_deref(),
    )
    .ctx(|| format!("mount {typ} on {}", dest.display()))
}

/// The device nodes of Docker's default set, and /dev's usual symlinks.
fn make_devices(root: &Path) -> Result<(), InitError> {
    let dev = rootpath::resolve(root, Path::new("/dev")).ctx(|| "/dev".into())?;
    for (name, major, minor) in [
        ("null", 1, 3),
        ("zero", 1, 5),
        ("full", 1, 7),
        ("random", 1, 8),
        ("urandom", 1, 9),
        ("tty", 5, 0),
    ] {
        let p = dev.join(name);
        let _ = std::fs::remove_file(&p);
        nix::sys::stat::mknod(
            &p,
            nix::sys::stat::SFlag::S_IFCHR,
            nix::sys::stat::Mode::from_bits_truncate(0o666),
            nix::sys::stat::makedev(major, minor),
        )
        .ctx(|| format!("create /dev/{name}"))?;
        // The umask may have cut the mode.
        nix::sys::stat::fchmodat(
            None,
            &p,
            nix::sys::stat::Mode::from_bits_truncate(0o666),
            nix::sys::stat::FchmodatFlags::NoFollowSymlink,
        )
        .ctx(|| format!("chmod /dev/{name}"))?;
    }
    for (name, target) in [
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
        ("ptmx", "pts/ptmx"),
        ("core", "/proc/kcore"),
    ] {
        let _ = std::os::unix::fs::symlink(target, dev.join(name));
    }
    Ok(())
}

fn pivot(root: &Path) -> Result<(), InitError> {
    nix::unistd::chdir(root).ctx(|| "chdir to the root file system".into())?;
    nix::unistd::pivot_root(".", ".").ctx(|| "pivot_root".into())?;
    umount2(".", MntFlags::MNT_DETACH).ctx(|| "detach the old root".into())?;
    nix::unistd::chdir("/").ctx(|| "chdir /".into())
}

fn mask(p: &Path) -> Result<(), InitError> {
    match std::fs::metadata(p) {
        Err(_) => Ok(()),
        Ok(m) if m.is_dir() => mount(
            Some("tmpfs"),
            p,
            Some("tmpfs"),
            MsFlags::MS_RDONLY,
            None::<&str>,
        )
        .ctx(|| format!("mask {}", p.display())),
        Ok(_) => mount(
            Some("/dev/null"),
            p,
            None::<&str>,
            MsFlags::MS_BIND,
            None::<&str>,
        )
        .ctx(|| format!("mask {}", p.display())),
    }
}

fn readonly(p: &Path) -> Result<(), InitError> {
    if std::fs::symlink_metadata(p).is_err() {
        return Ok(());
    }
    mount(
        Some(p),
        p,
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None::<&str>,
    )
    .ctx(|| format!("bind {}", p.display()))?;
    mount(
        None::<&str>,
        p,
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY | MsFlags::MS_REC,
        None::<&str>,
    )
    .ctx(|| format!("make {} read-only", p.display()))
}

/// Finds `args[0]` on the container's `PATH` and executes it.
fn exec(args: &[String], env: &[String]) -> Result<std::convert::Infallible, InitError> {
    let name = args.first().ok_or_else(|| InitError {
        code: 127,
        message: "no command specified".into(),
    })?;
    let path = if name.contains('/') {
        PathBuf::from(name)
    } else {
        let search = env
            .iter()
            .find_map(|e| e.strip_prefix("PATH="))
            .unwrap_or("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        search
            .split(':')
            .map(|d| Path::new(d).join(name))
            .find(|p| std::fs::metadata(p).is_ok_and(|m| m.is_file()))
            .ok_or_else(|| InitError {
                code: 127,
                message: format!("exec: \"{name}\": executable file not found in $PATH"),
            })?
    };
    let cstr = |s: &str| CString::new(s).map_err(|_| fail(format!("NUL byte in {s:?}")));
    let argv: Vec<CString> = args.iter().map(|a| cstr(a)).collect::<Result<_, _>>()?;
    let envp: Vec<CString> = env.iter().map(|e| cstr(e)).collect::<Result<_, _>>()?;
    let p = cstr(&path.to_string_lossy())?;
    let err = nix::unistd::execve(&p, &argv, &envp).unwrap_err();
    Err(match err {
        nix::errno::Errno::ENOENT => InitError {
            code: 127,
            message: format!(
                "exec: \"{name}\": stat {}: no such file or directory",
                path.display()
            ),
        },
        e => InitError {
            code: 126,
            message: format!("exec: \"{name}\": {}", e.desc().to_lowercase()),
        },
    })
}
