//! Helpers of the snapshot tests.

use ratatui::buffer::Buffer;
use ratatui::style::Color;

/// The buffer's text, one line per row, trailing spaces cut.
pub fn text(buf: &Buffer) -> String {
    let area = buf.area;
    let mut lines = Vec::new();
    for y in area.top()..area.bottom() {
        let mut line = String::new();
        let mut skip = 0;
        for x in area.left()..area.right() {
            if skip > 0 {
                skip -= 1;
                continue;
            }
            let symbol = buf[(x, y)].symbol();
            skip = unicode_width::UnicodeWidthStr::width(symbol).saturating_sub(1);
            line.push_str(symbol);
        }
        lines.push(line.trim_end().to_owned());
    }
    lines.join("\n")
}

/// The cells that have a foreground or background colour.
pub fn colored_cells(buf: &Buffer) -> Vec<(u16, u16)> {
    let area = buf.area;
    let mut colored = Vec::new();
    for y in area.top()..area.bottom() {
        for x in area.left()..area.right() {
            let cell = &buf[(x, y)];
            if cell.fg != Color::Reset || cell.bg != Color::Reset {
                colored.push((x, y));
            }
        }
    }
    colored
}

/// The cells holding a control character (an escape that would reach the
/// terminal as is).
pub fn control_cells(buf: &Buffer) -> Vec<(u16, u16, String)> {
    let area = buf.area;
    let mut found = Vec::new();
    for y in area.top()..area.bottom() {
        for x in area.left()..area.right() {
            let symbol = buf[(x, y)].symbol();
            if symbol.chars().any(char::is_control) {
                found.push((x, y, symbol.escape_default().to_string()));
            }
        }
    }
    found
}
