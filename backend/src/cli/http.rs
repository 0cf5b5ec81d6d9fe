//! The CLI's HTTP client for the daemon: one HTTP/1.1 connection per request
//! over the unix socket or TCP, Docker's error JSON turned into
//! "Error response from daemon: …", and NDJSON streams read line by line.

use crate::daemon::HostAddr;
use berth_types::{ErrorResponse, API_VERSION};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use std::io;

pub use crate::httpc::{empty, full, reader_body, ReqBody};

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error(
        "Cannot connect to the Berth daemon at {host}. Is the berth daemon running? ({source})"
    )]
    Connect { host: String, source: io::Error },
    #[error("Error response from daemon: {message}")]
    Daemon { status: StatusCode, message: String },
    #[error("error talking to the daemon: {0}")]
    Protocol(String),
}

#[derive(Debug, Clone)]
pub struct Client {
    host: HostAddr,
    display: String,
    /// `Authorization: Bearer …` from `BERTH_TOKEN`, sent over TCP.
    token: Option<String>,
}

impl Client {
    pub fn new(host: &str) -> Result<Self, anyhow::Error> {
        Ok(Self {
            host: HostAddr::parse(host)?,
            display: host.to_string(),
            token: std::env::var("BERTH_TOKEN")
                .ok()
                .map(|t| t.trim().to_string())
                .filter(|t| !t.is_empty()),
        })
    }

    /// Sends a request to `/v1.47{path}` and returns the response if it is a success.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: ReqBody,
        content_type: Option<&str>,
    ) -> Result<Response<Incoming>, ClientError> {
        self.send_with(method, path, body, content_type, &[]).await
    }

    /// `send` with extra request headers.
    pub async fn send_with(
        &self,
        method: Method,
        path: &str,
        body: ReqBody,
        content_type: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Result<Response<Incoming>, ClientError> {
        let connect_err = |source| ClientError::Connect {
            host: self.display.clone(),
            source,
        };
        let uri = format!("/v{API_VERSION}{path}");
        let mut req = Request::builder().method(method).uri(&uri).header(
            "User-Agent",
            concat!("berth-cli/", env!("CARGO_PKG_VERSION")),
        );
        if let Some(ct) = content_type {
            req = req.header("Content-Type", ct);
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let res = match &self.host {
            HostAddr::Unix(p) => {
                let s = tokio::net::UnixStream::connect(p)
                    .await
                    .map_err(connect_err)?;
                let req = req
                    .header("Host", "berth")
                    .body(body)
                    .map_err(|e| ClientError::Protocol(e.to_string()))?;
                roundtrip(s, req).await?
            }
            HostAddr::Tcp(a) => {
                let s = tokio::net::TcpStream::connect(a)
                    .await
                    .map_err(connect_err)?;
                if let Some(t) = &self.token {
                    req = req.header("Authorization", format!("Bearer {t}"));
                }
                let req = req
                    .header("Host", a.as_str())
                    .body(body)
                    .map_err(|e| ClientError::Protocol(e.to_string()))?;
                roundtrip(s, req).await?
            }
        };
        if res.status().is_success()
            || res.status() == StatusCode::SWITCHING_PROTOCOLS
            || res.status() == StatusCode::NOT_MODIFIED
        {
            return Ok(res);
        }
        let status = res.status();
        let bytes = res
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        let message = serde_json::from_slice::<ErrorResponse>(&bytes)
            .map(|e| e.message)
            .unwrap_or_else(|_| String::from_utf8_lossy(&bytes).trim().to_string());
        Err(ClientError::Daemon { status, message })
    }

    /// Sends `POST path` asking to take over the connection (attach), and
    /// returns the raw two-way stream once the daemon switched protocols.
    pub async fn hijack(
        &self,
        path: &str,
    ) -> Result<hyper_util::rt::TokioIo<hyper::upgrade::Upgraded>, ClientError> {
        self.hijack_with(path, None).await
    }

    /// `hijack` with a JSON request body (exec start).
    pub async fn hijack_with(
        &self,
        path: &str,
        json_body: Option<String>,
    ) -> Result<hyper_util::rt::TokioIo<hyper::upgrade::Upgraded>, ClientError> {
        let (body, ct) = match json_body {
            Some(b) => (full(b), Some("application/json")),
            None => (empty(), None),
        };
        let res = self
            .send_with(
                Method::POST,
                path,
                body,
                ct,
                &[("Connection", "Upgrade"), ("Upgrade", "tcp")],
            )
            .await?;
        if res.status() != StatusCode::SWITCHING_PROTOCOLS {
            return Err(ClientError::Protocol(format!(
                "the daemon did not switch protocols for {path} ({})",
                res.status()
            )));
        }
        hyper::upgrade::on(res)
            .await
            .map(hyper_util::rt::TokioIo::new)
            .map_err(|e| ClientError::Protocol(e.to_string()))
    }

    pub async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
    ) -> Result<T, ClientError> {
        let res = self.send(Method::GET, path, empty(), None).await?;
        read_json(res).await
    }

    /// Sends a request and decodes a JSON answer.
    pub async fn call_json<T: serde::de::DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
    ) -> Result<T, ClientError> {
        let res = self.send(method, path, empty(), None).await?;
        read_json(res).await
    }
}

async fn roundtrip<S>(stream: S, req: Request<ReqBody>) -> Result<Response<Incoming>, ClientError>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    crate::httpc::roundtrip(stream, req)
        .await
        .map_err(|e| ClientError::Protocol(e.to_string()))
}

pub async fn read_json<T: serde::de::DeserializeOwned>(
    res: Response<Incoming>,
) -> Result<T, ClientError> {
    let bytes = res
        .into_body()
        .collect()
        .await
        .map_err(|e| ClientError::Protocol(e.to_string()))?
        .to_bytes();
    serde_json::from_slice(&bytes)
        .map_err(|e| ClientError::Protocol(format!("unexpected answer: {e}")))
}

/// Calls `f` with each complete line of a streamed body.
pub async fn for_each_line(
    res: Response<Incoming>,
    mut f: impl FnMut(&[u8]) -> Result<(), ClientError>,
) -> Result<(), ClientError> {
    let mut body = res.into_body();
    let mut buf: Vec<u8> = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| ClientError::Protocol(e.to_string()))?;
        if let Some(data) = frame.data_ref() {
            buf.extend_from_slice(data);
            while let Some(i) = buf.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = buf.drain(..=i).collect();
                if line.len() > 1 {
                    f(&line[..line.len() - 1])?;
                }
            }
        }
    }
    if !buf.is_empty() {
        f(&buf)?;
    }
    Ok(())
}

/// Copies a streamed body into `out`.
pub async fn copy_body(
    res: Response<Incoming>,
    out: &mut (impl tokio::io::AsyncWrite + Unpin),
) -> Result<u64, ClientError> {
    use tokio::io::AsyncWriteExt;
    let mut body = res.into_body();
    let mut n = 0;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| ClientError::Protocol(e.to_string()))?;
        if let Some(data) = frame.data_ref() {
            out.write_all(data)
                .await
                .map_err(|e| ClientError::Protocol(format!("write output: {e}")))?;
            n += data.len() as u64;
        }
    }
    out.flush()
        .await
        .map_err(|e| ClientError::Protocol(format!("write output: {e}")))?;
    Ok(n)
}
