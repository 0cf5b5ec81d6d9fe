//! Containers end to end, as root with real namespaces, cgroups, overlayfs and
//! a bridge: what `berth run` prints and returns, the lifecycle commands, the
//! isolation a process sees from inside, limits, networking, volumes, and
//! containers outliving a `kill -9` of the daemon.

use berth_e2e::{free_port, table_rows, Daemon};
use std::io::{Read, Write};
use std::time::{Duration, Instant};

/// GET `path` from 127.0.0.1:`port` with HTTP/1.0, retrying while the server starts.
fn http_get(port: u16, path: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            s.set_read_timeout(Some(Duration::from_secs(5))).ok();
            let _ = s.write_all(format!("GET {path} HTTP/1.0\r\n\r\n").as_bytes());
            let mut out = String::new();
            let _ = s.read_to_string(&mut out);
            if out.starts_with("HTTP/") {
                return out;
            }
        }
        assert!(Instant::now() < deadline, "nothing answered on port {port}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn run_prints_separate_streams_and_returns_docker_exit_codes() {
    let d = Daemon::with_busybox();
    let r = d.berth(&[
        "run",
        "--rm",
        "busybox",
        "sh",
        "-c",
        "echo to-out; echo to-err >&2; exit 3",
    ]);
    assert_eq!(r.code, 3);
    assert_eq!(r.stdout, "to-out\n");
    assert_eq!(r.stderr, "to-err\n");

    let nf = d.berth(&["run", "--rm", "busybox", "no-such-command"]);
    assert_eq!(nf.code, 127, "{}", nf.stderr);
    assert!(
        nf.stderr.contains("executable file not found in $PATH"),
        "{}",
        nf.stderr
    );
    let ni = d.berth(&["run", "--rm", "busybox", "/etc"]);
    assert_eq!(ni.code, 126, "{}", ni.stderr);
    let bad = d.berth(&["run", "--rm", "--restart", "sometimes", "busybox", "true"]);
    assert_eq!(bad.code, 125);
    assert!(
        bad.stderr.contains("unknown policy 'sometimes'"),
        "{}",
        bad.stderr
    );
    let noimg = d.berth(&["run", "--rm", "127.0.0.1:1/none:1", "true"]);
    assert_eq!(noimg.code, 125);
    assert!(
        noimg
            .stderr
            .contains("Unable to find image '127.0.0.1:1/none:1' locally"),
        "{}",
        noimg.stderr
    );
    // A container ended by a signal exits 128+n.
    let runner = {
        let bin = berth_e2e::berth_bin();
        let host = d.host();
        std::thread::spawn(move || {
            std::process::Command::new(bin)
                .args(["run", "--rm", "--name", "victim", "busybox", "sleep", "30"])
                .env("BERTH_HOST", host)
                .status()
                .unwrap()
        })
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while !d
        .berth(&["ps", "-q", "-f", "name=victim"])
        .stdout
        .contains(char::is_alphanumeric)
    {
        assert!(Instant::now() < deadline, "victim never ran");
        std::thread::sleep(Duration::from_millis(50));
    }
    d.berth(&["kill", "victim"]).ok();
    assert_eq!(
        runner.join().unwrap().code(),
        Some(128 + 9),
        "a signal is 128+n"
    );

    // --rm left nothing behind.
    assert!(d.berth(&["ps", "-aq"]).ok().trim().is_empty());
    // The docker CLI runs the same way.
    let r = d.docker(&[
        "run",
        "--rm",
        "busybox",
        "sh",
        "-c",
        "echo via-docker; exit 5",
    ]);
    assert_eq!(r.code, 5);
    assert_eq!(r.stdout, "via-docker\n");
}

#[test]
fn lifecycle_commands_and_tables() {
    let d = Daemon::with_busybox();
    let id = d
        .berth(&[
            "run",
            "-d",
            "--name",
            "ticker",
            "busybox",
            "sh",
            "-c",
            "i=0; while true; do i=$((i+1)); echo line$i; sleep 0.1; done",
        ])
        .ok()
        .trim()
        .to_string();
    assert_eq!(id.len(), 64);
    let ps = d.berth(&["ps"]);
    let header: Vec<&str> = ps
        .ok()
        .lines()
        .next()
        .unwrap()
        .split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(
        header,
        [
            "CONTAINER ID",
            "IMAGE",
            "COMMAND",
            "CREATED",
            "STATUS",
            "PORTS",
            "NAMES"
        ]
    );
    let rows = table_rows(ps.ok());
    assert_eq!(rows[0][0], id[..12]);
    assert_eq!(rows[0][1], "busybox");
    assert_eq!(rows[0][2], "\"sh -c i=0; while tr…\"");
    assert!(rows[0][4].starts_with("Up "), "{rows:?}");
    assert_eq!(rows[0].last().unwrap(), "ticker");

    std::thread::sleep(Duration::from_millis(600));
    let tail = d.berth(&["logs", "--tail", "2", "ticker"]);
    assert_eq!(tail.ok().lines().count(), 2, "{}", tail.stdout);
    let ts = d.berth(&["logs", "-t", "--tail", "1", "ticker"]);
    assert!(
        ts.ok().starts_with("20") && ts.stdout.contains("Z line"),
        "{}",
        ts.stdout
    );
    let top = d.berth(&["top", "ticker"]);
    assert!(top.ok().contains("sh -c i=0"), "{}", top.stdout);

    // stop: SIGTERM is ignored by a shell as pid 1, so SIGKILL after -t.
    let t0 = Instant::now();
    assert_eq!(
        d.berth(&["stop", "-t", "1", "ticker"]).ok().trim(),
        "ticker"
    );
    assert!(t0.elapsed() < Duration::from_secs(8));
    let state = d.berth(&["inspect", "ticker"]).ok().to_string();
    let v: serde_json::Value = serde_json::from_str(&state).unwrap();
    assert_eq!(v[0]["State"]["Status"], "exited");
    assert_eq!(v[0]["State"]["ExitCode"], 137);
    assert!(d.berth(&["ps", "-q"]).ok().trim().is_empty());
    assert_eq!(d.berth(&["ps", "-aq"]).ok().trim(), &id[..12]);
    assert_eq!(
        d.berth(&["ps", "-a", "-f", "status=exited", "-q"])
            .ok()
            .trim(),
        &id[..12]
    );

    // start, restart, kill, wait, rename.
    d.berth(&["start", "ticker"]).ok();
    assert!(d.berth(&["ps", "-q"]).ok().contains(&id[..12]));
    d.berth(&["restart", "-t", "1", "ticker"]).ok();
    assert!(d.berth(&["ps", "-q"]).ok().contains(&id[..12]));
    d.berth(&["kill", "-s", "KILL", "ticker"]).ok();
    assert_eq!(d.berth(&["wait", "ticker"]).ok().trim(), "137");
    d.berth(&["rename", "ticker", "tocker"]).ok();
    assert!(d.berth(&["ps", "-a"]).ok().contains("tocker"));
    let gone = d.berth(&["kill", "tocker"]);
    assert_eq!(gone.code, 1);
    assert!(gone.stderr.contains("is not running"), "{}", gone.stderr);

    // --init: pid 1 passes the stop signal on, so stop is quick (143 = SIGTERM).
    d.berth(&[
        "run", "-d", "--init", "--name", "initd", "busybox", "sleep", "60",
    ])
    .ok();
    // Pid 1 names itself and holds no more than the container's capabilities.
    let top = d.berth(&["exec", "initd", "ps"]);
    assert!(
        top.ok().contains("1 root     berth-init -- sleep 60"),
        "{}",
        top.stdout
    );
    let pid1_caps = d.berth(&["exec", "initd", "grep", "CapBnd", "/proc/1/status"]);
    assert_eq!(pid1_caps.ok().trim(), "CapBnd:\t00000000a80425fb");
    let t0 = Instant::now();
    d.berth(&["stop", "-t", "8", "initd"]).ok();
    assert!(t0.elapsed() < Duration::from_secs(4), "{:?}", t0.elapsed());
    assert_eq!(d.berth(&["wait", "initd"]).ok().trim(), "143");
    d.berth(&["rm", "initd"]).ok();

    // Log rotation: the newest lines stay, the oldest go.
    d.berth(&[
        "run",
        "--name",
        "rot",
        "--log-opt",
        "max-size=2k",
        "--log-opt",
        "max-file=2",
        "busybox",
        "sh",
        "-c",
        "for i in $(seq 1 300); do echo line-$i; done",
    ])
    .ok();
    let logs = d.berth(&["logs", "rot"]).ok().to_string();
    assert_eq!(logs.lines().last(), Some("line-300"));
    assert!(!logs.lines().any(|l| l == "line-1"), "rotated away");
    let kept = logs.lines().count();
    assert!((20..300).contains(&kept), "{kept} lines kept");
    d.berth(&["rm", "rot"]).ok();

    // rm: a running container needs -f; `rm $(ps -aq)` works.
    d.berth(&["run", "-d", "--name", "aa", "busybox", "sleep", "60"])
        .ok();
    d.berth(&["create", "--name", "bb", "busybox", "true"]).ok();
    let refused = d.berth(&["rm", "aa"]);
    assert!(
        refused.stderr.contains("container is running"),
        "{}",
        refused.stderr
    );
    let name_taken = d.berth(&["create", "--name", "aa", "busybox"]);
    assert_eq!(name_taken.code, 125);
    assert!(
        name_taken.stderr.contains("is already in use"),
        "{}",
        name_taken.stderr
    );
    let ids = d.berth(&["ps", "-aq"]).ok().to_string();
    let mut args = vec!["rm", "-f"];
    args.extend(ids.split_whitespace());
    d.berth(&args).ok();
    assert!(d.berth(&["ps", "-aq"]).ok().trim().is_empty());
    let none = d.berth(&["rm", "nothing-here"]);
    assert!(
        none.stderr.contains("No such container: nothing-here"),
        "{}",
        none.stderr
    );
}

#[test]
fn the_process_sees_an_isolated_machine() {
    let d = Daemon::with_busybox();
    let out = d.berth(&[
        "run", "--rm", "--hostname", "box1", "-w", "/work", "-e", "FOO=bar", "busybox", "sh", "-c",
        "hostname; echo pid=$$; pwd; echo FOO=$FOO; grep -E '^(CapEff|NoNewPrivs)' /proc/self/status; \
         ls /proc/kcore 2>&1 | head -c 0; cat /proc/kcore 2>/dev/null | head -c 1 | wc -c; \
         echo x > /proc/sys/kernel/domainname 2>/dev/null || echo procsys-ro; \
         ls /dev; ps | wc -l; cat /etc/hostname",
    ]);
    let text = out.ok();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "box1");
    assert_eq!(lines[1], "pid=1");
    assert_eq!(lines[2], "/work");
    assert_eq!(lines[3], "FOO=bar");
    assert!(
        text.contains("CapEff:\t00000000a80425fb"),
        "Docker's default capabilities: {text}"
    );
    assert!(text.contains("NoNewPrivs:\t1"), "{text}");
    assert!(text.contains("procsys-ro"), "{text}");
    for dev in ["null", "zero", "urandom", "pts", "shm", "mqueue"] {
        assert!(lines.contains(&dev), "/dev/{dev}: {text}");
    }
    assert!(
        !lines.contains(&"sda") && !lines.contains(&"kmsg"),
        "{text}"
    );
    assert_eq!(*lines.last().unwrap(), "box1");

    let user = d.berth(&["run", "--rm", "-u", "nobody", "busybox", "id"]);
    assert_eq!(user.ok().trim(), "uid=65534(nobody) gid=65534(nogroup)");
    let bad_user = d.berth(&["run", "--rm", "-u", "nosuchuser", "busybox", "id"]);
    assert_ne!(bad_user.code, 0);
    assert!(
        bad_user.stderr.contains("unable to find user nosuchuser"),
        "{}",
        bad_user.stderr
    );
    let ro = d.berth(&["run", "--rm", "--read-only", "busybox", "touch", "/x"]);
    assert_eq!(ro.code, 1);
    assert!(ro.stderr.contains("Read-only file system"), "{}", ro.stderr);
    let ep = d.berth(&["run", "--rm", "--entrypoint", "echo", "busybox", "a", "b"]);
    assert_eq!(ep.ok(), "a b\n");
    let caps = d.berth(&[
        "run",
        "--rm",
        "--cap-drop",
        "ALL",
        "--cap-add",
        "NET_ADMIN",
        "busybox",
        "grep",
        "CapEff",
        "/proc/self/status",
    ]);
    assert_eq!(caps.ok().trim(), "CapEff:\t0000000000001000");
    let bad_cap = d.berth(&["run", "--rm", "--cap-add", "BOGUS", "busybox", "true"]);
    assert_eq!(bad_cap.code, 125);
    assert!(
        bad_cap.stderr.contains("invalid capability: \"BOGUS\""),
        "{}",
        bad_cap.stderr
    );

    // Docker's default seccomp profile: no namespaces or mounts from inside.
    let sc = d.berth(&[
        "run",
        "--rm",
        "busybox",
        "sh",
        "-c",
        "grep '^Seccomp:' /proc/self/status; unshare -n true || echo unshare-refused",
    ]);
    assert_eq!(sc.ok(), "Seccomp:\t2\nunshare-refused\n");
    let unconfined = d.berth(&[
        "run",
        "--rm",
        "--security-opt",
        "seccomp=unconfined",
        "busybox",
        "grep",
        "^Seccomp:",
        "/proc/self/status",
    ]);
    assert_eq!(unconfined.ok(), "Seccomp:\t0\n");
    // The profile is an allow list with Docker's capability rules: a call
    // that needs CAP_SYS_ADMIN (mount) is refused without it and allowed
    // with it.
    let mount = "mkdir -p /m && mount -t tmpfs none /m && echo mounted";
    let no_admin = d.berth(&["run", "--rm", "busybox", "sh", "-c", mount]);
    assert_ne!(no_admin.code, 0);
    assert!(
        no_admin.stderr.contains("permission denied"),
        "{}",
        no_admin.stderr
    );
    let admin = d.berth(&[
        "run",
        "--rm",
        "--cap-add",
        "SYS_ADMIN",
        "busybox",
        "sh",
        "-c",
        mount,
    ]);
    assert_eq!(admin.ok(), "mounted\n");

    // An image a container uses stays.
    d.berth(&["create", "--name", "holder", "busybox", "true"])
        .ok();
    let rmi = d.berth(&["rmi", "busybox"]);
    assert!(
        rmi.stderr
            .contains("container is using its referenced image"),
        "{}",
        rmi.stderr
    );
    d.berth(&["rm", "holder"]).ok();

    // The writable layer is the container's own: another container does not see it.
    d.berth(&[
        "run",
        "--name",
        "wr",
        "busybox",
        "sh",
        "-c",
        "echo mine > /etc/written",
    ])
    .ok();
    let other = d.berth(&["run", "--rm", "busybox", "cat", "/etc/written"]);
    assert_eq!(other.code, 1);
}

