//! OS-level confinement of the job process, applied after the module is compiled (or loaded from
//! the cache) and before it is instantiated: rlimits, then a seccomp-BPF allowlist (Linux).
//!
//! After this point the process can only compute, map non-executable memory, use the pipes and
//! threads it already has, read clocks and random bytes, and exit. Everything else — open/openat,
//! socket/connect, execve, fork/clone, ptrace, new executable mappings, … — fails with EPERM (not a
//! kill, so the test hook can observe the refusal), so even a bug in the engine cannot reach files
//! or the network.

#[cfg(target_os = "linux")]
mod linux {
    use seccompiler::{
        BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter, SeccompRule,
    };
    use std::collections::BTreeMap;

    fn allowed_syscalls() -> Vec<i64> {
        let mut v = vec![
            libc::SYS_read,
            libc::SYS_write,
            libc::SYS_readv,
            libc::SYS_pread64,
            libc::SYS_writev,
            libc::SYS_close,
            libc::SYS_munmap,
            libc::SYS_madvise,
            libc::SYS_mremap,
            libc::SYS_brk,
            libc::SYS_futex,
            libc::SYS_rt_sigreturn,
            libc::SYS_rt_sigprocmask,
            libc::SYS_rt_sigaction,
            libc::SYS_sigaltstack,
            libc::SYS_clock_gettime,
            libc::SYS_clock_getres,
            libc::SYS_clock_nanosleep,
            libc::SYS_nanosleep,
            libc::SYS_sched_yield,
            libc::SYS_sched_getaffinity,
            libc::SYS_getrandom,
            libc::SYS_exit,
            libc::SYS_exit_group,
            libc::SYS_getpid,
            libc::SYS_gettid,
            libc::SYS_getrusage,
            libc::SYS_membarrier,
            libc::SYS_restart_syscall,
            libc::SYS_rseq,
            libc::SYS_ppoll,
        ];
        #[cfg(target_arch = "x86_64")]
        v.extend_from_slice(&[libc::SYS_poll]);
        v
    }

    fn no_exec(arg: u8) -> SeccompRule {
        SeccompRule::new(vec![SeccompCondition::new(
            arg,
            SeccompCmpArgLen::Dword,
            SeccompCmpOp::MaskedEq(libc::PROT_EXEC as u64),
            0,
        )
        .expect("valid condition")])
        .expect("valid rule")
    }

    /// Built ahead of the job (warm) so applying it costs only the prctl/seccomp calls.
    pub fn build_filter() -> Result<BpfProgram, String> {
        let mut rules: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
        for s in allowed_syscalls() {
            rules.insert(s, vec![]);
        }
        // memory may be mapped or re-protected, but never executable (all code is mapped already)
        rules.insert(libc::SYS_mmap, vec![no_exec(2)]);
        rules.insert(libc::SYS_mprotect, vec![no_exec(2)]);
        // signals only to ourselves (a panic's abort raises SIGABRT)
        let pid = unsafe { libc::getpid() } as u64;
        rules.insert(
            libc::SYS_tgkill,
            vec![SeccompRule::new(vec![SeccompCondition::new(0, SeccompCmpArgLen::Dword, SeccompCmpOp::Eq, pid).map_err(|e| e.to_string())?])
                .map_err(|e| e.to_string())?],
        );
        let arch = std::env::consts::ARCH.try_into().map_err(|e: seccompiler::BackendError| e.to_string())?;
        let filter = SeccompFilter::new(rules, SeccompAction::Errno(libc::EPERM as u32), SeccompAction::Allow, arch)
            .map_err(|e| e.to_string())?;
        filter.try_into().map_err(|e: seccompiler::BackendError| e.to_string())
    }

    pub fn apply_filter(prog: &BpfProgram) -> Result<(), String> {
        // TSYNC: every thread of the process (reader, writer, ticker, job) gets the filter.
        seccompiler::apply_filter_all_threads(prog).map_err(|e| e.to_string())
    }

