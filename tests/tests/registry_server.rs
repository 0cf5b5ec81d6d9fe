//! Berth as a registry: skopeo copies into and out of its `/v2/`, one Berth
//! daemon pushes to another, and the distribution API's details (pagination,
//! ranges, chunked uploads, digests, errors) hold.

use berth_e2e::http::request;
use berth_e2e::{skopeo, table_rows, Daemon};

#[test]
fn skopeo_and_another_berth_push_into_berth_and_copy_out() {
    let src = Daemon::start();
    let id = src.starter_image("busybox:latest");
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("bb.tar").display().to_string();
    src.berth(&["save", "-o", &archive, "busybox"]).ok();

    let reg = Daemon::start();
    let host = format!("127.0.0.1:{}", reg.port);
    let creds = format!("admin:{}", reg.admin_token());
    skopeo(&[
        "copy",
        "--quiet",
        "--dest-tls-verify=false",
        "--dest-creds",
        &creds,
        &format!("docker-archive:{archive}"),
        &format!("docker://{host}/mine/bb:1"),
    ]);
    let rows = table_rows(reg.berth(&["images"]).ok());
    assert_eq!(
        (rows[0][0].as_str(), rows[0][1].as_str()),
        (format!("{host}/mine/bb").as_str(), "1")
    );
    assert_eq!(
        reg.berth(&["images", "-q", "--no-trunc"]).ok().trim(),
        id,
        "same image id"
    );
    let blobs = std::fs::read_dir(reg.root().join("image/blobs/sha256"))
        .unwrap()
        .count();
    assert_eq!(blobs, 3, "manifest, config and one layer, each stored once");

    let out = dir.path().join("out");
    skopeo(&[
        "copy",
        "--quiet",
        "--src-tls-verify=false",
        "--src-creds",
        &creds,
        &format!("docker://{host}/mine/bb:1"),
        &format!("oci:{}:x", out.display()),
    ]);
    let v: serde_json::Value = serde_json::from_str(&skopeo(&[
        "inspect",
        "--config",
        &format!("oci:{}:x", out.display()),
    ]))
    .unwrap();
    assert_eq!(v["config"]["Cmd"][0], "sh");

    // One Berth pushes to the other (logged in with an API token); a second
    // push sends nothing.
    let token = reg.admin_token();
    src.berth(&["login", &host, "-u", "admin", "-p", &token])
        .ok();
    src.berth(&["tag", "busybox", &format!("{host}/team/app:7")])
        .ok();
    let pushed = src
        .berth(&["push", &format!("{host}/team/app:7")])
        .ok()
        .to_string();
    assert!(
        pushed.contains("Layer already exists") || pushed.contains("Pushed"),
        "{pushed}"
    );
    assert!(reg
        .berth(&["images"])
        .ok()
        .contains(&format!("{host}/team/app")));
    let again = src
        .berth(&["push", &format!("{host}/team/app:7")])
        .ok()
        .to_string();
    assert!(!again.contains(": Pushed"), "{again}");
    // And pulls back from it.
    let fresh = Daemon::start();
    fresh
        .berth(&[
            "login",
            &host,
            "-u",
            "admin",
            "--password",
            berth_e2e::ADMIN_PASSWORD,
        ])
        .ok();
    assert!(fresh
        .berth(&["pull", &format!("{host}/team/app:7")])
        .ok()
        .contains("Pull complete"));
}

