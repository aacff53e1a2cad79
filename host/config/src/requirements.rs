//! `requirements.toml`: what an administrator pins, above every other
//! layer (codex's format, and wharf's additions).
//!
//! ```toml
//! allowed_approval_policies = ["untrusted", "on-request"]
//! allowed_sandbox_modes = ["read-only", "workspace-write"]
//! allow_native_plugins = false          # wharf: no `.so` plugin loads
//!
//! [features]                             # pins: the layers cannot change these
//! web_search = false
//!
//! [mcp_servers.docs.identity]            # the only servers that may start,
//! command = "docs-mcp"                   # by name AND identity
//! [mcp_servers.tracker.identity]
//! url = "https://mcp.example.com/tracker"
//!
//! [plugins.grep]                         # wharf: the only installed plugins
//! sha256 = "…"                           # that load, by artifact hash
//! ```
//!
//! Where they come from, the first that exists: the requirements a custom
//! build bakes in, `/etc/wharf/requirements.toml`, then
//! `$WHARF_REQUIREMENTS`. The variable is read only when neither of the
//! others exists, so a user cannot replace the administrator's file with
//! their own. A file that cannot be read or parsed, or that holds a key
//! this version does not know, stops wharf (fail closed) with the file,
//! line and column: a typo must not lift a restriction.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use wharf_sandbox::SandboxMode;

use crate::error::ConfigError;
use crate::source::Location;
use crate::toml_types::{ApprovalPolicy, SandboxModeToml};

/// The administrator's file on every machine.
pub const SYSTEM_PATH: &str = "/etc/wharf/requirements.toml";

/// The variable naming a requirements file where there is no system one.
pub const ENV_VAR: &str = "WHARF_REQUIREMENTS";

/// Where requirements are read from, decided at the edge
/// ([`crate::ConfigOptions::from_env`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum RequirementsSource {
    /// No requirements.
    #[default]
    None,
    /// A file, which must exist.
    File(PathBuf),
    /// Text a custom build bakes in; `name` says where it came from.
    BuiltIn { name: String, text: &'static str },
}

impl RequirementsSource {
    /// The source on this machine: `built_in` when a custom build has one,
    /// else [`SYSTEM_PATH`] when it exists, else `env_file` (the value of
    /// [`ENV_VAR`]), else none.
    pub fn find(
        built_in: Option<(&str, &'static str)>,
        system: &Path,
        env_file: Option<PathBuf>,
    ) -> RequirementsSource {
        if let Some((name, text)) = built_in {
            return RequirementsSource::BuiltIn {
                name: name.to_owned(),
                text,
            };
        }
        // A system path that is there in any form (even one wharf cannot
        // read) is the administrator's: it is read, and fails if it must.
        if system.symlink_metadata().is_ok() {
            return RequirementsSource::File(system.to_path_buf());
        }
        match env_file {
            Some(path) => RequirementsSource::File(path),
            None => RequirementsSource::None,
        }
    }

    /// Reads and checks the requirements.
    pub fn load(&self) -> Result<Requirements, ConfigError> {
        match self {
            RequirementsSource::None => Ok(Requirements::default()),
            RequirementsSource::File(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.clone(),
                    source,
                })?;
                Requirements::parse(path, &text, Origin::File(path.clone()))
            }
            RequirementsSource::BuiltIn { name, text } => {
                Requirements::parse(Path::new(name), text, Origin::BuiltIn(name.clone()))
            }
        }
    }
}

/// Where the requirements in force came from, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    File(PathBuf),
    /// Baked into this build; the name it was given.
    BuiltIn(String),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::File(path) => write!(f, "{}", path.display()),
            Origin::BuiltIn(name) => write!(f, "{name} (built into this wharf)"),
        }
    }
}

/// The requirements in force; the default has none.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Requirements {
    /// Where they came from; `None`: there are none.
    pub origin: Option<Origin>,
    /// The approval policies a session may use; `None`: any.
    pub allowed_approval_policies: Option<Vec<ApprovalPolicy>>,
    /// The sandbox modes a session may use; `None`: any.
    pub allowed_sandbox_modes: Option<Vec<SandboxMode>>,
    /// Feature keys pinned on or off.
    pub features: BTreeMap<String, bool>,
    /// The MCP servers that may start, by name, each with its identity;
    /// `None`: any.
    pub mcp_servers: Option<BTreeMap<String, McpIdentity>>,
    /// The installed plugins that may load, by name, each with the sha256
    /// of its artifact; `None`: any.
    pub plugins: Option<BTreeMap<String, PluginPin>>,
    /// Whether native plugins (`.so`) may load at all.
    pub allow_native_plugins: bool,
    /// A forced `[otel]`: it replaces the layers' own.
    pub otel: Option<crate::toml_types::otel::OtelToml>,
}

