//! A container's resource use, read from its cgroup (v1 hierarchies, or the
//! unified v2 tree) and from its network namespace (`/proc/PID/net/dev` of
//! its init): CPU time, memory, pids, block I/O and network counters, plus
//! the host's CPU time that `docker stats` divides by. Blocking file reads.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One reading; counters are cumulative.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sample {
    /// Unix nanoseconds when it was read.
    pub read_nano: i64,
    /// CPU time of the container in nanoseconds: total, per CPU, user, system.
    pub cpu_total: u64,
    pub cpu_percpu: Vec<u64>,
    pub cpu_user: u64,
    pub cpu_system: u64,
    /// The host's CPU time in nanoseconds (all CPUs), as Docker's `system_cpu_usage`.
    pub system_cpu: u64,
    pub online_cpus: u32,
    pub mem_usage: u64,
    pub mem_max_usage: u64,
    /// The limit, or the host's memory when there is none.
    pub mem_limit: u64,
    /// `memory.stat` as read.
    pub mem_stats: BTreeMap<String, u64>,
    pub pids: u64,
    pub pids_limit: Option<u64>,
    /// Block I/O bytes: (major, minor, op, bytes).
    pub blkio: Vec<(u64, u64, String, u64)>,
    /// Per interface (not `lo`).
    pub networks: BTreeMap<String, NetDev>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct NetDev {
    pub rx_bytes: u64,
    pub rx_packets: u64,
    pub rx_errors: u64,
    pub rx_dropped: u64,
    pub tx_bytes: u64,
    pub tx_packets: u64,
    pub tx_errors: u64,
    pub tx_dropped: u64,
}

const ROOT: &str = "/sys/fs/cgroup";

/// Where a controller's files for the container are: v1 `ROOT/CTRL/berth/ID`,
/// or the v2 `ROOT/berth/ID` on a unified host.
fn dir(ctrl: &str, id: &str) -> PathBuf {
    let unified = Path::new(ROOT).join("cgroup.controllers").exists();
    if unified {
        Path::new(ROOT).join("berth").join(id)
    } else {
        Path::new(ROOT).join(ctrl).join("berth").join(id)
    }
}

fn read(p: &Path) -> Option<String> {
    std::fs::read_to_string(p).ok()
}

fn num(p: &Path) -> Option<u64> {
    read(p)?.trim().parse().ok()
}

/// `key value` lines.
fn pairs(text: &str) -> BTreeMap<String, u64> {
    text.lines()
        .filter_map(|l| {
            let (k, v) = l.split_once(' ')?;
            Some((k.to_string(), v.trim().parse().ok()?))
        })
        .collect()
}

fn clock_ticks() -> u64 {
    // SAFETY: sysconf has no preconditions and touches no memory of ours.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 {
        t as u64
    } else {
        100
    }
}

/// The host's CPU time (the `cpu` line of /proc/stat: user to steal) in ns.
pub fn system_cpu_ns() -> u64 {
    let text = read(Path::new("/proc/stat")).unwrap_or_default();
    let ticks: u64 = text
        .lines()
        .find(|l| l.starts_with("cpu "))
        .map(|l| {
            l.split_whitespace()
                .skip(1)
                .take(8)
                .filter_map(|v| v.parse::<u64>().ok())
                .sum()
        })
        .unwrap_or(0);
    ticks * 1_000_000_000 / clock_ticks()
}

