//! How the daemon reaches a registry host: which scheme it speaks, which
//! certificates it trusts, and the connection itself.
//!
//! - A host with CA certificates in `CERTS_DIR/HOST[:PORT]/*.crt` is spoken to
//!   over HTTPS, verified against those CAs and the system bundle, with a client
//!   certificate when `client.cert` and `client.key` sit beside them. This holds
//!   on loopback too: Docker skips verification for 127.0.0.0/8 even when a CA
//!   is installed; Berth verifies what you gave it a CA for.
//! - An insecure host (loopback, or matched by `--insecure-registry`) is tried
//!   over HTTPS without verification first and over plain HTTP when the TLS
//!   handshake fails, as Docker does. The answer is remembered per host.
//! - Every other host is HTTPS, verified against the system bundle.

use super::error::RegistryError;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

/// Where the daemon looks for per-registry certificates unless told otherwise.
pub const DEFAULT_CERTS_DIR: &str = "/etc/berth/certs.d";
/// The system's CA bundle (Debian's ca-certificates).
const SYSTEM_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// A connection to a registry: plain TCP or TLS over it.
pub trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
}

/// One `--insecure-registry` value: a CIDR range or a host[:port].
#[derive(Debug, Clone, PartialEq)]
enum InsecureEntry {
    Network(IpAddr, u8),
    Host(String),
}

impl InsecureEntry {
    fn parse(s: &str) -> Result<Self, String> {
        let s = s
            .trim()
            .trim_start_matches("http://")
            .trim_start_matches("https://")
            .trim_end_matches('/');
        if s.is_empty() || (s.contains('/') && s.split('/').count() != 2) {
            return Err(format!("invalid --insecure-registry {s:?}"));
        }
        if let Some((ip, bits)) = s.split_once('/') {
            let ip: IpAddr = ip.parse().map_err(|_| {
                format!("invalid --insecure-registry {s:?}: {ip:?} is not an IP address")
            })?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            let bits: u8 =
                bits.parse().ok().filter(|b| *b <= max).ok_or_else(|| {
                    format!("invalid --insecure-registry {s:?}: bad prefix length")
                })?;
            return Ok(InsecureEntry::Network(ip, bits));
        }
        if s.chars().any(|c| c.is_whitespace()) {
            return Err(format!("invalid --insecure-registry {s:?}"));
        }
        Ok(InsecureEntry::Host(s.to_ascii_lowercase()))
    }

    fn matches(&self, host: &str) -> bool {
        match self {
            InsecureEntry::Host(h) => {
                h == &host.to_ascii_lowercase() || h == &hostname(host).to_ascii_lowercase()
            }
            InsecureEntry::Network(net, bits) => hostname(host)
                .parse::<IpAddr>()
                .is_ok_and(|ip| in_network(ip, *net, *bits)),
        }
    }
}

fn in_network(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
            u32::from(a) & mask == u32::from(b) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
            u128::from(a) & mask == u128::from(b) & mask
        }
        _ => false,
    }
}

/// The host part of `host[:port]`, without IPv6 brackets.
pub fn hostname(host: &str) -> &str {
    let h = match host.rsplit_once(':') {
        Some((h, p)) if p.bytes().all(|b| b.is_ascii_digit()) && !h.ends_with(':') => h,
        _ => host,
    };
    h.trim_start_matches('[').trim_end_matches(']')
}

