//! `berth build` and `docker build` (classic builder) against Berth: every
//! instruction, multi-stage, ONBUILD, the cache, `.dockerignore`, errors
//! with their lines, and failures that leave nothing behind.

use berth_e2e::Daemon;
use std::path::Path;

fn write(dir: &Path, files: &[(&str, &str)]) {
    for (name, text) in files {
        let p = dir.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
}

fn inspect(d: &Daemon, image: &str) -> serde_json::Value {
    let out = d.berth(&["image", "inspect", image]);
    serde_json::from_str::<serde_json::Value>(out.ok()).unwrap()[0].clone()
}

#[test]
fn every_instruction_lands_in_the_image() {
    let d = Daemon::with_busybox();
    let ctx = tempfile::tempdir().unwrap();
    let c = ctx.path();
    write(
        c,
        &[
            ("app/main.sh", "echo main"),
            ("app/lib/util.sh", "echo util"),
            ("a.conf", "A"),
            ("b.conf", "B"),
            ("notes.md", "not copied"),
            (
                "Dockerfile",
                r#"# escape=\
ARG TAG=latest
FROM busybox:${TAG} AS base
MAINTAINER Dana <dana@example.org>
ARG WHO=world
ENV GREETING="hello ${WHO}" \
    PLAIN=yes
ENV OLDSTYLE a value with spaces
LABEL com.example.tier=web version="1.0"
EXPOSE 8080 53/udp
WORKDIR /srv
WORKDIR app
COPY app/ ./
COPY a.conf .
COPY *.conf /etc/conf/
COPY --chown=nobody:nogroup a.conf /owned
ADD b.conf /added/
RUN echo "$GREETING from $(pwd)" > /built.txt && \
    echo "who=$WHO" >> /built.txt
SHELL ["/bin/sh", "-c"]
RUN ["sh", "-c", "echo exec-form >> /built.txt"]
USER nobody
VOLUME ["/data"]
STOPSIGNAL SIGINT
HEALTHCHECK --interval=30s --retries=3 CMD wget -q -O- http://localhost/ || exit 1
ENTRYPOINT ["sh", "-c"]
CMD ["cat /built.txt"]
"#,
            ),
        ],
    );
    let out = d.berth(&[
        "build",
        "-t",
        "all:1",
        "--build-arg",
        "WHO=berth",
        c.to_str().unwrap(),
    ]);
    let text = out.ok().to_string();
    assert!(text.contains("Step 1/24 : ARG TAG=latest"), "{text}");
    assert!(text.contains("Step 16/24 : RUN echo"), "{text}");
    assert!(text.contains(" ---> Running in "), "{text}");
    assert!(text.contains("Removing intermediate container "), "{text}");
    assert!(
        text.contains("Successfully built ") && text.contains("Successfully tagged all:1"),
        "{text}"
    );
    assert_eq!(
        d.berth(&["run", "--rm", "all:1"]).ok(),
        "hello berth from /srv/app\nwho=berth\nexec-form\n"
    );
    let files = d.berth(&[
        "run", "--rm", "--entrypoint", "sh", "all:1", "-c",
        "cat /srv/app/main.sh /srv/app/lib/util.sh /etc/conf/a.conf /etc/conf/b.conf /added/b.conf; \
         stat -c '%U:%G' /owned; ls /srv/app",
    ]);
    assert_eq!(
        files.ok(),
        "echo mainecho utilABBnobody:nogroup\na.conf\nlib\nmain.sh\n"
    );
    let cfg = inspect(&d, "all:1");
    let c = &cfg["Config"];
    assert_eq!(cfg["Author"], "Dana <dana@example.org>");
    assert_eq!(c["User"], "nobody");
    assert_eq!(c["WorkingDir"], "/srv/app");
    assert_eq!(c["StopSignal"], "SIGINT");
    assert_eq!(c["Entrypoint"], serde_json::json!(["sh", "-c"]));
    assert_eq!(c["Cmd"], serde_json::json!(["cat /built.txt"]));
    assert_eq!(c["Labels"]["com.example.tier"], "web");
    assert_eq!(c["Labels"]["version"], "1.0");
    assert!(c["ExposedPorts"]["8080/tcp"].is_object() && c["ExposedPorts"]["53/udp"].is_object());
    assert!(c["Volumes"]["/data"].is_object());
    let env: Vec<String> = serde_json::from_value(c["Env"].clone()).unwrap();
    for e in [
        "GREETING=hello berth",
        "PLAIN=yes",
        "OLDSTYLE=a value with spaces",
    ] {
        assert!(env.contains(&e.to_string()), "{e} in {env:?}");
    }
    assert!(
        !env.iter().any(|e| e.starts_with("WHO=")),
        "ARGs stay out of the image: {env:?}"
    );
    assert_eq!(
        c["Healthcheck"]["Test"],
        serde_json::json!(["CMD-SHELL", "wget -q -O- http://localhost/ || exit 1"])
    );
    assert_eq!(c["Healthcheck"]["Interval"], 30_000_000_000u64);
    assert_eq!(c["Healthcheck"]["Retries"], 3);
    // Metadata steps are empty layers in the history.
    let history = d
        .berth(&["history", "--no-trunc", "all:1"])
        .ok()
        .to_string();
    assert!(
        history.contains("/bin/sh -c #(nop)  ENV OLDSTYLE a value with spaces"),
        "{history}"
    );
    assert!(
        history.contains("|1 WHO=berth /bin/sh -c echo"),
        "{history}"
    );
}

#[test]
fn multi_stage_onbuild_ignore_and_the_cache() {
    let d = Daemon::with_busybox();
    let ctx = tempfile::tempdir().unwrap();
    let c = ctx.path();
    write(
        c,
        &[
            ("src/a.txt", "alpha"),
            ("src/b.txt", "beta"),
            ("unrelated.txt", "1"),
            ("secret.key", "do not send"),
            ("logs/x.log", "log"),
            ("logs/keep.log", "kept"),
            (".dockerignore", "*.key\nlogs\n!logs/keep.log\n"),
            (
                "Dockerfile",
                "FROM busybox AS build\nCOPY src /src\nRUN cat /src/a.txt /src/b.txt > /joined\n\
                 FROM scratch\nCOPY --from=build /joined /joined\nCOPY --from=0 /bin/busybox /bin/busybox\n\
                 COPY . /ctx/\nCMD [\"/bin/busybox\", \"cat\", \"/joined\"]\n",
            ),
        ],
    );
    let dir = c.to_str().unwrap();
    d.berth(&["build", "-t", "ms:1", dir]).ok();
    assert_eq!(d.berth(&["run", "--rm", "ms:1"]).ok(), "alphabeta");
    let ls = d
        .berth(&["run", "--rm", "ms:1", "/bin/busybox", "find", "/ctx"])
        .ok()
        .to_string();
    assert!(
        ls.contains("/ctx/logs/keep.log"),
        "the exception is sent: {ls}"
    );
    assert!(
        !ls.contains("secret.key") && !ls.contains("x.log"),
        ".dockerignore holds: {ls}"
    );

    // Touching an unrelated file keeps the cache up to the COPY of the
    // whole context; changing a copied file misses from its COPY on.
    std::fs::write(c.join("unrelated.txt"), "2").unwrap();
    let again = d.berth(&["build", "-t", "ms:2", dir]).ok().to_string();
    let cached = again.matches("Using cache").count();
    assert_eq!(cached, 4, "COPY src, RUN, COPY --from twice: {again}");
    std::fs::write(c.join("src/b.txt"), "BETA").unwrap();
    let changed = d.berth(&["build", "-t", "ms:3", dir]).ok().to_string();
    assert_eq!(changed.matches("Using cache").count(), 0, "{changed}");
    assert_eq!(d.berth(&["run", "--rm", "ms:3"]).ok(), "alphaBETA");
    let nocache = d
        .berth(&["build", "--no-cache", "-t", "ms:4", dir])
        .ok()
        .to_string();
    assert!(!nocache.contains("Using cache"), "{nocache}");
    // --target stops at a stage.
    d.berth(&["build", "--target", "build", "-t", "ms:build", dir])
        .ok();
    assert_eq!(
        d.berth(&["run", "--rm", "ms:build", "cat", "/joined"]).ok(),
        "alphaBETA"
    );

    // ONBUILD: stored in the parent, run when a child starts from it.
    let onb = "FROM busybox\nONBUILD RUN echo triggered > /trigger\n";
    d.berth_with_stdin(&["build", "-t", "parent:1", "-"], Some(onb.as_bytes()))
        .ok();
    assert_eq!(
        inspect(&d, "parent:1")["Config"]["OnBuild"],
        serde_json::json!(["RUN echo triggered > /trigger"])
    );
    let child = d.berth_with_stdin(
        &["build", "-t", "child:1", "-"],
        Some(b"FROM parent:1\nCMD cat /trigger\n"),
    );
    assert!(
        child.ok().contains("# Executing 1 build trigger"),
        "{}",
        child.stdout
    );
    assert_eq!(d.berth(&["run", "--rm", "child:1"]).ok(), "triggered\n");
    assert!(
        inspect(&d, "child:1")["Config"]["OnBuild"].is_null(),
        "triggers are not inherited"
    );
}

/// A gzip tar holding `files`.
fn tgz(files: &[(&str, &str)]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut b = tar::Builder::new(gz);
    for (name, text) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(text.len() as u64);
        h.set_mode(0o644);
        b.append_data(&mut h, name, text.as_bytes()).unwrap();
    }
    b.into_inner().unwrap().finish().unwrap()
}

