//! MCP servers as plugins: every enabled `[mcp_servers.NAME]` is started
//! through `wharf-plugin-mcp-client` when a session's plugins load, all in
//! parallel, and joins the registry as a plugin of kind `mcp`. Its tools
//! (`mcp__<server>__<tool>`) then go through the same pipeline as WASM and
//! native tools: feature gate (`mcp_client`), model capabilities (an image
//! becomes a placeholder for a text-only model), approval, truncation.
//!
//! The host knows MCP only as configuration (`wharf_config::mcp`) and
//! as a plugin kind; this module turns the one into the other, reading the
//! environment for `env_vars`, `bearer_token_env_var` and
//! `env_http_headers` here, at the edge.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use wharf_config::features::Stage;
use wharf_config::{Config, McpOAuthCredentialsStore, McpServerConfig, McpTransport, Source};
use wharf_plugin_mcp_client as mcp;
use wharf_plugin_mcp_client::credentials::{CredentialStore, StoreMode};
use wharf_plugin_mcp_client::oauth::{self, StoredAuth};
use wharf_runtime::plugin::grant::Grant;
use wharf_runtime::plugin::manifest::{
    Capabilities, FeatureDecl, LimitWishes, Manifest, PluginKind, PluginName,
};
use wharf_runtime::plugin::{CallContext, Content, Plugin, ToolError, ToolOutput, ToolSpec};
use wharf_sandbox::{PathEnv, Sandbox, SandboxMode, SandboxPolicy};

use crate::terminal::safe;

/// The feature that turns every MCP server on or off.
pub const FEATURE: &str = "mcp_client";

/// Required servers that could not start: the session cannot begin.
#[derive(Debug)]
pub struct RequiredServersFailed(pub Vec<(String, String)>);

impl std::fmt::Display for RequiredServersFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("required MCP server(s) failed to start:")?;
        // The client's reasons name their server.
        for (_, reason) in &self.0 {
            write!(f, "\n  {reason}")?;
        }
        Ok(())
    }
}

impl std::error::Error for RequiredServersFailed {}

/// The OAuth token store `mcp_oauth_credentials_store` names; in `auto`
/// mode without a working keyring, says that the file is used.
pub fn open_store(config: &Config) -> anyhow::Result<CredentialStore> {
    let store = CredentialStore::open(store_mode(config), &config.wharf_home)?;
    if let Some(note) = store.note() {
        eprintln!("warning: {note}");
    }
    Ok(store)
}

/// `mcp_oauth_credentials_store` in the client crate's terms.
pub fn store_mode(config: &Config) -> StoreMode {
    match config.mcp_oauth_credentials_store {
        McpOAuthCredentialsStore::Auto => StoreMode::Auto,
        McpOAuthCredentialsStore::Keyring => StoreMode::Keyring,
        McpOAuthCredentialsStore::File => StoreMode::File,
    }
}

/// A started server's plugin, ready for the registry.
pub type Started = (Manifest, Arc<dyn Plugin>);

/// Starts the enabled servers of `config` in parallel and returns the
/// plugins of those that started. Prints a line per server on stderr. A
/// server that fails is a warning, unless it is `required`: then, once every
/// server has had its chance, the error names each required one that failed.
pub fn start_servers(config: &Config) -> Result<Vec<Started>, RequiredServersFailed> {
    if !config.features.enabled(FEATURE) {
        return Ok(Vec::new());
    }
    let servers: Vec<&McpServerConfig> = config
        .mcp_servers
        .values()
        .filter(|server| server.enabled)
        .collect();
    let started = start_each(config, &servers);

    let mut plugins: Vec<Started> = Vec::new();
    let mut failed_required = Vec::new();
    for (server, (result, took)) in started {
        match result {
            Ok(running) => {
                eprintln!(
                    "mcp: {} ready, {} tool(s), in {:.0} ms",
                    server.name,
                    running.tools().len(),
                    took.as_secs_f64() * 1000.0
                );
                for warning in running.warnings() {
                    eprintln!("warning: mcp server `{}`: {}", server.name, safe(warning));
                }
                match manifest(server) {
                    Ok(manifest) => plugins.push((manifest, Arc::new(McpPlugin::new(running)))),
                    Err(reason) => {
                        eprintln!("warning: mcp server `{}` skipped: {reason}", server.name);
                    }
                }
            }
            Err(reason) if server.required => failed_required.push((server.name.clone(), reason)),
            Err(reason) => {
                // The reason carries the server's stderr tail.
                eprintln!(
                    "warning: mcp server `{}` failed to start; the session goes on without it: {}",
                    server.name,
                    safe(&reason)
                );
            }
        }
    }
    if failed_required.is_empty() {
        Ok(plugins)
    } else {
        Err(RequiredServersFailed(failed_required))
    }
}

