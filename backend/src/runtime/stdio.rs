//! A process's standard streams as a shim owns them: pipes, or a pseudo
//! terminal for `-t`; an attach socket that any number of clients (the
//! daemon's attach and exec handlers) connect to; and the pump that copies
//! output into the json-file log and to every client, and client input to
//! the process.
//!
//! The socket speaks frames with Docker's 8-byte header, `[kind, 0, 0, 0,
//! len (u32 BE)]` + data. From the shim: kind 1 stdout, 2 stderr. To the
//! shim: kind 0 stdin data, 1 close stdin, 2 resize (rows, cols: u16 BE).

use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::time::{Duration, Instant};

pub const FRAME_STDIN: u8 = 0;
pub const FRAME_CLOSE_STDIN: u8 = 1;
pub const FRAME_RESIZE: u8 = 2;

/// The shim's ends of the process's streams.
pub struct ParentIo {
    /// stdout, or the terminal's master side.
    pub out: OwnedFd,
    /// stderr (none with a terminal: it shares the terminal).
    pub err: Option<OwnedFd>,
    /// Where client input goes; none when stdin is not open.
    pub stdin: Option<OwnedFd>,
    /// The terminal's master side, for resizes.
    pub master: Option<OwnedFd>,
}

/// The process's ends, to become its fds 0, 1 and 2.
pub enum ChildIo {
    Pipes {
        stdin: OwnedFd,
        stdout: OwnedFd,
        stderr: OwnedFd,
    },
    /// A terminal opened inside the container (its own devpts), whose master
    /// side goes back to the shim over this socket (as runc's console socket).
    Console(UnixStream),
}

/// The shim's side before the process runs: ready, or a terminal's master
/// still to arrive from the container.
pub enum PendingIo {
    Ready(ParentIo),
    Console { sock: UnixStream, open_stdin: bool },
}

impl PendingIo {
    /// Receives the terminal's master side when there is one.
    pub fn finish(self) -> Result<ParentIo, String> {
        match self {
            PendingIo::Ready(p) => Ok(p),
            PendingIo::Console { sock, open_stdin } => {
                let master = recv_fd(&sock)?;
                Ok(ParentIo {
                    out: dup(&master)?,
                    err: None,
                    stdin: if open_stdin {
                        Some(dup(&master)?)
                    } else {
                        None
                    },
                    master: Some(master),
                })
            }
        }
    }
}

/// Sends `fd` over a unix socket (SCM_RIGHTS).
pub fn send_fd(sock: &UnixStream, fd: &OwnedFd) -> Result<(), String> {
    use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags};
    let fds = [fd.as_raw_fd()];
    let iov = [std::io::IoSlice::new(b"m")];
    sendmsg::<()>(
        sock.as_raw_fd(),
        &iov,
        &[ControlMessage::ScmRights(&fds)],
        MsgFlags::empty(),
        None,
    )
    .map(|_| ())
    .map_err(|e| format!("send terminal: {e}"))
}

fn recv_fd(sock: &UnixStream) -> Result<OwnedFd, String> {
    use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
    use std::os::fd::FromRawFd;
    let mut byte = [0u8; 1];
    let mut iov = [std::io::IoSliceMut::new(&mut byte)];
    let mut space = nix::cmsg_space!([std::os::fd::RawFd; 1]);
    let msg = recvmsg::<()>(
        sock.as_raw_fd(),
        &mut iov,
        Some(&mut space),
        MsgFlags::MSG_CMSG_CLOEXEC,
    )
    .map_err(|e| format!("receive terminal: {e}"))?;
    for c in msg.cmsgs().map_err(|e| format!("receive terminal: {e}"))? {
        if let ControlMessageOwned::ScmRights(fds) = c {
            if let Some(fd) = fds.first() {
                // SAFETY: the kernel just gave us this descriptor.
                return Ok(unsafe { OwnedFd::from_raw_fd(*fd) });
            }
        }
    }
    Err("the container sent no terminal".into())
}

fn pipe() -> Result<(OwnedFd, OwnedFd), String> {
    nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| format!("pipe: {e}"))
}

