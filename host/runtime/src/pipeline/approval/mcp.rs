//! MCP tools' approval modes (`default_tools_approval_mode`,
//! `[mcp_servers.NAME.tools.TOOL] approval_mode`): whether a call of an MCP
//! tool asks first, beside what the approval policy decides.
//!
//! | mode      | the call                                                      |
//! |-----------|---------------------------------------------------------------|
//! | `auto`    | as the approval policy decides for any tool                   |
//! | `approve` | runs without asking                                           |
//! | `prompt`  | asks the approver first                                       |
//! | `writes`  | as `prompt`: wharf does not read tool annotations, so it cannot tell the tools that only read |
//!
//! Asking is an MCP prompt: codex's granular `mcp_elicitations = false`
//! refuses it without asking, and so does `approval_policy = "never"`.

use crate::plugin::manifest::PluginKind;
use wharf_config::ApprovalPolicy;
use wharf_config::toml_types::McpToolApproval;

use super::super::decisions::{DecidedBy, Decisions};
use super::super::{CallError, Resolved, Session, Stage};
use super::{Placement, ask, request};

/// The approval mode of the call's tool: `auto` unless its plugin is an MCP
/// server's whose configuration names one.
pub(super) fn mode(resolved: &Resolved<'_>, session: &Session) -> McpToolApproval {
    let manifest = &resolved.entry.manifest;
    if manifest.kind != PluginKind::Mcp {
        return McpToolApproval::Auto;
    }
    let Some(approvals) = session.mcp_tool_approvals.get(&manifest.name.to_string()) else {
        return McpToolApproval::Auto;
    };
    // The server's own name of the tool, as the configuration names it.
    let tool = resolved
        .spec
        .display
        .label
        .as_deref()
        .unwrap_or(&resolved.call.tool);
    approvals.mode(tool)
}

/// A call whose mode is `prompt` or `writes`: the approver decides, unless
/// the policy lets no prompt through.
pub(super) fn ask_first(
    resolved: &Resolved<'_>,
    session: &Session,
    policy: ApprovalPolicy,
    mode: McpToolApproval,
    arguments: &serde_json::Value,
    decisions: &mut Decisions,
) -> Result<Placement, CallError> {
    let tool = &resolved.call.tool;
    let mode = mode.as_str();
    let refused = if policy == ApprovalPolicy::Never {
        Some("approval_policy `never` asks nothing")
    } else if !session.approval_prompts.mcp_elicitations {
        Some("approval_policy.granular.mcp_elicitations = false refuses MCP prompts without asking")
    } else {
        None
    };
    if let Some(refused) = refused {
        decisions.deny(Stage::Approval, DecidedBy::Policy);
        return Err(CallError::NotApproved(format!(
            "`{tool}` is set to approval_mode `{mode}` (ask before each call), and {refused}; \
             do not retry it"
        )));
    }
    let reason = format!("its MCP server sets approval_mode `{mode}` for it");
    let request = request(resolved, arguments, reason);
    ask(session, &request, decisions, || {
        format!(
            "`{tool}` is set to approval_mode `{mode}` (ask before each call), and nobody can \
             approve in this session; do not retry it"
        )
    })?;
    Ok(Placement::Sandboxed)
}
