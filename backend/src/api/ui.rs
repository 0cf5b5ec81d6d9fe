//! The dashboard's static files (the built `frontend/dist`), loaded into memory
//! at start, gzip-compressed once, and served with content types and ETags on
//! the TCP listener. `/` and every `/ui/…` path answer with `index.html` so the
//! single-page app can route; anything else unknown is the API's 404.

use super::error::ApiError;
use super::State;
use axum::extract::Request;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

#[derive(Debug)]
struct Asset {
    content_type: &'static str,
    body: Vec<u8>,
    gzip: Option<Vec<u8>>,
    etag: String,
}

#[derive(Debug, Default)]
pub struct UiAssets {
    files: HashMap<String, Asset>,
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "json" => "application/json",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

impl UiAssets {
    /// Loads every file under `dir`; fails if there is no `index.html`.
    pub fn load(dir: &Path) -> std::io::Result<Self> {
        let mut files = HashMap::new();
        load_dir(dir, dir, &mut files)?;
        if !files.contains_key("index.html") {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!(
                    "{} has no index.html: build the frontend first (make ui)",
                    dir.display()
                ),
            ));
        }
        Ok(Self { files })
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

fn load_dir(root: &Path, dir: &Path, out: &mut HashMap<String, Asset>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            load_dir(root, &path, out)?;
            continue;
        }
        let name = path
            .strip_prefix(root)
            .unwrap_or(&path)
            .to_string_lossy()
            .into_owned();
        let body = std::fs::read(&path)?;
        let ct = content_type(&name);
        let compressible = ct.starts_with("text/")
            || ct == "application/wasm"
            || ct == "application/json"
            || ct == "image/svg+xml";
        let gzip = if compressible && body.len() > 512 {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            enc.write_all(&body)?;
            Some(enc.finish()?)
        } else {
            None
        };
        let etag = format!("\"{}\"", &crate::image::Digest::of(&body).hex()[..16]);
        out.insert(
            name,
            Asset {
                content_type: ct,
                body,
                gzip,
                etag,
            },
        );
    }
    Ok(())
}

/// The fallback of the TCP listener's router.
pub async fn serve(state: State, req: Request) -> Response {
    let Some(ui) = state.ui.as_ref() else {
        return ApiError::not_found("page not found").into_response();
    };
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return ApiError::not_found("page not found").into_response();
    }
    let path = req.uri().path().trim_start_matches('/');
    let name = if path.is_empty() || path == "ui" || path.starts_with("ui/") {
        "index.html"
    } else {
        path
    };
    let Some(asset) = ui.files.get(name) else {
        return ApiError::not_found("page not found").into_response();
    };
    let headers = req.headers();
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        == Some(asset.etag.as_str())
    {
        return (
            StatusCode::NOT_MODIFIED,
            [(header::ETAG, asset.etag.clone())],
        )
            .into_response();
    }
    let wants_gzip = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
    let mut res = match (&asset.gzip, wants_gzip) {
        (Some(gz), true) => {
            let mut r = gz.clone().into_response();
            r.headers_mut()
                .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            r
        }
        _ => asset.body.clone().into_response(),
    };
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if let Ok(v) = HeaderValue::from_str(&asset.etag) {
        h.insert(header::ETAG, v);
    }
    res
}
