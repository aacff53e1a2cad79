//! `[mcp_servers.NAME]`: the MCP servers a session offers as plugins, and
//! the top-level `mcp_oauth_*` keys.
//!
//! The keys are codex's (`McpServerConfig` in codex-rs), so a codex user's
//! table works unchanged: a stdio server has `command` (+ `args`, `env`,
//! `env_vars`, `cwd`), a streamable HTTP server has `url` (+
//! `bearer_token_env_var`, `http_headers`, `env_http_headers`,
//! `oauth_resource`); the two kinds of fields do not mix, and an inline
//! `bearer_token` is refused as codex refuses it. wharf adds `sandbox_mode`
//! and `network_access` for stdio servers, which otherwise run unconfined
//! like any program the user starts.
//!
//! How layers combine differs from the rest of the file, on purpose. codex
//! merges every table key by key, entries of `[mcp_servers]` included; here
//! a **file's** `[mcp_servers.NAME]` replaces the whole entry of that name
//! from a lower file. Each file describes complete servers, and a key-wise
//! merge would let a repository's `.wharf/config.toml` slip `args`, `cwd`
//! or `env_vars` (say, a token's name) into a server the user defined, or
//! mix a `url` into a `command` server. A **profile** or a **`-c`** override
//! is the user adjusting the effective entry, so it changes single keys as
//! in codex: `-c mcp_servers.docs.enabled=false` turns one server off.

mod approval;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use wharf_sandbox::{ReadOnlyAccess, SandboxMode, SandboxPolicy};

use super::layer::{KeyPath, Layered, remove_at};
use super::policy::{self, WorkspaceWrite};
use super::requirements::{McpIdentity, Requirements};
use super::toml_types::{ConfigToml, McpServerToml, SandboxModeToml};
use super::{ConfigError, ConfigOptions, Source, expand_home, invalid_value};

pub use approval::{McpToolApprovals, mcp_plugin_name};

/// How long a server has to start and list its tools, unless configured.
pub const DEFAULT_STARTUP_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one tool call may take, unless configured.
pub const DEFAULT_TOOL_TIMEOUT: Duration = Duration::from_secs(60);

/// One configured MCP server, every default applied and every rule checked.
#[derive(Debug, Clone, PartialEq)]
pub struct McpServerConfig {
    /// The key of `[mcp_servers.NAME]`: ASCII letters, digits, `-`, `_`.
    pub name: String,
    pub transport: McpTransport,
    /// `enabled` as configured. Whether the server is used also depends on
    /// the `mcp_client` feature and on [`McpServerConfig::blocked`].
    pub enabled: bool,
    /// A session fails to start when this server cannot initialize.
    pub required: bool,
    pub startup_timeout: Duration,
    pub tool_timeout: Duration,
    /// Only these tools are offered; `None`: all of them.
    pub enabled_tools: Option<Vec<String>>,
    /// Tools removed after `enabled_tools` applied.
    pub disabled_tools: Vec<String>,
    /// How many tools, and how large, the server may offer; `None`: the
    /// MCP client's default.
    pub offer_limits: McpOfferLimits,
    /// OAuth scopes for `wharf mcp login` when `--scopes` is not given.
    pub scopes: Vec<String>,
    /// Whether a call of each tool asks first (`default_tools_approval_mode`,
    /// `tools.TOOL.approval_mode`).
    pub tool_approvals: McpToolApprovals,
    /// The sandbox a stdio server runs in; `None`: unconfined.
    pub sandbox: Option<McpSandbox>,
    /// The layer that defined the server (where its `command` or `url` is).
    pub source: Source,
    /// Why the administrator's requirements forbid this server (its name or
    /// identity is not on their `[mcp_servers]` allowlist): such a server
    /// is never started. Set by `Config::load`.
    pub blocked: Option<String>,
}

/// `max_tools`, `max_tool_description_bytes`, `max_tool_schema_bytes` as
/// configured (each more than 0).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct McpOfferLimits {
    pub max_tools: Option<usize>,
    pub max_tool_description_bytes: Option<usize>,
    pub max_tool_schema_bytes: Option<usize>,
}

/// How wharf talks to a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum McpTransport {
    /// A child process speaking MCP on its stdin and stdout.
    Stdio {
        command: String,
        args: Vec<String>,
        /// Variables set for the server, on top of the allowlisted ones.
        env: BTreeMap<String, String>,
        /// Variables passed through from wharf's environment.
        env_vars: Vec<String>,
        /// `~/` expanded, relative paths joined to the working directory.
        cwd: Option<PathBuf>,
    },
    /// A server reached over streamable HTTP.
    Http {
        url: String,
        bearer_token_env_var: Option<String>,
        http_headers: BTreeMap<String, String>,
        /// Header name → the environment variable holding its value.
        env_http_headers: BTreeMap<String, String>,
        /// The OAuth `resource` parameter (RFC 8707).
        oauth_resource: Option<String>,
    },
}

