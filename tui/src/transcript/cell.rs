//! The cells of a transcript and how each one lays out at a width.

use std::path::Path;
use std::time::{Duration, Instant};

use ratatui::style::Style;
use ratatui::text::Line;
use wharf_host::agent::{DeltaKind, ItemDetails, PlanStep, Status};

use crate::diff::unified_diff_lines;
use crate::markdown;
use crate::text::{sanitize, span, wrap, wrap_text};
use crate::theme::Theme;

/// How many progress lines a running call shows.
pub(super) const PROGRESS_LINES: usize = 3;

/// One cell of the transcript.
pub(super) enum Cell {
    User(String),
    /// An agent message or reasoning summary, complete or still streaming.
    Text {
        kind: DeltaKind,
        text: String,
        streaming: bool,
    },
    Tool(ToolCell),
    Plan(PlanCell),
    Message {
        level: Level,
        title: String,
        text: String,
    },
}

/// How a message cell looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Level {
    Info,
    /// A notice titled `diff`: its text is a unified diff.
    Diff,
    Warning,
    Error,
}

/// A tool call: its item as last reported, when it started (this session
/// saw its `item.started`), how long it ran, its latest progress.
pub(super) struct ToolCell {
    pub(super) id: String,
    pub(super) details: ItemDetails,
    pub(super) started: Option<Instant>,
    pub(super) ran: Option<Duration>,
    pub(super) progress: Vec<String>,
}

/// A plan as a tool last reported it (laid out in `plan.rs`).
pub(super) struct PlanCell {
    pub(super) explanation: Option<String>,
    pub(super) steps: Vec<PlanStep>,
}

/// What a layout depends on besides the cell.
pub(super) struct Context<'a> {
    pub(super) width: usize,
    pub(super) theme: &'a Theme,
    pub(super) expanded: bool,
    pub(super) now: Instant,
    pub(super) cwd: &'a Path,
}

impl Cell {
    /// Whether the cell shows a running time (it changes every second).
    pub(super) fn is_running(&self) -> bool {
        matches!(self, Cell::Tool(tool) if tool.details.status() == Some(Status::InProgress))
    }

    /// The seconds a running cell shows, so that its layout is redone when
    /// they change; `None` for a cell whose layout depends on nothing else.
    pub(super) fn tick(&self, now: Instant) -> Option<u64> {
        match self {
            Cell::Tool(tool) if self.is_running() => Some(tool.elapsed(now).as_secs()),
            _ => None,
        }
    }

    pub(super) fn layout(&self, cx: &Context<'_>) -> Vec<Line<'static>> {
        let theme = cx.theme;
        match self {
            Cell::User(text) => wrap_text(
                text,
                theme.user_text,
                cx.width,
                &[span("› ", theme.user_marker)],
                &[span("  ", Style::new())],
            ),
            Cell::Text {
                kind: DeltaKind::AgentMessage,
                text,
                ..
            } => markdown::render(text, theme, cx.width),
            Cell::Text {
                kind: DeltaKind::Reasoning,
                text,
                ..
            } => {
                let mut lines = markdown::render(text, theme, cx.width);
                for line in &mut lines {
                    for part in &mut line.spans {
                        part.style = part.style.patch(theme.reasoning);
                    }
                }
                lines
            }
            Cell::Tool(tool) => tool.layout(cx),
            Cell::Plan(plan) => plan.layout(cx),
            Cell::Message { level, title, text } => message(*level, title, text, cx),
        }
    }
}

fn message(level: Level, title: &str, text: &str, cx: &Context<'_>) -> Vec<Line<'static>> {
    let theme = cx.theme;
    let (glyph, style) = match level {
        Level::Info | Level::Diff => ("ℹ ", theme.info_title),
        Level::Warning => ("⚠ ", theme.warning),
        Level::Error => ("■ ", theme.error),
    };
    let body_style = match level {
        Level::Info | Level::Diff => theme.info,
        Level::Warning => theme.warning,
        Level::Error => theme.error,
    };
    let indent = [span("  ", Style::new())];
    let title = sanitize(title).replace('\n', " ");
    let one_line = level != Level::Diff && !text.contains('\n');
    if one_line && !text.is_empty() {
        let first = [span(glyph, style), span(format!("{title}: "), style)];
        return wrap_text(text, body_style, cx.width, &first, &indent);
    }
    let mut lines = wrap(
        &[span(title, style)],
        cx.width,
        &[span(glyph, style)],
        &indent,
    );
    if level == Level::Diff {
        let width = u16::try_from(cx.width.saturating_sub(2)).unwrap_or(u16::MAX);
        for mut line in unified_diff_lines(text, theme, width) {
            line.spans.insert(0, span("  ", Style::new()));
            lines.push(line);
        }
    } else {
        lines.extend(wrap_text(text, body_style, cx.width, &indent, &indent));
    }
    lines
}
