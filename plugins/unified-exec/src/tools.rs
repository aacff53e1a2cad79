//! The glue: [`UnifiedExec`] and [`shell()`](crate::shell()) as
//! [`Tool`]s of two builtin native plugins, [`unified_exec`] (feature
//! `unified_exec`: `exec_command`, `write_stdin`) and [`shell_tool`]
//! (feature `shell_tool`: `shell`).
//!
//! `Tool::call` has no `self`, so the sessions live in one process-wide
//! [`UnifiedExec`]. Every call runs under the sandbox the host passes in
//! [`Context::sandbox_json`] (the serde form of
//! [`wharf_sandbox::Sandbox`]); without one nothing runs.

use std::sync::OnceLock;

use serde_json::json;
use wharf_plugin_api::{Args, CommandRun, Context, Output, Tool, ToolError, ToolSpec};
use wharf_sandbox::{Sandbox, SpawnError};

use crate::{ExecArgs, ExecError, ShellArgs, UnifiedExec, WriteStdinArgs};

/// The sessions of every wharf session in this process.
pub fn manager() -> &'static UnifiedExec {
    static MANAGER: OnceLock<UnifiedExec> = OnceLock::new();
    MANAGER.get_or_init(UnifiedExec::new)
}

/// `exec_command`: runs a command, returning its output or a session id.
pub struct ExecCommand;

/// `write_stdin`: types into a session and returns its recent output.
pub struct WriteStdin;

/// `shell`: runs one command to completion.
pub struct Shell;

impl Tool for ExecCommand {
    const NAME: &'static str = "exec_command";

    fn spec() -> ToolSpec {
        ToolSpec::new(
            "Runs a command in a PTY, returning output or a session ID for ongoing interaction.",
        )
        .input_schema(json!({
            "type": "object",
            "properties": {
                "cmd": { "type": "string", "description": "Shell command to execute." },
                "workdir": {
                    "type": "string",
                    "description": "Optional working directory to run the command in; defaults to the turn cwd."
                },
                "shell": {
                    "type": "string",
                    "pattern": SHELL_PATTERN,
                    "description": "Shell binary to launch (bash, sh, zsh, dash or ksh, by name or in /bin, /usr/bin or /usr/local/bin). Defaults to /bin/bash."
                },
                "login": {
                    "type": "boolean",
                    "description": "Whether to run the shell with -l/-i semantics. Defaults to true."
                },
                "tty": {
                    "type": "boolean",
                    "description": "Whether to allocate a TTY for the command. Defaults to false (plain pipes); set to true to open a PTY and access TTY process."
                },
                "yield_time_ms": {
                    "type": "integer",
                    "minimum": 0,
                    "description": "How long to wait (in milliseconds) for output before yielding."
                },
                "max_output_tokens": {
                    "type": "integer",
                    "minimum": 0,
                    "description": "Maximum number of tokens to return. Excess output will be truncated."
                },
                "sandbox_permissions": sandbox_permissions(),
                "justification": justification()
            },
            "required": ["cmd"],
            "additionalProperties": false
        }))
        .shows_command("/cmd")
    }

    fn call(cx: &Context, args: Args) -> Result<Output, ToolError> {
        let args: ExecArgs = args.parse()?;
        let sandbox = sandbox(cx)?;
        let cancel = || cx.is_cancelled();
        manager()
            .exec_command(&sandbox, cx.session_id(), args, &cancel)
            .map(output)
            .map_err(tool_error)
    }

    fn end_session(session_id: &str) {
        manager().end_session(session_id);
    }
}

impl Tool for WriteStdin {
    const NAME: &'static str = "write_stdin";

    fn spec() -> ToolSpec {
        ToolSpec::new(
            "Writes characters to an existing unified exec session and returns recent output.",
        )
        .input_schema(json!({
            "type": "object",
            "properties": {
                "session_id": {
                    "type": "integer",
                    "description": "Identifier of the running unified exec session."
                },
                "chars": {
                    "type": "string",
                    "description": "Bytes to write to stdin (may be empty to poll)."
                },
                "yield_time_ms": {
                    "type": "integer",
                    "minimum": 0,
                    "description": "How long to wait (in milliseconds) for output before yielding."
                },
                "max_output_tokens": {
                    "type": "integer",
                    "minimum": 0,
                    "description": "Maximum number of tokens to return. Excess output will be truncated."
                }
            },
            "required": ["session_id"],
            "additionalProperties": false
        }))
    }

    fn call(cx: &Context, args: Args) -> Result<Output, ToolError> {
        let args: WriteStdinArgs = args.parse()?;
        let cancel = || cx.is_cancelled();
        manager()
            .write_stdin(cx.session_id(), args, &cancel)
            .map(output)
            .map_err(tool_error)
    }

