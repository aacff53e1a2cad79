//! The seccomp filter every sandboxed command runs under: the system calls
//! it never needs, and the network when it is off.
//!
//! The program is written here rather than generated, for speed: the
//! kernel, when a filter is installed, runs it once for every system call
//! number to find the calls it always allows (its cache), and it compiles
//! it. A linear chain of comparisons made that the most expensive step of
//! a spawn; a binary search over the call numbers takes a few comparisons
//! per number instead.

use std::sync::{Arc, OnceLock};

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

/// What the filter does with one system call number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    Deny,
    /// `mknod`-like: denied when the mode argument (its index) makes a
    /// character or block device (a new `/dev/kmsg`, a disk); pipes and
    /// files stay.
    DeviceNode(u32),
    /// `ioctl`: typing into the terminal (`TIOCSTI`) or pasting the
    /// console's selection (`TIOCLINUX`).
    TerminalInjection,
    /// `socket` while the network is off: any family but `AF_UNIX` (TCP,
    /// UDP, raw, netlink, packet).
    NotUnixSocket,
}

/// A compiled filter, shared by every spawn of one network setting.
#[derive(Debug)]
pub(super) struct Filter(Vec<libc::sock_filter>);

impl Filter {
    /// Installs the filter on the calling thread. Runs in the child before
    /// `execve` (no allocation); `no_new_privs` must be set.
    pub(super) fn apply(&self) -> Result<(), ()> {
        let program = libc::sock_fprog {
            len: u16::try_from(self.0.len()).unwrap_or(u16::MAX),
            filter: self.0.as_ptr().cast_mut(),
        };
        // SAFETY: seccomp reads the program (length given) for the call.
        let installed = unsafe {
            libc::syscall(
                libc::SYS_seccomp,
                libc::SECCOMP_SET_MODE_FILTER,
                0,
                &raw const program,
            )
        };
        if installed == 0 { Ok(()) } else { Err(()) }
    }
}

/// The filter for one network setting, compiled once per process.
pub(super) fn seccomp_filter(network: bool) -> Result<Arc<Filter>, String> {
    static WITH_NETWORK: OnceLock<Arc<Filter>> = OnceLock::new();
    static WITHOUT_NETWORK: OnceLock<Arc<Filter>> = OnceLock::new();
    let cell = if network {
        &WITH_NETWORK
    } else {
        &WITHOUT_NETWORK
    };
    let filter = Arc::clone(cell.get_or_init(|| Arc::new(Filter(program(network)))));
    if filter.0.len() > usize::from(u16::MAX) {
        return Err(format!("the filter has {} instructions", filter.0.len()));
    }
    Ok(filter)
}

/// The audit architecture this wharf was built for (`<linux/audit.h>`).
#[cfg(target_arch = "x86_64")]
const NATIVE_ARCH: u32 = 62 | 0x8000_0000 | 0x4000_0000;
#[cfg(target_arch = "aarch64")]
const NATIVE_ARCH: u32 = 183 | 0x8000_0000 | 0x4000_0000;

/// Offsets in `struct seccomp_data`: the call number, the architecture, and
/// the low 32 bits of argument `index` (what the kernel reads of an `int`
/// or of an ioctl request).
const NR: u32 = 0;
const ARCH: u32 = 4;
fn arg_low(index: u32) -> u32 {
    let high_first = if cfg!(target_endian = "big") { 4 } else { 0 };
    16 + 8 * index + high_first
}

/// `__X32_SYSCALL_BIT` of `<asm/unistd.h>`.
#[cfg(target_arch = "x86_64")]
const X32_SYSCALL_BIT: u32 = 0x4000_0000;

const RET_ALLOW: u32 = libc::SECCOMP_RET_ALLOW;
const RET_DENY: u32 = libc::SECCOMP_RET_ERRNO | libc::EPERM as u32;
/// Another architecture's call (a 32-bit program on a 64-bit kernel) would
/// reach denied calls by other numbers: the process is killed.
const RET_KILL: u32 = libc::SECCOMP_RET_KILL_PROCESS;

