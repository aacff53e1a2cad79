//! The `[mcp_servers.NAME]` tables and the OAuth token store setting.

use std::collections::BTreeMap;
use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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
    /// the few every server gets (`PATH`, `HOME`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub env_vars: Option<Vec<String>>,
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
