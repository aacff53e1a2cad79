//! The bottom line: by default model · sandbox · approval policy · context
//! left; `[tui] status_line` chooses the items and their order by codex's
//! ids ([`StatusItem::parse`]).

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use wharf_host::ops::{ApprovalPolicy, SessionInfo};

use crate::text::{sanitize_line, truncate};
use crate::theme::Theme;

/// How full the context window is: tokens the last request used, and the
/// window when known.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Context {
    pub used: u64,
    pub window: Option<u64>,
}

impl Context {
    /// The percentage of the window left, when the window is known.
    pub fn percent_left(&self) -> Option<u64> {
        let window = self.window.filter(|w| *w > 0)?;
        let used = self.used.min(window);
        Some((window - used) * 100 / window)
    }
}

pub fn policy_name(policy: ApprovalPolicy) -> &'static str {
    match policy {
        ApprovalPolicy::Untrusted => "untrusted",
        ApprovalPolicy::OnFailure => "on-failure",
        ApprovalPolicy::OnRequest => "on-request",
        ApprovalPolicy::Never => "never",
    }
}

/// One item of the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusItem {
    Model,
    Sandbox,
    Approval,
    /// The sandbox and the approval policy.
    Permissions,
    ContextRemaining,
    ContextUsed,
    /// Tokens the session used so far.
    UsedTokens,
    CurrentDir,
    /// The last part of the working directory.
    ProjectName,
    SessionId,
}

/// The items shown when `[tui] status_line` is not set.
pub const DEFAULT_ITEMS: [StatusItem; 4] = [
    StatusItem::Model,
    StatusItem::Sandbox,
    StatusItem::Approval,
    StatusItem::ContextRemaining,
];

impl StatusItem {
    /// The item codex (or wharf) names `id`; `None` for ids the line cannot
    /// show (codex's rate limits, git branch, version, …).
    pub fn parse(id: &str) -> Option<StatusItem> {
        Some(match id {
            // wharf's session knows the model, not its reasoning effort.
            "model" | "model-name" | "model-with-reasoning" => StatusItem::Model,
            "sandbox" => StatusItem::Sandbox,
            "approval" => StatusItem::Approval,
            "permissions" => StatusItem::Permissions,
            "context-remaining" => StatusItem::ContextRemaining,
            "context-used" => StatusItem::ContextUsed,
            "used-tokens" => StatusItem::UsedTokens,
            "current-dir" => StatusItem::CurrentDir,
            "project-name" | "project-root" => StatusItem::ProjectName,
            "session-id" | "thread-id" => StatusItem::SessionId,
            _ => return None,
        })
    }

    /// `ids` as items, and the ids no item stands for.
    pub fn parse_all(ids: &[String]) -> (Vec<StatusItem>, Vec<String>) {
        let mut items = Vec::new();
        let mut unknown = Vec::new();
        for id in ids {
            match StatusItem::parse(id) {
                Some(item) => items.push(item),
                None => unknown.push(id.clone()),
            }
        }
        (items, unknown)
    }
}

/// What the line shows.
#[derive(Debug, Clone, Copy)]
pub struct Status<'a> {
    /// `None` before the session said what it is.
    pub info: Option<&'a SessionInfo>,
    pub context: Context,
    /// Tokens the session used so far, once known.
    pub total_tokens: Option<u64>,
    pub items: &'a [StatusItem],
}

/// The line's text; `None` before the session said what it is.
pub fn text(status: &Status<'_>) -> Option<String> {
    let info = status.info?;
    let context = Context {
        window: status.context.window.or(info.context_window),
        ..status.context
    };
    let approval = || format!("approval {}", policy_name(info.approval_policy));
    let parts: Vec<String> = status
        .items
        .iter()
        .filter_map(|item| match item {
            StatusItem::Model => Some(sanitize_line(&info.model)),
            StatusItem::Sandbox => Some(sanitize_line(&info.sandbox)),
            StatusItem::Approval => Some(approval()),
            StatusItem::Permissions => {
                Some(format!("{} · {}", sanitize_line(&info.sandbox), approval()))
            }
            StatusItem::ContextRemaining => context
                .percent_left()
                .map(|left| format!("{left}% context left")),
            StatusItem::ContextUsed => context
                .percent_left()
                .map(|left| format!("{}% context used", 100 - left)),
            StatusItem::UsedTokens => status
                .total_tokens
                .map(|tokens| format!("{tokens} tokens used")),
            StatusItem::CurrentDir => Some(sanitize_line(&info.cwd.display().to_string())),
            StatusItem::ProjectName => info
                .cwd
                .file_name()
                .map(|name| sanitize_line(&name.to_string_lossy())),
            StatusItem::SessionId => Some(sanitize_line(&info.session_id)),
        })
        .collect();
    Some(parts.join(" · "))
}

/// Draws `hint` when given (it wins: "Ctrl-C again to quit"), else the
/// status, cut to the width.
pub fn render(
    area: Rect,
    buf: &mut Buffer,
    theme: &Theme,
    status: &Status<'_>,
    hint: Option<&str>,
) {
    let width = usize::from(area.width);
    if width == 0 || area.height == 0 {
        return;
    }
    let (shown, style) = match hint {
        Some(hint) => (hint.to_owned(), theme.key_hint),
        None => (
            text(status).unwrap_or_else(|| "starting…".to_owned()),
            theme.status_line,
        ),
    };
    buf.set_stringn(area.x, area.y, truncate(&shown, width), width, style);
}

#[cfg(test)]
mod tests;
