//! The dashboard in a real browser: headless Chromium driven over WebDriver
//! (Debian's chromium + chromium-driver) against a daemon started by the test.

use berth_e2e::http::{self, Response};
use berth_e2e::{Daemon, ADMIN_PASSWORD};
use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A chromedriver process and one browser session; both end on drop.
struct Browser {
    driver: Child,
    port: u16,
    session: String,
    _profile: tempfile::TempDir,
}

impl Browser {
    fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver (apt-get install chromium-driver)");
        let profile = tempfile::tempdir().unwrap();
        let mut b = Browser {
            driver,
            port,
            session: String::new(),
            _profile: profile,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        let caps = json!({"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--window-size=1200,800", format!("--user-data-dir={}", b._profile.path().display())]}}}});
        let r = b.call("POST", "/session", Some(caps));
        b.session = r["sessionId"].as_str().expect("session id").to_string();
        b
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        match self.try_call(method, path, body) {
            Ok(v) => v,
            Err(e) => panic!("webdriver {method} {path}: {e}"),
        }
    }

    fn try_call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let r: Response = http::request(
            ("127.0.0.1", self.port),
            method,
            path,
            &[("Content-Type", "application/json")],
            body.as_bytes(),
        );
        if r.status >= 300 {
            return Err(r.text());
        }
        Ok(r.json()["value"].clone())
    }

    fn s(&self, rest: &str) -> String {
        format!("/session/{}{rest}", self.session)
    }

    fn goto(&self, url: &str) {
        self.call("POST", &self.s("/url"), Some(json!({"url": url})));
    }

    fn url(&self) -> String {
        self.call("GET", &self.s("/url"), None)
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    /// Waits for an element whose text contains `needle`; returns its text.
    fn wait_text(&self, css: &str, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut last = String::new();
        while Instant::now() < deadline {
            let body = json!({"using": "css selector", "value": css}).to_string();
            let r = http::request(
                ("127.0.0.1", self.port),
                "POST",
                &self.s("/elements"),
                &[("Content-Type", "application/json")],
                body.as_bytes(),
            );
            if r.status == 200 {
                for el in r.json()["value"].as_array().cloned().unwrap_or_default() {
                    let id = el
                        .as_object()
                        .and_then(|o| o.values().next())
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string();
                    // An element may be replaced between finding and reading
                    // it (a re-render): look again.
                    let Ok(t) = self.try_call("GET", &self.s(&format!("/element/{id}/text")), None)
                    else {
                        continue;
                    };
                    let t = t.as_str().unwrap_or("").to_string();
                    if t.contains(needle) {
                        return t;
                    }
                    last = t;
                }
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.screenshot("failure");
        panic!("no {css} containing {needle:?} within 30s (last text: {last:?})");
    }

    /// Waits until `css` matches an element (the app renders after the wasm loads); returns its id.
    fn element(&self, css: &str) -> String {
        self.find("css selector", css)
    }

    /// The attribute `name` of the element `css` matches (waiting for it).
    fn attr(&self, css: &str, name: &str) -> String {
        let id = self.element(css);
        self.call(
            "GET",
            &self.s(&format!("/element/{id}/attribute/{name}")),
            None,
        )
        .as_str()
        .unwrap_or("")
        .to_string()
    }

    /// How many elements `css` matches now.
    fn count(&self, css: &str) -> usize {
        self.call(
            "POST",
            &self.s("/elements"),
            Some(json!({"using": "css selector", "value": css})),
        )
        .as_array()
        .map_or(0, Vec::len)
    }

    /// Waits until `css` matches `n` elements; the milliseconds it took.
    fn wait_count(&self, css: &str, n: usize) -> u128 {
        let start = Instant::now();
        while self.count(css) != n {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "{css}: {} elements, want {n}",
                self.count(css)
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        start.elapsed().as_millis()
    }

    /// Clicks the link whose text is exactly `text`, retried while the page settles.
    fn click_link(&self, text: &str) {
        self.click_by("link text", text);
    }

    /// The first element found with a WebDriver strategy, waiting up to 30 s.
    fn find(&self, using: &str, css: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let body = json!({"using": using, "value": css}).to_string();
            let r = http::request(
                ("127.0.0.1", self.port),
                "POST",
                &self.s("/element"),
                &[("Content-Type", "application/json")],
                body.as_bytes(),
            );
            if r.status == 200 {
                let v = r.json()["value"].clone();
                return v
                    .as_object()
                    .and_then(|o| o.values().next())
                    .and_then(Value::as_str)
                    .expect("element id")
                    .to_string();
            }
            if Instant::now() > deadline {
                let _ = self.screenshot("failure");
                panic!("no element {css} within 30s");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Clicks the element; retried while the page is still settling
    /// (re-rendered or not yet clickable elements).
    fn click(&self, css: &str) {
        self.click_by("css selector", css);
    }

    fn click_by(&self, using: &str, value: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let id = self.find(using, value);
            match self.try_call(
                "POST",
                &self.s(&format!("/element/{id}/click")),
                Some(json!({})),
            ) {
                Ok(_) => return,
                Err(e) if Instant::now() < deadline => {
                    eprintln!("click {value}: {e}; retrying");
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => panic!("click {value}: {e}"),
            }
        }
    }

    /// Logs in on the dashboard's login page as `user`.
    fn login_as(&self, d: &Daemon, user: &str, password: &str) {
        self.goto(&format!("http://127.0.0.1:{}/ui/login", d.port));
        self.type_into("input[name=username]", user);
        self.type_into("input[name=password]", password);
        self.click("button.login-submit");
        self.wait_text(".whoami-name", user);
    }

    /// Logs in as the admin.
    fn login(&self, d: &Daemon) {
        self.login_as(d, "admin", ADMIN_PASSWORD);
    }

    /// Empties the input matched by `css`.
    fn clear(&self, css: &str) {
        let id = self.element(css);
        self.call(
            "POST",
            &self.s(&format!("/element/{id}/clear")),
            Some(json!({})),
        );
    }

    /// Types `text` into the input matched by `css`.
    fn type_into(&self, css: &str, text: &str) {
        let id = self.element(css);
        self.call(
            "POST",
            &self.s(&format!("/element/{id}/value")),
            Some(json!({"text": text})),
        );
    }

    /// Types `text` with key events into whatever has the focus (xterm's
    /// hidden textarea included); `\n` is the Enter key.
    fn type_keys(&self, text: &str) {
        let mut actions = Vec::new();
        for ch in text.chars() {
            let v = if ch == '\n' {
                "\u{E007}".to_string()
            } else {
                ch.to_string()
            };
            actions.push(json!({"type": "keyDown", "value": v}));
            actions.push(json!({"type": "keyUp", "value": v}));
        }
        self.call(
            "POST",
            &self.s("/actions"),
            Some(json!({"actions": [{"type": "key", "id": "keyboard", "actions": actions}]})),
        );
    }

    /// The whole page's visible text.
    fn page_text(&self) -> String {
        self.wait_text("body", "")
    }

    /// Saves a screenshot beside the build output for people to look at.
    fn screenshot(&self, name: &str) -> Option<std::path::PathBuf> {
        let b64 = self.call("GET", &self.s("/screenshot"), None);
        let dir = std::env::var_os("CARGO_TARGET_DIR")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(std::env::temp_dir)
            .join("berth-screenshots");
        std::fs::create_dir_all(&dir).ok()?;
        let path = dir.join(format!("{name}.png"));
        let bytes = base64_decode(b64.as_str()?)?;
        std::fs::write(&path, bytes).ok()?;
        Some(path)
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = http::request(
                ("127.0.0.1", self.port),
                "DELETE",
                &format!("/session/{}", self.session),
                &[],
                b"",
            );
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => (c - b'A') as u32,
            b'a'..=b'z' => (c - b'a' + 26) as u32,
            b'0'..=b'9' => (c - b'0' + 52) as u32,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        })
    };
    let clean: Vec<u8> = s
        .bytes()
        .filter(|&c| c != b'=' && !c.is_ascii_whitespace())
        .collect();
    let mut out = Vec::with_capacity(clean.len() * 3 / 4);
    for chunk in clean.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= val(c)? << (18 - 6 * i);
        }
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..chunk.len().saturating_sub(1)]);
    }
    Some(out)
}

