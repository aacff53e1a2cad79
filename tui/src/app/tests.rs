use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde_json::json;
use wharf_host::agent::Event;
use wharf_host::ops::{
    ApprovalPolicy, ApprovalRequest, Decision, FeatureState, ModelChoice, Op, PluginState,
    SessionInfo,
};
use wharf_host::rollout::SessionSummary;

use super::App;
use crate::theme::Theme;

/// One thing the user or the session does.
#[derive(Debug, Clone)]
enum Step {
    /// Characters typed one by one.
    Type(&'static str),
    Key(KeyCode),
    Ctrl(char),
    Shift(KeyCode),
    Alt(KeyCode),
    Paste(&'static str),
    Event(Event),
    /// Time passes.
    Wait(u64),
}
use Step::{Alt, Ctrl, Key, Paste, Shift, Type, Wait};

pub(crate) fn info() -> SessionInfo {
    SessionInfo {
        session_id: "0199a2b3-c4d5".to_owned(),
        cwd: PathBuf::from("/work/project"),
        model: "gpt-5".to_owned(),
        provider: "openai".to_owned(),
        sandbox: "workspace-write".to_owned(),
        approval_policy: ApprovalPolicy::OnRequest,
        context_window: Some(200_000),
        rollout: Some(PathBuf::from("/home/u/.wharf/sessions/rollout-1.jsonl")),
        instructions: vec![PathBuf::from("/work/project/AGENTS.md")],
        requirements: None,
        models: vec![
            ModelChoice {
                slug: "gpt-5".to_owned(),
                display_name: "GPT-5".to_owned(),
                description: "the default".to_owned(),
            },
            ModelChoice {
                slug: "gpt-5-mini".to_owned(),
                display_name: "GPT-5 mini".to_owned(),
                description: String::new(),
            },
        ],
        features: vec![
            FeatureState {
                name: "unified_exec".to_owned(),
                enabled: true,
                locked: None,
            },
            FeatureState {
                name: "web_search".to_owned(),
                enabled: false,
                locked: Some("disabled by requirements".to_owned()),
            },
        ],
        plugins: vec![
            PluginState {
                name: "apply_patch".to_owned(),
                kind: "wasm".to_owned(),
                feature: None,
                tools: vec!["apply_patch".to_owned()],
                unavailable: None,
            },
            PluginState {
                name: "docs".to_owned(),
                kind: "mcp".to_owned(),
                feature: Some("mcp".to_owned()),
                tools: vec!["search".to_owned(), "fetch".to_owned()],
                unavailable: None,
            },
            PluginState {
                name: "flaky".to_owned(),
                kind: "mcp".to_owned(),
                feature: None,
                tools: Vec::new(),
                unavailable: Some("skipped: the server did not start".to_owned()),
            },
        ],
    }
}

pub(crate) fn request(fields: serde_json::Value) -> ApprovalRequest {
    let mut base = json!({
        "call_id": "call_1",
        "tool": "exec_command",
        "plugin": "unified_exec",
        "args": "{}",
        "reason": "it runs commands",
    });
    if let (Some(base), Some(extra)) = (base.as_object_mut(), fields.as_object()) {
        base.extend(extra.clone());
    }
    serde_json::from_value(base).unwrap()
}

fn configured() -> Event {
    Event::SessionConfigured {
        info: Box::new(info()),
    }
}

fn approval(call_id: &str) -> Event {
    Event::ApprovalRequested {
        request: request(json!({"call_id": call_id, "command": "cargo test"})),
    }
}

fn sessions() -> Vec<SessionSummary> {
    serde_json::from_value(json!([
        {"path": "/h/s/a.jsonl", "meta": {"id": "id-new", "timestamp": "2026-12-07T09:00:00Z",
          "cwd": "/work/project", "model": "gpt-5", "provider": "openai", "wharf_version": "0.1.0"},
         "first_prompt": "fix the failing test\nin parser.rs"},
        {"path": "/h/s/b.jsonl", "meta": {"id": "id-old", "timestamp": "2026-12-01T12:00:00Z",
          "cwd": "/work/other", "model": "gpt-5", "provider": "openai", "wharf_version": "0.1.0"}}
    ]))
    .unwrap()
}

/// 2026-12-07T12:00:00Z.
fn fixed_unix_now() -> i64 {
    1_796_644_800
}

pub(crate) fn new_app(start: Instant) -> (App, Receiver<Op>) {
    let (tx, rx) = mpsc::channel();
    let mut app = App::new(tx, PathBuf::from("/work/project"), Theme::new(true), start);
    app.set_unix_now(fixed_unix_now);
    (app, rx)
}

fn play(app: &mut App, start: &mut Instant, steps: &[Step]) {
    for step in steps {
        match step.clone() {
            Type(text) => {
                for c in text.chars() {
                    app.handle_key(KeyEvent::from(KeyCode::Char(c)));
                }
            }
            Key(code) => app.handle_key(KeyEvent::from(code)),
            Ctrl(c) => app.handle_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)),
            Shift(code) => app.handle_key(KeyEvent::new(code, KeyModifiers::SHIFT)),
            Alt(code) => app.handle_key(KeyEvent::new(code, KeyModifiers::ALT)),
            Paste(text) => app.handle_paste(text),
            Step::Event(event) => app.handle_event(event),
            Wait(seconds) => {
                *start += Duration::from_secs(seconds);
                app.set_now(*start);
            }
        }
    }
}

