//! New images on top of others: `docker commit` (a container's changes as
//! a layer, with its run configuration) and the builder's steps (a layer
//! from RUN, COPY or ADD; or only a new configuration, an empty layer in
//! the history, from ENV, CMD and the other metadata instructions).

use super::catalog::ImageRecord;
use super::changes::apply_changes;
use super::digest::Digest;
use super::error::{ImageError, IoContext, Result};
use super::oci::{ContainerConfig, Descriptor, History, ImageConfig, RootFs, MT_OCI_LAYER};
use super::reference::Reference;
use super::store::{ImageStore, Registered};
use crate::fsutil::{self, ScratchGuard};
use crate::timefmt;
use std::fs::File;
use std::io::Read;

/// What a new image is made on: an image, or nothing (`FROM scratch`).
#[derive(Debug, Clone)]
pub struct Base {
    pub id: Option<Digest>,
    pub config: ImageConfig,
    pub layers: Vec<Descriptor>,
    /// The chain id of the top layer.
    pub chain: Option<Digest>,
}

impl Base {
    pub fn of(rec: &ImageRecord) -> Self {
        Self {
            id: Some(rec.id.clone()),
            config: rec.config.clone(),
            layers: rec.manifest.layers.clone(),
            chain: rec.chain_ids.last().cloned(),
        }
    }

    /// An empty image for this machine.
    pub fn scratch() -> Self {
        Self {
            id: None,
            config: ImageConfig {
                architecture: super::import::host_architecture().into(),
                os: "linux".into(),
                rootfs: RootFs {
                    kind: "layers".into(),
                    diff_ids: Vec::new(),
                },
                ..ImageConfig::default()
            },
            layers: Vec::new(),
            chain: None,
        }
    }
}

/// One step's record in the new image's history.
#[derive(Debug, Clone, Default)]
pub struct Step {
    pub created_by: String,
    pub author: Option<String>,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct CommitOptions {
    pub tag: Option<Reference>,
    pub author: Option<String>,
    pub comment: Option<String>,
    /// Dockerfile instructions applied to `config` (`-c`).
    pub changes: Vec<String>,
    /// The container's configuration: the new image's run config.
    pub config: ContainerConfig,
    /// The history's "created by": the container's command.
    pub created_by: String,
}

impl ImageStore {
    /// `docker commit`: stores `layer` (an uncompressed tar) above `base`.
    pub fn commit(
        &self,
        base: &ImageRecord,
        layer: impl Read,
        opts: &CommitOptions,
    ) -> Result<Registered> {
        let mut config = base.config.clone();
        config.config = opts.config.clone();
        apply_changes(&mut config.config, &opts.changes)?;
        config.author = opts.author.clone();
        config.comment = opts.comment.clone();
        let step = Step {
            created_by: opts.created_by.clone(),
            author: opts.author.clone(),
            comment: opts.comment.clone(),
        };
        self.add_layer(&Base::of(base), layer, config, &step, opts.tag.clone())
    }

    /// A new image: `base` plus `layer` (an uncompressed tar), with `config`
    /// (whose rootfs and history this completes).
    pub fn add_layer(
        &self,
        base: &Base,
        layer: impl Read,
        config: ImageConfig,
        step: &Step,
        tag: Option<Reference>,
    ) -> Result<Registered> {
        let _writing = self.writing();
        let blob = ScratchGuard::new(fsutil::unique_path(self.scratch(), "layer"));
        let mut blob_file =
            File::create(blob.path()).ctx(|| format!("create {}", blob.path().display()))?;
        // The layer is both unpacked and kept as its blob, in one pass.
        let mut tee = super::import::TeeReader::new(layer, &mut blob_file);
        let pending = self
            .layers()
            .unpack(base.chain.as_ref(), &mut tee, "the new layer")?;
        drop(tee);
        blob_file.sync_all().ctx(|| "fsync new layer".into())?;
        let size = blob_file.metadata().ctx(|| "stat new layer".into())?.len();
        let diff_id = pending.meta.diff_id.clone();
        self.blobs().commit_scratch(blob, &diff_id)?;
        self.layers().commit(pending)?;
        let mut config = config;
        config.rootfs.diff_ids = base.config.rootfs.diff_ids.clone();
        config.rootfs.diff_ids.push(diff_id.clone());
        let mut layers = base.layers.clone();
        layers.push(Descriptor::new(MT_OCI_LAYER, diff_id, size));
        self.register_step(base, config, layers, step, false, tag)
    }

    /// A new image: `base`'s layers with `config` (an empty layer in the
    /// history).
    pub fn add_config(
        &self,
        base: &Base,
        config: ImageConfig,
        step: &Step,
        tag: Option<Reference>,
    ) -> Result<Registered> {
        let mut config = config;
        config.rootfs.diff_ids = base.config.rootfs.diff_ids.clone();
        self.register_step(base, config, base.layers.clone(), step, true, tag)
    }

    fn register_step(
        &self,
        base: &Base,
        mut config: ImageConfig,
        layers: Vec<Descriptor>,
        step: &Step,
        empty_layer: bool,
        tag: Option<Reference>,
    ) -> Result<Registered> {
        let created = timefmt::now_rfc3339();
        config.created = Some(created.clone());
        config.rootfs.kind = "layers".into();
        config.history = base.config.history.clone();
        config.history.push(History {
            created: Some(created),
            created_by: Some(step.created_by.clone()),
            author: step.author.clone(),
            comment: step.comment.clone(),
            empty_layer,
        });
        let bytes = serde_json::to_vec(&config)
            .map_err(|e| ImageError::io("encode image config", e.into()))?;
        self.register(&bytes, layers, tag.into_iter().collect(), base.id.clone())
    }
}
