//! The `[mcp_servers.NAME]` tables and the OAuth token store setting.

use std::collections::BTreeMap;
use std::path::PathBuf;

use schemars::JsonSchema;
use serde::de::value::MapAccessDeserializer;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use super::SandboxModeToml;
use crate::by_name::deserialize_by_name;

/// One `[mcp_servers.NAME]` entry, with codex's keys: a server wharf starts
/// (`command`) or connects to over streamable HTTP (`url`). The fields of
/// the two kinds do not mix.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
pub struct McpServerToml {
    /// stdio: the program to start, found on `PATH` when it has no `/`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// stdio: its arguments.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub args: Option<Vec<String>>,
    /// stdio: environment variables set for it: name = value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub env: Option<BTreeMap<String, String>>,
    /// stdio: variables passed through from wharf's environment, besides
    /// the few every server gets (`PATH`, `HOME`, …): names, or codex's
    /// tables `{ name = "TOKEN", source = "local" }`. wharf runs every
    /// server on this machine, so `source = "remote"` reads wharf's
    /// environment too (with a warning).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub env_vars: Option<Vec<McpEnvVarToml>>,
    /// stdio: its working directory (`~/` is the home directory, relative
    /// paths are taken from the working directory). Default: wharf's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cwd: Option<PathBuf>,

    /// streamable HTTP: the server's endpoint, `http://` or `https://`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// streamable HTTP: the environment variable holding a token sent as
    /// `Authorization: Bearer TOKEN`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bearer_token_env_var: Option<String>,
    /// streamable HTTP: headers sent to this server only: name = value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_headers: Option<BTreeMap<String, String>>,
    /// streamable HTTP: headers whose values come from the environment:
    /// name = variable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub env_http_headers: Option<BTreeMap<String, String>>,
    /// streamable HTTP: the OAuth `resource` parameter (RFC 8707) sent by
    /// `wharf mcp login`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oauth_resource: Option<String>,
    /// Not supported: a token written in the file. Read so that the error
    /// can point to `bearer_token_env_var` instead of ignoring it.
    #[serde(skip_serializing)]
    #[schemars(skip)]
    pub bearer_token: Option<String>,

    /// `false` keeps the entry without starting the server. Default `true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// `true` makes a session fail to start when this server cannot
    /// initialize. Default `false`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required: Option<bool>,
    /// Seconds the server has to start and list its tools. Default 10.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub startup_timeout_sec: Option<f64>,
    /// The same in milliseconds (codex's older key); `startup_timeout_sec`
    /// wins when both are set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub startup_timeout_ms: Option<u64>,
    /// Seconds a tool call may take. Default 60.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_timeout_sec: Option<f64>,
    /// Only these tools are offered. Default: all of them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled_tools: Option<Vec<String>>,
    /// These tools are not offered (applied after `enabled_tools`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disabled_tools: Option<Vec<String>>,
    /// Whether a call of this server's tools asks first: `auto` (the
    /// approval policy decides, as for any tool; the default), `prompt`
    /// (always ask), `approve` (never ask) or `writes` (ask before tools
    /// that may change something; wharf cannot tell which do, so it asks
    /// before every call).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_tools_approval_mode: Option<McpToolApproval>,
    /// Settings of single tools, by the server's name of the tool:
    /// `[mcp_servers.NAME.tools.TOOL] approval_mode = "approve"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tools: Option<BTreeMap<String, McpToolToml>>,
    /// At most this many of the server's tools are offered (after the
    /// filters); the rest are dropped with a warning. Default 128.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tools: Option<usize>,
    /// A tool whose description is longer (in bytes) is not offered.
    /// Default 8192.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tool_description_bytes: Option<usize>,
    /// A tool whose input schema is longer as JSON (in bytes) is not
    /// offered. Default 65536.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tool_schema_bytes: Option<usize>,
    /// The OAuth scopes `wharf mcp login` asks for when `--scopes` is not
    /// given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,

