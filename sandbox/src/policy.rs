//! What a sandboxed tool call may do, as plain data.
//!
//! These types mirror the `sandbox_mode`, `[sandbox_workspace_write]` and
//! `read_only_access` configuration (PRODUCT.md §7) but know nothing about
//! TOML: the config crate parses and converts into them, so that the rules in
//! [`crate::paths`] and the enforcement see one checked shape. Their serde
//! form (the config's key names, `mode` and `type` as tags) is how the host
//! hands a session's sandbox to native plugins.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// The three sandbox levels a user can pick with `sandbox_mode` / `--sandbox`.
///
/// A fieldless twin of [`SandboxPolicy`], for flags, display and comparisons
/// where the details of the policy do not matter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SandboxMode {
    /// Nothing may be written; reads follow [`ReadOnlyAccess`].
    ReadOnly,
    /// The workspace and temporary directories may be written, except their
    /// protected subpaths (`.git`, `.wharf`).
    WorkspaceWrite,
    /// No sandbox at all: the user accepts that tools can do anything.
    DangerFullAccess,
}

impl SandboxMode {
    /// Every mode, in order from most to least restrictive, so that help texts
    /// and error messages list them without repeating the names by hand.
    pub const ALL: [SandboxMode; 3] = [
        SandboxMode::ReadOnly,
        SandboxMode::WorkspaceWrite,
        SandboxMode::DangerFullAccess,
    ];

    /// The name used in configuration files and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            SandboxMode::ReadOnly => "read-only",
            SandboxMode::WorkspaceWrite => "workspace-write",
            SandboxMode::DangerFullAccess => "danger-full-access",
        }
    }
}

impl fmt::Display for SandboxMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SandboxMode {
    type Err = ParseSandboxModeError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        SandboxMode::ALL
            .into_iter()
            .find(|mode| mode.as_str() == input)
            .ok_or_else(|| ParseSandboxModeError {
                input: input.to_owned(),
            })
    }
}

/// A string that names no [`SandboxMode`]; the message lists the valid names.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown sandbox mode `{input}`; expected one of: {}", mode_names())]
pub struct ParseSandboxModeError {
    input: String,
}

impl ParseSandboxModeError {
    /// The rejected input, for callers that add their own context.
    pub fn input(&self) -> &str {
        &self.input
    }
}

fn mode_names() -> String {
    SandboxMode::ALL.map(SandboxMode::as_str).join(", ")
}

/// Which paths a sandboxed process may read.
///
/// Full access is the default because most tools (compilers, interpreters)
/// read all over the system; `Restricted` is for users who want to keep, say,
/// `~/.ssh` out of reach of the model.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum ReadOnlyAccess {
    /// Everything is readable.
    #[default]
    FullAccess,
    /// Only these roots are readable, plus the cwd and every writable root.
    Restricted {
        /// Add [`crate::PLATFORM_DEFAULT_READ_ROOTS`], the files ordinary
        /// programs need to start at all (the dynamic loader, libraries).
        include_platform_defaults: bool,
        /// Extra readable roots, absolute or relative to the cwd.
        readable_roots: Vec<PathBuf>,
    },
}

/// A complete sandbox policy: the mode plus the settings that refine it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "mode", rename_all = "kebab-case")]
pub enum SandboxPolicy {
    /// Nothing may be written, network is off.
    ReadOnly {
        /// What may be read.
        access: ReadOnlyAccess,
    },
    /// Writes are allowed inside the writable roots (see
    /// [`crate::PathRules`] for how they are computed).
    WorkspaceWrite {
        /// Configured roots in addition to the cwd and the temporary
        /// directories; absolute or relative to the cwd.
        writable_roots: Vec<PathBuf>,
        /// What may be read.
        read_only_access: ReadOnlyAccess,
        /// Whether processes may use the network.
        network_access: bool,
        /// Leave `$TMPDIR` out of the writable roots.
        exclude_tmpdir_env_var: bool,
        /// Leave `/tmp` out of the writable roots.
        exclude_slash_tmp: bool,
    },
    /// No restrictions at all.
    DangerFullAccess,
}

