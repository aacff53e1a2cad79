//! The audit log: one JSON line per tool call under `$WHARF_HOME/audit/`
//! (`[audit] enabled`, on by default), what an administrator reads to know
//! what ran.
//!
//! A record holds the time, the session, the plugin and its artifact's
//! sha256 (an MCP server's name and identity), the tool, the arguments with
//! every value the tool's input schema marks secret redacted, the grant
//! (variable names, never values), each stage's decision and what decided
//! it, the timings, and the outcome: a status, the error's message, the
//! output's size — never the output itself ([`record`]).
//!
//! A call serializes its record into a queue; the session's `wharf-audit`
//! thread writes what is queued within 5 ms ([`write_behind`]), and
//! everything is written when the session ends or wharf exits. A full queue
//! is written by the call that filled it: no record is dropped. The file
//! is opened `O_APPEND` and each write holds whole records, so concurrent
//! sessions interleave whole lines. Past [`MAX_BYTES`] it is
//! rotated (`audit.jsonl` → `audit.1.jsonl` … `audit.5.jsonl`, the oldest
//! dropped) under an `flock` on `audit/.lock`, so the disk it takes is
//! bounded. It lies in wharf's home, which every sandbox mounts read-only
//! and the host never writes for a tool (`Config::protected_paths`). A
//! record that cannot be written is a warning, once per session, never a
//! failed call.

mod record;
#[cfg(test)]
mod tests;