fn input(text: &str) -> Op {
    Op::UserInput {
        text: text.to_owned(),
    }
}

fn answer(call_id: &str, decision: Decision) -> Op {
    Op::Approval {
        call_id: call_id.to_owned(),
        decision,
    }
}

fn deny(reason: Option<&str>) -> Decision {
    Decision::Deny {
        reason: reason.map(str::to_owned),
    }
}

/// (name, steps, the ops sent, whether the app quit).
fn cases() -> Vec<(&'static str, Vec<Step>, Vec<Op>, bool)> {
    let turn = Step::Event(Event::TurnStarted);
    vec![
        (
            "typing and Enter sends the prompt",
            vec![Type("hello"), Key(KeyCode::Enter)],
            vec![input("hello")],
            false,
        ),
        (
            "a blank prompt is not sent",
            vec![Type("   "), Key(KeyCode::Enter)],
            vec![],
            false,
        ),
        (
            "Shift-Enter adds a line",
            vec![
                Type("one"),
                Shift(KeyCode::Enter),
                Type("two"),
                Key(KeyCode::Enter),
            ],
            vec![input("one\ntwo")],
            false,
        ),
        (
            "Alt-Enter adds a line",
            vec![
                Type("one"),
                Alt(KeyCode::Enter),
                Type("two"),
                Key(KeyCode::Enter),
            ],
            vec![input("one\ntwo")],
            false,
        ),
        (
            "Ctrl-J adds a line",
            vec![Type("one"), Ctrl('j'), Type("two"), Key(KeyCode::Enter)],
            vec![input("one\ntwo")],
            false,
        ),
        (
            "a paste keeps its newlines, drops control characters",
            vec![Paste("a\r\nb\x1b[2J\rc\td"), Key(KeyCode::Enter)],
            vec![input("a\nb[2J\nc\td")],
            false,
        ),
        (
            "editing: left, backspace, home, end",
            vec![
                Type("helo"),
                Key(KeyCode::Left),
                Type("l"),
                Key(KeyCode::Home),
                Type(">"),
                Key(KeyCode::End),
                Key(KeyCode::Backspace),
                Key(KeyCode::Enter),
            ],
            vec![input(">hell")],
            false,
        ),
        (
            "delete at the cursor",
            vec![
                Type("abc"),
                Ctrl('a'),
                Key(KeyCode::Delete),
                Key(KeyCode::Enter),
            ],
            vec![input("bc")],
            false,
        ),
        (
            "↑ recalls the previous prompt",
            vec![
                Type("first"),
                Key(KeyCode::Enter),
                Type("second"),
                Key(KeyCode::Enter),
                Key(KeyCode::Up),
                Key(KeyCode::Up),
                Key(KeyCode::Enter),
            ],
            vec![input("first"), input("second"), input("first")],
            false,
        ),
        (
            "↓ goes back to what was being written",
            vec![
                Type("first"),
                Key(KeyCode::Enter),
                Type("draft"),
                Key(KeyCode::Up),
                Key(KeyCode::Down),
                Key(KeyCode::Enter),
            ],
            vec![input("first"), input("draft")],
            false,
        ),
        (
            "↑ in a multi-line text moves up a line first",
            vec![
                Type("old"),
                Key(KeyCode::Enter),
                Type("ab"),
                Shift(KeyCode::Enter),
                Type("cd"),
                Key(KeyCode::Up),
                Type("X"),
                Key(KeyCode::Enter),
            ],
            vec![input("old"), input("abX\ncd")],
            false,
        ),
        (
            "input while a turn runs is sent (the host queues it)",
            vec![turn.clone(), Type("more"), Key(KeyCode::Enter)],
            vec![input("more")],
            false,
        ),
        (
            "Esc during a turn interrupts",
            vec![turn.clone(), Key(KeyCode::Esc)],
            vec![Op::Interrupt],
            false,
        ),
        (
            "Esc when idle sends nothing",
            vec![Key(KeyCode::Esc)],
            vec![],
            false,
        ),
        (
            "Ctrl-C during a turn interrupts",
            vec![turn.clone(), Ctrl('c')],
            vec![Op::Interrupt],
            false,
        ),
        (
            "Ctrl-C clears the composer and does not quit",
            vec![Type("draft"), Ctrl('c'), Type("x"), Key(KeyCode::Enter)],
            vec![input("x")],
            false,
        ),
        (
            "Ctrl-C twice quits",
            vec![Ctrl('c'), Ctrl('c')],
            vec![Op::Shutdown],
            true,
        ),
        (
            "Ctrl-C clears a draft, a second one quits",
            vec![Type("draft"), Ctrl('c'), Ctrl('c')],
            vec![Op::Shutdown],
            true,
        ),
        (
            "Ctrl-C twice, seconds apart, does not quit",
            vec![Ctrl('c'), Wait(5), Ctrl('c')],
            vec![],
            false,
        ),
        (
            "Ctrl-C, a key, Ctrl-C does not quit",
            vec![Ctrl('c'), Key(KeyCode::Left), Ctrl('c')],
            vec![],
            false,
        ),
        (
            "Ctrl-C after a turn ends, twice, quits",
            vec![
                turn.clone(),
                Ctrl('c'),
                Step::Event(Event::TurnCompleted {
                    usage: Default::default(),
                }),
                Ctrl('c'),
                Ctrl('c'),
            ],
            vec![Op::Interrupt, Op::Shutdown],
            true,
        ),
        (
            "Ctrl-D on an empty composer quits",
            vec![Ctrl('d')],
            vec![Op::Shutdown],
            true,
        ),
        (
            "Ctrl-D on text deletes",
            vec![
                Type("ab"),
                Key(KeyCode::Home),
                Ctrl('d'),
                Key(KeyCode::Enter),
            ],
            vec![input("b")],
            false,
        ),
        (
            "session.ended quits without Shutdown",
            vec![Step::Event(Event::SessionEnded)],
            vec![],
            true,
        ),
        (
            "approval y: once",
            vec![turn.clone(), Step::Event(approval("c1")), Type("y")],
            vec![answer("c1", Decision::Approve)],
            false,
        ),
        (
            "approval a: for the session",
            vec![Step::Event(approval("c1")), Type("a")],
            vec![answer("c1", Decision::ApproveForSession)],
            false,
        ),
        (
            "approval n: no",
            vec![Step::Event(approval("c1")), Type("n")],
            vec![answer("c1", deny(None))],
            false,
        ),
        (
            "approval Esc: no",
            vec![Step::Event(approval("c1")), Key(KeyCode::Esc)],
            vec![answer("c1", deny(None))],
            false,
        ),
        (
            "approval r and a reason",
            vec![
                Step::Event(approval("c1")),
                Type("r"),
                Type("use the tests"),
                Key(KeyCode::Backspace),
                Type("s"),
                Key(KeyCode::Enter),
            ],
            vec![answer("c1", deny(Some("use the tests")))],
            false,
        ),
        (
            "approval r with a pasted reason",
            vec![
                Step::Event(approval("c1")),
                Type("r"),
                Paste("too\nrisky"),
                Key(KeyCode::Enter),
            ],
            vec![answer("c1", deny(Some("too risky")))],
            false,
        ),
        (
            "approval r then Esc goes back to the choices",
            vec![
                Step::Event(approval("c1")),
                Type("r"),
                Type("x"),
                Key(KeyCode::Esc),
                Type("y"),
            ],
            vec![answer("c1", Decision::Approve)],
            false,
        ),
        (
            "approval ↓↓ Enter: no",
            vec![
                Step::Event(approval("c1")),
                Key(KeyCode::Down),
                Key(KeyCode::Down),
                Key(KeyCode::Enter),
            ],
            vec![answer("c1", deny(None))],
            false,
        ),
        (
            "approval keys do not reach the composer",
            vec![Step::Event(approval("c1")), Type("qy"), Key(KeyCode::Enter)],
            vec![answer("c1", Decision::Approve)],
            false,
        ),
        (
            "queued approvals are answered in order, one at a time",
            vec![
                Step::Event(approval("c1")),
                Step::Event(approval("c2")),
                Type("n"),
                Type("a"),
            ],
            vec![
                answer("c1", deny(None)),
                answer("c2", Decision::ApproveForSession),
            ],
            false,
        ),
        (
            "Ctrl-C in the modal denies all and interrupts",
            vec![
                turn.clone(),
                Step::Event(approval("c1")),
                Step::Event(approval("c2")),
                Ctrl('c'),
                Type("y"),
            ],
            vec![
                answer("c1", deny(None)),
                answer("c2", deny(None)),
                Op::Interrupt,
            ],
            false,
        ),
        (
            "the end of the turn closes waiting approvals",
            vec![
                turn.clone(),
                Step::Event(approval("c1")),
                Step::Event(Event::TurnCompleted {
                    usage: Default::default(),
                }),
                Type("y"),
                Key(KeyCode::Enter),
            ],
            vec![input("y")],
            false,
        ),
        (
            "/diff",
            vec![Type("/diff"), Key(KeyCode::Enter)],
            vec![Op::Diff],
            false,
        ),
        (
            "/compact",
            vec![Type("/compact"), Key(KeyCode::Enter)],
            vec![Op::Compact],
            false,
        ),
        (
            "/new",
            vec![Type("/new"), Key(KeyCode::Enter)],
            vec![Op::NewThread],
            false,
        ),
        (
            "/status also asks the session",
            vec![
                Step::Event(configured()),
                Type("/status"),
                Key(KeyCode::Enter),
            ],
            vec![Op::Status],
            false,
        ),
        (
            "/quit",
            vec![Type("/quit"), Key(KeyCode::Enter)],
            vec![Op::Shutdown],
            true,
        ),
        (
            "/exit",
            vec![Type("/exit"), Key(KeyCode::Enter)],
            vec![Op::Shutdown],
            true,
        ),
        (
            "/qu with the popup runs the selected /quit",
            vec![Type("/qu"), Key(KeyCode::Enter)],
            vec![Op::Shutdown],
            true,
        ),
        (
            "/ and ↓ selects the second command",
            vec![Type("/"), Key(KeyCode::Down), Key(KeyCode::Enter)],
            vec![],
            false,
        ),
        (
            "Tab completes the command",
            vec![Type("/di"), Key(KeyCode::Tab), Key(KeyCode::Enter)],
            vec![Op::Diff],
            false,
        ),
        (
            "an unknown command sends nothing",
            vec![Type("/nope"), Key(KeyCode::Enter)],
            vec![],
            false,
        ),
        (
            "/model picks a model",
            vec![
                Step::Event(configured()),
                Type("/model"),
                Key(KeyCode::Enter),
                Key(KeyCode::Down),
                Key(KeyCode::Enter),
            ],
            vec![Op::SetModel {
                model: "gpt-5-mini".to_owned(),
            }],
            false,
        ),
        (
            "/model Esc closes",
            vec![
                Step::Event(configured()),
                Type("/model"),
                Key(KeyCode::Enter),
                Key(KeyCode::Esc),
                Type("hi"),
                Key(KeyCode::Enter),
            ],
            vec![input("hi")],
            false,
        ),
        (
            "/approvals picks a policy",
            vec![
                Step::Event(configured()),
                Type("/approvals"),
                Key(KeyCode::Enter),
                Key(KeyCode::Home),
                Key(KeyCode::Enter),
            ],
            vec![Op::SetApprovalPolicy {
                policy: ApprovalPolicy::Untrusted,
            }],
            false,
        ),
        (
            "/approvals never",
            vec![
                Type("/approvals"),
                Key(KeyCode::Enter),
                Key(KeyCode::End),
                Key(KeyCode::Enter),
            ],
            vec![Op::SetApprovalPolicy {
                policy: ApprovalPolicy::Never,
            }],
            false,
        ),
        (
            "/features toggles with Space",
            vec![
                Step::Event(configured()),
                Type("/features"),
                Key(KeyCode::Enter),
                Key(KeyCode::Char(' ')),
            ],
            vec![Op::SetFeature {
                name: "unified_exec".to_owned(),
                enabled: false,
            }],
            false,
        ),
        (
            "/features: a locked one does not toggle",
            vec![
                Step::Event(configured()),
                Type("/features"),
                Key(KeyCode::Enter),
                Key(KeyCode::Down),
                Key(KeyCode::Enter),
                Key(KeyCode::Char(' ')),
            ],
            vec![],
            false,
        ),
        (
            "/plugins and /mcp are local",
            vec![
                Step::Event(configured()),
                Type("/plugins"),
                Key(KeyCode::Enter),
                Type("/mcp"),
                Key(KeyCode::Enter),
            ],
            vec![],
            false,
        ),
        (
            "/resume lists, then resumes the chosen one",
            vec![
                Type("/resume"),
                Key(KeyCode::Enter),
                Step::Event(Event::SessionList {
                    sessions: sessions(),
                }),
                Key(KeyCode::Down),
                Key(KeyCode::Enter),
            ],
            vec![
                Op::ListSessions,
                Op::Resume {
                    id: "id-old".to_owned(),
                },
            ],
            false,
        ),
        (
            "a session list nobody asked for opens nothing",
            vec![
                Step::Event(Event::SessionList {
                    sessions: sessions(),
                }),
                Key(KeyCode::Enter),
                Type("x"),
                Key(KeyCode::Enter),
            ],
            vec![input("x")],
            false,
        ),
    ]
}

