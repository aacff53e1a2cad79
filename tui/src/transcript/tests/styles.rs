//! The styles of key cells, `NO_COLOR`, and text that tries to act on the
//! terminal.

use std::time::Instant;

use insta::assert_snapshot;
use ratatui::style::{Color, Modifier};

use super::cases::{CODE, COMMANDS, FILE_CHANGE};
use super::{Scroll, draw, find, has_color, modifiers_at, text, transcript};
use crate::theme::Theme;

#[test]
fn added_lines_are_green_removed_red_reasoning_dim() {
    let start = Instant::now();
    let theme = Theme::new(true);
    let mut changes = transcript(FILE_CHANGE, start);
    let buf = draw(
        &mut changes,
        (80, 24),
        &mut Scroll::default(),
        &theme,
        start,
    );
    let added = find(&buf, "+    let b = 3;").expect("the added line");
    let removed = find(&buf, "-    let b = 2;").expect("the removed line");
    let number = find(&buf, "9 +").expect("a line number");
    assert_eq!(buf[added].fg, Color::Green);
    assert_eq!(buf[removed].fg, Color::Red);
    assert!(modifiers_at(&buf, number).contains(Modifier::DIM));

    let script = r#"@0 {"type":"item.completed","item":{"id":"item_1","type":"reasoning","text":"**Planning** the change"}}"#;
    let mut reasoning = transcript(script, start);
    let buf = draw(
        &mut reasoning,
        (40, 3),
        &mut Scroll::default(),
        &theme,
        start,
    );
    for needle in ["Planning", "the change"] {
        let at = find(&buf, needle).expect("the reasoning");
        assert!(modifiers_at(&buf, at).contains(Modifier::DIM), "{needle}");
    }
}

#[test]
fn states_and_code_have_their_colours() {
    let start = Instant::now();
    let theme = Theme::new(true);
    let mut commands = transcript(COMMANDS, start);
    let now = start + std::time::Duration::from_secs(3);
    let buf = draw(&mut commands, (60, 24), &mut Scroll::default(), &theme, now);
    let cases = [
        ("✓ $ cargo test", Color::Green),
        ("✗ $ false", Color::Red),
        ("⊘ $ rm", Color::Yellow),
        ("⠸ $ cargo build", Color::Cyan),
    ];
    for (needle, color) in cases {
        let at = find(&buf, needle).expect(needle);
        assert_eq!(buf[at].fg, color, "{needle}");
    }
    let mut code = transcript(CODE, start);
    let buf = draw(&mut code, (60, 22), &mut Scroll::default(), &theme, start);
    let cases = [
        ("fn inc", theme.keyword),
        ("\"hi\"", theme.string),
        ("// add one", theme.comment),
        ("42", theme.number),
        ("return", theme.keyword),
        ("# done", theme.comment),
        ("++[>+<-]", theme.code_block),
    ];
    for (needle, style) in cases {
        let at = find(&buf, needle).expect(needle);
        assert_eq!(buf[at].fg, style.fg.unwrap_or(Color::Reset), "{needle}");
    }
}

#[test]
fn no_color_uses_modifiers_only() {
    let start = Instant::now();
    let theme = Theme::new(false);
    let scripts = [COMMANDS, CODE, FILE_CHANGE];
    for script in scripts {
        let mut shown = transcript(script, start);
        let buf = draw(&mut shown, (80, 40), &mut Scroll::default(), &theme, start);
        assert!(!has_color(&buf), "{}", text(&buf));
    }
    // Added and removed lines still differ.
    let mut changes = transcript(FILE_CHANGE, start);
    let buf = draw(
        &mut changes,
        (80, 24),
        &mut Scroll::default(),
        &theme,
        start,
    );
    let added = find(&buf, "+    let b = 3;").expect("the added line");
    let removed = find(&buf, "-    let b = 2;").expect("the removed line");
    assert_ne!(buf[added].modifier, buf[removed].modifier);
    // The colour theme does colour the same cells.
    let mut coloured = transcript(FILE_CHANGE, start);
    let buf = draw(
        &mut coloured,
        (80, 24),
        &mut Scroll::default(),
        &Theme::new(true),
        start,
    );
    assert!(has_color(&buf));
}

/// Terminal escapes in a tool's output, a command, an agent message and a
/// notice: written raw, `ESC ]52;` would set the clipboard, `ESC [2J`
/// clear the screen, `\r` let a line overwrite itself.
const HOSTILE: &str = r##"
@0 {"type":"item.completed","item":{"id":"item_1","type":"command_execution","tool":"exec","command":"echo \u001b[2J","aggregated_output":"ok\r\u001b[Kforged\n\u001b]52;c;ZXZpbA==\u0007\n\u009b31mred","exit_code":0,"status":"completed"}}
@0 {"type":"item.completed","item":{"id":"item_2","type":"agent_message","text":"hi \u001b]0;title\u0007 there \u001b[2J\r\n`\u001b[31m` and \u202etxt.exe\n\n```sh\necho \u001b]52;c;eA==\u0007\n```"}}
@0 {"type":"item.completed","item":{"id":"item_3","type":"mcp_tool_call","server":"evil\u001b[2J","tool":"t\u0007","arguments":{"k":"\u001b]52;c;eA==\u0007"},"output":"\u001b]8;;http://x\u001b\\link","status":"completed"}}
@0 {"type":"notice","title":"diff","text":"@@ -1 +1 @@\n-\u001b[2J\n+\u001b]52;c;eA==\u0007\n"}
@0 {"type":"item.completed","item":{"id":"item_4","type":"file_change","tool":"apply_patch","changes":[{"path":"/work/project/\u001b[2Jx","kind":"add"}],"output":"","status":"completed"}}
"##;

#[test]
fn escapes_are_shown_never_sent() {
    let start = Instant::now();
    let mut shown = transcript(HOSTILE, start);
    let buf = draw(
        &mut shown,
        (80, 40),
        &mut Scroll::default(),
        &Theme::new(true),
        start,
    );
    for cell in buf.content() {
        let symbol = cell.symbol();
        assert!(
            !symbol.chars().any(|c| c.is_control() || c == '\u{202e}'),
            "{symbol:?} in\n{}",
            text(&buf)
        );
    }
    let shown = text(&buf);
    for visible in [
        "\\x1b]52;c;ZXZpbA==\\x07",
        "\\x1b[2J",
        "ok\\x0d\\x1b[Kforged",
        "<U+202E>",
    ] {
        assert!(shown.contains(visible), "{visible} in\n{shown}");
    }
    assert_snapshot!(shown);
}
