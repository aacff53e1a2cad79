//! Commands a tool runs through the host: [`crate::Context::exec`].

use serde::{Deserialize, Serialize};

/// A command to run. The host runs it under the session's sandbox policy,
/// enforced by the kernel, if the plugin's manifest asks for `exec = true`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ExecRequest {
    /// The program and its arguments; the program is looked up in `PATH`
    /// when it has no `/`.
    pub argv: Vec<String>,
    /// Absolute, or relative to the call's working directory; defaults to
    /// it.
    #[serde(default)]
    pub cwd: Option<String>,
    /// The command (and its process group) is killed after this long; the
    /// call's own deadline comes first if it is sooner.
    #[serde(default)]
    pub timeout_ms: Option<u64>,
    /// Written to the command's standard input, which is then closed (no
    /// stdin: an empty one).
    #[serde(default)]
    pub stdin: Option<String>,
}

impl ExecRequest {
    /// `argv` with no input, in the call's working directory.
    pub fn new<I, S>(argv: I) -> ExecRequest
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        ExecRequest {
            argv: argv.into_iter().map(Into::into).collect(),
            ..ExecRequest::default()
        }
    }
}

/// What a command did. A command that fails is not an error: see
/// `exit_code`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ExecOutput {
    /// `None` when a signal ended it (or the timeout did).
    pub exit_code: Option<i32>,
    /// Lossy UTF-8; each stream keeps at most the call's output limit.
    pub stdout: String,
    pub stderr: String,
    pub timed_out: bool,
}

#[cfg(target_arch = "wasm32")]
pub(crate) fn exec(request: &ExecRequest) -> Result<ExecOutput, crate::ToolError> {
    use crate::bindings::wharf::plugin::host;
    let wit_request = host::ExecRequest {
        argv: request.argv.clone(),
        cwd: request.cwd.clone(),
        stdin: request.stdin.as_ref().map(|text| text.as_bytes().to_vec()),
        timeout_ms: request
            .timeout_ms
            .map_or(u32::MAX, |ms| u32::try_from(ms).unwrap_or(u32::MAX)),
    };
    let output = host::exec(&wit_request).map_err(crate::ToolError::Denied)?;
    Ok(ExecOutput {
        exit_code: output.exit_code,
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        timed_out: output.timed_out,
    })
}
