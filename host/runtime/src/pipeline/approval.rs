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
use wharf_config::ApprovalPolicy;

use super::{CallError, Session, ToolCall};

/// What an approver is asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalRequest {
    pub call_id: CallId,
    pub tool: String,
    pub plugin: String,
    /// The arguments as JSON text.
    pub args: String,
    /// Why the call needs approval ("it runs commands").
    pub reason: String,
}

/// Answers approval requests (the TUI asks the user).
pub trait Approver: Send + Sync {
    /// Whether the call may run.
    fn approve(&self, request: &ApprovalRequest) -> bool;
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
    };
    if approver.approve(&request) {
        Ok(())
    } else {
        Err(CallError::NotApproved(format!(
            "the user declined to run `{}`",
            call.tool
        )))
    }
}
