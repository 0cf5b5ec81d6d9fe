//! `berth cp` (and `container cp`) both ways with docker's rules for where
//! things land, and `berth export`. Archives from a container are unpacked
//! here with tar's `unpack_in` (no `..`, no write through a symlink).

use super::http::{self, Client, ClientError};
use anyhow::{bail, Context, Result};
use clap::Args;
use hyper::{Method, StatusCode};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct CpArgs {
    /// Archive mode (copy all uid/gid information)
    #[arg(short = 'a', long)]
    archive: bool,
    /// Always follow symbol link in SRC_PATH
    #[arg(short = 'L', long)]
    follow_link: bool,
    /// CONTAINER:SRC_PATH or SRC_PATH (`-`: a tar on stdin)
    src: String,
    /// DEST_PATH or CONTAINER:DEST_PATH (`-`: a tar on stdout)
    dest: String,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Write to a file, instead of STDOUT
    #[arg(short = 'o', long)]
    output: Option<String>,
    container: String,
}

/// `CONTAINER:PATH` → (container, path); a local path (also `./a:b`) → None.
fn split(arg: &str) -> Option<(&str, &str)> {
    if arg.starts_with('/') || arg.starts_with('.') {
        return None;
    }
    let (c, p) = arg.split_once(':')?;
    (!c.is_empty()).then_some((c, p))
}

fn q(s: &str) -> String {
    super::images::query(&[("path", s)])
}

/// The last name of a path, and whether it asks for a directory's contents (`dir/.`).
fn base(p: &str) -> (String, bool) {
    let contents = p.ends_with("/.") || p == ".";
    let trimmed = p.trim_end_matches("/.").trim_end_matches('/');
    let name = Path::new(trimmed)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| ".".into());
    (name, contents)
}

/// Docker's `X-Docker-Container-Path-Stat` header, decoded.
fn stat_of(h: &hyper::HeaderMap) -> Option<Value> {
    h.get("X-Docker-Container-Path-Stat")
        .and_then(|v| v.to_str().ok())
        .and_then(crate::registry::auth::base64_decode)
        .and_then(|b| serde_json::from_slice(&b).ok())
}

/// A container path's stat, or None when nothing is there.
async fn stat(client: &Client, c: &str, path: &str) -> Result<Option<Value>> {
    match client
        .send(
            Method::HEAD,
            &format!("/containers/{c}/archive?{}", q(path)),
            http::empty(),
            None,
        )
        .await
    {
        Ok(res) => Ok(stat_of(res.headers())),
        Err(ClientError::Daemon { status, .. }) if status == StatusCode::NOT_FOUND => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// A scratch file for an archive, removed when dropped.
fn temp_file() -> crate::fsutil::ScratchGuard {
    crate::fsutil::ScratchGuard::new(crate::fsutil::unique_path(
        &std::env::temp_dir(),
        "berth-cp",
    ))
}

fn is_dir(stat: &Value) -> bool {
    stat["mode"].as_u64().unwrap_or(0) & (1 << 31) != 0
}

pub async fn cp(client: &Client, a: CpArgs) -> Result<ExitCode> {
    match (split(&a.src), split(&a.dest)) {
        (Some((c, src)), None) => from_container(client, c, src, &a.dest).await,
        (None, Some((c, dest))) => {
            into_container(client, &a.src, c, dest, a.archive, a.follow_link).await
        }
        (Some(_), Some(_)) => bail!("copying between containers is not supported"),
        (None, None) => bail!("must specify at least one container source"),
    }
}

async fn from_container(client: &Client, c: &str, src: &str, dest: &str) -> Result<ExitCode> {
    let res = client
        .send(
            Method::GET,
            &format!("/containers/{c}/archive?{}", q(src)),
            http::empty(),
            None,
        )
        .await?;
    if dest == "-" {
        http::copy_body(res, &mut tokio::io::stdout()).await?;
        return Ok(ExitCode::SUCCESS);
    }
    // The archive's top entry, as the daemon named it (`.` for `dir/.`).
    let top = stat_of(res.headers())
        .and_then(|s| s["name"].as_str().map(str::to_string))
        .unwrap_or_else(|| base(src).0);
    let tmp = temp_file();
    let mut f = tokio::fs::File::create(tmp.path()).await?;
    http::copy_body(res, &mut f).await?;
    drop(f);
    let (_, contents) = base(src);
    let name = top;
    let dest_path = PathBuf::from(dest);
    // Where the archive's top entry goes, and under which name.
    let (into, rename) = match std::fs::metadata(&dest_path) {
        Ok(m) if m.is_dir() => (
            dest_path.clone(),
            if contents {
                Some(".".to_string())
            } else {
                None
            },
        ),
        Ok(_) => {
            let parent = dest_path
                .parent()
                .map_or(PathBuf::from("."), Path::to_path_buf);
            let file = dest_path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned());
            (parent, file)
        }
        Err(_) if dest.ends_with('/') => bail!("destination directory {dest} does not exist"),
        Err(_) => {
            let parent = dest_path
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map_or(PathBuf::from("."), Path::to_path_buf);
            if !parent.is_dir() {
                bail!("destination directory {} does not exist", parent.display());
            }
            (
                parent,
                dest_path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned()),
            )
        }
    };
    let archive = tmp.path().to_path_buf();
    tokio::task::spawn_blocking(move || unpack_renamed(&archive, &into, &name, rename.as_deref()))
        .await??;
    Ok(ExitCode::SUCCESS)
}

