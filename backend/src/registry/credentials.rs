//! Registry credentials kept by the daemon (`berth login`), in
//! `<data-root>/registry-auth.json` with mode 0600. They are used for pulls and
//! pushes that bring none of their own, and never leave the daemon: no API
//! returns them and `Credentials` does not print its password.

use super::auth::Credentials;
use crate::fsutil;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;

#[derive(Serialize, Deserialize, Default)]
struct Stored {
    username: String,
    password: String,
}

#[derive(Debug)]
pub struct CredentialStore {
    path: PathBuf,
    map: Mutex<BTreeMap<String, Credentials>>,
}

impl CredentialStore {
    /// Opens the store at `path`; a missing file is an empty store.
    pub fn open(path: PathBuf) -> std::io::Result<Self> {
        let map = match std::fs::read(&path) {
            Ok(b) => {
                let stored: BTreeMap<String, Stored> =
                    serde_json::from_slice(&b).map_err(std::io::Error::other)?;
                stored
                    .into_iter()
                    .map(|(k, v)| {
                        (
                            k,
                            Credentials {
                                username: v.username,
                                password: v.password,
                            },
                        )
                    })
                    .collect()
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(e),
        };
        Ok(Self {
            path,
            map: Mutex::new(map),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Credentials>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn persist(&self, map: &BTreeMap<String, Credentials>) -> std::io::Result<()> {
        let stored: BTreeMap<&String, Stored> = map
            .iter()
            .map(|(k, c)| {
                (
                    k,
                    Stored {
                        username: c.username.clone(),
                        password: c.password.clone(),
                    },
                )
            })
            .collect();
        let bytes = serde_json::to_vec_pretty(&stored).map_err(std::io::Error::other)?;
        fsutil::write_atomic_mode(&self.path, &bytes, 0o600)
    }

    pub fn get(&self, registry: &str) -> Option<Credentials> {
        self.lock().get(registry).cloned()
    }

    pub fn set(&self, registry: &str, c: Credentials) -> std::io::Result<()> {
        let mut map = self.lock();
        map.insert(registry.to_string(), c);
        self.persist(&map)
    }

    /// Forgets a registry's credentials; false if there were none.
    pub fn remove(&self, registry: &str) -> std::io::Result<bool> {
        let mut map = self.lock();
        let had = map.remove(registry).is_some();
        if had {
            self.persist(&map)?;
        }
        Ok(had)
    }

    /// (registry, user name) of every login; never the passwords.
    pub fn logins(&self) -> Vec<(String, String)> {
        self.lock()
            .iter()
            .map(|(k, c)| (k.clone(), c.username.clone()))
            .collect()
    }

    /// Registries with stored credentials.
    pub fn registries(&self) -> Vec<String> {
        self.lock().keys().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn stores_with_0600_and_reloads() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("auth.json");
        let s = CredentialStore::open(p.clone()).unwrap();
        s.set(
            "127.0.0.1:5000",
            Credentials {
                username: "u".into(),
                password: "p".into(),
            },
        )
        .unwrap();
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let again = CredentialStore::open(p).unwrap();
        assert_eq!(again.get("127.0.0.1:5000").unwrap().username, "u");
        assert!(again.remove("127.0.0.1:5000").unwrap());
        assert!(!again.remove("127.0.0.1:5000").unwrap());
    }
}
