//! A Debian base made by debootstrap (`scripts/debian-base.sh`, cached in
//! the build cache) and a build whose RUN installs a package with apt-get
//! from a repository served on the test's own bridge — containers never
//! reach outside. When the base could not be made (no mirror), the test
//! says it is skipped, loudly.

use berth_e2e::{free_port, Daemon};
use std::path::Path;
use std::process::{Child, Command, Stdio};

fn cache() -> std::path::PathBuf {
    std::env::var_os("BERTH_CACHE")
        .map(Into::into)
        .unwrap_or_else(|| "/var/cache/berth".into())
}

/// A static file server for the local apt repository, ended on drop.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn apt_get_install_in_a_run_step_on_a_debootstrapped_base() {
    let (base, repo) = (
        cache().join("debian-bookworm.tar"),
        cache().join("local-apt"),
    );
    if !base.is_file() || !repo.join("Packages").is_file() {
        let why = std::fs::read_to_string(cache().join("debian-base.unavailable"))
            .unwrap_or_else(|_| "scripts/debian-base.sh has not run".into());
        eprintln!(
            "SKIPPED apt_get_install_in_a_run_step_on_a_debootstrapped_base: {}",
            why.trim()
        );
        println!("SKIPPED: no Debian base: {}", why.trim());
        return;
    }
    let d = Daemon::with_busybox();
    d.berth(&["import", base.to_str().unwrap(), "debian:bookworm"])
        .ok();
    // The bridge exists once a container ran; the repository is served on
    // its gateway address.
    assert_eq!(
        d.berth(&[
            "run",
            "--rm",
            "debian:bookworm",
            "cat",
            "/etc/debian_version"
        ])
        .ok()
        .split('.')
        .next(),
        Some("12")
    );
    let gw = d.net.gateway();
    let port = free_port();
    let _server = Server(
        Command::new("python3")
            .args([
                "-m",
                "http.server",
                "--bind",
                &gw,
                &port.to_string(),
                "--directory",
            ])
            .arg(&repo)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 http.server"),
    );
    for _ in 0..50 {
        if std::net::TcpStream::connect((gw.as_str(), port)).is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let ctx = tempfile::tempdir().unwrap();
    let dockerfile = format!(
        "FROM debian:bookworm\n\
         RUN rm -f /etc/apt/sources.list.d/* \\\n \
         && echo 'deb [trusted=yes] http://{gw}:{port}/ ./' > /etc/apt/sources.list \\\n \
         && apt-get update \\\n \
         && apt-get install -y --no-install-recommends hello \\\n \
         && rm -rf /var/lib/apt/lists/*\n\
         CMD [\"hello\"]\n"
    );
    std::fs::write(ctx.path().join("Dockerfile"), dockerfile).unwrap();
    let out = d.berth(&["build", "-t", "deb-hello:1", ctx.path().to_str().unwrap()]);
    let text = out.ok();
    assert!(text.contains("Setting up hello"), "{text}");
    assert_eq!(
        d.berth(&["run", "--rm", "deb-hello:1"]).ok(),
        "Hello, world!\n"
    );
    assert!(Path::new(&repo).is_dir());
}
