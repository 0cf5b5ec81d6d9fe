//! Registries as they are met outside loopback HTTP: Debian's docker-registry
//! in token mode (a token server hands out signed JWTs per repository scope),
//! and over HTTPS — verified against a CA from the daemon's certificates
//! directory, refused with a clear error when the CA is wrong, and spoken to
//! without verification when the registry is insecure.

use berth_e2e::registry::{Registry, RegistryOptions, TokenServer};
use berth_e2e::tls::Ca;
use berth_e2e::Daemon;

/// Tags the starter image as `target`, pushes it, removes it and pulls it back.
fn push_and_pull_back(d: &Daemon, target: &str) {
    d.starter_image("busybox:latest");
    d.berth(&["tag", "busybox", target]).ok();
    let pushed = d.berth(&["push", target]);
    assert!(pushed.ok().contains("digest: sha256:"), "{}", pushed.stdout);
    d.berth(&["rmi", target]).ok();
    let pulled = d.berth(&["pull", target]);
    assert!(
        pulled.ok().contains("Status: Downloaded newer image"),
        "{}",
        pulled.stdout
    );
    let (repo, tag) = target.rsplit_once(':').unwrap();
    let listed = d.berth(&["images", repo]);
    let rows = berth_e2e::table_rows(listed.ok());
    assert!(
        rows.iter().any(|r| r[0] == repo && r[1] == tag),
        "{}",
        listed.stdout
    );
}

/// A certificates directory holding `HOST/ca.crt` from `ca`.
fn certs_dir_trusting(ca: &Ca, host: &str) -> tempfile::TempDir {
    let certs = tempfile::tempdir().unwrap();
    let host_dir = certs.path().join(host);
    std::fs::create_dir_all(&host_dir).unwrap();
    std::fs::copy(ca.cert(), host_dir.join("ca.crt")).unwrap();
    certs
}

#[test]
fn token_auth_against_a_real_registry() {
    let tokens = TokenServer::start("tess", "token-pass-1");
    let reg = Registry::start_with(RegistryOptions {
        token: Some(&tokens),
        ..Default::default()
    });
    let d = Daemon::start();
    let host = reg.host();
    let target = format!("{host}/team/box:tok");

    // Without a login the token server refuses, and so does the push.
    d.starter_image("busybox:latest");
    d.berth(&["tag", "busybox", &target]).ok();
    let denied = d.berth(&["push", &target]);
    assert_ne!(denied.code, 0);
    assert!(
        denied.stderr.contains("denied") || denied.stderr.contains("login"),
        "{}",
        denied.stderr
    );
    assert!(tokens
        .issued
        .lock()
        .unwrap()
        .contains(&"refused".to_string()));

    let wrong = d.berth_with_stdin(
        &["login", "-u", "tess", "--password-stdin", &host],
        Some(b"nope\n"),
    );
    assert!(wrong.err().contains("401 Unauthorized"), "{}", wrong.stderr);
    let ok = d.berth_with_stdin(
        &["login", "-u", "tess", "--password-stdin", &host],
        Some(b"token-pass-1\n"),
    );
    assert_eq!(ok.ok().trim(), "Login Succeeded");

    d.berth(&["rmi", &target]).ok();
    push_and_pull_back(&d, &target);
    let issued = tokens.issued.lock().unwrap().clone();
    assert!(
        issued.contains(&"repository:team/box:pull,push".to_string()),
        "push asks for pull,push on its repository: {issued:?}"
    );
    assert!(
        issued.contains(&"repository:team/box:pull".to_string()),
        "pull asks for pull only: {issued:?}"
    );
    // The registry itself checked the signed tokens: it logged no auth errors.
    assert!(
        !reg.log().contains("token signed by untrusted key"),
        "{}",
        reg.log()
    );
}

#[test]
fn https_registry_verified_against_the_configured_ca() {
    let ca = Ca::new("berth test CA");
    let cert = ca.server_cert("registry");
    let reg = Registry::start_with(RegistryOptions {
        tls: Some(&cert),
        ..Default::default()
    });
    let certs = certs_dir_trusting(&ca, &reg.host());
    let d = Daemon::start_with_args(&["--certs-dir", certs.path().to_str().unwrap()]);
    push_and_pull_back(&d, &format!("{}/tls/box:1", reg.host()));
}

#[test]
fn https_registry_with_an_untrusted_certificate_is_refused_clearly() {
    let ca = Ca::new("berth test CA");
    let cert = ca.server_cert("registry");
    let reg = Registry::start_with(RegistryOptions {
        tls: Some(&cert),
        ..Default::default()
    });
    // The daemon is told to trust another CA for this host.
    let other = Ca::new("some other CA");
    let certs = certs_dir_trusting(&other, &reg.host());
    let host_dir = certs.path().join(reg.host());
    let d = Daemon::start_with_args(&["--certs-dir", certs.path().to_str().unwrap()]);
    let target = format!("{}/tls/box:1", reg.host());
    let pulled = d.berth(&["pull", &target]);
    assert_ne!(pulled.code, 0);
    let err = pulled.err();
    assert!(err.contains("TLS"), "{err}");
    assert!(
        err.contains("UnknownIssuer") || err.contains("unknown"),
        "{err}"
    );
    assert!(
        err.contains(&reg.host()) && err.contains("CA"),
        "names the fix: {err}"
    );
    assert!(d.berth(&["images", "-q"]).ok().trim().is_empty());
    d.assert_store_empty();

    // A bad certificate file is named in the error.
    std::fs::write(host_dir.join("ca.crt"), "not a certificate").unwrap();
    let bad = d.berth(&["pull", &target]);
    assert!(bad.err().contains("ca.crt"), "{}", bad.stderr);
}

#[test]
fn insecure_registry_over_tls_without_verification_and_plain_http() {
    // Loopback registries are insecure by default, as in Docker: a
    // self-signed HTTPS registry works without a CA, and so does plain HTTP.
    let ca = Ca::new("berth test CA");
    let cert = ca.server_cert("registry");
    let tls = Registry::start_with(RegistryOptions {
        tls: Some(&cert),
        ..Default::default()
    });
    let plain = Registry::start(None);
    let d = Daemon::start_with_args(&["--insecure-registry", "10.99.0.0/16"]);
    push_and_pull_back(&d, &format!("{}/insecure/box:1", tls.host()));
    push_and_pull_back(&d, &format!("{}/plain/box:1", plain.host()));

    // `docker info` lists them as dockerd does.
    let info = d.docker(&["info", "--format", "{{json .RegistryConfig}}"]);
    let cfg: serde_json::Value = serde_json::from_str(info.ok()).unwrap();
    assert_eq!(cfg["InsecureRegistryCIDRs"][2], "10.99.0.0/16", "{cfg}");

    // A malformed --insecure-registry stops the daemon at start with its name.
    let out = std::process::Command::new(berth_e2e::berth_bin())
        .args(["daemon", "--data-root"])
        .arg(d.dir.path().join("other-root"))
        .args([
            "-H",
            "unix:///nonexistent/x.sock",
            "--insecure-registry",
            "10.0.0.0/40",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--insecure-registry") && err.contains("10.0.0.0/40"),
        "{err}"
    );
}
