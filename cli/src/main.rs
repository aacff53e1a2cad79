//! `wharf`, the command line of the wharf coding-agent host.

use std::process::ExitCode;

fn main() -> ExitCode {
    wharf_cli::main_with(wharf_cli::Build::wharf())
}
