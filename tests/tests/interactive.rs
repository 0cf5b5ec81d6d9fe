//! Interactive containers: stdin with `-i`, a terminal with `-t`, `exec`,
//! and `attach` with its detach keys — through Berth's CLI and the docker CLI.

use berth_e2e::Daemon;
use std::time::{Duration, Instant};

#[test]
fn stdin_and_terminals() {
    let d = Daemon::with_busybox();
    let r = d.berth_with_stdin(
        &["run", "--rm", "-i", "busybox", "sh", "-c", "cat; echo end"],
        Some(b"line one\nline two\n"),
    );
    assert_eq!(r.ok(), "line one\nline two\nend\n");
    let r = d.docker_with_stdin(
        &["run", "--rm", "-i", "busybox", "wc", "-l"],
        Some(b"a\nb\nc\n"),
    );
    assert_eq!(r.ok().trim(), "3");
    // A terminal of the container's own devpts; output comes raw (CR LF).
    let t = d.berth(&["run", "--rm", "-t", "busybox", "sh", "-c", "tty; exit 6"]);
    assert_eq!(t.code, 6);
    assert_eq!(t.stdout, "/dev/pts/0\r\n");
    let t = d.docker(&["run", "--rm", "-t", "busybox", "tty"]);
    assert_eq!(t.ok(), "/dev/pts/0\r\n");
}

#[test]
fn exec_runs_in_the_container() {
    let d = Daemon::with_busybox();
    d.berth(&[
        "run",
        "-d",
        "--name",
        "host1",
        "-e",
        "FROM_RUN=1",
        "busybox",
        "sleep",
        "300",
    ])
    .ok();
    let r = d.berth(&[
        "exec",
        "host1",
        "sh",
        "-c",
        "echo $FROM_RUN $HOSTNAME; ps -o pid,comm | grep -c sleep; exit 4",
    ]);
    assert_eq!(r.code, 4);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(lines[0].starts_with("1 "), "{}", r.stdout);
    assert_eq!(
        lines[1], "1",
        "sees the container's processes: {}",
        r.stdout
    );
    let r = d.berth_with_stdin(&["exec", "-i", "host1", "cat"], Some(b"through exec\n"));
    assert_eq!(r.ok(), "through exec\n");
    let r = d.berth(&[
        "exec",
        "-u",
        "nobody",
        "-w",
        "/tmp",
        "-e",
        "X=y",
        "host1",
        "sh",
        "-c",
        "id -u; pwd; echo $X",
    ]);
    assert_eq!(r.ok(), "65534\n/tmp\ny\n");
    let r = d.berth(&["exec", "-t", "host1", "tty"]);
    assert_eq!(r.ok(), "/dev/pts/0\r\n");
    let nf = d.berth(&["exec", "host1", "no-such-thing"]);
    assert_eq!(nf.code, 127);
    assert!(
        nf.stdout.contains("executable file not found in $PATH"),
        "{}",
        nf.stdout
    );
    let r = d.docker(&["exec", "host1", "sh", "-c", "echo docker-exec; exit 3"]);
    assert_eq!(r.code, 3);
    assert_eq!(r.stdout, "docker-exec\n");
    d.berth(&["exec", "-d", "host1", "sh", "-c", "echo bg > /tmp/bg"])
        .ok();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(d.berth(&["exec", "host1", "cat", "/tmp/bg"]).ok(), "bg\n");
    d.berth(&["stop", "-t", "0", "host1"]).ok();
    let stopped = d.berth(&["exec", "host1", "true"]);
    assert_ne!(stopped.code, 0);
    assert!(
        stopped.stderr.contains("is not running"),
        "{}",
        stopped.stderr
    );
}

#[test]
fn attach_and_detach_keys() {
    let d = Daemon::with_busybox();
    d.berth(&[
        "run",
        "-d",
        "-i",
        "--name",
        "echoer",
        "busybox",
        "sh",
        "-c",
        "while read l; do echo got:$l; done",
    ])
    .ok();
    // ctrl-p ctrl-q detaches: attach returns 0 and the container keeps running.
    let r = d.berth_with_stdin(&["attach", "echoer"], Some(b"one\ntwo\n\x10\x11"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let logs = d.berth(&["logs", "echoer"]).ok().to_string();
        if logs == "got:one\ngot:two\n" {
            break;
        }
        assert!(Instant::now() < deadline, "{logs}");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        d.berth(&["ps", "-q", "-f", "name=echoer"])
            .ok()
            .trim()
            .len()
            == 12
    );
    let stopped = d.berth(&["attach", "nope-not-here"]);
    assert_ne!(stopped.code, 0);
}

/// Runs a command under a pseudo terminal (util-linux `script`), as a user
/// at a terminal would; returns its exit code and what it printed.
fn at_terminal(d: &Daemon, command: &str) -> (i32, String) {
    let cfg = d.dir.path().join("docker-config");
    std::fs::create_dir_all(&cfg).unwrap();
    let out = std::process::Command::new("script")
        .args(["-qec", command, "/dev/null"])
        .env("DOCKER_HOST", d.host())
        .env("DOCKER_CONFIG", cfg)
        .env("BERTH_HOST", d.host())
        .stdin(std::process::Stdio::null())
        .output()
        .expect("script (util-linux)");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn the_docker_cli_at_a_terminal() {
    let d = Daemon::with_busybox();
    let (code, out) = at_terminal(&d, "docker run -it --rm busybox sh -c 'tty; exit 3'");
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("/dev/pts/0"), "{out}");
    d.berth(&["run", "-d", "--name", "box", "busybox", "sleep", "300"])
        .ok();
    let (code, out) = at_terminal(&d, "docker exec -it box tty");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("/dev/pts/"), "{out}");
    let (_, out) = at_terminal(
        &d,
        &format!("{} exec -it box tty", berth_e2e::berth_bin().display()),
    );
    assert!(out.contains("/dev/pts/"), "{out}");
}

#[test]
fn docker_logs_follow_and_attach() {
    let d = Daemon::with_busybox();
    d.berth(&[
        "run",
        "-d",
        "--name",
        "ticker",
        "busybox",
        "sh",
        "-c",
        "for i in 1 2 3 4 5 6; do echo t$i; sleep 0.2; done",
    ])
    .ok();
    let f = d.docker(&["logs", "-f", "ticker"]);
    assert_eq!(
        f.ok(),
        "t1\nt2\nt3\nt4\nt5\nt6\n",
        "follows until the container ends"
    );
    // docker attach: input goes in, output comes out, the exit code is the container's.
    d.berth(&[
        "run",
        "-d",
        "-i",
        "--name",
        "reader",
        "busybox",
        "sh",
        "-c",
        "read l; echo got:$l; exit 4",
    ])
    .ok();
    let a = d.docker_with_stdin(&["attach", "reader"], Some(b"hello\n"));
    assert_eq!(a.code, 4, "{}", a.stderr);
    assert_eq!(a.stdout, "got:hello\n");
}
