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
//! The file is opened `O_APPEND` and each record is one `write`, so
//! concurrent sessions interleave whole lines. Past [`MAX_BYTES`] it is
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
use std::sync::{Mutex, PoisonError};

use wharf_config::Config;
use wharf_runtime::pipeline::{CallOutcome, Resolved, Session, ToolCall};

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

/// The open file and what this session knows of its size.
struct Open {
    file: File,
    /// The size at the last check, plus this session's writes since.
    size: u64,
    /// Records written since the last check.
    unchecked: u32,
}

/// The size past which the buffer a record is serialized in is not kept
/// for the next one.
const KEEP_BUFFER: usize = 64 * 1024;

/// What the records of a session are written with.
#[derive(Default)]
struct Writing {
    /// Opened at the first record: a session that makes no call writes
    /// nothing.
    open: Option<Open>,
    /// Where a record is serialized, kept from one to the next.
    line: Vec<u8>,
}

/// Where a session's calls are recorded.
pub struct AuditLog {
    dir: PathBuf,
    max_bytes: u64,
    keep: usize,
    writing: Mutex<Writing>,
    /// What is known of the session's MCP servers, by plugin name.
    mcp: record::McpServers,
    /// Whether a failed write was reported already.
    warned: AtomicBool,
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
            dir,
            max_bytes,
            keep,
            writing: Mutex::new(Writing::default()),
            mcp: record::McpServers::of(config),
            warned: AtomicBool::new(false),
        }
    }

    /// Records `outcome` of `call` in `session` (`resolved`: its plugin and
    /// spec, when a plugin offers the tool). Returns a warning for the
    /// user the first time a record cannot be written.
    pub fn record(
        &self,
        session: &Session,
        call: &ToolCall,
        resolved: Option<&Resolved<'_>>,
        outcome: &CallOutcome,
    ) -> Option<String> {
        let mut writing = self.writing.lock().unwrap_or_else(PoisonError::into_inner);
        let Writing { open, line } = &mut *writing;
        line.clear();
        record::write(line, session, call, resolved, outcome, &self.mcp);
        line.push(b'\n');
        let written = self.append_to(open, line);
        if line.capacity() > KEEP_BUFFER {
            *line = Vec::new();
        }
        drop(writing);
        let err = written.err()?;
        if self.warned.swap(true, Ordering::Relaxed) {
            return None;
        }
        Some(format!(
            "cannot write the audit log in {}: {err}; tool calls go on without it (said once \
             per session)",
            self.dir.display()
        ))
    }

    /// Appends `line` as a record is (the tests' way in).
    #[cfg(test)]
    fn append(&self, line: &[u8]) -> io::Result<()> {
        let mut writing = self.writing.lock().unwrap_or_else(PoisonError::into_inner);
        self.append_to(&mut writing.open, line)
    }

    /// Appends `line` to `file` (this session's, its lock held) in one
    /// write, rotating first when the file is full. The file's size is
    /// asked every [`CHECK_EVERY`] records or when this session's own
    /// writes say it is full, so that other sessions' records count too
    /// without a `stat` per call.
    fn append_to(&self, file: &mut Option<Open>, line: &[u8]) -> io::Result<()> {
        let mut open = match file.take() {
            Some(open) => open,
            None => self.open()?,
        };
        let len = line.len() as u64;
        if open.unchecked >= CHECK_EVERY || open.size + len > self.max_bytes {
            open.size = open.file.metadata()?.len();
            open.unchecked = 0;
        }
        if open.size > 0 && open.size + len > self.max_bytes {
            self.rotate(&open.file)?;
            open = self.open()?;
        }
        let written = (&open.file).write_all(line);
        open.size += len;
        open.unchecked += 1;
        *file = Some(open);
        written
    }

    fn open(&self) -> io::Result<Open> {
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
