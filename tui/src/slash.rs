//! Slash commands: the list, the popup that filters it while the user types
//! `/…` at the start of the composer, and parsing what was typed.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::widgets::{Block, Borders, Clear, Widget};

use crate::text::truncate;
use crate::theme::Theme;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Model,
    Approvals,
    Status,
    Features,
    Plugins,
    Mcp,
    Diff,
    Compact,
    New,
    Resume,
    Quit,
    Exit,
}

/// Every command, in the order the popup lists them.
pub const COMMANDS: &[(Command, &str, &str)] = &[
    (Command::Model, "model", "choose the model"),
    (
        Command::Approvals,
        "approvals",
        "choose when wharf asks before a call",
    ),
    (
        Command::Status,
        "status",
        "show the session's configuration and usage",
    ),
    (
        Command::Features,
        "features",
        "turn features on or off for this session",
    ),
    (
        Command::Plugins,
        "plugins",
        "list the plugins and their tools",
    ),
    (Command::Mcp, "mcp", "list the MCP servers"),
    (
        Command::Diff,
        "diff",
        "show the working tree's changes (git diff)",
    ),
    (
        Command::Compact,
        "compact",
        "summarize the conversation to free the context window",
    ),
    (Command::New, "new", "start a new conversation"),
    (Command::Resume, "resume", "continue a saved session"),
    (Command::Quit, "quit", "end the session"),
    (Command::Exit, "exit", "end the session"),
];

/// The most rows the popup shows.
const MAX_ROWS: usize = 8;

/// What was typed: `/name rest` → the name, when the text is a command
/// line (starts with `/`).
pub fn command_name(text: &str) -> Option<&str> {
    let rest = text.strip_prefix('/')?;
    Some(rest.split_whitespace().next().unwrap_or(""))
}

/// The command called `name`.
pub fn find(name: &str) -> Option<Command> {
    COMMANDS
        .iter()
        .find(|(_, n, _)| *n == name)
        .map(|(command, _, _)| *command)
}

/// The popup: shown while the composer holds `/` and a partial name.
#[derive(Debug, Default)]
pub struct Popup {
    selected: usize,
}

impl Popup {
    /// The commands matching what is typed, when the popup shows: the text
    /// starts with `/` and holds no whitespace yet.
    pub fn matches(text: &str) -> Option<Vec<(Command, &'static str, &'static str)>> {
        let prefix = text.strip_prefix('/')?;
        if prefix.contains(char::is_whitespace) {
            return None;
        }
        Some(
            COMMANDS
                .iter()
                .filter(|(_, name, _)| name.starts_with(prefix))
                .copied()
                .collect(),
        )
    }

    /// The selected command among the matches of `text`.
    pub fn selected(&self, text: &str) -> Option<(Command, &'static str)> {
        let matches = Popup::matches(text)?;
        let index = self.selected.min(matches.len().checked_sub(1)?);
        matches
            .get(index)
            .map(|(command, name, _)| (*command, *name))
    }

    pub fn up(&mut self) {
        self.selected = self.selected.saturating_sub(1);
    }

    pub fn down(&mut self, text: &str) {
        let count = Popup::matches(text).map_or(0, |m| m.len());
        if self.selected + 1 < count {
            self.selected += 1;
        }
    }

    /// The text changed: start again at the first match.
    pub fn reset(&mut self) {
        self.selected = 0;
    }

    /// The rows the popup takes for `text` (borders included), 0 when hidden.
    pub fn height(text: &str) -> u16 {
        Popup::matches(text).map_or(0, |m| {
            u16::try_from(m.len().clamp(1, MAX_ROWS) + 2).unwrap_or(0)
        })
    }

    pub fn render(&self, text: &str, area: Rect, buf: &mut Buffer, theme: &Theme) {
        let Some(matches) = Popup::matches(text) else {
            return;
        };
        Clear.render(area, buf);
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.border);
        let inner = block.inner(area);
        block.render(area, buf);
        if inner.is_empty() {
            return;
        }
        if matches.is_empty() {
            buf.set_stringn(
                inner.x,
                inner.y,
                "no matching command",
                usize::from(inner.width),
                theme.dim,
            );
            return;
        }
        let selected = self.selected.min(matches.len() - 1);
        let visible = usize::from(inner.height);
        let first = (selected + 1).saturating_sub(visible);
        let name_width = 12;
        for (offset, (_, name, description)) in matches.iter().enumerate().skip(first).take(visible)
        {
            let y = inner.y + u16::try_from(offset - first).unwrap_or(0);
            let row = Rect::new(inner.x, y, inner.width, 1);
            let style = if offset == selected {
                theme.selected
            } else {
                theme.composer_text
            };
            buf.set_style(row, style);
            let width = usize::from(inner.width);
            let label = format!("/{name:<name_width$}");
            buf.set_stringn(row.x, y, &label, width, style);
            let rest = width.saturating_sub(label.len() + 1);
            if rest > 0 {
                let x = row.x + u16::try_from(label.len() + 1).unwrap_or(0);
                let dim = if offset == selected { style } else { theme.dim };
                buf.set_stringn(x, y, truncate(description, rest), rest, dim);
            }
        }
    }
}

#[cfg(test)]
mod tests;
