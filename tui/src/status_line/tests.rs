use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

use super::{Context, render};
use crate::app::tests::info;
use crate::test_util::text;
use crate::theme::Theme;

fn line(width: u16, context: Context, window_in_info: Option<u64>, hint: Option<&str>) -> String {
    let mut info = info();
    info.context_window = window_in_info;
    let area = Rect::new(0, 0, width, 1);
    let mut buf = Buffer::empty(area);
    render(
        area,
        &mut buf,
        &Theme::new(true),
        Some(&info),
        context,
        hint,
    );
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
    render(
        area,
        &mut buf,
        &Theme::new(true),
        None,
        Context::default(),
        None,
    );
    assert_eq!(text(&buf), "starting…");
}
