//! Commands that plugins run (`exec`): checked against the grant, run by
//! the `sandbox` crate under the session's policy and with its environment
//! (`[shell_environment_policy]`), bounded by the call's deadline.

use std::path::Path;
use std::time::{Duration, Instant};

use wharf_sandbox::{Command, RunLimits, Sandbox};

use crate::plugin::grant::Grant;

/// A command a plugin asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecRequest {
    pub argv: Vec<String>,
    /// Absolute, or relative to the call's cwd; the call's cwd when `None`.
    pub cwd: Option<String>,
    pub stdin: Option<Vec<u8>>,
    pub timeout: Duration,
}

/// What the command left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecResult {
    pub exit_code: Option<i32>,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub timed_out: bool,
}

/// Why a plugin without `exec` in its grant cannot run commands.
pub const NOT_GRANTED: &str =
    "running commands is not in this plugin's grant (its manifest does not ask for `exec = true`)";

/// Runs `request` for a call in `cwd` under `sandbox`, if `grant` allows
/// commands. The command ends by `deadline` at the latest (the call's own).
pub fn run(
    sandbox: &Sandbox,
    cwd: &Path,
    grant: &Grant,
    deadline: Instant,
    request: ExecRequest,
) -> Result<ExecResult, String> {
    if !grant.exec {
        return Err(NOT_GRANTED.to_owned());
    }
    let workdir = match &request.cwd {
        None => cwd.to_path_buf(),
        Some(dir) => cwd.join(dir),
    };
    let mut command = Command::new(request.argv);
    // The environment is the session's `[shell_environment_policy]`, which
    // the sandbox carries.
    command.cwd(workdir);
    let timeout = request
        .timeout
        .min(deadline.saturating_duration_since(Instant::now()));
    let limits = RunLimits {
        timeout,
        max_output_bytes: grant.output_bytes,
    };
    let output = sandbox
        .run(command, request.stdin, limits)
        .map_err(|err| err.to_string())?;
    Ok(ExecResult {
        exit_code: output.exit_code,
        stdout: output.stdout,
        stderr: output.stderr,
        timed_out: output.timed_out,
    })
}
