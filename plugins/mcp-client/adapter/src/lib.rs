//! MCP servers as wharf plugins. `wharf-plugin-mcp-client` speaks MCP and
//! knows no host; the plugin runtime knows plugins and no MCP. This crate
//! is the one place that knows both: it turns a configured
//! `[mcp_servers.NAME]` into what the client starts ([`server_spec`]), a
//! started server into a plugin of kind `mcp` ([`manifest`],
//! [`McpPlugin`]), and each result into the host's content. What to start,
//! and what to print about it, is the embedder's choice (`cli`).
//!
//! An MCP tool then goes through the same pipeline as WASM and native
//! tools: feature gate (`mcp_client`), model capabilities (an image becomes
//! a placeholder for a text-only model), approval, truncation. Its
//! progress notifications reach the call's [`Progress`] (the agent makes
//! them events); the results, the errors and the cancel map one to one.
//!
//! [`Progress`]: wharf_runtime::plugin::Progress

#![forbid(unsafe_code)]

mod content;
mod elicitation;
mod manifest;
mod spec;

use std::collections::BTreeMap;
use std::sync::Mutex;

use wharf_plugin_mcp_client::{CallError, CallHooks, ElicitRequest, McpServer, McpTool};
use wharf_runtime::plugin::grant::Grant;
use wharf_runtime::plugin::{
    Args, CallContext, Content, Display, Plugin, ToolError, ToolOutput, ToolSpec,
};

pub use manifest::manifest;
pub use spec::{has_credentials, server_spec};

/// The feature that turns every MCP server on or off.
pub const FEATURE: &str = "mcp_client";

/// One running server, as the registry sees it.
pub struct McpPlugin {
    server: McpServer,
    specs: Vec<ToolSpec>,
    /// Qualified name → the server's own name of the tool.
    names: BTreeMap<String, String>,
}

impl McpPlugin {
    /// The plugin of a started server, and why some of its tools are not
    /// offered (for the caller to print; they name the tool, not the
    /// server).
    pub fn new(server: McpServer) -> (McpPlugin, Vec<String>) {
        let (specs, skipped) = offerable(server.tools());
        let names = server
            .tools()
            .iter()
            .map(|tool| (tool.qualified_name.clone(), tool.name.clone()))
            .collect();
        let plugin = McpPlugin {
            server,
            specs,
            names,
        };
        (plugin, skipped)
    }
}

/// The specs of the tools a model can be offered, and why the others are
/// not: a tool whose input schema is not a valid JSON Schema is left out
/// on its own (the registry would refuse the whole server for it).
fn offerable(tools: &[McpTool]) -> (Vec<ToolSpec>, Vec<String>) {
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
            // People know the tool by the server's name of it.
            display: Display {
                label: Some(tool.name.clone()),
                ..Display::default()
            },
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
        args: Args<'_>,
        _grant: &Grant,
    ) -> Result<ToolOutput, ToolError> {
        let name = self
            .names
            .get(tool)
            .ok_or_else(|| ToolError::Failed(format!("no tool `{tool}` on this server")))?;
        let arguments = args.value.clone();
        let logs = Mutex::new(Vec::new());
        // Reported as it comes (the agent makes it an event), and kept
        // with the call's logs.
        let progress = |message: &str| {
            if let Some(progress) = &cx.progress {
                progress.report(message);
            }
            if let Ok(mut logs) = logs.lock() {
                logs.push(format!("[progress] {message}"));
            }
        };
        // A server's question goes to the session's approver (the TUI
        // shows a form); without one it is declined, saying why.
        let elicit = |request: &ElicitRequest| {
            let plugin = format!("mcp-{}", self.server.name().to_ascii_lowercase());
            elicitation::answer(cx, &plugin, tool, request)
        };
        let hooks = CallHooks {
            cancel: cx.cancel.clone(),
            progress: &progress,
            elicit: &elicit,
        };
        let result = self
            .server
            .call(name, arguments, &hooks)
            .map_err(call_error)?;
        let mut content: Vec<Content> = result.content.into_iter().map(content::content).collect();
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
            command: None,
        })
    }
}

/// The client's errors name the server already.
fn call_error(err: CallError) -> ToolError {
    match err {
        CallError::Cancelled => ToolError::Cancelled,
        CallError::Timeout(limit) => ToolError::Timeout(limit.as_millis()),
        CallError::InvalidArguments(message) => ToolError::InvalidArgs(message),
        other => ToolError::Failed(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tool(name: &str, input_schema: serde_json::Value) -> McpTool {
        McpTool {
            qualified_name: wharf_plugin_mcp_client::qualified_name("srv", name),
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
