//! The prompt the user writes: multi-line text with a cursor, the history
//! of submitted prompts, and its layout (hard-wrapped to the width, at most
//! [`MAX_ROWS`] rows shown, scrolled to the cursor).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};
use unicode_width::UnicodeWidthChar;

use crate::theme::Theme;

/// The most rows of text the composer grows to.
pub const MAX_ROWS: usize = 8;

const PROMPT: &str = "› ";
const PROMPT_WIDTH: u16 = 2;
const PLACEHOLDER: &str = "Ask wharf to do anything";
/// How many columns a tab takes (it stays a tab in the text).
const TAB_WIDTH: usize = 4;

#[derive(Debug, Default)]
pub struct Composer {
    text: String,
    /// A byte index into `text`, on a char boundary.
    cursor: usize,
    history: Vec<String>,
    /// The history entry shown, while browsing it.
    browsing: Option<usize>,
    /// What was typed before browsing started.
    draft: String,
}

/// One visual row: the byte range of `text` it shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Row {
    start: usize,
    end: usize,
}

impl Composer {
    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    pub fn clear(&mut self) {
        self.text.clear();
        self.cursor = 0;
        self.browsing = None;
    }

    /// Replaces the text; the cursor goes to its end.
    pub fn set_text(&mut self, text: &str) {
        self.text = clean(text);
        self.cursor = self.text.len();
    }

    /// Inserts `text` at the cursor: newlines kept (`\r\n` and `\r` become
    /// `\n`, as terminals send pasted line ends), tabs kept, other control
    /// characters dropped.
    pub fn insert_str(&mut self, text: &str) {
        let text = clean(text);
        self.text.insert_str(self.cursor, &text);
        self.cursor += text.len();
    }

    pub fn insert_char(&mut self, c: char) {
        if c == '\n' || c == '\t' || !c.is_control() {
            self.text.insert(self.cursor, c);
            self.cursor += c.len_utf8();
        }
    }

    /// Takes the text to send: `None` when it is blank. It joins the
    /// history (not twice in a row) and the composer is emptied.
    pub fn submit(&mut self) -> Option<String> {
        if self.text.trim().is_empty() {
            return None;
        }
        let text = std::mem::take(&mut self.text);
        self.cursor = 0;
        self.browsing = None;
        self.draft.clear();
        self.remember(&text);
        Some(text)
    }

    /// Adds `text` to the history (a prompt sent another way).
    pub fn remember(&mut self, text: &str) {
        if self.history.last().map(String::as_str) != Some(text) {
            self.history.push(text.to_owned());
        }
    }

    /// Applies an editing or movement key; false when the key is not one.
    pub fn handle_key(&mut self, key: KeyEvent) -> bool {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let alt = key.modifiers.contains(KeyModifiers::ALT);
        match key.code {
            KeyCode::Enter
                if key
                    .modifiers
                    .intersects(KeyModifiers::SHIFT | KeyModifiers::ALT) =>
            {
                self.insert_char('\n');
            }
            KeyCode::Char('j') if ctrl => self.insert_char('\n'),
            KeyCode::Char('a') if ctrl => self.cursor = self.line_start(),
            KeyCode::Char('e') if ctrl => self.cursor = self.line_end(),
            KeyCode::Char('b') if alt => self.cursor = self.word_left(),
            KeyCode::Char('f') if alt => self.cursor = self.word_right(),
            KeyCode::Char('u') if ctrl => {
                let start = self.line_start();
                self.text.drain(start..self.cursor);
                self.cursor = start;
            }
            KeyCode::Char('k') if ctrl => {
                let end = self.line_end();
                self.text.drain(self.cursor..end);
            }
            KeyCode::Char(c) if !ctrl && !alt => self.insert_char(c),
            KeyCode::Tab => self.insert_char('\t'),
            KeyCode::Backspace => {
                if let Some(prev) = self.prev_boundary() {
                    self.text.drain(prev..self.cursor);
                    self.cursor = prev;
                }
            }
            KeyCode::Delete => {
                if let Some(next) = self.next_boundary() {
                    self.text.drain(self.cursor..next);
                }
            }
            KeyCode::Left if ctrl || alt => self.cursor = self.word_left(),
            KeyCode::Right if ctrl || alt => self.cursor = self.word_right(),
            KeyCode::Left => self.cursor = self.prev_boundary().unwrap_or(self.cursor),
            KeyCode::Right => self.cursor = self.next_boundary().unwrap_or(self.cursor),
            KeyCode::Home => self.cursor = self.line_start(),
            KeyCode::End => self.cursor = self.line_end(),
            KeyCode::Up => self.up(),
            KeyCode::Down => self.down(),
            _ => return false,
        }
        true
    }

