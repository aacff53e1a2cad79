//! Snapshots of the transcript as text, built from event scripts: one
//! event per line, as the JSON the host sends, after `@SECONDS` (when it
//! arrived, from the test's start).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier};
use wharf_host::agent::Event;

use super::{Scroll, Transcript};
use crate::theme::Theme;

mod cases;
mod compacted;
mod plan;
mod styles;

/// A transcript fed `script` (see the module's doc) from `start`.
fn transcript(script: &str, start: Instant) -> Transcript {
    let mut transcript = Transcript::new(PathBuf::from("/work/project"));
    for line in script
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
    {
        let (at, json) = line.split_once(' ').expect("`@SECONDS {json}`");
        let secs: u64 = at.trim_start_matches('@').parse().expect("seconds");
        let event: Event = serde_json::from_str(json).expect("an event");
        transcript.apply(&event, start + Duration::from_secs(secs));
    }
    transcript
}

/// The buffer's rows as text, trailing spaces trimmed.
fn text(buf: &Buffer) -> String {
    let area = buf.area;
    let mut rows = Vec::new();
    for y in area.top()..area.bottom() {
        let mut row = String::new();
        let mut covered = 0;
        for x in area.left()..area.right() {
            // The columns a wide character covers hold a blank.
            if covered > 0 {
                covered -= 1;
                continue;
            }
            let symbol = buf[(x, y)].symbol();
            covered = crate::text::width(symbol).saturating_sub(1);
            row.push_str(symbol);
        }
        rows.push(row.trim_end().to_owned());
    }
    rows.join("\n")
}

fn draw(
    transcript: &mut Transcript,
    size: (u16, u16),
    scroll: &mut Scroll,
    theme: &Theme,
    now: Instant,
) -> Buffer {
    let area = Rect::new(0, 0, size.0, size.1);
    let mut buf = Buffer::empty(area);
    transcript.render(area, &mut buf, scroll, theme, now);
    buf
}

/// The screen of `script` at `now_secs`, `size` columns × rows.
fn screen(script: &str, size: (u16, u16), now_secs: u64) -> String {
    let start = Instant::now();
    let mut transcript = transcript(script, start);
    let now = start + Duration::from_secs(now_secs);
    let buf = draw(
        &mut transcript,
        size,
        &mut Scroll::default(),
        &Theme::new(true),
        now,
    );
    text(&buf)
}

/// Whether any cell of `buf` has a foreground or background colour.
fn has_color(buf: &Buffer) -> bool {
    buf.content()
        .iter()
        .any(|cell| cell.fg != Color::Reset || cell.bg != Color::Reset)
}

/// The first cell whose symbol starts the text `needle` on some row.
fn find(buf: &Buffer, needle: &str) -> Option<(u16, u16)> {
    let rows = text(buf);
    rows.lines().enumerate().find_map(|(y, row)| {
        let byte = row.find(needle)?;
        let x = crate::text::width(&row[..byte]);
        Some((u16::try_from(x).ok()?, u16::try_from(y).ok()?))
    })
}

fn modifiers_at(buf: &Buffer, at: (u16, u16)) -> Modifier {
    buf[at].modifier
}
