//! Container networking on one host: a Linux bridge owned by Berth with its
//! own subnet (`--bridge`, `--bip`), a network namespace and veth pair per
//! container, addresses handed out from the subnet, and published ports
//! (`proxy`). Berth never turns on IP forwarding and adds no NAT: containers
//! reach each other and the host, and nothing is routed off the machine.
//!
//! The kernel objects are made with iproute2's `ip`, whose commands are
//! plain and whose errors name what failed.

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
        self.ensure()?;
        let net = u32::from(self.gateway) & self.mask();
        let size = !self.mask();
        let addr = (1..size)
            .map(|i| Ipv4Addr::from(net + i))
            .find(|a| *a != self.gateway && !taken.contains(a))
            .ok_or_else(|| format!("no free address left on bridge {}", self.name))?;
        let ns = netns_name(id);
        let host_veth = format!("veth{}", &id[..8]);
        let _ = ip(&["netns", "del", &ns]);
        ip(&["netns", "add", &ns])?;
        let setup = || -> Result<(), String> {
            ip(&[
                "link", "add", &host_veth, "type", "veth", "peer", "name", "eth0", "netns", &ns,
            ])?;
            ip(&["link", "set", &host_veth, "master", &self.name, "up"])?;
            let cidr = format!("{addr}/{}", self.prefix_len);
            ip(&["-n", &ns, "addr", "add", &cidr, "dev", "eth0"])?;
            ip(&["-n", &ns, "link", "set", "eth0", "up"])?;
            ip(&["-n", &ns, "link", "set", "lo", "up"])?;
            ip(&[
                "-n",
                &ns,
                "route",
                "add",
                "default",
                "via",
                &self.gateway.to_string(),
            ])
        };
        if let Err(e) = setup() {
            let _ = ip(&["netns", "del", &ns]);
            let _ = ip(&["link", "del", &host_veth]);
            return Err(e);
        }
        let mac = std::fs::read_to_string(format!("/sys/class/net/{host_veth}/address"))
            .unwrap_or_default();
        Ok(Endpoint {
            ip: addr,
            gateway: self.gateway,
            prefix_len: self.prefix_len,
            mac_address: mac.trim().to_string(),
            netns: PathBuf::from("/run/netns").join(&ns),
            host_veth,
        })
    }
}

/// Removes a container's namespace (and with it the veth pair).
pub fn detach(id: &str) {
    let ns = netns_name(id);
    if std::path::Path::new("/run/netns").join(&ns).exists() {
        if let Err(e) = ip(&["netns", "del", &ns]) {
            tracing::warn!(%id, error = %e, "network namespace removal");
        }
    }
    let veth = format!("veth{}", &id[..8]);
    if std::path::Path::new("/sys/class/net").join(&veth).exists() {
        let _ = ip(&["link", "del", &veth]);
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
