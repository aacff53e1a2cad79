//! What the client crate needs to start a configured server: its
//! environment and headers resolved, its sandbox built, its limits.

use std::path::PathBuf;

use wharf_config::{Config, McpServerConfig, McpTransport};
use wharf_plugin_mcp_client::{self as mcp, OfferLimits, ServerSpec, TransportSpec};
use wharf_sandbox::{PathEnv, Sandbox, SandboxPolicy};

/// The spec that starts `server` of `config`, reading `env` for
/// `env_vars`, `env_http_headers`, `bearer_token_env_var` and `TMPDIR`.
/// Fails when `bearer_token_env_var` names a variable that is not set.
pub fn server_spec(
    config: &Config,
    server: &McpServerConfig,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ServerSpec, String> {
    let transport = match &server.transport {
        McpTransport::Stdio {
            command,
            args,
            env: set,
            env_vars,
            cwd,
        } => TransportSpec::Stdio {
            command: command.clone(),
            args: args.clone(),
            env: mcp::stdio_env(env, env_vars, set),
            cwd: cwd.clone(),
            sandbox: Box::new(sandbox(config, server, env)),
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
            TransportSpec::Http {
                url: url.clone(),
                headers,
                auth: None,
            }
        }
    };
    Ok(ServerSpec {
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
fn offer_limits(server: &McpServerConfig) -> OfferLimits {
    let configured = &server.offer_limits;
    let default = OfferLimits::DEFAULT;
    OfferLimits {
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
/// for one, then the policy the config crate makes of it; in the server's
/// `cwd` (else the session's), with the session's protected paths and
/// `[sandbox_linux] namespaces`, as for every process a tool starts.
fn sandbox(
    config: &Config,
    server: &McpServerConfig,
    env: &dyn Fn(&str) -> Option<String>,
) -> Sandbox {
    let policy = server
        .sandbox
        .map_or(SandboxPolicy::DangerFullAccess, |sandbox| sandbox.policy());
    let cwd = match &server.transport {
        McpTransport::Stdio { cwd: Some(cwd), .. } => cwd.clone(),
        McpTransport::Stdio { cwd: None, .. } | McpTransport::Http { .. } => config.cwd.clone(),
    };
    let path_env = PathEnv {
        cwd,
        tmpdir: env("TMPDIR").map(PathBuf::from),
        protected: config.protected_paths(),
    };
    Sandbox::new(&policy, &path_env).with_namespaces(config.sandbox_namespaces)
}