#[test]
fn dashboard_lists_the_starter_image_and_shows_its_history() {
    let d = Daemon::start();
    let id = d.starter_image("busybox:latest");
    let b = Browser::start();
    b.login(&d);
    // `/` is the home page: the host and the counts, charts filling in.
    b.goto(&format!("http://127.0.0.1:{}/", d.port));
    let cpu = b.wait_text(".home-cpu", "%");
    assert!(b.url().ends_with("/ui/home"), "/ goes home: {}", b.url());
    let cpu: f64 = cpu.trim().trim_end_matches('%').parse().unwrap();
    assert!((0.0..=100.0).contains(&cpu), "{cpu}");
    assert!(b.wait_text(".home-mem", "GiB").contains(" / "));
    b.wait_text(".home-images", "1");
    b.wait_text(".home-containers", "0 running of 0");
    b.element(".spark-cpu polyline");
    b.screenshot("home");
    let host = d.http("GET", "/berth/host", b"").json();
    assert_eq!(host["Images"], 1);
    assert!(host["DiskTotal"].as_u64().unwrap() > host["DiskFree"].as_u64().unwrap());
    b.click_link("Images");
    let started = Instant::now();
    let row = b.wait_text("tr.image-row", "busybox");
    let rendered = started.elapsed();
    assert!(
        row.contains("latest") && row.contains(&id[7..19]) && row.contains("MB"),
        "row: {row}"
    );
    b.screenshot("images");
    eprintln!("images page rendered in {} ms", rendered.as_millis());

    b.click("tr.image-row");
    let history = b.wait_text(".history-table", "busybox-static");
    assert!(
        history.contains(&id[7..19]),
        "history names the image: {history}"
    );
    assert!(
        b.url().contains(&id[7..19]),
        "the image page has its own URL: {}",
        b.url()
    );
    let facts = b.wait_text(".facts", "busybox:latest");
    assert!(
        facts.contains("sh") && facts.contains("linux/amd64"),
        "{facts}"
    );
    b.screenshot("image-detail");

    // A deep link works after a reload, served by the daemon.
    b.goto(&format!("http://127.0.0.1:{}/ui/images/{}", d.port, id));
    b.wait_text(".history-table", "busybox-static");
}

