//! Unpacked layers, one directory per chain id: `layers/<chain-hex>/diff` is the
//! overlayfs lower dir and `meta.json` records diff id, parent chain and size.
//! A layer appears by renaming a finished scratch directory into place, so a
//! crash never leaves a half-unpacked layer visible.

use super::digest::{chain_id, Digest};
use super::error::{ImageError, IoContext, Result};
use super::unpack::{unpack_layer, Unpacked};
use crate::fsutil::{self, ScratchGuard};
use serde::{Deserialize, Serialize};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LayerMeta {
    pub chain_id: Digest,
    pub diff_id: Digest,
    pub parent: Option<Digest>,
    /// Bytes of file content in this layer alone.
    pub size: u64,
}

#[derive(Debug)]
pub struct LayerStore {
    dir: PathBuf,
    scratch: PathBuf,
}

/// A layer unpacked into scratch space, not yet visible.
#[derive(Debug)]
pub struct PendingLayer {
    guard: ScratchGuard,
    pub meta: LayerMeta,
    pub entries: u64,
}

impl LayerStore {
    pub fn open(dir: PathBuf, scratch: PathBuf) -> Result<Self> {
        fs::create_dir_all(&dir).ctx(|| format!("create {}", dir.display()))?;
        Ok(Self { dir, scratch })
    }

    fn layer_dir(&self, chain: &Digest) -> PathBuf {
        self.dir.join(chain.hex())
    }

    /// The overlayfs lower dir of a layer.
    pub fn diff_dir(&self, chain: &Digest) -> PathBuf {
        self.layer_dir(chain).join("diff")
    }

    pub fn get(&self, chain: &Digest) -> Option<LayerMeta> {
        let bytes = fs::read(self.layer_dir(chain).join("meta.json")).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    /// Unpacks `r` into scratch space as the layer above `parent`.
    pub fn unpack(
        &self,
        parent: Option<&Digest>,
        r: impl Read,
        what: &str,
    ) -> Result<PendingLayer> {
        let guard = ScratchGuard::new(fsutil::unique_path(&self.scratch, "layer"));
        let diff = guard.path().join("diff");
        fs::create_dir_all(&diff).ctx(|| format!("create {}", diff.display()))?;
        let Unpacked {
            diff_id,
            size,
            entries,
        } = unpack_layer(r, &diff, what)?;
        let meta = LayerMeta {
            chain_id: chain_id(parent, &diff_id),
            diff_id,
            parent: parent.cloned(),
            size,
        };
        Ok(PendingLayer {
            guard,
            meta,
            entries,
        })
    }

    /// Makes a pending layer visible (or drops it when the same chain is already there).
    pub fn commit(&self, pending: PendingLayer) -> Result<LayerMeta> {
        let PendingLayer { guard, meta, .. } = pending;
        let dst = self.layer_dir(&meta.chain_id);
        if dst.join("meta.json").is_file() {
            return Ok(meta);
        }
        let json = serde_json::to_vec_pretty(&meta)
            .map_err(|e| ImageError::io("encode layer meta", e.into()))?;
        fsutil::write_atomic(&guard.path().join("meta.json"), &json)
            .ctx(|| "write layer meta".into())?;
        fsutil::remove_any(&dst); // a leftover without meta.json is from a crash
        fs::rename(guard.path(), &dst)
            .ctx(|| format!("move layer {} into place", meta.chain_id))?;
        guard.keep();
        fsutil::sync_dir(&self.dir).ctx(|| format!("fsync {}", self.dir.display()))?;
        Ok(meta)
    }

    /// Removes a layer: first renamed into scratch (gone at once, whole),
    /// then deleted; a crash in between leaves only scratch, emptied at the
    /// next start.
    pub fn remove(&self, chain: &Digest) {
        let dir = self.layer_dir(chain);
        let doomed = fsutil::unique_path(&self.scratch, "removed-layer");
        match fs::rename(&dir, &doomed) {
            Ok(()) => fsutil::remove_any(&doomed),
            Err(_) => fsutil::remove_any(&dir),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}
