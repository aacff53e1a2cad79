//! The sandbox of wharf: what a tool call may touch, and the only place
//! that starts processes.
//!
//! Every process any plugin runs is spawned here ([`Sandbox::spawn`],
//! [`Sandbox::spawn_pty`]), with a read-only mount of the protected paths,
//! `no_new_privs`, Landlock and seccomp applied in the child before `exec`,
//! so that no other crate needs to know how enforcement works (and clippy
//! forbids `Command::new` everywhere else). The policy types
//! ([`SandboxPolicy`], which `wharf-host` builds from the configuration) and
//! the path rules ([`PathRules`]) that decide which paths a policy lets a
//! tool read and write are plain data and pure functions: no process state
//! beyond what the caller passes in a [`PathEnv`].

mod denied;
mod keyring;
pub mod paths;
pub mod policy;
pub mod spawn;

pub use denied::denial_line;
pub use keyring::join_new_session_keyring;

pub use paths::{
    Denial, PLATFORM_DEFAULT_READ_ROOTS, PathEnv, PathRules, WritableRoot, resolve_path,
};
pub use policy::{ParseSandboxModeError, ReadOnlyAccess, SandboxMode, SandboxPolicy};
pub use spawn::{
    Child, ChildProcess, Command, KernelSupport, LANDLOCK_RIGHTS, Layer, LayerState,
    MIN_LANDLOCK_ABI, NETWORK_DISABLED_ENV, Namespaces, PtyChild, PtySize, RunLimits, RunOutput,
    SCOPES_ABI, Sandbox, SpawnError, Stdio, WITHOUT_NAMESPACES, landlock_rights,
};
