//! Image commands of the CLI: images, import, load, save, tag, rmi, history, inspect.

use super::format::{ago, ellipsis, human_size, Table};
use super::http::{self, Client, ClientError};
use anyhow::{bail, Context, Result};
use berth_types::{short_id, HistoryItem, ImageDeleteItem, ImageSummary, JsonMessage};
use clap::Args;
use hyper::Method;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;

pub fn query(pairs: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

/// `["k=v", "k2=v2"]` → the API's `{"k": {"v": true}}` filters JSON.
pub fn filters_json(filters: &[String]) -> Result<String> {
    let mut map = serde_json::Map::new();
    for f in filters {
        let (k, v) = f
            .split_once('=')
            .with_context(|| format!("bad format of filter {f:?} (expected name=value)"))?;
        let entry = map
            .entry(k.to_string())
            .or_insert_with(|| serde_json::json!({}));
        entry[v] = serde_json::Value::Bool(true);
    }
    Ok(serde_json::Value::Object(map).to_string())
}

/// `path` with `?filters=…` when any filter is given.
pub fn with_filters(path: &str, filters: &[String]) -> Result<String> {
    if filters.is_empty() {
        return Ok(path.to_string());
    }
    Ok(format!(
        "{path}?{}",
        query(&[("filters", &filters_json(filters)?)])
    ))
}

#[derive(Debug, Args)]
pub struct ImagesArgs {
    /// Show all images (default hides intermediate images)
    #[arg(short, long)]
    all: bool,
    /// Only show image IDs
    #[arg(short, long)]
    quiet: bool,
    /// Show digests
    #[arg(long)]
    digests: bool,
    /// Don't truncate output
    #[arg(long)]
    no_trunc: bool,
    /// Filter output based on conditions provided (dangling=, reference=, label=, before=, since=)
    #[arg(short, long = "filter")]
    filter: Vec<String>,
    /// Only images of this repository (and tag)
    #[arg(value_name = "REPOSITORY[:TAG]")]
    reference: Option<String>,
}

pub async fn images(client: &Client, a: ImagesArgs) -> Result<ExitCode> {
    let mut filters = a.filter.clone();
    if let Some(r) = &a.reference {
        filters.push(format!("reference={r}"));
    }
    let q = query(&[
        ("all", if a.all { "1" } else { "0" }),
        ("filters", &filters_json(&filters)?),
    ]);
    let list: Vec<ImageSummary> = client.get_json(&format!("/images/json?{q}")).await?;
    let id_of = |id: &str| {
        if a.no_trunc {
            id.to_string()
        } else {
            short_id(id).to_string()
        }
    };
    if a.quiet {
        let mut seen = std::collections::HashSet::new();
        for i in &list {
            if seen.insert(i.id.clone()) {
                println!("{}", id_of(&i.id));
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let mut header = vec!["REPOSITORY", "TAG"];
    if a.digests {
        header.push("DIGEST");
    }
    header.extend(["IMAGE ID", "CREATED", "SIZE"]);
    let mut t = Table::new(&header);
    for i in &list {
        let tags: Vec<(String, String)> = if i.repo_tags.is_empty() {
            vec![("<none>".into(), "<none>".into())]
        } else {
            i.repo_tags.iter().map(|t| split_tag(t)).collect()
        };
        for (repo, tag) in tags {
            let mut row = vec![repo.clone(), tag];
            if a.digests {
                let d = i
                    .repo_digests
                    .iter()
                    .find(|d| d.starts_with(&format!("{repo}@")))
                    .and_then(|d| d.split_once('@'))
                    .map(|(_, d)| d.to_string());
                row.push(d.unwrap_or_else(|| "<none>".into()));
            }
            row.extend([id_of(&i.id), ago(i.created), human_size(i.size)]);
            t.row(row);
        }
    }
    print!("{}", t.render());
    Ok(ExitCode::SUCCESS)
}

/// `127.0.0.1:5000/x:v1` → (`127.0.0.1:5000/x`, `v1`).
fn split_tag(t: &str) -> (String, String) {
    let slash = t.rfind('/').map_or(0, |i| i + 1);
    match t[slash..].rfind(':') {
        Some(i) => (t[..slash + i].to_string(), t[slash + i + 1..].to_string()),
        None => (t.to_string(), "<none>".into()),
    }
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The archive: a file path or - for STDIN
    #[arg(value_name = "file|-")]
    source: String,
    /// Name and optionally a tag for the image
    #[arg(value_name = "REPOSITORY[:TAG]")]
    reference: Option<String>,
    /// Apply Dockerfile instruction to the created image
    #[arg(short, long)]
    change: Vec<String>,
    /// Set commit message for imported image
    #[arg(short, long)]
    message: Option<String>,
}

pub async fn import(client: &Client, a: ImportArgs) -> Result<ExitCode> {
    if a.source.starts_with("http://") || a.source.starts_with("https://") {
        bail!(
            "importing from a URL is not supported: download {} first and import the file",
            a.source
        );
    }
    let body = open_input(Some(&a.source)).await?;
    let mut pairs = vec![("fromSrc", "-")];
    if let Some(r) = &a.reference {
        pairs.push(("repo", r));
    }
    if let Some(m) = &a.message {
        pairs.push(("message", m));
    }
    for c in &a.change {
        pairs.push(("changes", c));
    }
    let res = client
        .send(
            Method::POST,
            &format!("/images/create?{}", query(&pairs)),
            body,
            Some("application/x-tar"),
        )
        .await?;
    print_json_stream(res, SHOW_ALL).await
}

/// The request body for a file argument, or STDIN for `-`/none.
async fn open_input(path: Option<&str>) -> Result<http::ReqBody> {
    match path {
        None | Some("-") => {
            if std::io::stdin().is_terminal() {
                bail!("requested load from stdin, but stdin is empty");
            }
            Ok(http::reader_body(tokio::io::stdin()))
        }
        Some(p) => {
            let f = tokio::fs::File::open(p)
                .await
                .with_context(|| format!("open {p}"))?;
            Ok(http::reader_body(f))
        }
    }
}

/// How much of a progress stream to print.
#[derive(Clone, Copy)]
struct Shown<'a> {
    /// Print nothing but errors.
    quiet: bool,
    /// Per-layer statuses left out of plain (non-terminal) output, such as byte counts.
    hidden: &'a [&'a str],
}

const SHOW_ALL: Shown<'static> = Shown {
    quiet: false,
    hidden: &[],
};

/// Prints an NDJSON progress stream; an error line makes the command fail.
/// On a terminal, each layer keeps one line that is redrawn in place with a
/// progress bar, as `docker pull` shows it; elsewhere plain lines are printed.
async fn print_json_stream(
    res: hyper::Response<hyper::body::Incoming>,
    shown: Shown<'_>,
) -> Result<ExitCode> {
    let mut failed = None;
    let mut live =
        (!shown.quiet && std::io::stdout().is_terminal()).then(super::progress::LiveLines::default);
    http::for_each_line(res, |line| {
        let m: JsonMessage = serde_json::from_slice(line)
            .map_err(|e| ClientError::Protocol(format!("bad progress line: {e}")))?;
        match (m.error, m.stream, m.status, m.id) {
            (Some(e), ..) => failed = Some(e),
            _ if shown.quiet => {}
            (None, Some(s), ..) => print!("{s}"),
            (None, None, Some(s), Some(id)) => match live.as_mut() {
                Some(l) => l.update(&id, &s, m.progress_detail.as_ref()),
                None if shown.hidden.contains(&s.as_str()) => {}
                None => println!("{id}: {s}"),
            },
            (None, None, Some(s), None) => println!("{s}"),
            _ => {}
        }
        Ok(())
    })
    .await?;
    std::io::stdout().flush().ok();
    match failed {
        Some(e) => bail!("{e}"),
        None => Ok(ExitCode::SUCCESS),
    }
}

#[derive(Debug, Args)]
pub struct PullArgs {
    /// Suppress verbose output
    #[arg(short, long)]
    quiet: bool,
    /// Pull this platform of a multi-platform image (os/arch[/variant])
    #[arg(long)]
    platform: Option<String>,
    #[arg(value_name = "NAME[:TAG|@DIGEST]")]
    name: String,
}

pub async fn pull(client: &Client, a: PullArgs) -> Result<ExitCode> {
    let reference = crate::image::Reference::parse(&a.name).map_err(|e| anyhow::anyhow!("{e}"))?;
    let (image, tag) = match (reference.digest(), reference.tag()) {
        (Some(d), _) => (reference.repository(), d.to_string()),
        (None, Some(t)) => (reference.repository(), t.to_string()),
        (None, None) => {
            if !a.quiet {
                println!("Using default tag: latest");
            }
            (reference.repository(), "latest".to_string())
        }
    };
    let mut pairs = vec![("fromImage", image.as_str()), ("tag", tag.as_str())];
    if let Some(p) = &a.platform {
        pairs.push(("platform", p));
    }
    let q = query(&pairs);
    let res = client
        .send(
            Method::POST,
            &format!("/images/create?{q}"),
            http::empty(),
            None,
        )
        .await?;
    // Byte counts are for terminals with progress bars; plain output keeps the milestones.
    let hidden = &["Downloading", "Extracting"];
    print_json_stream(
        res,
        Shown {
            quiet: a.quiet,
            hidden,
        },
    )
    .await?;
    let shown = match reference.digest() {
        Some(_) => reference.to_string(),
        None => reference.clone().with_default_tag().to_string(),
    };
    println!("{shown}");
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Args)]
pub struct PushArgs {
    /// Suppress verbose output
    #[arg(short, long)]
    quiet: bool,
    #[arg(value_name = "NAME[:TAG]")]
    name: String,
}

