//! Builders for the archives the tests feed Berth: root filesystems, hostile
//! layers with raw (unchecked) entry names, and `docker save` archives.

use serde_json::json;
pub use sha2_free::sha256_hex;

/// One entry of a hand-made tar.
pub enum Entry<'a> {
    File(&'a str, &'a [u8]),
    Dir(&'a str),
    Symlink(&'a str, &'a str),
    Hardlink(&'a str, &'a str),
}

/// A tar whose entry names are written raw, so tests can include `..` and `/`.
pub fn tar(entries: &[Entry<'_>]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        let mut h = tar::Header::new_gnu();
        let (name, link, kind, data): (&str, &str, tar::EntryType, &[u8]) = match e {
            Entry::File(n, d) => (n, "", tar::EntryType::Regular, d),
            Entry::Dir(n) => (n, "", tar::EntryType::Directory, &[]),
            Entry::Symlink(n, t) => (n, t, tar::EntryType::Symlink, &[]),
            Entry::Hardlink(n, t) => (n, t, tar::EntryType::Link, &[]),
        };
        h.set_entry_type(kind);
        h.set_size(data.len() as u64);
        h.set_mode(if kind == tar::EntryType::Directory {
            0o755
        } else {
            0o644
        });
        h.set_mtime(1_700_000_000);
        h.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
        h.as_old_mut().linkname[..link.len()].copy_from_slice(link.as_bytes());
        h.set_cksum();
        b.append(&h, data).expect("append");
    }
    b.into_inner().expect("finish tar")
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).expect("gzip");
    e.finish().expect("gzip")
}

/// A `docker save` archive (legacy layout) of a base image with one layer and
/// a child image that adds a layer and names the base as its `Parent`.
/// Returns (archive, base id, child id).
pub fn parent_child_archive(base_tag: Option<&str>, child_tag: &str) -> (Vec<u8>, String, String) {
    let l1 = tar(&[Entry::Dir("etc/"), Entry::File("etc/base", b"base\n")]);
    let l2 = tar(&[Entry::File("etc/child", b"child\n")]);
    let d1 = format!("sha256:{}", sha256_hex(&l1));
    let d2 = format!("sha256:{}", sha256_hex(&l2));
    let cfg = |diffs: Vec<&String>, cmd: &str| {
        serde_json::to_vec(&json!({
            "architecture": "amd64", "os": "linux", "created": "2024-05-01T10:00:00Z",
            "config": {"Cmd": [cmd]},
            "rootfs": {"type": "layers", "diff_ids": diffs},
            "history": diffs.iter().enumerate().map(|(i, _)| json!({"created": "2024-05-01T10:00:00Z", "created_by": format!("/bin/sh -c step{i}")})).collect::<Vec<_>>()
        }))
        .expect("config json")
    };
    let base_cfg = cfg(vec![&d1], "base");
    let child_cfg = cfg(vec![&d1, &d2], "child");
    let base_id = sha256_hex(&base_cfg);
    let child_id = sha256_hex(&child_cfg);
    let manifest = json!([
        {"Config": format!("{base_id}.json"), "RepoTags": base_tag.map(|t| vec![t]).unwrap_or_default(), "Layers": ["l1/layer.tar"]},
        {"Config": format!("{child_id}.json"), "RepoTags": [child_tag], "Layers": ["l1/layer.tar", "l2/layer.tar"],
         "Parent": format!("sha256:{base_id}")}
    ]);
    let manifest = serde_json::to_vec(&manifest).expect("manifest");
    let base_name = format!("{base_id}.json");
    let child_name = format!("{child_id}.json");
    let archive = tar(&[
        Entry::File(&base_name, &base_cfg),
        Entry::File(&child_name, &child_cfg),
        Entry::Dir("l1/"),
        Entry::File("l1/layer.tar", &l1),
        Entry::Dir("l2/"),
        Entry::File("l2/layer.tar", &l2),
        Entry::File("manifest.json", &manifest),
    ]);
    (
        archive,
        format!("sha256:{base_id}"),
        format!("sha256:{child_id}"),
    )
}

/// sha256 via the system's `sha256sum`, so the tests check Berth's hashing
/// against an independent implementation.
mod sha2_free {
    use std::io::Write;
    use std::process::{Command, Stdio};

    pub fn sha256_hex(data: &[u8]) -> String {
        let mut c = Command::new("sha256sum")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("sha256sum");
        c.stdin
            .take()
            .expect("stdin")
            .write_all(data)
            .expect("write");
        let out = c.wait_with_output().expect("sha256sum output");
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string()
    }
}

/// Standard base64, as docker's config.json and X-Registry-Auth use it.
pub fn base64(data: &[u8]) -> String {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let mut c = Command::new("base64")
        .arg("-w0")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("base64");
    c.stdin
        .take()
        .expect("stdin")
        .write_all(data)
        .expect("write");
    String::from_utf8_lossy(&c.wait_with_output().expect("base64 output").stdout)
        .trim()
        .to_string()
}
