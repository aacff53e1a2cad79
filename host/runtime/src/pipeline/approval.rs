//! The approval stage: whether a call may run without asking, asking the
//! session's [`Approver`] when it may not, and whether a call may run
//! outside the sandbox.
//!
//! wharf decides from the plugin's manifest, the tool's display hints and
//! the call's arguments, never from the tool's name:
//!
//! | `approval_policy` | asks before a call                          | outside the sandbox |
//! |-------------------|---------------------------------------------|---------------------|
//! | `untrusted`       | a plugin that runs commands (`exec`), unless the command its tool shows is known to be safe ([`safe`]); a plugin that edits files (`fs.write`) | re-run after a sandbox denial, if approved; a request from the model is refused |
//! | `on-failure`      | nothing                                     | re-run after a sandbox denial, if approved; a request from the model is refused |
//! | `on-request`      | nothing                                     | when the model asks (`"sandbox_permissions": "require_escalated"` with a `justification`), if approved |
//! | `never`           | nothing                                     | never; a request from the model is refused |
//!
//! A sandbox denial: the call ran a command in a sandbox that denies
//! something, the command exited with a code other than 0, and its output
//! says what denials say ([`wharf_sandbox::denial_line`]). The re-run is
//! the same call under danger-full-access; declined, the first outcome
//! stands.
//!
//! A call that needs approval in a session without an approver (`wharf
//! exec`) is denied with a message the model reads, as is one the approver
//! declines. A session without a policy (`wharf tool call` without `-a`)
//! asks nothing and escalates nothing.
//!
//! Beside the policy: an MCP server's `approval_mode` for a tool ([`mcp`])
//! makes its calls ask first (`prompt`) or never (`approve`), and codex's
//! granular approvals (`Session::approval_prompts`) refuse some kinds of
//! prompt without asking: `sandbox_approval = false` the request to leave
//! the sandbox, `mcp_elicitations = false` MCP tool prompts and a server's
//! elicitations.

mod command;
mod mcp;
mod safe;
mod shell;
#[cfg(test)]
mod tests;

pub use command::{ShownCommand, shown_command};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use wharf_config::ApprovalPolicy;
use wharf_config::toml_types::McpToolApproval;
use wharf_sandbox::SandboxPolicy;

use crate::ids::CallId;
use crate::plugin::elicitation::{Elicitation, ElicitationAnswer, ElicitationRequest};
use crate::plugin::{ToolOutput, ToolSpec};
use crate::registry::Entry;

use super::decisions::{DecidedBy, Decisions};
use super::{CallError, Resolved, Session, Stage};

/// The argument by which the model asks to run a command outside the
/// sandbox, and the value that asks (codex's names).
pub const SANDBOX_PERMISSIONS: &str = "sandbox_permissions";
pub const REQUIRE_ESCALATED: &str = "require_escalated";
/// The argument that says why, in the model's words.
pub const JUSTIFICATION: &str = "justification";

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
    /// Run this call: the approver did not ask, an earlier
    /// [`Decision::ApproveForSession`] covers it. The pipeline treats it as
    /// [`Decision::Approve`]; the audit log records who decided.
    ApprovedBefore,
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

    /// What the user answers to a plugin that asks for input while its
    /// call runs (an MCP server's elicitation). Declines, saying why, unless
    /// the approver can show a form.
    fn elicit(&self, request: &ElicitationRequest) -> ElicitationAnswer {
        let _ = request;
        ElicitationAnswer::Decline {
            reason: Some("this session's approver cannot show forms".to_owned()),
        }
    }
}

/// Who answers a call's elicitation requests: the session's approver;
/// `None` when there is none (the plugin is then told no).
pub(super) fn elicitation(session: &Session) -> Option<Elicitation> {
    if !session.approval_prompts.mcp_elicitations {
        return Some(Elicitation::new(|_| ElicitationAnswer::Decline {
            reason: Some(
                "approval_policy.granular.mcp_elicitations = false declines without asking"
                    .to_owned(),
            ),
        }));
    }
    let approver = session.approver.clone()?;
    Some(Elicitation::new(move |request| approver.elicit(request)))
}

/// Where an approved call runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Placement {
    /// Under the session's sandbox.
    Sandboxed,
    /// Under danger-full-access: the approver let the model's request
    /// through.
    Unsandboxed,
}

