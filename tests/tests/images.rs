//! The image commands of the `berth` CLI against a real daemon: what a user types
//! and what they see, including bad input that must be refused, writing nothing.

use berth_e2e::archive::{gzip, parent_child_archive, tar, Entry};
use berth_e2e::{table_rows, Daemon};

#[test]
fn import_lists_tags_and_survives_restart() {
    let mut d = Daemon::start();
    let id = d.starter_image("busybox:latest");
    assert!(
        id.starts_with("sha256:") && id.len() == 71,
        "import prints the image id: {id}"
    );
    let out = d.berth(&["images"]).ok().to_string();
    let header = out.lines().next().unwrap();
    assert_eq!(
        header,
        "REPOSITORY   TAG       IMAGE ID       CREATED                  SIZE"
    );
    let rows = table_rows(&out);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0][0], "busybox");
    assert_eq!(rows[0][1], "latest");
    assert_eq!(rows[0][2], &id[7..19]);
    assert!(rows[0][4].ends_with("MB"), "size in MB: {:?}", rows[0]);

    d.berth(&["tag", "busybox", "tools/box:1.0"]).ok();
    d.berth(&["image", "tag", id.as_str(), "127.0.0.1:5000/box"])
        .ok();
    let out = d.berth(&["image", "ls"]).ok().to_string();
    for tag in ["busybox ", "tools/box ", "127.0.0.1:5000/box "] {
        assert!(out.contains(tag), "{tag} in\n{out}");
    }
    assert_eq!(
        d.berth(&["images", "-q"]).ok().trim(),
        &id[7..19],
        "one id for three tags"
    );
    assert_eq!(d.berth(&["images", "--no-trunc", "-q"]).ok().trim(), id);
    assert_eq!(table_rows(d.berth(&["images", "tools/box"]).ok()).len(), 1);
    assert!(d
        .berth(&["images", "--digests"])
        .ok()
        .lines()
        .next()
        .unwrap()
        .contains("DIGEST"));

    d.restart();
    assert_eq!(
        table_rows(d.berth(&["images"]).ok()).len(),
        3,
        "tags persist across restarts"
    );
    let inspect: serde_json::Value =
        serde_json::from_str(d.berth(&["inspect", "tools/box:1.0"]).ok()).unwrap();
    assert_eq!(inspect[0]["Id"], id.as_str());
    assert_eq!(inspect[0]["Config"]["Cmd"][0], "sh");
    assert_eq!(inspect[0]["RootFS"]["Layers"].as_array().unwrap().len(), 1);
    let upper = inspect[0]["GraphDriver"]["Data"]["UpperDir"]
        .as_str()
        .unwrap();
    assert!(
        std::path::Path::new(upper).join("bin/busybox").is_file(),
        "layer unpacked at {upper}"
    );
}

#[test]
fn import_accepts_gzip_stdin_changes_and_message() {
    let d = Daemon::start();
    let rootfs = tar(&[Entry::Dir("etc/"), Entry::File("etc/motd", b"hello\n")]);
    let out = d.berth_with_stdin(
        &[
            "import",
            "-c",
            "ENV A=1",
            "-c",
            "WORKDIR /srv",
            "-m",
            "my message",
            "-",
            "gz:1",
        ],
        Some(&gzip(&rootfs)),
    );
    out.ok();
    let v: serde_json::Value =
        serde_json::from_str(d.berth(&["image", "inspect", "gz:1"]).ok()).unwrap();
    assert_eq!(v[0]["Config"]["Env"][0], "A=1");
    assert_eq!(v[0]["Config"]["WorkingDir"], "/srv");
    assert_eq!(v[0]["Comment"], "my message");
    let hist = d.berth(&["history", "gz:1"]).ok().to_string();
    assert!(hist.starts_with("IMAGE          CREATED"), "{hist}");
    assert!(hist.contains("my message"));
    assert!(
        hist.contains("6B"),
        "the layer holds 6 bytes of files:\n{hist}"
    );
    // Same rootfs, plain: same layer, so the store keeps one copy.
    d.berth_with_stdin(&["import", "-", "plain:1"], Some(&rootfs))
        .ok();
    let layers = std::fs::read_dir(d.root().join("image/layers"))
        .unwrap()
        .count();
    assert_eq!(layers, 1, "layers are unpacked once per chain id");
    let err = d.berth_with_stdin(&["import", "-c", "RUN rm -rf /", "-", "x:1"], Some(&rootfs));
    assert!(err.err().contains("RUN rm -rf /"), "{}", err.stderr);
}

