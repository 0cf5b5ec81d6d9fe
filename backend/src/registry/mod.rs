//! Registries: the client side of the OCI distribution API. Owns talking to
//! registries (manifests, blobs, credentials) and pulling images into the
//! `ImageStore`. Knows nothing of the Engine API or the database.
//!
//! Pull, push, login and search over HTTPS (verified, or not for insecure
//! registries) or HTTP (insecure registries without TLS), anonymous, `Basic` or
//! `Bearer` (token service); the upload sessions of Berth's own `/v2/` server.

pub mod auth;
pub mod client;
pub mod credentials;
pub mod error;
pub mod pull;
pub mod push;
pub mod search;
pub mod transport;
pub mod uploads;

pub use auth::Credentials;
pub use client::RegistryClient;
pub use credentials::CredentialStore;
pub use error::RegistryError;
pub use transport::Transport;