impl McpTransport {
    /// `stdio` or `streamable_http`, codex's names for the two kinds.
    pub fn kind(&self) -> &'static str {
        match self {
            McpTransport::Stdio { .. } => "stdio",
            McpTransport::Http { .. } => "streamable_http",
        }
    }
}

/// The sandbox of a stdio server: a mode, and whether it may use the
/// network: always off under `read-only`, on by default under
/// `workspace-write` (a server that only works offline says
/// `network_access = false`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct McpSandbox {
    pub mode: SandboxMode,
    pub network_access: bool,
}

impl McpSandbox {
    /// The policy a server in this sandbox runs under: the session's
    /// mapping from a mode ([`crate::policy::policy`]) with full read
    /// access, no writable root beyond the defaults, and the server's
    /// network access.
    pub fn policy(&self) -> SandboxPolicy {
        let workspace = WorkspaceWrite {
            network_access: self.network_access,
            ..WorkspaceWrite::default()
        };
        policy::policy(self.mode, ReadOnlyAccess::FullAccess, workspace)
    }
}

/// Why an entry is wrong: the field to point at (`None`: the entry as a
/// whole) and a message that says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct McpServerError {
    pub field: Option<&'static str>,
    pub message: String,
}

impl McpServerError {
    fn at(field: &'static str, message: String) -> McpServerError {
        McpServerError {
            field: Some(field),
            message,
        }
    }
}

/// Server names are codex's: they become part of the names models call the
/// server's tools by (the MCP client's naming), which models accept only in
/// `[a-zA-Z0-9_-]`.
pub fn validate_server_name(name: &str) -> Result<(), McpServerError> {
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if valid {
        Ok(())
    } else {
        Err(McpServerError {
            field: None,
            message: "invalid server name: use only ASCII letters, digits, `-` and `_`".to_owned(),
        })
    }
}

impl McpServerConfig {
    /// What the requirements' `[mcp_servers]` allowlist matches beside the
    /// name: a stdio server's `command`, an HTTP server's `url`.
    pub fn identity(&self) -> McpIdentity {
        match &self.transport {
            McpTransport::Stdio { command, .. } => McpIdentity::Command(command.clone()),
            McpTransport::Http { url, .. } => McpIdentity::Url(url.clone()),
        }
    }

    /// Why `requirements` forbid this server, if they do.
    pub fn blocked_by(&self, requirements: &Requirements) -> Option<String> {
        requirements.mcp_server_blocked(&self.name, &self.identity())
    }
}

/// Marks every server of `servers` that `requirements` forbid.
pub(super) fn block(servers: &mut BTreeMap<String, McpServerConfig>, requirements: &Requirements) {
    for server in servers.values_mut() {
        server.blocked = server.blocked_by(requirements);
    }
}

const STDIO_ONLY: &str = "stdio servers (remove it or use `url`)";
const HTTP_ONLY: &str = "streamable HTTP servers (remove it or use `command`)";

