//! Thin wrappers over the few syscalls std does not offer. Every `unsafe` block
//! of the image code lives here, each with its `SAFETY:` argument.

use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

fn cpath(p: &Path) -> io::Result<CString> {
    CString::new(p.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path contains NUL"))
}

fn check(ret: libc::c_int) -> io::Result<()> {
    if ret == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Creates an overlayfs whiteout: a character device with device number 0/0.
pub fn mknod_whiteout(path: &Path) -> io::Result<()> {
    let c = cpath(path)?;
    // SAFETY: `c` is a valid NUL-terminated path that outlives the call; mknod reads it only.
    check(unsafe { libc::mknod(c.as_ptr(), libc::S_IFCHR, libc::makedev(0, 0)) })
}

/// Creates a named pipe.
pub fn mkfifo(path: &Path, mode: u32) -> io::Result<()> {
    let c = cpath(path)?;
    // SAFETY: `c` is a valid NUL-terminated path that outlives the call.
    check(unsafe { libc::mkfifo(c.as_ptr(), mode as libc::mode_t) })
}

/// Sets an extended attribute on `path` itself, never on a symlink's target.
pub fn lsetxattr(path: &Path, name: &str, value: &[u8]) -> io::Result<()> {
    let c = cpath(path)?;
    let n = CString::new(name)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "xattr name contains NUL"))?;
    // SAFETY: both strings are NUL-terminated and live across the call; `value` is a
    // valid slice whose pointer and length are passed together.
    check(unsafe {
        libc::lsetxattr(
            c.as_ptr(),
            n.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        )
    })
}

/// Sets access and modification time of `path` itself (not a symlink's target).
pub fn set_mtime_nofollow(path: &Path, secs: i64) -> io::Result<()> {
    let c = cpath(path)?;
    let t = libc::timespec {
        tv_sec: secs as libc::time_t,
        tv_nsec: 0,
    };
    let times = [t, t];
    // SAFETY: `c` is a valid path; `times` is an array of two timespecs as utimensat requires.
    check(unsafe {
        libc::utimensat(
            libc::AT_FDCWD,
            c.as_ptr(),
            times.as_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
        )
    })
}

/// Takes a non-blocking exclusive `flock` on `f`; fails if another process holds it.
pub fn try_lock_exclusive(f: &std::fs::File) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: the descriptor belongs to `f`, which outlives the call; flock takes no pointers.
    check(unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) })
}

/// Reads a line from the terminal on stdin without echoing it (for passwords).
pub fn read_line_noecho() -> io::Result<String> {
    use std::io::BufRead;
    let fd = libc::STDIN_FILENO;
    // SAFETY: termios is plain old data; zeroed is a valid value for tcgetattr to fill.
    let mut old: libc::termios = unsafe { std::mem::zeroed() };
    // SAFETY: fd 0 is open for the life of the process; `old` is a valid, writable termios.
    check(unsafe { libc::tcgetattr(fd, &mut old) })?;
    let mut quiet = old;
    quiet.c_lflag &= !libc::ECHO;
    // SAFETY: `quiet` is a valid termios copied from the current settings.
    check(unsafe { libc::tcsetattr(fd, libc::TCSANOW, &quiet) })?;
    let mut line = String::new();
    let res = io::stdin().lock().read_line(&mut line);
    // SAFETY: restores the settings read above, whatever the read returned.
    unsafe { libc::tcsetattr(fd, libc::TCSANOW, &old) };
    res.map(|_| line.trim_end_matches(['\r', '\n']).to_string())
}
