//! How a tool call cell looks: a state glyph and what was called, the
//! output's tail (folded), a file change's paths and diffs, the latest
//! progress while it runs, and a last line with how it ended.

use std::path::Path;
use std::time::{Duration, Instant};

use ratatui::style::Style;
use ratatui::text::{Line, Span};
use serde_json::Value;
use wharf_host::agent::{ChangeKind, FileUpdate, ItemDetails, Status};

use super::cell::{Context, ToolCell};
use crate::diff::unified_diff_lines;
use crate::text::{sanitize, sanitize_line, span, truncate, wrap, wrap_text};

/// How many output lines a folded cell shows (the last ones).
const FOLDED_OUTPUT: usize = 5;
/// How many diff lines of one file a folded cell shows (the first ones).
const FOLDED_DIFF: usize = 40;
/// How long the arguments shown after a tool's name may be.
const ARGS_MAX: usize = 160;
const SPINNER: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

impl ToolCell {
    pub(super) fn elapsed(&self, now: Instant) -> Duration {
        self.ran
            .or_else(|| {
                self.started
                    .map(|started| now.saturating_duration_since(started))
            })
            .unwrap_or_default()
    }

    pub(super) fn set_status(&mut self, new: Status) {
        match &mut self.details {
            ItemDetails::CommandExecution { status, .. }
            | ItemDetails::FileChange { status, .. }
            | ItemDetails::McpToolCall { status, .. }
            | ItemDetails::ToolCall { status, .. } => *status = new,
            ItemDetails::UserMessage { .. }
            | ItemDetails::AgentMessage { .. }
            | ItemDetails::Reasoning { .. }
            | ItemDetails::WebSearch { .. }
            | ItemDetails::Error { .. } => {}
        }
    }

