//! Pulling an image: resolve the manifest (choosing this machine's platform from
//! an index), then download the missing layers in parallel to scratch files,
//! each verified against its digest before it is unpacked, and register the
//! image under the registry's own manifest digest. Progress is reported as
//! Docker's pull messages. Nothing becomes visible unless every check passed.

use super::client::RegistryClient;
use super::error::RegistryError;
use crate::fsutil::{self, ScratchGuard};
use crate::image::digest::{chain_id, StreamHasher};
use crate::image::oci::{
    Descriptor, ImageConfig, Index, Manifest, Platform, MT_DOCKER_LIST, MT_OCI_INDEX,
};
use crate::image::{Digest, ImageStore, Reference, Registered};
use berth_types::JsonMessage;
use futures_util::{StreamExt, TryStreamExt};
use http_body_util::BodyExt;
use std::sync::Arc;
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;

/// Layers downloaded at once.
const PARALLEL_DOWNLOADS: usize = 3;

/// What a pull resolved to before any layer moved.
#[derive(Debug)]
pub struct Resolved {
    pub reference: Reference,
    pub manifest_bytes: Vec<u8>,
    pub manifest_digest: Digest,
    pub manifest: Manifest,
    pub config_bytes: Vec<u8>,
    pub config: ImageConfig,
}

fn what(r: &Reference) -> String {
    r.familiar()
}

/// Fetches the manifest (and config) of `reference`, picking linux/this
/// architecture from an index. Errors here mean nothing was pulled.
pub async fn resolve(
    client: &RegistryClient,
    reference: &Reference,
    platform: Option<&Platform>,
) -> Result<Resolved, RegistryError> {
    let name = what(reference);
    let tag_or_digest = match (reference.digest(), reference.tag()) {
        (Some(d), _) => d.to_string(),
        (None, Some(t)) => t.to_string(),
        (None, None) => "latest".to_string(),
    };
    let (mut bytes, mut media_type, mut digest) = client.manifest(&tag_or_digest, &name).await?;
    let is_index = |mt: &str, b: &[u8]| {
        mt.starts_with(MT_OCI_INDEX)
            || mt.starts_with(MT_DOCKER_LIST)
            || serde_json::from_slice::<serde_json::Value>(b)
                .is_ok_and(|v| v.get("manifests").is_some())
    };
    if is_index(&media_type, &bytes) {
        let index: Index = parse(&bytes, &name, "index")?;
        let want = platform.cloned().unwrap_or_else(Platform::this_machine);
        let pick = index
            .for_platform(&want)
            .or_else(|| {
                platform
                    .is_none()
                    .then(|| index.for_this_machine())
                    .flatten()
            })
            .ok_or_else(|| RegistryError::ManifestUnknown {
                reference: format!("{name} ({want})"),
            })?;
        (bytes, media_type, digest) = client.manifest(pick.digest.as_str(), &name).await?;
        if is_index(&media_type, &bytes) {
            return Err(RegistryError::Unsupported(format!(
                "{name}: an index inside an index is not supported"
            )));
        }
    }
    let manifest: Manifest = parse(&bytes, &name, "manifest")?;
    let config_bytes = client.blob_bytes(&manifest.config.digest, &name).await?;
    let config: ImageConfig = parse(&config_bytes, &name, "image config")?;
    if config.rootfs.diff_ids.len() != manifest.layers.len() {
        return Err(RegistryError::Protocol {
            registry: client.host().to_string(),
            detail: format!(
                "{name}: manifest lists {} layers but the config {}",
                manifest.layers.len(),
                config.rootfs.diff_ids.len()
            ),
        });
    }
    Ok(Resolved {
        reference: reference.clone(),
        manifest_bytes: bytes,
        manifest_digest: digest,
        manifest,
        config_bytes,
        config,
    })
}

fn parse<T: serde::de::DeserializeOwned>(
    b: &[u8],
    name: &str,
    what: &str,
) -> Result<T, RegistryError> {
    serde_json::from_slice(b)
        .map_err(|e| RegistryError::Unsupported(format!("{name}: cannot read its {what}: {e}")))
}

fn short(d: &Digest) -> String {
    d.hex()[..12].to_string()
}

