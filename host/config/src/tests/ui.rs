//! `[tui]`, `[history]`, `file_opener` and the reasoning switches: codex's
//! shapes load into `Config` with codex's defaults.

use super::Fixture;
use crate::ui::{
    FileOpener, HistoryConfig, HistoryPersistence, NotificationCondition, NotificationMethod,
    TuiConfig, TuiNotifications,
};

#[test]
fn without_keys_the_codex_defaults_apply() {
    let config = Fixture::new().load();
    assert_eq!(config.tui, TuiConfig::default());
    assert_eq!(config.tui.notifications, TuiNotifications::All);
    assert!(config.tui.animations && config.tui.show_tooltips);
    assert_eq!(config.history, HistoryConfig::default());
    assert_eq!(config.history.persistence, HistoryPersistence::SaveAll);
    assert_eq!(config.file_opener, FileOpener::Vscode);
    assert!(!config.hide_agent_reasoning);
    assert!(!config.show_raw_agent_reasoning);
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
}

#[test]
fn every_key_reaches_the_config() {
    let fixture = Fixture::new();
    fixture.user_config(
        r#"
file_opener = "cursor"
hide_agent_reasoning = true
show_raw_agent_reasoning = true

[tui]
notifications = ["agent-turn-complete"]
notification_method = "bel"
notification_condition = "always"
status_line = ["model", "current-dir"]
theme = "dracula"
animations = false
show_tooltips = false

[history]
persistence = "none"
max_bytes = 1048576
"#,
    );
    let config = fixture.load();
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);
    assert_eq!(
        config.tui,
        TuiConfig {
            notifications: TuiNotifications::Only(vec!["agent-turn-complete".to_owned()]),
            notification_method: NotificationMethod::Bel,
            notification_condition: NotificationCondition::Always,
            status_line: Some(vec!["model".to_owned(), "current-dir".to_owned()]),
            theme: Some("dracula".to_owned()),
            animations: false,
            show_tooltips: false,
        }
    );
    assert!(config.tui.notifications.allows("agent-turn-complete"));
    assert!(!config.tui.notifications.allows("approval-requested"));
    assert_eq!(
        config.history,
        HistoryConfig {
            persistence: HistoryPersistence::None,
            max_bytes: Some(1_048_576),
        }
    );
    assert_eq!(config.file_opener, FileOpener::Cursor);
    assert_eq!(config.file_opener.scheme(), Some("cursor"));
    assert!(config.hide_agent_reasoning);
    assert!(config.show_raw_agent_reasoning);
}

#[test]
fn notifications_take_a_boolean_and_profiles_change_single_keys() {
    let fixture = Fixture::new();
    fixture.user_config(
        r#"
profile = "quiet"
[tui]
notifications = true
theme = "nord"
[profiles.quiet.tui]
notifications = false
"#,
    );
    let config = fixture.load();
    assert_eq!(config.tui.notifications, TuiNotifications::Off);
    assert_eq!(config.tui.theme.as_deref(), Some("nord"));
}

#[test]
fn a_bad_value_names_the_key_and_the_allowed_values() {
    let fixture = Fixture::new();
    fixture.user_config("[history]\npersistence = \"some\"\n");
    let err = fixture.load_with(|_| {}).unwrap_err().to_string();
    assert!(err.contains("config.toml:2:15"), "{err}");
    assert!(err.contains("history.persistence"), "{err}");
    assert!(err.contains("expected `save-all` or `none`"), "{err}");
}
