//! Containers as the daemon manages them: records (`model`, `store`), names,
//! creation from an image and a ContainerCreate request (`create`), mounts and
//! volumes (`mounts`, `volumes`), the lifecycle — start through the shim,
//! stop, kill, exit monitoring, restart policies, recovery after a daemon
//! restart (`supervisor`), the spare shim kept ready for fast starts (`spare`)
//! — the networks a container is on (`networking`), and the json-file logs
//! (`logs`). Knows nothing of
//! HTTP; the runtime below it is `crate::runtime`. A container's changes to
//! its image (`changes`) feed `diff` and `commit`.

pub mod changes;
pub mod commit;
pub mod copy;
pub mod create;
pub mod exec;
pub mod logs;
pub mod model;
pub mod mounts;
pub mod names;
pub mod networking;
pub mod spare;
pub mod store;
pub mod supervisor;
pub mod volumes;

pub use model::{Container, CreateRequest, Status};
pub use store::ContainerStore;
pub use supervisor::Supervisor;

#[derive(Debug, thiserror::Error)]
pub enum ContainerError {
    #[error("No such container: {0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
    /// The container's process could not be started (exit code, message).
    #[error("failed to create task for container: {1}: unknown")]
    StartFailed(i32, String),
    #[error("{0}")]
    NotModified(String),
    /// Something other than the container is missing (a network): 404
    /// with this message.
    #[error("{0}")]
    NoSuch(String),
    #[error("{0}")]
    Io(String),
}

impl ContainerError {
    pub fn io(what: &str, e: impl std::fmt::Display) -> Self {
        ContainerError::Io(format!("{what}: {e}"))
    }
}
