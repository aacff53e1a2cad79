//! Ctrl-C cancels the running turn: a SIGINT handler writes a byte to a
//! pipe, and a watcher thread blocked on the other end passes it on to the
//! turn's [`CancelToken`] (woken by the signal, not by polling). The handler
//! is installed with `SA_RESETHAND`, so a second Ctrl-C kills wharf as
//! usual.

use std::io::Read as _;
use std::os::fd::{FromRawFd as _, OwnedFd};
use std::sync::atomic::{AtomicI32, Ordering};

use super::CancelToken;

/// The write end of the pipe the handler signals through; -1 until set.
static WAKE: AtomicI32 = AtomicI32::new(-1);

extern "C" fn on_sigint(_signal: libc::c_int) {
    let fd = WAKE.load(Ordering::SeqCst);
    if fd >= 0 {
        // SAFETY: write(2) is async-signal-safe; a one-byte write from a
        // live buffer to the pipe we created.
        unsafe { libc::write(fd, [1u8].as_ptr().cast(), 1) };
    }
}

/// Cancels `cancel` on the first SIGINT of the process. Returns whether
/// the handler could be installed.
pub fn cancel_on_interrupt(cancel: CancelToken) -> bool {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: `fds` is a writable array of two ints, as pipe2 requires.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return false;
    }
    // SAFETY: pipe2 succeeded: the read end is a fresh descriptor we own.
    // The write end stays open for the process's life (the handler uses it).
    let read = unsafe { OwnedFd::from_raw_fd(fds[0]) };
    WAKE.store(fds[1], Ordering::SeqCst);
    // SAFETY: `action` is fully initialised (zeroed, then the handler, an
    // empty mask and the flags set); `on_sigint` only loads an atomic and
    // calls write(2), both async-signal-safe; sigaction does not keep the
    // pointers.
    let installed = unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = on_sigint as extern "C" fn(libc::c_int) as libc::sighandler_t;
        action.sa_flags = libc::SA_RESETHAND | libc::SA_RESTART;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(libc::SIGINT, &action, std::ptr::null_mut()) == 0
    };
    if installed {
        std::thread::spawn(move || {
            let mut pipe = std::fs::File::from(read);
            let mut byte = [0u8; 1];
            // Returns when the handler writes (or, never, on an error).
            if matches!(pipe.read(&mut byte), Ok(1)) {
                cancel.cancel();
            }
        });
    }
    installed
}