/// Whether `host` (with optional port) is a loopback address.
pub fn is_loopback(host: &str) -> bool {
    let h = hostname(host);
    h == "localhost" || h.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The daemon's registry transport settings, shared by every registry client.
#[derive(Debug)]
pub struct Transport {
    insecure: Vec<InsecureEntry>,
    certs_dir: PathBuf,
    /// What an insecure host turned out to speak.
    learned: Mutex<HashMap<String, Scheme>>,
}

impl Default for Transport {
    fn default() -> Self {
        Self {
            insecure: Vec::new(),
            certs_dir: PathBuf::from(DEFAULT_CERTS_DIR),
            learned: Mutex::new(HashMap::new()),
        }
    }
}

impl Transport {
    /// Settings from the daemon's `--insecure-registry` values and certificates directory.
    pub fn new(insecure: &[String], certs_dir: &Path) -> Result<Self, String> {
        Ok(Self {
            insecure: insecure
                .iter()
                .map(|s| InsecureEntry::parse(s))
                .collect::<Result<_, _>>()?,
            certs_dir: certs_dir.to_path_buf(),
            learned: Mutex::new(HashMap::new()),
        })
    }

    /// `RegistryConfig` of `GET /info`, as dockerd reports its insecure registries.
    pub fn registry_config(&self) -> serde_json::Value {
        let mut cidrs = vec!["127.0.0.0/8".to_string(), "::1/128".to_string()];
        let mut index = serde_json::Map::new();
        for e in &self.insecure {
            match e {
                InsecureEntry::Network(ip, bits) => cidrs.push(format!("{ip}/{bits}")),
                InsecureEntry::Host(h) => {
                    index.insert(
                        h.clone(),
                        serde_json::json!({"Name": h, "Mirrors": [], "Secure": false, "Official": false}),
                    );
                }
            }
        }
        serde_json::json!({"IndexConfigs": index, "InsecureRegistryCIDRs": cidrs, "Mirrors": []})
    }

    /// Whether `host` may be spoken to without verified TLS.
    pub fn is_insecure(&self, host: &str) -> bool {
        is_loopback(host) || self.insecure.iter().any(|e| e.matches(host))
    }

    /// The certificates directory of `host`, when it holds anything.
    fn host_certs_dir(&self, host: &str) -> Option<PathBuf> {
        let dir = self.certs_dir.join(host.replace(['/', '\\'], "_"));
        dir.is_dir().then_some(dir)
    }

    /// The scheme to use for `host` now: remembered, or the first to try.
    pub fn scheme(&self, host: &str) -> Scheme {
        self.learned
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(host)
            .copied()
            .unwrap_or(Scheme::Https)
    }

    /// Connects to `host` for a request. Over HTTPS unless the host is insecure
    /// and does not speak TLS.
    pub async fn connect(&self, host: &str) -> Result<(Box<dyn Stream>, Scheme), RegistryError> {
        let verify = self.host_certs_dir(host).is_some() || !self.is_insecure(host);
        match self.scheme(host) {
            Scheme::Http if !verify => return Ok((Box::new(tcp(host).await?), Scheme::Http)),
            _ => {}
        }
        match self.tls(host, verify).await {
            Ok(s) => {
                self.remember(host, Scheme::Https);
                Ok((s, Scheme::Https))
            }
            Err(TlsFailure::Handshake(_)) if !verify => {
                tracing::debug!(%host, "no TLS; falling back to plain HTTP");
                self.remember(host, Scheme::Http);
                Ok((Box::new(tcp(host).await?), Scheme::Http))
            }
            Err(TlsFailure::Handshake(e)) => Err(RegistryError::Unreachable {
                registry: host.to_string(),
                detail: format!("TLS: {e}{}", self.tls_hint(host)),
            }),
            Err(TlsFailure::Other(e)) => Err(e),
        }
    }

    /// Connects to a URL's host with the URL's own scheme (a token service).
    pub async fn connect_scheme(
        &self,
        host: &str,
        scheme: Scheme,
    ) -> Result<Box<dyn Stream>, RegistryError> {
        match scheme {
            Scheme::Http => Ok(Box::new(tcp(host).await?)),
            Scheme::Https => {
                let verify = self.host_certs_dir(host).is_some() || !self.is_insecure(host);
                self.tls(host, verify).await.map_err(|e| match e {
                    TlsFailure::Handshake(e) => RegistryError::Unreachable {
                        registry: host.to_string(),
                        detail: format!("TLS: {e}{}", self.tls_hint(host)),
                    },
                    TlsFailure::Other(e) => e,
                })
            }
        }
    }

    fn tls_hint(&self, host: &str) -> String {
        let dir = self.certs_dir.join(host);
        if self.is_insecure(host) {
            // Verified only because a CA was configured for it.
            format!(
                " (verified against the CA certificates in {}; put the registry's CA there, or remove the directory to skip verification)",
                dir.display()
            )
        } else {
            format!(
                " (to trust its CA, put it at {}/ca.crt; to skip verification, start the daemon with --insecure-registry {host})",
                dir.display()
            )
        }
    }

    fn remember(&self, host: &str, scheme: Scheme) {
        self.learned
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(host.to_string(), scheme);
    }

    async fn tls(&self, host: &str, verify: bool) -> Result<Box<dyn Stream>, TlsFailure> {
        let config = self
            .client_config(host, verify)
            .map_err(TlsFailure::Other)?;
        let name = ServerName::try_from(hostname(host).to_string()).map_err(|e| {
            TlsFailure::Other(RegistryError::Unsupported(format!(
                "registry host {host:?} is not a valid TLS server name: {e}"
            )))
        })?;
        let stream = tcp(host).await.map_err(TlsFailure::Other)?;
        let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(name, stream)
            .await
            .map_err(|e| TlsFailure::Handshake(e.to_string()))?;
        Ok(Box::new(tls))
    }

    fn client_config(&self, host: &str, verify: bool) -> Result<ClientConfig, RegistryError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| RegistryError::Unsupported(format!("TLS setup: {e}")))?;
        let dir = self.host_certs_dir(host);
        let builder = if verify {
            let mut roots = RootCertStore::empty();
            if let Ok(bundle) = std::fs::read(SYSTEM_BUNDLE) {
                roots.add_parsable_certificates(
                    CertificateDer::pem_slice_iter(&bundle).filter_map(Result::ok),
                );
            }
            if let Some(dir) = &dir {
                for cert in read_cas(dir, host)? {
                    roots.add(cert).map_err(|e| bad_cert(dir, host, e))?;
                }
            }
            builder.with_root_certificates(roots)
        } else {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(NoVerification(provider)))
        };
        let client_cert = dir.as_ref().map(|d| d.join("client.cert"));
        match client_cert.filter(|p| p.exists()) {
            Some(cert_path) => {
                let key_path = cert_path.with_file_name("client.key");
                let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&cert_path)
                    .and_then(|i| i.collect())
                    .map_err(|e| bad_cert(&cert_path, host, e))?;
                let key = PrivateKeyDer::from_pem_file(&key_path)
                    .map_err(|e| bad_cert(&key_path, host, e))?;
                builder
                    .with_client_auth_cert(certs, key)
                    .map_err(|e| bad_cert(&cert_path, host, e))
            }
            None => Ok(builder.with_no_client_auth()),
        }
    }
}

