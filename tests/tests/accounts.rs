//! Accounts, teams and roles (issue 6): every request on TCP is
//! authenticated and authorised; the role × action matrix; team ownership;
//! admin-only host options; CSRF; login lockout; API tokens through the berth
//! and docker CLIs; terminals closed on logout; terminal recordings.

use berth_e2e::{berth_bin, Daemon, ADMIN_PASSWORD};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::process::Command;
use std::time::{Duration, Instant};

const PW: &str = "team-password-1";

/// A daemon with teams blue and red, and users: ann (operator, blue),
/// vic (viewer, blue), rob (operator, red).
struct Org {
    d: Daemon,
    admin: String,
    ann: String,
    vic: String,
    rob: String,
}

fn admin_call(d: &Daemon, method: &str, path: &str, body: Value) -> berth_e2e::http::Response {
    d.http(method, path, body.to_string().as_bytes())
}

fn org() -> Org {
    let d = Daemon::with_busybox();
    for t in ["blue", "red"] {
        let r = admin_call(&d, "POST", "/berth/teams", json!({"Name": t}));
        assert_eq!(r.status, 201, "{}", r.text());
    }
    for (u, role, team) in [
        ("ann", "operator", "blue"),
        ("vic", "viewer", "blue"),
        ("rob", "operator", "red"),
    ] {
        let r = admin_call(
            &d,
            "POST",
            "/berth/users",
            json!({"Name": u, "Password": PW, "Role": role, "Teams": [team]}),
        );
        assert_eq!(r.status, 201, "{}", r.text());
    }
    Org {
        admin: d.admin_token(),
        ann: d.token_of("ann", PW, "t"),
        vic: d.token_of("vic", PW, "t"),
        rob: d.token_of("rob", PW, "t"),
        d,
    }
}

impl Org {
    fn call(&self, token: &str, method: &str, path: &str, body: &str) -> berth_e2e::http::Response {
        let auth = format!("Bearer {token}");
        let mut h: Vec<(&str, &str)> = vec![("Content-Type", "application/json")];
        if !token.is_empty() {
            h.push(("Authorization", &auth));
        }
        self.d.http_with(method, path, &h, body.as_bytes())
    }

