//! What each stage decided about a call, and what decided it: recorded on
//! the [`CallOutcome`](super::CallOutcome) as the call goes through, for the
//! audit log and telemetry. A stage's decision is `Copy` and carries no
//! text, so recording one costs a push into one small `Vec` per call; the
//! words people read are the outcome's error. Hooks' decisions, which name
//! the hook, are kept beside them (an empty `Vec` without hooks).

use wharf_sandbox::Sandbox;

use super::Stage;
use crate::hooks::HookDecision;
use crate::plugin::{ToolError, ToolOutput};

/// One stage's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StageDecision {
    pub stage: Stage,
    pub verdict: Verdict,
    pub by: DecidedBy,
}

/// Whether the call went on past a stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// It went on (for the invoke stage: the plugin returned an output).
    Allow,
    /// It stopped there (for the invoke stage: the plugin failed, or the
    /// command it ran failed because the sandbox denied it something).
    Deny,
}

/// What made a stage's decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecidedBy {
    /// The plugins of the session: none offers the tool.
    Registry,
    /// The plugin's feature flag (on, off, or replaced by another).
    FeatureFlag,
    /// The session's model and the capabilities the tool `requires`.
    Model,
    /// The session has no model (`wharf tool call`): every tool may run.
    NoModel,
    /// The tool's input schema (or the arguments not being JSON).
    Schema,
    /// The approval policy, without asking anyone: the call needs no
    /// approval, or the policy refuses what it asks (leaving the sandbox).
    Policy,
    /// The session has no approval policy (`wharf tool call` without `-a`).
    NoPolicy,
    /// The approver asked the user, who answered.
    User,
    /// An earlier "yes for this session" of the approver.
    SessionApproval,
    /// The call needs approval and nobody can give it in this session.
    NoApprover,
    /// The plugin's grant (its write roots, its limits).
    Grant,
    /// The sandbox policy: a path it does not let the host write, or a
    /// command it denied something.
    Sandbox,
    /// The plugin itself: its output or its error.
    Plugin,
    /// The call was cancelled before or while it ran.
    Cancel,
    /// A hook (which one: [`Decisions::hooks`]).
    Hook,
}

impl Stage {
    /// The stage's name in records (`approval`, `model_capabilities`).
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Resolve => "resolve",
            Stage::Feature => "feature",
            Stage::Requirements => "requirements",
            Stage::ModelCapabilities => "model_capabilities",
            Stage::Arguments => "arguments",
            Stage::BeforeHooks => "before_hooks",
            Stage::Approval => "approval",
            Stage::Grant => "grant",
            Stage::Invoke => "invoke",
            Stage::AfterHooks => "after_hooks",
            Stage::Apply => "apply",
        }
    }
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Allow => "allow",
            Verdict::Deny => "deny",
        }
    }
}

impl DecidedBy {
    /// Its name in records (`session_approval`).
    pub fn as_str(self) -> &'static str {
        match self {
            DecidedBy::Registry => "registry",
            DecidedBy::FeatureFlag => "feature_flag",
            DecidedBy::Model => "model",
            DecidedBy::NoModel => "no_model",
            DecidedBy::Schema => "schema",
            DecidedBy::Policy => "policy",
            DecidedBy::NoPolicy => "no_policy",
            DecidedBy::User => "user",
            DecidedBy::SessionApproval => "session_approval",
            DecidedBy::NoApprover => "no_approver",
            DecidedBy::Grant => "grant",
            DecidedBy::Sandbox => "sandbox",
            DecidedBy::Plugin => "plugin",
            DecidedBy::Cancel => "cancel",
            DecidedBy::Hook => "hook",
        }
    }
}

/// The decisions of one call, in stage order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Decisions(Vec<StageDecision>, Vec<HookDecision>);

impl Decisions {
    /// Room for every stage, so that recording never allocates again.
    pub(super) fn for_a_call() -> Decisions {
        Decisions(Vec::with_capacity(8), Vec::new())
    }

    pub(super) fn allow(&mut self, stage: Stage, by: DecidedBy) {
        self.0.push(StageDecision {
            stage,
            verdict: Verdict::Allow,
            by,
        });
    }

    pub(super) fn deny(&mut self, stage: Stage, by: DecidedBy) {
        self.0.push(StageDecision {
            stage,
            verdict: Verdict::Deny,
            by,
        });
    }

    /// Only `decision` (a call that stopped before the pipeline ran it:
    /// its tool unknown, or cancelled).
    pub fn one(decision: StageDecision) -> Decisions {
        Decisions(vec![decision], Vec::new())
    }

    pub fn iter(&self) -> impl Iterator<Item = &StageDecision> {
        self.0.iter()
    }

    /// What each hook that ran decided, in order.
    pub fn hooks(&self) -> &[HookDecision] {
        &self.1
    }

    pub(super) fn hook(&mut self, decision: HookDecision) {
        self.1.push(decision);
    }

    /// The decision that stopped the call, if one did.
    pub fn denied(&self) -> Option<&StageDecision> {
        self.0.iter().find(|d| d.verdict == Verdict::Deny)
    }
}

/// Records what the invoke stage's `result` says: the plugin's output, its
/// error, a cancel, or a command that `sandbox` denied something (see
/// [`wharf_sandbox::denial_line`]; read only for a command that failed).
pub(super) fn invoked(
    decisions: &mut Decisions,
    result: &Result<ToolOutput, ToolError>,
    sandbox: &Sandbox,
) {
    match result {
        Ok(output) => {
            let denied = output.command.as_ref().is_some_and(|ran| {
                !matches!(ran.exit_code, None | Some(0))
                    && wharf_sandbox::denial_line(sandbox.policy(), ran.exit_code, &output.text())
                        .is_some()
            });
            if denied {
                decisions.deny(Stage::Invoke, DecidedBy::Sandbox);
            } else {
                decisions.allow(Stage::Invoke, DecidedBy::Plugin);
            }
        }
        Err(ToolError::Cancelled) => decisions.deny(Stage::Invoke, DecidedBy::Cancel),
        Err(_) => decisions.deny(Stage::Invoke, DecidedBy::Plugin),
    }
}
