//! The catalog of local images and their tags, persisted as the OCI layout's
//! `index.json` (one descriptor per image and tag; an image without tags keeps
//! one untagged descriptor). Pure in-memory logic plus (de)serialisation; the
//! store decides when to save.

use super::digest::Digest;
use super::error::{ImageError, Result};
use super::oci::{
    Descriptor, ImageConfig, Index, Manifest, ANNOTATION_IMAGE_NAME, ANNOTATION_PARENT,
    ANNOTATION_REF_NAME,
};
use super::reference::Reference;
use std::collections::{BTreeMap, BTreeSet};

const ANNOTATION_CONFIG: &str = "io.berth.image.config";
const ANNOTATION_TAG_TIME: &str = "io.berth.image.tagged";
const ANNOTATION_REPO_DIGESTS: &str = "io.berth.image.repo-digests";

/// One local image: its manifest, config and derived facts.
#[derive(Debug, Clone)]
pub struct ImageRecord {
    /// The image id: the digest of its config.
    pub id: Digest,
    pub manifest_desc: Descriptor,
    pub manifest: Manifest,
    pub config: ImageConfig,
    /// Chain ids of its layers, bottom first.
    pub chain_ids: Vec<Digest>,
    /// Sum of the layers' content sizes.
    pub size: u64,
    pub tags: BTreeSet<Reference>,
    /// `repo@sha256:…` names of the manifest in the registries it came from.
    pub repo_digests: BTreeSet<Reference>,
    /// The image this one was built or committed on, where known.
    pub parent: Option<Digest>,
    pub last_tag_time: Option<String>,
}

/// How a name given by a user resolved.
#[derive(Debug, Clone, PartialEq)]
pub enum Resolved {
    /// By a tag (or digest) reference.
    Reference(Reference, Digest),
    /// By a full id or an unambiguous id prefix.
    Id(Digest),
}

impl Resolved {
    pub fn id(&self) -> &Digest {
        match self {
            Resolved::Reference(_, id) | Resolved::Id(id) => id,
        }
    }
}

#[derive(Debug, Default)]
pub struct Catalog {
    images: BTreeMap<Digest, ImageRecord>,
}

/// An entry of `index.json` before its manifest and config are read.
#[derive(Debug)]
pub struct IndexEntry {
    pub manifest: Descriptor,
    pub config: Option<Digest>,
    pub tag: Option<Reference>,
    pub parent: Option<Digest>,
    pub tag_time: Option<String>,
    pub repo_digests: Vec<Reference>,
}

impl Catalog {
    pub fn insert(&mut self, rec: ImageRecord) {
        self.images.insert(rec.id.clone(), rec);
    }

    pub fn get(&self, id: &Digest) -> Option<&ImageRecord> {
        self.images.get(id)
    }

    pub fn get_mut(&mut self, id: &Digest) -> Option<&mut ImageRecord> {
        self.images.get_mut(id)
    }

    pub fn remove(&mut self, id: &Digest) -> Option<ImageRecord> {
        self.images.remove(id)
    }

    pub fn all(&self) -> impl Iterator<Item = &ImageRecord> {
        self.images.values()
    }

    pub fn len(&self) -> usize {
        self.images.len()
    }

    pub fn is_empty(&self) -> bool {
        self.images.is_empty()
    }

    pub fn by_reference(&self, r: &Reference) -> Option<&ImageRecord> {
        self.images.values().find(|i| {
            i.tags.contains(r)
                || i.repo_digests.contains(r)
                || r.digest().is_some_and(|d| {
                    d == &i.manifest_desc.digest
                        && i.tags.iter().any(|t| t.repository() == r.repository())
                })
        })
    }

    pub fn children_of(&self, id: &Digest) -> Vec<&ImageRecord> {
        self.images
            .values()
            .filter(|i| i.parent.as_ref() == Some(id))
            .collect()
    }

