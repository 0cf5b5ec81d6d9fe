//! `docker commit`: a container's changes (a layer tar) on top of its image
//! become a new image, with the container's configuration, `--change`
//! instructions applied, and the author and message in the config and the
//! history.

use super::catalog::ImageRecord;
use super::changes::apply_changes;
use super::error::{IoContext, Result};
use super::oci::{ContainerConfig, Descriptor, History, MT_OCI_LAYER};
use super::reference::Reference;
use super::store::{ImageStore, Registered};
use crate::fsutil::{self, ScratchGuard};
use crate::timefmt;
use std::fs::File;
use std::io::Read;

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
    /// Stores `layer` (an uncompressed tar) above `base` as a new image.
    pub fn commit(
        &self,
        base: &ImageRecord,
        layer: impl Read,
        opts: &CommitOptions,
    ) -> Result<Registered> {
        let mut run_config = opts.config.clone();
        apply_changes(&mut run_config, &opts.changes)?;
        let _writing = self.writing();
        let blob = ScratchGuard::new(fsutil::unique_path(self.scratch(), "commit"));
        let mut blob_file =
            File::create(blob.path()).ctx(|| format!("create {}", blob.path().display()))?;
        // The layer is both unpacked and kept as its blob, in one pass.
        let mut tee = super::import::TeeReader::new(layer, &mut blob_file);
        let pending =
            self.layers()
                .unpack(base.chain_ids.last(), &mut tee, "the container's changes")?;
        drop(tee);
        blob_file
            .sync_all()
            .ctx(|| "fsync committed layer".into())?;
        let size = blob_file
            .metadata()
            .ctx(|| "stat committed layer".into())?
            .len();
        let diff_id = pending.meta.diff_id.clone();
        self.blobs().commit_scratch(blob, &diff_id)?;
        self.layers().commit(pending)?;

        let created = timefmt::now_rfc3339();
        let mut config = base.config.clone();
        config.created = Some(created.clone());
        config.author = opts.author.clone();
        config.comment = opts.comment.clone();
        config.config = run_config;
        config.rootfs.diff_ids.push(diff_id.clone());
        config.history.push(History {
            created: Some(created),
            created_by: Some(opts.created_by.clone()),
            author: opts.author.clone(),
            comment: opts.comment.clone(),
            empty_layer: false,
        });
        let bytes = serde_json::to_vec(&config)
            .map_err(|e| super::error::ImageError::io("encode image config", e.into()))?;
        let mut layers = base.manifest.layers.clone();
        layers.push(Descriptor::new(MT_OCI_LAYER, diff_id, size));
        self.register(
            &bytes,
            layers,
            opts.tag.clone().into_iter().collect(),
            Some(base.id.clone()),
        )
    }
}
