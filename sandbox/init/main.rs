//! `wharf-sandbox-init`: the first process (PID 1) of a sandboxed command's
//! PID namespace. `build.rs` compiles it into a tiny static program that the
//! sandbox embeds and executes from memory (`linux/init.rs`), so it needs no
//! file on disk. It uses neither the standard library nor the C library:
//! their start-up alone (the C library asks the CPU for its features, which
//! is slow in a virtual machine) costs more than everything it does. Its
//! handful of system calls are made directly, for x86_64 and aarch64.
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

#![no_std]
#![no_main]

use core::arch::{asm, naked_asm};

/// The command: the first process this namespace's PID 1 started.
const COMMAND: i64 = 2;

const SIGHUP: u32 = 1;
const SIGINT: u32 = 2;
const SIGQUIT: u32 = 3;
const SIGUSR1: u32 = 10;
const SIGUSR2: u32 = 12;
const SIGTERM: u32 = 15;
const SIGCHLD: u32 = 17;
const SIGCONT: u32 = 18;
const SIGWINCH: u32 = 28;
/// `si_code` of a signal sent with `kill`.
const SI_USER: i32 = 0;

const SIG_BLOCK: i64 = 0;
const SFD_CLOEXEC: i64 = 0o2_000_000;
const WNOHANG: i64 = 1;
const POLLIN: i16 = 1;
const EINTR: i64 = 4;
const EAGAIN: i64 = 11;
const ECHILD: i64 = 10;

/// The kernel's signal set: 64 bits.
const SIGSET_SIZE: i64 = 8;

#[cfg(target_arch = "x86_64")]
mod nr {
    pub const READ: i64 = 0;
    pub const WRITE: i64 = 1;
    pub const RT_SIGPROCMASK: i64 = 14;
    pub const WAIT4: i64 = 61;
    pub const KILL: i64 = 62;
    pub const EXIT_GROUP: i64 = 231;
    pub const PPOLL: i64 = 271;
    pub const SIGNALFD4: i64 = 289;
}

#[cfg(target_arch = "aarch64")]
mod nr {
    pub const READ: i64 = 63;
    pub const WRITE: i64 = 64;
    pub const RT_SIGPROCMASK: i64 = 135;
    pub const WAIT4: i64 = 260;
    pub const KILL: i64 = 129;
    pub const EXIT_GROUP: i64 = 94;
    pub const PPOLL: i64 = 73;
    pub const SIGNALFD4: i64 = 74;
}

/// A system call with up to four arguments; a negative result is `-errno`.
#[cfg(target_arch = "x86_64")]
unsafe fn syscall(number: i64, a: i64, b: i64, c: i64, d: i64) -> i64 {
    let result;
    // SAFETY: the caller passes arguments valid for `number`.
    unsafe {
        asm!(
            "syscall",
            inlateout("rax") number => result,
            in("rdi") a, in("rsi") b, in("rdx") c, in("r10") d,
            lateout("rcx") _, lateout("r11") _,
            options(nostack),
        );
    }
    result
}

#[cfg(target_arch = "aarch64")]
unsafe fn syscall(number: i64, a: i64, b: i64, c: i64, d: i64) -> i64 {
    let result;
    // SAFETY: the caller passes arguments valid for `number`.
    unsafe {
        asm!(
            "svc 0",
            in("x8") number,
            inlateout("x0") a => result,
            in("x1") b, in("x2") c, in("x3") d,
            options(nostack),
        );
    }
    result
}

fn exit(code: i64) -> ! {
    // SAFETY: exit_group takes an integer and does not return.
    unsafe { syscall(nr::EXIT_GROUP, code, 0, 0, 0) };
    loop {}
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    exit(127)
}

/// The entry point: hands the initial stack (argc, then argv) to `main`.
#[cfg(target_arch = "x86_64")]
#[unsafe(naked)]
#[unsafe(no_mangle)]
extern "C" fn _start() -> ! {
    naked_asm!("mov rdi, rsp", "and rsp, -16", "call {main}", "ud2", main = sym main)
}

#[cfg(target_arch = "aarch64")]
#[unsafe(naked)]
#[unsafe(no_mangle)]
extern "C" fn _start() -> ! {
    naked_asm!("mov x0, sp", "bl {main}", "brk #0", main = sym main)
}

