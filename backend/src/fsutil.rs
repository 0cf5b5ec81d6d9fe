//! Small filesystem helpers shared by the stores: unique scratch names, a guard
//! that removes scratch paths unless kept, and crash-safe atomic file writes
//! (write, fsync, rename, fsync the directory).

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A path under `dir` that no other call in this process (or another process) returns.
pub fn unique_path(dir: &Path, prefix: &str) -> PathBuf {
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    dir.join(format!("{prefix}-{}-{n}-{nanos:x}", std::process::id()))
}

/// Removes a scratch file or directory when dropped, unless [`ScratchGuard::keep`] was called.
#[derive(Debug)]
pub struct ScratchGuard {
    path: Option<PathBuf>,
}

impl ScratchGuard {
    pub fn new(path: PathBuf) -> Self {
        Self { path: Some(path) }
    }

    pub fn path(&self) -> &Path {
        self.path
            .as_deref()
            .expect("scratch path is present until kept")
    }

    /// Disarms the guard and returns the path.
    pub fn keep(mut self) -> PathBuf {
        self.path
            .take()
            .expect("scratch path is present until kept")
    }
}

impl Drop for ScratchGuard {
    fn drop(&mut self) {
        if let Some(p) = self.path.take() {
            remove_any(&p);
        }
    }
}

/// Removes a file or a directory tree; missing is fine.
pub fn remove_any(p: &Path) {
    let res = match fs::symlink_metadata(p) {
        Ok(m) if m.is_dir() => fs::remove_dir_all(p),
        Ok(_) => fs::remove_file(p),
        Err(_) => Ok(()),
    };
    if let Err(e) = res {
        tracing::warn!(path = %p.display(), error = %e, "could not remove scratch path");
    }
}

/// Writes `bytes` to `path` so that a crash leaves either the old or the new content.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic_mode(path, bytes, 0o644)
}

/// Like [`write_atomic`], creating the file with `mode` (0600 for secrets).
pub fn write_atomic_mode(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = unique_path(dir, ".tmp");
    let guard = ScratchGuard::new(tmp);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(guard.path())?;
    f.write_all(bytes)?;
    f.sync_all()?;
    fs::rename(guard.path(), path)?;
    guard.keep();
    sync_dir(dir)
}

/// Removes the temporary files of [`write_atomic`] and [`replace_file`]
/// left in `dir` by a crash (a process start, before any new write).
pub fn remove_temporaries(dir: &Path) {
    for e in fs::read_dir(dir).into_iter().flatten().flatten() {
        if e.file_name().to_string_lossy().starts_with(".tmp-") {
            remove_any(&e.path());
        }
    }
}

/// Replaces `path` atomically (temporary file + rename) without fsync: the
/// file is whole or old after a process crash, which is what state that is
/// rewritten often (container records) needs; not for content that must
/// survive power loss.
pub fn replace_file(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = unique_path(dir, ".tmp");
    let guard = ScratchGuard::new(tmp);
    fs::write(guard.path(), bytes)?;
    fs::rename(guard.path(), path)?;
    guard.keep();
    Ok(())
}

/// fsyncs a directory so that a rename into it survives a crash.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// A unix socket path that fits the kernel's 108-byte limit however deep
/// `path` is: `/proc/self/fd/N/NAME`, through an open handle on its
/// directory (keep the handle while binding or connecting).
pub fn socket_path(path: &Path) -> io::Result<(std::fs::File, PathBuf)> {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::OpenOptionsExt;
    let dir = path.parent().unwrap_or(Path::new("/"));
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::other(format!("{} has no file name", path.display())))?;
    let handle = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_PATH | libc::O_DIRECTORY)
        .open(dir)?;
    let short = PathBuf::from(format!("/proc/self/fd/{}", handle.as_raw_fd())).join(name);
    Ok((handle, short))
}

/// The bytes of regular files under `dir` (apparent sizes, links not
/// followed, each inode once), as `du --apparent-size` counts them.
pub fn dir_size(dir: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let mut seen = std::collections::HashSet::new();
    let mut total = 0u64;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let Ok(m) = e.path().symlink_metadata() else {
                continue;
            };
            if m.is_dir() {
                stack.push(e.path());
            } else if m.is_file() && seen.insert((m.dev(), m.ino())) {
                total += m.len();
            }
        }
    }
    total
}
