//! The hook stages of a call: `before-tool-call` after the arguments are
//! checked and before approval (arguments a hook rewrites are checked
//! against the schema again, and the approval stage sees them), and
//! `after-tool-call` once the plugin returned, before the output is capped
//! and fitted to the model (so what a hook writes is bounded too). Hooks
//! run in the session's order, each seeing what the one before rewrote,
//! until one stops the call. A session without hooks skips both at the
//! cost of one check.

use std::borrow::Cow;

use serde_json::Value;

use super::{CallError, DecidedBy, Decisions, Resolved, Session, Stage};
use crate::hooks::run::{self, HookOutcome};
use crate::hooks::{HookEvent, HookFailure, HookInput, HookToolCall, HookVerdict};
use crate::plugin::{ToolError, ToolOutput};

/// Runs the `before-tool-call` hooks on `args`: the arguments a hook
/// rewrote them to, if one did.
pub(super) fn before(
    resolved: &Resolved<'_>,
    session: &Session,
    args: &Value,
    decisions: &mut Decisions,
) -> Result<Option<Value>, CallError> {
    if session.hooks.is_empty() {
        return Ok(None);
    }
    let event = HookEvent::BeforeToolCall;
    let tool = resolved.call.tool.as_str();
    let mut rewritten: Option<Value> = None;
    let mut ran = false;
    for hook in session.hooks.wanting(event, Some(tool)) {
        ran = true;
        let current = rewritten.as_ref().unwrap_or(args);
        let input = HookInput::BeforeToolCall(tool_call(resolved, session, current));
        let (mut result, duration) = run::run_one(hook.as_ref(), &input);
        if let Ok(HookVerdict::RewriteArgs(new)) = &result
            && let Some(validator) = resolved.entry.validator(&resolved.spec.name)
        {
            let problems = super::schema_problems(validator, new);
            if !problems.is_empty() {
                result = Err(HookFailure::Garbage(format!(
                    "rewrote the arguments to ones the tool's schema refuses: {}",
                    problems.join("; ")
                )));
            }
        }
        let session_id = session.session_id.as_str();
        let decision = run::decision(hook.as_ref(), event, &result, duration, session_id);
        let stopped = decision
            .outcome
            .stops()
            .then(|| run::stop_reason(&decision));
        decisions.hook(decision);
        if let Some(reason) = stopped {
            decisions.deny(Stage::BeforeHooks, DecidedBy::Hook);
            return Err(CallError::Hook { event, reason });
        }
        if let Ok(HookVerdict::RewriteArgs(new)) = result {
            rewritten = Some(new);
        }
    }
    if ran {
        decisions.allow(Stage::BeforeHooks, DecidedBy::Hook);
    }
    Ok(rewritten)
}

/// The plugin's `result` after the `after-tool-call` hooks (which see
/// only an output, not an error).
pub(super) fn after(
    resolved: &Resolved<'_>,
    session: &Session,
    args: &Value,
    result: Result<ToolOutput, ToolError>,
    decisions: &mut Decisions,
) -> Result<ToolOutput, CallError> {
    let mut output = result.map_err(CallError::Tool)?;
    if session.hooks.is_empty() {
        return Ok(output);
    }
    let event = HookEvent::AfterToolCall;
    let tool = resolved.call.tool.as_str();
    let mut ran = false;
    for hook in session.hooks.wanting(event, Some(tool)) {
        ran = true;
        let input = HookInput::AfterToolCall {
            call: tool_call(resolved, session, args),
            output: &output,
        };
        let (result, duration) = run::run_one(hook.as_ref(), &input);
        let session_id = session.session_id.as_str();
        let decision = run::decision(hook.as_ref(), event, &result, duration, session_id);
        let stopped =
            (decision.outcome == HookOutcome::Failed).then(|| run::stop_reason(&decision));
        decisions.hook(decision);
        if let Some(reason) = stopped {
            decisions.deny(Stage::AfterHooks, DecidedBy::Hook);
            return Err(CallError::Hook { event, reason });
        }
        if let Ok(HookVerdict::RewriteOutput(content)) = result {
            output.content = content;
        }
    }
    if ran {
        decisions.allow(Stage::AfterHooks, DecidedBy::Hook);
    }
    Ok(output)
}

/// The arguments' text for the plugin: the call's own, unless a hook
/// rewrote them.
pub(super) fn args_text<'a>(call_text: &'a str, args: Option<&Value>) -> Cow<'a, str> {
    match args {
        None => Cow::Borrowed(call_text),
        Some(value) => Cow::Owned(value.to_string()),
    }
}

fn tool_call<'a>(
    resolved: &'a Resolved<'_>,
    session: &'a Session,
    args: &'a Value,
) -> HookToolCall<'a> {
    HookToolCall {
        session_id: session.session_id.as_str(),
        call_id: resolved.call.call_id.as_str(),
        cwd: &session.cwd,
        tool: &resolved.call.tool,
        plugin: resolved.entry.manifest.name.as_str(),
        args,
    }
}
