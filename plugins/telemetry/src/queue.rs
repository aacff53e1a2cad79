//! Between the call threads and the SDK: the layer pushes what it
//! captured, and the `wharf-otel` thread makes log records of it and emits
//! them to the batch processor. The thread wakes every [`EVERY`], or when
//! [`WAKE_AT`] events wait: a call makes a system call to export only when
//! it is the one that fills that many, and little memory is ever in flight.
//!
//! The queue holds at most [`MAX_QUEUED`] events; past it an event is
//! dropped (as the SDK's own queue does), never waited for.

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
    pub(crate) message: Option<String>,
    pub(crate) fields: Vec<(&'static str, Value)>,
    /// The text of every `Value::Text`, one after the other.
    pub(crate) text: String,
}

/// A field's value; text lies in [`Captured::text`].
#[derive(Debug, Clone)]
pub(crate) enum Value {
    Text {
        start: u32,
        end: u32,
    },
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

#[derive(Debug, Default)]
pub(crate) struct Queue {
    pending: Mutex<Pending>,
    wake: Condvar,
}

#[derive(Debug, Default)]
struct Pending {
    events: Vec<Captured>,
    /// Told to empty the queue and stop.
    finished: bool,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Queue {
    pub(crate) fn push(&self, event: Captured) {
        let mut pending = lock(&self.pending);
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
        loop {
            let mut pending = lock(&self.pending);
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
                logger.emit(record(logger, event));
            }
            if finished {
                return;
            }
        }
    }
}

fn record(logger: &SdkLogger, event: Captured) -> SdkLogRecord {
    let mut record = logger.create_log_record();
    record.set_timestamp(event.time);
    // The event name says what the target would (records without a target
    // share one scope, so an export groups them cheaply).
    record.set_event_name(event.target);
    let (number, text) = severity(event.level);
    record.set_severity_number(number);
    record.set_severity_text(text);
    if let Some(message) = event.message {
        record.set_body(AnyValue::from(message));
    }
    for (name, value) in event.fields {
        let value = match value {
            Value::Text { start, end } => {
                AnyValue::from(event.text[start as usize..end as usize].to_owned())
            }
            Value::Shared(text) => AnyValue::from(text.to_string()),
            Value::Bool(value) => AnyValue::from(value),
            Value::I64(value) => AnyValue::from(value),
            Value::F64(value) => AnyValue::from(value),
        };
        record.add_attribute(name, value);
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
