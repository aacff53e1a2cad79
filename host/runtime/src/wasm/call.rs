//! One call of a WASM plugin: a fresh store whose WASI context is built
//! from the grant alone, with a memory cap, a deadline and an output cap.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Instant;

use wasmtime::{Store, UpdateDeadline};
use wharf_cancel::CancelToken;

use super::state::{CallState, ExecAccess};
use super::{WasmError, WasmPlugin, v0_1_0, v0_2_0};
use crate::plugin::grant::Grant;
use crate::plugin::{Args, CallContext, Plugin, ToolError, ToolOutput, ToolSpec};

impl WasmPlugin {
    /// A store for one call under `grant` (`cx` is `None` while
    /// describing), with its deadline armed.
    pub(super) fn store(
        &self,
        grant: &Grant,
        cx: Option<&CallContext>,
    ) -> (Store<CallState>, Instant) {
        let deadline = Instant::now() + grant.timeout;
        let exec = cx.filter(|_| grant.exec).map(|cx| ExecAccess {
            sandbox: Arc::clone(&cx.sandbox),
            cwd: cx.cwd.clone(),
            grant: grant.clone(),
            deadline,
        });
        let progress = cx.and_then(|cx| cx.progress.clone());
        let state = CallState::new(grant, exec, progress, cx.is_some());
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| &mut state.limiter);
        let cancel = cx.map(|cx| cx.cancel.clone());
        store.epoch_deadline_callback(move |_| {
            if Instant::now() >= deadline {
                wasmtime::bail!("deadline reached");
            }
            if cancel.as_ref().is_some_and(CancelToken::is_cancelled) {
                wasmtime::bail!("cancelled");
            }
            Ok(UpdateDeadline::Continue(1))
        });
        store.set_epoch_deadline(1);
        (store, deadline)
    }

    /// Why a call of `tool` trapped, in the terms a user understands; a
    /// panic the guest reported goes to wharf's log too.
    fn trap_error(
        &self,
        tool: &str,
        store: &Store<CallState>,
        deadline: Instant,
        cancel: &CancelToken,
        grant: &Grant,
        err: &wasmtime::Error,
    ) -> ToolError {
        if store.data().limiter.exceeded {
            ToolError::MemoryLimit(grant.memory_bytes >> 20)
        } else if cancel.is_cancelled() {
            ToolError::Cancelled
        } else if let Some(panic) = store.data().log.panic() {
            tracing::warn!(
                target: "wharf.plugin_panic",
                plugin = self.name.as_str(),
                tool_name = tool,
                message = panic,
            );
            ToolError::Crashed(format!("it panicked: {panic}"))
        } else if Instant::now() >= deadline {
            ToolError::Timeout(grant.timeout.as_millis())
        } else {
            // The root cause ("wasm trap: wasm `unreachable` instruction
            // executed"), not the wasm backtrace around it: a model reads this.
            ToolError::Crashed(err.root_cause().to_string())
        }
    }

    /// Asks a fresh instance for its tools, with no access at all.
    pub(super) fn describe(&self) -> Result<Vec<ToolSpec>, WasmError> {
        let grant = Grant::none(&crate::plugin::grant::HostLimits::default());
        let pre = self.prepared().map_err(WasmError::Describe)?;
        let (mut store, deadline) = self.store(&grant, None);
        let described = run_until(deadline, &CancelToken::new(), pre.describe(&mut store));
        let specs = match described {
            Ok(Ok(specs)) => specs,
            Ok(Err(err)) => {
                let reason = match store.data().log.panic() {
                    Some(panic) => format!("it panicked: {panic}"),
                    None => format!("{err:#}"),
                };
                return Err(WasmError::Describe(reason));
            }
            Err(stopped) => {
                return Err(WasmError::Describe(stopped.error(&grant).to_string()));
            }
        };
        specs.into_iter().map(v0_2_0::tool_spec).collect()
    }
}

/// A component linked with the bindings of the version it targets.
pub(crate) enum Prepared {
    V0_1_0(v0_1_0::Prepared),
    V0_2_0(v0_2_0::Prepared),
}

impl Prepared {
    /// Links `pre` with the bindings of `api_version` (one of
    /// [`super::SUPPORTED_API_VERSIONS`]).
    pub(super) fn new(
        pre: wasmtime::component::InstancePre<CallState>,
        api_version: &str,
    ) -> Result<Prepared, WasmError> {
        match api_version {
            "0.1.0" => v0_1_0::Prepared::new(pre).map(Prepared::V0_1_0),
            _ => v0_2_0::Prepared::new(pre).map(Prepared::V0_2_0),
        }
    }

    /// The 0.2.0 bindings, which alone may export hooks.
    pub(super) fn latest(&self) -> Option<&v0_2_0::Prepared> {
        match self {
            Prepared::V0_1_0(_) => None,
            Prepared::V0_2_0(prepared) => Some(prepared),
        }
    }

