//! Enforcement on Linux: a mount namespace for the protected paths
//! (`protect.rs`), no capabilities (`caps.rs`), Landlock for files, seccomp
//! for the network, process inspection and what root could still do.

mod caps;
mod protect;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::ffi::{CStr, CString, OsStr, OsString};
use std::fs::File;
use std::io::{self, Read as _};
use std::os::fd::{AsRawFd as _, FromRawFd as _, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use landlock::{
    ABI, Access as _, AccessFs, BitFlags, CompatLevel, Compatible as _, PathBeneath, PathFd,
    Ruleset, RulesetAttr as _, RulesetCreatedAttr as _,
};
use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};

use super::child::{Child, Stdio, StdioKind};
use super::{
    Command, KernelSupport, NETWORK_DISABLED_ENV, Namespaces, PtySize, Sandbox,
    SpawnError,
};
use crate::{PathRules, ReadOnlyAccess, SandboxPolicy};
use protect::{MountFailure, ProtectedMount};

/// `LANDLOCK_CREATE_RULESET_VERSION`: ask for the ABI version.
const LANDLOCK_CREATE_RULESET_VERSION: libc::c_uint = 1;

/// The newest Landlock ABI whose rights we use; newer kernels enforce it
/// as well.
const NEWEST_USED_ABI: u32 = 5;

/// Device files every program may open for writing (redirections to
/// `/dev/null`, terminals).
const WRITABLE_DEVICES: &[&str] = &[
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/tty",
    "/dev/ptmx",
];

/// Read with restricted reads and platform defaults on: what programs need
/// from the kernel's pseudo files. Other processes' `/proc/PID` entries
/// stay out of reach: Landlock denies ptrace-like access across domains.
const RESTRICTED_EXTRA_READ: &[&str] = &["/proc", "/dev/pts"];

pub(super) fn detect() -> KernelSupport {
    // SAFETY: with a null attribute, size 0 and the VERSION flag the call
    // reads no memory and only returns the ABI version (or -1).
    let abi = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<u8>(),
            0usize,
            LANDLOCK_CREATE_RULESET_VERSION,
        )
    };
    // SAFETY: PR_GET_SECCOMP takes no pointers; -1 means no seccomp.
    let seccomp = unsafe { libc::prctl(libc::PR_GET_SECCOMP, 0, 0, 0, 0) } >= 0;
    KernelSupport {
        landlock_abi: u32::try_from(abi).unwrap_or(0),
        seccomp,
        namespaces: probe_namespaces(),
    }
}

/// Creates the namespaces a command gets (user unless root, mount, PID)
/// in a child that mounts its own `/proc` and exits: what every sandboxed
/// spawn will do.
fn probe_namespaces() -> Namespaces {
    extern "C" fn probe(_: *mut libc::c_void) -> libc::c_int {
        let private = mount(None, c"/", libc::MS_REC | libc::MS_PRIVATE);
        let proc = private.and_then(|()| mount_proc());
        // SAFETY: _exit never returns and runs no handlers.
        unsafe {
            libc::_exit(match proc {
                Ok(()) => 0,
                Err(()) => io::Error::last_os_error().raw_os_error().unwrap_or(libc::EPERM),
            })
        }
    }
    let flags = namespace_flags();
    let mut stack = vec![0u8; 64 * 1024];
    let top = stack.as_mut_ptr().wrapping_add(stack.len());
    let top = top.wrapping_sub(top as usize % 16);
    // SAFETY: `probe` makes system calls only, on the stack above, and we
    // are suspended until it exits (CLONE_VFORK).
    let pid = unsafe {
        libc::clone(
            probe,
            top.cast(),
            libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD | flags,
            std::ptr::null_mut(),
        )
    };
    if pid < 0 {
        let errno = io::Error::last_os_error().raw_os_error().unwrap_or(libc::EPERM);
        return Namespaces::Refused { errno };
    }
    let mut status = 0;
    // SAFETY: `status` is a writable int; `pid` is our child.
    while unsafe { libc::waitpid(pid, &mut status, 0) } < 0
        && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted
    {}
    drop(stack);
    match (libc::WIFEXITED(status), libc::WEXITSTATUS(status)) {
        (true, 0) => Namespaces::Available,
        (true, errno) => Namespaces::Refused { errno },
        (false, _) => Namespaces::Refused { errno: libc::EPERM },
    }
}

