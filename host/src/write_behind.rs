//! Files written behind the threads that make their records: a record is
//! serialized straight into a queue, and one thread per file writes what
//! is queued. A call never waits for the disk; the writer gathers what
//! comes within [`Options::gather`] of the first record into one `write`,
//! so a burst of calls wakes it once. wharf's log and the audit log are
//! written so.
//!
//! The queue is bounded ([`Options::max_queued`]). Past it, [`WhenFull`]
//! says what happens: the record is dropped and counted (a log), or the
//! thread that made it writes the queue and its record itself, so nothing
//! is lost (the audit log). [`WriteBehind::finish`] (at the latest when
//! the last handle is dropped, or [`finish_all`] as wharf exits) writes
//! what is queued and stops the thread; a record made after it is written
//! at once, by the thread that made it.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, Weak};
use std::thread::JoinHandle;
use std::time::Duration;

/// Where the records go: the writer thread hands it whole records, in
/// order.
pub trait Sink: Send + 'static {
    /// Writes `records` (whole records, possibly several), then says that
    /// `dropped` records were dropped before them, the queue being full.
    fn write_records(&mut self, records: &[u8], dropped: u64) -> io::Result<()>;
}

/// What a full queue does to the next record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhenFull {
    /// Drop it and count it.
    Drop,
    /// The thread that made it writes the queue and the record itself.
    WriteNow,
}

#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// How long the writer lets records gather after the first one woke it.
    pub gather: Duration,
    /// How many bytes may wait for the writer.
    pub max_queued: usize,
    pub when_full: WhenFull,
}

/// A file written by its own thread; see the module's documentation.
pub struct WriteBehind<S: Sink> {
    shared: Arc<Shared<S>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

struct Shared<S> {
    queue: Mutex<Queued>,
    /// Wakes the writer: a first record, or `finish`.
    wake: Condvar,
    sink: Mutex<S>,
    /// The first write that failed since [`WriteBehind::take_error`], and
    /// whether there is one (read without the lock by every record).
    error: Mutex<Option<io::Error>>,
    failed: AtomicBool,
    options: Options,
}

#[derive(Default)]
struct Queued {
    records: Vec<u8>,
    /// Records dropped since the last write, the queue being full.
    dropped: u64,
    /// The writer waits for a record (and must be woken by the next one).
    idle: bool,
    /// `finish` ran: records are written by the thread that makes them.
    finished: bool,
}

/// The running writers, so that [`finish_all`] can stop them at exit.
static RUNNING: Mutex<Vec<Weak<dyn Finish>>> = Mutex::new(Vec::new());

trait Finish: Send + Sync {
    fn finish(&self);
}

/// Writes what every running writer holds and stops them. Called as wharf
/// exits, so that a handle kept somewhere loses nothing.
pub fn finish_all() {
    let running = std::mem::take(&mut *lock(&RUNNING));
    for writer in running.iter().filter_map(Weak::upgrade) {
        writer.finish();
    }
}

fn lock<T: ?Sized>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<S: Sink> WriteBehind<S> {
    /// Starts the thread `name` writing to `sink`.
    pub fn start(name: &str, sink: S, options: Options) -> io::Result<Arc<WriteBehind<S>>> {
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queued::default()),
            wake: Condvar::new(),
            sink: Mutex::new(sink),
            error: Mutex::new(None),
            failed: AtomicBool::new(false),
            options,
        });
        let thread = std::thread::Builder::new().name(name.to_owned()).spawn({
            let shared = Arc::clone(&shared);
            move || shared.write_queued()
        })?;
        let writer = Arc::new(WriteBehind {
            shared,
            thread: Mutex::new(Some(thread)),
        });
        let mut running = lock(&RUNNING);
        running.retain(|writer| writer.strong_count() > 0);
        running.push(Arc::downgrade(&writer) as Weak<dyn Finish>);
        Ok(writer)
    }

    /// Queues the record `make` appends to the buffer it is given (whole,
    /// never split from its bytes). An error is that of writing it at once
    /// (after `finish`, or a full queue that writes now).
    pub fn append(&self, make: impl FnOnce(&mut Vec<u8>)) -> io::Result<()> {
        let shared = &*self.shared;
        let mut queued = lock(&shared.queue);
        let start = queued.records.len();
        make(&mut queued.records);
        let full = queued.records.len() > shared.options.max_queued;
        if queued.finished || (full && shared.options.when_full == WhenFull::WriteNow) {
            return shared.write_now(queued);
        }
        if full {
            queued.records.truncate(start);
            queued.dropped += 1;
            return Ok(());
        }
        let wake = std::mem::take(&mut queued.idle);
        drop(queued);
        if wake {
            shared.wake.notify_one();
        }
        Ok(())
    }

    /// Writes what is queued now, on this thread.
    pub fn flush(&self) -> io::Result<()> {
        self.shared.write_now(lock(&self.shared.queue))
    }

    /// The first write of the writer thread that failed since the last
    /// call, if any.
    pub fn take_error(&self) -> Option<io::Error> {
        if !self.shared.failed.load(Ordering::Acquire) {
            return None;
        }
        let mut error = lock(&self.shared.error);
        self.shared.failed.store(false, Ordering::Release);
        error.take()
    }

    /// Writes what is queued and stops the writer thread; later records
    /// are written as they come.
    pub fn finish(&self) {
        lock(&self.shared.queue).finished = true;
        self.shared.wake.notify_one();
        let thread = lock(&self.thread).take();
        if let Some(thread) = thread {
            // The writer returns once the queue is empty; it cannot panic
            // but through a bug, and then there is nothing more to write.
            let _ = thread.join();
        }
    }
}