impl McpServerConfig {
    /// Checks one raw entry and applies its defaults. `options` gives the
    /// home and working directories for `cwd`; `source` is recorded as is.
    pub fn from_toml(
        name: &str,
        raw: &McpServerToml,
        options: &ConfigOptions,
        source: Source,
    ) -> Result<McpServerConfig, McpServerError> {
        validate_server_name(name)?;
        if raw.bearer_token.is_some() {
            return Err(McpServerError::at(
                "bearer_token",
                "`bearer_token` is not supported: keep the token out of the file, in an \
                 environment variable, and name that variable with `bearer_token_env_var`"
                    .to_owned(),
            ));
        }
        let transport = transport(raw, options)?;
        let sandbox = match (raw.sandbox_mode, raw.network_access) {
            (None, None) => None,
            (None, Some(_)) => {
                return Err(McpServerError::at(
                    "network_access",
                    "`network_access` only applies with `sandbox_mode` (set one, or remove it)"
                        .to_owned(),
                ));
            }
            (Some(SandboxModeToml::DangerFullAccess), Some(false)) => {
                return Err(McpServerError::at(
                    "network_access",
                    "`network_access = false` needs a sandbox, and `danger-full-access` is none \
                     (use `read-only` or `workspace-write`)"
                        .to_owned(),
                ));
            }
            (Some(SandboxModeToml::ReadOnly), Some(true)) => {
                return Err(McpServerError::at(
                    "network_access",
                    "`read-only` has no network (use `sandbox_mode = \"workspace-write\"` with \
                     `network_access = true`, or leave out `sandbox_mode`)"
                        .to_owned(),
                ));
            }
            (Some(mode), network) => Some(McpSandbox {
                mode: SandboxMode::from(mode),
                // What the sandbox allows: read-only has no network at all.
                network_access: network.unwrap_or(mode != SandboxModeToml::ReadOnly),
            }),
        };
        let startup_timeout = match (raw.startup_timeout_sec, raw.startup_timeout_ms) {
            (Some(secs), _) => seconds("startup_timeout_sec", secs)?,
            (None, Some(0)) => {
                return Err(McpServerError::at(
                    "startup_timeout_ms",
                    "`startup_timeout_ms` must be more than 0".to_owned(),
                ));
            }
            (None, Some(ms)) => Duration::from_millis(ms),
            (None, None) => DEFAULT_STARTUP_TIMEOUT,
        };
        let tool_timeout = match raw.tool_timeout_sec {
            Some(secs) => seconds("tool_timeout_sec", secs)?,
            None => DEFAULT_TOOL_TIMEOUT,
        };
        let offer_limits = McpOfferLimits {
            max_tools: positive("max_tools", raw.max_tools)?,
            max_tool_description_bytes: positive(
                "max_tool_description_bytes",
                raw.max_tool_description_bytes,
            )?,
            max_tool_schema_bytes: positive("max_tool_schema_bytes", raw.max_tool_schema_bytes)?,
        };
        Ok(McpServerConfig {
            name: name.to_owned(),
            transport,
            enabled: raw.enabled.unwrap_or(true),
            required: raw.required.unwrap_or(false),
            startup_timeout,
            tool_timeout,
            enabled_tools: raw.enabled_tools.clone(),
            disabled_tools: raw.disabled_tools.clone().unwrap_or_default(),
            offer_limits,
            scopes: raw.scopes.clone().unwrap_or_default(),
            tool_approvals: McpToolApprovals::from_toml(raw),
            sandbox,
            source,
            blocked: None,
        })
    }
}

