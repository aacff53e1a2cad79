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