/// The namespaces a sandboxed command runs in: root needs no user
/// namespace to mount.
fn namespace_flags() -> libc::c_int {
    // SAFETY: geteuid takes no arguments and cannot fail.
    let root = unsafe { libc::geteuid() } == 0;
    let user = if root { 0 } else { libc::CLONE_NEWUSER };
    user | libc::CLONE_NEWNS | libc::CLONE_NEWPID
}

/// Mounts a new `/proc` for the PID namespace the caller is the first
/// process of: it shows that namespace's processes only.
fn mount_proc() -> Result<(), ()> {
    // SAFETY: NUL-terminated strings; no data.
    let mounted = unsafe {
        libc::mount(
            c"proc".as_ptr(),
            c"/proc".as_ptr(),
            c"proc".as_ptr(),
            libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
            std::ptr::null(),
        )
    };
    if mounted == 0 { Ok(()) } else { Err(()) }
}

/// What the child applies before `exec`, prepared by the parent.
struct Enforcement {
    namespace: Option<Namespace>,
    ruleset: OwnedFd,
    filter: Arc<BpfProgram>,
}

struct Namespace {
    /// `Some` when not root: a user namespace is needed to mount.
    user_maps: Option<UserMaps>,
    /// Outermost first.
    mounts: Vec<ProtectedMount>,
}

struct UserMaps {
    uid_map: Vec<u8>,
    gid_map: Vec<u8>,
}

pub(super) fn start(
    sandbox: &Sandbox,
    command: Command,
    cwd: &Path,
    pty: Option<PtySize>,
) -> Result<(Child, Option<File>), SpawnError> {
    let enforcement = match sandbox.policy() {
        SandboxPolicy::DangerFullAccess => None,
        _ => Some(prepare(sandbox)?),
    };
    launch(sandbox.policy(), enforcement, command, cwd, pty)
}

/// Starts `command` with `enforcement` prepared (the seam where tests
/// change the file system between the parent's checks and the child).
fn launch(
    policy: &SandboxPolicy,
    enforcement: Option<Enforcement>,
    command: Command,
    cwd: &Path,
    pty: Option<PtySize>,
) -> Result<(Child, Option<File>), SpawnError> {
    let program = command.program();
    let io_error = |source: io::Error| SpawnError::Io {
        program: program.clone(),
        source,
    };

    let Command {
        argv,
        env_clear,
        env,
        stdin,
        stdout,
        stderr,
        own_group,
        ..
    } = command;
    let env = environment(env_clear, env, policy.has_network_access());
    let executable = find_executable(&argv[0], &env).ok_or_else(|| SpawnError::NotFound {
        program: program.clone(),
    })?;
    let strings = ExecStrings::new(&executable, &argv, &env, cwd).map_err(io_error)?;

    // The child's fds 0, 1 and 2, and the parent's ends of any pipes.
    let mut parent_ends: [Option<File>; 3] = [None, None, None];
    let mut child_fds: [Option<OwnedFd>; 3] = [None, None, None];
    let master = match pty {
        Some(size) => {
            let (master, slave) = open_pty(size).map_err(io_error)?;
            child_fds = [
                Some(slave.try_clone().map_err(io_error)?),
                Some(slave.try_clone().map_err(io_error)?),
                Some(slave),
            ];
            Some(File::from(master))
        }
        None => {
            for (index, stdio) in [stdin, stdout, stderr].into_iter().enumerate() {
                let (child, parent) = child_end(stdio, index == 0).map_err(io_error)?;
                child_fds[index] = child;
                parent_ends[index] = parent;
            }
            None
        }
    };

    let (report_read, report_write) = pipe().map_err(io_error)?;
    let setup = ChildSetup {
        enforcement,
        new_session: pty.is_some(),
        own_group,
        report: report_write.as_raw_fd(),
        strings: &strings,
        stdio: child_fds
            .each_ref()
            .map(|fd| fd.as_ref().map_or(-1, std::os::fd::AsRawFd::as_raw_fd)),
    };
    let pid = clone_vfork(&setup).map_err(io_error)?;
    // The child has exec'd or failed: close the parent's copies of its
    // ends, then read what it reported.
    drop(child_fds);
    drop(report_write);
    if let Some(Failure {
        stage,
        errno,
        mount,
    }) = failed_stage(report_read)
    {
        reap(pid);
        let source = io::Error::from_raw_os_error(errno);
        let mount = setup
            .enforcement
            .as_ref()
            .and_then(|enforcement| enforcement.namespace.as_ref())
            .and_then(|namespace| namespace.mounts.get(usize::from(mount)));
        return Err(match (stage, mount) {
            (Stage::Mounts, Some(mount)) => mount.failed(&source),
            (Stage::Replaced, Some(mount)) => mount.replaced(),
            (Stage::Exec, _) if source.kind() == io::ErrorKind::NotFound => {
                SpawnError::NotFound { program }
            }
            (Stage::Workdir, _) => SpawnError::BadWorkdir {
                path: cwd.to_path_buf(),
                reason: source.to_string(),
            },
            (Stage::Exec, _) => SpawnError::Io { program, source },
            (stage, _) => SpawnError::Enforcement {
                stage: stage.describe(),
                source,
            },
        });
    }
    let [stdin, stdout, stderr] = parent_ends;
    Ok((Child::new(pid, stdin, stdout, stderr), master))
}