/// Unpacks into `into`, the top entry `name` renamed to `rename` (`.`: its
/// contents). Entries may not climb out, nor pass through a symlink (one an
/// earlier entry made included); what they replace is removed first.
fn unpack_renamed(archive: &Path, into: &Path, name: &str, rename: Option<&str>) -> Result<()> {
    use std::path::Component;
    let mut ar = tar::Archive::new(std::fs::File::open(archive)?);
    for entry in ar.entries()? {
        let mut e = entry?;
        e.set_preserve_permissions(true);
        let path = e.path()?.into_owned();
        // `.` is a directory's contents: every entry goes under the new name.
        let renamed = match rename {
            Some(r) if name == "." => Path::new(r).join(&path),
            Some(r) => path
                .strip_prefix(name)
                .map_or_else(|_| path.clone(), |rest| Path::new(r).join(rest)),
            None => path.clone(),
        };
        let mut rel = PathBuf::new();
        for c in renamed.components() {
            match c {
                Component::Normal(n) => rel.push(n),
                Component::CurDir => {}
                _ => bail!(
                    "{}: refused, it would land outside {}",
                    path.display(),
                    into.display()
                ),
            }
        }
        if rel.as_os_str().is_empty() {
            continue;
        }
        let mut at = into.to_path_buf();
        for c in rel.parent().into_iter().flat_map(Path::components) {
            at.push(c);
            match std::fs::symlink_metadata(&at) {
                Ok(m) if m.file_type().is_symlink() => {
                    bail!(
                        "{}: refused, it would be written through the symlink {}",
                        path.display(),
                        at.display()
                    )
                }
                Ok(_) => {}
                Err(_) => {
                    std::fs::create_dir(&at).with_context(|| format!("create {}", at.display()))?
                }
            }
        }
        let target = into.join(&rel);
        let is_dir = e.header().entry_type().is_dir();
        match std::fs::symlink_metadata(&target) {
            Ok(m) if m.is_dir() && is_dir => continue,
            Ok(m) if m.is_dir() => std::fs::remove_dir_all(&target)?,
            Ok(_) => std::fs::remove_file(&target)?,
            Err(_) => {}
        }
        e.unpack(&target)
            .with_context(|| format!("write {}", target.display()))?;
    }
    Ok(())
}

async fn into_container(
    client: &Client,
    src: &str,
    c: &str,
    dest: &str,
    archive: bool,
    follow: bool,
) -> Result<ExitCode> {
    let owner = if archive { "&copyUIDGID=1" } else { "" };
    let put = |dir: String, body| async move {
        client
            .send(
                Method::PUT,
                &format!(
                    "/containers/{c}/archive?{}&noOverwriteDirNonDir=1{owner}",
                    q(&dir)
                ),
                body,
                Some("application/x-tar"),
            )
            .await
            .map(|_| ())
    };
    if src == "-" {
        put(dest.to_string(), http::reader_body(tokio::io::stdin())).await?;
        return Ok(ExitCode::SUCCESS);
    }
    let meta = if follow {
        std::fs::metadata(src)
    } else {
        std::fs::symlink_metadata(src)
    }
    .with_context(|| format!("could not find the file {src}"))?;
    let (name, contents) = base(src);
    let mut dest = dest.to_string();
    let mut target = stat(client, c, &dest).await?;
    // As docker: a destination that is a symlink means where it points (the
    // daemon resolves that inside the container).
    if let Some(link) = target
        .as_ref()
        .and_then(|t| t["linkTarget"].as_str())
        .filter(|l| !l.is_empty())
    {
        dest = if link.starts_with('/') {
            link.to_string()
        } else {
            let parent = Path::new(dest.trim_end_matches('/'))
                .parent()
                .unwrap_or(Path::new("/"));
            format!("{}/{link}", parent.display())
        };
        target = stat(client, c, &dest).await?;
    }
    let dest = dest.as_str();
    let (dir, entry) = match &target {
        Some(s) if is_dir(s) => (dest.to_string(), if contents { None } else { Some(name) }),
        Some(_) if meta.is_dir() => bail!("cannot copy a directory to a file: {dest}"),
        _ => {
            if target.is_none() && dest.ends_with('/') {
                bail!("destination directory {dest} does not exist in {c}");
            }
            let p = Path::new(dest.trim_end_matches('/'));
            let parent = p.parent().map_or("/".to_string(), |d| {
                let s = d.display().to_string();
                if s.is_empty() {
                    "/".into()
                } else {
                    s
                }
            });
            let file = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            (parent, Some(file))
        }
    };
    let tmp = temp_file();
    let (src_path, tar_path) = (PathBuf::from(src), tmp.path().to_path_buf());
    tokio::task::spawn_blocking(move || -> Result<()> {
        let mut b = tar::Builder::new(std::fs::File::create(&tar_path)?);
        b.follow_symlinks(follow);
        match entry {
            Some(n) if meta.is_dir() => b.append_dir_all(&n, &src_path)?,
            Some(n) => b.append_path_with_name(&src_path, &n)?,
            None => b.append_dir_all(".", &src_path)?,
        }
        b.finish()?;
        Ok(())
    })
    .await??;
    let f = tokio::fs::File::open(tmp.path()).await?;
    put(dir, http::reader_body(f)).await?;
    Ok(ExitCode::SUCCESS)
}

pub async fn export(client: &Client, a: ExportArgs) -> Result<ExitCode> {
    let path = format!("/containers/{}/export", a.container);
    super::images::download(client, &path, a.output.as_deref()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn container_paths_and_names() {
        assert_eq!(split("web:/etc/hosts"), Some(("web", "/etc/hosts")));
        assert_eq!(split("./a:b"), None);
        assert_eq!(split("/tmp/x"), None);
        assert_eq!(split("file"), None);
        assert_eq!(base("/var/log/"), ("log".to_string(), false));
        assert_eq!(base("/var/log/."), ("log".to_string(), true));
        assert_eq!(base("/etc/hosts"), ("hosts".to_string(), false));
    }
}