/// A server's start: the running server or why it failed, and how long
/// it took.
type Outcome = (Result<mcp::McpServer, String>, Duration);

/// Starts `servers` at once, one thread each, and waits for all of them.
fn start_each<'a>(
    config: &Config,
    servers: &[&'a McpServerConfig],
) -> Vec<(&'a McpServerConfig, Outcome)> {
    let env = |name: &str| std::env::var(name).ok();
    // OAuth tokens (from `wharf mcp login`) for HTTP servers that have no
    // other credentials; the store is opened once, and only when such a
    // server exists. A server without stored tokens gets no token source:
    // asking the store before every request would cost each one a read.
    let wants_oauth = |server: &McpServerConfig| match &server.transport {
        McpTransport::Http { .. } => !has_credentials(server),
        McpTransport::Stdio { .. } => false,
    };
    let store = if servers.iter().any(|server| wants_oauth(server)) {
        match open_store(config) {
            Ok(store) => Some(Arc::new(store)),
            Err(err) => {
                eprintln!("warning: MCP OAuth tokens cannot be read: {err:#}");
                None
            }
        }
    } else {
        None
    };
    let protected = config.protected_paths();
    std::thread::scope(|scope| {
        let handles: Vec<_> = servers
            .iter()
            .map(|server| {
                let spec = server_spec(server, &config.cwd, &protected, &env).map(|mut spec| {
                    // `[sandbox_linux] namespaces`, as for every process a tool starts.
                    if let mcp::TransportSpec::Stdio { sandbox, .. } = &mut spec.transport {
                        **sandbox = (**sandbox)
                            .clone()
                            .with_namespaces(config.sandbox_namespaces);
                    }
                    if let (Some(store), mcp::TransportSpec::Http { url, auth, .. }) =
                        (&store, &mut spec.transport)
                        && wants_oauth(server)
                        && oauth::auth_status(&server.name, url, store) == "OAuth"
                    {
                        let stored = StoredAuth::new(&server.name, url, Arc::clone(store));
                        *auth = Some(Arc::new(stored));
                    }
                    spec
                });
                scope.spawn(move || {
                    let clock = Instant::now();
                    let result = spec.and_then(|spec| {
                        mcp::McpServer::start(spec).map_err(|err| err.to_string())
                    });
                    (result, clock.elapsed())
                })
            })
            .collect();
        servers
            .iter()
            .zip(handles)
            .map(|(server, handle)| {
                let outcome = handle
                    .join()
                    .unwrap_or_else(|_| (Err("its start panicked".to_owned()), Duration::ZERO));
                (*server, outcome)
            })
            .collect()
    })
}

/// What each of `servers` answers when started once (for `wharf mcp list`
/// and `get`): its tools as the model sees them, or why it did not start.
/// The servers are stopped again.
pub fn probe(
    config: &Config,
    servers: &[&McpServerConfig],
) -> BTreeMap<String, Result<Vec<String>, String>> {
    start_each(config, servers)
        .into_iter()
        .map(|(server, (result, _))| {
            let tools = result.map(|running| {
                running
                    .tools()
                    .iter()
                    .map(|tool| tool.qualified_name.clone())
                    .collect()
            });
            (server.name.clone(), tools)
        })
        .collect()
}