#[test]
fn dashboard_searches_a_registry_pulls_with_progress_and_manages_logins() {
    let reg = berth_e2e::registry::Registry::start(None);
    let src = Daemon::start();
    src.starter_image("busybox:latest");
    let image = format!("{}/team/app:3", reg.host());
    src.berth(&["tag", "busybox", &image]).ok();
    src.berth(&["push", "-q", &image]).ok();

    let d = Daemon::start();
    let b = Browser::start();
    b.login(&d);
    b.goto(&format!("http://127.0.0.1:{}/ui/search", d.port));
    b.type_into("input[name=term]", &format!("{}/app", reg.host()));
    b.click("form.search-form button");
    let row = b.wait_text("tr.search-row", "team/app");
    assert!(row.contains("tags: 3") && row.contains("Pull 3"), "{row}");
    b.click("button.pull-btn");
    b.wait_text(".pull-panel .layer", "Pull complete");
    let panel = b.wait_text(".pull-panel", "Status: Downloaded newer image");
    assert!(panel.contains(&format!("Pulled {image}")), "{panel}");
    b.screenshot("pull");
    assert!(d
        .berth(&["images"])
        .ok()
        .contains(&format!("{}/team/app", reg.host())));
    b.click(".pull-panel a");
    b.wait_text("tr.image-row", "team/app");

    // Registries: add a login, see it listed without its password, remove it.
    b.goto(&format!("http://127.0.0.1:{}/ui/registries", d.port));
    b.wait_text(".panel", "No registry logins yet.");
    b.type_into("input[name=server]", &reg.host());
    b.type_into("input[name=username]", "dana");
    b.type_into("input[name=password]", "pw-not-shown");
    b.click("form.login-form button");
    let row = b.wait_text("tr.registry-row", &reg.host());
    assert!(row.contains("dana"), "{row}");
    assert!(!b.page_text().contains("pw-not-shown"));
    b.screenshot("registries");
    b.click("button.remove-btn");
    b.wait_text(".panel", "No registry logins yet.");
}

