//! The approval modal: a call waits for the user's answer. Requests queue
//! (parallel calls ask at once) and are shown one at a time; the answer is
//! an [`Op::Approval`](wharf_host::ops::Op::Approval) with the request's
//! call id.

use std::collections::VecDeque;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget};
use wharf_host::ops::{ApprovalRequest, Decision};

use crate::diff::patch_lines;
use crate::picker::centered;
use crate::text::{sanitize_line, truncate, wrap_text};
use crate::theme::Theme;

/// The choices, in the order shown: key, label.
const CHOICES: [(char, &str); 4] = [
    ('y', "Yes, once"),
    ('a', "Yes, for this session"),
    ('n', "No"),
    ('r', "No, and tell the model why"),
];

/// The widest the box gets.
const MAX_WIDTH: u16 = 100;

/// An answer to send: the call id and the decision.
pub type Answer = (String, Decision);

#[derive(Debug, Default)]
pub struct Approvals {
    queue: VecDeque<ApprovalRequest>,
    selected: usize,
    /// The reason being typed after `r`.
    reason: Option<String>,
    /// Lines of the content scrolled away.
    scroll: usize,
    /// Rows of content shown in the last frame (a page).
    page: usize,
}

impl Approvals {
    pub fn push(&mut self, request: ApprovalRequest) {
        self.queue.push_back(request);
    }

    pub fn is_open(&self) -> bool {
        !self.queue.is_empty()
    }

    pub fn pending(&self) -> usize {
        self.queue.len()
    }

    /// Denies every waiting request (the turn is being interrupted).
    pub fn deny_all(&mut self) -> Vec<Answer> {
        let answers = self
            .queue
            .drain(..)
            .map(|request| (request.call_id.to_string(), Decision::Deny { reason: None }))
            .collect();
        self.reset();
        answers
    }

    /// Forgets the requests without answering (the turn ended: nobody waits).
    pub fn clear(&mut self) {
        self.queue.clear();
        self.reset();
    }

    fn reset(&mut self) {
        self.selected = 0;
        self.reason = None;
        self.scroll = 0;
    }

    pub fn handle_paste(&mut self, text: &str) {
        if let Some(reason) = &mut self.reason {
            reason.extend(text.chars().map(|c| if c.is_control() { ' ' } else { c }));
        }
    }

    /// Applies a key; returns the answer when the request is decided.
    pub fn handle_key(&mut self, key: KeyEvent) -> Option<Answer> {
        if let Some(reason) = &mut self.reason {
            match key.code {
                KeyCode::Enter => {
                    let text = reason.trim().to_owned();
                    let reason = (!text.is_empty()).then_some(text);
                    return self.decide(Decision::Deny { reason });
                }
                KeyCode::Esc => self.reason = None,
                KeyCode::Backspace => {
                    reason.pop();
                }
                KeyCode::Char(c) if !key.modifiers.contains(KeyModifiers::CONTROL) => {
                    reason.push(c);
                }
                _ => {}
            }
            return None;
        }
        let choice = match key.code {
            KeyCode::Char(c) => CHOICES
                .iter()
                .position(|(k, _)| *k == c.to_ascii_lowercase()),
            KeyCode::Esc => Some(2),
            KeyCode::Enter => Some(self.selected),
            KeyCode::Up => {
                self.selected = self.selected.saturating_sub(1);
                None
            }
            KeyCode::Down => {
                self.selected = (self.selected + 1).min(CHOICES.len() - 1);
                None
            }
            KeyCode::PageUp => {
                self.scroll = self
                    .scroll
                    .saturating_sub(self.page.saturating_sub(1).max(1));
                None
            }
            KeyCode::PageDown => {
                self.scroll += self.page.saturating_sub(1).max(1);
                None
            }
            _ => None,
        }?;
        match choice {
            0 => self.decide(Decision::Approve),
            1 => self.decide(Decision::ApproveForSession),
            2 => self.decide(Decision::Deny { reason: None }),
            _ => {
                self.selected = 3;
                self.reason = Some(String::new());
                None
            }
        }
    }

    fn decide(&mut self, decision: Decision) -> Option<Answer> {
        let request = self.queue.pop_front()?;
        self.reset();
        Some((request.call_id.to_string(), decision))
    }

