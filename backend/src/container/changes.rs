//! A container's changes to its image, read from its overlay upper dir:
//! the `docker diff` list (A/C/D) and the layer tar of `docker commit`
//! (whiteouts back in the OCI form, `.wh.NAME` and `.wh..wh..opq`).
//!
//! The upper dir is written by the container, so it is walked through
//! directory descriptors with `O_NOFOLLOW` at every step: a symlink the
//! container planted (even one swapped in during the walk) is stored as a
//! symlink and never followed out to the host.
//!
//! Left out, as Docker leaves them out: the files Berth mounts itself
//! (`/etc/hosts`, `/etc/hostname`, `/etc/resolv.conf`) and the mount points
//! `/proc`, `/sys` and `/dev` when the image did not have them.

use nix::dir::Dir;
use nix::fcntl::{AtFlags, OFlag};
use nix::sys::stat::{fstatat, FileStat, Mode, SFlag};
use std::collections::{BTreeMap, HashMap};
use std::ffi::{OsStr, OsString};
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// Mounted by Berth over every container; never a change.
const MOUNTED_FILES: &[&str] = &["/etc/hosts", "/etc/hostname", "/etc/resolv.conf"];
/// Mount points Berth makes when the image lacks them.
const MOUNT_POINTS: &[&str] = &["/proc", "/sys", "/dev"];
const OPAQUE_XATTR: &[u8] = b"trusted.overlay.opaque\0";

/// Docker's change kinds (`Kind` in the Engine API: 0, 1, 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Modified = 0,
    Added = 1,
    Deleted = 2,
}

impl ChangeKind {
    /// From the Engine API's `Kind` number.
    pub fn from_code(code: u64) -> Option<Self> {
        match code {
            0 => Some(ChangeKind::Modified),
            1 => Some(ChangeKind::Added),
            2 => Some(ChangeKind::Deleted),
            _ => None,
        }
    }

    pub fn letter(self) -> char {
        match self {
            ChangeKind::Modified => 'C',
            ChangeKind::Added => 'A',
            ChangeKind::Deleted => 'D',
        }
    }
}

/// What an upper-dir entry is.
#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Dir {
        opaque: bool,
    },
    File,
    Symlink(OsString),
    /// overlayfs's deletion marker: a 0/0 character device.
    Whiteout,
    /// A device node or fifo (kept as is).
    Special,
    Socket,
}

/// One entry met in the walk.
struct Entry<'a> {
    /// Absolute inside the container: `/etc/passwd`.
    path: String,
    kind: Kind,
    stat: FileStat,
    parent: BorrowedFd<'a>,
    name: &'a OsStr,
}

fn errno(e: nix::errno::Errno) -> io::Error {
    io::Error::from_raw_os_error(e as i32)
}

fn is_opaque(dir: BorrowedFd) -> bool {
    let mut v = [0u8; 2];
    // SAFETY: fgetxattr on a valid fd with a NUL-terminated name and a
    // buffer of the given length.
    let n = unsafe {
        libc::fgetxattr(
            dir.as_raw_fd(),
            OPAQUE_XATTR.as_ptr().cast(),
            v.as_mut_ptr().cast(),
            v.len(),
        )
    };
    n == 1 && v[0] == b'y'
}

