//! Snapshots of the whole screen.

use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Instant;

use crossterm::event::KeyCode;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use serde_json::json;
use wharf_host::agent::Event;

use super::Step::{self, Ctrl, Key, Shift, Type, Wait};
use super::{approval, configured, fixed_unix_now, play, sessions};
use crate::app::App;
use crate::theme::Theme;

fn event(value: serde_json::Value) -> Event {
    serde_json::from_value(value).unwrap()
}

/// A session in the middle of a turn: a prompt, an answer, a running
/// command, 25% of the context used, 12 seconds in.
fn busy() -> Vec<Step> {
    vec![
        Step::Event(configured()),
        Step::Event(event(json!({"type": "thread.started", "thread_id": "t1"}))),
        Step::Event(Event::TurnStarted),
        Step::Event(event(json!({"type": "item.completed", "item":
            {"id": "item_0", "type": "user_message", "text": "Fix the failing test in parser.rs"}}))),
        Step::Event(event(json!({"type": "item.completed", "item":
            {"id": "item_1", "type": "agent_message", "text": "I'll run the **tests** first."}}))),
        Step::Event(event(json!({"type": "item.started", "item":
            {"id": "item_2", "type": "command_execution", "tool": "exec_command",
             "command": "cargo test -p parser", "aggregated_output": "", "status": "in_progress"}}))),
        Step::Event(event(json!({"type": "token.count",
            "total": {"input_tokens": 48000, "cached_input_tokens": 0, "output_tokens": 2000,
                      "reasoning_output_tokens": 0, "total_tokens": 50000},
            "context_used": 50000, "context_window": 200000}))),
        Wait(12),
    ]
}

/// The screen after `steps`, at `width`×`height`.
fn screen(steps: &[Step], width: u16, height: u16, theme: Theme) -> Buffer {
    let mut now = Instant::now();
    let (tx, _rx) = mpsc::channel();
    let mut app = App::new(tx, PathBuf::from("/work/project"), theme, now);
    app.set_unix_now(fixed_unix_now);
    play(&mut app, &mut now, steps);
    let area = Rect::new(0, 0, width, height);
    let mut buf = Buffer::empty(area);
    app.render(area, &mut buf);
    buf
}

/// A finished command with 20 lines of output.
fn long_output() -> Vec<Step> {
    let output: String = (1..=20).map(|i| format!("line {i}\n")).collect();
    vec![
        Step::Event(configured()),
        Step::Event(event(json!({"type": "item.completed", "item":
            {"id": "item_0", "type": "command_execution", "tool": "exec_command",
             "command": "seq 20", "aggregated_output": output, "exit_code": 0,
             "status": "completed"}}))),
    ]
}

/// 30 prompts, more than a screen.
fn many_prompts() -> Vec<Step> {
    let mut steps = vec![Step::Event(configured())];
    for i in 0..30 {
        steps.push(Step::Event(event(json!({"type": "item.completed", "item":
            {"id": format!("item_{i}"), "type": "user_message", "text": format!("prompt {i}")}}))));
    }
    steps
}

/// Saved sessions whose prompt and directory hold terminal escapes.
fn hostile_sessions() -> Vec<Step> {
    let sessions = serde_json::from_value(json!([
        {"path": "/h/s/a.jsonl", "meta": {"id": "id-1", "timestamp": "2026-12-07T09:00:00Z",
          "cwd": "/work/\u{1b}]52;c;aGk=\u{7}x", "model": "m\u{1b}[2J", "provider": "p",
          "wharf_version": "0.1.0"},
         "first_prompt": "hi\u{1b}[31m red\r\u{9b}2J"}
    ]))
    .unwrap();
    vec![
        Type("/resume"),
        Key(KeyCode::Enter),
        Step::Event(Event::SessionList { sessions }),
    ]
}

/// A session whose model, plugins and tools have escapes in their names.
fn hostile_info() -> Vec<Step> {
    let mut info = super::info();
    info.model = "gpt\u{1b}[2J".to_owned();
    info.plugins[1].name = "docs\u{1b}]0;title\u{7}".to_owned();
    info.plugins[1].tools = vec!["search\r".to_owned()];
    info.models[1].display_name = "mini\u{1b}[1A".to_owned();
    vec![
        Step::Event(Event::SessionConfigured {
            info: Box::new(info),
        }),
        Type("/mcp"),
        Key(KeyCode::Enter),
        Type("/status"),
        Key(KeyCode::Enter),
        Type("/model"),
        Key(KeyCode::Enter),
    ]
}

fn with(mut steps: Vec<Step>, more: &[Step]) -> Vec<Step> {
    steps.extend_from_slice(more);
    steps
}