    /// Draws the box of the first request, centred in `area`.
    pub fn render(&mut self, area: Rect, buf: &mut Buffer, theme: &Theme) {
        let Some(request) = self.queue.front() else {
            return;
        };
        let width = area
            .width
            .saturating_sub(4)
            .clamp(20.min(area.width), MAX_WIDTH);
        let content_width = usize::from(width.saturating_sub(2)).max(1);
        let content = content_lines(request, theme, content_width);
        let choices = self.choice_lines(theme, content_width);
        let wanted = content.len() + 1 + choices.len() + 2;
        let height = u16::try_from(wanted).unwrap_or(u16::MAX);
        let boxed = centered(area, width, height);
        Clear.render(boxed, buf);
        let more = if self.queue.len() > 1 {
            format!(" ({} more waiting) ", self.queue.len() - 1)
        } else {
            String::new()
        };
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.border_focused)
            .title(Line::from(vec![
                Span::styled(" Allow this call? ", theme.title),
                Span::styled(more, theme.key_hint),
            ]));
        let inner = block.inner(boxed);
        block.render(boxed, buf);
        if inner.is_empty() {
            return;
        }
        let choice_rows = u16::try_from(choices.len()).unwrap_or(0).min(inner.height);
        let content_rows = inner.height - choice_rows;
        let content_area = Rect::new(inner.x, inner.y, inner.width, content_rows);
        let max_scroll = content.len().saturating_sub(usize::from(content_rows));
        self.scroll = self.scroll.min(max_scroll);
        self.page = usize::from(content_rows);
        let shown: Vec<Line<'static>> = content
            .into_iter()
            .skip(self.scroll)
            .take(usize::from(content_rows))
            .collect();
        Paragraph::new(shown).render(content_area, buf);
        if max_scroll > 0 && content_rows > 0 {
            let hint = format!(" PgUp/PgDn {}/{} ", self.scroll, max_scroll);
            let x = boxed
                .right()
                .saturating_sub(u16::try_from(hint.len()).unwrap_or(0) + 1);
            buf.set_stringn(
                x.max(boxed.x),
                boxed.bottom() - 1,
                &hint,
                usize::from(width),
                theme.key_hint,
            );
        }
        let choices_area = Rect::new(inner.x, inner.y + content_rows, inner.width, choice_rows);
        Paragraph::new(choices).render(choices_area, buf);
    }

    fn choice_lines(&self, theme: &Theme, width: usize) -> Vec<Line<'static>> {
        if let Some(reason) = &self.reason {
            let shown = truncate(&sanitize_line(reason), width.saturating_sub(3));
            return vec![
                Line::styled("Tell the model why (Enter sends, Esc back):", theme.title),
                Line::from(vec![
                    Span::styled("› ", theme.border_focused),
                    Span::styled(format!("{shown}▏"), theme.composer_text),
                ]),
            ];
        }
        CHOICES
            .iter()
            .enumerate()
            .map(|(index, (key, label))| {
                let style = if index == self.selected {
                    theme.selected
                } else {
                    theme.composer_text
                };
                let marker = if index == self.selected { "›" } else { " " };
                Line::styled(format!("{marker} {key}  {label}"), style)
            })
            .collect()
    }
}

/// What is asked: the command, the patch or the tool and its arguments,
/// then why.
fn content_lines(request: &ApprovalRequest, theme: &Theme, width: usize) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    let tool = sanitize_line(&request.tool);
    let plugin = sanitize_line(&request.plugin);
    let who = if plugin.is_empty() || plugin == tool {
        tool
    } else {
        format!("{plugin}/{tool}")
    };
    if let Some(command) = &request.command {
        lines.extend(wrap_text(
            command,
            theme.command,
            width,
            &[Span::styled("$ ", theme.command)],
            &[Span::raw("  ")],
        ));
        lines.push(Line::styled(format!("  via {who}"), theme.dim));
    } else if let Some(patch) = &request.patch {
        lines.push(Line::styled(format!("{who} edits files:"), theme.tool_name));
        lines.extend(patch_lines(
            patch,
            theme,
            u16::try_from(width).unwrap_or(u16::MAX),
        ));
    } else {
        lines.push(Line::styled(who, theme.tool_name));
        let args = serde_json::from_str::<serde_json::Value>(&request.args)
            .ok()
            .and_then(|value| serde_json::to_string_pretty(&value).ok())
            .unwrap_or_else(|| request.args.clone());
        lines.extend(wrap_text(
            &args,
            theme.output,
            width,
            &[Span::raw("  ")],
            &[Span::raw("  ")],
        ));
    }
    lines.push(Line::default());
    if request.retry_without_sandbox {
        lines.extend(wrap_text(
            "It failed in the sandbox; approving runs it again without the sandbox.",
            theme.warning,
            width,
            &[],
            &[],
        ));
    }
    if !request.reason.is_empty() {
        lines.extend(wrap_text(
            &request.reason,
            theme.info,
            width,
            &[Span::styled("Reason: ", theme.title)],
            &[],
        ));
    }
    if let Some(justification) = &request.justification {
        lines.extend(wrap_text(
            justification,
            theme.info,
            width,
            &[Span::styled("The model says: ", theme.title)],
            &[],
        ));
    }
    lines
}

#[cfg(test)]
mod tests;
