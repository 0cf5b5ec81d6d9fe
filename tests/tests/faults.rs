//! Faults (issue 8): `berth system check` finds a damaged store, and the
//! daemon killed with SIGKILL in the middle of pull, push, build, commit and
//! rmi — 20 times each, at moments spread over the operation — leaves a
//! store that checks sound, and the operation succeeds when tried again.

use berth_e2e::registry::Registry;
use berth_e2e::{berth_bin, Daemon};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const ROUNDS: u64 = 20;

#[track_caller]
fn assert_sound(d: &Daemon, what: &str) {
    let c = d.berth(&["system", "check"]);
    assert!(
        c.code == 0 && c.stdout.contains("no problems"),
        "{what}: the store must check sound: {c:?}"
    );
}

/// Starts `berth ARGS` against `d`, kills the daemon with SIGKILL after
/// `delay`, starts it again, and reaps the client (which saw the
/// connection drop, or finished first).
fn interrupt(d: &mut Daemon, args: &[&str], delay: Duration) {
    let mut client = Command::new(berth_bin())
        .args(args)
        .env("BERTH_HOST", d.host())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start berth");
    std::thread::sleep(delay);
    d.crash_and_restart();
    let _ = client.wait();
}

/// How long `args` takes when nothing interrupts it.
fn timed(d: &Daemon, args: &[&str]) -> Duration {
    let start = Instant::now();
    d.berth(args).ok();
    start.elapsed()
}

/// The kill moments: spread evenly over `span`, from its start to a little past its end.
fn moments(span: Duration) -> impl Iterator<Item = (u64, Duration)> {
    (0..ROUNDS).map(move |i| (i, span.mul_f64(1.1 * i as f64 / ROUNDS as f64)))
}

const DOCKERFILE: &str = "FROM busybox\nRUN dd if=/dev/urandom of=/big bs=1M count=8 2>/dev/null\nRUN echo built > /note\n";

fn build_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Dockerfile"), DOCKERFILE).unwrap();
    dir
}

#[test]
fn system_check_finds_a_damaged_store() {
    let d = Daemon::with_busybox();
    assert_sound(&d, "a fresh store");
    let blobs = d.root().join("image/blobs/sha256");
    let victim = std::fs::read_dir(&blobs)
        .unwrap()
        .flatten()
        .max_by_key(|e| e.metadata().map(|m| m.len()).unwrap_or(0))
        .unwrap()
        .path();
    let mut bytes = std::fs::read(&victim).unwrap();
    bytes[100] ^= 0xff;
    std::fs::write(&victim, &bytes).unwrap();
    let layers = d.root().join("image/layers");
    let layer = std::fs::read_dir(&layers)
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .path();
    std::fs::remove_file(layer.join("meta.json")).unwrap();
    let c = d.berth(&["system", "check"]);
    assert_eq!(c.code, 1, "{c:?}");
    assert!(c.stdout.contains("hashes to"), "{}", c.stdout);
    assert!(c.stdout.contains("meta.json is missing"), "{}", c.stdout);
    assert!(c.stdout.contains("problems"), "{}", c.stdout);
}

#[test]
fn kill_9_during_build_and_commit_leaves_a_sound_store() {
    let mut d = Daemon::with_busybox();
    let ctx = build_dir();
    let ctx_path = ctx.path().to_str().unwrap().to_string();
    let build = ["build", "--no-cache", "-t", "big:1", ctx_path.as_str()];
    let span = timed(&d, &build);
    d.berth(&["rmi", "big:1"]).ok();
    for (i, at) in moments(span) {
        interrupt(&mut d, &build, at);
        assert_sound(&d, &format!("build, killed after {at:?} (round {i})"));
    }
    d.berth(&build).ok();
    assert_sound(&d, "build after the kills");

    d.berth(&[
        "run",
        "-d",
        "--name",
        "worker",
        "big:1",
        "sh",
        "-c",
        "dd if=/dev/urandom of=/more bs=1M count=8 2>/dev/null; sleep 600",
    ])
    .ok();
    std::thread::sleep(Duration::from_millis(500));
    let commit = ["commit", "worker", "snap:1"];
    let span = timed(&d, &commit);
    for (i, at) in moments(span) {
        interrupt(&mut d, &commit, at);
        assert_sound(&d, &format!("commit, killed after {at:?} (round {i})"));
        // The container outlives the daemon; it is committed again below.
    }
    // A commit freezes the container: a kill in the middle must not leave it frozen.
    let alive = Command::new("timeout")
        .args([
            "10",
            berth_bin().to_str().unwrap(),
            "exec",
            "worker",
            "echo",
            "alive",
        ])
        .env("BERTH_HOST", d.host())
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&alive.stdout),
        "alive\n",
        "{alive:?}"
    );
    d.berth(&commit).ok();
    assert_sound(&d, "commit after the kills");
    let note = d.berth(&["run", "--rm", "snap:1", "cat", "/note"]);
    assert_eq!(note.ok(), "built\n");

    // After all of it, removing the containers and a system prune leave
    // nothing of any container behind.
    let ids = d.berth(&["ps", "-aq"]).ok().to_string();
    if !ids.trim().is_empty() {
        let mut args = vec!["rm", "-f"];
        args.extend(ids.split_whitespace());
        d.berth(&args).ok();
    }
    d.berth(&["system", "prune", "-af"]).ok();
    assert_eq!(leftovers(&d), Vec::<String>::new());
    assert_sound(&d, "after system prune");
}

