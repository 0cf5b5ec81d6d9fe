//! Registries: the client side of the OCI distribution API. Owns talking to
//! registries (manifests, blobs, credentials) and pulling images into the
//! `ImageStore`. Knows nothing of the Engine API or the database.
//!
//! Pull, push, login and search against registries on loopback over HTTP,
//! anonymous, `Basic` or `Bearer` (token service on loopback); the upload
//! sessions of Berth's own `/v2/` server. HTTPS registries are not reached yet.

pub mod auth;
pub mod client;
pub mod credentials;
pub mod error;
pub mod pull;
pub mod push;
pub mod search;
pub mod uploads;

pub use auth::Credentials;
pub use client::RegistryClient;
pub use credentials::CredentialStore;
pub use error::RegistryError;