impl SandboxPolicy {
    /// Read-only with full read access: the safe default for looking around.
    pub fn new_read_only() -> Self {
        SandboxPolicy::ReadOnly {
            access: ReadOnlyAccess::FullAccess,
        }
    }

    /// Workspace-write with the defaults a config file gets when it only sets
    /// the mode: no extra roots, full read access, network off, `/tmp` and
    /// `$TMPDIR` writable.
    pub fn new_workspace_write() -> Self {
        SandboxPolicy::WorkspaceWrite {
            writable_roots: Vec::new(),
            read_only_access: ReadOnlyAccess::FullAccess,
            network_access: false,
            exclude_tmpdir_env_var: false,
            exclude_slash_tmp: false,
        }
    }

    /// The level of this policy, without its details.
    pub fn mode(&self) -> SandboxMode {
        match self {
            SandboxPolicy::ReadOnly { .. } => SandboxMode::ReadOnly,
            SandboxPolicy::WorkspaceWrite { .. } => SandboxMode::WorkspaceWrite,
            SandboxPolicy::DangerFullAccess => SandboxMode::DangerFullAccess,
        }
    }

    /// Whether processes may open network sockets. Network is off unless the
    /// user turned it on explicitly (or dropped the sandbox altogether).
    pub fn has_network_access(&self) -> bool {
        match self {
            SandboxPolicy::ReadOnly { .. } => false,
            SandboxPolicy::WorkspaceWrite { network_access, .. } => *network_access,
            SandboxPolicy::DangerFullAccess => true,
        }
    }

    /// What this policy lets processes read.
    ///
    /// `None` for danger-full-access, which has no read restrictions to speak
    /// of; callers treat it like [`ReadOnlyAccess::FullAccess`].
    pub fn read_access(&self) -> Option<&ReadOnlyAccess> {
        match self {
            SandboxPolicy::ReadOnly { access } => Some(access),
            SandboxPolicy::WorkspaceWrite {
                read_only_access, ..
            } => Some(read_only_access),
            SandboxPolicy::DangerFullAccess => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mode_names_round_trip() {
        for mode in SandboxMode::ALL {
            assert_eq!(mode.to_string().parse::<SandboxMode>(), Ok(mode));
        }
        let names: Vec<String> = SandboxMode::ALL.iter().map(ToString::to_string).collect();
        assert_eq!(
            names,
            ["read-only", "workspace-write", "danger-full-access"]
        );
    }

    #[test]
    fn unknown_mode_lists_the_valid_ones() {
        for (input, message) in [
            (
                "x",
                "unknown sandbox mode `x`; expected one of: read-only, workspace-write, danger-full-access",
            ),
            (
                "Read-Only",
                "unknown sandbox mode `Read-Only`; expected one of: read-only, workspace-write, danger-full-access",
            ),
            (
                "",
                "unknown sandbox mode ``; expected one of: read-only, workspace-write, danger-full-access",
            ),
        ] {
            let err = input.parse::<SandboxMode>().unwrap_err();
            assert_eq!(err.to_string(), message);
            assert_eq!(err.input(), input);
        }
    }

    #[test]
    fn policy_mode_and_network() {
        let workspace_with_network = SandboxPolicy::WorkspaceWrite {
            writable_roots: Vec::new(),
            read_only_access: ReadOnlyAccess::FullAccess,
            network_access: true,
            exclude_tmpdir_env_var: false,
            exclude_slash_tmp: false,
        };
        for (policy, mode, network) in [
            (SandboxPolicy::new_read_only(), SandboxMode::ReadOnly, false),
            (
                SandboxPolicy::new_workspace_write(),
                SandboxMode::WorkspaceWrite,
                false,
            ),
            (workspace_with_network, SandboxMode::WorkspaceWrite, true),
            (
                SandboxPolicy::DangerFullAccess,
                SandboxMode::DangerFullAccess,
                true,
            ),
        ] {
            assert_eq!(policy.mode(), mode, "{policy:?}");
            assert_eq!(policy.has_network_access(), network, "{policy:?}");
        }
    }
}
