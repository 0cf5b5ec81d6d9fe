//! Containers on networks: which networks a new container is on and with
//! what settings (`attachments`), its interfaces when it starts
//! (`join_networks`), `network connect` and `disconnect` on created or
//! running containers, and the names the DNS servers of user-defined
//! networks answer (`resolve_name`, `serve_dns`).

use super::model::{Attachment, EndpointConfig};
use super::{Container, ContainerError, Supervisor};
use crate::network::store::{Kind, Network, NetworkError, NetworkRef, NetworkStore};
use crate::network::{dns, Endpoint};
use std::collections::{BTreeMap, HashMap};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio::task::JoinHandle;

impl From<NetworkError> for ContainerError {
    fn from(e: NetworkError) -> Self {
        match e {
            NetworkError::NotFound(m) => ContainerError::NoSuch(m),
            NetworkError::Invalid(m) => ContainerError::Invalid(m),
            NetworkError::Conflict(m) => ContainerError::Conflict(m),
            NetworkError::Io(m) => ContainerError::Io(m),
        }
    }
}

/// The DNS servers running, by network id.
#[derive(Debug, Default)]
pub struct DnsServers(Mutex<HashMap<String, JoinHandle<()>>>);

/// Docker's messages for the two networks that take no company.
fn alone_message(kind: Kind) -> &'static str {
    if kind == Kind::Host {
        "container cannot be disconnected from host network or connected to host network"
    } else {
        "container cannot be connected to multiple networks with one of the networks in private (none) mode"
    }
}

/// The settings of a container on `net`, checked as Docker checks them.
fn attachment_for(
    net: &NetworkRef,
    cfg: Option<&EndpointConfig>,
) -> Result<Attachment, ContainerError> {
    let aliases: Vec<String> = cfg
        .and_then(|c| c.aliases.clone())
        .unwrap_or_default()
        .into_iter()
        .filter(|a| !a.is_empty())
        .collect();
    if let Some(bad) = aliases
        .iter()
        .find(|a| a.len() > 253 || a.chars().any(|ch| ch.is_whitespace() || ch == '/'))
    {
        return Err(ContainerError::Invalid(format!(
            "invalid network alias {bad:?}: want a host name"
        )));
    }
    let ip = cfg
        .and_then(|c| c.ipam_config.as_ref())
        .and_then(|i| i.ipv4_address.as_deref())
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<Ipv4Addr>()
                .map_err(|_| ContainerError::Invalid(format!("invalid IPv4 address {s:?}")))
        })
        .transpose()?;
    if net.kind != Kind::User {
        if !aliases.is_empty() {
            return Err(ContainerError::Invalid(
                "network-scoped alias is supported only for containers in user defined networks"
                    .into(),
            ));
        }
        if ip.is_some() {
            return Err(ContainerError::Invalid(
                "user specified IP address is supported on user defined networks only".into(),
            ));
        }
    }
    if let (Some(ip), Some(b)) = (ip, &net.bridge) {
        if !b.contains(ip) || ip == b.gateway {
            return Err(ContainerError::Invalid(format!(
                "invalid IP address {ip}: not a free host address of network {} ({})",
                net.name,
                b.subnet_text()
            )));
        }
    }
    Ok(Attachment {
        network_id: net.id.clone(),
        aliases,
        ipv4_address: ip,
    })
}