fn dup(fd: &OwnedFd) -> Result<OwnedFd, String> {
    fd.try_clone().map_err(|e| format!("dup: {e}"))
}

/// Makes the streams: a terminal when `tty` (opened later inside the
/// container), pipes otherwise; stdin is connected only when `open_stdin`.
pub fn make(tty: bool, open_stdin: bool) -> Result<(PendingIo, ChildIo), String> {
    if tty {
        let (a, b) = UnixStream::pair().map_err(|e| format!("console socket: {e}"))?;
        return Ok((
            PendingIo::Console {
                sock: a,
                open_stdin,
            },
            ChildIo::Console(b),
        ));
    }
    let (out_r, out_w) = pipe()?;
    let (err_r, err_w) = pipe()?;
    let (stdin_child, stdin_parent) = if open_stdin {
        let (r, w) = pipe()?;
        (r, Some(w))
    } else {
        let null: OwnedFd = std::fs::File::open("/dev/null")
            .map_err(|e| format!("open /dev/null: {e}"))?
            .into();
        (null, None)
    };
    Ok((
        PendingIo::Ready(ParentIo {
            out: out_r,
            err: Some(err_r),
            stdin: stdin_parent,
            master: None,
        }),
        ChildIo::Pipes {
            stdin: stdin_child,
            stdout: out_w,
            stderr: err_w,
        },
    ))
}

/// In the container: opens a terminal on its own devpts and sends the
/// master side to the shim; returns the slave side.
pub fn open_console(sock: &UnixStream) -> Result<OwnedFd, String> {
    use nix::fcntl::OFlag;
    let master = nix::pty::posix_openpt(OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC)
        .map_err(|e| format!("open /dev/ptmx: {e}"))?;
    nix::pty::grantpt(&master).map_err(|e| format!("grantpt: {e}"))?;
    nix::pty::unlockpt(&master).map_err(|e| format!("unlockpt: {e}"))?;
    let name = nix::pty::ptsname_r(&master).map_err(|e| format!("ptsname: {e}"))?;
    let slave: OwnedFd = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOCTTY)
        .open(&name)
        .map_err(|e| format!("open {name}: {e}"))?
        .into();
    // SAFETY: the PtyMaster's fd stays open for the duration of this borrow.
    let m = unsafe { std::os::fd::BorrowedFd::borrow_raw(master.as_raw_fd()) }
        .try_clone_to_owned()
        .map_err(|e| format!("dup terminal: {e}"))?;
    send_fd(sock, &m)?;
    Ok(slave)
}

/// Listens on the attach socket at `path` (replacing a stale one).
pub fn listen(path: &Path) -> Result<UnixListener, String> {
    let _ = std::fs::remove_file(path);
    let (_dir, short) = crate::fsutil::socket_path(path)
        .map_err(|e| format!("attach socket {}: {e}", path.display()))?;
    let l =
        UnixListener::bind(&short).map_err(|e| format!("attach socket {}: {e}", path.display()))?;
    l.set_nonblocking(true).map_err(|e| e.to_string())?;
    Ok(l)
}

/// Connects to a shim's socket, however long its path.
pub async fn connect(path: &Path) -> std::io::Result<tokio::net::UnixStream> {
    let (_dir, short) = crate::fsutil::socket_path(path)?;
    tokio::net::UnixStream::connect(&short).await
}

/// `connect` for blocking callers.
pub fn connect_blocking(path: &Path) -> std::io::Result<UnixStream> {
    let (_dir, short) = crate::fsutil::socket_path(path)?;
    UnixStream::connect(&short)
}

/// Waits up to `limit` for the first client (an attach made before start).
pub fn first_client(l: &UnixListener, limit: Duration) -> Option<UnixStream> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Ok((s, _)) = l.accept() {
            return Some(s);
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    None
}

pub fn frame(kind: u8, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 8);
    out.extend_from_slice(&[kind, 0, 0, 0]);
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(data);
    out
}

struct Client {
    sock: UnixStream,
    inbuf: Vec<u8>,
}

/// Longest line kept whole in the log; longer output is split (as Docker does).
const MAX_LINE: usize = 16 * 1024;

