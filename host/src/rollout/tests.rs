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
