//! The networks the daemon knows: the three built-in ones Docker has
//! (`bridge` — Berth's default bridge —, `host`, `none`) and user-defined
//! bridge networks, each a record `networks/ID.json` under the data root and
//! a Linux bridge `br-<id12>` with its own subnet. Subnets are taken from
//! `10.89.0.0/16` in /24 blocks unless the user names one; none may overlap
//! another network or a route of the host.

use super::{overlaps, parse_cidr, Bridge};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Where subnets of new networks come from, a /24 each.
pub const POOL: &str = "10.89.0.0/16";

/// The subnets new networks are cut from: `base` in blocks of `/size`.
#[derive(Debug, Clone, Copy)]
pub struct Pool {
    base: (Ipv4Addr, u8),
    size: u8,
}

impl Pool {
    /// `base=10.89.0.0/16,size=24` (dockerd's form) or `10.89.0.0/16`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let bad = |why: &str| format!("invalid --default-address-pool {s:?}: {why}");
        let (mut base, mut size) = (None, None);
        if s.contains('=') {
            for part in s.split(',') {
                match part.split_once('=') {
                    Some(("base", v)) => base = Some(v),
                    Some(("size", v)) => {
                        size = Some(
                            v.parse::<u8>()
                                .map_err(|_| bad("size is a prefix length"))?,
                        )
                    }
                    _ => return Err(bad("want base=CIDR,size=PREFIX")),
                }
            }
        } else {
            base = Some(s);
        }
        let (addr, len) =
            parse_cidr(base.ok_or_else(|| bad("base is missing"))?).map_err(|e| bad(&e))?;
        let size = size.unwrap_or(24);
        if size < len || size > 30 {
            return Err(bad("size must be between the base's prefix length and 30"));
        }
        Ok(Self {
            base: (
                Ipv4Addr::from(u32::from(addr) & (u32::MAX << (32 - u32::from(len)))),
                len,
            ),
            size,
        })
    }

    /// The pool's subnets in order.
    fn subnets(&self) -> impl Iterator<Item = (Ipv4Addr, u8)> + '_ {
        let count = 1u32 << (self.size - self.base.1);
        (0..count).map(move |i| {
            (
                Ipv4Addr::from(u32::from(self.base.0) + (i << (32 - u32::from(self.size)))),
                self.size,
            )
        })
    }
}

/// A user-defined network as it is kept.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Network {
    pub id: String,
    pub name: String,
    pub created: String,
    /// `ADDRESS/PREFIX` of the subnet.
    pub subnet: String,
    pub gateway: Ipv4Addr,
    #[serde(default)]
    pub internal: bool,
    #[serde(default)]
    pub attachable: bool,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub options: BTreeMap<String, String>,
}

/// What kind of network a name stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The default bridge (`bridge`): addresses, no name resolution.
    Default,
    Host,
    None,
    /// A user-defined bridge: addresses and name resolution.
    User,
}

/// A network found by name or id.
#[derive(Debug, Clone)]
pub struct NetworkRef {
    pub id: String,
    pub name: String,
    pub kind: Kind,
    /// The record of a user-defined network.
    pub record: Option<Network>,
    /// The bridge of `Default` and `User` networks.
    pub bridge: Option<Arc<Bridge>>,
}

/// What `network create` asks for.
#[derive(Debug, Clone, Default)]
pub struct NewNetwork {
    pub name: String,
    pub driver: String,
    pub subnet: Option<String>,
    pub gateway: Option<String>,
    pub internal: bool,
    pub attachable: bool,
    pub enable_ipv6: bool,
    pub labels: BTreeMap<String, String>,
    pub options: BTreeMap<String, String>,
}

#[derive(Debug)]
pub enum NetworkError {
    NotFound(String),
    Invalid(String),
    Conflict(String),
    Io(String),
}

impl std::fmt::Display for NetworkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NetworkError::NotFound(m)
            | NetworkError::Invalid(m)
            | NetworkError::Conflict(m)
            | NetworkError::Io(m) => f.write_str(m),
        }
    }
}

