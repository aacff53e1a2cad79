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

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::{Layer, Layered, SubscriberExt as _};
use tracing_subscriber::{EnvFilter, Registry, reload};

use crate::terminal::safe;

/// What is logged when neither `$WHARF_LOG` nor `$RUST_LOG` says: every
/// target of wharf (its crates, `wharf_*`, and its events, `wharf.*`) at
/// `info`, the libraries it uses at `warn`.
pub const DEFAULT_FILTER: &str = "warn,wharf=info";
/// The size at which the log file is rotated.
pub const MAX_LOG_BYTES: u64 = 10 * 1024 * 1024;
/// The log's file name in `$WHARF_HOME/log/`.
const LOG_FILE: &str = "wharf.log";

/// A layer that exports the host's events (the `telemetry` capability),
/// added once the configuration says where to.
pub type Exporter = Box<dyn Layer<Registry> + Send + Sync>;

/// What flushes and stops an exporter at exit, within its own deadline.
pub type Shutdown = Box<dyn FnOnce() + Send>;

/// The exporter's place in the subscriber, empty until [`add_exporter`].
static EXPORTER: OnceLock<reload::Handle<Option<Exporter>, Registry>> = OnceLock::new();
/// How to stop the exporter that [`add_exporter`] put in place.
static SHUTDOWN: Mutex<Option<Shutdown>> = Mutex::new(None);

/// Installs the subscriber that writes wharf's log under `wharf_home`
/// (`None`: the home is unknown, the command fails on its own; nothing is
/// logged) and keeps a place for an exporter. A filter that does not
/// parse, or a log that cannot be opened, is one warning on stderr and the
/// run goes on.
pub fn init(wharf_home: Option<&Path>) {
    let (slot, handle) = reload::Layer::new(None::<Exporter>);
    let subscriber = Registry::default().with(slot).with(log_layer(wharf_home));
    if tracing::subscriber::set_global_default(subscriber).is_ok() {
        let _ = EXPORTER.set(handle);
        tracing::info!(
            target: "wharf.start",
            pid = std::process::id(),
            app.version = env!("CARGO_PKG_VERSION"),
            "wharf started"
        );
    }
}

/// The layer writing `$WHARF_HOME/log/wharf.log`, if there is to be one.
fn log_layer(
    wharf_home: Option<&Path>,
) -> Option<impl Layer<Layered<reload::Layer<Option<Exporter>, Registry>, Registry>>> {
    let wharf_home = wharf_home?;
    let filter = filter(
        std::env::var("WHARF_LOG").ok(),
        std::env::var("RUST_LOG").ok(),
    );
    if filter.max_level_hint() == Some(LevelFilter::OFF) {
        return None;
    }
    let dir = wharf_home.join("log");
    let writer = match CappedFile::open(&dir, MAX_LOG_BYTES) {
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
    let layer = tracing_subscriber::fmt::layer()
        .with_ansi(false)
        .with_writer(Mutex::new(writer))
        // A failed write must not reach stderr.
        .log_internal_errors(false)
        .with_filter(filter);
    Some(layer)
}

/// Puts `exporter` in its place in the subscriber; `shutdown` runs at
/// [`shutdown`]. `false` when no subscriber of [`init`] is installed.
pub fn add_exporter(exporter: Exporter, shutdown: Shutdown) -> bool {
    let Some(handle) = EXPORTER.get() else {
        return false;
    };
    if handle.reload(Some(exporter)).is_err() {
        return false;
    }
    if let Ok(mut slot) = SHUTDOWN.lock() {
        *slot = Some(shutdown);
    }
    true
}

/// Flushes and stops the exporter, if there is one: what it holds is sent,
/// within its deadline. Called once, as wharf exits.
pub fn shutdown() {
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

/// An append-only log file that moves itself aside past a size.
#[derive(Debug)]
struct CappedFile {
    path: PathBuf,
    file: File,
    /// The file's size, as far as this process knows.
    written: u64,
    cap: u64,
}

impl CappedFile {
    /// Opens (or creates) `dir/wharf.log`, creating `dir` (mode 0700; the
    /// file is 0600: the log names paths and commands).
    fn open(dir: &Path, cap: u64) -> io::Result<CappedFile> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        let path = dir.join(LOG_FILE);
        let file = open_append(&path)?;
        let written = file.metadata()?.len();
        Ok(CappedFile {
            path,
            file,
            written,
            cap,
        })
    }

    /// `wharf.log` becomes `wharf.log.1`, and a new `wharf.log` starts.
    fn rotate(&mut self) -> io::Result<()> {
        let mut old = self.path.clone().into_os_string();
        old.push(".1");
        fs::rename(&self.path, old)?;
        self.file = open_append(&self.path)?;
        self.written = 0;
        Ok(())
    }
}

/// Opens `path` to append, never through a symlink: whoever could plant
/// one there must not get wharf to write into another file.
fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
}

impl Write for CappedFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.written > 0 && self.written + buf.len() as u64 > self.cap {
            self.rotate()?;
        }
        let written = self.file.write(buf)?;
        self.written += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
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

    #[test]
    fn the_log_moves_aside_past_its_cap() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = CappedFile::open(dir.path(), 10).unwrap();
        // Each line is one write, as the subscriber makes them.
        for line in ["first\n", "second\n", "third\n", "fourth\n"] {
            log.write_all(line.as_bytes()).unwrap();
        }
        let read = |name: &str| fs::read_to_string(dir.path().join(name)).unwrap();
        assert_eq!(read("wharf.log"), "fourth\n");
        assert_eq!(read("wharf.log.1"), "third\n");
        // A line longer than the cap still gets written, alone.
        log.write_all(b"a line longer than the cap\n").unwrap();
        assert_eq!(read("wharf.log"), "a line longer than the cap\n");
        // Reopened, the size already there counts.
        let mut log = CappedFile::open(dir.path(), 30).unwrap();
        log.write_all(b"next\n").unwrap();
        assert_eq!(read("wharf.log"), "next\n");
        assert_eq!(read("wharf.log.1"), "a line longer than the cap\n");
    }

    #[test]
    fn a_symlink_in_the_logs_place_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let other = dir.path().join("other");
        fs::write(&other, "").unwrap();
        let log_dir = dir.path().join("log");
        fs::create_dir(&log_dir).unwrap();
        std::os::unix::fs::symlink(&other, log_dir.join(LOG_FILE)).unwrap();
        assert!(CappedFile::open(&log_dir, 10).is_err());
        assert_eq!(fs::read_to_string(&other).unwrap(), "");
    }
}
