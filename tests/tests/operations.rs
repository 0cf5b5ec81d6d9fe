//! Everyday operation (issue 7): `stats`, `system df` and the prunes, `cp`
//! and `export`, through the API, the berth CLI and the docker CLI.

use berth_e2e::Daemon;
use serde_json::Value;
use std::io::{Read, Write};
use std::path::Path;
use std::time::{Duration, Instant};

/// The first `n` JSON lines of a streaming GET on the unix socket.
fn stream_lines(d: &Daemon, path: &str, n: usize) -> Vec<Value> {
    let mut s = std::os::unix::net::UnixStream::connect(d.socket()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: berth\r\n\r\n").unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 8192];
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let text = String::from_utf8_lossy(&seen).into_owned();
        let lines: Vec<Value> = text
            .split(['\n', '\r'])
            .filter(|l| l.starts_with('{'))
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        if lines.len() >= n || Instant::now() > deadline {
            return lines;
        }
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return lines,
            Ok(k) => seen.extend_from_slice(&buf[..k]),
        }
    }
}

#[test]
fn stats_report_cpu_memory_pids_network_and_io() {
    let d = Daemon::with_busybox();
    let busy = format!(
        "ping -c 1 -W 2 {} >/dev/null; while :; do :; done",
        d.net.gateway()
    );
    d.berth(&[
        "run",
        "-d",
        "--name",
        "busy",
        "-m",
        "64m",
        "--pids-limit",
        "50",
        "busybox",
        "sh",
        "-c",
        &busy,
    ])
    .ok();
    d.berth(&["create", "--name", "idle", "busybox", "true"])
        .ok();
    std::thread::sleep(Duration::from_millis(1500));

    let v = d
        .http("GET", "/containers/busy/stats?stream=false", b"")
        .json();
    assert_eq!(v["name"], "/busy");
    assert_eq!(v["memory_stats"]["limit"], 64 * 1024 * 1024);
    assert!(v["memory_stats"]["usage"].as_u64().unwrap() > 0, "{v}");
    assert_eq!(v["pids_stats"]["limit"], 50);
    assert!(v["pids_stats"]["current"].as_u64().unwrap() >= 1);
    assert!(
        v["networks"]["eth0"]["tx_bytes"].as_u64().unwrap() > 0,
        "the ping went out: {v}"
    );
    let cpu = v["cpu_stats"]["cpu_usage"]["total_usage"].as_u64().unwrap();
    let pre = v["precpu_stats"]["cpu_usage"]["total_usage"]
        .as_u64()
        .unwrap();
    assert!(cpu > pre && pre > 0, "two readings: {v}");
    assert_eq!(
        v["cpu_stats"]["online_cpus"].as_u64().unwrap() as usize,
        std::thread::available_parallelism().unwrap().get()
    );

    // A stream: a reading a second, each with the one before as precpu.
    let lines = stream_lines(&d, "/containers/busy/stats", 2);
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(
        lines[1]["precpu_stats"]["cpu_usage"]["total_usage"],
        lines[0]["cpu_stats"]["cpu_usage"]["total_usage"]
    );
    // A container that is not running answers zeros, once.
    let idle = stream_lines(&d, "/containers/idle/stats", 2);
    assert_eq!(idle.len(), 1);
    assert_eq!(idle[0]["cpu_stats"]["cpu_usage"]["total_usage"], 0);

    // The berth CLI's table, as docker prints it.
    let out = d.berth(&["stats", "--no-stream"]).ok().to_string();
    let header: Vec<&str> = out
        .lines()
        .next()
        .unwrap()
        .split("  ")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    assert_eq!(
        header,
        [
            "CONTAINER ID",
            "NAME",
            "CPU %",
            "MEM USAGE / LIMIT",
            "MEM %",
            "NET I/O",
            "BLOCK I/O",
            "PIDS"
        ]
    );
    let row = out.lines().nth(1).unwrap().to_string();
    assert_eq!(out.lines().count(), 2, "running containers only: {out}");
    assert!(row.contains("busy") && row.contains("/ 64MiB"), "{row}");
    let cpu: f64 = row
        .split_whitespace()
        .find(|w| w.ends_with('%'))
        .unwrap()
        .trim_end_matches('%')
        .parse()
        .unwrap();
    assert!(cpu > 20.0, "a busy loop shows: {row}");
    let all = d
        .berth(&["container", "stats", "--no-stream", "-a"])
        .ok()
        .to_string();
    assert!(all.contains("idle") && all.contains("0.00%"), "{all}");
    let missing = d.berth(&["stats", "--no-stream", "nosuch"]);
    assert!(missing.err().contains("No such container: nosuch"));

    // The docker CLI computes the same from the same JSON.
    let docker = d.docker(&[
        "stats",
        "--no-stream",
        "--format",
        "{{.Name}} {{.CPUPerc}} {{.MemUsage}} {{.PIDs}}",
    ]);
    let line = docker.ok().trim().to_string();
    assert!(
        line.starts_with("busy ") && line.contains("/ 64MiB"),
        "{line}"
    );
}

