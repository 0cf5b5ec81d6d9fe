//! Unpacks one layer tar stream (plain or gzip) into a directory, safely, and in
//! the form overlayfs reads as a lower dir: OCI whiteouts (`.wh.NAME`) become 0/0
//! character devices and opaque markers (`.wh..wh..opq`) become the
//! `trusted.overlay.opaque` xattr.
//!
//! Safety rules (an entry that breaks one fails the whole layer, and the caller
//! throws the half-written directory away):
//! - no absolute paths and no `..` components, in names and hardlink targets;
//! - nothing is ever written through a symlink: every parent of an entry must be
//!   a real directory inside the target;
//! - relative symlink targets may not climb above the layer root (absolute ones
//!   are resolved inside the container's root at run time, so they are fine);
//! - device nodes are skipped (a container's /dev is Berth's own), and only
//!   `user.*` and `security.capability` xattrs are applied.

use super::digest::{Digest, HashingReader};
use super::error::{ImageError, IoContext, Result};
use super::oci::Compression;
use crate::sys;
use std::fs::{self, OpenOptions};
use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

const WHITEOUT_PREFIX: &str = ".wh.";
const OPAQUE_MARKER: &str = ".wh..wh..opq";
const OVERLAY_OPAQUE_XATTR: &str = "trusted.overlay.opaque";

/// The most one layer may hold: bytes of uncompressed tar stream, and tar
/// entries. A tar bomb or a decompression bomb stops there, and the
/// half-written layer is thrown away.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    pub bytes: u64,
    pub entries: u64,
}

/// 64 GiB and two million entries, unless the daemon says otherwise
/// (`--max-layer-size`, `--max-layer-entries`).
pub const DEFAULT_LIMITS: Limits = Limits {
    bytes: 64 << 30,
    entries: 2_000_000,
};

static LIMITS: std::sync::OnceLock<Limits> = std::sync::OnceLock::new();

/// Sets the limits for this process, once (the daemon, at start).
pub fn set_limits(l: Limits) {
    let _ = LIMITS.set(l);
}

pub fn limits() -> Limits {
    *LIMITS.get().unwrap_or(&DEFAULT_LIMITS)
}

/// A reader that fails with `FileTooLarge` past `left` bytes.
struct Capped<R> {
    inner: R,
    left: u64,
    limit: u64,
    what: String,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n as u64 > self.left {
            return Err(io::Error::new(
                io::ErrorKind::FileTooLarge,
                format!(
                    "{} unpacks to more than {} bytes, the most a layer may hold (--max-layer-size)",
                    self.what, self.limit
                ),
            ));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// What unpacking a layer measured.
#[derive(Debug, Clone)]
pub struct Unpacked {
    /// sha256 of the uncompressed tar stream.
    pub diff_id: Digest,
    /// Bytes of file content, as Docker counts a layer's size.
    pub size: u64,
    /// Number of tar entries, whiteouts included.
    pub entries: u64,
}

/// Wraps `r` in the decompressor its first bytes call for.
pub fn decompressed<'a>(r: impl Read + 'a, what: &str) -> Result<Box<dyn Read + 'a>> {
    let mut br = BufReader::with_capacity(64 * 1024, r);
    let head = br.fill_buf().map_err(|e| {
        ImageError::InvalidArchive(format!(
            "{what} is not a valid tar archive (corrupt or truncated): {e}"
        ))
    })?;
    match Compression::sniff(head) {
        Compression::None => Ok(Box::new(br)),
        Compression::Gzip => Ok(Box::new(flate2::read::MultiGzDecoder::new(br))),
        Compression::Zstd => Ok(Box::new(super::zstd::ZstdFrames::new(br))),
        other => Err(ImageError::InvalidArchive(format!(
            "{what} is {}-compressed, which is not supported: use a plain or gzip tar",
            other.name()
        ))),
    }
}

/// Unpacks the (possibly gzip-compressed) tar stream `r` into the existing empty
/// directory `dst`. `what` names the input in errors.
pub fn unpack_layer(r: impl Read, dst: &Path, what: &str) -> Result<Unpacked> {
    unpack_layer_within(r, dst, what, limits())
}