#[test]
fn distribution_api_details() {
    let d = Daemon::start();
    d.starter_image("busybox:latest");
    let host = format!("127.0.0.1:{}", d.port);
    for t in ["a/x:1", "b/y:1", "b/y:2", "c/z:1"] {
        d.berth(&["tag", "busybox", &format!("{host}/{t}")]).ok();
    }
    let addr = ("127.0.0.1", d.port);
    // Anonymous clients are asked for Basic credentials (a password or a token).
    let anon = request(addr, "GET", "/v2/", &[], b"");
    assert_eq!(anon.status, 401);
    assert_eq!(
        anon.header("www-authenticate"),
        Some("Basic realm=\"Berth\"")
    );
    let auth = format!("Bearer {}", d.admin_token());
    let r = request(addr, "GET", "/v2/", &[("Authorization", &auth)], b"");
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("docker-distribution-api-version"),
        Some("registry/2.0")
    );

    let r = request(
        addr,
        "GET",
        "/v2/_catalog?n=2",
        &[("Authorization", &auth)],
        b"",
    );
    assert_eq!(r.json()["repositories"], serde_json::json!(["a/x", "b/y"]));
    assert!(
        r.header("link").unwrap().contains("last=b/y"),
        "{:?}",
        r.header("link")
    );
    let r = request(
        addr,
        "GET",
        "/v2/_catalog?n=2&last=b/y",
        &[("Authorization", &auth)],
        b"",
    );
    assert_eq!(
        r.json()["repositories"].as_array().unwrap().len(),
        2,
        "c/z and library/busybox"
    );
    assert_eq!(
        request(
            addr,
            "GET",
            "/v2/b/y/tags/list",
            &[("Authorization", &auth)],
            b""
        )
        .json()["tags"],
        serde_json::json!(["1", "2"])
    );

    let r = request(
        addr,
        "GET",
        "/v2/b/y/manifests/nope",
        &[("Authorization", &auth)],
        b"",
    );
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["errors"][0]["code"], "MANIFEST_UNKNOWN");
    let head = request(
        addr,
        "HEAD",
        "/v2/b/y/manifests/1",
        &[("Authorization", &auth)],
        b"",
    );
    assert_eq!(head.status, 200);
    let digest = head.header("docker-content-digest").unwrap().to_string();
    let m = request(
        addr,
        "GET",
        &format!("/v2/b/y/manifests/{digest}"),
        &[("Authorization", &auth)],
        b"",
    )
    .json();
    let layer = m["layers"][0]["digest"].as_str().unwrap().to_string();
    let part = request(
        addr,
        "GET",
        &format!("/v2/b/y/blobs/{layer}"),
        &[("Range", "bytes=0-99"), ("Authorization", &auth)],
        b"",
    );
    assert_eq!(part.status, 206);
    assert_eq!(part.body.len(), 100);

    // Chunked upload: POST, two PATCHes, PUT with the digest.
    let data = b"hello berth registry".to_vec();
    let want = format!("sha256:{}", berth_e2e::archive::sha256_hex(&data));
    let start = request(
        addr,
        "POST",
        "/v2/up/load/blobs/uploads/",
        &[("Authorization", &auth)],
        b"",
    );
    assert_eq!(start.status, 202);
    let loc = start.header("location").unwrap().to_string();
    assert_eq!(
        request(addr, "PATCH", &loc, &[("Authorization", &auth)], &data[..5]).header("range"),
        Some("0-4")
    );
    request(addr, "PATCH", &loc, &[("Authorization", &auth)], &data[5..]);
    let bad = request(
        addr,
        "PUT",
        &format!("{loc}?digest=sha256:{}", "0".repeat(64)),
        &[("Authorization", &auth)],
        b"",
    );
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["errors"][0]["code"], "DIGEST_INVALID");
    assert!(
        d.scratch_entries().is_empty(),
        "a rejected upload leaves nothing"
    );
    // The session ended with the failure; a monolithic upload works in one request.
    let r = request(
        addr,
        "POST",
        &format!("/v2/up/load/blobs/uploads/?digest={want}"),
        &[("Authorization", &auth)],
        &data,
    );
    assert_eq!(r.status, 201);
    assert_eq!(
        request(
            addr,
            "GET",
            &format!("/v2/up/load/blobs/{want}"),
            &[("Authorization", &auth)],
            b""
        )
        .body,
        data
    );
    let r = request(
        addr,
        "POST",
        &format!("/v2/other/blobs/uploads/?mount={want}&from=up/load"),
        &[("Authorization", &auth)],
        b"",
    );
    assert_eq!(r.status, 201, "cross-repository mount");

    // DELETE of a blob: one no image uses goes; one an image uses stays.
    let used = request(
        addr,
        "DELETE",
        &format!("/v2/b/y/blobs/{layer}"),
        &[("Authorization", &auth)],
        b"",
    );
    assert_eq!(used.status, 405);
    assert!(
        used.json()["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("is used by image"),
        "{}",
        used.text()
    );
    assert_eq!(
        request(
            addr,
            "HEAD",
            &format!("/v2/b/y/blobs/{layer}"),
            &[("Authorization", &auth)],
            b""
        )
        .status,
        200
    );
    let gone = request(
        addr,
        "DELETE",
        &format!("/v2/up/load/blobs/{want}"),
        &[("Authorization", &auth)],
        b"",
    );
    assert_eq!(gone.status, 202);
    let r = request(
        addr,
        "GET",
        &format!("/v2/up/load/blobs/{want}"),
        &[("Authorization", &auth)],
        b"",
    );
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["errors"][0]["code"], "BLOB_UNKNOWN");
    assert_eq!(
        request(
            addr,
            "DELETE",
            &format!("/v2/up/load/blobs/{want}"),
            &[("Authorization", &auth)],
            b""
        )
        .status,
        404
    );
}
