//! `RegistryClient`: the OCI distribution API as a client, for one repository —
//! manifests (with content negotiation) and blobs, answering `Basic` challenges
//! with the caller's credentials and following redirects.
//!
//! Registries on loopback (127.0.0.0/8, localhost, ::1) are spoken to over
//! plain HTTP, as Docker does for them by default.

use super::auth::{Challenge, Credentials};
use super::error::RegistryError;
use super::transport::{Scheme, Transport};
use crate::image::oci::{MT_DOCKER_LIST, MT_DOCKER_MANIFEST, MT_OCI_INDEX, MT_OCI_MANIFEST};
use crate::image::{Digest, Reference};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{header, Request, Response, StatusCode};
use std::sync::{Arc, Mutex};

/// The largest manifest or config document accepted.
const MAX_DOCUMENT: usize = 8 << 20;

#[derive(Debug)]
pub struct RegistryClient {
    transport: Arc<Transport>,
    host: String,
    repo: String,
    credentials: Option<Credentials>,
    authorization: Mutex<Option<String>>,
    /// What a token is asked for when the challenge names no scope: `pull`,
    /// or `pull,push` for a push.
    actions: &'static str,
}

impl RegistryClient {
    pub fn new(
        transport: Arc<Transport>,
        reference: &Reference,
        credentials: Option<Credentials>,
    ) -> Result<Self, RegistryError> {
        let mut c = Self::for_host(transport, reference.domain(), credentials)?;
        c.repo = reference.path().to_string();
        Ok(c)
    }

    /// A client for registry-wide calls (`/v2/`, `_catalog`).
    pub fn for_host(
        transport: Arc<Transport>,
        host: &str,
        credentials: Option<Credentials>,
    ) -> Result<Self, RegistryError> {
        if host.is_empty() || host.contains(['/', ' ', '@']) {
            return Err(RegistryError::Unsupported(format!(
                "invalid registry host {host:?}"
            )));
        }
        Ok(Self {
            transport,
            host: host.to_string(),
            repo: String::new(),
            credentials,
            authorization: Mutex::new(None),
            actions: "pull",
        })
    }

    /// Asks for push rights too when a token is needed.
    pub fn for_push(mut self) -> Self {
        self.actions = "pull,push";
        self
    }

    /// The scheme this registry is spoken to with (as far as known).
    pub fn scheme(&self) -> Scheme {
        self.transport.scheme(&self.host)
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    fn unreachable(&self, detail: impl std::fmt::Display) -> RegistryError {
        RegistryError::Unreachable {
            registry: self.host.clone(),
            detail: detail.to_string(),
        }
    }

    /// One request with the established credentials, no retries.
    async fn raw(
        &self,
        method: hyper::Method,
        path: &str,
        accept: &str,
        content_type: Option<&str>,
        body: crate::httpc::ReqBody,
    ) -> Result<Response<Incoming>, RegistryError> {
        let (stream, _) = self.transport.connect(&self.host).await?;
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, &self.host)
            .header(
                header::USER_AGENT,
                concat!("berth/", env!("CARGO_PKG_VERSION")),
            );
        if !accept.is_empty() {
            req = req.header(header::ACCEPT, accept);
        }
        if let Some(ct) = content_type {
            req = req.header(header::CONTENT_TYPE, ct);
        }
        if let Some(a) = self
            .authorization
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
        {
            req = req.header(header::AUTHORIZATION, a);
        }
        let req = req.body(body).map_err(|e| self.unreachable(e))?;
        crate::httpc::roundtrip(stream, req)
            .await
            .map_err(|e| self.unreachable(e))
    }