/// (snapshot name, steps, width, height).
fn screens() -> Vec<(&'static str, Vec<Step>, u16, u16)> {
    vec![
        ("screen_40x10", busy(), 40, 10),
        ("screen_120x40", busy(), 120, 40),
        (
            "screen_idle_multiline_composer",
            vec![
                Step::Event(configured()),
                Type("first line"),
                Shift(KeyCode::Enter),
                Type("second line"),
            ],
            60,
            12,
        ),
        (
            "slash_popup",
            vec![Step::Event(configured()), Type("/")],
            70,
            18,
        ),
        (
            "slash_popup_filtered",
            vec![Step::Event(configured()), Type("/m")],
            70,
            12,
        ),
        (
            "model_picker",
            vec![
                Step::Event(configured()),
                Type("/model"),
                Key(KeyCode::Enter),
            ],
            70,
            14,
        ),
        (
            "approvals_picker",
            vec![
                Step::Event(configured()),
                Type("/approvals"),
                Key(KeyCode::Enter),
            ],
            90,
            14,
        ),
        (
            "features_picker_locked",
            vec![
                Step::Event(configured()),
                Type("/features"),
                Key(KeyCode::Enter),
                Key(KeyCode::Down),
                Key(KeyCode::Enter),
            ],
            80,
            12,
        ),
        (
            "resume_picker",
            vec![
                Type("/resume"),
                Key(KeyCode::Enter),
                Step::Event(Event::SessionList {
                    sessions: sessions(),
                }),
            ],
            90,
            12,
        ),
        (
            "approval_over_the_screen_40x10",
            with(busy(), &[Step::Event(approval("c1"))]),
            40,
            10,
        ),
        (
            "quit_hint",
            vec![Step::Event(configured()), Ctrl('c')],
            60,
            8,
        ),
        (
            "unknown_command",
            vec![
                Step::Event(configured()),
                Type("/nope"),
                Key(KeyCode::Enter),
            ],
            60,
            8,
        ),
        (
            "status_cell",
            vec![
                Step::Event(configured()),
                Type("/status"),
                Key(KeyCode::Enter),
            ],
            80,
            24,
        ),
        (
            "plugins_cell",
            vec![
                Step::Event(configured()),
                Type("/plugins"),
                Key(KeyCode::Enter),
            ],
            80,
            16,
        ),
        ("output_folded", long_output(), 60, 20),
        ("escapes_in_saved_sessions", hostile_sessions(), 80, 10),
        ("escapes_in_session_info", hostile_info(), 80, 30),
        (
            "output_expanded_ctrl_o",
            with(long_output(), &[Ctrl('o')]),
            60,
            30,
        ),
        (
            "scrolled_back_page_up",
            with(many_prompts(), &[Key(KeyCode::PageUp)]),
            60,
            12,
        ),
        (
            "scrolled_back_and_forth",
            with(
                many_prompts(),
                &[
                    Key(KeyCode::PageUp),
                    Key(KeyCode::PageUp),
                    Key(KeyCode::PageDown),
                ],
            ),
            60,
            12,
        ),
        (
            "thread_started_clears",
            with(
                busy(),
                &[Step::Event(event(
                    json!({"type": "thread.started", "thread_id": "t2"}),
                ))],
            ),
            60,
            10,
        ),
        (
            "mcp_cell",
            vec![Step::Event(configured()), Type("/mcp"), Key(KeyCode::Enter)],
            80,
            12,
        ),
    ]
}

#[test]
fn screens_snapshot() {
    for (name, steps, width, height) in screens() {
        let buf = screen(&steps, width, height, Theme::new(true));
        insta::assert_snapshot!(name, crate::test_util::text(&buf));
    }
}

#[test]
fn no_control_character_reaches_the_terminal() {
    for (name, steps, width, height) in screens() {
        let buf = screen(&steps, width, height, Theme::new(true));
        let found = crate::test_util::control_cells(&buf);
        assert!(found.is_empty(), "{name}: control characters at {found:?}");
    }
}

#[test]
fn without_colour_no_cell_has_a_colour() {
    for (name, steps, width, height) in screens() {
        let buf = screen(&steps, width, height, Theme::new(false));
        let colored = crate::test_util::colored_cells(&buf);
        assert!(colored.is_empty(), "{name}: coloured cells at {colored:?}");
    }
}

#[test]
fn every_size_down_to_tiny_renders() {
    for (width, height) in [(40, 10), (20, 5), (1, 1), (0, 0), (200, 3)] {
        screen(
            &with(busy(), &[Step::Event(approval("c1")), Type("r")]),
            width,
            height,
            Theme::new(true),
        );
        screen(
            &[Step::Event(configured()), Type("/")],
            width,
            height,
            Theme::new(true),
        );
        screen(
            &[
                Step::Event(configured()),
                Type("/model"),
                Key(KeyCode::Enter),
            ],
            width,
            height,
            Theme::new(true),
        );
    }
}