#[test]
fn memory_and_pids_limits_hold_and_the_daemon_is_unaffected() {
    let d = Daemon::with_busybox();
    let oom = d.berth(&[
        "run",
        "--name",
        "hog",
        "-m",
        "16m",
        "busybox",
        "sh",
        "-c",
        "x=aaaaaaaa; while true; do x=$x$x; done",
    ]);
    assert_eq!(oom.code, 137);
    let v: serde_json::Value = serde_json::from_str(d.berth(&["inspect", "hog"]).ok()).unwrap();
    assert_eq!(v[0]["State"]["OOMKilled"], true);
    assert_eq!(v[0]["HostConfig"]["Memory"], 16 << 20);
    assert_eq!(d.http("GET", "/_ping", b"").text(), "OK");

    // A fork bomb stays inside --pids-limit.
    d.berth(&[
        "run",
        "-d",
        "--name",
        "bomb",
        "--pids-limit",
        "30",
        "busybox",
        "sh",
        "-c",
        // The bomb runs in a subshell; pid 1 becomes sleep without another
        // fork, which would fail once the bomb holds every pid (and a shell
        // whose fork fails exits).
        "(b() { b | b & }; b) & exec sleep 30",
    ])
    .ok();
    std::thread::sleep(Duration::from_secs(2));
    let top = d.berth(&["top", "bomb"]);
    let procs = top.ok().lines().count() - 1;
    assert!(procs <= 30, "{procs} processes");
    d.berth(&["rm", "-f", "bomb"]).ok();
    assert_eq!(d.http("GET", "/_ping", b"").text(), "OK");
    let cpus = d.berth(&["run", "--rm", "--cpus", "0.5", "busybox", "true"]);
    assert_eq!(cpus.code, 0, "{}", cpus.stderr);
    let too_small = d.berth(&["run", "--rm", "-m", "1m", "busybox", "true"]);
    assert!(
        too_small
            .stderr
            .contains("Minimum memory limit allowed is 6MB"),
        "{}",
        too_small.stderr
    );
}

