//! Pushing an image: each blob (layers, then config) is checked with HEAD and
//! skipped when the registry has it, mounted from another repository of the
//! same registry where it came from there, or uploaded in one piece; then the
//! manifest is put under the tag. Progress is Docker's push messages.

use super::client::RegistryClient;
use super::error::RegistryError;
use crate::httpc;
use crate::image::oci::Descriptor;
use crate::image::{Digest, ImageRecord, ImageStore, Reference};
use berth_types::JsonMessage;
use hyper::{header, Method, StatusCode};
use std::sync::Arc;
use tokio::sync::mpsc;

/// Blobs larger than this are uploaded in chunks of this size (PATCH), so a
/// big layer never has to go up in one request.
const CHUNK_BYTES: u64 = 8 << 20;

/// Sends the blob at `file` in chunks to the upload at `path`; returns where the
/// upload continues (registries hand out a new location after each chunk).
#[allow(clippy::too_many_arguments)]
async fn upload_chunks(
    client: &RegistryClient,
    file: &std::path::Path,
    size: u64,
    mut path: String,
    name: &str,
    tx: &mpsc::Sender<JsonMessage>,
    id: &str,
    is_config: bool,
) -> Result<String, RegistryError> {
    use tokio::io::AsyncReadExt;
    let mut f = tokio::fs::File::open(file)
        .await
        .map_err(|e| crate::image::ImageError::io(format!("open {}", file.display()), e))?;
    let mut sent = 0u64;
    while sent < size {
        let n = CHUNK_BYTES.min(size - sent) as usize;
        let mut buf = vec![0u8; n];
        f.read_exact(&mut buf)
            .await
            .map_err(|e| crate::image::ImageError::io(format!("read {}", file.display()), e))?;
        let res = client
            .send(
                Method::PATCH,
                &path,
                Some("application/octet-stream"),
                httpc::full(buf),
                name,
            )
            .await?;
        if res.status() != StatusCode::ACCEPTED {
            return Err(
                client.protocol(format!("chunk upload for {name} answered {}", res.status()))
            );
        }
        if res.headers().contains_key(header::LOCATION) {
            path = client.location_of(&res)?;
        }
        sent += n as u64;
        if !is_config {
            let _ = tx
                .send(JsonMessage::layer(id, "Pushing", Some(sent), Some(size)))
                .await;
        }
    }
    Ok(path)
}

fn short(d: &Digest) -> String {
    d.hex()[..12].to_string()
}

/// Pushes `rec` as `target` (which carries the tag). Returns the manifest digest.
pub async fn push(
    store: Arc<ImageStore>,
    client: &RegistryClient,
    rec: &ImageRecord,
    target: &Reference,
    tx: &mpsc::Sender<JsonMessage>,
) -> Result<Digest, RegistryError> {
    let name = target.familiar();
    let _ = tx
        .send(JsonMessage::status(format!(
            "The push refers to repository [{}]",
            target.familiar_repository()
        )))
        .await;
    client.authenticate(&name).await?;
    // Repositories of this registry that already hold the image: mount sources.
    let mount_from: Vec<String> = rec
        .repo_digests
        .iter()
        .chain(rec.tags.iter())
        .filter(|r| r.domain() == target.domain() && r.path() != target.path())
        .map(|r| r.path().to_string())
        .collect();
    for layer in &rec.manifest.layers {
        let _ = tx
            .send(JsonMessage::layer(
                &short(&layer.digest),
                "Preparing",
                None,
                None,
            ))
            .await;
    }
    for layer in rec
        .manifest
        .layers
        .iter()
        .chain(std::iter::once(&rec.manifest.config))
    {
        let id = short(&layer.digest);
        let is_config = layer.digest == rec.manifest.config.digest;
        let status = push_blob(
            &store,
            client,
            layer,
            &mount_from,
            &name,
            tx,
            &id,
            is_config,
        )
        .await?;
        if !is_config {
            let _ = tx.send(JsonMessage::layer(&id, status, None, None)).await;
        }
    }
    let manifest_bytes = store.blobs().read_verified(&rec.manifest_desc.digest)?;
    let tag = target.tag().unwrap_or("latest");
    let res = client
        .send(
            Method::PUT,
            &format!("/v2/{}/manifests/{tag}", client.repo()),
            Some(&rec.manifest_desc.media_type),
            httpc::full(manifest_bytes.clone()),
            &name,
        )
        .await?;
    if res.status() != StatusCode::CREATED {
        return Err(client.protocol(format!(
            "manifest upload for {name} answered {}",
            res.status()
        )));
    }
    let digest = rec.manifest_desc.digest.clone();
    let _ = tx
        .send(JsonMessage::status(format!(
            "{tag}: digest: {digest} size: {}",
            manifest_bytes.len()
        )))
        .await;
    Ok(digest)
}

#[allow(clippy::too_many_arguments)]
async fn push_blob(
    store: &ImageStore,
    client: &RegistryClient,
    blob: &Descriptor,
    mount_from: &[String],
    name: &str,
    tx: &mpsc::Sender<JsonMessage>,
    id: &str,
    is_config: bool,
) -> Result<String, RegistryError> {
    let repo = client.repo();
    let d = &blob.digest;
    let head = client
        .send(
            Method::HEAD,
            &format!("/v2/{repo}/blobs/{d}"),
            None,
            httpc::empty(),
            name,
        )
        .await?;
    if head.status() == StatusCode::OK {
        return Ok("Layer already exists".into());
    }
    for from in mount_from {
        let res = client
            .send(
                Method::POST,
                &format!("/v2/{repo}/blobs/uploads/?mount={d}&from={from}"),
                None,
                httpc::empty(),
                name,
            )
            .await?;
        if res.status() == StatusCode::CREATED {
            return Ok(format!("Mounted from {from}"));
        }
    }
    let start = client
        .send(
            Method::POST,
            &format!("/v2/{repo}/blobs/uploads/"),
            None,
            httpc::empty(),
            name,
        )
        .await?;
    if start.status() != StatusCode::ACCEPTED {
        return Err(client.protocol(format!(
            "starting an upload for {name} answered {}",
            start.status()
        )));
    }
    let path = client.location_of(&start)?;
    if !is_config {
        let _ = tx
            .send(JsonMessage::layer(id, "Pushing", Some(0), Some(blob.size)))
            .await;
    }
    let blob_path = store.blobs().path(d);
    let path = if blob.size > CHUNK_BYTES {
        upload_chunks(client, &blob_path, blob.size, path, name, tx, id, is_config).await?
    } else {
        path
    };
    // Small blobs go up whole with the PUT; chunked ones end with an empty PUT.
    let body = if blob.size > CHUNK_BYTES {
        httpc::empty()
    } else {
        let file = tokio::fs::File::open(&blob_path)
            .await
            .map_err(|e| crate::image::ImageError::io(format!("open blob {d}"), e))?;
        httpc::reader_body(file)
    };
    let sep = if path.contains('?') { '&' } else { '?' };
    let res = client
        .send(
            Method::PUT,
            &format!("{path}{sep}digest={d}"),
            Some("application/octet-stream"),
            body,
            name,
        )
        .await?;
    if res.status() != StatusCode::CREATED {
        return Err(client.protocol(format!(
            "upload of blob {d} for {name} answered {}",
            res.status()
        )));
    }
    Ok("Pushed".into())
}
