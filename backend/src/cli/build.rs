//! `berth build` (and `berth image build`): packs the context directory
//! (leaving out what `.dockerignore` names), sends it to `POST /build`, and
//! prints the builder's output as it comes.

use super::http::{self, Client};
use super::images::query;
use crate::build::ignore::Ignore;
use anyhow::{bail, Context, Result};
use clap::Args;
use hyper::Method;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct BuildArgs {
    /// Name and optionally a tag in the "name:tag" format
    #[arg(short = 't', long = "tag")]
    pub tags: Vec<String>,
    /// Name of the Dockerfile (default: "PATH/Dockerfile")
    #[arg(short = 'f', long = "file")]
    pub file: Option<PathBuf>,
    /// Set build-time variables
    #[arg(long = "build-arg")]
    pub build_args: Vec<String>,
    /// Do not use cache when building the image
    #[arg(long)]
    pub no_cache: bool,
    /// Set the target build stage to build
    #[arg(long)]
    pub target: Option<String>,
    /// Set metadata for an image
    #[arg(long = "label")]
    pub labels: Vec<String>,
    /// Suppress the build output and print image ID on success
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// The build context: a directory, or - for a tar or a Dockerfile on stdin
    pub path: String,
}

/// The context as a tar: the directory's files minus `.dockerignore`'s,
/// symlinks as symlinks; and the Dockerfile's name in it.
fn pack_dir(dir: &Path, file: Option<&Path>) -> Result<(Vec<u8>, String)> {
    let ignore =
        Ignore::parse(&std::fs::read_to_string(dir.join(".dockerignore")).unwrap_or_default());
    let mut tar = tar::Builder::new(Vec::new());
    tar.follow_symlinks(false);
    let mut dockerfile = "Dockerfile".to_string();
    let mut extra: Option<(String, Vec<u8>)> = None;
    if let Some(f) = file {
        let abs =
            std::fs::canonicalize(f).with_context(|| format!("Dockerfile {}", f.display()))?;
        let root = std::fs::canonicalize(dir)?;
        match abs.strip_prefix(&root) {
            Ok(rel) => dockerfile = rel.to_string_lossy().into_owned(),
            Err(_) => {
                let name = format!(
                    ".dockerfile.{}",
                    abs.file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default()
                );
                extra = Some((name.clone(), std::fs::read(&abs)?));
                dockerfile = name;
            }
        }
    }
    let keep = [dockerfile.clone(), ".dockerignore".to_string()];
    add_dir(&mut tar, dir, "", &ignore, &keep)?;
    if let Some((name, data)) = extra {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        tar.append_data(&mut h, name, &data[..])?;
    }
    Ok((tar.into_inner()?, dockerfile))
}

fn add_dir(
    tar: &mut tar::Builder<Vec<u8>>,
    dir: &Path,
    rel: &str,
    ignore: &Ignore,
    keep: &[String],
) -> Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("read {}", dir.display()))?
        .flatten()
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let name = e.file_name().to_string_lossy().into_owned();
        let path = if rel.is_empty() {
            name
        } else {
            format!("{rel}/{name}")
        };
        let ft = e.file_type()?;
        if ft.is_dir() {
            // An excluded directory may still hold an exception (`!`).
            add_dir(tar, &e.path(), &path, ignore, keep)?;
            if !ignore.excludes(&path) {
                tar.append_path_with_name(e.path(), &path)?;
            }
        } else if !ignore.excludes(&path) || keep.contains(&path) {
            tar.append_path_with_name(e.path(), &path)?;
        }
    }
    Ok(())
}

/// `-`: a tar (plain or gzip) as it is, or a Dockerfile alone.
fn pack_stdin() -> Result<(Vec<u8>, String)> {
    let mut data = Vec::new();
    std::io::stdin().read_to_end(&mut data)?;
    let is_gzip = data.starts_with(&[0x1f, 0x8b]);
    let is_tar = data.len() >= 262 && &data[257..262] == b"ustar";
    if is_gzip || is_tar {
        return Ok((data, "Dockerfile".into()));
    }
    let mut tar = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    tar.append_data(&mut h, "Dockerfile", &data[..])?;
    Ok((tar.into_inner()?, "Dockerfile".into()))
}

pub async fn build(client: &Client, a: BuildArgs) -> Result<ExitCode> {
    let (body, dockerfile) = if a.path == "-" {
        pack_stdin()?
    } else {
        let dir = Path::new(&a.path);
        if !dir.is_dir() {
            bail!("unable to prepare context: path {:?} not found", a.path);
        }
        let file = a.file.clone().unwrap_or_else(|| dir.join("Dockerfile"));
        pack_dir(dir, Some(&file))?
    };
    let mut build_args = serde_json::Map::new();
    for b in &a.build_args {
        let (k, v) = match b.split_once('=') {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            None => (b.clone(), std::env::var(b).ok()),
        };
        build_args.insert(
            k,
            v.map_or(serde_json::Value::Null, serde_json::Value::String),
        );
    }
    let mut labels = serde_json::Map::new();
    for l in &a.labels {
        let (k, v) = l.split_once('=').unwrap_or((l, ""));
        labels.insert(k.to_string(), serde_json::Value::String(v.to_string()));
    }
    let (args_json, labels_json) = (
        serde_json::Value::Object(build_args).to_string(),
        serde_json::Value::Object(labels).to_string(),
    );
    let mut pairs: Vec<(&str, &str)> = vec![
        ("dockerfile", &dockerfile),
        ("buildargs", &args_json),
        ("labels", &labels_json),
        ("rm", "1"),
    ];
    for t in &a.tags {
        pairs.push(("t", t));
    }
    if a.no_cache {
        pairs.push(("nocache", "1"));
    }
    if a.quiet {
        pairs.push(("q", "1"));
    }
    if let Some(t) = &a.target {
        pairs.push(("target", t));
    }
    let res = client
        .send(
            Method::POST,
            &format!("/build?{}", query(&pairs)),
            http::full(body),
            Some("application/x-tar"),
        )
        .await?;
    let mut failure = None;
    http::for_each_line(res, |line| {
        if let Ok(m) = serde_json::from_slice::<berth_types::JsonMessage>(line) {
            if let Some(e) = m.error_detail.map(|d| d.message).or(m.error) {
                failure = Some(e);
            } else if let (Some(status), None) = (&m.status, &m.progress_detail) {
                // A FROM image being pulled.
                match &m.id {
                    Some(id) => println!("{id}: {status}"),
                    None => println!("{status}"),
                }
            } else if let Some(s) = m.stream {
                use std::io::Write;
                let mut out = std::io::stdout();
                let _ = out.write_all(s.as_bytes());
                let _ = out.flush();
            }
        }
        Ok(())
    })
    .await?;
    if let Some(e) = failure {
        eprintln!("{e}");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}
