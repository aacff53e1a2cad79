//! From a sandbox mode to a policy: the one mapping, for the session's
//! `sandbox_mode` and for an MCP server's (`[mcp_servers.NAME]
//! sandbox_mode`, [`crate::McpSandbox::policy`]).

use std::path::PathBuf;

use wharf_sandbox::{ReadOnlyAccess, SandboxMode, SandboxPolicy};

use crate::toml_types::SandboxModeToml;

/// What workspace-write adds to a mode (`[sandbox_workspace_write]`); the
/// other modes ignore it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkspaceWrite {
    /// Roots writable besides the cwd and the temporary directories.
    pub writable_roots: Vec<PathBuf>,
    pub network_access: bool,
    pub exclude_tmpdir_env_var: bool,
    pub exclude_slash_tmp: bool,
}

/// The policy of `mode`, reading with `access`.
pub fn policy(
    mode: SandboxMode,
    access: ReadOnlyAccess,
    workspace: WorkspaceWrite,
) -> SandboxPolicy {
    match mode {
        SandboxMode::ReadOnly => SandboxPolicy::ReadOnly { access },
        SandboxMode::WorkspaceWrite => SandboxPolicy::WorkspaceWrite {
            writable_roots: workspace.writable_roots,
            read_only_access: access,
            network_access: workspace.network_access,
            exclude_tmpdir_env_var: workspace.exclude_tmpdir_env_var,
            exclude_slash_tmp: workspace.exclude_slash_tmp,
        },
        SandboxMode::DangerFullAccess => SandboxPolicy::DangerFullAccess,
    }
}

impl From<SandboxModeToml> for SandboxMode {
    fn from(mode: SandboxModeToml) -> SandboxMode {
        match mode {
            SandboxModeToml::ReadOnly => SandboxMode::ReadOnly,
            SandboxModeToml::WorkspaceWrite => SandboxMode::WorkspaceWrite,
            SandboxModeToml::DangerFullAccess => SandboxMode::DangerFullAccess,
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::McpSandbox;

    use super::*;

    #[test]
    fn a_servers_sandbox_is_the_sessions_policy_of_its_mode() {
        let workspace = |network_access| SandboxPolicy::WorkspaceWrite {
            writable_roots: Vec::new(),
            read_only_access: ReadOnlyAccess::FullAccess,
            network_access,
            exclude_tmpdir_env_var: false,
            exclude_slash_tmp: false,
        };
        // (mode, network access, policy)
        let cases = [
            (SandboxMode::ReadOnly, false, SandboxPolicy::new_read_only()),
            (SandboxMode::WorkspaceWrite, true, workspace(true)),
            (SandboxMode::WorkspaceWrite, false, workspace(false)),
            (
                SandboxMode::DangerFullAccess,
                true,
                SandboxPolicy::DangerFullAccess,
            ),
        ];
        for (mode, network_access, expected) in cases {
            let sandbox = McpSandbox {
                mode,
                network_access,
            };
            assert_eq!(sandbox.policy(), expected, "{mode} {network_access}");
        }
    }
}