/// The child's end of `stdio` and, for a pipe, the parent's.
fn child_end(stdio: Option<Stdio>, is_stdin: bool) -> io::Result<(Option<OwnedFd>, Option<File>)> {
    match stdio.map_or(StdioKind::Inherit, |stdio| stdio.0) {
        StdioKind::Inherit => Ok((None, None)),
        StdioKind::Fd(fd) => Ok((Some(fd), None)),
        StdioKind::Null => {
            let null = File::options().read(true).write(true).open("/dev/null")?;
            Ok((Some(null.into()), None))
        }
        StdioKind::Piped => {
            let (read, write) = pipe()?;
            Ok(if is_stdin {
                (Some(read), Some(File::from(write)))
            } else {
                (Some(write), Some(File::from(read)))
            })
        }
    }
}

/// wharf's environment (unless cleared) with the command's changes, and
/// the network marker.
fn environment(
    env_clear: bool,
    changes: Vec<(OsString, Option<OsString>)>,
    network: bool,
) -> BTreeMap<OsString, OsString> {
    let mut env: BTreeMap<OsString, OsString> = if env_clear {
        BTreeMap::new()
    } else {
        std::env::vars_os().collect()
    };
    for (key, value) in changes {
        match value {
            Some(value) => env.insert(key, value),
            None => env.remove(&key),
        };
    }
    if !network {
        env.insert(NETWORK_DISABLED_ENV.into(), "1".into());
    }
    env
}

/// `program` itself when it names a path, else the first executable file
/// of that name in the command's `PATH` (as `execvp` would look).
fn find_executable(program: &OsStr, env: &BTreeMap<OsString, OsString>) -> Option<PathBuf> {
    if program.as_bytes().contains(&b'/') {
        return Some(PathBuf::from(program));
    }
    if program.is_empty() {
        return None;
    }
    let path = env
        .get(OsStr::new("PATH"))
        .cloned()
        .unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin".into());
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    let Ok(c_path) = CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: a NUL-terminated path and a mode.
    let executable = unsafe { libc::access(c_path.as_ptr(), libc::X_OK) } == 0;
    executable && std::fs::metadata(path).is_ok_and(|metadata| metadata.is_file())
}

/// The NUL-terminated strings and pointer arrays `execve` takes, built
/// before the child exists.
struct ExecStrings {
    program: CString,
    cwd: CString,
    _argv: Vec<CString>,
    _envp: Vec<CString>,
    argv_ptrs: Vec<*const libc::c_char>,
    envp_ptrs: Vec<*const libc::c_char>,
}

