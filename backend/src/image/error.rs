//! The image module's error type. Every message is lowercase and names its input.

use super::digest::{Digest, InvalidDigest};
use super::reference::ReferenceError;
use std::io;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// Docker's wording, which clients match on.
    #[error("No such image: {0}")]
    NotFound(String),
    #[error(transparent)]
    Reference(#[from] ReferenceError),
    #[error(transparent)]
    Digest(#[from] InvalidDigest),
    /// A tar or archive that cannot be read: corrupt, truncated, empty, or missing parts.
    #[error("{0}")]
    InvalidArchive(String),
    /// An archive entry that would escape the directory it is unpacked into.
    #[error("unsafe archive entry {entry:?}: {reason}")]
    UnsafeEntry { entry: String, reason: String },
    #[error("content digest mismatch for {what}: expected {expected}, got {actual}")]
    DigestMismatch {
        what: String,
        expected: Digest,
        actual: Digest,
    },
    /// Docker answers these with 409.
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{context}: {source}")]
    Io { context: String, source: io::Error },
    #[error("invalid json in {what}: {source}")]
    Json {
        what: String,
        source: serde_json::Error,
    },
}

pub type Result<T, E = ImageError> = std::result::Result<T, E>;

impl ImageError {
    pub fn io(context: impl Into<String>, source: io::Error) -> Self {
        ImageError::Io {
            context: context.into(),
            source,
        }
    }

    pub fn io_path(action: &str, path: &Path, source: io::Error) -> Self {
        ImageError::Io {
            context: format!("{action} {}", path.display()),
            source,
        }
    }

    pub fn unsafe_entry(entry: impl Into<String>, reason: impl Into<String>) -> Self {
        ImageError::UnsafeEntry {
            entry: entry.into(),
            reason: reason.into(),
        }
    }
}

/// Adds context to `io::Result`s.
pub trait IoContext<T> {
    fn ctx(self, context: impl FnOnce() -> String) -> Result<T>;
}

impl<T> IoContext<T> for io::Result<T> {
    fn ctx(self, context: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| ImageError::io(context(), e))
    }
}