#[test]
fn dashboard_files_are_served_with_types_and_compression() {
    let d = Daemon::start();
    let get = |path: &str, headers: &[(&str, &str)]| {
        http::request(("127.0.0.1", d.port), "GET", path, headers, b"")
    };
    let index = get("/", &[]);
    assert_eq!(index.status, 200);
    assert_eq!(
        index.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(index.text().contains("/app.js"));
    assert_eq!(
        get("/ui/images/anything", &[]).text(),
        index.text(),
        "app routes serve index.html"
    );
    let wasm = get("/app_bg.wasm", &[("Accept-Encoding", "gzip, br")]);
    assert_eq!(wasm.header("content-type"), Some("application/wasm"));
    assert_eq!(wasm.header("content-encoding"), Some("gzip"));
    let plain = get("/app_bg.wasm", &[]);
    assert!(plain.header("content-encoding").is_none());
    assert!(plain.body.starts_with(b"\0asm"));
    assert!(
        wasm.body.len() < plain.body.len() / 2,
        "gzip shrinks the wasm: {} vs {}",
        wasm.body.len(),
        plain.body.len()
    );
    let etag = plain.header("etag").unwrap().to_string();
    assert_eq!(get("/app_bg.wasm", &[("If-None-Match", &etag)]).status, 304);
    assert_eq!(
        get("/app.js", &[]).header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    assert_eq!(
        get("/style.css", &[]).header("content-type"),
        Some("text/css; charset=utf-8")
    );
    let missing = get("/nope.js", &[]);
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json()["message"], "page not found");
    // The unix socket serves the API only.
    let out = d.berth(&["version"]);
    out.ok();
}

#[test]
fn dashboard_launches_a_container_and_runs_commands_in_its_terminal() {
    let d = Daemon::start();
    d.starter_image("busybox:latest");
    let b = Browser::start();
    b.login(&d);
    b.goto(&format!("http://127.0.0.1:{}/ui/containers/new", d.port));
    b.type_into("input[name=image]", "busybox:latest");
    b.type_into("input[name=name]", "webterm");
    b.type_into("input[name=command]", "sh");
    b.type_into(".env-row", "GREETING=hello-from-form");
    b.click("button.add-port");
    b.type_into(".port-container", "8080");
    b.click("button.launch");
    b.wait_text(".state-text", "running");
    b.screenshot("container-detail");
    let ps = d.berth(&["ps"]);
    assert!(ps.ok().contains("webterm"), "{}", ps.stdout);
    assert!(
        ps.stdout.contains("->8080/tcp"),
        "the port row was published: {}",
        ps.stdout
    );

    // Attach: the terminal talks to the container's own shell.
    b.click(".term-attach");
    b.element(".xterm-helper-textarea");
    b.click(".term .xterm");
    b.type_keys("echo $GREETING-$((6*7))\n");
    b.wait_text(".xterm-rows", "hello-from-form-42");
    // A new shell (exec) beside it.
    b.click(".term-shell");
    b.element(".xterm-helper-textarea");
    b.click(".term .xterm");
    b.type_keys("echo shell-$((2+3)) in $(hostname)\n");
    let rows = b.wait_text(".xterm-rows", "shell-5 in ");
    // The page told the shell's terminal its size.
    b.type_keys("stty size | sed s/^/size=/\n");
    b.wait_text(".xterm-rows", "size=24 ");
    b.screenshot("terminal");
    let id = d.berth(&["ps", "-q"]).ok().trim().to_string();
    assert!(rows.contains(&id), "the exec runs in the container: {rows}");

    // Both terminals were recorded; the admin replays the shell's.
    b.goto(&format!("http://127.0.0.1:{}/ui/activity", d.port));
    let table = b.wait_text(".activity-table", "container.shell");
    assert!(table.contains("container.attach"), "{table}");
    b.click(".replay-btn");
    b.wait_text(".replay-term", "shell-5 in ");
    b.wait_text(".replay-status", "Replay finished");
    b.screenshot("replay");

    // The list shows it live, and removes it.
    b.goto(&format!("http://127.0.0.1:{}/ui/containers", d.port));
    let row = b.wait_text("tr.container-row", "webterm");
    assert!(row.contains("running") && row.contains("busybox"), "{row}");
    b.click("tr.container-row .act-remove");
    b.wait_text(".empty", "No containers yet");
    assert!(d.berth(&["ps", "-aq"]).ok().trim().is_empty());
}

#[test]
fn dashboard_launch_form_finds_an_image_in_a_registry_and_pulls_it_to_run() {
    let reg = berth_e2e::registry::Registry::start(None);
    let src = Daemon::start();
    src.starter_image("busybox:latest");
    let image = format!("{}/team/tool:7", reg.host());
    src.berth(&["tag", "busybox", &image]).ok();
    src.berth(&["push", "-q", &image]).ok();

    let d = Daemon::start();
    let b = Browser::start();
    b.login(&d);
    b.goto(&format!("http://127.0.0.1:{}/ui/containers/new", d.port));
    b.type_into("input[name=image]", &format!("{}/tool", reg.host()));
    b.click("button.image-search");
    b.wait_text(".image-results", &image);
    b.click("button.image-choice");
    b.type_into("input[name=name]", "fromsearch");
    b.type_into(
        "input[name=command]",
        "sh -c 'echo pulled-then-ran; sleep 60'",
    );
    b.click("button.launch");
    b.wait_text(".state-text", "running");
    b.screenshot("launch-pulled");
    assert!(
        d.berth(&["images"])
            .ok()
            .contains(&format!("{}/team/tool", reg.host())),
        "the form pulled the chosen image"
    );
    let logs = d.berth(&["logs", "fromsearch"]);
    assert!(logs.ok().contains("pulled-then-ran"), "{}", logs.stdout);
    d.berth(&["rm", "-f", "fromsearch"]).ok();

    // A name that no registry has: the search says so.
    b.goto(&format!("http://127.0.0.1:{}/ui/containers/new", d.port));
    b.type_into(
        "input[name=image]",
        &format!("{}/no-such-thing", reg.host()),
    );
    b.click("button.image-search");
    b.wait_text(".image-results", "No image found by that name.");
}

#[test]
fn dashboard_shows_a_containers_changes_and_commits_them() {
    let d = Daemon::with_busybox();
    d.berth(&[
        "run",
        "--name",
        "edited",
        "busybox",
        "sh",
        "-c",
        "mkdir -p /srv/site; echo hi > /srv/site/index.html; rm /bin/true",
    ])
    .ok();
    let b = Browser::start();
    b.login(&d);
    b.goto(&format!("http://127.0.0.1:{}/ui/containers/edited", d.port));
    let tree = b.wait_text(".changes-tree", "index.html");
    for line in ["A srv", "A site", "A index.html", "C bin", "D true"] {
        assert!(tree.contains(line), "{line:?} in {tree}");
    }
    b.type_into("input[name=commit-repo]", "site:v1");
    b.type_into("input[name=commit-author]", "Web Tester");
    b.type_into("input[name=commit-message]", "from the dashboard");
    b.click("button.commit-btn");
    b.wait_text(".commit-done", "Committed: ");
    b.screenshot("changes-commit");
    b.click(".commit-done a");
    let history = b.wait_text(".history-table", "from the dashboard");
    assert!(history.contains("mkdir -p /srv/site"), "{history}");
    assert_eq!(
        d.berth(&["run", "--rm", "site:v1", "cat", "/srv/site/index.html"])
            .ok(),
        "hi\n"
    );
}

#[test]
fn dashboard_builds_a_dockerfile_written_on_the_page() {
    let d = Daemon::with_busybox();
    let b = Browser::start();
    b.login(&d);
    b.goto(&format!("http://127.0.0.1:{}/ui/build", d.port));
    b.wait_text(".page-head", "Build an image");
    b.clear("textarea[name=dockerfile]");
    b.type_into(
        "textarea[name=dockerfile]",
        "FROM busybox\nARG WHO\nRUN echo \"built for $WHO\" > /made\nCMD [\"cat\", \"/made\"]\n",
    );
    b.type_into("input[name=tag]", "webbuilt:1");
    b.type_into("textarea[name=buildargs]", "WHO=the dashboard");
    b.click("button.build-btn");
    let log = b.wait_text(".build-log", "Successfully tagged webbuilt:1");
    assert!(
        log.contains("Step 3/4 : RUN echo") && log.contains(" ---> Running in "),
        "{log}"
    );
    b.wait_text(".build-done", "Built ");
    b.screenshot("build");
    b.click(".build-done a");
    b.wait_text(".history-table", "built for");
    assert_eq!(
        d.berth(&["run", "--rm", "webbuilt:1"]).ok(),
        "built for the dashboard\n"
    );
    // A failing step is shown, and nothing is tagged.
    b.goto(&format!("http://127.0.0.1:{}/ui/build", d.port));
    b.wait_text(".page-head", "Build an image");
    b.clear("textarea[name=dockerfile]");
    b.type_into("textarea[name=dockerfile]", "FROM busybox\nRUN exit 7\n");
    b.type_into("input[name=tag]", "never:1");
    b.click("button.build-btn");
    b.wait_text(".build-error", "returned a non-zero code: 7");
    assert!(!d.berth(&["images"]).ok().contains("never"));

    // An uploaded context (a tar with its Dockerfile and a file to copy).
    let dir = tempfile::tempdir().unwrap();
    let tar_path = dir.path().join("context.tar");
    let mut t = tar::Builder::new(Vec::new());
    for (name, text) in [
        (
            "Dockerfile",
            "FROM busybox\nCOPY page.txt /page.txt\nCMD [\"cat\", \"/page.txt\"]\n",
        ),
        ("page.txt", "uploaded context\n"),
    ] {
        let mut h = tar::Header::new_gnu();
        h.set_size(text.len() as u64);
        h.set_mode(0o644);
        t.append_data(&mut h, name, text.as_bytes()).unwrap();
    }
    std::fs::write(&tar_path, t.into_inner().unwrap()).unwrap();
    b.goto(&format!("http://127.0.0.1:{}/ui/build", d.port));
    b.wait_text(".page-head", "Build an image");
    b.type_into("input[name=context]", tar_path.to_str().unwrap());
    b.type_into("input[name=tag]", "uploaded:1");
    b.click("button.build-btn");
    b.wait_text(".build-log", "Successfully tagged uploaded:1");
    assert_eq!(
        d.berth(&["run", "--rm", "uploaded:1"]).ok(),
        "uploaded context\n"
    );
}

#[test]
fn dashboard_activity_shows_what_was_just_done() {
    let d = Daemon::with_busybox();
    d.berth(&["create", "--name", "watched", "busybox", "true"])
        .ok();
    let _ = d.berth(&["start", "missing-one"]);
    let b = Browser::start();
    b.login(&d);
    b.goto(&format!("http://127.0.0.1:{}/ui/activity", d.port));
    let table = b.wait_text(".activity-table", "container.start");
    assert!(
        table.contains("container.create") && table.contains("missing-one"),
        "{table}"
    );
    assert!(table.contains("404") && table.contains("201"), "{table}");
    b.type_into("input[name=object]", "missing");
    b.click("button.activity-apply");
    let filtered = b.wait_text(".activity-table", "missing-one");
    assert!(!filtered.contains("container.create"), "{filtered}");
    b.screenshot("activity");
    let csv = d.http("GET", "/berth/activity?format=csv&object=missing", b"");
    assert_eq!(csv.text().lines().count(), 2, "{}", csv.text());
}

#[test]
fn dashboard_login_logout_and_a_viewer_sees_only_their_teams_containers() {
    let d = Daemon::with_busybox();
    let admin = |method: &str, path: &str, body: serde_json::Value| {
        let r = d.http(method, path, body.to_string().as_bytes());
        assert!(r.status < 300, "{method} {path}: {}", r.text());
    };
    admin("POST", "/berth/teams", json!({"Name": "blue"}));
    admin("POST", "/berth/teams", json!({"Name": "red"}));
    for (u, role, team) in [
        ("ann", "operator", "blue"),
        ("vic", "viewer", "blue"),
        ("rob", "operator", "red"),
    ] {
        admin(
            "POST",
            "/berth/users",
            json!({"Name": u, "Password": "team-password-1", "Role": role, "Teams": [team]}),
        );
    }
    for (u, name) in [("ann", "bluebox"), ("rob", "redbox")] {
        let t = d.token_of(u, "team-password-1", "setup");
        let auth = format!("Bearer {t}");
        let r = d.http_with(
            "POST",
            &format!("/containers/create?name={name}"),
            &[
                ("Authorization", &auth),
                ("Content-Type", "application/json"),
            ],
            br#"{"Image":"busybox","Cmd":["true"]}"#,
        );
        assert_eq!(r.status, 201, "{}", r.text());
    }

    let b = Browser::start();
    // Not logged in: the dashboard sends the browser to the login page.
    b.goto(&format!("http://127.0.0.1:{}/ui/containers", d.port));
    b.element("input[name=username]");
    assert!(b.url().contains("/ui/login?next="), "{}", b.url());
    b.type_into("input[name=username]", "vic");
    b.type_into("input[name=password]", "not the password");
    b.click("button.login-submit");
    b.wait_text(".login-error", "invalid username or password");
    b.clear("input[name=password]");
    b.type_into("input[name=password]", "team-password-1");
    b.click("button.login-submit");
    // Back where it was going, as vic, seeing blue's container only.
    let row = b.wait_text("tr.container-row", "bluebox");
    assert!(b.url().ends_with("/ui/containers"), "{}", b.url());
    assert!(
        !b.page_text().contains("redbox"),
        "red's container is hidden"
    );
    let who = b.wait_text(".whoami", "vic");
    assert!(who.contains("viewer") && who.contains("blue"), "{who}");
    let page = b.page_text();
    assert!(
        page.contains("bluebox") && page.contains("Activity"),
        "{page}"
    );
    assert!(
        !page.contains("Users & teams"),
        "admin pages are not offered"
    );
    assert!(
        !page.contains("Run a container"),
        "nor ones for operators: {page}"
    );
    assert!(row.contains("busybox"), "{row}");
    assert!(
        !row.contains("Remove") && !row.contains("Start"),
        "no buttons a viewer may not use: {row}"
    );
    b.screenshot("viewer");

    // Logout ends the session: the next page asks for a login again.
    b.click("button.logout");
    b.element("input[name=username]");
    b.goto(&format!("http://127.0.0.1:{}/ui/containers", d.port));
    b.element("input[name=username]");
    assert!(b.url().contains("/ui/login"), "{}", b.url());
}

#[test]
fn dashboard_admin_manages_users_and_a_user_makes_a_token() {
    let d = Daemon::start();
    let b = Browser::start();
    b.login(&d);
    b.goto(&format!("http://127.0.0.1:{}/ui/users", d.port));
    b.type_into("input[name=new-team]", "ops");
    b.click("button.add-team");
    b.wait_text(".teams-table", "ops");
    b.type_into("input[name=new-user]", "olga");
    b.type_into("input[name=new-password]", "short");
    b.click("button.add-user");
    b.wait_text(".users-error", "password too short");
    b.type_into("input[name=new-user]", "olga");
    b.type_into("input[name=new-password]", "olga-password");
    b.type_into("input[name=new-teams]", "ops");
    b.click("button.add-user");
    let row = b.wait_text(".users-table", "olga");
    assert!(row.contains("ops"), "{row}");
    b.screenshot("users");
    let users = d.http("GET", "/berth/users", b"").json();
    let olga = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["Name"] == "olga")
        .unwrap()
        .clone();
    assert_eq!(olga["Role"], "operator");
    assert_eq!(olga["Teams"], json!(["ops"]));

    // Olga logs in and makes a token for a script.
    b.click("button.logout");
    b.element("input[name=username]");
    b.login_as(&d, "olga", "olga-password");
    b.goto(&format!("http://127.0.0.1:{}/ui/account", d.port));
    b.wait_text(".account-role", "operator");
    b.type_into("input[name=token-name]", "backup-script");
    b.click("button.make-token");
    let token = b.wait_text(".token-value", "berth_");
    let row = b.wait_text(".tokens-table", "backup-script");
    assert!(row.contains("never"), "not used yet: {row}");
    let auth = format!("Bearer {}", token.trim());
    let r = d.http_with("GET", "/berth/session", &[("Authorization", &auth)], b"");
    assert_eq!(r.json()["Username"], "olga");
    b.screenshot("tokens");
    b.click("button.revoke");
    b.wait_text(".empty", "No tokens yet");
    let r = d.http_with("GET", "/berth/session", &[("Authorization", &auth)], b"");
    assert_eq!(r.status, 401);
}

