//! Linux capabilities by name, Docker's default set, and applying a set to the
//! container's init: the bounding set is cut down before the user switch and
//! the effective, permitted and inheritable sets are set after it (root only;
//! the kernel clears them for other users, as in Docker).

use std::io;

/// Capability names in kernel number order (`CAP_CHOWN` = 0 …).
const NAMES: [&str; 41] = [
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "KILL",
    "SETGID",
    "SETUID",
    "SETPCAP",
    "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_ADMIN",
    "NET_RAW",
    "IPC_LOCK",
    "IPC_OWNER",
    "SYS_MODULE",
    "SYS_RAWIO",
    "SYS_CHROOT",
    "SYS_PTRACE",
    "SYS_PACCT",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "MKNOD",
    "LEASE",
    "AUDIT_WRITE",
    "AUDIT_CONTROL",
    "SETFCAP",
    "MAC_OVERRIDE",
    "MAC_ADMIN",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "AUDIT_READ",
    "PERFMON",
    "BPF",
    "CHECKPOINT_RESTORE",
];

/// Docker's default capabilities.
pub const DOCKER_DEFAULT: [&str; 14] = [
    "CHOWN",
    "DAC_OVERRIDE",
    "FSETID",
    "FOWNER",
    "MKNOD",
    "NET_RAW",
    "SETGID",
    "SETUID",
    "SETFCAP",
    "SETPCAP",
    "NET_BIND_SERVICE",
    "SYS_CHROOT",
    "KILL",
    "AUDIT_WRITE",
];

/// The kernel number of a capability named `CAP_X`, `X` or `x`.
pub fn number(name: &str) -> Option<u32> {
    let n = name.to_ascii_uppercase();
    let n = n.strip_prefix("CAP_").unwrap_or(&n);
    NAMES.iter().position(|c| *c == n).map(|i| i as u32)
}

/// `CAP_X` names of Docker's default set with `--cap-add` and `--cap-drop`
/// applied (`ALL` allowed in both); an unknown name is an error naming it.
pub fn resolve(add: &[String], drop: &[String]) -> Result<Vec<String>, String> {
    let check = |n: &String| -> Result<(), String> {
        if n.eq_ignore_ascii_case("ALL") || number(n).is_some() {
            Ok(())
        } else {
            Err(format!("invalid capability: {n:?}"))
        }
    };
    add.iter().chain(drop).try_for_each(check)?;
    let mut set: Vec<&str> = if add.iter().any(|n| n.eq_ignore_ascii_case("ALL")) {
        NAMES.to_vec()
    } else {
        DOCKER_DEFAULT.to_vec()
    };
    for a in add.iter().filter(|n| !n.eq_ignore_ascii_case("ALL")) {
        let i = number(a).unwrap_or_default() as usize;
        if !set.contains(&NAMES[i]) {
            set.push(NAMES[i]);
        }
    }
    if drop.iter().any(|n| n.eq_ignore_ascii_case("ALL")) {
        set.retain(|c| add.iter().any(|a| number(a) == number(c)));
    }
    for d in drop.iter().filter(|n| !n.eq_ignore_ascii_case("ALL")) {
        set.retain(|c| number(c) != number(d));
    }
    Ok(set.iter().map(|c| format!("CAP_{c}")).collect())
}

fn mask(names: &[String]) -> u64 {
    names
        .iter()
        .filter_map(|n| number(n))
        .fold(0u64, |m, i| m | (1u64 << i))
}

/// Drops every capability not in `keep` from the bounding set.
pub fn limit_bounding_set(keep: &[String]) -> io::Result<()> {
    let keep = mask(keep);
    for cap in 0..64u32 {
        if keep & (1 << cap) != 0 {
            continue;
        }
        // SAFETY: prctl with integer arguments.
        let r = unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap as libc::c_ulong, 0, 0, 0) };
        if r != 0 {
            let e = io::Error::last_os_error();
            if e.raw_os_error() == Some(libc::EINVAL) {
                break; // past the last capability this kernel knows
            }
            return Err(e);
        }
    }
    Ok(())
}

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

/// Sets the effective, permitted and inheritable sets to exactly `keep`.
pub fn set_process_caps(keep: &[String]) -> io::Result<()> {
    let m = mask(keep);
    let mut hdr = CapHeader {
        version: 0x2008_0522, // _LINUX_CAPABILITY_VERSION_3
        pid: 0,
    };
    let lo = m as u32;
    let hi = (m >> 32) as u32;
    let data = [
        CapData {
            effective: lo,
            permitted: lo,
            inheritable: lo,
        },
        CapData {
            effective: hi,
            permitted: hi,
            inheritable: hi,
        },
    ];
    // SAFETY: capset with a v3 header and two data structs, as the ABI wants.
    let r = unsafe { libc::syscall(libc::SYS_capset, &mut hdr as *mut CapHeader, data.as_ptr()) };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_sets() {
        assert_eq!(number("CAP_SYS_ADMIN"), Some(21));
        assert_eq!(number("net_admin"), Some(12));
        assert_eq!(number("NOPE"), None);
        let d = resolve(&[], &[]).unwrap();
        assert_eq!(d.len(), 14);
        assert!(d.contains(&"CAP_CHOWN".to_string()));
        assert!(!d.contains(&"CAP_SYS_ADMIN".to_string()));
        let d = resolve(&["NET_ADMIN".into()], &["chown".into()]).unwrap();
        assert!(d.contains(&"CAP_NET_ADMIN".to_string()));
        assert!(!d.contains(&"CAP_CHOWN".to_string()));
        let d = resolve(&["KILL".into()], &["ALL".into()]).unwrap();
        assert_eq!(d, vec!["CAP_KILL".to_string()]);
        assert_eq!(resolve(&["ALL".into()], &[]).unwrap().len(), NAMES.len());
        assert!(resolve(&["BOGUS".into()], &[])
            .unwrap_err()
            .contains("BOGUS"));
    }
}
