//! The session events' hooks, as the agent meets them: `session-start`
//! when a thread starts (`startup`, or `resume` with history), and
//! `user-prompt-submit` before a prompt joins the conversation (a hook may
//! stop the turn, the reason shown to the user, or add context the model
//! reads). `session-end` runs when the host ends the session
//! ([`session_end`]). A hook that fails is skipped with a warning, which
//! the sink hears as an error event.

use wharf_runtime::hooks::{EventOutcome, HookDecision, HookInput, run};
use wharf_runtime::pipeline::Session;

use super::Sink;
use super::events::{Event, TurnError};

/// Tells `sink` of the hooks in `decisions` that failed and were skipped.
pub fn warn(decisions: &[HookDecision], sink: &mut dyn Sink) {
    for message in decisions.iter().filter_map(HookDecision::warning) {
        sink.event(&Event::Error { message });
    }
}

fn said(outcome: EventOutcome, sink: &mut dyn Sink) -> EventOutcome {
    warn(&outcome.decisions, sink);
    outcome
}

/// Runs the `session-start` hooks of `session` (`source`: `startup` or
/// `resume`).
pub fn session_start(session: &Session, source: &str, sink: &mut dyn Sink) {
    if session.hooks.is_empty() {
        return;
    }
    let input = HookInput::SessionStart {
        session_id: session.session_id.as_str(),
        cwd: &session.cwd,
        source,
    };
    said(
        run::run_event(&session.hooks, &input, session.session_id.as_str()),
        sink,
    );
}

/// Runs the `session-end` hooks of `session`.
pub fn session_end(session: &Session, sink: &mut dyn Sink) {
    if session.hooks.is_empty() {
        return;
    }
    let input = HookInput::SessionEnd {
        session_id: session.session_id.as_str(),
        cwd: &session.cwd,
    };
    said(
        run::run_event(&session.hooks, &input, session.session_id.as_str()),
        sink,
    );
}

/// Runs the `user-prompt-submit` hooks on `prompt`: the context they add,
/// or why the prompt is refused.
pub(super) fn prompt_submitted(
    session: &Session,
    prompt: &str,
    sink: &mut dyn Sink,
) -> Result<Vec<String>, TurnError> {
    if session.hooks.is_empty() {
        return Ok(Vec::new());
    }
    let input = HookInput::UserPromptSubmit {
        session_id: session.session_id.as_str(),
        cwd: &session.cwd,
        prompt,
    };
    let outcome = said(
        run::run_event(&session.hooks, &input, session.session_id.as_str()),
        sink,
    );
    match outcome.stopped {
        Some(reason) => Err(TurnError {
            message: format!("the prompt was refused: {reason}"),
            cause: None,
        }),
        None => Ok(outcome.context),
    }
}