pub async fn push(client: &Client, a: PushArgs) -> Result<ExitCode> {
    let reference =
        crate::image::Reference::parse_tagged(&a.name).map_err(|e| anyhow::anyhow!("{e}"))?;
    let tag = reference.tag().unwrap_or("latest").to_string();
    let q = query(&[("tag", &tag)]);
    let res = client
        .send(
            Method::POST,
            &format!("/images/{}/push?{q}", reference.familiar_repository()),
            http::empty(),
            None,
        )
        .await?;
    print_json_stream(
        res,
        Shown {
            quiet: a.quiet,
            hidden: &["Pushing"],
        },
    )
    .await?;
    if a.quiet {
        println!("{}", reference.familiar());
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Args)]
pub struct LoadArgs {
    /// Read from tar archive file, instead of STDIN
    #[arg(short, long)]
    input: Option<String>,
    /// Suppress the load output
    #[arg(short, long)]
    quiet: bool,
}

pub async fn load(client: &Client, a: LoadArgs) -> Result<ExitCode> {
    let body = open_input(a.input.as_deref()).await?;
    let q = if a.quiet { "?quiet=1" } else { "" };
    let res = client
        .send(
            Method::POST,
            &format!("/images/load{q}"),
            body,
            Some("application/x-tar"),
        )
        .await?;
    print_json_stream(res, SHOW_ALL).await
}

