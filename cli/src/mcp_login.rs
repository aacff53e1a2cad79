//! `wharf mcp login NAME [--scopes a,b]` and `wharf mcp logout NAME`: the
//! OAuth tokens of a streamable-HTTP MCP server, as `codex mcp login|logout`.
//!
//! Login prints the authorization URL instead of opening a browser (wharf
//! runs over SSH and in containers as often as on a desktop); the browser
//! comes back to a listener on 127.0.0.1 (`mcp_oauth_callback_port`, or
//! any free port). The tokens go where `mcp_oauth_credentials_store` says,
//! under the server's name and URL. `--scopes` wins over the server's
//! `scopes`; with neither, the server's metadata decides.

use anyhow::Context as _;
use clap::Args;
use wharf_config::{Config, McpServerConfig, McpTransport};
use wharf_plugin_mcp_client::oauth::{self, LoginRequest};

use crate::{GlobalArgs, UsageError};

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The server's name, as `wharf mcp list` shows it.
    name: String,
    /// The scopes to ask for, comma-separated (instead of the server's
    /// `scopes`).
    #[arg(long, value_name = "SCOPE,...", value_delimiter = ',')]
    scopes: Vec<String>,
}

#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// The server's name, as `wharf mcp list` shows it.
    name: String,
}

pub fn login(global: &GlobalArgs, args: LoginArgs) -> anyhow::Result<()> {
    let config = global.configure()?.config;
    let (server, url) = http_server(&config, &args.name)?;
    // A server the requirements block is never contacted.
    if let Some(reason) = &server.blocked {
        anyhow::bail!("{reason}; not logging in to `{}`", server.name);
    }
    let store = crate::mcp::open_store(&config)?;
    let scopes: Vec<String> = if args.scopes.is_empty() {
        server.scopes.clone()
    } else {
        args.scopes
            .into_iter()
            .map(|scope| scope.trim().to_owned())
            .filter(|scope| !scope.is_empty())
            .collect()
    };
    let mut request = LoginRequest::new(&server.name, url);
    request.scopes = &scopes;
    request.callback_port = config.mcp_oauth_callback_port;
    let open_url = |auth_url: &str| {
        eprintln!("Open this URL to authorize wharf: {auth_url}");
    };
    runtime()?
        .block_on(oauth::login(&request, &store, &open_url))
        .with_context(|| format!("cannot log in to MCP server `{}` ({url})", server.name))?;
    eprintln!("Tokens are stored in {}.", store.describe());
    println!("Logged in to {}.", server.name);
    Ok(())
}

pub fn logout(global: &GlobalArgs, args: LogoutArgs) -> anyhow::Result<()> {
    let config = global.configure()?.config;
    let (server, url) = http_server(&config, &args.name)?;
    let store = crate::mcp::open_store(&config)?;
    let outcome = runtime()?
        .block_on(oauth::logout(&server.name, url, &store))
        .with_context(|| format!("cannot log out of MCP server `{}` ({url})", server.name))?;
    if let Some(err) = outcome.revoke_error {
        eprintln!("warning: the server did not revoke the tokens ({err}); they are deleted here");
    }
    if !outcome.removed {
        anyhow::bail!(
            "not logged in to MCP server `{}`: no tokens are stored for {url} in {}",
            server.name,
            store.describe()
        );
    }
    println!("Logged out of {}.", server.name);
    Ok(())
}

/// The server named `name` and its URL; OAuth is for streamable HTTP only.
fn http_server<'a>(
    config: &'a Config,
    name: &str,
) -> anyhow::Result<(&'a McpServerConfig, &'a str)> {
    let Some(server) = config.mcp_servers.get(name) else {
        let names: Vec<&str> = config.mcp_servers.keys().map(String::as_str).collect();
        let known = if names.is_empty() {
            " (none is configured; add one with `wharf mcp add NAME --url URL`)".to_owned()
        } else {
            format!("; known: {}", names.join(", "))
        };
        return Err(UsageError(format!("no MCP server named `{name}`{known}")).into());
    };
    match &server.transport {
        McpTransport::Http { url, .. } => Ok((server, url)),
        McpTransport::Stdio { .. } => Err(UsageError(format!(
            "MCP server `{name}` is a stdio server: OAuth login is only for streamable HTTP \
             servers (`url`); give a stdio server its credentials through `env` or `env_vars`"
        ))
        .into()),
    }
}

/// One thread is enough: the login waits on one listener and a few HTTP
/// requests.
fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}
