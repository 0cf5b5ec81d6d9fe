//! `pull` from a real registry (Debian's docker-registry on loopback) through
//! Berth's CLI, the Engine API and the docker CLI; and failures that must leave
//! nothing behind.

use berth_e2e::archive::{gzip, tar, Entry};
use berth_e2e::registry::{Answer, FakeRegistry, Registry};
use berth_e2e::{skopeo, table_rows, Daemon};

/// Saves the starter image of a scratch daemon into `dir/src.tar`; returns (path, image id).
fn starter_archive(dir: &std::path::Path) -> (String, String) {
    let src = Daemon::start();
    let id = src.starter_image("busybox:latest");
    let path = dir.join("src.tar").display().to_string();
    src.berth(&["save", "-o", &path, "busybox:latest"]).ok();
    (path, id)
}

/// Pushes a `docker save` archive to `image` with skopeo, adding `extra` flags.
fn push_archive(archive: &str, image: &str, extra: &[&str]) {
    let (src, dst) = (
        format!("docker-archive:{archive}"),
        format!("docker://{image}"),
    );
    let mut args = vec!["copy", "--quiet", "--dest-tls-verify=false"];
    args.extend_from_slice(extra);
    args.extend([src.as_str(), dst.as_str()]);
    skopeo(&args);
}

#[test]
fn pull_from_a_registry_with_berth_and_docker() {
    let reg = Registry::start(None);
    let dir = tempfile::tempdir().unwrap();
    let (archive, id) = starter_archive(dir.path());
    let image = format!("{}/test/busybox:1", reg.host());
    push_archive(&archive, &image, &[]);
    let remote: serde_json::Value = serde_json::from_str(&skopeo(&[
        "inspect",
        "--tls-verify=false",
        &format!("docker://{image}"),
    ]))
    .unwrap();
    let digest = remote["Digest"].as_str().unwrap().to_string();

    let d = Daemon::start();
    let out = d.berth(&["pull", &image]).ok().to_string();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "1: Pulling from test/busybox");
    assert!(
        lines.iter().any(|l| l.ends_with(": Pulling fs layer")),
        "{out}"
    );
    assert!(
        lines.iter().any(|l| l.ends_with(": Pull complete")),
        "{out}"
    );
    assert!(out.contains(&format!("Digest: {digest}")), "{out}");
    assert!(
        out.contains(&format!("Status: Downloaded newer image for {image}")),
        "{out}"
    );
    assert_eq!(*lines.last().unwrap(), image);

    // The same image as the source daemon's, with the registry's digest.
    assert_eq!(d.berth(&["images", "-q", "--no-trunc"]).ok().trim(), id);
    let rows = table_rows(d.berth(&["images", "--digests"]).ok());
    assert_eq!(rows[0][0], format!("{}/test/busybox", reg.host()));
    assert_eq!(rows[0][2], digest);
    let v: serde_json::Value = serde_json::from_str(d.berth(&["inspect", &image]).ok()).unwrap();
    assert_eq!(
        v[0]["RepoDigests"][0],
        format!("{}/test/busybox@{digest}", reg.host())
    );
    let upper = v[0]["GraphDriver"]["Data"]["UpperDir"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(std::path::Path::new(&upper).join("bin/busybox").is_file());
    // By digest works too, and a second pull transfers nothing.
    d.berth(&["inspect", &format!("{}/test/busybox@{digest}", reg.host())])
        .ok();
    let again = d.berth(&["pull", &image]).ok().to_string();
    assert!(
        again.contains(": Already exists") && again.contains("Status: Image is up to date for"),
        "{again}"
    );

    // The docker CLI pulls through Berth the same way.
    d.berth(&["rmi", &image]).ok();
    let out = d.docker(&["pull", &image]);
    assert!(
        out.ok().contains(&format!("Digest: {digest}")),
        "{}",
        out.stdout
    );
    assert_eq!(d.docker(&["images", "-q"]).ok().trim(), &id[7..19]);

    // An image pushed by skopeo from an OCI layout pulls as well.
    let layout = dir.path().join("layout");
    skopeo(&[
        "copy",
        "--quiet",
        &format!("docker-archive:{archive}"),
        &format!("oci:{}:v1", layout.display()),
    ]);
    let oci_image = format!("{}/oci/box:v1", reg.host());
    skopeo(&[
        "copy",
        "--quiet",
        "--dest-tls-verify=false",
        &format!("oci:{}:v1", layout.display()),
        &format!("docker://{oci_image}"),
    ]);
    let d2 = Daemon::start();
    let out = d2.berth(&["pull", "-q", &oci_image]).ok().to_string();
    assert_eq!(out.trim(), oci_image);
    let v: serde_json::Value =
        serde_json::from_str(d2.berth(&["inspect", &oci_image]).ok()).unwrap();
    assert_eq!(v[0]["Config"]["Cmd"][0], "sh");
    assert!(d2.scratch_entries().is_empty());
}

