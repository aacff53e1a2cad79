use super::*;
use crate::agent::Sink;
use wharf_model::protocol::Role;

fn meta(id: &str) -> SessionMeta {
    SessionMeta {
        id: id.to_owned(),
        timestamp: timestamp_now(),
        cwd: PathBuf::from("/work"),
        model: "m".to_owned(),
        provider: "openai".to_owned(),
        wharf_version: "0.1.0".to_owned(),
    }
}

fn message(text: &str) -> ResponseItem {
    ResponseItem::Message {
        role: Role::User,
        text: text.to_owned(),
        images: Vec::new(),
    }
}

#[test]
fn dates_are_utc_civil_dates() {
    assert_eq!(utc(0), ((1970, 1, 1), (0, 0, 0)));
    assert_eq!(utc(951_782_400), ((2000, 2, 29), (0, 0, 0)));
    assert_eq!(utc(1_735_689_599), ((2024, 12, 31), (23, 59, 59)));
}

#[test]
fn a_rollout_is_written_per_line_and_read_back() {
    let home = tempfile::tempdir().unwrap();
    let mut writer = RolloutWriter::create(home.path(), &meta("abc")).unwrap();
    writer.history(&message("hi"));
    writer.event(&Event::TurnStarted);
    // Flushed per line: readable while the writer is still open.
    let path = writer.path().to_path_buf();
    let rollout = Rollout::load(&path).unwrap();
    assert_eq!(rollout.meta.id, "abc");
    assert_eq!(rollout.history, [message("hi")]);
    assert_eq!(rollout.events, [Event::TurnStarted]);
    assert!(rollout.warnings.is_empty());
    assert!(writer.take_error().is_none());

    let relative = path.strip_prefix(sessions_dir(home.path())).unwrap();
    let parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    assert_eq!(parts.len(), 4, "{parts:?}");
    assert!(parts[3].starts_with(&format!("rollout-{}-{}-{}T", parts[0], parts[1], parts[2])));
    assert!(parts[3].ends_with("-abc.jsonl"));

    assert_eq!(find(home.path(), "abc").unwrap(), path);
    assert_eq!(latest(home.path()).unwrap(), path);
    assert!(matches!(
        find(home.path(), "nope"),
        Err(RolloutError::NotFound { .. })
    ));
}

#[test]
fn a_truncated_last_line_is_a_warning_and_appending_goes_on_after_it() {
    let home = tempfile::tempdir().unwrap();
    let mut writer = RolloutWriter::create(home.path(), &meta("t")).unwrap();
    writer.history(&message("one"));
    let path = writer.path().to_path_buf();
    drop(writer);
    let mut file = OpenOptions::new().append(true).open(&path).unwrap();
    file.write_all(br#"{"type":"response_item","item":{"type":"mess"#)
        .unwrap();
    drop(file);

    let rollout = Rollout::load(&path).unwrap();
    assert_eq!(rollout.history, [message("one")]);
    assert_eq!(rollout.warnings.len(), 1);
    assert!(rollout.warnings[0].contains(":3: the last line is cut short"));

    let mut writer = RolloutWriter::append(&path).unwrap();
    writer.history(&message("two"));
    drop(writer);
    // The cut line is gone; the file reads cleanly again.
    let rollout = Rollout::load(&path).unwrap();
    assert_eq!(rollout.history, [message("one"), message("two")]);
    assert!(rollout.warnings.is_empty());

    fs::write(&path, fs::read_to_string(&path).unwrap() + "garbage\n{}\n").unwrap();
    let err = Rollout::load(&path).unwrap_err();
    assert!(err.to_string().contains(":4: not a rollout line"), "{err}");
}

#[test]
fn a_file_without_meta_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.jsonl");
    fs::write(
        &path,
        "{\"type\":\"event\",\"event\":{\"type\":\"turn.started\"}}\n",
    )
    .unwrap();
    assert!(matches!(
        Rollout::load(&path),
        Err(RolloutError::NoMeta { .. })
    ));
}

/// Compaction lines: the conversation starts over from each (the items
/// after it follow), the events stay, and a rollout written before
/// compaction existed loads as before.
#[test]
fn a_compaction_replaces_the_history_loaded() {
    let line = |json: &str| format!("{json}\n");
    let meta_line = serde_json::to_string(&RolloutLine::SessionMeta(meta("c"))).unwrap();
    let item = |text: &str| {
        serde_json::to_string(&RolloutLine::ResponseItem {
            item: message(text),
        })
        .unwrap()
    };
    let compacted = |texts: &[&str]| {
        serde_json::to_string(&RolloutLine::Compacted {
            replacement_history: texts.iter().map(|text| message(text)).collect(),
        })
        .unwrap()
    };
    let event =
        r#"{"type":"event","event":{"type":"compacted","trigger":"auto","context_before":9}}"#;
    let cases: Vec<(Vec<String>, Vec<&str>)> = vec![
        (vec![item("one"), item("two")], vec!["one", "two"]),
        (
            vec![
                item("one"),
                item("two"),
                compacted(&["S"]),
                event.to_owned(),
                item("three"),
            ],
            vec!["S", "three"],
        ),
        (
            vec![
                item("a"),
                compacted(&["S1"]),
                item("b"),
                compacted(&["b", "S2"]),
                item("c"),
            ],
            vec!["b", "S2", "c"],
        ),
        (vec![item("a"), compacted(&[])], vec![]),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (lines, history) in cases {
        let path = dir.path().join("r.jsonl");
        let text: String = std::iter::once(&meta_line)
            .chain(&lines)
            .map(|l| line(l))
            .collect();
        fs::write(&path, text).unwrap();
        let rollout = Rollout::load(&path).unwrap();
        let expected: Vec<ResponseItem> = history.iter().map(|text| message(text)).collect();
        assert_eq!(rollout.history, expected, "{lines:?}");
    }
    // The writer's line is the one read back.
    let home = tempfile::tempdir().unwrap();
    let mut writer = RolloutWriter::create(home.path(), &meta("w")).unwrap();
    writer.history(&message("old"));
    writer.compacted(&[message("new")]);
    writer.history(&message("after"));
    let rollout = Rollout::load(writer.path()).unwrap();
    assert_eq!(rollout.history, [message("new"), message("after")]);
    let text = fs::read_to_string(writer.path()).unwrap();
    assert!(
        text.contains(r#"{"type":"compacted","replacement_history":[{"type":"message","role":"user","text":"new"}]}"#),
        "{text}"
    );
}
