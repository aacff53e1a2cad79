//! What `tracing` hears of each call (wharf's log; an exporter later), as
//! codex's OpenTelemetry events renamed `wharf.*`: `wharf.tool_decision`
//! (the stage that decided, and what decided it: `info` for a denial,
//! `debug` for a call let through) and `wharf.tool_result` (success and
//! timings). Never the arguments nor the output: they can
//! hold what a tool read (a secret in a file); an output is its size.
//! Nothing is formatted unless a subscriber wants the event.

use std::time::Duration;

use super::{CallOutcome, Stage, Verdict};
use crate::ids::SessionId;
use crate::plugin::Content;

/// Records `outcome`, a call of `session` (`None`: a call no session ran,
/// the tool being unknown).
pub(super) fn record(session: Option<&SessionId>, outcome: &CallOutcome) {
    let conversation = session.map(SessionId::as_str);
    // The stage that stopped the call, else the approval stage's word.
    let decided = outcome.decisions.denied().or_else(|| {
        outcome
            .decisions
            .iter()
            .find(|decision| decision.stage == Stage::Approval)
    });
    if let Some(decision) = decided {
        // A denial is worth a line of wharf's log at its default filter; the
        // decision that let a call through only with `debug` (every one is
        // exported either way).
        macro_rules! decision {
            ($level:expr) => {
                tracing::event!(
                    target: "wharf.tool_decision",
                    $level,
                    tool_name = outcome.tool.as_str(),
                    call_id = outcome.call_id.as_str(),
                    conversation.id = conversation,
                    decision = decision.verdict.as_str(),
                    stage = decision.stage.as_str(),
                    source = decision.by.as_str(),
                )
            };
        }
        match decision.verdict {
            Verdict::Deny => decision!(tracing::Level::INFO),
            Verdict::Allow => decision!(tracing::Level::DEBUG),
        }
    }
    let timings = &outcome.timings;
    tracing::info!(
        target: "wharf.tool_result",
        tool_name = outcome.tool.as_str(),
        call_id = outcome.call_id.as_str(),
        conversation.id = conversation,
        plugin = outcome.plugin.as_ref().map(|plugin| plugin.as_str()),
        success = outcome.result.is_ok(),
        error.stage = outcome.result.as_ref().err().map(|err| err.stage().as_str()),
        duration_ms = millis(timings.total),
        checks_ms = millis(timings.checks),
        invoke_ms = millis(timings.invoke),
        apply_ms = millis(timings.apply),
        output_bytes = outcome
            .result
            .as_ref()
            .ok()
            .map(|output| output.content.iter().map(Content::len).sum::<usize>()),
        files_changed = outcome.applied.len(),
    );
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
