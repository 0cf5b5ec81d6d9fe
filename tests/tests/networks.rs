//! User-defined networks (issue 7): create, list, inspect, connect,
//! disconnect, remove and prune through berth and the docker CLI; containers
//! on one network reach each other by name and alias through the network's
//! DNS server; docker-compose 1.29 runs a two-service project.

use berth_e2e::{free_port, table_rows, Daemon};
use serde_json::Value;
use std::time::{Duration, Instant};

fn inspect(d: &Daemon, what: &str, name: &str) -> Value {
    let out = d.berth(&[what, "inspect", name]);
    let v: Value = serde_json::from_str(out.ok()).expect("inspect JSON");
    v[0].clone()
}

/// A busybox web server on `network` answering `text` at `/`.
fn web_server(d: &Daemon, name: &str, extra: &[&str], text: &str) {
    let script =
        format!("mkdir -p /www && echo {text} > /www/index.html && exec httpd -f -p 80 -h /www");
    let mut args = vec!["run", "-d", "--name", name];
    args.extend_from_slice(extra);
    args.extend_from_slice(&["busybox", "sh", "-c", &script]);
    d.berth(&args).ok();
}

/// Runs `wget -qO- URL` in a throwaway container on `network`, retrying for
/// a few seconds while the server comes up.
fn fetch_from(d: &Daemon, network: &str, url: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let out = d.berth(&[
            "run",
            "--rm",
            "--network",
            network,
            "busybox",
            "wget",
            "-qO-",
            url,
        ]);
        if out.code == 0 || Instant::now() > deadline {
            return out.stdout.trim().to_string();
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

#[test]
fn containers_on_a_network_find_each_other_by_name() {
    let d = Daemon::with_busybox();
    let id = d
        .berth(&["network", "create", "app"])
        .ok()
        .trim()
        .to_string();
    assert_eq!(id.len(), 64, "network create prints the id: {id:?}");

    // Both CLIs list it beside the built-in networks.
    for out in [
        d.berth(&["network", "ls"]).ok().to_string(),
        d.docker(&["network", "ls"]).ok().to_string(),
    ] {
        assert!(out.starts_with("NETWORK ID"), "{out}");
        let rows = table_rows(&out);
        let names: Vec<&str> = rows.iter().map(|r| r[1].as_str()).collect();
        for n in ["app", "bridge", "host", "none"] {
            assert!(names.contains(&n), "{n} in {out}");
        }
        let app = rows.iter().find(|r| r[1] == "app").unwrap();
        assert_eq!(
            (app[0].as_str(), app[2].as_str(), app[3].as_str()),
            (&id[..12], "bridge", "local")
        );
    }
    let pool = format!("10.{}.", d.net.n);
    let net = inspect(&d, "network", "app");
    let subnet = net["IPAM"]["Config"][0]["Subnet"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        subnet.starts_with(&pool) && subnet.ends_with("/24"),
        "{net}"
    );

    web_server(
        &d,
        "web",
        &["--network", "app", "--network-alias", "www"],
        "hello-from-web",
    );
    assert_eq!(fetch_from(&d, "app", "http://web/"), "hello-from-web");
    assert_eq!(
        fetch_from(&d, "app", "http://www/"),
        "hello-from-web",
        "the alias resolves"
    );
    let web = inspect(&d, "container", "web");
    let web_ip = web["NetworkSettings"]["Networks"]["app"]["IPAddress"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(web_ip.starts_with(&pool), "{web}");
    // docker's favourite template works on berth too.
    let tpl = "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}";
    assert_eq!(d.berth(&["inspect", "-f", tpl, "web"]).ok().trim(), web_ip);
    assert_eq!(d.docker(&["inspect", "-f", tpl, "web"]).ok().trim(), web_ip);
    let aliases = web["NetworkSettings"]["Networks"]["app"]["Aliases"].to_string();
    assert!(
        aliases.contains("www") && aliases.contains(&web["Id"].as_str().unwrap()[..12]),
        "{aliases}"
    );
    let looked_up = d.berth(&[
        "run",
        "--rm",
        "--network",
        "app",
        "busybox",
        "nslookup",
        "web",
    ]);
    assert!(
        looked_up.stdout.contains(&web_ip),
        "nslookup: {looked_up:?}"
    );
    // The network lists its container.
    let net = inspect(&d, "network", "app");
    let attached = &net["Containers"][web["Id"].as_str().unwrap()];
    assert_eq!(attached["Name"], "web");
    assert_eq!(attached["IPv4Address"], format!("{web_ip}/24"));

    // Another network does not see it: single names it does not know fail at once.
    d.berth(&["network", "create", "other"]).ok();
    let miss = d.berth(&[
        "run",
        "--rm",
        "--network",
        "other",
        "busybox",
        "nslookup",
        "web",
    ]);
    assert_ne!(
        miss.code, 0,
        "web must not resolve on another network: {miss:?}"
    );
    assert!(!miss.stdout.contains(&web_ip), "{miss:?}");

    // A running container on the default bridge joins, reaches web, leaves.
    d.berth(&["run", "-d", "--name", "solo", "busybox", "sleep", "300"])
        .ok();
    d.berth(&["network", "connect", "--alias", "lonely", "app", "solo"])
        .ok();
    let ifaces = d
        .berth(&["exec", "solo", "ls", "/sys/class/net"])
        .ok()
        .to_string();
    assert!(
        ifaces.contains("eth0") && ifaces.contains("eth1"),
        "{ifaces}"
    );
    let got = d.berth(&["exec", "solo", "wget", "-qO-", "http://web/"]);
    assert_eq!(got.ok().trim(), "hello-from-web");
    let solo = inspect(&d, "container", "solo");
    let solo_ip = solo["NetworkSettings"]["Networks"]["app"]["IPAddress"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(solo_ip.starts_with(&pool), "{solo}");
    let lonely = d.berth(&[
        "run",
        "--rm",
        "--network",
        "app",
        "busybox",
        "nslookup",
        "lonely",
    ]);
    assert!(
        lonely.stdout.contains(&solo_ip),
        "the alias given at connect: {lonely:?}"
    );
    assert!(solo["NetworkSettings"]["Networks"]["bridge"]["IPAddress"]
        .as_str()
        .unwrap()
        .starts_with("172.31."));
    d.berth(&["network", "disconnect", "app", "solo"]).ok();
    let ifaces = d
        .berth(&["exec", "solo", "ls", "/sys/class/net"])
        .ok()
        .to_string();
    assert!(!ifaces.contains("eth1"), "{ifaces}");
    let gone = d.berth(&["network", "disconnect", "app", "solo"]);
    assert!(
        gone.err().contains("is not connected to network app"),
        "{gone:?}"
    );

    // A fixed address, and what cannot be.
    d.berth(&[
        "run",
        "-d",
        "--name",
        "fixed",
        "--network",
        "app",
        "--ip",
        &format!("10.{}.0.50", d.net.n),
        "busybox",
        "sleep",
        "300",
    ])
    .ok();
    let fixed = inspect(&d, "container", "fixed");
    assert_eq!(
        fixed["NetworkSettings"]["Networks"]["app"]["IPAddress"],
        format!("10.{}.0.50", d.net.n)
    );
    let taken = d.berth(&[
        "run",
        "--rm",
        "--network",
        "app",
        "--ip",
        &format!("10.{}.0.50", d.net.n),
        "busybox",
        "true",
    ]);
    assert_eq!(taken.code, 125);
    assert!(taken.err().contains("Address already in use"), "{taken:?}");
    let missing = d.berth(&["run", "--rm", "--network", "nope", "busybox", "true"]);
    assert_eq!(missing.code, 125);
    assert!(
        missing.err().contains("network nope not found"),
        "{missing:?}"
    );
    let dup = d.berth(&["network", "create", "app"]);
    assert!(
        dup.err().contains("network with name app already exists"),
        "{dup:?}"
    );
    let builtin = d.berth(&["network", "rm", "bridge"]);
    assert!(
        builtin
            .err()
            .contains("bridge is a pre-defined network and cannot be removed"),
        "{builtin:?}"
    );
    let host = d.berth(&["network", "connect", "host", "solo"]);
    assert!(host.err().contains("host network"), "{host:?}");
    let busy = d.berth(&["network", "rm", "app"]);
    assert!(busy.err().contains("has active endpoints"), "{busy:?}");
    let overlap = d.berth(&["network", "create", "--subnet", &subnet, "again"]);
    assert!(overlap.err().contains("overlaps"), "{overlap:?}");
    let bad = d.berth(&["network", "create", "bad name"]);
    assert!(bad.err().contains("invalid network name"), "{bad:?}");

    // The network and its DNS come back with the daemon.
    let mut d = d;
    d.berth(&["rm", "-f", "fixed"]).ok();
    d.restart();
    d.berth(&["start", "web"]).ok();
    assert_eq!(fetch_from(&d, "app", "http://web/"), "hello-from-web");

    // Removal takes the bridge; prune takes what no container uses.
    d.berth(&["rm", "-f", "web"]).ok();
    let bridge = format!("br-{}", &id[..12]);
    assert!(std::path::Path::new("/sys/class/net")
        .join(&bridge)
        .exists());
    assert_eq!(d.berth(&["network", "rm", "app"]).ok().trim(), "app");
    assert!(!std::path::Path::new("/sys/class/net")
        .join(&bridge)
        .exists());
    let pruned = d.docker(&["network", "prune", "-f"]);
    assert!(
        pruned.ok().contains("Deleted Networks:\nother"),
        "{pruned:?}"
    );
    let left = d.berth(&["network", "ls", "-q"]).ok().lines().count();
    assert_eq!(left, 3, "only the built-in networks remain");
}

#[test]
fn docker_compose_runs_a_two_service_project() {
    let d = Daemon::with_busybox();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    std::fs::write(
        dir.path().join("docker-compose.yml"),
        format!(
            r#"version: "3"
services:
  web:
    image: busybox
    command: sh -c "mkdir -p /www && echo hello-compose > /www/index.html && exec httpd -f -p 80 -h /www"
    ports:
      - "127.0.0.1:{port}:80"
  client:
    image: busybox
    command: sh -c "while :; do wget -qO- http://web/ | tee /data/last; sleep 1; done"
    volumes:
      - data:/data
volumes:
  data:
"#
        ),
    )
    .unwrap();
    let compose = |args: &[&str]| {
        let out = std::process::Command::new("docker-compose")
            .args(["-p", "demo"])
            .args(args)
            .current_dir(dir.path())
            .env("DOCKER_HOST", d.host())
            .env("COMPOSE_INTERACTIVE_NO_CLI", "1")
            .output()
            .expect("run docker-compose (apt-get install docker-compose)");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "docker-compose {args:?}: {text}");
        text
    };
    compose(&["up", "-d"]);
    let ps = compose(&["ps"]);
    for name in ["demo_web_1", "demo_client_1"] {
        let line = ps
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("{name} in {ps}"));
        assert!(line.contains("Up"), "{line}");
    }
    // The published port answers on the host.
    let deadline = Instant::now() + Duration::from_secs(15);
    let body = loop {
        let r = d.docker(&[
            "run",
            "--rm",
            "--network",
            "host",
            "busybox",
            "wget",
            "-qO-",
            &format!("http://127.0.0.1:{port}/"),
        ]);
        if r.code == 0 || Instant::now() > deadline {
            break r.stdout;
        }
        std::thread::sleep(Duration::from_millis(300));
    };
    assert_eq!(body.trim(), "hello-compose");
    // The client reaches web by its service name and keeps it in the volume.
    let deadline = Instant::now() + Duration::from_secs(20);
    let logs = loop {
        let logs = compose(&["logs", "--no-color", "client"]);
        if logs.contains("hello-compose") || Instant::now() > deadline {
            break logs;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    assert!(logs.contains("hello-compose"), "{logs}");
    let vol = d.berth(&["volume", "ls", "-q"]).ok().to_string();
    assert!(vol.lines().any(|l| l == "demo_data"), "{vol}");
    let nets = d.berth(&["network", "ls"]).ok().to_string();
    assert!(nets.contains("demo_default"), "{nets}");

    compose(&["down", "-v"]);
    assert!(
        d.berth(&["ps", "-aq"]).ok().trim().is_empty(),
        "containers gone"
    );
    assert!(!d.berth(&["network", "ls"]).ok().contains("demo_default"));
    assert!(!d.berth(&["volume", "ls", "-q"]).ok().contains("demo_data"));
}
