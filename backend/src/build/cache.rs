//! The build cache, as Docker's classic builder keeps it: a step is reused
//! when an image exists whose parent is the step's parent image and which
//! was made by the same step (the instruction after substitution, the build
//! args in scope, and for COPY/ADD the content of the copied files). The
//! map from step key to image id is `build-cache.json` in the data root.

use crate::image::{Digest, ImageStore};
use sha2::{Digest as _, Sha256};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;

#[derive(Debug)]
pub struct Cache {
    path: PathBuf,
    map: Mutex<HashMap<String, String>>,
}

/// The key of a step made on `parent` and described by `step`.
pub fn key(parent: Option<&Digest>, step: &str) -> String {
    let mut h = Sha256::new();
    h.update(parent.map(|d| d.to_string()).unwrap_or_default().as_bytes());
    h.update(b"\n");
    h.update(step.as_bytes());
    format!("{:x}", h.finalize())
}

impl Cache {
    pub fn open(path: PathBuf) -> Self {
        let map = std::fs::read(&path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        Self {
            path,
            map: Mutex::new(map),
        }
    }

    /// The image made by this step before, if it is still there.
    pub fn get(&self, images: &ImageStore, key: &str) -> Option<Digest> {
        let id = self
            .map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)?
            .clone();
        let id: Digest = id.parse().ok()?;
        images.get_by_id(&id).map(|_| id)
    }

    pub fn put(&self, key: String, id: &Digest) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        map.insert(key, id.to_string());
        self.save(&map);
    }

    fn save(&self, map: &HashMap<String, String>) {
        if let Ok(bytes) = serde_json::to_vec(map) {
            if let Err(e) = crate::fsutil::replace_file(&self.path, &bytes) {
                tracing::warn!(error = %e, "could not save the build cache");
            }
        }
    }

    /// Every step key with the image id it made.
    pub fn entries(&self) -> Vec<(String, String)> {
        let map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        let mut v: Vec<_> = map.iter().map(|(k, i)| (k.clone(), i.clone())).collect();
        v.sort();
        v
    }

    /// Forgets every step; the keys forgotten.
    pub fn clear(&self) -> Vec<String> {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        let keys: Vec<String> = map.drain().map(|(k, _)| k).collect();
        self.save(&map);
        keys
    }
}
