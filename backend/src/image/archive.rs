//! `docker load` and `docker save` archives. Load reads both `docker save`
//! archives (`manifest.json`, legacy or with `blobs/`) and OCI image layouts
//! (`index.json` + `blobs/`), gzip-compressed or not; every blob and every
//! layer's diff id is checked against the documents that name it. Save writes
//! the combined form Docker 25+ writes, which `docker load`, skopeo's
//! `docker-archive:` and `oci-archive:` transports all read.

use super::digest::{chain_id, Digest, HashingReader};
use super::error::{ImageError, IoContext, Result};
use super::oci::{
    Compression, Descriptor, ImageConfig, Index, Manifest, ANNOTATION_IMAGE_NAME,
    ANNOTATION_REF_NAME, MT_DOCKER_LIST, MT_OCI_INDEX, MT_OCI_LAYER, MT_OCI_LAYER_GZIP,
};
use super::reference::Reference;
use super::store::{ImageStore, Registered};
use super::unpack::{clean_path, decompressed};
use super::ImageRecord;
use crate::fsutil::{self, ScratchGuard};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

/// One layer to adopt: where its bytes are, the diff id its config names, its
/// blob digest where a manifest gives one, and its name for errors.
struct LayerSource<'a> {
    file: PathBuf,
    diff_id: &'a Digest,
    digest: Option<&'a Digest>,
    what: String,
}

/// An entry of a `docker save` archive's `manifest.json`.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ArchiveManifestItem {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    parent: Option<String>,
}

impl ImageStore {
    /// Loads every image in the archive at `src`; `what` names it in errors.
    pub fn load(&self, src: &Path, what: &str) -> Result<Vec<Registered>> {
        let _writing = self.writing();
        let dir = ScratchGuard::new(fsutil::unique_path(self.scratch(), "load"));
        extract_archive(src, dir.path(), what)?;
        let root = dir.path();
        if root.join("manifest.json").is_file() {
            self.load_docker_archive(root, what)
        } else if root.join("index.json").is_file() {
            self.load_oci_layout(root, what)
        } else {
            Err(ImageError::InvalidArchive(format!(
                "{what} is not an image archive: it has neither manifest.json (docker save) nor index.json (OCI layout)"
            )))
        }
    }

