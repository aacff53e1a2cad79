//! The seccomp filter every sandboxed command runs under: the system calls
//! it never needs, and the network when it is off.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};

/// System calls a command never makes: inspecting or steering other
/// processes; changing the mounts, with the old or the new mount API (the
/// protected paths are read-only mounts); io_uring, which can open sockets
/// without the `socket` call; and what only root could do, should a
/// capability survive: the host's name, reboot, kexec, kernel modules,
/// swap, the kernel's keyrings, BPF, performance counters, and
/// `userfaultfd` (a tool to win races in the kernel).
const ALWAYS_DENIED: &[i64] = &[
    libc::SYS_ptrace,
    libc::SYS_process_vm_readv,
    libc::SYS_process_vm_writev,
    libc::SYS_mount,
    libc::SYS_umount2,
    libc::SYS_pivot_root,
    libc::SYS_open_tree,
    libc::SYS_move_mount,
    libc::SYS_fsopen,
    libc::SYS_fsconfig,
    libc::SYS_fsmount,
    libc::SYS_fspick,
    libc::SYS_mount_setattr,
    libc::SYS_io_uring_setup,
    libc::SYS_io_uring_enter,
    libc::SYS_io_uring_register,
    libc::SYS_reboot,
    libc::SYS_sethostname,
    libc::SYS_setdomainname,
    libc::SYS_kexec_load,
    libc::SYS_kexec_file_load,
    libc::SYS_init_module,
    libc::SYS_finit_module,
    libc::SYS_delete_module,
    libc::SYS_swapon,
    libc::SYS_swapoff,
    libc::SYS_keyctl,
    libc::SYS_add_key,
    libc::SYS_request_key,
    libc::SYS_bpf,
    libc::SYS_perf_event_open,
    libc::SYS_userfaultfd,
];

/// The filter for one network setting, compiled once per process.
pub(super) fn seccomp_filter(network: bool) -> Result<Arc<BpfProgram>, String> {
    static WITH_NETWORK: OnceLock<Result<Arc<BpfProgram>, String>> = OnceLock::new();
    static WITHOUT_NETWORK: OnceLock<Result<Arc<BpfProgram>, String>> = OnceLock::new();
    let cell = if network {
        &WITH_NETWORK
    } else {
        &WITHOUT_NETWORK
    };
    cell.get_or_init(|| compile_filter(network).map(Arc::new))
        .clone()
}

fn compile_filter(network: bool) -> Result<BpfProgram, String> {
    let arch = TargetArch::try_from(std::env::consts::ARCH).map_err(|err| err.to_string())?;
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    for syscall in ALWAYS_DENIED {
        rules.insert(*syscall, Vec::new());
    }
    // Device nodes (a new /dev/kmsg, a disk); pipes and files stay.
    let device = |mode_arg: u8| -> Result<Vec<SeccompRule>, String> {
        [libc::S_IFCHR, libc::S_IFBLK]
            .into_iter()
            .map(|kind| {
                let condition = SeccompCondition::new(
                    mode_arg,
                    SeccompCmpArgLen::Dword,
                    SeccompCmpOp::MaskedEq(u64::from(libc::S_IFMT)),
                    u64::from(kind),
                )
                .map_err(|err| err.to_string())?;
                SeccompRule::new(vec![condition]).map_err(|err| err.to_string())
            })
            .collect()
    };
    #[cfg(target_arch = "x86_64")]
    rules.insert(libc::SYS_mknod, device(1)?);
    rules.insert(libc::SYS_mknodat, device(2)?);
    // Typing into the terminal (TIOCSTI) or pasting the console's selection
    // (TIOCLINUX). The kernel reads the request as 32 bits, so does the
    // comparison (a Dword is the argument's lower half).
    let requests = [libc::TIOCSTI, libc::TIOCLINUX]
        .into_iter()
        .map(|request| {
            let condition = SeccompCondition::new(
                1,
                SeccompCmpArgLen::Dword,
                SeccompCmpOp::Eq,
                u64::from(request as u32),
            )
            .map_err(|err| err.to_string())?;
            SeccompRule::new(vec![condition]).map_err(|err| err.to_string())
        })
        .collect::<Result<_, String>>()?;
    rules.insert(libc::SYS_ioctl, requests);
    if !network {
        // Any socket but a Unix one: TCP, UDP, raw, netlink, packet.
        let not_unix = SeccompCondition::new(
            0,
            SeccompCmpArgLen::Dword,
            SeccompCmpOp::Ne,
            libc::AF_UNIX as u64,
        )
        .map_err(|err| err.to_string())?;
        let rule = SeccompRule::new(vec![not_unix]).map_err(|err| err.to_string())?;
        rules.insert(libc::SYS_socket, vec![rule]);
    }
    let filter = SeccompFilter::new(
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EPERM as u32),
        arch,
    )
    .map_err(|err| err.to_string())?;
    let program = BpfProgram::try_from(filter).map_err(|err| err.to_string())?;
    #[cfg(target_arch = "x86_64")]
    let program = x32_guard().into_iter().chain(program).collect();
    Ok(program)
}

/// Refuses every system call of the x32 ABI. Its calls pass as x86_64
/// (same audit architecture) with the `__X32_SYSCALL_BIT` added to the
/// number, so on a kernel that has x32 a denied call would get through by
/// that other number. Runs before the compiled filter, which starts by
/// loading the architecture itself.
#[cfg(target_arch = "x86_64")]
fn x32_guard() -> BpfProgram {
    /// `AUDIT_ARCH_X86_64` of `<linux/audit.h>`.
    const AUDIT_ARCH_X86_64: u32 = 62 | 0x8000_0000 | 0x4000_0000;
    /// `__X32_SYSCALL_BIT` of `<asm/unistd.h>`.
    const X32_SYSCALL_BIT: u32 = 0x4000_0000;
    /// Offsets in `struct seccomp_data`.
    const NR: u32 = 0;
    const ARCH: u32 = 4;
    let statement = |code: u32, k: u32| seccompiler::sock_filter {
        code: code as u16,
        jt: 0,
        jf: 0,
        k,
    };
    let jump = |code: u32, k: u32, jt: u8, jf: u8| seccompiler::sock_filter {
        code: code as u16,
        jt,
        jf,
        k,
    };
    let deny = libc::SECCOMP_RET_ERRNO | libc::EPERM as u32;
    vec![
        statement(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS, ARCH),
        // Another architecture: the compiled filter's own check.
        jump(
            libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K,
            AUDIT_ARCH_X86_64,
            0,
            3,
        ),
        statement(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS, NR),
        jump(
            libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K,
            X32_SYSCALL_BIT,
            0,
            1,
        ),
        statement(libc::BPF_RET | libc::BPF_K, deny),
    ]
}
