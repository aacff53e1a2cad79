use std::os::unix::fs::PermissionsExt as _;

use super::History;

fn history(dir: &std::path::Path, save: bool, max_bytes: Option<u64>) -> History {
    History {
        path: dir.join(super::FILE_NAME),
        save,
        max_bytes,
    }
}

#[test]
fn prompts_are_kept_in_order_in_a_file_of_the_users_own() {
    let dir = tempfile::tempdir().unwrap();
    let history = history(dir.path(), true, None);
    assert_eq!(history.load().unwrap(), Vec::<String>::new());
    history.append("s1", "fix the parser").unwrap();
    history.append("s1", "now with\ntwo lines").unwrap();
    assert_eq!(
        history.load().unwrap(),
        ["fix the parser", "now with\ntwo lines"]
    );
    let mode = std::fs::metadata(&history.path)
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let first = std::fs::read_to_string(&history.path).unwrap();
    let entry: serde_json::Value = serde_json::from_str(first.lines().next().unwrap()).unwrap();
    assert_eq!(entry["session_id"], "s1");
    assert!(entry["ts"].as_u64().unwrap() > 1_700_000_000);
}

#[test]
fn max_bytes_drops_the_oldest_entries() {
    let dir = tempfile::tempdir().unwrap();
    let history = history(dir.path(), true, Some(150));
    for n in 0..10 {
        history.append("s", &format!("prompt number {n}")).unwrap();
    }
    let size = std::fs::metadata(&history.path).unwrap().len();
    assert!(size <= 150, "{size}");
    let kept = history.load().unwrap();
    assert!(kept.len() >= 2, "{kept:?}");
    assert_eq!(kept.last().unwrap(), "prompt number 9");
    let expected: Vec<String> = (10 - kept.len()..10)
        .map(|n| format!("prompt number {n}"))
        .collect();
    assert_eq!(kept, expected);
}

#[test]
fn persistence_none_writes_nothing_and_a_symlink_is_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let off = history(dir.path(), false, None);
    off.append("s", "secret").unwrap();
    assert!(!off.path.exists());

    let target = dir.path().join("elsewhere");
    std::fs::write(&target, "").unwrap();
    std::os::unix::fs::symlink(&target, &off.path).unwrap();
    let on = history(dir.path(), true, None);
    assert!(on.append("s", "secret").is_err());
    assert!(on.load().is_err());
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "");
}
