//! The few rtnetlink requests a container's network needs, made in-process
//! (no `ip` process per container): named network namespaces under
//! `/run/netns` (the same place and shape as `ip netns`), a veth pair whose
//! peer lands in a namespace, a link's master and up state, an IPv4
//! address and a default route.
//!
//! Requests that act inside a namespace run on a short-lived thread that
//! joined it: a network namespace is per thread, and the netlink socket
//! belongs to the namespace it was opened in.

use std::ffi::CString;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};

const NETNS_DIR: &str = "/run/netns";

const NLMSG_ERROR: u16 = 2;
const RTM_NEWLINK: u16 = 16;
const RTM_DELLINK: u16 = 17;
const RTM_NEWADDR: u16 = 20;
const RTM_NEWROUTE: u16 = 24;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_ACK: u16 = 0x4;
const NLM_F_EXCL: u16 = 0x200;
const NLM_F_CREATE: u16 = 0x400;

const IFLA_IFNAME: u16 = 3;
const IFLA_MASTER: u16 = 10;
const IFLA_LINKINFO: u16 = 18;
const IFLA_NET_NS_FD: u16 = 28;
const IFLA_INFO_KIND: u16 = 1;
const IFLA_INFO_DATA: u16 = 2;
const VETH_INFO_PEER: u16 = 1;
const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;
const RTA_GATEWAY: u16 = 5;
const NLA_F_NESTED: u16 = 0x8000;

const IFF_UP: u32 = 0x1;
const RT_TABLE_MAIN: u8 = 254;
const RTPROT_BOOT: u8 = 3;
const RT_SCOPE_UNIVERSE: u8 = 0;
const RTN_UNICAST: u8 = 1;

/// Where a named namespace is bound.
pub fn netns_path(name: &str) -> PathBuf {
    Path::new(NETNS_DIR).join(name)
}

/// One request being built: a header, a fixed part and attributes.
struct Message {
    buf: Vec<u8>,
    /// Offsets of attributes still open for nesting.
    open: Vec<usize>,
}

impl Message {
    fn new(kind: u16, flags: u16) -> Self {
        let mut buf = Vec::with_capacity(256);
        buf.extend_from_slice(&0u32.to_ne_bytes()); // length, set in `finish`
        buf.extend_from_slice(&kind.to_ne_bytes());
        buf.extend_from_slice(&(flags | NLM_F_REQUEST | NLM_F_ACK).to_ne_bytes());
        buf.extend_from_slice(&1u32.to_ne_bytes()); // sequence
        buf.extend_from_slice(&0u32.to_ne_bytes()); // port: the kernel's
        Self {
            buf,
            open: Vec::new(),
        }
    }

    fn pad(&mut self) {
        while !self.buf.len().is_multiple_of(4) {
            self.buf.push(0);
        }
    }

    fn bytes(&mut self, b: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(b);
        self.pad();
        self
    }

    /// `struct ifinfomsg` (16 bytes).
    fn ifinfo(&mut self, index: i32, flags: u32, change: u32) -> &mut Self {
        let mut b = [0u8; 16];
        b[0] = libc::AF_UNSPEC as u8;
        b[4..8].copy_from_slice(&index.to_ne_bytes());
        b[8..12].copy_from_slice(&flags.to_ne_bytes());
        b[12..16].copy_from_slice(&change.to_ne_bytes());
        self.bytes(&b)
    }

    fn attr(&mut self, kind: u16, data: &[u8]) -> &mut Self {
        let len = (4 + data.len()) as u16;
        self.buf.extend_from_slice(&len.to_ne_bytes());
        self.buf.extend_from_slice(&kind.to_ne_bytes());
        self.bytes(data)
    }

    fn attr_str(&mut self, kind: u16, s: &str) -> &mut Self {
        let mut data = s.as_bytes().to_vec();
        data.push(0);
        self.attr(kind, &data)
    }

    fn begin(&mut self, kind: u16) -> &mut Self {
        self.open.push(self.buf.len());
        self.buf.extend_from_slice(&0u16.to_ne_bytes());
        self.buf
            .extend_from_slice(&(kind | NLA_F_NESTED).to_ne_bytes());
        self
    }

    fn end(&mut self) -> &mut Self {
        let start = self.open.pop().expect("an open attribute");
        let len = (self.buf.len() - start) as u16;
        self.buf[start..start + 2].copy_from_slice(&len.to_ne_bytes());
        self
    }

    fn finish(&mut self) -> &[u8] {
        let len = self.buf.len() as u32;
        self.buf[0..4].copy_from_slice(&len.to_ne_bytes());
        &self.buf
    }
}

/// A route netlink socket in the calling thread's network namespace.
struct Socket(OwnedFd);

