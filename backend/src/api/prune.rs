//! Reclaiming space: `POST /containers/prune`, `/images/prune`,
//! `/volumes/prune`, `/build/prune`, and `GET /system/df`, with Docker's
//! filters and answers. A non-admin prunes and counts only what their teams
//! own.

use super::error::{ApiError, ApiResult};
use super::ownership::{visible, Visible};
use super::params::{Filters, Params};
use super::{AppState, State};
use crate::auth::Principal;
use crate::container::Container;
use crate::image::{Digest, ImageRecord, Removal};
use axum::Json;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashSet};

/// Whether the caller may prune an object (admins: all; others: their teams').
fn prunable(v: &Option<Visible>, id: &str) -> bool {
    v.as_ref().is_none_or(|v| v.owns(id))
}

/// `until` (a time) and `label` / `label!` filters over a creation time and labels.
fn matches(f: &Filters, created_secs: i64, labels: &BTreeMap<String, String>) -> ApiResult<bool> {
    for u in f.get("until") {
        let t = crate::timefmt::parse_api_time(u)
            .ok_or_else(|| ApiError::bad_request(format!("invalid filter 'until={u}'")))?;
        if created_secs * 1_000_000_000 >= t {
            return Ok(false);
        }
    }
    let has = |l: &str| match l.split_once('=') {
        Some((k, v)) => labels.get(k).is_some_and(|x| x == v),
        None => labels.contains_key(l),
    };
    Ok(f.get("label").iter().all(|l| has(l)) && !f.get("label!").iter().any(|l| has(l)))
}

fn container_secs(c: &Container) -> i64 {
    crate::timefmt::parse_api_time(&c.created).map_or(0, |n| n / 1_000_000_000)
}

fn image_secs(r: &ImageRecord) -> i64 {
    r.config
        .created
        .as_deref()
        .and_then(crate::timefmt::parse_api_time)
        .map_or(0, |n| n / 1_000_000_000)
}

/// The upper dir of a container: what it wrote (`SizeRw`).
fn size_rw(state: &AppState, id: &str) -> u64 {
    crate::fsutil::dir_size(&state.containers.store.dir(id).join("diff"))
}

/// `POST /containers/prune`: every stopped container.
pub async fn containers(state: State, who: Principal, p: Params) -> ApiResult<Json<Value>> {
    let f = p.filters()?;
    f.allow_only(&["until", "label", "label!"])?;
    let mine = visible(&state, &who, "container").await?;
    let mut deleted = Vec::new();
    let mut space = 0u64;
    for c in state.containers.store.list() {
        let labels = c.config.labels.clone().unwrap_or_default();
        if c.is_running() || !prunable(&mine, &c.id) || !matches(&f, container_secs(&c), &labels)? {
            continue;
        }
        let size = size_rw(&state, &c.id);
        if state.containers.remove(&c.id, false, false).await.is_ok() {
            space += size;
            deleted.push(c.id.clone());
        }
    }
    Ok(Json(
        json!({"ContainersDeleted": deleted, "SpaceReclaimed": space}),
    ))
}

/// Images some container (any state) uses.
fn in_use(state: &AppState) -> HashSet<Digest> {
    state
        .containers
        .store
        .list()
        .iter()
        .filter_map(|c| c.image.parse().ok())
        .collect()
}

/// `POST /images/prune`: dangling images (untagged, nothing built on them,
/// no container), or with `dangling=false` every image no container uses.
pub async fn images(state: State, who: Principal, p: Params) -> ApiResult<Json<Value>> {
    let f = p.filters()?;
    f.allow_only(&["dangling", "until", "label", "label!"])?;
    let all = f.get("dangling").iter().any(|d| d == "false" || d == "0");
    let mine = visible(&state, &who, "image").await?;
    let before = crate::fsutil::dir_size(&state.data_root.join("image"));
    let used = in_use(&state);
    let mut removed: Vec<Value> = Vec::new();
    let mut gone: HashSet<Digest> = HashSet::new();
    // Leaves first; removing one may leave its parent a leaf.
    loop {
        let mut progress = false;
        for rec in state.images.list() {
            let leaf = state.images.children(&rec.id).is_empty();
            let eligible = leaf
                && !used.contains(&rec.id)
                && (all || rec.tags.is_empty())
                && prunable(&mine, rec.id.as_str())
                && matches(
                    &f,
                    image_secs(&rec),
                    &rec.config.config.labels.clone().unwrap_or_default(),
                )?;
            if !eligible || gone.contains(&rec.id) {
                continue;
            }
            let images = state.images.clone();
            let (id, u) = (rec.id.to_string(), used.clone());
            let r = tokio::task::spawn_blocking(move || images.remove(&id, true, true, &u)).await?;
            let Ok(list) = r else { continue };
            for x in list {
                match x {
                    Removal::Untagged(t, _) => removed.push(json!({"Untagged": t.familiar()})),
                    Removal::Deleted(d) => {
                        let _ = state.db.release("image", d.as_str(), None).await;
                        removed.push(json!({"Deleted": d.to_string()}));
                        gone.insert(d);
                    }
                    Removal::DeletedLayer(_) => {}
                }
            }
            progress = true;
        }
        if !progress {
            break;
        }
    }
    let after = crate::fsutil::dir_size(&state.data_root.join("image"));
    Ok(Json(json!({
        "ImagesDeleted": if removed.is_empty() { Value::Null } else { json!(removed) },
        "SpaceReclaimed": before.saturating_sub(after),
    })))
}

