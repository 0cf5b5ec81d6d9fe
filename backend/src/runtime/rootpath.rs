//! Paths inside a container's root filesystem, resolved as the container would
//! see them: symlinks are followed relative to the root, and `..` stops at it,
//! so a hostile image cannot aim a mount or a file write at the host.

use std::io;
use std::path::{Component, Path, PathBuf};

/// Resolves `path` (absolute inside the container) under `root`, following
/// symlinks within the root. Missing trailing components are kept as named.
pub fn resolve(root: &Path, path: &Path) -> io::Result<PathBuf> {
    let mut out = PathBuf::new(); // relative to root
    let mut pending: Vec<std::ffi::OsString> = path
        .components()
        .rev()
        .filter_map(|c| match c {
            Component::Normal(n) => Some(n.to_os_string()),
            Component::ParentDir => Some("..".into()),
            _ => None,
        })
        .collect();
    let mut links = 0;
    while let Some(c) = pending.pop() {
        if c == ".." {
            out.pop();
            continue;
        }
        let candidate = out.join(&c);
        match std::fs::symlink_metadata(root.join(&candidate)) {
            Ok(m) if m.file_type().is_symlink() => {
                links += 1;
                if links > 40 {
                    return Err(io::Error::other(format!(
                        "too many levels of symbolic links in {}",
                        path.display()
                    )));
                }
                let target = std::fs::read_link(root.join(&candidate))?;
                if target.is_absolute() {
                    out = PathBuf::new();
                }
                for t in target.components().rev() {
                    match t {
                        Component::Normal(n) => pending.push(n.to_os_string()),
                        Component::ParentDir => pending.push("..".into()),
                        _ => {}
                    }
                }
            }
            _ => out = candidate,
        }
    }
    Ok(root.join(out))
}

/// Resolves `path` under `root` and creates it: a directory, or an empty file
/// when `file` (a bind mount of a file), with its parents.
pub fn create(root: &Path, path: &Path, file: bool) -> io::Result<PathBuf> {
    let p = resolve(root, path)?;
    if file {
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent)?;
        }
        if std::fs::symlink_metadata(&p).is_err() {
            std::fs::File::create(&p)?;
        }
    } else {
        std::fs::create_dir_all(&p)?;
    }
    // A component created meanwhile may be a symlink: resolve once more.
    let again = resolve(root, path)?;
    if again != p {
        return Err(io::Error::other(format!(
            "{} changed while being created",
            path.display()
        )));
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symlinks_stay_inside_the_root() {
        let d = tempfile::tempdir().unwrap();
        let root = d.path();
        std::fs::create_dir_all(root.join("real/dir")).unwrap();
        std::os::unix::fs::symlink("/etc", root.join("abs")).unwrap();
        std::os::unix::fs::symlink("../../../../..", root.join("real/up")).unwrap();
        std::os::unix::fs::symlink("real/dir", root.join("rel")).unwrap();
        assert_eq!(
            resolve(root, Path::new("/abs/x")).unwrap(),
            root.join("etc/x")
        );
        assert_eq!(
            resolve(root, Path::new("/real/up/etc")).unwrap(),
            root.join("etc")
        );
        assert_eq!(
            resolve(root, Path::new("/rel/f")).unwrap(),
            root.join("real/dir/f")
        );
        assert_eq!(
            resolve(root, Path::new("/../../x")).unwrap(),
            root.join("x")
        );
        std::os::unix::fs::symlink("loop", root.join("loop")).unwrap();
        assert!(resolve(root, Path::new("/loop/x")).is_err());
        let made = create(root, Path::new("/abs/hosts"), true).unwrap();
        assert_eq!(made, root.join("etc/hosts"));
        assert!(made.is_file());
    }
}
