//! `default_tools_approval_mode` and `[mcp_servers.NAME.tools.TOOL]
//! approval_mode`: whether a call of one of a server's tools asks first.

use std::collections::BTreeMap;

use crate::Config;
use crate::toml_types::{McpServerToml, McpToolApproval};

/// A server's approval modes, resolved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct McpToolApprovals {
    /// `default_tools_approval_mode` (default `auto`).
    pub default: McpToolApproval,
    /// `tools.TOOL.approval_mode`, by the server's name of the tool.
    pub tools: BTreeMap<String, McpToolApproval>,
}

impl McpToolApprovals {
    pub(crate) fn from_toml(raw: &McpServerToml) -> McpToolApprovals {
        McpToolApprovals {
            default: raw.default_tools_approval_mode.unwrap_or_default(),
            tools: raw
                .tools
                .iter()
                .flatten()
                .filter_map(|(tool, config)| Some((tool.clone(), config.approval_mode?)))
                .collect(),
        }
    }

    /// The mode of `tool` (the server's name of it).
    pub fn mode(&self, tool: &str) -> McpToolApproval {
        self.tools.get(tool).copied().unwrap_or(self.default)
    }
}

/// The name of the plugin that offers the tools of the MCP server `server`
/// (what the MCP adapter names its manifest).
pub fn mcp_plugin_name(server: &str) -> String {
    format!("mcp-{}", server.to_ascii_lowercase())
}

impl Config {
    /// Every configured server's approval modes, by the name of the plugin
    /// that offers its tools ([`mcp_plugin_name`]).
    pub fn mcp_tool_approvals(&self) -> BTreeMap<String, McpToolApprovals> {
        self.mcp_servers
            .values()
            .map(|server| (mcp_plugin_name(&server.name), server.tool_approvals.clone()))
            .collect()
    }
}