#[test]
fn keys_send_ops() {
    let mut failures = Vec::new();
    for (name, steps, expected, quits) in cases() {
        let mut now = Instant::now();
        let (mut app, rx) = new_app(now);
        play(&mut app, &mut now, &steps);
        let sent: Vec<Op> = rx.try_iter().collect();
        if sent != expected || app.should_quit() != quits {
            failures.push(format!(
                "{name}: sent {sent:?}, quit {}; expected {expected:?}, quit {quits}",
                app.should_quit()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

mod codex_keys;
mod screens;

#[test]
fn the_initial_prompt_is_sent_and_joins_the_history() {
    let mut now = Instant::now();
    let (mut app, rx) = new_app(now);
    app.send_prompt("explain this repository".to_owned());
    play(&mut app, &mut now, &[Key(KeyCode::Up), Key(KeyCode::Enter)]);
    let sent: Vec<Op> = rx.try_iter().collect();
    assert_eq!(
        sent,
        [
            input("explain this repository"),
            input("explain this repository")
        ]
    );
}

#[test]
fn the_session_going_away_ends_the_app() {
    let (mut app, rx) = new_app(Instant::now());
    drop(rx);
    play(
        &mut app,
        &mut Instant::now(),
        &[Type("hi"), Key(KeyCode::Enter)],
    );
    assert!(app.should_quit());
    let (mut app, _rx) = new_app(Instant::now());
    app.session_closed();
    assert!(app.should_quit() && app.session_ended());
}
