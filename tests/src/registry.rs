//! Registries for the tests: Debian's `docker-registry` on a free loopback port
//! (anonymous, htpasswd or token auth; HTTP or HTTPS), the token server its
//! token mode needs, and a scripted fake for answers a real registry never
//! gives (wrong content, cut-off downloads). All stop when dropped.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

pub struct Registry {
    child: Child,
    pub port: u16,
    _dir: tempfile::TempDir,
}

/// How a [`Registry`] is started.
#[derive(Default)]
pub struct RegistryOptions<'a> {
    /// Require this htpasswd login.
    pub user: Option<(&'a str, &'a str)>,
    /// Serve HTTPS with this certificate.
    pub tls: Option<&'a crate::tls::CertFiles>,
    /// Require tokens from this token server.
    pub token: Option<&'a TokenServer>,
}

impl Registry {
    /// Starts a registry; with `user` it requires that htpasswd login.
    pub fn start(user: Option<(&str, &str)>) -> Self {
        Self::start_with(RegistryOptions {
            user,
            ..Default::default()
        })
    }

    pub fn start_with(opts: RegistryOptions<'_>) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("berth-registry-")
            .tempdir()
            .unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut config = format!(
            "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n",
            dir.path().join("data").display()
        );
        if let Some(tls) = opts.tls {
            config.push_str(&format!(
                "  tls:\n    certificate: {}\n    key: {}\n",
                tls.cert.display(),
                tls.key.display()
            ));
        }
        if let Some((u, p)) = opts.user {
            let out = Command::new("htpasswd")
                .args(["-Bbn", u, p])
                .output()
                .expect("htpasswd (apt-get install apache2-utils)");
            let file: PathBuf = dir.path().join("htpasswd");
            std::fs::write(&file, &out.stdout).unwrap();
            config.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: berth-test\n    path: {}\n",
                file.display()
            ));
        } else if let Some(t) = opts.token {
            config.push_str(&format!(
                "auth:\n  token:\n    realm: http://127.0.0.1:{}/token\n    service: {}\n    issuer: {}\n    rootcertbundle: {}\n",
                t.port,
                TokenServer::SERVICE,
                TokenServer::ISSUER,
                t.ca.cert().display()
            ));
        }
        let cfg = dir.path().join("config.yml");
        std::fs::write(&cfg, config).unwrap();
        let log = std::fs::File::create(dir.path().join("registry.log")).unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&cfg)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start docker-registry (apt-get install docker-registry)");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "docker-registry did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Registry {
            child,
            port,
            _dir: dir,
        }
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The registry's log, access lines included (`"PATCH /v2/… HTTP/1.1" 202 …`).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self._dir.path().join("registry.log")).unwrap_or_default()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fake registry answering from a fixed table of path → (status, headers, body,
/// bytes to actually send); runs until dropped.
pub struct FakeRegistry {
    pub port: u16,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// Query strings of the token requests it received.
    pub token_requests: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

/// Token auth for a [`FakeRegistry`]: `/v2/` wants `Bearer <token>`, handed out
/// at `/token`, which wants `Authorization: Basic <basic>` when `basic` is set.
#[derive(Clone)]
pub struct TokenAuth {
    pub token: String,
    pub basic: Option<String>,
}

pub struct Answer {
    pub body: Vec<u8>,
    pub content_type: &'static str,
    /// Send only this many bytes of the body (announcing all of it), then close.
    pub cut_at: Option<usize>,
}

impl FakeRegistry {
    pub fn start(routes: Vec<(String, Answer)>) -> Self {
        Self::start_with(routes, None)
    }