/// Downloads what is missing and registers the image. Progress goes to `tx`;
/// a closed `tx` (the client left) stops the pull and cleans up.
pub async fn pull(
    store: Arc<ImageStore>,
    client: Arc<RegistryClient>,
    r: Resolved,
    tx: mpsc::Sender<JsonMessage>,
) -> Result<Registered, RegistryError> {
    let name = what(&r.reference);
    let tag = r.reference.tag().unwrap_or("latest").to_string();
    let send = |m: JsonMessage| {
        let tx = tx.clone();
        async move { tx.send(m).await.is_ok() }
    };
    send(JsonMessage {
        id: Some(tag),
        ..JsonMessage::status(format!("Pulling from {}", r.reference.path()))
    })
    .await;

    // Which layers are missing (by chain id and blob)?
    let mut parent: Option<Digest> = None;
    let mut missing = Vec::new();
    for (layer, diff) in r.manifest.layers.iter().zip(&r.config.rootfs.diff_ids) {
        let chain = chain_id(parent.as_ref(), diff);
        let present = store.layers().get(&chain).is_some() && store.blobs().has(&layer.digest);
        let status = if present {
            "Already exists"
        } else {
            "Pulling fs layer"
        };
        send(JsonMessage::layer(
            &short(&layer.digest),
            status,
            None,
            None,
        ))
        .await;
        if !present {
            missing.push(layer.clone());
        }
        parent = Some(chain);
    }

    // Download the missing ones, a few at a time.
    let downloads: Vec<(Digest, ScratchGuard)> =
        futures_util::stream::iter(missing.into_iter().map(|layer| {
            let (store, client, tx, name) =
                (store.clone(), client.clone(), tx.clone(), name.clone());
            async move {
                download(&store, &client, &layer, &name, &tx)
                    .await
                    .map(|g| (layer.digest, g))
            }
        }))
        .buffer_unordered(PARALLEL_DOWNLOADS)
        .try_collect()
        .await?;

    // Docker says "up to date" only when the tag already named this very image.
    let up_to_date = store
        .get(&r.reference.to_string())
        .is_ok_and(|rec| rec.id == r.manifest.config.digest);

    // Unpack in order and register, holding the store's write side against GC.
    let manifest_digest = r.manifest_digest.clone();
    let name2 = name.clone();
    let tx2 = tx.clone();
    let store2 = store.clone();
    let registered =
        tokio::task::spawn_blocking(move || -> Result<Registered, RegistryError> {
            let _writing = store2.writing();
            let mut parent: Option<Digest> = None;
            for (layer, diff) in r.manifest.layers.iter().zip(&r.config.rootfs.diff_ids) {
                if let Some((_, file)) = downloads.iter().find(|(d, _)| d == &layer.digest) {
                    let id = short(&layer.digest);
                    let _ = tx2.blocking_send(JsonMessage::layer(
                        &id,
                        "Extracting",
                        Some(layer.size),
                        Some(layer.size),
                    ));
                    store2.adopt_layer(
                        file.path(),
                        parent.as_ref(),
                        diff,
                        Some(&layer.digest),
                        &format!("{name2}: layer {}", layer.digest),
                    )?;
                    let _ = tx2.blocking_send(JsonMessage::layer(&id, "Pull complete", None, None));
                }
                parent = Some(chain_id(parent.as_ref(), diff));
            }
            let repo_digest = Reference::parse(&format!(
                "{}@{}",
                r.reference.repository(),
                r.manifest_digest
            ))
            .map_err(crate::image::ImageError::from)?;
            let tags = r
                .reference
                .tag()
                .map(|_| r.reference.clone())
                .into_iter()
                .collect();
            Ok(store2.register_manifest(
                &r.manifest_bytes,
                &r.config_bytes,
                tags,
                Some(repo_digest),
            )?)
        })
        .await
        .map_err(|e| RegistryError::Protocol {
            registry: client.host().to_string(),
            detail: format!("pull task failed: {e}"),
        })??;

    send(JsonMessage::status(format!("Digest: {manifest_digest}"))).await;
    let word = if up_to_date {
        "Image is up to date for"
    } else {
        "Downloaded newer image for"
    };
    send(JsonMessage::status(format!("Status: {word} {name}"))).await;
    Ok(registered)
}

/// Streams one layer blob to a scratch file, reporting progress and checking
/// size and digest before handing it on.
async fn download(
    store: &ImageStore,
    client: &RegistryClient,
    layer: &Descriptor,
    name: &str,
    tx: &mpsc::Sender<JsonMessage>,
) -> Result<ScratchGuard, RegistryError> {
    let id = short(&layer.digest);
    let guard = ScratchGuard::new(fsutil::unique_path(store.scratch(), "pull"));
    let mut file = tokio::fs::File::create(guard.path())
        .await
        .map_err(|e| crate::image::ImageError::io("create download file", e))?;
    let res = client.blob(&layer.digest, name).await?;
    let mut body = res.into_body();
    let mut hasher = StreamHasher::default();
    let mut done = 0u64;
    let mut reported = 0u64;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| RegistryError::Unreachable {
            registry: client.host().into(),
            detail: format!("download of {} interrupted: {e}", layer.digest),
        })?;
        let Some(data) = frame.data_ref() else {
            continue;
        };
        hasher.update(data);
        file.write_all(data)
            .await
            .map_err(|e| crate::image::ImageError::io("write download file", e))?;
        done += data.len() as u64;
        if done > layer.size {
            break;
        }
        if done - reported >= 512 * 1024 || done == layer.size {
            reported = done;
            if tx
                .send(JsonMessage::layer(
                    &id,
                    "Downloading",
                    Some(done),
                    Some(layer.size),
                ))
                .await
                .is_err()
            {
                return Err(RegistryError::Protocol {
                    registry: client.host().into(),
                    detail: "the client went away".into(),
                });
            }
        }
    }
    file.sync_all()
        .await
        .map_err(|e| crate::image::ImageError::io("fsync download file", e))?;
    let _ = tx
        .send(JsonMessage::layer(&id, "Verifying Checksum", None, None))
        .await;
    let (actual, _) = hasher.finish();
    if done != layer.size || actual != layer.digest {
        return Err(RegistryError::Image(
            crate::image::ImageError::DigestMismatch {
                what: format!(
                    "layer {} of {name} ({done} of {} bytes)",
                    layer.digest, layer.size
                ),
                expected: layer.digest.clone(),
                actual,
            },
        ));
    }
    let _ = tx
        .send(JsonMessage::layer(&id, "Download complete", None, None))
        .await;
    Ok(guard)
}
