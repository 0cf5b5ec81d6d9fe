//! `-v` / `Binds` and volume specs turned into the container's mount points:
//! bind mounts of host paths, named volumes (created on first use) and
//! anonymous volumes (`-v /ctr` and the image's `VOLUME`), with Docker's
//! error messages for specs it refuses.

use super::volumes::VolumeStore;
use super::ContainerError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// One mount of a container, in the shape of ContainerInspect's `Mounts`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct MountPoint {
    #[serde(rename = "Type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    pub source: PathBuf,
    pub destination: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub driver: String,
    pub mode: String,
    #[serde(rename = "RW")]
    pub rw: bool,
    pub propagation: String,
    /// Anonymous volumes are removed with the container (`rm -v`, `--rm`).
    #[serde(default, skip_serializing)]
    pub anonymous: bool,
}

fn invalid(spec: &str) -> ContainerError {
    ContainerError::Invalid(format!("invalid volume specification: '{spec}'"))
}

fn check_destination(spec: &str, dst: &str) -> Result<(), ContainerError> {
    if !dst.starts_with('/') {
        return Err(ContainerError::Invalid(format!(
            "invalid volume specification: '{spec}': invalid mount config for type \"volume\": invalid mount path: '{dst}' mount path must be absolute"
        )));
    }
    if dst.trim_end_matches('/').is_empty() {
        return Err(ContainerError::Invalid(format!(
            "invalid volume specification: '{spec}': invalid mount config for type \"bind\": invalid specification: destination can't be '/'"
        )));
    }
    Ok(())
}

/// Parses one `Binds` entry (`SRC:DST[:MODE]`).
pub fn parse_bind(spec: &str, volumes: &VolumeStore) -> Result<MountPoint, ContainerError> {
    let parts: Vec<&str> = spec.split(':').collect();
    let (src, dst, mode) = match parts.as_slice() {
        [s, d] => (*s, *d, ""),
        [s, d, m] => (*s, *d, *m),
        _ => return Err(invalid(spec)),
    };
    if src.is_empty() || dst.is_empty() {
        return Err(invalid(spec));
    }
    check_destination(spec, dst)?;
    let mut rw = true;
    for m in mode.split(',').filter(|m| !m.is_empty()) {
        match m {
            "ro" => rw = false,
            "rw" | "z" | "Z" | "rprivate" | "private" | "nocopy" => {}
            _ => return Err(ContainerError::Invalid(format!("invalid mode: {m}"))),
        }
    }
    let dst = dst.trim_end_matches('/').to_string();
    if src.starts_with('/') {
        let source = PathBuf::from(src);
        if !source.exists() {
            // Docker creates a missing bind source as a directory.
            std::fs::create_dir_all(&source).map_err(|e| {
                ContainerError::Invalid(format!(
                    "error while creating mount source path '{src}': {e}"
                ))
            })?;
        }
        return Ok(MountPoint {
            kind: "bind".into(),
            name: String::new(),
            source,
            destination: dst,
            driver: String::new(),
            mode: mode.to_string(),
            rw,
            propagation: "rprivate".into(),
            anonymous: false,
        });
    }
    if src.starts_with('.') || src.contains('/') {
        return Err(ContainerError::Invalid(format!(
            "invalid volume specification: '{spec}': invalid mount config for type \"bind\": invalid mount path: '{src}' mount path must be absolute"
        )));
    }
    volumes.ensure(src, BTreeMap::new(), false)?;
    Ok(volume_mount(volumes, src, dst, mode, rw, false))
}

fn volume_mount(
    volumes: &VolumeStore,
    name: &str,
    dst: String,
    mode: &str,
    rw: bool,
    anonymous: bool,
) -> MountPoint {
    MountPoint {
        kind: "volume".into(),
        name: name.to_string(),
        source: volumes.data_dir(name),
        destination: dst,
        driver: "local".into(),
        mode: mode.to_string(),
        rw,
        propagation: String::new(),
        anonymous,
    }
}

/// Anonymous volumes for each destination not already mounted.
pub fn anonymous(
    destinations: impl IntoIterator<Item = String>,
    taken: &[MountPoint],
    volumes: &VolumeStore,
) -> Result<Vec<MountPoint>, ContainerError> {
    let mut out: Vec<MountPoint> = Vec::new();
    for d in destinations {
        check_destination(&d, &d)?;
        let dst = d.trim_end_matches('/').to_string();
        if taken.iter().chain(&out).any(|m| m.destination == dst) {
            continue;
        }
        let name = VolumeStore::anonymous_name();
        volumes.ensure(&name, BTreeMap::new(), true)?;
        out.push(volume_mount(volumes, &name, dst, "", true, true));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_specs() {
        let d = tempfile::tempdir().unwrap();
        let v = VolumeStore::open(d.path()).unwrap();
        let m = parse_bind("/tmp:/data:ro", &v).unwrap();
        assert_eq!(
            (m.kind.as_str(), m.rw, m.destination.as_str()),
            ("bind", false, "/data")
        );
        let n = parse_bind("cache:/c", &v).unwrap();
        assert_eq!(n.kind, "volume");
        assert!(v.data_dir("cache").is_dir());
        for (bad, want) in [
            ("a:b:c:d", "invalid volume specification: 'a:b:c:d'"),
            ("/x:rel", "mount path must be absolute"),
            ("/x:/", "destination can't be '/'"),
            ("/x:/y:bogus", "invalid mode: bogus"),
            ("./rel:/y", "mount path must be absolute"),
        ] {
            let e = parse_bind(bad, &v).unwrap_err().to_string();
            assert!(e.contains(want), "{bad}: {e}");
        }
    }
}
