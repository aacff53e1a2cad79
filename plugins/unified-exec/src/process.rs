//! One running command: its output buffer, filled by a reader thread, and
//! its exit status, recorded by a waiter thread. Both wake whoever waits
//! on the [`Condvar`], so a call returns as soon as there is an answer.

use std::io::{self, Read, Write as _};
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use wharf_sandbox::{ChildProcess, Command, PtySize, Sandbox, Stdio};

use crate::ExecError;
use crate::buffer::{HeadTail, Unread};

/// The environment codex gives commands so that their output suits a
/// model: no colors, no pagers, UTF-8.
pub const COMMAND_ENV: &[(&str, &str)] = &[
    ("NO_COLOR", "1"),
    ("TERM", "dumb"),
    ("LANG", "C.UTF-8"),
    ("LC_CTYPE", "C.UTF-8"),
    ("LC_ALL", "C.UTF-8"),
    ("COLORTERM", ""),
    ("PAGER", "cat"),
    ("GIT_PAGER", "cat"),
    ("GH_PAGER", "cat"),
];

/// Stacks of the helper threads: they only copy bytes and wait.
const THREAD_STACK: usize = 64 * 1024;

/// How much a reader takes from the process at once.
const READ_CHUNK: usize = 64 * 1024;

/// How often a waiting call asks whether it was cancelled (output and exit
/// wake it at once; the cancel flag cannot).
const CANCEL_CHECK: Duration = Duration::from_millis(20);

/// How long, after the process exited, a call still waits for the rest of
/// its output (a process that escaped the group may hold the pipe open).
const DRAIN_GRACE: Duration = Duration::from_millis(50);

/// The exit code reported when the status could not be read.
const UNKNOWN_EXIT: i32 = -1;

/// A command started under the sandbox, in its own process group.
#[derive(Debug)]
pub struct Process {
    /// The child, which leads its process group.
    child: ChildProcess,
    shared: Arc<Shared>,
    /// The terminal, for writing; `None` with pipes (stdin is /dev/null).
    stdin: Option<Arc<Mutex<std::fs::File>>>,
}

#[derive(Debug, Default)]
struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Debug, Default)]
struct State {
    output: HeadTail,
    /// The reader saw the end of the output.
    eof: bool,
    /// The exit code, once the waiter reaped the process.
    exit: Option<i32>,
    exited_at: Option<Instant>,
}

/// What one wait collected.
#[derive(Debug)]
pub struct Collected {
    pub unread: Unread,
    /// `Some` when the process has exited.
    pub exit: Option<i32>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn update(&self, change: impl FnOnce(&mut State)) {
        change(&mut self.lock());
        self.changed.notify_all();
    }
}

impl Process {
    /// Starts `argv` in `cwd` on a new terminal (`tty`) or with its stdout
    /// and stderr merged into one pipe and stdin on `/dev/null`.
    pub fn spawn(
        sandbox: &Sandbox,
        argv: Vec<String>,
        cwd: PathBuf,
        tty: bool,
    ) -> Result<Process, ExecError> {
        let mut command = Command::new(argv);
        command.cwd(cwd);
        for (key, value) in COMMAND_ENV {
            command.env(key, value);
        }
        let (child, output, stdin): (_, Box<dyn Read + Send>, _) = if tty {
            let pty = sandbox.spawn_pty(command, PtySize::default())?;
            match pty.master.try_clone() {
                Ok(output) => (
                    pty.child,
                    Box::new(output),
                    Some(Arc::new(Mutex::new(pty.master))),
                ),
                Err(err) => {
                    abandon(&pty.child.process());
                    return Err(ExecError::Io(err));
                }
            }
        } else {
            let (output, writer) = io::pipe().map_err(ExecError::Io)?;
            let stderr = writer.try_clone().map_err(ExecError::Io)?;
            command
                .stdin(Stdio::null())
                .stdout(Stdio::from(writer))
                .stderr(Stdio::from(stderr));
            (sandbox.spawn(command)?, Box::new(output), None)
        };
        // The waiter reaps the child from now on; the pipes were taken.
        let process = Process {
            child: child.process(),
            shared: Arc::default(),
            stdin,
        };
        process.start_threads(output)?;
        Ok(process)
    }

    fn start_threads(&self, output: Box<dyn Read + Send>) -> Result<(), ExecError> {
        let (child, shared) = (self.child.clone(), Arc::clone(&self.shared));
        if let Err(err) = helper("exec-wait").spawn(move || wait_for_exit(&child, &shared)) {
            // Nobody else will reap it.
            let code = abandon(&self.child);
            self.shared.update(|state| state.exit = Some(code));
            return Err(ExecError::Io(err));
        }
        let shared = Arc::clone(&self.shared);
        if let Err(err) = helper("exec-read").spawn(move || read_output(output, &shared)) {
            self.kill();
            return Err(ExecError::Io(err));
        }
        Ok(())
    }

