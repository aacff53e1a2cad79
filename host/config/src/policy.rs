//! From a sandbox mode to a policy: the one mapping ([`policy`]), for the
//! session's `sandbox_mode` (read with its tables by [`sandbox_policy`])
//! and for an MCP server's (`[mcp_servers.NAME] sandbox_mode`,
//! [`crate::McpSandbox::policy`]).

use std::path::{Path, PathBuf};

use wharf_sandbox::{ReadOnlyAccess, SandboxMode, SandboxPolicy};

use crate::error::{ConfigError, invalid_value};
use crate::layer::Layered;
use crate::options::ConfigOptions;
use crate::toml_types::{ConfigToml, ReadOnlyAccessKind, ReadOnlyAccessToml, SandboxModeToml};

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

/// The session's policy: `sandbox_mode`, its workspace-write table and
/// `read_only_access`, with `~/` expanded.
pub(crate) fn sandbox_policy(
    typed: &ConfigToml,
    options: &ConfigOptions,
    effective: &Layered,
) -> Result<SandboxPolicy, ConfigError> {
    let expand = |path: &PathBuf| expand_home(path, options.home_dir.as_deref());
    let access = read_only_access(typed.read_only_access.as_ref(), effective, &expand)?;
    let mode = typed.sandbox_mode.unwrap_or(SandboxModeToml::ReadOnly);
    let ww = typed.sandbox_workspace_write.clone().unwrap_or_default();
    let workspace = WorkspaceWrite {
        writable_roots: ww
            .writable_roots
            .unwrap_or_default()
            .iter()
            .map(expand)
            .collect(),
        network_access: ww.network_access.unwrap_or(false),
        exclude_tmpdir_env_var: ww.exclude_tmpdir_env_var.unwrap_or(false),
        exclude_slash_tmp: ww.exclude_slash_tmp.unwrap_or(false),
    };
    Ok(policy(mode.into(), access, workspace))
}

fn read_only_access(
    toml: Option<&ReadOnlyAccessToml>,
    effective: &Layered,
    expand: &dyn Fn(&PathBuf) -> PathBuf,
) -> Result<ReadOnlyAccess, ConfigError> {
    let Some(toml) = toml else {
        return Ok(ReadOnlyAccess::FullAccess);
    };
    match toml.kind {
        ReadOnlyAccessKind::Restricted => Ok(ReadOnlyAccess::Restricted {
            include_platform_defaults: toml.include_platform_defaults.unwrap_or(true),
            readable_roots: toml
                .readable_roots
                .as_deref()
                .unwrap_or_default()
                .iter()
                .map(expand)
                .collect(),
        }),
        ReadOnlyAccessKind::FullAccess => {
            let misplaced = [
                ("readable_roots", toml.readable_roots.is_some()),
                (
                    "include_platform_defaults",
                    toml.include_platform_defaults.is_some(),
                ),
            ];
            for (field, present) in misplaced {
                if !present {
                    continue;
                }
                let key = vec!["read_only_access".to_owned(), field.to_owned()];
                let message = format!(
                    "`{field}` only applies with type = \"restricted\" (set the type, or remove it)"
                );
                return Err(invalid_value(effective.sources.get(&key), &key, message));
            }
            Ok(ReadOnlyAccess::FullAccess)
        }
    }
}

/// `~/x` → `$HOME/x`; other paths unchanged.
pub(crate) fn expand_home(path: &Path, home: Option<&Path>) -> PathBuf {
    match (path.strip_prefix("~"), home) {
        (Ok(rest), Some(home)) => home.join(rest),
        _ => path.to_path_buf(),
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
