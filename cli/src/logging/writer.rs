//! Where the log's lines go: a queue that the threads making them append
//! to, and one thread, `wharf-log`, that writes what is queued to the
//! file. A call thread never waits for the disk: it copies its line and
//! goes on. The writer gathers what comes within [`GATHER`] of the first
//! line into one `write`, so a burst of calls wakes it once.
//!
//! The queue is bounded ([`MAX_QUEUED`] bytes): past it a line is dropped
//! and counted, never waited for, and the count is written in the log when
//! there is room again. [`finish`] (at exit) writes what is queued and
//! stops the thread; a line made after it is written at once, by the
//! thread that made it.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::format;
use tracing_subscriber::fmt::time::{FormatTime as _, SystemTime};

use super::LOG_FILE;

/// How much may wait for the writer: 1 MiB, well under the file's cap, so
/// that one `write` never takes the file far past it.
const MAX_QUEUED: usize = 1024 * 1024;
/// How long the writer lets lines gather after the first one woke it.
const GATHER: Duration = Duration::from_millis(10);

/// The writer thread of this process's log, until [`finish`].
static RUNNING: Mutex<Option<Running>> = Mutex::new(None);

struct Running {
    shared: Arc<Shared>,
    thread: JoinHandle<()>,
}

/// What the threads making lines and the writer share.
struct Shared {
    queue: Mutex<Queued>,
    /// Wakes the writer: a first line, or [`finish`].
    wake: Condvar,
    file: Mutex<CappedFile>,
}

#[derive(Default)]
struct Queued {
    lines: Vec<u8>,
    /// Lines dropped since the last write, the queue being full.
    dropped: u64,
    /// The writer waits for a line (and must be woken by the next one).
    idle: bool,
    /// [`finish`] ran: lines are written by the thread that makes them.
    finished: bool,
}

/// What the log layer writes through (`with_writer`): each event's line,
/// formatted whole, is one `write` that queues it.
#[derive(Clone)]
pub(super) struct Queue(Arc<Shared>);

/// Starts the writer thread of `file`, stopped by [`finish`]. Called once
/// per process (by `init`); a second call stops the first's thread after
/// it wrote what it held.
pub(super) fn start(file: CappedFile) -> io::Result<Queue> {
    let (queue, running) = spawn(file)?;
    let previous = lock(&RUNNING).replace(running);
    if let Some(previous) = previous {
        stop(previous);
    }
    Ok(queue)
}

fn spawn(file: CappedFile) -> io::Result<(Queue, Running)> {
    let shared = Arc::new(Shared {
        queue: Mutex::new(Queued::default()),
        wake: Condvar::new(),
        file: Mutex::new(file),
    });
    let thread = std::thread::Builder::new()
        .name("wharf-log".to_owned())
        .spawn({
            let shared = Arc::clone(&shared);
            move || write_queued(&shared)
        })?;
    let running = Running {
        shared: Arc::clone(&shared),
        thread,
    };
    Ok((Queue(shared), running))
}

/// Writes every queued line and stops the writer thread; later lines are
/// written as they come. Called as wharf exits (`logging::shutdown`).
pub fn finish() {
    let running = lock(&RUNNING).take();
    if let Some(running) = running {
        stop(running);
    }
}

