use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use serde_json::json;

use super::Approvals;
use crate::app::tests::request;
use crate::test_util::{colored_cells, text};
use crate::theme::Theme;

const PATCH: &str = "*** Begin Patch\n*** Update File: src/lib.rs\n@@ fn parse\n-    let x = 1;\n+    let x = 2;\n*** End Patch\n";

/// (snapshot name, the request's fields besides the defaults).
fn cases() -> Vec<(&'static str, serde_json::Value)> {
    vec![
        (
            "modal_command",
            json!({"command": "cargo test -p parser -- --nocapture"}),
        ),
        (
            "modal_patch",
            json!({"tool": "apply_patch", "plugin": "apply_patch", "patch": PATCH, "reason": "it edits files"}),
        ),
        (
            "modal_tool_with_args",
            json!({"tool": "search", "plugin": "docs", "args": "{\"query\":\"sandbox\",\"limit\":5}", "reason": "untrusted asks for every MCP call"}),
        ),
        (
            "modal_justification",
            json!({"command": "curl -sSf https://example.com/install.sh", "justification": "it needs the network to download the installer", "reason": "the model asks to run outside the sandbox"}),
        ),
        (
            "modal_retry_without_sandbox",
            json!({"command": "touch /etc/wharf-test", "retry_without_sandbox": true, "reason": "touch: cannot touch '/etc/wharf-test': Read-only file system"}),
        ),
        (
            "modal_escapes_shown",
            json!({"command": "echo \u{1b}]52;c;aGk=\u{7} \u{1b}[2J\rdone"}),
        ),
    ]
}

fn render(approvals: &mut Approvals, width: u16, height: u16, theme: &Theme) -> Buffer {
    let area = Rect::new(0, 0, width, height);
    let mut buf = Buffer::empty(area);
    approvals.render(area, &mut buf, theme);
    buf
}

#[test]
fn modal_snapshots() {
    for (name, fields) in cases() {
        let mut approvals = Approvals::default();
        approvals.push(request(fields));
        let buf = render(&mut approvals, 70, 20, &Theme::new(true));
        insta::assert_snapshot!(name, text(&buf));
    }
}

#[test]
fn modal_without_colour_has_no_colour() {
    for (name, fields) in cases() {
        let mut approvals = Approvals::default();
        approvals.push(request(fields));
        let buf = render(&mut approvals, 70, 20, &Theme::new(false));
        assert!(colored_cells(&buf).is_empty(), "{name}");
    }
}

#[test]
fn the_reason_input_and_the_queue_show() {
    let mut approvals = Approvals::default();
    approvals.push(request(json!({"call_id": "c1", "command": "rm -rf build"})));
    approvals.push(request(json!({"call_id": "c2", "command": "make"})));
    approvals.handle_key(crossterm::event::KeyEvent::from(
        crossterm::event::KeyCode::Char('r'),
    ));
    approvals.handle_paste("not now");
    let buf = render(&mut approvals, 60, 14, &Theme::new(true));
    insta::assert_snapshot!("modal_reason_input_queued", text(&buf));
}

#[test]
fn long_content_scrolls_at_40x10() {
    let long: String = (0..30).map(|i| format!("+line {i}\n")).collect();
    let patch = format!("*** Begin Patch\n*** Add File: notes.txt\n{long}*** End Patch\n");
    let mut approvals = Approvals::default();
    approvals.push(request(
        json!({"tool": "apply_patch", "plugin": "apply_patch", "patch": patch}),
    ));
    let top = text(&render(&mut approvals, 40, 10, &Theme::new(true)));
    approvals.handle_key(crossterm::event::KeyEvent::from(
        crossterm::event::KeyCode::PageDown,
    ));
    let scrolled = text(&render(&mut approvals, 40, 10, &Theme::new(true)));
    insta::assert_snapshot!("modal_40x10_top", top);
    insta::assert_snapshot!("modal_40x10_scrolled", scrolled);
}
