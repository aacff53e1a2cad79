//! Starting processes under a policy: the only place in wharf that does.
//!
//! [`Sandbox::spawn`] and [`Sandbox::spawn_pty`] start a [`Command`] with
//! the policy enforced by the kernel, in the child before `exec`:
//!
//! - a new session, so that the whole tree can be signalled at once and
//!   the command has no controlling terminal but its own (PTY);
//! - its own user (unless root), mount and PID namespaces: the whole tree
//!   read-only but the writable roots, the protected paths in them (`.git`,
//!   nested ones too, `.wharf`, the environment's [`PathEnv::protected`],
//!   created empty when missing) read-only again, its own `/proc`, and an
//!   init that ends everything with the command or with wharf;
//! - no capabilities, `no_new_privs`;
//! - Landlock: reads of `/` (or, with restricted reads, only the readable
//!   roots), writes only beneath the writable roots and a few device files;
//!   no signals or abstract unix sockets across its domain (ABI 6);
//! - seccomp: no sockets but `AF_UNIX` when network is off (Landlock does
//!   not cover UDP), and none of the calls no command needs.
//!
//! `linux.rs` says how, layer by layer.
//!
//! Everything that allocates (rules, filter, paths) is prepared in the
//! parent; the child only makes system calls. When the kernel cannot
//! enforce a part the policy needs, the spawn fails with an error naming the
//! part (fail closed), unless the policy is danger-full-access.

mod child;
#[cfg(all(test, target_os = "linux"))]
mod escapes;
#[cfg(target_os = "linux")]
mod linux;
#[cfg(all(test, target_os = "linux"))]
mod nested_git_escapes;
mod report;
mod run;
#[cfg(all(test, target_os = "linux"))]
mod test_procs;
#[cfg(test)]
mod tests;

use std::ffi::OsString;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

pub use child::{Child, ChildProcess, Stdio};
pub use report::{
    LANDLOCK_RIGHTS, Layer, LayerState, SCOPES_ABI, WITHOUT_NAMESPACES, landlock_rights,
};
pub use run::{RunLimits, RunOutput};

use crate::paths::nested_git::{self, NestedGit, NestedGitCache};
use crate::{PathEnv, PathRules, SandboxMode, SandboxPolicy};

/// Set in every sandboxed process whose network is off, so that test
/// suites and tools can skip what needs the network.
pub const NETWORK_DISABLED_ENV: &str = "WHARF_SANDBOX_NETWORK_DISABLED";

/// The lowest Landlock ABI that can confine writes: ABI 3 added
/// `truncate`, which earlier ABIs leave unchecked.
pub const MIN_LANDLOCK_ABI: u32 = 3;

/// What the running kernel can enforce. [`KernelSupport::detect`] asks the
/// kernel; tests pass their own value to [`Sandbox::with_kernel`] to see
/// how a weaker kernel is handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KernelSupport {
    /// The Landlock ABI version, 0 when Landlock is absent or disabled.
    pub landlock_abi: u32,
    /// Whether seccomp filters are available.
    pub seccomp: bool,
    /// Whether wharf may create the namespaces a command runs in (user,
    /// unless root; mount; PID with its own `/proc`).
    pub namespaces: Namespaces,
}

/// Whether the kernel lets wharf create a command's namespaces. Containers
/// with Docker's default seccomp profile and hosts that restrict
/// unprivileged user namespaces refuse them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Namespaces {
    Available,
    /// Creating them failed with this errno.
    Refused {
        errno: i32,
    },
}

impl KernelSupport {
    /// Asks the running kernel (once per process).
    pub fn detect() -> KernelSupport {
        static DETECTED: std::sync::OnceLock<KernelSupport> = std::sync::OnceLock::new();
        *DETECTED.get_or_init(detect_kernel)
    }
}

#[cfg(target_os = "linux")]
fn detect_kernel() -> KernelSupport {
    linux::detect()
}

#[cfg(not(target_os = "linux"))]
fn detect_kernel() -> KernelSupport {
    KernelSupport {
        landlock_abi: 0,
        seccomp: false,
        namespaces: Namespaces::Refused {
            errno: libc::ENOSYS,
        },
    }
}