/// The `NetworkMode` to keep (a network's name, not its id) and the
/// networks a new container is on.
pub fn attachments(
    req: &super::CreateRequest,
    networks: &NetworkStore,
) -> Result<(String, BTreeMap<String, Attachment>), ContainerError> {
    let mode = req.host_config.network_mode.as_str();
    if mode.starts_with("container:") {
        return Err(ContainerError::Invalid(format!(
            "network mode {mode:?} is not supported: Berth gives each container its own network"
        )));
    }
    let primary = networks.get(mode)?;
    let configs: Vec<(NetworkRef, Option<&EndpointConfig>)> = req
        .networking_config
        .endpoints_config
        .iter()
        .flatten()
        .map(|(key, cfg)| Ok((networks.get(key)?, cfg.as_ref())))
        .collect::<Result<_, ContainerError>>()?;
    let mut out = BTreeMap::new();
    let primary_cfg = configs
        .iter()
        .find(|(n, _)| n.id == primary.id)
        .and_then(|(_, c)| *c);
    out.insert(primary.name.clone(), attachment_for(&primary, primary_cfg)?);
    for (net, cfg) in &configs {
        if net.id == primary.id {
            continue;
        }
        if matches!(primary.kind, Kind::Host | Kind::None) {
            return Err(ContainerError::Invalid(alone_message(primary.kind).into()));
        }
        if matches!(net.kind, Kind::Host | Kind::None) {
            return Err(ContainerError::Invalid(alone_message(net.kind).into()));
        }
        out.insert(net.name.clone(), attachment_for(net, *cfg)?);
    }
    let keep = match mode {
        "" | "default" => mode.to_string(),
        _ => primary.name.clone(),
    };
    Ok((keep, out))
}

/// What a start put in place: the namespace and an endpoint per network.
pub struct Joined {
    pub netns: PathBuf,
    pub endpoints: BTreeMap<String, Endpoint>,
}

impl Joined {
    /// The nameserver for the container: the gateway of its first
    /// user-defined network, whose DNS server knows the other containers.
    pub fn nameserver(&self, networks: &NetworkStore) -> Option<Ipv4Addr> {
        nameserver_of(&self.endpoints, networks)
    }
}

fn nameserver_of(
    endpoints: &BTreeMap<String, Endpoint>,
    networks: &NetworkStore,
) -> Option<Ipv4Addr> {
    let mut eps: Vec<&Endpoint> = endpoints
        .iter()
        .filter(|(name, _)| networks.get(name).is_ok_and(|n| n.kind == Kind::User))
        .map(|(_, e)| e)
        .collect();
    eps.sort_by(|a, b| a.interface.cmp(&b.interface));
    eps.first().map(|e| e.gateway)
}

/// `/etc/resolv.conf` for a container whose DNS server is at `ns`.
pub fn resolv_conf_via(ns: Ipv4Addr) -> String {
    format!("nameserver {ns}\noptions ndots:0\n")
}

impl Supervisor {
    /// A network's bridge, for a container to join it.
    fn bridge_for(
        &self,
        name: &str,
    ) -> Result<(NetworkRef, Arc<crate::network::Bridge>), ContainerError> {
        let net = self.networks.get(name)?;
        match net.bridge.clone() {
            Some(b) => Ok((net, b)),
            None => Err(ContainerError::Invalid(alone_message(net.kind).into())),
        }
    }

    fn join_one(
        &self,
        c: &Container,
        netns: &Path,
        name: &str,
        att: &Attachment,
        ifname: &str,
        default_route: bool,
    ) -> Result<Endpoint, ContainerError> {
        let (net, bridge) = self.bridge_for(name)?;
        let veth = crate::network::host_veth_name(
            &c.id,
            (net.kind == Kind::User).then_some(net.id.as_str()),
        );
        bridge
            .join(&c.id, netns, &veth, ifname, att.ipv4_address, default_route)
            .map_err(|e| {
                if e.contains("in use") || e.contains("subnet") {
                    ContainerError::Invalid(e)
                } else {
                    ContainerError::Io(e)
                }
            })
    }

    /// At start: a fresh namespace with one interface per network, the
    /// primary network's first (`eth0`, the default route).
    pub(super) fn join_networks(&self, c: &Container) -> Result<Joined, ContainerError> {
        let netns = crate::network::create_sandbox(&c.id).map_err(ContainerError::Io)?;
        let mut endpoints = BTreeMap::new();
        for (i, (name, att)) in c.networks_in_order().into_iter().enumerate() {
            match self.join_one(c, &netns, name, att, &format!("eth{i}"), i == 0) {
                Ok(ep) => {
                    endpoints.insert(name.clone(), ep);
                }
                Err(e) => {
                    self.leave_networks(&c.id);
                    return Err(e);
                }
            }
        }
        Ok(Joined { netns, endpoints })
    }

