//! `wharf mcp add|list|get|remove`: the `[mcp_servers]` of config.toml, as
//! `codex mcp` manages them.
//!
//! `add` and `remove` edit the user's file (`$WHARF_HOME/config.toml`),
//! keeping its comments (`add` refuses a server the requirements'
//! `[mcp_servers]` allowlist would block); `list` and `get` show the
//! effective configuration, every layer applied, and why a server is
//! blocked. They show configuration only: a server's tools need the server
//! started, which `wharf tool list` does.
//!
//! The values of `env` and `http_headers` are printed as `*****`, in text
//! as codex does and in JSON too: they are where tokens end up, and these
//! listings get pasted into bug reports and CI logs. The names are shown,
//! and the values are in the file for whoever may read it. Variable names
//! (`env_vars`, `env_http_headers`, `bearer_token_env_var`) are not secret
//! and are shown as they are.

mod show;

use std::collections::BTreeMap;
use std::process::ExitCode;

use clap::{ArgGroup, Args, Subcommand};
use wharf_config::toml_types::McpServerToml;
use wharf_config::{
    Config, McpServerConfig, Source, add_mcp_server, display_key, mcp_server_names,
    remove_mcp_server,
};

use crate::{GlobalArgs, UsageError};

/// The feature that turns every MCP server on or off.
const FEATURE: &str = "mcp_client";

#[derive(Debug, Args)]
pub struct McpArgs {
    #[command(subcommand)]
    command: McpCommand,
}

#[derive(Debug, Subcommand)]
enum McpCommand {
    /// The configured servers: transport, whether each is used, and how it
    /// authenticates.
    List {
        /// Print JSON (every resolved setting) instead of a table.
        #[arg(long)]
        json: bool,
        /// Start the enabled servers (in parallel) and show whether each
        /// starts and the tools it offers.
        #[arg(long)]
        tools: bool,
    },
    /// Everything about one server.
    Get {
        /// The server's name, as `wharf mcp list` shows it.
        name: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Start the server (when enabled) and show its tools.
        #[arg(long)]
        tools: bool,
    },
    /// Add a server to config.toml, replacing one of the same name:
    /// `wharf mcp add NAME [--env K=V]… -- CMD ARGS…` (stdio) or
    /// `wharf mcp add NAME --url URL [--bearer-token-env-var VAR]`.
    Add(AddArgs),
    /// Remove a server from config.toml.
    Remove {
        /// The server's name.
        name: String,
    },
    /// Log in to a streamable HTTP server with OAuth: prints a URL to open,
    /// then stores the tokens.
    #[cfg(feature = "mcp_client")]
    Login(crate::mcp_login::LoginArgs),
    /// Delete a server's OAuth tokens (revoking them when it can).
    #[cfg(feature = "mcp_client")]
    Logout(crate::mcp_login::LogoutArgs),
}

#[derive(Debug, Args)]
#[command(
    group(ArgGroup::new("transport").required(true).args(["command", "url"])),
    override_usage = "wharf mcp add NAME [--env KEY=VALUE]... -- COMMAND [ARGS]...\n       \
                      wharf mcp add NAME --url URL [--bearer-token-env-var VAR]"
)]
struct AddArgs {
    /// The server's name: ASCII letters, digits, `-` and `_`.
    name: String,
    /// A variable set for a stdio server (repeatable).
    #[arg(long, value_name = "KEY=VALUE", value_parser = parse_env_pair, conflicts_with = "url")]
    env: Vec<(String, String)>,
    /// The endpoint of a streamable HTTP server.
    #[arg(long, value_name = "URL", conflicts_with = "command")]
    url: Option<String>,
    /// The variable holding the HTTP server's bearer token (sent as
    /// `Authorization: Bearer …`).
    #[arg(long, value_name = "VAR", conflicts_with = "command")]
    bearer_token_env_var: Option<String>,
    /// The command that starts a stdio server, and its arguments, after `--`.
    #[arg(trailing_var_arg = true, num_args = 1.., value_name = "COMMAND")]
    command: Vec<String>,
}