/// [`unpack_layer`] under the given limits.
pub fn unpack_layer_within(
    r: impl Read,
    dst: &Path,
    what: &str,
    limits: Limits,
) -> Result<Unpacked> {
    let plain = Capped {
        inner: decompressed(r, what)?,
        left: limits.bytes,
        limit: limits.bytes,
        what: what.to_string(),
    };
    let mut hashed = HashingReader::new(plain);
    let mut u = Unpacker {
        dst,
        what,
        size: 0,
        entries: 0,
        max_entries: limits.entries,
        dir_times: Vec::new(),
    };
    {
        let mut archive = tar::Archive::new(&mut hashed);
        let entries = archive.entries().map_err(|e| u.corrupt(e))?;
        for entry in entries {
            let entry = entry.map_err(|e| u.corrupt(e))?;
            u.entry(entry)?;
        }
    }
    hashed.drain().map_err(|e| u.corrupt(e))?;
    // Directory times last: creating children changes them.
    for (p, t) in u.dir_times.iter().rev() {
        sys::set_mtime_nofollow(p, *t).ctx(|| format!("set time of {}", p.display()))?;
    }
    let (diff_id, _) = hashed.finish();
    Ok(Unpacked {
        diff_id,
        size: u.size,
        entries: u.entries,
    })
}

struct Unpacker<'a> {
    dst: &'a Path,
    what: &'a str,
    size: u64,
    entries: u64,
    max_entries: u64,
    dir_times: Vec<(PathBuf, i64)>,
}

