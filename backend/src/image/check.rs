//! `berth system check`: the store verified against itself. Every blob is
//! hashed and compared with its name; every entry of `index.json` must name
//! a readable manifest; every image's manifest, config and layer blobs must
//! be there, and its unpacked layers must form the chain its config's diff
//! ids make. Read-only: it reports and repairs nothing. Blobs and layers no
//! image uses are noted, not counted as problems (GC removes them at the
//! next `rmi` or prune).

use super::digest::{chain_id, Digest, HashingReader};
use super::oci::{ImageConfig, Index, Manifest, ANNOTATION_IMAGE_NAME, ANNOTATION_REF_NAME};
use super::store::ImageStore;
use serde::Serialize;
use std::collections::HashSet;
use std::fs;

/// What a check found.
#[derive(Debug, Default, Serialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct CheckReport {
    pub images: usize,
    /// Entries of `index.json` (tags, and untagged images once).
    pub references: usize,
    pub blobs: usize,
    pub layers: usize,
    /// What is wrong; a sound store has none.
    pub problems: Vec<String>,
    /// Harmless leftovers.
    pub notes: Vec<String>,
}

impl ImageStore {
    /// Verifies the whole store (see the module's doc).
    pub fn check(&self) -> CheckReport {
        // Garbage collection waits until the check is done.
        let _writing = self.writing();
        let mut r = CheckReport::default();
        let good_blobs = self.check_blobs(&mut r);
        self.check_index(&mut r, &good_blobs);
        let used_layers = self.check_images(&mut r, &good_blobs);
        self.check_layers(&mut r, &used_layers);
        r
    }

    /// Hashes every blob; returns those whose content matches their name.
    fn check_blobs(&self, r: &mut CheckReport) -> HashSet<Digest> {
        let mut good = HashSet::new();
        let dir = self.blobs().dir().to_path_buf();
        let Ok(entries) = fs::read_dir(&dir) else {
            r.problems
                .push(format!("cannot read the blob directory {}", dir.display()));
            return good;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with(".tmp-") {
                r.notes.push(format!(
                    "{name}: a blob being written (or left by a crash: removed at the next start)"
                ));
                continue;
            }
            r.blobs += 1;
            let Ok(want) = format!("sha256:{name}").parse::<Digest>() else {
                r.problems
                    .push(format!("blob {name:?}: not a sha256 digest name"));
                continue;
            };
            let got = fs::File::open(e.path()).and_then(|f| {
                let mut h = HashingReader::new(f);
                h.drain()?;
                Ok(h.finish().0)
            });
            match got {
                Ok(d) if d == want => {
                    good.insert(want);
                }
                Ok(d) => r
                    .problems
                    .push(format!("blob {want}: its content hashes to {d}")),
                Err(e) => r.problems.push(format!("blob {want}: {e}")),
            }
        }
        good
    }