/// Walks `root` depth-first, names sorted, a directory before its
/// children; `visit` sees every entry. Symlinks are never followed.
fn walk(root: &Path, visit: &mut dyn FnMut(&Entry) -> io::Result<()>) -> io::Result<()> {
    let raw = nix::fcntl::open(
        root,
        OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(errno)?;
    // SAFETY: a fresh fd from open(2), owned from here on.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    walk_dir(fd, "", visit)
}

fn walk_dir(
    dir: OwnedFd,
    prefix: &str,
    visit: &mut dyn FnMut(&Entry) -> io::Result<()>,
) -> io::Result<()> {
    let mut names: Vec<OsString> = Vec::new();
    {
        let listing = dir.try_clone()?;
        let mut d = Dir::from_fd(listing.as_raw_fd()).map_err(errno)?;
        std::mem::forget(listing); // owned by `d` now
        for e in d.iter() {
            let e = e.map_err(errno)?;
            let name = OsStr::from_bytes(e.file_name().to_bytes());
            if name != "." && name != ".." {
                names.push(name.to_os_string());
            }
        }
    }
    names.sort();
    for name in &names {
        let stat = fstatat(
            Some(dir.as_raw_fd()),
            name.as_os_str(),
            AtFlags::AT_SYMLINK_NOFOLLOW,
        )
        .map_err(errno)?;
        let path = format!("{prefix}/{}", name.to_string_lossy());
        let fmt = SFlag::from_bits_truncate(stat.st_mode) & SFlag::S_IFMT;
        let mut child_dir = None;
        let kind = if fmt == SFlag::S_IFDIR {
            let fd = nix::fcntl::openat(
                Some(dir.as_raw_fd()),
                name.as_os_str(),
                OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
                Mode::empty(),
            )
            .map_err(errno)?;
            // SAFETY: fresh fd from openat(2).
            let fd = unsafe { OwnedFd::from_raw_fd(fd) };
            let opaque = is_opaque(fd.as_fd());
            child_dir = Some(fd);
            Kind::Dir { opaque }
        } else if fmt == SFlag::S_IFREG {
            Kind::File
        } else if fmt == SFlag::S_IFLNK {
            let target =
                nix::fcntl::readlinkat(Some(dir.as_raw_fd()), name.as_os_str()).map_err(errno)?;
            Kind::Symlink(target)
        } else if fmt == SFlag::S_IFCHR && stat.st_rdev == 0 {
            Kind::Whiteout
        } else if fmt == SFlag::S_IFSOCK {
            Kind::Socket
        } else {
            Kind::Special
        };
        visit(&Entry {
            path: path.clone(),
            kind,
            stat,
            parent: dir.as_fd(),
            name,
        })?;
        if let Some(fd) = child_dir {
            walk_dir(fd, &path, visit)?;
        }
    }
    Ok(())
}

fn excluded(path: &str, in_image: bool) -> bool {
    if MOUNTED_FILES.contains(&path) {
        return true;
    }
    !in_image
        && MOUNT_POINTS
            .iter()
            .any(|m| path == *m || path.strip_prefix(m).is_some_and(|r| r.starts_with('/')))
}

/// The image's view of the container's root: its layers, top first.
struct Lower<'a>(&'a [PathBuf]);

impl Lower<'_> {
    /// The metadata of `path` as the image shows it; `None` when absent or
    /// deleted by a higher layer.
    fn stat(&self, path: &str) -> Option<std::fs::Metadata> {
        use std::os::unix::fs::FileTypeExt;
        let rel = path.trim_start_matches('/');
        for layer in self.0 {
            if let Ok(m) = std::fs::symlink_metadata(layer.join(rel)) {
                if m.file_type().is_char_device() && std::os::unix::fs::MetadataExt::rdev(&m) == 0 {
                    return None;
                }
                return Some(m);
            }
        }
        None
    }

    /// Names in the image's directory `path`.
    fn children(&self, path: &str) -> Vec<String> {
        let rel = path.trim_start_matches('/');
        let mut out = std::collections::BTreeSet::new();
        for layer in self.0 {
            if let Ok(rd) = std::fs::read_dir(layer.join(rel)) {
                for e in rd.flatten() {
                    let n = e.file_name().to_string_lossy().into_owned();
                    if self.stat(&format!("{path}/{n}")).is_some() {
                        out.insert(n);
                    }
                }
            }
        }
        out.into_iter().collect()
    }
}

/// `docker diff`: the container's changes, sorted by path.
pub fn changes(upper: &Path, lowers: &[PathBuf]) -> io::Result<Vec<(String, ChangeKind)>> {
    use std::os::unix::fs::MetadataExt;
    let lower = Lower(lowers);
    let mut found: BTreeMap<String, ChangeKind> = BTreeMap::new();
    // Directories of the image the container has only looked into: changed
    // only when something below them changed or their own mode/owner did.
    let mut quiet_dirs: Vec<String> = Vec::new();
    let mut upper_names: HashMap<String, ()> = HashMap::new();
    let mut opaque_dirs: Vec<String> = Vec::new();
    walk(upper, &mut |e| {
        upper_names.insert(e.path.clone(), ());
        let before = lower.stat(&e.path);
        if excluded(&e.path, before.is_some()) {
            return Ok(());
        }
        match (&e.kind, before) {
            (Kind::Whiteout, Some(_)) => {
                found.insert(e.path.clone(), ChangeKind::Deleted);
            }
            (Kind::Whiteout, None) => {}
            (Kind::Dir { opaque }, Some(m)) => {
                let own = m.mode() != e.stat.st_mode
                    || m.uid() != e.stat.st_uid
                    || m.gid() != e.stat.st_gid;
                if *opaque {
                    opaque_dirs.push(e.path.clone());
                }
                if own || *opaque {
                    found.insert(e.path.clone(), ChangeKind::Modified);
                } else {
                    quiet_dirs.push(e.path.clone());
                }
            }
            (_, Some(_)) => {
                found.insert(e.path.clone(), ChangeKind::Modified);
            }
            (_, None) => {
                found.insert(e.path.clone(), ChangeKind::Added);
            }
        }
        Ok(())
    })?;
    // What an opaque directory hides from the image is deleted.
    for dir in opaque_dirs {
        for name in lower.children(&dir) {
            let p = format!("{dir}/{name}");
            if !upper_names.contains_key(&p) {
                found.insert(p, ChangeKind::Deleted);
            }
        }
    }
    for dir in quiet_dirs {
        let below = format!("{dir}/");
        if found.keys().any(|p| p.starts_with(&below)) {
            found.insert(dir, ChangeKind::Modified);
        }
    }
    Ok(found.into_iter().collect())
}

