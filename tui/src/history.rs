//! The prompt history file (`[history]`): every prompt typed in the
//! interactive session, one JSON line each (`{"session_id", "ts", "text"}`,
//! codex's `history.jsonl`), recalled with ↑ in later sessions. The file is
//! the user's alone (mode 0600), never followed through a symlink, and kept
//! within `max_bytes` by dropping its oldest lines.

use std::fs::{File, OpenOptions};
use std::io::{self, Read as _, Write as _};
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::json;

/// The file's name in `$WHARF_HOME`.
pub const FILE_NAME: &str = "history.jsonl";

/// Where prompts are kept, and how much of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct History {
    pub path: PathBuf,
    /// Whether new prompts are written (`persistence = "save-all"`). The
    /// file is read either way.
    pub save: bool,
    /// The most bytes the file keeps; `None`: no limit.
    pub max_bytes: Option<u64>,
}

impl History {
    /// The prompts in the file, oldest first. A missing file is none; a
    /// line that is not an entry is skipped.
    pub fn load(&self) -> io::Result<Vec<String>> {
        let mut text = String::new();
        match open(&self.path, OpenOptions::new().read(true)) {
            Ok(mut file) => file.read_to_string(&mut text)?,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(err) => return Err(err),
        };
        Ok(text
            .lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .filter_map(|entry| entry.get("text")?.as_str().map(str::to_owned))
            .collect())
    }

    /// Appends `text`, sent in `session_id`, then trims the file to
    /// `max_bytes`. Does nothing when prompts are not saved.
    pub fn append(&self, session_id: &str, text: &str) -> io::Result<()> {
        if !self.save {
            return Ok(());
        }
        let ts = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_secs());
        let mut line = json!({"session_id": session_id, "ts": ts, "text": text}).to_string();
        line.push('\n');
        let mut file = open(
            &self.path,
            OpenOptions::new().append(true).create(true).read(true),
        )?;
        // An older file may have been created with a wider mode.
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        file.write_all(line.as_bytes())?;
        if let Some(max) = self.max_bytes
            && file.metadata()?.len() > max
        {
            trim(&self.path, max)?;
        }
        Ok(())
    }
}

/// Opens `path` with `options`, never through a symlink, created 0600.
fn open(path: &Path, options: &mut OpenOptions) -> io::Result<File> {
    options
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
}

/// Drops the oldest whole lines of `path` until it holds at most `max`
/// bytes; written to a new file renamed over the old one.
fn trim(path: &Path, max: u64) -> io::Result<()> {
    let mut text = String::new();
    open(path, OpenOptions::new().read(true))?.read_to_string(&mut text)?;
    let max = usize::try_from(max).unwrap_or(usize::MAX);
    let mut start = 0;
    while text.len() - start > max {
        match text[start..].find('\n') {
            Some(end) => start += end + 1,
            None => start = text.len(),
        }
    }
    let kept = &text[start..];
    let tmp = path.with_extension("jsonl.tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut file = open(&tmp, OpenOptions::new().write(true).create_new(true))?;
    file.write_all(kept.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests;
