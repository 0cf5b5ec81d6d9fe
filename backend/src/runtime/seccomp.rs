//! The default seccomp filter, equivalent to Docker's default profile on
//! x86-64: an allow list. Calls not on it answer EPERM; calls that only a
//! capability makes useful (mount, bpf, reboot, ptrace helpers, clocks, …)
//! are allowed when the container holds that capability (`--cap-add`),
//! as Docker's profile does.
//!
//! Argument rules, as Docker's: `clone` may not ask for new namespaces and
//! `clone3` answers ENOSYS (so libc falls back to `clone`, whose flags can
//! be checked) unless CAP_SYS_ADMIN is held; `socket` may not open AF_VSOCK;
//! `personality` takes only the values Docker allows. Arguments are
//! compared on their low 32 bits, which is what the kernel reads for these
//! calls, so a value with high bits set cannot slip past a rule.
//!
//! Differences from Docker, on purpose or not yet: 32-bit (i386) and x32
//! system calls are refused outright, where Docker maps its list onto those
//! tables too. `--security-opt seccomp=unconfined` turns the filter off.

use std::io;

/// Allowed for every container (Docker's unconditional list, x86-64 names).
const ALLOWED: &[libc::c_long] = &[
    libc::SYS_accept,
    libc::SYS_accept4,
    libc::SYS_access,
    libc::SYS_adjtimex,
    libc::SYS_alarm,
    libc::SYS_arch_prctl,
    libc::SYS_bind,
    libc::SYS_brk,
    libc::SYS_capget,
    libc::SYS_capset,
    libc::SYS_chdir,
    libc::SYS_chmod,
    libc::SYS_chown,
    libc::SYS_clock_adjtime,
    libc::SYS_clock_getres,
    libc::SYS_clock_gettime,
    libc::SYS_clock_nanosleep,
    libc::SYS_close,
    libc::SYS_close_range,
    libc::SYS_connect,
    libc::SYS_copy_file_range,
    libc::SYS_creat,
    libc::SYS_dup,
    libc::SYS_dup2,
    libc::SYS_dup3,
    libc::SYS_epoll_create,
    libc::SYS_epoll_create1,
    libc::SYS_epoll_ctl,
    libc::SYS_epoll_ctl_old,
    libc::SYS_epoll_pwait,
    libc::SYS_epoll_pwait2,
    libc::SYS_epoll_wait,
    libc::SYS_epoll_wait_old,
    libc::SYS_eventfd,
    libc::SYS_eventfd2,
    libc::SYS_execve,
    libc::SYS_execveat,
    libc::SYS_exit,
    libc::SYS_exit_group,
    libc::SYS_faccessat,
    libc::SYS_faccessat2,
    libc::SYS_fadvise64,
    libc::SYS_fallocate,
    libc::SYS_fanotify_mark,
    libc::SYS_fchdir,
    libc::SYS_fchmod,
    libc::SYS_fchmodat,
    libc::SYS_fchmodat2,
    libc::SYS_fchown,
    libc::SYS_fchownat,
    libc::SYS_fcntl,
    libc::SYS_fdatasync,
    libc::SYS_fgetxattr,
    libc::SYS_flistxattr,
    libc::SYS_flock,
    libc::SYS_fork,
    libc::SYS_fremovexattr,
    libc::SYS_fsetxattr,
    libc::SYS_fstat,
    libc::SYS_fstatfs,
    libc::SYS_fsync,
    libc::SYS_ftruncate,
    libc::SYS_futex,
    libc::SYS_futex_waitv,
    libc::SYS_futimesat,
    libc::SYS_getcpu,
    libc::SYS_getcwd,
    libc::SYS_getdents,
    libc::SYS_getdents64,
    libc::SYS_getegid,
    libc::SYS_geteuid,
    libc::SYS_getgid,
    libc::SYS_getgroups,
    libc::SYS_getitimer,
    libc::SYS_getpeername,
    libc::SYS_getpgid,
    libc::SYS_getpgrp,
    libc::SYS_getpid,
    libc::SYS_getppid,
    libc::SYS_getpriority,
    libc::SYS_getrandom,
    libc::SYS_getresgid,
    libc::SYS_getresuid,
    libc::SYS_getrlimit,
    libc::SYS_get_robust_list,
    libc::SYS_getrusage,
    libc::SYS_getsid,
    libc::SYS_getsockname,
    libc::SYS_getsockopt,
    libc::SYS_get_thread_area,
    libc::SYS_gettid,
    libc::SYS_gettimeofday,
    libc::SYS_getuid,
    libc::SYS_getxattr,
    libc::SYS_inotify_add_watch,
    libc::SYS_inotify_init,
    libc::SYS_inotify_init1,
    libc::SYS_inotify_rm_watch,
    libc::SYS_io_cancel,
    libc::SYS_ioctl,
    libc::SYS_io_destroy,
    libc::SYS_io_getevents,
    333, // io_pgetevents
    libc::SYS_ioprio_get,
    libc::SYS_ioprio_set,
    libc::SYS_io_setup,
    libc::SYS_io_submit,
    libc::SYS_io_uring_enter,
    libc::SYS_io_uring_register,
    libc::SYS_io_uring_setup,
    libc::SYS_kill,
    libc::SYS_landlock_add_rule,
    libc::SYS_landlock_create_ruleset,
    libc::SYS_landlock_restrict_self,
    libc::SYS_lchown,
    libc::SYS_lgetxattr,
    libc::SYS_link,
    libc::SYS_linkat,
    libc::SYS_listen,
    libc::SYS_listxattr,
    libc::SYS_llistxattr,
    libc::SYS_lremovexattr,
    libc::SYS_lseek,
    libc::SYS_lsetxattr,
    libc::SYS_lstat,
    libc::SYS_madvise,
    libc::SYS_membarrier,
    libc::SYS_memfd_create,
    libc::SYS_memfd_secret,
    libc::SYS_mincore,
    libc::SYS_mkdir,
    libc::SYS_mkdirat,
    libc::SYS_mknod,
    libc::SYS_mknodat,
    libc::SYS_mlock,
    libc::SYS_mlock2,
    libc::SYS_mlockall,
    libc::SYS_mmap,
    libc::SYS_modify_ldt,
    libc::SYS_mprotect,
    libc::SYS_mq_getsetattr,
    libc::SYS_mq_notify,
    libc::SYS_mq_open,
    libc::SYS_mq_timedreceive,
    libc::SYS_mq_timedsend,
    libc::SYS_mq_unlink,
    libc::SYS_mremap,
    libc::SYS_msgctl,
    libc::SYS_msgget,
    libc::SYS_msgrcv,
    libc::SYS_msgsnd,
    libc::SYS_msync,
    libc::SYS_munlock,
    libc::SYS_munlockall,
    libc::SYS_munmap,
    libc::SYS_name_to_handle_at,
    libc::SYS_nanosleep,
    libc::SYS_newfstatat,
    libc::SYS_open,
    libc::SYS_openat,
    libc::SYS_openat2,
    libc::SYS_pause,
    libc::SYS_pidfd_open,
    libc::SYS_pidfd_send_signal,
    libc::SYS_pipe,
    libc::SYS_pipe2,
    libc::SYS_pkey_alloc,
    libc::SYS_pkey_free,
    libc::SYS_pkey_mprotect,
    libc::SYS_poll,
    libc::SYS_ppoll,
    libc::SYS_prctl,
    libc::SYS_pread64,
    libc::SYS_preadv,
    libc::SYS_preadv2,
    libc::SYS_prlimit64,
    libc::SYS_process_mrelease,
    libc::SYS_process_vm_readv,
    libc::SYS_process_vm_writev,
    libc::SYS_pselect6,
    libc::SYS_ptrace,
    libc::SYS_pwrite64,
    libc::SYS_pwritev,
    libc::SYS_pwritev2,
    libc::SYS_read,
    libc::SYS_readahead,
    libc::SYS_readlink,
    libc::SYS_readlinkat,
    libc::SYS_readv,
    libc::SYS_recvfrom,
    libc::SYS_recvmmsg,
    libc::SYS_recvmsg,
    libc::SYS_remap_file_pages,
    libc::SYS_removexattr,
    libc::SYS_rename,
    libc::SYS_renameat,
    libc::SYS_renameat2,
    libc::SYS_restart_syscall,
    libc::SYS_rmdir,
    libc::SYS_rseq,
    libc::SYS_rt_sigaction,
    libc::SYS_rt_sigpending,
    libc::SYS_rt_sigprocmask,
    libc::SYS_rt_sigqueueinfo,
    libc::SYS_rt_sigreturn,
    libc::SYS_rt_sigsuspend,
    libc::SYS_rt_sigtimedwait,
    libc::SYS_rt_tgsigqueueinfo,
    libc::SYS_sched_getaffinity,
    libc::SYS_sched_getattr,
    libc::SYS_sched_getparam,
    libc::SYS_sched_get_priority_max,
    libc::SYS_sched_get_priority_min,
    libc::SYS_sched_getscheduler,
    libc::SYS_sched_rr_get_interval,
    libc::SYS_sched_setaffinity,
    libc::SYS_sched_setattr,
    libc::SYS_sched_setparam,
    libc::SYS_sched_setscheduler,
    libc::SYS_sched_yield,
    libc::SYS_seccomp,
    libc::SYS_select,
    libc::SYS_semctl,
    libc::SYS_semget,
    libc::SYS_semop,
    libc::SYS_semtimedop,
    libc::SYS_sendfile,
    libc::SYS_sendmmsg,
    libc::SYS_sendmsg,
    libc::SYS_sendto,
    libc::SYS_setfsgid,
    libc::SYS_setfsuid,
    libc::SYS_setgid,
    libc::SYS_setgroups,
    libc::SYS_setitimer,
    libc::SYS_setpgid,
    libc::SYS_setpriority,
    libc::SYS_setregid,
    libc::SYS_setresgid,
    libc::SYS_setresuid,
    libc::SYS_setreuid,
    libc::SYS_setrlimit,
    libc::SYS_set_robust_list,
    libc::SYS_setsid,
    libc::SYS_setsockopt,
    libc::SYS_set_thread_area,
    libc::SYS_set_tid_address,
    libc::SYS_setuid,
    libc::SYS_setxattr,
    libc::SYS_shmat,
    libc::SYS_shmctl,
    libc::SYS_shmdt,
    libc::SYS_shmget,
    libc::SYS_shutdown,
    libc::SYS_sigaltstack,
    libc::SYS_signalfd,
    libc::SYS_signalfd4,
    libc::SYS_socketpair,
    libc::SYS_splice,
    libc::SYS_stat,
    libc::SYS_statfs,
    libc::SYS_statx,
    libc::SYS_symlink,
    libc::SYS_symlinkat,
    libc::SYS_sync,
    libc::SYS_sync_file_range,
    libc::SYS_syncfs,
    libc::SYS_sysinfo,
    libc::SYS_tee,
    libc::SYS_tgkill,
    libc::SYS_time,
    libc::SYS_timer_create,
    libc::SYS_timer_delete,
    libc::SYS_timer_getoverrun,
    libc::SYS_timer_gettime,
    libc::SYS_timer_settime,
    libc::SYS_timerfd_create,
    libc::SYS_timerfd_gettime,
    libc::SYS_timerfd_settime,
    libc::SYS_times,
    libc::SYS_tkill,
    libc::SYS_truncate,
    libc::SYS_umask,
    libc::SYS_uname,
    libc::SYS_unlink,
    libc::SYS_unlinkat,
    libc::SYS_utime,
    libc::SYS_utimensat,
    libc::SYS_utimes,
    libc::SYS_vfork,
    libc::SYS_vmsplice,
    libc::SYS_wait4,
    libc::SYS_waitid,
    libc::SYS_write,
    libc::SYS_writev,
];

