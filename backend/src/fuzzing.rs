//! What the fuzz targets (`fuzz/`, run by `make fuzz`) feed arbitrary bytes
//! to: the Dockerfile parser, image references, layer extraction and the
//! API's JSON bodies. Each returns normally for any input; a panic is a bug.
//! The committed corpus (`fuzz/corpus/<target>/`) is replayed through the
//! same functions by a test on every `make test`, so each input a fuzzer
//! once found stays a regression test.

use crate::image::reference::Reference;
use crate::image::unpack::{unpack_layer_within, Limits};

/// A fuzz target's entry point.
pub type Target = fn(&[u8]);

/// The fuzz targets by name, as `fuzz/fuzz_targets/` and the corpus name them.
pub const TARGETS: &[(&str, Target)] = &[
    ("dockerfile", dockerfile),
    ("reference", reference),
    ("layer", layer),
    ("api_json", api_json),
];

/// Parses a Dockerfile.
pub fn dockerfile(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::build::dockerfile::parse("Dockerfile", text);
    }
}

/// Parses an image reference; one that parses prints as itself again.
pub fn reference(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(r) = Reference::parse(text) {
        let printed = r.to_string();
        let again = Reference::parse(&printed)
            .unwrap_or_else(|e| panic!("{text:?} parsed, but its form {printed:?} does not: {e}"));
        assert_eq!(again, r, "{text:?} → {printed:?}");
    }
}

/// Unpacks a layer into a fresh directory under the system's temp dir,
/// with small limits; whatever it made is removed again.
pub fn layer(data: &[u8]) {
    let dir = crate::fsutil::unique_path(&std::env::temp_dir(), "berth-fuzz-layer");
    if std::fs::create_dir(&dir).is_err() {
        return;
    }
    let limits = Limits {
        bytes: 16 << 20,
        entries: 10_000,
    };
    let _ = unpack_layer_within(data, &dir, "fuzz layer", limits);
    crate::fsutil::remove_any(&dir);
}

/// The JSON bodies and query values the API parses before acting: a
/// container's create request and its checks, a network's, and filters.
pub fn api_json(data: &[u8]) {
    if let Ok(req) = serde_json::from_slice::<crate::container::CreateRequest>(data) {
        let _ = crate::container::create::check_host_config(&req);
        let _ = crate::auth::policy::host_options(&req);
    }
    let _ = crate::api::networks::parse_create(data);
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = crate::api::params::Filters::parse(text);
        let _ = crate::auth::policy::classify("POST", text, Some(text));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every input of the committed corpus, through its target.
    #[test]
    fn the_fuzz_corpus_replays() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
        let mut total = 0;
        for (name, target) in TARGETS {
            let dir = root.join(name);
            let inputs: Vec<_> = std::fs::read_dir(&dir)
                .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
                .flatten()
                .collect();
            assert!(!inputs.is_empty(), "{name}: the corpus has seeds");
            for e in inputs {
                let bytes = std::fs::read(e.path()).unwrap();
                target(&bytes);
                total += 1;
            }
        }
        assert!(total >= TARGETS.len());
    }
}
