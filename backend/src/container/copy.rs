//! Files in and out of a container (`cp`, `export`), without ever leaving
//! its root. A running container is reached through its own mount namespace
//! (`/proc/PID/root`, volumes included); a stopped one through an overlay of
//! its layers mounted for the copy. Every path is resolved with
//! `openat2(RESOLVE_IN_ROOT)`, so a symlink in the container (even one that a
//! process swaps in while the copy runs) resolves inside the container, and
//! files are created relative to directory descriptors with `O_NOFOLLOW`.

use nix::fcntl::{OFlag, OpenHow, ResolveFlag};
use nix::sys::stat::{fstatat, FileStat, Mode, SFlag};
use nix::unistd::fchownat;
use std::ffi::{OsStr, OsString};
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

fn errno(e: nix::errno::Errno) -> io::Error {
    io::Error::from_raw_os_error(e as i32)
}

/// An overlay mounted for a copy; unmounted and removed on drop.
struct TempMount(PathBuf);

impl Drop for TempMount {
    fn drop(&mut self) {
        let _ = nix::mount::umount2(&self.0, nix::mount::MntFlags::MNT_DETACH);
        let _ = std::fs::remove_dir(&self.0);
    }
}

/// A container's root directory, held open for one copy.
pub struct Root {
    fd: OwnedFd,
    _mount: Option<TempMount>,
}

/// How to reach the container's files.
pub enum Access<'a> {
    /// A running container: its init's host pid.
    Running(i32),
    /// A stopped one: its writable layer (`diff`, with `work`) and the
    /// image's layers, top first. `write` mounts the writable layer as upper.
    Stopped {
        diff: &'a Path,
        work: &'a Path,
        lowers: &'a [PathBuf],
        write: bool,
    },
    /// Its layers only, read-only, without volumes or other mounts (`export`).
    Layers {
        diff: &'a Path,
        lowers: &'a [PathBuf],
    },
}