    /// ↑: the line above, or on the first line the previous prompt.
    fn up(&mut self) {
        let start = self.line_start();
        if start > 0 {
            let column = self.text[start..self.cursor].chars().count();
            let above = self.text[..start - 1].rfind('\n').map_or(0, |i| i + 1);
            self.cursor = column_in(&self.text, above, start - 1, column);
            return;
        }
        let index = match self.browsing {
            Some(0) => return,
            Some(index) => index - 1,
            None if self.history.is_empty() => return,
            None => {
                self.draft = std::mem::take(&mut self.text);
                self.history.len() - 1
            }
        };
        self.show_history(index);
    }

    /// ↓: the line below, or on the last line the next prompt (then what
    /// was being written).
    fn down(&mut self) {
        let end = self.line_end();
        if end < self.text.len() {
            let column = self.text[self.line_start()..self.cursor].chars().count();
            let below_end = self.text[end + 1..]
                .find('\n')
                .map_or(self.text.len(), |i| end + 1 + i);
            self.cursor = column_in(&self.text, end + 1, below_end, column);
            return;
        }
        let Some(index) = self.browsing else { return };
        if index + 1 < self.history.len() {
            self.show_history(index + 1);
        } else {
            self.browsing = None;
            self.text = std::mem::take(&mut self.draft);
            self.cursor = self.text.len();
        }
    }

    fn show_history(&mut self, index: usize) {
        self.browsing = Some(index);
        self.text = self.history.get(index).cloned().unwrap_or_default();
        self.cursor = self.text.len();
    }

    fn line_start(&self) -> usize {
        self.text[..self.cursor].rfind('\n').map_or(0, |i| i + 1)
    }

    fn line_end(&self) -> usize {
        self.text[self.cursor..]
            .find('\n')
            .map_or(self.text.len(), |i| self.cursor + i)
    }

    fn prev_boundary(&self) -> Option<usize> {
        self.text[..self.cursor]
            .char_indices()
            .next_back()
            .map(|(i, _)| i)
    }

    fn next_boundary(&self) -> Option<usize> {
        self.text[self.cursor..]
            .chars()
            .next()
            .map(|c| self.cursor + c.len_utf8())
    }

    fn word_left(&self) -> usize {
        let before = &self.text[..self.cursor];
        let trimmed = before.trim_end();
        trimmed.rfind(char::is_whitespace).map_or(0, |i| {
            i + trimmed[i..].chars().next().map_or(1, char::len_utf8)
        })
    }

    fn word_right(&self) -> usize {
        let after = &self.text[self.cursor..];
        let skip = after.len() - after.trim_start().len();
        let rest = &after[skip..];
        let word = rest.find(char::is_whitespace).unwrap_or(rest.len());
        self.cursor + skip + word
    }