#[derive(Debug, Args)]
pub struct SaveArgs {
    /// Write to a file, instead of STDOUT
    #[arg(short, long)]
    output: Option<String>,
    #[arg(required = true, value_name = "IMAGE")]
    images: Vec<String>,
}

pub async fn save(client: &Client, a: SaveArgs) -> Result<ExitCode> {
    let pairs: Vec<(&str, &str)> = a.images.iter().map(|n| ("names", n.as_str())).collect();
    download(
        client,
        &format!("/images/get?{}", query(&pairs)),
        a.output.as_deref(),
    )
    .await
}

/// GETs an archive to `output`, or to stdout when that is not a terminal
/// (`save`, `export`). A file is written beside its target and renamed, so a
/// failed download leaves no partial file.
pub async fn download(client: &Client, path: &str, output: Option<&str>) -> Result<ExitCode> {
    if output.is_none() && std::io::stdout().is_terminal() {
        bail!("cowardly refusing to save to a terminal. Use the -o flag or redirect");
    }
    let res = client.send(Method::GET, path, http::empty(), None).await?;
    match output {
        Some(path) => {
            let tmp = format!("{path}.berth-tmp");
            let mut f = tokio::fs::File::create(&tmp)
                .await
                .with_context(|| format!("create {tmp}"))?;
            if let Err(e) = http::copy_body(res, &mut f).await {
                tokio::fs::remove_file(&tmp).await.ok();
                return Err(e.into());
            }
            tokio::fs::rename(&tmp, path)
                .await
                .with_context(|| format!("write {path}"))?;
        }
        None => {
            http::copy_body(res, &mut tokio::io::stdout()).await?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Args)]
pub struct TagArgs {
    #[arg(value_name = "SOURCE_IMAGE[:TAG]")]
    source: String,
    #[arg(value_name = "TARGET_IMAGE[:TAG]")]
    target: String,
}

pub async fn tag(client: &Client, a: TagArgs) -> Result<ExitCode> {
    let target = crate::image::Reference::parse(&a.target).map_err(|e| anyhow::anyhow!("{e}"))?;
    let tag = target.tag().unwrap_or("latest").to_string();
    let q = query(&[("repo", &target.familiar_repository()), ("tag", &tag)]);
    client
        .send(
            Method::POST,
            &format!("/images/{}/tag?{q}", a.source),
            http::empty(),
            None,
        )
        .await?;
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Args)]
pub struct RmiArgs {
    /// Force removal of the image
    #[arg(short, long)]
    force: bool,
    /// Do not delete untagged parents
    #[arg(long)]
    no_prune: bool,
    #[arg(required = true, value_name = "IMAGE")]
    images: Vec<String>,
}

