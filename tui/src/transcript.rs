//! The transcript: the session's events folded into cells (one per item,
//! plus the streaming text and the TUI's own notes), laid out at the
//! screen's width and drawn from the bottom.
//!
//! Drawing must stay cheap however long the session gets: a cell's lines
//! are computed once per width, fold state and theme and kept; only the
//! cells whose look changes by themselves (a running call's seconds) or
//! that changed (streamed text) are laid out again. Where each cell starts
//! is kept as prefix sums, so a frame finds its first visible cell by
//! binary search and draws only the rows it shows.

mod cell;
mod plan;
mod tool;

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Line;
use wharf_host::agent::{CompactTrigger, DeltaKind, Event, Item, ItemDetails, Status};

use cell::{Cell, Context, Level, PROGRESS_LINES, PlanCell, ToolCell};

use crate::theme::Theme;

/// Where the view is: `from_bottom` rows above the end (0 follows it).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Scroll {
    pub from_bottom: usize,
}

impl Scroll {
    /// Scrolls `n` rows back (the transcript's `render` stops at the top).
    pub fn up(&mut self, n: usize) {
        self.from_bottom = self.from_bottom.saturating_add(n);
    }

    /// Scrolls `n` rows towards the end.
    pub fn down(&mut self, n: usize) {
        self.from_bottom = self.from_bottom.saturating_sub(n);
    }

    /// Follows the end again.
    pub fn to_end(&mut self) {
        self.from_bottom = 0;
    }
}

/// A cell and its lines at the last layout.
struct Entry {
    cell: Cell,
    /// `None`: to be laid out. The tick is the running time it showed.
    lines: Option<(Option<u64>, Vec<Line<'static>>)>,
}

impl Entry {
    fn new(cell: Cell) -> Entry {
        Entry { cell, lines: None }
    }
}

/// The width, fold state and theme the cached lines are for.
#[derive(PartialEq)]
struct LayoutKey {
    width: usize,
    expanded: bool,
    theme: Theme,
}

/// Every cell of the session so far, and their cached layout.
pub struct Transcript {
    cwd: PathBuf,
    entries: Vec<Entry>,
    /// The entry of each tool call's item id.
    calls: HashMap<String, usize>,
    expanded: bool,
    key: Option<LayoutKey>,
    /// Row where each entry starts (its lines, then a blank row).
    starts: Vec<usize>,
    total: usize,
    /// The total and width of the last frame, to keep a scrolled-back view
    /// in place while rows are added below it.
    last_frame: Option<(usize, usize)>,
    last_now: Option<Instant>,
}

impl Transcript {
    /// An empty transcript; file paths under `cwd` are shown relative to it.
    pub fn new(cwd: PathBuf) -> Transcript {
        Transcript {
            cwd,
            entries: Vec::new(),
            calls: HashMap::new(),
            expanded: false,
            key: None,
            starts: Vec::new(),
            total: 0,
            last_frame: None,
            last_now: None,
        }
    }

