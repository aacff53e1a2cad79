use std::path::Path;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

use super::{Answer, TrustPrompt};
use crate::test_util::{colored_cells, text};
use crate::theme::Theme;

#[test]
fn the_prompt_snapshot() {
    for (name, width, theme) in [
        ("trust_prompt", 80, Theme::new(true)),
        ("trust_prompt_narrow", 40, Theme::new(false)),
    ] {
        let area = Rect::new(0, 0, width, 14);
        let mut buf = Buffer::empty(area);
        TrustPrompt::default().render(Path::new("/work/project\x1b[2J"), area, &mut buf, &theme);
        insta::assert_snapshot!(name, text(&buf));
        if !theme.color {
            assert!(colored_cells(&buf).is_empty());
        }
    }
}

#[test]
fn keys_answer() {
    let key = KeyEvent::from;
    let ctrl = |c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL);
    let cases = [
        (vec![key(KeyCode::Char('y'))], Answer::Decided(true)),
        (vec![key(KeyCode::Char('1'))], Answer::Decided(true)),
        (vec![key(KeyCode::Char('n'))], Answer::Decided(false)),
        (vec![key(KeyCode::Enter)], Answer::Decided(true)),
        (
            vec![key(KeyCode::Down), key(KeyCode::Enter)],
            Answer::Decided(false),
        ),
        (
            vec![key(KeyCode::Down), key(KeyCode::Up), key(KeyCode::Enter)],
            Answer::Decided(true),
        ),
        (vec![key(KeyCode::Esc)], Answer::Quit),
        (vec![key(KeyCode::Char('q'))], Answer::Quit),
        (vec![ctrl('c')], Answer::Quit),
        (vec![key(KeyCode::Char('x'))], Answer::Pending),
    ];
    for (keys, expected) in cases {
        let mut prompt = TrustPrompt::default();
        let answers: Vec<Answer> = keys.iter().map(|k| prompt.handle_key(*k)).collect();
        assert_eq!(answers.last(), Some(&expected), "{keys:?}");
    }
}
