//! Hostile input (issue 8): layers and build contexts made to escape, to
//! plant devices, to whiteout their way out, and bombs of size, entries and
//! compression. Each is refused or contained; a canary outside the target
//! proves nothing escaped, and `berth system check` finds the store sound.

use berth_e2e::Daemon;
use std::io::Write;
use std::path::{Path, PathBuf};

/// One raw tar entry: any name and link name (even ones the tar crate's
/// builder refuses), type, mode and content.
fn entry(out: &mut Vec<u8>, name: &str, kind: tar::EntryType, link: &str, mode: u32, data: &[u8]) {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_size(data.len() as u64);
    h.set_mode(mode);
    h.set_mtime(1_700_000_000);
    if kind == tar::EntryType::Char || kind == tar::EntryType::Block {
        h.set_device_major(8).unwrap();
        h.set_device_minor(0).unwrap();
    }
    let g = h.as_gnu_mut().unwrap();
    g.name = [0; 100];
    g.name[..name.len()].copy_from_slice(name.as_bytes());
    g.linkname = [0; 100];
    g.linkname[..link.len()].copy_from_slice(link.as_bytes());
    h.set_cksum();
    out.extend_from_slice(h.as_bytes());
    out.extend_from_slice(data);
    out.resize(out.len().div_ceil(512) * 512, 0);
}

fn finish(mut t: Vec<u8>) -> Vec<u8> {
    t.extend_from_slice(&[0u8; 1024]);
    t
}

const FILE: tar::EntryType = tar::EntryType::Regular;

/// A tar of `entries`: (name, type, link name, mode, content).
fn layer(entries: &[(&str, tar::EntryType, &str, u32, &[u8])]) -> Vec<u8> {
    let mut t = Vec::new();
    for (name, kind, link, mode, data) in entries {
        entry(&mut t, name, *kind, link, *mode, data);
    }
    finish(t)
}

/// The hostile layers: name, tar, and whether it must be refused (else it
/// is taken, with the danger contained).
fn corpus(canary_dir: &Path) -> Vec<(&'static str, Vec<u8>, bool)> {
    use tar::EntryType::{Block, Directory, Link, Symlink};
    let outside = canary_dir.join("escaped").display().to_string();
    let canary = canary_dir.join("canary").display().to_string();
    let dir = canary_dir.to_str().unwrap();
    let many: Vec<String> = (0..1500).map(|i| format!("f{i}")).collect();
    let many: Vec<_> = many
        .iter()
        .map(|n| (n.as_str(), FILE, "", 0o644, &b""[..]))
        .collect();
    let big = vec![7u8; 3 << 20];
    let zeros = layer(&[("zeros", FILE, "", 0o644, &vec![0u8; 64 << 20])]);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&zeros).unwrap();
    vec![
        (
            "dotdot",
            layer(&[(
                "../../../../../../../../tmp/escaped-dotdot",
                FILE,
                "",
                0o644,
                b"x",
            )]),
            true,
        ),
        (
            "absolute path",
            layer(&[(&outside, FILE, "", 0o644, b"x")]),
            true,
        ),
        (
            "write through a symlink",
            layer(&[
                ("link", Symlink, dir, 0o777, b""),
                ("link/escaped", FILE, "", 0o644, b"bad"),
            ]),
            true,
        ),
        (
            "relative symlink climbing out",
            layer(&[("up", Symlink, "../../../../../../..", 0o777, b"")]),
            true,
        ),
        (
            "hardlink to an absolute path",
            layer(&[("hl", Link, &canary, 0o644, b"")]),
            true,
        ),
        (
            "hardlink out with ..",
            layer(&[("hl", Link, "../../../../etc/passwd", 0o644, b"")]),
            true,
        ),
        (
            "whiteout of the parent directory",
            layer(&[
                ("a/", Directory, "", 0o755, b""),
                ("a/.wh...", FILE, "", 0o644, b""),
            ]),
            true,
        ),
        (
            "whiteout of the layer's own parent",
            layer(&[(".wh...", FILE, "", 0o644, b"")]),
            true,
        ),
        ("tar bomb: entries", layer(&many), true),
        (
            "tar bomb: size",
            layer(&[("big", FILE, "", 0o644, &big)]),
            true,
        ),
        ("decompression bomb", gz.finish().unwrap(), true),
        (
            "device node",
            layer(&[
                ("dev-sda", Block, "", 0o660, b""),
                ("ok", FILE, "", 0o644, b"fine"),
            ]),
            false,
        ),
        (
            "setuid file",
            layer(&[("suid-sh", FILE, "", 0o4755, b"#!/bin/sh\n")]),
            false,
        ),
    ]
}