    fn callers(&self) -> [(&'static str, String); 5] {
        [
            ("admin", self.admin.clone()),
            ("operator", self.ann.clone()),
            ("viewer", self.vic.clone()),
            ("other team", self.rob.clone()),
            ("anonymous", String::new()),
        ]
    }
}

#[test]
fn role_and_team_matrix_over_the_api() {
    let o = org();
    // ann's container and volume belong to blue.
    let r = o.call(
        &o.ann,
        "POST",
        "/containers/create?name=bluebox",
        r#"{"Image":"busybox","Cmd":["sleep","300"],"HostConfig":{"Binds":["bluevol:/data"]}}"#,
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(
        o.call(&o.ann, "POST", "/containers/bluebox/start", "")
            .status,
        204
    );
    let r = o.call(&o.ann, "POST", "/networks/create", r#"{"Name":"bluenet"}"#);
    assert_eq!(r.status, 201, "{}", r.text());

    // (method, path, body, expected: admin, operator, viewer, other team, anonymous)
    let any = 0u16; // "not 401/403/404": the request got through to its handler
    let matrix: &[(&str, &str, &str, [u16; 5])] = &[
        ("GET", "/_ping", "", [200, 200, 200, 200, 200]),
        ("GET", "/berth/openapi.json", "", [200, 200, 200, 200, 200]),
        ("GET", "/info", "", [200, 200, 200, 200, 401]),
        (
            "GET",
            "/containers/json?all=1",
            "",
            [200, 200, 200, 200, 401],
        ),
        (
            "GET",
            "/containers/bluebox/json",
            "",
            [200, 200, 200, 404, 401],
        ),
        (
            "GET",
            "/containers/bluebox/logs?stdout=1",
            "",
            [200, 200, 200, 404, 401],
        ),
        (
            "POST",
            "/containers/bluebox/start",
            "",
            [304, 304, 403, 404, 401],
        ),
        (
            "POST",
            "/containers/bluebox/exec",
            r#"{"Cmd":["true"]}"#,
            [201, 201, 403, 404, 401],
        ),
        (
            "DELETE",
            "/containers/bluebox",
            "",
            [409, 409, 403, 404, 401],
        ),
        (
            "POST",
            "/containers/create",
            r#"{"Image":"busybox","Cmd":["true"]}"#,
            [201, 201, 403, 201, 401],
        ),
        ("GET", "/images/json", "", [200, 200, 200, 200, 401]),
        ("GET", "/images/busybox/json", "", [200, 200, 200, 200, 401]),
        ("DELETE", "/images/busybox", "", [409, 403, 403, 403, 401]),
        (
            "POST",
            "/images/busybox/tag?repo=copy&tag=1",
            "",
            [201, 403, 403, 403, 401],
        ),
        ("GET", "/volumes", "", [200, 200, 200, 200, 401]),
        ("GET", "/volumes/bluevol", "", [200, 200, 200, 404, 401]),
        (
            "POST",
            "/volumes/create",
            r#"{"Name":"bluevol"}"#,
            [201, 201, 403, 403, 401],
        ),
        ("GET", "/networks", "", [200, 200, 200, 200, 401]),
        ("GET", "/networks/bluenet", "", [200, 200, 200, 404, 401]),
        ("GET", "/networks/bridge", "", [200, 200, 200, 200, 401]),
        (
            "POST",
            "/networks/bluenet/disconnect",
            r#"{"Container":"nothere"}"#,
            [404, 404, 403, 404, 401],
        ),
        ("DELETE", "/networks/bridge", "", [403, 403, 403, 403, 401]),
        ("POST", "/build", "", [any, any, 403, any, 401]),
        (
            "POST",
            "/auth",
            r#"{"serveraddress":"127.0.0.1:1"}"#,
            [any, 403, 403, 403, 401],
        ),
        ("GET", "/berth/users", "", [200, 403, 403, 403, 401]),
        ("GET", "/berth/teams", "", [200, 403, 403, 403, 401]),
        ("GET", "/berth/session", "", [200, 200, 200, 200, 401]),
        ("GET", "/berth/tokens", "", [200, 200, 200, 200, 401]),
        ("GET", "/berth/activity", "", [200, 200, 200, 200, 401]),
        ("GET", "/v2/_catalog", "", [200, 200, 200, 200, 401]),
        ("GET", "/events?until=1", "", [200, 200, 200, 200, 401]),
    ];
    let mut wrong = Vec::new();
    for (method, path, body, want) in matrix {
        for ((who, token), want) in o.callers().iter().zip(want) {
            let got = o.call(token, method, path, body).status;
            let ok = if *want == any {
                ![401, 403, 404].contains(&got)
            } else {
                got == *want
            };
            if !ok {
                wrong.push(format!("{method} {path} as {who}: {got}, want {want}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));

    // Lists show each caller their teams' objects only.
    let names = |token: &str| -> Vec<String> {
        o.call(token, "GET", "/containers/json?all=1", "")
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["Names"][0].as_str().unwrap().to_string())
            .collect()
    };
    assert!(names(&o.ann).contains(&"/bluebox".to_string()));
    assert!(names(&o.vic).contains(&"/bluebox".to_string()));
    assert!(!names(&o.rob).contains(&"/bluebox".to_string()));
    assert_eq!(names(&o.rob).len(), 1, "rob's own container only");
    assert_eq!(names(&o.admin).len(), 4, "admins see everything");
    let vols = o.call(&o.rob, "GET", "/volumes", "").json();
    assert_eq!(vols["Volumes"], json!([]), "{vols}");
    let nets = o.call(&o.rob, "GET", "/networks", "").text();
    assert!(
        !nets.contains("bluenet") && nets.contains("\"bridge\""),
        "{nets}"
    );
    let r = o.call(
        &o.ann,
        "POST",
        "/networks/bluenet/connect",
        r#"{"Container":"bluebox"}"#,
    );
    assert_eq!(r.status, 200, "{}", r.text());

    // The other team's objects answer as if they did not exist.
    let r = o.call(&o.rob, "POST", "/containers/bluebox/stop", "");
    assert_eq!(r.json()["message"], "No such container: bluebox");

    // Host-level options are for admins.
    for (opt, body) in [
        (
            "/etc",
            r#"{"Image":"busybox","HostConfig":{"Binds":["/etc:/x"]}}"#,
        ),
        (
            "--cap-add",
            r#"{"Image":"busybox","HostConfig":{"CapAdd":["NET_ADMIN"]}}"#,
        ),
        (
            "--network host",
            r#"{"Image":"busybox","HostConfig":{"NetworkMode":"host"}}"#,
        ),
        (
            "--privileged",
            r#"{"Image":"busybox","HostConfig":{"Privileged":true}}"#,
        ),
    ] {
        let r = o.call(&o.ann, "POST", "/containers/create", body);
        assert_eq!(r.status, 403, "{opt}: {}", r.text());
        assert!(
            r.text().contains("only admins may use") && r.text().contains(opt),
            "{}",
            r.text()
        );
    }
    let r = o.call(
        &o.admin,
        "POST",
        "/containers/create",
        r#"{"Image":"busybox","HostConfig":{"Binds":["/etc:/x:ro"]}}"#,
    );
    assert_eq!(r.status, 201, "{}", r.text());

    // Activity: who (the account) and which team; others' rows stay hidden.
    let rows = o
        .call(
            &o.admin,
            "GET",
            "/berth/activity?actor=ann&action=container.create",
            "",
        )
        .json();
    assert_eq!(rows[0]["Team"], "blue", "{rows}");
    let red_view = o.call(&o.rob, "GET", "/berth/activity", "").json();
    assert!(
        red_view
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["Team"] == "red"),
        "{red_view}"
    );
    let by_team = o
        .call(&o.admin, "GET", "/berth/activity?team=red", "")
        .json();
    assert!(by_team
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["Actor"] == "rob"));

    // Secrets never come back.
    let users = o.call(&o.admin, "GET", "/berth/users", "").text();
    assert!(
        !users.contains("argon2") && !users.contains("Password"),
        "{users}"
    );
    let tokens = o.call(&o.ann, "GET", "/berth/tokens", "").text();
    assert!(
        !tokens.contains("berth_") && tokens.contains("\"Name\":\"t\""),
        "{tokens}"
    );
    assert!(!o.d.log().contains(&o.ann), "a token in the daemon's log");
    assert!(!o.d.log().contains(PW), "a password in the daemon's log");
}

#[test]
fn tokens_work_from_the_berth_and_docker_clis_and_can_be_revoked() {
    let o = org();
    o.call(
        &o.ann,
        "POST",
        "/containers/create?name=annbox",
        r#"{"Image":"busybox"}"#,
    );
    let host = format!("tcp://127.0.0.1:{}", o.d.port);
    let berth = |token: Option<&str>| {
        let mut c = Command::new(berth_bin());
        c.args(["ps", "-a"]).env("BERTH_HOST", &host);
        match token {
            Some(t) => c.env("BERTH_TOKEN", t),
            None => c.env_remove("BERTH_TOKEN"),
        };
        c.output().unwrap()
    };
    let out = berth(Some(&o.ann));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let table = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(berth_e2e::table_rows(&table).len(), 1, "{table}");
    assert!(table.contains("annbox"), "{table}");
    let anon = berth(None);
    assert!(!anon.status.success());
    assert!(
        String::from_utf8_lossy(&anon.stderr).contains("authentication required"),
        "{}",
        String::from_utf8_lossy(&anon.stderr)
    );

    // The docker CLI with the token in its config's HttpHeaders.
    let cfg = tempfile::tempdir().unwrap();
    std::fs::write(
        cfg.path().join("config.json"),
        json!({"HttpHeaders": {"Authorization": format!("Bearer {}", o.rob)}}).to_string(),
    )
    .unwrap();
    let docker = |args: &[&str]| {
        Command::new("docker")
            .args(args)
            .env("DOCKER_HOST", &host)
            .env("DOCKER_CONFIG", cfg.path())
            .env_remove("DOCKER_CONTEXT")
            .output()
            .unwrap()
    };
    let run = docker(&["run", "--rm", "busybox", "echo", "hello from rob"]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&run.stdout).trim(),
        "hello from rob"
    );
    let ps = docker(&["ps", "-a", "--format", "{{.Names}}"]);
    assert_eq!(
        String::from_utf8_lossy(&ps.stdout).trim(),
        "",
        "rob sees none of blue's"
    );
    let rm = docker(&["rm", "annbox"]);
    assert!(String::from_utf8_lossy(&rm.stderr).contains("No such container: annbox"));

    // Revoked: refused at once.
    let list = o.call(&o.rob, "GET", "/berth/tokens", "").json();
    let id = list[0]["Id"].as_i64().unwrap();
    assert_eq!(
        o.call(&o.rob, "DELETE", &format!("/berth/tokens/{id}"), "")
            .status,
        204
    );
    let after = docker(&["ps"]);
    assert!(!after.status.success());
    assert!(
        String::from_utf8_lossy(&after.stderr).contains("revoked"),
        "{}",
        String::from_utf8_lossy(&after.stderr)
    );

    // A user in two teams picks the team new objects go to.
    assert_eq!(
        o.d.http("PUT", "/berth/teams/red/members/ann", b"").status,
        204
    );
    let as_team = |team: &str, name: &str| {
        let auth = format!("Bearer {}", o.ann);
        o.d.http_with(
            "POST",
            &format!("/containers/create?name={name}"),
            &[
                ("Authorization", &auth),
                ("X-Berth-Team", team),
                ("Content-Type", "application/json"),
            ],
            br#"{"Image":"busybox"}"#,
        )
    };
    assert_eq!(as_team("red", "for-red").status, 201);
    let r = as_team("green", "nowhere");
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(r.text().contains("not a team of yours"), "{}", r.text());
    let red = o.call(
        &o.admin,
        "GET",
        "/berth/activity?team=red&action=container.create",
        "",
    );
    assert_eq!(red.json()[0]["Actor"], "ann");

    // Names of tokens are unique per user.
    let (cookie, csrf) = o.d.login("ann", PW);
    let h = [("Cookie", cookie.as_str()), ("X-CSRF-Token", csrf.as_str())];
    let dup =
        o.d.http_with("POST", "/berth/tokens", &h, br#"{"Name":"t"}"#);
    assert_eq!(dup.status, 409, "{}", dup.text());
}

#[test]
fn browser_sessions_cookies_csrf_logout_and_lockout() {
    let d = Daemon::start_with_args(&["--login-lockout-seconds", "2"]);
    let r = d.http_with(
        "POST",
        "/berth/login",
        &[],
        json!({"Username": "admin", "Password": ADMIN_PASSWORD})
            .to_string()
            .as_bytes(),
    );
    let cookie_attrs = r.header("set-cookie").unwrap().to_string();
    assert!(cookie_attrs.contains("HttpOnly"), "{cookie_attrs}");
    assert!(cookie_attrs.contains("SameSite=Strict"), "{cookie_attrs}");
    assert!(cookie_attrs.contains("Max-Age=43200"), "{cookie_attrs}");
    assert_eq!(r.json()["Role"], "admin");

    let (cookie, csrf) = d.login("admin", ADMIN_PASSWORD);
    let with = |extra: &[(&str, &str)], method: &str, path: &str, body: &str| {
        let mut h = vec![
            ("Cookie", cookie.as_str()),
            ("Content-Type", "application/json"),
        ];
        h.extend_from_slice(extra);
        d.http_with(method, path, &h, body.as_bytes())
    };
    assert_eq!(with(&[], "GET", "/berth/session", "").status, 200);
    // A cross-site POST carries the cookie but not the token: refused.
    let forged = with(
        &[("Origin", "http://evil.example")],
        "POST",
        "/volumes/create",
        r#"{"Name":"forged"}"#,
    );
    assert_eq!(forged.status, 403, "{}", forged.text());
    assert!(forged.text().contains("CSRF"), "{}", forged.text());
    let wrong = with(
        &[("X-CSRF-Token", "0000")],
        "POST",
        "/volumes/create",
        r#"{"Name":"forged"}"#,
    );
    assert_eq!(wrong.status, 403);
    assert!(
        d.berth(&["volume", "ls", "-q"]).ok().trim().is_empty(),
        "nothing made"
    );
    let good = with(
        &[("X-CSRF-Token", &csrf)],
        "POST",
        "/volumes/create",
        r#"{"Name":"real"}"#,
    );
    assert_eq!(good.status, 201, "{}", good.text());

    // Logout ends the session on the server, not just in this browser.
    assert_eq!(
        with(&[("X-CSRF-Token", &csrf)], "POST", "/berth/logout", "").status,
        204
    );
    assert_eq!(with(&[], "GET", "/berth/session", "").status, 401);

    // Lockout after five wrong passwords: even the right one is refused until it ends.
    let login = |pw: &str| {
        d.http_with(
            "POST",
            "/berth/login",
            &[],
            json!({"Username": "admin", "Password": pw})
                .to_string()
                .as_bytes(),
        )
    };
    for _ in 0..5 {
        assert_eq!(login("wrong password").status, 401);
    }
    let locked = login(ADMIN_PASSWORD);
    assert_eq!(locked.status, 429, "{}", locked.text());
    assert!(locked.text().contains("locked"), "{}", locked.text());
    std::thread::sleep(Duration::from_millis(2200));
    assert_eq!(
        login(ADMIN_PASSWORD).status,
        200,
        "unlocked after the lockout"
    );
    let rows = d.http("GET", "/berth/activity?action=login", b"").json();
    assert!(
        rows.as_array()
            .unwrap()
            .iter()
            .any(|r| r["Status"] == 429 && r["Actor"] == "admin"),
        "the refused logins are in the history: {rows}"
    );
    assert!(!d.log().contains("wrong password"));
}

/// A minimal WebSocket client: the upgrade request, then raw frames.
struct Ws(std::net::TcpStream);

impl Ws {
    fn open(port: u16, path: &str, cookie: &str) -> Ws {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nOrigin: http://127.0.0.1:{port}\r\nCookie: {cookie}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        .unwrap();
        let mut head = Vec::new();
        let mut b = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            s.read_exact(&mut b).unwrap();
            head.push(b[0]);
        }
        let head = String::from_utf8_lossy(&head);
        assert!(head.starts_with("HTTP/1.1 101"), "{head}");
        Ws(s)
    }

    /// Sends a masked binary frame (what a browser sends).
    fn send(&mut self, data: &[u8]) {
        let mask = [1u8, 2, 3, 4];
        let mut f = vec![0x82, 0x80 | data.len() as u8];
        f.extend_from_slice(&mask);
        f.extend(data.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        self.0.write_all(&f).unwrap();
    }

    /// Reads until `needle` shows in the payloads, or the socket closes.
    fn read_until(&mut self, needle: &str, limit: Duration) -> String {
        self.0
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let deadline = Instant::now() + limit;
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        while Instant::now() < deadline && !String::from_utf8_lossy(&seen).contains(needle) {
            match self.0.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
                Err(_) => {}
            }
        }
        String::from_utf8_lossy(&seen).into_owned()
    }

    /// Time until the server closes the connection (at most `limit`).
    fn closed_within(&mut self, limit: Duration) -> Option<Duration> {
        self.0
            .set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        let start = Instant::now();
        let mut buf = [0u8; 4096];
        while start.elapsed() < limit {
            match self.0.read(&mut buf) {
                Ok(0) => return Some(start.elapsed()),
                Ok(n) if buf[..n].first() == Some(&0x88) => return Some(start.elapsed()),
                Err(e)
                    if e.kind() != std::io::ErrorKind::WouldBlock
                        && e.kind() != std::io::ErrorKind::TimedOut =>
                {
                    return Some(start.elapsed())
                }
                _ => {}
            }
        }
        None
    }
}

#[test]
fn logout_closes_open_terminals_and_sessions_are_recorded() {
    let o = org();
    let r = o.call(
        &o.ann,
        "POST",
        "/containers/create?name=shellbox",
        r#"{"Image":"busybox","Cmd":["sleep","300"]}"#,
    );
    assert_eq!(r.status, 201);
    assert_eq!(
        o.call(&o.ann, "POST", "/containers/shellbox/start", "")
            .status,
        204
    );

    let (cookie, csrf) = o.d.login("ann", PW);
    let mut ws = Ws::open(
        o.d.port,
        "/berth/containers/shellbox/shell/ws?h=24&w=80",
        &cookie,
    );
    ws.send(b"echo recorded-$((6*7))\r");
    let out = ws.read_until("recorded-42", Duration::from_secs(15));
    assert!(out.contains("recorded-42"), "{out}");
    // A second terminal on another session of ann stays open.
    let (cookie2, _) = o.d.login("ann", PW);
    let mut other = Ws::open(
        o.d.port,
        "/berth/containers/shellbox/shell/ws?h=24&w=80",
        &cookie2,
    );

    let r = o.d.http_with(
        "POST",
        "/berth/logout",
        &[("Cookie", &cookie), ("X-CSRF-Token", &csrf)],
        b"",
    );
    assert_eq!(r.status, 204);
    let closed = ws.closed_within(Duration::from_secs(5));
    println!("terminal closed {closed:?} after logout");
    assert!(closed.is_some(), "the terminal stayed open after logout");
    assert!(
        other.closed_within(Duration::from_millis(500)).is_none(),
        "only that session's"
    );

    // Revoking a user's membership closes their terminals too.
    let r = o.d.http("DELETE", "/berth/teams/blue/members/ann", b"");
    assert_eq!(r.status, 204);
    assert!(other.closed_within(Duration::from_secs(5)).is_some());

    // A viewer may not open a shell; anonymous may not open anything.
    let (vcookie, _) = o.d.login("vic", PW);
    let mut s = std::net::TcpStream::connect(("127.0.0.1", o.d.port)).unwrap();
    write!(s, "GET /berth/containers/shellbox/shell/ws HTTP/1.1\r\nHost: x\r\nCookie: {vcookie}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").unwrap();
    let mut head = [0u8; 12];
    s.read_exact(&mut head).unwrap();
    assert_eq!(&head, b"HTTP/1.1 403");

    // The session was recorded (asciicast v2) and admins can replay it.
    let rows = o
        .call(
            &o.admin,
            "GET",
            "/berth/activity?action=container.shell&actor=ann",
            "",
        )
        .json();
    let rec = rows
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .find_map(|r| r["Recording"].as_str().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| panic!("no recording in {rows}"))
        .to_string();
    let cast = o.call(&o.admin, "GET", &format!("/berth/recordings/{rec}"), "");
    assert_eq!(cast.status, 200);
    let text = cast.text();
    let header: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(header["version"], 2);
    assert_eq!(header["width"], 80);
    assert!(text.contains(r#""i","echo recorded-$((6*7))\r""#), "{text}");
    assert!(text.contains("recorded-42"), "{text}");
    assert_eq!(
        o.call(&o.rob, "GET", &format!("/berth/recordings/{rec}"), "")
            .status,
        403,
        "replay is for admins"
    );
}

#[test]
fn builds_tags_and_events_stay_within_the_team() {
    let o = org();
    // rob's image (a commit) belongs to red.
    let r = o.call(
        &o.rob,
        "POST",
        "/containers/create?name=robsrc",
        r#"{"Image":"busybox","Cmd":["true"]}"#,
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let r = o.call(
        &o.rob,
        "POST",
        "/commit?container=robsrc&repo=robimg&tag=1",
        "",
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let robimg = r.json()["Id"].as_str().unwrap().to_string();
    let ids = |token: &str| o.call(token, "GET", "/images/json", "").text();
    assert!(ids(&o.rob).contains(&robimg));
    assert!(
        !ids(&o.ann).contains(&robimg),
        "blue does not see red's image"
    );
    assert!(
        ids(&o.ann).contains("busybox"),
        "host images are seen by all"
    );
    assert_eq!(
        o.call(&o.ann, "GET", "/images/robimg:1/json", "").status,
        404
    );

    // ann may not take red's name, nor build on red's image.
    let r = o.call(&o.ann, "POST", "/images/busybox/tag?repo=robimg&tag=1", "");
    assert_eq!(r.status, 403, "{}", r.text());
    assert!(r.text().contains("not your team's"), "{}", r.text());
    let ctx = |dockerfile: &str| {
        berth_e2e::archive::tar(&[berth_e2e::archive::Entry::File(
            "Dockerfile",
            dockerfile.as_bytes(),
        )])
    };
    let auth = format!("Bearer {}", o.ann);
    let build = |dockerfile: &str, tag: &str| {
        o.d.http_with(
            "POST",
            &format!("/build?t={tag}"),
            &[
                ("Authorization", &auth),
                ("Content-Type", "application/x-tar"),
            ],
            &ctx(dockerfile),
        )
    };
    let r = build("FROM robimg:1\nRUN true\n", "annimg:1");
    assert!(r.text().contains("No such image: robimg:1"), "{}", r.text());
    let r = build(
        "FROM busybox\nCOPY --from=robimg:1 /bin/true /t\n",
        "annimg:1",
    );
    assert!(
        r.text().contains("no stage or image of that name"),
        "{}",
        r.text()
    );
    assert_eq!(
        build("FROM busybox\nLABEL team=blue\n", "robimg:1").status,
        403
    );
    // A build of her own belongs to blue.
    let r = build("FROM busybox\nLABEL team=blue\n", "annimg:1");
    assert!(
        r.text().contains("Successfully tagged annimg:1"),
        "{}",
        r.text()
    );
    assert!(ids(&o.ann).contains("annimg:1"));
    assert!(!ids(&o.rob).contains("annimg:1"));
    let rows = o
        .call(
            &o.admin,
            "GET",
            "/berth/activity?action=build&actor=ann",
            "",
        )
        .json();
    assert!(
        rows.as_array().unwrap().iter().all(|r| r["Team"] == "blue"),
        "{rows}"
    );

    // Berth's own registry shows each team its own repositories, and a push
    // may not move another team's tag.
    let catalog = |token: &str| o.call(token, "GET", "/v2/_catalog", "").text();
    assert!(catalog(&o.ann).contains("annimg") && !catalog(&o.ann).contains("robimg"));
    assert!(catalog(&o.rob).contains("robimg") && !catalog(&o.rob).contains("annimg"));
    assert_eq!(
        o.call(&o.ann, "GET", "/v2/library/robimg/tags/list", "")
            .status,
        404
    );
    assert_eq!(
        o.call(&o.rob, "GET", "/v2/library/robimg/tags/list", "")
            .status,
        200
    );
    let manifest = o.call(&o.ann, "GET", "/v2/library/annimg/manifests/1", "");
    assert_eq!(manifest.status, 200, "{}", manifest.text());
    let put = |token: &str| {
        let auth = format!("Bearer {token}");
        let ct = manifest.header("content-type").unwrap().to_string();
        o.d.http_with(
            "PUT",
            "/v2/blue/app/manifests/1",
            &[("Authorization", &auth), ("Content-Type", &ct)],
            &manifest.body,
        )
    };
    assert_eq!(put(&o.ann).status, 201);
    let denied = put(&o.rob);
    assert_eq!(denied.status, 403, "{}", denied.text());
    assert_eq!(denied.json()["errors"][0]["code"], "DENIED");

    // Pruning by one team leaves the others' alone.
    assert_eq!(o.call(&o.ann, "POST", "/containers/prune", "").status, 200);
    assert_eq!(
        o.call(&o.admin, "GET", "/containers/robsrc/json", "")
            .status,
        200
    );
    assert_eq!(o.call(&o.ann, "POST", "/build/prune", "").status, 403);

    // Events: each team hears of its own objects.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let events = |token: &str| {
        let path = format!("/events?since=0&until={}&type=image", now + 2);
        o.call(token, "GET", &path, "").text()
    };
    let annimg = o.call(&o.ann, "GET", "/images/annimg:1/json", "").json()["Id"]
        .as_str()
        .unwrap()
        .to_string();
    let (blue, red, all) = (events(&o.ann), events(&o.rob), events(&o.admin));
    assert!(blue.contains(&annimg) && !blue.contains(&robimg), "{blue}");
    assert!(red.contains(&robimg) && !red.contains(&annimg), "{red}");
    assert!(all.contains(&robimg) && all.contains(&annimg), "{all}");
}

#[test]
fn accounts_are_managed_from_the_cli() {
    let d = Daemon::start();
    // Root on the unix socket manages accounts, also resetting the admin's password.
    d.berth(&["team", "create", "ops"]).ok();
    d.berth_with_stdin(
        &[
            "user",
            "create",
            "--role",
            "viewer",
            "--team",
            "ops",
            "--password-stdin",
            "val",
        ],
        Some(b"val-password\n"),
    )
    .ok();
    let users = d.berth(&["user", "ls"]).ok().to_string();
    let rows = berth_e2e::table_rows(&users);
    assert_eq!(
        users
            .lines()
            .next()
            .unwrap()
            .split_whitespace()
            .collect::<Vec<_>>(),
        ["NAME", "ROLE", "TEAMS", "CREATED"]
    );
    assert_eq!(rows.len(), 2, "{users}");
    assert_eq!(&rows[1][..3], ["val", "viewer", "ops"], "{users}");
    let teams = d.berth(&["team", "ls"]).ok().to_string();
    assert!(teams.contains("ops") && teams.contains("val"), "{teams}");
    let short = d.berth_with_stdin(
        &["user", "create", "--password-stdin", "x"],
        Some(b"short\n"),
    );
    assert!(
        short.err().contains("password too short"),
        "{}",
        short.stderr
    );
    d.berth_with_stdin(
        &["user", "update", "--password-stdin", "admin"],
        Some(b"a-new-admin-pw\n"),
    )
    .ok();
    d.login("admin", "a-new-admin-pw");
    d.berth(&["user", "update", "--role", "operator", "val"])
        .ok();
    assert!(d.berth(&["user", "ls"]).ok().contains("operator"));
    // An operator in no team cannot make what nobody could then manage.
    d.berth_with_stdin(
        &["user", "create", "--password-stdin", "loner"],
        Some(b"loner-password\n"),
    )
    .ok();
    let loner = d.token_of("loner", "loner-password", "t");
    let r = d.http_with(
        "POST",
        "/volumes/create",
        &[("Authorization", &format!("Bearer {loner}"))],
        b"{}",
    );
    assert_eq!(r.status, 403);
    assert!(r.text().contains("belongs to no team"), "{}", r.text());

    // Tokens over TCP with BERTH_TOKEN.
    let token = d.token_of("val", "val-password", "first");
    let host = format!("tcp://127.0.0.1:{}", d.port);
    let tcp = |args: &[&str]| {
        let out = Command::new(berth_bin())
            .args(args)
            .env("BERTH_HOST", &host)
            .env("BERTH_TOKEN", &token)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, made, err) = tcp(&["token", "create", "--expires-in-days", "7", "second"]);
    assert!(ok && made.trim().starts_with("berth_"), "{made} {err}");
    let (_, list, _) = tcp(&["token", "ls"]);
    assert!(
        list.contains("first") && list.contains("second") && !list.contains("berth_"),
        "{list}"
    );
    let (ok, _, err) = tcp(&["user", "ls"]);
    assert!(!ok && err.contains("needs the admin role"), "{err}");
    d.berth(&["team", "kick", "ops", "val"]).ok();
    d.berth(&["user", "rm", "val"]).ok();
    let (ok, _, err) = tcp(&["ps"]);
    assert!(!ok && err.contains("invalid, expired or revoked"), "{err}");
}