/// Volumes some container (any state) mounts.
fn volumes_in_use(state: &AppState) -> HashSet<String> {
    state
        .containers
        .store
        .list()
        .iter()
        .flat_map(|c| c.mounts.iter().map(|m| m.name.clone()))
        .filter(|n| !n.is_empty())
        .collect()
}

/// `POST /volumes/prune`: unused anonymous volumes, or with `all=true` every
/// unused volume (API 1.42 and later, as Docker).
pub async fn volumes(state: State, who: Principal, p: Params) -> ApiResult<Json<Value>> {
    let f = p.filters()?;
    f.allow_only(&["all", "label", "label!"])?;
    let all = f.get("all").iter().any(|a| a == "true" || a == "1");
    let mine = visible(&state, &who, "volume").await?;
    let used = volumes_in_use(&state);
    let mut deleted = Vec::new();
    let mut space = 0u64;
    for v in state.containers.volumes.list() {
        if used.contains(&v.name)
            || !(all || v.anonymous)
            || !prunable(&mine, &v.name)
            || !matches(&f, 0, &v.labels)?
        {
            continue;
        }
        let size = crate::fsutil::dir_size(&state.containers.volumes.data_dir(&v.name));
        if state.containers.volumes.remove(&v.name).is_ok() {
            let _ = state.db.release("volume", &v.name, None).await;
            space += size;
            deleted.push(v.name.clone());
        }
    }
    Ok(Json(
        json!({"VolumesDeleted": deleted, "SpaceReclaimed": space}),
    ))
}

/// `POST /networks/prune`: user-defined networks no container is set up
/// to use, running or not (Docker looks only at running ones, which leaves
/// a stopped container with a network it cannot start on).
pub async fn networks(state: State, who: Principal, p: Params) -> ApiResult<Json<Value>> {
    let f = p.filters()?;
    f.allow_only(&["until", "label", "label!"])?;
    let mine = visible(&state, &who, "network").await?;
    let containers = state.containers.store.list();
    let mut deleted = Vec::new();
    for n in state.containers.networks.list() {
        let Some(rec) = n.record.as_ref() else {
            continue;
        };
        let created = crate::timefmt::parse_rfc3339_secs(&rec.created).unwrap_or(0);
        if super::networks::referenced(&n, &containers)
            || !prunable(&mine, &n.id)
            || !matches(&f, created, &rec.labels)?
        {
            continue;
        }
        if super::networks::remove_network(&state, &who, &n)
            .await
            .is_ok()
        {
            deleted.push(n.name.clone());
        }
    }
    Ok(Json(json!({"NetworksDeleted": deleted})))
}

/// `POST /build/prune`: forgets the build cache (admins; every step is
/// built again), then removes the dangling images builds left.
pub async fn build_cache(state: State, who: Principal, p: Params) -> ApiResult<Json<Value>> {
    if !who.is_admin() {
        return Err(ApiError::forbidden(
            "forbidden: the build cache is shared by all teams: only admins may prune it",
        ));
    }
    let entries = state.build_cache.clear();
    let pruned = images(state, who, p).await?.0;
    Ok(Json(json!({
        "CachesDeleted": entries,
        "SpaceReclaimed": pruned["SpaceReclaimed"],
    })))
}

