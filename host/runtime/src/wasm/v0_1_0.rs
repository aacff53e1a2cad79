//! `wharf:plugin@0.1.0`, the first version of the plugin interface, and
//! its conversions to the host's types. Frozen from wharf's first release
//! on: see "Versioning the plugin interface" in ARCHITECTURE.md. When 0.2.0
//! arrives, this module keeps its bindings and forwards to the latest
//! implementation.

use wasmtime::component::{HasSelf, Linker};

use super::WasmError;
use std::time::Duration;

use super::files::ReadFailure;
use super::state::CallState;
use crate::exec::{ExecError, ExecRequest};
use crate::plugin::{CallContext, Content, Display, FileChange, ToolError, ToolOutput, ToolSpec};

wasmtime::component::bindgen!({
    world: "plugin",
    path: "../../wit/0.1.0",
    // Async exports, so that a call can be abandoned at its deadline even
    // while the guest waits in a host call (a sleep, a blocked read).
    exports: { default: async },
});

use exports::wharf::plugin::tool as wit_tool;
use wharf::plugin::host::{self, LogLevel};
use wharf::plugin::types as wit_types;

pub(super) fn add_to_linker(linker: &mut Linker<CallState>) -> wasmtime::Result<()> {
    Plugin::add_to_linker::<CallState, HasSelf<CallState>>(linker, |state| state)
}

impl host::Host for CallState {
    fn log(&mut self, level: LogLevel, message: String) {
        let level = match level {
            LogLevel::Trace => "trace",
            LogLevel::Debug => "debug",
            LogLevel::Info => "info",
            LogLevel::Warn => "warn",
            LogLevel::Error => "error",
        };
        CallState::log(self, level, &message);
    }

    fn progress(&mut self, message: String) {
        CallState::progress(self, &message);
    }

    fn exec(&mut self, request: host::ExecRequest) -> Result<host::ExecOutput, host::ExecError> {
        let request = ExecRequest {
            argv: request.argv,
            cwd: request.cwd,
            env: request.env,
            stdin: request.stdin,
            timeout: Duration::from_millis(u64::from(request.timeout_ms)),
        };
        let result = CallState::exec(self, request).map_err(|err| match err {
            ExecError::Denied(message) => host::ExecError::Denied(message),
            ExecError::NotFound(message) => host::ExecError::NotFound(message),
            ExecError::Failed(message) => host::ExecError::Failed(message),
        })?;
        Ok(host::ExecOutput {
            exit_code: result.exit_code,
            stdout: result.stdout,
            stderr: result.stderr,
            timed_out: result.timed_out,
        })
    }

    fn read_file(&mut self, path: String) -> Result<Vec<u8>, host::ReadError> {
        CallState::read_file(self, &path).map_err(|failure| match failure {
            ReadFailure::NotFound => host::ReadError::NotFound,
            ReadFailure::Denied(message) => host::ReadError::Denied(message),
            ReadFailure::Failed(message) => host::ReadError::Failed(message),
        })
    }
}

impl wit_types::Host for CallState {}

pub(super) fn tool_spec(spec: wit_tool::ToolSpec) -> Result<ToolSpec, WasmError> {
    let input_schema: serde_json::Value =
        serde_json::from_str(&spec.input_schema).map_err(|err| WasmError::BadSpec {
            tool: spec.name.clone(),
            message: format!("not JSON: {err}"),
        })?;
    Ok(ToolSpec {
        name: spec.name,
        description: spec.description,
        input_schema,
        freeform_grammar: spec.freeform_grammar,
        requires: spec.requires,
        // 0.1.0 carries no display hints.
        display: Display::default(),
    })
}

pub(super) fn call_context(cx: &CallContext) -> wit_tool::CallContext {
    wit_tool::CallContext {
        call_id: cx.call_id.to_string(),
        session_id: cx.session_id.to_string(),
        cwd: cx.cwd.to_string_lossy().into_owned(),
    }
}

pub(super) fn tool_output(output: wit_tool::ToolOutput) -> ToolOutput {
    let content = output
        .content
        .into_iter()
        .map(|content| match content {
            wit_types::Content::Text(text) => Content::Text(text),
            wit_types::Content::Json(json) => Content::Json(json),
            wit_types::Content::Image(image) => Content::Image {
                mime_type: image.mime_type,
                data: image.data,
            },
        })
        .collect();
    let changes = output
        .changes
        .into_iter()
        .map(|change| match change {
            wit_types::FileChange::Add(file) => FileChange::Add {
                path: file.path,
                contents: file.contents,
            },
            wit_types::FileChange::Delete(path) => FileChange::Delete { path },
            wit_types::FileChange::Update(update) => FileChange::Update {
                path: update.path,
                move_to: update.move_to,
                contents: update.contents,
            },
        })
        .collect();
    ToolOutput {
        content,
        is_error: output.is_error,
        changes,
        logs: Vec::new(),
        // 0.1.0's record has no command block.
        command: None,
    }
}

pub(super) fn tool_error(err: wit_tool::ToolError) -> ToolError {
    match err {
        wit_types::ToolError::InvalidArgs(message) => ToolError::InvalidArgs(message),
        wit_types::ToolError::Denied(message) => ToolError::Denied(message),
        wit_types::ToolError::Cancelled => ToolError::Cancelled,
        wit_types::ToolError::Failed(message) => ToolError::Failed(message),
    }
}
