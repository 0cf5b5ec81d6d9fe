//! Local volumes: `volumes/NAME/_data` under the data root, with a small
//! record beside it (`volume.json`: creation time, labels, whether it is
//! anonymous). Named volumes outlive containers; anonymous ones go with
//! `rm -v` or `--rm`.

use super::ContainerError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Volume {
    pub name: String,
    pub created_at: String,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub anonymous: bool,
}

#[derive(Debug)]
pub struct VolumeStore {
    root: PathBuf,
}

impl VolumeStore {
    pub fn open(root: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(root)?;
        Ok(Self {
            root: root.to_path_buf(),
        })
    }

    /// Where the volume's files live (its mount source).
    pub fn data_dir(&self, name: &str) -> PathBuf {
        self.root.join(name).join("_data")
    }

    pub fn validate_name(name: &str) -> Result<(), ContainerError> {
        if name.len() >= 2 && super::names::follows_name_rule(name) {
            Ok(())
        } else {
            Err(ContainerError::Invalid(format!(
                "create {name}: \"{name}\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host directory, use absolute path"
            )))
        }
    }

    /// Creates the volume unless it exists; returns it either way.
    pub fn ensure(
        &self,
        name: &str,
        labels: BTreeMap<String, String>,
        anonymous: bool,
    ) -> Result<Volume, ContainerError> {
        Self::validate_name(name)?;
        if let Ok(v) = self.get(name) {
            return Ok(v);
        }
        let v = Volume {
            name: name.to_string(),
            created_at: crate::timefmt::now_rfc3339(),
            labels,
            anonymous,
        };
        std::fs::create_dir_all(self.data_dir(name))
            .map_err(|e| ContainerError::io("create volume", e))?;
        let bytes = serde_json::to_vec(&v).map_err(|e| ContainerError::Io(e.to_string()))?;
        crate::fsutil::write_atomic(&self.root.join(name).join("volume.json"), &bytes)
            .map_err(|e| ContainerError::io("write volume record", e))?;
        Ok(v)
    }

    pub fn get(&self, name: &str) -> Result<Volume, ContainerError> {
        let not_found = || ContainerError::NotFound(format!("get {name}: no such volume"));
        if Self::validate_name(name).is_err() {
            return Err(not_found());
        }
        let bytes =
            std::fs::read(self.root.join(name).join("volume.json")).map_err(|_| not_found())?;
        serde_json::from_slice(&bytes).map_err(|e| ContainerError::Io(e.to_string()))
    }

    pub fn list(&self) -> Vec<Volume> {
        let mut out: Vec<Volume> = std::fs::read_dir(&self.root)
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok())
            .filter_map(|e| self.get(&e.file_name().to_string_lossy()).ok())
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    }

    pub fn remove(&self, name: &str) -> Result<(), ContainerError> {
        self.get(name)?;
        crate::fsutil::remove_any(&self.root.join(name));
        Ok(())
    }

    /// A fresh 64-hex name for an anonymous volume.
    pub fn anonymous_name() -> String {
        super::create::random_hex()
    }
}