fn open_dir(p: &Path) -> io::Result<OwnedFd> {
    let raw = nix::fcntl::open(
        p,
        OFlag::O_PATH | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(errno)?;
    // SAFETY: a fresh fd from open(2), owned from here on.
    Ok(unsafe { OwnedFd::from_raw_fd(raw) })
}

impl Root {
    /// Opens the container's root; `scratch` holds a temporary mount point.
    pub fn open(access: Access, scratch: &Path) -> io::Result<Root> {
        let (upper, work, lowers, write) = match access {
            Access::Running(pid) => {
                return Ok(Root {
                    fd: open_dir(Path::new(&format!("/proc/{pid}/root")))?,
                    _mount: None,
                })
            }
            Access::Stopped {
                diff,
                work,
                lowers,
                write,
            } => (diff, work, lowers, write),
            Access::Layers { diff, lowers } => (diff, diff, lowers, false),
        };
        let at = crate::fsutil::unique_path(scratch, "cp");
        std::fs::create_dir_all(&at)?;
        let mount = TempMount(at.clone());
        let lower_list = |first: Option<&Path>| {
            first
                .into_iter()
                .chain(lowers.iter().map(PathBuf::as_path))
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(":")
        };
        let (flags, data) = if write {
            (
                nix::mount::MsFlags::empty(),
                format!(
                    "lowerdir={},upperdir={},workdir={}",
                    lower_list(None),
                    upper.display(),
                    work.display()
                ),
            )
        } else {
            (
                nix::mount::MsFlags::MS_RDONLY,
                format!("lowerdir={}", lower_list(Some(upper))),
            )
        };
        let single_lower = !write && lowers.is_empty();
        if single_lower {
            // overlayfs wants two lowers at least: the layer is the root itself.
            drop(mount);
            return Ok(Root {
                fd: open_dir(upper)?,
                _mount: None,
            });
        }
        nix::mount::mount(
            Some("overlay"),
            &at,
            Some("overlay"),
            flags,
            Some(data.as_str()),
        )
        .map_err(|e| io::Error::other(format!("mount the container's files: {e}")))?;
        Ok(Root {
            fd: open_dir(&at)?,
            _mount: Some(mount),
        })
    }

    /// Opens `path` (inside the container) resolved within the root.
    fn resolve(&self, path: &str, flags: OFlag, follow_last: bool) -> io::Result<OwnedFd> {
        let rel = path.trim_start_matches('/');
        let rel = if rel.is_empty() { "." } else { rel };
        let mut flags = flags | OFlag::O_CLOEXEC;
        if !follow_last {
            flags |= OFlag::O_NOFOLLOW;
        }
        let how = OpenHow::new()
            .flags(flags)
            .resolve(ResolveFlag::RESOLVE_IN_ROOT | ResolveFlag::RESOLVE_NO_MAGICLINKS);
        let raw = nix::fcntl::openat2(self.fd.as_raw_fd(), rel, how).map_err(errno)?;
        // SAFETY: a fresh fd from openat2(2), owned from here on.
        Ok(unsafe { OwnedFd::from_raw_fd(raw) })
    }

    /// The parent directory of `path` (opened for *at calls) and its last name.
    fn parent_of(&self, path: &str) -> io::Result<(OwnedFd, OsString)> {
        let p = Path::new(path);
        let name = p
            .file_name()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no file name"))?
            .to_os_string();
        let parent = p
            .parent()
            .map_or("/".to_string(), |d| d.display().to_string());
        Ok((
            self.resolve(&parent, OFlag::O_RDONLY | OFlag::O_DIRECTORY, true)?,
            name,
        ))
    }

    /// What is at `path` (a symlink itself, not its target), as Docker's
    /// `X-Docker-Container-Path-Stat`.
    pub fn stat(&self, path: &str) -> io::Result<PathStat> {
        if names_itself(path) {
            // `/`, `dir/.`, `dir/..`: the directory it resolves to.
            let fd = self.resolve(path, OFlag::O_PATH | OFlag::O_DIRECTORY, true)?;
            let st = nix::sys::stat::fstat(fd.as_raw_fd()).map_err(errno)?;
            return Ok(PathStat::of(&st, ".", String::new()));
        }
        let (dir, name) = self.parent_of(path)?;
        stat_at(&dir, &name)
    }

    /// The entries of directory `path` (symlinks not followed), sorted by name.
    pub fn list(&self, path: &str) -> io::Result<Vec<PathStat>> {
        let dir = self.resolve(path, OFlag::O_RDONLY | OFlag::O_DIRECTORY, true)?;
        let mut out = Vec::new();
        for name in sorted_names(&dir)? {
            // An entry gone since the listing is left out.
            if let Ok(st) = stat_at(&dir, &name) {
                out.push(st);
            }
        }
        Ok(out)
    }

    /// Up to `limit` bytes of the regular file at `path` (symlinks followed
    /// inside the root), and whether there was more.
    pub fn read_file(&self, path: &str, limit: u64) -> io::Result<(Vec<u8>, bool)> {
        let fd = self.resolve(path, OFlag::O_RDONLY, true)?;
        let f = std::fs::File::from(fd);
        if !f.metadata()?.is_file() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{path} is not a regular file"),
            ));
        }
        let mut buf = Vec::new();
        f.take(limit + 1).read_to_end(&mut buf)?;
        let more = buf.len() as u64 > limit;
        buf.truncate(limit as usize);
        Ok((buf, more))
    }

    /// A tar of `path` (a file, a symlink or a directory tree), its entries
    /// named from the path's last component.
    pub fn archive(&self, path: &str, out: impl Write) -> io::Result<()> {
        let stat = self.stat(path)?;
        let mut tar = tar::Builder::new(out);
        tar.follow_symlinks(false);
        let mut links = std::collections::HashMap::new();
        if names_itself(path) {
            // A directory's contents, at the top of the archive.
            let dir = self.resolve(path, OFlag::O_RDONLY | OFlag::O_DIRECTORY, true)?;
            for name in sorted_names(&dir)? {
                let as_name = name.to_string_lossy().into_owned();
                append(&mut tar, dir.as_fd(), &name, &as_name, &mut links)?;
            }
        } else {
            let (dir, name) = self.parent_of(path)?;
            append(&mut tar, dir.as_fd(), &name, &stat.name, &mut links)?;
        }
        tar.finish()
    }

    /// The whole root as one tar, its entries named from the root (`export`).
    pub fn archive_contents(&self, out: impl Write) -> io::Result<()> {
        self.archive("/", out)
    }

    /// Unpacks a tar into directory `dir` of the container. Entries may not
    /// climb out (`..`, absolute names); device nodes are refused. With
    /// `keep_owner` the tar's uid/gid stay, else files belong to root. With
    /// `no_overwrite_dir_non_dir` a directory is never replaced by a file
    /// or the other way round.
    pub fn extract(
        &self,
        dir: &str,
        r: impl Read,
        keep_owner: bool,
        no_overwrite_dir_non_dir: bool,
    ) -> io::Result<()> {
        let target = self.resolve(dir, OFlag::O_RDONLY | OFlag::O_DIRECTORY, true)?;
        drop(target); // it must be a directory
        let mut ar = tar::Archive::new(r);
        for entry in ar.entries()? {
            let mut e = entry?;
            let raw = e.path()?.into_owned();
            let rel = clean(&raw)?;
            if rel.as_os_str().is_empty() {
                continue;
            }
            let full = format!("{}/{}", dir.trim_end_matches('/'), rel.display());
            let (parent_dir, name) = self.mkdirs_parent(&full)?;
            let h = e.header().clone();
            let mode = h.mode().unwrap_or(0o644) & 0o7777;
            let existing = fstatat(
                Some(parent_dir.as_raw_fd()),
                name.as_os_str(),
                nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
            )
            .ok()
            .map(|s| SFlag::from_bits_truncate(s.st_mode) & SFlag::S_IFMT);
            let is_dir = h.entry_type().is_dir();
            if no_overwrite_dir_non_dir {
                if let Some(k) = existing {
                    if (k == SFlag::S_IFDIR) != is_dir {
                        return Err(io::Error::new(
                            io::ErrorKind::AlreadyExists,
                            format!(
                                "cannot overwrite {} with {}: one is a directory",
                                full,
                                rel.display()
                            ),
                        ));
                    }
                }
            }
            // Anything but a directory that stays a directory is replaced.
            if existing.is_some() && !(is_dir && existing == Some(SFlag::S_IFDIR)) {
                let flag = if existing == Some(SFlag::S_IFDIR) {
                    nix::unistd::UnlinkatFlags::RemoveDir
                } else {
                    nix::unistd::UnlinkatFlags::NoRemoveDir
                };
                nix::unistd::unlinkat(Some(parent_dir.as_raw_fd()), name.as_os_str(), flag)
                    .map_err(|e| io::Error::other(format!("replace {full}: {e}")))?;
            }
            let pfd = parent_dir.as_raw_fd();
            let (uid, gid) = if keep_owner {
                (h.uid().unwrap_or(0) as u32, h.gid().unwrap_or(0) as u32)
            } else {
                (0, 0)
            };
            match h.entry_type() {
                t if t.is_dir() => {
                    if existing != Some(SFlag::S_IFDIR) {
                        nix::sys::stat::mkdirat(
                            Some(pfd),
                            name.as_os_str(),
                            Mode::from_bits_truncate(mode),
                        )
                        .map_err(errno)?;
                    }
                    let fd = nix::fcntl::openat(
                        Some(pfd),
                        name.as_os_str(),
                        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
                        Mode::empty(),
                    )
                    .map_err(errno)?;
                    // SAFETY: a fresh fd from openat(2).
                    own(&unsafe { OwnedFd::from_raw_fd(fd) }, uid, gid, mode)?;
                }
                t if t.is_file() => {
                    let fd = nix::fcntl::openat(
                        Some(pfd),
                        name.as_os_str(),
                        OFlag::O_WRONLY
                            | OFlag::O_CREAT
                            | OFlag::O_EXCL
                            | OFlag::O_NOFOLLOW
                            | OFlag::O_CLOEXEC,
                        Mode::from_bits_truncate(mode),
                    )
                    .map_err(errno)?;
                    // SAFETY: a fresh fd from openat(2).
                    let mut f = std::fs::File::from(unsafe { OwnedFd::from_raw_fd(fd) });
                    io::copy(&mut e, &mut f)?;
                    own(&f, uid, gid, mode)?;
                }
                t if t.is_symlink() => {
                    let target = h.link_name()?.ok_or_else(|| {
                        io::Error::other(format!("{full}: symlink without target"))
                    })?;
                    nix::unistd::symlinkat(target.as_ref(), Some(pfd), name.as_os_str())
                        .map_err(errno)?;
                    fchownat(
                        Some(pfd),
                        name.as_os_str(),
                        Some(nix::unistd::Uid::from_raw(uid)),
                        Some(nix::unistd::Gid::from_raw(gid)),
                        nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
                    )
                    .map_err(errno)?;
                }
                t if t.is_hard_link() => {
                    let target = h
                        .link_name()?
                        .ok_or_else(|| io::Error::other(format!("{full}: link without target")))?;
                    let target = format!(
                        "{}/{}",
                        dir.trim_end_matches('/'),
                        clean(&target)?.display()
                    );
                    let src = self.resolve(&target, OFlag::O_PATH, false)?;
                    nix::unistd::linkat(
                        Some(src.as_raw_fd()),
                        Path::new(""),
                        Some(pfd),
                        Path::new(name.as_os_str()),
                        nix::unistd::LinkatFlags::AT_EMPTY_PATH,
                    )
                    .map_err(|e| io::Error::other(format!("link {full}: {e}")))?;
                }
                other => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        format!(
                            "{}: {other:?} entries are not copied into containers",
                            rel.display()
                        ),
                    ))
                }
            }
        }
        Ok(())
    }

    /// Makes the directories above `path` as needed (each resolved within
    /// the root) and opens the last one.
    fn mkdirs_parent(&self, path: &str) -> io::Result<(OwnedFd, OsString)> {
        match self.parent_of(path) {
            Ok(x) => Ok(x),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let parent = Path::new(path)
                    .parent()
                    .map_or("/".into(), |p| p.display().to_string());
                let (pp, name) = self.mkdirs_parent(&parent)?;
                match nix::sys::stat::mkdirat(
                    Some(pp.as_raw_fd()),
                    name.as_os_str(),
                    Mode::from_bits_truncate(0o755),
                ) {
                    Ok(()) | Err(nix::errno::Errno::EEXIST) => {}
                    Err(e) => return Err(errno(e)),
                }
                self.parent_of(path)
            }
            Err(e) => Err(e),
        }
    }
}

