//! Network endpoints: list, inspect, create and remove networks, connect
//! and disconnect containers (`/networks/…`), in Docker's JSON. The engine
//! side is `network::store` (records, bridges, subnets) and
//! `container::networking` (interfaces, DNS).

use super::error::{ApiError, ApiResult};
use super::params::{Filters, Params};
use super::State;
use crate::auth::Principal;
use crate::container::model::EndpointConfig;
use crate::container::Container;
use crate::db::events::NewEvent;
use crate::network::store::{Kind, NetworkRef, NewNetwork};
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Docker's id of a container's endpoint on a network.
pub(super) fn endpoint_id(container: &str, network: &str) -> String {
    crate::image::Digest::of(format!("{container} on {network}").as_bytes())
        .hex()
        .to_string()
}

/// The running containers on `n`, as inspect shows them.
fn attached(n: &NetworkRef, containers: &[Container]) -> serde_json::Map<String, Value> {
    let on = |c: &Container| match n.kind {
        Kind::Host | Kind::None => c.primary_network() == n.name,
        _ => c.network.endpoints.contains_key(&n.name),
    };
    containers
        .iter()
        .filter(|c| c.is_running() && on(c))
        .map(|c| {
            let ep = c.network.endpoints.get(&n.name);
            (
                c.id.clone(),
                json!({
                    "Name": c.name,
                    "EndpointID": endpoint_id(&c.id, &n.id),
                    "MacAddress": ep.map(|e| e.mac_address.clone()).unwrap_or_default(),
                    "IPv4Address": ep.map(|e| format!("{}/{}", e.ip, e.prefix_len)).unwrap_or_default(),
                    "IPv6Address": "",
                }),
            )
        })
        .collect()
}

/// A network as Docker's API shows it; `containers` only for inspect.
pub(super) fn network_json(n: &NetworkRef, containers: Option<&[Container]>) -> Value {
    let config: Vec<Value> = n
        .bridge
        .iter()
        .map(|b| json!({"Subnet": b.subnet_text(), "Gateway": b.gateway.to_string()}))
        .collect();
    let record = n.record.as_ref();
    let mut options: BTreeMap<String, String> =
        record.map(|r| r.options.clone()).unwrap_or_default();
    if let Some(b) = &n.bridge {
        options.insert("com.docker.network.bridge.name".into(), b.name.clone());
    }
    json!({
        "Name": n.name,
        "Id": n.id,
        "Created": record.map(|r| r.created.clone()).unwrap_or_else(|| crate::container::model::ZERO_TIME.into()),
        "Scope": "local",
        "Driver": match n.kind { Kind::Host => "host", Kind::None => "null", _ => "bridge" },
        "EnableIPv4": true,
        "EnableIPv6": false,
        "IPAM": {"Driver": "default", "Options": {}, "Config": config},
        "Internal": record.is_some_and(|r| r.internal),
        "Attachable": record.is_some_and(|r| r.attachable),
        "Ingress": false,
        "ConfigFrom": {"Network": ""},
        "ConfigOnly": false,
        "Containers": containers.map(|c| Value::Object(attached(n, c))).unwrap_or_else(|| json!({})),
        "Options": options,
        "Labels": record.map(|r| r.labels.clone()).unwrap_or_default(),
    })
}

/// Whether any container, running or not, is set up to use `n`.
pub(super) fn referenced(n: &NetworkRef, containers: &[Container]) -> bool {
    containers.iter().any(|c| c.networks.contains_key(&n.name))
}

fn filter_matches(f: &Filters, n: &NetworkRef, containers: &[Container]) -> ApiResult<bool> {
    let labels = n
        .record
        .as_ref()
        .map(|r| r.labels.clone())
        .unwrap_or_default();
    let any = |key: &str, test: &dyn Fn(&str) -> bool| {
        let vals = f.get(key);
        vals.is_empty() || vals.iter().any(|v| test(v))
    };
    for t in f.get("type") {
        if t != "custom" && t != "builtin" {
            return Err(ApiError::bad_request(format!(
                "invalid filter: 'type'='{t}': want custom or builtin"
            )));
        }
    }
    for d in f.get("dangling") {
        if !matches!(d.as_str(), "true" | "false" | "1" | "0") {
            return Err(ApiError::bad_request(format!(
                "invalid filter 'dangling={d}': want true or false"
            )));
        }
    }
    let builtin = n.kind != Kind::User;
    Ok(any("name", &|v| n.name.contains(v))
        && any("id", &|v| n.id.starts_with(v))
        && any("driver", &|v| {
            v == match n.kind {
                Kind::Host => "host",
                Kind::None => "null",
                _ => "bridge",
            }
        })
        && any("scope", &|v| v == "local")
        && any("type", &|v| (v == "builtin") == builtin)
        && any("dangling", &|v| {
            let dangling = !builtin && !referenced(n, containers);
            (v == "true" || v == "1") == dangling
        })
        && f.get("label").iter().all(|l| match l.split_once('=') {
            Some((k, v)) => labels.get(k).is_some_and(|x| x == v),
            None => labels.contains_key(l.as_str()),
        }))
}

