//! The stdio of a command and the process it became. wharf starts
//! processes itself (see `linux.rs` for why), so these stand in for
//! `std::process::{Stdio, Child}` with the same shape.
//!
//! A process's life ends in one order, which [`ChildProcess`] keeps: see
//! that it exited without reaping it (`pidfd` + `poll`, or
//! `waitid(WNOWAIT)`), kill what it left in its process group, then reap.
//! While the leader is an unreaped zombie its pid, and so the group id,
//! cannot be reused, and every signal is sent under the lock the reap
//! takes: a signal never reaches a stranger.

use std::fs::File;
use std::io::{self, Read as _};
use std::os::fd::{AsRawFd as _, FromRawFd as _, OwnedFd};
use std::os::unix::process::ExitStatusExt as _;
use std::process::{ExitStatus, Output};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// Where a command's stdin, stdout or stderr goes.
#[derive(Debug)]
pub struct Stdio(pub(super) StdioKind);

#[derive(Debug)]
pub(super) enum StdioKind {
    Inherit,
    Null,
    Piped,
    Fd(OwnedFd),
}

impl Stdio {
    /// wharf's own.
    pub fn inherit() -> Stdio {
        Stdio(StdioKind::Inherit)
    }

    /// `/dev/null`.
    pub fn null() -> Stdio {
        Stdio(StdioKind::Null)
    }

    /// A pipe to wharf: [`Child::stdin`], [`Child::stdout`] or
    /// [`Child::stderr`].
    pub fn piped() -> Stdio {
        Stdio(StdioKind::Piped)
    }
}

impl From<OwnedFd> for Stdio {
    fn from(fd: OwnedFd) -> Stdio {
        Stdio(StdioKind::Fd(fd))
    }
}

impl From<File> for Stdio {
    fn from(file: File) -> Stdio {
        Stdio(StdioKind::Fd(file.into()))
    }
}

impl From<io::PipeWriter> for Stdio {
    fn from(pipe: io::PipeWriter) -> Stdio {
        Stdio(StdioKind::Fd(pipe.into()))
    }
}

impl From<io::PipeReader> for Stdio {
    fn from(pipe: io::PipeReader) -> Stdio {
        Stdio(StdioKind::Fd(pipe.into()))
    }
}

/// A started command. Dropping it neither waits for nor kills the process
/// (as with `std::process::Child`): whoever holds the pid may reap it.
#[derive(Debug)]
pub struct Child {
    process: ChildProcess,
    /// The write end of a piped stdin.
    pub stdin: Option<File>,
    /// The read end of a piped stdout.
    pub stdout: Option<File>,
    /// The read end of a piped stderr.
    pub stderr: Option<File>,
}

/// The waiting and killing half of a [`Child`], shared between threads
/// (clones name the same process): one thread may block in
/// [`ChildProcess::wait_deadline`] while another calls
/// [`ChildProcess::kill_group`].
#[derive(Debug, Clone)]
pub struct ChildProcess(Arc<Lifecycle>);

#[derive(Debug)]
struct Lifecycle {
    /// The process id, which leads its process group (or session).
    pid: libc::pid_t,
    /// Readable once the process exited; `None` where the kernel has no
    /// `pidfd_open` (waiting then falls back to `waitid`).
    pidfd: Option<OwnedFd>,
    /// Held while signalling and while reaping.
    reaped: Mutex<Reaped>,
}

#[derive(Debug, Default)]
struct Reaped {
    /// The command's status, once the process was reaped.
    status: Option<ExitStatus>,
    /// Where the init of a command's PID namespace writes the command's
    /// wait status (the process we wait for is that init).
    status_pipe: Option<File>,
}

/// How often the fallback without a pidfd looks whether a process with a
/// deadline exited.
const FALLBACK_POLL: Duration = Duration::from_millis(5);

impl Child {
    pub(super) fn new(
        pid: libc::pid_t,
        stdin: Option<File>,
        stdout: Option<File>,
        stderr: Option<File>,
    ) -> Child {
        Child {
            process: ChildProcess(Arc::new(Lifecycle {
                pid,
                pidfd: pidfd_open(pid),
                reaped: Mutex::default(),
            })),
            stdin,
            stdout,
            stderr,
        }
    }

    /// The process is an init that reports the command's status on `pipe`.
    pub(super) fn with_status_pipe(self, pipe: File) -> Child {
        self.process.lock().status_pipe = Some(pipe);
        self
    }

    /// The process id, which is also its process group id (or session id
    /// on a PTY) unless the command stayed in wharf's group.
    pub fn id(&self) -> u32 {
        self.process.id()
    }

    /// A handle to wait for and kill the process with from other threads
    /// (the pipes stay here).
    pub fn process(&self) -> ChildProcess {
        self.process.clone()
    }