impl<S: Sink> Finish for WriteBehind<S> {
    fn finish(&self) {
        WriteBehind::finish(self);
    }
}

impl<S: Sink> Drop for WriteBehind<S> {
    fn drop(&mut self) {
        self.finish();
    }
}

impl<S: Sink> Shared<S> {
    /// The writer thread: waits for a record, lets others gather, writes
    /// them all in one go; until `finish` and the queue is empty.
    fn write_queued(&self) {
        let mut spare = Vec::new();
        let mut queued = lock(&self.queue);
        loop {
            if queued.records.is_empty() && queued.dropped == 0 {
                if queued.finished {
                    return;
                }
                queued.idle = true;
                queued = self
                    .wake
                    .wait(queued)
                    .unwrap_or_else(PoisonError::into_inner);
                queued.idle = false;
                continue;
            }
            if !queued.finished {
                // Not idle: the records that come meanwhile wake no one.
                queued = self
                    .wake
                    .wait_timeout_while(queued, self.options.gather, |queued| !queued.finished)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
            std::mem::swap(&mut queued.records, &mut spare);
            let dropped = std::mem::take(&mut queued.dropped);
            // The sink is taken before the queue is let go: a record
            // written directly after this comes after these.
            let mut sink = lock(&self.sink);
            drop(queued);
            if let Err(err) = sink.write_records(&spare, dropped) {
                lock(&self.error).get_or_insert(err);
                self.failed.store(true, Ordering::Release);
            }
            drop(sink);
            spare.clear();
            queued = lock(&self.queue);
        }
    }

    /// Writes the queue (the record just made included) on this thread.
    fn write_now(&self, mut queued: MutexGuard<'_, Queued>) -> io::Result<()> {
        let records = std::mem::take(&mut queued.records);
        let dropped = std::mem::take(&mut queued.dropped);
        let mut sink = lock(&self.sink);
        drop(queued);
        if records.is_empty() && dropped == 0 {
            return Ok(());
        }
        let written = sink.write_records(&records, dropped);
        drop(sink);
        // The buffer goes back, unless records came meanwhile.
        let mut queued = lock(&self.queue);
        if queued.records.is_empty() {
            queued.records = records;
            queued.records.clear();
        }
        written
    }
}

#[cfg(test)]
mod tests;
