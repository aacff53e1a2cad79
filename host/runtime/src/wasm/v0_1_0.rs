//! `wharf:plugin@0.1.0`, the first version of the plugin interface. It
//! keeps its own bindings and forwards: each host function converts its
//! arguments to 0.2.0's and calls the implementation in `v0_2_0.rs`, and
//! what its exports return is converted to 0.2.0's types, which the host
//! reads. Frozen from wharf's first release on: see "Versioning the plugin
//! interface" in ARCHITECTURE.md.

use wasmtime::Store;
use wasmtime::component::{HasSelf, InstancePre, Linker};

use super::WasmError;
use super::state::CallState;
use super::v0_2_0::{host as latest_host, wit_types as latest_types};

wasmtime::component::bindgen!({
    world: "plugin",
    path: "../../wit/0.1.0",
    // Async exports, so that a call can be abandoned at its deadline even
    // while the guest waits in a host call (a sleep, a blocked read).
    exports: { default: async },
});

use wharf::plugin::host::{self, LogLevel};
use wharf::plugin::types as wit_types;

pub(super) fn add_to_linker(linker: &mut Linker<CallState>) -> wasmtime::Result<()> {
    Plugin::add_to_linker::<CallState, HasSelf<CallState>>(linker, |state| state)
}

/// A 0.1.0 component linked and ready to instantiate.
pub(crate) struct Prepared(PluginPre<CallState>);

impl Prepared {
    pub(super) fn new(pre: InstancePre<CallState>) -> Result<Prepared, WasmError> {
        PluginPre::new(pre)
            .map(Prepared)
            .map_err(|err| WasmError::Link(format!("{err:#}")))
    }

    pub(super) async fn describe(
        &self,
        store: &mut Store<CallState>,
    ) -> wasmtime::Result<Vec<latest_types::ToolSpec>> {
        let instance = self.0.instantiate_async(&mut *store).await?;
        let specs = instance
            .wharf_plugin_tool()
            .call_describe(&mut *store)
            .await?;
        Ok(specs.into_iter().map(tool_spec).collect())
    }

    pub(super) async fn invoke(
        &self,
        store: &mut Store<CallState>,
        cx: &latest_types::CallContext,
        name: &str,
        args: &str,
    ) -> wasmtime::Result<Result<latest_types::ToolOutput, latest_types::ToolError>> {
        let cx = wit_types::CallContext {
            call_id: cx.call_id.clone(),
            session_id: cx.session_id.clone(),
            cwd: cx.cwd.clone(),
        };
        let instance = self.0.instantiate_async(&mut *store).await?;
        let result = instance
            .wharf_plugin_tool()
            .call_invoke(&mut *store, &cx, name, args)
            .await?;
        Ok(result.map(tool_output).map_err(tool_error))
    }
}

impl host::Host for CallState {
    fn log(&mut self, level: LogLevel, message: String) {
        let level = match level {
            LogLevel::Trace => latest_host::LogLevel::Trace,
            LogLevel::Debug => latest_host::LogLevel::Debug,
            LogLevel::Info => latest_host::LogLevel::Info,
            LogLevel::Warn => latest_host::LogLevel::Warn,
            LogLevel::Error => latest_host::LogLevel::Error,
        };
        latest_host::Host::log(self, level, message);
    }

    fn progress(&mut self, message: String) {
        latest_host::Host::progress(self, message);
    }

    fn exec(&mut self, request: host::ExecRequest) -> Result<host::ExecOutput, host::ExecError> {
        let request = latest_host::ExecRequest {
            argv: request.argv,
            cwd: request.cwd,
            env: request.env,
            stdin: request.stdin,
            timeout_ms: request.timeout_ms,
        };
        let output = latest_host::Host::exec(self, request).map_err(|err| match err {
            latest_host::ExecError::Denied(message) => host::ExecError::Denied(message),
            latest_host::ExecError::NotFound(message) => host::ExecError::NotFound(message),
            latest_host::ExecError::Failed(message) => host::ExecError::Failed(message),
        })?;
        Ok(host::ExecOutput {
            exit_code: output.exit_code,
            stdout: output.stdout,
            stderr: output.stderr,
            timed_out: output.timed_out,
        })
    }

    fn read_file(&mut self, path: String) -> Result<Vec<u8>, host::ReadError> {
        latest_host::Host::read_file(self, path).map_err(|err| match err {
            latest_host::ReadError::NotFound => host::ReadError::NotFound,
            latest_host::ReadError::Denied(message) => host::ReadError::Denied(message),
            latest_host::ReadError::Failed(message) => host::ReadError::Failed(message),
        })
    }
}

impl wit_types::Host for CallState {}

fn tool_spec(spec: wit_types::ToolSpec) -> latest_types::ToolSpec {
    latest_types::ToolSpec {
        name: spec.name,
        description: spec.description,
        input_schema: spec.input_schema,
        freeform_grammar: spec.freeform_grammar,
        requires: spec.requires,
    }
}

fn tool_output(output: wit_types::ToolOutput) -> latest_types::ToolOutput {
    let content = output
        .content
        .into_iter()
        .map(|content| match content {
            wit_types::Content::Text(text) => latest_types::Content::Text(text),
            wit_types::Content::Json(json) => latest_types::Content::Json(json),
            wit_types::Content::Image(image) => latest_types::Content::Image(latest_types::Image {
                mime_type: image.mime_type,
                data: image.data,
            }),
        })
        .collect();
    let changes = output
        .changes
        .into_iter()
        .map(|change| match change {
            wit_types::FileChange::Add(file) => {
                latest_types::FileChange::Add(latest_types::FileContents {
                    path: file.path,
                    contents: file.contents,
                })
            }
            wit_types::FileChange::Delete(path) => latest_types::FileChange::Delete(path),
            wit_types::FileChange::Update(update) => {
                latest_types::FileChange::Update(latest_types::FileUpdate {
                    path: update.path,
                    move_to: update.move_to,
                    contents: update.contents,
                })
            }
        })
        .collect();
    latest_types::ToolOutput {
        content,
        is_error: output.is_error,
        changes,
    }
}

fn tool_error(err: wit_types::ToolError) -> latest_types::ToolError {
    match err {
        wit_types::ToolError::InvalidArgs(message) => latest_types::ToolError::InvalidArgs(message),
        wit_types::ToolError::Denied(message) => latest_types::ToolError::Denied(message),
        wit_types::ToolError::Cancelled => latest_types::ToolError::Cancelled,
        wit_types::ToolError::Failed(message) => latest_types::ToolError::Failed(message),
    }
}