    /// Folds one event in.
    pub fn apply(&mut self, event: &Event, now: Instant) {
        self.last_now = Some(now);
        match event {
            Event::ItemStarted { item } | Event::ItemUpdated { item } => self.started(item, now),
            Event::ItemCompleted { item } => self.completed(item, now),
            Event::ItemProgress {
                item_id, message, ..
            } => {
                if let Some(entry) = self.call(item_id) {
                    if let Cell::Tool(tool) = &mut entry.cell {
                        tool.progress.push(message.clone());
                        let extra = tool.progress.len().saturating_sub(PROGRESS_LINES);
                        tool.progress.drain(..extra);
                    }
                    entry.lines = None;
                }
            }
            Event::ItemDelta { kind, delta } => match self.streaming(*kind) {
                Some(index) => {
                    let entry = &mut self.entries[index];
                    if let Cell::Text { text, .. } = &mut entry.cell {
                        text.push_str(delta);
                    }
                    entry.lines = None;
                }
                None => self.push(Cell::Text {
                    kind: *kind,
                    text: delta.clone(),
                    streaming: true,
                }),
            },
            Event::ResponseStarted => {
                let before = self.entries.len();
                self.entries.retain(|entry| {
                    !matches!(
                        entry.cell,
                        Cell::Text {
                            streaming: true,
                            ..
                        }
                    )
                });
                if self.entries.len() != before {
                    self.reindex();
                }
            }
            Event::TurnCompleted { .. } => self.end_turn(now),
            Event::TurnFailed { error } => {
                self.end_turn(now);
                self.message(Level::Error, "turn failed", &error.message);
            }
            Event::Error { message } => self.message(Level::Warning, "warning", message),
            Event::Notice {
                title,
                text,
                is_error,
            } => {
                let level = match (*is_error, title.as_str()) {
                    (true, _) => Level::Error,
                    (false, "diff") => Level::Diff,
                    (false, _) => Level::Info,
                };
                self.message(level, title, text);
            }
            Event::ThreadStarted { .. }
            | Event::TurnStarted
            | Event::TokenCount { .. }
            | Event::ApprovalRequested { .. }
            | Event::ElicitationRequested { .. }
            | Event::SessionConfigured { .. }
            | Event::SessionList { .. }
            | Event::SessionEnded => {}
            Event::Compacted {
                trigger,
                context_before,
            } => {
                let why = match trigger {
                    CompactTrigger::Auto => {
                        format!("the context window filled up ({context_before} tokens used)")
                    }
                    CompactTrigger::Manual => "as asked (/compact)".to_owned(),
                };
                let text = format!(
                    "{why}: the model's summary of the conversation and your recent messages \
                     replace it from here on"
                );
                self.message(Level::Info, "context compacted", &text);
            }
            Event::PlanUpdated { explanation, plan } => self.push(Cell::Plan(PlanCell {
                explanation: explanation.clone(),
                steps: plan.clone(),
            })),
        }
    }

    /// A cell the TUI made (`/status`, `/help`, a refused command).
    pub fn push_local(&mut self, title: &str, text: &str, is_error: bool) {
        let level = if is_error { Level::Error } else { Level::Info };
        self.message(level, title, text);
    }

    /// Forgets every cell (a new thread, a resumed session).
    pub fn clear(&mut self) {
        self.entries.clear();
        self.calls.clear();
        self.starts.clear();
        self.total = 0;
        self.last_frame = None;
    }

    /// Draws the rows `scroll` shows into `area`; `scroll` is kept within
    /// the transcript, and a view scrolled back stays on the same rows
    /// while new ones arrive below.
    pub fn render(
        &mut self,
        area: Rect,
        buf: &mut Buffer,
        scroll: &mut Scroll,
        theme: &Theme,
        now: Instant,
    ) {
        self.last_now = Some(now);
        let width = usize::from(area.width);
        if scroll.from_bottom == 0 {
            // Following the end: only the cells on screen are laid out.
            self.render_end(area, buf, theme, now);
            return;
        }
        let total = self.layout(width, theme, now);
        if let Some((last_total, last_width)) = self.last_frame
            && scroll.from_bottom > 0
            && last_width == width
            && total > last_total
        {
            scroll.from_bottom += total - last_total;
        }
        self.last_frame = Some((total, width));
        let height = usize::from(area.height);
        scroll.from_bottom = scroll.from_bottom.min(total.saturating_sub(height));
        let top = total.saturating_sub(height + scroll.from_bottom);
        let mut index = self
            .starts
            .partition_point(|&start| start <= top)
            .saturating_sub(1);
        for (row, y) in (top..total.min(top + height)).zip(area.top()..area.bottom()) {
            while index + 1 < self.entries.len() && self.starts[index + 1] <= row {
                index += 1;
            }
            let offset = row - self.starts[index];
            if let Some((_, lines)) = &self.entries[index].lines
                && let Some(line) = lines.get(offset)
            {
                buf.set_line(area.x, y, line, area.width);
            }
        }
    }

