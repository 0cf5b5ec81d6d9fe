//! `ContainerStore`: every container's record, kept in memory and on disk
//! (`containers/ID/container.json`, written atomically), looked up by id, id
//! prefix or name, with a change counter that waiters watch.

use super::model::Container;
use super::ContainerError;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use tokio::sync::watch;

pub const RECORD_FILE: &str = "container.json";

#[derive(Debug)]
pub struct ContainerStore {
    root: PathBuf,
    inner: Mutex<HashMap<String, Container>>,
    changes: watch::Sender<u64>,
}

impl ContainerStore {
    /// Opens `root` (the `containers` directory), reading every record in it.
    pub fn open(root: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(root)?;
        let mut map = HashMap::new();
        for entry in std::fs::read_dir(root)? {
            let path = entry?.path().join(RECORD_FILE);
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            match serde_json::from_slice::<Container>(&bytes) {
                Ok(mut c) => {
                    c.upgrade_record();
                    map.insert(c.id.clone(), c);
                }
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "unreadable container record skipped")
                }
            }
        }
        Ok(Self {
            root: root.to_path_buf(),
            inner: Mutex::new(map),
            changes: watch::channel(0).0,
        })
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Container>> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The directory of all containers.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The container's own directory.
    pub fn dir(&self, id: &str) -> PathBuf {
        self.root.join(id)
    }

    fn persist(&self, c: &Container) -> Result<(), ContainerError> {
        let dir = self.dir(&c.id);
        std::fs::create_dir_all(&dir)
            .map_err(|e| ContainerError::io("create container directory", e))?;
        let bytes = serde_json::to_vec_pretty(c).map_err(|e| ContainerError::Io(e.to_string()))?;
        crate::fsutil::replace_file(&dir.join(RECORD_FILE), &bytes)
            .map_err(|e| ContainerError::io("write container record", e))
    }

    fn changed(&self) {
        self.changes.send_modify(|n| *n += 1);
    }

    /// Signals a change that lives outside the records (an exec ended).
    pub fn touch(&self) {
        self.changed();
    }

    /// A receiver that sees every change of any container.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// Adds a new container; its name must be free.
    pub fn insert(&self, c: Container) -> Result<(), ContainerError> {
        let mut map = self.lock();
        if let Some(other) = map.values().find(|o| o.name == c.name) {
            return Err(ContainerError::Conflict(format!(
                "Conflict. The container name \"/{}\" is already in use by container \"{}\". You have to remove (or rename) that container to be able to reuse that name.",
                c.name, other.id
            )));
        }
        self.persist(&c)?;
        map.insert(c.id.clone(), c);
        drop(map);
        self.changed();
        Ok(())
    }

    /// Finds a container by full id, name (with or without `/`) or unique id prefix.
    pub fn get(&self, name_or_id: &str) -> Result<Container, ContainerError> {
        let map = self.lock();
        find(&map, name_or_id).cloned()
    }

    pub fn list(&self) -> Vec<Container> {
        let mut v: Vec<Container> = self.lock().values().cloned().collect();
        v.sort_by(|a, b| b.created.cmp(&a.created));
        v
    }

    /// Changes a container's record and saves it; returns the new record.
    pub fn update(
        &self,
        id: &str,
        f: impl FnOnce(&mut Container) -> Result<(), ContainerError>,
    ) -> Result<Container, ContainerError> {
        let mut map = self.lock();
        let c = map
            .get_mut(id)
            .ok_or_else(|| ContainerError::NotFound(id.to_string()))?;
        let mut next = c.clone();
        f(&mut next)?;
        self.persist(&next)?;
        *c = next.clone();
        drop(map);
        self.changed();
        Ok(next)
    }

    /// Renames a container; the new name must be free.
    pub fn rename(&self, id: &str, name: &str) -> Result<Container, ContainerError> {
        let mut map = self.lock();
        if let Some(other) = map.values().find(|o| o.name == name && o.id != id) {
            return Err(ContainerError::Conflict(format!(
                "Conflict. The container name \"/{name}\" is already in use by container \"{}\". You have to remove (or rename) that container to be able to reuse that name.",
                other.id
            )));
        }
        let c = map
            .get_mut(id)
            .ok_or_else(|| ContainerError::NotFound(id.to_string()))?;
        let mut next = c.clone();
        next.name = name.to_string();
        self.persist(&next)?;
        *c = next.clone();
        drop(map);
        self.changed();
        Ok(next)
    }

    /// Forgets a container and deletes its directory.
    pub fn remove(&self, id: &str) {
        self.lock().remove(id);
        crate::fsutil::remove_any(&self.dir(id));
        self.changed();
    }

    pub fn name_taken(&self, name: &str) -> bool {
        self.lock().values().any(|c| c.name == name)
    }
}

fn find<'a>(
    map: &'a HashMap<String, Container>,
    name_or_id: &str,
) -> Result<&'a Container, ContainerError> {
    let key = name_or_id.trim_start_matches('/');
    if let Some(c) = map.get(key) {
        return Ok(c);
    }
    if let Some(c) = map.values().find(|c| c.name == key) {
        return Ok(c);
    }
    if !key.is_empty() && key.bytes().all(|b| b.is_ascii_hexdigit()) {
        let mut hits = map.values().filter(|c| c.id.starts_with(key));
        if let Some(c) = hits.next() {
            if hits.next().is_some() {
                return Err(ContainerError::Invalid(format!(
                    "multiple IDs found with provided prefix: {key}"
                )));
            }
            return Ok(c);
        }
    }
    Err(ContainerError::NotFound(name_or_id.to_string()))
}
