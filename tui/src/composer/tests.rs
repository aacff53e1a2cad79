use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::layout::{Position, Rect};

use super::Composer;
use crate::test_util::text;
use crate::theme::Theme;

fn press(composer: &mut Composer, code: KeyCode) {
    composer.handle_key(KeyEvent::from(code));
}

fn typed(text: &str) -> Composer {
    let mut composer = Composer::default();
    for c in text.chars() {
        if c == '\n' {
            composer.handle_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::SHIFT));
        } else {
            press(&mut composer, KeyCode::Char(c));
        }
    }
    composer
}

/// What is typed, keys after it, the text, where the cursor is drawn in a
/// 20×4 area.
type Case = (&'static str, Vec<KeyCode>, &'static str, (u16, u16));

#[test]
fn editing_and_the_cursor() {
    let cases: Vec<Case> = vec![
        ("abc", vec![], "abc", (5, 0)),
        ("abc", vec![KeyCode::Left, KeyCode::Left], "abc", (3, 0)),
        ("abc", vec![KeyCode::Home, KeyCode::Right], "abc", (3, 0)),
        ("ab\ncd", vec![KeyCode::Up], "ab\ncd", (4, 0)),
        (
            "abcd\nx",
            vec![KeyCode::Up, KeyCode::End],
            "abcd\nx",
            (6, 0),
        ),
        ("ab\ncd", vec![KeyCode::Up, KeyCode::Down], "ab\ncd", (4, 1)),
        (
            "ab\ncd",
            vec![KeyCode::Home, KeyCode::Backspace],
            "abcd",
            (4, 0),
        ),
        (
            "héllo",
            vec![
                KeyCode::Left,
                KeyCode::Left,
                KeyCode::Left,
                KeyCode::Backspace,
            ],
            "hllo",
            (3, 0),
        ),
        ("漢字", vec![], "漢字", (6, 0)),
        ("漢字", vec![KeyCode::Left], "漢字", (4, 0)),
        // 17 columns of text fit a 20-wide area; the 18th wraps.
        ("abcdefghijklmnopqr", vec![], "abcdefghijklmnopqr", (3, 1)),
        ("abcdefghijklmnopq", vec![], "abcdefghijklmnopq", (19, 0)),
        ("a\tb", vec![], "a\tb", (8, 0)),
    ];
    let mut failures = Vec::new();
    for (input, keys, expected, cursor) in cases {
        let mut composer = typed(input);
        for key in keys {
            press(&mut composer, key);
        }
        let area = Rect::new(0, 0, 20, 4);
        let mut buf = Buffer::empty(area);
        let at = composer.render(area, &mut buf, &Theme::new(true));
        let want = Some(Position::new(cursor.0, cursor.1));
        if composer.text() != expected || at != want {
            failures.push(format!(
                "{input:?}: text {:?} cursor {at:?}, expected {expected:?} {want:?}",
                composer.text()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn word_motions_and_line_kills() {
    let cases: Vec<(&str, Vec<KeyEvent>, &str)> = vec![
        (
            "one two three",
            vec![
                KeyEvent::new(KeyCode::Left, KeyModifiers::CONTROL),
                KeyEvent::from(KeyCode::Char('X')),
            ],
            "one two Xthree",
        ),
        (
            "one two",
            vec![
                KeyEvent::new(KeyCode::Char('b'), KeyModifiers::ALT),
                KeyEvent::new(KeyCode::Char('b'), KeyModifiers::ALT),
                KeyEvent::new(KeyCode::Char('f'), KeyModifiers::ALT),
                KeyEvent::from(KeyCode::Char('!')),
            ],
            "one! two",
        ),
        (
            "keep\ndrop this",
            vec![KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL)],
            "keep\n",
        ),
        (
            "keep this",
            vec![
                KeyEvent::new(KeyCode::Char('a'), KeyModifiers::CONTROL),
                KeyEvent::new(KeyCode::Right, KeyModifiers::ALT),
                KeyEvent::new(KeyCode::Char('k'), KeyModifiers::CONTROL),
            ],
            "keep",
        ),
    ];
    for (input, keys, expected) in cases {
        let mut composer = typed(input);
        for key in keys {
            composer.handle_key(key);
        }
        assert_eq!(composer.text(), expected, "{input:?}");
    }
}

#[test]
fn paste_is_inserted_as_is_without_control_characters() {
    let cases = [
        ("a\nb", "a\nb"),
        ("a\r\nb\rc", "a\nb\nc"),
        ("tab\there", "tab\there"),
        ("\x1b[31mred\x1b[0m\x07", "[31mred[0m"),
        ("\u{9b}2J", "2J"),
    ];
    for (pasted, expected) in cases {
        let mut composer = Composer::default();
        composer.insert_str(pasted);
        assert_eq!(composer.text(), expected, "{pasted:?}");
    }
}

#[test]
fn it_grows_to_eight_rows_and_follows_the_cursor() {
    let composer = typed("1\n2\n3\n4\n5\n6\n7\n8\n9\n10");
    assert_eq!(composer.height(40), 8);
    let area = Rect::new(0, 0, 20, 3);
    let mut buf = Buffer::empty(area);
    let at = composer.render(area, &mut buf, &Theme::new(true));
    assert_eq!(text(&buf), "  8\n  9\n  10");
    assert_eq!(at, Some(Position::new(4, 2)));
}

#[test]
fn history_keeps_no_blank_or_repeated_prompts() {
    let mut composer = Composer::default();
    for prompt in ["a", "a", "  ", "b"] {
        composer.set_text(prompt);
        composer.submit();
    }
    press(&mut composer, KeyCode::Up);
    assert_eq!(composer.text(), "b");
    press(&mut composer, KeyCode::Up);
    assert_eq!(composer.text(), "a");
    press(&mut composer, KeyCode::Up);
    assert_eq!(composer.text(), "a");
    press(&mut composer, KeyCode::Down);
    press(&mut composer, KeyCode::Down);
    assert_eq!(composer.text(), "");
}
