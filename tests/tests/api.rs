//! The Engine API's handshake and error behaviour, spoken over raw HTTP.

use berth_e2e::Daemon;

#[test]
fn ping_answers_get_and_head_with_negotiation_headers() {
    let d = Daemon::start();
    for method in ["GET", "HEAD"] {
        let r = d.http(method, "/_ping", b"");
        assert_eq!(r.status, 200, "{method}");
        assert_eq!(r.header("api-version"), Some("1.47"));
        assert_eq!(r.header("ostype"), Some("linux"));
        assert_eq!(r.header("docker-experimental"), Some("false"));
        assert_eq!(r.header("builder-version"), Some("1"));
        assert_eq!(
            r.header("cache-control"),
            Some("no-cache, no-store, must-revalidate")
        );
        assert!(r.header("server").unwrap_or("").starts_with("Berth/"));
        if method == "GET" {
            assert_eq!(r.text(), "OK");
        }
    }
}

#[test]
fn versioned_and_unversioned_paths_and_version_limits() {
    let d = Daemon::start();
    for p in ["/version", "/v1.40/version", "/v1.47/version"] {
        let r = d.http("GET", p, b"");
        assert_eq!(r.status, 200, "{p}");
        let v = r.json();
        assert_eq!(v["ApiVersion"], "1.47");
        assert_eq!(v["MinAPIVersion"], "1.40");
        assert_eq!(v["Os"], "linux");
        assert!(v["KernelVersion"].as_str().is_some_and(|k| !k.is_empty()));
        assert_eq!(v["Components"][0]["Name"], "Engine");
    }
    let r = d.http("GET", "/v1.99/version", b"");
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json()["message"],
        "client version 1.99 is too new. Maximum supported API version is 1.47"
    );
    let r = d.http("GET", "/v1.12/version", b"");
    assert_eq!(r.status, 400);
    assert!(r.json()["message"].as_str().unwrap().contains("too old"));
}

#[test]
fn unknown_endpoints_answer_docker_404_json_and_errors_carry_headers() {
    let d = Daemon::start();
    for (m, p) in [
        ("GET", "/no/such/thing"),
        ("POST", "/v1.47/containers/x/frobnicate"),
        ("DELETE", "/_ping"),
        ("GET", "/images/x/unknown"),
    ] {
        let r = d.http(m, p, b"");
        assert_eq!(r.status, 404, "{m} {p}: {}", r.text());
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert!(r.json()["message"].is_string());
        assert_eq!(r.header("api-version"), Some("1.47"));
    }
    let r = d.http("GET", "/images/nosuch/json", b"");
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["message"], "No such image: nosuch");
    let r = d.http("GET", "/images/json?all=maybe", b"");
    assert_eq!(r.status, 400);
    assert!(r.text().contains("all"));
}

#[test]
fn info_reports_the_store() {
    let d = Daemon::start();
    d.starter_image("busybox:latest");
    let v = d.http("GET", "/info", b"").json();
    assert_eq!(v["Images"], 1);
    assert_eq!(v["DockerRootDir"], d.root().display().to_string());
    assert_eq!(v["Swarm"]["ControlAvailable"], false);
    assert_eq!(v["OSType"], "linux");
    assert!(v["NCPU"].as_u64().unwrap() >= 1);
}

#[test]
fn events_are_recorded_and_served_between_since_and_until() {
    let d = Daemon::start();
    let id = d.starter_image("busybox:latest");
    d.berth(&["tag", "busybox", "mine:v1"]).ok();
    d.berth(&["rmi", "mine:v1"]).ok();
    // `until` in the future would stream until then, as Docker does: ask up to now.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 1;
    let all = format!("/events?since=0&until={now}");
    let r = d.http("GET", &all, b"");
    assert_eq!(r.status, 200);
    let events: Vec<serde_json::Value> = r
        .text()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let actions: Vec<(&str, &str)> = events
        .iter()
        .map(|e| {
            (
                e["Action"].as_str().unwrap(),
                e["Actor"]["Attributes"]["name"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        actions,
        vec![
            ("import", "busybox:latest"),
            ("tag", "mine:v1"),
            ("untag", "mine:v1")
        ]
    );
    assert!(events.iter().all(|e| e["Type"] == "image"
        && e["Actor"]["ID"] == id.as_str()
        && e["berthActor"] == "root"));
    // until before everything: nothing; a filter narrows.
    assert_eq!(d.http("GET", "/events?since=0&until=1", b"").text(), "");
    let tagged = d
        .http(
            "GET",
            &format!("{all}&filters=%7B%22event%22%3A%7B%22tag%22%3Atrue%7D%7D"),
            b"",
        )
        .text();
    assert_eq!(tagged.lines().count(), 1);
    // The CLI prints them like docker does.
    let out = d.berth(&["events", "--since", "0", "--until", &now.to_string()]);
    assert!(
        out.ok()
            .lines()
            .any(|l| l.contains(" image tag sha256:") && l.ends_with("(name=mine:v1)")),
        "{}",
        out.stdout
    );
    // They survive a restart (they are in SQLite under the data root).
    drop(out);
    let mut d = d;
    d.restart();
    assert_eq!(d.http("GET", &all, b"").text().lines().count(), 3);
}

#[test]
fn the_socket_is_root_only_and_a_data_root_has_one_daemon() {
    use std::os::unix::fs::PermissionsExt;
    let d = Daemon::start();
    let mode = std::fs::metadata(d.socket()).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "socket mode {mode:o}");
    let second = std::process::Command::new(berth_e2e::berth_bin())
        .args(["daemon", "--data-root"])
        .arg(d.root())
        .args([
            "-H",
            &format!("unix://{}/other.sock", d.dir.path().display()),
        ])
        .output()
        .unwrap();
    assert!(!second.status.success());
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(err.contains("in use by another berth daemon"), "{err}");
    assert!(
        d.http("GET", "/_ping", b"").status == 200,
        "the first daemon is unaffected"
    );
}