impl Socket {
    fn open() -> Result<Self, String> {
        // SAFETY: plain socket(2); the fd is owned right away.
        let fd = unsafe {
            libc::socket(
                libc::AF_NETLINK,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                libc::NETLINK_ROUTE,
            )
        };
        if fd < 0 {
            return Err(format!(
                "netlink socket: {}",
                std::io::Error::last_os_error()
            ));
        }
        // SAFETY: fd was just returned by socket(2) and is ours.
        Ok(Self(unsafe { OwnedFd::from_raw_fd(fd) }))
    }

    /// Sends one request and waits for its acknowledgement.
    fn request(&self, msg: &mut Message, what: &str) -> Result<(), String> {
        let data = msg.finish();
        // SAFETY: sending an initialised buffer of the given length.
        let sent = unsafe { libc::send(self.0.as_raw_fd(), data.as_ptr().cast(), data.len(), 0) };
        if sent < 0 {
            return Err(format!("{what}: {}", std::io::Error::last_os_error()));
        }
        let mut reply = [0u8; 4096];
        loop {
            // SAFETY: receiving into a stack buffer of the given length.
            let n = unsafe {
                libc::recv(
                    self.0.as_raw_fd(),
                    reply.as_mut_ptr().cast(),
                    reply.len(),
                    0,
                )
            };
            if n < 0 {
                let e = std::io::Error::last_os_error();
                if e.kind() == std::io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(format!("{what}: {e}"));
            }
            let n = n as usize;
            if n < 20 {
                return Err(format!("{what}: short netlink reply"));
            }
            let kind = u16::from_ne_bytes([reply[4], reply[5]]);
            if kind != NLMSG_ERROR {
                continue;
            }
            let code = i32::from_ne_bytes([reply[16], reply[17], reply[18], reply[19]]);
            return if code == 0 {
                Ok(())
            } else {
                Err(format!(
                    "{what}: {}",
                    std::io::Error::from_raw_os_error(-code)
                ))
            };
        }
    }
}

fn ifindex(name: &str) -> Result<i32, String> {
    let c = CString::new(name).map_err(|_| format!("bad interface name {name:?}"))?;
    // SAFETY: a valid NUL-terminated name.
    let i = unsafe { libc::if_nametoindex(c.as_ptr()) };
    if i == 0 {
        Err(format!(
            "interface {name}: {}",
            std::io::Error::last_os_error()
        ))
    } else {
        Ok(i as i32)
    }
}

/// Runs `f` on a new thread that joined the namespace bound at `netns`.
fn in_netns<T: Send + 'static>(
    netns: &Path,
    f: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    let ns = std::fs::File::open(netns)
        .map_err(|e| format!("open network namespace {}: {e}", netns.display()))?;
    let shown = netns.display().to_string();
    std::thread::spawn(move || {
        nix::sched::setns(&ns, nix::sched::CloneFlags::CLONE_NEWNET)
            .map_err(|e| format!("join network namespace {shown}: {e}"))?;
        f()
    })
    .join()
    .map_err(|_| "network namespace thread panicked".to_string())?
}

/// `ip netns add NAME`: a new network namespace bound at /run/netns/NAME.
pub fn create_netns(name: &str) -> Result<PathBuf, String> {
    use nix::mount::{mount, MsFlags};
    let dir = Path::new(NETNS_DIR);
    std::fs::create_dir_all(dir).map_err(|e| format!("create {NETNS_DIR}: {e}"))?;
    // Shared, so an unmount here reaches copies in other mount namespaces
    // (as iproute2 sets it up); bound onto itself the first time.
    let shared = MsFlags::MS_SHARED | MsFlags::MS_REC;
    if mount(None::<&str>, dir, None::<&str>, shared, None::<&str>).is_err() {
        mount(
            Some(dir),
            dir,
            None::<&str>,
            MsFlags::MS_BIND | MsFlags::MS_REC,
            None::<&str>,
        )
        .map_err(|e| format!("bind {NETNS_DIR}: {e}"))?;
        mount(None::<&str>, dir, None::<&str>, shared, None::<&str>)
            .map_err(|e| format!("share {NETNS_DIR}: {e}"))?;
    }
    let path = netns_path(name);
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| format!("create {}: {e}", path.display()))?;
    let target = path.clone();
    let bound = std::thread::spawn(move || -> Result<(), String> {
        nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET)
            .map_err(|e| format!("new network namespace: {e}"))?;
        mount(
            Some("/proc/thread-self/ns/net"),
            &target,
            None::<&str>,
            MsFlags::MS_BIND,
            None::<&str>,
        )
        .map_err(|e| format!("bind network namespace to {}: {e}", target.display()))
    })
    .join()
    .map_err(|_| "network namespace thread panicked".to_string())?;
    if let Err(e) = bound {
        let _ = std::fs::remove_file(&path);
        return Err(e);
    }
    Ok(path)
}

