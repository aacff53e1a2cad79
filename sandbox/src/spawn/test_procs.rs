//! Finding the processes a test's commands started, and waiting for them to
//! end, without sleeping: commands run in their own PID namespace, so the
//! pids they print are not ours; a test gives each `sleep` a unique
//! duration and finds it by its command line.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::os::fd::{AsRawFd as _, FromRawFd as _, OwnedFd};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// A shell function for a command's script: `running PID DURATION` returns
/// once process PID runs `sleep DURATION` (it spins on its command line,
/// which `exec` changes), so the script can report that by a line.
pub(super) const RUNNING: &str =
    "running() { until [ \"$(tr -d '\\0' < /proc/$1/cmdline)\" = \"sleep$2\" ]; do :; done; }\n";

/// A `sleep` duration no other process has.
pub(super) fn unique_sleep() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{}.{}", 200 + n, std::process::id())
}

/// The pids (as the test sees them) running `sleep DURATION`, zombies left
/// out.
pub(super) fn sleeping(duration: &str) -> Vec<u32> {
    let wanted = format!("sleep\0{duration}\0");
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let cmdline = std::fs::read(entry.path().join("cmdline")).ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            let zombie = stat
                .rsplit_once(") ")
                .is_some_and(|(_, s)| s.starts_with('Z'));
            (cmdline == wanted.as_bytes() && !zombie).then_some(pid)
        })
        .collect()
}

/// Waits (woken by each exit, through a pidfd; 5 s at most) until no
/// process runs `sleep DURATION`.
#[track_caller]
pub(super) fn assert_gone(duration: &str, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(5);
    for pid in sleeping(duration) {
        let Some(pidfd) = pidfd(pid) else { continue };
        let left = deadline.saturating_duration_since(Instant::now());
        let mut poll = libc::pollfd {
            fd: pidfd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let timeout = i32::try_from(left.as_millis()).unwrap_or(i32::MAX);
        // SAFETY: one live pollfd for the call.
        let ready = unsafe { libc::poll(&mut poll, 1, timeout) };
        assert_eq!(ready, 1, "{what} (pid {pid} runs `sleep {duration}`)");
    }
}

/// A pidfd of `pid`, or `None` when it is gone.
fn pidfd(pid: u32) -> Option<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    let fd = i32::try_from(fd).ok().filter(|fd| *fd >= 0)?;
    // SAFETY: a fresh descriptor we now own.
    Some(unsafe { OwnedFd::from_raw_fd(fd) })
}