/// `GET /system/df`: what images, containers, volumes and the build cache use.
pub async fn df(state: State, who: Principal) -> ApiResult<Json<Value>> {
    let imgs = visible(&state, &who, "image").await?;
    let ctrs = visible(&state, &who, "container").await?;
    let vols = visible(&state, &who, "volume").await?;
    let sees = |v: &Option<Visible>, id: &str| v.as_ref().is_none_or(|v| v.sees(id));
    let containers: Vec<Container> = state
        .containers
        .store
        .list()
        .into_iter()
        .filter(|c| sees(&ctrs, &c.id))
        .collect();
    let mut users: BTreeMap<String, i64> = BTreeMap::new();
    for c in state.containers.store.list() {
        *users.entry(c.image.clone()).or_default() += 1;
    }
    let records: Vec<ImageRecord> = state
        .images
        .list()
        .into_iter()
        .filter(|r| sees(&imgs, r.id.as_str()))
        .collect();
    let mut layer_users: BTreeMap<&Digest, usize> = BTreeMap::new();
    for r in &records {
        for c in &r.chain_ids {
            *layer_users.entry(c).or_default() += 1;
        }
    }
    let layers_size: u64 = {
        let mut seen = HashSet::new();
        records
            .iter()
            .flat_map(|r| r.chain_ids.iter().zip(r.manifest.layers.iter()))
            .filter(|(c, _)| seen.insert((*c).clone()))
            .map(|(_, l)| l.size)
            .sum()
    };
    let images: Vec<Value> = records
        .iter()
        .map(|r| {
            let shared: u64 = r
                .chain_ids
                .iter()
                .zip(r.manifest.layers.iter())
                .filter(|(c, _)| layer_users.get(c).copied().unwrap_or(0) > 1)
                .map(|(_, l)| l.size)
                .sum();
            let mut s = serde_json::to_value(super::images::summary(r)).unwrap_or_default();
            s["SharedSize"] = json!(shared);
            s["Containers"] = json!(users.get(r.id.as_str()).copied().unwrap_or(0));
            s
        })
        .collect();
    let containers_json: Vec<Value> = containers
        .iter()
        .map(|c| {
            json!({
                "Id": c.id,
                "Names": [format!("/{}", c.name.trim_start_matches('/'))],
                "Image": c.config.image,
                "ImageID": c.image,
                "Command": c.path.clone() + &c.args.iter().map(|a| format!(" {a}")).collect::<String>(),
                "Created": container_secs(c),
                "State": c.state.status.as_str(),
                "Status": c.state.status.as_str(),
                "SizeRw": size_rw(&state, &c.id),
                "SizeRootFs": 0,
                "Labels": c.config.labels.clone().unwrap_or_default(),
            })
        })
        .collect();
    // How many containers mount each volume, counted once.
    let mut refs: BTreeMap<String, usize> = BTreeMap::new();
    for c in state.containers.store.list() {
        let names: HashSet<&String> = c.mounts.iter().map(|m| &m.name).collect();
        for n in names.into_iter().filter(|n| !n.is_empty()) {
            *refs.entry(n.clone()).or_default() += 1;
        }
    }
    let volumes: Vec<Value> = state
        .containers
        .volumes
        .list()
        .into_iter()
        .filter(|v| sees(&vols, &v.name))
        .map(|v| {
            let mut j = super::volumes::volume_json(&state, &v);
            j["UsageData"] = json!({
                "Size": crate::fsutil::dir_size(&state.containers.volumes.data_dir(&v.name)),
                "RefCount": refs.get(&v.name).copied().unwrap_or(0),
            });
            j
        })
        .collect();
    let cache: Vec<Value> = if who.is_admin() {
        state
            .build_cache
            .entries()
            .into_iter()
            .filter_map(|(key, id)| {
                let rec = state.images.get_by_id(&id.parse().ok()?)?;
                let size = rec.manifest.layers.last().map_or(0, |l| l.size);
                Some(json!({
                    "ID": &key[..12.min(key.len())],
                    "Parent": rec.parent.map(|p| p.to_string()).unwrap_or_default(),
                    "Type": "regular",
                    "Description": rec.config.history.last().and_then(|h| h.created_by.clone()).unwrap_or_default(),
                    "InUse": false,
                    "Shared": false,
                    "Size": size,
                    "CreatedAt": rec.config.created.clone().unwrap_or_default(),
                    "UsageCount": 1,
                }))
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(Json(json!({
        "LayersSize": layers_size,
        "Images": images,
        "Containers": containers_json,
        "Volumes": volumes,
        "BuildCache": cache,
    })))
}
