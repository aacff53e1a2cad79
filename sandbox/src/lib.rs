//! The sandbox of wharf: what a tool call may touch, and (later) the only
//! place that starts processes.
//!
//! Every process any plugin runs will be spawned here, with Landlock,
//! seccomp and `no_new_privs` applied in the child before `exec`, so that no
//! other crate needs to know how enforcement works (and clippy forbids
//! `Command::new` everywhere else). For now the crate holds the policy types
//! ([`SandboxPolicy`], which `wharf-host` builds from the configuration) and the path rules
//! ([`PathRules`]) that decide which paths a policy lets a tool read and
//! write. Both are plain data and pure functions: no serde, no process
//! state beyond what the caller passes in a [`PathEnv`].

pub mod paths;
pub mod policy;

pub use paths::{
    Denial, PLATFORM_DEFAULT_READ_ROOTS, PathEnv, PathRules, WritableRoot, resolve_path,
};
pub use policy::{ParseSandboxModeError, ReadOnlyAccess, SandboxMode, SandboxPolicy};
