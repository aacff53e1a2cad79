//! `shell`: one command, run to completion (or to its timeout) on pipes.

use std::fmt;
use std::time::{Duration, Instant};

use serde::Deserialize;
use wharf_sandbox::Sandbox;

use crate::ExecError;
use crate::manager::DEFAULT_MAX_OUTPUT_TOKENS;
use crate::process::Process;
use crate::render;

/// `shell`'s default timeout.
pub const DEFAULT_TIMEOUT_MS: u64 = 10_000;

/// The exit code reported for a command killed at its timeout (as
/// `timeout(1)` and codex do).
pub const TIMEOUT_EXIT_CODE: i32 = 124;

/// How long a killed command gets to let its last output through.
const KILL_DRAIN: Duration = Duration::from_millis(500);

/// The arguments of `shell`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ShellArgs {
    /// The program and its arguments (no shell is involved unless named).
    pub command: Vec<String>,
    /// Where to run it, relative to the sandbox's cwd; the cwd by default.
    #[serde(default)]
    pub workdir: Option<String>,
    #[serde(default)]
    pub timeout_ms: Option<u64>,
    /// `require_escalated`: the model asks to run outside the sandbox. The
    /// host decides (its approval stage) and passes the sandbox the
    /// command runs under; ignored here.
    #[serde(default)]
    pub sandbox_permissions: Option<String>,
    /// Why the model asks; for the host, ignored here.
    #[serde(default)]
    pub justification: Option<String>,
}

/// The answer to `shell`. Its `Display` is what the model reads:
///
/// ```text
/// Exit code: 0
/// Wall time: 0.1 seconds
/// Original token count: 25000           (only when output was truncated)
/// Output:
/// command timed out after 10000 milliseconds   (only on a timeout)
/// …the output…
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShellResponse {
    /// The program and its arguments (not shown to the model).
    pub argv: Vec<String>,
    pub exit_code: i32,
    pub wall_time: Duration,
    /// The timeout in milliseconds, when the command reached it and was
    /// killed.
    pub timed_out_after_ms: Option<u64>,
    pub original_token_count: Option<u64>,
    pub output: String,
}

impl fmt::Display for ShellResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Exit code: {}", self.exit_code)?;
        writeln!(f, "Wall time: {:.1} seconds", self.wall_time.as_secs_f64())?;
        if let Some(tokens) = self.original_token_count {
            writeln!(f, "Original token count: {tokens}")?;
        }
        writeln!(f, "Output:")?;
        if let Some(ms) = self.timed_out_after_ms {
            writeln!(f, "command timed out after {ms} milliseconds")?;
        }
        f.write_str(&self.output)
    }
}

/// Runs `args.command` under `sandbox` until it exits, its timeout passes
/// (then its process group is killed and the exit code is
/// [`TIMEOUT_EXIT_CODE`]) or `cancel` says so ([`ExecError::Cancelled`]).
pub fn shell(
    sandbox: &Sandbox,
    args: ShellArgs,
    cancel: &dyn Fn() -> bool,
) -> Result<ShellResponse, ExecError> {
    let started = Instant::now();
    if args
        .command
        .first()
        .is_none_or(|program| program.is_empty())
    {
        return Err(ExecError::EmptyArgv);
    }
    let cwd = match &args.workdir {
        Some(workdir) => sandbox.cwd().join(workdir),
        None => sandbox.cwd().to_path_buf(),
    };
    let timeout_ms = args.timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS);
    let process = Process::spawn(sandbox, args.command.clone(), cwd, false)?;
    let deadline = started + Duration::from_millis(timeout_ms);
    let mut collected = process
        .collect(deadline, cancel)
        .ok_or(ExecError::Cancelled)?;
    let mut timed_out_after_ms = None;
    if collected.exit.is_none() {
        process.kill();
        timed_out_after_ms = Some(timeout_ms);
        // What it wrote before it died still counts.
        let rest = process
            .collect(Instant::now() + KILL_DRAIN, cancel)
            .ok_or(ExecError::Cancelled)?;
        collected.unread.append(rest.unread);
    }
    let exit_code = match timed_out_after_ms {
        Some(_) => TIMEOUT_EXIT_CODE,
        None => collected.exit.unwrap_or(TIMEOUT_EXIT_CODE),
    };
    let truncated = render::truncate(&collected.unread, DEFAULT_MAX_OUTPUT_TOKENS);
    Ok(ShellResponse {
        argv: args.command,
        exit_code,
        wall_time: started.elapsed(),
        timed_out_after_ms,
        original_token_count: truncated.original_tokens,
        output: truncated.text,
    })
}