impl ExecStrings {
    fn new(
        program: &Path,
        argv: &[OsString],
        env: &BTreeMap<OsString, OsString>,
        cwd: &Path,
    ) -> io::Result<ExecStrings> {
        let c_string = |bytes: &[u8]| {
            CString::new(bytes).map_err(|_| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "an argument contains a NUL byte",
                )
            })
        };
        let argv: Vec<CString> = argv
            .iter()
            .map(|arg| c_string(arg.as_bytes()))
            .collect::<io::Result<_>>()?;
        let envp: Vec<CString> = env
            .iter()
            .map(|(key, value)| {
                let mut pair = key.as_bytes().to_vec();
                pair.push(b'=');
                pair.extend_from_slice(value.as_bytes());
                c_string(&pair)
            })
            .collect::<io::Result<_>>()?;
        let pointers = |strings: &[CString]| {
            strings
                .iter()
                .map(|s| s.as_ptr())
                .chain(std::iter::once(std::ptr::null()))
                .collect::<Vec<_>>()
        };
        Ok(ExecStrings {
            program: c_string(program.as_os_str().as_bytes())?,
            cwd: c_string(cwd.as_os_str().as_bytes())?,
            argv_ptrs: pointers(&argv),
            envp_ptrs: pointers(&envp),
            _argv: argv,
            _envp: envp,
        })
    }
}

/// Starts the child with `clone(CLONE_VM | CLONE_VFORK)`: it runs on its
/// own stack in our memory until `execve`, so nothing of wharf's address
/// space is copied. (`fork` copies every mapping; with wasmtime's
/// instance pool reserved that is thousands of them, over a millisecond
/// per command.) We are suspended until the child execs or exits.
fn clone_vfork(setup: &ChildSetup<'_>) -> io::Result<libc::pid_t> {
    const CHILD_STACK: usize = 256 * 1024;
    let mut stack = vec![0u8; CHILD_STACK];
    // The stack grows down: hand over its 16-byte aligned top.
    let top = stack.as_mut_ptr().wrapping_add(CHILD_STACK);
    let top = top.wrapping_sub(top as usize % 16);

    // Block every signal so that no handler of wharf's runs in the child
    // before it resets them; the child restores this mask before execve.
    let mut all = std::mem::MaybeUninit::<libc::sigset_t>::zeroed();
    let mut old = std::mem::MaybeUninit::<libc::sigset_t>::zeroed();
    // SAFETY: both sets are writable sigset_t values.
    unsafe {
        libc::sigfillset(all.as_mut_ptr());
        libc::pthread_sigmask(libc::SIG_SETMASK, all.as_ptr(), old.as_mut_ptr());
    }
    let args = CloneArgs {
        setup,
        // SAFETY: pthread_sigmask filled it in.
        old_mask: unsafe { old.assume_init() },
    };
    // SAFETY: `child_main` only makes system calls on data that outlives
    // the call (we are suspended until the child execs or exits), on the
    // stack we allocated above.
    let pid = unsafe {
        libc::clone(
            child_main,
            top.cast(),
            libc::CLONE_VM | libc::CLONE_VFORK | libc::SIGCHLD,
            (&raw const args).cast_mut().cast(),
        )
    };
    let err = io::Error::last_os_error();
    // SAFETY: restoring the mask pthread_sigmask returned.
    unsafe {
        libc::pthread_sigmask(libc::SIG_SETMASK, &args.old_mask, std::ptr::null_mut());
    }
    drop(stack);
    if pid < 0 { Err(err) } else { Ok(pid) }
}

struct CloneArgs<'a> {
    setup: &'a ChildSetup<'a>,
    old_mask: libc::sigset_t,
}

