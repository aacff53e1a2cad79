//! How a form looks: a box over the screen with who asks, the message,
//! one row per field (its label, `*` when required, what is entered) with
//! its description below, the error of the last Enter, and the keys.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget};
use wharf_host::ops::{FieldKind, FormField};

use super::{Form, Forms, Input};
use crate::picker::centered;
use crate::text::{sanitize_line, truncate, wrap_text};
use crate::theme::Theme;

const MAX_WIDTH: u16 = 100;
const KEYS: &str = "Enter send · Tab/↑↓ field · Space/←→ choose · Ctrl-D decline · Esc cancel";

impl Forms {
    pub fn render(&mut self, area: Rect, buf: &mut Buffer, theme: &Theme) {
        let waiting = self.queue.len();
        let Some(form) = self.queue.front_mut() else {
            return;
        };
        let width = area
            .width
            .saturating_sub(4)
            .clamp(20.min(area.width), MAX_WIDTH);
        let content_width = usize::from(width.saturating_sub(2)).max(1);
        let (lines, focus_row) = form.lines(theme, content_width);
        let mut footer = Vec::new();
        if let Some(error) = &form.error {
            footer.extend(wrap_text(error, theme.error, content_width, &[], &[]));
        }
        footer.push(Line::styled(truncate(KEYS, content_width), theme.key_hint));
        let wanted = lines.len() + footer.len() + 2;
        let boxed = centered(area, width, u16::try_from(wanted).unwrap_or(u16::MAX));
        Clear.render(boxed, buf);
        let more = match waiting {
            0 | 1 => String::new(),
            n => format!(" ({} more waiting) ", n - 1),
        };
        let who = sanitize_line(&form.request.plugin);
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.border_focused)
            .title(Line::from(vec![
                Span::styled(format!(" {who} asks "), theme.title),
                Span::styled(more, theme.key_hint),
            ]));
        let inner = block.inner(boxed);
        block.render(boxed, buf);
        if inner.is_empty() {
            return;
        }
        let footer_rows = u16::try_from(footer.len()).unwrap_or(0).min(inner.height);
        let rows = usize::from(inner.height - footer_rows);
        // Keep the field with the cursor in view.
        if focus_row < form.scroll {
            form.scroll = focus_row;
        } else if rows > 0 && focus_row >= form.scroll + rows {
            form.scroll = focus_row + 1 - rows;
        }
        let shown: Vec<Line<'static>> = lines.into_iter().skip(form.scroll).take(rows).collect();
        let rows = u16::try_from(rows).unwrap_or(0);
        Paragraph::new(shown).render(Rect::new(inner.x, inner.y, inner.width, rows), buf);
        let footer_area = Rect::new(inner.x, inner.y + rows, inner.width, footer_rows);
        Paragraph::new(footer).render(footer_area, buf);
    }
}

impl Form {
    /// The message and the fields, and the row of the field with the
    /// cursor.
    fn lines(&self, theme: &Theme, width: usize) -> (Vec<Line<'static>>, usize) {
        let mut lines = wrap_text(&self.request.message, theme.info, width, &[], &[]);
        let tool = sanitize_line(&self.request.tool);
        lines.push(Line::styled(format!("  during {tool}"), theme.dim));
        lines.push(Line::default());
        let mut focus_row = 0;
        for (at, (field, input)) in self.request.fields.iter().zip(&self.inputs).enumerate() {
            let focused = at == self.focus;
            if focused {
                focus_row = lines.len();
            }
            let marker = if focused { "› " } else { "  " };
            let required = if field.required { "*" } else { "" };
            let label = format!("{marker}{}{required}: ", sanitize_line(field.label()));
            let label_style = if focused { theme.selected } else { theme.title };
            let mut spans = vec![Span::styled(label, label_style)];
            spans.extend(entered(field, input, focused, theme));
            lines.push(Line::from(spans));
            if let Some(description) = &field.description {
                let shown = truncate(&sanitize_line(description), width.saturating_sub(4));
                lines.push(Line::styled(format!("    {shown}"), theme.dim));
            }
        }
        (lines, focus_row)
    }
}

/// What is entered in `field`, as spans.
fn entered(field: &FormField, input: &Input, focused: bool, theme: &Theme) -> Vec<Span<'static>> {
    let value = theme.composer_text;
    match (input, &field.kind) {
        (Input::Text(text), kind) => {
            let cursor = if focused { "▏" } else { "" };
            let mut spans = vec![Span::styled(
                format!("{}{cursor}", sanitize_line(text)),
                value,
            )];
            if let Some(hint) = hint(kind).filter(|_| text.is_empty()) {
                spans.push(Span::styled(format!(" {hint}"), theme.placeholder));
            }
            spans
        }
        (Input::Flag(flag), _) => {
            let shown = match flag {
                Some(true) => "[x] yes",
                Some(false) => "[ ] no",
                None => "[ ] (not answered)",
            };
            vec![Span::styled(shown, value)]
        }
        (Input::Pick(pick), FieldKind::Choice { choices }) => choices
            .iter()
            .enumerate()
            .map(|(at, choice)| {
                let on = *pick == Some(at);
                let mark = if on { "(•)" } else { "( )" };
                let style = if on { theme.selected } else { value };
                Span::styled(format!("{mark} {} ", sanitize_line(&choice.label)), style)
            })
            .collect(),
        (Input::Picks { picked, cursor }, FieldKind::Choices { choices, .. }) => choices
            .iter()
            .zip(picked)
            .enumerate()
            .map(|(at, (choice, on))| {
                let mark = if *on { "[x]" } else { "[ ]" };
                let style = if focused && at == *cursor {
                    theme.selected
                } else {
                    value
                };
                Span::styled(format!("{mark} {} ", sanitize_line(&choice.label)), style)
            })
            .collect(),
        (Input::Pick(_) | Input::Picks { .. }, _) => Vec::new(),
    }
}

/// What an empty text field expects.
fn hint(kind: &FieldKind) -> Option<String> {
    match kind {
        FieldKind::Text {
            format: Some(format),
            ..
        } => Some(format!("({})", sanitize_line(format))),
        FieldKind::Number { minimum, maximum } | FieldKind::Integer { minimum, maximum } => {
            let what = if matches!(kind, FieldKind::Integer { .. }) {
                "whole number"
            } else {
                "number"
            };
            Some(match (minimum, maximum) {
                (Some(min), Some(max)) => format!("({what}, {min} to {max})"),
                (Some(min), None) => format!("({what}, at least {min})"),
                (None, Some(max)) => format!("({what}, at most {max})"),
                (None, None) => format!("({what})"),
            })
        }
        _ => None,
    }
}