#[test]
fn pull_with_htpasswd_credentials() {
    let reg = Registry::start(Some(("alice", "s3cret")));
    let dir = tempfile::tempdir().unwrap();
    let (archive, id) = starter_archive(dir.path());
    let image = format!("{}/private/box:2", reg.host());
    push_archive(&archive, &image, &["--dest-creds", "alice:s3cret"]);

    let d = Daemon::start();
    let denied = d.docker(&["pull", &image]);
    assert!(
        denied.err().contains("pull access denied for"),
        "{}",
        denied.stderr
    );
    let denied = d.berth(&["pull", &image]);
    assert!(
        denied.err().contains("may require 'docker login'"),
        "{}",
        denied.stderr
    );

    // The docker CLI sends the credentials of its config in X-Registry-Auth.
    let cfg = d.dir.path().join("docker-config");
    std::fs::create_dir_all(&cfg).unwrap();
    let auth = berth_e2e::archive::base64(b"alice:s3cret");
    std::fs::write(
        cfg.join("config.json"),
        format!(r#"{{"auths":{{"{}":{{"auth":"{auth}"}}}}}}"#, reg.host()),
    )
    .unwrap();
    let out = d.docker(&["pull", &image]);
    assert!(
        out.ok().contains("Status: Downloaded newer image for"),
        "{}",
        out.stdout
    );
    assert_eq!(d.berth(&["images", "-q", "--no-trunc"]).ok().trim(), id);

    // Wrong password: refused, nothing added.
    let bad = berth_e2e::archive::base64(br#"{"username":"alice","password":"wrong"}"#);
    let r = d.http_with(
        "POST",
        &format!(
            "/images/create?fromImage={}/private/other&tag=1",
            reg.host()
        ),
        &[
            ("X-Registry-Auth", &bad),
            ("Authorization", &format!("Bearer {}", d.admin_token())),
        ],
        b"",
    );
    assert_eq!(r.status, 404, "{}", r.text());
    assert!(r.json()["message"]
        .as_str()
        .unwrap()
        .contains("pull access denied"));
}

#[test]
fn failed_pulls_say_why_and_leave_nothing() {
    let d = Daemon::start();
    let reg = Registry::start(None);
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    for (image, expect) in [
        (
            format!("{}/no/such:1", reg.host()),
            "not found: manifest unknown".to_string(),
        ),
        (
            format!("127.0.0.1:{closed}/x:1"),
            format!("cannot reach registry 127.0.0.1:{closed}"),
        ),
        (
            "Bad/Name".to_string(),
            "invalid reference format".to_string(),
        ),
    ] {
        let out = d.berth(&["pull", &image]);
        assert!(
            out.err().contains(&expect),
            "{image}: want {expect:?} in {}",
            out.stderr
        );
    }

    // A layer whose bytes do not match its digest, and a download cut short.
    for (name, expect) in [
        ("tampered", "content digest mismatch"),
        ("truncated", "interrupted"),
    ] {
        let mut routes = image_routes("t/x");
        let layer = &mut routes
            .last_mut()
            .expect("image_routes has the layer last")
            .1;
        if name == "tampered" {
            let i = layer.body.len() - 9;
            layer.body[i] ^= 0xff;
        } else {
            layer.cut_at = Some(layer.body.len() / 2);
        }
        let fake = FakeRegistry::start(routes);
        let out = d.berth(&["pull", &format!("127.0.0.1:{}/t/x:1", fake.port)]);
        assert!(
            out.err().contains(expect),
            "{name}: want {expect:?} in {}",
            out.stderr
        );
    }
    d.assert_store_empty();
}

fn sha256(data: &[u8]) -> String {
    berth_e2e::archive::sha256_hex(data)
}

fn gzip_decode(data: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(data)
        .read_to_end(&mut out)
        .unwrap();
    out
}

#[test]
fn pull_picks_a_platform_from_an_index() {
    let d = Daemon::start();
    let layer = gzip(&tar(&[Entry::File("hello", b"hi\n")]));
    let layer_digest = format!("sha256:{}", sha256(&layer));
    let mut routes = Vec::new();
    let mut entries = Vec::new();
    for arch in ["amd64", "arm64"] {
        let (config, config_digest, manifest, manifest_digest) = image_docs(arch, &layer);
        entries.push(serde_json::json!({"mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": manifest_digest, "size": manifest.len(), "platform": {"os": "linux", "architecture": arch}}));
        routes.push((
            format!("/v2/t/multi/manifests/{manifest_digest}"),
            Answer {
                body: manifest,
                content_type: "application/vnd.oci.image.manifest.v1+json",
                cut_at: None,
            },
        ));
        routes.push((
            format!("/v2/t/multi/blobs/{config_digest}"),
            Answer {
                body: config,
                content_type: "application/octet-stream",
                cut_at: None,
            },
        ));
    }
    let index = serde_json::to_vec(&serde_json::json!({"schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": entries}))
    .unwrap();
    routes.push((
        "/v2/t/multi/manifests/1".into(),
        Answer {
            body: index,
            content_type: "application/vnd.oci.image.index.v1+json",
            cut_at: None,
        },
    ));
    routes.push((
        format!("/v2/t/multi/blobs/{layer_digest}"),
        Answer {
            body: layer,
            content_type: "application/octet-stream",
            cut_at: None,
        },
    ));
    let fake = FakeRegistry::start(routes);
    let image = format!("127.0.0.1:{}/t/multi:1", fake.port);

    let arch = |d: &Daemon| -> String {
        let v: serde_json::Value =
            serde_json::from_str(d.berth(&["inspect", &image]).ok()).unwrap();
        v[0]["Architecture"].as_str().unwrap().to_string()
    };
    d.berth(&["pull", &image]).ok();
    assert_eq!(arch(&d), "amd64", "this machine's platform by default");
    let out = d
        .berth(&["pull", "--platform", "linux/arm64", &image])
        .ok()
        .to_string();
    assert!(
        out.contains(": Already exists"),
        "the shared layer is not fetched again: {out}"
    );
    assert_eq!(arch(&d), "arm64");
    let missing = d.berth(&["pull", "--platform", "linux/s390x", &image]);
    assert!(
        missing.err().contains("(linux/s390x) not found"),
        "{}",
        missing.stderr
    );
    let bad = d.berth(&["pull", "--platform", "linux", &image]);
    assert!(bad.err().contains("invalid platform"), "{}", bad.stderr);
}

#[test]
fn pull_on_a_terminal_draws_live_progress_bars() {
    let reg = Registry::start(None);
    let src = Daemon::start();
    src.starter_image("busybox:latest");
    let image = format!("{}/tty/box:1", reg.host());
    src.berth(&["tag", "busybox", &image]).ok();
    src.berth(&["push", "-q", &image]).ok();

    let d = Daemon::start();
    // `script` runs the command on a pseudo-terminal, as a user's shell would.
    let cmd = format!("{} pull {image}", berth_e2e::berth_bin().display());
    let out = std::process::Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .env("BERTH_HOST", d.host())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("Downloading") && text.contains("=>"),
        "a progress bar was drawn: {text:?}"
    );
    assert!(
        text.contains("\x1b[2K"),
        "lines are redrawn in place: {text:?}"
    );
    assert!(
        text.contains("Pull complete") && text.contains("Status: Downloaded newer image"),
        "{text:?}"
    );
    // Without a terminal the same pull prints milestones only.
    d.berth(&["rmi", &image]).ok();
    let plain = d.berth(&["pull", &image]).ok().to_string();
    assert!(
        !plain.contains("Downloading") && !plain.contains('\x1b'),
        "{plain}"
    );
}

#[test]
fn pull_zstd_compressed_layers() {
    let reg = Registry::start(None);
    let dir = tempfile::tempdir().unwrap();
    let (archive, id) = starter_archive(dir.path());
    let image = format!("{}/zstd/box:1", reg.host());
    push_archive(&archive, &image, &["--dest-compress-format", "zstd"]);
    let raw = skopeo(&[
        "inspect",
        "--raw",
        "--tls-verify=false",
        &format!("docker://{image}"),
    ]);
    assert!(
        raw.contains("tar+zstd"),
        "the registry holds a zstd layer: {raw}"
    );

    let d = Daemon::start();
    d.berth(&["pull", &image]).ok();
    // skopeo rewrites the config for zstd (so the image id differs), but the
    // layer is the same: loading the original reuses the one unpacked layer.
    d.berth(&["load", "-i", &archive]).ok();
    assert!(d.berth(&["images", "-q", "--no-trunc"]).ok().contains(&id));
    assert_eq!(d.layer_count(), 1, "identical diff ids share one layer");
    let v: serde_json::Value = serde_json::from_str(d.berth(&["inspect", &image]).ok()).unwrap();
    let upper = v[0]["GraphDriver"]["Data"]["UpperDir"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(std::path::Path::new(&upper).join("bin/busybox").is_file());
}

/// The config and manifest of a one-layer linux image for `arch`: (config,
/// config digest, manifest, manifest digest).
fn image_docs(arch: &str, layer: &[u8]) -> (Vec<u8>, String, Vec<u8>, String) {
    let diff = format!("sha256:{}", sha256(&gzip_decode(layer)));
    let layer_digest = format!("sha256:{}", sha256(layer));
    let config = serde_json::to_vec(&serde_json::json!({"architecture": arch, "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [diff]}}))
    .unwrap();
    let config_digest = format!("sha256:{}", sha256(&config));
    let manifest = serde_json::to_vec(&serde_json::json!({"schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer_digest, "size": layer.len()}]}))
    .unwrap();
    let manifest_digest = format!("sha256:{}", sha256(&manifest));
    (config, config_digest, manifest, manifest_digest)
}

/// Routes of a one-layer image `repo:1` for a [`FakeRegistry`]; the layer's route comes last.
fn image_routes(repo: &str) -> Vec<(String, Answer)> {
    let layer = gzip(&tar(&[Entry::File("hello", b"hi\n")]));
    let digest = format!("sha256:{}", sha256(&layer));
    let (config, config_digest, manifest, _) = image_docs("amd64", &layer);
    let blob = |body: Vec<u8>| Answer {
        body,
        content_type: "application/octet-stream",
        cut_at: None,
    };
    vec![
        (
            format!("/v2/{repo}/manifests/1"),
            Answer {
                body: manifest,
                content_type: "application/vnd.oci.image.manifest.v1+json",
                cut_at: None,
            },
        ),
        (format!("/v2/{repo}/blobs/{config_digest}"), blob(config)),
        (format!("/v2/{repo}/blobs/{digest}"), blob(layer)),
    ]
}

#[test]
fn pull_through_token_auth() {
    use berth_e2e::registry::TokenAuth;
    let d = Daemon::start();
    // Anonymous tokens: the client asks for pull rights on the repository.
    let anon = FakeRegistry::start_with(
        image_routes("t/open"),
        Some(TokenAuth {
            token: "anon-token".into(),
            basic: None,
        }),
    );
    let out = d
        .berth(&["pull", &format!("127.0.0.1:{}/t/open:1", anon.port)])
        .ok()
        .to_string();
    assert!(out.contains("Pull complete"), "{out}");
    let asked = anon.token_requests.lock().unwrap().clone();
    assert!(
        asked
            .iter()
            .any(|q| q.contains("scope=repository%3At%2Fopen%3Apull")
                && q.contains("service=fake-registry")),
        "{asked:?}"
    );

    // A token service that wants credentials.
    let basic = berth_e2e::archive::base64(b"erin:tok-pw");
    let locked = FakeRegistry::start_with(
        image_routes("t/locked"),
        Some(TokenAuth {
            token: "erins-token".into(),
            basic: Some(basic),
        }),
    );
    let host = format!("127.0.0.1:{}", locked.port);
    let image = format!("{host}/t/locked:1");
    let denied = d.berth(&["pull", &image]);
    assert!(
        denied.err().contains("pull access denied"),
        "{}",
        denied.stderr
    );
    let bad = d.berth_with_stdin(
        &["login", "-u", "erin", "--password-stdin", &host],
        Some(b"nope\n"),
    );
    assert!(bad.err().contains("401 Unauthorized"), "{}", bad.stderr);
    d.berth_with_stdin(
        &["login", "-u", "erin", "--password-stdin", &host],
        Some(b"tok-pw\n"),
    )
    .ok();
    let out = d.berth(&["pull", &image]).ok().to_string();
    assert!(
        out.contains(&format!("Status: Downloaded newer image for {image}")),
        "{out}"
    );
}
