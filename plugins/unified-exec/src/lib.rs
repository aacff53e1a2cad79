//! unified_exec and shell: the tools that run commands for the model, as
//! in the codex CLI.
//!
//! - `exec_command` starts a command (through a shell) and waits up to its
//!   yield time; a command that is still running becomes a *session* that
//!   `write_stdin` types into and polls, on a pseudo-terminal (`tty`) or on
//!   pipes.
//! - `shell` runs one program to completion or to its timeout; it is what
//!   models get when the `unified_exec` feature is off.
//!
//! The core ([`UnifiedExec`], [`shell()`]) is plain Rust: it knows nothing
//! of the plugin ABI and spawns every process through
//! [`wharf_sandbox::Sandbox`], so every command runs under the session's
//! sandbox policy. [`tools`] is the thin glue that makes it a native plugin.
//!
//! Output reaches the model through a 1 MiB head/tail buffer per process
//! ([`buffer`]) and is then cut to the call's token budget (an estimate of
//! one token per 4 bytes) with a marker, `…N tokens truncated…`, in the
//! middle ([`render`]). The response formats are on [`Response`] and
//! [`ShellResponse`].
//!
//! Each process runs in its own process group, watched by two small
//! threads: one copies its output into the buffer, one waits for its exit.
//! Both wake the waiting call, which returns at once when the process
//! exits: nothing polls on a timer, except that a waiting call checks its
//! cancel flag every 20 ms. A process is killed with SIGKILL to its group
//! when its wharf session ends, when its call is cancelled, when it is
//! pruned or its manager dropped; and when a command exits, what it left
//! running in its group is killed too.

#![forbid(unsafe_code)]

pub mod buffer;
mod manager;
mod process;
pub mod render;
mod shell;
pub mod tools;

use std::fmt;

pub use manager::{
    DEFAULT_EXEC_YIELD_MS, DEFAULT_MAX_OUTPUT_TOKENS, DEFAULT_WRITE_YIELD_MS, ExecArgs,
    MAX_SESSIONS, MAX_YIELD_MS, MIN_POLL_YIELD_MS, MIN_YIELD_MS, PROTECTED_SESSIONS, SessionInfo,
    UnifiedExec, WARNING_SESSIONS, WriteStdinArgs, too_many_sessions,
};
pub use process::COMMAND_ENV;
pub use render::{Response, Status};
pub use shell::{DEFAULT_TIMEOUT_MS, ShellArgs, ShellResponse, TIMEOUT_EXIT_CODE, shell};
use wharf_sandbox::SpawnError;

/// A session's id, as the model passes it to `write_stdin`. Ids count from
/// 1 in each wharf session and are never reused within it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SessionId(pub u32);

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Why a call could not run. A command that runs and fails is not an
/// error: its exit code is in the [`Response`].
#[derive(Debug, thiserror::Error)]
pub enum ExecError {
    #[error("the command is empty: put the command line to run in `cmd`")]
    EmptyCommand,
    #[error("the command is empty: put the program and its arguments in `command`")]
    EmptyArgv,
    /// The command did not start: not found, a bad working directory, a
    /// sandbox the kernel cannot enforce.
    #[error(transparent)]
    Spawn(#[from] SpawnError),
    #[error(
        "unknown session id {0}: it exited, was closed or never existed (start a new command \
         with exec_command)"
    )]
    UnknownSession(i64),
    #[error(
        "stdin is closed for session {0}: it was started with tty=false (rerun the command \
         with exec_command and tty=true to type into it)"
    )]
    NoStdin(SessionId),
    #[error("cannot write to session {id}: {source}")]
    Write {
        id: SessionId,
        #[source]
        source: std::io::Error,
    },
    #[error("the call was cancelled; its command was killed")]
    Cancelled,
    #[error("cannot run the command: {0}")]
    Io(#[source] std::io::Error),
}
