//! MCP servers in a session: which enabled `[mcp_servers.NAME]` to start
//! (all of them in parallel, when the `mcp_client` feature is on), the
//! OAuth tokens to attach, and what to print about each. Turning a server
//! into a plugin of kind `mcp` is `wharf-mcp-adapter`'s; the environment
//! (`env_vars`, `bearer_token_env_var`, `env_http_headers`) is read here,
//! at the edge.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use wharf_config::{Config, McpOAuthCredentialsStore, McpServerConfig, McpTransport};
use wharf_host::session::Started;
use wharf_mcp_adapter::{FEATURE, McpPlugin, has_credentials};
use wharf_plugin_mcp_client as mcp;
use wharf_plugin_mcp_client::credentials::{CredentialStore, StoreMode};
use wharf_plugin_mcp_client::oauth::{self, StoredAuth};

use crate::terminal::safe;

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

/// Starts the enabled servers of `config` in parallel and returns the
/// plugins of those that started. Prints a line per server on stderr. A
/// server that fails is a warning, unless it is `required`: then, once every
/// server has had its chance, the error names each required one that failed.
/// A server the requirements block is never started: a line says why (and
/// a required one fails the session).
pub fn start_servers(config: &Config) -> Result<Vec<Started>, RequiredServersFailed> {
    if !config.features.enabled(FEATURE) {
        return Ok(Vec::new());
    }
    let mut servers: Vec<&McpServerConfig> = Vec::new();
    let mut failed_required = Vec::new();
    for server in config.mcp_servers.values().filter(|server| server.enabled) {
        match &server.blocked {
            None => servers.push(server),
            Some(reason) if server.required => {
                // The reason names the server.
                failed_required.push((server.name.clone(), reason.clone()));
            }
            Some(reason) => eprintln!("{}", blocked_line(server, reason)),
        }
    }
    let started = start_each(config, &servers);

    let mut plugins: Vec<Started> = Vec::new();
    for (server, (result, took)) in started {
        // Not the failure's text: it carries the server's stderr.
        tracing::info!(
            target: "wharf.mcp_server_start",
            server = server.name.as_str(),
            started = result.is_ok(),
            duration_ms = u64::try_from(took.as_millis()).unwrap_or(u64::MAX),
        );
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
                match wharf_mcp_adapter::manifest(server) {
                    Ok(manifest) => {
                        let (plugin, skipped) = McpPlugin::new(running);
                        for reason in skipped {
                            eprintln!("warning: mcp server `{}`: {}", server.name, safe(&reason));
                        }
                        plugins.push((manifest, Arc::new(plugin)));
                    }
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

/// What is said of a server the requirements block (`reason`).
fn blocked_line(server: &McpServerConfig, reason: &str) -> String {
    format!("mcp: {} not started: {}", server.name, safe(reason))
}

/// A server's start: the running server or why it failed, and how long
/// it took.
type Outcome = (Result<mcp::McpServer, String>, Duration);

/// Starts `servers` at once, one thread each, and waits for all of them.
/// A server the requirements block fails without being started.
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
    std::thread::scope(|scope| {
        let handles: Vec<_> = servers
            .iter()
            .map(|server| {
                let spec = wharf_mcp_adapter::server_spec(config, server, &env).map(|mut spec| {
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
                let blocked = server.blocked.clone();
                scope.spawn(move || {
                    let clock = Instant::now();
                    if let Some(reason) = blocked {
                        return (Err(reason), clock.elapsed());
                    }
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
