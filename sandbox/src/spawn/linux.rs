//! Enforcement on Linux: a mount namespace for the protected subpaths,
//! Landlock for files, seccomp for the network and process inspection.

#![allow(
    clippy::disallowed_methods,
    reason = "the sandbox crate is the one place allowed to spawn processes"
)]

use std::collections::BTreeMap;
use std::ffi::{CStr, CString};
use std::fs::File;
use std::io::{self, Read as _};
use std::os::fd::{AsRawFd as _, FromRawFd as _, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::{Arc, OnceLock};

use landlock::{
    ABI, Access as _, AccessFs, BitFlags, CompatLevel, Compatible as _, PathBeneath, PathFd,
    Ruleset, RulesetAttr as _, RulesetCreatedAttr as _,
};
use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};

use super::{
    Command, KernelSupport, MIN_LANDLOCK_ABI, NETWORK_DISABLED_ENV, PtySize, Sandbox, SpawnError,
};
use crate::{PathRules, ReadOnlyAccess, SandboxPolicy};

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
    }
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
    mounts: Vec<ReadOnlyMount>,
}

struct UserMaps {
    uid_map: Vec<u8>,
    gid_map: Vec<u8>,
}

struct ReadOnlyMount {
    path: CString,
    /// The flags the mount already has that a remount must keep.
    kept_flags: libc::c_ulong,
}

/// The steps the child reports when one fails, by index.
const STAGES: [&str; 5] = [
    "a new process group",
    "read-only mounts of the protected paths",
    "no_new_privs",
    "Landlock",
    "seccomp",
];

pub(super) fn start(
    sandbox: &Sandbox,
    command: Command,
    cwd: &Path,
    pty: Option<PtySize>,
) -> Result<(Child, Option<File>), SpawnError> {
    let policy = sandbox.policy();
    let enforcement = match policy {
        SandboxPolicy::DangerFullAccess => None,
        _ => Some(prepare(sandbox)?),
    };
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
    let mut child = std::process::Command::new(&argv[0]);
    child.args(&argv[1..]).current_dir(cwd);
    if env_clear {
        child.env_clear();
    }
    for (key, value) in env {
        match value {
            Some(value) => child.env(key, value),
            None => child.env_remove(key),
        };
    }
    if !policy.has_network_access() {
        child.env(NETWORK_DISABLED_ENV, "1");
    }
    let master = match pty {
        Some(size) => {
            let (master, slave) = open_pty(size).map_err(io_error)?;
            let copy = |fd: &OwnedFd| fd.try_clone().map(Stdio::from);
            child
                .stdin(copy(&slave).map_err(io_error)?)
                .stdout(copy(&slave).map_err(io_error)?)
                .stderr(Stdio::from(slave));
            Some(File::from(master))
        }
        None => {
            child
                .stdin(stdin.unwrap_or_else(Stdio::inherit))
                .stdout(stdout.unwrap_or_else(Stdio::inherit))
                .stderr(stderr.unwrap_or_else(Stdio::inherit));
            None
        }
    };

    let (report_read, report_write) = pipe().map_err(io_error)?;
    let setup = ChildSetup {
        enforcement,
        new_session: pty.is_some(),
        own_group,
        report: report_write.as_raw_fd(),
    };
    // SAFETY: `ChildSetup::run` only makes system calls on data prepared
    // before the fork (no allocation, no locks), as `pre_exec` requires.
    unsafe {
        child.pre_exec(move || setup.run());
    }
    let spawned = child.spawn();
    // Close the parent's copies: the terminal's other side, the write end.
    drop(child);
    drop(report_write);
    match spawned {
        Ok(process) => Ok((process, master)),
        Err(source) => match failed_stage(report_read) {
            Some(stage) => Err(SpawnError::Enforcement { stage, source }),
            None if source.kind() == io::ErrorKind::NotFound => {
                Err(SpawnError::NotFound { program })
            }
            None => Err(SpawnError::Io { program, source }),
        },
    }
}