/// Calls a capability unlocks, as in Docker's profile.
const BY_CAPABILITY: &[(&str, &[libc::c_long])] = &[
    ("CAP_DAC_READ_SEARCH", &[libc::SYS_open_by_handle_at]),
    (
        "CAP_SYS_ADMIN",
        &[
            libc::SYS_bpf,
            libc::SYS_fanotify_init,
            libc::SYS_fsconfig,
            libc::SYS_fsmount,
            libc::SYS_fsopen,
            libc::SYS_fspick,
            libc::SYS_lookup_dcookie,
            libc::SYS_mount,
            libc::SYS_mount_setattr,
            libc::SYS_move_mount,
            libc::SYS_open_tree,
            libc::SYS_perf_event_open,
            libc::SYS_quotactl,
            libc::SYS_quotactl_fd,
            libc::SYS_setdomainname,
            libc::SYS_sethostname,
            libc::SYS_setns,
            libc::SYS_syslog,
            libc::SYS_umount2,
            libc::SYS_unshare,
        ],
    ),
    ("CAP_SYS_BOOT", &[libc::SYS_reboot]),
    ("CAP_SYS_CHROOT", &[libc::SYS_chroot]),
    (
        "CAP_SYS_MODULE",
        &[
            libc::SYS_delete_module,
            libc::SYS_init_module,
            libc::SYS_finit_module,
        ],
    ),
    ("CAP_SYS_PACCT", &[libc::SYS_acct]),
    (
        "CAP_SYS_PTRACE",
        &[
            libc::SYS_kcmp,
            libc::SYS_pidfd_getfd,
            libc::SYS_process_madvise,
        ],
    ),
    ("CAP_SYS_RAWIO", &[libc::SYS_iopl, libc::SYS_ioperm]),
    (
        "CAP_SYS_TIME",
        &[libc::SYS_settimeofday, libc::SYS_clock_settime],
    ),
    ("CAP_SYS_TTY_CONFIG", &[libc::SYS_vhangup]),
    (
        "CAP_SYS_NICE",
        &[
            libc::SYS_get_mempolicy,
            libc::SYS_mbind,
            libc::SYS_set_mempolicy,
            libc::SYS_set_mempolicy_home_node,
        ],
    ),
    ("CAP_SYSLOG", &[libc::SYS_syslog]),
    ("CAP_BPF", &[libc::SYS_bpf]),
    ("CAP_PERFMON", &[libc::SYS_perf_event_open]),
];