#[test]
fn bridge_ports_links_and_none() {
    let d = Daemon::with_busybox();
    let port = free_port();
    let publish = format!("127.0.0.1:{port}:80");
    d.berth(&[
        "run",
        "-d",
        "--name",
        "web",
        "-p",
        &publish,
        "-e",
        "SECRET_WORD=swordfish",
        "busybox",
        "sh",
        "-c",
        "echo served-by-web > /tmp/index.html; exec httpd -f -p 80 -h /tmp",
    ])
    .ok();
    assert!(http_get(port, "/index.html").contains("served-by-web"));
    let rows = table_rows(d.berth(&["ps"]).ok());
    assert_eq!(rows[0][5], format!("127.0.0.1:{port}->80/tcp"));
    assert_eq!(
        d.berth(&["port", "web"]).ok().trim(),
        format!("80/tcp -> 127.0.0.1:{port}")
    );

    // Container to container, by address and by link alias.
    let v: serde_json::Value = serde_json::from_str(d.berth(&["inspect", "web"]).ok()).unwrap();
    let ip = v[0]["NetworkSettings"]["IPAddress"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(ip.starts_with(&format!("172.31.{}.", d.net.n)), "{ip}");
    let by_ip = d.berth(&[
        "run",
        "--rm",
        "busybox",
        "wget",
        "-qO-",
        &format!("http://{ip}/index.html"),
    ]);
    assert_eq!(by_ip.ok(), "served-by-web\n");
    let linked = d.berth(&[
        "run", "--rm", "--name", "client", "--link", "web:site", "busybox", "sh", "-c",
        "wget -qO- http://site/index.html; grep site /etc/hosts; echo $SITE_PORT_80_TCP_ADDR $SITE_ENV_SECRET_WORD $SITE_NAME",
    ]);
    let text = linked.ok();
    assert!(text.starts_with("served-by-web\n"), "{text}");
    assert!(text.contains(&format!("{ip}\tsite")), "{text}");
    assert!(
        text.contains(&format!("{ip} swordfish /client/site")),
        "{text}"
    );

    // --network none: loopback only; -P picks a free host port.
    let none = d.berth(&[
        "run",
        "--rm",
        "--network",
        "none",
        "busybox",
        "ls",
        "/sys/class/net",
    ]);
    assert_eq!(none.ok().trim(), "lo");
    d.berth(&[
        "run", "-d", "--name", "any", "-P", "--expose", "80", "busybox", "httpd", "-f", "-p", "80",
        "-h", "/",
    ])
    .ok();
    let p = d.berth(&["port", "any", "80"]).ok().trim().to_string();
    let host_port: u16 = p.rsplit(':').next().unwrap().parse().unwrap();
    assert!(http_get(host_port, "/").starts_with("HTTP/"));
    let taken = d.berth(&["run", "--rm", "-p", &publish, "busybox", "true"]);
    assert_ne!(taken.code, 0);
    assert!(
        taken.stderr.contains("port is already allocated"),
        "{}",
        taken.stderr
    );
}

#[test]
fn volumes_named_anonymous_and_binds() {
    let d = Daemon::with_busybox();
    d.berth(&["volume", "create", "data"]).ok();
    d.berth(&[
        "run",
        "--rm",
        "-v",
        "data:/data",
        "busybox",
        "sh",
        "-c",
        "echo kept > /data/f",
    ])
    .ok();
    assert_eq!(
        d.berth(&["run", "--rm", "-v", "data:/d", "busybox", "cat", "/d/f"])
            .ok(),
        "kept\n"
    );
    let ls = d.berth(&["volume", "ls"]);
    assert!(
        ls.ok().starts_with("DRIVER    VOLUME NAME\n"),
        "{}",
        ls.stdout
    );
    assert!(table_rows(ls.ok()).iter().any(|r| r == &["local", "data"]));

    let host = tempfile::tempdir().unwrap();
    std::fs::write(host.path().join("h"), "from-host").unwrap();
    let spec = format!("{}:/h:ro", host.path().display());
    assert_eq!(
        d.berth(&["run", "--rm", "-v", &spec, "busybox", "cat", "/h/h"])
            .ok(),
        "from-host"
    );
    let ro = d.berth(&["run", "--rm", "-v", &spec, "busybox", "touch", "/h/new"]);
    assert_eq!(ro.code, 1);

    // An anonymous volume goes with `rm -v`; a used volume cannot be removed.
    d.berth(&[
        "run",
        "--name",
        "anon",
        "-v",
        "/scratch",
        "-v",
        "data:/data",
        "busybox",
        "true",
    ])
    .ok();
    let before = d.berth(&["volume", "ls", "-q"]).ok().lines().count();
    assert_eq!(before, 2);
    let busy = d.berth(&["volume", "rm", "data"]);
    assert!(busy.stderr.contains("volume is in use"), "{}", busy.stderr);
    d.berth(&["rm", "-v", "anon"]).ok();
    assert_eq!(d.berth(&["volume", "ls", "-q"]).ok().trim(), "data");
    d.berth(&["volume", "rm", "data"]).ok();

    for (spec, want) in [
        ("a:b:c:d", "invalid volume specification: 'a:b:c:d'"),
        ("/x:relative", "mount path must be absolute"),
        ("/x:/y:bogus", "invalid mode: bogus"),
    ] {
        let r = d.berth(&["run", "--rm", "-v", spec, "busybox", "true"]);
        assert_eq!(r.code, 125, "{spec}");
        assert!(r.stderr.contains(want), "{spec}: {}", r.stderr);
    }
}

#[test]
fn containers_outlive_a_killed_daemon() {
    let mut d = Daemon::with_busybox();
    let port = free_port();
    let publish = format!("127.0.0.1:{port}:80");
    d.berth(&[
        "run",
        "-d",
        "--name",
        "web",
        "-p",
        &publish,
        "busybox",
        "sh",
        "-c",
        "echo up > /tmp/i; exec httpd -f -p 80 -h /tmp",
    ])
    .ok();
    d.berth(&[
        "run",
        "-d",
        "--name",
        "counter",
        "busybox",
        "sh",
        "-c",
        "i=0; while true; do i=$((i+1)); echo n$i; sleep 0.2; done",
    ])
    .ok();
    d.berth(&[
        "run",
        "-d",
        "--name",
        "short",
        "busybox",
        "sh",
        "-c",
        "sleep 2; exit 9",
    ])
    .ok();
    d.berth(&[
        "run",
        "-d",
        "--name",
        "retry",
        "--restart",
        "on-failure:2",
        "busybox",
        "sh",
        "-c",
        "sleep 1; exit 1",
    ])
    .ok();
    assert!(http_get(port, "/i").contains("up"));

    d.crash_and_restart();
    std::thread::sleep(Duration::from_secs(3));

    let rows = table_rows(d.berth(&["ps", "-a"]).ok());
    let status = |name: &str| -> String {
        rows.iter()
            .find(|r| r.last().map(String::as_str) == Some(name))
            .map(|r| r[4].clone())
            .unwrap_or_default()
    };
    assert!(status("web").starts_with("Up"), "{rows:?}");
    assert!(status("counter").starts_with("Up"), "{rows:?}");
    assert!(status("short").starts_with("Exited (9)"), "{rows:?}");
    assert!(
        http_get(port, "/i").contains("up"),
        "published port after restart"
    );
    let before = d.berth(&["logs", "counter"]).ok().lines().count();
    std::thread::sleep(Duration::from_millis(600));
    assert!(
        d.berth(&["logs", "counter"]).ok().lines().count() > before,
        "still logging"
    );

    // logs -f follows a recovered container until it stops.
    let follower = {
        let bin = berth_e2e::berth_bin();
        let host = d.host();
        std::thread::spawn(move || {
            std::process::Command::new(bin)
                .args(["logs", "-f", "--tail", "1", "counter"])
                .env("BERTH_HOST", host)
                .output()
                .unwrap()
        })
    };
    std::thread::sleep(Duration::from_millis(500));
    d.berth(&["stop", "-t", "1", "counter", "web"]).ok();
    let out = follower.join().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).lines().count() >= 2);

    // The restart policy ran: on-failure:2 means two restarts, then it stays down.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let v: serde_json::Value =
            serde_json::from_str(d.berth(&["inspect", "retry"]).ok()).unwrap();
        if v[0]["RestartCount"] == 2 && v[0]["State"]["Status"] == "exited" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "restart count: {}",
            v[0]["RestartCount"]
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn the_docker_cli_drives_containers() {
    let d = Daemon::with_busybox();
    let port = free_port();
    let publish = format!("127.0.0.1:{port}:80");
    let vol = tempfile::tempdir().unwrap();
    std::fs::write(vol.path().join("index.html"), "docker-cli-page").unwrap();
    let bind = format!("{}:/www:ro", vol.path().display());
    d.docker(&[
        "run", "-d", "--name", "site", "-p", &publish, "-v", &bind, "-e", "A=1", "busybox",
        "httpd", "-f", "-p", "80", "-h", "/www",
    ])
    .ok();
    assert!(http_get(port, "/index.html").contains("docker-cli-page"));
    let out = d.docker(&[
        "run",
        "--rm",
        "--link",
        "site:s",
        "busybox",
        "wget",
        "-qO-",
        "http://s/index.html",
    ]);
    assert_eq!(out.ok(), "docker-cli-page");
    let ps = d.docker(&["ps", "-a"]);
    assert!(
        ps.ok().contains(&format!("127.0.0.1:{port}->80/tcp")),
        "{}",
        ps.stdout
    );
    d.docker(&[
        "run",
        "-d",
        "--name",
        "talker",
        "busybox",
        "sh",
        "-c",
        "echo said-something; sleep 60",
    ])
    .ok();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(d.docker(&["logs", "talker"]).ok(), "said-something\n");
    d.docker(&["stop", "-t", "1", "talker"]).ok();
    d.docker(&["start", "talker"]).ok();
    d.docker(&["restart", "-t", "1", "talker"]).ok();
    let f = d.docker(&["logs", "--tail", "1", "talker"]);
    assert_eq!(f.ok(), "said-something\n");
    d.docker(&["rm", "-f", "talker", "site"]).ok();
    assert!(d.docker(&["ps", "-aq"]).ok().trim().is_empty());
}