/// Every file below `dir`, for comparing before and after.
fn tree(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(p.clone());
            }
            out.push(p);
        }
    }
    out.sort();
    out
}

#[test]
fn hostile_layers_are_refused_or_contained() {
    let d = Daemon::start_with_args(&["--max-layer-size", "2m", "--max-layer-entries", "1000"]);
    let canary_dir = tempfile::tempdir().unwrap();
    std::fs::write(canary_dir.path().join("canary"), b"alive").unwrap();
    let before = tree(canary_dir.path());
    let work = tempfile::tempdir().unwrap();
    for (i, (what, bytes, refused)) in corpus(canary_dir.path()).into_iter().enumerate() {
        let file = work.path().join(format!("layer-{i}.tar"));
        std::fs::write(&file, &bytes).unwrap();
        let tag = format!("hostile/case-{i}");
        let out = d.berth(&["import", file.to_str().unwrap(), &tag]);
        if refused {
            assert_ne!(out.code, 0, "{what}: must be refused: {out:?}");
            assert!(!out.stderr.trim().is_empty(), "{what}: a message: {out:?}");
        } else {
            assert_eq!(out.code, 0, "{what}: must be taken: {out:?}");
        }
        assert_eq!(
            std::fs::read(canary_dir.path().join("canary")).unwrap(),
            b"alive",
            "{what}"
        );
        assert_eq!(
            tree(canary_dir.path()),
            before,
            "{what}: nothing appeared next to the canary"
        );
        assert!(!Path::new("/tmp/escaped-dotdot").exists(), "{what}");
    }
    // Contained: no device node in the layer, and the setuid file out of
    // every host user's reach (the store is root's alone).
    let layers = d.root().join("image/layers");
    let devices = std::process::Command::new("find")
        .arg(&layers)
        .args(["-type", "b", "-o", "-type", "c", "-name", "dev-sda"])
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&devices.stdout).trim().is_empty(),
        "no device node was made"
    );
    use std::os::unix::fs::PermissionsExt;
    for private in ["image", "containers", "volumes"] {
        let mode = std::fs::metadata(d.root().join(private))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o700, "{private} is root's alone");
    }
    // Nothing half-made stays behind, and the store is sound.
    let scratch: Vec<_> = std::fs::read_dir(d.root().join("image/tmp"))
        .unwrap()
        .collect();
    assert!(scratch.is_empty(), "scratch emptied: {scratch:?}");
    let check = d.berth(&["system", "check"]);
    assert!(check.ok().contains("no problems"), "{check:?}");
    let images = d.berth(&["images"]).ok().to_string();
    assert_eq!(
        images.lines().filter(|l| l.starts_with("hostile/")).count(),
        2,
        "{images}"
    );
}

