use serde_json::json;
use wharf_host::agent::Event;

use super::{APPROVAL_REQUESTED, KINDS, Method, Notifications, Notifier, TURN_COMPLETE};

fn event(value: serde_json::Value) -> Event {
    serde_json::from_value(value).unwrap()
}

fn turn(message: &str) -> Vec<Event> {
    vec![
        Event::TurnStarted,
        event(json!({"type": "item.completed",
            "item": {"id": "item_0", "type": "agent_message", "text": message}})),
        event(json!({"type": "turn.completed", "usage": null})),
    ]
}

fn approval() -> Event {
    event(json!({"type": "approval.requested", "request": {
        "call_id": "c1", "tool": "exec_command", "plugin": "unified_exec",
        "args": "{}", "reason": "asks", "command": "rm -rf \u{1b}]0;x\u{7}build"}}))
}

/// What the notifier writes for `events`, with `focused` set first.
fn written(config: Notifications, focused: bool, events: &[Event]) -> Vec<String> {
    let mut notifier = Notifier::new(config);
    notifier.set_focused(focused);
    for event in events {
        notifier.on_event(event);
    }
    notifier
        .take()
        .into_iter()
        .map(|bytes| String::from_utf8(bytes).unwrap())
        .collect()
}

#[test]
fn each_setting_decides_what_is_sent() {
    let all = |method, unfocused_only| Notifications {
        kinds: KINDS.to_vec(),
        method,
        unfocused_only,
    };
    let mut events = turn("Fixed the\nparser.");
    events.push(approval());
    // (config, focused, what is written)
    let cases: Vec<(Notifications, bool, Vec<&str>)> = vec![
        (
            all(Method::Osc9, false),
            true,
            vec![
                "\x1b]9;wharf: Fixed the\\nparser.\x07",
                "\x1b]9;wharf: approve rm -rf \\x1b]0;x\\x07build?\x07",
            ],
        ),
        (all(Method::Bel, false), true, vec!["\x07", "\x07"]),
        // Only while the terminal is not focused.
        (all(Method::Osc9, true), true, vec![]),
        (all(Method::Bel, true), false, vec!["\x07", "\x07"]),
        (
            Notifications {
                kinds: vec![APPROVAL_REQUESTED],
                method: Method::Bel,
                unfocused_only: false,
            },
            true,
            vec!["\x07"],
        ),
        (
            Notifications {
                kinds: vec![TURN_COMPLETE],
                method: Method::Osc9,
                unfocused_only: false,
            },
            true,
            vec!["\x1b]9;wharf: Fixed the\\nparser.\x07"],
        ),
        (Notifications::default(), false, vec![]),
    ];
    for (config, focused, expected) in cases {
        let got = written(config.clone(), focused, &events);
        assert_eq!(got, expected, "{config:?}, focused: {focused}");
    }
}

#[test]
fn a_turn_without_a_message_says_it_completed_and_long_text_is_cut() {
    let config = Notifications {
        kinds: vec![TURN_COMPLETE],
        method: Method::Osc9,
        unfocused_only: false,
    };
    let quiet = [
        Event::TurnStarted,
        event(json!({"type": "turn.completed", "usage": null})),
    ];
    assert_eq!(
        written(config.clone(), true, &quiet),
        ["\x1b]9;wharf: turn complete\x07"]
    );
    let long = "x".repeat(500);
    let got = written(config, true, &turn(&long));
    assert_eq!(
        got[0].chars().count(),
        "\x1b]9;".len() + super::MAX_TEXT + 1
    );
}
