use std::sync::mpsc;
use std::time::Duration;

use super::{Input, Signals};

/// The handler `signal` has now.
fn current_handler(signal: libc::c_int) -> libc::sighandler_t {
    // SAFETY: a zeroed sigaction is a valid value for sigaction to fill.
    let mut current: libc::sigaction = unsafe { std::mem::zeroed() };
    // SAFETY: a null new action only reads the current one into `current`.
    let rc = unsafe { libc::sigaction(signal, std::ptr::null(), &raw mut current) };
    assert_eq!(rc, 0);
    current.sa_sigaction
}

#[test]
fn termination_signals_become_an_input_and_the_handlers_come_back() {
    for signal in [libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT, libc::SIGINT] {
        let before = current_handler(signal);
        let (tx, rx) = mpsc::channel();
        let signals = Signals::install(tx).unwrap();
        assert_ne!(current_handler(signal), before, "{signal}: not installed");
        // SAFETY: raise runs our handler on this thread before it returns;
        // the handler only writes a byte to the pipe.
        assert_eq!(unsafe { libc::raise(signal) }, 0);
        let input = rx.recv_timeout(Duration::from_secs(10));
        assert!(matches!(input, Ok(Input::Signal)), "{signal}: {input:?}");
        drop(signals);
        assert_eq!(current_handler(signal), before, "{signal}: not restored");
        // The reader thread ended with the pipe: the channel closed.
        assert!(matches!(
            rx.recv_timeout(Duration::from_secs(10)),
            Err(mpsc::RecvTimeoutError::Disconnected)
        ));
    }
}