extern "C" fn child_main(arg: *mut libc::c_void) -> libc::c_int {
    // SAFETY: `arg` is the `CloneArgs` `clone_vfork` passed, alive while
    // the parent is suspended.
    let args = unsafe { &*arg.cast::<CloneArgs<'_>>() };
    let setup = args.setup;
    let failure = setup.run(&args.old_mask);
    // Only reached when a step failed (execve does not return).
    setup.fail(failure);
    // SAFETY: _exit never returns and runs no handlers.
    unsafe { libc::_exit(127) }
}

fn prepare(sandbox: &Sandbox) -> Result<Enforcement, SpawnError> {
    sandbox.enforceable()?;
    let policy = sandbox.policy();
    let mode = policy.mode();
    let unenforceable = |what: String| SpawnError::Unenforceable { mode, what };
    let kernel = sandbox.kernel();
    let rules = PathRules::new(policy, &sandbox.env);
    let ruleset = landlock_ruleset(policy, &rules, kernel.landlock_abi)
        .map_err(|err| unenforceable(format!("Landlock: {err}")))?;
    let filter = seccomp_filter(policy.has_network_access())
        .map_err(|err| unenforceable(format!("seccomp: {err}")))?;
    Ok(Enforcement {
        namespace: namespace(&rules, sandbox)?,
        ruleset,
        filter,
    })
}

fn landlock_ruleset(
    policy: &SandboxPolicy,
    rules: &PathRules,
    kernel_abi: u32,
) -> Result<OwnedFd, String> {
    let abi = ABI::from(i32::try_from(kernel_abi.min(NEWEST_USED_ABI)).unwrap_or(0));
    let all = AccessFs::from_all(abi);
    let read = AccessFs::from_read(abi);
    let file = AccessFs::from_file(abi);

    let mut grants: Vec<(PathBuf, BitFlags<AccessFs>)> = Vec::new();
    match policy.read_access() {
        None | Some(ReadOnlyAccess::FullAccess) => grants.push(("/".into(), read)),
        Some(ReadOnlyAccess::Restricted {
            include_platform_defaults,
            ..
        }) => {
            let roots = rules.readable_roots().unwrap_or_default();
            grants.extend(roots.iter().map(|root| (root.clone(), read)));
            if *include_platform_defaults {
                grants.extend(RESTRICTED_EXTRA_READ.iter().map(|p| (p.into(), read)));
            }
        }
    }
    for root in rules.writable_roots() {
        grants.push((root.root.clone(), all));
    }
    grants.extend(WRITABLE_DEVICES.iter().map(|p| (p.into(), file)));
    grants.push(("/dev/pts".into(), file | AccessFs::ReadDir));

    let mut ruleset = Ruleset::default()
        .set_compatibility(CompatLevel::HardRequirement)
        .handle_access(all)
        .map_err(|err| err.to_string())?
        .create()
        .map_err(|err| err.to_string())?;
    for (path, access) in grants {
        // A root that does not exist grants nothing.
        let Ok(metadata) = std::fs::metadata(&path) else {
            continue;
        };
        let Ok(fd) = PathFd::new(&path) else {
            continue;
        };
        let access = if metadata.is_dir() {
            access
        } else {
            access & file
        };
        ruleset = ruleset
            .add_rule(PathBeneath::new(fd, access))
            .map_err(|err| format!("{}: {err}", path.display()))?;
    }
    Option::<OwnedFd>::from(ruleset).ok_or_else(|| "the ruleset was not created".to_owned())
}

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
fn seccomp_filter(network: bool) -> Result<Arc<BpfProgram>, String> {
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

/// The mount namespace that keeps the protected paths read-only (see
/// `protect.rs`), or `None` when nothing needs a mount.
fn namespace(rules: &PathRules, sandbox: &Sandbox) -> Result<Option<Namespace>, SpawnError> {
    let mounts = protect::plan(rules, &sandbox.env.protected, &sandbox.env.cwd)?;
    if mounts.is_empty() {
        return Ok(None);
    }
    if mounts.len() >= usize::from(NO_MOUNT) {
        return Err(SpawnError::Unenforceable {
            mode: rules.mode(),
            what: format!(
                "{} protected paths are more than it can mount",
                mounts.len()
            ),
        });
    }
    // SAFETY: geteuid and getegid cannot fail and take no arguments.
    let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
    let user_maps = (uid != 0).then(|| UserMaps {
        uid_map: format!("{uid} {uid} 1\n").into_bytes(),
        gid_map: format!("{gid} {gid} 1\n").into_bytes(),
    });
    Ok(Some(Namespace { user_maps, mounts }))
}

/// What the child does between `clone` and `execve`, with everything it
/// needs prepared by the parent.
struct ChildSetup<'a> {
    enforcement: Option<Enforcement>,
    new_session: bool,
    own_group: bool,
    report: RawFd,
    strings: &'a ExecStrings,
    /// What becomes fds 0, 1 and 2; -1 keeps wharf's.
    stdio: [RawFd; 3],
}

/// The steps of [`ChildSetup::run`], as the child reports a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Stdio,
    Group,
    Workdir,
    Mounts,
    /// A protected path was not what the parent checked.
    Replaced,
    Capabilities,
    NoNewPrivs,
    Landlock,
    Seccomp,
    Exec,
}

