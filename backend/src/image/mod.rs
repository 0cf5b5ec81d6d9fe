//! The local image store: an OCI image layout under `<data-root>/image` with
//! content-addressed blobs, the catalog of tags (`index.json`), and layers
//! unpacked once per chain id in the form overlayfs uses as lower dirs.
//!
//! Owns: everything under `<data-root>/image`. Knows nothing of HTTP or the
//! database: it takes paths and names, returns records, and is blocking code.

pub mod archive;
pub mod blobs;
pub mod catalog;
pub mod changes;
pub mod check;
pub mod commit;
pub mod digest;
pub mod error;
pub mod import;
pub mod layers;
pub mod oci;
pub mod reference;
pub mod store;
pub mod unpack;
pub mod zstd;

pub use catalog::{ImageRecord, Resolved};
pub use digest::Digest;
pub use error::ImageError;
pub use import::ImportOptions;
pub use reference::Reference;
pub use store::{BlobRemoval, HistoryEntry, ImageStore, Registered, Removal};