/// What the client crate needs to start `server`: the environment and
/// headers resolved, the sandbox built.
pub fn server_spec(
    server: &McpServerConfig,
    cwd: &Path,
    protected: &[PathBuf],
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<mcp::ServerSpec, String> {
    let transport = match &server.transport {
        McpTransport::Stdio {
            command,
            args,
            env: set,
            env_vars,
            cwd: server_cwd,
        } => mcp::TransportSpec::Stdio {
            command: command.clone(),
            args: args.clone(),
            env: mcp::stdio_env(env, env_vars, set),
            cwd: server_cwd.clone(),
            sandbox: Box::new(sandbox(
                server,
                server_cwd.as_deref().unwrap_or(cwd),
                protected,
            )),
        },
        McpTransport::Http {
            url,
            bearer_token_env_var,
            http_headers,
            env_http_headers,
            ..
        } => {
            let mut headers = http_headers.clone();
            for (header, variable) in env_http_headers {
                if let Some(value) = env(variable) {
                    headers.insert(header.clone(), value);
                }
            }
            if let Some(variable) = bearer_token_env_var {
                let token = env(variable)
                    .filter(|token| !token.is_empty())
                    .ok_or_else(|| {
                        format!("`bearer_token_env_var` names `{variable}`, which is not set")
                    })?;
                headers.insert("Authorization".to_owned(), format!("Bearer {token}"));
            }
            mcp::TransportSpec::Http {
                url: url.clone(),
                headers,
                auth: None,
            }
        }
    };
    Ok(mcp::ServerSpec {
        name: server.name.clone(),
        transport,
        startup_timeout: server.startup_timeout,
        tool_timeout: server.tool_timeout,
        enabled_tools: server.enabled_tools.clone(),
        disabled_tools: server.disabled_tools.clone(),
        limits: offer_limits(server),
        log: mcp::stderr_log(),
    })
}

/// The server's configured limits, the client's defaults for the others.
fn offer_limits(server: &McpServerConfig) -> mcp::OfferLimits {
    let configured = &server.offer_limits;
    let default = mcp::OfferLimits::DEFAULT;
    mcp::OfferLimits {
        max_tools: configured.max_tools.unwrap_or(default.max_tools),
        max_description_bytes: configured
            .max_tool_description_bytes
            .unwrap_or(default.max_description_bytes),
        max_schema_bytes: configured
            .max_tool_schema_bytes
            .unwrap_or(default.max_schema_bytes),
    }
}

/// Whether an HTTP server's entry already carries credentials: a bearer
/// token variable or an `Authorization` header.
pub fn has_credentials(server: &McpServerConfig) -> bool {
    match &server.transport {
        McpTransport::Http {
            bearer_token_env_var,
            http_headers,
            env_http_headers,
            ..
        } => {
            bearer_token_env_var.is_some()
                || http_headers
                    .keys()
                    .chain(env_http_headers.keys())
                    .any(|header| header.eq_ignore_ascii_case("authorization"))
        }
        McpTransport::Stdio { .. } => false,
    }
}

/// The sandbox of a stdio server: none (as in codex) unless its entry asks
/// for one.
fn sandbox(server: &McpServerConfig, cwd: &Path, protected: &[PathBuf]) -> Sandbox {
    let policy = match server.sandbox {
        None => SandboxPolicy::DangerFullAccess,
        Some(confined) => match confined.mode {
            SandboxMode::ReadOnly => SandboxPolicy::new_read_only(),
            SandboxMode::WorkspaceWrite => SandboxPolicy::WorkspaceWrite {
                writable_roots: Vec::new(),
                read_only_access: Default::default(),
                network_access: confined.network_access,
                exclude_tmpdir_env_var: false,
                exclude_slash_tmp: false,
            },
            SandboxMode::DangerFullAccess => SandboxPolicy::DangerFullAccess,
        },
    };
    let path_env = PathEnv {
        cwd: cwd.to_path_buf(),
        tmpdir: std::env::var_os("TMPDIR").map(PathBuf::from),
        protected: protected.to_vec(),
    };
    Sandbox::new(&policy, &path_env)
}

/// The manifest of a server's plugin: kind `mcp`, feature `mcp_client`,
/// asking for nothing (the server runs outside the plugin grants: it is a
/// program the user configured), its calls limited by `tool_timeout_sec`.
fn manifest(server: &McpServerConfig) -> Result<Manifest, String> {
    let name = format!("mcp-{}", server.name.to_ascii_lowercase());
    let name = PluginName::try_from(name).map_err(|err| err.to_string())?;
    let description = match &server.transport {
        McpTransport::Stdio { command, .. } => format!("MCP server `{}` ({command})", server.name),
        McpTransport::Http { url, .. } => format!("MCP server `{}` ({url})", server.name),
    };
    Ok(Manifest {
        name,
        version: String::new(),
        api: "mcp".to_owned(),
        kind: PluginKind::Mcp,
        artifact: PathBuf::new(),
        sha256: None,
        description: Some(description),
        required: server.required,
        feature: FeatureDecl {
            key: FEATURE.to_owned(),
            stage: Stage::Stable,
            default_enabled: true,
            replaced_by: None,
        },
        capabilities: Capabilities::default(),
        requires: Vec::new(),
        limits: LimitWishes {
            timeout_ms: u64::try_from(server.tool_timeout.as_millis()).ok(),
            ..LimitWishes::default()
        },
        path: source_file(&server.source),
    })
}

/// The file that defined a server (empty for `-c` overrides).
fn source_file(source: &Source) -> PathBuf {
    match source {
        Source::Project(at) | Source::User(at) | Source::Profile { at, .. } => at.path.clone(),
        _ => PathBuf::new(),
    }
}

/// One running server, as the registry sees it.
pub struct McpPlugin {
    server: mcp::McpServer,
    specs: Vec<ToolSpec>,
    /// Qualified name → the server's own name of the tool.
    names: BTreeMap<String, String>,
}

impl McpPlugin {
    pub fn new(server: mcp::McpServer) -> McpPlugin {
        let (specs, skipped) = offerable(server.tools());
        for reason in skipped {
            eprintln!("warning: mcp server `{}`: {}", server.name(), safe(&reason));
        }
        let names = server
            .tools()
            .iter()
            .map(|tool| (tool.qualified_name.clone(), tool.name.clone()))
            .collect();
        McpPlugin {
            server,
            specs,
            names,
        }
    }
}

/// The specs of the tools a model can be offered, and why the others are
/// not: a tool whose input schema is not a valid JSON Schema is left out
/// on its own (the registry would refuse the whole server for it).
fn offerable(tools: &[mcp::McpTool]) -> (Vec<ToolSpec>, Vec<String>) {
    let mut specs = Vec::new();
    let mut skipped = Vec::new();
    for tool in tools {
        if let Err(err) = jsonschema::validator_for(&tool.input_schema) {
            skipped.push(format!(
                "tool `{}` is not offered: its input schema is not valid JSON Schema ({err})",
                tool.name
            ));
            continue;
        }
        specs.push(ToolSpec {
            name: tool.qualified_name.clone(),
            description: tool.description.clone(),
            input_schema: tool.input_schema.clone(),
            freeform_grammar: None,
            requires: Vec::new(),
        });
    }
    (specs, skipped)
}

impl Plugin for McpPlugin {
    fn name(&self) -> &str {
        self.server.name()
    }

    fn tools(&self) -> &[ToolSpec] {
        &self.specs
    }

    fn invoke(
        &self,
        cx: &CallContext,
        tool: &str,
        args: &str,
        _grant: &Grant,
    ) -> Result<ToolOutput, ToolError> {
        let name = self
            .names
            .get(tool)
            .ok_or_else(|| ToolError::Failed(format!("no tool `{tool}` on this server")))?;
        let arguments: serde_json::Value = serde_json::from_str(args)
            .map_err(|err| ToolError::InvalidArgs(format!("not JSON: {err}")))?;
        let logs = std::sync::Mutex::new(Vec::new());
        let cancelled = || {
            cx.cancelled
                .as_ref()
                .is_some_and(|flag| flag.load(Ordering::Relaxed))
        };
        // Shown as it comes (stderr is the people's channel, also with
        // `--json`), and kept with the call's logs.
        let progress = |message: &str| {
            eprintln!("  … {tool}: {}", safe(message));
            if let Ok(mut logs) = logs.lock() {
                logs.push(format!("[progress] {message}"));
            }
        };
        let hooks = mcp::CallHooks {
            cancelled: &cancelled,
            progress: &progress,
        };
        let result = self
            .server
            .call(name, arguments, &hooks)
            .map_err(call_error)?;
        let mut content: Vec<Content> = result.content.into_iter().map(content).collect();
        if content.is_empty()
            && let Some(structured) = result.structured
        {
            content.push(Content::Json(structured.to_string()));
        }
        Ok(ToolOutput {
            content,
            is_error: result.is_error,
            changes: Vec::new(),
            logs: logs.into_inner().unwrap_or_default(),
        })
    }
}

/// The client's errors name the server already.
fn call_error(err: mcp::CallError) -> ToolError {
    match err {
        mcp::CallError::Cancelled => ToolError::Cancelled,
        mcp::CallError::Timeout(limit) => ToolError::Timeout(limit.as_millis()),
        mcp::CallError::InvalidArguments(message) => ToolError::InvalidArgs(message),
        other => ToolError::Failed(other.to_string()),
    }
}

/// A block of an MCP result as wharf content. Images stay images (the
/// model-capabilities stage turns them into a placeholder for text-only
/// models); what a model cannot take directly (audio, binary resources)
/// becomes a line saying what it was.
fn content(block: mcp::ResultContent) -> Content {
    match block {
        mcp::ResultContent::Text(text) => Content::Text(text),
        mcp::ResultContent::Image { mime_type, data } => Content::Image { mime_type, data },
        mcp::ResultContent::Audio { mime_type, data } => {
            Content::Text(format!("[audio: {mime_type}, {} bytes]", data.len()))
        }
        mcp::ResultContent::Resource {
            uri,
            mime_type,
            text,
            blob,
        } => match (text, blob) {
            (Some(text), _) => Content::Text(text),
            (None, Some(blob)) => Content::Text(format!(
                "[resource {uri}: {}, {} bytes]",
                mime_type.as_deref().unwrap_or("binary"),
                blob.len()
            )),
            (None, None) => Content::Text(format!("[resource {uri}]")),
        },
        mcp::ResultContent::ResourceLink {
            uri,
            name,
            description,
        } => Content::Text(match description {
            Some(description) => format!("[resource link {name}: {uri}] {description}"),
            None => format!("[resource link {name}: {uri}]"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tool(name: &str, input_schema: serde_json::Value) -> mcp::McpTool {
        mcp::McpTool {
            qualified_name: mcp::qualified_name("srv", name),
            name: name.to_owned(),
            description: format!("the {name} tool"),
            input_schema,
            title: None,
        }
    }

    #[test]
    fn a_tool_with_a_broken_schema_is_left_out_alone() {
        let tools = [
            tool("good", serde_json::json!({"type": "object"})),
            tool("bad", serde_json::json!({"type": "no-such-type"})),
            tool(
                "also-good",
                serde_json::json!({"type": "object", "properties": {}}),
            ),
        ];
        let (specs, skipped) = offerable(&tools);
        let names: Vec<&str> = specs.iter().map(|spec| spec.name.as_str()).collect();
        assert_eq!(names, ["mcp__srv__good", "mcp__srv__also-good"]);
        assert_eq!(skipped.len(), 1);
        assert!(
            skipped[0].starts_with("tool `bad` is not offered: its input schema"),
            "{skipped:?}"
        );
    }
}