impl Stage {
    const ALL: [Stage; 10] = [
        Stage::Stdio,
        Stage::Group,
        Stage::Workdir,
        Stage::Mounts,
        Stage::Replaced,
        Stage::Capabilities,
        Stage::NoNewPrivs,
        Stage::Landlock,
        Stage::Seccomp,
        Stage::Exec,
    ];

    fn describe(self) -> &'static str {
        match self {
            Stage::Stdio => "setting up stdin, stdout and stderr",
            Stage::Group => "a new process group",
            Stage::Workdir => "entering the working directory",
            Stage::Mounts => "read-only mounts of the protected paths",
            Stage::Replaced => "a protected path changed while it was being mounted",
            Stage::Capabilities => "dropping every capability",
            Stage::NoNewPrivs => "no_new_privs",
            Stage::Landlock => "Landlock",
            Stage::Seccomp => "seccomp",
            Stage::Exec => "execve",
        }
    }
}

/// A step that failed in the child, with its errno and, for a mount, which
/// one ([`NO_MOUNT`] otherwise).
struct Failure {
    stage: Stage,
    errno: i32,
    mount: u16,
}

/// [`Failure::mount`] of a failure that concerns no single mount.
const NO_MOUNT: u16 = u16::MAX;

impl From<Stage> for Failure {
    /// `stage` failed with the errno of the system call that just failed.
    fn from(stage: Stage) -> Failure {
        Failure {
            stage,
            errno: io::Error::last_os_error().raw_os_error().unwrap_or(0),
            mount: NO_MOUNT,
        }
    }
}