    fn load_docker_archive(&self, root: &Path, what: &str) -> Result<Vec<Registered>> {
        let items: Vec<ArchiveManifestItem> = read_json_file(&root.join("manifest.json"), what)?;
        if items.is_empty() {
            return Err(ImageError::InvalidArchive(format!(
                "{what}: manifest.json lists no images"
            )));
        }
        let mut out = Vec::new();
        for item in items {
            let config_bytes = read_member(root, &item.config, what)?;
            let config: ImageConfig = parse_json(&config_bytes, &item.config, what)?;
            let diff_ids = &config.rootfs.diff_ids;
            if diff_ids.len() != item.layers.len() {
                return Err(ImageError::InvalidArchive(format!(
                    "{what}: image config {} names {} layers but manifest.json lists {}",
                    item.config,
                    diff_ids.len(),
                    item.layers.len()
                )));
            }
            let sources = item
                .layers
                .iter()
                .zip(diff_ids)
                .map(|(path, diff)| {
                    Ok(LayerSource {
                        file: member_path(root, path, what)?,
                        diff_id: diff,
                        digest: None,
                        what: format!("{what}: layer {path}"),
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            let layers = self.adopt_chain(sources)?;
            let tags = item
                .repo_tags
                .unwrap_or_default()
                .iter()
                .map(|t| Reference::parse_tagged(t))
                .collect::<std::result::Result<Vec<_>, _>>()?;
            let parent_image = item
                .parent
                .as_deref()
                .map(Digest::parse_lenient)
                .transpose()?;
            out.push(self.register(&config_bytes, layers, tags, parent_image)?);
        }
        Ok(out)
    }

    fn load_oci_layout(&self, root: &Path, what: &str) -> Result<Vec<Registered>> {
        let index: Index = read_json_file(&root.join("index.json"), what)?;
        let mut out = Vec::new();
        for desc in &index.manifests {
            let manifest_desc =
                if desc.media_type == MT_OCI_INDEX || desc.media_type == MT_DOCKER_LIST {
                    let nested: Index = parse_json(
                        &read_blob(root, &desc.digest, what)?,
                        desc.digest.as_str(),
                        what,
                    )?;
                    nested.for_this_machine().cloned().ok_or_else(|| {
                        ImageError::InvalidArchive(format!(
                            "{what}: index {} has no linux image for this machine",
                            desc.digest
                        ))
                    })?
                } else {
                    desc.clone()
                };
            let manifest: Manifest = parse_json(
                &read_blob(root, &manifest_desc.digest, what)?,
                manifest_desc.digest.as_str(),
                what,
            )?;
            let config_bytes = read_blob(root, &manifest.config.digest, what)?;
            let config: ImageConfig =
                parse_json(&config_bytes, manifest.config.digest.as_str(), what)?;
            if config.rootfs.diff_ids.len() != manifest.layers.len() {
                return Err(ImageError::InvalidArchive(format!(
                    "{what}: manifest {} has {} layers but its config names {}",
                    manifest_desc.digest,
                    manifest.layers.len(),
                    config.rootfs.diff_ids.len()
                )));
            }
            let sources = manifest
                .layers
                .iter()
                .zip(&config.rootfs.diff_ids)
                .map(|(l, diff)| LayerSource {
                    file: root.join("blobs/sha256").join(l.digest.hex()),
                    diff_id: diff,
                    digest: Some(&l.digest),
                    what: format!("{what}: layer {}", l.digest),
                })
                .collect();
            let layers = self.adopt_chain(sources)?;
            let tags = tag_of(desc).into_iter().collect();
            out.push(self.register(&config_bytes, layers, tags, None)?);
        }
        Ok(out)
    }

    /// Adopts layers bottom first, each above the one before; returns their descriptors.
    fn adopt_chain(&self, layers: Vec<LayerSource<'_>>) -> Result<Vec<Descriptor>> {
        let mut parent = None;
        let mut out = Vec::with_capacity(layers.len());
        for l in layers {
            let (desc, chain) =
                self.adopt_layer(&l.file, parent.as_ref(), l.diff_id, l.digest, &l.what)?;
            out.push(desc);
            parent = Some(chain);
        }
        Ok(out)
    }

    /// Makes the layer in `file` part of the store above `parent`, checking its
    /// uncompressed content against `diff_id` and its bytes against `blob_digest`.
    pub(crate) fn adopt_layer(
        &self,
        file: &Path,
        parent: Option<&Digest>,
        diff_id: &Digest,
        blob_digest: Option<&Digest>,
        what: &str,
    ) -> Result<(Descriptor, Digest)> {
        let chain = chain_id(parent, diff_id);
        let missing = || ImageError::InvalidArchive(format!("{what} is missing from the archive"));
        if self.layers().get(&chain).is_none() {
            let f = File::open(file).map_err(|_| missing())?;
            let pending = self.layers().unpack(parent, f, what)?;
            if &pending.meta.diff_id != diff_id {
                return Err(ImageError::DigestMismatch {
                    what: what.to_string(),
                    expected: diff_id.clone(),
                    actual: pending.meta.diff_id.clone(),
                });
            }
            self.layers().commit(pending)?;
        }
        let media_type = match Compression::sniff(&file_head(file)?) {
            Compression::Gzip => MT_OCI_LAYER_GZIP,
            Compression::Zstd => super::oci::MT_OCI_LAYER_ZSTD,
            _ => MT_OCI_LAYER,
        };
        // Already in the store (pushed into Berth's registry): nothing to copy.
        if let Some(d) = blob_digest.filter(|d| self.blobs().has(d)) {
            return Ok((
                Descriptor::new(media_type, d.clone(), self.blobs().size(d)?),
                chain,
            ));
        }
        let f = File::open(file).map_err(|_| missing())?;
        let (digest, size) = self.blobs().put_reader(f, blob_digest, what)?;
        Ok((Descriptor::new(media_type, digest, size), chain))
    }

    /// Accepts a manifest pushed into Berth's registry: its config and layer
    /// blobs must be in the store already; layers are unpacked (diff ids
    /// checked) and the image is recorded under `tag`.
    pub fn accept_manifest(
        &self,
        manifest_bytes: &[u8],
        tag: Option<Reference>,
    ) -> Result<Registered> {
        let _writing = self.writing();
        let manifest: Manifest = parse_json(manifest_bytes, "manifest", "pushed manifest")?;
        let config_bytes = self
            .blobs()
            .read_verified(&manifest.config.digest)
            .map_err(|_| {
                ImageError::InvalidArchive(format!(
                    "manifest blob unknown: config {} was not uploaded",
                    manifest.config.digest
                ))
            })?;
        let config: ImageConfig = parse_json(
            &config_bytes,
            manifest.config.digest.as_str(),
            "pushed config",
        )?;
        if config.rootfs.diff_ids.len() != manifest.layers.len() {
            return Err(ImageError::InvalidArchive(format!(
                "manifest lists {} layers but its config names {}",
                manifest.layers.len(),
                config.rootfs.diff_ids.len()
            )));
        }
        let mut sources = Vec::new();
        for (l, diff) in manifest.layers.iter().zip(&config.rootfs.diff_ids) {
            if !self.blobs().has(&l.digest) {
                return Err(ImageError::InvalidArchive(format!(
                    "manifest blob unknown: layer {} was not uploaded",
                    l.digest
                )));
            }
            sources.push(LayerSource {
                file: self.blobs().path(&l.digest),
                diff_id: diff,
                digest: Some(&l.digest),
                what: format!("layer {}", l.digest),
            });
        }
        self.adopt_chain(sources)?;
        self.register_manifest(
            manifest_bytes,
            &config_bytes,
            tag.into_iter().collect(),
            None,
        )
    }

    /// Writes the named images as one archive to `out`. A repository name
    /// without a tag saves every tag of that repository, as Docker does.
    pub fn save(&self, names: &[String], out: impl Write) -> Result<()> {
        let mut selected: BTreeMap<Digest, (ImageRecord, Vec<Reference>)> = BTreeMap::new();
        for name in names {
            for (rec, tag) in self.select_for_save(name)? {
                let entry = selected
                    .entry(rec.id.clone())
                    .or_insert_with(|| (rec, Vec::new()));
                entry.1.extend(tag);
            }
        }
        let mut tar = tar::Builder::new(out);
        tar.mode(tar::HeaderMode::Deterministic);
        append_dir(&mut tar, "blobs/")?;
        append_dir(&mut tar, "blobs/sha256/")?;
        let mut written = std::collections::HashSet::new();
        let mut items = Vec::new();
        let mut index = Vec::new();
        for (rec, tags) in selected.values() {
            let blobs = std::iter::once(&rec.manifest_desc.digest)
                .chain(std::iter::once(&rec.id))
                .chain(rec.manifest.layers.iter().map(|l| &l.digest));
            for d in blobs {
                if written.insert(d.clone()) {
                    let size = self.blobs().size(d)?;
                    let reader = self.blobs().open_verified(d)?;
                    append_reader(&mut tar, &format!("blobs/sha256/{}", d.hex()), size, reader)?;
                }
            }
            items.push(ArchiveManifestItem {
                config: format!("blobs/sha256/{}", rec.id.hex()),
                repo_tags: Some(tags.iter().map(Reference::familiar).collect()),
                layers: rec
                    .manifest
                    .layers
                    .iter()
                    .map(|l| format!("blobs/sha256/{}", l.digest.hex()))
                    .collect(),
                parent: rec
                    .parent
                    .as_ref()
                    .filter(|p| selected.contains_key(*p))
                    .map(|p| p.to_string()),
            });
            let base = Descriptor::new(
                &rec.manifest_desc.media_type,
                rec.manifest_desc.digest.clone(),
                rec.manifest_desc.size,
            );
            if tags.is_empty() {
                index.push(base.clone());
            }
            for t in tags {
                let mut d = base.clone();
                d.annotations
                    .insert(ANNOTATION_IMAGE_NAME.into(), t.to_string());
                if let Some(tag) = t.tag() {
                    d.annotations.insert(ANNOTATION_REF_NAME.into(), tag.into());
                }
                index.push(d);
            }
        }
        append_bytes(&mut tar, "index.json", &to_json(&Index::new(index))?)?;
        append_bytes(&mut tar, "manifest.json", &to_json(&items)?)?;
        append_bytes(&mut tar, "oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#)?;
        tar.into_inner()
            .ctx(|| "finish archive".into())?
            .flush()
            .ctx(|| "flush archive".into())
    }

    fn select_for_save(&self, name: &str) -> Result<Vec<(ImageRecord, Option<Reference>)>> {
        if let Ok(r) = Reference::parse(name) {
            if r.tag().is_none() && r.digest().is_none() {
                let repo = r.repository();
                let mut all = Vec::new();
                for rec in self.list() {
                    for t in rec.tags.iter().filter(|t| t.repository() == repo) {
                        all.push((rec.clone(), Some(t.clone())));
                    }
                }
                if !all.is_empty() {
                    return Ok(all);
                }
            }
        }
        let resolved = self.resolve(name)?;
        let rec = self
            .get_by_id(resolved.id())
            .ok_or_else(|| ImageError::NotFound(name.into()))?;
        let tag = match resolved {
            super::catalog::Resolved::Reference(r, _) if r.tag().is_some() => Some(r),
            _ => None,
        };
        Ok(vec![(rec, tag)])
    }
}

/// The first bytes of a file, for sniffing its compression.
fn file_head(p: &Path) -> Result<Vec<u8>> {
    let mut head = vec![0u8; 8];
    let n = File::open(p)
        .and_then(|mut f| f.read(&mut head))
        .ctx(|| format!("read {}", p.display()))?;
    head.truncate(n);
    Ok(head)
}

/// The tag an OCI index entry carries: the full name Docker and containerd
/// write, or a ref name that is itself a full reference (skopeo's form).
fn tag_of(desc: &Descriptor) -> Option<Reference> {
    if let Some(r) = desc
        .annotations
        .get(ANNOTATION_IMAGE_NAME)
        .and_then(|n| Reference::parse_tagged(n).ok())
    {
        return Some(r);
    }
    let name = desc.annotations.get(ANNOTATION_REF_NAME)?;
    if name.contains(':') || name.contains('/') {
        Reference::parse_tagged(name).ok()
    } else {
        None
    }
}

/// Unpacks the outer archive: plain files and directories only. Links inside
/// the archive (legacy `docker save` shares layers that way) become copies of
/// their targets, which must be files of the same archive.
fn extract_archive(src: &Path, dst: &Path, what: &str) -> Result<()> {
    let corrupt = |e: io::Error| {
        ImageError::InvalidArchive(format!(
            "{what} is not a valid tar archive (corrupt or truncated): {e}"
        ))
    };
    fs::create_dir_all(dst).ctx(|| format!("create {}", dst.display()))?;
    let f = File::open(src).ctx(|| format!("open {}", src.display()))?;
    if f.metadata().map(|m| m.len()).unwrap_or(0) == 0 {
        return Err(ImageError::InvalidArchive(format!(
            "{what} is empty: expected a tar archive"
        )));
    }
    let mut archive = tar::Archive::new(decompressed(f, what)?);
    let mut links = Vec::new();
    let mut count = 0;
    for entry in archive.entries().map_err(corrupt)? {
        let mut entry = entry.map_err(corrupt)?;
        count += 1;
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let rel = clean_path(&raw)?;
        if rel.as_os_str().is_empty() {
            continue;
        }
        let path = dst.join(&rel);
        match entry.header().entry_type() {
            tar::EntryType::Directory => {
                fs::create_dir_all(&path).ctx(|| format!("create {}", path.display()))?
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                if let Some(p) = path.parent() {
                    fs::create_dir_all(p).ctx(|| format!("create {}", p.display()))?;
                }
                let mut out = File::create(&path).ctx(|| format!("create {}", path.display()))?;
                let mut buf = vec![0u8; 64 * 1024];
                loop {
                    let n = entry.read(&mut buf).map_err(corrupt)?;
                    if n == 0 {
                        break;
                    }
                    out.write_all(&buf[..n])
                        .ctx(|| format!("write {}", path.display()))?;
                }
            }
            kind @ (tar::EntryType::Symlink | tar::EntryType::Link) => {
                let target = entry
                    .link_name()
                    .ok()
                    .flatten()
                    .map(|t| t.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let base = if kind == tar::EntryType::Symlink {
                    rel.parent().unwrap_or(Path::new("")).to_path_buf()
                } else {
                    PathBuf::new()
                };
                links.push((raw, rel, base, target));
            }
            _ => {}
        }
    }
    if count == 0 {
        return Err(ImageError::InvalidArchive(format!(
            "{what} contains no files"
        )));
    }
    for (raw, rel, base, target) in links {
        let joined = base.join(&target);
        let resolved = lexical_clean(&joined).ok_or_else(|| {
            ImageError::unsafe_entry(
                &raw,
                format!("link target {target:?} is outside the archive"),
            )
        })?;
        let from = dst.join(&resolved);
        if from.is_file() {
            let to = dst.join(&rel);
            if let Some(p) = to.parent() {
                fs::create_dir_all(p).ctx(|| format!("create {}", p.display()))?;
            }
            fs::hard_link(&from, &to).ctx(|| format!("link {}", to.display()))?;
        }
    }
    Ok(())
}

/// Resolves `.` and `..` without touching the filesystem; `None` if it climbs out.
fn lexical_clean(p: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::Normal(n) => out.push(n),
            std::path::Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            std::path::Component::CurDir => {}
            _ => return None,
        }
    }
    Some(out)
}

fn member_path(root: &Path, member: &str, what: &str) -> Result<PathBuf> {
    let p = root.join(clean_path(member)?);
    if p.is_file() {
        Ok(p)
    } else {
        Err(ImageError::InvalidArchive(format!(
            "{what}: {member} is missing from the archive"
        )))
    }
}

fn read_member(root: &Path, member: &str, what: &str) -> Result<Vec<u8>> {
    let p = member_path(root, member, what)?;
    fs::read(&p).ctx(|| format!("read {}", p.display()))
}

/// Reads `blobs/sha256/<hex>` of an OCI layout and checks its digest.
fn read_blob(root: &Path, d: &Digest, what: &str) -> Result<Vec<u8>> {
    let bytes = read_member(root, &format!("blobs/sha256/{}", d.hex()), what)?;
    let mut hr = HashingReader::new(&bytes[..]);
    hr.drain().ctx(|| "hash blob".into())?;
    let (actual, _) = hr.finish();
    if &actual != d {
        return Err(ImageError::DigestMismatch {
            what: format!("{what}: blob"),
            expected: d.clone(),
            actual,
        });
    }
    Ok(bytes)
}

fn read_json_file<T: serde::de::DeserializeOwned>(p: &Path, what: &str) -> Result<T> {
    let bytes = fs::read(p).ctx(|| format!("read {}", p.display()))?;
    parse_json(
        &bytes,
        &p.file_name().unwrap_or_default().to_string_lossy(),
        what,
    )
}

fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8], member: &str, what: &str) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|source| ImageError::Json {
        what: format!("{what}: {member}"),
        source,
    })
}

fn to_json<T: Serialize>(v: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(v).map_err(|e| ImageError::io("encode archive json", e.into()))
}

fn header(path_len_hint: u64, kind: tar::EntryType, mode: u32) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_size(path_len_hint);
    h.set_mode(mode);
    h.set_mtime(0);
    h
}

fn append_dir<W: Write>(tar: &mut tar::Builder<W>, path: &str) -> Result<()> {
    let mut h = header(0, tar::EntryType::Directory, 0o755);
    tar.append_data(&mut h, path, io::empty())
        .ctx(|| format!("write {path} to archive"))
}

fn append_bytes<W: Write>(tar: &mut tar::Builder<W>, path: &str, bytes: &[u8]) -> Result<()> {
    append_reader(tar, path, bytes.len() as u64, bytes)
}

fn append_reader<W: Write>(
    tar: &mut tar::Builder<W>,
    path: &str,
    size: u64,
    r: impl Read,
) -> Result<()> {
    let mut h = header(size, tar::EntryType::Regular, 0o644);
    tar.append_data(&mut h, path, r)
        .ctx(|| format!("write {path} to archive"))
}
