//! `view_image`: attach an image file from the workspace to the
//! conversation, as codex's tool of that name does.
//!
//! [`prepare`] is the pure part (format, size checks, fitting, encoding);
//! the tool reads the file through its read-only grant, so a path outside
//! the readable roots is refused by the host, not here.

#![forbid(unsafe_code)]

pub mod prepare;

use serde::Deserialize;
use wharf_plugin_api::{Args, Context, Output, ReadError, Tool, ToolError, ToolSpec};

/// The tool.
pub struct ViewImage;

#[derive(Deserialize)]
struct Input {
    path: String,
}

impl Tool for ViewImage {
    const NAME: &'static str = "view_image";

    fn spec() -> ToolSpec {
        ToolSpec::new(
            "Attach a local image (by filesystem path) to the conversation context for this turn.",
        )
        .input_schema(serde_json::json!({
            "type": "object",
            "properties": {
                "path": { "type": "string", "description": "Local filesystem path to an image file" }
            },
            "required": ["path"],
            "additionalProperties": false
        }))
        .requires("image_input")
    }

    fn call(cx: &Context, args: Args) -> Result<Output, ToolError> {
        let Input { path } = args.parse()?;
        let bytes = match cx.read_file(&path) {
            Ok(bytes) => bytes,
            Err(ReadError::NotFound) => {
                return Ok(Output::error(format!(
                    "cannot view {path}: no such file ({})",
                    cx.resolve(&path).display()
                )));
            }
            Err(ReadError::Denied(reason)) => {
                return Err(ToolError::Denied(format!(
                    "cannot view {path}: {reason} (view_image reads only files inside the readable roots)"
                )));
            }
            Err(ReadError::Failed(reason)) => {
                return Ok(Output::error(format!("cannot view {path}: {reason}")));
            }
        };
        match prepare::prepare(&bytes) {
            Ok(image) => Ok(
                Output::text(format!("image: {path} ({})", image.describe()))
                    .with_image(image.format.mime_type(), image.data),
            ),
            Err(err) => Ok(Output::error(format!("cannot view {path}: {err}"))),
        }
    }
}

wharf_plugin_api::plugin!(ViewImage);
