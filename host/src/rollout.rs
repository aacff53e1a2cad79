//! Rollouts: every session as an append-only JSONL file under
//! `$WHARF_HOME/sessions/YYYY/MM/DD/rollout-<timestamp>-<id>.jsonl`.
//!
//! The first line is the session's [`SessionMeta`]; then one line per
//! conversation item (`response_item`, what a resumed session sends the
//! model again) and per event (`event`, what happened), each written and
//! flushed as it completes, so a crash loses at most the line in flight. A
//! resumed session appends to the same file. Reading tolerates a truncated
//! last line (reported as a warning); any other bad line is an error naming
//! the file and line. A compaction writes a `compacted` line holding the
//! conversation that replaced every item before it; loading starts the
//! conversation over from there.

use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::agent::{Event, Sink};
pub use crate::ops::{SessionMeta, SessionSummary};
use wharf_model::protocol::ResponseItem;

/// One line of a rollout.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RolloutLine {
    SessionMeta(SessionMeta),
    ResponseItem {
        item: ResponseItem,
    },
    Event {
        event: Event,
    },
    /// The conversation was compacted: `replacement_history` is the whole
    /// conversation from here on (the items before it are not sent again).
    Compacted {
        replacement_history: Vec<ResponseItem>,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum RolloutError {
    #[error("cannot write the rollout {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read the rollout {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}:{line}: not a rollout line: {message}", path.display())]
    Parse {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{}: the first line is not the session's meta line (is this a wharf rollout?)", path.display())]
    NoMeta { path: PathBuf },
    #[error("no session `{id}` under {} (list them with `ls {}`)", dir.display(), dir.display())]
    NotFound { id: String, dir: PathBuf },
    #[error("no sessions under {} yet", dir.display())]
    NoSessions { dir: PathBuf },
}

/// The sessions directory of a wharf home.
pub fn sessions_dir(wharf_home: &Path) -> PathBuf {
    wharf_home.join("sessions")
}

/// Appends a session's lines to its rollout file.
#[derive(Debug)]
pub struct RolloutWriter {
    path: PathBuf,
    file: BufWriter<File>,
    /// The first write error; later lines are not attempted.
    error: Option<RolloutError>,
}

impl RolloutWriter {
    /// A new rollout for `meta`'s session under `wharf_home`, dated now.
    pub fn create(wharf_home: &Path, meta: &SessionMeta) -> Result<RolloutWriter, RolloutError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let (date, time) = utc(now);
        let dir = sessions_dir(wharf_home)
            .join(format!("{:04}", date.0))
            .join(format!("{:02}", date.1))
            .join(format!("{:02}", date.2));
        let path = dir.join(format!(
            "rollout-{:04}-{:02}-{:02}T{:02}-{:02}-{:02}-{}.jsonl",
            date.0, date.1, date.2, time.0, time.1, time.2, meta.id
        ));
        let write_error = |source| RolloutError::Write {
            path: path.clone(),
            source,
        };
        fs::create_dir_all(&dir).map_err(write_error)?;
        let file = OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(&path)
            .map_err(write_error)?;
        let mut writer = RolloutWriter {
            path,
            file: BufWriter::new(file),
            error: None,
        };
        writer.write(&RolloutLine::SessionMeta(meta.clone()))?;
        Ok(writer)
    }

    /// Appends to an existing rollout (a resumed session). A line cut short
    /// by a crash is removed first (it was reported when the rollout was
    /// loaded), so the file stays readable.
    pub fn append(path: &Path) -> Result<RolloutWriter, RolloutError> {
        let write_error = |source| RolloutError::Write {
            path: path.to_path_buf(),
            source,
        };
        let bytes = fs::read(path).map_err(write_error)?;
        let file = OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(write_error)?;
        if bytes.last().is_some_and(|byte| *byte != b'\n') {
            let keep = bytes
                .iter()
                .rposition(|byte| *byte == b'\n')
                .map_or(0, |at| at + 1);
            file.set_len(keep as u64).map_err(write_error)?;
        }
        Ok(RolloutWriter {
            path: path.to_path_buf(),
            file: BufWriter::new(file),
            error: None,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes and flushes one line.
    pub fn write(&mut self, line: &RolloutLine) -> Result<(), RolloutError> {
        let write_error = |source| RolloutError::Write {
            path: self.path.clone(),
            source,
        };
        let mut text =
            serde_json::to_string(line).map_err(|err| write_error(std::io::Error::other(err)))?;
        text.push('\n');
        self.file
            .write_all(text.as_bytes())
            .and_then(|()| self.file.flush())
            .map_err(write_error)
    }

    /// The first error a [`Sink`] write met, if any.
    pub fn take_error(&mut self) -> Option<RolloutError> {
        self.error.take()
    }

    fn write_or_keep_error(&mut self, line: &RolloutLine) {
        if self.error.is_some() {
            return;
        }
        if let Err(err) = self.write(line) {
            self.error = Some(err);
        }
    }
}

impl Sink for RolloutWriter {
    fn event(&mut self, event: &Event) {
        if event.is_transient() {
            return;
        }
        self.write_or_keep_error(&RolloutLine::Event {
            event: event.clone(),
        });
    }

    fn history(&mut self, item: &ResponseItem) {
        self.write_or_keep_error(&RolloutLine::ResponseItem { item: item.clone() });
    }

    fn compacted(&mut self, history: &[ResponseItem]) {
        self.write_or_keep_error(&RolloutLine::Compacted {
            replacement_history: history.to_vec(),
        });
    }
}

/// A session's rollout shared by its event sink and its embedder, open
/// once the session has started (and, in an interactive session, replaced
/// by each new thread's). As a [`Sink`] it writes to the rollout when one
/// is open.
#[derive(Clone, Default)]
pub struct SharedRollout(std::sync::Arc<std::sync::Mutex<Option<RolloutWriter>>>);

impl SharedRollout {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<RolloutWriter>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Writes to `writer` from now on.
    pub fn set(&self, writer: RolloutWriter) {
        *self.lock() = Some(writer);
    }

    /// Writes nothing until the next [`SharedRollout::set`].
    pub fn clear(&self) {
        *self.lock() = None;
    }

    /// The file written to, if one is open.
    pub fn path(&self) -> Option<PathBuf> {
        self.lock()
            .as_ref()
            .map(|writer| writer.path().to_path_buf())
    }

    /// The first write error since the last call, if any.
    pub fn take_error(&self) -> Option<RolloutError> {
        self.lock().as_mut().and_then(RolloutWriter::take_error)
    }
}

impl Sink for SharedRollout {
    fn event(&mut self, event: &Event) {
        if let Some(writer) = self.lock().as_mut() {
            writer.event(event);
        }
    }

    fn history(&mut self, item: &ResponseItem) {
        if let Some(writer) = self.lock().as_mut() {
            writer.history(item);
        }
    }

    fn compacted(&mut self, history: &[ResponseItem]) {
        if let Some(writer) = self.lock().as_mut() {
            writer.compacted(history);
        }
    }
}

/// A rollout read back.
#[derive(Debug, Clone, PartialEq)]
pub struct Rollout {
    pub path: PathBuf,
    pub meta: SessionMeta,
    /// The conversation, to send the model again (from the last
    /// compaction on).
    pub history: Vec<ResponseItem>,
    /// The events, in order.
    pub events: Vec<Event>,
    /// What was tolerated (a truncated last line).
    pub warnings: Vec<String>,
}

impl Rollout {
    /// Reads the rollout at `path`.
    pub fn load(path: &Path) -> Result<Rollout, RolloutError> {
        let text = fs::read_to_string(path).map_err(|source| RolloutError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let complete = text.ends_with('\n');
        let lines: Vec<&str> = text.lines().collect();
        let mut meta = None;
        let mut history = Vec::new();
        let mut events = Vec::new();
        let mut warnings = Vec::new();
        for (index, line) in lines.iter().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let parsed = match serde_json::from_str::<RolloutLine>(line) {
                Ok(parsed) => parsed,
                Err(err) if index + 1 == lines.len() && !complete => {
                    warnings.push(format!(
                        "{}:{}: the last line is cut short ({err}), probably by a crash; \
                         the session continues without it",
                        path.display(),
                        index + 1
                    ));
                    break;
                }
                Err(err) => {
                    return Err(RolloutError::Parse {
                        path: path.to_path_buf(),
                        line: index + 1,
                        message: err.to_string(),
                    });
                }
            };
            match parsed {
                RolloutLine::SessionMeta(found) if meta.is_none() => meta = Some(found),
                RolloutLine::SessionMeta(_) => {}
                RolloutLine::ResponseItem { item } => history.push(item),
                RolloutLine::Event { event } => events.push(event),
                RolloutLine::Compacted {
                    replacement_history,
                } => history = replacement_history,
            }
        }
        let meta = meta.ok_or_else(|| RolloutError::NoMeta {
            path: path.to_path_buf(),
        })?;
        Ok(Rollout {
            path: path.to_path_buf(),
            meta,
            history,
            events,
            warnings,
        })
    }
}

/// The rollout of session `id` under `wharf_home`.
pub fn find(wharf_home: &Path, id: &str) -> Result<PathBuf, RolloutError> {
    let dir = sessions_dir(wharf_home);
    let suffix = format!("-{id}.jsonl");
    all_rollouts(&dir)
        .into_iter()
        .find(|path| {
            path.file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| name.ends_with(&suffix))
        })
        .ok_or_else(|| RolloutError::NotFound {
            id: id.to_owned(),
            dir,
        })
}

/// The most recent rollout under `wharf_home`.
pub fn latest(wharf_home: &Path) -> Result<PathBuf, RolloutError> {
    let dir = sessions_dir(wharf_home);
    all_rollouts(&dir)
        .into_iter()
        .max_by(|a, b| a.file_name().cmp(&b.file_name()))
        .ok_or(RolloutError::NoSessions { dir })
}

/// The saved sessions under `wharf_home`, newest first; files that cannot
/// be read as rollouts are left out. Each file is read only up to its
/// first user message.
pub fn list(wharf_home: &Path) -> Vec<SessionSummary> {
    let mut paths = all_rollouts(&sessions_dir(wharf_home));
    paths.sort_by(|a, b| b.file_name().cmp(&a.file_name()));
    paths
        .into_iter()
        .filter_map(|path| summary(&path))
        .collect()
}

fn summary(path: &Path) -> Option<SessionSummary> {
    use std::io::BufRead as _;
    let file = File::open(path).ok()?;
    let mut lines = std::io::BufReader::new(file).lines();
    let first = lines.next()?.ok()?;
    let RolloutLine::SessionMeta(meta) = serde_json::from_str(&first).ok()? else {
        return None;
    };
    let first_prompt =
        lines
            .map_while(Result::ok)
            .find_map(|line| match serde_json::from_str(&line).ok()? {
                RolloutLine::Event {
                    event: Event::ItemCompleted { item },
                } => match item.details {
                    crate::agent::ItemDetails::UserMessage { text } => Some(text),
                    _ => None,
                },
                _ => None,
            });
    Some(SessionSummary {
        path: path.to_path_buf(),
        meta,
        first_prompt,
    })
}

/// Every `rollout-*.jsonl` under `dir` (`YYYY/MM/DD/`).
fn all_rollouts(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![(dir.to_path_buf(), 0)];
    while let Some((dir, depth)) = pending.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if depth < 3 && path.is_dir() {
                pending.push((path, depth + 1));
            } else if depth == 3
                && path
                    .file_name()
                    .and_then(|name| name.to_str())
                    .is_some_and(|name| name.starts_with("rollout-") && name.ends_with(".jsonl"))
            {
                found.push(path);
            }
        }
    }
    found
}

/// `secs` since the epoch as UTC ((year, month, day), (hour, minute,
/// second)); Howard Hinnant's `civil_from_days`.
pub fn utc(secs: u64) -> ((i64, u32, u32), (u32, u32, u32)) {
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let small = |n: i64| u32::try_from(n).unwrap_or(0);
    let small_u = |n: u64| u32::try_from(n).unwrap_or(0);
    (
        (year, small(month), small(day)),
        (
            small_u(rem / 3600),
            small_u(rem % 3600 / 60),
            small_u(rem % 60),
        ),
    )
}

/// Now as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn timestamp_now() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let ((y, mo, d), (h, mi, s)) = utc(now);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

#[cfg(test)]
mod tests;
