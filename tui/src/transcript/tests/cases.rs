//! What each kind of cell looks like, in each state.

use std::time::{Duration, Instant};

use insta::assert_snapshot;

use super::{Scroll, draw, screen, text, transcript};
use crate::theme::Theme;

const MARKDOWN: &str = r##"
@0 {"type":"item.completed","item":{"id":"item_0","type":"user_message","text":"Explain the layout cache, please.\nShort answer."}}
@1 {"type":"item.completed","item":{"id":"item_1","type":"agent_message","text":"# The cache\n\nEach cell keeps its **wrapped lines** per *width*, and ~~nothing~~ little else.\n\n## Steps\n\n1. Lay out the `running` cells.\n2. Sum the heights:\n   - completed cells are cached\n   - streaming ones are not\n     1. nested deeper\n3. Draw the visible rows.\n\n> A quote that is long enough to wrap around at a narrow width, to show its bar.\n\nSee [the docs](https://example.com/docs) or <https://example.com>.\n\n---\n\n- [x] done\n- [ ] to do"}}
"##;

#[test]
fn markdown_wide_and_narrow() {
    assert_snapshot!("markdown_wide", screen(MARKDOWN, (120, 30), 1));
    assert_snapshot!("markdown_narrow", screen(MARKDOWN, (40, 45), 1));
}

pub(super) const CODE: &str = r##"
@0 {"type":"item.completed","item":{"id":"item_1","type":"agent_message","text":"Rust:\n\n```rust\n// add one\nfn inc(x: u32) -> u32 {\n    let s = \"hi\"; /* ok */\n    x + 1\n}\n```\n\nPython and an unknown language:\n\n```python\ndef f(a):\n    return 'x' + str(42)  # done\n```\n\n```brainfuck\n++[>+<-]\n```"}}
"##;

#[test]
fn code_blocks() {
    assert_snapshot!(screen(CODE, (60, 22), 0));
}

pub(super) const COMMANDS: &str = r##"
@0 {"type":"item.started","item":{"id":"item_1","type":"command_execution","tool":"exec","command":"cargo build","aggregated_output":"","status":"in_progress"}}
@0 {"type":"item.started","item":{"id":"item_2","type":"command_execution","tool":"exec","command":"cargo test","aggregated_output":"","status":"in_progress"}}
@2 {"type":"item.completed","item":{"id":"item_2","type":"command_execution","tool":"exec","command":"cargo test","aggregated_output":"test result: ok\n","exit_code":0,"status":"completed"}}
@0 {"type":"item.started","item":{"id":"item_3","type":"command_execution","tool":"exec","command":"false","aggregated_output":"","status":"in_progress"}}
@1 {"type":"item.completed","item":{"id":"item_3","type":"command_execution","tool":"exec","command":"false","aggregated_output":"boom\n","exit_code":1,"status":"failed"}}
@1 {"type":"item.completed","item":{"id":"item_4","type":"command_execution","tool":"exec","command":"rm -rf /","aggregated_output":"denied: the user declined","status":"declined"}}
@0 {"type":"item.started","item":{"id":"item_5","type":"command_execution","tool":"exec","command":"sleep 100\necho later","aggregated_output":"","status":"in_progress"}}
@2 {"type":"item.completed","item":{"id":"item_5","type":"command_execution","tool":"exec","command":"sleep 100\necho later","aggregated_output":"cancelled","status":"cancelled"}}
"##;

#[test]
fn command_states() {
    assert_snapshot!(screen(COMMANDS, (60, 24), 3));
}

#[test]
fn a_running_cell_counts_its_seconds() {
    let start = Instant::now();
    let mut transcript = transcript(COMMANDS, start);
    assert!(transcript.is_running());
    let theme = Theme::new(true);
    let at = |secs| start + Duration::from_secs(secs);
    let shown = |transcript: &mut super::Transcript, secs| {
        let buf = draw(
            transcript,
            (60, 24),
            &mut Scroll::default(),
            &theme,
            at(secs),
        );
        text(&buf).lines().next().unwrap_or_default().to_owned()
    };
    let rows = |transcript: &mut super::Transcript, secs| {
        let buf = draw(
            transcript,
            (60, 24),
            &mut Scroll::default(),
            &theme,
            at(secs),
        );
        text(&buf)
    };
    assert_eq!(shown(&mut transcript, 3), "⠸ $ cargo build");
    assert!(rows(&mut transcript, 3).contains("└ running · 3s"));
    assert!(rows(&mut transcript, 75).contains("└ running · 1m 15s"));
    let done = r#"{"type":"item.completed","item":{"id":"item_1","type":"command_execution","tool":"exec","command":"cargo build","aggregated_output":"","exit_code":0,"status":"completed"}}"#;
    let event = serde_json::from_str(done).expect("an event");
    transcript.apply(&event, at(80));
    assert!(!transcript.is_running());
    assert!(rows(&mut transcript, 500).contains("└ done · exit 0 · 1m 20s"));
}