#[test]
fn dashboard_shows_a_containers_resource_use_and_files() {
    let d = Daemon::with_busybox();
    d.berth(&[
        "run",
        "-d",
        "--name",
        "filesbox",
        "-m",
        "64m",
        "busybox",
        "sh",
        "-c",
        "mkdir -p /srv/a; echo deep-text > /srv/a/deep.txt; while :; do :; done",
    ])
    .ok();
    let b = Browser::start();
    b.login(&d);
    b.goto(&format!(
        "http://127.0.0.1:{}/ui/containers/filesbox",
        d.port
    ));
    // Resource use: readings every two seconds, a chart.
    b.wait_text(".stats-mem", "/ 64MiB");
    let cpu = b.wait_text(".stats-cpu", "%");
    let cpu: f64 = cpu.trim().trim_end_matches('%').parse().unwrap();
    assert!(cpu > 10.0, "a busy loop: {cpu}");
    b.element(".spark-cpu polyline");
    // Files: browse to a file, read it, and its download link.
    b.wait_text(".files-table", "bin/");
    b.click_link("srv/");
    b.wait_text(".files-path", "/srv");
    b.click_link("a/");
    b.wait_text(".files-table", "deep.txt");
    b.click_link("deep.txt");
    b.wait_text(".file-text", "deep-text");
    b.screenshot("files-and-stats");
    let r = d.http(
        "GET",
        "/berth/containers/filesbox/files/content?path=/srv/a/deep.txt",
        b"",
    );
    assert_eq!(r.text(), "deep-text\n");
    assert!(r
        .header("content-disposition")
        .unwrap()
        .contains("deep.txt"));
    let r = d.http("GET", "/berth/containers/filesbox/files?path=/nope", b"");
    assert_eq!(r.status, 404, "{}", r.text());
}