/// `ip netns del NAME`; the namespace's devices (a veth's peer too) go
/// with it. Absent is fine.
pub fn delete_netns(name: &str) -> Result<(), String> {
    let path = netns_path(name);
    if !path.exists() {
        return Ok(());
    }
    let _ = nix::mount::umount2(&path, nix::mount::MntFlags::MNT_DETACH);
    std::fs::remove_file(&path).map_err(|e| format!("remove {}: {e}", path.display()))
}

/// `ip link add HOST type veth peer name PEER netns NETNS` and
/// `ip link set HOST master BRIDGE up`, in one request.
pub fn add_veth_to_bridge(
    host: &str,
    peer: &str,
    netns: &Path,
    bridge: &str,
) -> Result<(), String> {
    let master = ifindex(bridge)?;
    let ns = std::fs::File::open(netns)
        .map_err(|e| format!("open network namespace {}: {e}", netns.display()))?;
    let sock = Socket::open()?;
    let mut m = Message::new(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
    m.ifinfo(0, IFF_UP, IFF_UP)
        .attr_str(IFLA_IFNAME, host)
        .attr(IFLA_MASTER, &(master as u32).to_ne_bytes())
        .begin(IFLA_LINKINFO)
        .attr_str(IFLA_INFO_KIND, "veth")
        .begin(IFLA_INFO_DATA)
        .begin(VETH_INFO_PEER)
        .ifinfo(0, 0, 0)
        .attr_str(IFLA_IFNAME, peer)
        .attr(IFLA_NET_NS_FD, &(ns.as_raw_fd() as u32).to_ne_bytes())
        .end()
        .end()
        .end();
    sock.request(&mut m, &format!("add veth pair {host}/{peer}"))
}

/// `ip link del NAME`; absent is fine.
pub fn delete_link(name: &str) -> Result<(), String> {
    let Ok(index) = ifindex(name) else {
        return Ok(());
    };
    let sock = Socket::open()?;
    let mut m = Message::new(RTM_DELLINK, 0);
    m.ifinfo(index, 0, 0);
    match sock.request(&mut m, &format!("delete link {name}")) {
        Err(e) if e.contains("No such device") => Ok(()),
        r => r,
    }
}

/// Inside NETNS: `ip addr add ADDR/PREFIX dev IF`, `ip link set IF up`,
/// `ip link set lo up`, and `ip route add default via GATEWAY` when a
/// gateway is given.
pub fn configure_inside(
    netns: &Path,
    ifname: &str,
    addr: Ipv4Addr,
    prefix_len: u8,
    gateway: Option<Ipv4Addr>,
) -> Result<(), String> {
    let ifname = ifname.to_string();
    in_netns(netns, move || {
        let sock = Socket::open()?;
        let index = ifindex(&ifname)?;
        let mut a = Message::new(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
        let mut fixed = [0u8; 8];
        fixed[0] = libc::AF_INET as u8;
        fixed[1] = prefix_len;
        fixed[4..8].copy_from_slice(&(index as u32).to_ne_bytes());
        a.bytes(&fixed)
            .attr(IFA_LOCAL, &addr.octets())
            .attr(IFA_ADDRESS, &addr.octets());
        sock.request(
            &mut a,
            &format!("add address {addr}/{prefix_len} to {ifname}"),
        )?;
        for (name, i) in [(ifname.as_str(), index), ("lo", ifindex("lo")?)] {
            let mut up = Message::new(RTM_NEWLINK, 0);
            up.ifinfo(i, IFF_UP, IFF_UP);
            sock.request(&mut up, &format!("set {name} up"))?;
        }
        let Some(gateway) = gateway else {
            return Ok(());
        };
        let mut r = Message::new(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
        r.bytes(&[
            libc::AF_INET as u8,
            0, // dst_len: default route
            0,
            0,
            RT_TABLE_MAIN,
            RTPROT_BOOT,
            RT_SCOPE_UNIVERSE,
            RTN_UNICAST,
            0,
            0,
            0,
            0,
        ])
        .attr(RTA_GATEWAY, &gateway.octets());
        sock.request(&mut r, &format!("add default route via {gateway}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_attributes_have_their_lengths() {
        let mut m = Message::new(RTM_NEWLINK, 0);
        m.ifinfo(0, 0, 0)
            .begin(IFLA_LINKINFO)
            .attr_str(IFLA_INFO_KIND, "veth")
            .end();
        let b = m.finish().to_vec();
        assert_eq!(
            u32::from_ne_bytes([b[0], b[1], b[2], b[3]]) as usize,
            b.len()
        );
        // header 16 + ifinfomsg 16, then the nest: 4 + ("veth\0" attr: 4 + 5 + 3 pad)
        assert_eq!(b.len(), 16 + 16 + 4 + 12);
        assert_eq!(u16::from_ne_bytes([b[32], b[33]]), 16);
        assert_eq!(
            u16::from_ne_bytes([b[34], b[35]]),
            IFLA_LINKINFO | NLA_F_NESTED
        );
    }
}