/// Why a command did not start.
#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    #[error("the command is empty: there is no program to run")]
    EmptyArgv,
    #[error("{program}: command not found")]
    NotFound { program: String },
    #[error("cannot run in {}: {reason}", .path.display())]
    BadWorkdir { path: PathBuf, reason: String },
    /// The kernel cannot enforce part of the policy: nothing ran.
    #[error(
        "the {mode} sandbox cannot be enforced here: {what}; the command was not run \
         (only danger-full-access runs commands unconfined)"
    )]
    Unenforceable { mode: SandboxMode, what: String },
    /// A protected path inside a writable root cannot be kept read-only
    /// (a symlink a command could redirect, a file where a directory must
    /// be, a mount that failed): nothing ran.
    #[error("cannot keep {} read-only: {reason}; the command was not run", .path.display())]
    Protected { path: PathBuf, reason: String },
    /// A writable root could not be mounted writable over the read-only
    /// tree: nothing ran.
    #[error("cannot make the writable root {} writable: {reason}; the command was not run", .path.display())]
    Root { path: PathBuf, reason: String },
    /// Enforcement failed in the child, before the command ran.
    #[error("the sandbox could not be applied ({stage}): {source}; the command was not run")]
    Enforcement {
        stage: &'static str,
        #[source]
        source: io::Error,
    },
    #[error("cannot start {program}: {source}")]
    Io {
        program: String,
        #[source]
        source: io::Error,
    },
}

/// A command to run: argv, working directory, environment and stdio. The
/// environment is inherited unless [`Command::env_clear`] is called.
#[derive(Debug)]
pub struct Command {
    argv: Vec<OsString>,
    cwd: Option<PathBuf>,
    env_clear: bool,
    env: Vec<(OsString, Option<OsString>)>,
    stdin: Option<Stdio>,
    stdout: Option<Stdio>,
    stderr: Option<Stdio>,
    own_group: bool,
}

impl Command {
    pub fn new<I, S>(argv: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        Command {
            argv: argv.into_iter().map(Into::into).collect(),
            cwd: None,
            env_clear: false,
            env: Vec::new(),
            stdin: None,
            stdout: None,
            stderr: None,
            own_group: true,
        }
    }

    /// The working directory; the sandbox's cwd when unset.
    pub fn cwd(&mut self, dir: impl Into<PathBuf>) -> &mut Command {
        self.cwd = Some(dir.into());
        self
    }

    pub fn env(&mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> &mut Command {
        self.env.push((key.into(), Some(value.into())));
        self
    }

    pub fn env_remove(&mut self, key: impl Into<OsString>) -> &mut Command {
        self.env.push((key.into(), None));
        self
    }

    /// Starts from an empty environment instead of wharf's.
    pub fn env_clear(&mut self) -> &mut Command {
        self.env_clear = true;
        self.env.clear();
        self
    }

    /// Stdio for [`Sandbox::spawn`] (a PTY ignores these).
    pub fn stdin(&mut self, stdio: Stdio) -> &mut Command {
        self.stdin = Some(stdio);
        self
    }

    pub fn stdout(&mut self, stdio: Stdio) -> &mut Command {
        self.stdout = Some(stdio);
        self
    }

    pub fn stderr(&mut self, stdio: Stdio) -> &mut Command {
        self.stderr = Some(stdio);
        self
    }

    /// Whether the command leads a new session (the default): a process
    /// group of its own, so its whole tree can be killed at once, and no
    /// controlling terminal, so it cannot open wharf's (`/dev/tty`). `false`
    /// keeps it in wharf's group, in the terminal's foreground, for
    /// interactive use (`wharf sandbox`). A PTY command always leads a new
    /// session, on its own terminal.
    pub fn own_process_group(&mut self, own: bool) -> &mut Command {
        self.own_group = own;
        self
    }

    pub fn argv(&self) -> &[OsString] {
        &self.argv
    }

    fn program(&self) -> String {
        self.argv
            .first()
            .map(|program| program.to_string_lossy().into_owned())
            .unwrap_or_default()
    }
}

/// The size of a pseudo-terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PtySize {
    pub rows: u16,
    pub cols: u16,
}

impl Default for PtySize {
    fn default() -> PtySize {
        PtySize { rows: 24, cols: 80 }
    }
}

/// A process on a pseudo-terminal: its stdin, stdout and stderr are the
/// terminal, which the host reads and writes through `master`.
#[derive(Debug)]
pub struct PtyChild {
    pub child: Child,
    /// The terminal's controlling side: read output, write input.
    pub master: File,
}