/// Why a call of `spec`'s tool, served by `entry`'s plugin, with
/// `arguments` needs approval under `policy` before it runs, or `None`
/// when it may run without asking.
pub fn needs_approval(
    policy: ApprovalPolicy,
    entry: &Entry,
    spec: &ToolSpec,
    arguments: &Value,
) -> Option<&'static str> {
    match policy {
        ApprovalPolicy::Untrusted => {
            let caps = &entry.manifest.capabilities;
            if caps.exec {
                let safe = shown_command(spec, arguments).is_some_and(|c| safe::is_known_safe(&c));
                (!safe).then_some("it runs commands")
            } else if !caps.fs_write.is_empty() {
                Some("it edits files")
            } else {
                None
            }
        }
        ApprovalPolicy::OnFailure | ApprovalPolicy::OnRequest | ApprovalPolicy::Never => None,
    }
}

/// The approval stage, before the call runs: where it runs, or why it
/// does not.
pub(super) fn check(
    resolved: &Resolved<'_>,
    session: &Session,
    arguments: &Value,
    decisions: &mut Decisions,
) -> Result<Placement, CallError> {
    let tool = &resolved.call.tool;
    if let Some(justification) = escalation(resolved.entry, arguments) {
        return escalate(resolved, session, arguments, justification, decisions);
    }
    let Some(policy) = session.approval_policy else {
        decisions.allow(Stage::Approval, DecidedBy::NoPolicy);
        return Ok(Placement::Sandboxed);
    };
    match mcp::mode(resolved, session) {
        McpToolApproval::Auto => {}
        McpToolApproval::Approve => {
            decisions.allow(Stage::Approval, DecidedBy::Policy);
            return Ok(Placement::Sandboxed);
        }
        mode @ (McpToolApproval::Prompt | McpToolApproval::Writes) => {
            return mcp::ask_first(resolved, session, policy, mode, arguments, decisions);
        }
    }
    let Some(reason) = needs_approval(policy, resolved.entry, resolved.spec, arguments) else {
        decisions.allow(Stage::Approval, DecidedBy::Policy);
        return Ok(Placement::Sandboxed);
    };
    let request = request(resolved, arguments, reason.to_owned());
    let policy = policy.as_str();
    ask(session, &request, decisions, || {
        format!(
            "`{tool}` needs approval under approval_policy `{policy}` ({reason}), and nobody \
             can approve in this session; do not retry it (the user can rerun with `-a never` \
             to allow it)"
        )
    })?;
    Ok(Placement::Sandboxed)
}

/// After a call ran in the sandbox: whether it failed because of the
/// sandbox and the approver lets it run again without (see the module
/// doc).
pub(super) fn approves_retry(
    resolved: &Resolved<'_>,
    session: &Session,
    arguments: &Value,
    output: &ToolOutput,
    decisions: &mut Decisions,
) -> bool {
    if !matches!(
        session.approval_policy,
        Some(ApprovalPolicy::OnFailure | ApprovalPolicy::Untrusted)
    ) || !resolved.entry.manifest.capabilities.exec
        || session.approver.is_none()
        || !session.approval_prompts.sandbox_approval
    {
        return false;
    }
    let Some(ran) = &output.command else {
        return false;
    };
    let text = output.text();
    let Some(line) = wharf_sandbox::denial_line(session.sandbox.policy(), ran.exit_code, &text)
    else {
        return false;
    };
    let command = shown_command(resolved.spec, arguments)
        .map_or_else(|| ran.argv.join(" "), |shown| shown.text());
    let mut request = request(
        resolved,
        arguments,
        format!("`{command}` failed in the sandbox: {line}"),
    );
    request.retry_without_sandbox = true;
    ask(session, &request, decisions, String::new).is_ok()
}

/// The model's justification when `arguments` ask to run a command of
/// `entry`'s plugin outside the sandbox (`None`: they do not).
fn escalation<'a>(entry: &Entry, arguments: &'a Value) -> Option<&'a str> {
    if !entry.manifest.capabilities.exec
        || arguments.get(SANDBOX_PERMISSIONS).and_then(Value::as_str) != Some(REQUIRE_ESCALATED)
    {
        return None;
    }
    Some(
        arguments
            .get(JUSTIFICATION)
            .and_then(Value::as_str)
            .unwrap_or_default(),
    )
}