#[derive(Debug)]
pub struct NetworkStore {
    dir: PathBuf,
    pool: Pool,
    default_bridge: Arc<Bridge>,
    /// User-defined networks by id.
    user: Mutex<BTreeMap<String, (Network, Arc<Bridge>)>>,
}

/// The fixed ids of the built-in networks, computed once.
static BUILTIN_IDS: std::sync::LazyLock<Vec<(&'static str, String)>> =
    std::sync::LazyLock::new(|| {
        ["bridge", "host", "none"]
            .into_iter()
            .map(|n| {
                let id = crate::image::Digest::of(format!("berth built-in network {n}").as_bytes());
                (n, id.hex().to_string())
            })
            .collect()
    });

/// The fixed id of a built-in network.
fn builtin_id(name: &str) -> String {
    BUILTIN_IDS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, id)| id.clone())
        .unwrap_or_default()
}

/// Docker's rule for names, which also keeps them usable as DNS names.
fn validate_name(name: &str) -> Result<(), NetworkError> {
    if name.len() <= 128 && crate::container::names::follows_name_rule(name) {
        Ok(())
    } else {
        Err(NetworkError::Invalid(format!(
            "invalid network name {name:?}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
        )))
    }
}

/// The host's own routes (not Berth's bridges): subnets to stay clear of.
fn host_routes() -> Vec<(String, (Ipv4Addr, u8))> {
    let text = std::fs::read_to_string("/proc/net/route").unwrap_or_default();
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let dest = u32::from_str_radix(f.get(1)?, 16).ok()?;
            let mask = u32::from_str_radix(f.get(7)?, 16).ok()?;
            if mask == 0 {
                return None; // the default route
            }
            let dest = Ipv4Addr::from(u32::from_be(dest));
            Some((
                f[0].to_string(),
                (dest, u32::from_be(mask).count_ones() as u8),
            ))
        })
        .collect()
}

