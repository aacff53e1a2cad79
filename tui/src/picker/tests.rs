use crossterm::event::{KeyCode, KeyEvent};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

use super::{Picked, Picker, PickerItem};
use crate::test_util::text;
use crate::theme::Theme;

fn picker(count: usize) -> Picker {
    let items = (0..count)
        .map(|i| PickerItem::new(format!("item {i}"), format!("detail {i}"), i == 2))
        .collect();
    Picker::new("Pick", items)
}

#[test]
fn keys_move_and_choose() {
    let cases: Vec<(Vec<KeyCode>, Picked)> = vec![
        (vec![KeyCode::Enter], Picked::Chosen(2)),
        (vec![KeyCode::Up, KeyCode::Enter], Picked::Chosen(1)),
        (vec![KeyCode::Char('j'), KeyCode::Enter], Picked::Chosen(3)),
        (
            vec![KeyCode::End, KeyCode::Down, KeyCode::Enter],
            Picked::Chosen(19),
        ),
        (
            vec![KeyCode::Home, KeyCode::Up, KeyCode::Enter],
            Picked::Chosen(0),
        ),
        (vec![KeyCode::PageDown, KeyCode::Enter], Picked::Chosen(7)),
        (vec![KeyCode::Char(' ')], Picked::Toggled(2)),
        (vec![KeyCode::Esc], Picked::Closed),
        (vec![KeyCode::Char('q')], Picked::Closed),
    ];
    for (keys, expected) in cases {
        let mut picker = picker(20);
        let last = keys
            .iter()
            .map(|code| picker.handle_key(KeyEvent::from(*code), 5))
            .last();
        assert_eq!(last, Some(expected), "{keys:?}");
    }
    assert_eq!(
        Picker::new("Empty", Vec::new()).handle_key(KeyEvent::from(KeyCode::Enter), 5),
        Picked::None
    );
}

#[test]
fn a_long_list_scrolls_to_the_selection() {
    let mut picker = picker(20);
    for _ in 0..10 {
        picker.handle_key(KeyEvent::from(KeyCode::Down), 5);
    }
    let area = Rect::new(0, 0, 40, 8);
    let mut buf = Buffer::empty(area);
    picker.render(area, &mut buf, &Theme::new(true));
    insta::assert_snapshot!("picker_scrolled", text(&buf));
}