fn stop(running: Running) {
    lock(&running.shared.queue).finished = true;
    running.shared.wake.notify_one();
    // The writer returns once the queue is empty; it cannot panic but
    // through a bug, and then there is nothing more to write anyway.
    let _ = running.thread.join();
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The writer thread: waits for a line, lets others gather, writes them
/// all in one go; until [`finish`] and the queue is empty.
fn write_queued(shared: &Shared) {
    let mut spare = Vec::new();
    let mut queued = lock(&shared.queue);
    loop {
        if queued.lines.is_empty() && queued.dropped == 0 {
            if queued.finished {
                return;
            }
            queued.idle = true;
            queued = shared
                .wake
                .wait(queued)
                .unwrap_or_else(PoisonError::into_inner);
            queued.idle = false;
            continue;
        }
        if !queued.finished {
            // Not idle: the lines that come meanwhile wake no one.
            queued = shared
                .wake
                .wait_timeout_while(queued, GATHER, |queued| !queued.finished)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        std::mem::swap(&mut queued.lines, &mut spare);
        let dropped = std::mem::take(&mut queued.dropped);
        // The file is taken before the queue is let go: a line written
        // directly after `finish` comes after these.
        let mut file = lock(&shared.file);
        drop(queued);
        write_lines(&mut file, &spare, dropped);
        drop(file);
        spare.clear();
        queued = lock(&shared.queue);
    }
}

/// Writes `lines` (whole lines), then says how many were `dropped`. A
/// failed write is lost: the log has nowhere to report it.
fn write_lines(file: &mut CappedFile, lines: &[u8], dropped: u64) {
    if !lines.is_empty() {
        let _ = file.write_all(lines);
    }
    if dropped > 0 {
        let mut note = String::new();
        let _ = SystemTime.format_time(&mut format::Writer::new(&mut note));
        note.push_str(&format!(
            "  WARN wharf.log: dropped={dropped} lines made faster than the log could write them\n"
        ));
        let _ = file.write_all(note.as_bytes());
    }
}

/// One event's way into the queue.
pub(super) struct Line<'a>(&'a Shared);

impl<'a> MakeWriter<'a> for Queue {
    type Writer = Line<'a>;

    fn make_writer(&'a self) -> Line<'a> {
        Line(&self.0)
    }
}

impl Write for Line<'_> {
    fn write(&mut self, line: &[u8]) -> io::Result<usize> {
        let shared = self.0;
        let mut queued = lock(&shared.queue);
        if queued.finished {
            let mut file = lock(&shared.file);
            drop(queued);
            return file.write_all(line).map(|()| line.len());
        }
        if queued.lines.len() + line.len() > MAX_QUEUED {
            queued.dropped += 1;
            return Ok(line.len());
        }
        queued.lines.extend_from_slice(line);
        let wake = std::mem::take(&mut queued.idle);
        drop(queued);
        if wake {
            shared.wake.notify_one();
        }
        Ok(line.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
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

    fn read_lines(path: &Path) -> Vec<String> {
        let text = fs::read_to_string(path).unwrap();
        text.lines().map(str::to_owned).collect()
    }

    #[test]
    fn every_queued_line_is_written_whole_and_in_order_by_finish() {
        let dir = tempfile::tempdir().unwrap();
        let file = CappedFile::open(dir.path(), u64::MAX).unwrap();
        let (queue, running) = spawn(file).unwrap();
        let (threads, per_thread) = (3, 2000);
        std::thread::scope(|scope| {
            for thread in 0..threads {
                let queue = queue.clone();
                scope.spawn(move || {
                    for n in 0..per_thread {
                        let line = format!("thread {thread} line {n:05} {}\n", "x".repeat(n % 300));
                        // One write per line, as the log layer makes them.
                        queue.make_writer().write_all(line.as_bytes()).unwrap();
                    }
                });
            }
        });
        stop(running);
        // Once finished, a line is written at once.
        queue.make_writer().write_all(b"after finish\n").unwrap();
        let lines = read_lines(&dir.path().join(LOG_FILE));
        assert_eq!(lines.len(), threads * per_thread + 1);
        assert_eq!(lines.last().map(String::as_str), Some("after finish"));
        for thread in 0..threads {
            let prefix = format!("thread {thread} line ");
            let numbers: Vec<usize> = lines
                .iter()
                .filter_map(|line| line.strip_prefix(&prefix))
                .map(|rest| {
                    let (n, xs) = rest.split_once(' ').unwrap();
                    let n: usize = n.parse().unwrap();
                    assert_eq!(xs, "x".repeat(n % 300), "a line was cut: {rest}");
                    n
                })
                .collect();
            assert_eq!(numbers, (0..per_thread).collect::<Vec<_>>());
        }
    }

    #[test]
    fn a_full_queue_drops_lines_and_the_log_says_how_many() {
        let dir = tempfile::tempdir().unwrap();
        // No writer thread: the queue only fills.
        let shared = Shared {
            queue: Mutex::new(Queued::default()),
            wake: Condvar::new(),
            file: Mutex::new(CappedFile::open(dir.path(), u64::MAX).unwrap()),
        };
        let line = format!("{}\n", "y".repeat(999));
        let (sent, fit) = (1100, MAX_QUEUED / line.len());
        for _ in 0..sent {
            // Never an error, never a wait.
            Line(&shared).write_all(line.as_bytes()).unwrap();
        }
        lock(&shared.queue).finished = true;
        // What the writer thread does at `finish`.
        write_queued(&shared);
        let lines = read_lines(&dir.path().join(LOG_FILE));
        assert_eq!(lines.len(), fit + 1);
        assert!(lines[..fit].iter().all(|l| l.len() == 999));
        let note = &lines[fit];
        assert!(
            note.ends_with(&format!(
                "  WARN wharf.log: dropped={} lines made faster than the log could write them",
                sent - fit
            )),
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