    /// GETs `path` (relative to the registry), authenticating and following redirects.
    async fn get(
        &self,
        path: &str,
        accept: &str,
        reference: &str,
    ) -> Result<Response<Incoming>, RegistryError> {
        let mut path = path.to_string();
        let mut authenticated = false;
        for _ in 0..5 {
            let res = self
                .raw(
                    hyper::Method::GET,
                    &path,
                    accept,
                    None,
                    crate::httpc::empty(),
                )
                .await?;
            match res.status() {
                StatusCode::UNAUTHORIZED if !authenticated => {
                    let challenge = res
                        .headers()
                        .get(header::WWW_AUTHENTICATE)
                        .and_then(|v| v.to_str().ok())
                        .map(Challenge::parse);
                    match (challenge, &self.credentials) {
                        (Some(Challenge::Basic), Some(c)) => {
                            *self.authorization.lock().unwrap_or_else(|p| p.into_inner()) =
                                Some(c.basic());
                            authenticated = true;
                        }
                        (
                            Some(Challenge::Bearer {
                                realm,
                                service,
                                scope,
                            }),
                            _,
                        ) => {
                            let scope = scope.or_else(|| {
                                (!self.repo.is_empty())
                                    .then(|| format!("repository:{}:{}", self.repo, self.actions))
                            });
                            let token = self
                                .fetch_token(
                                    &realm,
                                    service.as_deref(),
                                    scope.as_deref(),
                                    reference,
                                )
                                .await?;
                            *self.authorization.lock().unwrap_or_else(|p| p.into_inner()) =
                                Some(format!("Bearer {token}"));
                            authenticated = true;
                        }
                        _ => {
                            return Err(RegistryError::Unauthorized {
                                reference: reference.to_string(),
                            })
                        }
                    }
                }
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                    return Err(RegistryError::Unauthorized {
                        reference: reference.to_string(),
                    })
                }
                s if s.is_redirection() => {
                    let location = location_header(&res);
                    match self.location_path(location) {
                        Ok(p) => path = p,
                        // A blob served from elsewhere (a CDN): fetched there
                        // without this registry's credentials, as Docker does.
                        Err(_)
                            if location.starts_with("https://")
                                || location.starts_with("http://") =>
                        {
                            return self.get_external(location.to_string(), accept).await;
                        }
                        Err(e) => return Err(e),
                    }
                }
                _ => return Ok(res),
            }
        }
        Err(self.protocol("too many redirects"))
    }

    /// GETs an absolute URL on another host, following its redirects.
    async fn get_external(
        &self,
        mut url: String,
        accept: &str,
    ) -> Result<Response<Incoming>, RegistryError> {
        for _ in 0..5 {
            let (scheme, host, path) =
                split_url(&url).ok_or_else(|| self.protocol(format!("bad redirect {url:?}")))?;
            let stream = self.transport.connect_scheme(host, scheme).await?;
            let mut req = Request::get(&path).header(header::HOST, host).header(
                header::USER_AGENT,
                concat!("berth/", env!("CARGO_PKG_VERSION")),
            );
            if !accept.is_empty() {
                req = req.header(header::ACCEPT, accept);
            }
            let req = req
                .body(crate::httpc::empty())
                .map_err(|e| self.unreachable(e))?;
            let res = crate::httpc::roundtrip(stream, req)
                .await
                .map_err(|e| self.unreachable(format!("{host}: {e}")))?;
            if !res.status().is_redirection() {
                return Ok(res);
            }
            let next = location_header(&res);
            url = if next.starts_with('/') {
                format!("{}://{host}{next}", scheme.as_str())
            } else {
                next.to_string()
            };
        }
        Err(self.protocol("too many redirects"))
    }

    pub fn protocol(&self, detail: impl Into<String>) -> RegistryError {
        RegistryError::Protocol {
            registry: self.host.clone(),
            detail: detail.into(),
        }
    }

    /// GETs a JSON document (`_catalog`, `tags/list`, `/v1/search`); `None` when
    /// the registry does not serve that path. Also returns the `Link` header.
    pub async fn get_json(
        &self,
        path: &str,
    ) -> Result<Option<(serde_json::Value, Option<String>)>, RegistryError> {
        let res = self.get(path, "application/json", &self.host).await?;
        if res.status() == StatusCode::NOT_FOUND || res.status() == StatusCode::METHOD_NOT_ALLOWED {
            return Ok(None);
        }
        if res.status() != StatusCode::OK {
            return Err(self.protocol(format!("{path} answered {}", res.status())));
        }
        let link = res
            .headers()
            .get(header::LINK)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let bytes = self.read_limited(res, MAX_DOCUMENT).await?;
        match serde_json::from_slice(&bytes) {
            Ok(v) => Ok(Some((v, link))),
            Err(_) => Ok(None),
        }
    }

    /// Gets a bearer token from the registry's token service (`realm`), with the
    /// Basic credentials when there are any. The realm must be on loopback too.
    async fn fetch_token(
        &self,
        realm: &str,
        service: Option<&str>,
        scope: Option<&str>,
        reference: &str,
    ) -> Result<String, RegistryError> {
        let (scheme, host, path) = split_url(realm).ok_or_else(|| {
            self.protocol(format!("token service {realm:?} is not an HTTP(S) URL"))
        })?;
        let query = {
            let mut q = form_urlencoded::Serializer::new(String::new());
            if let Some(s) = service {
                q.append_pair("service", s);
            }
            if let Some(s) = scope {
                q.append_pair("scope", s);
            }
            q.finish()
        };
        let sep = if path.contains('?') { '&' } else { '?' };
        let uri = format!("{path}{sep}{query}");
        let stream = self.transport.connect_scheme(host, scheme).await?;
        let mut req = Request::get(&uri).header(header::HOST, host).header(
            header::USER_AGENT,
            concat!("berth/", env!("CARGO_PKG_VERSION")),
        );
        if let Some(c) = &self.credentials {
            req = req.header(header::AUTHORIZATION, c.basic());
        }
        let req = req
            .body(crate::httpc::empty())
            .map_err(|e| self.unreachable(e))?;
        let res = crate::httpc::roundtrip(stream, req)
            .await
            .map_err(|e| self.unreachable(e))?;
        if matches!(
            res.status(),
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
        ) {
            return Err(RegistryError::Unauthorized {
                reference: reference.to_string(),
            });
        }
        if res.status() != StatusCode::OK {
            return Err(self.protocol(format!("token service {realm} answered {}", res.status())));
        }
        let bytes = self.read_limited(res, MAX_DOCUMENT).await?;
        let v: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| self.protocol(format!("token service answer: {e}")))?;
        v["token"]
            .as_str()
            .or_else(|| v["access_token"].as_str())
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .ok_or_else(|| self.protocol("token service answered without a token"))
    }

    /// Establishes credentials for writes: asks `/v2/` and answers a `Basic` challenge.
    pub async fn authenticate(&self, reference: &str) -> Result<(), RegistryError> {
        let res = self.get("/v2/", "", reference).await?;
        match res.status() {
            StatusCode::OK => Ok(()),
            s => Err(self.protocol(format!("/v2/ answered {s}: is this a registry?"))),
        }
    }

    /// Sends a write (HEAD/POST/PUT) with the established credentials.
    pub async fn send(
        &self,
        method: hyper::Method,
        path: &str,
        content_type: Option<&str>,
        body: crate::httpc::ReqBody,
        reference: &str,
    ) -> Result<Response<Incoming>, RegistryError> {
        let res = self.raw(method, path, "", content_type, body).await?;
        if matches!(
            res.status(),
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
        ) {
            return Err(RegistryError::Unauthorized {
                reference: reference.to_string(),
            });
        }
        Ok(res)
    }

    /// The path on this registry that a response's `Location` header names.
    pub fn location_of(&self, res: &Response<Incoming>) -> Result<String, RegistryError> {
        self.location_path(location_header(res))
    }

    /// Turns a `Location` (an upload's, a redirect's; absolute or relative) into
    /// a path on this registry, refusing places outside it.
    pub fn location_path(&self, location: &str) -> Result<String, RegistryError> {
        match location
            .strip_prefix("http://")
            .or_else(|| location.strip_prefix("https://"))
        {
            Some(rest) if rest.starts_with(&format!("{}/", self.host)) => {
                Ok(rest[self.host.len()..].to_string())
            }
            Some(_) => Err(self.protocol(format!("location {location:?} is outside the registry"))),
            None if location.starts_with('/') => Ok(location.to_string()),
            None => Err(self.protocol(format!("bad location {location:?}"))),
        }
    }

    pub fn repo(&self) -> &str {
        &self.repo
    }

    /// Fetches a manifest or index by tag or digest: (bytes, media type, digest).
    pub async fn manifest(
        &self,
        tag_or_digest: &str,
        reference: &str,
    ) -> Result<(Vec<u8>, String, Digest), RegistryError> {
        let accept = [
            MT_OCI_INDEX,
            MT_OCI_MANIFEST,
            MT_DOCKER_LIST,
            MT_DOCKER_MANIFEST,
        ]
        .join(", ");
        let res = self
            .get(
                &format!("/v2/{}/manifests/{tag_or_digest}", self.repo),
                &accept,
                reference,
            )
            .await?;
        match res.status() {
            StatusCode::OK => {}
            StatusCode::NOT_FOUND => {
                return Err(RegistryError::ManifestUnknown {
                    reference: reference.to_string(),
                })
            }
            s => return Err(self.protocol(format!("manifest {reference}: unexpected status {s}"))),
        }
        let media_type = res
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let bytes = self.read_limited(res, MAX_DOCUMENT).await?;
        let digest = Digest::of(&bytes);
        if let Ok(want) = tag_or_digest.parse::<Digest>() {
            if want != digest {
                return Err(RegistryError::Image(
                    crate::image::ImageError::DigestMismatch {
                        what: format!("manifest of {reference}"),
                        expected: want,
                        actual: digest,
                    },
                ));
            }
        }
        Ok((bytes, media_type, digest))
    }

    /// Fetches a small blob (a config) and checks its digest.
    pub async fn blob_bytes(&self, d: &Digest, reference: &str) -> Result<Vec<u8>, RegistryError> {
        let res = self.blob(d, reference).await?;
        let bytes = self.read_limited(res, MAX_DOCUMENT).await?;
        let actual = Digest::of(&bytes);
        if &actual != d {
            return Err(RegistryError::Image(
                crate::image::ImageError::DigestMismatch {
                    what: format!("blob of {reference}"),
                    expected: d.clone(),
                    actual,
                },
            ));
        }
        Ok(bytes)
    }

    /// Starts a blob download; the caller streams and verifies the body.
    pub async fn blob(
        &self,
        d: &Digest,
        reference: &str,
    ) -> Result<Response<Incoming>, RegistryError> {
        let res = self
            .get(&format!("/v2/{}/blobs/{d}", self.repo), "", reference)
            .await?;
        match res.status() {
            StatusCode::OK => Ok(res),
            StatusCode::NOT_FOUND => Err(self.protocol(format!(
                "blob {d} of {reference} is missing from the registry"
            ))),
            s => Err(self.protocol(format!("blob {d} of {reference}: unexpected status {s}"))),
        }
    }

    async fn read_limited(
        &self,
        res: Response<Incoming>,
        limit: usize,
    ) -> Result<Vec<u8>, RegistryError> {
        let mut body = res.into_body();
        let mut out = Vec::new();
        while let Some(frame) = body.frame().await {
            let frame =
                frame.map_err(|e| self.unreachable(format!("download interrupted: {e}")))?;
            if let Some(d) = frame.data_ref() {
                out.extend_from_slice(d);
                if out.len() > limit {
                    return Err(self.protocol(format!("document larger than {limit} bytes")));
                }
            }
        }
        Ok(out)
    }
}

fn location_header(res: &Response<Incoming>) -> &str {
    res.headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// `http(s)://HOST/PATH` → (scheme, host, `/PATH`).
fn split_url(url: &str) -> Option<(Scheme, &str, String)> {
    let (scheme, rest) = if let Some(r) = url.strip_prefix("https://") {
        (Scheme::Https, r)
    } else {
        (Scheme::Http, url.strip_prefix("http://")?)
    };
    let (host, path) = rest
        .split_once('/')
        .map_or((rest, "/".to_string()), |(h, p)| (h, format!("/{p}")));
    (!host.is_empty()).then_some((scheme, host, path))
}