impl Unpacker<'_> {
    fn corrupt(&self, e: io::Error) -> ImageError {
        if e.kind() == io::ErrorKind::FileTooLarge {
            return ImageError::InvalidArchive(e.to_string());
        }
        ImageError::InvalidArchive(format!(
            "{} is not a valid tar archive (corrupt or truncated): {e}",
            self.what
        ))
    }

    fn entry<R: Read>(&mut self, mut entry: tar::Entry<'_, R>) -> Result<()> {
        self.entries += 1;
        if self.entries > self.max_entries {
            return Err(ImageError::InvalidArchive(format!(
                "{} has more than {} entries, the most a layer may hold (--max-layer-entries)",
                self.what, self.max_entries
            )));
        }
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let kind = entry.header().entry_type();
        if matches!(
            kind,
            tar::EntryType::XGlobalHeader | tar::EntryType::XHeader
        ) {
            return Ok(());
        }
        let rel = clean_path(&raw)?;
        let Some(name) = rel.file_name().map(|n| n.to_string_lossy().into_owned()) else {
            return Ok(()); // the archive root itself ("./")
        };
        let parent_rel = rel.parent().unwrap_or(Path::new(""));
        let parent = self.walk_dirs(parent_rel, &raw, true)?;

        if name == OPAQUE_MARKER {
            return sys::lsetxattr(&parent, OVERLAY_OPAQUE_XATTR, b"y")
                .ctx(|| format!("mark {} opaque", parent.display()));
        }
        if let Some(hidden) = name.strip_prefix(WHITEOUT_PREFIX) {
            if hidden.starts_with(WHITEOUT_PREFIX) || hidden.is_empty() {
                return Ok(()); // aufs bookkeeping (.wh..wh.plnk and friends)
            }
            // `.wh..` and `.wh...` would name the directory itself or its
            // parent: removing that could reach outside the layer.
            if hidden == "." || hidden == ".." {
                return Err(ImageError::unsafe_entry(
                    &raw,
                    "a whiteout must name a file in its directory, not the directory or its parent",
                ));
            }
            let target = parent.join(hidden);
            self.clear(&target, false)?;
            return sys::mknod_whiteout(&target)
                .ctx(|| format!("create whiteout {}", target.display()));
        }

        let path = parent.join(&name);
        let header = entry.header().clone();
        let mode = header.mode().unwrap_or(0o644) & 0o7777;
        let mtime = header.mtime().unwrap_or(0) as i64;
        match kind {
            tar::EntryType::Directory => {
                let existing_dir = fs::symlink_metadata(&path)
                    .map(|m| m.is_dir())
                    .unwrap_or(false);
                if !existing_dir {
                    self.clear(&path, true)?;
                    fs::create_dir(&path).ctx(|| format!("create {}", path.display()))?;
                }
                self.dir_times.push((path.clone(), mtime));
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                self.clear(&path, false)?;
                let mut f = OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .custom_flags(libc::O_NOFOLLOW)
                    .open(&path)
                    .ctx(|| format!("create {}", path.display()))?;
                self.size += self.copy_data(&mut entry, &mut f, &path)?;
            }
            tar::EntryType::Symlink => {
                let target = link_target(&entry, &raw)?;
                check_symlink_target(&rel, &target, &raw)?;
                self.clear(&path, false)?;
                std::os::unix::fs::symlink(&target, &path)
                    .ctx(|| format!("create symlink {}", path.display()))?;
            }
            tar::EntryType::Link => {
                let target = link_target(&entry, &raw)?;
                let src_rel = clean_path(&target.to_string_lossy()).map_err(|_| {
                    ImageError::unsafe_entry(
                        &raw,
                        format!("hardlink target {target:?} is outside the layer"),
                    )
                })?;
                let src_parent =
                    self.walk_dirs(src_rel.parent().unwrap_or(Path::new("")), &raw, false)?;
                let src = src_parent.join(src_rel.file_name().unwrap_or_default());
                match fs::symlink_metadata(&src) {
                    Ok(m) if !m.is_dir() => {}
                    _ => {
                        return Err(ImageError::unsafe_entry(
                            &raw,
                            format!(
                                "hardlink target {target:?} is not a file earlier in this layer"
                            ),
                        ))
                    }
                }
                self.clear(&path, false)?;
                fs::hard_link(&src, &path).ctx(|| format!("create hardlink {}", path.display()))?;
                return Ok(()); // a hardlink shares the target's metadata
            }
            tar::EntryType::Fifo => {
                self.clear(&path, false)?;
                sys::mkfifo(&path, 0o600).ctx(|| format!("create fifo {}", path.display()))?;
            }
            tar::EntryType::Char | tar::EntryType::Block => {
                tracing::debug!(entry = %raw, "skipping device node in layer");
                return Ok(());
            }
            other => {
                return Err(ImageError::InvalidArchive(format!(
                    "{}: entry {raw:?} has unsupported tar type {other:?}",
                    self.what
                )))
            }
        }
        self.apply_metadata(&mut entry, &header, &path, mode, mtime, kind)
    }

    fn copy_data<R: Read>(
        &self,
        entry: &mut tar::Entry<'_, R>,
        f: &mut fs::File,
        path: &Path,
    ) -> Result<u64> {
        let mut buf = vec![0u8; 64 * 1024];
        let mut total = 0u64;
        loop {
            let n = entry.read(&mut buf).map_err(|e| self.corrupt(e))?;
            if n == 0 {
                return Ok(total);
            }
            f.write_all(&buf[..n])
                .ctx(|| format!("write {}", path.display()))?;
            total += n as u64;
        }
    }

    fn apply_metadata<R: Read>(
        &self,
        entry: &mut tar::Entry<'_, R>,
        header: &tar::Header,
        path: &Path,
        mode: u32,
        mtime: i64,
        kind: tar::EntryType,
    ) -> Result<()> {
        let uid = header.uid().unwrap_or(0) as u32;
        let gid = header.gid().unwrap_or(0) as u32;
        std::os::unix::fs::lchown(path, Some(uid), Some(gid))
            .ctx(|| format!("chown {}", path.display()))?;
        if kind != tar::EntryType::Symlink {
            fs::set_permissions(path, fs::Permissions::from_mode(mode))
                .ctx(|| format!("chmod {}", path.display()))?;
        }
        if let Ok(Some(exts)) = entry.pax_extensions() {
            for ext in exts.flatten() {
                let Ok(key) = ext.key() else { continue };
                let Some(attr) = key.strip_prefix("SCHILY.xattr.") else {
                    continue;
                };
                if attr.starts_with("user.") || attr == "security.capability" {
                    sys::lsetxattr(path, attr, ext.value_bytes())
                        .ctx(|| format!("set xattr {attr} on {}", path.display()))?;
                }
            }
        }
        if kind != tar::EntryType::Directory {
            sys::set_mtime_nofollow(path, mtime)
                .ctx(|| format!("set time of {}", path.display()))?;
        }
        Ok(())
    }

    /// Walks `rel` below `dst`, refusing symlinks and non-directories. Missing
    /// directories are created for new entries; for hardlink sources (`create`
    /// false) they must exist already.
    fn walk_dirs(&self, rel: &Path, entry: &str, create: bool) -> Result<PathBuf> {
        let mut cur = self.dst.to_path_buf();
        for c in rel.components() {
            cur.push(c);
            let problem = match fs::symlink_metadata(&cur) {
                Ok(m) if m.is_dir() => continue,
                Ok(m) if m.file_type().is_symlink() => "it would be written through the symlink",
                Ok(_) => "a parent is not a directory:",
                Err(_) if create => {
                    fs::create_dir(&cur).ctx(|| format!("create {}", cur.display()))?;
                    continue;
                }
                Err(_) => "its hardlink target directory does not exist in this layer:",
            };
            return Err(ImageError::unsafe_entry(
                entry,
                format!("{problem} {:?}", self.rel_display(&cur)),
            ));
        }
        Ok(cur)
    }

    /// Removes whatever is at `path` so an entry can replace it. An existing
    /// directory stays when the new entry is a directory too (Docker's rule).
    fn clear(&self, path: &Path, keep_dir: bool) -> Result<()> {
        match fs::symlink_metadata(path) {
            Err(_) => Ok(()),
            Ok(m) if m.is_dir() && keep_dir => Ok(()),
            Ok(m) if m.is_dir() => {
                fs::remove_dir_all(path).ctx(|| format!("replace {}", path.display()))
            }
            Ok(_) => fs::remove_file(path).ctx(|| format!("replace {}", path.display())),
        }
    }

    fn rel_display(&self, p: &Path) -> String {
        p.strip_prefix(self.dst).unwrap_or(p).display().to_string()
    }
}