impl PtyChild {
    /// Tells the program its terminal has a new size.
    pub fn resize(&self, size: PtySize) -> io::Result<()> {
        #[cfg(target_os = "linux")]
        {
            linux::resize(&self.master, size)
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = size;
            Err(io::Error::from(io::ErrorKind::Unsupported))
        }
    }
}

/// A policy in an environment, ready to start processes under.
///
/// Its serde form (`{"policy": {...}, "env": {"cwd", "tmpdir", "protected"},
/// "environment": [[name, value], ...], "nested_git": {...}}`, `protected`,
/// `environment` and `nested_git` optional; serializing makes the
/// [`Sandbox::nested_git`] scan if it was not made yet) is how the
/// host passes a session's sandbox to a native plugin that spawns its own
/// processes (unified_exec); the kernel seam is not part of it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Sandbox {
    policy: SandboxPolicy,
    env: PathEnv,
    /// The variables every command starts from instead of wharf's own
    /// environment (the host's `[shell_environment_policy]`); `None`
    /// inherits wharf's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    environment: Option<Vec<(String, String)>>,
    /// `false` runs commands with Landlock and seccomp only, without the
    /// user, mount and PID namespaces (`[sandbox_linux] namespaces =
    /// false`, for machines that refuse them): see [`Sandbox::with_namespaces`].
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    namespaces: bool,
    #[serde(skip)]
    kernel: Option<KernelSupport>,
    /// The repositories nested in the writable roots, scanned once per
    /// session (see [`Sandbox::nested_git`]).
    #[serde(default, skip_serializing_if = "NestedGitCache::is_unknown")]
    nested_git: NestedGitCache,
}

fn yes() -> bool {
    true
}

#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_true(value: &bool) -> bool {
    *value
}

impl Sandbox {
    pub fn new(policy: &SandboxPolicy, env: &PathEnv) -> Sandbox {
        Sandbox {
            policy: policy.clone(),
            env: env.clone(),
            environment: None,
            namespaces: true,
            kernel: None,
            nested_git: NestedGitCache::new(policy, env),
        }
    }

    /// The git repositories nested in the writable roots, found the first
    /// time this is asked of this sandbox or a clone of it (the host keeps
    /// one per session), or when it is serialized: a repository made later
    /// in the session is not in it. See [`crate::paths::nested_git`].
    pub fn nested_git(&self) -> &NestedGit {
        self.nested_git
            .get(|| nested_git::scan_roots(&self.policy, &self.env))
    }

    /// The path rules commands run under: those of the policy in this
    /// environment, with [`Sandbox::nested_git`] read-only.
    pub fn path_rules(&self) -> PathRules {
        PathRules::new(&self.policy, &self.env).with_nested_git(self.nested_git())
    }

    /// Starts every command from `vars` instead of wharf's environment; a
    /// command's own [`Command::env`] changes apply on top, and one that
    /// calls [`Command::env_clear`] still starts empty.
    pub fn with_environment(mut self, vars: Vec<(String, String)>) -> Sandbox {
        self.environment = Some(vars);
        self
    }

    /// With `false`, commands run without their own user, mount and PID
    /// namespaces, under Landlock and seccomp only. That gives up what
    /// only the namespaces hold: protected paths inside writable roots
    /// (`.git`, `.wharf`) become writable, metadata outside the roots
    /// (modes, owners, times) can change, other processes are visible, and
    /// a command's background processes can outlive it.
    pub fn with_namespaces(mut self, namespaces: bool) -> Sandbox {
        self.namespaces = namespaces;
        self
    }

    /// Whether commands get their own namespaces (see
    /// [`Sandbox::with_namespaces`]).
    pub fn namespaces(&self) -> bool {
        self.namespaces
    }

    /// What this machine's kernel can enforce, as the spawns see it.
    pub fn kernel(&self) -> KernelSupport {
        self.kernel.unwrap_or_else(KernelSupport::detect)
    }