    /// Resolves what a user typed: a reference first (`busybox` means
    /// `busybox:latest`), then a full id or unique id prefix, as Docker does.
    pub fn resolve(&self, name: &str) -> Result<Resolved> {
        let hex = name.strip_prefix("sha256:").unwrap_or(name);
        let looks_like_id = !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit());
        match Reference::parse_tagged(name) {
            Ok(r) => {
                if let Some(rec) = self.by_reference(&r) {
                    return Ok(Resolved::Reference(r, rec.id.clone()));
                }
            }
            Err(e) if !looks_like_id => return Err(e.into()),
            Err(_) => {}
        }
        if !looks_like_id {
            return Err(ImageError::NotFound(name.to_string()));
        }
        let hex = hex.to_ascii_lowercase();
        let mut found = self.images.keys().filter(|id| id.hex().starts_with(&hex));
        match (found.next(), found.next()) {
            (Some(id), None) => Ok(Resolved::Id(id.clone())),
            (Some(_), Some(_)) => Err(ImageError::Invalid(format!(
                "multiple IDs found with provided prefix: {name}"
            ))),
            _ => Err(ImageError::NotFound(name.to_string())),
        }
    }

    /// Points `r` at image `id`; returns the image that held it before, if another.
    pub fn tag(&mut self, id: &Digest, r: Reference, time: String) -> Option<Digest> {
        let previous = self
            .images
            .values()
            .find(|i| i.tags.contains(&r))
            .map(|i| i.id.clone());
        if let Some(prev) = previous.as_ref().filter(|p| *p != id) {
            if let Some(p) = self.images.get_mut(prev) {
                p.tags.remove(&r);
            }
        }
        if let Some(rec) = self.images.get_mut(id) {
            rec.tags.insert(r);
            rec.last_tag_time = Some(time);
        }
        previous.filter(|p| p != id)
    }

    /// The `index.json` of the catalog.
    pub fn to_index(&self) -> Index {
        let mut manifests = Vec::new();
        for rec in self.images.values() {
            let base = |tag: Option<&Reference>| {
                let mut d = rec.manifest_desc.clone();
                d.annotations
                    .insert(ANNOTATION_CONFIG.into(), rec.id.to_string());
                if let Some(p) = &rec.parent {
                    d.annotations
                        .insert(ANNOTATION_PARENT.into(), p.to_string());
                }
                if !rec.repo_digests.is_empty() {
                    let list: Vec<String> =
                        rec.repo_digests.iter().map(|r| r.to_string()).collect();
                    d.annotations
                        .insert(ANNOTATION_REPO_DIGESTS.into(), list.join(","));
                }
                if let Some(t) = &rec.last_tag_time {
                    d.annotations.insert(ANNOTATION_TAG_TIME.into(), t.clone());
                }
                if let Some(t) = tag {
                    d.annotations
                        .insert(ANNOTATION_IMAGE_NAME.into(), t.to_string());
                    if let Some(tag) = t.tag() {
                        d.annotations.insert(ANNOTATION_REF_NAME.into(), tag.into());
                    }
                }
                d
            };
            if rec.tags.is_empty() {
                manifests.push(base(None));
            }
            for t in &rec.tags {
                manifests.push(base(Some(t)));
            }
        }
        Index::new(manifests)
    }

    /// Splits an `index.json` into entries; the store reads their manifests.
    pub fn entries_of(index: Index) -> Vec<IndexEntry> {
        index
            .manifests
            .into_iter()
            .map(|mut d| {
                let ann = std::mem::take(&mut d.annotations);
                IndexEntry {
                    config: ann.get(ANNOTATION_CONFIG).and_then(|s| s.parse().ok()),
                    tag: ann
                        .get(ANNOTATION_IMAGE_NAME)
                        .and_then(|s| Reference::parse(s).ok()),
                    parent: ann.get(ANNOTATION_PARENT).and_then(|s| s.parse().ok()),
                    tag_time: ann.get(ANNOTATION_TAG_TIME).cloned(),
                    repo_digests: ann
                        .get(ANNOTATION_REPO_DIGESTS)
                        .map(|l| {
                            l.split(',')
                                .filter_map(|r| Reference::parse(r).ok())
                                .collect()
                        })
                        .unwrap_or_default(),
                    manifest: d,
                }
            })
            .collect()
    }
}