impl NetworkStore {
    /// Opens `dir` and reads the user-defined networks kept there.
    pub fn open(dir: &Path, default_bridge: Bridge, pool: Pool) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let mut user = BTreeMap::new();
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            match std::fs::read(&path)
                .map_err(|e| e.to_string())
                .and_then(|b| serde_json::from_slice::<Network>(&b).map_err(|e| e.to_string()))
            {
                Ok(n) => {
                    let bridge = Arc::new(bridge_of(&n).map_err(std::io::Error::other)?);
                    user.insert(n.id.clone(), (n, bridge));
                }
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "unreadable network record")
                }
            }
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            pool,
            default_bridge: Arc::new(default_bridge),
            user: Mutex::new(user),
        })
    }

    fn user(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, (Network, Arc<Bridge>)>> {
        self.user.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn default_bridge(&self) -> &Arc<Bridge> {
        &self.default_bridge
    }

    fn builtin(&self, name: &str) -> Option<NetworkRef> {
        let kind = match name {
            "bridge" => Kind::Default,
            "host" => Kind::Host,
            "none" => Kind::None,
            _ => return None,
        };
        Some(NetworkRef {
            id: builtin_id(name),
            name: name.to_string(),
            kind,
            record: None,
            bridge: (kind == Kind::Default).then(|| self.default_bridge.clone()),
        })
    }

    fn user_ref(n: &Network, b: &Arc<Bridge>) -> NetworkRef {
        NetworkRef {
            id: n.id.clone(),
            name: n.name.clone(),
            kind: Kind::User,
            record: Some(n.clone()),
            bridge: Some(b.clone()),
        }
    }

    /// All networks: the built-in ones first, then by name.
    pub fn list(&self) -> Vec<NetworkRef> {
        let mut out: Vec<NetworkRef> = ["bridge", "host", "none"]
            .iter()
            .filter_map(|n| self.builtin(n))
            .collect();
        let mut user: Vec<NetworkRef> = self
            .user()
            .values()
            .map(|(n, b)| Self::user_ref(n, b))
            .collect();
        user.sort_by(|a, b| a.name.cmp(&b.name));
        out.extend(user);
        out
    }

    /// A network by name, full id or unique id prefix (Docker's order).
    pub fn get(&self, key: &str) -> Result<NetworkRef, NetworkError> {
        let key = match key {
            "" | "default" => "bridge",
            k => k,
        };
        // By name first, without building the whole list (containers'
        // summaries ask for their networks one by one).
        if let Some(b) = self.builtin(key) {
            return Ok(b);
        }
        if let Some((n, b)) = self
            .user()
            .values()
            .find(|(n, _)| n.name == key || n.id == key)
        {
            return Ok(Self::user_ref(n, b));
        }
        let all = self.list();
        if let Some(n) = all.iter().find(|n| n.name == key || n.id == key) {
            return Ok(n.clone());
        }
        let by_prefix: Vec<&NetworkRef> = if key.is_empty() {
            Vec::new()
        } else {
            all.iter().filter(|n| n.id.starts_with(key)).collect()
        };
        match by_prefix.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(NetworkError::NotFound(format!("network {key} not found"))),
            many => Err(NetworkError::Invalid(format!(
                "network {key} is ambiguous ({} matches found based on ID prefix)",
                many.len()
            ))),
        }
    }

    /// Creates a user-defined network and its bridge.
    pub fn create(&self, req: NewNetwork) -> Result<Network, NetworkError> {
        validate_name(&req.name)?;
        match req.driver.as_str() {
            "" | "bridge" => {}
            other => {
                return Err(NetworkError::NotFound(format!(
                    "plugin \"{other}\" not found: Berth's networks use the \"bridge\" driver"
                )))
            }
        }
        if req.enable_ipv6 {
            return Err(NetworkError::Invalid(
                "IPv6 networks are not supported: Berth's networks are IPv4 only".into(),
            ));
        }
        let mut user = self.user();
        if self.builtin(&req.name).is_some() || user.values().any(|(n, _)| n.name == req.name) {
            return Err(NetworkError::Conflict(format!(
                "network with name {} already exists",
                req.name
            )));
        }
        let mut used: Vec<(String, (Ipv4Addr, u8))> = user
            .values()
            .map(|(n, b)| (format!("network {}", n.name), b.subnet()))
            .collect();
        used.push(("the default bridge".into(), self.default_bridge.subnet()));
        // Other daemons' bridges count: their routes are here too.
        used.extend(
            host_routes()
                .into_iter()
                .map(|(iface, net)| (format!("the route on {iface}"), net)),
        );
        let subnet = match &req.subnet {
            Some(s) => {
                let (addr, len) =
                    parse_cidr(s).map_err(|e| NetworkError::Invalid(format!("invalid subnet: {e}")))?;
                let net = (
                    Ipv4Addr::from(u32::from(addr) & (u32::MAX << (32 - u32::from(len)))),
                    len,
                );
                if let Some((what, _)) = used.iter().find(|(_, u)| overlaps(*u, net)) {
                    return Err(NetworkError::Conflict(format!(
                        "Pool overlaps with other one on this address space: {s} overlaps {what}"
                    )));
                }
                net
            }
            None => self
                .pool
                .subnets()
                .find(|net| !used.iter().any(|(_, u)| overlaps(*u, *net)))
                .ok_or_else(|| {
                    NetworkError::Conflict(format!(
                        "all predefined address pools have been fully subnetted: {}/{} is used up; give --subnet",
                        self.pool.base.0, self.pool.base.1
                    ))
                })?,
        };
        let gateway = match &req.gateway {
            Some(g) => {
                let g: Ipv4Addr = g.parse().map_err(|_| {
                    NetworkError::Invalid(format!("invalid gateway {g:?}: not an IPv4 address"))
                })?;
                let probe = Bridge::with_address("probe", subnet.0, subnet.1);
                if !probe.contains(g) || g == subnet.0 {
                    return Err(NetworkError::Invalid(format!(
                        "invalid gateway {g}: not a host address of subnet {}/{}",
                        subnet.0, subnet.1
                    )));
                }
                g
            }
            None => Ipv4Addr::from(u32::from(subnet.0) + 1),
        };
        let id = crate::container::create::random_hex();
        let n = Network {
            name: req.name,
            created: crate::timefmt::now_rfc3339(),
            subnet: format!("{}/{}", subnet.0, subnet.1),
            gateway,
            internal: req.internal,
            attachable: req.attachable,
            labels: req.labels,
            options: req.options,
            id,
        };
        let bridge = Arc::new(bridge_of(&n).map_err(NetworkError::Invalid)?);
        bridge.ensure().map_err(NetworkError::Io)?;
        let bytes = serde_json::to_vec_pretty(&n).map_err(|e| NetworkError::Io(e.to_string()))?;
        if let Err(e) = crate::fsutil::write_atomic(&self.record_path(&n.id), &bytes) {
            let _ = bridge.remove();
            return Err(NetworkError::Io(format!("write network record: {e}")));
        }
        user.insert(n.id.clone(), (n.clone(), bridge));
        Ok(n)
    }

    fn record_path(&self, id: &str) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    /// Removes a user-defined network and its bridge; the caller checked
    /// that no container is on it.
    pub fn remove(&self, id: &str) -> Result<(), NetworkError> {
        let mut user = self.user();
        let Some((n, bridge)) = user.get(id).cloned() else {
            return Err(NetworkError::NotFound(format!("network {id} not found")));
        };
        bridge.remove().map_err(NetworkError::Io)?;
        std::fs::remove_file(self.record_path(id))
            .or_else(|e| {
                if e.kind() == std::io::ErrorKind::NotFound {
                    Ok(())
                } else {
                    Err(e)
                }
            })
            .map_err(|e| NetworkError::Io(format!("remove network record of {}: {e}", n.name)))?;
        user.remove(id);
        Ok(())
    }

    /// The user-defined networks with their bridges.
    pub fn user_networks(&self) -> Vec<(Network, Arc<Bridge>)> {
        self.user().values().cloned().collect()
    }
}