    /// Whether this machine can enforce the policy: the kernel features it
    /// needs (see [`KernelSupport`]). Spawns check this first; `wharf
    /// sandbox --check` reports it.
    pub fn enforceable(&self) -> Result<(), SpawnError> {
        if self.policy == SandboxPolicy::DangerFullAccess {
            return Ok(());
        }
        let kernel = self.kernel();
        let unenforceable = |what: String| SpawnError::Unenforceable {
            mode: self.policy.mode(),
            what,
        };
        if cfg!(not(target_os = "linux")) {
            return Err(unenforceable(
                "process sandboxing is implemented for Linux only".to_owned(),
            ));
        }
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
        if let (true, Namespaces::Refused { errno }) = (self.namespaces, kernel.namespaces) {
            return Err(unenforceable(format!(
                "this machine refuses the user, mount and PID namespaces commands run in ({}); \
                 containers and hosts that restrict user namespaces do. Allow them, or set \
                 `[sandbox_linux] namespaces = false` to run commands under Landlock and \
                 seccomp only, which leaves .git and .wharf inside writable roots writable \
                 and other processes visible",
                io::Error::from_raw_os_error(errno)
            )));
        }
        Ok(())
    }

    /// Enforces as if the kernel supported only `kernel` (the detection
    /// seam: tests use it to check that a weak kernel fails closed).
    pub fn with_kernel(mut self, kernel: KernelSupport) -> Sandbox {
        self.kernel = Some(kernel);
        self
    }

    pub fn policy(&self) -> &SandboxPolicy {
        &self.policy
    }

    /// This sandbox without its restrictions: danger-full-access in the
    /// same environment (cwd, variables). What a call runs under once the
    /// user approved running it outside the sandbox.
    pub fn unrestricted(&self) -> Sandbox {
        let policy = SandboxPolicy::DangerFullAccess;
        Sandbox {
            nested_git: NestedGitCache::new(&policy, &self.env),
            policy,
            env: self.env.clone(),
            environment: self.environment.clone(),
            namespaces: self.namespaces,
            kernel: self.kernel,
        }
    }

    /// The directory commands run in unless they name their own.
    pub fn cwd(&self) -> &Path {
        &self.env.cwd
    }

    /// Starts `command` with its stdio as set (inherited when unset), in a
    /// new session and process group whose id is the child's pid (unless
    /// [`Command::own_process_group`] says otherwise).
    pub fn spawn(&self, command: Command) -> Result<Child, SpawnError> {
        self.start(command, None).map(|(child, _)| child)
    }

    /// Starts `command` on a new pseudo-terminal, as the leader of a new
    /// session with the terminal as its controlling terminal.
    pub fn spawn_pty(&self, command: Command, size: PtySize) -> Result<PtyChild, SpawnError> {
        let (child, master) = self.start(command, Some(size))?;
        let master = master.ok_or_else(|| SpawnError::Io {
            program: String::new(),
            source: io::Error::other("no terminal was opened"),
        })?;
        Ok(PtyChild { child, master })
    }

    fn start(
        &self,
        mut command: Command,
        pty: Option<PtySize>,
    ) -> Result<(Child, Option<File>), SpawnError> {
        if command.argv.is_empty() {
            return Err(SpawnError::EmptyArgv);
        }
        if let (Some(vars), false) = (&self.environment, command.env_clear) {
            let changes = std::mem::take(&mut command.env);
            command.env_clear = true;
            command.env = vars
                .iter()
                .map(|(name, value)| (name.into(), Some(value.into())))
                .chain(changes)
                .collect();
        }
        let cwd = command.cwd.clone().unwrap_or_else(|| self.env.cwd.clone());
        check_workdir(&cwd)?;
        #[cfg(target_os = "linux")]
        {
            linux::start(self, command, &cwd, pty)
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = pty;
            Err(SpawnError::Unenforceable {
                mode: self.policy.mode(),
                what: "process sandboxing is implemented for Linux only".to_owned(),
            })
        }
    }
}

fn check_workdir(cwd: &Path) -> Result<(), SpawnError> {
    let bad = |reason: String| SpawnError::BadWorkdir {
        path: cwd.to_path_buf(),
        reason,
    };
    if !cwd.is_absolute() {
        return Err(bad("the working directory must be absolute".to_owned()));
    }
    match std::fs::metadata(cwd) {
        Ok(metadata) if metadata.is_dir() => Ok(()),
        Ok(_) => Err(bad("not a directory".to_owned())),
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            Err(bad("no such directory".to_owned()))
        }
        Err(err) => Err(bad(err.to_string())),
    }
}
