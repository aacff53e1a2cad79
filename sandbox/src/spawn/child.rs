//! The stdio of a command and the process it became. wharf starts
//! processes itself (see `linux.rs` for why), so these stand in for
//! `std::process::{Stdio, Child}` with the same shape.

use std::fs::File;
use std::io::{self, Read as _};
use std::os::fd::OwnedFd;
use std::os::unix::process::ExitStatusExt as _;
use std::process::{ExitStatus, Output};

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
    pid: libc::pid_t,
    status: Option<ExitStatus>,
    /// The write end of a piped stdin.
    pub stdin: Option<File>,
    /// The read end of a piped stdout.
    pub stdout: Option<File>,
    /// The read end of a piped stderr.
    pub stderr: Option<File>,
    /// Where the init of a command's PID namespace writes the command's
    /// wait status (the process we wait for is that init).
    status_pipe: Option<File>,
}

impl Child {
    pub(super) fn new(
        pid: libc::pid_t,
        stdin: Option<File>,
        stdout: Option<File>,
        stderr: Option<File>,
    ) -> Child {
        Child {
            pid,
            status: None,
            stdin,
            stdout,
            stderr,
            status_pipe: None,
        }
    }

    /// The process is an init that reports the command's status on `pipe`.
    pub(super) fn with_status_pipe(mut self, pipe: File) -> Child {
        self.status_pipe = Some(pipe);
        self
    }

    /// The command's status: what its init reported, else how the process
    /// we waited for ended (an init killed from outside reports nothing).
    fn command_status(&mut self, waited: ExitStatus) -> ExitStatus {
        let Some(mut pipe) = self.status_pipe.take() else {
            return waited;
        };
        let mut bytes = [0u8; 4];
        match pipe.read_exact(&mut bytes) {
            Ok(()) => ExitStatus::from_raw(i32::from_ne_bytes(bytes)),
            Err(_) => waited,
        }
    }

    /// The process id, which is also its process group id (or session id
    /// on a PTY) unless the command stayed in wharf's group.
    pub fn id(&self) -> u32 {
        self.pid.unsigned_abs()
    }

    /// Waits for the process to exit (closing our end of its stdin first,
    /// so that a command reading it sees the end).
    pub fn wait(&mut self) -> io::Result<ExitStatus> {
        drop(self.stdin.take());
        if let Some(status) = self.status {
            return Ok(status);
        }
        let status = wait_pid(self.pid, 0)?.ok_or_else(|| io::Error::other("no exit status"))?;
        let status = self.command_status(status);
        self.status = Some(status);
        Ok(status)
    }

    /// The exit status if the process has exited, without waiting.
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        if let Some(status) = self.status {
            return Ok(Some(status));
        }
        let status = wait_pid(self.pid, libc::WNOHANG)?.map(|status| self.command_status(status));
        self.status = status;
        Ok(status)
    }

    /// Sends SIGKILL to the process (not its group; see
    /// [`crate::kill_group`]). Nothing happens once it was reaped.
    pub fn kill(&mut self) -> io::Result<()> {
        if self.status.is_some() {
            return Ok(());
        }
        // SAFETY: kill takes integers; the pid is our unreaped child.
        if unsafe { libc::kill(self.pid, libc::SIGKILL) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
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