/// `personality` values Docker allows: PER_LINUX, PER_LINUX32,
/// UNAME26, UNAME26|PER_LINUX32, and the query 0xffffffff.
const PERSONALITIES: &[u32] = &[0x0, 0x8, 0x20000, 0x20008, 0xffff_ffff];
const AF_VSOCK: u32 = 40;

const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
const X32_SYSCALL_BIT: u32 = 0x4000_0000;
const NEW_NAMESPACES: u32 = (libc::CLONE_NEWNS
    | libc::CLONE_NEWUTS
    | libc::CLONE_NEWIPC
    | libc::CLONE_NEWUSER
    | libc::CLONE_NEWPID
    | libc::CLONE_NEWNET
    | libc::CLONE_NEWCGROUP) as u32;

/// Offsets into `struct seccomp_data`.
const NR: u32 = 0;
const ARCH: u32 = 4;
const ARG0_LOW: u32 = 16;

fn stmt(code: u32, k: u32) -> libc::sock_filter {
    libc::sock_filter {
        code: code as u16,
        jt: 0,
        jf: 0,
        k,
    }
}

fn jump(code: u32, k: u32, jt: u8, jf: u8) -> libc::sock_filter {
    libc::sock_filter {
        code: code as u16,
        jt,
        jf,
        k,
    }
}