/// Whether a path names a directory by itself (`/`, `a/.`, `a/..`), with no
/// last name to look up in a parent.
fn names_itself(path: &str) -> bool {
    path.ends_with("/.")
        || matches!(
            Path::new(path).components().next_back(),
            None | Some(Component::RootDir | Component::CurDir | Component::ParentDir)
        )
}

/// An entry name made relative and checked: no `..`, nothing absolute.
fn clean(p: &Path) -> io::Result<PathBuf> {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::CurDir => {}
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "archive entry {:?} leaves the target directory",
                        p.display()
                    ),
                ))
            }
        }
    }
    Ok(out)
}

/// What `name` in `dir` is (a symlink itself, with its target).
fn stat_at(dir: &OwnedFd, name: &OsStr) -> io::Result<PathStat> {
    let st = fstatat(
        Some(dir.as_raw_fd()),
        name,
        nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
    )
    .map_err(errno)?;
    let link = if SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFLNK {
        nix::fcntl::readlinkat(Some(dir.as_raw_fd()), name)
            .map(|t| t.to_string_lossy().into_owned())
            .unwrap_or_default()
    } else {
        String::new()
    };
    Ok(PathStat::of(&st, &name.to_string_lossy(), link))
}

/// Gives a file or directory just made its owner, then its mode (after
/// the chown, which clears setuid bits), through its own descriptor.
fn own(fd: &impl AsRawFd, uid: u32, gid: u32, mode: u32) -> io::Result<()> {
    nix::unistd::fchown(
        fd.as_raw_fd(),
        Some(nix::unistd::Uid::from_raw(uid)),
        Some(nix::unistd::Gid::from_raw(gid)),
    )
    .map_err(errno)?;
    nix::sys::stat::fchmod(fd.as_raw_fd(), Mode::from_bits_truncate(mode)).map_err(errno)
}

