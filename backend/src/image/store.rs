//! `ImageStore`: the local image store as one object. It owns the OCI layout
//! under `<data-root>/image` (blobs, `index.json`), the unpacked layers, and the
//! catalog of tags; it lists, resolves, tags, removes and garbage-collects.
//! Import, load and save live in their own modules and meet here through
//! [`ImageStore::register`]. Blocking code: call it from `spawn_blocking`.

use super::blobs::BlobStore;
use super::catalog::{Catalog, ImageRecord, Resolved};
use super::digest::{chain_id, Digest};
use super::error::{ImageError, IoContext, Result};
use super::layers::LayerStore;
use super::oci::{Descriptor, ImageConfig, Index, Manifest, MT_OCI_MANIFEST};
use super::reference::Reference;
use crate::fsutil;
use crate::timefmt;
use std::collections::{BTreeSet, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard};

#[derive(Debug)]
pub struct ImageStore {
    root: PathBuf,
    scratch: PathBuf,
    blobs: BlobStore,
    layers: LayerStore,
    catalog: Mutex<Catalog>,
    /// Writers of new content hold it shared; garbage collection holds it alone,
    /// so a layer being adopted is never collected underneath.
    gc: RwLock<()>,
}

/// One step of a removal, in the order Docker reports them.
#[derive(Debug, Clone, PartialEq)]
pub enum Removal {
    Untagged(Reference, Digest),
    Deleted(Digest),
    DeletedLayer(Digest),
}

/// One line of `history`, newest first.
#[derive(Debug, Clone)]
pub struct HistoryEntry {
    /// The local image this step produced, where one exists.
    pub id: Option<Digest>,
    pub tags: Vec<Reference>,
    pub created: i64,
    pub created_by: String,
    pub size: u64,
    pub comment: String,
}

/// What registering an image changed.
#[derive(Debug, Clone)]
pub struct Registered {
    pub id: Digest,
    pub new: bool,
    /// The tags this registration pointed at the image.
    pub tags: Vec<Reference>,
    /// Images that lost a tag to this one: (tag, previous image).
    pub displaced: Vec<(Reference, Digest)>,
}

