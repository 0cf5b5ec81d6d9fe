//! Certificates for the tests, made with the `openssl` command: a CA, and
//! server certificates it signs for 127.0.0.1 and localhost. Also RS256
//! signatures, for the JWTs of the token server.

use std::path::{Path, PathBuf};
use std::process::Command;

fn openssl(args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("run openssl (apt-get install openssl)");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A certificate authority in its own directory, removed when dropped.
pub struct Ca {
    dir: tempfile::TempDir,
}

/// A certificate and its private key, as PEM files.
pub struct CertFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl Ca {
    pub fn new(name: &str) -> Self {
        let dir = tempfile::Builder::new()
            .prefix("berth-ca-")
            .tempdir()
            .unwrap();
        let d = dir.path();
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            &format!("/CN={name}"),
            "-keyout",
            d.join("ca.key").to_str().unwrap(),
            "-out",
            d.join("ca.crt").to_str().unwrap(),
        ]);
        Ca { dir }
    }

    /// The CA certificate (PEM).
    pub fn cert(&self) -> PathBuf {
        self.dir.path().join("ca.crt")
    }

    pub fn key(&self) -> PathBuf {
        self.dir.path().join("ca.key")
    }

    /// A server certificate for 127.0.0.1 and localhost, signed by this CA.
    pub fn server_cert(&self, name: &str) -> CertFiles {
        let d = self.dir.path();
        let (key, csr, cert, ext) = (
            d.join(format!("{name}.key")),
            d.join(format!("{name}.csr")),
            d.join(format!("{name}.crt")),
            d.join(format!("{name}.ext")),
        );
        std::fs::write(
            &ext,
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        openssl(&[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            &format!("/CN={name}"),
            "-keyout",
            key.to_str().unwrap(),
            "-out",
            csr.to_str().unwrap(),
        ]);
        openssl(&[
            "x509",
            "-req",
            "-days",
            "2",
            "-in",
            csr.to_str().unwrap(),
            "-CA",
            self.cert().to_str().unwrap(),
            "-CAkey",
            self.key().to_str().unwrap(),
            "-CAcreateserial",
            "-extfile",
            ext.to_str().unwrap(),
            "-out",
            cert.to_str().unwrap(),
        ]);
        CertFiles { cert, key }
    }
}

/// Signs `data` with an RSA key (PKCS#1 v1.5 over SHA-256: JWT's RS256).
pub fn rs256_sign(key: &Path, data: &[u8]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::write(&input, data).unwrap();
    let out = Command::new("openssl")
        .args(["dgst", "-sha256", "-sign"])
        .arg(key)
        .arg(&input)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl dgst: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// A certificate's DER bytes (for a JWT's `x5c`).
pub fn cert_der(cert: &Path) -> Vec<u8> {
    let out = Command::new("openssl")
        .args(["x509", "-outform", "DER", "-in"])
        .arg(cert)
        .output()
        .expect("run openssl");
    assert!(out.status.success());
    out.stdout
}
