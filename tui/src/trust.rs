//! The trust prompt, on the first start in a project the user has not
//! decided on: trust it (its `.wharf/config.toml` is read, and wharf may
//! edit files in it) or not (read-only).

use std::path::Path;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Widget, Wrap};

use crate::text::sanitize_line;
use crate::theme::Theme;

const CHOICES: [&str; 2] = ["Yes, trust this project", "No, run read-only"];

/// What a key did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Pending,
    /// Trust (true) or not (false).
    Decided(bool),
    /// Esc, q, Ctrl-C, Ctrl-D.
    Quit,
}

#[derive(Debug, Default)]
pub struct TrustPrompt {
    selected: usize,
}

impl TrustPrompt {
    pub fn handle_key(&mut self, key: KeyEvent) -> Answer {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Char('c' | 'd') if ctrl => Answer::Quit,
            KeyCode::Char('y' | '1') => Answer::Decided(true),
            KeyCode::Char('n' | '2') => Answer::Decided(false),
            KeyCode::Esc | KeyCode::Char('q') => Answer::Quit,
            KeyCode::Up | KeyCode::Char('k') => {
                self.selected = 0;
                Answer::Pending
            }
            KeyCode::Down | KeyCode::Char('j') => {
                self.selected = 1;
                Answer::Pending
            }
            KeyCode::Enter => Answer::Decided(self.selected == 0),
            _ => Answer::Pending,
        }
    }

    pub fn render(&self, project_root: &Path, area: Rect, buf: &mut Buffer, theme: &Theme) {
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.border_focused)
            .title(Span::styled(" Trust this project? ", theme.title));
        let inner = block.inner(area);
        block.render(area, buf);
        let root = sanitize_line(&project_root.display().to_string());
        let mut lines = vec![
            Line::from(vec![
                Span::styled("You are in ", theme.info),
                Span::styled(root, theme.path),
            ]),
            Line::default(),
            Line::styled(
                "Trusting it reads its .wharf/config.toml and lets wharf edit files in it \
                 (workspace-write, asking on request). Not trusting it runs read-only. \
                 Change your mind later with `wharf trust [--revoke]`.",
                theme.info,
            ),
            Line::default(),
        ];
        for (index, label) in CHOICES.iter().enumerate() {
            let selected = index == self.selected;
            let style = if selected {
                theme.selected
            } else {
                theme.composer_text
            };
            let marker = if selected { "›" } else { " " };
            lines.push(Line::styled(
                format!("{marker} {}. {label}", index + 1),
                style,
            ));
        }
        lines.push(Line::default());
        lines.push(Line::styled(
            "↑↓ select · Enter choose · Esc quit",
            theme.key_hint,
        ));
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .render(inner, buf);
    }
}

#[cfg(test)]
mod tests;
