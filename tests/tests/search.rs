//! `search`: a named registry's catalog (with tags), the registries the daemon
//! is logged in to, and local images, through Berth's CLI and the docker CLI.

use berth_e2e::registry::Registry;
use berth_e2e::{table_rows, Daemon};

#[test]
fn search_finds_registry_repositories_and_local_images() {
    let reg = Registry::start(None);
    let d = Daemon::start();
    d.starter_image("busybox:latest");
    let host = reg.host();
    for target in [
        format!("{host}/team/app:1"),
        format!("{host}/team/app:2"),
        format!("{host}/other/thing:1"),
    ] {
        d.berth(&["tag", "busybox", &target]).ok();
        d.berth(&["push", "-q", &target]).ok();
    }

    let out = d
        .berth(&["search", &format!("{host}/app")])
        .ok()
        .to_string();
    let header: Vec<&str> = out
        .lines()
        .next()
        .unwrap()
        .split("   ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(
        header,
        ["NAME", "DESCRIPTION", "STARS", "OFFICIAL"],
        "{out}"
    );
    let rows = table_rows(&out);
    assert_eq!(rows.len(), 1, "{out}");
    assert_eq!(rows[0][0], format!("{host}/team/app"));
    assert_eq!(rows[0][1], "tags: 1, 2");
    assert_eq!(rows[0][2], "0");

    let docker = d.docker(&["search", &format!("{host}/app")]);
    assert!(
        docker.ok().contains(&format!("{host}/team/app")) && docker.stdout.contains("tags: 1, 2"),
        "{}",
        docker.stdout
    );

    // Without a registry: local images, and the registries logged in to.
    let local = d.berth(&["search", "busy"]).ok().to_string();
    assert!(
        local.contains("busybox") && local.contains("local image (tags: latest)"),
        "{local}"
    );
    // Before a login only the local tag answers; after it, the registry does.
    let before = table_rows(d.berth(&["search", "thing"]).ok());
    assert_eq!(
        (before[0][0].as_str(), before[0][1].as_str()),
        (
            format!("{host}/other/thing").as_str(),
            "local image (tags: 1)"
        )
    );
    d.berth_with_stdin(
        &["login", "-u", "any", "--password-stdin", &host],
        Some(b"any\n"),
    )
    .ok();
    let after = table_rows(d.berth(&["search", "thing"]).ok());
    assert_eq!(after.len(), 1, "one row per repository: {after:?}");
    assert_eq!(after[0][1], "tags: 1");

    let bad = d.berth(&["search", "--limit", "500", "x"]);
    assert!(
        bad.err()
            .contains("limit 500 is outside the range of [1, 100]"),
        "{}",
        bad.stderr
    );
}
