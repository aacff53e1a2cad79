//! The bottom line: model · sandbox · approval policy · context left.

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

/// The line's text; `None` before the session said what it is.
pub fn text(info: Option<&SessionInfo>, context: Context) -> Option<String> {
    let info = info?;
    let mut parts = vec![
        sanitize_line(&info.model),
        sanitize_line(&info.sandbox),
        format!("approval {}", policy_name(info.approval_policy)),
    ];
    let context = Context {
        window: context.window.or(info.context_window),
        ..context
    };
    if let Some(left) = context.percent_left() {
        parts.push(format!("{left}% context left"));
    }
    Some(parts.join(" · "))
}

/// Draws `hint` when given (it wins: "Ctrl-C again to quit"), else the
/// status, cut to the width.
pub fn render(
    area: Rect,
    buf: &mut Buffer,
    theme: &Theme,
    info: Option<&SessionInfo>,
    context: Context,
    hint: Option<&str>,
) {
    let width = usize::from(area.width);
    if width == 0 || area.height == 0 {
        return;
    }
    let (shown, style) = match hint {
        Some(hint) => (hint.to_owned(), theme.key_hint),
        None => (
            text(info, context).unwrap_or_else(|| "starting…".to_owned()),
            theme.status_line,
        ),
    };
    buf.set_stringn(area.x, area.y, truncate(&shown, width), width, style);
}

#[cfg(test)]
mod tests;