#[test]
fn add_unpacks_local_archives_and_copy_takes_from_images() {
    let d = Daemon::with_busybox();
    let ctx = tempfile::tempdir().unwrap();
    let c = ctx.path();
    std::fs::write(
        c.join("bundle.tar.gz"),
        tgz(&[("pkg/one", "1"), ("pkg/two", "2")]),
    )
    .unwrap();
    write(
        c,
        &[(
            "Dockerfile",
            "FROM scratch
COPY --from=busybox /bin/busybox /bin/busybox
             ADD --chown=7:8 bundle.tar.gz /opt/
COPY bundle.tar.gz /kept/
             CMD [\"/bin/busybox\", \"sh\", \"-c\", \"cat /opt/pkg/one /opt/pkg/two; stat -c %u:%g /opt/pkg/one; ls /kept\"]\n",
        )],
    );
    d.berth(&["build", "-t", "added:1", c.to_str().unwrap()])
        .ok();
    assert_eq!(
        d.berth(&["run", "--rm", "added:1"]).ok(),
        "127:8\nbundle.tar.gz\n",
        "ADD unpacks a local archive (owned as --chown says); COPY keeps it whole"
    );
}

#[test]
fn errors_name_their_line_and_failures_leave_nothing() {
    let d = Daemon::with_busybox();
    let build =
        |text: &str| d.berth_with_stdin(&["build", "-t", "broken:1", "-"], Some(text.as_bytes()));
    for (text, message) in [
        (
            "FROM busybox\n\nBOGUS x\n",
            "Dockerfile:3: unknown instruction: BOGUS",
        ),
        (
            "FROM busybox\nRUN\n",
            "Dockerfile:2: RUN requires at least one argument",
        ),
        ("RUN true\n", "Dockerfile: no FROM instruction"),
        ("FROM busybox\nENV X=${Y\n", "Dockerfile:2: missing '}'"),
        (
            "FROM busybox\nCOPY nothing-here /x\n",
            "Dockerfile:2: COPY failed: file not found in build context",
        ),
        (
            "FROM busybox\nCOPY ../outside /x\n",
            "outside of the build context",
        ),
        (
            "FROM busybox\nSHELL sh -c\n",
            "SHELL requires the arguments to be in JSON form",
        ),
        // Not here, and its registry does not answer (tests stay on 127.0.0.1).
        (
            "FROM 127.0.0.1:9/nothing:1\n",
            "Dockerfile:1: pull 127.0.0.1:9/nothing:1: ",
        ),
        (
            "# escape=%\nFROM busybox\n",
            "Dockerfile:1: invalid escape token",
        ),
    ] {
        let out = build(text);
        assert_eq!(out.code, 1, "{text}");
        assert!(out.stderr.contains(message), "{text:?}: {}", out.stderr);
    }
    let failed = build("FROM busybox\nRUN echo about to fail; exit 3\n");
    assert_eq!(failed.code, 1);
    assert!(failed.stdout.contains("about to fail"), "{}", failed.stdout);
    assert!(
        failed.stderr.contains(
            "The command '/bin/sh -c echo about to fail; exit 3' returned a non-zero code: 3"
        ),
        "{}",
        failed.stderr
    );
    assert!(
        !d.berth(&["images"]).ok().contains("broken"),
        "nothing tagged"
    );
    assert_eq!(d.berth(&["ps", "-aq"]).ok(), "", "no build container left");
}

#[test]
fn docker_build_classic_agrees_with_berth() {
    let d = Daemon::with_busybox();
    let ctx = tempfile::tempdir().unwrap();
    write(
        ctx.path(),
        &[
            ("f.txt", "from docker"),
            ("Dockerfile", "FROM busybox\nCOPY f.txt /f.txt\nRUN cat /f.txt > /g.txt\nCMD [\"cat\", \"/g.txt\"]\n"),
        ],
    );
    let dir = ctx.path().to_str().unwrap();
    let out = d.docker_env(&["build", "-t", "dk:1", dir], &[("DOCKER_BUILDKIT", "0")]);
    assert!(
        out.ok().contains("Successfully tagged dk:1"),
        "{}",
        out.stdout
    );
    assert_eq!(d.berth(&["run", "--rm", "dk:1"]).ok(), "from docker");
    // The same steps from berth come from the cache.
    let again = d.berth(&["build", "-t", "dk:2", dir]).ok().to_string();
    assert_eq!(again.matches("Using cache").count(), 3, "{again}");
    // The CREATED column ("3 seconds ago") may tick between the two calls: try again then.
    let same =
        (0..3).any(|_| d.docker(&["history", "dk:1"]).ok() == d.berth(&["history", "dk:1"]).ok());
    assert!(
        same,
        "{}\n{}",
        d.docker(&["history", "dk:1"]).stdout,
        d.berth(&["history", "dk:1"]).stdout
    );
    let q = d.docker_env(&["build", "-q", dir], &[("DOCKER_BUILDKIT", "0")]);
    assert!(q.ok().trim().starts_with("sha256:"), "{}", q.stdout);
}

#[test]
fn the_context_is_never_left_through_a_symlink() {
    let d = Daemon::with_busybox();
    let ctx = tempfile::tempdir().unwrap();
    let c = ctx.path();
    std::os::unix::fs::symlink("/etc", c.join("hostetc")).unwrap();
    write(
        c,
        &[(
            "Dockerfile",
            "FROM busybox\nCOPY hostetc/hostname /stolen\n",
        )],
    );
    let out = d.berth(&["build", c.to_str().unwrap()]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("file not found in build context"),
        "{}",
        out.stderr
    );
    // The symlink itself is copied as a symlink, pointing where it pointed.
    write(c, &[("Dockerfile", "FROM busybox\nCOPY hostetc /link\n")]);
    d.berth(&["build", "-t", "link:1", c.to_str().unwrap()])
        .ok();
    let l = d.berth(&["run", "--rm", "link:1", "readlink", "/link"]);
    assert_eq!(l.ok(), "/etc\n");
}

#[test]
fn a_from_image_that_is_not_here_is_pulled() {
    let reg = berth_e2e::registry::Registry::start(None);
    let src = Daemon::with_busybox();
    let image = format!("{}/base/box:1", reg.host());
    src.berth(&["tag", "busybox", &image]).ok();
    src.berth(&["push", "-q", &image]).ok();
    let d = Daemon::start();
    let df = format!("FROM {image}\nRUN echo on the pulled base > /on\nCMD [\"cat\", \"/on\"]\n");
    let out = d.berth_with_stdin(&["build", "-t", "onpulled:1", "-"], Some(df.as_bytes()));
    let text = out.ok();
    assert!(text.contains("Pulling from base/box"), "{text}");
    assert!(text.contains("Successfully tagged onpulled:1"), "{text}");
    assert_eq!(
        d.berth(&["run", "--rm", "onpulled:1"]).ok(),
        "on the pulled base\n"
    );
    assert!(d.berth(&["images"]).ok().contains("base/box"));
}
