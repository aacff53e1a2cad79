//! Text made safe for the terminal, and wrapped to a width.
//!
//! Text from the model, tools and servers can hold terminal escapes
//! (`ESC ]52;…` writes the clipboard, `ESC [2J` clears the screen, `\r`
//! lets a line overwrite itself). Every such text passes through
//! [`sanitize`] before it becomes a [`Span`]: control characters become
//! visible escapes (`\x1b`), so a reader sees they were there.

use std::borrow::Cow;
use std::fmt::Write as _;

use ratatui::style::Style;
use ratatui::text::{Line, Span};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// How many spaces a tab becomes.
const TAB: &str = "    ";

/// `text` with every control character except newlines and tabs shown as
/// an escape: C0 controls (ESC, `\r`, BEL, backspace…), DEL and the C1
/// controls as `\x1b`-style escapes, and the Unicode controls that reorder
/// or hide text (bidirectional overrides and isolates, zero-width marks) as
/// `<U+202E>`, so that a reader sees they were there. Every human output of
/// outside text goes through it (the CLI's lines too).
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut shown = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if !needs_escape(c) {
            shown.push(c);
        } else if u32::from(c) < 0x100 {
            let _ = write!(shown, "\\x{:02x}", u32::from(c));
        } else {
            let _ = write!(shown, "<U+{:04X}>", u32::from(c));
        }
    }
    Cow::Owned(shown)
}

/// [`escape`]d `text` with tabs as spaces (a cell's columns must be known).
pub fn sanitize(text: &str) -> Cow<'_, str> {
    let escaped = escape(text);
    if !escaped.contains('\t') {
        return escaped;
    }
    Cow::Owned(escaped.replace('\t', TAB))
}

/// [`sanitize`] for text shown on one line: newlines are escaped too.
pub fn sanitize_line(text: &str) -> String {
    sanitize(text).replace('\n', "\\n")
}

fn needs_escape(c: char) -> bool {
    match c {
        '\n' | '\t' => false,
        _ if c.is_control() => true,
        // Bidirectional embeddings, overrides and isolates; the marks; the
        // Arabic letter mark; zero-width characters that hide text.
        '\u{202A}'..='\u{202E}'
        | '\u{2066}'..='\u{2069}'
        | '\u{200B}'..='\u{200F}'
        | '\u{061C}'
        | '\u{2028}'
        | '\u{2029}'
        | '\u{FEFF}' => true,
        _ => false,
    }
}

/// The width of `text` in terminal columns.
pub fn width(text: &str) -> usize {
    UnicodeWidthStr::width(text)
}

/// `text` cut to at most `max` columns, ending in `…` when cut.
pub fn truncate(text: &str, max: usize) -> String {
    if width(text) <= max {
        return text.to_owned();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > max {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push('…');
    out
}

/// The spans as one [`Line`], owned.
pub fn line(spans: Vec<Span<'static>>) -> Line<'static> {
    Line::from(spans)
}

/// One styled span of owned text.
pub fn span(text: impl Into<String>, style: Style) -> Span<'static> {
    Span::styled(text.into(), style)
}

/// Wraps one logical line (its spans hold no newline) to `width` columns,
/// breaking between words where it can and inside a word when one does not
/// fit. The first output line starts with `first`, the others with `rest`;
/// leading spaces of a continuation line are dropped. An empty line gives
/// one line holding `first`.
pub fn wrap(
    spans: &[Span<'_>],
    width: usize,
    first: &[Span<'static>],
    rest: &[Span<'static>],
) -> Vec<Line<'static>> {
    let mut wrapper = Wrapper {
        lines: Vec::new(),
        current: Vec::new(),
        current_width: 0,
        avail: width.saturating_sub(prefix_width(first)).max(1),
        rest_avail: width.saturating_sub(prefix_width(rest)).max(1),
        first,
        rest,
    };
    let mut word: Vec<(char, Style)> = Vec::new();
    let mut word_is_space = false;
    for span in spans {
        for c in span.content.chars() {
            let is_space = c == ' ';
            if !word.is_empty() && is_space != word_is_space {
                wrapper.push_token(&word, word_is_space);
                word.clear();
            }
            word_is_space = is_space;
            word.push((c, span.style));
        }
    }
    if !word.is_empty() {
        wrapper.push_token(&word, word_is_space);
    }
    wrapper.finish()
}

fn prefix_width(prefix: &[Span<'_>]) -> usize {
    prefix.iter().map(|span| width(&span.content)).sum()
}

struct Wrapper<'p> {
    lines: Vec<Line<'static>>,
    current: Vec<(char, Style)>,
    current_width: usize,
    avail: usize,
    rest_avail: usize,
    first: &'p [Span<'static>],
    rest: &'p [Span<'static>],
}

impl Wrapper<'_> {
    fn push_token(&mut self, token: &[(char, Style)], is_space: bool) {
        let token_width: usize = token.iter().map(|(c, _)| c.width().unwrap_or(0)).sum();
        if is_space {
            if self.current_width == 0 && !self.lines.is_empty() {
                return;
            }
            if self.current_width + token_width <= self.avail {
                self.current.extend_from_slice(token);
                self.current_width += token_width;
            } else {
                self.break_line();
            }
            return;
        }
        if self.current_width + token_width <= self.avail {
            self.current.extend_from_slice(token);
            self.current_width += token_width;
            return;
        }
        if self.current_width > 0 && token_width <= self.rest_avail {
            self.break_line();
            self.current.extend_from_slice(token);
            self.current_width = token_width;
            return;
        }
        // A word longer than a row breaks where it is (CJK text has no
        // spaces: a paragraph is one such word).
        for &(c, style) in token {
            let w = c.width().unwrap_or(0);
            if self.current_width + w > self.avail && self.current_width > 0 {
                self.break_line();
            }
            self.current.push((c, style));
            self.current_width += w;
        }
    }

    fn break_line(&mut self) {
        while self.current.last().is_some_and(|(c, _)| *c == ' ') {
            self.current.pop();
        }
        let prefix = if self.lines.is_empty() {
            self.first
        } else {
            self.rest
        };
        let mut spans: Vec<Span<'static>> = prefix.to_vec();
        let mut text = String::new();
        let mut style = None;
        for (c, s) in self.current.drain(..) {
            if style.is_some_and(|current| current != s) {
                spans.push(Span::styled(
                    std::mem::take(&mut text),
                    style.unwrap_or_default(),
                ));
            }
            style = Some(s);
            text.push(c);
        }
        if !text.is_empty() {
            spans.push(Span::styled(text, style.unwrap_or_default()));
        }
        self.lines.push(Line::from(spans));
        self.current_width = 0;
        self.avail = self.rest_avail;
    }

    fn finish(mut self) -> Vec<Line<'static>> {
        if !self.current.is_empty() || self.lines.is_empty() {
            self.break_line();
        }
        self.lines
    }
}

/// Wraps multi-line `text` (sanitized here) in one style; every logical line
/// starts with `first` on its first row and `rest` on the others.
pub fn wrap_text(
    text: &str,
    style: Style,
    width: usize,
    first: &[Span<'static>],
    rest: &[Span<'static>],
) -> Vec<Line<'static>> {
    let clean = sanitize(text);
    let mut lines = Vec::new();
    for (index, logical) in clean.split('\n').enumerate() {
        let head = if index == 0 { first } else { rest };
        lines.extend(wrap(&[Span::styled(logical, style)], width, head, rest));
    }
    lines
}

#[cfg(test)]
mod tests;