    /// The rows `text` takes at `width` columns of text.
    fn rows(&self, width: usize) -> Vec<Row> {
        let width = width.max(1);
        let mut rows = Vec::new();
        let mut start = 0;
        let mut used = 0;
        for (i, c) in self.text.char_indices() {
            if c == '\n' {
                rows.push(Row { start, end: i });
                start = i + 1;
                used = 0;
                continue;
            }
            let w = char_width(c);
            if used + w > width && used > 0 {
                rows.push(Row { start, end: i });
                start = i;
                used = 0;
            }
            used += w;
        }
        rows.push(Row {
            start,
            end: self.text.len(),
        });
        rows
    }

    /// The row and column of the cursor among `rows`.
    fn cursor_cell(&self, rows: &[Row]) -> (usize, usize) {
        for (index, row) in rows.iter().enumerate() {
            let last_of_line = rows.get(index + 1).is_none_or(|next| next.start != row.end);
            let inside = self.cursor >= row.start
                && (self.cursor < row.end || (self.cursor == row.end && last_of_line));
            if inside {
                let column = self.text[row.start..self.cursor]
                    .chars()
                    .map(char_width)
                    .sum();
                return (index, column);
            }
        }
        (rows.len().saturating_sub(1), 0)
    }

    /// The rows of text it needs at `width` columns (the prompt included),
    /// at most [`MAX_ROWS`].
    pub fn height(&self, width: u16) -> u16 {
        let rows = self.rows(text_width(width)).len().clamp(1, MAX_ROWS);
        u16::try_from(rows).unwrap_or(1)
    }

    /// Draws the text into `area`; returns where the terminal's cursor goes.
    pub fn render(&self, area: Rect, buf: &mut Buffer, theme: &Theme) -> Option<Position> {
        if area.is_empty() {
            return None;
        }
        let width = text_width(area.width);
        let rows = self.rows(width);
        let (cursor_row, cursor_column) = self.cursor_cell(&rows);
        let visible = usize::from(area.height);
        let first = (cursor_row + 1).saturating_sub(visible);
        for (offset, row) in rows.iter().skip(first).take(visible).enumerate() {
            let y = area.y + u16::try_from(offset).unwrap_or(0);
            let prompt = if first + offset == 0 { PROMPT } else { "  " };
            buf.set_stringn(
                area.x,
                y,
                prompt,
                usize::from(area.width),
                theme.border_focused,
            );
            let mut shown = String::new();
            for c in self.text[row.start..row.end].chars() {
                if c == '\t' {
                    shown.extend(std::iter::repeat_n(' ', TAB_WIDTH));
                } else {
                    shown.push(c);
                }
            }
            buf.set_stringn(area.x + PROMPT_WIDTH, y, &shown, width, theme.composer_text);
        }
        if self.text.is_empty() {
            buf.set_stringn(
                area.x + PROMPT_WIDTH,
                area.y,
                PLACEHOLDER,
                width,
                theme.composer_placeholder,
            );
        }
        let row = u16::try_from(cursor_row - first).ok()?;
        let column = u16::try_from(cursor_column).ok()?;
        Some(Position::new(
            area.x + PROMPT_WIDTH + column.min(area.width.saturating_sub(PROMPT_WIDTH + 1)),
            area.y + row,
        ))
    }
}

/// Columns for text: the prompt's and one for a cursor after the last
/// character are taken.
fn text_width(width: u16) -> usize {
    usize::from(width.saturating_sub(PROMPT_WIDTH + 1)).max(1)
}

fn char_width(c: char) -> usize {
    if c == '\t' {
        TAB_WIDTH
    } else {
        c.width().unwrap_or(0)
    }
}

/// The byte index of `column` chars into `text[start..end]`, or `end`.
fn column_in(text: &str, start: usize, end: usize, column: usize) -> usize {
    text[start..end]
        .char_indices()
        .nth(column)
        .map_or(end, |(i, _)| start + i)
}

/// Pasted text as it is typed: line ends as `\n`, tabs kept, no other
/// control characters.
fn clean(text: &str) -> String {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    text.chars()
        .filter(|&c| c == '\n' || c == '\t' || !c.is_control())
        .collect()
}

#[cfg(test)]
mod tests;
