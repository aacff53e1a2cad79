//! Running hooks: one hook's verdict checked against what its event takes,
//! timed and recorded (a [`HookDecision`], and a `wharf.hook` event for
//! `tracing`); and the session events (`session-start`,
//! `user-prompt-submit`, `session-end`), which the agent runs through
//! [`run_event`]. The tool events run in the pipeline (`pipeline/hooks.rs`),
//! each hook seeing what the one before it rewrote.

use std::time::{Duration, Instant};

use super::{Hook, HookEvent, HookFailure, HookInput, HookKind, HookVerdict, Hooks};

/// The latest a hook may answer, from when it starts (a command hook's own
/// `timeout` is shorter unless configured longer).
pub const HOOK_DEADLINE: Duration = Duration::from_secs(600);

/// What one hook decided about one event: what the audit log, `--json`
/// and events show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookDecision {
    pub event: HookEvent,
    /// The hook's name (see [`super::HookSource::name`]).
    pub hook: String,
    pub kind: HookKind,
    pub required: bool,
    pub outcome: HookOutcome,
    /// The reason of a denial, or what went wrong with a failed hook.
    pub detail: Option<String>,
    pub duration: Duration,
}

impl HookDecision {
    /// The warning a user reads about a hook that failed and was skipped.
    pub fn warning(&self) -> Option<String> {
        (self.outcome == HookOutcome::Skipped).then(|| {
            format!(
                "hook `{}` ({}) failed on {}: {} (skipped; `required = true` would stop the \
                 event instead)",
                self.hook,
                self.kind.as_str(),
                self.event,
                self.detail.as_deref().unwrap_or("no answer"),
            )
        })
    }
}

/// As the audit log and `wharf exec --json` show it.
impl serde::Serialize for HookDecision {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("event", self.event.as_str())?;
        map.serialize_entry("hook", &self.hook)?;
        map.serialize_entry("kind", self.kind.as_str())?;
        map.serialize_entry("required", &self.required)?;
        map.serialize_entry("decision", self.outcome.as_str())?;
        if let Some(detail) = &self.detail {
            map.serialize_entry("reason", detail)?;
        }
        let micros = u64::try_from(self.duration.as_micros()).unwrap_or(u64::MAX);
        map.serialize_entry("duration_us", &micros)?;
        map.end()
    }
}

/// What a hook's answer did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookOutcome {
    Allow,
    Deny,
    RewriteArgs,
    RewriteOutput,
    AddContext,
    /// It failed and is required: the event stopped.
    Failed,
    /// It failed and is not required: the event went on without it.
    Skipped,
}

impl HookOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            HookOutcome::Allow => "allow",
            HookOutcome::Deny => "deny",
            HookOutcome::RewriteArgs => "rewrite_args",
            HookOutcome::RewriteOutput => "rewrite_output",
            HookOutcome::AddContext => "add_context",
            HookOutcome::Failed => "failed",
            HookOutcome::Skipped => "skipped",
        }
    }

    /// Whether the event stopped here.
    pub fn stops(self) -> bool {
        matches!(self, HookOutcome::Deny | HookOutcome::Failed)
    }
}

/// Runs `hook` on `input`: its verdict, if the event takes it, and how
/// long it took.
pub fn run_one(
    hook: &dyn Hook,
    input: &HookInput<'_>,
) -> (Result<HookVerdict, HookFailure>, Duration) {
    let started = Instant::now();
    let result = hook
        .run(input, started + HOOK_DEADLINE)
        .and_then(|verdict| taken(input.event(), verdict));
    (result, started.elapsed())
}

/// `verdict`, when `event` takes it.
fn taken(event: HookEvent, verdict: HookVerdict) -> Result<HookVerdict, HookFailure> {
    let takes = matches!(
        (&verdict, event),
        (HookVerdict::Continue, _)
            | (
                HookVerdict::Deny(_),
                HookEvent::BeforeToolCall | HookEvent::UserPromptSubmit
            )
            | (HookVerdict::RewriteArgs(_), HookEvent::BeforeToolCall)
            | (HookVerdict::RewriteOutput(_), HookEvent::AfterToolCall)
            | (HookVerdict::AddContext(_), HookEvent::UserPromptSubmit)
    );
    if takes {
        Ok(verdict)
    } else {
        Err(HookFailure::Garbage(format!(
            "{} takes no {} answer",
            event,
            verdict_name(&verdict)
        )))
    }
}