/// What an allowed MCP server must be, beside its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum McpIdentity {
    /// A stdio server: its `command`, as configured.
    Command(String),
    /// An HTTP server: its `url`.
    Url(String),
}

/// The artifact an allowed plugin must have.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginPin {
    /// Lowercase hex.
    pub sha256: String,
}

impl Requirements {
    /// Parses `text`, the requirements from `origin` (`path` for the
    /// positions in errors).
    pub fn parse(path: &Path, text: &str, origin: Origin) -> Result<Requirements, ConfigError> {
        let at = |offset: usize| Location::of_offset(path, text, offset);
        let file: RequirementsToml = toml::from_str(text).map_err(|err| ConfigError::Syntax {
            at: at(err.span().map_or(0, |span| span.start)),
            message: format!("requirements: {}", err.message().trim_end()),
        })?;
        let invalid = |key: String, message: String| ConfigError::Value {
            key: format!("{origin}: {key}"),
            message,
        };
        let mcp_servers = match file.mcp_servers {
            None => None,
            Some(servers) => {
                let mut allowed = BTreeMap::new();
                for (name, server) in servers {
                    let identity = match (server.identity.command, server.identity.url) {
                        (Some(command), None) if !command.trim().is_empty() => {
                            McpIdentity::Command(command)
                        }
                        (None, Some(url)) if !url.trim().is_empty() => McpIdentity::Url(url),
                        _ => {
                            return Err(invalid(
                                format!("mcp_servers.{name}.identity"),
                                "give exactly one of `command` (a stdio server) or `url` (an \
                                 HTTP server)"
                                    .to_owned(),
                            ));
                        }
                    };
                    allowed.insert(name, identity);
                }
                Some(allowed)
            }
        };
        let plugins = match file.plugins {
            None => None,
            Some(plugins) => {
                let mut allowed = BTreeMap::new();
                for (name, plugin) in plugins {
                    let sha256 = plugin.sha256.to_ascii_lowercase();
                    let hex = sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit());
                    if !hex {
                        return Err(invalid(
                            format!("plugins.{name}.sha256"),
                            "expected the 64 hex digits of a sha256".to_owned(),
                        ));
                    }
                    allowed.insert(name, PluginPin { sha256 });
                }
                Some(allowed)
            }
        };
        Ok(Requirements {
            origin: Some(origin),
            allowed_approval_policies: file.allowed_approval_policies,
            allowed_sandbox_modes: file.allowed_sandbox_modes.map(|modes| {
                modes
                    .into_iter()
                    .map(|mode| match mode {
                        SandboxModeToml::ReadOnly => SandboxMode::ReadOnly,
                        SandboxModeToml::WorkspaceWrite => SandboxMode::WorkspaceWrite,
                        SandboxModeToml::DangerFullAccess => SandboxMode::DangerFullAccess,
                    })
                    .collect()
            }),
            features: file.features.unwrap_or_default(),
            mcp_servers,
            plugins,
            allow_native_plugins: file.allow_native_plugins.unwrap_or(true),
            otel: file.otel,
        })
    }

    /// Whether any requirement is in force.
    pub fn is_empty(&self) -> bool {
        self.origin.is_none()
    }
}

/// The file as written. Unknown keys are errors: a requirement this
/// version does not know must not be dropped silently.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RequirementsToml {
    allowed_approval_policies: Option<Vec<ApprovalPolicy>>,
    allowed_sandbox_modes: Option<Vec<SandboxModeToml>>,
    features: Option<BTreeMap<String, bool>>,
    mcp_servers: Option<BTreeMap<String, McpServerRequirementToml>>,
    plugins: Option<BTreeMap<String, PluginRequirementToml>>,
    allow_native_plugins: Option<bool>,
    otel: Option<crate::toml_types::otel::OtelToml>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct McpServerRequirementToml {
    identity: McpIdentityToml,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct McpIdentityToml {
    command: Option<String>,
    url: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PluginRequirementToml {
    sha256: String,
}

mod apply;

pub use apply::{APPROVAL_POLICIES, FEATURES, MCP_SERVERS, SANDBOX_MODES, normalize_url};

#[cfg(test)]
mod tests;
