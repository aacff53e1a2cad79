use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use serde_json::{Value, json};
use wharf_host::ops::{ElicitationAnswer, ElicitationRequest};

use super::Forms;
use crate::test_util::{control_cells, text};
use crate::theme::Theme;

/// A form with a field of each kind, as the runtime reads them.
fn request(call_id: &str) -> ElicitationRequest {
    serde_json::from_value(json!({
        "call_id": call_id,
        "plugin": "mcp-everything",
        "tool": "mcp__everything__trigger-elicitation-request",
        "message": "Please provide inputs\u{1b}]52;c;aGk=\u{7} for the following fields:",
        "fields": [
            {"name": "name", "title": "Name", "required": true, "description": "Your full name",
             "kind": {"type": "text"}},
            {"name": "email", "kind": {"type": "text", "format": "email"}},
            {"name": "check", "title": "Agree", "kind": {"type": "boolean"}},
            {"name": "integer", "kind": {"type": "integer", "minimum": 1.0, "maximum": 100.0},
             "default": 42},
            {"name": "pet", "kind": {"type": "choice", "choices": [
                {"value": "p1", "label": "Cats"}, {"value": "p2", "label": "Dogs"}]}},
            {"name": "fish", "kind": {"type": "choices", "min_items": 1, "choices": [
                {"value": "f1", "label": "Tuna"}, {"value": "f2", "label": "Salmon"}]},
             "default": ["f1"]}
        ]
    }))
    .unwrap()
}

/// What the user does.
#[derive(Clone, Copy)]
enum Step {
    Type(&'static str),
    Key(KeyCode),
    Ctrl(char),
}

fn press(forms: &mut Forms, steps: &[Step]) -> Vec<(String, ElicitationAnswer)> {
    let mut answers = Vec::new();
    for step in steps {
        let keys: Vec<KeyEvent> = match *step {
            Step::Type(text) => text.chars().map(|c| KeyCode::Char(c).into()).collect(),
            Step::Key(code) => vec![code.into()],
            Step::Ctrl(c) => vec![KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)],
        };
        for key in keys {
            answers.extend(forms.handle_key(key));
        }
    }
    answers
}

fn accepted(content: Value) -> ElicitationAnswer {
    let Value::Object(content) = content else {
        unreachable!()
    };
    ElicitationAnswer::Accept { content }
}

#[test]
fn keys_fill_in_check_and_answer_the_form() {
    use KeyCode::{Backspace, Down, Enter, Esc, Left, Right, Tab, Up};
    use Step::{Ctrl, Key, Type};
    // (what happens, the keys, the answers sent, the error shown)
    type Case = (
        &'static str,
        Vec<Step>,
        Vec<ElicitationAnswer>,
        Option<&'static str>,
    );
    let cases: Vec<Case> = vec![
        (
            "the defaults and a name are sent",
            vec![Type("Adaa"), Key(Backspace), Key(Enter)],
            vec![accepted(
                json!({"name": "Ada", "integer": 42, "fish": ["f1"]}),
            )],
            None,
        ),
        (
            "every kind of field is filled in",
            vec![
                Type("Ada"),
                Key(Tab),
                Type("ada@example.com"),
                Key(Down),
                Type("y"),
                Key(Tab),
                Key(Backspace),
                Key(Backspace),
                Type("7"),
                Key(Tab),
                Key(Right),
                Key(Right),
                Key(Tab),
                Type(" "),
                Key(Right),
                Type(" "),
                Key(Up),
                Key(Left),
                Key(Enter),
            ],
            vec![accepted(json!({
                "name": "Ada", "email": "ada@example.com", "check": true, "integer": 7,
                "pet": "p1", "fish": ["f2"]
            }))],
            None,
        ),
        (
            "a required field left empty is not sent",
            vec![Key(Enter)],
            vec![],
            Some("Name is required"),
        ),
        (
            "a value out of range is not sent",
            vec![
                Type("Ada"),
                Key(Tab),
                Key(Tab),
                Key(Tab),
                Type("0"),
                Key(Enter),
            ],
            vec![],
            Some("integer: at most 100"),
        ),
        (
            "an optional multiple choice with nothing picked is left out",
            vec![
                Type("Ada"),
                Key(Up),
                Key(Down),
                Key(Down),
                Key(Down),
                Key(Down),
                Key(Down),
                Type(" "),
                Key(Enter),
            ],
            vec![accepted(json!({"name": "Ada", "integer": 42}))],
            None,
        ),
        (
            "a bad email is not sent, then fixed",
            vec![
                Type("Ada"),
                Key(Tab),
                Type("ada"),
                Key(Enter),
                Type("@example.com"),
                Key(Enter),
            ],
            vec![accepted(json!({
                "name": "Ada", "email": "ada@example.com", "integer": 42, "fish": ["f1"]
            }))],
            None,
        ),
        (
            "Ctrl-D declines",
            vec![Ctrl('d')],
            vec![ElicitationAnswer::Decline { reason: None }],
            None,
        ),
        (
            "Esc cancels",
            vec![Type("Ada"), Key(Esc)],
            vec![ElicitationAnswer::Cancel],
            None,
        ),
    ];
    for (name, steps, expected, error) in cases {
        let mut forms = Forms::default();
        forms.push(request("c1"));
        let answers = press(&mut forms, &steps);
        let answers: Vec<ElicitationAnswer> = answers
            .into_iter()
            .map(|(call_id, answer)| {
                assert_eq!(call_id, "c1", "{name}");
                answer
            })
            .collect();
        assert_eq!(answers, expected, "{name}");
        let shown = forms.queue.front().and_then(|form| form.error.as_deref());
        assert_eq!(shown, error, "{name}");
        assert_eq!(forms.is_open(), expected.is_empty(), "{name}");
    }
}

#[test]
fn forms_queue_and_ctrl_c_cancels_them_all() {
    let mut forms = Forms::default();
    forms.push(request("c1"));
    forms.push(request("c2"));
    let first = press(&mut forms, &[Step::Key(KeyCode::Esc)]);
    assert_eq!(first, [("c1".to_owned(), ElicitationAnswer::Cancel)]);
    forms.push(request("c3"));
    let rest: Vec<String> = forms.cancel_all().into_iter().map(|(id, _)| id).collect();
    assert_eq!(rest, ["c2", "c3"]);
    assert!(!forms.is_open());
}

#[test]
fn the_form_shows_each_field_and_escapes_what_the_plugin_sent() {
    let mut forms = Forms::default();
    forms.push(request("c1"));
    press(&mut forms, &[Step::Type("Ada"), Step::Key(KeyCode::Enter)]);
    forms.push(request("c2"));
    press(
        &mut forms,
        &[
            Step::Key(KeyCode::Tab),
            Step::Type("ada"),
            Step::Key(KeyCode::Enter),
        ],
    );
    let area = Rect::new(0, 0, 80, 24);
    let mut buf = Buffer::empty(area);
    forms.render(area, &mut buf, &Theme::new(true));
    assert!(control_cells(&buf).is_empty(), "{:?}", control_cells(&buf));
    insta::assert_snapshot!("form", text(&buf));
}