const LONG_OUTPUT: &str = r##"
@0 {"type":"item.started","item":{"id":"item_1","type":"command_execution","tool":"exec","command":"seq 12","aggregated_output":"","status":"in_progress"}}
@4 {"type":"item.completed","item":{"id":"item_1","type":"command_execution","tool":"exec","command":"seq 12","aggregated_output":"1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n","exit_code":0,"status":"completed"}}
"##;

#[test]
fn output_folded_then_expanded() {
    let start = Instant::now();
    let mut transcript = transcript(LONG_OUTPUT, start);
    let theme = Theme::new(true);
    let mut scroll = Scroll::default();
    let buf = draw(&mut transcript, (50, 10), &mut scroll, &theme, start);
    assert_snapshot!("output_folded", text(&buf));
    transcript.toggle_fold_all();
    let buf = draw(&mut transcript, (50, 17), &mut scroll, &theme, start);
    assert_snapshot!("output_expanded", text(&buf));
}

pub(super) const FILE_CHANGE: &str = r##"
@0 {"type":"item.started","item":{"id":"item_1","type":"file_change","tool":"apply_patch","changes":[],"output":"","status":"in_progress"}}
@1 {"type":"item.completed","item":{"id":"item_1","type":"file_change","tool":"apply_patch","changes":[{"path":"/work/project/src/lib.rs","kind":"update","diff":"--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -8,4 +8,5 @@ fn main() {\n     let a = 1;\n-    let b = 2;\n+    let b = 3;\n+    let c = a + b + a very long line that needs to wrap at a narrow width;\n     println!();\n \n@@ -98,2 +99,2 @@\n-old\n+new\n x\n"},{"path":"/work/project/NEW.md","kind":"add"},{"path":"/elsewhere/gone.txt","kind":"delete"}],"output":"Success. Updated the following files:\nM src/lib.rs","status":"completed"}}
"##;

#[test]
fn file_change_with_a_diff() {
    assert_snapshot!("file_change_wide", screen(FILE_CHANGE, (120, 24), 2));
    assert_snapshot!("file_change_narrow", screen(FILE_CHANGE, (40, 30), 2));
}

const CALLS: &str = r##"
@0 {"type":"item.completed","item":{"id":"item_1","type":"mcp_tool_call","server":"docs","tool":"search","arguments":{"query":"ratatui buffer","limit":3},"output":"Buffer: a grid of cells","status":"completed"}}
@0 {"type":"item.completed","item":{"id":"item_2","type":"tool_call","tool":"view_image","arguments":{"path":"shot.png"},"output":"[image]","status":"completed"}}
@0 {"type":"item.started","item":{"id":"item_3","type":"mcp_tool_call","server":"index","tool":"build","arguments":{},"output":"","status":"in_progress"}}
@1 {"type":"item.progress","item_id":"item_3","tool":"build","message":"step 1/4"}
@2 {"type":"item.progress","item_id":"item_3","tool":"build","message":"step 2/4"}
@3 {"type":"item.progress","item_id":"item_3","tool":"build","message":"step 3/4"}
@4 {"type":"item.progress","item_id":"item_3","tool":"build","message":"step 4/4"}
@0 {"type":"item.completed","item":{"id":"item_4","type":"tool_call","tool":"unknown_tool","arguments":"not json","output":"no such tool","status":"failed"}}
"##;

#[test]
fn mcp_and_other_calls() {
    assert_snapshot!(screen(CALLS, (60, 20), 5));
}

const MESSAGES: &str = r##"
@0 {"type":"error","message":"stream disconnected; retrying (1/5)"}
@0 {"type":"item.completed","item":{"id":"item_1","type":"error","message":"the model's reply was cut short"}}
@0 {"type":"turn.failed","error":{"message":"http 500 from the provider"}}
@0 {"type":"notice","title":"model","text":"model set to gpt-test"}
@0 {"type":"notice","title":"feature","text":"`web_search` is locked by the requirements\n(ask your administrator)","is_error":true}
@0 {"type":"notice","title":"diff","text":"diff --git a/a.txt b/a.txt\nindex 1..2 100644\n--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-one\n+two\n"}
"##;

#[test]
fn errors_warnings_and_notices() {
    let start = Instant::now();
    let mut transcript = transcript(MESSAGES, start);
    transcript.push_local("status", "model: gpt-test\nsandbox: workspace-write", false);
    transcript.push_local("unknown command", "/frobnicate (try /help)", true);
    let buf = draw(
        &mut transcript,
        (70, 30),
        &mut Scroll::default(),
        &Theme::new(true),
        start,
    );
    assert_snapshot!(text(&buf));
}

