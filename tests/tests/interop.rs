//! Archives cross tools: what `berth save` writes, skopeo reads (docker-archive
//! and, through a copy, oci-archive), and what skopeo writes, Berth loads.

use berth_e2e::{skopeo, Daemon};

#[test]
fn skopeo_reads_berth_archives_and_berth_loads_skopeo_oci_archives() {
    let d = Daemon::start();
    let id = d.starter_image("busybox:latest");
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("saved.tar");
    d.berth(&["save", "-o", saved.to_str().unwrap(), "busybox:latest"])
        .ok();

    let v: serde_json::Value = serde_json::from_str(&skopeo(&[
        "inspect",
        &format!("docker-archive:{}", saved.display()),
    ]))
    .unwrap();
    assert_eq!(v["Architecture"], "amd64");
    assert_eq!(v["Layers"].as_array().unwrap().len(), 1);
    let cfg: serde_json::Value = serde_json::from_str(&skopeo(&[
        "inspect",
        "--config",
        &format!("docker-archive:{}", saved.display()),
    ]))
    .unwrap();
    assert_eq!(cfg["config"]["Cmd"][0], "sh");

    let oci = dir.path().join("oci.tar");
    skopeo(&[
        "copy",
        &format!("docker-archive:{}", saved.display()),
        &format!("oci-archive:{}:copied/box:7", oci.display()),
    ]);
    let out = d.berth(&["load", "-i", oci.to_str().unwrap()]);
    assert!(
        out.ok().contains("Loaded image: copied/box:7"),
        "{}",
        out.stdout
    );
    let v: serde_json::Value =
        serde_json::from_str(d.berth(&["inspect", "copied/box:7"]).ok()).unwrap();
    assert_eq!(v[0]["Config"]["Cmd"][0], "sh");
    assert_eq!(
        v[0]["RootFS"],
        serde_json::from_str::<serde_json::Value>(d.berth(&["inspect", &id]).ok()).unwrap()[0]
            ["RootFS"],
        "same layers"
    );
    // The layer was already there: one unpacked copy serves both images.
    assert_eq!(
        std::fs::read_dir(d.root().join("image/layers"))
            .unwrap()
            .count(),
        1
    );
}
