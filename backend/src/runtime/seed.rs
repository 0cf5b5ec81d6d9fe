//! Spare shims and their seeds: a start without a cgroup migration.
//!
//! Moving a process into a cgroup v1 hierarchy waits for an RCU grace
//! period (10–25 ms on this kind of host), the largest single cost of a
//! container start. So the daemon keeps one shim started in advance
//! (`berth shim --spare`). That spare forks a *seed* and moves it into a
//! fresh cgroup `berth/spare-PID` while nothing waits. When a container
//! starts, the spare renames that cgroup to `berth/<id>` (a cheap rename
//! in every hierarchy) and hands the seed the container's directory and
//! init's descriptors; the seed forks init — which is born in the cgroup —
//! reports init's pid and exits. The spare is a child subreaper, so init
//! becomes its child and the shim goes on exactly as a fresh one would.
//!
//! The seed is a fork taken before any container was known: it holds no
//! descriptors but its socket, and its memory is shared with the spare, so
//! almost nothing is charged to the container's cgroup.

use super::cgroup::{self, Limits};
use super::init::{self, InitIo};
use super::stdio::ChildIo;
use nix::sys::signal::{kill, Signal};
use nix::sys::socket::{recvmsg, sendmsg, ControlMessage, ControlMessageOwned, MsgFlags};
use nix::sys::wait::waitpid;
use nix::unistd::{fork, ForkResult, Pid};
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

const TAG_PIPES: u8 = b'p';
const TAG_CONSOLE: u8 = b'c';

/// A forked process waiting in its own cgroup to fork a container's init.
pub struct Seed {
    pid: Pid,
    sock: UnixStream,
    cgroup: String,
}

/// The spare cgroup name of the shim with pid `shim_pid`.
pub fn spare_cgroup(shim_pid: u32) -> String {
    format!("spare-{shim_pid}")
}

impl Seed {
    /// Forks the seed and moves it into a new spare cgroup (the slow part,
    /// done before any container asks).
    pub fn plant() -> Result<Seed, String> {
        let name = spare_cgroup(std::process::id());
        let cg = cgroup::create(&name, &Limits::default())?;
        let (ours, theirs) = UnixStream::pair().map_err(|e| format!("seed socket: {e}"))?;
        // SAFETY: single-threaded; the child only waits and forks.
        match unsafe { fork() }.map_err(|e| format!("fork seed: {e}"))? {
            ForkResult::Child => {
                drop(ours);
                let code = seed_main(theirs);
                // SAFETY: ending the forked child without the parent's destructors.
                unsafe { libc::_exit(code) }
            }
            ForkResult::Parent { child } => {
                drop(theirs);
                let seed = Seed {
                    pid: child,
                    sock: ours,
                    cgroup: name,
                };
                if let Err(e) = cgroup::add(&cg, child.as_raw()) {
                    seed.discard();
                    return Err(e);
                }
                Ok(seed)
            }
        }
    }

    /// Ends the seed and removes its cgroup.
    pub fn discard(self) {
        let _ = kill(self.pid, Signal::SIGKILL);
        let _ = waitpid(self.pid, None);
        cgroup::remove(&self.cgroup);
    }

    /// Gives the seed's cgroup the container's name (`berth/<id>`).
    pub fn claim_cgroup(&mut self, id: &str) -> Result<(), String> {
        cgroup::remove(id); // a stale, empty one from an earlier run
        cgroup::rename(&self.cgroup, id)?;
        self.cgroup = id.to_string();
        Ok(())
    }

    /// Has the seed fork the container's init (in a new pid namespace when
    /// `new_pid_ns`) with `io`; returns init's pid once the seed is gone and
    /// init is this process's child.
    pub fn sprout(self, dir: &Path, new_pid_ns: bool, io: InitIo) -> Result<Pid, String> {
        let mut data = vec![0u8, u8::from(new_pid_ns)];
        let mut fds: Vec<RawFd> = vec![io.sync_read.as_raw_fd(), io.err_write.as_raw_fd()];
        match &io.stdio {
            ChildIo::Pipes {
                stdin,
                stdout,
                stderr,
            } => {
                data[0] = TAG_PIPES;
                fds.extend([stdin.as_raw_fd(), stdout.as_raw_fd(), stderr.as_raw_fd()]);
            }
            ChildIo::Console(sock) => {
                data[0] = TAG_CONSOLE;
                fds.push(sock.as_raw_fd());
            }
        }
        data.extend_from_slice(dir.as_os_str().as_encoded_bytes());
        let iov = [std::io::IoSlice::new(&data)];
        sendmsg::<()>(
            self.sock.as_raw_fd(),
            &iov,
            &[ControlMessage::ScmRights(&fds)],
            MsgFlags::empty(),
            None,
        )
        .map_err(|e| format!("hand init's streams to the seed: {e}"))?;
        drop(io); // init holds them now; ours would keep the pipes open
        let mut pid = [0u8; 4];
        let read = (&self.sock).read_exact(&mut pid);
        let _ = waitpid(self.pid, None);
        read.map_err(|e| format!("the seed did not start init: {e}"))?;
        Ok(Pid::from_raw(i32::from_le_bytes(pid)))
    }
}

/// The seed: waits for the container's directory and init's descriptors,
/// forks init, reports its pid, and exits.
fn seed_main(mut sock: UnixStream) -> i32 {
    // Hold none of the daemon's pipes (the spare's stdin and stdout).
    super::shim::release_daemon_pipes();
    let mut buf = vec![0u8; 4096];
    let mut space = nix::cmsg_space!([RawFd; 5]);
    let mut iov = [std::io::IoSliceMut::new(&mut buf)];
    let Ok(msg) = recvmsg::<()>(
        sock.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::MSG_CMSG_CLOEXEC,
    ) else {
        return 1;
    };
    let len = msg.bytes;
    let mut fds: Vec<OwnedFd> = Vec::new();
    if let Ok(cmsgs) = msg.cmsgs() {
        for c in cmsgs {
            if let ControlMessageOwned::ScmRights(list) = c {
                // SAFETY: the kernel just gave us these descriptors.
                fds.extend(
                    list.into_iter()
                        .map(|fd| unsafe { OwnedFd::from_raw_fd(fd) }),
                );
            }
        }
    }
    if len < 2 {
        return 0; // the spare went away
    }
    let (tag, new_pid_ns) = (buf[0], buf[1] == 1);
    let dir =
        PathBuf::from(<std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(&buf[2..len]));
    let mut fds = fds.into_iter();
    let (Some(sync_read), Some(err_write)) = (fds.next(), fds.next()) else {
        return 1;
    };
    let stdio = match (tag, fds.next(), fds.next(), fds.next()) {
        (TAG_PIPES, Some(stdin), Some(stdout), Some(stderr)) => ChildIo::Pipes {
            stdin,
            stdout,
            stderr,
        },
        (TAG_CONSOLE, Some(sock), _, _) => ChildIo::Console(UnixStream::from(sock)),
        _ => return 1,
    };
    let Ok((spec, cfg)) = super::shim::load(&dir) else {
        return 1;
    };
    if new_pid_ns && nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWPID).is_err() {
        return 1;
    }
    // SAFETY: single-threaded; the child sets up and execs or _exits.
    match unsafe { fork() } {
        Ok(ForkResult::Child) => {
            drop(sock);
            init::run(
                &spec,
                &cfg,
                InitIo {
                    sync_read,
                    err_write,
                    stdio,
                },
            )
        }
        Ok(ForkResult::Parent { child }) => {
            let _ = sock.write_all(&child.as_raw().to_le_bytes());
            0
        }
        Err(_) => 1,
    }
}
