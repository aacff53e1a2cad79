//! A list to choose from: `/model`, `/approvals`, `/features`, `/resume`
//! and the full-screen resume picker. ↑↓ (or k/j), PageUp/PageDown,
//! Home/End move; Enter chooses, Space toggles, Esc or q closes.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::widgets::{Block, Borders, Clear, Widget};

use crate::text::{sanitize_line, truncate, width};
use crate::theme::Theme;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PickerItem {
    pub label: String,
    /// Shown after the label, dimmed.
    pub detail: String,
    /// The current choice (marked).
    pub current: bool,
}

impl PickerItem {
    pub fn new(label: impl Into<String>, detail: impl Into<String>, current: bool) -> PickerItem {
        PickerItem {
            label: label.into(),
            detail: detail.into(),
            current,
        }
    }
}

/// What a key did to the picker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Picked {
    /// Nothing to act on (moved, or the key is not the picker's).
    None,
    /// Enter on the item at this index.
    Chosen(usize),
    /// Space on the item at this index.
    Toggled(usize),
    Closed,
}

#[derive(Debug, Clone)]
pub struct Picker {
    pub title: String,
    pub items: Vec<PickerItem>,
    pub selected: usize,
    /// A line under the list (a hint, or why a choice was refused).
    pub footer: String,
}

impl Picker {
    pub fn new(title: impl Into<String>, items: Vec<PickerItem>) -> Picker {
        let selected = items.iter().position(|item| item.current).unwrap_or(0);
        Picker {
            title: title.into(),
            items,
            selected,
            footer: "↑↓ select · Enter choose · Esc close".to_owned(),
        }
    }

    pub fn handle_key(&mut self, key: KeyEvent, page: usize) -> Picked {
        let last = self.items.len().saturating_sub(1);
        match key.code {
            KeyCode::Up | KeyCode::Char('k') => self.selected = self.selected.saturating_sub(1),
            KeyCode::Down | KeyCode::Char('j') => self.selected = (self.selected + 1).min(last),
            KeyCode::PageUp => self.selected = self.selected.saturating_sub(page.max(1)),
            KeyCode::PageDown => self.selected = (self.selected + page.max(1)).min(last),
            KeyCode::Home => self.selected = 0,
            KeyCode::End => self.selected = last,
            KeyCode::Enter if !self.items.is_empty() => return Picked::Chosen(self.selected),
            KeyCode::Char(' ') if !self.items.is_empty() => return Picked::Toggled(self.selected),
            KeyCode::Esc | KeyCode::Char('q') => return Picked::Closed,
            KeyCode::Char('c') if key.modifiers.contains(KeyModifiers::CONTROL) => {
                return Picked::Closed;
            }
            _ => {}
        }
        Picked::None
    }

    /// The rows it wants: the items, the footer and the borders.
    pub fn height(&self) -> u16 {
        u16::try_from(self.items.len().max(1) + 4).unwrap_or(u16::MAX)
    }

    /// Draws it as a box over `area` (cleared first).
    pub fn render(&self, area: Rect, buf: &mut Buffer, theme: &Theme) {
        Clear.render(area, buf);
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.border_focused)
            .title(format!(" {} ", self.title))
            .title_style(theme.title);
        let inner = block.inner(area);
        block.render(area, buf);
        if inner.is_empty() {
            return;
        }
        let list_height = inner.height.saturating_sub(2).max(1);
        let list = Rect::new(inner.x, inner.y, inner.width, list_height);
        self.render_list(list, buf, theme);
        if inner.height >= 3 {
            let y = inner.y + inner.height - 1;
            buf.set_stringn(
                inner.x,
                y,
                truncate(&self.footer, usize::from(inner.width)),
                usize::from(inner.width),
                theme.key_hint,
            );
        }
    }

    /// The items, scrolled so the selected one is visible.
    fn render_list(&self, area: Rect, buf: &mut Buffer, theme: &Theme) {
        let area_width = usize::from(area.width);
        if self.items.is_empty() {
            buf.set_stringn(area.x, area.y, "(nothing to choose)", area_width, theme.dim);
            return;
        }
        let visible = usize::from(area.height);
        let first = (self.selected + 1).saturating_sub(visible);
        let labels: Vec<String> = self
            .items
            .iter()
            .map(|item| {
                let current = if item.current { " (current)" } else { "" };
                format!("{}{current}", sanitize_line(&item.label))
            })
            .collect();
        let label_width = labels
            .iter()
            .map(|label| width(label))
            .max()
            .unwrap_or(0)
            .min(area_width / 2);
        for (index, item) in self.items.iter().enumerate().skip(first).take(visible) {
            let y = area.y + u16::try_from(index - first).unwrap_or(0);
            let selected = index == self.selected;
            let style = if selected {
                theme.selected
            } else {
                theme.composer_text
            };
            buf.set_style(Rect::new(area.x, y, area.width, 1), style);
            let marker = if selected { "› " } else { "  " };
            let label = truncate(labels.get(index).map_or("", String::as_str), label_width);
            let pad = label_width.saturating_sub(width(&label));
            let head = format!("{marker}{label}{}", " ".repeat(pad));
            buf.set_stringn(area.x, y, &head, area_width, style);
            let used = width(&head) + 2;
            if item.detail.is_empty() || used >= area_width {
                continue;
            }
            let detail = truncate(&sanitize_line(&item.detail), area_width - used);
            let x = area.x + u16::try_from(used).unwrap_or(0);
            let detail_style = if selected { style } else { theme.dim };
            buf.set_stringn(x, y, &detail, area_width - used, detail_style);
        }
    }
}

/// A box of at most `width`×`height` centred in `area`.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect::new(
        area.x + (area.width - width) / 2,
        area.y + (area.height - height) / 2,
        width,
        height,
    )
}

#[cfg(test)]
mod tests;
