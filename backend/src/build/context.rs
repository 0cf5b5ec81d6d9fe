//! The build context on the daemon's side: the uploaded tar unpacked into
//! a scratch directory (no entry may land outside it, through `..` or a
//! symlink), `.dockerignore` applied, and the sources of COPY and ADD found
//! in it (wildcards included) and written as the layer of the step — a
//! symlink in the context is copied as a symlink, never followed.

use super::ignore::Ignore;
use sha2::{Digest as _, Sha256};
use std::io::{self, Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};

/// Unpacks the context tar `r` into `dir` and removes what `.dockerignore`
/// leaves out (the Dockerfile and `.dockerignore` themselves stay).
pub fn unpack(r: impl Read, dir: &Path, dockerfile: &str) -> Result<(), String> {
    let mut ar = tar::Archive::new(r);
    ar.set_preserve_permissions(true);
    ar.set_overwrite(true);
    let entries = ar
        .entries()
        .map_err(|e| format!("read the build context: {e}"))?;
    // A context is bounded as an image layer is (`--max-layer-size`, `--max-layer-entries`).
    let limits = crate::image::unpack::limits();
    let (mut count, mut bytes) = (0u64, 0u64);
    for e in entries {
        let mut e = e.map_err(|e| format!("read the build context: {e}"))?;
        count += 1;
        bytes = bytes.saturating_add(e.header().size().unwrap_or(0));
        if count > limits.entries {
            return Err(format!(
                "the build context has more than {} entries, the most allowed (--max-layer-entries)",
                limits.entries
            ));
        }
        if bytes > limits.bytes {
            return Err(format!(
                "the build context holds more than {} bytes, the most allowed (--max-layer-size)",
                limits.bytes
            ));
        }
        // Device nodes have no place in a context (a build never needs one).
        if matches!(
            e.header().entry_type(),
            tar::EntryType::Char | tar::EntryType::Block
        ) {
            continue;
        }
        // `unpack_in` skips `..` (refused here, by name) and writes through
        // no symlink.
        let unpacked = e
            .unpack_in(dir)
            .map_err(|err| format!("unpack the build context: {err}"))?;
        if !unpacked {
            return Err(format!(
                "the build context's entry {:?} leads out of the context",
                String::from_utf8_lossy(&e.path_bytes())
            ));
        }
    }
    let ignore =
        Ignore::parse(&std::fs::read_to_string(dir.join(".dockerignore")).unwrap_or_default());
    let keep = [dockerfile.trim_start_matches("./"), ".dockerignore"];
    remove_ignored(dir, "", &ignore, &keep)
        .map(|_| ())
        .map_err(|e| format!("apply .dockerignore: {e}"))
}

/// Removes the ignored files below `dir`; a directory goes when it is
/// ignored and nothing below it is kept. Returns whether `dir` is empty.
fn remove_ignored(dir: &Path, rel: &str, ignore: &Ignore, keep: &[&str]) -> io::Result<bool> {
    let mut empty = true;
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let name = e.file_name().to_string_lossy().into_owned();
        let path = if rel.is_empty() {
            name.clone()
        } else {
            format!("{rel}/{name}")
        };
        let ft = e.file_type()?;
        if ft.is_dir() {
            let now_empty = remove_ignored(&e.path(), &path, ignore, keep)?;
            if now_empty && ignore.excludes(&path) {
                std::fs::remove_dir(e.path())?;
                continue;
            }
        } else if ignore.excludes(&path) && !keep.contains(&path.as_str()) {
            std::fs::remove_file(e.path())?;
            continue;
        }
        empty = false;
    }
    Ok(empty)
}

/// A path relative to a root with no `..` that climbs out of it.
pub fn inside(root: &Path, rel: &str) -> Result<PathBuf, String> {
    let mut out = root.to_path_buf();
    let mut depth = 0usize;
    for c in Path::new(rel).components() {
        match c {
            Component::Normal(n) => {
                out.push(n);
                depth += 1;
            }
            Component::ParentDir => {
                if depth == 0 {
                    return Err(format!("{rel}: outside of the build context"));
                }
                out.pop();
                depth -= 1;
            }
            _ => {}
        }
    }
    Ok(out)
}