/// Mounts, shims, cgroups, veths and network namespaces left of any
/// container this daemon ever made (its events name them all).
fn leftovers(d: &Daemon) -> Vec<String> {
    let events = d
        .berth(&[
            "events",
            "--since",
            "0",
            "--until",
            "0s",
            "--filter",
            "type=container",
            "--format",
            "{{.ID}}",
        ])
        .ok()
        .to_string();
    let mut ids: Vec<&str> = events
        .split_whitespace()
        .filter(|i| i.len() == 64)
        .collect();
    ids.sort();
    ids.dedup();
    assert!(
        ids.len() > 20,
        "the events name the containers: {}",
        ids.len()
    );
    let root = d.root().display().to_string();
    let mut out = Vec::new();
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    out.extend(
        mounts
            .lines()
            .filter(|l| l.contains(&root))
            .map(|l| format!("mount: {l}")),
    );
    for p in std::fs::read_dir("/proc").unwrap().flatten() {
        let cmd = std::fs::read(p.path().join("cmdline")).unwrap_or_default();
        let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
        if cmd.contains(" shim") && cmd.contains(&root) && !cmd.contains("--spare") {
            out.push(format!("shim: {cmd}"));
        }
    }
    let links = Command::new("ip").args(["-o", "link"]).output().unwrap();
    let links = String::from_utf8_lossy(&links.stdout).into_owned();
    for id in ids {
        for ctl in ["memory", "pids", "cpu", "freezer", "unified"] {
            let cg = format!("/sys/fs/cgroup/{ctl}/berth/{id}");
            if std::path::Path::new(&cg).exists() {
                out.push(format!("cgroup: {cg}"));
            }
        }
        if links.contains(&format!("veth{}", &id[..8])) {
            out.push(format!("veth of {id}"));
        }
        let ns = format!("/run/netns/berth-{}", &id[..12]);
        if std::path::Path::new(&ns).exists() {
            out.push(format!("netns: {ns}"));
        }
    }
    out
}

#[test]
fn kill_9_during_push_pull_and_rmi_leaves_a_sound_store() {
    let reg = Registry::start(None);
    let mut d = Daemon::with_busybox();
    let ctx = build_dir();
    d.berth(&["build", "-t", "big:1", ctx.path().to_str().unwrap()])
        .ok();
    let target = format!("{}/faults/big:1", reg.host());
    d.berth(&["tag", "big:1", &target]).ok();

    let push = ["push", target.as_str()];
    let span = timed(&d, &push);
    for (i, at) in moments(span) {
        interrupt(&mut d, &push, at);
        assert_sound(&d, &format!("push, killed after {at:?} (round {i})"));
    }
    d.berth(&push).ok();

    // Pull into a second daemon, whose store starts without the image.
    let mut p = Daemon::with_busybox();
    let pull = ["pull", target.as_str()];
    let span = timed(&p, &pull);
    for (i, at) in moments(span) {
        p.berth(&["rmi", "-f", &target]);
        interrupt(&mut p, &pull, at);
        assert_sound(&p, &format!("pull, killed after {at:?} (round {i})"));
    }
    p.berth(&pull).ok();
    let note = p.berth(&["run", "--rm", &target, "cat", "/note"]);
    assert_eq!(note.ok(), "built\n");

    let rmi = ["rmi", target.as_str()];
    let span = timed(&p, &rmi);
    for (i, at) in moments(span.max(Duration::from_millis(20))) {
        p.berth(&pull).ok();
        interrupt(&mut p, &rmi, at);
        assert_sound(&p, &format!("rmi, killed after {at:?} (round {i})"));
    }
    p.berth(&pull).ok();
    p.berth(&rmi).ok();
    assert_sound(&p, "rmi after the kills");
}
