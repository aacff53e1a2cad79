//! `file_opener`: the paths of the files a turn changed become hyperlinks
//! (OSC 8) that open in the editor, `vscode://file/ABS/PATH` and the like.
//!
//! ratatui's buffer has no place for a link, so the links are found in the
//! drawn frame (runs of cells in the theme's path style that name an
//! existing file) and written over it again, the same text in the same
//! style inside `ESC ] 8 ; ; URL ESC \` … `ESC ] 8 ; ; ESC \`.

use std::io::{self, Write};
use std::path::Path;

use crossterm::style::{PrintStyledContent, StyledContent};
use crossterm::{cursor, queue};
use ratatui::backend::IntoCrossterm as _;
use ratatui::buffer::{Buffer, Cell};
use ratatui::layout::{Position, Rect};
use ratatui::style::Style;

/// One link on the screen: where its text starts, the text, its style and
/// where it leads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Link {
    pub x: u16,
    pub y: u16,
    pub text: String,
    pub style: Style,
    pub url: String,
}

/// The runs of cells of `area` drawn in `style` (its colour and
/// modifiers: a style without a colour finds nothing) whose text, taken as
/// a path relative to `cwd`, is an existing file: as links with `scheme`.
pub(crate) fn find(buf: &Buffer, area: Rect, style: Style, cwd: &Path, scheme: &str) -> Vec<Link> {
    let Some(fg) = style.fg else {
        return Vec::new();
    };
    let styled = |cell: &Cell| cell.fg == fg && cell.modifier == style.add_modifier;
    let mut links = Vec::new();
    for y in area.top()..area.bottom() {
        let mut x = area.left();
        while x < area.right() {
            if !styled(&buf[(x, y)]) {
                x += 1;
                continue;
            }
            let start = x;
            let drawn = buf[(x, y)].style();
            let mut text = String::new();
            while x < area.right() && styled(&buf[(x, y)]) {
                text.push_str(buf[(x, y)].symbol());
                x += 1;
            }
            let name = text.trim_end();
            let path = cwd.join(name);
            if !name.is_empty() && path.is_file() {
                links.push(Link {
                    x: start,
                    y,
                    text: name.to_owned(),
                    style: drawn,
                    url: format!("{scheme}://file{}", url_path(&path)),
                });
            }
        }
    }
    links
}

/// `path` as a URL's path: every byte but unreserved ones and `/`
/// percent-encoded.
fn url_path(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt as _;
    let mut encoded = String::new();
    for &byte in path.as_os_str().as_bytes() {
        if byte.is_ascii_alphanumeric() || b"/-._~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// Writes `links` over the drawn frame, then puts the cursor back at
/// `cursor`.
pub(crate) fn write(
    out: &mut impl Write,
    links: &[Link],
    cursor: Option<Position>,
) -> io::Result<()> {
    if links.is_empty() {
        return Ok(());
    }
    for link in links {
        queue!(
            out,
            cursor::MoveTo(link.x, link.y),
            crossterm::style::Print(format!("\x1b]8;;{}\x1b\\", link.url)),
            PrintStyledContent(StyledContent::new(
                link.style.into_crossterm(),
                link.text.as_str()
            )),
            crossterm::style::Print("\x1b]8;;\x1b\\"),
        )?;
    }
    if let Some(position) = cursor {
        queue!(out, cursor::MoveTo(position.x, position.y))?;
    }
    out.flush()
}

#[cfg(test)]
mod tests;