use std::fs::{File, OpenOptions};
use std::io::{self, Write as _};
use std::os::fd::AsRawFd as _;
use std::os::unix::fs::{DirBuilderExt as _, MetadataExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Duration;

use wharf_config::Config;
use wharf_runtime::pipeline::{CallOutcome, Resolved, Session, ToolCall};

use crate::write_behind::{self, WhenFull, WriteBehind};

pub use record::{REDACTED, redact};

/// The file records are appended to, in [`dir`].
pub const FILE: &str = "audit.jsonl";
/// The size past which the file is rotated: 16 MiB.
pub const MAX_BYTES: u64 = 16 * 1024 * 1024;
/// How many rotated files are kept (`audit.1.jsonl`, the newest, to
/// `audit.5.jsonl`).
pub const KEEP: usize = 5;

/// The audit directory of a wharf home.
pub fn dir(wharf_home: &Path) -> PathBuf {
    wharf_home.join("audit")
}

/// The audit files in `dir` that exist, oldest first (the rotated ones
/// from `audit.5.jsonl` down, then `audit.jsonl`).
pub fn files(dir: &Path) -> Vec<PathBuf> {
    (1..=KEEP)
        .rev()
        .map(|n| rotated(dir, n))
        .chain([dir.join(FILE)])
        .filter(|path| path.is_file())
        .collect()
}

fn rotated(dir: &Path, n: usize) -> PathBuf {
    dir.join(format!("audit.{n}.jsonl"))
}

/// How many records a session appends between two checks of the file's
/// size (its own writes are always counted).
const CHECK_EVERY: u32 = 32;

/// How the records are written: behind the calls, within
/// [`GATHER`](write_behind::Options::gather) of the first one; a full
/// queue is written by the call that filled it, so no record is lost.
const WRITING: write_behind::Options = write_behind::Options {
    gather: Duration::from_millis(5),
    max_queued: 1024 * 1024,
    when_full: WhenFull::WriteNow,
};

/// Where a session's calls are recorded.
pub struct AuditLog {
    file: AuditFile,
    /// Started by the first record: a session that makes no call writes
    /// nothing and starts no thread. Read without a lock by every record;
    /// `starting` is held only to start it.
    writer: OnceLock<Arc<WriteBehind<AuditFile>>>,
    starting: Mutex<()>,
    /// What is known of the session's MCP servers, by plugin name.
    mcp: record::McpServers,
    contexts: record::Contexts,
    /// Whether a failed write was reported already.
    warned: AtomicBool,
}

/// The audit files of a directory, as one session appends to them.
struct AuditFile {
    dir: PathBuf,
    max_bytes: u64,
    keep: usize,
    /// Opened at the first record.
    open: Option<Open>,
}

/// The open file and what this session knows of its size.
struct Open {
    file: File,
    /// The size at the last check, plus this session's writes since.
    size: u64,
    /// Records written since the last check.
    unchecked: u32,
}

impl AuditLog {
    /// The audit log of `config`'s wharf home, or `None` when
    /// `[audit] enabled = false`.
    pub fn of(config: &Config) -> Option<AuditLog> {
        config
            .audit_enabled
            .then(|| AuditLog::new(dir(&config.wharf_home), config, MAX_BYTES, KEEP))
    }

    /// A log in `dir` rotated past `max_bytes`, keeping `keep` old files.
    pub fn new(dir: PathBuf, config: &Config, max_bytes: u64, keep: usize) -> AuditLog {
        AuditLog {
            file: AuditFile {
                dir,
                max_bytes,
                keep,
                open: None,
            },
            writer: OnceLock::new(),
            starting: Mutex::new(()),
            mcp: record::McpServers::of(config),
            contexts: record::Contexts::default(),
            warned: AtomicBool::new(false),
        }
    }

    /// Records `outcome` of `call` in `session` (`resolved`: its plugin and
    /// spec, when a plugin offers the tool). Returns a warning for the
    /// user the first time a record cannot be written (the file cannot be
    /// opened; or a write behind an earlier call failed).
    pub fn record(
        &self,
        session: &Session,
        call: &ToolCall,
        resolved: Option<&Resolved<'_>>,
        outcome: &CallOutcome,
    ) -> Option<String> {
        let written = self.writer().and_then(|writer| {
            let failed_before = writer.take_error();
            writer.append(|queue| {
                let start = queue.len();
                record::write(
                    queue,
                    session,
                    call,
                    resolved,
                    outcome,
                    (&self.mcp, &self.contexts),
                );
                if queue.len() > start {
                    queue.push(b'\n');
                }
            })?;
            failed_before.map_or(Ok(()), Err)
        });
        let err = written.err()?;
        if self.warned.swap(true, Ordering::Relaxed) {
            return None;
        }
        Some(format!(
            "cannot write the audit log in {}: {err}; tool calls go on without it (said once \
             per session)",
            self.file.dir.display()
        ))
    }

    /// Writes the records not written yet, on this thread.
    pub fn flush(&self) -> io::Result<()> {
        self.writer.get().map_or(Ok(()), |writer| writer.flush())
    }

    /// The writer, started with the file opened (on this thread, so that a
    /// file that cannot be opened is known at once).
    fn writer(&self) -> io::Result<&WriteBehind<AuditFile>> {
        if let Some(writer) = self.writer.get() {
            return Ok(writer);
        }
        let _starting = lock(&self.starting);
        if let Some(writer) = self.writer.get() {
            return Ok(writer);
        }
        let file = AuditFile {
            open: Some(self.file.open_file()?),
            ..self.file.unopened()
        };
        let started = WriteBehind::start("wharf-audit", file, WRITING)?;
        Ok(self.writer.get_or_init(|| started))
    }

    /// Appends `line` as a record is, and writes it (the tests' way in).
    #[cfg(test)]
    fn append(&self, line: &[u8]) -> io::Result<()> {
        let writer = self.writer()?;
        writer.append(|queue| queue.extend_from_slice(line))?;
        writer.flush()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl write_behind::Sink for AuditFile {
    /// Appends `records`, rotating the file whenever the next record would
    /// take it past its size: each file holds whole records, within its
    /// size unless one record alone is bigger.
    fn write_records(&mut self, mut records: &[u8], _dropped: u64) -> io::Result<()> {
        while !records.is_empty() {
            let mut open = match self.open.take() {
                Some(open) => open,
                None => self.open_file()?,
            };
            if open.unchecked >= CHECK_EVERY || open.size + records.len() as u64 > self.max_bytes {
                open.size = open.file.metadata()?.len();
                open.unchecked = 0;
            }
            let room = self.max_bytes.saturating_sub(open.size);
            let fits = whole_records_within(records, room);
            if fits == 0 && open.size > 0 {
                self.rotate(&open.file)?;
                continue;
            }
            // An empty file takes at least one record, however big.
            let fits = fits.max(first_record_len(records));
            let written = (&open.file).write_all(&records[..fits]);
            open.size += fits as u64;
            open.unchecked += 1;
            self.open = Some(open);
            written?;
            records = &records[fits..];
        }
        Ok(())
    }
}

/// How many bytes of `records` (whole lines) fit in `room`.
fn whole_records_within(records: &[u8], room: u64) -> usize {
    if records.len() as u64 <= room {
        return records.len();
    }
    let room = usize::try_from(room)
        .unwrap_or(usize::MAX)
        .min(records.len());
    records[..room]
        .iter()
        .rposition(|&byte| byte == b'\n')
        .map_or(0, |newline| newline + 1)
}

fn first_record_len(records: &[u8]) -> usize {
    records
        .iter()
        .position(|&byte| byte == b'\n')
        .map_or(records.len(), |newline| newline + 1)
}

impl AuditFile {
    fn unopened(&self) -> AuditFile {
        AuditFile {
            dir: self.dir.clone(),
            max_bytes: self.max_bytes,
            keep: self.keep,
            open: None,
        }
    }

    fn open_file(&self) -> io::Result<Open> {
        // The records hold the arguments of every call: this user's only.
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)?;
        let file = OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(self.dir.join(FILE))?;
        let size = file.metadata()?.len();
        Ok(Open {
            file,
            size,
            unchecked: 0,
        })
    }

    /// Moves the full file `open` away, unless another session did
    /// already (the path then names a newer file).
    fn rotate(&self, open: &File) -> io::Result<()> {
        let lock = OpenOptions::new()
            .write(true)
            .create(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(self.dir.join(".lock"))?;
        // SAFETY: `lock` is an open file descriptor owned by this
        // function; flock only takes a lock on it, released when it closes.
        if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) } != 0 {
            return Err(io::Error::last_os_error());
        }
        let current = self.dir.join(FILE);
        let ours = open.metadata()?;
        let still_ours = std::fs::symlink_metadata(&current)
            .is_ok_and(|now| now.ino() == ours.ino() && now.dev() == ours.dev());
        if !still_ours {
            return Ok(());
        }
        if self.keep == 0 {
            return std::fs::remove_file(&current);
        }
        for n in (1..self.keep).rev() {
            let from = rotated(&self.dir, n);
            if from.exists() {
                std::fs::rename(&from, rotated(&self.dir, n + 1))?;
            }
        }
        std::fs::rename(&current, rotated(&self.dir, 1))
    }
}

impl crate::agent::Recorder for AuditLog {
    fn record(
        &self,
        session: &Session,
        call: &ToolCall,
        resolved: Option<&Resolved<'_>>,
        outcome: &CallOutcome,
    ) -> Option<String> {
        AuditLog::record(self, session, call, resolved, outcome)
    }
}
