//! `wharf-sandbox-init`: the first process (PID 1) of a sandboxed command's
//! PID namespace. `build.rs` compiles it as a small static program that the
//! sandbox embeds and executes from memory (`linux/init.rs`), so it needs no
//! file on disk and no other crate: the few C functions it calls are
//! declared below (Linux, glibc; x86_64 and aarch64 share these layouts).
//!
//! The command itself is PID 2. PID 1 of a namespace is special: the kernel
//! drops every signal it has no handler for, and when it exits every other
//! process of the namespace is killed. This program uses both:
//!
//! - it reaps every process that ends up its child (orphans are re-parented
//!   to it), so none stays a zombie;
//! - it passes on to the command the signals someone sent it with `kill`
//!   (and a terminal's hangup), which the command would otherwise not see;
//!   a terminal's Ctrl-C reaches the command directly, so it is not passed
//!   on twice;
//! - when the command exits, it writes the command's wait status to the
//!   status descriptor and exits, which ends everything the command left
//!   running (daemons included, `setsid` or not);
//! - when wharf is gone (the lifeline's write end, which only wharf holds,
//!   closes: also when wharf was killed), it exits, with the same effect.
//!
//! Usage: `wharf-sandbox-init STATUS_FD LIFELINE_FD`.

use std::ffi::{c_int, c_short, c_ulong, c_void};

/// The command: the first process this namespace's PID 1 started.
const COMMAND: c_int = 2;

const SIGHUP: c_int = 1;
const SIGINT: c_int = 2;
const SIGQUIT: c_int = 3;
const SIGUSR1: c_int = 10;
const SIGUSR2: c_int = 12;
const SIGTERM: c_int = 15;
const SIGCHLD: c_int = 17;
const SIGCONT: c_int = 18;
const SIGWINCH: c_int = 28;
/// `si_code` of a signal sent with `kill`.
const SI_USER: i32 = 0;

const SIG_BLOCK: c_int = 0;
const SFD_CLOEXEC: c_int = 0o2_000_000;
const WNOHANG: c_int = 1;
const POLLIN: c_short = 1;
const EINTR: c_int = 4;
const EAGAIN: c_int = 11;
const ECHILD: c_int = 10;

/// glibc's `sigset_t`: 1024 bits.
#[repr(C)]
struct SigSet([c_ulong; 16]);

#[repr(C)]
struct PollFd {
    fd: c_int,
    events: c_short,
    revents: c_short,
}

/// `struct signalfd_siginfo`: 128 bytes, of which the first three fields
/// matter here.
#[repr(C)]
struct SignalInfo {
    signo: u32,
    errno: i32,
    code: i32,
    rest: [u8; 116],
}

unsafe extern "C" {
    fn sigfillset(set: *mut SigSet) -> c_int;
    fn sigprocmask(how: c_int, set: *const SigSet, old: *mut SigSet) -> c_int;
    fn signalfd(fd: c_int, mask: *const SigSet, flags: c_int) -> c_int;
    fn poll(fds: *mut PollFd, count: c_ulong, timeout: c_int) -> c_int;
    fn read(fd: c_int, buf: *mut c_void, count: usize) -> isize;
    fn write(fd: c_int, buf: *const c_void, count: usize) -> isize;
    fn waitpid(pid: c_int, status: *mut c_int, options: c_int) -> c_int;
    fn kill(pid: c_int, signal: c_int) -> c_int;
    fn __errno_location() -> *mut c_int;
}

fn errno() -> c_int {
    // SAFETY: glibc returns this thread's errno slot.
    unsafe { *__errno_location() }
}

fn main() {
    let mut args = std::env::args().skip(1).map(|arg| arg.parse::<c_int>());
    let (Some(Ok(status_fd)), Some(Ok(lifeline_fd))) = (args.next(), args.next()) else {
        eprintln!("usage: wharf-sandbox-init STATUS_FD LIFELINE_FD (started by wharf's sandbox)");
        std::process::exit(127);
    };
    let mut all = SigSet([0; 16]);
    // SAFETY: `all` is a writable sigset; the mask is this process's.
    let signals = unsafe {
        sigfillset(&mut all);
        sigprocmask(SIG_BLOCK, &all, std::ptr::null_mut());
        signalfd(-1, &all, SFD_CLOEXEC)
    };
    if signals < 0 {
        std::process::exit(127);
    }
    // The command may have ended before the signals were blocked (a SIGCHLD
    // then is not kept).
    reap(status_fd);
    loop {
        let mut fds = [
            PollFd {
                fd: signals,
                events: POLLIN,
                revents: 0,
            },
            PollFd {
                fd: lifeline_fd,
                events: POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: two live pollfd entries.
        let ready = unsafe { poll(fds.as_mut_ptr(), 2, -1) };
        if ready < 0 {
            if errno() == EINTR {
                continue;
            }
            std::process::exit(127);
        }
        if fds[1].revents != 0 {
            // wharf is gone: end the namespace (SIGKILL's status).
            std::process::exit(128 + 9);
        }
        if fds[0].revents != 0 {
            handle_signal(signals, status_fd);
        }
    }
}

fn handle_signal(signals: c_int, status_fd: c_int) {
    let mut info = SignalInfo {
        signo: 0,
        errno: 0,
        code: 0,
        rest: [0; 116],
    };
    // SAFETY: reads one signalfd_siginfo into live memory of its size.
    let read = unsafe { read(signals, (&raw mut info).cast(), size_of::<SignalInfo>()) };
    if read != size_of::<SignalInfo>() as isize {
        if read < 0 && (errno() == EINTR || errno() == EAGAIN) {
            return;
        }
        std::process::exit(127);
    }
    let signal = info.signo as c_int;
    match signal {
        SIGCHLD => reap(status_fd),
        SIGHUP => forward(signal),
        SIGINT | SIGQUIT | SIGTERM | SIGUSR1 | SIGUSR2 | SIGWINCH | SIGCONT
            if info.code == SI_USER =>
        {
            forward(signal);
        }
        _ => {}
    }
}

fn forward(signal: c_int) {
    // SAFETY: kill with integers.
    unsafe { kill(COMMAND, signal) };
}

/// Reaps every child that has ended; when the command has, reports its
/// status and exits.
fn reap(status_fd: c_int) {
    loop {
        let mut status: c_int = 0;
        // SAFETY: `status` is a writable int.
        let pid = unsafe { waitpid(-1, &mut status, WNOHANG) };
        if pid == COMMAND {
            let bytes = status.to_ne_bytes();
            // SAFETY: writes four bytes from a live array.
            unsafe { write(status_fd, bytes.as_ptr().cast(), bytes.len()) };
            std::process::exit(exit_code(status));
        }
        if pid == 0 || (pid < 0 && errno() != EINTR) {
            if pid < 0 && errno() == ECHILD {
                // No child at all: the command is gone without a status.
                std::process::exit(127);
            }
            return;
        }
    }
}

/// The shell's convention: the exit code, or 128 + the signal.
fn exit_code(status: c_int) -> c_int {
    let signal = status & 0x7f;
    if signal == 0 {
        (status >> 8) & 0xff
    } else {
        128 + signal
    }
}