fn parse_env_pair(raw: &str) -> Result<(String, String), String> {
    match raw.split_once('=') {
        Some((key, value)) if !key.trim().is_empty() => {
            Ok((key.trim().to_owned(), value.to_owned()))
        }
        _ => Err(format!("expected KEY=VALUE, found `{raw}`")),
    }
}

pub fn run(args: McpArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        McpCommand::List { json, tools } => show::list(global, json, tools),
        McpCommand::Get { name, json, tools } => show::get(global, &name, json, tools),
        McpCommand::Add(args) => add(global, args),
        McpCommand::Remove { name } => remove(global, &name),
        #[cfg(feature = "mcp_client")]
        McpCommand::Login(args) => crate::mcp_login::login(global, args),
        #[cfg(feature = "mcp_client")]
        McpCommand::Logout(args) => crate::mcp_login::logout(global, args),
    }
    .map(|()| ExitCode::SUCCESS)
}

fn add(global: &GlobalArgs, args: AddArgs) -> anyhow::Result<()> {
    let options = global.options()?;
    let AddArgs {
        name,
        env,
        url,
        bearer_token_env_var,
        command,
    } = args;
    let raw = match url {
        Some(url) => McpServerToml {
            url: Some(url),
            bearer_token_env_var,
            ..McpServerToml::default()
        },
        None => {
            let mut words = command.into_iter();
            McpServerToml {
                command: words.next(),
                args: Some(words.collect()).filter(|args: &Vec<String>| !args.is_empty()),
                env: Some(env.into_iter().collect()).filter(|env: &BTreeMap<_, _>| !env.is_empty()),
                ..McpServerToml::default()
            }
        }
    };
    // What was typed is checked here, so that a mistake exits with 2.
    let server = McpServerConfig::from_toml(&name, &raw, &options, Source::Flag("wharf mcp add"))
        .map_err(|err| UsageError(format!("{}: {err}", server_key(&name))))?;
    // A server the requirements would block is not added: it could never start.
    if let Some(reason) = server.blocked_by(&options.requirements.load()?) {
        anyhow::bail!("{reason}; `{name}` was not added");
    }
    let path = options.user_config_path();
    let replaced = add_mcp_server(&path, &name, &raw)?;
    if replaced {
        eprintln!(
            "warning: replaced the existing [{}] in {}",
            server_key(&name),
            path.display()
        );
    }
    println!("added MCP server `{name}` to {}", path.display());
    Ok(())
}

fn remove(global: &GlobalArgs, name: &str) -> anyhow::Result<()> {
    let options = global.options()?;
    let path = options.user_config_path();
    // No name check: a hand-written entry with a bad name must be removable.
    if remove_mcp_server(&path, name)? {
        println!("removed MCP server `{name}` from {}", path.display());
        return Ok(());
    }
    // Defined in another layer? Loading may fail; then the file is all we know.
    let elsewhere = Config::load(&options, &crate::first_party::feature_registry()?)
        .ok()
        .and_then(|config| config.mcp_servers.get(name).map(|s| s.source.clone()));
    if let Some(source) = elsewhere {
        anyhow::bail!(
            "MCP server `{name}` is not in {} but comes from {source}; remove it there",
            path.display()
        );
    }
    Err(UsageError(format!(
        "no MCP server named `{name}` in {}{}",
        path.display(),
        known(&mcp_server_names(&path)?)
    ))
    .into())
}

fn known(names: &[String]) -> String {
    if names.is_empty() {
        " (none is configured; add one with `wharf mcp add`)".to_owned()
    } else {
        format!("; known: {}", names.join(", "))
    }
}

fn server_key(name: &str) -> String {
    display_key(&["mcp_servers".to_owned(), name.to_owned()])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_pairs_need_a_key_and_an_equals_sign() {
        assert_eq!(
            parse_env_pair("A=b=c"),
            Ok(("A".to_owned(), "b=c".to_owned()))
        );
        assert_eq!(parse_env_pair("A="), Ok(("A".to_owned(), String::new())));
        assert_eq!(
            parse_env_pair("A"),
            Err("expected KEY=VALUE, found `A`".to_owned())
        );
        assert_eq!(
            parse_env_pair("=v"),
            Err("expected KEY=VALUE, found `=v`".to_owned())
        );
    }
}