/// Copies output to the log and the clients, and client input to the
/// process, until the process's output ends.
pub struct Pump {
    io: ParentIo,
    listener: UnixListener,
    clients: Vec<Client>,
    log: Option<super::jsonlog::JsonLog>,
    pending: [Vec<u8>; 2],
}

impl Pump {
    pub fn new(
        io: ParentIo,
        listener: UnixListener,
        log: Option<super::jsonlog::JsonLog>,
        first: Option<UnixStream>,
    ) -> Self {
        let mut clients = Vec::new();
        if let Some(s) = first {
            clients.push(Self::client(s));
        }
        Self {
            io,
            listener,
            clients,
            log,
            pending: [Vec::new(), Vec::new()],
        }
    }

    fn client(sock: UnixStream) -> Client {
        let _ = sock.set_nonblocking(false);
        let _ = sock.set_write_timeout(Some(Duration::from_secs(2)));
        let _ = sock.set_nonblocking(true);
        Client {
            sock,
            inbuf: Vec::new(),
        }
    }

    /// Runs until stdout (and stderr) close. Returns the clients, for the
    /// caller to drop once the exit status is written: they see EOF only then.
    pub fn run(mut self) -> Vec<UnixStream> {
        let mut open = [true, self.io.err.is_some()];
        let mut buf = vec![0u8; 32 * 1024];
        while open[0] || open[1] {
            let mut fds = Vec::new();
            let mut kinds = Vec::new();
            if open[0] {
                fds.push(nix::poll::PollFd::new(
                    self.io.out.as_fd(),
                    nix::poll::PollFlags::POLLIN,
                ));
                kinds.push(0usize);
            }
            if let (true, Some(e)) = (open[1], &self.io.err) {
                fds.push(nix::poll::PollFd::new(
                    e.as_fd(),
                    nix::poll::PollFlags::POLLIN,
                ));
                kinds.push(1);
            }
            fds.push(nix::poll::PollFd::new(
                self.listener.as_fd(),
                nix::poll::PollFlags::POLLIN,
            ));
            kinds.push(2);
            for c in &self.clients {
                fds.push(nix::poll::PollFd::new(
                    c.sock.as_fd(),
                    nix::poll::PollFlags::POLLIN,
                ));
                kinds.push(3);
            }
            match nix::poll::poll(&mut fds, nix::poll::PollTimeout::NONE) {
                Ok(_) => {}
                Err(nix::errno::Errno::EINTR) => continue,
                Err(_) => break,
            }
            let ready: Vec<bool> = fds
                .iter()
                .map(|f| f.revents().is_some_and(|r| !r.is_empty()))
                .collect();
            drop(fds);
            let mut client_ready = Vec::new();
            for (i, kind) in kinds.iter().enumerate() {
                if !ready[i] {
                    continue;
                }
                match kind {
                    0 | 1 => {
                        let fd = if *kind == 0 {
                            self.io.out.as_raw_fd()
                        } else {
                            self.io.err.as_ref().map_or(-1, |e| e.as_raw_fd())
                        };
                        match nix::unistd::read(fd, &mut buf) {
                            Ok(0) | Err(nix::errno::Errno::EIO | nix::errno::Errno::EBADF) => {
                                // A terminal's last output can reach the master
                                // side just after the hangup: drain it.
                                if self.io.master.is_some() {
                                    self.drain_terminal(fd, &mut buf);
                                }
                                open[*kind] = false;
                                let rest = std::mem::take(&mut self.pending[*kind]);
                                self.log_entry(*kind, &rest);
                            }
                            Ok(n) => {
                                let data = buf[..n].to_vec();
                                self.output(*kind, &data);
                            }
                            Err(nix::errno::Errno::EINTR | nix::errno::Errno::EAGAIN) => {}
                            Err(_) => open[*kind] = false,
                        }
                    }
                    2 => {
                        while let Ok((s, _)) = self.listener.accept() {
                            self.clients.push(Self::client(s));
                        }
                    }
                    _ => client_ready.push(i - kinds.iter().position(|k| *k == 3).unwrap_or(i)),
                }
            }
            self.read_clients(&client_ready);
        }
        self.clients.drain(..).map(|c| c.sock).collect()
    }