impl ChildSetup<'_> {
    /// Runs in the child: returns only when a step failed, naming it.
    fn run(&self, old_mask: &libc::sigset_t) -> Failure {
        // wharf's handlers are not the command's: back to the defaults.
        // SAFETY: a zeroed sigaction is valid (no handler, empty mask); the
        // calls take it by pointer for their duration.
        unsafe {
            let mut default: libc::sigaction = std::mem::zeroed();
            default.sa_sigaction = libc::SIG_DFL;
            for signal in 1..65 {
                if signal != libc::SIGKILL && signal != libc::SIGSTOP {
                    libc::sigaction(signal, &default, std::ptr::null_mut());
                }
            }
        }
        for (target, fd) in (0..).zip(self.stdio) {
            if fd < 0 {
                continue;
            }
            // SAFETY: as above. dup2 onto the target clears close-on-exec;
            // an fd that already is the target needs it cleared by hand.
            let moved = unsafe {
                if fd == target {
                    libc::fcntl(fd, libc::F_SETFD, 0)
                } else {
                    libc::dup2(fd, target)
                }
            };
            if moved < 0 {
                return Stage::Stdio.into();
            }
        }
        let grouped = if self.new_session {
            // SAFETY: setsid takes no arguments; TIOCSCTTY on fd 0 (the
            // terminal just installed) takes an integer.
            unsafe { libc::setsid() >= 0 && libc::ioctl(0, libc::TIOCSCTTY, 0) >= 0 }
        } else if self.own_group {
            // SAFETY: setpgid on integers.
            unsafe { libc::setpgid(0, 0) >= 0 }
        } else {
            true
        };
        if !grouped {
            return Stage::Group.into();
        }
        let namespace = self
            .enforcement
            .as_ref()
            .and_then(|enforcement| enforcement.namespace.as_ref());
        if let Some(Err(failure)) = namespace.map(Namespace::enter) {
            return failure;
        }
        // After the mounts, so that the working directory is on them: a
        // directory entered before would still show what is beneath them.
        // SAFETY: a NUL-terminated path.
        if unsafe { libc::chdir(self.strings.cwd.as_ptr()) } != 0 {
            return Stage::Workdir.into();
        }
        if let Some(enforcement) = &self.enforcement {
            // After the mounts, which need CAP_SYS_ADMIN.
            if let Err(errno) = caps::drop_all() {
                return Failure {
                    stage: Stage::Capabilities,
                    errno,
                    mount: NO_MOUNT,
                };
            }
            // SAFETY: prctl with integer arguments only.
            if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
                return Stage::NoNewPrivs.into();
            }
            // SAFETY: landlock_restrict_self takes a ruleset descriptor that
            // `enforcement` keeps open, and flags.
            let restricted = unsafe {
                libc::syscall(
                    libc::SYS_landlock_restrict_self,
                    enforcement.ruleset.as_raw_fd(),
                    0,
                )
            };
            if restricted != 0 {
                return Stage::Landlock.into();
            }
            if seccompiler::apply_filter(&enforcement.filter).is_err() {
                return Stage::Seccomp.into();
            }
        }
        // SAFETY: restoring the mask the parent had; then execve with
        // NUL-terminated strings and NULL-terminated pointer arrays.
        unsafe {
            libc::pthread_sigmask(libc::SIG_SETMASK, old_mask, std::ptr::null_mut());
            libc::execve(
                self.strings.program.as_ptr(),
                self.strings.argv_ptrs.as_ptr(),
                self.strings.envp_ptrs.as_ptr(),
            );
        }
        Stage::Exec.into()
    }

    /// Tells the parent which step failed, with which errno, on which mount.
    fn fail(&self, failure: Failure) {
        let index = Stage::ALL
            .iter()
            .position(|s| *s == failure.stage)
            .unwrap_or(0);
        let mut report = [0u8; REPORT_LEN];
        report[0] = u8::try_from(index).unwrap_or(0);
        report[1..5].copy_from_slice(&failure.errno.to_ne_bytes());
        report[5..].copy_from_slice(&failure.mount.to_ne_bytes());
        // SAFETY: a write from a live buffer to a pipe the parent keeps
        // open.
        unsafe { libc::write(self.report, report.as_ptr().cast(), report.len()) };
    }
}

impl Namespace {
    /// Enters a new mount namespace (and user namespace, unless root) and
    /// makes the planned mounts.
    fn enter(&self) -> Result<(), Failure> {
        let mut flags = libc::CLONE_NEWNS;
        if self.user_maps.is_some() {
            flags |= libc::CLONE_NEWUSER;
        }
        let namespace_failed = |()| Failure::from(Stage::Mounts);
        // SAFETY: unshare takes flags only.
        if unsafe { libc::unshare(flags) } != 0 {
            return Err(Stage::Mounts.into());
        }
        if let Some(maps) = &self.user_maps {
            write_proc(c"/proc/self/setgroups", b"deny").map_err(namespace_failed)?;
            write_proc(c"/proc/self/uid_map", &maps.uid_map).map_err(namespace_failed)?;
            write_proc(c"/proc/self/gid_map", &maps.gid_map).map_err(namespace_failed)?;
        }
        // Keep our mounts from propagating back to the parent namespace.
        mount(None, c"/", libc::MS_REC | libc::MS_PRIVATE).map_err(namespace_failed)?;
        for (index, protected) in (0..).zip(&self.mounts) {
            protect::mount_in_child(protected).map_err(|failure| match failure {
                MountFailure::Failed(errno) => Failure {
                    stage: Stage::Mounts,
                    errno,
                    mount: index,
                },
                MountFailure::Replaced => Failure {
                    stage: Stage::Replaced,
                    errno: 0,
                    mount: index,
                },
            })?;
        }
        Ok(())
    }
}