    pub fn vm_size_bytes() -> Option<u64> {
        let s = std::fs::read_to_string("/proc/self/status").ok()?;
        let line = s.lines().find(|l| l.starts_with("VmSize:"))?;
        let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb * 1024)
    }

    /// Sets soft and hard limit (lowering the hard limit cannot be undone).
    pub fn set_rlimit(resource: libc::__rlimit_resource_t, value: u64) -> Result<(), String> {
        let mut cur = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        unsafe { libc::getrlimit(resource, &mut cur) };
        let v = (value as libc::rlim_t).min(cur.rlim_max);
        let lim = libc::rlimit { rlim_cur: v, rlim_max: v };
        if unsafe { libc::setrlimit(resource, &lim) } != 0 {
            return Err(format!("setrlimit({resource}) failed: {}", std::io::Error::last_os_error()));
        }
        Ok(())
    }

    /// Lowers (or restores, up to the hard limit) the soft limit only.
    pub fn set_soft_rlimit(resource: libc::__rlimit_resource_t, value: u64) -> Result<(), String> {
        let mut cur = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        unsafe { libc::getrlimit(resource, &mut cur) };
        let lim = libc::rlimit { rlim_cur: (value as libc::rlim_t).min(cur.rlim_max), rlim_max: cur.rlim_max };
        if unsafe { libc::setrlimit(resource, &lim) } != 0 {
            return Err(format!("setrlimit({resource}) failed: {}", std::io::Error::last_os_error()));
        }
        Ok(())
    }

    /// Address-space cap while compiling (soft: the running phase sets its own, final, cap).
    pub fn limit_compile_address_space(bytes: u64) -> Result<(), String> {
        set_soft_rlimit(libc::RLIMIT_AS, bytes)
    }

    /// Final address-space cap of the running phase (soft and hard).
    pub fn limit_address_space(bytes: u64) -> Result<(), String> {
        set_rlimit(libc::RLIMIT_AS, bytes)
    }

    /// The rlimits of the running phase. RLIMIT_AS is set by the caller (it depends on the job).
    pub fn apply_rlimits() -> Result<(), String> {
        set_rlimit(libc::RLIMIT_CORE, 0)?;
        set_rlimit(libc::RLIMIT_FSIZE, 0)?;
        // no new descriptors beyond the stdio pipes (seccomp refuses open/socket/pipe anyway)
        set_rlimit(libc::RLIMIT_NOFILE, 3)?;
        // no new processes or threads (ignored for root, seccomp refuses clone anyway)
        set_rlimit(libc::RLIMIT_NPROC, 0)?;
        Ok(())
    }

    /// Test hook: what an escaping guest (or an engine bug) would try after sandboxing.
    pub fn probe() -> String {
        fn errno_of(r: i64) -> i32 {
            if r >= 0 { 0 } else { std::io::Error::last_os_error().raw_os_error().unwrap_or(-1) }
        }
        let path = c"/etc/passwd";
        let fd = unsafe { libc::open(path.as_ptr(), libc::O_RDONLY) };
        let open_errno = errno_of(fd as i64);
        let fd2 = unsafe { libc::openat(libc::AT_FDCWD, path.as_ptr(), libc::O_RDONLY) };
        let openat_errno = errno_of(fd2 as i64);
        let s = unsafe { libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0) };
        let socket_errno = errno_of(s as i64);
        let argv = [c"/bin/true".as_ptr(), std::ptr::null()];
        let envp = [std::ptr::null()];
        let ex = unsafe { libc::execve(argv[0], argv.as_ptr(), envp.as_ptr()) };
        let execve_errno = errno_of(ex as i64);
        let pid = unsafe { libc::syscall(libc::SYS_clone, libc::SIGCHLD as libc::c_ulong, 0usize, 0usize, 0usize, 0usize) };
        if pid == 0 {
            crate::alloc::hard_exit(0);
        }
        let clone_errno = errno_of(pid);
        let mmap = unsafe {
            libc::mmap(std::ptr::null_mut(), 4096, libc::PROT_READ | libc::PROT_EXEC, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS, -1, 0)
        };
        let mmap_exec_errno = if mmap == libc::MAP_FAILED { errno_of(-1) } else { 0 };
        format!(
            "{{\"open_errno\":{open_errno},\"openat_errno\":{openat_errno},\"socket_errno\":{socket_errno},\"execve_errno\":{execve_errno},\"clone_errno\":{clone_errno},\"mmap_exec_errno\":{mmap_exec_errno}}}"
        )
    }
}

#[cfg(target_os = "linux")]
pub use linux::*;

#[cfg(not(target_os = "linux"))]
mod other {
    //! Not Linux: no seccomp and no rlimit-based address-space cap (documented in docs/SANDBOX.md).
    //! The job is still confined by WASI (no preopens, no sockets) and by Wasmtime's limits.
    pub struct BpfProgram;
    pub fn build_filter() -> Result<BpfProgram, String> {
        Ok(BpfProgram)
    }
    pub fn apply_filter(_: &BpfProgram) -> Result<(), String> {
        Err("seccomp is Linux-only".into())
    }
    pub fn vm_size_bytes() -> Option<u64> {
        None
    }
    pub fn limit_address_space(_: u64) -> Result<(), String> {
        Ok(())
    }
    pub fn limit_compile_address_space(_: u64) -> Result<(), String> {
        Ok(())
    }
    pub fn apply_rlimits() -> Result<(), String> {
        Ok(())
    }
    pub fn probe() -> String {
        "{}".into()
    }
}

#[cfg(not(target_os = "linux"))]
pub use other::*;