fn bridge_of(n: &Network) -> Result<Bridge, String> {
    let (_, len) = parse_cidr(&n.subnet)?;
    Ok(Bridge::with_address(
        &format!("br-{}", &n.id[..12]),
        n.gateway,
        len,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pools() {
        let p = Pool::parse("base=10.20.0.0/16,size=24").unwrap();
        let nets: Vec<String> = p
            .subnets()
            .take(2)
            .map(|(a, l)| format!("{a}/{l}"))
            .collect();
        assert_eq!(nets, ["10.20.0.0/24", "10.20.1.0/24"]);
        assert_eq!(Pool::parse("10.9.0.0/16").unwrap().subnets().count(), 256);
        assert!(Pool::parse("base=10.0.0.0/16,size=8").is_err());
        assert!(Pool::parse("size=24").is_err());
    }

    #[test]
    fn names_and_lookup() {
        assert!(validate_name("my_net.1-a").is_ok());
        for bad in ["", "-x", "a b", "a/b", "ä"] {
            assert!(validate_name(bad).is_err(), "{bad:?}");
        }
        let dir = tempfile::tempdir().unwrap();
        let s = NetworkStore::open(
            dir.path(),
            Bridge::with_address("b0", "172.30.0.1".parse().unwrap(), 16),
            Pool::parse(POOL).unwrap(),
        )
        .unwrap();
        let names: Vec<String> = s.list().into_iter().map(|n| n.name).collect();
        assert_eq!(names, ["bridge", "host", "none"]);
        assert_eq!(s.get("default").unwrap().kind, Kind::Default);
        let id = s.get("host").unwrap().id;
        assert_eq!(s.get(&id[..6]).unwrap().name, "host");
        assert!(matches!(s.get("nope"), Err(NetworkError::NotFound(_))));
        assert!(matches!(
            s.create(NewNetwork {
                name: "bridge".into(),
                ..Default::default()
            }),
            Err(NetworkError::Conflict(_))
        ));
        assert!(matches!(
            s.create(NewNetwork {
                name: "x".into(),
                driver: "overlay".into(),
                ..Default::default()
            }),
            Err(NetworkError::NotFound(_))
        ));
        let e = s
            .create(NewNetwork {
                name: "x".into(),
                subnet: Some("172.30.5.0/24".into()),
                ..Default::default()
            })
            .unwrap_err();
        assert!(e.to_string().contains("default bridge"), "{e}");
    }
}
