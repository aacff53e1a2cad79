use ratatui::style::Style;
use ratatui::text::Line;

use super::{sanitize, span, truncate, wrap, wrap_text};

fn rows(lines: &[Line<'_>]) -> Vec<String> {
    lines.iter().map(ToString::to_string).collect()
}

#[test]
fn control_characters_become_visible() {
    let cases = [
        ("plain\ntext", "plain\ntext"),
        ("tab\there", "tab    here"),
        ("\x1b]52;c;ZXZpbA==\x07", "\\x1b]52;c;ZXZpbA==\\x07"),
        ("\x1b[2J", "\\x1b[2J"),
        ("ok\r\x1b[Kforged", "ok\\x0d\\x1b[Kforged"),
        ("\u{9b}31m", "\\x9b31m"),
        ("a\u{202E}txt.exe", "a<U+202E>txt.exe"),
        ("zero\u{200B}width", "zero<U+200B>width"),
        ("naïve 漢字 ✓", "naïve 漢字 ✓"),
    ];
    for (input, expected) in cases {
        assert_eq!(sanitize(input), expected, "{input:?}");
    }
}

#[test]
fn wraps_by_words_and_columns() {
    // (text, width, rows)
    let cases: [(&str, usize, &[&str]); 7] = [
        ("", 10, &[""]),
        ("one two three", 7, &["one two", "three"]),
        ("one  two", 4, &["one", "two"]),
        ("abcdefghij", 4, &["abcd", "efgh", "ij"]),
        ("ab 漢字漢字", 5, &["ab 漢", "字漢", "字"]),
        ("漢字漢字", 3, &["漢", "字", "漢", "字"]),
        ("x verylongword y", 6, &["x very", "longwo", "rd y"]),
    ];
    for (text, width, expected) in cases {
        let lines = wrap(&[span(text, Style::new())], width, &[], &[]);
        assert_eq!(rows(&lines), expected, "{text:?} at {width}");
        for line in &lines {
            assert!(line.width() <= width, "{line} wider than {width}");
        }
    }
}

#[test]
fn prefixes_go_before_first_and_continuation_rows() {
    let first = [span("› ", Style::new())];
    let rest = [span("  ", Style::new())];
    let lines = wrap_text("alpha beta gamma\ndelta", Style::new(), 12, &first, &rest);
    assert_eq!(rows(&lines), ["› alpha beta", "  gamma", "  delta"]);
}

#[test]
fn truncates_to_columns() {
    let cases = [
        ("short", 10, "short"),
        ("abcdefgh", 5, "abcd…"),
        ("漢字漢字", 5, "漢字…"),
    ];
    for (text, max, expected) in cases {
        assert_eq!(truncate(text, max), expected);
    }
}