    /// stdio: run the server under this sandbox (`read-only`,
    /// `workspace-write` or `danger-full-access`). Default: unconfined, like
    /// any program you start yourself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sandbox_mode: Option<SandboxModeToml>,
    /// stdio, with `sandbox_mode = "workspace-write"`: whether the
    /// sandboxed server may use the network. Default `true`; `read-only`
    /// has no network.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_access: Option<bool>,
}

/// One `env_vars` entry: a name, or codex's `{ name, source }` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum McpEnvVarToml {
    Name(String),
    Table {
        name: String,
        /// Where codex reads it: `local` (this machine, the default) or
        /// `remote` (the environment codex runs the server in).
        #[serde(skip_serializing_if = "Option::is_none")]
        source: Option<McpEnvVarSource>,
    },
}

impl McpEnvVarToml {
    /// The variable's name.
    pub fn name(&self) -> &str {
        match self {
            McpEnvVarToml::Name(name) | McpEnvVarToml::Table { name, .. } => name,
        }
    }

    /// Whether codex would read it from a remote environment.
    pub fn is_remote(&self) -> bool {
        matches!(
            self,
            McpEnvVarToml::Table {
                source: Some(McpEnvVarSource::Remote),
                ..
            }
        )
    }
}

impl<'de> Deserialize<'de> for McpEnvVarToml {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Either;
        impl<'de> Visitor<'de> for Either {
            type Value = McpEnvVarToml;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a variable name, or a table `{ name = \"VAR\", source = \"local\" }`")
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<Self::Value, E> {
                Ok(McpEnvVarToml::Name(value.to_owned()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                #[derive(Deserialize)]
                struct Table {
                    name: String,
                    source: Option<McpEnvVarSource>,
                }
                let table = Table::deserialize(MapAccessDeserializer::new(map))?;
                Ok(McpEnvVarToml::Table {
                    name: table.name,
                    source: table.source,
                })
            }
        }
        deserializer.deserialize_any(Either)
    }
}

/// Where codex reads an `env_vars` variable (codex's values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum McpEnvVarSource {
    /// wharf's own environment.
    Local,
    /// codex: the remote environment a server runs in. wharf runs every
    /// server on this machine and reads wharf's environment.
    Remote,
}

deserialize_by_name!(McpEnvVarSource {
    Local = "local",
    Remote = "remote",
});

/// `[mcp_servers.NAME.tools.TOOL]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub struct McpToolToml {
    /// Overrides the server's `default_tools_approval_mode` for this tool.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approval_mode: Option<McpToolApproval>,
}

/// Whether a call of an MCP tool asks first (codex's values).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum McpToolApproval {
    /// The approval policy decides, as for any tool.
    #[default]
    Auto,
    /// Always ask.
    Prompt,
    /// Ask before tools that may change something: wharf does not read
    /// tool annotations, so it asks before every call.
    Writes,
    /// Never ask.
    Approve,
}

deserialize_by_name!(McpToolApproval {
    Auto = "auto",
    Prompt = "prompt",
    Writes = "writes",
    Approve = "approve",
});

impl McpToolApproval {
    /// The name written in config.toml.
    pub fn as_str(self) -> &'static str {
        match self {
            McpToolApproval::Auto => "auto",
            McpToolApproval::Prompt => "prompt",
            McpToolApproval::Writes => "writes",
            McpToolApproval::Approve => "approve",
        }
    }
}

/// Where MCP OAuth tokens are stored (codex's values).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum McpOAuthCredentialsStore {
    /// The OS keyring when one is available, else the file.
    #[default]
    Auto,
    /// Only the OS keyring.
    Keyring,
    /// Only `$WHARF_HOME/.credentials.json` (mode 0600).
    File,
}

deserialize_by_name!(McpOAuthCredentialsStore {
    Auto = "auto",
    Keyring = "keyring",
    File = "file",
});

impl McpOAuthCredentialsStore {
    /// The name written in config.toml.
    pub fn as_str(self) -> &'static str {
        match self {
            McpOAuthCredentialsStore::Auto => "auto",
            McpOAuthCredentialsStore::Keyring => "keyring",
            McpOAuthCredentialsStore::File => "file",
        }
    }
}