fn errno(e: i32) -> u32 {
    libc::SECCOMP_RET_ERRNO | (e as u32 & libc::SECCOMP_RET_DATA)
}

/// The sorted, merged ranges of allowed call numbers for `caps`.
fn allowed_ranges(caps: &[String]) -> Vec<(u32, u32)> {
    let mut nrs: Vec<u32> = ALLOWED.iter().map(|n| *n as u32).collect();
    for (cap, calls) in BY_CAPABILITY {
        if caps.iter().any(|c| c == cap) {
            nrs.extend(calls.iter().map(|n| *n as u32));
        }
    }
    nrs.sort_unstable();
    nrs.dedup();
    let mut ranges: Vec<(u32, u32)> = Vec::new();
    for n in nrs {
        match ranges.last_mut() {
            Some((_, hi)) if *hi + 1 == n => *hi = n,
            _ => ranges.push((n, n)),
        }
    }
    ranges
}

/// The BPF program for a container holding `caps` (names like `CAP_CHOWN`).
fn program(caps: &[String]) -> Vec<libc::sock_filter> {
    use libc::{
        BPF_ABS, BPF_JEQ, BPF_JGE, BPF_JGT, BPF_JMP, BPF_JSET, BPF_K, BPF_LD, BPF_RET, BPF_W,
    };
    let load = |off: u32| stmt(BPF_LD | BPF_W | BPF_ABS, off);
    let ret = |k: u32| stmt(BPF_RET | BPF_K, k);
    let allow = libc::SECCOMP_RET_ALLOW;
    let deny = errno(libc::EPERM);
    let sys_admin = caps.iter().any(|c| c == "CAP_SYS_ADMIN");

    let mut p = vec![
        // x86-64 only; i386 and x32 calls are refused.
        load(ARCH),
        jump(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        ret(deny),
        load(NR),
        jump(BPF_JMP | BPF_JGE | BPF_K, X32_SYSCALL_BIT, 0, 1),
        ret(deny),
    ];
    // clone and clone3: free with CAP_SYS_ADMIN; otherwise no new
    // namespaces, and clone3 (flags behind a pointer) answers ENOSYS.
    let (clone_rule, clone3_rule) = if sys_admin {
        (vec![ret(allow)], ret(allow))
    } else {
        (
            vec![
                load(ARG0_LOW),
                jump(BPF_JMP | BPF_JSET | BPF_K, NEW_NAMESPACES, 0, 1),
                ret(deny),
                ret(allow),
            ],
            ret(errno(libc::ENOSYS)),
        )
    };
    p.push(jump(
        BPF_JMP | BPF_JEQ | BPF_K,
        libc::SYS_clone as u32,
        0,
        clone_rule.len() as u8,
    ));
    p.extend(clone_rule);
    p.push(jump(
        BPF_JMP | BPF_JEQ | BPF_K,
        libc::SYS_clone3 as u32,
        0,
        1,
    ));
    p.push(clone3_rule);
    // socket: anything but AF_VSOCK.
    p.extend([
        jump(BPF_JMP | BPF_JEQ | BPF_K, libc::SYS_socket as u32, 0, 4),
        load(ARG0_LOW),
        jump(BPF_JMP | BPF_JEQ | BPF_K, AF_VSOCK, 0, 1),
        ret(deny),
        ret(allow),
    ]);
    // personality: the listed values only.
    let n = PERSONALITIES.len() as u8;
    p.push(jump(
        BPF_JMP | BPF_JEQ | BPF_K,
        libc::SYS_personality as u32,
        0,
        n + 3,
    ));
    p.push(load(ARG0_LOW));
    for (i, v) in PERSONALITIES.iter().enumerate() {
        // On a match, jump over the remaining compares and the deny.
        p.push(jump(BPF_JMP | BPF_JEQ | BPF_K, *v, n - i as u8, 0));
    }
    p.push(ret(deny));
    p.push(ret(allow));
    // Everything else: the allowed ranges, in ascending order. The
    // accumulator holds the call number again.
    p.push(load(NR));
    let ranges = allowed_ranges(caps);
    let checks = ranges.len() * 2;
    for (i, (lo, hi)) in ranges.iter().enumerate() {
        // Past this range: try the next one. Within it: allowed. Below it:
        // below every later range too, so refused.
        let to_end = (checks - i * 2 - 2) as u8; // instructions after this pair
        p.push(jump(BPF_JMP | BPF_JGT | BPF_K, *hi, 1, 0));
        p.push(jump(BPF_JMP | BPF_JGE | BPF_K, *lo, to_end + 1, to_end));
    }
    p.push(ret(deny));
    p.push(ret(allow));
    p
}

/// Installs the filter on this process for a container holding `caps`
/// (needs `no_new_privs` or CAP_SYS_ADMIN first).
pub fn install(caps: &[String]) -> io::Result<()> {
    let filter = program(caps);
    let prog = libc::sock_fprog {
        len: filter.len() as u16,
        filter: filter.as_ptr() as *mut libc::sock_filter,
    };
    // SAFETY: a valid sock_fprog that outlives the call.
    let r = unsafe {
        libc::prctl(
            libc::PR_SET_SECCOMP,
            libc::SECCOMP_MODE_FILTER as libc::c_ulong,
            &prog as *const libc::sock_fprog as libc::c_ulong,
            0,
            0,
        )
    };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the program on one call the way the kernel would.
    fn verdict(p: &[libc::sock_filter], arch: u32, nr: u32, arg0: u32) -> u32 {
        let mut pc = 0usize;
        let mut acc = 0u32;
        loop {
            let i = p[pc];
            let code = u32::from(i.code);
            if code == libc::BPF_LD | libc::BPF_W | libc::BPF_ABS {
                acc = match i.k {
                    NR => nr,
                    ARCH => arch,
                    ARG0_LOW => arg0,
                    k => panic!("load of offset {k}"),
                };
                pc += 1;
            } else if code & 0x07 == libc::BPF_RET {
                return i.k;
            } else {
                let taken = match code & 0xf0 {
                    c if c == libc::BPF_JEQ => acc == i.k,
                    c if c == libc::BPF_JGT => acc > i.k,
                    c if c == libc::BPF_JGE => acc >= i.k,
                    c if c == libc::BPF_JSET => acc & i.k != 0,
                    c => panic!("jump {c:#x}"),
                };
                pc += 1 + usize::from(if taken { i.jt } else { i.jf });
            }
        }
    }

    fn run(caps: &[&str], nr: libc::c_long, arg0: u32) -> u32 {
        let caps: Vec<String> = caps.iter().map(|c| c.to_string()).collect();
        verdict(&program(&caps), AUDIT_ARCH_X86_64, nr as u32, arg0)
    }

    const ALLOW: u32 = libc::SECCOMP_RET_ALLOW;

    #[test]
    fn every_listed_call_is_allowed_and_others_refused() {
        for nr in ALLOWED {
            assert_eq!(run(&[], *nr, 0), ALLOW, "call {nr}");
        }
        for nr in [
            libc::SYS_mount,
            libc::SYS_umount2,
            libc::SYS_reboot,
            libc::SYS_kexec_load,
            libc::SYS_init_module,
            libc::SYS_bpf,
            libc::SYS_keyctl,
            libc::SYS_add_key,
            libc::SYS_unshare,
            libc::SYS_setns,
            libc::SYS_pivot_root,
            libc::SYS_swapon,
            libc::SYS_userfaultfd,
            libc::SYS_settimeofday,
            libc::SYS_chroot,
            libc::SYS_open_by_handle_at,
            999,
        ] {
            assert_eq!(run(&[], nr, 0), errno(libc::EPERM), "call {nr}");
        }
        // Every number from 0 to 460 lands on a return, never off the end.
        for nr in 0..460 {
            let _ = run(&[], nr, 0);
        }
    }

    #[test]
    fn capabilities_unlock_their_calls() {
        assert_eq!(run(&["CAP_SYS_ADMIN"], libc::SYS_mount, 0), ALLOW);
        assert_eq!(run(&["CAP_SYS_CHROOT"], libc::SYS_chroot, 0), ALLOW);
        assert_eq!(run(&["CAP_SYS_TIME"], libc::SYS_settimeofday, 0), ALLOW);
        assert_eq!(run(&["CAP_SYS_PTRACE"], libc::SYS_kcmp, 0), ALLOW);
        assert_eq!(
            run(&["CAP_SYS_CHROOT"], libc::SYS_mount, 0),
            errno(libc::EPERM)
        );
    }

    #[test]
    fn argument_rules() {
        let newnet = libc::CLONE_NEWNET as u32;
        assert_eq!(run(&[], libc::SYS_clone, libc::SIGCHLD as u32), ALLOW);
        assert_eq!(run(&[], libc::SYS_clone, newnet), errno(libc::EPERM));
        assert_eq!(run(&["CAP_SYS_ADMIN"], libc::SYS_clone, newnet), ALLOW);
        assert_eq!(run(&[], libc::SYS_clone3, 0), errno(libc::ENOSYS));
        assert_eq!(run(&["CAP_SYS_ADMIN"], libc::SYS_clone3, 0), ALLOW);
        assert_eq!(run(&[], libc::SYS_socket, libc::AF_INET as u32), ALLOW);
        assert_eq!(run(&[], libc::SYS_socket, AF_VSOCK), errno(libc::EPERM));
        for v in PERSONALITIES {
            assert_eq!(run(&[], libc::SYS_personality, *v), ALLOW);
        }
        assert_eq!(
            run(&[], libc::SYS_personality, 0x0040_0000),
            errno(libc::EPERM)
        );
    }

    #[test]
    fn other_architectures_are_refused() {
        let p = program(&[]);
        assert_eq!(verdict(&p, 0x4000_0003, 1, 0), errno(libc::EPERM)); // i386
        let x32_write = X32_SYSCALL_BIT | libc::SYS_write as u32;
        assert_eq!(
            verdict(&p, AUDIT_ARCH_X86_64, x32_write, 0),
            errno(libc::EPERM)
        );
    }

    #[test]
    fn the_program_is_small() {
        assert!(program(&[]).len() < 200, "{}", program(&[]).len());
    }
}
