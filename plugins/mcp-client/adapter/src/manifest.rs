//! The manifest of a server's plugin.

use std::path::PathBuf;

use wharf_config::features::Stage;
use wharf_config::{McpServerConfig, McpTransport, Source};
use wharf_runtime::plugin::manifest::{
    Capabilities, FeatureDecl, LimitWishes, Manifest, PluginKind, PluginName,
};

use crate::FEATURE;

/// The manifest of `server`'s plugin: kind `mcp`, feature `mcp_client`,
/// asking for nothing (the server runs outside the plugin grants: it is a
/// program the user configured), its calls limited by `tool_timeout_sec`.
/// Fails when the server's name makes no plugin name.
pub fn manifest(server: &McpServerConfig) -> Result<Manifest, String> {
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
        hooks: None,
        path: source_file(&server.source),
    })
}

/// The file that defined a server (empty for `-c` overrides).
fn source_file(source: &Source) -> PathBuf {
    match source {
        Source::Project(at) | Source::User(at) | Source::Profile { at, .. } => at.path.clone(),
        Source::Default
        | Source::Trust(_)
        | Source::Build(_)
        | Source::Override(_)
        | Source::Flag(_)
        | Source::Requirements(_) => PathBuf::new(),
    }
}