#[test]
fn scrolled_back_and_kept_in_place() {
    let start = Instant::now();
    let mut transcript = transcript(LONG_OUTPUT, start);
    transcript.toggle_fold_all();
    let theme = Theme::new(true);
    let mut scroll = Scroll::default();
    scroll.up(5);
    let buf = draw(&mut transcript, (40, 6), &mut scroll, &theme, start);
    assert_eq!(scroll.from_bottom, 5);
    assert_snapshot!("scrolled_back", text(&buf));
    // New rows below do not move the view…
    transcript.push_local("later", "one more", false);
    let again = draw(&mut transcript, (40, 6), &mut scroll, &theme, start);
    assert_eq!(text(&again), text(&buf));
    // …scrolling past the top stops at it, and to_end follows the end.
    scroll.up(1000);
    let top = draw(&mut transcript, (40, 6), &mut scroll, &theme, start);
    assert_eq!(text(&top).lines().next(), Some("✓ $ seq 12"));
    scroll.to_end();
    let end = draw(&mut transcript, (40, 6), &mut scroll, &theme, start);
    assert!(text(&end).ends_with("ℹ later: one more"), "{}", text(&end));
}

#[test]
fn streaming_then_complete_and_a_retried_response() {
    let start = Instant::now();
    let streaming = r##"
@0 {"type":"item.completed","item":{"id":"item_0","type":"user_message","text":"hi"}}
@0 {"type":"response.started"}
@0 {"type":"item.delta","kind":"reasoning","delta":"**Thinking** about"}
@0 {"type":"item.delta","kind":"reasoning","delta":" it"}
@0 {"type":"item.delta","kind":"agent_message","delta":"Hello, here is a list:\n\n- one"}
@0 {"type":"item.delta","kind":"agent_message","delta":"\n- tw"}
"##;
    let mut transcript = transcript(streaming, start);
    let theme = Theme::new(true);
    let mut scroll = Scroll::default();
    let size = (40, 12);
    let buf = draw(&mut transcript, size, &mut scroll, &theme, start);
    assert_snapshot!("streaming", text(&buf));
    // A retried response voids what streamed; the retry streams anew.
    let events = [
        r#"{"type":"response.started"}"#,
        r#"{"type":"item.delta","kind":"agent_message","delta":"Hel"}"#,
    ];
    for event in events {
        let event = serde_json::from_str(event).expect("an event");
        transcript.apply(&event, start);
    }
    let buf = draw(&mut transcript, size, &mut scroll, &theme, start);
    assert_snapshot!("streaming_retried", text(&buf));
    let done = r#"{"type":"item.completed","item":{"id":"item_2","type":"agent_message","text":"Hello again."}}"#;
    let event = serde_json::from_str(done).expect("an event");
    transcript.apply(&event, start);
    let buf = draw(&mut transcript, size, &mut scroll, &theme, start);
    assert_snapshot!("streaming_completed", text(&buf));
}

#[test]
fn wide_characters_wrap_by_columns() {
    let script = r##"
@0 {"type":"item.completed","item":{"id":"item_0","type":"user_message","text":"漢字の文章はスペースなしで折り返します。😀 emoji too"}}
"##;
    assert_snapshot!(screen(script, (20, 5), 0));
}

#[test]
fn a_long_diff_folds_until_expanded() {
    let diff: String = std::iter::once("@@ -1,60 +1,60 @@\n".to_owned())
        .chain((1..=60).map(|n| format!("-old {n}\n+new {n}\n")))
        .collect();
    let item = serde_json::json!({
        "type": "item.completed",
        "item": {"id": "item_1", "type": "file_change", "tool": "apply_patch", "output": "",
            "status": "completed",
            "changes": [{"path": "/work/project/a.txt", "kind": "update", "diff": diff}]},
    });
    let start = Instant::now();
    let mut transcript = transcript(&format!("@0 {item}"), start);
    let theme = Theme::new(true);
    let folded = transcript.line_count(80, &theme);
    let buf = draw(
        &mut transcript,
        (80, 50),
        &mut Scroll::default(),
        &theme,
        start,
    );
    assert!(
        text(&buf).contains("… 81 more lines (ctrl-o to expand)"),
        "{}",
        text(&buf)
    );
    transcript.toggle_fold_all();
    let expanded = transcript.line_count(80, &theme);
    assert_eq!(expanded - folded, 81 - 1);
    let buf = draw(
        &mut transcript,
        (80, 50),
        &mut Scroll::default(),
        &theme,
        start,
    );
    assert!(text(&buf).ends_with("└ done"), "{}", text(&buf));
}