    /// Draws the last rows into `area`, laying out cells from the last one
    /// back only until the area is full: a frame after a resize costs the
    /// cells on screen, not the whole transcript (the others are laid out
    /// when the view scrolls back).
    fn render_end(&mut self, area: Rect, buf: &mut Buffer, theme: &Theme, now: Instant) {
        let width = usize::from(area.width);
        self.rekey(width, theme);
        self.last_frame = None;
        let height = usize::from(area.height);
        let cx = Context {
            width: width.max(1),
            theme,
            expanded: self.expanded,
            now,
            cwd: &self.cwd,
        };
        // (entry, line) of the rows shown, bottom first.
        let mut rows: Vec<(usize, usize)> = Vec::with_capacity(height);
        for index in (0..self.entries.len()).rev() {
            if rows.len() >= height {
                break;
            }
            let entry = &mut self.entries[index];
            let tick = entry.cell.tick(now);
            let fresh = matches!(&entry.lines, Some((shown, _)) if *shown == tick);
            if !fresh {
                entry.lines = Some((tick, entry.cell.layout(&cx)));
            }
            let count = entry.lines.as_ref().map_or(0, |(_, lines)| lines.len());
            if count == 0 {
                continue;
            }
            if !rows.is_empty() {
                // The blank row between two cells.
                rows.push((usize::MAX, 0));
            }
            for line in (0..count).rev() {
                if rows.len() >= height {
                    break;
                }
                rows.push((index, line));
            }
        }
        for ((index, line), y) in rows.iter().rev().zip(area.top()..area.bottom()) {
            if let Some(entry) = self.entries.get(*index)
                && let Some((_, lines)) = &entry.lines
                && let Some(line) = lines.get(*line)
            {
                buf.set_line(area.x, y, line, area.width);
            }
        }
    }

    /// Drops every cached layout when the width, the fold state or the
    /// theme changed since the last one.
    fn rekey(&mut self, width: usize, theme: &Theme) {
        let key_matches = self.key.as_ref().is_some_and(|key| {
            key.width == width && key.expanded == self.expanded && key.theme == *theme
        });
        if !key_matches {
            for entry in &mut self.entries {
                entry.lines = None;
            }
            self.key = Some(LayoutKey {
                width,
                expanded: self.expanded,
                theme: theme.clone(),
            });
        }
    }

    /// How many rows the transcript takes at `width`.
    pub fn line_count(&mut self, width: u16, theme: &Theme) -> usize {
        let now = self.last_now.unwrap_or_else(Instant::now);
        self.layout(usize::from(width), theme, now)
    }

    /// Whether a cell shows a running time (redraw every second).
    pub fn is_running(&self) -> bool {
        self.entries.iter().any(|entry| entry.cell.is_running())
    }

    /// Expands every folded output, or folds them again (Ctrl-O).
    pub fn toggle_fold_all(&mut self) {
        self.expanded = !self.expanded;
    }

    /// Lays out the cells that need it and returns the total rows.
    fn layout(&mut self, width: usize, theme: &Theme, now: Instant) -> usize {
        self.rekey(width, theme);
        let cx = Context {
            width: width.max(1),
            theme,
            expanded: self.expanded,
            now,
            cwd: &self.cwd,
        };
        self.starts.clear();
        let mut row = 0;
        for entry in &mut self.entries {
            let tick = entry.cell.tick(now);
            let fresh = matches!(&entry.lines, Some((shown, _)) if *shown == tick);
            if !fresh {
                entry.lines = Some((tick, entry.cell.layout(&cx)));
            }
            self.starts.push(row);
            let rows = entry.lines.as_ref().map_or(0, |(_, lines)| lines.len());
            if rows > 0 {
                row += rows + 1;
            }
        }
        self.total = row.saturating_sub(1);
        self.total
    }