impl ImageStore {
    /// Opens (creating if needed) the store under `root`.
    pub fn open(root: &Path) -> Result<Self> {
        let scratch = root.join("tmp");
        fsutil::remove_any(&scratch); // leftovers of interrupted work
        fs::create_dir_all(&scratch).ctx(|| format!("create {}", scratch.display()))?;
        fsutil::remove_temporaries(root);
        let layout = root.join("oci-layout");
        if !layout.exists() {
            fsutil::write_atomic(&layout, br#"{"imageLayoutVersion":"1.0.0"}"#)
                .ctx(|| "write oci-layout".into())?;
        }
        let store = Self {
            blobs: BlobStore::open(root.join("blobs/sha256"), scratch.clone())?,
            layers: LayerStore::open(root.join("layers"), scratch.clone())?,
            root: root.to_path_buf(),
            scratch,
            catalog: Mutex::new(Catalog::default()),
            gc: RwLock::new(()),
        };
        store.load_catalog()?;
        Ok(store)
    }

    fn load_catalog(&self) -> Result<()> {
        let path = self.root.join("index.json");
        let index: Index = match fs::read(&path) {
            Ok(b) => serde_json::from_slice(&b).map_err(|source| ImageError::Json {
                what: path.display().to_string(),
                source,
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Index::new(vec![]),
            Err(e) => return Err(ImageError::io_path("read", &path, e)),
        };
        let mut cat = self.lock();
        for entry in Catalog::entries_of(index) {
            let id = entry.config.clone();
            if let Some(rec) = id.as_ref().and_then(|id| cat.get_mut(id)) {
                rec.tags.extend(entry.tag);
                rec.repo_digests.extend(entry.repo_digests);
                continue;
            }
            match self.read_record(&entry.manifest) {
                Ok(mut rec) => {
                    rec.tags.extend(entry.tag);
                    rec.repo_digests.extend(entry.repo_digests);
                    rec.parent = entry.parent;
                    rec.last_tag_time = entry.tag_time;
                    cat.insert(rec);
                }
                Err(e) => {
                    tracing::error!(manifest = %entry.manifest.digest, error = %e, "skipping unreadable image")
                }
            }
        }
        Ok(())
    }

    fn lock(&self) -> MutexGuard<'_, Catalog> {
        self.catalog.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Held by import/load while they add content.
    pub(crate) fn writing(&self) -> RwLockReadGuard<'_, ()> {
        self.gc.read().unwrap_or_else(|p| p.into_inner())
    }

    fn persist(&self, cat: &Catalog) -> Result<()> {
        let json = serde_json::to_vec_pretty(&cat.to_index())
            .map_err(|e| ImageError::io("encode index.json", e.into()))?;
        fsutil::write_atomic(&self.root.join("index.json"), &json).ctx(|| "write index.json".into())
    }

    /// The OCI layout's directory.
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    pub(crate) fn blobs(&self) -> &BlobStore {
        &self.blobs
    }

    pub(crate) fn layers(&self) -> &LayerStore {
        &self.layers
    }

    pub(crate) fn scratch(&self) -> &Path {
        &self.scratch
    }

    /// Reads a manifest and its config into a record (no tags).
    fn read_record(&self, desc: &Descriptor) -> Result<ImageRecord> {
        let manifest: Manifest = self.blobs.read_json(&desc.digest, "manifest")?;
        let config: ImageConfig = self
            .blobs
            .read_json(&manifest.config.digest, "image config")?;
        let mut chain_ids = Vec::new();
        let mut size = 0;
        for diff in &config.rootfs.diff_ids {
            let chain = chain_id(chain_ids.last(), diff);
            let meta = self.layers.get(&chain).ok_or_else(|| {
                ImageError::InvalidArchive(format!(
                    "layer {chain} of image {} is missing",
                    manifest.config.digest
                ))
            })?;
            size += meta.size;
            chain_ids.push(chain);
        }
        Ok(ImageRecord {
            id: manifest.config.digest.clone(),
            manifest_desc: Descriptor::new(
                desc.media_type.as_str(),
                desc.digest.clone(),
                desc.size,
            ),
            manifest,
            config,
            chain_ids,
            size,
            tags: BTreeSet::new(),
            repo_digests: BTreeSet::new(),
            parent: None,
            last_tag_time: None,
        })
    }

    /// Stores `config` and a manifest for it over already stored `layers` and
    /// records the image with `tags`. Layers must be committed already.
    pub(crate) fn register(
        &self,
        config_bytes: &[u8],
        layers: Vec<Descriptor>,
        tags: Vec<Reference>,
        parent: Option<Digest>,
    ) -> Result<Registered> {
        let config_digest = self.blobs.put_bytes(config_bytes)?;
        let manifest = Manifest {
            schema_version: 2,
            media_type: Some(MT_OCI_MANIFEST.into()),
            config: Descriptor::new(
                super::oci::MT_OCI_CONFIG,
                config_digest.clone(),
                config_bytes.len() as u64,
            ),
            layers,
            annotations: Default::default(),
        };
        let manifest_bytes = serde_json::to_vec(&manifest)
            .map_err(|e| ImageError::io("encode manifest", e.into()))?;
        self.record_image(&manifest_bytes, tags, parent, None)
    }

    /// Records an image whose manifest came from elsewhere (a registry), keeping
    /// its bytes so its digest stays the registry's. Config and layer blobs must
    /// be committed already, except the config, which is stored here.
    pub(crate) fn register_manifest(
        &self,
        manifest_bytes: &[u8],
        config_bytes: &[u8],
        tags: Vec<Reference>,
        repo_digest: Option<Reference>,
    ) -> Result<Registered> {
        let manifest: Manifest =
            serde_json::from_slice(manifest_bytes).map_err(|source| ImageError::Json {
                what: "manifest".into(),
                source,
            })?;
        let config_digest = self.blobs.put_bytes(config_bytes)?;
        if config_digest != manifest.config.digest {
            return Err(ImageError::DigestMismatch {
                what: "image config".into(),
                expected: manifest.config.digest,
                actual: config_digest,
            });
        }
        self.record_image(manifest_bytes, tags, None, repo_digest)
    }

    fn record_image(
        &self,
        manifest_bytes: &[u8],
        tags: Vec<Reference>,
        parent: Option<Digest>,
        repo_digest: Option<Reference>,
    ) -> Result<Registered> {
        let media_type = serde_json::from_slice::<serde_json::Value>(manifest_bytes)
            .ok()
            .and_then(|v| v["mediaType"].as_str().map(str::to_string))
            .unwrap_or_else(|| MT_OCI_MANIFEST.to_string());
        let manifest_digest = self.blobs.put_bytes(manifest_bytes)?;
        let desc = Descriptor::new(&media_type, manifest_digest, manifest_bytes.len() as u64);
        let mut cat = self.lock();
        let rec = self.read_record(&desc)?;
        let config_digest = rec.id.clone();
        let new = cat.get(&config_digest).is_none();
        if new {
            let mut rec = rec;
            rec.parent = parent;
            cat.insert(rec);
        }
        if let (Some(d), Some(rec)) = (repo_digest, cat.get_mut(&config_digest)) {
            rec.repo_digests
                .retain(|r| r.repository() != d.repository());
            rec.repo_digests.insert(d);
        }
        let now = timefmt::now_rfc3339();
        let mut displaced = Vec::new();
        for t in tags.iter().cloned() {
            if let Some(prev) = cat.tag(&config_digest, t.clone(), now.clone()) {
                displaced.push((t, prev));
            }
        }
        self.persist(&cat)?;
        Ok(Registered {
            id: config_digest,
            new,
            tags,
            displaced,
        })
    }

    pub fn list(&self) -> Vec<ImageRecord> {
        self.lock().all().cloned().collect()
    }

    pub fn is_empty(&self) -> bool {
        self.lock().is_empty()
    }

    pub fn resolve(&self, name: &str) -> Result<Resolved> {
        self.lock().resolve(name)
    }

    pub fn get(&self, name: &str) -> Result<ImageRecord> {
        let cat = self.lock();
        let id = cat.resolve(name)?;
        Ok(cat
            .get(id.id())
            .cloned()
            .expect("resolved ids are in the catalog"))
    }

    pub fn get_by_id(&self, id: &Digest) -> Option<ImageRecord> {
        self.lock().get(id).cloned()
    }

    /// Ids of images built on `id`.
    pub fn children(&self, id: &Digest) -> Vec<Digest> {
        self.lock()
            .children_of(id)
            .into_iter()
            .map(|r| r.id.clone())
            .collect()
    }

    /// The overlayfs lower dirs of an image, top layer first.
    pub fn lower_dirs(&self, rec: &ImageRecord) -> Vec<PathBuf> {
        rec.chain_ids
            .iter()
            .rev()
            .map(|c| self.layers.diff_dir(c))
            .collect()
    }

    /// Records that a registry holds image `id` under `repo_digest` (after a push).
    pub fn add_repo_digest(&self, id: &Digest, repo_digest: Reference) -> Result<()> {
        let mut cat = self.lock();
        if let Some(rec) = cat.get_mut(id) {
            rec.repo_digests
                .retain(|r| r.repository() != repo_digest.repository());
            rec.repo_digests.insert(repo_digest);
        }
        self.persist(&cat)
    }

    /// `docker tag SOURCE TARGET`.
    pub fn tag(&self, source: &str, target: Reference) -> Result<Registered> {
        let mut cat = self.lock();
        let id = cat.resolve(source)?.id().clone();
        let prev = cat.tag(&id, target.clone(), timefmt::now_rfc3339());
        self.persist(&cat)?;
        Ok(Registered {
            id,
            new: false,
            tags: vec![target.clone()],
            displaced: prev.map(|p| (target, p)).into_iter().collect(),
        })
    }

    /// `docker history`: the config's history joined with layer sizes and the
    /// local images that produced each step.
    pub fn history(&self, name: &str) -> Result<Vec<HistoryEntry>> {
        let cat = self.lock();
        let rec = cat
            .get(cat.resolve(name)?.id())
            .expect("resolved ids are in the catalog");
        let mut layer = 0;
        let mut out: Vec<HistoryEntry> = Vec::new();
        for h in &rec.config.history {
            let size = if h.empty_layer {
                0
            } else {
                let s = rec
                    .chain_ids
                    .get(layer)
                    .and_then(|c| self.layers.get(c))
                    .map_or(0, |m| m.size);
                layer += 1;
                s
            };
            out.push(HistoryEntry {
                id: None,
                tags: vec![],
                created: h
                    .created
                    .as_deref()
                    .and_then(timefmt::parse_rfc3339_secs)
                    .unwrap_or(0),
                created_by: h.created_by.clone().unwrap_or_default(),
                size,
                comment: h.comment.clone().unwrap_or_default(),
            });
        }
        if out.is_empty() {
            // An image whose config has no history still has one step per layer.
            for c in &rec.chain_ids {
                let size = self.layers.get(c).map_or(0, |m| m.size);
                out.push(HistoryEntry {
                    id: None,
                    tags: vec![],
                    created: 0,
                    created_by: String::new(),
                    size,
                    comment: String::new(),
                });
            }
        }
        // Mark the steps that local images (this one and its parents) end at.
        let mut cur = Some(rec);
        while let Some(r) = cur {
            let steps = r.config.history.len().max(1);
            if let Some(e) = out.get_mut(steps - 1) {
                if e.id.is_none() {
                    e.id = Some(r.id.clone());
                    e.tags = r.tags.iter().cloned().collect();
                }
            }
            cur = r.parent.as_ref().and_then(|p| cat.get(p));
        }
        out.reverse();
        Ok(out)
    }

    /// `docker rmi`: untags, deletes, prunes untagged parents, and collects
    /// unreferenced blobs and layers. `in_use` lists ids that containers use.
    pub fn remove(
        &self,
        name: &str,
        force: bool,
        prune: bool,
        in_use: &HashSet<Digest>,
    ) -> Result<Vec<Removal>> {
        let _gc = self.gc.write().unwrap_or_else(|p| p.into_inner());
        let mut cat = self.lock();
        let resolved = cat.resolve(name)?;
        let id = resolved.id().clone();
        let short = berth_types::short_id(id.as_str()).to_string();
        let mut out = Vec::new();
        match &resolved {
            Resolved::Reference(r, _) if r.tag().is_some() => {
                let rec = cat.get(&id).expect("resolved");
                let last_tag = rec.tags.len() == 1;
                if last_tag && in_use.contains(&id) && !force {
                    return Err(ImageError::Conflict(format!(
                        "conflict: unable to remove repository reference {name:?} (must force) - container is using its referenced image {short}"
                    )));
                }
                cat.get_mut(&id).expect("resolved").tags.remove(r);
                out.push(Removal::Untagged(r.clone(), id.clone()));
                if !last_tag || !cat.children_of(&id).is_empty() || in_use.contains(&id) {
                    self.persist(&cat)?;
                    return Ok(out);
                }
            }
            _ => {
                let rec = cat.get(&id).expect("resolved");
                if !cat.children_of(&id).is_empty() {
                    return Err(ImageError::Conflict(format!(
                        "conflict: unable to delete {short} (cannot be forced) - image has dependent child images"
                    )));
                }
                if in_use.contains(&id) && !force {
                    return Err(ImageError::Conflict(format!(
                        "conflict: unable to delete {short} (must be forced) - image is being used by a container"
                    )));
                }
                if rec.tags.len() > 1 && !force {
                    return Err(ImageError::Conflict(format!(
                        "conflict: unable to delete {short} (must be forced) - image is referenced in multiple repositories"
                    )));
                }
                let tags: Vec<_> = rec.tags.iter().cloned().collect();
                cat.get_mut(&id).expect("resolved").tags.clear();
                out.extend(tags.into_iter().map(|t| Removal::Untagged(t, id.clone())));
            }
        }
        // Delete the image, then each untagged parent nothing else builds on.
        let mut removed = vec![cat.remove(&id).expect("resolved")];
        out.push(Removal::Deleted(id));
        while let Some(parent) = removed
            .last()
            .and_then(|r| r.parent.clone())
            .filter(|_| prune)
        {
            let keep = match cat.get(&parent) {
                None => true,
                Some(p) => {
                    !p.tags.is_empty()
                        || !cat.children_of(&parent).is_empty()
                        || in_use.contains(&parent)
                }
            };
            if keep {
                break;
            }
            removed.push(cat.remove(&parent).expect("checked above"));
            out.push(Removal::Deleted(parent));
        }
        self.persist(&cat)?;
        out.extend(
            self.collect_garbage(&cat, &removed)
                .into_iter()
                .map(Removal::DeletedLayer),
        );
        Ok(out)
    }

    /// Deletes a blob no image uses (a registry client's `DELETE` of an upload
    /// it abandoned). A blob an image uses stays: the answer names the image.
    pub fn remove_unused_blob(&self, d: &Digest) -> BlobRemoval {
        let _writing = self.writing();
        let cat = self.lock();
        if !self.blobs.has(d) {
            return BlobRemoval::Unknown;
        }
        let user = cat.all().find(|r| {
            &r.manifest_desc.digest == d
                || &r.id == d
                || r.manifest.layers.iter().any(|l| &l.digest == d)
        });
        match user {
            Some(r) => BlobRemoval::InUse(r.id.clone()),
            None => {
                self.blobs.remove(d);
                BlobRemoval::Removed
            }
        }
    }

    /// Deletes blobs and layers of `removed` images that no remaining image uses.
    /// Returns the chain ids of deleted layers, top first.
    fn collect_garbage(&self, cat: &Catalog, removed: &[ImageRecord]) -> Vec<Digest> {
        let mut blobs_used = HashSet::new();
        let mut chains_used = HashSet::new();
        for r in cat.all() {
            blobs_used.insert(r.manifest_desc.digest.clone());
            blobs_used.insert(r.id.clone());
            blobs_used.extend(r.manifest.layers.iter().map(|l| l.digest.clone()));
            chains_used.extend(r.chain_ids.iter().cloned());
        }
        let mut deleted_layers = Vec::new();
        for r in removed {
            let blobs = [r.manifest_desc.digest.clone(), r.id.clone()]
                .into_iter()
                .chain(r.manifest.layers.iter().map(|l| l.digest.clone()));
            for b in blobs {
                if !blobs_used.contains(&b) {
                    self.blobs.remove(&b);
                }
            }
            for c in r.chain_ids.iter().rev() {
                if chains_used.insert(c.clone()) {
                    self.layers.remove(c);
                    deleted_layers.push(c.clone());
                }
            }
        }
        deleted_layers
    }
}

/// What [`ImageStore::remove_unused_blob`] did.
#[derive(Debug, PartialEq)]
pub enum BlobRemoval {
    Removed,
    Unknown,
    /// Kept: this image uses it.
    InUse(Digest),
}
