//! A `wharf:plugin@0.1.0` component, built with wit-bindgen from the
//! frozen `wit/0.1.0` (not with plugin-api, which follows the latest
//! version): the host must keep loading and calling it unchanged. Its tool
//! uses every host import a call can reach without a grant of `exec`, so
//! that each forwarding from 0.1.0 to the latest implementation is called.

#![cfg(target_arch = "wasm32")]

wit_bindgen::generate!({
    world: "plugin",
    path: "../../../wit/0.1.0",
});

use exports::wharf::plugin::tool::Guest;
use wharf::plugin::host::{self, ExecRequest, LogLevel, ReadError};
use wharf::plugin::types::{CallContext, Content, ToolError, ToolOutput, ToolSpec};

struct Legacy;

impl Guest for Legacy {
    fn describe() -> Vec<ToolSpec> {
        vec![ToolSpec {
            name: "legacy_echo".to_owned(),
            description: "Echoes its text, and what the host's imports answer".to_owned(),
            input_schema: r#"{"type":"object","properties":{"text":{"type":"string"},"read":{"type":"string"}},"required":["text"]}"#.to_owned(),
            freeform_grammar: None,
            requires: Vec::new(),
        }]
    }

    fn invoke(cx: CallContext, name: String, args: String) -> Result<ToolOutput, ToolError> {
        if name != "legacy_echo" {
            return Err(ToolError::InvalidArgs(format!("no tool named `{name}`")));
        }
        host::log(LogLevel::Info, "legacy_echo called");
        host::progress("echoing");
        let mut lines = vec![format!("echo: {}", field(&args, "text"))];
        let read = field(&args, "read");
        if !read.is_empty() {
            let path = format!("{}/{read}", cx.cwd);
            lines.push(match host::read_file(&path) {
                Ok(bytes) => format!("read: {}", String::from_utf8_lossy(&bytes).trim_end()),
                Err(ReadError::NotFound) => "read: not found".to_owned(),
                Err(ReadError::Denied(message)) => format!("read denied: {message}"),
                Err(ReadError::Failed(message)) => format!("read failed: {message}"),
            });
        }
        let exec = host::exec(&ExecRequest {
            argv: vec!["true".to_owned()],
            cwd: None,
            env: Vec::new(),
            stdin: None,
            timeout_ms: 1000,
        });
        lines.push(match exec {
            Ok(_) => "exec: ran".to_owned(),
            Err(_) => "exec: refused".to_owned(),
        });
        Ok(ToolOutput {
            content: vec![Content::Text(lines.join("\n"))],
            is_error: false,
            changes: Vec::new(),
        })
    }
}

/// The string value of `key` in the JSON object `args`, or `""`.
fn field(args: &str, key: &str) -> String {
    serde_json::from_str::<serde_json::Value>(args)
        .ok()
        .and_then(|args| args.get(key)?.as_str().map(str::to_owned))
        .unwrap_or_default()
}

export!(Legacy);