    /// Waits for the process to exit (closing our end of its stdin first,
    /// so that a command reading it sees the end) and reaps it; what it
    /// left in its group is not killed (see [`Child::wait_deadline`]).
    pub fn wait(&mut self) -> io::Result<ExitStatus> {
        drop(self.stdin.take());
        self.process.wait()
    }

    /// See [`ChildProcess::wait_deadline`].
    pub fn wait_deadline(&self, deadline: Option<Instant>) -> io::Result<Option<ExitStatus>> {
        self.process.wait_deadline(deadline)
    }

    /// See [`ChildProcess::kill_group`].
    pub fn kill_group(&self) -> io::Result<()> {
        self.process.kill_group()
    }

    /// The exit status if the process has exited, without waiting.
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        self.process.reap(End::LeaveGroup, Block::No)
    }

    /// Sends SIGKILL to the process (not its group; see
    /// [`Child::kill_group`]). Nothing happens once it was reaped.
    pub fn kill(&mut self) -> io::Result<()> {
        self.process.signal(Target::Process)
    }

    /// Waits for the process, collecting its piped stdout and stderr.
    pub fn wait_with_output(mut self) -> io::Result<Output> {
        drop(self.stdin.take());
        let stderr = self.stderr.take().map(|mut pipe| {
            std::thread::spawn(move || {
                let mut bytes = Vec::new();
                pipe.read_to_end(&mut bytes).map(|_| bytes)
            })
        });
        let mut stdout = Vec::new();
        if let Some(mut pipe) = self.stdout.take() {
            pipe.read_to_end(&mut stdout)?;
        }
        let stderr = match stderr {
            Some(reader) => reader
                .join()
                .map_err(|_| io::Error::other("the stderr reader panicked"))??,
            None => Vec::new(),
        };
        let status = self.wait()?;
        Ok(Output {
            status,
            stdout,
            stderr,
        })
    }
}

/// Whether reaping kills what the process left in its group first.
#[derive(Clone, Copy, PartialEq, Eq)]
enum End {
    KillGroup,
    LeaveGroup,
}

/// Whether reaping waits for the exit.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Block {
    Yes,
    No,
}

#[derive(Clone, Copy)]
enum Target {
    Process,
    Group,
}

impl ChildProcess {
    /// The process id (see [`Child::id`]).
    pub fn id(&self) -> u32 {
        self.0.pid.unsigned_abs()
    }

    /// Waits until the process exits or `deadline` passes (`None`: no
    /// deadline), without a polling loop where the kernel has pidfds. Once
    /// it exited: kills what it left in its process group, then reaps it,
    /// and returns the command's status. `Ok(None)`: still running at the
    /// deadline (nothing was killed). Calls after the reap return the same
    /// status.
    pub fn wait_deadline(&self, deadline: Option<Instant>) -> io::Result<Option<ExitStatus>> {
        if let Some(status) = self.lock().status {
            return Ok(Some(status));
        }
        if !self.exited_by(deadline)? {
            return Ok(None);
        }
        self.reap(End::KillGroup, Block::Yes)
    }

    /// SIGKILL to the process group the process leads, unless it was
    /// reaped already (then its pid may belong to someone else). The
    /// process is reaped by whoever waits for it.
    pub fn kill_group(&self) -> io::Result<()> {
        self.signal(Target::Group)
    }

    /// Waits for the exit and reaps, leaving the group alone.
    fn wait(&self) -> io::Result<ExitStatus> {
        if let Some(status) = self.lock().status {
            return Ok(status);
        }
        // Blocking in waitpid under the lock would keep `kill_group` out.
        self.exited_by(None)?;
        self.reap(End::LeaveGroup, Block::Yes)?
            .ok_or_else(|| io::Error::other("no exit status"))
    }

    fn lock(&self) -> MutexGuard<'_, Reaped> {
        self.0.reaped.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn signal(&self, target: Target) -> io::Result<()> {
        let reaped = self.lock();
        if reaped.status.is_some() {
            return Ok(());
        }
        let pid = match target {
            Target::Process => self.0.pid,
            Target::Group => -self.0.pid,
        };
        // SAFETY: kill takes integers. The process is our child and not
        // reaped (we hold the lock the reap takes), so neither its pid nor
        // its group id can name another process.
        if unsafe { libc::kill(pid, libc::SIGKILL) } != 0 {
            let err = io::Error::last_os_error();
            // A group of zombies only.
            if err.raw_os_error() != Some(libc::ESRCH) {
                return Err(err);
            }
        }
        Ok(())
    }

