//! Harness for Berth's end-to-end tests: a real daemon per test on a temporary
//! data root, unix socket and TCP port; helpers to run the `berth` CLI, the real
//! `docker` CLI and skopeo against it; a small HTTP/1.1 client for raw API
//! calls; and builders for test archives. Dropping a [`Daemon`] stops it and
//! removes everything it made, also when the test failed.

pub mod archive;
pub mod http;
pub mod registry;
pub mod tls;

use std::io::Read;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The repository root (for scripts and the built dashboard).
pub fn repo() -> PathBuf {
    std::env::var_os("BERTH_REPO")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
}

/// The `berth` binary under test: `$BERTH_BIN`, else the one cargo built beside this test.
pub fn berth_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("BERTH_BIN") {
        return p.into();
    }
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    let bin = dir.join("berth");
    assert!(
        bin.exists(),
        "{} is missing: run `cargo build -p berth` first (make test does)",
        bin.display()
    );
    bin
}

/// A TCP port nothing listens on (on 127.0.0.1) right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// The admin password every test daemon starts with (`--admin-password-file`).
pub const ADMIN_PASSWORD: &str = "e2e-admin-password";

/// A running daemon owned by one test.
pub struct Daemon {
    child: Option<Child>,
    pub dir: tempfile::TempDir,
    pub port: u16,
    args: Vec<String>,
    /// An API token of the admin account, made on first use.
    admin_token: std::sync::OnceLock<String>,
    /// This daemon's own bridge and subnet, so daemons in parallel tests never meet.
    pub net: TestNet,
}

/// A bridge name and /24 subnet reserved for one daemon: an flock on a file
/// per subnet under /tmp (a killed test run leaves no stale reservation);
/// released, and the bridge deleted, on drop.
pub struct TestNet {
    pub n: u8,
    _lock: std::fs::File,
}

impl TestNet {
    fn reserve() -> Self {
        let dir = Path::new("/tmp/berth-e2e-nets");
        std::fs::create_dir_all(dir).expect("net lock dir");
        let start = (std::process::id() % 200) as u8;
        for i in 0..200u8 {
            let n = 20 + (start.wrapping_add(i) % 200);
            let Ok(f) = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(false)
                .open(dir.join(n.to_string()))
            else {
                continue;
            };
            if f.try_lock().is_ok() {
                let net = TestNet { n, _lock: f };
                // A bridge left by a killed run goes before this daemon makes its own.
                let _ = Command::new("ip")
                    .args(["link", "del", &net.bridge()])
                    .stderr(Stdio::null())
                    .status();
                net.delete_pool_bridges();
                return net;
            }
        }
        panic!("no free test subnet in /tmp/berth-e2e-nets");
    }

    pub fn bridge(&self) -> String {
        format!("bte{}", self.n)
    }

    /// Where this daemon's user-defined networks take subnets: `10.N.0.0/16`.
    pub fn address_pool(&self) -> String {
        format!("base=10.{}.0.0/16,size=24", self.n)
    }

    /// Deletes bridges with an address in this daemon's pool (left by a
    /// killed run, or a daemon that could not remove its networks).
    fn delete_pool_bridges(&self) {
        let out = Command::new("ip")
            .args(["-o", "-4", "addr", "show"])
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
        let prefix = format!("inet 10.{}.", self.n);
        for line in out.lines().filter(|l| l.contains(&prefix)) {
            if let Some(dev) = line
                .split_whitespace()
                .nth(1)
                .filter(|d| d.starts_with("br-"))
            {
                let _ = Command::new("ip")
                    .args(["link", "del", dev])
                    .stderr(Stdio::null())
                    .status();
            }
        }
    }

    /// The bridge's gateway, `172.31.N.1`.
    pub fn gateway(&self) -> String {
        format!("172.31.{}.1", self.n)
    }
}

impl Drop for TestNet {
    fn drop(&mut self) {
        self.delete_pool_bridges();
        let _ = Command::new("ip")
            .args(["link", "del", &self.bridge()])
            .stderr(Stdio::null())
            .status();
    }
}