fn prepare(sandbox: &Sandbox) -> Result<Enforcement, SpawnError> {
    let policy = sandbox.policy();
    let mode = policy.mode();
    let unenforceable = |what: String| SpawnError::Unenforceable { mode, what };
    let kernel = sandbox.kernel();
    if kernel.landlock_abi == 0 {
        return Err(unenforceable(
            "this kernel has no Landlock (needed to confine file access)".to_owned(),
        ));
    }
    if kernel.landlock_abi < MIN_LANDLOCK_ABI {
        return Err(unenforceable(format!(
            "this kernel's Landlock ABI is {}, and writes can only be confined from ABI \
             {MIN_LANDLOCK_ABI} on (truncate)",
            kernel.landlock_abi
        )));
    }
    if !kernel.seccomp {
        return Err(unenforceable(
            "this kernel has no seccomp (needed to turn the network off and block ptrace)"
                .to_owned(),
        ));
    }
    let rules = PathRules::new(policy, &sandbox.env);
    let ruleset = landlock_ruleset(policy, &rules, kernel.landlock_abi)
        .map_err(|err| unenforceable(format!("Landlock: {err}")))?;
    let filter = seccomp_filter(policy.has_network_access())
        .map_err(|err| unenforceable(format!("seccomp: {err}")))?;
    Ok(Enforcement {
        namespace: namespace(&rules),
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
    // Always denied: inspecting or steering other processes, changing the
    // mounts (the protected paths are read-only mounts), and io_uring,
    // which can open sockets without the `socket` call.
    for syscall in [
        libc::SYS_ptrace,
        libc::SYS_process_vm_readv,
        libc::SYS_process_vm_writev,
        libc::SYS_mount,
        libc::SYS_umount2,
        libc::SYS_pivot_root,
        libc::SYS_io_uring_setup,
        libc::SYS_io_uring_enter,
        libc::SYS_io_uring_register,
    ] {
        rules.insert(syscall, Vec::new());
    }
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
    BpfProgram::try_from(filter).map_err(|err| err.to_string())
}

/// Read-only bind mounts for the protected subpaths that exist beneath a
/// writable root (outside every writable root Landlock already keeps them
/// read-only). A protected path that does not exist yet cannot be mounted
/// over: a command may create it.
fn namespace(rules: &PathRules) -> Option<Namespace> {
    let mut mounts = Vec::new();
    for root in rules.writable_roots() {
        for protected in &root.read_only_subpaths {
            if !protected.starts_with(&root.root) || std::fs::symlink_metadata(protected).is_err() {
                continue;
            }
            let Ok(path) = CString::new(protected.as_os_str().as_bytes()) else {
                continue;
            };
            let kept_flags = mount_flags(&path);
            mounts.push(ReadOnlyMount { path, kept_flags });
        }
    }
    if mounts.is_empty() {
        return None;
    }
    // SAFETY: geteuid and getegid cannot fail and take no arguments.
    let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
    let user_maps = (uid != 0).then(|| UserMaps {
        uid_map: format!("{uid} {uid} 1\n").into_bytes(),
        gid_map: format!("{gid} {gid} 1\n").into_bytes(),
    });
    Some(Namespace { user_maps, mounts })
}

/// The flags of the mount holding `path` that a read-only remount must
/// repeat (a remount in a user namespace may not drop them).
fn mount_flags(path: &CString) -> libc::c_ulong {
    let mut stat = std::mem::MaybeUninit::<libc::statvfs>::zeroed();
    // SAFETY: `path` is NUL-terminated and `stat` is a writable statvfs.
    if unsafe { libc::statvfs(path.as_ptr(), stat.as_mut_ptr()) } != 0 {
        return 0;
    }
    // SAFETY: statvfs succeeded, so it filled the struct (which was zeroed
    // anyway).
    let flags = unsafe { stat.assume_init() }.f_flag;
    [
        (libc::ST_NOSUID, libc::MS_NOSUID),
        (libc::ST_NODEV, libc::MS_NODEV),
        (libc::ST_NOEXEC, libc::MS_NOEXEC),
        (libc::ST_NOATIME, libc::MS_NOATIME),
        (libc::ST_NODIRATIME, libc::MS_NODIRATIME),
        (libc::ST_RELATIME, libc::MS_RELATIME),
    ]
    .into_iter()
    .filter(|(st, _)| flags & *st != 0)
    .fold(0, |acc, (_, ms)| acc | ms)
}

/// What runs in the child between `fork` and `exec`.
struct ChildSetup {
    enforcement: Option<Enforcement>,
    new_session: bool,
    own_group: bool,
    report: RawFd,
}

impl ChildSetup {
    fn run(&self) -> io::Result<()> {
        let grouped = if self.new_session {
            // SAFETY: setsid takes no arguments; TIOCSCTTY on fd 0 (the
            // terminal std just installed) takes an integer.
            unsafe { libc::setsid() >= 0 && libc::ioctl(0, libc::TIOCSCTTY, 0) >= 0 }
        } else if self.own_group {
            // SAFETY: setpgid on integers.
            unsafe { libc::setpgid(0, 0) >= 0 }
        } else {
            true
        };
        if !grouped {
            return Err(self.fail(0));
        }
        let Some(enforcement) = &self.enforcement else {
            return Ok(());
        };
        if let Some(namespace) = &enforcement.namespace
            && namespace.enter().is_err()
        {
            return Err(self.fail(1));
        }
        // SAFETY: prctl with integer arguments only.
        if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
            return Err(self.fail(2));
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
            return Err(self.fail(3));
        }
        if seccompiler::apply_filter(&enforcement.filter).is_err() {
            return Err(self.fail(4));
        }
        Ok(())
    }

    /// Reports which stage failed to the parent; returns the stage's errno.
    fn fail(&self, stage: u8) -> io::Error {
        let err = io::Error::last_os_error();
        // SAFETY: a one-byte write from a live buffer to a pipe we own.
        unsafe { libc::write(self.report, (&raw const stage).cast(), 1) };
        err
    }
}

impl Namespace {
    fn enter(&self) -> Result<(), ()> {
        let mut flags = libc::CLONE_NEWNS;
        if self.user_maps.is_some() {
            flags |= libc::CLONE_NEWUSER;
        }
        // SAFETY: unshare takes flags only.
        if unsafe { libc::unshare(flags) } != 0 {
            return Err(());
        }
        if let Some(maps) = &self.user_maps {
            write_proc(c"/proc/self/setgroups", b"deny")?;
            write_proc(c"/proc/self/uid_map", &maps.uid_map)?;
            write_proc(c"/proc/self/gid_map", &maps.gid_map)?;
        }
        // Keep our mounts from propagating back to the parent namespace.
        mount(None, c"/", libc::MS_REC | libc::MS_PRIVATE)?;
        for protected in &self.mounts {
            let path = protected.path.as_c_str();
            mount(Some(path), path, libc::MS_BIND | libc::MS_REC)?;
            let read_only =
                libc::MS_REMOUNT | libc::MS_BIND | libc::MS_RDONLY | protected.kept_flags;
            mount(None, path, read_only)?;
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

fn failed_stage(report: OwnedFd) -> Option<&'static str> {
    let mut byte = [0u8; 1];
    let mut file = File::from(report);
    match file.read(&mut byte) {
        Ok(1) => STAGES.get(usize::from(byte[0])).copied(),
        _ => None,
    }
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