    /// Every `index.json` entry names a manifest that is there and whole.
    fn check_index(&self, r: &mut CheckReport, good: &HashSet<Digest>) {
        let path = self.root().join("index.json");
        let index: Index = match fs::read(&path).map(|b| serde_json::from_slice(&b)) {
            Ok(Ok(i)) => i,
            Ok(Err(e)) => {
                r.problems.push(format!("index.json: {e}"));
                return;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
            Err(e) => {
                r.problems.push(format!("index.json: {e}"));
                return;
            }
        };
        for m in &index.manifests {
            r.references += 1;
            let name = m
                .annotations
                .get(ANNOTATION_IMAGE_NAME)
                .or_else(|| m.annotations.get(ANNOTATION_REF_NAME))
                .cloned()
                .unwrap_or_else(|| m.digest.to_string());
            if !good.contains(&m.digest) {
                r.problems.push(format!(
                    "reference {name}: its manifest {} is missing or damaged",
                    m.digest
                ));
            }
        }
    }

    /// Each image's manifest, config and layer blobs, and its layer chain;
    /// returns the chain ids in use.
    fn check_images(&self, r: &mut CheckReport, good: &HashSet<Digest>) -> HashSet<Digest> {
        let mut used = HashSet::new();
        for img in self.list() {
            r.images += 1;
            let name = img
                .tags
                .iter()
                .next()
                .map(|t| t.familiar())
                .unwrap_or_else(|| img.id.to_string());
            let mut need = |d: &Digest, what: &str| {
                if !good.contains(d) {
                    r.problems.push(format!(
                        "image {name}: its {what} {d} is missing or damaged"
                    ));
                }
            };
            need(&img.manifest_desc.digest, "manifest");
            need(&img.id, "config");
            for l in &img.manifest.layers {
                need(&l.digest, "layer blob");
            }
            // What the blobs say must agree with the record.
            if let Ok(m) = self
                .blobs()
                .read_json::<Manifest>(&img.manifest_desc.digest, "manifest")
            {
                if m.config.digest != img.id {
                    r.problems.push(format!(
                        "image {name}: its manifest names config {}",
                        m.config.digest
                    ));
                }
            }
            let diff_ids = self
                .blobs()
                .read_json::<ImageConfig>(&img.id, "image config")
                .map(|c| c.rootfs.diff_ids)
                .unwrap_or_default();
            let mut parent: Option<Digest> = None;
            for (i, diff) in diff_ids.iter().enumerate() {
                let chain = chain_id(parent.as_ref(), diff);
                used.insert(chain.clone());
                match self.layers().get(&chain) {
                    None => r.problems.push(format!(
                        "image {name}: layer {} ({chain}) is not unpacked",
                        i + 1
                    )),
                    Some(meta) => {
                        if meta.diff_id != *diff || meta.parent != parent {
                            r.problems.push(format!(
                                "image {name}: layer {} ({chain}) records diff {} on {:?}",
                                i + 1,
                                meta.diff_id,
                                meta.parent.as_ref().map(Digest::to_string)
                            ));
                        }
                        if !self.layers().diff_dir(&chain).is_dir() {
                            r.problems.push(format!(
                                "image {name}: layer {} ({chain}) has no files",
                                i + 1
                            ));
                        }
                    }
                }
                parent = Some(chain);
            }
        }
        used
    }

    /// Every unpacked layer has its record; unused ones are noted.
    fn check_layers(&self, r: &mut CheckReport, used: &HashSet<Digest>) {
        let Ok(entries) = fs::read_dir(self.layers().dir()) else {
            return;
        };
        for e in entries.flatten() {
            r.layers += 1;
            let name = e.file_name().to_string_lossy().into_owned();
            let Ok(chain) = format!("sha256:{name}").parse::<Digest>() else {
                r.notes
                    .push(format!("layer directory {name:?} is not a chain id"));
                continue;
            };
            match self.layers().get(&chain) {
                Some(meta) if meta.chain_id != chain => r
                    .problems
                    .push(format!("layer {chain}: its record names {}", meta.chain_id)),
                Some(_) if !used.contains(&chain) => {
                    r.notes.push(format!("layer {chain}: no image uses it"))
                }
                Some(_) => {}
                None => r
                    .problems
                    .push(format!("layer {chain}: meta.json is missing or unreadable")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_store_is_sound_and_a_damaged_blob_is_found() {
        let dir = tempfile::tempdir().unwrap();
        let store = ImageStore::open(dir.path()).unwrap();
        assert_eq!(store.check(), CheckReport::default());
        let d = store.blobs().put_bytes(b"{}").unwrap();
        assert!(store.check().problems.is_empty());
        fs::write(store.blobs().path(&d), b"{ }").unwrap();
        let r = store.check();
        assert_eq!(r.blobs, 1);
        assert!(r.problems[0].contains("hashes to"), "{:?}", r.problems);
    }
}
