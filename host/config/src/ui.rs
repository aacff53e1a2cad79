//! `[tui]` and `[history]` with every default applied: what the terminal UI
//! and `exec` read (codex's keys and defaults).

pub use crate::toml_types::ui::{
    FileOpener, HistoryPersistence, NotificationCondition, NotificationMethod,
};
use crate::toml_types::ui::{HistoryToml, TuiNotificationsToml, TuiToml};

/// `[tui]`, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TuiConfig {
    /// Which notifications the terminal UI sends.
    pub notifications: TuiNotifications,
    pub notification_method: NotificationMethod,
    pub notification_condition: NotificationCondition,
    /// The status line's items by id, in order; `None`: the terminal UI's
    /// own set.
    pub status_line: Option<Vec<String>>,
    /// The syntax highlighting theme; `None`: chosen for the terminal.
    pub theme: Option<String>,
    pub animations: bool,
    pub show_tooltips: bool,
}

/// `tui.notifications`: all, none, or the listed kinds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TuiNotifications {
    All,
    Off,
    /// Only these kinds (e.g. `agent-turn-complete`, `approval-requested`).
    Only(Vec<String>),
}

impl TuiNotifications {
    /// Whether a notification of `kind` is sent.
    pub fn allows(&self, kind: &str) -> bool {
        match self {
            TuiNotifications::All => true,
            TuiNotifications::Off => false,
            TuiNotifications::Only(kinds) => kinds.iter().any(|k| k == kind),
        }
    }
}

impl Default for TuiConfig {
    fn default() -> Self {
        TuiConfig::resolve(None)
    }
}

impl TuiConfig {
    pub(crate) fn resolve(toml: Option<&TuiToml>) -> TuiConfig {
        let toml = toml.cloned().unwrap_or_default();
        TuiConfig {
            notifications: match toml.notifications {
                None | Some(TuiNotificationsToml::Enabled(true)) => TuiNotifications::All,
                Some(TuiNotificationsToml::Enabled(false)) => TuiNotifications::Off,
                Some(TuiNotificationsToml::Only(kinds)) => TuiNotifications::Only(kinds),
            },
            notification_method: toml.notification_method.unwrap_or_default(),
            notification_condition: toml.notification_condition.unwrap_or_default(),
            status_line: toml.status_line,
            theme: toml.theme,
            animations: toml.animations.unwrap_or(true),
            show_tooltips: toml.show_tooltips.unwrap_or(true),
        }
    }
}

/// `[history]`, resolved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HistoryConfig {
    pub persistence: HistoryPersistence,
    /// The most bytes the history file keeps; `None`: no limit.
    pub max_bytes: Option<u64>,
}

impl HistoryConfig {
    pub(crate) fn resolve(toml: Option<&HistoryToml>) -> HistoryConfig {
        HistoryConfig {
            persistence: toml
                .and_then(|history| history.persistence)
                .unwrap_or_default(),
            max_bytes: toml.and_then(|history| history.max_bytes),
        }
    }
}
