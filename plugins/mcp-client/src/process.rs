//! A stdio server's process: started through the sandbox, its stdin and
//! stdout handed to rmcp as async pipes, its stderr's end kept for error
//! messages, its exit watched.
//!
//! A thread per process waits for the exit with
//! [`ChildProcess::wait_deadline`], which kills what is left of the
//! process group before it reaps; [`StdioProcess::kill`] signals through
//! the same handle, so never a group whose id was reused.

use std::collections::{BTreeMap, VecDeque};
use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::process::ExitStatusExt as _;
use std::path::PathBuf;
use std::process::ExitStatus;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::io::AsyncReadExt as _;
use tokio::net::unix::pipe;
use tokio::sync::watch;
use wharf_sandbox::{ChildProcess, Command, Sandbox, SpawnError, Stdio};

use crate::StartError;

mod framing;

pub(crate) use framing::{Violation, check_event};

/// Bytes of stderr kept: enough for a stack trace's end.
const STDERR_TAIL_BYTES: usize = 4096;

/// What a stdio server is started with.
pub(crate) struct Launch<'a> {
    pub server: &'a str,
    pub command: &'a str,
    pub args: &'a [String],
    pub env: &'a BTreeMap<String, String>,
    pub cwd: Option<&'a PathBuf>,
    pub sandbox: &'a Sandbox,
}

/// The pipes rmcp talks over: (the server's stdout, each line checked,
/// its stdin).
pub(crate) type Pipes = (framing::Checked, pipe::Sender);

pub(crate) struct StdioProcess {
    process: ChildProcess,
    /// How it ended, once it has (and was reaped).
    exit: watch::Receiver<Option<String>>,
    stderr: Arc<Mutex<VecDeque<u8>>>,
    /// Set when stderr reached its end: everything it wrote is in `stderr`.
    stderr_done: watch::Receiver<bool>,
    /// Why its stdout was cut off, if it was.
    verdict: framing::Verdict,
}

impl StdioProcess {
    /// Starts the server. Call it on the runtime: the pipes register with
    /// its reactor.
    pub(crate) fn spawn(launch: &Launch<'_>) -> Result<(StdioProcess, Pipes), StartError> {
        let spawn_error = |message: String| StartError::Spawn {
            server: launch.server.to_owned(),
            command: launch.command.to_owned(),
            message,
        };
        let mut command = Command::new(
            std::iter::once(launch.command).chain(launch.args.iter().map(String::as_str)),
        );
        command
            .env_clear()
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (key, value) in launch.env {
            command.env(key, value);
        }
        if let Some(cwd) = launch.cwd {
            command.cwd(cwd);
        }
        let mut child = launch.sandbox.spawn(command).map_err(|err| match err {
            SpawnError::NotFound { .. } => StartError::CommandNotFound {
                server: launch.server.to_owned(),
                command: launch.command.to_owned(),
            },
            other => spawn_error(other.to_string()),
        })?;
        let process = child.process();
        let pipes = (child.stdout.take(), child.stdin.take(), child.stderr.take());
        let (Some(stdout), Some(stdin), Some(stderr)) = pipes else {
            let _ = process.kill_group();
            let _ = process.wait_deadline(None);
            return Err(spawn_error("the sandbox returned no pipes".to_owned()));
        };

        let (exit_tx, exit) = watch::channel(None);
        let waited = process.clone();
        let waiter = std::thread::Builder::new()
            .name("wharf-mcp-wait".to_owned())
            .stack_size(64 * 1024)
            .spawn(move || {
                // Once the leader is gone its group (anything it started)
                // ends with it, then it is reaped.
                let status = waited.wait_deadline(None);
                let _ = exit_tx.send(Some(match status {
                    Ok(Some(status)) => describe_exit(status),
                    Ok(None) => "ended (its exit status is unknown)".to_owned(),
                    Err(err) => format!("ended (its exit status is unknown: {err})"),
                }));
            });
        if let Err(err) = waiter {
            let _ = process.kill_group();
            let _ = process.wait_deadline(None);
            return Err(spawn_error(format!(
                "cannot start a thread to watch it: {err}"
            )));
        }

        let setup = || -> io::Result<((pipe::Receiver, pipe::Sender), pipe::Receiver)> {
            let stdout = pipe::Receiver::from_owned_fd(OwnedFd::from(stdout))?;
            let stdin = pipe::Sender::from_owned_fd(OwnedFd::from(stdin))?;
            let stderr = pipe::Receiver::from_owned_fd(OwnedFd::from(stderr))?;
            Ok(((stdout, stdin), stderr))
        };
        let ((stdout, stdin), stderr_pipe) = match setup() {
            Ok(pipes) => pipes,
            Err(err) => {
                let _ = process.kill_group();
                return Err(spawn_error(format!("cannot watch its pipes: {err}")));
            }
        };
        let stderr = Arc::new(Mutex::new(VecDeque::new()));
        let (done_tx, stderr_done) = watch::channel(false);
        tokio::spawn(collect_tail(stderr_pipe, Arc::clone(&stderr), done_tx));
        let (stdout, verdict) = framing::check_lines(stdout);
        Ok((
            StdioProcess {
                process,
                exit,
                stderr,
                stderr_done,
                verdict,
            },
            (stdout, stdin),
        ))
    }