#[test]
fn rmi_untags_then_deletes_like_docker() {
    let d = Daemon::start();
    let id = d.starter_image("busybox:latest");
    d.berth(&["tag", "busybox", "other:1"]).ok();
    let short = &id[7..19];

    let err = d.berth(&["rmi", short]);
    assert!(
        err.err().contains("must be forced")
            && err.stderr.contains("referenced in multiple repositories"),
        "{}",
        err.stderr
    );
    assert_eq!(d.berth(&["rmi", "other:1"]).ok(), "Untagged: other:1\n");
    let out = d.berth(&["image", "rm", "busybox"]).ok().to_string();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "Untagged: busybox:latest");
    assert_eq!(lines[1], format!("Deleted: {id}"));
    assert!(
        lines[2].starts_with("Deleted: sha256:"),
        "the layer goes too: {out}"
    );
    assert!(d.berth(&["images", "-q"]).ok().is_empty());
    assert!(
        !d.root().join("image/blobs/sha256").join(&id[7..]).exists(),
        "config blob collected"
    );
    assert_eq!(
        std::fs::read_dir(d.root().join("image/layers"))
            .unwrap()
            .count(),
        0
    );

    let id = d.starter_image("busybox:latest");
    d.berth(&["tag", "busybox", "other:1"]).ok();
    let out = d.berth(&["rmi", "-f", &id[7..19]]).ok().to_string();
    assert!(
        out.contains("Untagged: busybox:latest")
            && out.contains("Untagged: other:1")
            && out.contains(&format!("Deleted: {id}")),
        "{out}"
    );
    let err = d.berth(&["rmi", "nosuch:1"]);
    assert_eq!(
        err.err().trim(),
        "Error response from daemon: No such image: nosuch:1"
    );
    assert_eq!(err.code, 1);
}

#[test]
fn untagged_parents_are_hidden_pruned_and_protected() {
    let d = Daemon::start();
    let (archive, base, child) = parent_child_archive(None, "app:1");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pc.tar");
    std::fs::write(&path, &archive).unwrap();
    let out = d.berth(&["load", "-i", path.to_str().unwrap()]);
    assert!(out.ok().contains("Loaded image: app:1"), "{}", out.stdout);
    assert!(
        out.stdout.contains(&format!("Loaded image ID: {base}")),
        "{}",
        out.stdout
    );

    assert_eq!(
        table_rows(d.berth(&["images"]).ok()).len(),
        1,
        "the intermediate parent is hidden"
    );
    let all = d.berth(&["images", "-a"]).ok().to_string();
    assert_eq!(table_rows(&all).len(), 2);
    assert!(all.contains("<none>"));
    let hist = d.berth(&["history", "app:1"]).ok().to_string();
    assert!(
        hist.contains(&base[7..19]) && hist.contains(&child[7..19]),
        "history names both local images:\n{hist}"
    );

    let err = d.berth(&["rmi", &base[7..19]]);
    assert!(
        err.err().contains("image has dependent child images"),
        "{}",
        err.stderr
    );
    let out = d.berth(&["rmi", "app:1"]).ok().to_string();
    assert!(
        out.contains(&format!("Deleted: {child}")) && out.contains(&format!("Deleted: {base}")),
        "the dangling parent is pruned: {out}"
    );

    d.berth(&["load", "-i", path.to_str().unwrap()]).ok();
    let out = d.berth(&["rmi", "--no-prune", "app:1"]).ok().to_string();
    assert!(!out.contains(&format!("Deleted: {base}")), "{out}");
    assert_eq!(d.berth(&["images", "-a", "-q"]).ok().trim(), &base[7..19]);
}

#[test]
fn save_and_load_round_trip() {
    let d = Daemon::start();
    let id = d.starter_image("busybox:latest");
    d.berth(&["tag", "busybox", "busybox:v2"]).ok();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bb.tar");
    d.berth(&["save", "-o", file.to_str().unwrap(), "busybox"])
        .ok();
    let listing = std::process::Command::new("tar")
        .arg("tf")
        .arg(&file)
        .output()
        .unwrap();
    let names = String::from_utf8_lossy(&listing.stdout).to_string();
    for n in [
        "manifest.json",
        "index.json",
        "oci-layout",
        &format!("blobs/sha256/{}", &id[7..]),
    ] {
        assert!(names.lines().any(|l| l == n), "{n} in\n{names}");
    }
    d.berth(&["rmi", "-f", &id[7..19]]).ok();
    let out = d
        .berth(&["load", "-i", file.to_str().unwrap()])
        .ok()
        .to_string();
    assert!(
        out.contains("Loaded image: busybox:latest") && out.contains("Loaded image: busybox:v2"),
        "a repository name saves all its tags:\n{out}"
    );
    assert_eq!(
        d.berth(&["images", "-q", "--no-trunc"]).ok().trim(),
        id,
        "same image id after the round trip"
    );
    // Stdout mode and a gzip-compressed archive on stdin.
    let out = d.berth(&["save", "busybox:v2"]);
    let bytes = out.stdout.clone().into_bytes();
    assert!(!bytes.is_empty());
    let raw = std::process::Command::new(berth_e2e::berth_bin())
        .args(["save", "busybox:v2"])
        .env("BERTH_HOST", d.host())
        .output()
        .unwrap();
    d.berth(&["rmi", "busybox:v2"]).ok();
    d.berth_with_stdin(&["load"], Some(&gzip(&raw.stdout))).ok();
    assert!(d.berth(&["images"]).ok().contains("v2"));
    let err = d.berth(&[
        "save",
        "-o",
        dir.path().join("x.tar").to_str().unwrap(),
        "nosuch",
    ]);
    assert!(err.err().contains("No such image: nosuch"));
    assert!(
        !dir.path().join("x.tar").exists(),
        "a failed save leaves no file"
    );
}