/// The context paths (relative) that source `src` names: a path, or a
/// pattern with `*`, `?` or `[…]` in its segments. Symlinks met on the way
/// are not followed; a source must exist.
pub fn sources(root: &Path, src: &str) -> Result<Vec<String>, String> {
    let clean = inside(Path::new(""), src.trim_start_matches('/'))?;
    let segments: Vec<String> = clean
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if segments.is_empty() {
        return Ok(vec![String::new()]); // the whole context: `.`
    }
    let mut found = vec![String::new()];
    for seg in &segments {
        let wild = seg.contains(['*', '?', '[']);
        let mut next = Vec::new();
        for base in &found {
            let dir = root.join(base);
            let meta = std::fs::symlink_metadata(&dir).map_err(|e| format!("{src}: {e}"))?;
            if !meta.is_dir() {
                continue;
            }
            let join = |n: &str| {
                if base.is_empty() {
                    n.to_string()
                } else {
                    format!("{base}/{n}")
                }
            };
            if wild {
                let mut names: Vec<String> = std::fs::read_dir(&dir)
                    .map_err(|e| format!("{src}: {e}"))?
                    .flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| super::ignore::segment_matches(seg, n))
                    .collect();
                names.sort();
                next.extend(names.iter().map(|n| join(n)));
            } else if std::fs::symlink_metadata(dir.join(seg)).is_ok() {
                next.push(join(seg));
            }
        }
        found = next;
    }
    if found.is_empty() {
        return Err(format!(
            "COPY failed: file not found in build context or excluded by .dockerignore: stat {src}: file does not exist"
        ));
    }
    Ok(found)
}

/// Who copied files belong to (`--chown`), else root.
#[derive(Debug, Clone, Copy, Default)]
pub struct Owner {
    pub uid: u32,
    pub gid: u32,
}

/// Writes the layer of a COPY/ADD: each of `items` (a host path and its
/// path in the image) with its directories, owned by `owner`.
pub struct LayerWriter<W: Write> {
    tar: tar::Builder<W>,
    owner: Option<Owner>,
    dirs: std::collections::BTreeSet<String>,
    /// Over paths, modes and contents, for the build cache.
    hash: Sha256,
}

impl<W: Write> LayerWriter<W> {
    pub fn new(out: W, owner: Option<Owner>) -> Self {
        let mut tar = tar::Builder::new(out);
        tar.follow_symlinks(false);
        Self {
            tar,
            owner,
            dirs: Default::default(),
            hash: Sha256::new(),
        }
    }

    fn header(&self, meta: &std::fs::Metadata) -> tar::Header {
        let mut h = tar::Header::new_gnu();
        h.set_mode(meta.mode() & 0o7777);
        let (uid, gid) = self.owner.map_or((0, 0), |o| (o.uid, o.gid));
        h.set_uid(u64::from(uid));
        h.set_gid(u64::from(gid));
        h.set_mtime(meta.mtime().max(0) as u64);
        h
    }

    /// The directory `dest` (absolute in the image) and its parents.
    pub fn dir(&mut self, dest: &str, mode: u32) -> io::Result<()> {
        let rel = dest.trim_matches('/');
        if rel.is_empty() {
            return Ok(());
        }
        let mut path = String::new();
        for seg in rel.split('/') {
            if !path.is_empty() {
                path.push('/');
            }
            path.push_str(seg);
            if self.dirs.insert(path.clone()) {
                let mut h = tar::Header::new_gnu();
                h.set_entry_type(tar::EntryType::Directory);
                h.set_mode(mode);
                let (uid, gid) = self.owner.map_or((0, 0), |o| (o.uid, o.gid));
                h.set_uid(u64::from(uid));
                h.set_gid(u64::from(gid));
                h.set_size(0);
                self.tar
                    .append_data(&mut h, format!("{path}/"), io::empty())?;
            }
        }
        Ok(())
    }

