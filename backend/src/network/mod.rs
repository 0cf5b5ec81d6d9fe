//! Container networking on one host: a Linux bridge owned by Berth with its
//! own subnet (`--bridge`, `--bip`), a network namespace and veth pair per
//! container, addresses handed out from the subnet, and published ports
//! (`proxy`). Berth never turns on IP forwarding and adds no NAT: containers
//! reach each other and the host, and nothing is routed off the machine.
//!
//! The bridge itself is made once with iproute2's `ip`; the per-container
//! objects are made in-process over rtnetlink (`netlink`), which keeps a
//! container start free of helper processes.

pub mod netlink;
pub mod proxy;

use serde::{Deserialize, Serialize};
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;

pub const DEFAULT_BRIDGE: &str = "berth0";
pub const DEFAULT_BIP: &str = "172.30.0.1/16";

/// A container's place on the bridge, kept in its record while it runs.
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
}

#[derive(Debug)]
pub struct Bridge {
    pub name: String,
    pub gateway: Ipv4Addr,
    pub prefix_len: u8,
    /// Serializes address allocation.
    alloc: Mutex<()>,
    /// The bridge was checked (and made) since the daemon started.
    ready: std::sync::atomic::AtomicBool,
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
        let (addr, prefix) = bip.split_once('/').ok_or_else(|| {
            format!("invalid --bip {bip:?}: want GATEWAY/PREFIX, e.g. {DEFAULT_BIP}")
        })?;
        let gateway: Ipv4Addr = addr
            .parse()
            .map_err(|_| format!("invalid --bip {bip:?}: {addr:?} is not an IPv4 address"))?;
        let prefix_len: u8 = prefix
            .parse()
            .ok()
            .filter(|p| (8..=30).contains(p))
            .ok_or_else(|| format!("invalid --bip {bip:?}: the prefix length must be 8 to 30"))?;
        Ok(Self {
            name: name.to_string(),
            gateway,
            prefix_len,
            alloc: Mutex::new(()),
            ready: std::sync::atomic::AtomicBool::new(false),
        })
    }

    fn mask(&self) -> u32 {
        u32::MAX << (32 - u32::from(self.prefix_len))
    }

    /// Creates the bridge with its gateway address, unless it exists.
    pub fn ensure(&self) -> Result<(), String> {
        let exists = std::path::Path::new("/sys/class/net")
            .join(&self.name)
            .exists();
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
        ip(&["link", "set", &self.name, "up"])
    }

    /// Gives container `id` a namespace, a veth pair on the bridge and the
    /// lowest address that `taken` does not hold.
    pub fn attach(&self, id: &str, taken: &[Ipv4Addr]) -> Result<Endpoint, String> {
        let _guard = self.alloc.lock().unwrap_or_else(|p| p.into_inner());
        use std::sync::atomic::Ordering;
        // Checked once; again when the bridge went away under us.
        if !self.ready.load(Ordering::Relaxed)
            || !std::path::Path::new("/sys/class/net")
                .join(&self.name)
                .exists()
        {
            self.ensure()?;
            self.ready.store(true, Ordering::Relaxed);
        }
        let net = u32::from(self.gateway) & self.mask();
        let size = !self.mask();
        let addr = (1..size)
            .map(|i| Ipv4Addr::from(net + i))
            .find(|a| *a != self.gateway && !taken.contains(a))
            .ok_or_else(|| format!("no free address left on bridge {}", self.name))?;
        let ns = netns_name(id);
        let host_veth = format!("veth{}", &id[..8]);
        netlink::delete_netns(&ns)?;
        // Left from this container's last run while the kernel still tears
        // its old namespace down.
        netlink::delete_link(&host_veth)?;
        let setup = || -> Result<PathBuf, String> {
            let path = netlink::create_netns(&ns)?;
            netlink::add_veth_to_bridge(&host_veth, "eth0", &path, &self.name)?;
            netlink::configure_inside(&path, "eth0", addr, self.prefix_len, self.gateway)?;
            Ok(path)
        };
        let netns = match setup() {
            Ok(p) => p,
            Err(e) => {
                let _ = netlink::delete_netns(&ns);
                let _ = netlink::delete_link(&host_veth);
                return Err(e);
            }
        };
        let mac = std::fs::read_to_string(format!("/sys/class/net/{host_veth}/address"))
            .unwrap_or_default();
        Ok(Endpoint {
            ip: addr,
            gateway: self.gateway,
            prefix_len: self.prefix_len,
            mac_address: mac.trim().to_string(),
            netns,
            host_veth,
        })
    }
}

/// Removes a container's namespace; the kernel then removes the veth pair
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
}
