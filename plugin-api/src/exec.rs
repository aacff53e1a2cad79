//! Commands a tool runs through the host: [`crate::Context::exec`].

use std::borrow::Cow;

/// A command to run. The host runs it under the session's sandbox policy,
/// enforced by the kernel, if the plugin's manifest asks for `exec = true`.
///
/// ```
/// use wharf_plugin_api::ExecRequest;
///
/// let request = ExecRequest::new(["sort", "-u"])
///     .env("LC_ALL", "C")
///     .stdin_text("b\na\nb\n")
///     .timeout_ms(5_000);
/// assert_eq!(request.stdin.as_deref(), Some(&b"b\na\nb\n"[..]));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExecRequest {
    /// The program and its arguments; the program is looked up in `PATH`
    /// when it has no `/`.
    pub argv: Vec<String>,
    /// Absolute, or relative to the call's working directory; defaults to
    /// it.
    pub cwd: Option<String>,
    /// Variables set for the command, on top of the environment the
    /// session gives commands (wharf's `[shell_environment_policy]`); a
    /// later value of a name wins.
    pub env: Vec<(String, String)>,
    /// The command (and its process group) is killed after this long; the
    /// call's own deadline comes first if it is sooner.
    pub timeout_ms: Option<u64>,
    /// Written to the command's standard input, which is then closed (no
    /// stdin: an empty one). Any bytes, not only text.
    pub stdin: Option<Vec<u8>>,
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

    /// Runs the command in `dir` (absolute, or relative to the call's
    /// working directory).
    pub fn cwd(mut self, dir: impl Into<String>) -> ExecRequest {
        self.cwd = Some(dir.into());
        self
    }

    /// Sets the variable `name` for the command.
    pub fn env(mut self, name: impl Into<String>, value: impl Into<String>) -> ExecRequest {
        self.env.push((name.into(), value.into()));
        self
    }

    /// Kills the command after `ms` milliseconds.
    pub fn timeout_ms(mut self, ms: u64) -> ExecRequest {
        self.timeout_ms = Some(ms);
        self
    }

    /// Writes `bytes` to the command's standard input.
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> ExecRequest {
        self.stdin = Some(bytes.into());
        self
    }

    /// Writes `text` to the command's standard input.
    pub fn stdin_text(self, text: impl Into<String>) -> ExecRequest {
        self.stdin(text.into().into_bytes())
    }
}

/// What a command did. A command that fails is not an error: see
/// `exit_code`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExecOutput {
    /// `None` when a signal ended it (or the timeout did).
    pub exit_code: Option<i32>,
    /// The bytes the command wrote, as it wrote them; each stream keeps at
    /// most the call's output limit. [`ExecOutput::stdout_text`] reads
    /// them as text.
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub timed_out: bool,
}

impl ExecOutput {
    /// `stdout` as text, with anything that is not UTF-8 replaced by `�`.
    pub fn stdout_text(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.stdout)
    }

    /// `stderr` as text, with anything that is not UTF-8 replaced by `�`.
    pub fn stderr_text(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.stderr)
    }
}

#[cfg(target_arch = "wasm32")]
pub(crate) fn exec(request: &ExecRequest) -> Result<ExecOutput, crate::ToolError> {
    use crate::bindings::wharf::plugin::host;
    let wit_request = host::ExecRequest {
        argv: request.argv.clone(),
        cwd: request.cwd.clone(),
        env: request.env.clone(),
        stdin: request.stdin.clone(),
        timeout_ms: request
            .timeout_ms
            .map_or(u32::MAX, |ms| u32::try_from(ms).unwrap_or(u32::MAX)),
    };
    let output = host::exec(&wit_request).map_err(|err| match err {
        host::ExecError::Denied(message) => crate::ToolError::Denied(message),
        // A missing program is the call failing, not a lack of access.
        host::ExecError::NotFound(message) | host::ExecError::Failed(message) => {
            crate::ToolError::Failed(message)
        }
    })?;
    Ok(ExecOutput {
        exit_code: output.exit_code,
        stdout: output.stdout,
        stderr: output.stderr,
        timed_out: output.timed_out,
    })
}
