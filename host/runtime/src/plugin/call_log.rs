//! What a WASM or native plugin logs during one call, kept bounded for the
//! call's output, and its progress, kept the same way and passed on as it
//! comes to whoever listens (the agent makes it an event). A guest's
//! panic, which it logs just before it traps, is kept apart, so the error
//! of the call can say why it crashed.

use wharf_plugin_api::PANIC_LOG_PREFIX;

use super::Progress;

/// Log lines a call may send before further ones are dropped.
const MAX_LOG_LINES: usize = 200;
const MAX_LOG_LINE_BYTES: usize = 4096;

/// One call's log lines (`[level] message`), its last panic message and
/// its progress listener.
#[derive(Debug, Default)]
pub(crate) struct CallLog {
    lines: Vec<String>,
    panic: Option<String>,
    progress: Option<Progress>,
}

impl CallLog {
    pub(crate) fn new(progress: Option<Progress>) -> CallLog {
        CallLog {
            lines: Vec::new(),
            panic: None,
            progress,
        }
    }

    /// Keeps `message`, cut to the line limit, unless the call already
    /// sent as many lines as it may; whether it was kept. An `error` line
    /// starting with [`PANIC_LOG_PREFIX`] is also kept as the panic
    /// message, even past the limit (it comes last, just before the trap).
    pub(crate) fn log(&mut self, level: &str, message: &str) -> bool {
        if let Some(panic) = message.strip_prefix(PANIC_LOG_PREFIX)
            && level == "error"
        {
            self.panic = Some(clip(panic).to_owned());
        }
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

    /// The message of the guest's last panic, if it sent one.
    pub(crate) fn panic(&self) -> Option<&str> {
        self.panic.as_deref()
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

    /// Only an `error` line with the prefix is a panic; the last one
    /// counts, also once the lines are full.
    #[test]
    fn the_last_panic_line_is_kept_past_the_line_limit() {
        // (level, message, the panic kept after it)
        let cases = [
            ("info", "panic: not at error level", None),
            ("error", "a panic: not at the start", None),
            (
                "error",
                "panic: first (at src/lib.rs:1:1)",
                Some("first (at src/lib.rs:1:1)"),
            ),
            ("error", "panic: second", Some("second")),
        ];
        let mut log = CallLog::new(None);
        for (level, message, kept) in cases {
            log.log(level, message);
            assert_eq!(log.panic(), kept, "{level} {message}");
        }
        for _ in 0..MAX_LOG_LINES {
            log.log("info", "x");
        }
        log.log(
            "error",
            &format!("panic: {}", "é".repeat(MAX_LOG_LINE_BYTES)),
        );
        assert_eq!(log.panic().map(str::len), Some(MAX_LOG_LINE_BYTES));
    }
}
