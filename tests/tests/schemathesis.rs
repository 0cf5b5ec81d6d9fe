//! The API under schemathesis (issue 8): every operation of
//! `/berth/openapi.json` gets generated requests (bounded in number), and
//! none may answer 5xx or drop the connection. Operations that would reach
//! past the machine (registry logins, pulls, searches, builds whose FROM
//! pulls), that stream or wait without end, or that end the test's own
//! credential are left out; tar bodies have fuzzing (`make fuzz`) instead.

use berth_e2e::Daemon;
use std::process::Command;

#[test]
fn generated_requests_never_get_a_server_error() {
    let cache = std::env::var("BERTH_CACHE").unwrap_or_else(|_| "/var/cache/berth".into());
    let st = format!("{cache}/schemathesis/bin/schemathesis");
    assert!(
        std::path::Path::new(&st).exists(),
        "{st} is missing: `make test` installs it (scripts/setup.sh)"
    );
    let d = Daemon::with_busybox();
    d.berth(&["run", "-d", "--name", "target", "busybox", "sleep", "600"])
        .ok();
    d.berth(&["network", "create", "targetnet"]).ok();
    let token = d.admin_token();
    let base = format!("http://127.0.0.1:{}", d.port);
    let out = Command::new(&st)
        .args(["run", &format!("{base}/berth/openapi.json"), "--base-url", &base])
        .args(["-H", &format!("Authorization: Bearer {token}")])
        .args(["--checks", "not_a_server_error", "--hypothesis-max-examples", "15"])
        .args(["--hypothesis-seed", "20261130", "--request-timeout", "10000"])
        .args(["--hypothesis-suppress-health-check", "all", "--no-color"])
        .args([
            "--exclude-path-regex",
            r"^/(auth|build|events|session|images/create|images/search|images/\{[^}]*\}/push|containers/\{[^}]*\}/(attach|attach/ws|wait|stats|logs)|exec/\{[^}]*\}/start|berth/containers/\{[^}]*\}/shell/ws|berth/(logout|password|tokens|users|teams).*)$",
        ])
        .args(["--exclude-name", "PUT /containers/{id}/archive"])
        .args(["--exclude-name", "POST /images/load"])
        .env("SCHEMATHESIS_HOOKS", "")
        .output()
        .expect("run schemathesis");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let summary = text
        .lines()
        .rev()
        .find(|l| l.contains(" in "))
        .unwrap_or("")
        .to_string();
    eprintln!("schemathesis: {summary}");
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !summary.contains("failed") && !summary.contains("errored"),
        "{text}"
    );
    // The daemon lived through it.
    assert_eq!(d.http("GET", "/_ping", b"").text(), "OK");
}
