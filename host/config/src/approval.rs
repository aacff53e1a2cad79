//! codex's granular approvals (`approval_policy = { granular = { … } }`),
//! resolved: which kinds of prompt may reach the user.
//!
//! Each kind maps onto a stage of wharf's tool pipeline:
//!
//! | category              | in wharf                                                     |
//! |-----------------------|--------------------------------------------------------------|
//! | `sandbox_approval`    | the approval stage's sandbox escalation (`require_escalated`) |
//! | `mcp_elicitations`    | an MCP server's elicitations, and MCP tools set to `prompt`  |
//! | `rules`               | nothing: wharf has no execpolicy rules                        |
//! | `skill_approval`      | nothing: wharf has no skills                                  |
//! | `request_permissions` | nothing: wharf has no `request_permissions` tool              |
//!
//! A refused kind is answered "no" without asking, with a message the
//! model reads.

use crate::toml_types::approval::{ApprovalPolicyToml, GranularApprovalToml};

/// Which kinds of approval prompt may be shown; every other prompt of a
/// kind is refused without asking. Outside granular approvals all may.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApprovalPrompts {
    /// A command's request to run outside the sandbox.
    pub sandbox_approval: bool,
    /// codex's execpolicy prompts (none in wharf).
    pub rules: bool,
    /// codex's skill script prompts (none in wharf).
    pub skill_approval: bool,
    /// codex's `request_permissions` prompts (none in wharf).
    pub request_permissions: bool,
    /// MCP elicitations and MCP tool approvals.
    pub mcp_elicitations: bool,
}

impl Default for ApprovalPrompts {
    fn default() -> Self {
        ApprovalPrompts {
            sandbox_approval: true,
            rules: true,
            skill_approval: true,
            request_permissions: true,
            mcp_elicitations: true,
        }
    }
}

impl ApprovalPrompts {
    /// The prompts `approval_policy` allows: all of them, unless it is a
    /// granular table. codex requires `sandbox_approval`, `rules` and
    /// `mcp_elicitations` in the table; wharf takes a missing one as
    /// `true` (what `on-request` does), and the other two as `false`
    /// (codex's defaults).
    pub(crate) fn of(policy: Option<&ApprovalPolicyToml>) -> ApprovalPrompts {
        match policy {
            Some(ApprovalPolicyToml::Granular { granular }) => ApprovalPrompts::granular(granular),
            Some(ApprovalPolicyToml::Named(_)) | None => ApprovalPrompts::default(),
        }
    }

    fn granular(table: &GranularApprovalToml) -> ApprovalPrompts {
        ApprovalPrompts {
            sandbox_approval: table.sandbox_approval.unwrap_or(true),
            rules: table.rules.unwrap_or(true),
            skill_approval: table.skill_approval.unwrap_or(false),
            request_permissions: table.request_permissions.unwrap_or(false),
            mcp_elicitations: table.mcp_elicitations.unwrap_or(true),
        }
    }
}

/// What a granular table's categories that nothing in wharf asks for say,
/// for a warning: `(key, what wharf does instead)`.
pub(crate) fn inert_categories(table: &GranularApprovalToml) -> Vec<(&'static str, &'static str)> {
    [
        (
            "rules",
            table.rules.is_some(),
            "wharf has no execpolicy rules, so no rule asks for approval",
        ),
        (
            "skill_approval",
            table.skill_approval.is_some(),
            "wharf has no skills, so no skill script asks for approval",
        ),
        (
            "request_permissions",
            table.request_permissions.is_some(),
            "wharf has no `request_permissions` tool, so nothing asks this way",
        ),
    ]
    .into_iter()
    .filter(|(_, set, _)| *set)
    .map(|(key, _, instead)| (key, instead))
    .collect()
}
