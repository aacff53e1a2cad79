//! Command hooks: codex's `[hooks]` handlers. The event goes to the command
//! as one JSON object on stdin (codex's fields: `session_id`, `cwd`,
//! `hook_event_name`, `tool_name`, `tool_use_id`, `tool_input`,
//! `tool_response`, `prompt`, `source`; and wharf's `plugin`), and the
//! command answers as codex reads it:
//!
//! - exit 0 with nothing on stdout: go on;
//! - exit 2: stop the event, stderr being the reason (after a tool call:
//!   the model reads the reason instead of the output);
//! - exit 0 with a JSON object on stdout: `decision = "block"` with
//!   `reason`, or `continue = false` with `stopReason`, stop the event;
//!   `hookSpecificOutput.permissionDecision = "deny"` with
//!   `permissionDecisionReason` denies a tool call, and `updatedInput`
//!   rewrites its arguments; `hookSpecificOutput.additionalContext` adds
//!   context to a prompt; wharf's `hookSpecificOutput.updatedToolOutput`
//!   (a string, or JSON) replaces a tool's output;
//! - for `UserPromptSubmit` (and `SessionStart`, where it is ignored),
//!   plain text on stdout is context for the model.
//!
//! Anything else (another exit code, a signal, the deadline, stdout that is
//! not what the event takes) is a [`HookFailure`]. The command runs by
//! `sh -c` in the session's directory, through the session's sandbox: its
//! policy and its environment policy.

use std::sync::Arc;
use std::time::Instant;

use serde_json::{Map, Value, json};
use wharf_config::hooks::{CommandHookConfig, HookEventName};
use wharf_sandbox::{Command, RunLimits, RunOutput, Sandbox};

use super::{
    Hook, HookEvent, HookFailure, HookInput, HookKind, HookSource, HookToolCall, HookVerdict,
};
use crate::plugin::{Content, ToolOutput};

/// The most of stdout and of stderr kept from a hook.
pub const MAX_HOOK_OUTPUT_BYTES: usize = 256 * 1024;

/// A configured command, as a [`Hook`].
pub struct CommandHook {
    source: HookSource,
    event: HookEvent,
    config: CommandHookConfig,
    sandbox: Arc<Sandbox>,
}

impl CommandHook {
    /// `config`'s command, run under `sandbox`.
    pub fn new(config: &CommandHookConfig, sandbox: Arc<Sandbox>) -> CommandHook {
        CommandHook {
            source: HookSource {
                name: config.name.clone(),
                kind: HookKind::Command,
                required: config.required,
            },
            event: event_of(config.event),
            config: config.clone(),
            sandbox,
        }
    }
}

/// The runtime's event for codex's name.
pub fn event_of(name: HookEventName) -> HookEvent {
    match name {
        HookEventName::PreToolUse => HookEvent::BeforeToolCall,
        HookEventName::PostToolUse => HookEvent::AfterToolCall,
        HookEventName::SessionStart => HookEvent::SessionStart,
        HookEventName::SessionEnd => HookEvent::SessionEnd,
        HookEventName::UserPromptSubmit => HookEvent::UserPromptSubmit,
    }
}

fn codex_name(event: HookEvent) -> &'static str {
    match event {
        HookEvent::BeforeToolCall => HookEventName::PreToolUse.as_str(),
        HookEvent::AfterToolCall => HookEventName::PostToolUse.as_str(),
        HookEvent::SessionStart => HookEventName::SessionStart.as_str(),
        HookEvent::SessionEnd => HookEventName::SessionEnd.as_str(),
        HookEvent::UserPromptSubmit => HookEventName::UserPromptSubmit.as_str(),
    }
}

impl Hook for CommandHook {
    fn source(&self) -> &HookSource {
        &self.source
    }

    fn wants(&self, event: HookEvent, tool: Option<&str>) -> bool {
        event == self.event && tool.is_none_or(|tool| self.config.matches(tool))
    }

