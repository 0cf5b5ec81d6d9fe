//! `docker diff` and `docker commit` for a container: its changes read from
//! its writable layer (`changes`), and a new image made of them
//! (`ImageStore::commit`), the container frozen meanwhile when asked.

use super::changes::{self, ChangeKind};
use super::supervisor::blocking_err;
use super::{Container, ContainerError, Supervisor};
use crate::image::commit::{Base, CommitOptions, Step};
use crate::image::oci::{ContainerConfig, ImageConfig};
use crate::image::store::Registered;
use crate::image::ImageError;
use crate::runtime::cgroup;
use std::path::{Path, PathBuf};
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
        let image = self.image_of(c)?;
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
        let base = self.image_of(&c)?;
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
        tokio::task::spawn_blocking(move || {
            with_layer(
                &upper,
                &lowers,
                &scratch,
                freeze.then_some(id.as_str()),
                |layer| images.commit(&base, layer, &opts),
            )
        })
        .await
        .map_err(blocking_err)?
    }

    /// A builder step (RUN): the stopped container `id`'s changes as a new
    /// image on `base`, with `config`.
    pub async fn commit_step(
        self: &Arc<Self>,
        id: &str,
        base: Base,
        config: ImageConfig,
        step: Step,
    ) -> Result<Registered, ContainerError> {
        let c = self.store.get(id)?;
        let (upper, lowers) = self.layers_of(&c)?;
        let images = self.images.clone();
        let scratch = self.store.dir(&c.id).join("commit.tar");
        tokio::task::spawn_blocking(move || {
            with_layer(&upper, &lowers, &scratch, None, |layer| {
                images.add_layer(&base, layer, config, &step, None)
            })
        })
        .await
        .map_err(blocking_err)?
    }
}

/// Writes the changes in `upper` to the file `scratch` (the container
/// `freeze` frozen meanwhile) and hands it to `make`; the container is
/// frozen for the read only, not for the store's unpack.
fn with_layer(
    upper: &Path,
    lowers: &[PathBuf],
    scratch: &Path,
    freeze: Option<&str>,
    make: impl FnOnce(std::io::BufReader<std::fs::File>) -> Result<Registered, ImageError>,
) -> Result<Registered, ContainerError> {
    if let Some(id) = freeze {
        cgroup::set_frozen(id, true).map_err(ContainerError::Io)?;
    }
    let written = std::fs::File::create(scratch)
        .and_then(|f| {
            let mut w = std::io::BufWriter::new(f);
            if upper.is_dir() {
                changes::write_layer(upper, lowers, &mut w)?;
            } else {
                tar::Builder::new(&mut w).finish()?;
            }
            std::io::Write::flush(&mut w)
        })
        .map_err(|e| ContainerError::io("read the container's changes", e));
    if let Some(id) = freeze {
        let _ = cgroup::set_frozen(id, false);
    }
    written?;
    let layer = std::fs::File::open(scratch)
        .map_err(|e| ContainerError::io("read the container's changes", e))?;
    let made =
        make(std::io::BufReader::new(layer)).map_err(|e| ContainerError::Invalid(e.to_string()));
    let _ = std::fs::remove_file(scratch);
    made
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
