//! What the configuration asks of the terminal UI — `[tui]`, `[history]`,
//! `hide_agent_reasoning` — as the TUI's own options, and a warning for
//! each setting it cannot honour, saying what happens instead.

use std::path::Path;

use wharf_config::Config;
use wharf_config::ui::{
    HistoryPersistence, NotificationCondition, NotificationMethod, TuiNotifications,
};
use wharf_tui::history::{self, History};
use wharf_tui::notify::{self, Method, Notifications};
use wharf_tui::status_line::{DEFAULT_ITEMS, StatusItem};

/// The TUI's settings from `config`, and the warnings about them.
pub struct Settings {
    pub status_items: Vec<StatusItem>,
    pub notifications: Notifications,
    pub history: Option<History>,
    pub hide_reasoning: bool,
    /// `file_opener`'s URI scheme; `None`: plain paths.
    pub file_opener: Option<&'static str>,
    pub warnings: Vec<String>,
}

/// Terminals known to show OSC 9 as a desktop notification, by
/// `$TERM_PROGRAM`; elsewhere `auto` rings the bell.
const OSC9_TERMINALS: [&str; 3] = ["iTerm.app", "WezTerm", "ghostty"];

impl Settings {
    /// `term_program`: `$TERM_PROGRAM`, for `notification_method = "auto"`.
    pub fn of(config: &Config, term_program: Option<&str>) -> Settings {
        let mut warnings = Vec::new();
        let tui = &config.tui;
        let status_items = match &tui.status_line {
            None => DEFAULT_ITEMS.to_vec(),
            Some(ids) => {
                let (items, unknown) = StatusItem::parse_all(ids);
                if !unknown.is_empty() {
                    warnings.push(format!(
                        "`tui.status_line`: wharf's status line has no {} (left out; it can show \
                         model, model-with-reasoning (the model alone), permissions, sandbox, \
                         approval, context-remaining, context-used, used-tokens, current-dir, \
                         project-name, session-id)",
                        quoted(&unknown)
                    ));
                }
                items
            }
        };
        if let Some(theme) = &tui.theme {
            warnings.push(format!(
                "`tui.theme = {theme:?}`: wharf's terminal UI has one set of colours (NO_COLOR \
                 turns them off); the theme is not applied"
            ));
        }
        let kinds: Vec<&'static str> = match &tui.notifications {
            TuiNotifications::All => notify::KINDS.to_vec(),
            TuiNotifications::Off => Vec::new(),
            TuiNotifications::Only(names) => {
                let unknown: Vec<String> = names
                    .iter()
                    .filter(|name| !notify::KINDS.contains(&name.as_str()))
                    .cloned()
                    .collect();
                if !unknown.is_empty() {
                    warnings.push(format!(
                        "`tui.notifications`: wharf sends `agent-turn-complete` and \
                         `approval-requested` only; {} never comes",
                        quoted(&unknown)
                    ));
                }
                notify::KINDS
                    .into_iter()
                    .filter(|kind| names.iter().any(|name| name == kind))
                    .collect()
            }
        };
        let method = match tui.notification_method {
            NotificationMethod::Osc9 => Method::Osc9,
            NotificationMethod::Bel => Method::Bel,
            NotificationMethod::Auto
                if term_program.is_some_and(|t| OSC9_TERMINALS.contains(&t)) =>
            {
                Method::Osc9
            }
            NotificationMethod::Auto => Method::Bel,
        };
        let notifications = Notifications {
            kinds,
            method,
            unfocused_only: tui.notification_condition == NotificationCondition::Unfocused,
        };
        if config.show_raw_agent_reasoning {
            warnings.push(
                "`show_raw_agent_reasoning`: wharf shows the reasoning a provider streams the \
                 same way, summaries or raw text, so this changes nothing"
                    .to_owned(),
            );
        }
        Settings {
            status_items,
            notifications,
            history: (config.history.persistence == HistoryPersistence::SaveAll)
                .then(|| history_file(config, &config.wharf_home)),
            hide_reasoning: config.hide_agent_reasoning,
            file_opener: config.file_opener.scheme(),
            warnings,
        }
    }
}

/// `[history]`: `$WHARF_HOME/history.jsonl` (with `persistence = "none"`
/// the file is neither read nor written).
fn history_file(config: &Config, wharf_home: &Path) -> History {
    History {
        path: wharf_home.join(history::FILE_NAME),
        save: true,
        max_bytes: config.history.max_bytes,
    }
}

/// `` `a`, `b` ``.
fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|name| format!("`{name}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