    pub(crate) fn pid(&self) -> u32 {
        self.process.id()
    }

    /// Why wharf stopped reading its stdout, if it did: the connection is
    /// over, and this says why better than anything else.
    pub(crate) fn violation(&self) -> Option<Violation> {
        self.verdict.get().cloned()
    }

    /// How it ended, if it has.
    pub(crate) fn exit_status(&self) -> Option<String> {
        self.exit.borrow().clone()
    }

    /// Waits up to `limit` for it to end; `None` if it is still running.
    pub(crate) async fn wait_exit(&self, limit: Duration) -> Option<String> {
        let mut exit = self.exit.clone();
        let ended = tokio::time::timeout(limit, exit.wait_for(Option::is_some)).await;
        match ended {
            Ok(Ok(status)) => status.clone(),
            _ => self.exit_status(),
        }
    }

    /// The end of its stderr, waiting up to `limit` for the pipe to close
    /// (after an exit the last lines may still be in flight).
    pub(crate) async fn stderr_tail(&self, limit: Duration) -> String {
        let mut done = self.stderr_done.clone();
        let _ = tokio::time::timeout(limit, done.wait_for(|done| *done)).await;
        self.stderr_now()
    }

    /// The end of its stderr as collected so far.
    pub(crate) fn stderr_now(&self) -> String {
        let bytes = self.stderr.lock().unwrap_or_else(PoisonError::into_inner);
        let (front, back) = bytes.as_slices();
        let text = String::from_utf8_lossy(&[front, back].concat()).into_owned();
        text.trim().to_owned()
    }

    /// Kills its process group (unless it is already gone). The watcher
    /// thread reaps it; [`StdioProcess::wait_exit`] tells when.
    pub(crate) fn kill(&self) {
        let _ = self.process.kill_group();
    }
}

impl Drop for StdioProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Reads the stderr pipe to its end, keeping the last bytes.
async fn collect_tail(
    mut pipe: pipe::Receiver,
    tail: Arc<Mutex<VecDeque<u8>>>,
    done: watch::Sender<bool>,
) {
    let mut buf = [0u8; 4096];
    loop {
        match pipe.read(&mut buf).await {
            Ok(0) => break,
            Ok(n) => {
                let mut tail = tail.lock().unwrap_or_else(PoisonError::into_inner);
                tail.extend(buf.iter().take(n));
                let excess = tail.len().saturating_sub(STDERR_TAIL_BYTES);
                tail.drain(..excess);
            }
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    let _ = done.send(true);
}

/// `exited with status 1`, `was killed by signal 9 (SIGKILL)`.
fn describe_exit(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exited with status {code}");
    }
    match status.signal() {
        Some(signal) => match signal_name(signal) {
            Some(name) => format!("was killed by signal {signal} ({name})"),
            None => format!("was killed by signal {signal}"),
        },
        None => format!("ended ({status})"),
    }
}

fn signal_name(signal: i32) -> Option<&'static str> {
    Some(match signal {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGTERM => "SIGTERM",
        libc::SIGSYS => "SIGSYS",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exits_are_described_for_people() {
        assert_eq!(
            describe_exit(ExitStatus::from_raw(3 << 8)),
            "exited with status 3"
        );
        assert_eq!(
            describe_exit(ExitStatus::from_raw(libc::SIGKILL)),
            "was killed by signal 9 (SIGKILL)"
        );
    }
}
