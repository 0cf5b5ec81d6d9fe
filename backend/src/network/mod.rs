//! Container networking on one host: a Linux bridge owned by Berth with its
//! own subnet (`--bridge`, `--bip`), a network namespace and veth pair per
//! container, addresses handed out from the subnet, and published ports
//! (`proxy`). Berth never turns on IP forwarding and adds no NAT: containers
//! reach each other and the host, and nothing is routed off the machine.
//!
//! The bridge itself is made once with iproute2's `ip`; the per-container
//! objects are made in-process over rtnetlink (`netlink`), which keeps a
//! container start free of helper processes.

pub mod dns;
pub mod netlink;
pub mod proxy;
pub mod store;

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

pub const DEFAULT_BRIDGE: &str = "berth0";
pub const DEFAULT_BIP: &str = "172.30.0.1/16";

/// A container's place on one network, kept in its record while it runs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct Endpoint {
    #[serde(rename = "IPAddress")]
    pub ip: Ipv4Addr,
    pub gateway: Ipv4Addr,
    #[serde(rename = "IPPrefixLen")]
    pub prefix_len: u8,
    pub mac_address: String,
    /// The bind-mounted network namespace (`/run/netns/berth-…`).
    pub netns: PathBuf,
    /// The host side of the veth pair.
    pub host_veth: String,
    /// The interface inside the container (`eth0`, `eth1`, …).
    #[serde(default)]
    pub interface: String,
}

/// A Linux bridge with its subnet: the default `bridge` network or a
/// user-defined one. Hands out addresses and joins namespaces to it.
#[derive(Debug)]
pub struct Bridge {
    pub name: String,
    pub gateway: Ipv4Addr,
    pub prefix_len: u8,
    /// Addresses handed out, by container id: held from the moment they are
    /// chosen, so two starts at once never pick the same one.
    leases: Mutex<HashMap<String, Ipv4Addr>>,
    /// The bridge was checked (and made) since the daemon started.
    ready: AtomicBool,
    /// Held while the bridge is made: starts at once must not race to it.
    making: Mutex<()>,
}

fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("run ip (iproute2): {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// The netns name of a container.
pub fn netns_name(id: &str) -> String {
    format!("berth-{}", &id[..12])
}

/// Parses `ADDRESS/PREFIX` (an IPv4 CIDR with a prefix of 8 to 30).
pub fn parse_cidr(s: &str) -> Result<(Ipv4Addr, u8), String> {
    let (addr, prefix) = s
        .split_once('/')
        .ok_or_else(|| format!("{s:?} is not ADDRESS/PREFIX, e.g. 10.89.0.0/24"))?;
    let addr: Ipv4Addr = addr
        .parse()
        .map_err(|_| format!("{addr:?} in {s:?} is not an IPv4 address"))?;
    let prefix: u8 = prefix
        .parse()
        .ok()
        .filter(|p| (8..=30).contains(p))
        .ok_or_else(|| format!("the prefix length in {s:?} must be 8 to 30"))?;
    Ok((addr, prefix))
}

fn mask(prefix_len: u8) -> u32 {
    u32::MAX << (32 - u32::from(prefix_len))
}

/// Whether two subnets share any address.
pub fn overlaps(a: (Ipv4Addr, u8), b: (Ipv4Addr, u8)) -> bool {
    let m = mask(a.1.min(b.1));
    u32::from(a.0) & m == u32::from(b.0) & m
}

impl Bridge {
    /// Parses `--bridge` and `--bip` (`GATEWAY/PREFIX`).
    pub fn new(name: &str, bip: &str) -> Result<Self, String> {
        if name.is_empty()
            || name.len() > 15
            || !name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err(format!(
                "invalid --bridge {name:?}: up to 15 letters, digits, - or _"
            ));
        }
        let (gateway, prefix_len) = parse_cidr(bip)
            .map_err(|e| format!("invalid --bip {bip:?}: {e}; e.g. {DEFAULT_BIP}"))?;
        Ok(Self::with_address(name, gateway, prefix_len))
    }

    pub fn with_address(name: &str, gateway: Ipv4Addr, prefix_len: u8) -> Self {
        Self {
            name: name.to_string(),
            gateway,
            prefix_len,
            leases: Mutex::new(HashMap::new()),
            ready: AtomicBool::new(false),
            making: Mutex::new(()),
        }
    }

    /// The subnet: its first address and prefix length.
    pub fn subnet(&self) -> (Ipv4Addr, u8) {
        (
            Ipv4Addr::from(u32::from(self.gateway) & mask(self.prefix_len)),
            self.prefix_len,
        )
    }

    pub fn subnet_text(&self) -> String {
        let (net, len) = self.subnet();
        format!("{net}/{len}")
    }

    pub fn contains(&self, a: Ipv4Addr) -> bool {
        u32::from(a) & mask(self.prefix_len) == u32::from(self.subnet().0)
    }

    /// Creates the bridge with its gateway address, unless it exists.
    pub fn ensure(&self) -> Result<(), String> {
        let _one_at_a_time = self.making.lock().unwrap_or_else(|p| p.into_inner());
        let exists = Path::new("/sys/class/net").join(&self.name).exists();
        if !exists {
            ip(&["link", "add", &self.name, "type", "bridge"])?;
        }
        let cidr = format!("{}/{}", self.gateway, self.prefix_len);
        let out = Command::new("ip")
            .args(["-4", "-o", "addr", "show", "dev", &self.name])
            .output()
            .map_err(|e| format!("run ip: {e}"))?;
        if !String::from_utf8_lossy(&out.stdout).contains(&format!("inet {cidr}")) {
            ip(&["addr", "add", &cidr, "dev", &self.name])?;
        }
        ip(&["link", "set", &self.name, "up"])?;
        self.ready.store(true, Ordering::Relaxed);
        Ok(())
    }

    /// Removes the Linux bridge (its veths go with it). Absent is fine.
    pub fn remove(&self) -> Result<(), String> {
        self.ready.store(false, Ordering::Relaxed);
        netlink::delete_link(&self.name)
    }

    /// Picks `want`, or the lowest address no lease holds, and leases it to
    /// container `id`. Running containers hold theirs from their start, or
    /// again from the daemon's start (`readopt`).
    fn lease(&self, id: &str, want: Option<Ipv4Addr>) -> Result<Ipv4Addr, String> {
        let mut leases = self.leases.lock().unwrap_or_else(|p| p.into_inner());
        leases.remove(id);
        let free = |a: &Ipv4Addr| *a != self.gateway && !leases.values().any(|l| l == a);
        let (net, _) = self.subnet();
        let size = !mask(self.prefix_len);
        let addr = match want {
            Some(a) => {
                let host = u32::from(a).wrapping_sub(u32::from(net));
                if host == 0 || host >= size || !self.contains(a) {
                    return Err(format!(
                        "no configured subnet contains IP address {a}: the network's subnet is {}",
                        self.subnet_text()
                    ));
                }
                if !free(&a) {
                    return Err(format!("Address already in use: {a}"));
                }
                a
            }
            None => (1..size)
                .map(|i| Ipv4Addr::from(u32::from(net) + i))
                .find(free)
                .ok_or_else(|| format!("no free address left on network {}", self.subnet_text()))?,
        };
        leases.insert(id.to_string(), addr);
        Ok(addr)
    }

    /// Holds `ip` for container `id` again (a running container found at
    /// daemon start).
    pub fn readopt(&self, id: &str, ip: Ipv4Addr) {
        self.leases
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id.to_string(), ip);
    }

    /// The addresses handed out, by container id.
    pub fn leases(&self) -> HashMap<String, Ipv4Addr> {
        self.leases
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Gives up container `id`'s address.
    pub fn release(&self, id: &str) {
        self.leases
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
    }

    /// Puts interface `ifname` of the namespace at `netns` on this bridge
    /// (host side `host_veth`) with `want` or the lowest free address; the
    /// default route goes through this bridge when `default_route`.
    pub fn join(
        &self,
        id: &str,
        netns: &Path,
        host_veth: &str,
        ifname: &str,
        want: Option<Ipv4Addr>,
        default_route: bool,
    ) -> Result<Endpoint, String> {
        // Checked once; again when the bridge went away under us.
        if !self.ready.load(Ordering::Relaxed)
            || !Path::new("/sys/class/net").join(&self.name).exists()
        {
            self.ensure()?;
        }
        let addr = self.lease(id, want)?;
        // Left from this container's last run while the kernel still tears
        // its old namespace down.
        let setup = || -> Result<(), String> {
            netlink::delete_link(host_veth)?;
            netlink::add_veth_to_bridge(host_veth, ifname, netns, &self.name)?;
            let gateway = default_route.then_some(self.gateway);
            netlink::configure_inside(netns, ifname, addr, self.prefix_len, gateway)
        };
        if let Err(e) = setup() {
            let _ = netlink::delete_link(host_veth);
            self.release(id);
            return Err(e);
        }
        let mac = std::fs::read_to_string(format!("/sys/class/net/{host_veth}/address"))
            .unwrap_or_default();
        Ok(Endpoint {
            ip: addr,
            gateway: self.gateway,
            prefix_len: self.prefix_len,
            mac_address: mac.trim().to_string(),
            netns: netns.to_path_buf(),
            host_veth: host_veth.to_string(),
            interface: ifname.to_string(),
        })
    }
}

