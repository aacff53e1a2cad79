//! `wharf mcp list|get`: the effective servers, every layer applied, with
//! why one is off and how wharf authenticates to it; with `--tools`, what
//! each answers when started once. Secrets are masked (see the parent
//! module).

use std::collections::BTreeMap;

use serde_json::{Value, json};
use wharf_config::{Config, McpServerConfig, McpTransport, Source};

use super::{FEATURE, known, server_key};
use crate::terminal::safe;
use crate::{GlobalArgs, UsageError};

/// How a secret value is shown (codex's mask).
const MASK: &str = "*****";

/// Why a server is not used, if it is not.
enum Disabled<'a> {
    /// The requirements block it: why.
    Blocked(&'a str),
    /// `enabled = false`, set by this layer.
    Config(Option<&'a Source>),
    /// The `mcp_client` feature is off, decided by this layer.
    Feature(Option<&'a Source>),
}

impl Disabled<'_> {
    fn of<'a>(config: &'a Config, server: &'a McpServerConfig) -> Option<Disabled<'a>> {
        if let Some(reason) = &server.blocked {
            return Some(Disabled::Blocked(reason));
        }
        if !server.enabled {
            let key = format!("{}.enabled", server_key(&server.name));
            let entries = config.effective.entries();
            let source = entries
                .into_iter()
                .find(|entry| entry.key == key)
                .map(|entry| entry.source);
            return Some(Disabled::Config(source));
        }
        if !config.features.enabled(FEATURE) {
            let source = config.features.state(FEATURE).map(|state| &state.source);
            return Some(Disabled::Feature(source));
        }
        None
    }

    /// For the table: the reason without its place.
    fn short(&self) -> String {
        match self {
            Disabled::Blocked(_) => "blocked by requirements".to_owned(),
            Disabled::Config(_) => "disabled: enabled = false".to_owned(),
            Disabled::Feature(_) => format!("disabled: feature {FEATURE} off"),
        }
    }

    /// The reason and the layer that decided it.
    fn long(&self) -> String {
        let (what, source) = match self {
            Disabled::Blocked(reason) => return (*reason).to_owned(),
            Disabled::Config(source) => ("enabled = false".to_owned(), source),
            Disabled::Feature(source) => (format!("feature {FEATURE} is off"), source),
        };
        match source {
            Some(source) => format!("{what}, set by {source}"),
            None => what,
        }
    }
}

/// How wharf authenticates to the server: what the configuration says, or
/// for an HTTP server without credentials in it, whether `wharf mcp login`
/// stored OAuth tokens for it.
fn auth_status(config: &Config, server: &McpServerConfig) -> String {
    match &server.transport {
        McpTransport::Stdio { .. } => "unsupported".to_owned(),
        McpTransport::Http {
            bearer_token_env_var: Some(var),
            ..
        } => format!("bearer token ({var})"),
        McpTransport::Http {
            http_headers,
            env_http_headers,
            ..
        } => {
            let authorization = http_headers
                .keys()
                .chain(env_http_headers.keys())
                .any(|header| header.eq_ignore_ascii_case("authorization"));
            if authorization {
                "authorization header".to_owned()
            } else {
                oauth_status(config, server)
            }
        }
    }
}

/// `command args…`, each word quoted when a shell would split it.
fn command_line(command: &str, args: &[String]) -> String {
    words(std::iter::once(command).chain(args.iter().map(String::as_str)))
}

fn words<'a>(words: impl Iterator<Item = &'a str>) -> String {
    words
        .map(|word| {
            let plain = !word.is_empty()
                && word
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c));
            if plain {
                word.to_owned()
            } else {
                format!("{word:?}")
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn masked(map: &BTreeMap<String, String>) -> BTreeMap<&str, &'static str> {
    map.keys().map(|key| (key.as_str(), MASK)).collect()
}

/// The JSON of one server: codex's `mcp list --json` fields (`name`,
/// `enabled`, `disabled_reason`, `transport` tagged by `type`,
/// `startup_timeout_sec`, `tool_timeout_sec`, `auth_status`) and wharf's.
fn server_json(config: &Config, server: &McpServerConfig, probes: &Probes) -> Value {
    let disabled = Disabled::of(config, server);
    let transport = match &server.transport {
        McpTransport::Stdio {
            command,
            args,
            env,
            env_vars,
            cwd,
        } => json!({
            "type": server.transport.kind(),
            "command": command,
            "args": args,
            "env": masked(env),
            "env_vars": env_vars,
            "cwd": cwd,
        }),
        McpTransport::Http {
            url,
            bearer_token_env_var,
            http_headers,
            env_http_headers,
            oauth_resource,
        } => json!({
            "type": server.transport.kind(),
            "url": url,
            "bearer_token_env_var": bearer_token_env_var,
            "http_headers": masked(http_headers),
            "env_http_headers": env_http_headers,
            "oauth_resource": oauth_resource,
        }),
    };
    let mut value = json!({
        "name": server.name,
        "enabled": disabled.is_none(),
        "disabled_reason": disabled.map(|d| d.long()),
        "transport": transport,
        "required": server.required,
        "startup_timeout_sec": server.startup_timeout.as_secs_f64(),
        "tool_timeout_sec": server.tool_timeout.as_secs_f64(),
        "enabled_tools": server.enabled_tools,
        "disabled_tools": server.disabled_tools,
        // `null`: the client's default.
        "max_tools": server.offer_limits.max_tools,
        "max_tool_description_bytes": server.offer_limits.max_tool_description_bytes,
        "max_tool_schema_bytes": server.offer_limits.max_tool_schema_bytes,
        "scopes": server.scopes,
        "sandbox": server.sandbox.map(|sandbox| json!({
            "mode": sandbox.mode.as_str(),
            "network_access": sandbox.network_access,
        })),
        "auth_status": auth_status(config, server),
        "source": server.source.kind(),
        "detail": server.source.detail(),
    });
    // Only a server the requirements forbid has `blocked`: why.
    if let Some(reason) = &server.blocked {
        value["blocked"] = json!(reason);
    }
    if let Some(probe) = probes.get(&server.name) {
        match probe {
            Ok(tools) => {
                value["status"] = json!("ready");
                value["tools"] = json!(tools);
            }
            Err(reason) => {
                value["status"] = json!("failed");
                value["startup_error"] = json!(reason);
            }
        }
    }
    value
}

/// What started servers answered: their tools, or why they did not start.
type Probes = BTreeMap<String, Result<Vec<String>, String>>;

/// Starts the enabled ones of `servers` when `wanted` (and this build has
/// the MCP client).
fn probe(config: &Config, servers: &[&McpServerConfig], wanted: bool) -> Probes {
    if !wanted {
        return Probes::new();
    }
    let enabled: Vec<&McpServerConfig> = servers
        .iter()
        .copied()
        .filter(|server| Disabled::of(config, server).is_none())
        .collect();
    #[cfg(feature = "mcp_client")]
    {
        crate::mcp::probe(config, &enabled)
    }
    #[cfg(not(feature = "mcp_client"))]
    {
        enabled
            .iter()
            .map(|server| {
                let reason =
                    "this wharf is built without the MCP client (cargo feature `mcp_client`)";
                (server.name.clone(), Err(reason.to_owned()))
            })
            .collect()
    }
}

pub(super) fn list(global: &GlobalArgs, json: bool, tools: bool) -> anyhow::Result<()> {
    let config = global.configure()?.config;
    let servers = &config.mcp_servers;
    let all: Vec<&McpServerConfig> = servers.values().collect();
    let probes = probe(&config, &all, tools);
    // Servers skipped for their names (`.` or a space) are listed with why.
    let skipped = &config.mcp_skipped;
    if json {
        let rows: Vec<Value> = servers
            .values()
            .map(|server| server_json(&config, server, &probes))
            .chain(
                skipped
                    .iter()
                    .map(|(name, why)| json!({ "name": name, "skipped": why })),
            )
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    if servers.is_empty() && skipped.is_empty() {
        println!("No MCP servers configured yet. Try `wharf mcp add my-tool -- my-command`.");
        return Ok(());
    }
    let rows: Vec<[String; 4]> = servers
        .values()
        .map(|server| {
            let transport = match &server.transport {
                McpTransport::Stdio { command, args, .. } => command_line(command, args),
                McpTransport::Http { url, .. } => url.clone(),
            };
            let status = match (Disabled::of(&config, server), probes.get(&server.name)) {
                (Some(disabled), _) => disabled.short(),
                (None, Some(Ok(tools))) => format!("ready, {} tool(s)", tools.len()),
                (None, Some(Err(_))) => "failed to start".to_owned(),
                (None, None) => "enabled".to_owned(),
            };
            [
                server.name.clone(),
                transport,
                status,
                auth_status(&config, server),
            ]
        })
        .chain(skipped.keys().map(|name| {
            [
                safe(name).to_string(),
                "-".to_owned(),
                "skipped".to_owned(),
                "-".to_owned(),
            ]
        }))
        .collect();
    let header = ["NAME", "TRANSPORT", "STATUS", "AUTH"].map(str::to_owned);
    let mut widths = [0; 4];
    for row in std::iter::once(&header).chain(&rows) {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    for [name, transport, status, auth] in std::iter::once(header).chain(rows) {
        let [name_w, transport_w, status_w, _] = widths;
        println!("{name:name_w$}  {transport:transport_w$}  {status:status_w$}  {auth}");
    }
    for server in servers.values() {
        if let Some(reason) = &server.blocked {
            println!("\n{}: {}", server.name, safe(reason));
        }
    }
    for (name, why) in skipped {
        println!("\n{}: skipped: {}", safe(name), safe(why));
    }
    for (name, probe) in &probes {
        match probe {
            Ok(tools) => println!("\n{name}: {}", safe(&tools.join(", "))),
            Err(reason) => println!("\n{name}: {}", safe(reason)),
        }
    }
    Ok(())
}

pub(super) fn get(global: &GlobalArgs, name: &str, json: bool, tools: bool) -> anyhow::Result<()> {
    let config = global.configure()?.config;
    let Some(server) = config.mcp_servers.get(name) else {
        let names: Vec<String> = config.mcp_servers.keys().cloned().collect();
        return Err(UsageError(format!("no MCP server named `{name}`{}", known(&names))).into());
    };
    let probes = probe(&config, &[server], tools);
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&server_json(&config, server, &probes))?
        );
        return Ok(());
    }
    let list = |items: &[String]| {
        if items.is_empty() {
            "-".to_owned()
        } else {
            items.join(", ")
        }
    };
    let pairs = |map: &BTreeMap<String, String>, secret: bool| {
        let shown: Vec<String> = map
            .iter()
            .map(|(key, value)| format!("{key}={}", if secret { MASK } else { value }))
            .collect();
        list(&shown)
    };
    let mut lines: Vec<(&str, String)> = Vec::new();
    let enabled = match Disabled::of(&config, server) {
        None => "true".to_owned(),
        Some(disabled) => format!("false ({})", disabled.long()),
    };
    lines.push(("enabled", enabled));
    lines.push(("transport", server.transport.kind().to_owned()));
    match &server.transport {
        McpTransport::Stdio {
            command,
            args,
            env,
            env_vars,
            cwd,
        } => {
            lines.push(("command", command.clone()));
            let args = if args.is_empty() {
                "-".to_owned()
            } else {
                words(args.iter().map(String::as_str))
            };
            lines.push(("args", args));
            lines.push((
                "cwd",
                cwd.as_ref()
                    .map_or_else(|| "-".to_owned(), |cwd| cwd.display().to_string()),
            ));
            lines.push(("env", pairs(env, true)));
            lines.push(("env_vars", list(env_vars)));
            let sandbox = match &server.sandbox {
                None => "none (runs unconfined)".to_owned(),
                Some(sandbox) => format!(
                    "{}, network {}",
                    sandbox.mode,
                    if sandbox.network_access { "on" } else { "off" }
                ),
            };
            lines.push(("sandbox", sandbox));
        }
        McpTransport::Http {
            url,
            bearer_token_env_var,
            http_headers,
            env_http_headers,
            oauth_resource,
        } => {
            lines.push(("url", url.clone()));
            lines.push((
                "bearer_token_env_var",
                bearer_token_env_var
                    .clone()
                    .unwrap_or_else(|| "-".to_owned()),
            ));
            lines.push(("http_headers", pairs(http_headers, true)));
            lines.push(("env_http_headers", pairs(env_http_headers, false)));
            lines.push((
                "oauth_resource",
                oauth_resource.clone().unwrap_or_else(|| "-".to_owned()),
            ));
        }
    }
    lines.push(("required", server.required.to_string()));
    lines.push((
        "startup_timeout_sec",
        server.startup_timeout.as_secs_f64().to_string(),
    ));
    lines.push((
        "tool_timeout_sec",
        server.tool_timeout.as_secs_f64().to_string(),
    ));
    lines.push((
        "enabled_tools",
        server
            .enabled_tools
            .as_deref()
            .map_or_else(|| "all".to_owned(), list),
    ));
    lines.push(("disabled_tools", list(&server.disabled_tools)));
    let limits = server.offer_limits;
    for (key, value) in [
        ("max_tools", limits.max_tools),
        (
            "max_tool_description_bytes",
            limits.max_tool_description_bytes,
        ),
        ("max_tool_schema_bytes", limits.max_tool_schema_bytes),
    ] {
        lines.push((
            key,
            value.map_or_else(|| "default".to_owned(), |n| n.to_string()),
        ));
    }
    lines.push(("scopes", list(&server.scopes)));
    lines.push(("auth", auth_status(&config, server)));
    match probes.get(name) {
        Some(Ok(tools)) => lines.push(("tools", list(tools))),
        Some(Err(reason)) => lines.push(("startup_error", reason.clone())),
        None => {}
    }
    lines.push(("source", server.source.to_string()));
    lines.push(("remove", format!("wharf mcp remove {name}")));
    println!("{name}");
    for (key, value) in lines {
        println!("  {key}: {}", safe(&value));
    }
    Ok(())
}

/// "OAuth" when tokens for `server` are stored, else "not logged in"; the
/// store is opened quietly (`wharf mcp login` reports why one cannot be).
#[cfg(feature = "mcp_client")]
fn oauth_status(config: &Config, server: &McpServerConfig) -> String {
    use wharf_plugin_mcp_client::{credentials::CredentialStore, oauth};
    let McpTransport::Http { url, .. } = &server.transport else {
        return "unsupported".to_owned();
    };
    match CredentialStore::open(crate::mcp::store_mode(config), &config.wharf_home) {
        Ok(store) => oauth::auth_status(&server.name, url, &store).to_owned(),
        Err(_) => "not logged in".to_owned(),
    }
}

/// A build without the MCP client cannot log in.
#[cfg(not(feature = "mcp_client"))]
fn oauth_status(_: &Config, _: &McpServerConfig) -> String {
    "none".to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_lines_quote_what_a_shell_would_split() {
        let args = ["-y".to_owned(), "a b".to_owned(), String::new()];
        assert_eq!(command_line("npx", &args), "npx -y \"a b\" \"\"");
    }
}
