//! The container runtime, below the daemon: the OCI spec of a container
//! (`spec`), the per-container shim that owns its process, output and exit
//! status (`shim`), the container's init inside its namespaces (`init`),
//! capabilities (`caps`), cgroups (`cgroup`), user resolution (`user`) and
//! paths inside a root filesystem (`rootpath`). Knows nothing of HTTP.

pub mod caps;
pub mod cgroup;
pub mod exec;
pub mod init;
pub mod jsonlog;
pub mod rootpath;
pub mod seccomp;
pub mod seed;
pub mod shim;
pub mod spec;
pub mod stats;
pub mod stdio;
pub mod user;