/// `mount(2)` without a filesystem type or data.
fn mount(source: Option<&CStr>, target: &CStr, flags: libc::c_ulong) -> Result<(), ()> {
    let source = source.map_or(std::ptr::null(), CStr::as_ptr);
    // SAFETY: the strings are NUL-terminated and outlive the call; the type
    // and data pointers are null, which mount accepts for these flags.
    let mounted = unsafe {
        libc::mount(
            source,
            target.as_ptr(),
            std::ptr::null(),
            flags,
            std::ptr::null(),
        )
    };
    if mounted == 0 { Ok(()) } else { Err(()) }
}

fn write_proc(path: &CStr, contents: &[u8]) -> Result<(), ()> {
    // SAFETY: open/write/close on a NUL-terminated path and a live buffer.
    unsafe {
        let fd = libc::open(path.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
        if fd < 0 {
            return Err(());
        }
        let written = libc::write(fd, contents.as_ptr().cast(), contents.len());
        libc::close(fd);
        if written != contents.len() as isize {
            return Err(());
        }
    }
    Ok(())
}

/// The bytes of a failure report: the stage's index, the errno, the mount.
const REPORT_LEN: usize = 7;

/// What the child reported, if it failed.
fn failed_stage(report: OwnedFd) -> Option<Failure> {
    let mut bytes = [0u8; REPORT_LEN];
    let mut file = File::from(report);
    file.read_exact(&mut bytes).ok()?;
    let stage = *Stage::ALL.get(usize::from(bytes[0]))?;
    let errno = i32::from_ne_bytes([bytes[1], bytes[2], bytes[3], bytes[4]]);
    let mount = u16::from_ne_bytes([bytes[5], bytes[6]]);
    Some(Failure {
        stage,
        errno,
        mount,
    })
}

/// Reaps a child that failed before `execve`.
fn reap(pid: libc::pid_t) {
    let mut status = 0;
    // SAFETY: `status` is a writable int; `pid` is our child.
    while unsafe { libc::waitpid(pid, &mut status, 0) } < 0
        && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted
    {}
}

fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: `fds` is a writable array of two ints, as pipe2 requires.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: pipe2 succeeded: both are fresh descriptors we now own.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Opens a new pseudo-terminal, both sides close-on-exec from the start
/// (another thread's spawn must not inherit them), sized `size`.
fn open_pty(size: PtySize) -> io::Result<(OwnedFd, OwnedFd)> {
    let flags = libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC;
    // SAFETY: posix_openpt takes flags and returns a new descriptor or -1.
    let master = unsafe { libc::posix_openpt(flags) };
    if master < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: posix_openpt succeeded: a fresh descriptor we now own.
    let master = unsafe { OwnedFd::from_raw_fd(master) };
    let mut name = [0 as libc::c_char; 128];
    // SAFETY: grantpt/unlockpt take the master descriptor; ptsname_r writes
    // at most `name.len()` bytes into `name`.
    let ready = unsafe {
        libc::grantpt(master.as_raw_fd()) == 0
            && libc::unlockpt(master.as_raw_fd()) == 0
            && libc::ptsname_r(master.as_raw_fd(), name.as_mut_ptr(), name.len()) == 0
    };
    if !ready {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: ptsname_r succeeded, so `name` holds a NUL-terminated path.
    let slave = unsafe { libc::open(name.as_ptr(), flags) };
    if slave < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: open succeeded: a fresh descriptor we now own.
    let slave = unsafe { OwnedFd::from_raw_fd(slave) };
    resize_fd(slave.as_raw_fd(), size)?;
    Ok((master, slave))
}

pub(super) fn resize(master: &File, size: PtySize) -> io::Result<()> {
    resize_fd(master.as_raw_fd(), size)
}

fn resize_fd(fd: RawFd, size: PtySize) -> io::Result<()> {
    let winsize = libc::winsize {
        ws_row: size.rows,
        ws_col: size.cols,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads a winsize from a live value.
    if unsafe { libc::ioctl(fd, libc::TIOCSWINSZ, &winsize) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
