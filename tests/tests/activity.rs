//! The activity history (issue 6): every state-changing request is
//! recorded with who, from where, what, on which object and the result,
//! and can be queried with filters and exported as CSV.

use berth_e2e::Daemon;

#[test]
fn state_changes_are_recorded_with_their_results() {
    let d = Daemon::with_busybox();
    d.berth(&["create", "--name", "traced", "busybox", "sleep", "30"])
        .ok();
    d.berth(&["start", "traced"]).ok();
    let missing = d.berth(&["start", "no-such-box"]);
    assert_ne!(missing.code, 0);
    // One over TCP too, as the dashboard makes them.
    assert_eq!(
        d.http("POST", "/containers/traced/stop?t=0", b"").status,
        204
    );
    let _ = d.berth(&["ps"]); // reads are not recorded

    let all = d.http("GET", "/berth/activity", b"");
    assert_eq!(all.status, 200);
    let rows = all.json();
    let rows = rows.as_array().unwrap();
    let find = |action: &str, object: &str| {
        rows.iter()
            .find(|r| r["Action"] == action && r["Object"] == object)
            .unwrap_or_else(|| panic!("{action} {object} in {rows:#?}"))
            .clone()
    };
    let created = find("container.create", "");
    assert_eq!(created["Status"], 201);
    assert_eq!(created["Actor"], "root");
    assert_eq!(created["Address"], "unix");
    assert_eq!(find("container.start", "traced")["Status"], 204);
    assert_eq!(find("container.start", "no-such-box")["Status"], 404);
    let stop = find("container.stop", "traced");
    assert_eq!(stop["Status"], 204);
    assert_eq!(stop["Actor"], "admin", "the account behind the API token");
    assert_eq!(
        stop["Address"].as_str().unwrap().split(':').next(),
        Some("127.0.0.1")
    );
    assert!(
        !rows.iter().any(|r| r["Method"] == "GET"),
        "reads are not recorded"
    );
    assert_eq!(rows[0]["Action"], "container.stop", "newest first");

    // Filters.
    let starts = d
        .http("GET", "/berth/activity?action=container.start", b"")
        .json();
    assert_eq!(starts.as_array().unwrap().len(), 2);
    let by_object = d.http("GET", "/berth/activity?object=no-such", b"").json();
    assert_eq!(by_object.as_array().unwrap().len(), 1);
    let by_actor = d
        .http("GET", "/berth/activity?actor=admin&action=container", b"")
        .json();
    assert_eq!(by_actor.as_array().unwrap().len(), 1);
    let login = d.http("GET", "/berth/activity?action=login", b"").json();
    assert_eq!(login[0]["Actor"], "admin", "the login the harness made");
    assert_eq!(login[0]["Status"], 200);
    let later = d
        .http("GET", "/berth/activity?since=2200-01-01T00:00:00Z", b"")
        .json();
    assert!(later.as_array().unwrap().is_empty());
    let bad = d.http("GET", "/berth/activity?since=yesterday", b"");
    assert_eq!(bad.status, 400);
    assert!(bad.text().contains("invalid since"), "{}", bad.text());

    // CSV export.
    let csv = d.http("GET", "/berth/activity?format=csv&action=container", b"");
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    let text = csv.text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "time,actor,team,address,action,object,method,path,status"
    );
    assert!(
        lines.iter().any(|l| l.ends_with(
            ",root,,unix,container.start,no-such-box,POST,/containers/no-such-box/start,404"
        )),
        "{text}"
    );
    assert_eq!(lines.len(), 5, "{text}");
}