pub async fn rmi(client: &Client, a: RmiArgs) -> Result<ExitCode> {
    let q = query(&[
        ("force", if a.force { "1" } else { "0" }),
        ("noprune", if a.no_prune { "1" } else { "0" }),
    ]);
    let mut failed = false;
    for name in &a.images {
        match client
            .call_json::<Vec<ImageDeleteItem>>(Method::DELETE, &format!("/images/{name}?{q}"))
            .await
        {
            Ok(items) => {
                for i in items {
                    if let Some(u) = i.untagged {
                        println!("Untagged: {u}");
                    }
                    if let Some(d) = i.deleted {
                        println!("Deleted: {d}");
                    }
                }
            }
            Err(e) => {
                eprintln!("{e}");
                failed = true;
            }
        }
    }
    Ok(super::exit_status(failed))
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Don't truncate output
    #[arg(long)]
    no_trunc: bool,
    /// Only show image IDs
    #[arg(short, long)]
    quiet: bool,
    /// Print sizes and dates in human readable format
    #[arg(short = 'H', long, default_value_t = true, action = clap::ArgAction::Set)]
    human: bool,
    image: String,
}

pub async fn history(client: &Client, a: HistoryArgs) -> Result<ExitCode> {
    let items: Vec<HistoryItem> = client
        .get_json(&format!("/images/{}/history", a.image))
        .await?;
    let id_of = |id: &str| {
        if a.no_trunc || id == "<missing>" {
            id.to_string()
        } else {
            short_id(id).to_string()
        }
    };
    if a.quiet {
        for i in &items {
            println!("{}", id_of(&i.id));
        }
        return Ok(ExitCode::SUCCESS);
    }
    let mut t = Table::new(&["IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"]);
    for i in &items {
        let created_by = i.created_by.replace('\t', " ");
        let created_by = if a.no_trunc {
            created_by
        } else {
            ellipsis(&created_by, 45)
        };
        let (created, size) = if a.human {
            (ago(i.created), human_size(i.size))
        } else {
            (
                crate::timefmt::rfc3339_of_nanos(i.created * 1_000_000_000),
                i.size.to_string(),
            )
        };
        t.row(vec![
            id_of(&i.id),
            created,
            created_by,
            size,
            i.comment.clone(),
        ]);
    }
    print!("{}", t.render());
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// Only inspect objects of this type (container, image)
    #[arg(long = "type")]
    pub kind: Option<String>,
    /// Format the output using the given Go template ({{.Field}}, {{json .Field}}) or "json"
    #[arg(short = 'f', long)]
    pub format: Option<String>,
    #[arg(required = true, value_name = "NAME|ID")]
    names: Vec<String>,
}

pub async fn inspect(client: &Client, a: InspectArgs) -> Result<ExitCode> {
    let kind = a.kind.as_deref().unwrap_or("");
    if !matches!(kind, "" | "image" | "container") {
        bail!("\"{kind}\" is not a valid value for --type");
    }
    let mut out = Vec::new();
    let mut failed = false;
    for n in &a.names {
        if kind != "image" {
            if let Some(v) = super::containers::inspect_one(client, n).await? {
                out.push(v);
                continue;
            }
        }
        if kind == "container" {
            eprintln!("Error: No such container: {n}");
            failed = true;
            continue;
        }
        match client
            .get_json::<serde_json::Value>(&format!("/images/{n}/json"))
            .await
        {
            Ok(v) => out.push(v),
            Err(ClientError::Daemon { status, .. }) if status == hyper::StatusCode::NOT_FOUND => {
                eprintln!("Error: No such object: {n}");
                failed = true;
            }
            Err(e) => return Err(e.into()),
        }
    }
    super::format::print_inspected(&out, a.format.as_deref())?;
    Ok(super::exit_status(failed))
}
