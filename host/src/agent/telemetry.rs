//! What the agent loop tells `tracing` (wharf's log; an exporter later).
//! Targets are codex's OpenTelemetry event names with `wharf.` for
//! `codex.`, and the attributes theirs: `conversation.id`, `app.version`,
//! `model`, durations in milliseconds, token counts. No text of the
//! conversation is recorded: a prompt is its length (its text only where
//! `[otel] log_user_prompt` says), a delta its kind.
//! Nothing is formatted unless a subscriber wants the event.

use std::time::Instant;

use wharf_model::protocol::{ResponseEvent, ResponseItem};

use super::{Agent, TurnError, TurnOutcome};

/// What stands for a prompt's text unless `[otel] log_user_prompt`.
const REDACTED: &str = "[REDACTED]";

/// The version every event names.
pub(super) const APP_VERSION: &str = env!("CARGO_PKG_VERSION");

/// `wharf.conversation_starts`: the thread and the settings it runs with.
pub(super) fn conversation_starts(agent: &Agent<'_>) {
    let session = agent.session;
    tracing::info!(
        target: "wharf.conversation_starts",
        // A plain name first: a dotted one right after `target:` is
        // ambiguous to the macro.
        model = agent.model.slug.as_str(),
        conversation.id = agent.thread_id(),
        app.version = APP_VERSION,
        context_window = agent.model.context_window,
        approval_policy = session.approval_policy.map(|policy| policy.as_str()),
        sandbox_mode = session.sandbox.policy().mode().as_str(),
        reasoning_effort = agent.options.reasoning_effort.map(|effort| effort.as_str()),
        auto_compact_token_limit = agent.auto_compact_limit,
        "conversation started"
    );
}

/// The span of one turn: the events of the thread that runs it carry the
/// conversation and the model (the model client's too, see
/// `wharf_model`'s transport).
pub(super) fn turn_span(agent: &Agent<'_>) -> tracing::span::EnteredSpan {
    tracing::info_span!(
        target: "wharf.turn",
        "turn",
        model = agent.model.slug.as_str(),
        conversation.id = agent.thread_id(),
    )
    .entered()
}

/// `wharf.user_prompt`: the prompt's length in characters, and its text
/// only where `[otel] log_user_prompt` asks (else [`REDACTED`]).
pub(super) fn user_prompt(input: &str, images: usize, log_text: bool) {
    tracing::info!(
        target: "wharf.user_prompt",
        prompt_length = input.chars().count(),
        prompt = if log_text { input } else { REDACTED },
        images,
        "user prompt"
    );
}

/// `wharf.sse_event`: the kind of each event of the response (trace), the
/// completion with its token counts (debug).
pub(super) fn sse_event(event: &ResponseEvent, request_started: Instant) {
    match event {
        ResponseEvent::Completed { usage, .. } => tracing::debug!(
            target: "wharf.sse_event",
            duration_ms = millis(request_started),
            event.kind = "response.completed",
            input_token_count = usage.map(|u| u.input_tokens),
            output_token_count = usage.map(|u| u.output_tokens),
            cached_token_count = usage.map(|u| u.cached_input_tokens),
            reasoning_token_count = usage.map(|u| u.reasoning_output_tokens),
        ),
        _ => tracing::trace!(
            target: "wharf.sse_event",
            duration_ms = millis(request_started),
            event.kind = event_kind(event),
        ),
    }
}

fn event_kind(event: &ResponseEvent) -> &'static str {
    match event {
        ResponseEvent::Created => "response.created",
        ResponseEvent::OutputTextDelta { .. } => "response.output_text.delta",
        ResponseEvent::ReasoningSummaryDelta { .. } => "response.reasoning_summary_text.delta",
        ResponseEvent::OutputItemDone { item } => match item {
            ResponseItem::Message { .. } => "response.output_item.done.message",
            ResponseItem::Reasoning { .. } => "response.output_item.done.reasoning",
            ResponseItem::FunctionCall { .. } | ResponseItem::CustomToolCall { .. } => {
                "response.output_item.done.tool_call"
            }
            ResponseItem::WebSearchCall { .. } => "response.output_item.done.web_search_call",
            ResponseItem::ToolOutput { .. } => "response.output_item.done.tool_output",
        },
        ResponseEvent::Completed { .. } => "response.completed",
        ResponseEvent::Warning { .. } => "warning",
    }
}

/// How a turn ended, in the turn's span.
pub(super) fn turn_ended(result: Result<&TurnOutcome, &TurnError>, started: Instant) {
    match result {
        Ok(outcome) => tracing::info!(
            target: "wharf.turn",
            duration_ms = millis(started),
            input_tokens = outcome.usage.map(|usage| usage.input_tokens),
            output_tokens = outcome.usage.map(|usage| usage.output_tokens),
            "turn completed"
        ),
        // The message is the model client's or the host's (a status, a
        // timeout), never the conversation's.
        Err(error) => tracing::warn!(
            target: "wharf.turn",
            duration_ms = millis(started),
            // As text: a &str field is written quoted, its control characters
            // escaped (the message can be the provider's).
            error.message = error.to_string().as_str(),
            "turn failed"
        ),
    }
}

fn millis(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}
