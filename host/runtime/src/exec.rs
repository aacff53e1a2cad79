//! Commands that plugins run (`exec`): checked against the grant, run by
//! the `sandbox` crate under the session's policy and with its environment
//! (`[shell_environment_policy]`) plus the request's variables, bounded by
//! the call's deadline.

use std::path::Path;
use std::time::{Duration, Instant};

use wharf_sandbox::{Command, RunLimits, Sandbox, SpawnError};

use crate::plugin::grant::Grant;

/// A command a plugin asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecRequest {
    pub argv: Vec<String>,
    /// Absolute, or relative to the call's cwd; the call's cwd when `None`.
    pub cwd: Option<String>,
    /// Set for the command on top of the session's environment for
    /// commands, in order (a later value of a name wins).
    pub env: Vec<(String, String)>,
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

/// Why a command did not run. (A command that ran and failed is an
/// [`ExecResult`] with its exit code.)
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExecError {
    /// The grant has no `exec`, or the kernel cannot enforce the sandbox.
    #[error("{0}")]
    Denied(String),
    /// There is no such program.
    #[error("{0}")]
    NotFound(String),
    /// An empty argv, a bad working directory or variable, an I/O error.
    #[error("{0}")]
    Failed(String),
}

impl From<SpawnError> for ExecError {
    fn from(err: SpawnError) -> ExecError {
        let message = err.to_string();
        match err {
            SpawnError::NotFound { .. } => ExecError::NotFound(message),
            SpawnError::Unenforceable { .. }
            | SpawnError::Protected { .. }
            | SpawnError::Root { .. }
            | SpawnError::Enforcement { .. } => ExecError::Denied(message),
            SpawnError::EmptyArgv | SpawnError::BadWorkdir { .. } | SpawnError::Io { .. } => {
                ExecError::Failed(message)
            }
        }
    }
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
) -> Result<ExecResult, ExecError> {
    if !grant.exec {
        return Err(ExecError::Denied(NOT_GRANTED.to_owned()));
    }
    check_env(&request.env)?;
    let workdir = match &request.cwd {
        None => cwd.to_path_buf(),
        Some(dir) => cwd.join(dir),
    };
    let mut command = Command::new(request.argv);
    // The environment is the session's `[shell_environment_policy]`, which
    // the sandbox carries.
    command.cwd(workdir);
    for (name, value) in request.env {
        command.env(name, value);
    }
    let timeout = request
        .timeout
        .min(deadline.saturating_duration_since(Instant::now()));
    let limits = RunLimits {
        timeout,
        max_output_bytes: grant.output_bytes,
    };
    let output = sandbox.run(command, request.stdin, limits)?;
    Ok(ExecResult {
        exit_code: output.exit_code,
        stdout: output.stdout,
        stderr: output.stderr,
        timed_out: output.timed_out,
    })
}

/// Refuses variables no process environment can hold: an empty name, or
/// one with `=`, or a NUL anywhere.
fn check_env(env: &[(String, String)]) -> Result<(), ExecError> {
    for (name, value) in env {
        if name.is_empty() || name.contains(['=', '\0']) {
            return Err(ExecError::Failed(format!(
                "`{}` is not a valid environment variable name (it must be non-empty, \
                 without `=` or NUL)",
                name.escape_debug()
            )));
        }
        if value.contains('\0') {
            return Err(ExecError::Failed(format!(
                "the value of the environment variable `{name}` contains a NUL byte"
            )));
        }
    }
    Ok(())
}
