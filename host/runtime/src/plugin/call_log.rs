//! What a WASM or native plugin logs during one call, kept bounded for the
//! call's output, and its progress, kept the same way and passed on as it
//! comes to whoever listens (the agent makes it an event).

use super::Progress;

/// Log lines a call may send before further ones are dropped.
const MAX_LOG_LINES: usize = 200;
const MAX_LOG_LINE_BYTES: usize = 4096;

/// One call's log lines (`[level] message`) and its progress listener.
#[derive(Debug, Default)]
pub(crate) struct CallLog {
    lines: Vec<String>,
    progress: Option<Progress>,
}

impl CallLog {
    pub(crate) fn new(progress: Option<Progress>) -> CallLog {
        CallLog {
            lines: Vec::new(),
            progress,
        }
    }

    /// Keeps `message`, cut to the line limit, unless the call already
    /// sent as many lines as it may; whether it was kept.
    pub(crate) fn log(&mut self, level: &str, message: &str) -> bool {
        if self.lines.len() >= MAX_LOG_LINES {
            return false;
        }
        self.lines.push(format!("[{level}] {}", clip(message)));
        true
    }

    /// A progress line: kept like a log line and, if kept, reported.
    pub(crate) fn progress(&mut self, message: &str) {
        if self.log("progress", message)
            && let Some(progress) = &self.progress
        {
            progress.report(clip(message));
        }
    }

    pub(crate) fn into_lines(self) -> Vec<String> {
        self.lines
    }
}

/// `message` cut to [`MAX_LOG_LINE_BYTES`], on a character boundary.
fn clip(message: &str) -> &str {
    let mut end = message.len().min(MAX_LOG_LINE_BYTES);
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    message.get(..end).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[test]
    fn lines_and_progress_are_bounded_and_progress_is_passed_on() {
        let reported = Arc::new(Mutex::new(Vec::new()));
        let mut log = CallLog::new(Some(Progress::new({
            let reported = Arc::clone(&reported);
            move |message| reported.lock().unwrap().push(message.len())
        })));
        log.progress(&"é".repeat(MAX_LOG_LINE_BYTES));
        for _ in 0..MAX_LOG_LINES {
            log.log("info", "x");
        }
        log.progress("dropped");
        let lines = log.into_lines();
        assert_eq!(lines.len(), MAX_LOG_LINES);
        assert_eq!(lines[0].len(), "[progress] ".len() + MAX_LOG_LINE_BYTES);
        // Only the kept progress line was reported, cut like the log.
        assert_eq!(*reported.lock().unwrap(), [MAX_LOG_LINE_BYTES]);
    }
}