/// Reads container `id`'s use now; `pid` is its init's host pid (0: not running).
pub fn sample(id: &str, pid: i32) -> Sample {
    let mut s = Sample {
        read_nano: crate::timefmt::unix_nanos_now(),
        system_cpu: system_cpu_ns(),
        online_cpus: crate::hostinfo::cpus() as u32,
        ..Default::default()
    };
    let unified = Path::new(ROOT).join("cgroup.controllers").exists();
    let tick_ns = 1_000_000_000 / clock_ticks();
    if unified {
        let d = dir("", id);
        let cpu = pairs(&read(&d.join("cpu.stat")).unwrap_or_default());
        s.cpu_total = cpu.get("usage_usec").copied().unwrap_or(0) * 1000;
        s.cpu_user = cpu.get("user_usec").copied().unwrap_or(0) * 1000;
        s.cpu_system = cpu.get("system_usec").copied().unwrap_or(0) * 1000;
        s.mem_usage = num(&d.join("memory.current")).unwrap_or(0);
        s.mem_max_usage = num(&d.join("memory.peak")).unwrap_or(0);
        s.mem_limit = num(&d.join("memory.max")).unwrap_or(0);
        s.mem_stats = pairs(&read(&d.join("memory.stat")).unwrap_or_default());
        s.pids = num(&d.join("pids.current")).unwrap_or(0);
        s.pids_limit = num(&d.join("pids.max"));
        for l in read(&d.join("io.stat")).unwrap_or_default().lines() {
            let mut f = l.split_whitespace();
            let Some((maj, min)) = f.next().and_then(|d| d.split_once(':')) else {
                continue;
            };
            let (Ok(maj), Ok(min)) = (maj.parse(), min.parse()) else {
                continue;
            };
            for kv in f {
                if let Some((k, v)) = kv.split_once('=') {
                    let op = match k {
                        "rbytes" => "read",
                        "wbytes" => "write",
                        _ => continue,
                    };
                    s.blkio.push((maj, min, op.into(), v.parse().unwrap_or(0)));
                }
            }
        }
    } else {
        let cpu = dir("cpuacct", id);
        s.cpu_total = num(&cpu.join("cpuacct.usage")).unwrap_or(0);
        s.cpu_percpu = read(&cpu.join("cpuacct.usage_percpu"))
            .unwrap_or_default()
            .split_whitespace()
            .filter_map(|v| v.parse().ok())
            .collect();
        let st = pairs(&read(&cpu.join("cpuacct.stat")).unwrap_or_default());
        s.cpu_user = st.get("user").copied().unwrap_or(0) * tick_ns;
        s.cpu_system = st.get("system").copied().unwrap_or(0) * tick_ns;
        let mem = dir("memory", id);
        s.mem_usage = num(&mem.join("memory.usage_in_bytes")).unwrap_or(0);
        s.mem_max_usage = num(&mem.join("memory.max_usage_in_bytes")).unwrap_or(0);
        s.mem_limit = num(&mem.join("memory.limit_in_bytes")).unwrap_or(0);
        s.mem_stats = pairs(&read(&mem.join("memory.stat")).unwrap_or_default());
        let pids = dir("pids", id);
        s.pids = num(&pids.join("pids.current")).unwrap_or(0);
        s.pids_limit = num(&pids.join("pids.max"));
        let blk = dir("blkio", id).join("blkio.throttle.io_service_bytes_recursive");
        for l in read(&blk).unwrap_or_default().lines() {
            let f: Vec<&str> = l.split_whitespace().collect();
            if let [dev, op, v] = f.as_slice() {
                if let Some((maj, min)) = dev.split_once(':') {
                    if let (Ok(maj), Ok(min), Ok(v)) = (maj.parse(), min.parse(), v.parse()) {
                        s.blkio.push((maj, min, op.to_lowercase(), v));
                    }
                }
            }
        }
    }
    // No limit reads as a huge number (v1) or is absent ("max", v2): the host's memory.
    let host = crate::hostinfo::mem_total();
    if s.mem_limit == 0 || s.mem_limit > host {
        s.mem_limit = host;
    }
    if pid > 0 {
        s.networks = net_dev(&read(Path::new(&format!("/proc/{pid}/net/dev"))).unwrap_or_default());
    }
    s
}

/// `/proc/net/dev`'s table, without `lo`.
fn net_dev(text: &str) -> BTreeMap<String, NetDev> {
    text.lines()
        .skip(2)
        .filter_map(|l| {
            let (name, rest) = l.split_once(':')?;
            let name = name.trim();
            if name == "lo" {
                return None;
            }
            let v: Vec<u64> = rest
                .split_whitespace()
                .filter_map(|x| x.parse().ok())
                .collect();
            if v.len() < 12 {
                return None;
            }
            Some((
                name.to_string(),
                NetDev {
                    rx_bytes: v[0],
                    rx_packets: v[1],
                    rx_errors: v[2],
                    rx_dropped: v[3],
                    tx_bytes: v[8],
                    tx_packets: v[9],
                    tx_errors: v[10],
                    tx_dropped: v[11],
                },
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_net_dev_without_lo() {
        let text = "Inter-|   Receive                                                |  Transmit\n face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n    lo:     100       2    0    0    0     0          0         0      100       2    0    0    0     0       0          0\n  eth0:    1234      10    1    2    0     0          0         0      567       5    0    3    0     0       0          0\n";
        let n = net_dev(text);
        assert_eq!(n.len(), 1);
        let e = &n["eth0"];
        assert_eq!(
            (e.rx_bytes, e.rx_packets, e.rx_errors, e.rx_dropped),
            (1234, 10, 1, 2)
        );
        assert_eq!((e.tx_bytes, e.tx_packets, e.tx_dropped), (567, 5, 3));
    }

    #[test]
    fn host_cpu_time_grows() {
        let a = system_cpu_ns();
        std::thread::sleep(std::time::Duration::from_millis(30));
        assert!(system_cpu_ns() >= a && a > 0);
    }
}