    async fn describe(
        &self,
        store: &mut Store<CallState>,
    ) -> wasmtime::Result<Vec<v0_2_0::wit_types::ToolSpec>> {
        match self {
            Prepared::V0_1_0(prepared) => prepared.describe(store).await,
            Prepared::V0_2_0(prepared) => prepared.describe(store).await,
        }
    }

    async fn invoke(
        &self,
        store: &mut Store<CallState>,
        cx: &v0_2_0::wit_types::CallContext,
        tool: &str,
        args: &str,
    ) -> wasmtime::Result<Result<v0_2_0::wit_types::ToolOutput, v0_2_0::wit_types::ToolError>> {
        match self {
            Prepared::V0_1_0(prepared) => prepared.invoke(store, cx, tool, args).await,
            Prepared::V0_2_0(prepared) => prepared.invoke(store, cx, tool, args).await,
        }
    }
}

/// A thread's runtime for driving plugin calls.
struct CallRuntime(Option<tokio::runtime::Runtime>);

impl Drop for CallRuntime {
    /// Does not wait for abandoned blocking work (a read of a FIFO nobody
    /// writes): that would hang the thread's, or the process's, exit.
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

thread_local! {
    /// Each calling thread drives its calls on its own single-threaded
    /// runtime: cheap to enter, and a call never waits for another thread.
    static RUNTIME: CallRuntime = CallRuntime(
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            // Sockets and HTTP of plugins with a network grant.
            .enable_io()
            .build()
            .ok(),
    );
}

/// Why [`run_until`] returned without the call's result.
pub(super) enum Stopped {
    Deadline,
    Cancelled,
    /// The thread's runtime could not be created (out of resources).
    NoRuntime,
}

impl Stopped {
    pub(super) fn error(self, grant: &Grant) -> ToolError {
        match self {
            Stopped::Deadline => ToolError::Timeout(grant.timeout.as_millis()),
            Stopped::Cancelled => ToolError::Cancelled,
            Stopped::NoRuntime => {
                ToolError::Failed("cannot start the runtime that drives plugin calls".to_owned())
            }
        }
    }
}

/// Runs `call` until it finishes, `deadline` passes, or `cancel` is raised.
///
/// The epoch callback stops a guest that computes past its deadline or
/// after a cancel; this stops one that waits in a host call (a sleep, a
/// read that blocks), which no epoch reaches: the cancel wakes it. An
/// abandoned blocking read finishes, or not, on tokio's blocking pool,
/// without holding up the caller.
///
/// Must not be called from inside a tokio runtime: callers on one use
/// `spawn_blocking`.
pub(super) fn run_until<F: Future>(
    deadline: Instant,
    cancel: &CancelToken,
    call: F,
) -> Result<F::Output, Stopped> {
    RUNTIME.with(|runtime| {
        let runtime = runtime.0.as_ref().ok_or(Stopped::NoRuntime)?;
        let deadline = tokio::time::Instant::from_std(deadline);
        // The timers must be made inside the runtime, hence the async block.
        runtime.block_on(async move {
            let mut call = pin!(call);
            let mut cancel = pin!(cancel.cancelled());
            let race = std::future::poll_fn(|context| {
                if let Poll::Ready(output) = call.as_mut().poll(context) {
                    return Poll::Ready(Ok(output));
                }
                cancel
                    .as_mut()
                    .poll(context)
                    .map(|()| Err(Stopped::Cancelled))
            });
            tokio::time::timeout_at(deadline, race)
                .await
                .unwrap_or(Err(Stopped::Deadline))
        })
    })
}

impl Plugin for WasmPlugin {
    fn name(&self) -> &str {
        &self.name
    }

    fn tools(&self) -> &[ToolSpec] {
        &self.tools
    }

    fn invoke(
        &self,
        cx: &CallContext,
        tool: &str,
        args: Args<'_>,
        grant: &Grant,
    ) -> Result<ToolOutput, ToolError> {
        let pre = self.prepared().map_err(|reason| {
            ToolError::Failed(format!("the plugin cannot be loaded: {reason}"))
        })?;
        let (mut store, deadline) = self.store(grant, Some(cx));
        let wit_cx = v0_2_0::call_context(cx);
        let called = run_until(
            deadline,
            &cx.cancel,
            pre.invoke(&mut store, &wit_cx, tool, args.text),
        );
        let result = match called {
            Ok(Ok(result)) => result,
            Ok(Err(err)) => {
                return Err(self.trap_error(tool, &store, deadline, &cx.cancel, grant, &err));
            }
            Err(stopped) => return Err(stopped.error(grant)),
        };
        let mut output = result
            .map(v0_2_0::tool_output)
            .map_err(v0_2_0::tool_error)?;
        output.logs = std::mem::take(&mut store.data_mut().log).into_lines();
        Ok(output)
    }
}
