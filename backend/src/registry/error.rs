//! The registry module's error type; messages name the registry and reference.

use crate::image::ImageError;

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("cannot reach registry {registry}: {detail}")]
    Unreachable { registry: String, detail: String },
    /// Docker's wording; the docker CLI matches on it.
    #[error("pull access denied for {reference}, repository does not exist or may require 'docker login': the registry answered 401 unauthorized")]
    Unauthorized { reference: String },
    #[error("manifest for {reference} not found: manifest unknown")]
    ManifestUnknown { reference: String },
    #[error("{0}")]
    Unsupported(String),
    #[error("invalid registry credentials: {0}")]
    BadAuth(String),
    #[error("registry {registry}: {detail}")]
    Protocol { registry: String, detail: String },
    #[error(transparent)]
    Image(#[from] ImageError),
}