/// A call that asks to run outside the sandbox: only `on-request` asks
/// the approver; every other policy refuses with a message the model
/// reads.
fn escalate(
    resolved: &Resolved<'_>,
    session: &Session,
    arguments: &Value,
    justification: &str,
    decisions: &mut Decisions,
) -> Result<Placement, CallError> {
    let tool = &resolved.call.tool;
    let (by, message) = match session.approval_policy {
        None => (
            DecidedBy::NoPolicy,
            format!(
                "`{tool}` asks to run outside the sandbox (`{SANDBOX_PERMISSIONS}`), which needs \
                 approval_policy `on-request` and someone to approve it (rerun with `-a \
                 on-request` on a terminal, or with `-s danger-full-access`)"
            ),
        ),
        Some(ApprovalPolicy::Never) => (
            DecidedBy::Policy,
            format!(
                "escalation is not allowed under approval_policy never: run `{tool}` without \
                 `{SANDBOX_PERMISSIONS}`, in the sandbox, or do without it"
            ),
        ),
        Some(policy @ (ApprovalPolicy::Untrusted | ApprovalPolicy::OnFailure)) => {
            let policy = policy.as_str();
            (
                DecidedBy::Policy,
                format!(
                    "approval policy is {policy}; reject command — you should not ask for \
                     escalated permissions if the approval policy is {policy}"
                ),
            )
        }
        Some(ApprovalPolicy::OnRequest) => {
            return escalate_on_request(resolved, session, arguments, justification, decisions);
        }
    };
    decisions.deny(Stage::Approval, by);
    Err(CallError::NotApproved(message))
}

/// [`escalate`] under `on-request`: the approver decides, unless there is
/// no sandbox to leave.
fn escalate_on_request(
    resolved: &Resolved<'_>,
    session: &Session,
    arguments: &Value,
    justification: &str,
    decisions: &mut Decisions,
) -> Result<Placement, CallError> {
    let tool = &resolved.call.tool;
    let policy = ApprovalPolicy::OnRequest.as_str();
    if *session.sandbox.policy() == SandboxPolicy::DangerFullAccess {
        // There is no sandbox to leave.
        decisions.allow(Stage::Approval, DecidedBy::Policy);
        return Ok(Placement::Sandboxed);
    }
    if !session.approval_prompts.sandbox_approval {
        decisions.deny(Stage::Approval, DecidedBy::Policy);
        return Err(CallError::NotApproved(format!(
            "`{tool}` asks to run outside the sandbox, and \
             approval_policy.granular.sandbox_approval = false refuses that without asking; run \
             it in the sandbox (without `{SANDBOX_PERMISSIONS}`) or do without it"
        )));
    }
    let mut request = request(
        resolved,
        arguments,
        "the model asks to run it outside the sandbox".to_owned(),
    );
    request.justification = Some(justification.to_owned());
    ask(session, &request, decisions, || {
        format!(
            "`{tool}` asks to run outside the sandbox under approval_policy `{policy}`, and \
             nobody can approve in this session; run it in the sandbox (without \
             `{SANDBOX_PERMISSIONS}`) or do without it"
        )
    })?;
    Ok(Placement::Unsandboxed)
}

/// The request for a call, with what its tool shows: the command, and the
/// patch of a plugin that edits files.
fn request(resolved: &Resolved<'_>, arguments: &Value, reason: String) -> ApprovalRequest {
    let (call, entry, spec) = (resolved.call, resolved.entry, resolved.spec);
    let patch = spec
        .freeform_argument()
        .filter(|_| !entry.manifest.capabilities.fs_write.is_empty())
        .and_then(|argument| arguments.get(argument))
        .and_then(Value::as_str)
        .map(str::to_owned);
    ApprovalRequest {
        call_id: call.call_id.clone(),
        tool: call.tool.clone(),
        plugin: entry.manifest.name.to_string(),
        args: call.args.clone(),
        reason,
        command: shown_command(spec, arguments).map(|shown| shown.text()),
        patch,
        justification: None,
        retry_without_sandbox: false,
    }
}

/// Asks the session's approver; `Err` with what the model reads when it
/// declines or nobody can approve (`nobody` says it). The answer, and who
/// gave it, goes to `decisions`.
fn ask(
    session: &Session,
    request: &ApprovalRequest,
    decisions: &mut Decisions,
    nobody: impl FnOnce() -> String,
) -> Result<(), CallError> {
    let Some(approver) = &session.approver else {
        decisions.deny(Stage::Approval, DecidedBy::NoApprover);
        return Err(CallError::NotApproved(nobody()));
    };
    let tool = &request.tool;
    let decision = approver.decide(request);
    match decision {
        Decision::Approve | Decision::ApproveForSession => {
            decisions.allow(Stage::Approval, DecidedBy::User);
        }
        Decision::ApprovedBefore => decisions.allow(Stage::Approval, DecidedBy::SessionApproval),
        Decision::Deny { .. } => decisions.deny(Stage::Approval, DecidedBy::User),
    }
    match decision {
        Decision::Approve | Decision::ApproveForSession | Decision::ApprovedBefore => Ok(()),
        Decision::Deny { reason: None } => Err(CallError::NotApproved(format!(
            "the user declined to run `{tool}`"
        ))),
        Decision::Deny {
            reason: Some(reason),
        } => Err(CallError::NotApproved(format!(
            "the user declined to run `{tool}`: {reason}"
        ))),
    }
}
