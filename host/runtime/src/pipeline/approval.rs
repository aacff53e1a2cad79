//! The approval stage: whether a call may run without asking, and asking
//! the session's [`Approver`] when it may not.
//!
//! wharf decides from the plugin's manifest, never from the tool's name:
//!
//! | `approval_policy` | needs approval                                        |
//! |-------------------|-------------------------------------------------------|
//! | `untrusted`       | every tool whose plugin runs commands (`exec`) or edits files (`fs.write`) |
//! | `on-failure`      | nothing up front (commands run in the sandbox; wharf does not offer to re-run without it yet) |
//! | `on-request`      | nothing (the model cannot ask for escalation yet)     |
//! | `never`           | nothing; nothing is ever escalated                    |
//!
//! A call that needs approval in a session without an approver (`wharf
//! exec`) is denied with a message the model reads, as is one the approver
//! declines.

use crate::ids::CallId;
use crate::plugin::manifest::Manifest;
use crate::registry::Entry;
use serde::{Deserialize, Serialize};
use wharf_config::ApprovalPolicy;

use super::{CallError, Session, ToolCall};

/// What an approver is asked. Serializable: a front end shows it as it
/// comes in the session's events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalRequest {
    pub call_id: CallId,
    pub tool: String,
    pub plugin: String,
    /// The arguments as JSON text.
    pub args: String,
    /// Why the call needs approval ("it runs commands").
    pub reason: String,
    /// The command the call runs, when its tool shows one (the spec's
    /// display hint): what "yes for this session" matches by prefix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// The text of the freeform argument (a patch) of a call whose plugin
    /// edits files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patch: Option<String>,
    /// Why the model asks to run the call outside the sandbox
    /// (`on-request`), in its words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub justification: Option<String>,
    /// The call ran in the sandbox and failed because of it; approving runs
    /// it again without the sandbox (`on-failure`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub retry_without_sandbox: bool,
}

/// An approver's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    /// Run this call.
    Approve,
    /// Run this call, and the approver need not ask again in this session
    /// for the same tool (or, for a command, the same command prefix). The
    /// pipeline treats it as [`Decision::Approve`]; remembering is the
    /// approver's.
    ApproveForSession,
    /// Do not run it; `reason`, when given, is passed on to the model.
    Deny {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
}

/// Answers approval requests (the TUI asks the user).
pub trait Approver: Send + Sync {
    /// Whether, and how, the call may run.
    fn decide(&self, request: &ApprovalRequest) -> Decision;
}

/// Why a call of a tool of `manifest`'s plugin needs approval under
/// `policy`, or `None` when it may run without asking.
pub fn needs_approval(policy: ApprovalPolicy, manifest: &Manifest) -> Option<&'static str> {
    match policy {
        ApprovalPolicy::Untrusted => {
            let caps = &manifest.capabilities;
            if caps.exec {
                Some("it runs commands")
            } else if !caps.fs_write.is_empty() {
                Some("it edits files")
            } else {
                None
            }
        }
        ApprovalPolicy::OnFailure | ApprovalPolicy::OnRequest | ApprovalPolicy::Never => None,
    }
}

/// The approval stage.
pub(super) fn check(entry: &Entry, session: &Session, call: &ToolCall) -> Result<(), CallError> {
    let Some(policy) = session.approval_policy else {
        return Ok(());
    };
    let Some(reason) = needs_approval(policy, &entry.manifest) else {
        return Ok(());
    };
    let policy = policy.as_str();
    let Some(approver) = &session.approver else {
        return Err(CallError::NotApproved(format!(
            "`{}` needs approval under approval_policy `{policy}` ({reason}), and nobody can \
             approve in this session; do not retry it (the user can rerun with \
             `-a never` to allow it)",
            call.tool
        )));
    };
    let request = ApprovalRequest {
        call_id: call.call_id.clone(),
        tool: call.tool.clone(),
        plugin: entry.manifest.name.to_string(),
        args: call.args.clone(),
        reason: reason.to_owned(),
        command: None,
        patch: None,
        justification: None,
        retry_without_sandbox: false,
    };
    match approver.decide(&request) {
        Decision::Approve | Decision::ApproveForSession => Ok(()),
        Decision::Deny { reason: None } => Err(CallError::NotApproved(format!(
            "the user declined to run `{}`",
            call.tool
        ))),
        Decision::Deny {
            reason: Some(reason),
        } => Err(CallError::NotApproved(format!(
            "the user declined to run `{}`: {reason}",
            call.tool
        ))),
    }
}
