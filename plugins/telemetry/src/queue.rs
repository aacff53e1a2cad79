//! Between the call threads and the SDK: the layer pushes what it
//! captured, and the `wharf-otel` thread makes log records of it and emits
//! them to the batch processor. The thread wakes every [`EVERY`], or when
//! [`WAKE_AT`] events wait: a call makes a system call to export only when
//! it is the one that fills that many, and little memory is ever in flight.
//!
//! The queue holds at most [`MAX_QUEUED`] events; past it an event is
//! dropped (as the SDK's own queue does), never waited for.
//!
//! An event's buffers go back to the call threads once its record is made
//! ([`Queue::push`] hands out spare ones), so that in a steady stream of
//! events a call thread neither allocates nor frees to capture one.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use opentelemetry::logs::{AnyValue, LogRecord as _, Logger as _, Severity};
use opentelemetry_sdk::logs::{SdkLogRecord, SdkLogger};
use tracing::Level;

/// An event as it happened, copied from the call thread.
#[derive(Debug)]
pub(crate) struct Captured {
    pub(crate) time: SystemTime,
    pub(crate) target: &'static str,
    pub(crate) level: Level,
    pub(crate) message: Option<Text>,
    pub(crate) fields: Vec<(&'static str, Value)>,
    /// The text of the message and of every `Value::Text`, one after the
    /// other.
    pub(crate) text: String,
}

/// Where a text lies in [`Captured::text`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Text {
    pub(crate) start: u32,
    pub(crate) end: u32,
}

impl Captured {
    /// An event with nothing captured yet, in `buffers` (a spare one, or new).
    pub(crate) fn empty(buffers: Option<Buffers>) -> Captured {
        let Buffers { fields, text } = buffers.unwrap_or_default();
        Captured {
            time: SystemTime::UNIX_EPOCH,
            target: "",
            level: Level::INFO,
            message: None,
            fields,
            text,
        }
    }

    pub(crate) fn text(&self, Text { start, end }: Text) -> &str {
        &self.text[start as usize..end as usize]
    }

    /// The buffers, emptied, unless they grew too large to keep.
    fn into_buffers(mut self) -> Option<Buffers> {
        if self.text.capacity() > MAX_SPARE_TEXT || self.fields.capacity() > MAX_SPARE_FIELDS {
            return None;
        }
        self.fields.clear();
        self.text.clear();
        Some(Buffers {
            fields: self.fields,
            text: self.text,
        })
    }
}

/// What an event is captured in, kept for the next one.
#[derive(Debug, Default)]
pub(crate) struct Buffers {
    fields: Vec<(&'static str, Value)>,
    text: String,
}

/// A field's value; text lies in [`Captured::text`].
#[derive(Debug, Clone)]
pub(crate) enum Value {
    Text(Text),
    /// A span's field, shared by every event inside the span.
    Shared(Arc<str>),
    Bool(bool),
    I64(i64),
    F64(f64),
}

/// How long events may wait for the thread.
const EVERY: Duration = Duration::from_millis(200);
/// How many events wake the thread.
const WAKE_AT: usize = 64;
/// How many events may wait.
pub(crate) const MAX_QUEUED: usize = 2048;
/// How many events' buffers are kept for reuse, and how large each may be.
const MAX_SPARE: usize = 256;
const MAX_SPARE_TEXT: usize = 4096;
const MAX_SPARE_FIELDS: usize = 64;
/// How many spare buffers a push hands a call thread at once.
const RESTOCK: usize = 16;

#[derive(Debug, Default)]
pub(crate) struct Queue {
    pending: Mutex<Pending>,
    wake: Condvar,
}

#[derive(Debug, Default)]
struct Pending {
    events: Vec<Captured>,
    /// Buffers of events already emitted.
    spare: Vec<Buffers>,
    /// Told to empty the queue and stop.
    finished: bool,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Queue {
    /// Queues `event`; when `restock` is empty, moves spare buffers into
    /// it for the caller's next events.
    pub(crate) fn push(&self, event: Captured, restock: &mut Vec<Buffers>) {
        let mut pending = lock(&self.pending);
        if restock.is_empty() {
            let keep = pending.spare.len().saturating_sub(RESTOCK);
            restock.extend(pending.spare.drain(keep..));
        }
        if pending.finished || pending.events.len() >= MAX_QUEUED {
            return;
        }
        pending.events.push(event);
        let wake = pending.events.len() == WAKE_AT;
        drop(pending);
        if wake {
            self.wake.notify_one();
        }
    }

    /// Starts the thread emitting what is queued to `logger`.
    pub(crate) fn start(self: &Arc<Queue>, logger: SdkLogger) -> std::io::Result<JoinHandle<()>> {
        let queue = Arc::clone(self);
        std::thread::Builder::new()
            .name("wharf-otel".to_owned())
            .spawn(move || queue.emit_queued(&logger))
    }

    /// Makes the thread emit what is queued and return.
    pub(crate) fn finish(&self) {
        lock(&self.pending).finished = true;
        self.wake.notify_one();
    }

    fn emit_queued(&self, logger: &SdkLogger) {
        let mut spare = Vec::new();
        let mut emptied = Vec::new();
        loop {
            let mut pending = lock(&self.pending);
            let room = MAX_SPARE.saturating_sub(pending.spare.len());
            pending.spare.extend(emptied.drain(..).take(room));
            if !pending.finished && pending.events.len() < WAKE_AT {
                pending = self
                    .wake
                    .wait_timeout(pending, EVERY)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
            std::mem::swap(&mut pending.events, &mut spare);
            let finished = pending.finished;
            drop(pending);
            for event in spare.drain(..) {
                logger.emit(record(logger, &event));
                emptied.extend(event.into_buffers());
            }
            if finished {
                return;
            }
        }
    }
}

fn record(logger: &SdkLogger, event: &Captured) -> SdkLogRecord {
    let mut record = logger.create_log_record();
    record.set_timestamp(event.time);
    // The event name says what the target would (records without a target
    // share one scope, so an export groups them cheaply).
    record.set_event_name(event.target);
    let (number, text) = severity(event.level);
    record.set_severity_number(number);
    record.set_severity_text(text);
    if let Some(message) = event.message {
        record.set_body(AnyValue::from(event.text(message).to_owned()));
    }
    for (name, value) in &event.fields {
        let value = match value {
            Value::Text(text) => AnyValue::from(event.text(*text).to_owned()),
            Value::Shared(text) => AnyValue::from(text.to_string()),
            Value::Bool(value) => AnyValue::from(*value),
            Value::I64(value) => AnyValue::from(*value),
            Value::F64(value) => AnyValue::from(*value),
        };
        record.add_attribute(*name, value);
    }
    record
}

fn severity(level: Level) -> (Severity, &'static str) {
    match level {
        Level::TRACE => (Severity::Trace, "TRACE"),
        Level::DEBUG => (Severity::Debug, "DEBUG"),
        Level::INFO => (Severity::Info, "INFO"),
        Level::WARN => (Severity::Warn, "WARN"),
        Level::ERROR => (Severity::Error, "ERROR"),
    }
}
