//! `diff` and `commit` (issue 5): a container's changes as docker prints
//! them, and as a new image — through berth's CLI and the real docker CLI.

use berth_e2e::Daemon;

#[test]
fn diff_lists_changes_as_docker_does() {
    let d = Daemon::with_busybox();
    d.berth(&[
        "run",
        "--name",
        "changer",
        "busybox",
        "sh",
        "-c",
        "echo hi > /etc/motd-new; echo x >> /etc/passwd; rm /bin/true; mkdir -p /srv/app; \
         echo a > /srv/app/a; ln -s /etc/shadow /srv/app/link",
    ])
    .ok();
    let diff = d.berth(&["diff", "changer"]);
    assert_eq!(
        diff.ok(),
        "C /bin\nD /bin/true\nC /etc\nA /etc/motd-new\nC /etc/passwd\nA /srv\nA /srv/app\n\
         A /srv/app/a\nA /srv/app/link\n",
        "the files Berth mounts (/etc/hosts, /etc/hostname, /etc/resolv.conf) are left out"
    );
    assert_eq!(
        d.docker(&["diff", "changer"]).ok(),
        diff.stdout,
        "docker agrees"
    );
    assert_eq!(d.berth(&["container", "diff", "changer"]).ok(), diff.stdout);
    // A container that changed nothing.
    d.berth(&["run", "--name", "quiet", "busybox", "true"]).ok();
    assert_eq!(d.berth(&["diff", "quiet"]).ok(), "");
    let missing = d.berth(&["diff", "nope"]);
    assert_eq!(missing.code, 1);
    assert!(
        missing.stderr.contains("No such container: nope"),
        "{}",
        missing.stderr
    );
}

#[test]
fn commit_makes_an_image_of_the_changes() {
    let d = Daemon::with_busybox();
    d.berth(&[
        "run",
        "--name",
        "base",
        "-e",
        "FROM_RUN=1",
        "busybox",
        "sh",
        "-c",
        "echo committed > /hello; rm /bin/true",
    ])
    .ok();
    let id = d.berth(&[
        "commit",
        "-a",
        "Dana <dana@example.org>",
        "-m",
        "add hello",
        "-c",
        "CMD [\"cat\", \"/hello\"]",
        "-c",
        "ENV GREETING=hi",
        "base",
        "snap:1",
    ]);
    let id = id.ok().trim().to_string();
    assert!(id.starts_with("sha256:") && id.len() == 71, "{id}");
    // The image runs with the new CMD and has the file; the deletion holds.
    assert_eq!(d.berth(&["run", "--rm", "snap:1"]).ok(), "committed\n");
    let gone = d.berth(&["run", "--rm", "snap:1", "ls", "/bin/true"]);
    assert_ne!(gone.code, 0, "the whiteout is in the layer");
    let env = d.berth(&["run", "--rm", "snap:1", "env"]).ok().to_string();
    assert!(
        env.contains("GREETING=hi") && env.contains("FROM_RUN=1"),
        "{env}"
    );
    // Author and message in the config and the history.
    let inspect: serde_json::Value =
        serde_json::from_str(d.berth(&["image", "inspect", "snap:1"]).ok()).unwrap();
    assert_eq!(inspect[0]["Author"], "Dana <dana@example.org>");
    assert_eq!(inspect[0]["Comment"], "add hello");
    let history = d
        .berth(&["history", "--no-trunc", "snap:1"])
        .ok()
        .to_string();
    let top = history.lines().nth(1).unwrap();
    assert!(
        top.contains("sh -c echo committed > /hello; rm /bin/true") && top.contains("add hello"),
        "{history}"
    );
    // The docker CLI commits a running container (paused meanwhile) and
    // its history agrees with berth's.
    d.berth(&[
        "run",
        "-d",
        "--name",
        "live",
        "busybox",
        "sh",
        "-c",
        "echo x > /y; sleep 60",
    ])
    .ok();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let out = d.docker(&["commit", "-a", "ops", "-m", "live one", "live", "snap:live"]);
    assert!(out.ok().trim().starts_with("sha256:"), "{}", out.stdout);
    assert_eq!(
        d.berth(&["run", "--rm", "snap:live", "cat", "/y"]).ok(),
        "x\n"
    );
    assert_eq!(
        d.docker(&["history", "snap:live"]).ok(),
        d.berth(&["history", "snap:live"]).ok()
    );
    let ps = d.berth(&["ps", "--filter", "name=live"]).ok().to_string();
    assert!(ps.contains("Up "), "still running after the commit: {ps}");
    d.berth(&["rm", "-f", "live"]).ok();
    // Bad input is named.
    let bad = d.berth(&["commit", "-c", "FROM busybox", "base", "x:1"]);
    assert_ne!(bad.code, 0);
    assert!(bad.stderr.contains("FROM busybox"), "{}", bad.stderr);
    let images = d.berth(&["images"]).ok().to_string();
    assert!(
        !images.lines().any(|l| l.starts_with("x ")),
        "nothing made: {images}"
    );
}
