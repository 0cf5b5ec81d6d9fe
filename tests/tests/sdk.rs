//! The Python docker SDK (issue 7): `tests/sdk/docker_sdk.py`, run with the
//! SDK that `make test`'s setup installs (`pip install docker` into
//! `/var/cache/berth/pysdk`), against a real daemon.

use berth_e2e::{repo, Daemon};
use std::process::Command;

#[test]
fn the_python_docker_sdk_lists_runs_reads_logs_and_removes() {
    let cache = std::env::var("BERTH_CACHE").unwrap_or_else(|_| "/var/cache/berth".into());
    let python = format!("{cache}/pysdk/bin/python");
    assert!(
        std::path::Path::new(&python).exists(),
        "{python} is missing: `make test` installs it (scripts/setup.sh)"
    );
    let d = Daemon::with_busybox();
    let out = Command::new(&python)
        .arg(repo().join("tests/sdk/docker_sdk.py"))
        .env("DOCKER_HOST", d.host())
        .output()
        .expect("run python");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "stdout: {stdout}\nstderr: {stderr}");
    assert!(
        stdout.contains("docker SDK 7.") && stdout.contains(" ok"),
        "{stdout}"
    );
}
