use super::{Command, Popup, command_name, find};

#[test]
fn the_popup_filters_by_prefix() {
    let cases: [(&str, Option<&[&str]>); 8] = [
        (
            "/",
            Some(&[
                "model",
                "approvals",
                "status",
                "features",
                "plugins",
                "mcp",
                "diff",
                "compact",
                "new",
                "resume",
                "quit",
                "exit",
            ]),
        ),
        ("/m", Some(&["model", "mcp"])),
        ("/e", Some(&["exit"])),
        ("/c", Some(&["compact"])),
        ("/zz", Some(&[])),
        ("/model ", None),
        ("hello", None),
        ("", None),
    ];
    for (text, expected) in cases {
        let names: Option<Vec<&str>> =
            Popup::matches(text).map(|m| m.iter().map(|(_, name, _)| *name).collect());
        assert_eq!(names.as_deref(), expected, "{text:?}");
    }
}

#[test]
fn selection_stays_among_the_matches() {
    let mut popup = Popup::default();
    popup.down("/m");
    popup.down("/m");
    assert_eq!(popup.selected("/m"), Some((Command::Mcp, "mcp")));
    popup.up();
    assert_eq!(popup.selected("/m"), Some((Command::Model, "model")));
    assert_eq!(popup.selected("/zz"), None);
}

#[test]
fn a_command_line_is_parsed() {
    assert_eq!(command_name("/model gpt-5"), Some("model"));
    assert_eq!(command_name("/"), Some(""));
    assert_eq!(command_name("model"), None);
    assert_eq!(find("resume"), Some(Command::Resume));
    assert_eq!(find("res"), None);
}
