//! A panic in a WASM guest aborts the instance (a trap), which tells the
//! host only that the guest crashed. The hook [`plugin!`](crate::plugin)
//! installs sends the panic's message and location first, as an `error`
//! log line starting with [`PANIC_LOG_PREFIX`], so the host can say why.

use std::panic::PanicHookInfo;

/// The start of the `error` log line that carries a guest's panic: when the
/// call then traps, the host reports the rest of the line as its cause.
/// Guests in other languages may send one too, before they abort.
pub const PANIC_LOG_PREFIX: &str = "panic: ";

/// Installs the hook, once per instance.
#[cfg(target_arch = "wasm32")]
pub(crate) fn install_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            crate::log(crate::Level::Error, &log_line(info));
        }));
    });
}

/// `panic: MESSAGE (at FILE:LINE:COLUMN)`.
#[cfg_attr(not(any(target_arch = "wasm32", test)), allow(dead_code))]
fn log_line(info: &PanicHookInfo<'_>) -> String {
    let message = info
        .payload_as_str()
        .unwrap_or("(a panic without a message)");
    match info.location() {
        Some(at) => format!(
            "{PANIC_LOG_PREFIX}{message} (at {}:{}:{})",
            at.file(),
            at.line(),
            at.column()
        ),
        None => format!("{PANIC_LOG_PREFIX}{message}"),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    /// The line the hook would send, for a formatted and a literal message.
    #[test]
    fn the_log_line_has_the_message_and_the_location() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new({
            let seen = Arc::clone(&seen);
            move |info| seen.lock().unwrap().push(log_line(info))
        }));
        let line = line!() + 1;
        let literal = std::panic::catch_unwind(|| panic!("plain"));
        let formatted = std::panic::catch_unwind(|| panic!("{} and {}", 1, 2));
        std::panic::set_hook(previous);
        assert!(literal.is_err() && formatted.is_err());
        let file = file!();
        assert_eq!(
            *seen.lock().unwrap(),
            [
                format!("panic: plain (at {file}:{line}:51)"),
                format!("panic: 1 and 2 (at {file}:{}:53)", line + 1),
            ]
        );
    }
}