    pub fn start_with(routes: Vec<(String, Answer)>, auth: Option<TokenAuth>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stop2 = stop.clone();
        let token_requests = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let requests = token_requests.clone();
        std::thread::spawn(move || {
            while !stop2.load(std::sync::atomic::Ordering::Relaxed) {
                let Ok((mut s, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                };
                let Some((path, authorization)) = read_request(&s) else {
                    continue;
                };
                if let Some(a) = &auth {
                    if let Some(q) = path.strip_prefix("/token") {
                        requests
                            .lock()
                            .unwrap()
                            .push(q.trim_start_matches('?').to_string());
                        let ok = a
                            .basic
                            .as_ref()
                            .is_none_or(|b| authorization == format!("Basic {b}"));
                        let answer = if ok {
                            let body = format!(r#"{{"token":"{}"}}"#, a.token);
                            format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len())
                        } else {
                            "HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_string()
                        };
                        let _ = s.write_all(answer.as_bytes());
                        continue;
                    }
                    if authorization != format!("Bearer {}", a.token) {
                        let challenge = format!("Bearer realm=\"http://127.0.0.1:{port}/token\",service=\"fake-registry\"");
                        let _ = s.write_all(format!("HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: {challenge}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").as_bytes());
                        continue;
                    }
                }
                if path == "/v2/" {
                    let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");
                    continue;
                }
                match routes.iter().find(|(p, _)| *p == path) {
                    Some((_, a)) => {
                        let head = format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            a.content_type,
                            a.body.len()
                        );
                        let _ = s.write_all(head.as_bytes());
                        let _ = s.write_all(&a.body[..a.cut_at.unwrap_or(a.body.len())]);
                    }
                    None => {
                        let _ = s.write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                    }
                }
            }
        });
        FakeRegistry {
            port,
            stop,
            token_requests,
        }
    }
}

impl Drop for FakeRegistry {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

/// A token service for a [`Registry`] in token mode, as Docker Hub's
/// auth.docker.io: checks one Basic login and hands out RS256 JWTs granting
/// the scope asked for, signed by a key whose certificate the registry trusts.
pub struct TokenServer {
    pub port: u16,
    ca: crate::tls::Ca,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// The `scope` of each token handed out, and refused logins as "refused".
    pub issued: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl TokenServer {
    pub const SERVICE: &'static str = "berth-test-registry";
    pub const ISSUER: &'static str = "berth-test-token-issuer";

    pub fn start(user: &str, password: &str) -> Self {
        let ca = crate::tls::Ca::new("berth test token signer");
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let issued = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (stop2, issued2) = (stop.clone(), issued.clone());
        let basic = format!(
            "Basic {}",
            crate::archive::base64(format!("{user}:{password}").as_bytes())
        );
        let key = ca.key();
        let x5c = crate::archive::base64(&crate::tls::cert_der(&ca.cert()));
        std::thread::spawn(move || {
            while !stop2.load(std::sync::atomic::Ordering::Relaxed) {
                let Ok((mut s, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                };
                let Some((target, authorization)) = read_request(&s) else {
                    continue;
                };
                if authorization != basic {
                    issued2.lock().unwrap().push("refused".into());
                    let _ = s.write_all(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                    continue;
                }
                let query = target.split_once('?').map_or("", |(_, q)| q);
                let scopes: Vec<String> = query
                    .split('&')
                    .filter_map(|kv| kv.strip_prefix("scope="))
                    .map(percent_decode)
                    .collect();
                issued2.lock().unwrap().push(scopes.join(" "));
                let token = jwt(&key, &x5c, &scopes);
                let body = format!(r#"{{"token":"{token}","expires_in":300}}"#);
                let _ = s.write_all(format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).as_bytes());
            }
        });
        TokenServer {
            port,
            ca,
            stop,
            issued,
        }
    }
}

impl Drop for TokenServer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("");
                out.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn b64url(data: &[u8]) -> String {
    crate::archive::base64(data)
        .trim_end_matches('=')
        .replace('+', "-")
        .replace('/', "_")
}

/// An RS256 JWT for the registry's token auth, granting each `scope`
/// (`repository:NAME:ACTIONS`) in full.
fn jwt(key: &std::path::Path, x5c: &str, scopes: &[String]) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let access: Vec<serde_json::Value> = scopes
        .iter()
        .filter_map(|s| {
            let mut parts = s.splitn(3, ':');
            let (kind, name, actions) = (parts.next()?, parts.next()?, parts.next()?);
            Some(serde_json::json!({
                "type": kind,
                "name": name,
                "actions": actions.split(',').collect::<Vec<_>>(),
            }))
        })
        .collect();
    let header = serde_json::json!({"typ": "JWT", "alg": "RS256", "x5c": [x5c]});
    let claims = serde_json::json!({
        "iss": TokenServer::ISSUER,
        "sub": "tester",
        "aud": TokenServer::SERVICE,
        "exp": now + 300,
        "nbf": now - 10,
        "iat": now,
        "jti": format!("{now}-{}", scopes.len()),
        "access": access,
    });
    let signing_input = format!(
        "{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    );
    let sig = crate::tls::rs256_sign(key, signing_input.as_bytes());
    format!("{signing_input}.{}", b64url(&sig))
}

/// Reads a request head: its target and its `Authorization` header.
fn read_request(s: &std::net::TcpStream) -> Option<(String, String)> {
    s.set_nonblocking(false).ok();
    let mut r = BufReader::new(s.try_clone().ok()?);
    let mut line = String::new();
    r.read_line(&mut line).ok()?;
    let target = line.split_whitespace().nth(1).unwrap_or("").to_string();
    let mut authorization = String::new();
    loop {
        let mut h = String::new();
        if r.read_line(&mut h).is_err() || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            if k.eq_ignore_ascii_case("authorization") {
                authorization = v.trim().to_string();
            }
        }
    }
    Some((target, authorization))
}
