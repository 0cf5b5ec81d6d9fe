//! Registries: the client side of the OCI distribution API. Owns talking to
//! registries (manifests, blobs, credentials) and pulling images into the
//! `ImageStore`. Knows nothing of the Engine API or the database.
//!
//! So far: pull from registries on loopback over HTTP, anonymous or with
//! `Basic` credentials. Push, login, search, token auth, HTTPS and Berth's own
//! `/v2/` server are the rest of issue 3.

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