/// The host side of container `id`'s veth on the network `network_id`
/// (`None`: the default bridge). Linux allows 15 characters.
pub fn host_veth_name(id: &str, network_id: Option<&str>) -> String {
    match network_id {
        None => format!("veth{}", &id[..8]),
        Some(n) => format!("vb{}{}", &id[..6], &n[..7]),
    }
}

/// A fresh network namespace for container `id` (one left from an earlier
/// run is replaced).
pub fn create_sandbox(id: &str) -> Result<PathBuf, String> {
    let ns = netns_name(id);
    netlink::delete_netns(&ns)?;
    netlink::create_netns(&ns)
}

/// Removes a container's namespace; the kernel then removes the veth pairs
/// in the background.
pub fn detach(id: &str) {
    if let Err(e) = netlink::delete_netns(&netns_name(id)) {
        tracing::warn!(%id, error = %e, "network namespace removal");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bridge_settings() {
        let b = Bridge::new("berth0", "172.30.0.1/16").unwrap();
        assert_eq!(b.prefix_len, 16);
        assert!(Bridge::new("berth0", "172.30.0.1")
            .unwrap_err()
            .contains("--bip"));
        assert!(Bridge::new("a-name-that-is-too-long", DEFAULT_BIP)
            .unwrap_err()
            .contains("--bridge"));
        assert!(Bridge::new("b", "10.0.0.1/31").is_err());
    }

    #[test]
    fn leases_never_repeat_and_requests_are_checked() {
        let b = Bridge::with_address("t", "10.9.0.1".parse().unwrap(), 24);
        let a = b.lease("a", None).unwrap();
        let c = b.lease("c", None).unwrap();
        assert_eq!(
            (a.to_string(), c.to_string()),
            ("10.9.0.2".into(), "10.9.0.3".into())
        );
        b.release("a");
        assert_eq!(b.lease("d", None).unwrap().to_string(), "10.9.0.2");
        let want = "10.9.0.50".parse().unwrap();
        assert_eq!(b.lease("e", Some(want)).unwrap(), want);
        assert!(b.lease("f", Some(want)).unwrap_err().contains("in use"));
        assert!(b
            .lease("f", Some("10.8.0.5".parse().unwrap()))
            .unwrap_err()
            .contains("10.9.0.0/24"));
        assert!(overlaps(
            parse_cidr("10.9.0.0/16").unwrap(),
            parse_cidr("10.9.3.0/24").unwrap()
        ));
        assert!(!overlaps(
            parse_cidr("10.9.0.0/24").unwrap(),
            parse_cidr("10.9.1.0/24").unwrap()
        ));
    }
}