/// The names in an open directory, sorted, without `.` and `..`.
fn sorted_names(dir: &OwnedFd) -> io::Result<Vec<OsString>> {
    let listing = dir.try_clone()?;
    let mut d = nix::dir::Dir::from_fd(listing.as_raw_fd()).map_err(errno)?;
    std::mem::forget(listing); // owned by `d` now
    let mut names = Vec::new();
    for e in d.iter() {
        let e = e.map_err(errno)?;
        let n = OsStr::from_bytes(e.file_name().to_bytes());
        if n != "." && n != ".." {
            names.push(n.to_os_string());
        }
    }
    names.sort();
    Ok(names)
}

/// Appends `name` (in directory `dir`) as `as_name`, and a directory's
/// contents below it; symlinks are stored, never followed.
fn append<W: Write>(
    tar: &mut tar::Builder<W>,
    dir: std::os::fd::BorrowedFd,
    name: &OsStr,
    as_name: &str,
    links: &mut std::collections::HashMap<(u64, u64), String>,
) -> io::Result<()> {
    let st = fstatat(
        Some(dir.as_raw_fd()),
        name,
        nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
    )
    .map_err(errno)?;
    let mut h = tar::Header::new_gnu();
    h.set_mode(st.st_mode & 0o7777);
    h.set_uid(u64::from(st.st_uid));
    h.set_gid(u64::from(st.st_gid));
    h.set_mtime(st.st_mtime.max(0) as u64);
    h.set_size(0);
    let fmt = SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT;
    if fmt == SFlag::S_IFDIR {
        h.set_entry_type(tar::EntryType::Directory);
        tar.append_data(&mut h, format!("{as_name}/"), io::empty())?;
        let fd = nix::fcntl::openat(
            Some(dir.as_raw_fd()),
            name,
            OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(errno)?;
        // SAFETY: a fresh fd from openat(2).
        let child = unsafe { OwnedFd::from_raw_fd(fd) };
        for n in &sorted_names(&child)? {
            let child_name = format!("{as_name}/{}", n.to_string_lossy());
            append(tar, child.as_fd(), n, &child_name, links)?;
        }
    } else if fmt == SFlag::S_IFLNK {
        let target = nix::fcntl::readlinkat(Some(dir.as_raw_fd()), name).map_err(errno)?;
        h.set_entry_type(tar::EntryType::Symlink);
        tar.append_link(&mut h, as_name, Path::new(&target))?;
    } else if fmt == SFlag::S_IFREG {
        let key = (st.st_dev, st.st_ino);
        if st.st_nlink > 1 {
            if let Some(first) = links.get(&key) {
                h.set_entry_type(tar::EntryType::Link);
                tar.append_link(&mut h, as_name, first)?;
                return Ok(());
            }
            links.insert(key, as_name.to_string());
        }
        let fd = nix::fcntl::openat(
            Some(dir.as_raw_fd()),
            name,
            OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
            Mode::empty(),
        )
        .map_err(errno)?;
        // SAFETY: a fresh fd from openat(2).
        let file = std::fs::File::from(unsafe { OwnedFd::from_raw_fd(fd) });
        h.set_entry_type(tar::EntryType::Regular);
        h.set_size(file.metadata()?.len());
        tar.append_data(&mut h, as_name, file)?;
    }
    // Sockets, devices and fifos are left out, as `docker cp` leaves them.
    Ok(())
}

/// Docker's path stat: Go's `os.FileMode` bits for the type.
#[derive(Debug, Clone, serde::Serialize, PartialEq)]
pub struct PathStat {
    pub name: String,
    pub size: i64,
    pub mode: u32,
    pub mtime: String,
    #[serde(rename = "linkTarget")]
    pub link_target: String,
}

impl PathStat {
    fn of(st: &FileStat, name: &str, link_target: String) -> Self {
        let fmt = SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT;
        let mut mode = st.st_mode & 0o777;
        if st.st_mode & 0o4000 != 0 {
            mode |= 1 << 23; // ModeSetuid
        }
        if st.st_mode & 0o2000 != 0 {
            mode |= 1 << 22; // ModeSetgid
        }
        if st.st_mode & 0o1000 != 0 {
            mode |= 1 << 20; // ModeSticky
        }
        mode |= match fmt {
            f if f == SFlag::S_IFDIR => 1 << 31,
            f if f == SFlag::S_IFLNK => 1 << 27,
            f if f == SFlag::S_IFIFO => 1 << 25,
            f if f == SFlag::S_IFSOCK => 1 << 24,
            f if f == SFlag::S_IFCHR => (1 << 26) | (1 << 21),
            f if f == SFlag::S_IFBLK => 1 << 26,
            _ => 0,
        };
        PathStat {
            name: name.to_string(),
            size: st.st_size,
            mode,
            mtime: crate::timefmt::rfc3339_of_nanos(st.st_mtime * 1_000_000_000 + st.st_mtime_nsec),
            link_target,
        }
    }

    pub fn is_dir(&self) -> bool {
        self.mode & (1 << 31) != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_names_stay_inside() {
        assert_eq!(clean(Path::new("./a/b")).unwrap(), PathBuf::from("a/b"));
        assert!(clean(Path::new("../x")).is_err());
        assert!(clean(Path::new("a/../../x")).is_err());
        assert!(clean(Path::new("/etc/passwd")).is_err());
    }

    #[test]
    fn a_symlink_in_the_root_resolves_inside_it() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("root");
        std::fs::create_dir_all(root.join("etc")).unwrap();
        std::fs::write(root.join("etc/hostname"), "inside").unwrap();
        std::os::unix::fs::symlink("/etc", root.join("escape")).unwrap();
        std::os::unix::fs::symlink("../../..", root.join("up")).unwrap();
        let r = Root {
            fd: open_dir(&root).unwrap(),
            _mount: None,
        };
        let mut out = Vec::new();
        r.archive("/escape/hostname", &mut out).unwrap();
        let mut ar = tar::Archive::new(&out[..]);
        let mut e = ar.entries().unwrap().next().unwrap().unwrap();
        let mut text = String::new();
        e.read_to_string(&mut text).unwrap();
        assert_eq!(text, "inside", "the container's /etc, not the host's");
        // Extracting through `up` lands inside the root too.
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(2);
        h.set_mode(0o644);
        b.append_data(&mut h, "canary", &b"hi"[..]).unwrap();
        let data = b.into_inner().unwrap();
        r.extract("/up", &data[..], false, false).unwrap();
        assert!(root.join("canary").exists());
        assert!(!d.path().join("canary").exists());
        let st = r.stat("/etc").unwrap();
        assert!(st.is_dir() && st.name == "etc");
        assert_eq!(r.stat("/escape").unwrap().link_target, "/etc");
    }
}
