//! The keys of the interactive front ends, with codex's shapes: `[tui]`,
//! `[history]`, `file_opener` and the reasoning display switches.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::by_name::deserialize_by_name;

/// `[tui]`: how the terminal UI looks and when it gets your attention.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub struct TuiToml {
    /// Desktop notifications from the terminal UI: `true` (every kind),
    /// `false` (none), or the kinds to send, e.g.
    /// `["agent-turn-complete", "approval-requested"]`. Default `true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notifications: Option<TuiNotificationsToml>,
    /// How a notification reaches the terminal: `auto` (OSC 9 where the
    /// terminal is known to show it, else the bell), `osc9` or `bel`.
    /// Default `auto`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notification_method: Option<NotificationMethod>,
    /// When to notify: `unfocused` (only while the terminal is not
    /// focused) or `always`. Default `unfocused`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notification_condition: Option<NotificationCondition>,
    /// The items of the status line under the composer, in order, by id
    /// (e.g. `["model", "context-remaining", "current-dir"]`). Default: the
    /// terminal UI's own set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_line: Option<Vec<String>>,
    /// The syntax highlighting theme, by name. Default: one that suits the
    /// terminal's background.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub theme: Option<String>,
    /// Animations (spinners, shimmer). Default `true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub animations: Option<bool>,
    /// Tips on the welcome screen. Default `true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub show_tooltips: Option<bool>,
}

/// `true`, `false`, or the list of notification kinds to send.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum TuiNotificationsToml {
    Enabled(bool),
    Only(Vec<String>),
}

/// How the terminal UI sends a notification (codex's values).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum NotificationMethod {
    /// OSC 9 where the terminal is known to show it, else the bell.
    #[default]
    Auto,
    /// The OSC 9 escape sequence (a desktop notification in terminals that
    /// support it).
    Osc9,
    /// The terminal bell.
    Bel,
}

/// When the terminal UI sends a notification (codex's values).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum NotificationCondition {
    /// Only while the terminal does not have the focus.
    #[default]
    Unfocused,
    /// Whether or not the terminal has the focus.
    Always,
}

/// `[history]`: the record of the prompts you typed, shared by sessions
/// (codex's `history.jsonl`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub struct HistoryToml {
    /// `save-all` (the default) keeps every prompt; `none` writes nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub persistence: Option<HistoryPersistence>,
    /// The most bytes the history file may hold; the oldest entries are
    /// dropped past it. Default: no limit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_bytes: Option<u64>,
}

/// Whether prompts are written to the history file (codex's values).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum HistoryPersistence {
    /// Keep every prompt.
    #[default]
    SaveAll,
    /// Write no history.
    None,
}

/// The editor whose URI scheme file citations open in (codex's values).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum FileOpener {
    /// `vscode://file/…`.
    #[default]
    Vscode,
    /// `vscode-insiders://file/…`.
    VscodeInsiders,
    /// `windsurf://file/…`.
    Windsurf,
    /// `cursor://file/…`.
    Cursor,
    /// Citations stay plain paths.
    None,
}

deserialize_by_name!(NotificationMethod {
    Auto = "auto",
    Osc9 = "osc9",
    Bel = "bel",
});

deserialize_by_name!(NotificationCondition {
    Unfocused = "unfocused",
    Always = "always",
});

deserialize_by_name!(HistoryPersistence {
    SaveAll = "save-all",
    None = "none",
});

deserialize_by_name!(FileOpener {
    Vscode = "vscode",
    VscodeInsiders = "vscode-insiders",
    Windsurf = "windsurf",
    Cursor = "cursor",
    None = "none",
});

impl FileOpener {
    /// The URI scheme a citation link uses; `None` for plain paths.
    pub fn scheme(self) -> Option<&'static str> {
        match self {
            FileOpener::Vscode => Some("vscode"),
            FileOpener::VscodeInsiders => Some("vscode-insiders"),
            FileOpener::Windsurf => Some("windsurf"),
            FileOpener::Cursor => Some("cursor"),
            FileOpener::None => None,
        }
    }
}
