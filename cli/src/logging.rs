//! wharf's own log: the host's `tracing` spans and events, as human lines,
//! in `$WHARF_HOME/log/wharf.log` (never on stdout or stderr, so that
//! `wharf exec`'s output and the TUI stay clean).
//!
//! What is written is chosen like `RUST_LOG`: `$WHARF_LOG`, else
//! `$RUST_LOG`, else [`DEFAULT_FILTER`] (wharf's own targets at `info`,
//! everything else at `warn`). `WHARF_LOG=off` writes nothing and creates
//! nothing. The file is capped: past [`MAX_LOG_BYTES`] it becomes
//! `wharf.log.1` (replacing the one before) and a new one starts, so the
//! log never holds more than twice the cap.

use std::path::Path;
use std::sync::Mutex;

use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::{Layer, SubscriberExt as _};
use tracing_subscriber::{EnvFilter, Registry};

use crate::terminal::safe;

mod line;
mod writer;

use line::Lines;
use writer::CappedFile;

/// What is logged when neither `$WHARF_LOG` nor `$RUST_LOG` says: every
/// target of wharf (its crates, `wharf_*`, and its events, `wharf.*`) at
/// `info`, the libraries it uses at `warn`.
pub const DEFAULT_FILTER: &str = "warn,wharf=info";
/// The size at which the log file is rotated.
pub const MAX_LOG_BYTES: u64 = 10 * 1024 * 1024;
/// The log's file name in `$WHARF_HOME/log/`.
const LOG_FILE: &str = "wharf.log";

/// A layer that exports the host's events (the `telemetry` capability).
pub type Exporter = Box<dyn Layer<Registry> + Send + Sync>;

/// What flushes and stops an exporter at exit, within its own deadline.
pub type Shutdown = Box<dyn FnOnce() + Send>;

/// How to stop the exporter [`init`] installed.
static SHUTDOWN: Mutex<Option<Shutdown>> = Mutex::new(None);

/// Installs the subscriber: wharf's log under `wharf_home` (`None`: the
/// home is unknown, the command fails on its own; nothing is logged) and
/// `exporter`, each with its own filter. A filter that does not parse, or
/// a log that cannot be opened, is one warning on stderr and the run goes
/// on.
pub fn init(wharf_home: Option<&Path>, exporter: Option<(Exporter, Shutdown)>) {
    let log = wharf_home.and_then(log_layer);
    if log.is_none() && exporter.is_none() {
        return;
    }
    let (exporter, shutdown) = exporter.unzip();
    let subscriber = Registry::default().with(exporter).with(log);
    if tracing::subscriber::set_global_default(subscriber).is_ok() {
        if let Ok(mut slot) = SHUTDOWN.lock() {
            *slot = shutdown;
        }
        tracing::info!(
            target: "wharf.start",
            pid = std::process::id(),
            app.version = env!("CARGO_PKG_VERSION"),
            "wharf started"
        );
    }
}

/// The layer writing `$WHARF_HOME/log/wharf.log`, unless the filter is
/// `off` or the file cannot be opened.
fn log_layer<S>(wharf_home: &Path) -> Option<impl Layer<S> + Send + Sync + use<S>>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    let filter = filter(
        std::env::var("WHARF_LOG").ok(),
        std::env::var("RUST_LOG").ok(),
    );
    if filter.max_level_hint() == Some(LevelFilter::OFF) {
        return None;
    }
    let dir = wharf_home.join("log");
    let writer = match CappedFile::open(&dir, MAX_LOG_BYTES).and_then(writer::start) {
        Ok(writer) => writer,
        Err(err) => {
            eprintln!(
                "warning: cannot write wharf's log in {}: {err}; this run keeps no log (fix the \
                 directory, or set WHARF_LOG=off)",
                safe(&dir.display().to_string())
            );
            return None;
        }
    };
    Some(Lines::new(writer).with_filter(filter))
}

/// Writes what wharf's log and the audit logs still hold, then flushes and stops the
/// exporter, if there is one: what it holds is sent, within its deadline.
/// Called once, as wharf exits.
pub fn shutdown() {
    // The audit log's records too.
    wharf_host::write_behind::finish_all();
    let shutdown = SHUTDOWN.lock().ok().and_then(|mut slot| slot.take());
    if let Some(shutdown) = shutdown {
        shutdown();
    }
}

/// The filter of `$WHARF_LOG`, else of `$RUST_LOG`, else the default; a
/// filter that does not parse is a warning and the default.
fn filter(wharf_log: Option<String>, rust_log: Option<String>) -> EnvFilter {
    let chosen = [("WHARF_LOG", wharf_log), ("RUST_LOG", rust_log)]
        .into_iter()
        .find_map(|(name, value)| Some((name, value.filter(|v| !v.trim().is_empty())?)));
    if let Some((name, text)) = chosen {
        match parse(&text) {
            Ok(filter) => return filter,
            Err(err) => eprintln!(
                "warning: {name}: {}: {err}; logging with `{DEFAULT_FILTER}` instead",
                safe(&text)
            ),
        }
    }
    parse(DEFAULT_FILTER).unwrap_or_else(|_| EnvFilter::new("warn"))
}

fn parse(text: &str) -> Result<EnvFilter, tracing_subscriber::filter::ParseError> {
    EnvFilter::builder()
        // Field values are matched as text, not as regular expressions.
        .with_regex(false)
        .parse(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_variable_set_chooses_the_filter() {
        // (WHARF_LOG, RUST_LOG, the filter in effect)
        let cases = [
            (None, None, DEFAULT_FILTER),
            (Some("debug"), None, "debug"),
            (None, Some("trace"), "trace"),
            (Some("off"), Some("trace"), "off"),
            (
                Some(" "),
                Some("wharf.api_request=debug"),
                "wharf.api_request=debug",
            ),
            // Not a filter: the default, after a warning.
            (Some("wharf=loud"), None, DEFAULT_FILTER),
        ];
        for (wharf_log, rust_log, expected) in cases {
            let filter = filter(wharf_log.map(str::to_owned), rust_log.map(str::to_owned));
            let expected = parse(expected).unwrap();
            assert_eq!(
                filter.to_string(),
                expected.to_string(),
                "WHARF_LOG={wharf_log:?} RUST_LOG={rust_log:?}"
            );
        }
    }
}
