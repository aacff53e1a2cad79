//! The app under codex's interface keys: `hide_agent_reasoning`, the
//! prompt history file, notifications.

use std::time::Instant;

use crossterm::event::KeyCode;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use serde_json::json;
use wharf_host::agent::Event;
use wharf_host::ops::Op;

use super::{Key, Step, Type, configured, input, new_app, play};
use crate::history::History;
use crate::notify::{KINDS, Method, Notifications};

fn event(value: serde_json::Value) -> Event {
    serde_json::from_value(value).unwrap()
}

fn reasoning_turn() -> Vec<Step> {
    vec![
        Step::Event(configured()),
        Step::Event(Event::TurnStarted),
        Step::Event(event(
            json!({"type": "item.delta", "kind": "reasoning", "delta": "Musing on it."}),
        )),
        Step::Event(event(json!({"type": "item.completed",
            "item": {"id": "item_0", "type": "reasoning", "text": "Musing on it."}}))),
        Step::Event(event(json!({"type": "item.completed",
            "item": {"id": "item_1", "type": "agent_message", "text": "The answer."}}))),
        Step::Event(event(json!({"type": "turn.completed", "usage": null}))),
    ]
}

fn screen(app: &mut super::App) -> String {
    let area = Rect::new(0, 0, 80, 12);
    let mut buf = Buffer::empty(area);
    app.render(area, &mut buf);
    crate::test_util::text(&buf)
}

#[test]
fn reasoning_is_shown_unless_hidden() {
    for hide in [false, true] {
        let mut now = Instant::now();
        let (mut app, _rx) = new_app(now);
        app.hide_reasoning(hide);
        play(&mut app, &mut now, &reasoning_turn());
        let shown = screen(&mut app);
        assert!(shown.contains("The answer."), "{shown}");
        assert_eq!(
            shown.contains("Musing on it."),
            !hide,
            "hide: {hide}\n{shown}"
        );
    }
}

#[test]
fn earlier_prompts_are_recalled_and_new_ones_written() {
    let dir = tempfile::tempdir().unwrap();
    let history = History {
        path: dir.path().join("history.jsonl"),
        save: true,
        max_bytes: None,
    };
    let mut now = Instant::now();
    let (mut app, rx) = new_app(now);
    app.set_history(history.clone(), vec!["from yesterday".to_owned()]);
    play(
        &mut app,
        &mut now,
        &[
            Step::Event(configured()),
            Type("today"),
            Key(KeyCode::Enter),
            Key(KeyCode::Up),
            Key(KeyCode::Up),
            Key(KeyCode::Enter),
        ],
    );
    let sent: Vec<Op> = rx.try_iter().collect();
    assert_eq!(sent, [input("today"), input("from yesterday")]);
    // Written with the session's id, in order.
    assert_eq!(history.load().unwrap(), ["today", "from yesterday"]);
    let text = std::fs::read_to_string(&history.path).unwrap();
    assert!(text.contains("\"session_id\":\"0199a2b3-c4d5\""), "{text}");
}

#[test]
fn a_completed_turn_and_an_approval_notify() {
    let mut now = Instant::now();
    let (mut app, _rx) = new_app(now);
    app.set_notifications(Notifications {
        kinds: KINDS.to_vec(),
        method: Method::Osc9,
        unfocused_only: true,
    });
    // Focused: nothing.
    play(&mut app, &mut now, &reasoning_turn());
    assert!(app.take_notifications().is_empty());
    app.set_focused(false);
    play(&mut app, &mut now, &reasoning_turn());
    play(&mut app, &mut now, &[Step::Event(super::approval("c1"))]);
    let sent: Vec<String> = app
        .take_notifications()
        .into_iter()
        .map(|bytes| String::from_utf8(bytes).unwrap())
        .collect();
    assert_eq!(
        sent,
        [
            "\x1b]9;wharf: The answer.\x07",
            "\x1b]9;wharf: approve cargo test?\x07"
        ]
    );
}