enum TlsFailure {
    Handshake(String),
    Other(RegistryError),
}

async fn tcp(host: &str) -> Result<TcpStream, RegistryError> {
    let addr = if host.contains(':') && !host.ends_with(']') {
        host.to_string()
    } else {
        format!("{host}:443")
    };
    TcpStream::connect(&addr)
        .await
        .map_err(|e| RegistryError::Unreachable {
            registry: host.to_string(),
            detail: e.to_string(),
        })
}

/// The CA certificates (`*.crt`) in a host's certificates directory.
fn read_cas(dir: &Path, host: &str) -> Result<Vec<CertificateDer<'static>>, RegistryError> {
    let mut out = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| bad_cert(dir, host, e))?;
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "crt"))
    {
        let certs: Vec<_> = CertificateDer::pem_file_iter(p)
            .and_then(|i| i.collect())
            .map_err(|e| bad_cert(p, host, e))?;
        if certs.is_empty() {
            return Err(bad_cert(p, host, "no PEM certificate in it"));
        }
        out.extend(certs);
    }
    Ok(out)
}

fn bad_cert(path: &Path, host: &str, e: impl std::fmt::Display) -> RegistryError {
    RegistryError::Unsupported(format!(
        "certificate file {} for registry {host}: {e}",
        path.display()
    ))
}

/// Accepts any server certificate (insecure registries) while still checking
/// that the handshake is signed by the key in it.
#[derive(Debug)]
struct NoVerification(Arc<rustls::crypto::CryptoProvider>);

impl ServerCertVerifier for NoVerification {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for h in [
            "127.0.0.1:5000",
            "localhost:5000",
            "localhost",
            "[::1]:5000",
            "127.1.2.3",
        ] {
            assert!(is_loopback(h), "{h}");
        }
        for h in ["docker.io", "10.0.0.1:5000", "registry.example.com"] {
            assert!(!is_loopback(h), "{h}");
        }
    }

    #[test]
    fn insecure_registry_values() {
        let t = Transport::new(
            &[
                "10.1.0.0/16".into(),
                "registry.lan:5000".into(),
                "http://build.lan/".into(),
            ],
            Path::new("/nonexistent"),
        )
        .unwrap();
        assert!(t.is_insecure("10.1.2.3:5000"));
        assert!(!t.is_insecure("10.2.0.1:5000"));
        assert!(t.is_insecure("registry.lan:5000"));
        assert!(!t.is_insecure("registry.lan:5001"));
        assert!(t.is_insecure("build.lan"));
        assert!(t.is_insecure("build.lan:443"));
        assert!(t.is_insecure("127.0.0.1:5000"));
        assert!(!t.is_insecure("example.com"));
        for bad in ["10.0.0.0/33", "nothost/8", "a b", ""] {
            let e = Transport::new(&[bad.into()], Path::new("/")).unwrap_err();
            assert!(e.contains("--insecure-registry"), "{bad}: {e}");
        }
    }
}
