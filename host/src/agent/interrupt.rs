//! Ctrl-C cancels the running turn: a SIGINT handler sets a flag that a
//! watcher thread passes on to the turn's [`CancelFlag`]. The handler is
//! installed with `SA_RESETHAND`, so a second Ctrl-C kills wharf as usual.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::CancelFlag;

static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sigint(_signal: libc::c_int) {
    // Only an atomic store: async-signal-safe.
    INTERRUPTED.store(true, Ordering::SeqCst);
}

/// Cancels `cancel` on the first SIGINT of the process. Returns whether
/// the handler could be installed.
pub fn cancel_on_interrupt(cancel: CancelFlag) -> bool {
    // SAFETY: `action` is fully initialised (zeroed, then the handler, an
    // empty mask and the flags set); `on_sigint` only stores to an atomic,
    // which is async-signal-safe; sigaction does not keep the pointers.
    let installed = unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_sigint as extern "C" fn(libc::c_int) as libc::sighandler_t;
        action.sa_flags = libc::SA_RESETHAND | libc::SA_RESTART;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(libc::SIGINT, &action, std::ptr::null_mut()) == 0
    };
    if installed {
        std::thread::spawn(move || {
            while !INTERRUPTED.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(50));
            }
            cancel.cancel();
        });
    }
    installed
}
