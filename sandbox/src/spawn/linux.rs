//! Enforcement on Linux. A sandboxed command runs:
//!
//! - in its own user (unless wharf is root), mount and PID namespaces
//!   (`namespace.rs`): the whole tree read-only but the writable roots, the
//!   protected paths in them read-only again (`protect.rs`), its own
//!   `/proc`, and an init as PID 1 that ends everything with the command or
//!   with wharf (`init.rs`);
//! - without capabilities (`caps.rs`), with `no_new_privs`;
//! - under Landlock for files, signals and abstract unix sockets
//!   (`landlock.rs`);
//! - under seccomp for the network and what no command needs
//!   (`seccomp.rs`).
//!
//! Everything is prepared in the parent and applied by the child before
//! `execve` (`child.rs`). `[sandbox_linux] namespaces = false` drops the
//! first layer where the kernel refuses it.

mod caps;
mod child;
mod detect;
mod failure;
mod init;
mod landlock;
mod namespace;
mod protect;
mod pty;
mod seccomp;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::ffi::{CString, OsStr, OsString};
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd as _, FromRawFd as _, OwnedFd};
use std::os::unix::ffi::OsStrExt as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::child::{Child, Stdio, StdioKind};
use super::{Command, NETWORK_DISABLED_ENV, PtySize, Sandbox, SpawnError};
use crate::SandboxPolicy;
use child::ChildSetup;
pub(super) use detect::detect;
use failure::{Failure, Stage};
use init::InitExec;
use namespace::Namespace;
pub(super) use pty::resize;

/// What the child applies before `exec`, prepared by the parent.
struct Enforcement {
    /// `None` without namespaces (`[sandbox_linux] namespaces = false`).
    namespace: Option<Namespace>,
    ruleset: OwnedFd,
    filter: Arc<seccomp::Filter>,
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
            let (master, slave) = pty::open_pty(size).map_err(io_error)?;
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
    let namespaced = enforcement
        .as_ref()
        .is_some_and(|enforcement| enforcement.namespace.is_some());
    let (init, status) = if namespaced {
        let (init, status) = InitExec::prepare().map_err(|what| SpawnError::Unenforceable {
            mode: policy.mode(),
            what,
        })?;
        (Some(init), Some(status))
    } else {
        (None, None)
    };
    let flags = if namespaced {
        namespace::namespace_flags()
    } else {
        0
    };
    let setup = ChildSetup {
        enforcement,
        init,
        new_session: pty.is_some(),
        own_group,
        report: report_write.as_raw_fd(),
        strings: &strings,
        stdio: child_fds
            .each_ref()
            .map(|fd| fd.as_ref().map_or(-1, std::os::fd::AsRawFd::as_raw_fd)),
    };
    let pid = child::clone_vfork(&setup, flags).map_err(io_error)?;
    // The child has exec'd or failed: close the parent's copies of its
    // ends, then read what it reported.
    drop(child_fds);
    drop(report_write);
    if let Some(Failure {
        stage,
        errno,
        mount,
    }) = child::failed_stage(report_read)
    {
        child::reap(pid);
        let source = io::Error::from_raw_os_error(errno);
        let mount = setup
            .enforcement
            .as_ref()
            .and_then(|enforcement| enforcement.namespace.as_ref())
            .and_then(|namespace| namespace.mount(mount));
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
            (Stage::Init, _) if source.kind() == io::ErrorKind::PermissionDenied => {
                SpawnError::Enforcement {
                    stage: stage.describe(),
                    source: io::Error::new(
                        source.kind(),
                        format!(
                            "{source} (a kernel with vm.memfd_noexec = 2 refuses to run \
                             programs from memory)"
                        ),
                    ),
                }
            }
            (stage, _) => SpawnError::Enforcement {
                stage: stage.describe(),
                source,
            },
        });
    }
    drop(setup);
    let [stdin, stdout, stderr] = parent_ends;
    let mut child = Child::new(pid, stdin, stdout, stderr);
    if let Some(status) = status {
        child = child.with_status_pipe(status);
    }
    Ok((child, master))
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

fn prepare(sandbox: &Sandbox) -> Result<Enforcement, SpawnError> {
    sandbox.enforceable()?;
    let policy = sandbox.policy();
    let mode = policy.mode();
    let unenforceable = |what: String| SpawnError::Unenforceable { mode, what };
    let kernel = sandbox.kernel();
    let rules = sandbox.path_rules();
    let ruleset = landlock::landlock_ruleset(policy, &rules, kernel.landlock_abi)
        .map_err(|err| unenforceable(format!("Landlock: {err}")))?;
    let filter = seccomp::seccomp_filter(policy.has_network_access())
        .map_err(|err| unenforceable(format!("seccomp: {err}")))?;
    let namespace = if sandbox.namespaces() {
        Some(Namespace::plan(&rules, sandbox)?)
    } else {
        None
    };
    Ok(Enforcement {
        namespace,
        ruleset,
        filter,
    })
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
