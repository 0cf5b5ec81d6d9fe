//! `docker diff` and `docker commit` for a container: its changes read from
//! its writable layer (`changes`), and a new image made of them
//! (`ImageStore::commit`), the container frozen meanwhile when asked.

use super::changes::{self, ChangeKind};
use super::supervisor::blocking_err;
use super::{Container, ContainerError, Supervisor};
use crate::image::commit::CommitOptions;
use crate::image::oci::ContainerConfig;
use crate::image::store::Registered;
use crate::runtime::cgroup;
use std::path::PathBuf;
use std::sync::Arc;

/// What `commit` takes besides the container.
#[derive(Debug, Clone, Default)]
pub struct CommitRequest {
    pub tag: Option<crate::image::Reference>,
    pub author: Option<String>,
    pub comment: Option<String>,
    pub changes: Vec<String>,
    /// Freeze a running container while its layer is read (`-p`, on by default).
    pub pause: bool,
}

impl Supervisor {
    /// The writable layer and the image's layers (top first) of `c`.
    fn layers_of(&self, c: &Container) -> Result<(PathBuf, Vec<PathBuf>), ContainerError> {
        let image_id: crate::image::Digest = c
            .image
            .parse()
            .map_err(|e| ContainerError::Io(format!("container image id: {e}")))?;
        let image = self.images.get_by_id(&image_id).ok_or_else(|| {
            ContainerError::Invalid(format!(
                "the image of container {} ({}) is gone",
                c.name, c.image
            ))
        })?;
        Ok((
            self.store.dir(&c.id).join("diff"),
            self.images.lower_dirs(&image),
        ))
    }

    /// `docker diff`: the container's changes, sorted by path.
    pub async fn changes(
        self: &Arc<Self>,
        name_or_id: &str,
    ) -> Result<Vec<(String, ChangeKind)>, ContainerError> {
        let c = self.store.get(name_or_id)?;
        let (upper, lowers) = self.layers_of(&c)?;
        tokio::task::spawn_blocking(move || {
            if !upper.is_dir() {
                return Ok(Vec::new()); // never started
            }
            changes::changes(&upper, &lowers)
                .map_err(|e| ContainerError::io("read the container's changes", e))
        })
        .await
        .map_err(blocking_err)?
    }

    /// `docker commit`: a new image of the container's image plus its changes.
    pub async fn commit(
        self: &Arc<Self>,
        name_or_id: &str,
        req: CommitRequest,
    ) -> Result<Registered, ContainerError> {
        let c = self.store.get(name_or_id)?;
        let (upper, lowers) = self.layers_of(&c)?;
        let base = self
            .images
            .get_by_id(
                &c.image
                    .parse()
                    .map_err(|e| ContainerError::Io(format!("{e}")))?,
            )
            .ok_or_else(|| ContainerError::Invalid(format!("the image of {} is gone", c.name)))?;
        let images = self.images.clone();
        let freeze = req.pause && c.is_running();
        let id = c.id.clone();
        let opts = CommitOptions {
            tag: req.tag.clone(),
            author: req.author.clone(),
            comment: req.comment.clone(),
            changes: req.changes.clone(),
            config: run_config(&c),
            created_by: std::iter::once(c.path.as_str())
                .chain(c.args.iter().map(String::as_str))
                .collect::<Vec<_>>()
                .join(" "),
        };
        let scratch = self.store.dir(&c.id).join("commit.tar");
        let made = tokio::task::spawn_blocking(move || {
            if freeze {
                cgroup::set_frozen(&id, true).map_err(ContainerError::Io)?;
            }
            // The layer goes to a file first: the container is frozen for
            // the read only, not for the unpack into the store.
            let written = std::fs::File::create(&scratch)
                .and_then(|f| {
                    let mut w = std::io::BufWriter::new(f);
                    if upper.is_dir() {
                        changes::write_layer(&upper, &lowers, &mut w)?;
                    } else {
                        tar::Builder::new(&mut w).finish()?;
                    }
                    std::io::Write::flush(&mut w)
                })
                .map_err(|e| ContainerError::io("read the container's changes", e));
            if freeze {
                let _ = cgroup::set_frozen(&id, false);
            }
            written?;
            let layer = std::fs::File::open(&scratch)
                .map_err(|e| ContainerError::io("read the container's changes", e))?;
            let made = images
                .commit(&base, std::io::BufReader::new(layer), &opts)
                .map_err(|e| ContainerError::Invalid(e.to_string()));
            let _ = std::fs::remove_file(&scratch);
            made
        })
        .await
        .map_err(blocking_err)??;
        Ok(made)
    }
}

/// The container's configuration as an image's run config.
fn run_config(c: &Container) -> ContainerConfig {
    let cfg = &c.config;
    ContainerConfig {
        user: cfg.user.clone(),
        exposed_ports: cfg.exposed_ports.clone(),
        env: cfg.env.clone(),
        entrypoint: cfg.entrypoint.clone(),
        cmd: cfg.cmd.clone(),
        volumes: cfg.volumes.clone(),
        working_dir: cfg.working_dir.clone(),
        labels: cfg.labels.clone(),
        stop_signal: cfg.stop_signal.clone().unwrap_or_default(),
        ..ContainerConfig::default()
    }
}