    /// Reaps the process (killing its group first if `end` says so); `None`
    /// when it is still running and `block` is [`Block::No`].
    fn reap(&self, end: End, block: Block) -> io::Result<Option<ExitStatus>> {
        let mut reaped = self.lock();
        if let Some(status) = reaped.status {
            return Ok(Some(status));
        }
        if end == End::KillGroup {
            // SAFETY: as in `signal`: unreaped, under the lock.
            unsafe { libc::kill(-self.0.pid, libc::SIGKILL) };
        }
        let flags = match block {
            Block::Yes => 0,
            Block::No => libc::WNOHANG,
        };
        let Some(waited) = wait_pid(self.0.pid, flags)? else {
            return Ok(None);
        };
        let status = command_status(reaped.status_pipe.take(), waited);
        reaped.status = Some(status);
        Ok(Some(status))
    }

    /// Whether the process exited (reaped or not) by `deadline`.
    fn exited_by(&self, deadline: Option<Instant>) -> io::Result<bool> {
        match &self.0.pidfd {
            Some(pidfd) => poll_readable(pidfd, deadline),
            None => self.waitid_by(deadline),
        }
    }

    /// [`ChildProcess::exited_by`] without a pidfd.
    fn waitid_by(&self, deadline: Option<Instant>) -> io::Result<bool> {
        loop {
            let flags = match deadline {
                Some(_) => libc::WNOHANG,
                None => 0,
            };
            match waitid_unreaped(self.0.pid, flags) {
                Ok(true) => return Ok(true),
                Ok(false) => {}
                // Reaped by another thread meanwhile.
                Err(_) if self.lock().status.is_some() => return Ok(true),
                Err(err) => return Err(err),
            }
            let Some(deadline) = deadline else {
                continue;
            };
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(false);
            }
            std::thread::sleep(left.min(FALLBACK_POLL));
        }
    }
}

/// The command's status: what its init reported on `pipe`, else how the
/// process we waited for ended (an init killed from outside reports
/// nothing).
fn command_status(pipe: Option<File>, waited: ExitStatus) -> ExitStatus {
    let Some(mut pipe) = pipe else {
        return waited;
    };
    let mut bytes = [0u8; 4];
    match pipe.read_exact(&mut bytes) {
        Ok(()) => ExitStatus::from_raw(i32::from_ne_bytes(bytes)),
        Err(_) => waited,
    }
}

/// A pidfd for our child `pid`, or `None` where the kernel has none.
fn pidfd_open(pid: libc::pid_t) -> Option<OwnedFd> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    let fd = libc::c_int::try_from(fd).ok().filter(|fd| *fd >= 0)?;
    // SAFETY: the kernel just returned `fd`, open and owned by nobody else.
    Some(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Whether `pidfd` became readable (its process exited) by `deadline`.
fn poll_readable(pidfd: &OwnedFd, deadline: Option<Instant>) -> io::Result<bool> {
    loop {
        let timeout = match deadline {
            None => -1,
            Some(deadline) => {
                let left = deadline.saturating_duration_since(Instant::now());
                // Rounded up, so that we never wake just before it.
                let millis = left.as_micros().div_ceil(1000);
                libc::c_int::try_from(millis).unwrap_or(libc::c_int::MAX)
            }
        };
        let mut fds = [libc::pollfd {
            fd: pidfd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        }];
        // SAFETY: `fds` is one valid pollfd for the call's duration.
        let ready = unsafe { libc::poll(fds.as_mut_ptr(), 1, timeout) };
        if ready > 0 {
            return Ok(true);
        }
        if ready == 0 {
            if deadline.is_some_and(|deadline| Instant::now() >= deadline) {
                return Ok(false);
            }
            continue;
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

/// `waitid(WEXITED | WNOWAIT)`, retried on EINTR: whether `pid` exited,
/// leaving it unreaped. `flags` may add `WNOHANG`.
fn waitid_unreaped(pid: libc::pid_t, flags: libc::c_int) -> io::Result<bool> {
    loop {
        // SAFETY: an all-zero siginfo_t is a valid value of the plain C
        // struct.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: `info` is a writable siginfo_t for the call; WNOWAIT
        // leaves the child a zombie.
        let result = unsafe {
            libc::waitid(
                libc::P_PID,
                pid.unsigned_abs(),
                &mut info,
                libc::WEXITED | libc::WNOWAIT | flags,
            )
        };
        if result == 0 {
            // SAFETY: waitid filled `info` (si_pid stays 0 under WNOHANG
            // when nothing exited).
            return Ok(unsafe { info.si_pid() } != 0);
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

/// `waitpid`, retried on EINTR; `None` when `WNOHANG` found it running.
fn wait_pid(pid: libc::pid_t, flags: libc::c_int) -> io::Result<Option<ExitStatus>> {
    let mut status = 0;
    loop {
        // SAFETY: `status` is a writable int for the call.
        let reaped = unsafe { libc::waitpid(pid, &mut status, flags) };
        if reaped == pid {
            return Ok(Some(ExitStatus::from_raw(status)));
        }
        if reaped == 0 {
            return Ok(None);
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests;
