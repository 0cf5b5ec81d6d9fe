//! `docker import`: a root filesystem tar (plain or gzip) becomes a one-layer
//! image. The layer is unpacked and its uncompressed stream stored as the blob in
//! one pass; nothing is visible unless the whole archive was valid.

use super::changes::apply_changes;
use super::error::{ImageError, IoContext, Result};
use super::oci::{ContainerConfig, Descriptor, History, ImageConfig, RootFs, MT_OCI_LAYER};
use super::reference::Reference;
use super::store::{ImageStore, Registered};
use super::unpack::decompressed;
use crate::fsutil::{self, ScratchGuard};
use crate::timefmt;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;

#[derive(Debug, Clone, Default)]
pub struct ImportOptions {
    pub tag: Option<Reference>,
    /// The commit message; defaults to "Imported from SOURCE".
    pub message: Option<String>,
    pub changes: Vec<String>,
    /// Where the archive came from, for messages (`-` for a stream).
    pub source: String,
}

/// The architecture name Docker uses for this machine.
pub fn host_architecture() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        other => other,
    }
}

impl ImageStore {
    /// Imports the archive at `src` as a new image.
    pub fn import(&self, src: &Path, opts: &ImportOptions) -> Result<Registered> {
        let mut run_config = ContainerConfig::default();
        apply_changes(&mut run_config, &opts.changes)?;
        let _writing = self.writing();

        let file = File::open(src).ctx(|| format!("open {}", src.display()))?;
        if file.metadata().map(|m| m.len()).unwrap_or(0) == 0 {
            return Err(ImageError::InvalidArchive(format!(
                "{} is empty: expected a tar archive",
                opts.source
            )));
        }
        let blob = ScratchGuard::new(fsutil::unique_path(self.scratch(), "import"));
        let blob_file =
            File::create(blob.path()).ctx(|| format!("create {}", blob.path().display()))?;
        let mut tee = TeeReader::new(decompressed(file, &opts.source)?, blob_file);
        let pending = self.layers().unpack(None, &mut tee, &opts.source)?;
        if pending.entries == 0 {
            return Err(ImageError::InvalidArchive(format!(
                "{} contains no files",
                opts.source
            )));
        }
        tee.copy.sync_all().ctx(|| "fsync imported layer".into())?;
        let diff_id = pending.meta.diff_id.clone();
        let blob_size = tee
            .copy
            .metadata()
            .ctx(|| "stat imported layer".into())?
            .len();
        self.blobs().commit_scratch(blob, &diff_id)?;
        self.layers().commit(pending)?;

        let created = timefmt::now_rfc3339();
        let comment = opts
            .message
            .clone()
            .unwrap_or_else(|| format!("Imported from {}", opts.source));
        let config = ImageConfig {
            architecture: host_architecture().into(),
            os: "linux".into(),
            created: Some(created.clone()),
            comment: Some(comment.clone()),
            config: run_config,
            rootfs: RootFs {
                kind: "layers".into(),
                diff_ids: vec![diff_id.clone()],
            },
            history: vec![History {
                created: Some(created),
                comment: Some(comment),
                ..History::default()
            }],
            ..ImageConfig::default()
        };
        let bytes = serde_json::to_vec(&config)
            .map_err(|e| ImageError::io("encode image config", e.into()))?;
        let layer = Descriptor::new(MT_OCI_LAYER, diff_id, blob_size);
        self.register(
            &bytes,
            vec![layer],
            opts.tag.clone().into_iter().collect(),
            None,
        )
    }
}

/// Copies everything read from `inner` into `copy`.
pub(super) struct TeeReader<R, W> {
    inner: R,
    pub(super) copy: W,
}

impl<R, W> TeeReader<R, W> {
    pub(super) fn new(inner: R, copy: W) -> Self {
        Self { inner, copy }
    }
}

impl<R: Read, W: Write> Read for TeeReader<R, W> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.copy.write_all(&buf[..n])?;
        Ok(n)
    }
}
