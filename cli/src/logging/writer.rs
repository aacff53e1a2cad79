//! Where the log's lines go: written behind the threads that make them
//! (`wharf_host::write_behind`), by a thread of their own, `wharf-log`. A
//! call thread never waits for the disk: it copies its line and goes on.
//! Past [`MAX_QUEUED`] bytes waiting, a line is dropped and counted, never
//! waited for, and the count is written in the log when there is room
//! again. `write_behind::finish_all` (at exit) writes what is queued.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use wharf_host::clock::{Fraction, rfc3339};
use wharf_host::write_behind::{self, Sink, WhenFull, WriteBehind};

use super::LOG_FILE;

/// How the log is written: lines gather for 10 ms after the first, and at
/// most 1 MiB waits, well under the file's cap, so that one `write` never
/// takes the file far past it.
const WRITING: write_behind::Options = write_behind::Options {
    gather: Duration::from_millis(10),
    max_queued: MAX_QUEUED,
    when_full: WhenFull::Drop,
};
const MAX_QUEUED: usize = 1024 * 1024;

/// What the log layer writes through: each event's line, formatted
/// whole, is queued by one [`Queue::append`].
pub(super) struct Queue(Arc<WriteBehind<CappedFile>>);

/// Starts the writer thread of `file`.
pub(super) fn start(file: CappedFile) -> io::Result<Queue> {
    WriteBehind::start("wharf-log", file, WRITING).map(Queue)
}

impl Sink for CappedFile {
    /// Writes `lines` (whole lines), then says how many were `dropped`.
    fn write_records(&mut self, lines: &[u8], dropped: u64) -> io::Result<()> {
        if !lines.is_empty() {
            self.write_all(lines)?;
        }
        if dropped > 0 {
            let now = rfc3339(std::time::SystemTime::now(), Fraction::Micros);
            let mut note = now.as_str().to_owned();
            note.push_str(&format!(
                "  WARN wharf.log: dropped={dropped} lines made faster than the log could write \
                 them\n"
            ));
            self.write_all(note.as_bytes())?;
        }
        Ok(())
    }
}

impl Queue {
    /// Queues `line` (whole lines), or drops it if the queue is full.
    pub(super) fn append(&self, line: &[u8]) -> io::Result<()> {
        self.0.append(|queue| queue.extend_from_slice(line))
    }
}

/// An append-only log file that moves itself aside past a size.
#[derive(Debug)]
pub(super) struct CappedFile {
    path: PathBuf,
    file: File,
    /// The file's size, as far as this process knows.
    written: u64,
    cap: u64,
}

impl CappedFile {
    /// Opens (or creates) `dir/wharf.log`, creating `dir` (mode 0700; the
    /// file is 0600: the log names paths and commands).
    pub(super) fn open(dir: &Path, cap: u64) -> io::Result<CappedFile> {
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
    fn a_dropped_line_count_is_written_after_the_lines() {
        let dir = tempfile::tempdir().unwrap();
        let mut log = CappedFile::open(dir.path(), u64::MAX).unwrap();
        log.write_records(b"kept\n", 3).unwrap();
        let text = fs::read_to_string(dir.path().join(LOG_FILE)).unwrap();
        let (kept, note) = text.split_once('\n').unwrap();
        assert_eq!(kept, "kept");
        assert!(
            note.ends_with(
                "  WARN wharf.log: dropped=3 lines made faster than the log could write them\n"
            ),
            "{note}"
        );
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
