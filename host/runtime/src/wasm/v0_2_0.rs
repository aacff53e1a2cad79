//! `wharf:plugin@0.2.0`, the latest version of the plugin interface: the
//! one place that implements each host function, and the conversions
//! between its types and the host's. Older versions (`v0_1_0.rs`) keep their
//! own bindings and forward here; see "Versioning the plugin interface" in
//! ARCHITECTURE.md.
//!
//! One set of bindings, of the world `plugin-with-hooks`: a component that
//! targets the world `plugin` has the same imports, and its exports are
//! looked up per interface ([`Prepared`]), so the `hooks` export is
//! optional.

use std::time::Duration;

use wasmtime::Store;
use wasmtime::component::{HasSelf, InstancePre, Linker};

use super::WasmError;
use super::files::ReadFailure;
use super::state::CallState;
use crate::exec::{ExecError, ExecRequest};
use crate::plugin::{CallContext, Content, Display, FileChange, ToolError, ToolOutput, ToolSpec};

wasmtime::component::bindgen!({
    world: "plugin-with-hooks",
    path: "../../wit/0.2.0",
    // Async exports, so that a call can be abandoned at its deadline even
    // while the guest waits in a host call (a sleep, a blocked read).
    exports: { default: async },
});

pub(super) use exports::wharf::plugin::hooks as wit_hooks;
pub(super) use exports::wharf::plugin::tool as wit_tool;
pub(super) use wharf::plugin::host;
use wharf::plugin::host::LogLevel;
pub(super) use wharf::plugin::types as wit_types;

pub(super) fn add_to_linker(linker: &mut Linker<CallState>) -> wasmtime::Result<()> {
    PluginWithHooks::add_to_linker::<CallState, HasSelf<CallState>>(linker, |state| state)
}

/// A 0.2.0 component linked and ready to instantiate, with its exports
/// looked up once: `tool`, and `hooks` when it exports them.
pub(crate) struct Prepared {
    pre: InstancePre<CallState>,
    tool: wit_tool::GuestIndices,
    hooks: Option<wit_hooks::GuestIndices>,
}

impl Prepared {
    pub(super) fn new(pre: InstancePre<CallState>) -> Result<Prepared, WasmError> {
        let tool =
            wit_tool::GuestIndices::new(&pre).map_err(|err| WasmError::Link(format!("{err:#}")))?;
        // Absent or incomplete: the component exports no hooks, which only
        // a manifest asking for hooks turns into an error.
        let hooks = wit_hooks::GuestIndices::new(&pre).ok();
        Ok(Prepared { pre, tool, hooks })
    }

    pub(super) fn exports_hooks(&self) -> bool {
        self.hooks.is_some()
    }

    pub(super) async fn describe(
        &self,
        store: &mut Store<CallState>,
    ) -> wasmtime::Result<Vec<wit_types::ToolSpec>> {
        let instance = self.pre.instantiate_async(&mut *store).await?;
        let tool = self.tool.load(&mut *store, &instance)?;
        tool.call_describe(&mut *store).await
    }

    pub(super) async fn invoke(
        &self,
        store: &mut Store<CallState>,
        cx: &wit_types::CallContext,
        name: &str,
        args: &str,
    ) -> wasmtime::Result<Result<wit_types::ToolOutput, wit_types::ToolError>> {
        let instance = self.pre.instantiate_async(&mut *store).await?;
        let tool = self.tool.load(&mut *store, &instance)?;
        tool.call_invoke(&mut *store, cx, name, args).await
    }

    /// A fresh instance's `hooks` export; `None` when it exports none.
    pub(super) async fn hooks(
        &self,
        store: &mut Store<CallState>,
    ) -> Option<wasmtime::Result<wit_hooks::Guest>> {
        let indices = self.hooks.as_ref()?;
        let instance = match self.pre.instantiate_async(&mut *store).await {
            Ok(instance) => instance,
            Err(err) => return Some(Err(err)),
        };
        Some(indices.load(&mut *store, &instance))
    }
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

pub(super) fn tool_spec(spec: wit_types::ToolSpec) -> Result<ToolSpec, WasmError> {
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
        // The WIT record carries no display hints.
        display: Display::default(),
    })
}

pub(super) fn call_context(cx: &CallContext) -> wit_types::CallContext {
    wit_types::CallContext {
        call_id: cx.call_id.to_string(),
        session_id: cx.session_id.to_string(),
        cwd: cx.cwd.to_string_lossy().into_owned(),
    }
}

pub(super) fn content(content: wit_types::Content) -> Content {
    match content {
        wit_types::Content::Text(text) => Content::Text(text),
        wit_types::Content::Json(json) => Content::Json(json),
        wit_types::Content::Image(image) => Content::Image {
            mime_type: image.mime_type,
            data: image.data,
        },
    }
}

pub(super) fn content_to_wit(content: &Content) -> wit_types::Content {
    match content {
        Content::Text(text) => wit_types::Content::Text(text.clone()),
        Content::Json(json) => wit_types::Content::Json(json.clone()),
        Content::Image { mime_type, data } => wit_types::Content::Image(wit_types::Image {
            mime_type: mime_type.clone(),
            data: data.clone(),
        }),
    }
}

pub(super) fn tool_output(output: wit_types::ToolOutput) -> ToolOutput {
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
        content: output.content.into_iter().map(content).collect(),
        is_error: output.is_error,
        changes,
        logs: Vec::new(),
        // The WIT record has no command block.
        command: None,
    }
}

/// A host output as a hook reads it: its content and error flag (the file
/// changes are already applied, or refused, by then).
pub(super) fn tool_output_to_wit(output: &ToolOutput) -> wit_types::ToolOutput {
    wit_types::ToolOutput {
        content: output.content.iter().map(content_to_wit).collect(),
        is_error: output.is_error,
        changes: Vec::new(),
    }
}

pub(super) fn tool_error(err: wit_types::ToolError) -> ToolError {
    match err {
        wit_types::ToolError::InvalidArgs(message) => ToolError::InvalidArgs(message),
        wit_types::ToolError::Denied(message) => ToolError::Denied(message),
        wit_types::ToolError::Cancelled => ToolError::Cancelled,
        wit_types::ToolError::Failed(message) => ToolError::Failed(message),
    }
}
