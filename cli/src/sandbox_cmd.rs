//! `wharf sandbox -- COMMAND ARGS…`: runs a command under the configured
//! sandbox policy, the way tools' commands run, so that users can try their
//! policy and tests can try to escape it. `wharf sandbox --check` prints
//! what this machine enforces of that policy instead.

mod check;

use std::ffi::OsString;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;
use wharf_sandbox::{Command, PathEnv, SpawnError};

use crate::GlobalArgs;

#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// Print what this machine enforces of the configured policy, layer by
    /// layer, and exit non-zero when it cannot be enforced.
    #[arg(long, conflicts_with = "command")]
    check: bool,
    /// With --check: print JSON.
    #[arg(long, requires = "check")]
    json: bool,
    /// The command and its arguments, after `--`.
    #[arg(
        value_name = "COMMAND",
        required_unless_present = "check",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    command: Vec<OsString>,
}

/// The shell's status for "command not found".
const NOT_FOUND: u8 = 127;

pub fn run(args: SandboxArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let configured = global.configure()?;
    let config = &configured.config;
    let env = PathEnv {
        protected: config.protected_paths(),
        ..PathEnv::from_process(config.cwd.clone())
    };
    let sandbox = config.sandbox(&env);
    if args.check {
        return check::run(&sandbox, args.json);
    }
    let mut command = Command::new(args.command);
    // In the foreground: an interactive shell must be able to read the
    // terminal, and Ctrl-C reaches it as it reaches wharf.
    command.own_process_group(false);
    let mut child = match sandbox.spawn(command) {
        Ok(child) => child,
        Err(err @ SpawnError::NotFound { .. }) => {
            eprintln!("error: {err}");
            return Ok(ExitCode::from(NOT_FOUND));
        }
        Err(err) => return Err(err.into()),
    };
    let status = child.wait().context("waiting for the command")?;
    Ok(ExitCode::from(exit_code(status)))
}

/// The command's own status; 128 + the signal when a signal ended it, as
/// shells report it.
fn exit_code(status: std::process::ExitStatus) -> u8 {
    use std::os::unix::process::ExitStatusExt as _;
    match (status.code(), status.signal()) {
        (Some(code), _) => u8::try_from(code).unwrap_or(1),
        (None, Some(signal)) => u8::try_from(128 + signal).unwrap_or(1),
        (None, None) => 1,
    }
}
