//! Blob upload sessions of Berth's own registry (`/v2/…/blobs/uploads/`): each
//! session is a scratch file that chunks are appended to; finishing checks the
//! digest and moves the blob into the store. Abandoned sessions vanish with the
//! scratch directory at the next start.

use crate::fsutil::{self, ScratchGuard};
use crate::image::digest::HashingReader;
use crate::image::{Digest, ImageError, ImageStore};
use std::collections::HashMap;
use std::io::Write;
use std::sync::Mutex;

#[derive(Debug, Default)]
pub struct UploadSessions {
    sessions: Mutex<HashMap<String, ScratchGuard>>,
}

#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("blob upload unknown: {0}")]
    Unknown(String),
    #[error("provided digest did not match uploaded content: expected {expected}, got {actual}")]
    DigestMismatch { expected: Digest, actual: Digest },
    #[error(transparent)]
    Image(#[from] ImageError),
}

impl UploadSessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, ScratchGuard>> {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts a session; returns its id.
    pub fn start(&self, store: &ImageStore) -> Result<String, UploadError> {
        let path = fsutil::unique_path(store.scratch(), "upload");
        std::fs::File::create(&path).map_err(|e| ImageError::io("create upload", e))?;
        let id = Digest::of(path.as_os_str().as_encoded_bytes()).hex()[..32].to_string();
        self.lock().insert(id.clone(), ScratchGuard::new(path));
        Ok(id)
    }

    /// Appends a chunk; returns the new size.
    pub fn append(&self, id: &str, data: &[u8]) -> Result<u64, UploadError> {
        let sessions = self.lock();
        let guard = sessions
            .get(id)
            .ok_or_else(|| UploadError::Unknown(id.into()))?;
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(guard.path())
            .map_err(|e| ImageError::io("open upload", e))?;
        f.write_all(data)
            .map_err(|e| ImageError::io("write upload", e))?;
        Ok(f.metadata()
            .map_err(|e| ImageError::io("stat upload", e))?
            .len())
    }

    /// Bytes received so far.
    pub fn size(&self, id: &str) -> Result<u64, UploadError> {
        let sessions = self.lock();
        let guard = sessions
            .get(id)
            .ok_or_else(|| UploadError::Unknown(id.into()))?;
        Ok(std::fs::metadata(guard.path())
            .map_err(|e| ImageError::io("stat upload", e))?
            .len())
    }

    /// Checks the upload against `digest` and stores it as that blob.
    pub fn finish(&self, store: &ImageStore, id: &str, digest: &Digest) -> Result<(), UploadError> {
        let guard = self
            .lock()
            .remove(id)
            .ok_or_else(|| UploadError::Unknown(id.into()))?;
        let f = std::fs::File::open(guard.path()).map_err(|e| ImageError::io("open upload", e))?;
        let mut hr = HashingReader::new(f);
        hr.drain().map_err(|e| ImageError::io("read upload", e))?;
        let (actual, _) = hr.finish();
        if &actual != digest {
            return Err(UploadError::DigestMismatch {
                expected: digest.clone(),
                actual,
            });
        }
        store.blobs().commit_scratch(guard, digest)?;
        Ok(())
    }

    pub fn cancel(&self, id: &str) -> Result<(), UploadError> {
        self.lock()
            .remove(id)
            .map(drop)
            .ok_or_else(|| UploadError::Unknown(id.into()))
    }
}
