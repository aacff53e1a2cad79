//! Running a command to completion: the one-shot form that plugins' `exec`
//! and `wharf sandbox` use.

use std::io::{self, Read, Write as _};
use std::process::ExitStatus;
use std::thread;
use std::time::{Duration, Instant};

use super::{Command, Sandbox, SpawnError, Stdio};

/// What a finished command left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOutput {
    /// The exit code; `None` when a signal ended the command.
    pub exit_code: Option<i32>,
    /// The signal that ended it, if one did.
    pub signal: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// Bytes beyond the cap that were read and dropped, per stream.
    pub stdout_dropped: u64,
    pub stderr_dropped: u64,
    /// The command outlived its timeout and was killed with its process
    /// group.
    pub timed_out: bool,
    pub wall_time: Duration,
}

/// Limits of [`Sandbox::run`].
#[derive(Debug, Clone, Copy)]
pub struct RunLimits {
    pub timeout: Duration,
    /// Bytes kept per stream; the rest is read and counted.
    pub max_output_bytes: usize,
}

impl Sandbox {
    /// Runs `command` to completion with `stdin` as its input (or none),
    /// capturing stdout and stderr. After `limits.timeout` the command's
    /// whole process group is killed; so are processes it leaves running in
    /// the background when it exits.
    pub fn run(
        &self,
        mut command: Command,
        stdin: Option<Vec<u8>>,
        limits: RunLimits,
    ) -> Result<RunOutput, SpawnError> {
        let started = Instant::now();
        let program = command.program();
        command
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = self.spawn(command)?;
        let io_error = |source: io::Error| SpawnError::Io {
            program: program.clone(),
            source,
        };
        if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
            // A command that does not read its input must not block us.
            spawn_named("wharf-run-stdin", move || {
                let _ = pipe.write_all(&input);
            })
            .map_err(io_error)?;
        }
        let cap = limits.max_output_bytes;
        let stdout = child.stdout.take().map(|pipe| collect(pipe, cap));
        let stderr = child.stderr.take().map(|pipe| collect(pipe, cap));

        // Waiting ends the group before it reaps: background processes the
        // command left would hold the pipes open, and a one-shot command's
        // processes end with it.
        let deadline = Instant::now().checked_add(limits.timeout);
        let (status, timed_out) = match child.wait_deadline(deadline).map_err(io_error)? {
            Some(status) => (status, false),
            None => {
                child.kill_group().map_err(io_error)?;
                let status = child
                    .wait_deadline(None)
                    .map_err(io_error)?
                    .ok_or_else(|| io_error(io::Error::other("lost the command's exit status")))?;
                (status, true)
            }
        };
        let (stdout, stdout_dropped) = join(stdout);
        let (stderr, stderr_dropped) = join(stderr);
        Ok(RunOutput {
            exit_code: status.code(),
            signal: signal_of(status),
            stdout,
            stderr,
            stdout_dropped,
            stderr_dropped,
            timed_out,
            wall_time: started.elapsed(),
        })
    }
}

fn signal_of(status: ExitStatus) -> Option<i32> {
    use std::os::unix::process::ExitStatusExt as _;
    status.signal()
}

type Collected = thread::JoinHandle<(Vec<u8>, u64)>;

/// Reads `pipe` to its end on a thread, keeping the first `cap` bytes.
fn collect(mut pipe: impl Read + Send + 'static, cap: usize) -> Option<Collected> {
    spawn_named("wharf-run-read", move || {
        let mut kept = Vec::new();
        let mut dropped = 0u64;
        let mut buf = [0u8; 16 * 1024];
        loop {
            match pipe.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    let room = cap.saturating_sub(kept.len()).min(n);
                    kept.extend_from_slice(&buf[..room]);
                    dropped += (n - room) as u64;
                }
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        (kept, dropped)
    })
    .ok()
}

fn join(handle: Option<Option<Collected>>) -> (Vec<u8>, u64) {
    handle
        .flatten()
        .and_then(|handle| handle.join().ok())
        .unwrap_or_default()
}

fn spawn_named<F, T>(name: &str, f: F) -> io::Result<thread::JoinHandle<T>>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    thread::Builder::new()
        .name(name.to_owned())
        .stack_size(64 * 1024)
        .spawn(f)
}
