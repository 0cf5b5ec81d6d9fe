//! `POST /build`: a build context (tar) and Docker's query parameters in,
//! the classic builder's output out as NDJSON (`stream` lines, `aux` with
//! the image id, `errorDetail` on failure).

use super::error::{ApiError, ApiResult};
use super::params::Params;
use super::{Actor, State};
use crate::build::builder::{BuildOptions, Builder};
use crate::db::events::NewEvent;
use crate::fsutil;
use axum::body::Body;
use axum::response::Response;
use berth_types::JsonMessage;
use std::collections::{BTreeMap, HashMap};

fn json_map<T: serde::de::DeserializeOwned + Default>(p: &Params, key: &str) -> ApiResult<T> {
    match p.value(key) {
        None => Ok(T::default()),
        Some(v) => serde_json::from_str(v)
            .map_err(|e| ApiError::bad_request(format!("invalid {key} {v:?}: {e}"))),
    }
}

/// `POST /build?t=&dockerfile=&buildargs=&nocache=&target=&labels=&q=`.
pub async fn build(
    state: State,
    actor: Actor,
    who: crate::auth::Principal,
    p: Params,
    body: Body,
) -> ApiResult<Response> {
    let tags = p
        .all("t")
        .iter()
        .filter(|t| !t.is_empty())
        .map(|t| {
            crate::image::Reference::parse(t)
                .map(|r| r.with_default_tag())
                .map_err(|e| ApiError::bad_request(format!("invalid tag {t:?}: {e}")))
        })
        .collect::<ApiResult<Vec<_>>>()?;
    // `buildargs` values may be null (an arg named without a value).
    let raw_args: HashMap<String, Option<String>> = json_map(&p, "buildargs")?;
    let visible = super::ownership::visible(&state, &who, "image")
        .await?
        .map(|v| {
            let f: crate::build::builder::ImageFilter =
                std::sync::Arc::new(move |id| v.sees(&id.to_string()));
            f
        });
    let opts = BuildOptions {
        visible,
        dockerfile: p.value("dockerfile").unwrap_or("Dockerfile").to_string(),
        tags,
        build_args: raw_args
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k, v)))
            .collect(),
        no_cache: p.flag("nocache")?,
        target: p.value("target").map(str::to_string),
        labels: json_map::<BTreeMap<String, String>>(&p, "labels")?,
        pull: Some({
            let st = state.clone();
            std::sync::Arc::new(move |reference, tx| {
                let st = st.clone();
                Box::pin(async move { super::images::pull_for_build(&st, reference, tx).await })
            })
        }),
    };
    let quiet = p.flag("q")?;
    let upload = super::images::spool(&state, body).await?;
    let work = fsutil::unique_path(state.images.scratch(), "build");
    let ctx = work.join("context");
    std::fs::create_dir_all(&ctx)
        .map_err(|e| ApiError::internal(format!("create build directory: {e}")))?;
    let (dockerfile, up, c2) = (
        opts.dockerfile.clone(),
        upload.path().to_path_buf(),
        ctx.clone(),
    );
    let unpacked = tokio::task::spawn_blocking(move || {
        let f = std::fs::File::open(&up).map_err(|e| e.to_string())?;
        let r = crate::image::unpack::decompressed(f, "the build context")
            .map_err(|e| e.to_string())?;
        crate::build::context::unpack(r, &c2, &dockerfile)
    })
    .await?;
    drop(upload);
    if let Err(e) = unpacked {
        fsutil::remove_any(&work);
        return Err(ApiError::bad_request(e));
    }

    let (tx, rx) = tokio::sync::mpsc::channel::<JsonMessage>(256);
    let (btx, mut brx) = tokio::sync::mpsc::channel::<JsonMessage>(256);
    let builder = Builder::new(
        state.containers.clone(),
        state.build_cache.clone(),
        btx,
        ctx,
        work.clone(),
        opts,
    );
    let st = state.clone();
    tokio::spawn(async move {
        // With `q`, only the result and errors go out.
        let forward = {
            let tx = tx.clone();
            tokio::spawn(async move {
                while let Some(m) = brx.recv().await {
                    if !quiet || m.aux.is_some() {
                        let _ = tx.send(m).await;
                    }
                }
            })
        };
        let result = builder.run().await;
        let _ = forward.await;
        match result {
            Ok(id) => {
                if quiet {
                    let _ = tx.send(JsonMessage::stream(format!("{id}\n"))).await;
                }
                let event = NewEvent::image("build", id.to_string(), None, &actor.0);
                super::images::record_made(&st, event, &actor).await;
            }
            Err(e) => {
                let _ = tx.send(JsonMessage::error(e)).await;
            }
        }
        fsutil::remove_any(&work);
    });
    Ok(super::images::ndjson_stream(rx))
}