    pub(super) fn layout(&self, cx: &Context<'_>) -> Vec<Line<'static>> {
        let theme = cx.theme;
        let status = self.details.status().unwrap_or(Status::Completed);
        let (glyph, glyph_style) = match status {
            Status::InProgress => {
                let secs = self.elapsed(cx.now).as_secs();
                let frame = usize::try_from(secs % 10).unwrap_or_default();
                (SPINNER[frame], theme.running)
            }
            Status::Completed => ("✓", theme.done),
            Status::Failed => ("✗", theme.failed),
            Status::Declined => ("⊘", theme.declined),
            Status::Cancelled => ("■", theme.cancelled),
        };
        let head = [span(glyph, glyph_style), span(" ", Style::new())];
        let indent = [span("  ", Style::new())];
        let mut lines = Vec::new();
        let (output, exit_code) = match &self.details {
            ItemDetails::CommandExecution {
                command,
                aggregated_output,
                exit_code,
                ..
            } => {
                let command = sanitize(command);
                for (index, part) in command.split('\n').enumerate() {
                    let (first, text) = if index == 0 {
                        (&head[..], format!("$ {part}"))
                    } else {
                        (&indent[..], format!("  {part}"))
                    };
                    lines.extend(wrap(&[span(text, theme.command)], cx.width, first, &indent));
                }
                (aggregated_output.as_str(), *exit_code)
            }
            ItemDetails::FileChange {
                tool,
                changes,
                output,
                ..
            } => {
                let title = span(sanitize_line(tool), theme.tool_name);
                lines.extend(wrap(&[title], cx.width, &head, &indent));
                for change in changes {
                    lines.extend(self.change(change, cx));
                }
                (output.as_str(), None)
            }
            ItemDetails::McpToolCall {
                server,
                tool,
                arguments,
                output,
                ..
            } => {
                let name = format!("{}/{}", sanitize_line(server), sanitize_line(tool));
                lines.extend(call_line(&name, arguments, &head, cx));
                (output.as_str(), None)
            }
            ItemDetails::ToolCall {
                tool,
                arguments,
                output,
                ..
            } => {
                lines.extend(call_line(&sanitize_line(tool), arguments, &head, cx));
                (output.as_str(), None)
            }
            ItemDetails::UserMessage { .. }
            | ItemDetails::AgentMessage { .. }
            | ItemDetails::Reasoning { .. }
            | ItemDetails::WebSearch { .. }
            | ItemDetails::Error { .. } => ("", None),
        };
        lines.extend(output_lines(output, cx));
        if status == Status::InProgress {
            for message in &self.progress {
                let first = [span("  ↳ ", theme.progress)];
                let rest = [span("    ", Style::new())];
                lines.extend(wrap_text(message, theme.progress, cx.width, &first, &rest));
            }
        }
        lines.push(self.footer(status, exit_code, cx));
        lines
    }

    fn change(&self, change: &FileUpdate, cx: &Context<'_>) -> Vec<Line<'static>> {
        let theme = cx.theme;
        let (letter, style) = match change.kind {
            ChangeKind::Add => ("A ", theme.change_add),
            ChangeKind::Update => ("M ", theme.change_update),
            ChangeKind::Delete => ("D ", theme.change_delete),
        };
        let path = span(relative(&change.path, cx.cwd), theme.path);
        let first = [span("  ", Style::new()), span(letter, style)];
        let mut lines = wrap(&[path], cx.width, &first, &[span("    ", Style::new())]);
        if let Some(diff) = &change.diff {
            let width = u16::try_from(cx.width.saturating_sub(4)).unwrap_or(u16::MAX);
            let mut diff = unified_diff_lines(diff, theme, width);
            let hidden = diff.len().saturating_sub(FOLDED_DIFF);
            if !cx.expanded && hidden > 0 {
                diff.truncate(FOLDED_DIFF);
                diff.push(Line::from(span(
                    format!("… {hidden} more lines (ctrl-o to expand)"),
                    theme.fold_marker,
                )));
            }
            for mut line in diff {
                line.spans.insert(0, span("    ", Style::new()));
                lines.push(line);
            }
        }
        lines
    }

    fn footer(&self, status: Status, exit_code: Option<i32>, cx: &Context<'_>) -> Line<'static> {
        let theme = cx.theme;
        let mut parts: Vec<String> = Vec::new();
        let style = match status {
            Status::InProgress => {
                parts.push("running".to_owned());
                theme.running
            }
            Status::Completed => {
                parts.push("done".to_owned());
                theme.done
            }
            Status::Failed => {
                parts.push("failed".to_owned());
                theme.failed
            }
            Status::Declined => {
                parts.push("denied".to_owned());
                theme.declined
            }
            Status::Cancelled => {
                parts.push("cancelled".to_owned());
                theme.cancelled
            }
        };
        if let Some(code) = exit_code {
            parts.push(format!("exit {code}"));
        }
        if self.started.is_some() && !matches!(status, Status::Declined) {
            parts.push(duration(self.elapsed(cx.now)));
        }
        Line::from(vec![
            span("  └ ", theme.gutter),
            span(parts.join(" · "), style),
        ])
    }
}

/// `name(args…)`: the arguments as `key: value` pairs, cut short.
fn call_line(
    name: &str,
    arguments: &Value,
    head: &[Span<'static>],
    cx: &Context<'_>,
) -> Vec<Line<'static>> {
    let theme = cx.theme;
    let args = match arguments {
        Value::Object(map) => map
            .iter()
            .map(|(key, value)| format!("{key}: {value}"))
            .collect::<Vec<_>>()
            .join(", "),
        Value::Null => String::new(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    let args = truncate(&sanitize_line(&args), ARGS_MAX);
    let spans = [
        span(name, theme.tool_name),
        span(format!("({args})"), theme.dim),
    ];
    wrap(&spans, cx.width, head, &[span("  ", Style::new())])
}

/// The output under a `│` gutter: its last lines when folded, behind a
/// marker saying how many are hidden; `[image…]` lines as placeholders.
fn output_lines(output: &str, cx: &Context<'_>) -> Vec<Line<'static>> {
    let theme = cx.theme;
    let clean = sanitize(output);
    let clean = clean.trim_end_matches('\n');
    if clean.is_empty() {
        return Vec::new();
    }
    let all: Vec<&str> = clean.split('\n').collect();
    let hidden = if cx.expanded {
        0
    } else {
        all.len().saturating_sub(FOLDED_OUTPUT)
    };
    let gutter = [span("  │ ", theme.gutter)];
    let mut lines = Vec::new();
    if hidden > 0 {
        let marker = format!("… {hidden} more lines (ctrl-o to expand)");
        lines.push(Line::from(vec![
            span("  │ ", theme.gutter),
            span(marker, theme.fold_marker),
        ]));
    }
    for text in &all[hidden..] {
        let trimmed = text.trim();
        let part = if trimmed.starts_with("[image") && trimmed.ends_with(']') {
            span(format!("▣ {trimmed}"), theme.placeholder)
        } else {
            span(*text, theme.output)
        };
        lines.extend(wrap(&[part], cx.width, &gutter, &gutter));
    }
    lines
}

/// `path` relative to the working directory when it is inside it.
fn relative(path: &str, cwd: &Path) -> String {
    let shown = Path::new(path)
        .strip_prefix(cwd)
        .ok()
        .filter(|rest| !rest.as_os_str().is_empty())
        .map_or_else(|| path.to_owned(), |rest| rest.display().to_string());
    sanitize_line(&shown)
}

fn duration(elapsed: Duration) -> String {
    let secs = elapsed.as_secs();
    if secs < 60 {
        format!("{secs}s")
    } else {
        format!("{}m {:02}s", secs / 60, secs % 60)
    }
}
