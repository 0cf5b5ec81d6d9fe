//! The real docker CLI (28.x client) driving Berth: the commands issue 2 promises.

use berth_e2e::{table_rows, Daemon};

#[test]
fn docker_version_and_info() {
    let d = Daemon::start();
    let out = d.docker(&["version"]);
    assert!(out.ok().contains("Server: Berth"), "{}", out.stdout);
    assert!(
        out.stdout
            .contains("API version:      1.47 (minimum version 1.40)"),
        "{}",
        out.stdout
    );
    let out = d.docker(&["info"]);
    assert!(
        out.ok().contains("Storage Driver: overlay2"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains(&format!("Docker Root Dir: {}", d.root().display())),
        "{}",
        out.stdout
    );
}

#[test]
fn docker_image_commands_agree_with_berth() {
    let d = Daemon::start();
    let id = d.starter_image("busybox:latest");
    assert_eq!(
        d.docker(&["images"]).ok(),
        d.berth(&["images"]).ok(),
        "same table from both CLIs"
    );
    assert_eq!(d.docker(&["images", "-q"]).ok().trim(), &id[7..19]);

    d.docker(&["tag", "busybox", "team/box:2"]).ok();
    assert!(d.berth(&["images"]).ok().contains("team/box"));
    let v: serde_json::Value =
        serde_json::from_str(d.docker(&["inspect", "team/box:2"]).ok()).unwrap();
    assert_eq!(v[0]["Id"], id.as_str());
    assert_eq!(v[0]["RepoTags"].as_array().unwrap().len(), 2);
    let v: serde_json::Value =
        serde_json::from_str(d.docker(&["image", "inspect", "busybox"]).ok()).unwrap();
    assert_eq!(v[0]["Config"]["Cmd"][0], "sh");
    let missing = d.docker(&["inspect", "nosuch"]);
    assert!(
        missing.err().contains("No such object: nosuch"),
        "{}",
        missing.stderr
    );

    let hist = d.docker(&["history", "busybox"]).ok().to_string();
    assert!(hist.starts_with("IMAGE          CREATED"), "{hist}");
    assert!(
        hist.contains(&id[7..19]) && hist.contains("busybox"),
        "{hist}"
    );
    assert_eq!(
        d.docker(&["history", "-q", "busybox"]).ok().trim(),
        &id[7..19]
    );

    assert_eq!(
        d.docker(&["rmi", "team/box:2"]).ok(),
        "Untagged: team/box:2\n"
    );

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bb.tar");
    d.docker(&["save", "-o", file.to_str().unwrap(), "busybox"])
        .ok();
    let out = d.docker(&["rmi", "busybox"]).ok().to_string();
    assert!(out.contains(&format!("Deleted: {id}")), "{out}");
    let out = d.docker(&["load", "-i", file.to_str().unwrap()]);
    assert!(
        out.ok().contains("Loaded image: busybox:latest"),
        "{}",
        out.stdout
    );
    assert_eq!(d.berth(&["images", "-q", "--no-trunc"]).ok().trim(), id);

    let rootfs = dir.path().join("rootfs.tar");
    std::fs::write(
        &rootfs,
        berth_e2e::archive::tar(&[berth_e2e::archive::Entry::File("hello", b"hi\n")]),
    )
    .unwrap();
    let out = d.docker(&[
        "import",
        "-c",
        "CMD [\"/hello\"]",
        "-m",
        "from docker",
        rootfs.to_str().unwrap(),
        "imported:1",
    ]);
    assert!(out.ok().trim().starts_with("sha256:"), "{}", out.stdout);
    let rows = table_rows(d.berth(&["images", "imported"]).ok());
    assert_eq!(rows[0][0], "imported");
    assert!(d
        .berth(&["history", "imported:1"])
        .ok()
        .contains("from docker"));
    let bad = d.docker(&["rmi", "nosuch:9"]);
    assert!(
        bad.err().contains("No such image: nosuch:9"),
        "{}",
        bad.stderr
    );
}