fn verdict_name(verdict: &HookVerdict) -> &'static str {
    match verdict {
        HookVerdict::Continue => "continue",
        HookVerdict::Deny(_) => "deny",
        HookVerdict::RewriteArgs(_) => "rewrite-args",
        HookVerdict::RewriteOutput(_) => "rewrite-output",
        HookVerdict::AddContext(_) => "add-context",
    }
}

/// The decision of `hook` about `event`, recorded for `tracing` too.
pub fn decision(
    hook: &dyn Hook,
    event: HookEvent,
    result: &Result<HookVerdict, HookFailure>,
    duration: Duration,
    session_id: &str,
) -> HookDecision {
    let source = hook.source();
    let (outcome, detail) = match result {
        Ok(HookVerdict::Continue) => (HookOutcome::Allow, None),
        Ok(HookVerdict::Deny(reason)) => (HookOutcome::Deny, Some(reason.clone())),
        Ok(HookVerdict::RewriteArgs(_)) => (HookOutcome::RewriteArgs, None),
        Ok(HookVerdict::RewriteOutput(_)) => (HookOutcome::RewriteOutput, None),
        Ok(HookVerdict::AddContext(_)) => (HookOutcome::AddContext, None),
        Err(failure) if source.required => (HookOutcome::Failed, Some(failure.to_string())),
        Err(failure) => (HookOutcome::Skipped, Some(failure.to_string())),
    };
    let decision = HookDecision {
        event,
        hook: source.name.clone(),
        kind: source.kind,
        required: source.required,
        outcome,
        detail,
        duration,
    };
    tracing::info!(
        target: "wharf.hook",
        event = event.as_str(),
        conversation.id = session_id,
        hook = decision.hook.as_str(),
        kind = decision.kind.as_str(),
        required = decision.required,
        decision = outcome.as_str(),
        duration_ms = u64::try_from(duration.as_millis()).unwrap_or(u64::MAX),
    );
    if let Some(warning) = decision.warning() {
        tracing::warn!(target: "wharf.hook", "{warning}");
    }
    decision
}

/// Why an event stopped, as the model (or the user) reads it.
pub fn stop_reason(decision: &HookDecision) -> String {
    let detail = decision.detail.as_deref().unwrap_or_default().trim();
    match decision.outcome {
        HookOutcome::Failed => format!("the required hook `{}` failed: {detail}", decision.hook),
        _ if detail.is_empty() => format!("the hook `{}` said no", decision.hook),
        _ => format!("{detail} (hook `{}`)", decision.hook),
    }
}

/// What the hooks of a session event decided.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventOutcome {
    /// Why the event stopped, if a hook stopped it (only
    /// `user-prompt-submit` stops).
    pub stopped: Option<String>,
    /// Text the hooks added for the model, in order.
    pub context: Vec<String>,
    pub decisions: Vec<HookDecision>,
}

impl EventOutcome {
    /// The warnings of hooks that failed and were skipped.
    pub fn warnings(&self) -> impl Iterator<Item = String> + '_ {
        self.decisions.iter().filter_map(HookDecision::warning)
    }
}

/// Runs the hooks of `hooks` that want `input`'s event, in order, until
/// one stops it. The session events cannot be stopped: a failure there is
/// recorded and the next hook runs.
pub fn run_event(hooks: &Hooks, input: &HookInput<'_>, session_id: &str) -> EventOutcome {
    let mut outcome = EventOutcome::default();
    let event = input.event();
    for hook in hooks.wanting(event, None) {
        let (result, duration) = run_one(hook.as_ref(), input);
        let mut decision = decision(hook.as_ref(), event, &result, duration, session_id);
        if event != HookEvent::UserPromptSubmit && decision.outcome == HookOutcome::Failed {
            decision.outcome = HookOutcome::Skipped;
        }
        let stops = decision.outcome.stops();
        if stops {
            outcome.stopped = Some(stop_reason(&decision));
        }
        if let Ok(HookVerdict::AddContext(context)) = result {
            outcome.context.push(context);
        }
        outcome.decisions.push(decision);
        if stops {
            break;
        }
    }
    outcome
}