#[test]
fn system_df_and_prune_reclaim_what_nothing_uses() {
    let d = Daemon::with_busybox();
    d.berth(&[
        "run",
        "--name",
        "wrote",
        "busybox",
        "sh",
        "-c",
        "head -c 1000000 /dev/zero > /big",
    ])
    .ok();
    d.berth(&["run", "-d", "--name", "keep", "busybox", "sleep", "300"])
        .ok();
    d.berth(&["volume", "create", "named"]).ok();
    d.berth(&["create", "--name", "anon", "-v", "/data", "busybox", "true"])
        .ok();
    let anon_vol = d.http("GET", "/containers/anon/json", b"").json()["Mounts"][0]["Name"]
        .as_str()
        .unwrap()
        .to_string();
    d.berth(&["rm", "anon"]).ok();
    // A dangling image: the tag moves to a second commit.
    d.berth(&["commit", "keep", "snap:1"]).ok();
    let first = d
        .berth(&["images", "-q", "--no-trunc", "snap:1"])
        .ok()
        .trim()
        .to_string();
    d.berth(&["commit", "-c", "ENV V=2", "keep", "snap:1"]).ok();

    let v = d.http("GET", "/system/df", b"").json();
    assert!(v["LayersSize"].as_u64().unwrap() > 1_000_000, "{v}");
    let wrote_rw = v["Containers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["Names"][0] == "/wrote")
        .unwrap()["SizeRw"]
        .as_u64()
        .unwrap();
    assert!((1_000_000..1_100_000).contains(&wrote_rw), "{wrote_rw}");
    let table = d.berth(&["system", "df"]).ok().to_string();
    let rows = berth_e2e::table_rows(&table);
    assert_eq!(
        table
            .lines()
            .next()
            .unwrap()
            .split_whitespace()
            .collect::<Vec<_>>(),
        ["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"]
    );
    assert_eq!(&rows[1][..3], ["Containers", "2", "1"], "{table}");
    assert_eq!(&rows[2][..3], ["Local Volumes", "2", "0"], "{table}");
    assert!(d
        .berth(&["system", "df", "-v"])
        .ok()
        .contains("Containers space usage:"));
    assert!(d.docker(&["system", "df"]).ok().contains("Local Volumes"));

    // No confirmation, nothing removed.
    let no = d.berth_with_stdin(&["container", "prune"], Some(b"n\n"));
    assert!(no.ok().contains("Are you sure you want to continue? [y/N]"));
    assert!(d.berth(&["ps", "-a"]).ok().contains("wrote"));

    let out = d.berth(&["container", "prune", "-f"]).ok().to_string();
    assert!(out.starts_with("Deleted Containers:\n"), "{out}");
    assert!(out.contains("Total reclaimed space: 1MB"), "{out}");
    let ps = d.berth(&["ps", "-a"]).ok().to_string();
    assert!(!ps.contains("wrote") && ps.contains("keep"), "{ps}");

    let out = d.berth(&["image", "prune", "-f"]).ok().to_string();
    assert!(out.contains(&format!("deleted: {first}")), "{out}");
    assert!(
        d.berth(&["images"]).ok().contains("snap"),
        "the tagged one stays"
    );

    let out = d.berth(&["volume", "prune", "-f"]).ok().to_string();
    assert!(out.contains(&anon_vol) && !out.contains("named"), "{out}");
    let out = d.berth(&["volume", "prune", "-f", "-a"]).ok().to_string();
    assert!(out.contains("named"), "{out}");
    assert!(d.berth(&["volume", "ls", "-q"]).ok().trim().is_empty());

    // With -a, images no container uses go: snap:1 (keep uses busybox).
    let out = d.berth(&["system", "prune", "-a", "-f"]).ok().to_string();
    assert!(out.contains("untagged: snap:1"), "{out}");
    assert!(
        d.berth(&["images"]).ok().contains("busybox"),
        "in use: it stays"
    );
    for what in ["container", "image", "volume"] {
        let again = d.docker(&[what, "prune", "-f"]).ok().to_string();
        assert!(again.contains("Total reclaimed space: 0B"), "{again}");
    }
}

#[test]
fn cp_both_ways_and_export_stay_inside_the_container() {
    let d = Daemon::with_busybox();
    let canary = format!("berth-cp-canary-{}.txt", std::process::id());
    d.berth(&[
        "run", "-d", "--name", "box", "-v", "vol:/data", "busybox", "sh", "-c",
        "mkdir -p /srv/site; echo hello > /srv/site/index.html; ln -sfn /etc /srv/etclink; ln -sfn ../../../../.. /srv/up; echo in-volume > /data/v; touch /ready; sleep 300",
    ])
    .ok();
    let deadline = Instant::now() + Duration::from_secs(10);
    while d.berth(&["exec", "box", "test", "-e", "/ready"]).code != 0 {
        assert!(Instant::now() < deadline, "the container did not get ready");
        std::thread::sleep(Duration::from_millis(100));
    }
    let dir = tempfile::tempdir().unwrap();
    let at = |p: &str| dir.path().join(p).display().to_string();
    let read = |p: &str| std::fs::read_to_string(dir.path().join(p)).unwrap();

    // Out: a file, a directory into a directory, a directory's contents, a volume's file.
    d.berth(&["cp", "box:/srv/site/index.html", &at("index.html")])
        .ok();
    assert_eq!(read("index.html"), "hello\n");
    d.berth(&["cp", "box:/srv/site", &format!("{}/", dir.path().display())])
        .ok();
    assert_eq!(read("site/index.html"), "hello\n");
    d.berth(&["container", "cp", "box:/srv/site/.", &at("flat")])
        .ok();
    assert_eq!(read("flat/index.html"), "hello\n");
    d.berth(&["cp", "box:/data/v", &at("v")]).ok();
    assert_eq!(read("v"), "in-volume\n");
    // A symlink in the container resolves in the container: its /etc, not the host's.
    d.berth(&["cp", "box:/srv/etclink/hostname", &at("hostname")])
        .ok();
    let id = d.berth(&["ps", "-q"]).ok().trim().to_string();
    assert_eq!(read("hostname").trim(), id);
    let missing = d.berth(&["cp", "box:/nope", &at("x")]);
    assert!(
        missing
            .err()
            .contains("Could not find the file /nope in container box"),
        "{}",
        missing.stderr
    );

    // In: a file into a directory, a directory under a new name.
    std::fs::write(dir.path().join(&canary), "from the host\n").unwrap();
    d.berth(&["cp", &at(&canary), "box:/srv/"]).ok();
    assert_eq!(
        d.berth(&["exec", "box", "cat", &format!("/srv/{canary}")])
            .ok(),
        "from the host\n"
    );
    d.berth(&["cp", &at("site"), "box:/tmp/copied"]).ok();
    assert_eq!(
        d.berth(&["exec", "box", "cat", "/tmp/copied/index.html"])
            .ok(),
        "hello\n"
    );
    // Through a symlink that climbs: it stops at the container's root.
    d.berth(&["cp", &at(&canary), "box:/srv/up/"]).ok();
    assert_eq!(
        d.berth(&["exec", "box", "cat", &format!("/{canary}")]).ok(),
        "from the host\n"
    );
    assert!(
        !Path::new(&format!("/{canary}")).exists(),
        "nothing landed on the host"
    );
    // A hostile archive: refused, nothing written.
    let evil = berth_e2e::archive::tar(&[berth_e2e::archive::Entry::File("../../evil", b"x")]);
    let r = d.http("PUT", "/containers/box/archive?path=/srv", &evil);
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(
        r.text().contains("leaves the target directory"),
        "{}",
        r.text()
    );

    // Tars on stdout and stdin.
    let out = d.berth(&["cp", "box:/srv/site", "-"]);
    let mut names = Vec::new();
    let mut ar = tar::Archive::new(out.stdout.as_bytes());
    for e in ar.entries().unwrap() {
        names.push(e.unwrap().path().unwrap().display().to_string());
    }
    assert_eq!(names, ["site/", "site/index.html"]);
    let tar_in =
        berth_e2e::archive::tar(&[berth_e2e::archive::Entry::File("piped.txt", b"piped\n")]);
    d.berth_with_stdin(&["cp", "-", "box:/srv"], Some(&tar_in))
        .ok();
    assert_eq!(
        d.berth(&["exec", "box", "cat", "/srv/piped.txt"]).ok(),
        "piped\n"
    );

    // A stopped container too.
    d.berth(&["stop", "-t", "0", "box"]).ok();
    d.berth(&["cp", &at("v"), "box:/srv/after-stop"]).ok();
    d.berth(&["cp", "box:/srv/after-stop", &at("back")]).ok();
    assert_eq!(read("back"), "in-volume\n");
    d.berth(&["start", "box"]).ok();
    assert_eq!(
        d.berth(&["exec", "box", "cat", "/srv/after-stop"]).ok(),
        "in-volume\n"
    );

    // The docker CLI agrees.
    d.docker(&["cp", "box:/srv/site/index.html", &at("docker.html")])
        .ok();
    assert_eq!(read("docker.html"), "hello\n");

    // Export: the container's filesystem without its volumes.
    d.berth(&["export", "-o", &at("box.tar"), "box"]).ok();
    let mut ar = tar::Archive::new(std::fs::File::open(dir.path().join("box.tar")).unwrap());
    let names: Vec<String> = ar
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().display().to_string())
        .collect();
    assert!(
        names.iter().any(|n| n == "srv/site/index.html"),
        "{names:?}"
    );
    assert!(names.iter().any(|n| n == "bin/busybox"), "{names:?}");
    assert!(
        !names.iter().any(|n| n == "data/v"),
        "volumes are not exported"
    );
    let to_tty = d.berth(&["export", "box"]);
    assert!(to_tty.code == 0 || to_tty.stderr.contains("cowardly"));
}