    /// Waits until the process has exited and its output ended, until
    /// `deadline`, or until `cancel` says so (then kills it and returns
    /// `None`), and takes the output produced meanwhile.
    pub fn collect(&self, deadline: Instant, cancel: &dyn Fn() -> bool) -> Option<Collected> {
        let mut state = self.shared.lock();
        loop {
            if state.exit.is_some() && state.eof {
                break;
            }
            let until = match state.exited_at {
                Some(at) => deadline.min(at + DRAIN_GRACE),
                None => deadline,
            };
            let now = Instant::now();
            if now >= until {
                break;
            }
            if cancel() {
                drop(state);
                self.kill();
                return None;
            }
            let wait = (until - now).min(CANCEL_CHECK);
            state = self
                .shared
                .changed
                .wait_timeout(state, wait)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        Some(Collected {
            unread: state.output.take(),
            exit: state.exit,
        })
    }

    /// Writes `bytes` to the terminal. The write runs on its own thread so
    /// that a process which does not read cannot block the call past
    /// `deadline`; an unfinished write goes on in the background.
    pub fn write(&self, bytes: Vec<u8>, deadline: Instant) -> Result<(), WriteError> {
        let Some(stdin) = &self.stdin else {
            return Err(WriteError::NoStdin);
        };
        let stdin = Arc::clone(stdin);
        let (done, finished) = mpsc::sync_channel(1);
        helper("exec-write")
            .spawn(move || {
                let mut terminal = stdin.lock().unwrap_or_else(PoisonError::into_inner);
                let _ = done.send(terminal.write_all(&bytes));
            })
            .map_err(WriteError::Io)?;
        match finished.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(result) => result.map_err(WriteError::Io),
            Err(mpsc::RecvTimeoutError::Timeout) => Ok(()),
            Err(mpsc::RecvTimeoutError::Disconnected) => Err(WriteError::Io(io::Error::other(
                "the writer stopped without an answer",
            ))),
        }
    }

    /// Whether the process has exited (its output may still be unread).
    pub fn has_exited(&self) -> bool {
        self.shared.lock().exit.is_some()
    }

    /// The process id (and process group id).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL to the whole process group, unless it was already reaped.
    pub fn kill(&self) {
        let _ = self.child.kill_group();
    }

    /// [`Process::kill`], then waits (at most `limit`) until the waiter
    /// has reaped the process, so that it is gone when this returns.
    pub fn kill_and_wait(&self, limit: Duration) {
        self.kill();
        self.exit_watch().wait(limit);
    }

    /// A handle to wait for the exit with, without holding whoever owns
    /// the process.
    pub fn exit_watch(&self) -> ExitWatch {
        ExitWatch(Arc::clone(&self.shared))
    }
}

/// Waits for a [`Process`] to be reaped (see [`Process::exit_watch`]).
#[derive(Debug, Clone)]
pub struct ExitWatch(Arc<Shared>);

impl ExitWatch {
    /// Whether the process was reaped within `limit`; wakes on the exit
    /// itself, not on a timer.
    pub fn wait(&self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        let mut state = self.0.lock();
        while state.exit.is_none() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            state = self
                .0
                .changed
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        true
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Why [`Process::write`] failed.
#[derive(Debug)]
pub enum WriteError {
    /// The process runs on pipes: its stdin is `/dev/null`.
    NoStdin,
    Io(io::Error),
}

fn helper(name: &str) -> thread::Builder {
    thread::Builder::new()
        .name(name.to_owned())
        .stack_size(THREAD_STACK)
}

fn read_output(mut output: Box<dyn Read + Send>, shared: &Shared) {
    let mut chunk = vec![0; READ_CHUNK];
    loop {
        match output.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => shared.update(|state| state.output.push(&chunk[..n])),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            // EIO: the terminal hung up (every process on it is gone).
            Err(_) => break,
        }
    }
    shared.update(|state| state.eof = true);
}

/// Waits for the child to exit; [`ChildProcess::wait_deadline`] kills
/// what it left in its group, then reaps it.
fn wait_for_exit(child: &ChildProcess, shared: &Shared) {
    let code = match child.wait_deadline(None) {
        Ok(Some(status)) => exit_code(status),
        // Not ours to wait for (reaped elsewhere?).
        Ok(None) | Err(_) => UNKNOWN_EXIT,
    };
    shared.update(|state| {
        state.exit = Some(code);
        state.exited_at = Some(Instant::now());
    });
}

/// Kills and reaps a child that will not become a [`Process`]; returns
/// its exit code.
fn abandon(child: &ChildProcess) -> i32 {
    let _ = child.kill_group();
    match child.wait_deadline(None) {
        Ok(Some(status)) => exit_code(status),
        Ok(None) | Err(_) => UNKNOWN_EXIT,
    }
}

/// The exit code, `128 + signal` when a signal ended the process.
fn exit_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt as _;
    match (status.code(), status.signal()) {
        (Some(code), _) => code,
        (None, Some(signal)) => 128 + signal,
        (None, None) => UNKNOWN_EXIT,
    }
}
