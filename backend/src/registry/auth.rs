//! Registry credentials: decoding Docker's `X-Registry-Auth` header and
//! answering a registry's `WWW-Authenticate` challenge.

use super::error::RegistryError;
use serde::Deserialize;

/// A user name and password (or identity token) for one registry.
#[derive(Clone, Default, PartialEq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    /// Never prints the password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials({}, ***)", self.username)
    }
}

#[derive(Deserialize, Default)]
struct AuthConfig {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
}

impl Credentials {
    /// Decodes `X-Registry-Auth` (base64url JSON, padded or not). Empty or `{}` is anonymous.
    pub fn from_header(value: &str) -> Result<Option<Self>, RegistryError> {
        let v = value.trim();
        if v.is_empty() {
            return Ok(None);
        }
        let bytes = base64_decode(v)
            .ok_or_else(|| RegistryError::BadAuth("X-Registry-Auth is not base64".into()))?;
        let cfg: AuthConfig = serde_json::from_slice(&bytes).map_err(|e| {
            RegistryError::BadAuth(format!("X-Registry-Auth is not an auth config: {e}"))
        })?;
        if cfg.username.is_empty() && cfg.password.is_empty() {
            return Ok(None);
        }
        Ok(Some(Credentials {
            username: cfg.username,
            password: cfg.password,
        }))
    }

    /// The `Authorization: Basic …` value.
    pub fn basic(&self) -> String {
        format!(
            "Basic {}",
            base64_encode(format!("{}:{}", self.username, self.password).as_bytes())
        )
    }
}

/// A parsed `WWW-Authenticate` header.
#[derive(Debug, PartialEq)]
pub enum Challenge {
    Basic,
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
    },
    Other(String),
}

impl Challenge {
    pub fn parse(h: &str) -> Self {
        let (scheme, rest) = h.trim().split_once(' ').unwrap_or((h.trim(), ""));
        match scheme.to_ascii_lowercase().as_str() {
            "basic" => Challenge::Basic,
            "bearer" => {
                let param = |name: &str| {
                    rest.split(',')
                        .filter_map(|kv| kv.trim().split_once('='))
                        .find(|(k, _)| k.eq_ignore_ascii_case(name))
                        .map(|(_, v)| v.trim_matches('"').to_string())
                };
                Challenge::Bearer {
                    realm: param("realm").unwrap_or_default(),
                    service: param("service"),
                    scope: param("scope"),
                }
            }
            other => Challenge::Other(other.to_string()),
        }
    }
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

pub fn base64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let n = (chunk[0] as u32) << 16
            | (*chunk.get(1).unwrap_or(&0) as u32) << 8
            | *chunk.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes standard or URL-safe base64, with or without padding.
pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => (c - b'A') as u32,
            b'a'..=b'z' => (c - b'a' + 26) as u32,
            b'0'..=b'9' => (c - b'0' + 52) as u32,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        })
    };
    let clean: Vec<u8> = s.bytes().filter(|&c| c != b'=').collect();
    let mut out = Vec::with_capacity(clean.len() * 3 / 4);
    for chunk in clean.chunks(4) {
        if chunk.len() == 1 {
            return None;
        }
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= val(c)? << (18 - 6 * i);
        }
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..chunk.len() - 1]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips_both_alphabets() {
        for s in ["", "a", "ab", "abc", "user:p@ss?w0rd>>"] {
            assert_eq!(
                base64_decode(&base64_encode(s.as_bytes())).unwrap(),
                s.as_bytes()
            );
        }
        assert_eq!(
            base64_decode("-_8").unwrap(),
            base64_decode("+/8=").unwrap()
        );
    }

    #[test]
    fn registry_auth_header_decodes_and_hides_password() {
        let h = base64_encode(br#"{"username":"u","password":"secret","serveraddress":"x"}"#)
            .replace('+', "-");
        let c = Credentials::from_header(&h).unwrap().unwrap();
        assert_eq!(c.username, "u");
        assert!(!format!("{c:?}").contains("secret"));
        assert_eq!(
            Credentials::from_header(&base64_encode(b"{}")).unwrap(),
            None
        );
        assert!(Credentials::from_header("!!!").is_err());
    }

    #[test]
    fn challenges_parse() {
        assert_eq!(
            Challenge::parse(r#"Basic realm="Registry Realm""#),
            Challenge::Basic
        );
        assert_eq!(
            Challenge::parse(
                r#"Bearer realm="https://auth.example/token",service="reg",scope="repository:a/b:pull""#
            ),
            Challenge::Bearer {
                realm: "https://auth.example/token".into(),
                service: Some("reg".into()),
                scope: Some("repository:a/b:pull".into()),
            }
        );
    }
}