/// `docker commit`: writes the container's changes as a layer tar.
pub fn write_layer(upper: &Path, lowers: &[PathBuf], out: impl Write) -> io::Result<()> {
    let lower = Lower(lowers);
    let mut tar = tar::Builder::new(out);
    tar.follow_symlinks(false);
    let mut links: HashMap<(u64, u64), String> = HashMap::new();
    walk(upper, &mut |e| {
        let in_image = matches!(e.kind, Kind::Whiteout) || lower.stat(&e.path).is_some();
        if excluded(&e.path, in_image) || e.kind == Kind::Socket {
            return Ok(());
        }
        let rel = e.path.trim_start_matches('/');
        let mut h = tar::Header::new_gnu();
        h.set_mode(e.stat.st_mode & 0o7777);
        h.set_uid(u64::from(e.stat.st_uid));
        h.set_gid(u64::from(e.stat.st_gid));
        h.set_mtime(e.stat.st_mtime.max(0) as u64);
        h.set_size(0);
        match &e.kind {
            Kind::Whiteout => {
                let (dir, name) = rel.rsplit_once('/').map_or(("", rel), |(d, n)| (d, n));
                let marker = if dir.is_empty() {
                    format!(".wh.{name}")
                } else {
                    format!("{dir}/.wh.{name}")
                };
                h.set_entry_type(tar::EntryType::Regular);
                h.set_mode(0o644);
                tar.append_data(&mut h, marker, io::empty())?;
            }
            Kind::Dir { opaque } => {
                h.set_entry_type(tar::EntryType::Directory);
                tar.append_data(&mut h, format!("{rel}/"), io::empty())?;
                if *opaque {
                    let mut m = tar::Header::new_gnu();
                    m.set_entry_type(tar::EntryType::Regular);
                    m.set_mode(0o644);
                    m.set_size(0);
                    tar.append_data(&mut m, format!("{rel}/.wh..wh..opq"), io::empty())?;
                }
            }
            Kind::Symlink(target) => {
                h.set_entry_type(tar::EntryType::Symlink);
                tar.append_link(&mut h, rel, Path::new(target))?;
            }
            Kind::File => {
                let key = (e.stat.st_dev, e.stat.st_ino);
                if e.stat.st_nlink > 1 {
                    if let Some(first) = links.get(&key) {
                        h.set_entry_type(tar::EntryType::Link);
                        tar.append_link(&mut h, rel, first)?;
                        return Ok(());
                    }
                    links.insert(key, rel.to_string());
                }
                let fd = nix::fcntl::openat(
                    Some(e.parent.as_raw_fd()),
                    e.name,
                    OFlag::O_RDONLY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
                    Mode::empty(),
                )
                .map_err(errno)?;
                // SAFETY: fresh fd from openat(2).
                let file = std::fs::File::from(unsafe { OwnedFd::from_raw_fd(fd) });
                let len = file.metadata()?.len();
                h.set_entry_type(tar::EntryType::Regular);
                h.set_size(len);
                tar.append_data(&mut h, rel, file.take(len))?;
            }
            Kind::Special => {
                let fmt = SFlag::from_bits_truncate(e.stat.st_mode) & SFlag::S_IFMT;
                h.set_entry_type(if fmt == SFlag::S_IFCHR {
                    tar::EntryType::Char
                } else if fmt == SFlag::S_IFBLK {
                    tar::EntryType::Block
                } else {
                    tar::EntryType::Fifo
                });
                let dev = e.stat.st_rdev;
                h.set_device_major(libc::major(dev))?;
                h.set_device_minor(libc::minor(dev))?;
                tar.append_data(&mut h, rel, io::empty())?;
            }
            Kind::Socket => {}
        }
        Ok(())
    })?;
    tar.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    fn whiteout(p: &Path) {
        let c = std::ffi::CString::new(p.as_os_str().as_bytes()).unwrap();
        // SAFETY: mknod with a valid NUL-terminated path.
        let r = unsafe { libc::mknod(c.as_ptr(), libc::S_IFCHR | 0o600, 0) };
        assert_eq!(r, 0);
    }

    /// An image with /etc/passwd, /bin/sh, /tmp/old and /var/lib/x/y.
    fn image() -> tempfile::TempDir {
        let t = tempfile::tempdir().unwrap();
        for (p, c) in [
            ("etc/passwd", "root"),
            ("bin/sh", "sh"),
            ("tmp/old", "o"),
            ("var/lib/x/y", "y"),
        ] {
            let f = t.path().join(p);
            std::fs::create_dir_all(f.parent().unwrap()).unwrap();
            std::fs::write(f, c).unwrap();
        }
        t
    }

    #[test]
    fn lists_changes_as_docker_does() {
        if !nix::unistd::geteuid().is_root() {
            return; // whiteouts need mknod
        }
        let img = image();
        let up = tempfile::tempdir().unwrap();
        let u = up.path();
        std::fs::create_dir_all(u.join("etc")).unwrap();
        std::fs::write(u.join("etc/passwd"), "root\nme").unwrap();
        std::fs::write(u.join("etc/new"), "n").unwrap();
        std::fs::write(u.join("etc/hostname"), "").unwrap(); // Berth's mount point
        std::fs::create_dir_all(u.join("tmp")).unwrap();
        whiteout(&u.join("tmp/old"));
        std::fs::create_dir_all(u.join("proc")).unwrap(); // Berth's mount point
        std::fs::create_dir_all(u.join("var/lib")).unwrap(); // looked into only
        std::fs::create_dir_all(u.join("app")).unwrap();
        symlink("/etc/shadow", u.join("app/link")).unwrap();
        let got = changes(u, &[img.path().to_path_buf()]).unwrap();
        let text: Vec<String> = got
            .iter()
            .map(|(p, k)| format!("{} {p}", k.letter()))
            .collect();
        assert_eq!(
            text,
            [
                "A /app",
                "A /app/link",
                "C /etc",
                "A /etc/new",
                "C /etc/passwd",
                "C /tmp",
                "D /tmp/old",
            ]
        );
    }

    #[test]
    fn the_layer_has_oci_whiteouts_and_keeps_symlinks() {
        if !nix::unistd::geteuid().is_root() {
            return;
        }
        let img = image();
        let up = tempfile::tempdir().unwrap();
        let u = up.path();
        std::fs::create_dir_all(u.join("tmp")).unwrap();
        whiteout(&u.join("tmp/old"));
        std::fs::create_dir_all(u.join("var/lib/x")).unwrap();
        std::fs::write(u.join("var/lib/x/z"), "zz").unwrap();
        let opq = std::ffi::CString::new(u.join("var/lib/x").as_os_str().as_bytes()).unwrap();
        // SAFETY: setxattr with valid strings.
        unsafe {
            libc::setxattr(
                opq.as_ptr(),
                OPAQUE_XATTR.as_ptr().cast(),
                b"y".as_ptr().cast(),
                1,
                0,
            )
        };
        symlink("/etc/shadow", u.join("escape")).unwrap();
        std::fs::write(u.join("a"), "same").unwrap();
        std::fs::hard_link(u.join("a"), u.join("b")).unwrap();
        let mut buf = Vec::new();
        write_layer(u, &[img.path().to_path_buf()], &mut buf).unwrap();
        let mut ar = tar::Archive::new(&buf[..]);
        let mut seen = Vec::new();
        for e in ar.entries().unwrap() {
            let e = e.unwrap();
            let kind = e.header().entry_type();
            let link = e.link_name().unwrap().map(|l| l.display().to_string());
            seen.push(format!(
                "{} {:?} {:?}",
                e.path().unwrap().display(),
                kind,
                link
            ));
        }
        assert_eq!(
            seen,
            [
                "a Regular None",
                "b Link Some(\"a\")",
                "escape Symlink Some(\"/etc/shadow\")",
                "tmp/ Directory None",
                "tmp/.wh.old Regular None",
                "var/ Directory None",
                "var/lib/ Directory None",
                "var/lib/x/ Directory None",
                "var/lib/x/.wh..wh..opq Regular None",
                "var/lib/x/z Regular None",
            ]
        );
    }
}
