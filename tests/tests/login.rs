//! `login`/`logout`: credentials checked against the registry, kept by the
//! daemon with mode 0600, used for pulls and pushes, and never shown again.

use berth_e2e::registry::Registry;
use berth_e2e::Daemon;
use std::os::unix::fs::PermissionsExt;

#[test]
fn login_keeps_credentials_for_pull_and_push_until_logout() {
    let reg = Registry::start(Some(("carol", "hunter2-secret")));
    let d = Daemon::start();
    let host = reg.host();
    let auth_file = d.root().join("registry-auth.json");

    let bad = d.berth_with_stdin(
        &["login", "-u", "carol", "--password-stdin", &host],
        Some(b"wrong\n"),
    );
    assert!(bad.err().contains("401 Unauthorized"), "{}", bad.stderr);
    assert!(!auth_file.exists(), "a failed login stores nothing");

    let ok = d.berth_with_stdin(
        &["login", "-u", "carol", "--password-stdin", &host],
        Some(b"hunter2-secret\n"),
    );
    assert_eq!(ok.ok().trim(), "Login Succeeded");
    assert_eq!(
        std::fs::metadata(&auth_file).unwrap().permissions().mode() & 0o777,
        0o600
    );

    // Push and pull use the stored login.
    d.starter_image("busybox:latest");
    let target = format!("{host}/carol/box:1");
    d.berth(&["tag", "busybox", &target]).ok();
    assert!(d
        .berth(&["push", &target])
        .ok()
        .contains("1: digest: sha256:"));
    d.berth(&["rmi", &target]).ok();
    assert!(d
        .berth(&["pull", &target])
        .ok()
        .contains("Status: Downloaded newer image"));

    // The password appears in no answer and no log.
    let info = d.http("GET", "/info", b"").text();
    let events = d
        .http("GET", &format!("/events?since=0&until={}", now()), b"")
        .text();
    assert!(events.contains("\"Action\":\"login\""), "{events}");
    for text in [info, events, d.log()] {
        assert!(!text.contains("hunter2-secret"), "password leaked");
    }

    // The docker CLI logs in through the same endpoint.
    let out = d.docker(&["login", "-u", "carol", "-p", "hunter2-secret", &host]);
    assert!(out.ok().contains("Login Succeeded"), "{}", out.stdout);

    assert_eq!(
        d.berth(&["logout", &host]).ok().trim(),
        format!("Removing login credentials for {host}")
    );
    d.berth(&["rmi", &target]).ok();
    let denied = d.berth(&["pull", &target]);
    assert!(
        denied.err().contains("may require 'docker login'"),
        "{}",
        denied.stderr
    );
    assert_eq!(
        d.berth(&["logout", &host]).ok().trim(),
        format!("Not logged in to {host}")
    );
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 1
}
