//! Diffs as coloured lines: a unified diff (a file change's `diff`, `/diff`)
//! with old and new line numbers taken from its `@@ -a,b +c,d @@` headers,
//! and an apply_patch text (the approval of a patch).

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use crate::text::{sanitize, span, wrap};
use crate::theme::Theme;

/// A hunk header's numbers: `@@ -old,old_len +new,new_len @@`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Hunk {
    old: usize,
    old_len: usize,
    new: usize,
    new_len: usize,
}

fn parse_hunk(line: &str) -> Option<Hunk> {
    let rest = line.strip_prefix("@@ -")?;
    let (ranges, _) = rest.split_once(" @@")?;
    let (old, new) = ranges.split_once(" +")?;
    let range = |text: &str| -> Option<(usize, usize)> {
        match text.split_once(',') {
            Some((start, len)) => Some((start.parse().ok()?, len.parse().ok()?)),
            None => Some((text.parse().ok()?, 1)),
        }
    };
    let (old, old_len) = range(old)?;
    let (new, new_len) = range(new)?;
    Some(Hunk {
        old,
        old_len,
        new,
        new_len,
    })
}

/// A unified diff (one file or a `git diff` of many), one row per line,
/// wrapped to `width`: headers bold, hunk headers dim, removed lines red
/// with their old line number, added lines green with their new one,
/// context with both.
pub fn unified_diff_lines(diff: &str, theme: &Theme, width: u16) -> Vec<Line<'static>> {
    let clean = sanitize(diff);
    let number_width = clean
        .lines()
        .filter_map(parse_hunk)
        .map(|hunk| (hunk.old + hunk.old_len).max(hunk.new + hunk.new_len))
        .max()
        .map_or(1, |max| max.to_string().len());
    let width = usize::from(width);
    let blank_gutter = " ".repeat(number_width * 2 + 2);
    let rest = [span(blank_gutter, theme.diff_line_number)];
    let number = |n: Option<usize>| match n {
        Some(n) => format!("{n:>number_width$}"),
        None => " ".repeat(number_width),
    };
    let mut lines = Vec::new();
    let mut old = 0;
    let mut new = 0;
    // Lines still to come in the current hunk, from its header's lengths.
    let mut old_left = 0;
    let mut new_left = 0;
    for text in clean.lines() {
        let in_hunk = old_left > 0 || new_left > 0;
        if !in_hunk {
            if let Some(hunk) = parse_hunk(text) {
                (old, new, old_left, new_left) = (hunk.old, hunk.new, hunk.old_len, hunk.new_len);
                lines.extend(wrap(&[span(text, theme.diff_hunk)], width, &[], &[]));
            } else {
                let style = match text.chars().next() {
                    Some('+') if !text.starts_with("+++") => theme.diff_added,
                    Some('-') if !text.starts_with("---") => theme.diff_removed,
                    _ => theme.diff_header,
                };
                lines.extend(wrap(&[span(text, style)], width, &[], &[]));
            }
            continue;
        }
        let (old_number, new_number, style, body) = match text.chars().next() {
            Some('+') => {
                new_left = new_left.saturating_sub(1);
                new += 1;
                (None, Some(new - 1), theme.diff_added, text)
            }
            Some('-') => {
                old_left = old_left.saturating_sub(1);
                old += 1;
                (Some(old - 1), None, theme.diff_removed, text)
            }
            Some('\\') => (None, None, theme.diff_line_number, text),
            _ => {
                old_left = old_left.saturating_sub(1);
                new_left = new_left.saturating_sub(1);
                old += 1;
                new += 1;
                let body = if text.is_empty() { " " } else { text };
                (Some(old - 1), Some(new - 1), theme.diff_context, body)
            }
        };
        let gutter = format!("{} {} ", number(old_number), number(new_number));
        let first = [span(gutter, theme.diff_line_number)];
        lines.extend(wrap(&[span(body, style)], width, &first, &rest));
    }
    lines
}

/// An apply_patch text (`*** Begin Patch`, `*** Update File: path`, `@@`,
/// `+`/`-`/` ` lines) as coloured rows wrapped to `width`.
pub fn patch_lines(patch: &str, theme: &Theme, width: u16) -> Vec<Line<'static>> {
    let clean = sanitize(patch);
    let width = usize::from(width);
    let mut lines = Vec::new();
    for text in clean.lines() {
        let spans: Vec<Span<'static>> = if let Some((marker, path)) = file_header(text) {
            let style = match marker {
                "*** Add File: " => theme.change_add,
                "*** Delete File: " => theme.change_delete,
                _ => theme.change_update,
            };
            vec![span(marker, style), span(path, theme.path)]
        } else {
            let style: Style = match text.chars().next() {
                _ if text.starts_with("***") => theme.diff_header,
                _ if text.starts_with("@@") => theme.diff_hunk,
                Some('+') => theme.diff_added,
                Some('-') => theme.diff_removed,
                _ => theme.diff_context,
            };
            vec![span(text, style)]
        };
        lines.extend(wrap(&spans, width, &[], &[span("  ", Style::new())]));
    }
    lines
}

fn file_header(text: &str) -> Option<(&'static str, &str)> {
    [
        "*** Add File: ",
        "*** Update File: ",
        "*** Delete File: ",
        "*** Move to: ",
    ]
    .into_iter()
    .find_map(|marker| text.strip_prefix(marker).map(|path| (marker, path)))
}

#[cfg(test)]
mod tests;
