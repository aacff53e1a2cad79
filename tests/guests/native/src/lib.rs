//! A native plugin for tests of the native ABI: a tool that panics, one
//! that reports what the host passed it (logging and reporting progress on
//! the way), and one that runs a command through the host.

use serde::Deserialize;
use wharf_plugin_api::native::ExecRequest;
use wharf_plugin_api::{Args, Context, Level, Output, Tool, ToolError, ToolSpec};

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
        let request: ExecRequest = args.parse()?;
        let output = cx.exec(&request)?;
        Ok(Output::new().with_json(&output))
    }
}

wharf_plugin_api::native_plugin!(Panic, Report, Run);