    /// `src` (a file, symlink or directory on the host) as `dest` in the
    /// image; a directory's contents go below `dest`.
    pub fn copy(&mut self, src: &Path, dest: &str) -> io::Result<()> {
        let meta = std::fs::symlink_metadata(src)?;
        let rel = dest.trim_matches('/').to_string();
        self.hash.update(rel.as_bytes());
        self.hash.update(meta.mode().to_le_bytes());
        if meta.is_dir() {
            self.dir(dest, meta.mode() & 0o7777)?;
            let mut names: Vec<_> = std::fs::read_dir(src)?
                .flatten()
                .map(|e| e.file_name())
                .collect();
            names.sort();
            for n in names {
                let d = format!("{}/{}", dest.trim_end_matches('/'), n.to_string_lossy());
                self.copy(&src.join(&n), &d)?;
            }
            return Ok(());
        }
        if let Some(parent) = Path::new(&rel).parent().and_then(|p| p.to_str()) {
            self.dir(parent, 0o755)?;
        }
        let mut h = self.header(&meta);
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(src)?;
            self.hash.update(target.as_os_str().as_encoded_bytes());
            h.set_entry_type(tar::EntryType::Symlink);
            h.set_size(0);
            return self.tar.append_link(&mut h, &rel, &target);
        }
        if !meta.is_file() {
            return Ok(()); // devices, fifos and sockets are not copied
        }
        let mut data = Vec::new();
        std::fs::File::open(src)?.read_to_end(&mut data)?;
        self.hash.update(&data);
        h.set_entry_type(tar::EntryType::Regular);
        h.set_size(data.len() as u64);
        self.tar.append_data(&mut h, &rel, &data[..])
    }

    /// The entries of the tar archive `archive` (plain or gzip) below `dest`.
    pub fn extract(&mut self, archive: &Path, dest: &str) -> io::Result<()> {
        let f = std::fs::File::open(archive)?;
        let r = crate::image::unpack::decompressed(f, &archive.display().to_string())
            .map_err(|e| io::Error::other(e.to_string()))?;
        let mut ar = tar::Archive::new(r);
        self.dir(dest, 0o755)?;
        for e in ar.entries()? {
            let mut e = e?;
            let path = e.path()?.into_owned();
            let rel = inside(Path::new(""), &path.to_string_lossy()).map_err(io::Error::other)?;
            let target = format!("{}/{}", dest.trim_end_matches('/'), rel.display());
            let mut h = e.header().clone();
            if let Some(o) = self.owner {
                h.set_uid(u64::from(o.uid));
                h.set_gid(u64::from(o.gid));
            }
            let name = target.trim_start_matches('/').to_string();
            self.hash.update(name.as_bytes());
            let mut data = Vec::new();
            e.read_to_end(&mut data)?;
            self.hash.update(&data);
            match h.entry_type() {
                tar::EntryType::Directory => self.dir(&target, h.mode().unwrap_or(0o755))?,
                tar::EntryType::Symlink | tar::EntryType::Link => {
                    let link = e.link_name()?.unwrap_or_default().into_owned();
                    self.tar.append_link(&mut h, &name, link)?;
                }
                _ => {
                    if let Some(parent) = Path::new(&name).parent().and_then(|p| p.to_str()) {
                        self.dir(parent, 0o755)?;
                    }
                    self.tar.append_data(&mut h, &name, &data[..])?;
                }
            }
        }
        Ok(())
    }

    /// Ends the archive; returns the content hash.
    pub fn finish(mut self) -> io::Result<String> {
        self.tar.finish()?;
        Ok(format!("{:x}", self.hash.finalize()))
    }
}

/// Whether `path` is a tar archive ADD unpacks (plain or gzip).
pub fn is_archive(path: &Path) -> bool {
    let mut head = [0u8; 512];
    let Ok(mut f) = std::fs::File::open(path) else {
        return false;
    };
    let n = f.read(&mut head).unwrap_or(0);
    if n >= 2 && head[0] == 0x1f && head[1] == 0x8b {
        return true;
    }
    n >= 262 && &head[257..262] == b"ustar"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_stay_inside() {
        assert!(inside(Path::new("/c"), "../etc/passwd").is_err());
        assert!(inside(Path::new("/c"), "a/../../x").is_err());
        assert_eq!(
            inside(Path::new("/c"), "a/../b").unwrap(),
            Path::new("/c/b")
        );
    }

    #[test]
    fn sources_with_wildcards() {
        let t = tempfile::tempdir().unwrap();
        for f in ["a.txt", "b.txt", "c.md", "sub/d.txt"] {
            let p = t.path().join(f);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, f).unwrap();
        }
        assert_eq!(sources(t.path(), "*.txt").unwrap(), ["a.txt", "b.txt"]);
        assert_eq!(sources(t.path(), "sub/*").unwrap(), ["sub/d.txt"]);
        assert_eq!(sources(t.path(), "c.md").unwrap(), ["c.md"]);
        assert!(sources(t.path(), "nope").unwrap_err().contains("nope"));
        assert!(sources(t.path(), "../x").is_err());
    }

    #[test]
    fn a_context_cannot_write_outside_its_directory() {
        let t = tempfile::tempdir().unwrap();
        let ctx = t.path().join("ctx");
        std::fs::create_dir(&ctx).unwrap();
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        b.append_link(&mut h, "link", t.path()).unwrap();
        let mut h = tar::Header::new_gnu();
        h.set_size(3);
        h.set_mode(0o644);
        b.append_data(&mut h, "link/escaped", &b"bad"[..]).unwrap();
        let tar = b.into_inner().unwrap();
        let r = unpack(&tar[..], &ctx, "Dockerfile");
        assert!(r.is_err(), "{r:?}");
        assert!(!t.path().join("escaped").exists());
    }
}
