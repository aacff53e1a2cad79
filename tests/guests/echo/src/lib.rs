//! The smallest useful wharf plugin: `echo_text{text}` returns `text`. It
//! touches no files, so its component imports little of WASI, and its calls
//! measure the host's overhead rather than the guest's.

use serde::Deserialize;
use wharf_plugin_api::{Args, Context, Output, Tool, ToolError, ToolSpec};

pub struct EchoText;

#[derive(Deserialize)]
struct Input {
    text: String,
}

impl Tool for EchoText {
    const NAME: &'static str = "echo_text";

    fn spec() -> ToolSpec {
        ToolSpec::new("Returns its text.").input_schema(serde_json::json!({
            "type": "object",
            "properties": { "text": { "type": "string" } },
            "required": ["text"],
            "additionalProperties": false
        }))
    }

    fn call(_cx: &Context, args: Args) -> Result<Output, ToolError> {
        let input: Input = args.parse()?;
        Ok(Output::text(input.text))
    }
}

wharf_plugin_api::plugin!(EchoText);
