use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

use super::{Context, DEFAULT_ITEMS, Status, StatusItem, render};
use crate::app::tests::info;
use crate::test_util::text;
use crate::theme::Theme;

fn line(width: u16, context: Context, window_in_info: Option<u64>, hint: Option<&str>) -> String {
    let mut info = info();
    info.context_window = window_in_info;
    let area = Rect::new(0, 0, width, 1);
    let mut buf = Buffer::empty(area);
    let status = Status {
        info: Some(&info),
        context,
        total_tokens: None,
        items: &DEFAULT_ITEMS,
    };
    render(area, &mut buf, &Theme::new(true), &status, hint);
    text(&buf)
}

#[test]
fn status_lines() {
    let used = |used, window| Context { used, window };
    let lines = [
        line(100, used(50_000, Some(200_000)), None, None),
        line(100, used(0, None), Some(128_000), None),
        line(100, used(0, None), None, None),
        line(100, used(300_000, Some(200_000)), None, None),
        line(30, used(50_000, Some(200_000)), None, None),
        line(100, used(0, None), None, Some("Ctrl-C again to quit")),
    ];
    insta::assert_snapshot!("status_lines", lines.join("\n"));
}

#[test]
fn before_the_session_is_configured() {
    let area = Rect::new(0, 0, 20, 1);
    let mut buf = Buffer::empty(area);
    let status = Status {
        info: None,
        context: Context::default(),
        total_tokens: None,
        items: &DEFAULT_ITEMS,
    };
    render(area, &mut buf, &Theme::new(true), &status, None);
    assert_eq!(text(&buf), "starting…");
}

#[test]
fn configured_items_in_their_order_and_ids_the_line_cannot_show() {
    let ids: Vec<String> = [
        "context-used",
        "git-branch",
        "model-with-reasoning",
        "project-name",
        "used-tokens",
        "permissions",
        "five-hour-limit",
        "session-id",
        "current-dir",
    ]
    .map(str::to_owned)
    .to_vec();
    let (items, unknown) = StatusItem::parse_all(&ids);
    assert_eq!(unknown, ["git-branch", "five-hour-limit"]);
    let info = info();
    let area = Rect::new(0, 0, 200, 1);
    let mut buf = Buffer::empty(area);
    let status = Status {
        info: Some(&info),
        context: Context {
            used: 50_000,
            window: Some(200_000),
        },
        total_tokens: Some(1234),
        items: &items,
    };
    render(area, &mut buf, &Theme::new(true), &status, None);
    assert_eq!(
        text(&buf),
        "25% context used · gpt-5 · project · 1234 tokens used · workspace-write · approval \
         on-request · 0199a2b3-c4d5 · /work/project"
    );
}