    fn run(&self, input: &HookInput<'_>, deadline: Instant) -> Result<HookVerdict, HookFailure> {
        if let HookInput::SessionStart { source, .. } = input
            && !self.config.matches(source)
        {
            return Ok(HookVerdict::Continue);
        }
        let timeout = self
            .config
            .timeout
            .min(deadline.saturating_duration_since(Instant::now()));
        let mut command = Command::new(["sh", "-c", self.config.command.as_str()]);
        if let Some(cwd) = cwd_of(input) {
            command.cwd(cwd);
        }
        let stdin = stdin_of(input).to_string().into_bytes();
        let limits = RunLimits {
            timeout,
            max_output_bytes: MAX_HOOK_OUTPUT_BYTES,
        };
        let ran = self
            .sandbox
            .run(command, Some(stdin), limits)
            .map_err(|err| HookFailure::Crashed(err.to_string()))?;
        if ran.timed_out {
            return Err(HookFailure::TimedOut(timeout));
        }
        verdict(input.event(), &ran)
    }
}

fn cwd_of<'a>(input: &HookInput<'a>) -> Option<&'a std::path::Path> {
    match input {
        HookInput::SessionStart { cwd, .. }
        | HookInput::UserPromptSubmit { cwd, .. }
        | HookInput::SessionEnd { cwd, .. } => Some(cwd),
        HookInput::BeforeToolCall(call) | HookInput::AfterToolCall { call, .. } => Some(call.cwd),
    }
}

/// The JSON object the command reads.
pub fn stdin_of(input: &HookInput<'_>) -> Value {
    let event = codex_name(input.event());
    let common = |session_id: &str, cwd: &std::path::Path| {
        let mut object = Map::new();
        object.insert("session_id".into(), json!(session_id));
        object.insert("transcript_path".into(), Value::Null);
        object.insert("cwd".into(), json!(cwd.display().to_string()));
        object.insert("hook_event_name".into(), json!(event));
        object
    };
    let tool = |call: &HookToolCall<'_>| {
        let mut object = common(call.session_id, call.cwd);
        object.insert("tool_name".into(), json!(call.tool));
        object.insert("tool_use_id".into(), json!(call.call_id));
        object.insert("tool_input".into(), call.args.clone());
        object.insert("plugin".into(), json!(call.plugin));
        object
    };
    let object = match input {
        HookInput::SessionStart {
            session_id,
            cwd,
            source,
        } => {
            let mut object = common(session_id, cwd);
            object.insert("source".into(), json!(source));
            object
        }
        HookInput::UserPromptSubmit {
            session_id,
            cwd,
            prompt,
        } => {
            let mut object = common(session_id, cwd);
            object.insert("prompt".into(), json!(prompt));
            object
        }
        HookInput::BeforeToolCall(call) => tool(call),
        HookInput::AfterToolCall { call, output } => {
            let mut object = tool(call);
            object.insert("tool_response".into(), response_of(output));
            object
        }
        HookInput::SessionEnd { session_id, cwd } => common(session_id, cwd),
    };
    Value::Object(object)
}

/// A tool's output as a hook reads it: its text, and whether it is an
/// error.
fn response_of(output: &ToolOutput) -> Value {
    json!({ "output": output.text(), "is_error": output.is_error })
}

/// What `ran` answered to `event`.
fn verdict(event: HookEvent, ran: &RunOutput) -> Result<HookVerdict, HookFailure> {
    let stdout = String::from_utf8_lossy(&ran.stdout);
    let stderr = String::from_utf8_lossy(&ran.stderr);
    match ran.exit_code {
        Some(0) => {}
        Some(2) => return Ok(blocked(event, stderr.trim())),
        Some(code) => {
            return Err(HookFailure::Crashed(format!(
                "exit status {code}{}",
                first_line(&stderr)
            )));
        }
        None => {
            return Err(HookFailure::Crashed(format!(
                "killed by signal {}{}",
                ran.signal.unwrap_or_default(),
                first_line(&stderr)
            )));
        }
    }
    let text = stdout.trim();
    if text.is_empty() {
        return Ok(HookVerdict::Continue);
    }
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(answer)) => answered(event, &answer),
        _ => match event {
            HookEvent::UserPromptSubmit => Ok(HookVerdict::AddContext(text.to_owned())),
            HookEvent::SessionStart | HookEvent::SessionEnd => Ok(HookVerdict::Continue),
            HookEvent::BeforeToolCall | HookEvent::AfterToolCall => Err(HookFailure::Garbage(
                format!("stdout is not a JSON object: {}", excerpt(text)),
            )),
        },
    }
}