    /// When a container stops: its namespace goes and its addresses are free.
    pub(super) fn leave_networks(&self, id: &str) {
        crate::network::detach(id);
        self.networks.default_bridge().release(id);
        for (_, b) in self.networks.user_networks() {
            b.release(id);
        }
    }

    /// `POST /networks/{id}/connect`: on a created container the setting is
    /// kept for its next start; a running one gets the interface at once.
    pub fn connect(
        &self,
        network: &str,
        container: &str,
        cfg: Option<&EndpointConfig>,
    ) -> Result<(), ContainerError> {
        let net = self.networks.get(network)?;
        let c = self.store.get(container)?;
        if matches!(net.kind, Kind::Host | Kind::None) {
            return Err(ContainerError::Invalid(alone_message(net.kind).into()));
        }
        if let Ok(p) = self.networks.get(c.primary_network()) {
            if matches!(p.kind, Kind::Host | Kind::None) {
                return Err(ContainerError::Invalid(alone_message(p.kind).into()));
            }
        }
        if c.networks.contains_key(&net.name) {
            return Err(ContainerError::Conflict(format!(
                "endpoint with name {} already exists in network {}",
                c.name, net.name
            )));
        }
        let att = attachment_for(&net, cfg)?;
        let live = match (c.is_running(), c.primary_endpoint()) {
            (true, Some(primary)) => {
                let used: Vec<&str> = c
                    .network
                    .endpoints
                    .values()
                    .map(|e| e.interface.as_str())
                    .collect();
                let ifname = (0..)
                    .map(|i| format!("eth{i}"))
                    .find(|n| !used.contains(&n.as_str()))
                    .expect("a free interface name");
                let netns = primary.netns.clone();
                Some(self.join_one(&c, &netns, &net.name, &att, &ifname, false)?)
            }
            _ => None,
        };
        let updated = self.store.update(&c.id, |c| {
            c.networks.insert(net.name.clone(), att.clone());
            if let Some(ep) = &live {
                c.network.endpoints.insert(net.name.clone(), ep.clone());
            }
            Ok(())
        })?;
        if live.is_some() {
            self.refresh_resolv_conf(&updated);
        }
        Ok(())
    }

    /// `POST /networks/{id}/disconnect`.
    pub fn disconnect(&self, network: &str, container: &str) -> Result<(), ContainerError> {
        let net = self.networks.get(network)?;
        let c = self.store.get(container)?;
        if !c.networks.contains_key(&net.name) {
            return Err(ContainerError::Invalid(format!(
                "container {} is not connected to network {}",
                c.name, net.name
            )));
        }
        if matches!(net.kind, Kind::Host | Kind::None) {
            return Err(ContainerError::Invalid(alone_message(net.kind).into()));
        }
        if let Some(ep) = c.network.endpoints.get(&net.name) {
            crate::network::netlink::delete_link(&ep.host_veth).map_err(ContainerError::Io)?;
            if let Some(b) = &net.bridge {
                b.release(&c.id);
            }
        }
        let updated = self.store.update(&c.id, |c| {
            c.networks.remove(&net.name);
            c.network.endpoints.remove(&net.name);
            Ok(())
        })?;
        if updated.is_running() {
            self.refresh_resolv_conf(&updated);
        }
        Ok(())
    }

    /// Rewrites a running container's resolv.conf (in place: it is bind
    /// mounted) after its networks changed.
    fn refresh_resolv_conf(&self, c: &Container) {
        let path = self.store.dir(&c.id).join("resolv.conf");
        if !path.exists() {
            return;
        }
        let text = match nameserver_of(&c.network.endpoints, &self.networks) {
            Some(ns) => resolv_conf_via(ns),
            None => super::supervisor::host_resolv_conf(),
        };
        if let Err(e) = std::fs::write(&path, text) {
            tracing::warn!(id = %c.id, error = %e, "rewrite resolv.conf");
        }
    }