/// Turns an archive path into a clean relative path: `./a/b/` → `a/b`. Absolute
/// paths and `..` are refused, naming the entry.
pub fn clean_path(raw: &str) -> Result<PathBuf> {
    if raw.starts_with('/') {
        return Err(ImageError::unsafe_entry(
            raw,
            "absolute paths are not allowed in a layer",
        ));
    }
    let mut out = PathBuf::new();
    for c in Path::new(raw).components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::CurDir => {}
            Component::ParentDir => {
                return Err(ImageError::unsafe_entry(
                    raw,
                    "'..' is not allowed in a layer path",
                ));
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err(ImageError::unsafe_entry(
                    raw,
                    "absolute paths are not allowed in a layer",
                ));
            }
        }
    }
    Ok(out)
}

fn link_target<R: Read>(entry: &tar::Entry<'_, R>, raw: &str) -> Result<PathBuf> {
    match entry.link_name() {
        Ok(Some(t)) if !t.as_os_str().is_empty() => Ok(t.into_owned()),
        _ => Err(ImageError::InvalidArchive(format!(
            "link entry {raw:?} has no target"
        ))),
    }
}

/// A relative symlink target may not climb above the layer root from where the link sits.
fn check_symlink_target(link_rel: &Path, target: &Path, raw: &str) -> Result<()> {
    if target.is_absolute() {
        return Ok(());
    }
    let mut depth = link_rel.components().count() as i64 - 1; // directories above the link
    for c in target.components() {
        match c {
            Component::ParentDir => {
                depth -= 1;
                if depth < 0 {
                    return Err(ImageError::unsafe_entry(
                        raw,
                        format!("symlink target {target:?} points outside the layer"),
                    ));
                }
            }
            Component::Normal(_) => depth += 1,
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::FileTypeExt;

    fn tar_of(build: impl FnOnce(&mut tar::Builder<Vec<u8>>)) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        build(&mut b);
        b.into_inner().unwrap()
    }

    fn file(b: &mut tar::Builder<Vec<u8>>, path: &str, data: &[u8]) {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_entry_type(tar::EntryType::Regular);
        // set_path would refuse '..': write the raw name to test our own checks.
        h.as_old_mut().name[..path.len()].copy_from_slice(path.as_bytes());
        h.set_cksum();
        b.append(&h, data).unwrap();
    }

    fn link(b: &mut tar::Builder<Vec<u8>>, kind: tar::EntryType, path: &str, target: &str) {
        let mut h = tar::Header::new_gnu();
        h.set_size(0);
        h.set_mode(0o777);
        h.set_entry_type(kind);
        h.as_old_mut().name[..path.len()].copy_from_slice(path.as_bytes());
        h.as_old_mut().linkname[..target.len()].copy_from_slice(target.as_bytes());
        h.set_cksum();
        b.append(&h, &[][..]).unwrap();
    }

    fn unpack(bytes: &[u8]) -> (tempfile::TempDir, Result<Unpacked>) {
        let d = tempfile::tempdir().unwrap();
        let res = unpack_layer(bytes, d.path(), "test layer");
        (d, res)
    }

    #[test]
    fn unpacks_files_and_hashes_the_stream() {
        let t = tar_of(|b| file(b, "./etc/hostname", b"berth\n"));
        let (d, res) = unpack(&t);
        let u = res.unwrap();
        assert_eq!(fs::read(d.path().join("etc/hostname")).unwrap(), b"berth\n");
        assert_eq!(u.diff_id, Digest::of(&t));
        assert_eq!(u.size, 6);
    }

    #[test]
    fn gzip_layers_hash_their_uncompressed_stream() {
        let t = tar_of(|b| file(b, "a", b"x"));
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&t).unwrap();
        let (_d, res) = unpack(&gz.finish().unwrap());
        assert_eq!(res.unwrap().diff_id, Digest::of(&t));
    }

    #[test]
    fn converts_whiteouts_to_overlay_form() {
        let t = tar_of(|b| {
            file(b, "dir/.wh..wh..opq", b"");
            file(b, "dir/.wh.gone", b"");
        });
        let (d, res) = unpack(&t);
        res.unwrap();
        let wh = fs::symlink_metadata(d.path().join("dir/gone")).unwrap();
        assert!(wh.file_type().is_char_device());
        let mut buf = [0u8; 4];
        let c =
            std::ffi::CString::new(d.path().join("dir").as_os_str().as_encoded_bytes()).unwrap();
        let name = std::ffi::CString::new(OVERLAY_OPAQUE_XATTR).unwrap();
        // SAFETY: valid NUL-terminated strings and a buffer with its true length.
        let n = unsafe {
            libc::lgetxattr(
                c.as_ptr(),
                name.as_ptr(),
                buf.as_mut_ptr().cast(),
                buf.len(),
            )
        };
        assert_eq!(n, 1, "opaque xattr set");
        assert_eq!(buf[0], b'y');
    }

    #[test]
    fn refuses_parent_dir_and_absolute_entries() {
        for bad in ["../escape", "a/../../escape", "/etc/passwd"] {
            let t = tar_of(|b| file(b, bad, b"x"));
            let (_d, res) = unpack(&t);
            let err = res.unwrap_err().to_string();
            assert!(err.contains(bad), "{err} names the entry");
        }
    }

    #[test]
    fn never_writes_through_a_symlink() {
        let outside = tempfile::tempdir().unwrap();
        let t = tar_of(|b| {
            link(
                b,
                tar::EntryType::Symlink,
                "evil",
                outside.path().to_str().unwrap(),
            );
            file(b, "evil/canary", b"escaped");
        });
        let (_d, res) = unpack(&t);
        assert!(res.unwrap_err().to_string().contains("symlink"));
        assert!(!outside.path().join("canary").exists());
    }

    #[test]
    fn refuses_relative_symlinks_and_hardlinks_out_of_the_layer() {
        let t = tar_of(|b| link(b, tar::EntryType::Symlink, "a/up", "../../../etc"));
        assert!(unpack(&t).1.is_err());
        let t = tar_of(|b| link(b, tar::EntryType::Link, "pw", "../etc/passwd"));
        assert!(unpack(&t).1.is_err());
        let t = tar_of(|b| link(b, tar::EntryType::Link, "pw", "/etc/passwd"));
        assert!(unpack(&t).1.is_err());
    }

    #[test]
    fn keeps_safe_links() {
        let t = tar_of(|b| {
            file(b, "bin/busybox", b"elf");
            link(b, tar::EntryType::Symlink, "bin/sh", "/bin/busybox");
            link(
                b,
                tar::EntryType::Symlink,
                "usr/bin/env",
                "../../bin/busybox",
            );
            link(b, tar::EntryType::Link, "bin/ls", "bin/busybox");
        });
        let (d, res) = unpack(&t);
        res.unwrap();
        assert_eq!(
            fs::read_link(d.path().join("bin/sh")).unwrap(),
            Path::new("/bin/busybox")
        );
        assert_eq!(fs::read(d.path().join("bin/ls")).unwrap(), b"elf");
    }

    #[test]
    fn whiteouts_of_the_directory_or_its_parent_are_refused() {
        for name in [".wh..", ".wh...", "sub/.wh..."] {
            let outer = tempfile::tempdir().unwrap();
            std::fs::write(outer.path().join("canary"), b"alive").unwrap();
            let dst = outer.path().join("layer");
            std::fs::create_dir(&dst).unwrap();
            let mut h = tar::Header::new_gnu();
            h.set_size(0);
            h.set_entry_type(tar::EntryType::Regular);
            h.as_gnu_mut().unwrap().name[..name.len()].copy_from_slice(name.as_bytes());
            h.set_cksum();
            let mut b = tar::Builder::new(Vec::new());
            b.append(&h, &b""[..]).unwrap();
            let bytes = b.into_inner().unwrap();
            let e = unpack_layer(&bytes[..], &dst, "test layer").unwrap_err();
            assert!(e.to_string().contains("whiteout"), "{name}: {e}");
            assert_eq!(
                std::fs::read(outer.path().join("canary")).unwrap(),
                b"alive"
            );
            assert!(dst.is_dir(), "{name}: the layer directory itself stays");
        }
    }

    #[test]
    fn limits_stop_tar_and_decompression_bombs() {
        let limits = Limits {
            bytes: 1 << 20,
            entries: 100,
        };
        let unpack = |bytes: &[u8]| {
            let d = tempfile::tempdir().unwrap();
            let r = unpack_layer_within(bytes, d.path(), "test layer", limits);
            (d, r)
        };
        // Many entries.
        let many = tar_of(|b| {
            for i in 0..150 {
                file(b, &format!("f{i}"), b"");
            }
        });
        let (_d, r) = unpack(&many);
        assert!(r.unwrap_err().to_string().contains("more than 100 entries"));
        // Two megabytes of zeros, gzipped to a few kilobytes.
        let big = tar_of(|b| file(b, "zeros", &vec![0u8; 2 << 20]));
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&big).unwrap();
        let gz = gz.finish().unwrap();
        assert!(gz.len() < 64 << 10, "a bomb: {} bytes", gz.len());
        let (_d, r) = unpack(&gz);
        let e = r.unwrap_err().to_string();
        assert!(e.contains("more than 1048576 bytes"), "{e}");
    }

    #[test]
    fn truncated_and_garbage_input_is_refused() {
        let t = tar_of(|b| file(b, "big", &[7u8; 4096]));
        let (_d, res) = unpack(&t[..1500]);
        assert!(res
            .unwrap_err()
            .to_string()
            .contains("not a valid tar archive"));
        let (_d, res) = unpack(&[0x42u8; 2048]);
        assert!(res.is_err());
    }
}