    fn push(&mut self, cell: Cell) {
        self.entries.push(Entry::new(cell));
    }

    fn message(&mut self, level: Level, title: &str, text: &str) {
        self.push(Cell::Message {
            level,
            title: title.to_owned(),
            text: text.to_owned(),
        });
    }

    fn call(&mut self, id: &str) -> Option<&mut Entry> {
        let index = *self.calls.get(id)?;
        self.entries.get_mut(index)
    }

    /// The entry of the text streaming for `kind`.
    fn streaming(&self, kind: DeltaKind) -> Option<usize> {
        self.entries.iter().rposition(
            |entry| matches!(entry.cell, Cell::Text { kind: k, streaming: true, .. } if k == kind),
        )
    }

    fn reindex(&mut self) {
        self.calls.clear();
        for (index, entry) in self.entries.iter().enumerate() {
            if let Cell::Tool(tool) = &entry.cell {
                self.calls.insert(tool.id.clone(), index);
            }
        }
    }

    fn started(&mut self, item: &Item, now: Instant) {
        if item.details.status().is_none() {
            return;
        }
        if let Some(entry) = self.call(&item.id) {
            if let Cell::Tool(tool) = &mut entry.cell {
                tool.details = item.details.clone();
            }
            entry.lines = None;
            return;
        }
        self.calls.insert(item.id.clone(), self.entries.len());
        self.push(Cell::Tool(ToolCell {
            id: item.id.clone(),
            details: item.details.clone(),
            started: Some(now),
            ran: None,
            progress: Vec::new(),
        }));
    }

    fn completed(&mut self, item: &Item, now: Instant) {
        let text_kind = match &item.details {
            ItemDetails::UserMessage { text } => {
                self.push(Cell::User(text.clone()));
                return;
            }
            ItemDetails::Error { message } => {
                self.message(Level::Error, "error", message);
                return;
            }
            ItemDetails::WebSearch { query } => {
                self.message(Level::Info, "web search", query);
                return;
            }
            ItemDetails::AgentMessage { text } => Some((DeltaKind::AgentMessage, text)),
            ItemDetails::Reasoning { text } => Some((DeltaKind::Reasoning, text)),
            ItemDetails::CommandExecution { .. }
            | ItemDetails::FileChange { .. }
            | ItemDetails::McpToolCall { .. }
            | ItemDetails::ToolCall { .. } => None,
        };
        if let Some((kind, text)) = text_kind {
            let cell = Cell::Text {
                kind,
                text: text.clone(),
                streaming: false,
            };
            match self.streaming(kind) {
                Some(index) => self.entries[index] = Entry::new(cell),
                None => self.push(cell),
            }
            return;
        }
        if let Some(entry) = self.call(&item.id) {
            if let Cell::Tool(tool) = &mut entry.cell {
                tool.details = item.details.clone();
                tool.ran = tool
                    .started
                    .map(|started| now.saturating_duration_since(started));
                tool.progress.clear();
            }
            entry.lines = None;
            return;
        }
        self.calls.insert(item.id.clone(), self.entries.len());
        self.push(Cell::Tool(ToolCell {
            id: item.id.clone(),
            details: item.details.clone(),
            started: None,
            ran: None,
            progress: Vec::new(),
        }));
    }

    /// After a turn nothing runs or streams: text left streaming stays as
    /// it is, calls never completed show as cancelled.
    fn end_turn(&mut self, now: Instant) {
        for entry in &mut self.entries {
            match &mut entry.cell {
                Cell::Text { streaming, .. } if *streaming => *streaming = false,
                Cell::Tool(tool) if tool.details.status() == Some(Status::InProgress) => {
                    tool.set_status(Status::Cancelled);
                    tool.ran = tool
                        .started
                        .map(|started| now.saturating_duration_since(started));
                }
                _ => continue,
            }
            entry.lines = None;
        }
    }
}

#[cfg(test)]
mod tests;