/// The networks the caller may see: built-in ones and its teams'.
async fn visible_networks(state: &super::AppState, who: &Principal) -> ApiResult<Vec<NetworkRef>> {
    let visible = super::ownership::visible(state, who, "network").await?;
    Ok(state
        .containers
        .networks
        .list()
        .into_iter()
        .filter(|n| n.kind != Kind::User || super::ownership::sees(&visible, &n.id))
        .collect())
}

/// `GET /networks`
pub async fn list(state: State, who: Principal, p: Params) -> ApiResult<Json<Value>> {
    let f = p.filters()?;
    f.allow_only(&["name", "id", "driver", "label", "scope", "type", "dangling"])?;
    let containers = state.containers.store.list();
    let mut out = Vec::new();
    for n in visible_networks(&state, &who).await? {
        if filter_matches(&f, &n, &containers)? {
            out.push(network_json(&n, None));
        }
    }
    Ok(Json(Value::Array(out)))
}

/// `GET /networks/{id}`
pub async fn inspect(state: State, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let n = state.containers.networks.get(&id)?;
    let containers = state.containers.store.list();
    Ok(Json(network_json(&n, Some(&containers))))
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct CreateBody {
    name: String,
    driver: String,
    internal: bool,
    attachable: bool,
    ingress: bool,
    #[serde(rename = "EnableIPv6")]
    enable_ipv6: Option<bool>,
    #[serde(rename = "IPAM")]
    ipam: Option<IpamBody>,
    options: Option<BTreeMap<String, String>>,
    labels: Option<BTreeMap<String, String>>,
    config_only: bool,
    config_from: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct IpamBody {
    driver: String,
    config: Option<Vec<IpamConfig>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct IpamConfig {
    subnet: String,
    #[serde(rename = "IPRange")]
    ip_range: String,
    gateway: String,
    auxiliary_addresses: Option<BTreeMap<String, String>>,
}

/// The request as the store takes it; what Berth cannot do is refused by name.
fn new_network(b: CreateBody) -> ApiResult<NewNetwork> {
    if b.name.is_empty() {
        return Err(ApiError::bad_request("network name is required (Name)"));
    }
    if b.ingress || b.config_only || b.config_from.as_ref().is_some_and(|v| !v.is_null()) {
        return Err(ApiError::bad_request(
            "Ingress, ConfigOnly and ConfigFrom are swarm features Berth does not have",
        ));
    }
    let ipam = b.ipam.unwrap_or_default();
    if !matches!(ipam.driver.as_str(), "" | "default") {
        return Err(ApiError::bad_request(format!(
            "IPAM driver {:?} is not available: Berth has \"default\"",
            ipam.driver
        )));
    }
    let configs = ipam.config.unwrap_or_default();
    if configs.len() > 1 {
        return Err(ApiError::bad_request(
            "a Berth network has one IPv4 subnet: give one IPAM config",
        ));
    }
    let config = configs.into_iter().next().unwrap_or_default();
    if !config.ip_range.is_empty() || config.auxiliary_addresses.is_some_and(|a| !a.is_empty()) {
        return Err(ApiError::bad_request(
            "--ip-range and --aux-address are not supported: give --subnet and --gateway",
        ));
    }
    if config.subnet.is_empty() && !config.gateway.is_empty() {
        return Err(ApiError::bad_request(
            "--gateway needs --subnet: the gateway must be an address of a subnet you name",
        ));
    }
    Ok(NewNetwork {
        name: b.name,
        driver: b.driver,
        subnet: (!config.subnet.is_empty()).then_some(config.subnet),
        gateway: (!config.gateway.is_empty()).then_some(config.gateway),
        internal: b.internal,
        attachable: b.attachable,
        enable_ipv6: b.enable_ipv6.unwrap_or(false),
        labels: b.labels.unwrap_or_default(),
        options: b.options.unwrap_or_default(),
    })
}

async fn record_event(
    state: &super::AppState,
    action: &str,
    n: &NetworkRef,
    container: Option<&str>,
    who: &Principal,
) {
    let mut attributes = BTreeMap::from([
        ("name".to_string(), n.name.clone()),
        ("type".to_string(), "bridge".to_string()),
    ]);
    if let Some(c) = container {
        attributes.insert("container".into(), c.to_string());
    }
    super::images::record(
        state,
        NewEvent {
            kind: "network",
            action: action.into(),
            object_id: n.id.clone(),
            attributes,
            actor: who.user.clone(),
        },
    )
    .await;
}

/// A `POST /networks/create` body as the store takes it.
pub fn parse_create(body: &[u8]) -> ApiResult<NewNetwork> {
    let b: CreateBody = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("invalid network config: {e}")))?;
    new_network(b)
}

/// `POST /networks/create`
pub async fn create(state: State, who: Principal, body: axum::body::Bytes) -> ApiResult<Response> {
    let req = parse_create(&body)?;
    let store = state.containers.networks.clone();
    let n = tokio::task::spawn_blocking(move || store.create(req))
        .await
        .map_err(|e| ApiError::internal(format!("task failed: {e}")))?
        .map_err(crate::container::ContainerError::from)?;
    state.containers.serve_dns(&n);
    super::ownership::claim(&state, who.team.as_ref().map(|t| t.0), "network", &n.id).await;
    let r = state.containers.networks.get(&n.id)?;
    record_event(&state, "create", &r, None, &who).await;
    Ok((
        StatusCode::CREATED,
        Json(json!({"Id": n.id, "Warning": ""})),
    )
        .into_response())
}

/// `DELETE /networks/{id}`: refused for built-in networks and while a
/// container runs on it.
pub async fn remove(state: State, who: Principal, Path(id): Path<String>) -> ApiResult<Response> {
    let n = state.containers.networks.get(&id)?;
    remove_network(&state, &who, &n).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(super) async fn remove_network(
    state: &super::AppState,
    who: &Principal,
    n: &NetworkRef,
) -> ApiResult<()> {
    if n.kind != Kind::User {
        return Err(ApiError::forbidden(format!(
            "{} is a pre-defined network and cannot be removed",
            n.name
        )));
    }
    let running = state.containers.containers_on(&n.name);
    if !running.is_empty() {
        let names: Vec<String> = running.iter().map(|c| c.name.clone()).collect();
        return Err(ApiError::forbidden(format!(
            "error while removing network: network {} id {} has active endpoints ({})",
            n.name,
            n.id,
            names.join(", ")
        )));
    }
    state.containers.stop_dns(&n.id);
    let (store, id) = (state.containers.networks.clone(), n.id.clone());
    tokio::task::spawn_blocking(move || store.remove(&id))
        .await
        .map_err(|e| ApiError::internal(format!("task failed: {e}")))?
        .map_err(crate::container::ContainerError::from)?;
    let _ = state.db.release("network", &n.id, None).await;
    record_event(state, "destroy", n, None, who).await;
    Ok(())
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
struct ConnectBody {
    container: String,
    endpoint_config: Option<EndpointConfig>,
}

/// The container a connect or disconnect names, if the caller may change it.
async fn container_for(
    state: &super::AppState,
    who: &Principal,
    name: &str,
) -> ApiResult<Container> {
    if name.is_empty() {
        return Err(ApiError::bad_request("Container is required"));
    }
    let c = state.containers.store.get(name)?;
    let visible = super::ownership::visible(state, who, "container").await?;
    if let Some(v) = &visible {
        if !v.sees(&c.id) {
            return Err(ApiError::not_found(format!("No such container: {name}")));
        }
        if !v.owns(&c.id) {
            return Err(ApiError::forbidden(format!(
                "forbidden: container {name} is not your team's"
            )));
        }
    }
    Ok(c)
}

/// `POST /networks/{id}/connect`
pub async fn connect(
    state: State,
    who: Principal,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    change_membership(state, who, id, body, true).await
}

/// `POST /networks/{id}/disconnect`
pub async fn disconnect(
    state: State,
    who: Principal,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<Response> {
    change_membership(state, who, id, body, false).await
}

/// Connects (`join`) or disconnects a container and records the event.
async fn change_membership(
    state: State,
    who: Principal,
    id: String,
    body: axum::body::Bytes,
    join: bool,
) -> ApiResult<Response> {
    let verb = if join { "connect" } else { "disconnect" };
    let b: ConnectBody = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("invalid {verb} request: {e}")))?;
    let n = state.containers.networks.get(&id)?;
    let c = container_for(&state, &who, &b.container).await?;
    let sup = state.containers.clone();
    let (nid, cid) = (n.id.clone(), c.id.clone());
    tokio::task::spawn_blocking(move || {
        if join {
            sup.connect(&nid, &cid, b.endpoint_config.as_ref())
        } else {
            sup.disconnect(&nid, &cid)
        }
    })
    .await
    .map_err(|e| ApiError::internal(format!("task failed: {e}")))??;
    record_event(&state, verb, &n, Some(&c.id), &who).await;
    Ok(StatusCode::OK.into_response())
}
