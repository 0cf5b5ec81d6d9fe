//! `push` to a real registry (Debian's docker-registry on loopback): only the
//! blobs the registry lacks travel, and a second daemon pulling afterwards
//! downloads only what it lacks.

use berth_e2e::archive::parent_child_archive;
use berth_e2e::registry::Registry;
use berth_e2e::Daemon;

fn count(out: &str, status: &str) -> usize {
    out.lines()
        .filter(|l| l.ends_with(&format!(": {status}")))
        .count()
}

#[test]
fn pushing_a_changed_image_sends_only_the_changed_layer() {
    let reg = Registry::start(None);
    let a = Daemon::start();
    let (archive, base, child) = parent_child_archive(Some("base:1"), "app:1");
    a.berth_with_stdin(&["load"], Some(&archive)).ok();
    let v1 = format!("{}/team/app:1", reg.host());
    let v2 = format!("{}/team/app:2", reg.host());
    a.berth(&["tag", "base:1", &v1]).ok();
    a.berth(&["tag", "app:1", &v2]).ok();

    let out = a.berth(&["push", &v1]).ok().to_string();
    assert!(
        out.starts_with(&format!(
            "The push refers to repository [{}/team/app]",
            reg.host()
        )),
        "{out}"
    );
    assert_eq!(count(&out, "Pushed"), 1, "{out}");
    assert!(
        out.lines()
            .last()
            .unwrap()
            .starts_with("1: digest: sha256:"),
        "{out}"
    );

    // The second version shares the first layer: only the new one is uploaded.
    let out = a.berth(&["push", &v2]).ok().to_string();
    assert_eq!(count(&out, "Layer already exists"), 1, "{out}");
    assert_eq!(count(&out, "Pushed"), 1, "{out}");
    let again = a.berth(&["push", &v2]).ok().to_string();
    assert_eq!(count(&again, "Pushed"), 0, "nothing new to send: {again}");
    let digest = out
        .lines()
        .last()
        .unwrap()
        .split_whitespace()
        .nth(2)
        .unwrap()
        .to_string();
    assert!(
        a.berth(&["images", "--digests"]).ok().contains(&digest),
        "push records the repo digest"
    );

    // Another repository of the same registry mounts instead of uploading.
    let other = format!("{}/other/app:2", reg.host());
    a.berth(&["tag", &v2, &other]).ok();
    let out = a.berth(&["push", &other]).ok().to_string();
    assert_eq!(count(&out, "Pushed"), 0, "{out}");
    assert_eq!(count(&out, "Mounted from team/app"), 2, "{out}");

    // A second daemon downloads only the layer it lacks.
    let b = Daemon::start();
    let out = b.berth(&["pull", &v1]).ok().to_string();
    assert_eq!(count(&out, "Pull complete"), 1, "{out}");
    let out = b.berth(&["pull", &v2]).ok().to_string();
    assert_eq!(count(&out, "Already exists"), 1, "{out}");
    assert_eq!(count(&out, "Pull complete"), 1, "{out}");
    let ids = b.berth(&["images", "-q", "--no-trunc"]).ok().to_string();
    assert!(
        ids.contains(&base) && ids.contains(&child),
        "same image ids on both daemons: {ids}"
    );
}

#[test]
fn docker_push_and_credentials() {
    let reg = Registry::start(Some(("bob", "pw")));
    let d = Daemon::start();
    d.starter_image("busybox:latest");
    let target = format!("{}/lib/busybox:1", reg.host());
    d.docker(&["tag", "busybox", &target]).ok();
    let denied = d.docker(&["push", &target]);
    assert!(
        denied.err().contains("access denied")
            || denied.stderr.contains("may require 'docker login'"),
        "{}",
        denied.stderr
    );
    let cfg = d.dir.path().join("docker-config");
    std::fs::create_dir_all(&cfg).unwrap();
    let auth = berth_e2e::archive::base64(b"bob:pw");
    std::fs::write(
        cfg.join("config.json"),
        format!(r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#, reg.host()),
    )
    .unwrap();
    let out = d.docker(&["push", &target]);
    assert!(out.ok().contains("1: digest: sha256:"), "{}", out.stdout);
    assert!(out.stdout.contains("Pushed"), "{}", out.stdout);
    let missing = d.berth(&["push", &format!("{}/lib/nosuch:1", reg.host())]);
    assert!(
        missing
            .err()
            .contains("An image does not exist locally with the tag"),
        "{}",
        missing.stderr
    );
}

#[test]
fn big_layers_are_pushed_in_chunks() {
    let reg = Registry::start(None);
    let d = Daemon::start();
    // 20 MB that does not compress: more than two 8 MiB chunks.
    let mut data = vec![0u8; 20_000_000];
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for b in data.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    let rootfs = berth_e2e::archive::tar(&[berth_e2e::archive::Entry::File("blob.bin", &data)]);
    let id = d
        .berth_with_stdin(&["import", "-", "big:1"], Some(&rootfs))
        .ok()
        .trim()
        .to_string();
    let target = format!("{}/big/layer:1", reg.host());
    d.berth(&["tag", "big:1", &target]).ok();
    let out = d.berth(&["push", &target]).ok().to_string();
    assert_eq!(count(&out, "Pushed"), 1, "{out}");
    let patches = reg
        .log()
        .lines()
        .filter(|l| l.contains("\"PATCH /v2/big/layer/blobs/uploads/") && l.contains("berth/"))
        .count();
    assert_eq!(patches, 3, "20 MB in 8 MiB chunks");
    // The chunks reassemble into the same layer.
    let other = Daemon::start();
    other.berth(&["pull", &target]).ok();
    assert_eq!(other.berth(&["images", "-q", "--no-trunc"]).ok().trim(), id);
}