fn transport(raw: &McpServerToml, options: &ConfigOptions) -> Result<McpTransport, McpServerError> {
    let stdio_fields = [
        ("args", raw.args.is_some()),
        ("env", raw.env.is_some()),
        ("env_vars", raw.env_vars.is_some()),
        ("cwd", raw.cwd.is_some()),
        ("sandbox_mode", raw.sandbox_mode.is_some()),
        ("network_access", raw.network_access.is_some()),
    ];
    let http_fields = [
        ("bearer_token_env_var", raw.bearer_token_env_var.is_some()),
        ("http_headers", raw.http_headers.is_some()),
        ("env_http_headers", raw.env_http_headers.is_some()),
        ("oauth_resource", raw.oauth_resource.is_some()),
    ];
    let misplaced = |fields: &[(&'static str, bool)], kind: &str| match fields
        .iter()
        .find(|(_, present)| *present)
    {
        Some((field, _)) => Err(McpServerError::at(
            field,
            format!("`{field}` is not supported for {kind}"),
        )),
        None => Ok(()),
    };
    match (&raw.command, &raw.url) {
        (Some(_), Some(_)) => Err(McpServerError::at(
            "url",
            "`url` cannot be combined with `command` (a server is either started with \
             `command` or reached at `url`; remove one)"
                .to_owned(),
        )),
        (Some(command), None) => {
            misplaced(&http_fields, STDIO_ONLY)?;
            if command.trim().is_empty() {
                return Err(McpServerError::at(
                    "command",
                    "`command` is empty (name the program that runs the server)".to_owned(),
                ));
            }
            let env = raw.env.clone().unwrap_or_default();
            let env_vars: Vec<String> = raw
                .env_vars
                .iter()
                .flatten()
                .map(|var| var.name().to_owned())
                .collect();
            for (field, var) in env
                .keys()
                .map(|var| ("env", var))
                .chain(env_vars.iter().map(|var| ("env_vars", var)))
            {
                if var.is_empty() || var.contains(['=', '\0']) {
                    return Err(McpServerError::at(
                        field,
                        format!(
                            "`{field}` names the variable {var:?}, which cannot be set \
                             (a name is not empty and has no `=`)"
                        ),
                    ));
                }
            }
            let cwd = raw.cwd.as_ref().map(|dir| {
                let dir = expand_home(dir, options.home_dir.as_deref());
                options.cwd.join(dir)
            });
            Ok(McpTransport::Stdio {
                command: command.clone(),
                args: raw.args.clone().unwrap_or_default(),
                env,
                env_vars,
                cwd,
            })
        }
        (None, Some(url)) => {
            misplaced(&stdio_fields, HTTP_ONLY)?;
            let url = url.trim();
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(McpServerError::at(
                    "url",
                    format!("`url` must be an http:// or https:// URL, found `{url}`"),
                ));
            }
            Ok(McpTransport::Http {
                url: url.to_owned(),
                bearer_token_env_var: raw.bearer_token_env_var.clone(),
                http_headers: raw.http_headers.clone().unwrap_or_default(),
                env_http_headers: raw.env_http_headers.clone().unwrap_or_default(),
                oauth_resource: raw.oauth_resource.clone(),
            })
        }
        (None, None) => Err(McpServerError {
            field: None,
            message: "needs `command` (a server wharf starts, speaking on stdio) or `url` \
                      (a streamable HTTP server)"
                .to_owned(),
        }),
    }
}

/// A timeout in seconds: positive, finite, and small enough for a
/// `Duration`.
/// A limit of 0 would offer nothing: `enabled_tools = []` says that.
fn positive(field: &'static str, value: Option<usize>) -> Result<Option<usize>, McpServerError> {
    match value {
        Some(0) => Err(McpServerError::at(
            field,
            format!("`{field}` must be more than 0 (to offer no tools, set `enabled_tools = []`)"),
        )),
        other => Ok(other),
    }
}

fn seconds(field: &'static str, secs: f64) -> Result<Duration, McpServerError> {
    if !(secs.is_finite() && secs > 0.0) {
        return Err(McpServerError::at(
            field,
            format!("`{field}` must be a positive number of seconds, found {secs}"),
        ));
    }
    Duration::try_from_secs_f64(secs).map_err(|_| {
        McpServerError::at(field, format!("`{field}` is too large ({secs:e} seconds)"))
    })
}

/// Servers skipped for their names: name → why, with where it is written.
type Skipped = BTreeMap<String, String>;

/// Every configured server of the effective layer, checked, by name, and
/// the servers skipped for their names (name → why, with where it is
/// written): as codex does, a name that cannot make tool names skips that
/// server only.
pub(super) fn resolve(
    typed: &ConfigToml,
    options: &ConfigOptions,
    effective: &Layered,
) -> Result<(BTreeMap<String, McpServerConfig>, Skipped), ConfigError> {
    let mut servers = BTreeMap::new();
    let mut skipped = BTreeMap::new();
    for (name, raw) in &typed.mcp_servers {
        let entry: KeyPath = vec!["mcp_servers".to_owned(), name.clone()];
        let source_of = |field: Option<&str>| -> Option<&Source> {
            let mut key = entry.clone();
            key.extend(field.map(str::to_owned));
            // A table field (`env`) has sources only for its values.
            effective.sources.get(&key).or_else(|| {
                effective
                    .sources
                    .range(key.clone()..)
                    .take_while(|(path, _)| path.starts_with(&key))
                    .map(|(_, source)| source)
                    .next()
            })
        };
        let source = source_of(Some("command"))
            .or_else(|| source_of(Some("url")))
            .or_else(|| source_of(None))
            .cloned()
            .unwrap_or(Source::Default);
        if let Err(err) = validate_server_name(name) {
            let message = format!("{} (the server is skipped)", err.message);
            let why = invalid_value(source_of(None), &entry, message);
            skipped.insert(name.clone(), why.to_string());
            continue;
        }
        let server = McpServerConfig::from_toml(name, raw, options, source).map_err(|err| {
            let at = err.field.and_then(|f| source_of(Some(f)));
            invalid_value(at.or_else(|| source_of(None)), &entry, err.message)
        })?;
        servers.insert(name.clone(), server);
    }
    Ok((servers, skipped))
}

/// Before `upper` (a file) is merged over `lower`: removes from `lower`
/// every `[mcp_servers.NAME]` (and `[profiles.P.mcp_servers.NAME]`) that
/// `upper` defines, so that the file's entry replaces it whole (see the
/// module documentation for why).
pub(super) fn drop_replaced_servers(lower: &mut Layered, upper: &Layered) {
    let mut tables: Vec<KeyPath> = vec![Vec::new()];
    if let Some(profiles) = upper.table.get("profiles").and_then(toml::Value::as_table) {
        tables.extend(
            profiles
                .keys()
                .map(|name| vec!["profiles".to_owned(), name.clone()]),
        );
    }
    for mut key in tables {
        key.push("mcp_servers".to_owned());
        let Some(servers) = table_at(&upper.table, &key) else {
            continue;
        };
        for name in servers.keys() {
            key.push(name.clone());
            lower.sources.retain(|path, _| !path.starts_with(&key));
            remove_at(&mut lower.table, &key);
            key.pop();
        }
    }
}

fn table_at<'a>(table: &'a toml::Table, key: &[String]) -> Option<&'a toml::Table> {
    key.iter()
        .try_fold(table, |table, part| table.get(part)?.as_table())
}