/// `struct pollfd`.
#[repr(C)]
struct PollFd {
    fd: i32,
    events: i16,
    revents: i16,
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

/// Parses a non-negative decimal C string.
///
/// # Safety
/// `arg` is null or points to a NUL-terminated string.
unsafe fn parse_fd(arg: *const u8) -> Option<i64> {
    if arg.is_null() {
        return None;
    }
    let mut value: i64 = 0;
    let mut at = arg;
    // SAFETY: reading up to the NUL the caller promises.
    while let digit @ b'0'..=b'9' = unsafe { *at } {
        value = value.checked_mul(10)?.checked_add(i64::from(digit - b'0'))?;
        // SAFETY: still inside the string (the NUL is further on).
        at = unsafe { at.add(1) };
    }
    // SAFETY: `at` points at the first byte that is not a digit.
    (at != arg && unsafe { *at } == 0 && value <= i64::from(i32::MAX)).then_some(value)
}

/// # Safety
/// `stack` is the initial stack the kernel set up: argc, then argv.
unsafe extern "C" fn main(stack: *const usize) -> ! {
    // SAFETY: the kernel's layout: argc, argv[0], argv[1], ..., NULL.
    let (argc, argv) = unsafe { (*stack, stack.add(1).cast::<*const u8>()) };
    if argc != 3 {
        exit(127);
    }
    // SAFETY: argv[1] and argv[2] exist (argc is 3) and are C strings.
    let fds = unsafe { (parse_fd(*argv.add(1)), parse_fd(*argv.add(2))) };
    let (Some(status_fd), Some(lifeline_fd)) = fds else {
        exit(127);
    };
    let all: u64 = !0;
    let mask = (&raw const all) as i64;
    // SAFETY: the mask is a live 8-byte set; no old mask is asked for.
    let signals = unsafe {
        syscall(nr::RT_SIGPROCMASK, SIG_BLOCK, mask, 0, SIGSET_SIZE);
        syscall(nr::SIGNALFD4, -1, mask, SIGSET_SIZE, SFD_CLOEXEC)
    };
    if signals < 0 {
        exit(127);
    }
    // The command may have ended before the signals were blocked (a SIGCHLD
    // then is not kept).
    reap(status_fd);
    loop {
        let mut fds = [
            PollFd {
                fd: signals as i32,
                events: POLLIN,
                revents: 0,
            },
            PollFd {
                fd: lifeline_fd as i32,
                events: POLLIN,
                revents: 0,
            },
        ];
        // SAFETY: two live pollfd entries; no timeout, no signal mask.
        let ready = unsafe { syscall(nr::PPOLL, fds.as_mut_ptr() as i64, 2, 0, 0) };
        if ready == -EINTR {
            continue;
        }
        if ready < 0 {
            exit(127);
        }
        if fds[1].revents != 0 {
            // wharf is gone: end the namespace (SIGKILL's status).
            exit(128 + 9);
        }
        if fds[0].revents != 0 {
            handle_signal(signals, status_fd);
        }
    }
}

fn handle_signal(signals: i64, status_fd: i64) {
    let mut info = SignalInfo {
        signo: 0,
        errno: 0,
        code: 0,
        rest: [0; 116],
    };
    let size = size_of::<SignalInfo>() as i64;
    // SAFETY: reads one signalfd_siginfo into live memory of its size.
    let read = unsafe { syscall(nr::READ, signals, (&raw mut info) as i64, size, 0) };
    if read == -EINTR || read == -EAGAIN {
        return;
    }
    if read != size {
        exit(127);
    }
    match info.signo {
        SIGCHLD => reap(status_fd),
        SIGHUP => forward(info.signo),
        SIGINT | SIGQUIT | SIGTERM | SIGUSR1 | SIGUSR2 | SIGWINCH | SIGCONT
            if info.code == SI_USER =>
        {
            forward(info.signo);
        }
        _ => {}
    }
}

fn forward(signal: u32) {
    // SAFETY: kill with integers.
    unsafe { syscall(nr::KILL, COMMAND, i64::from(signal), 0, 0) };
}

/// Reaps every child that has ended; when the command has, reports its
/// status and exits.
fn reap(status_fd: i64) {
    loop {
        let mut status: i32 = 0;
        // SAFETY: `status` is a writable int; no rusage.
        let pid = unsafe { syscall(nr::WAIT4, -1, (&raw mut status) as i64, WNOHANG, 0) };
        if pid == COMMAND {
            let bytes = status.to_ne_bytes();
            // SAFETY: writes four bytes from a live array.
            unsafe { syscall(nr::WRITE, status_fd, bytes.as_ptr() as i64, 4, 0) };
            exit(exit_code(status));
        }
        match pid {
            // No child at all: the command is gone without a status.
            _ if pid == -ECHILD => exit(127),
            _ if pid == -EINTR => continue,
            _ if pid > 0 => continue,
            _ => return,
        }
    }
}

/// The shell's convention: the exit code, or 128 + the signal.
fn exit_code(status: i32) -> i64 {
    let signal = status & 0x7f;
    i64::from(if signal == 0 {
        (status >> 8) & 0xff
    } else {
        128 + signal
    })
}
