//! A native plugin for tests of the native ABI: a tool that panics, one
//! that reports what the host passed it (logging and reporting progress on
//! the way), and one that runs a command through the host. Opening the
//! library leaves a mark when a test asks for one ([`mark_loaded`]).

use serde::{Deserialize, Serialize};
use wharf_plugin_api::{Args, Context, ExecRequest, Level, Output, Tool, ToolError, ToolSpec};

/// Panics with the given message.
pub struct Panic;

impl Tool for Panic {
    const NAME: &'static str = "panic";

    fn spec() -> ToolSpec {
        ToolSpec::new("Panics.").input_schema(serde_json::json!({
            "type": "object",
            "properties": { "message": { "type": "string" } },
            "required": ["message"]
        }))
    }

    fn call(_cx: &Context, args: Args) -> Result<Output, ToolError> {
        #[derive(Deserialize)]
        struct Input {
            message: String,
        }
        let input: Input = args.parse()?;
        panic!("{}", input.message);
    }
}

/// Logs, reports progress, and returns its context as JSON.
pub struct Report;

impl Tool for Report {
    const NAME: &'static str = "context";

    fn spec() -> ToolSpec {
        ToolSpec::new("Reports the call's context.")
    }

    fn call(cx: &Context, _args: Args) -> Result<Output, ToolError> {
        wharf_plugin_api::log(Level::Info, "looking around");
        wharf_plugin_api::progress("halfway");
        Ok(Output::new().with_json(&serde_json::json!({
            "call_id": cx.call_id(),
            "session_id": cx.session_id(),
            "cwd": cx.cwd(),
            "sandbox": cx.sandbox_json(),
            "cancelled": cx.is_cancelled(),
        })))
    }
}

/// Runs a command through the host and returns what it did.
pub struct Run;

impl Tool for Run {
    const NAME: &'static str = "run";

    fn spec() -> ToolSpec {
        ToolSpec::new("Runs a command.").input_schema(serde_json::json!({
            "type": "object",
            "properties": {
                "argv": { "type": "array", "items": { "type": "string" } },
                "timeout_ms": { "type": "integer" }
            },
            "required": ["argv"]
        }))
    }

    fn call(cx: &Context, args: Args) -> Result<Output, ToolError> {
        #[derive(Deserialize)]
        struct Input {
            argv: Vec<String>,
            timeout_ms: Option<u64>,
        }
        let input: Input = args.parse()?;
        let mut request = ExecRequest::new(input.argv);
        request.timeout_ms = input.timeout_ms;
        let output = cx.exec(&request)?;
        /// What ran, in the order the tests read it.
        #[derive(Serialize)]
        struct Ran<'a> {
            exit_code: Option<i32>,
            stdout: &'a str,
            stderr: &'a str,
            timed_out: bool,
        }
        Ok(Output::new().with_json(&Ran {
            exit_code: output.exit_code,
            stdout: &output.stdout_text(),
            stderr: &output.stderr_text(),
            timed_out: output.timed_out,
        }))
    }
}

wharf_plugin_api::native_plugin!(Panic, Report, Run);

/// Runs when the library is opened, before wharf can look up any symbol:
/// when `WHARF_TEST_NATIVE_LOADED` names a file, appends a line to it, so
/// that tests can tell whether wharf ever opened the library.
// SAFETY: an initializer in `.init_array` is a plain function pointer
// called once by the loader with no arguments, which `mark_loaded` is.
#[used]
#[unsafe(link_section = ".init_array")]
static MARK_LOADED: extern "C" fn() = mark_loaded;

extern "C" fn mark_loaded() {
    use std::io::Write as _;
    let Some(path) = std::env::var_os("WHARF_TEST_NATIVE_LOADED") else {
        return;
    };
    if let Ok(mut file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = writeln!(file, "loaded");
    }
}
