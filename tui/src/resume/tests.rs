use super::{age, unix_seconds};

#[test]
fn timestamps_and_ages() {
    let cases = [
        ("1970-01-01T00:00:00Z", Some(0)),
        ("2000-03-01T00:00:00Z", Some(951_868_800)),
        ("2026-12-07T12:00:00Z", Some(1_796_644_800)),
        ("2026-12-07T12:00:00.123Z", Some(1_796_644_800)),
        ("2024-02-29T23:59:59Z", Some(1_709_251_199)),
        ("2026-13-01T00:00:00Z", None),
        ("yesterday", None),
        ("", None),
    ];
    for (timestamp, expected) in cases {
        assert_eq!(unix_seconds(timestamp), expected, "{timestamp}");
    }
    let ages = [
        (-5, "just now"),
        (59, "just now"),
        (60, "1m ago"),
        (3599, "59m ago"),
        (3600, "1h ago"),
        (86_399, "23h ago"),
        (172_800, "2d ago"),
    ];
    for (seconds, expected) in ages {
        assert_eq!(age(seconds), expected, "{seconds}");
    }
}

#[test]
fn the_full_screen_picker() {
    use ratatui::buffer::Buffer;
    use ratatui::layout::Rect;

    let sessions: Vec<wharf_host::rollout::SessionSummary> = serde_json::from_value(serde_json::json!([
        {"path": "/h/s/a.jsonl", "meta": {"id": "a", "timestamp": "2026-12-07T11:58:00Z",
          "cwd": "/work/project", "model": "gpt-5", "provider": "openai", "wharf_version": "0.1.0"},
         "first_prompt": "add a --json flag"},
        {"path": "/h/s/b.jsonl", "meta": {"id": "b", "timestamp": "2026-12-07T09:00:00Z",
          "cwd": "/work/project", "model": "gpt-5", "provider": "openai", "wharf_version": "0.1.0"},
         "first_prompt": "why does the build fail on arm64? it says the linker cannot find libc"},
        {"path": "/h/s/c.jsonl", "meta": {"id": "c", "timestamp": "not a time",
          "cwd": "/tmp", "model": "gpt-5", "provider": "openai", "wharf_version": "0.1.0"}}
    ]))
    .unwrap();
    let picker = super::picker(&sessions, 1_796_644_800);
    let area = Rect::new(0, 0, 80, 10);
    let mut buf = Buffer::empty(area);
    picker.render(area, &mut buf, &crate::theme::Theme::new(true));
    insta::assert_snapshot!("resume_full_screen", crate::test_util::text(&buf));
}