fn statement(code: u32, k: u32) -> libc::sock_filter {
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

fn load(offset: u32) -> libc::sock_filter {
    statement(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS, offset)
}

fn ret(value: u32) -> libc::sock_filter {
    statement(libc::BPF_RET | libc::BPF_K, value)
}

/// `if A == k` jump `jt` forward, else `jf`.
fn jeq(k: u32, jt: u8, jf: u8) -> libc::sock_filter {
    jump(libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K, k, jt, jf)
}

/// The rules of one network setting, sorted by call number.
fn rules(network: bool) -> Vec<(u32, Rule)> {
    let mut rules: Vec<(i64, Rule)> = ALWAYS_DENIED.iter().map(|&nr| (nr, Rule::Deny)).collect();
    #[cfg(target_arch = "x86_64")]
    rules.push((libc::SYS_mknod, Rule::DeviceNode(1)));
    rules.push((libc::SYS_mknodat, Rule::DeviceNode(2)));
    rules.push((libc::SYS_ioctl, Rule::TerminalInjection));
    if !network {
        rules.push((libc::SYS_socket, Rule::NotUnixSocket));
    }
    let mut rules: Vec<(u32, Rule)> = rules
        .into_iter()
        .filter_map(|(nr, rule)| Some((u32::try_from(nr).ok()?, rule)))
        .collect();
    rules.sort_unstable_by_key(|(nr, _)| *nr);
    rules.dedup_by_key(|(nr, _)| *nr);
    rules
}

/// The whole program: the architecture check, then (x86_64) the x32 guard,
/// then a binary search over the rules' call numbers; a number without a
/// rule is allowed.
fn program(network: bool) -> Vec<libc::sock_filter> {
    let mut program = vec![load(ARCH), jeq(NATIVE_ARCH, 1, 0), ret(RET_KILL), load(NR)];
    #[cfg(target_arch = "x86_64")]
    program.extend([
        jump(
            libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K,
            X32_SYSCALL_BIT,
            0,
            1,
        ),
        ret(RET_DENY),
    ]);
    program.extend(search(&rules(network)));
    program
}

/// Code that, with the call number in A, applies the rule of `rules`
/// (sorted) with that number, or allows the call. Every path returns.
fn search(rules: &[(u32, Rule)]) -> Vec<libc::sock_filter> {
    /// Below this many rules a chain of comparisons is as short as a split.
    const CHAIN: usize = 4;
    if rules.len() <= CHAIN {
        let mut code = Vec::new();
        for (nr, rule) in rules {
            let block = rule_block(*rule);
            code.push(jeq(*nr, 0, offset(block.len())));
            code.extend(block);
        }
        code.push(ret(RET_ALLOW));
        return code;
    }
    let (low, high) = rules.split_at(rules.len() / 2);
    let low_code = search(low);
    let high_code = search(high);
    // `if A >= high[0]` go to the high half, else fall into the low one.
    let mut code = vec![jump(
        libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K,
        high[0].0,
        0,
        0,
    )];
    let low_len = low_code.len();
    // Over 255 instructions a conditional jump cannot reach: jump there
    // with an unconditional one.
    if low_len <= usize::from(u8::MAX) {
        code[0].jt = offset(low_len);
    } else {
        code[0].jf = 1;
        code.push(statement(
            libc::BPF_JMP | libc::BPF_JA,
            u32::try_from(low_len).unwrap_or(u32::MAX),
        ));
    }
    code.extend(low_code);
    code.extend(high_code);
    code
}

/// A jump offset that the builder knows fits (the blocks are short).
fn offset(len: usize) -> u8 {
    u8::try_from(len).unwrap_or(u8::MAX)
}

/// The instructions of one rule, with the call number in A; they return.
fn rule_block(rule: Rule) -> Vec<libc::sock_filter> {
    match rule {
        Rule::Deny => vec![ret(RET_DENY)],
        Rule::DeviceNode(mode) => vec![
            load(arg_low(mode)),
            statement(libc::BPF_ALU | libc::BPF_AND | libc::BPF_K, libc::S_IFMT),
            jeq(libc::S_IFCHR, 2, 0),
            jeq(libc::S_IFBLK, 1, 0),
            ret(RET_ALLOW),
            ret(RET_DENY),
        ],
        Rule::TerminalInjection => vec![
            load(arg_low(1)),
            jeq(libc::TIOCSTI as u32, 2, 0),
            jeq(libc::TIOCLINUX as u32, 1, 0),
            ret(RET_ALLOW),
            ret(RET_DENY),
        ],
        Rule::NotUnixSocket => vec![
            load(arg_low(0)),
            jeq(libc::AF_UNIX as u32, 0, 1),
            ret(RET_ALLOW),
            ret(RET_DENY),
        ],
    }
}

#[cfg(test)]
mod tests;
