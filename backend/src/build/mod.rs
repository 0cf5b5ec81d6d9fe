//! Image builds from Dockerfiles (`docker build`, the classic builder):
//! the Dockerfile parser and variable substitution (`dockerfile`),
//! `.dockerignore` (`ignore`), the build context on the daemon's side
//! (`context`), the step cache (`cache`) and the executor (`builder`).
//! Knows nothing of HTTP; images go to the store through
//! `ImageStore::add_layer`/`add_config`, RUN steps run as containers
//! through the supervisor.

pub mod builder;
pub mod cache;
pub mod context;
pub mod dockerfile;
pub mod ignore;