#[test]
fn hostile_build_contexts_are_refused_or_contained() {
    let d = Daemon::start_with_args(&["--max-layer-size", "2m", "--max-layer-entries", "1000"]);
    let canary_dir = tempfile::tempdir().unwrap();
    std::fs::write(canary_dir.path().join("canary"), b"alive").unwrap();
    let before = tree(canary_dir.path());
    let dockerfile = b"FROM scratch\nCOPY . /\n";
    for (what, bytes, refused) in corpus(canary_dir.path()) {
        if what.contains("whiteout") || what.contains("setuid") || what.contains("relative symlink")
        {
            continue; // layer rules; a context keeps such files as plain files or links
        }
        let mut t = Vec::new();
        entry(&mut t, "Dockerfile", FILE, "", 0o644, dockerfile);
        let body = if what == "decompression bomb" {
            bytes
        } else {
            t.extend_from_slice(&bytes[..bytes.len() - 1024]);
            finish(t)
        };
        let r = d.http("POST", "/build?t=hostile-ctx", &body);
        let text = r.text();
        let failed = r.status >= 400 || text.contains("errorDetail");
        // Leading slashes are dropped in a context (as Docker does): the
        // file lands inside it.
        if refused && what != "absolute path" {
            assert!(failed, "{what}: the build must fail: {} {text}", r.status);
        }
        eprintln!(
            "context {what}: {}",
            if failed { "refused" } else { "taken" }
        );
        assert_eq!(
            std::fs::read(canary_dir.path().join("canary")).unwrap(),
            b"alive",
            "{what}"
        );
        assert_eq!(
            tree(canary_dir.path()),
            before,
            "{what}: nothing appeared next to the canary"
        );
        assert!(!Path::new("/tmp/escaped-dotdot").exists(), "{what}");
    }
}

#[test]
fn a_default_container_sees_and_reaches_nothing_of_the_host() {
    let d = Daemon::with_busybox();
    let gw = d.net.gateway();
    let script = format!(
        "echo procs=$(ls /proc | grep -c '^[0-9]'); echo pid1=$(cat /proc/1/comm); \
         mount -t tmpfs none /mnt 2>/dev/null && echo mount-ok || echo mount-refused; \
         head -c 64 /dev/zero > /tmp/m.ko; insmod /tmp/m.ko 2>&1 | grep -q 'not permitted' && echo module-refused || echo module-other; \
         echo ro-mounts=$(grep -E ' /proc/sys | /sys ' /proc/mounts | grep -c ' ro,'); \
         echo 1 > /proc/sys/vm/drop_caches 2>/dev/null && echo procsys-written || echo procsys-ro; \
         touch /sys/kernel/berth 2>/dev/null && echo sys-written || echo sys-ro; \
         grep CapEff /proc/self/status; grep Seccomp: /proc/self/status; \
         unshare -U true 2>/dev/null && echo userns-ok || echo userns-refused; \
         ls {sock} 2>/dev/null && echo socket-seen || echo socket-absent; \
         wget -qO- http://127.0.0.1:{port}/_ping 2>/dev/null && echo loopback-api || echo loopback-refused; \
         wget -qO- http://{gw}:{port}/_ping 2>/dev/null && echo gateway-api || echo gateway-refused",
        sock = d.socket().display(),
        port = d.port,
    );
    let out = d.berth(&["run", "--rm", "busybox", "sh", "-c", &script]);
    let text = out.ok().to_string();
    let procs: usize = text
        .lines()
        .find_map(|l| l.strip_prefix("procs="))
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!(procs <= 4, "only the container's processes: {text}");
    for want in [
        "pid1=sh",
        "mount-refused",
        "module-refused",
        "ro-mounts=2",
        "procsys-ro",
        "sys-ro",
        "CapEff:\t00000000a80425fb",
        "Seccomp:\t2",
        "userns-refused",
        "socket-absent",
        "loopback-refused",
        "gateway-refused",
    ] {
        assert!(text.lines().any(|l| l == want), "{want} in {text}");
    }
    // The host's processes are the host's: the daemon's pid is not there.
    let daemon_pid = d.daemon_pid();
    let seen = d.berth(&[
        "run",
        "--rm",
        "busybox",
        "ls",
        &format!("/proc/{daemon_pid}"),
    ]);
    assert_ne!(seen.code, 0, "the daemon's process is invisible: {seen:?}");
}