/// A stop with `reason`, as `event` takes it.
fn blocked(event: HookEvent, reason: &str) -> HookVerdict {
    match event {
        HookEvent::BeforeToolCall | HookEvent::UserPromptSubmit => {
            HookVerdict::Deny(reason.to_owned())
        }
        HookEvent::AfterToolCall => {
            HookVerdict::RewriteOutput(vec![Content::Text(reason.to_owned())])
        }
        HookEvent::SessionStart | HookEvent::SessionEnd => HookVerdict::Continue,
    }
}

/// The verdict of a JSON answer.
fn answered(event: HookEvent, answer: &Map<String, Value>) -> Result<HookVerdict, HookFailure> {
    let text = |object: &Map<String, Value>, key: &str| -> Result<Option<String>, HookFailure> {
        match object.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(other) => Err(HookFailure::Garbage(format!(
                "`{key}` must be a string, not {}",
                excerpt(&other.to_string())
            ))),
        }
    };
    if answer.get("continue") == Some(&Value::Bool(false)) {
        let reason = text(answer, "stopReason")?.unwrap_or_default();
        return Ok(blocked(event, &reason));
    }
    match text(answer, "decision")?.as_deref() {
        None | Some("approve" | "allow") => {}
        Some("block" | "deny") => {
            let reason = text(answer, "reason")?.unwrap_or_default();
            return Ok(blocked(event, &reason));
        }
        Some(other) => {
            return Err(HookFailure::Garbage(format!(
                "`decision` must be `block` or `approve`, not `{other}`"
            )));
        }
    }
    let specific = match answer.get("hookSpecificOutput") {
        None | Some(Value::Null) => return Ok(HookVerdict::Continue),
        Some(Value::Object(specific)) => specific,
        Some(_) => {
            return Err(HookFailure::Garbage(
                "`hookSpecificOutput` must be an object".to_owned(),
            ));
        }
    };
    match event {
        HookEvent::BeforeToolCall => {
            match text(specific, "permissionDecision")?.as_deref() {
                // `ask` leaves the call to the approval stage, which follows.
                None | Some("allow" | "ask") => {}
                Some("deny") => {
                    let reason = text(specific, "permissionDecisionReason")?.unwrap_or_default();
                    return Ok(HookVerdict::Deny(reason));
                }
                Some(other) => {
                    return Err(HookFailure::Garbage(format!(
                        "`permissionDecision` must be `allow`, `deny` or `ask`, not `{other}`"
                    )));
                }
            }
            match specific.get("updatedInput") {
                None | Some(Value::Null) => Ok(HookVerdict::Continue),
                Some(args) => Ok(HookVerdict::RewriteArgs(args.clone())),
            }
        }
        HookEvent::AfterToolCall => match specific.get("updatedToolOutput") {
            None | Some(Value::Null) => Ok(HookVerdict::Continue),
            Some(Value::String(text)) => Ok(HookVerdict::RewriteOutput(vec![Content::Text(
                text.clone(),
            )])),
            Some(other) => Ok(HookVerdict::RewriteOutput(vec![Content::Json(
                other.to_string(),
            )])),
        },
        HookEvent::UserPromptSubmit => match text(specific, "additionalContext")? {
            Some(context) if !context.is_empty() => Ok(HookVerdict::AddContext(context)),
            _ => Ok(HookVerdict::Continue),
        },
        HookEvent::SessionStart | HookEvent::SessionEnd => Ok(HookVerdict::Continue),
    }
}

fn first_line(stderr: &str) -> String {
    stderr
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .map_or_else(String::new, |line| format!(": {}", excerpt(line)))
}

/// At most 200 bytes of `text`, for a message.
fn excerpt(text: &str) -> String {
    const MAX: usize = 200;
    if text.len() <= MAX {
        return text.to_owned();
    }
    let mut end = MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", text.get(..end).unwrap_or_default())
}

#[cfg(test)]
mod tests;