    fn drain_terminal(&mut self, fd: std::os::fd::RawFd, buf: &mut [u8]) {
        let mut quiet = 0;
        while quiet < 5 {
            match nix::unistd::read(fd, buf) {
                Ok(n) if n > 0 => {
                    quiet = 0;
                    let data = buf[..n].to_vec();
                    self.output(0, &data);
                }
                _ => {
                    quiet += 1;
                    std::thread::sleep(Duration::from_millis(2));
                }
            }
        }
    }

    fn output(&mut self, kind: usize, data: &[u8]) {
        let f = frame(kind as u8 + 1, data);
        self.clients.retain_mut(|c| {
            let _ = c.sock.set_nonblocking(false);
            let ok = c.sock.write_all(&f).is_ok();
            let _ = c.sock.set_nonblocking(true);
            ok
        });
        self.pending[kind].extend_from_slice(data);
        while let Some(pos) = self.pending[kind].iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.pending[kind].drain(..=pos).collect();
            self.log_entry(kind, &line);
        }
        if self.pending[kind].len() >= MAX_LINE {
            let part = std::mem::take(&mut self.pending[kind]);
            self.log_entry(kind, &part);
        }
    }

    fn log_entry(&mut self, kind: usize, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if let Some(log) = &mut self.log {
            log.write(if kind == 0 { "stdout" } else { "stderr" }, bytes);
        }
    }

    fn read_clients(&mut self, ready: &[usize]) {
        let mut gone = Vec::new();
        for &i in ready {
            let Some(c) = self.clients.get_mut(i) else {
                continue;
            };
            let mut buf = [0u8; 16 * 1024];
            match c.sock.read(&mut buf) {
                Ok(0) => gone.push(i),
                Ok(n) => c.inbuf.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(_) => gone.push(i),
            }
            let mut frames = Vec::new();
            while c.inbuf.len() >= 8 {
                let len =
                    u32::from_be_bytes([c.inbuf[4], c.inbuf[5], c.inbuf[6], c.inbuf[7]]) as usize;
                if c.inbuf.len() < 8 + len {
                    break;
                }
                let kind = c.inbuf[0];
                let data: Vec<u8> = c.inbuf[8..8 + len].to_vec();
                c.inbuf.drain(..8 + len);
                frames.push((kind, data));
            }
            for (kind, data) in frames {
                self.input(kind, &data);
            }
        }
        for i in gone.into_iter().rev() {
            self.clients.remove(i);
        }
    }

    fn input(&mut self, kind: u8, data: &[u8]) {
        match kind {
            FRAME_STDIN => {
                if let Some(fd) = &self.io.stdin {
                    let mut rest = data;
                    while !rest.is_empty() {
                        match nix::unistd::write(fd, rest) {
                            Ok(n) => rest = &rest[n..],
                            Err(nix::errno::Errno::EINTR | nix::errno::Errno::EAGAIN) => continue,
                            Err(_) => break,
                        }
                    }
                }
            }
            FRAME_CLOSE_STDIN => {
                if self.io.master.is_some() {
                    // A terminal has no half-close: send EOF (^D) instead.
                    if let Some(fd) = &self.io.stdin {
                        let _ = nix::unistd::write(fd, b"\x04");
                    }
                } else {
                    self.io.stdin = None;
                }
            }
            FRAME_RESIZE if data.len() >= 4 => {
                if let Some(m) = &self.io.master {
                    resize(
                        m,
                        u16::from_be_bytes([data[0], data[1]]),
                        u16::from_be_bytes([data[2], data[3]]),
                    );
                }
            }
            _ => {}
        }
    }
}

/// Sets a terminal's size.
pub fn resize(master: &OwnedFd, rows: u16, cols: u16) {
    let ws = libc::winsize {
        ws_row: rows,
        ws_col: cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ with a valid winsize on an open terminal fd.
    unsafe {
        libc::ioctl(master.as_raw_fd(), libc::TIOCSWINSZ, &ws);
    }
}