/// Each hostile or broken archive is refused with a message naming the
/// problem, and leaves no image, layer, scratch file or file outside the store.
#[test]
fn bad_input_is_refused_and_writes_nothing() {
    let d = Daemon::start();
    let canary_dir = tempfile::tempdir().unwrap();
    let canary = canary_dir.path().join("canary");
    let target = canary_dir.path().to_str().unwrap().to_string();
    let big = tar(&[Entry::File("big", &[7u8; 8192])]);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("truncated", big[..3000].to_vec(), "not a valid tar archive"),
        ("garbage", vec![0x42; 4096], "not a valid tar archive"),
        ("empty", vec![], "is empty"),
        (
            "truncated gzip",
            gzip(&big)[..40].to_vec(),
            "not a valid tar archive",
        ),
        (
            "dot-dot",
            tar(&[Entry::File("../../canary", b"x")]),
            "'..' is not allowed",
        ),
        (
            "absolute",
            tar(&[Entry::File("/etc/berth-canary", b"x")]),
            "absolute paths are not allowed",
        ),
        (
            "symlink then write",
            tar(&[
                Entry::Symlink("out", &target),
                Entry::File("out/canary", b"x"),
            ]),
            "written through the symlink",
        ),
        (
            "relative symlink out",
            tar(&[Entry::Symlink("a/up", "../../../../tmp")]),
            "points outside the layer",
        ),
        (
            "hardlink out",
            tar(&[Entry::Hardlink("passwd", "../../../etc/passwd")]),
            "outside the layer",
        ),
        ("bzip2", b"BZh91AY&SY....".to_vec(), "bzip2-compressed"),
    ];
    for (what, data, expect) in cases {
        let out = d.berth_with_stdin(&["import", "-", "bad:1"], Some(&data));
        assert!(
            out.err().contains(expect),
            "{what}: want {expect:?} in {:?}",
            out.stderr
        );
        assert!(
            out.stderr.starts_with("Error response from daemon: "),
            "{what}: {}",
            out.stderr
        );
        let out = d.berth_with_stdin(&["load"], Some(&data));
        assert_ne!(out.code, 0, "{what}: load must fail too: {}", out.stdout);
    }
    assert!(!canary.exists(), "nothing escaped the layer directory");
    assert!(!std::path::Path::new("/etc/berth-canary").exists());
    d.assert_store_empty();

    for (args, expect) in [
        (vec!["tag", "nosuch", "x:1"], "No such image: nosuch"),
        (vec!["history", "nosuch"], "No such image: nosuch"),
        (vec!["rmi", "Bad:Name"], "invalid reference format"),
    ] {
        let out = d.berth(&args);
        assert!(out.err().contains(expect), "{args:?}: {}", out.stderr);
    }
    d.starter_image("busybox:latest");
    let out = d.berth(&["tag", "busybox", "team/Box"]);
    assert!(
        out.err().contains("must be lowercase") && out.stderr.contains("team/Box"),
        "{}",
        out.stderr
    );
    let out = d.berth(&["tag", "busybox", "a:b:c"]);
    assert!(
        out.err().contains("invalid reference format"),
        "{}",
        out.stderr
    );
}

#[test]
fn load_checks_layers_against_their_config() {
    let d = Daemon::start();
    let (archive, _, _) = parent_child_archive(Some("base:1"), "app:1");
    // Corrupt one byte inside the second layer's file content (after the tar headers).
    let needle = b"child\n";
    let pos = archive
        .windows(needle.len())
        .position(|w| w == needle)
        .unwrap();
    let mut bad = archive.clone();
    bad[pos] = b'C';
    let out = d.berth_with_stdin(&["load"], Some(&bad));
    assert!(
        out.err().contains("content digest mismatch") && out.stderr.contains("l2/layer.tar"),
        "{}",
        out.stderr
    );
    assert!(
        !d.berth(&["images", "-a"]).ok().contains("app"),
        "the broken image is not visible"
    );
    assert!(d.scratch_entries().is_empty());
}
