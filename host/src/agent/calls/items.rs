//! What people see of a tool call: the item it starts as, chosen from its
//! plugin (kind, capabilities) and its spec's display hints, and how its
//! outcome ends it (the exit code of the command the tool says it ran).
//! Nothing here knows a tool by its name.

use serde_json::Value;
use wharf_runtime::pipeline::{CallError, CallOutcome, ToolCall, shown_command};
use wharf_runtime::plugin::ToolSpec;
use wharf_runtime::plugin::manifest::PluginKind;
use wharf_runtime::registry::Entry;

use crate::agent::events::{ItemDetails, Status};

/// What kind of item a call is, from the plugin and the spec of its tool
/// (`None`: no such tool).
/// `arguments` are the call's parsed arguments (`None`: not JSON, shown as
/// the text).
pub(super) fn started_details(
    call: &ToolCall,
    tool: Option<(&Entry, &ToolSpec)>,
    arguments: Option<&Value>,
) -> ItemDetails {
    let arguments = arguments
        .cloned()
        .unwrap_or_else(|| Value::String(call.args.clone()));
    let in_progress = String::new;
    let Some((entry, spec)) = tool else {
        return ItemDetails::ToolCall {
            tool: call.tool.clone(),
            arguments,
            output: in_progress(),
            status: Status::InProgress,
        };
    };
    if entry.manifest.kind == PluginKind::Mcp {
        return ItemDetails::McpToolCall {
            server: entry.plugin.name().to_owned(),
            tool: spec
                .display
                .label
                .clone()
                .unwrap_or_else(|| spec.name.clone()),
            arguments,
            output: in_progress(),
            status: Status::InProgress,
        };
    }
    let tool = call.tool.clone();
    let capabilities = &entry.manifest.capabilities;
    if capabilities.exec {
        ItemDetails::CommandExecution {
            command: command_text(spec, &arguments),
            tool,
            aggregated_output: in_progress(),
            exit_code: None,
            status: Status::InProgress,
        }
    } else if !capabilities.fs_write.is_empty() {
        ItemDetails::FileChange {
            tool,
            changes: Vec::new(),
            output: in_progress(),
            status: Status::InProgress,
        }
    } else {
        ItemDetails::ToolCall {
            tool,
            arguments,
            output: in_progress(),
            status: Status::InProgress,
        }
    }
}

/// The command a call runs, for people: the argument the spec's display
/// hint points at (a string, or words joined by spaces), as the approval
/// stage reads it, else the tool and its arguments.
pub(super) fn command_text(spec: &ToolSpec, arguments: &Value) -> String {
    shown_command(spec, arguments).map_or_else(
        || format!("{} {arguments}", spec.name),
        |shown| shown.text(),
    )
}

/// The exit code of the command the call ran, as its tool reported it
/// (none while the command runs on, or when the tool ran none).
pub(super) fn exit_code(outcome: &CallOutcome) -> Option<i32> {
    outcome.result.as_ref().ok()?.command.as_ref()?.exit_code
}

/// How the call ended: an output marked as an error, or a command that
/// exited with a code other than 0, failed.
pub(super) fn status(outcome: &CallOutcome) -> Status {
    match &outcome.result {
        Ok(output) if output.is_error => Status::Failed,
        Ok(_) => match exit_code(outcome) {
            Some(code) if code != 0 => Status::Failed,
            _ => Status::Completed,
        },
        Err(CallError::NotApproved(_) | CallError::Unsupported { .. }) => Status::Declined,
        Err(CallError::Tool(wharf_runtime::plugin::ToolError::Cancelled)) => Status::Cancelled,
        Err(_) => Status::Failed,
    }
}

/// A freeform call's text as the arguments of its tool: in the argument
/// the tool's spec names. A tool that takes no freeform calls gets the text
/// as a JSON string, which its schema (an object) refuses with a reason.
pub(super) fn freeform_arguments(spec: Option<&ToolSpec>, input: &str) -> Value {
    let text = Value::String(input.to_owned());
    match spec.and_then(ToolSpec::freeform_argument) {
        Some(argument) => {
            let mut object = serde_json::Map::new();
            object.insert(argument.to_owned(), text);
            Value::Object(object)
        }
        None => text,
    }
}

#[cfg(test)]
mod tests;