/// A finished command: its exit code and both outputs as text.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    fn from(o: Output) -> Self {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }

    /// Asserts success and returns stdout.
    #[track_caller]
    pub fn ok(&self) -> &str {
        assert_eq!(
            self.code, 0,
            "command failed:\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        &self.stdout
    }

    /// Asserts failure and returns stderr.
    #[track_caller]
    pub fn err(&self) -> &str {
        assert_ne!(
            self.code, 0,
            "command should have failed:\nstdout: {}",
            self.stdout
        );
        &self.stderr
    }
}

impl Daemon {
    /// Starts a daemon with the built dashboard (when present) and waits until it answers.
    pub fn start() -> Self {
        Self::start_with_args(&[])
    }

    /// A daemon with the starter image imported as `busybox:latest`.
    pub fn with_busybox() -> Self {
        let d = Self::start();
        d.starter_image("busybox:latest");
        d
    }

    /// Starts a daemon with extra `berth daemon` flags (kept across restarts).
    pub fn start_with_args(args: &[&str]) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("berth-e2e-")
            .tempdir()
            .expect("temp dir");
        let mut d = Daemon {
            child: None,
            dir,
            port: free_port(),
            args: args.iter().map(|a| a.to_string()).collect(),
            admin_token: std::sync::OnceLock::new(),
            net: TestNet::reserve(),
        };
        d.spawn();
        d
    }

    pub fn root(&self) -> PathBuf {
        self.dir.path().join("root")
    }

    /// The daemon's process id.
    pub fn daemon_pid(&self) -> u32 {
        self.child
            .as_ref()
            .map(|c| c.id())
            .expect("a running daemon")
    }

    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("berth.sock")
    }

    pub fn host(&self) -> String {
        format!("unix://{}", self.socket().display())
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("daemon.log"))
            .expect("log file");
        let mut cmd = Command::new(berth_bin());
        cmd.arg("daemon")
            .arg("--data-root")
            .arg(self.root())
            .arg("-H")
            .arg(self.host())
            .arg("-H")
            .arg(format!("tcp://127.0.0.1:{}", self.port))
            .arg("--bridge")
            .arg(self.net.bridge())
            .arg("--bip")
            .arg(format!("{}/24", self.net.gateway()))
            .arg("--default-address-pool")
            .arg(self.net.address_pool())
            .args(&self.args)
            .arg("--admin-password-file")
            .arg(self.admin_password_file())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log);
        let dist = std::env::var_os("BERTH_UI_DIST")
            .map(PathBuf::from)
            .unwrap_or_else(|| repo().join("frontend/dist"));
        if dist.join("index.html").exists() {
            cmd.arg("--ui-dir").arg(dist);
        }
        // Only this start's "daemon started" line counts: after a crash,
        // something else may still answer on the socket or the port.
        let log_before = std::fs::metadata(self.dir.path().join("daemon.log"))
            .map(|m| m.len() as usize)
            .unwrap_or(0);
        self.child = Some(cmd.spawn().expect("start berth daemon"));
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            let started = self
                .log()
                .get(log_before..)
                .is_some_and(|l| l.contains("daemon started"));
            if started
                && std::os::unix::net::UnixStream::connect(self.socket()).is_ok()
                && std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok()
            {
                return;
            }
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                panic!("daemon exited with {status}:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("daemon did not start listening within 20s:\n{}", self.log());
    }

    /// Stops the daemon (SIGTERM, then SIGKILL after 10s).
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let pid = child.id();
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(pid.to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    /// `kill -9` of the daemon, then a fresh start on the same data root:
    /// what containers must survive.
    pub fn crash_and_restart(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.spawn();
    }

    /// Stops and starts the daemon on the same data root, socket and port.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("daemon.log")).unwrap_or_default()
    }

    /// Runs `berth ARGS` against this daemon.
    pub fn berth(&self, args: &[&str]) -> Run {
        self.berth_with_stdin(args, None)
    }

    pub fn berth_with_stdin(&self, args: &[&str], stdin: Option<&[u8]>) -> Run {
        let mut cmd = Command::new(berth_bin());
        cmd.args(args).env("BERTH_HOST", self.host());
        run_with_stdin(cmd, stdin)
    }

    /// Runs the real `docker` CLI against this daemon, with an empty config.
    pub fn docker(&self, args: &[&str]) -> Run {
        self.docker_with_stdin(args, None)
    }

    /// Runs the real docker CLI against this daemon, feeding `stdin`.
    pub fn docker_with_stdin(&self, args: &[&str], stdin: Option<&[u8]>) -> Run {
        run_with_stdin(self.docker_command(args, &[]), stdin)
    }

    /// Runs the real docker CLI with extra environment (`DOCKER_BUILDKIT=0`).
    pub fn docker_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        run_with_stdin(self.docker_command(args, env), None)
    }

    fn docker_command(&self, args: &[&str], env: &[(&str, &str)]) -> Command {
        let cfg = self.dir.path().join("docker-config");
        std::fs::create_dir_all(&cfg).expect("docker config dir");
        let mut cmd = Command::new("docker");
        cmd.args(args)
            .env("DOCKER_HOST", self.host())
            .env("DOCKER_CONFIG", cfg)
            .env_remove("DOCKER_CONTEXT");
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Imports the starter image (scripts/starter-image.sh) as `name`.
    pub fn starter_image(&self, name: &str) -> String {
        let mut cmd = Command::new("bash");
        cmd.arg(repo().join("scripts/starter-image.sh"))
            .arg(name)
            .env("BERTH_HOST", self.host())
            .env("BERTH_BIN", berth_bin());
        let out = run_with_stdin(cmd, None);
        out.ok().trim().to_string()
    }

    fn admin_password_file(&self) -> PathBuf {
        let p = self.dir.path().join("admin-password");
        if !p.exists() {
            std::fs::write(&p, format!("{ADMIN_PASSWORD}\n")).expect("admin password file");
        }
        p
    }

    /// A raw API call over TCP as the admin (with an API token).
    pub fn http(&self, method: &str, path: &str, body: &[u8]) -> http::Response {
        let auth = format!("Bearer {}", self.admin_token());
        self.http_with(method, path, &[("Authorization", &auth)], body)
    }

    /// A raw API call over TCP with the given headers only (no credentials
    /// unless given).
    pub fn http_with(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> http::Response {
        http::request(("127.0.0.1", self.port), method, path, headers, body)
    }

    /// Logs in over TCP: the session cookie (`berth_session=…`) and the CSRF token.
    pub fn login(&self, user: &str, password: &str) -> (String, String) {
        let body = serde_json::json!({"Username": user, "Password": password}).to_string();
        let r = self.http_with("POST", "/berth/login", &[], body.as_bytes());
        assert_eq!(r.status, 200, "login as {user}: {}", r.text());
        let cookie = r
            .header("set-cookie")
            .and_then(|c| c.split(';').next())
            .expect("session cookie")
            .to_string();
        let csrf = r.json()["CsrfToken"].as_str().expect("csrf").to_string();
        (cookie, csrf)
    }

    /// A new API token of `user` (logging in with `password`).
    pub fn token_of(&self, user: &str, password: &str, name: &str) -> String {
        let (cookie, csrf) = self.login(user, password);
        let body = serde_json::json!({"Name": name}).to_string();
        let r = self.http_with(
            "POST",
            "/berth/tokens",
            &[("Cookie", &cookie), ("X-CSRF-Token", &csrf)],
            body.as_bytes(),
        );
        assert_eq!(r.status, 201, "token for {user}: {}", r.text());
        r.json()["Token"].as_str().expect("token").to_string()
    }

    /// The admin's API token for this daemon.
    pub fn admin_token(&self) -> String {
        self.admin_token
            .get_or_init(|| self.token_of("admin", ADMIN_PASSWORD, "e2e"))
            .clone()
    }

    /// How many layers are unpacked in the store.
    pub fn layer_count(&self) -> usize {
        std::fs::read_dir(self.root().join("image/layers"))
            .map(|rd| rd.count())
            .unwrap_or(0)
    }

    /// Asserts that the store holds no image, no layer and no scratch file:
    /// what a refused operation must leave.
    #[track_caller]
    pub fn assert_store_empty(&self) {
        assert!(
            self.berth(&["images", "-a", "-q"]).ok().is_empty(),
            "no image may appear"
        );
        assert_eq!(self.layer_count(), 0, "no layer may appear");
        assert!(
            self.scratch_entries().is_empty(),
            "no scratch leftovers: {:?}",
            self.scratch_entries()
        );
    }

    /// Files left in the store's scratch directory (should be none between operations).
    pub fn scratch_entries(&self) -> Vec<String> {
        std::fs::read_dir(self.root().join("image/tmp"))
            .map(|rd| {
                rd.filter_map(Result::ok)
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn run_with_stdin(mut cmd: Command, stdin: Option<&[u8]>) -> Run {
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap_or_else(|e| panic!("run {cmd:?}: {e}"));
    if let Some(data) = stdin {
        use std::io::Write;
        let mut w = child.stdin.take().expect("stdin");
        let data = data.to_vec();
        std::thread::spawn(move || {
            let _ = w.write_all(&data);
        });
    }
    Run::from(child.wait_with_output().expect("wait for command"))
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let log = self.log();
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            eprintln!(
                "--- daemon log (last lines) ---\n{}",
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            );
        }
        self.remove_containers();
        self.stop();
        self.reap_leftovers();
    }
}

impl Daemon {
    /// `rm -f -v` of every container, as root on the unix socket.
    fn remove_containers(&self) {
        if self.child.is_none() {
            return;
        }
        let ids = self.berth(&["ps", "-aq", "--no-trunc"]);
        let ids: Vec<&str> = ids.stdout.split_whitespace().collect();
        if !ids.is_empty() {
            let mut args = vec!["rm", "-f", "-v"];
            args.extend(ids);
            let _ = self.berth(&args);
        }
    }

    /// After the daemon stopped: ends shims still running for this data root
    /// and removes their network namespaces and cgroups.
    fn reap_leftovers(&self) {
        let containers = self.root().join("containers");
        let ids: Vec<String> = std::fs::read_dir(&containers)
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.len() == 64)
            .collect();
        for proc_entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Ok(pid) = proc_entry.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let cmd = std::fs::read(proc_entry.path().join("cmdline")).unwrap_or_default();
            let cmd = String::from_utf8_lossy(&cmd);
            if cmd.contains("shim") && ids.iter().any(|id| cmd.contains(id.as_str())) {
                let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
            }
        }
        for id in &ids {
            let procs = format!("/sys/fs/cgroup/pids/berth/{id}/cgroup.procs");
            for pid in std::fs::read_to_string(&procs).unwrap_or_default().lines() {
                let _ = Command::new("kill").arg("-9").arg(pid).status();
            }
        }
        std::thread::sleep(Duration::from_millis(100));
        for id in &ids {
            let _ = Command::new("ip")
                .args(["netns", "del", &format!("berth-{}", &id[..12])])
                .stderr(Stdio::null())
                .status();
            for ctl in [
                "memory", "pids", "cpu", "cpuacct", "cpuset", "devices", "freezer", "blkio",
                "systemd", "unified",
            ] {
                let _ = std::fs::remove_dir(format!("/sys/fs/cgroup/{ctl}/berth/{id}"));
            }
        }
    }
}

/// Runs skopeo and returns its stdout; a failure fails the test with its stderr.
#[track_caller]
pub fn skopeo(args: &[&str]) -> String {
    let out = Command::new("skopeo")
        .args(args)
        .output()
        .expect("run skopeo (apt-get install skopeo)");
    assert!(
        out.status.success(),
        "skopeo {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Reads a whole file as bytes.
pub fn read(path: &Path) -> Vec<u8> {
    let mut v = Vec::new();
    std::fs::File::open(path)
        .and_then(|mut f| f.read_to_end(&mut v))
        .unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    v
}

/// The rows of a docker-style table as whitespace-separated columns (header removed).
pub fn table_rows(out: &str) -> Vec<Vec<String>> {
    out.lines()
        .skip(1)
        .map(|l| {
            l.split("   ")
                .map(|c| c.trim().to_string())
                .filter(|c| !c.is_empty())
                .collect()
        })
        .collect()
}
