//! What servers log (`notifications/message`). wharf keeps no log of its
//! own, so a server's warnings and worse go to a [`LogSink`] (stderr
//! unless the caller gives another), at most [`MAX_LOG_LINES`] per start
//! of the server, each on one line with control characters escaped; the
//! number of the others is told when the connection closes. Debug, info
//! and notice messages are dropped.
//!
//! rmcp marks MCP logging deprecated (it leaves the protocol in a later
//! version); servers still send it.
#![allow(deprecated)]

use std::sync::{Arc, Mutex, PoisonError};

use rmcp::model::{LoggingLevel, LoggingMessageNotificationParam};

use crate::names::shown;

/// Where a server's log lines go.
pub type LogSink = Arc<dyn Fn(&str) + Send + Sync>;

/// Log lines shown per start of a server; the rest are counted.
pub const MAX_LOG_LINES: usize = 20;
/// Characters of one message shown; the rest is cut.
const MAX_LOG_CHARS: usize = 500;

/// Each line on wharf's stderr.
pub fn stderr_log() -> LogSink {
    Arc::new(|line: &str| eprintln!("{line}"))
}

/// One connection's log: shares its budget between the handler's clones.
#[derive(Clone)]
pub(crate) struct LogRelay {
    server: String,
    sink: LogSink,
    counts: Arc<Mutex<Counts>>,
}

#[derive(Default)]
struct Counts {
    shown: usize,
    not_shown: usize,
}

impl LogRelay {
    pub(crate) fn new(server: &str, sink: LogSink) -> LogRelay {
        LogRelay {
            server: server.to_owned(),
            sink,
            counts: Arc::default(),
        }
    }

    pub(crate) fn relay(&self, params: &LoggingMessageNotificationParam) {
        let Some(level) = shown_level(params) else {
            return;
        };
        if !self.take_a_line() {
            return;
        }
        let text = match &params.data {
            serde_json::Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        let mut text: String = text.chars().take(MAX_LOG_CHARS + 1).collect();
        if text.chars().count() > MAX_LOG_CHARS {
            text = text.chars().take(MAX_LOG_CHARS).collect();
            text.push('…');
        }
        let logger = match &params.logger {
            Some(logger) => format!(" ({})", shown(logger)),
            None => String::new(),
        };
        (self.sink)(&format!(
            "mcp server `{}`{logger} {level}: {}",
            self.server,
            shown(&text)
        ));
    }

    /// A line of wharf's own about the server (a declined elicitation),
    /// within the same budget as the server's messages: a server asking
    /// again and again cannot flood the log.
    pub(crate) fn line(&self, text: &str) {
        if self.take_a_line() {
            (self.sink)(text);
        }
    }

    /// Whether one more line fits the budget (counted either way).
    fn take_a_line(&self) -> bool {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        if counts.shown == MAX_LOG_LINES {
            counts.not_shown += 1;
            return false;
        }
        counts.shown += 1;
        true
    }

    /// The connection closed: says how many messages were not shown.
    pub(crate) fn finish(&self) {
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        let not_shown = std::mem::take(&mut counts.not_shown);
        drop(counts);
        if not_shown > 0 {
            (self.sink)(&format!(
                "mcp server `{}`: {not_shown} more log message(s) were not shown \
                 (at most {MAX_LOG_LINES} are)",
                self.server
            ));
        }
    }
}

/// The level's name when it is shown: warning and worse.
fn shown_level(params: &LoggingMessageNotificationParam) -> Option<&'static str> {
    match params.level {
        LoggingLevel::Debug | LoggingLevel::Info | LoggingLevel::Notice => None,
        LoggingLevel::Warning => Some("warning"),
        LoggingLevel::Error => Some("error"),
        LoggingLevel::Critical => Some("critical"),
        LoggingLevel::Alert => Some("alert"),
        LoggingLevel::Emergency => Some("emergency"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(level: &str, data: serde_json::Value) -> LoggingMessageNotificationParam {
        serde_json::from_value(serde_json::json!({"level": level, "data": data})).unwrap()
    }

    #[test]
    fn warnings_are_shown_escaped_and_bounded() {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let kept = Arc::clone(&lines);
        let relay = LogRelay::new(
            "docs",
            Arc::new(move |line: &str| kept.lock().unwrap().push(line.to_owned())),
        );
        relay.relay(&message("info", "quiet".into()));
        relay.relay(&message("warning", "disk\n\u{1b}[2Jfull".into()));
        relay.relay(&message("error", serde_json::json!({"code": 3})));
        relay.relay(&message("error", "x".repeat(600).into()));
        for _ in 0..100 {
            relay.relay(&message("error", "again".into()));
        }
        relay.finish();
        relay.finish();
        let lines = lines.lock().unwrap();
        assert_eq!(lines.len(), MAX_LOG_LINES + 1, "{lines:?}");
        assert_eq!(lines[0], "mcp server `docs` warning: disk\\n\\u{1b}[2Jfull");
        assert_eq!(lines[1], r#"mcp server `docs` error: {\"code\":3}"#);
        assert_eq!(
            lines[2],
            format!("mcp server `docs` error: {}…", "x".repeat(500))
        );
        assert_eq!(
            lines[MAX_LOG_LINES],
            "mcp server `docs`: 83 more log message(s) were not shown (at most 20 are)"
        );
    }
}