    fn end_session(session_id: &str) {
        manager().end_session(session_id);
    }
}

impl Tool for Shell {
    const NAME: &'static str = "shell";

    fn spec() -> ToolSpec {
        ToolSpec::new("Runs a shell command and returns its output.").input_schema(json!({
            "type": "object",
            "properties": {
                "command": {
                    "type": "array",
                    "items": { "type": "string" },
                    "description": "The command to execute, as argv (e.g. [\"bash\", \"-lc\", \"ls -la\"])."
                },
                "workdir": {
                    "type": "string",
                    "description": "The working directory to execute the command in."
                },
                "timeout_ms": {
                    "type": "integer",
                    "minimum": 0,
                    "description": "The timeout for the command in milliseconds."
                },
                "sandbox_permissions": sandbox_permissions(),
                "justification": justification()
            },
            "required": ["command"],
            "additionalProperties": false
        }))
        .shows_command("/command")
    }

    fn call(cx: &Context, args: Args) -> Result<Output, ToolError> {
        let args: ShellArgs = args.parse()?;
        let sandbox = sandbox(cx)?;
        let cancel = || cx.is_cancelled();
        crate::shell(&sandbox, args, &cancel)
            .map(|response| {
                let ran = CommandRun {
                    argv: response.argv.clone(),
                    exit_code: Some(response.exit_code),
                    duration: response.wall_time,
                };
                Output::text(response.to_string()).with_command(ran)
            })
            .map_err(tool_error)
    }
}

/// The shells `exec_command` may launch: the host judges a command line as
/// such a shell reads it (`shell -lc cmd`), and another program in their
/// place would read `cmd` its own way.
const SHELL_PATTERN: &str = "^((/usr(/local)?)?/bin/)?(bash|sh|zsh|dash|ksh)$";

/// The argument by which the model asks to run a command outside the
/// sandbox. The host's approval stage reads it (approval_policy
/// `on-request`) and hands the call the sandbox it may run under; the tools
/// take it and ignore it.
fn sandbox_permissions() -> serde_json::Value {
    json!({
        "type": "string",
        "enum": ["use_default", "require_escalated"],
        "description": "Leave this out to run the command in the sandbox, as usual. Set it to \"require_escalated\" only when the command cannot work in the sandbox (it must write outside the writable folders or reach the network, or it failed in the sandbox with a permission error) and you need the user to approve running it without the sandbox; give a `justification`. The user may decline. Only approval_policy on-request allows this; under other policies the call is refused."
    })
}

/// Why the model asks to run outside the sandbox, shown to the user.
fn justification() -> serde_json::Value {
    json!({
        "type": "string",
        "description": "With sandbox_permissions \"require_escalated\": one short sentence, shown to the user when asking for approval, saying why the command needs to run outside the sandbox."
    })
}

/// The `unified_exec` plugin: `exec_command` and `write_stdin`.
pub mod unified_exec {
    wharf_plugin_api::native_plugin!(builtin: super::ExecCommand, super::WriteStdin);
}

/// The `shell_tool` plugin: `shell`.
pub mod shell_tool {
    wharf_plugin_api::native_plugin!(builtin: super::Shell);
}

/// What the model reads, and for the host the command and how it ended
/// (no exit code while it runs on as a session).
fn output(response: crate::Response) -> Output {
    let ran = CommandRun {
        argv: response.argv.clone(),
        exit_code: response.exit_code(),
        duration: response.wall_time,
    };
    Output::text(response.to_string()).with_command(ran)
}

/// The sandbox the host passed for this call.
fn sandbox(cx: &Context) -> Result<Sandbox, ToolError> {
    serde_json::from_value(cx.sandbox_json().clone()).map_err(|err| {
        ToolError::Denied(format!(
            "the host passed no sandbox to run commands under ({err}); commands run only \
             inside the session's sandbox"
        ))
    })
}

fn tool_error(err: ExecError) -> ToolError {
    let message = err.to_string();
    match err {
        ExecError::EmptyCommand
        | ExecError::EmptyArgv
        | ExecError::UnknownSession(_)
        | ExecError::NoStdin(_) => ToolError::InvalidArgs(message),
        ExecError::Spawn(SpawnError::Unenforceable { .. }) => ToolError::Denied(message),
        ExecError::Cancelled => ToolError::Cancelled,
        ExecError::Spawn(_) | ExecError::Write { .. } | ExecError::Io(_) => {
            ToolError::Failed(message)
        }
    }
}