#[test]
fn env_files_image_volumes_and_restart_always() {
    let mut d = Daemon::with_busybox();
    let dir = tempfile::tempdir().unwrap();
    let env = dir.path().join("app.env");
    std::fs::write(&env, "# a comment\nFROM_FILE=yes\n\nOVERRIDE=file\n").unwrap();
    let r = d.berth(&[
        "run",
        "--rm",
        "--env-file",
        env.to_str().unwrap(),
        "-e",
        "OVERRIDE=flag",
        "busybox",
        "sh",
        "-c",
        "echo $FROM_FILE $OVERRIDE",
    ]);
    assert_eq!(r.ok(), "yes flag\n");

    // An image's VOLUME becomes an anonymous volume, kept until `rm -v`.
    let tar = berth_e2e::archive::tar(&[berth_e2e::archive::Entry::File("data/seed", b"seed")]);
    let dir2 = tempfile::tempdir().unwrap();
    let tar_path = dir2.path().join("vol.tar");
    std::fs::write(&tar_path, tar).unwrap();
    d.berth(&[
        "import",
        "-c",
        "VOLUME /data",
        tar_path.to_str().unwrap(),
        "withvol:1",
    ])
    .ok();
    d.berth(&[
        "create",
        "--name",
        "vc",
        "--entrypoint",
        "/nothing",
        "withvol:1",
    ])
    .ok();
    let v: serde_json::Value = serde_json::from_str(d.berth(&["inspect", "vc"]).ok()).unwrap();
    assert_eq!(v[0]["Mounts"][0]["Type"], "volume");
    assert_eq!(v[0]["Mounts"][0]["Destination"], "/data");
    assert_eq!(d.berth(&["volume", "ls", "-q"]).ok().lines().count(), 1);
    d.berth(&["rm", "-v", "vc"]).ok();
    assert!(d.berth(&["volume", "ls", "-q"]).ok().trim().is_empty());

    // --restart always: restarted after it exits, and after the daemon comes back.
    d.berth(&[
        "run",
        "-d",
        "--name",
        "again",
        "--restart",
        "always",
        "busybox",
        "sh",
        "-c",
        "echo run; sleep 1",
    ])
    .ok();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let v: serde_json::Value =
            serde_json::from_str(d.berth(&["inspect", "again"]).ok()).unwrap();
        if v[0]["RestartCount"].as_i64().unwrap_or(0) >= 1 {
            break;
        }
        assert!(Instant::now() < deadline, "never restarted");
        std::thread::sleep(Duration::from_millis(100));
    }
    d.crash_and_restart();
    let deadline = Instant::now() + Duration::from_secs(15);
    while !d
        .berth(&["ps", "-q", "-f", "name=again"])
        .stdout
        .contains(char::is_alphanumeric)
    {
        assert!(
            Instant::now() < deadline,
            "not running after the daemon restart"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // A stopped `always` container stays stopped.
    d.berth(&["stop", "-t", "0", "again"]).ok();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(d
        .berth(&["ps", "-q", "-f", "name=again"])
        .ok()
        .trim()
        .is_empty());
}

/// A static UDP echo server (answers "echo:" + what it got), built with gcc.
fn udp_echo_image(d: &Daemon) {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("udpecho.c");
    std::fs::write(
        &src,
        r#"#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
int main(void) {
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET; a.sin_port = htons(5353); a.sin_addr.s_addr = htonl(INADDR_ANY);
    if (bind(s, (struct sockaddr *)&a, sizeof a) != 0) return 1;
    for (;;) {
        char buf[512], out[600];
        struct sockaddr_in from; socklen_t len = sizeof from;
        ssize_t n = recvfrom(s, buf, sizeof buf, 0, (struct sockaddr *)&from, &len);
        if (n < 0) continue;
        memcpy(out, "echo:", 5); memcpy(out + 5, buf, n);
        sendto(s, out, n + 5, 0, (struct sockaddr *)&from, len);
    }
}
"#,
    )
    .unwrap();
    let bin = dir.path().join("udpecho");
    let out = std::process::Command::new("gcc")
        .args(["-static", "-O2", "-o"])
        .arg(&bin)
        .arg(&src)
        .output()
        .expect("gcc (apt-get install gcc libc6-dev)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(&bin).unwrap();
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_size(bytes.len() as u64);
    h.set_mode(0o755);
    h.set_cksum();
    b.append_data(&mut h, "udpecho", &bytes[..]).unwrap();
    let tar = b.into_inner().unwrap();
    let tar_path = dir.path().join("img.tar");
    std::fs::write(&tar_path, tar).unwrap();
    d.berth(&[
        "import",
        "-c",
        "CMD [\"/udpecho\"]",
        tar_path.to_str().unwrap(),
        "udpecho:1",
    ])
    .ok();
}

#[test]
fn published_udp_ports() {
    let mut d = Daemon::with_busybox();
    udp_echo_image(&d);
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let publish = format!("127.0.0.1:{port}:5353/udp");
    d.berth(&["run", "-d", "--name", "echo", "-p", &publish, "udpecho:1"])
        .ok();
    let ask = |text: &str| -> String {
        let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        s.set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            s.send_to(text.as_bytes(), ("127.0.0.1", port)).unwrap();
            let mut buf = [0u8; 600];
            if let Ok((n, _)) = s.recv_from(&mut buf) {
                return String::from_utf8_lossy(&buf[..n]).into_owned();
            }
            assert!(Instant::now() < deadline, "no UDP answer on {port}");
        }
    };
    assert_eq!(ask("ping"), "echo:ping");
    assert_eq!(
        d.berth(&["port", "echo"]).ok().trim(),
        format!("5353/udp -> 127.0.0.1:{port}")
    );
    // Still published after the daemon is killed and started again.
    d.crash_and_restart();
    assert_eq!(ask("again"), "echo:again");
}