#[test]
fn dashboard_edits_a_container_and_recreates_it_with_its_name_and_volumes() {
    let d = Daemon::with_busybox();
    d.berth(&["network", "create", "editnet"]).ok();
    d.berth(&[
        "run",
        "-d",
        "--name",
        "editme",
        "--network",
        "editnet",
        "--network-alias",
        "ed",
        "-e",
        "MODE=one",
        "-v",
        "keepdata:/data",
        "-p",
        "127.0.0.1::8080",
        "busybox",
        "sh",
        "-c",
        "echo $MODE >> /data/log; sleep 300",
    ])
    .ok();
    let old = d.berth(&["ps", "-q", "--no-trunc"]).ok().trim().to_string();
    let b = Browser::start();
    b.login(&d);
    b.goto(&format!("http://127.0.0.1:{}/ui/containers/editme", d.port));
    b.click(".act-edit");
    b.wait_text("h1", "Edit and recreate");
    b.wait_text(".launch", "Recreate");
    b.clear("input[name=command]");
    b.type_into(
        "input[name=command]",
        "sh -c 'echo edited-$MODE >> /data/log; sleep 300'",
    );
    b.click("button.launch");
    b.wait_text(".state-text", "running");
    b.screenshot("recreated");
    let ps = d.berth(&["ps", "-a", "--no-trunc"]).ok().to_string();
    let rows = berth_e2e::table_rows(&ps);
    assert_eq!(rows.len(), 1, "the old one is gone: {ps}");
    assert!(!ps.contains(&old) && ps.contains("editme"), "{ps}");
    assert!(ps.contains("->8080/tcp"), "the port stays published: {ps}");
    let net = d.berth(&[
        "inspect",
        "-f",
        "{{json .NetworkSettings.Networks}}",
        "editme",
    ]);
    let net = net.ok().to_string();
    assert!(
        net.contains("\"editnet\"") && net.contains("\"ed\""),
        "the network and alias stay: {net}"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let log = d.berth(&["exec", "editme", "cat", "/data/log"]).stdout;
        if log == "one\nedited-one\n" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the volume and env carried over: {log:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A one-file rootfs tar whose file says `text` (a distinct image each).
fn tiny_rootfs(text: &str) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(text.len() as u64);
    h.set_mode(0o644);
    h.set_cksum();
    b.append_data(&mut h, "id.txt", text.as_bytes()).unwrap();
    b.into_inner().unwrap()
}

#[test]
fn dashboard_lists_stay_fast_with_500_containers_and_300_images() {
    let d = Daemon::with_busybox();
    for i in 0..500 {
        let r = d.http(
            "POST",
            &format!("/containers/create?name=c-{i:03}"),
            br#"{"Image":"busybox","Cmd":["sleep","600"]}"#,
        );
        assert_eq!(r.status, 201, "{}", r.text());
    }
    for i in 0..300 {
        let r = d.http(
            "POST",
            &format!("/images/create?fromSrc=-&repo=bulk/img-{i:03}&tag=v1"),
            &tiny_rootfs(&format!("image {i}")),
        );
        assert_eq!(r.status, 200, "{}", r.text());
    }
    let b = Browser::start();
    b.login(&d);

    // Containers: one page of 100 rows from the daemon, not 500.
    let started = Instant::now();
    b.goto(&format!("http://127.0.0.1:{}/ui/containers", d.port));
    b.wait_count(".container-row", 100);
    let first_paint = started.elapsed().as_millis();
    let in_page: u64 = b
        .attr(".containers-table", "data-render-ms")
        .parse()
        .unwrap();
    b.wait_text(
        ".count",
        "showing 100 of 500 matching, 500 containers in all",
    );
    // Filtering asks the daemon; the rows follow as the user types.
    b.type_into(".containers-filter", "c-04");
    let filter_ms = b.wait_count(".container-row", 10);
    // Sorting by name, both ways.
    b.click("th.sort-name");
    b.wait_text("tbody .container-row:first-child", "c-040");
    b.click("th.sort-name");
    b.wait_text("tbody .container-row:first-child", "c-049");
    let loads: u32 = b.attr(".containers-table", "data-loads").parse().unwrap();
    // An event patches its row: no list reload.
    let started = Instant::now();
    assert_eq!(d.http("POST", "/containers/c-045/start", b"").status, 204);
    b.wait_text(".container-row[data-name='c-045']", "running");
    let patch_ms = started.elapsed().as_millis();
    assert_eq!(
        b.attr(".containers-table", "data-loads")
            .parse::<u32>()
            .unwrap(),
        loads,
        "an event must not reload the list"
    );
    // "Show more" after clearing the filter.
    b.clear(".containers-filter");
    b.type_into(".containers-filter", "c-");
    b.wait_count(".container-row", 100);
    b.click(".show-more");
    b.wait_count(".container-row", 200);

    // Images: 301 rows (300 and busybox), a page at a time.
    let started = Instant::now();
    b.goto(&format!("http://127.0.0.1:{}/ui/images", d.port));
    b.wait_count(".image-row", 100);
    let images_ms = started.elapsed().as_millis();
    b.wait_text(".count", "showing 100 of 301 matching, 301 images in all");
    b.type_into("input.search", "img-29");
    b.wait_count(".image-row", 10);
    b.click("th.sort-size");
    b.wait_text(".image-row", "bulk/img-29");
    eprintln!(
        "dashboard with 500 containers / 301 images: containers page {first_paint} ms to 100 rows \
         (fetch to paint in the page {in_page} ms), filter {filter_ms} ms, event patch {patch_ms} ms, \
         images page {images_ms} ms"
    );
}

#[test]
fn dashboard_shell_survives_navigation_and_reloads() {
    let d = Daemon::with_busybox();
    d.berth(&["run", "-d", "--name", "keeper", "busybox", "sleep", "600"])
        .ok();
    let b = Browser::start();
    b.login(&d);
    let page = format!("http://127.0.0.1:{}/ui/containers/keeper", d.port);
    b.goto(&page);
    b.click(".term-shell");
    b.element(".xterm-helper-textarea");
    b.click(".term .xterm");
    b.type_keys("X=kept-$((6*7)); echo marker-$((2+3))\n");
    b.wait_text(".xterm-rows", "marker-5");

    // Away to another page and back: the same screen, the same shell.
    b.click_link("Images");
    b.wait_text("h1", "Images");
    b.goto(&page);
    b.wait_text(".xterm-rows", "marker-5");
    b.wait_text(".xterm-rows", "echo marker-$((2+3))");
    b.click(".term .xterm");
    b.type_keys("echo got-$X\n");
    b.wait_text(".xterm-rows", "got-kept-42");

    // A reload connects to it again too.
    b.goto(&page);
    b.wait_text(".xterm-rows", "got-kept-42");
    b.screenshot("terminal-resumed");
    // One shell ran all along: the container has one sh besides sleep.
    let ps = d
        .berth(&["exec", "keeper", "ps", "-o", "args"])
        .ok()
        .to_string();
    let shells = ps.lines().filter(|l| l.trim() == "sh").count();
    assert_eq!(shells, 1, "{ps}");

    // `exit` ends it; the next Shell is a new one.
    b.click(".term .xterm");
    b.type_keys("exit\n");
    b.wait_text(".xterm-rows", "[session ended]");
    b.click(".term-shell");
    b.click(".term .xterm");
    b.type_keys("echo fresh-$X-end\n");
    b.wait_text(".xterm-rows", "fresh--end");
}