    /// The addresses of `name` as the container at `asker` may see them:
    /// containers sharing a user-defined network with it, by name, short id
    /// or network alias. `None` when no such container exists. Addresses
    /// come from the networks' leases, which exist before a container's
    /// process runs (its record says "running" a moment later).
    pub fn resolve_name(&self, asker: Ipv4Addr, name: &str) -> Option<Vec<Ipv4Addr>> {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        let mut nets: Vec<(String, HashMap<String, Ipv4Addr>)> = self
            .networks
            .user_networks()
            .into_iter()
            .map(|(n, b)| (n.name, b.leases()))
            .collect();
        nets.sort_by(|a, b| a.0.cmp(&b.0));
        let me = nets.iter().find_map(|(_, l)| {
            l.iter()
                .find(|(_, ip)| **ip == asker)
                .map(|(id, _)| id.clone())
        })?;
        let containers = self.store.list();
        for (net, leases) in nets.iter().filter(|(_, l)| l.contains_key(&me)) {
            let ips: Vec<Ipv4Addr> = containers
                .iter()
                .filter_map(|c| {
                    let ip = leases.get(&c.id)?;
                    let aliases = c
                        .networks
                        .get(net)
                        .map(|a| a.aliases.as_slice())
                        .unwrap_or_default();
                    let known = c.name.eq_ignore_ascii_case(&name)
                        || c.short_id() == name
                        || aliases.iter().any(|a| a.eq_ignore_ascii_case(&name));
                    known.then_some(*ip)
                })
                .collect();
            if !ips.is_empty() {
                return Some(ips);
            }
        }
        None
    }

    /// At daemon start, for a container still running: its addresses are
    /// held again.
    pub(super) fn readopt_addresses(&self, c: &Container) {
        for (name, ep) in &c.network.endpoints {
            if let Ok(NetworkRef {
                bridge: Some(b), ..
            }) = self.networks.get(name)
            {
                b.readopt(&c.id, ep.ip);
            }
        }
    }

    /// Starts the DNS server of a user-defined network on its gateway.
    pub fn serve_dns(self: &Arc<Self>, net: &Network) {
        let sock = match std::net::UdpSocket::bind((net.gateway, 53))
            .and_then(|s| s.set_nonblocking(true).map(|_| s))
            .and_then(tokio::net::UdpSocket::from_std)
        {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(network = %net.name, error = %e, "no DNS server: containers on this network cannot resolve each other's names");
                return;
            }
        };
        let weak = Arc::downgrade(self);
        let resolver: dns::Resolver =
            Arc::new(move |asker, name| weak.upgrade().and_then(|s| s.resolve_name(asker, name)));
        let task = tokio::spawn(dns::serve(sock, resolver, dns::host_nameservers()));
        if let Some(old) = self
            .dns
            .0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(net.id.clone(), task)
        {
            old.abort();
        }
    }

    /// Stops the DNS server of network `id`.
    pub fn stop_dns(&self, id: &str) {
        if let Some(t) = self
            .dns
            .0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id)
        {
            t.abort();
        }
    }

    /// At daemon start: every user-defined network's bridge and DNS server.
    pub fn restore_networks(self: &Arc<Self>) {
        for (n, bridge) in self.networks.user_networks() {
            if let Err(e) = bridge.ensure() {
                tracing::warn!(network = %n.name, error = %e, "network bridge");
                continue;
            }
            self.serve_dns(&n);
        }
    }

    /// Names of the running containers with an endpoint on `network`.
    pub fn containers_on(&self, network: &str) -> Vec<Container> {
        self.store
            .list()
            .into_iter()
            .filter(|c| c.is_running() && c.network.endpoints.contains_key(network))
            .collect()
    }
}
