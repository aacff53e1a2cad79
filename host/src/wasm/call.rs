//! One call of a WASM plugin: a fresh store whose WASI context is built
//! from the grant alone, with a memory cap, a deadline and an output cap.

use std::time::Instant;

use wasmtime::component::ResourceTable;
use wasmtime::{ResourceLimiter, Store, StoreLimits, StoreLimitsBuilder, UpdateDeadline};
use wasmtime_wasi::p2::pipe::SinkOutputStream;
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use super::WasmPlugin;
use super::v0_1_0 as wit;
use crate::plugin::grant::Grant;
use crate::plugin::{CallContext, Plugin, ToolError, ToolOutput, ToolSpec};

/// Log lines a call may send before further ones are dropped.
const MAX_LOG_LINES: usize = 200;
const MAX_LOG_LINE_BYTES: usize = 4096;

/// The state of one store: WASI, resources, limits, what the guest logged.
pub(crate) struct CallState {
    wasi: WasiCtx,
    table: ResourceTable,
    limiter: Limiter,
    pub(super) logs: Vec<String>,
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl CallState {
    /// Default deny: no environment but the granted variables, no
    /// arguments, no stdin, stdout and stderr discarded, no sockets or name
    /// lookups, and only the granted roots, read-only. (Writes reach the
    /// disk only as file changes the host checks and applies.)
    fn new(grant: &Grant) -> CallState {
        let mut wasi = WasiCtxBuilder::new();
        wasi.stdout(SinkOutputStream)
            .stderr(SinkOutputStream)
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .envs(&grant.env);
        for root in &grant.read_roots {
            let guest_path = root.to_string_lossy();
            // A root that vanished since the grant was computed is simply
            // not there for the guest.
            let _ = wasi.preopened_dir(root, &guest_path, FsPerms::ReadOnly);
        }
        CallState {
            wasi: wasi.build(),
            table: ResourceTable::new(),
            limiter: Limiter::new(grant.memory_bytes),
            logs: Vec::new(),
        }
    }

    pub(super) fn log(&mut self, level: &str, message: &str) {
        if self.logs.len() >= MAX_LOG_LINES {
            return;
        }
        let mut end = message.len().min(MAX_LOG_LINE_BYTES);
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        let message = message.get(..end).unwrap_or_default();
        self.logs.push(format!("[{level}] {message}"));
    }
}

/// `StoreLimits` plus a record of whether the memory cap was what stopped
/// the guest, so the error can say so.
struct Limiter {
    limits: StoreLimits,
    memory_bytes: u64,
    exceeded: bool,
}

impl Limiter {
    fn new(memory_bytes: u64) -> Limiter {
        let cap = usize::try_from(memory_bytes).unwrap_or(usize::MAX);
        Limiter {
            limits: StoreLimitsBuilder::new()
                .memory_size(cap)
                .instances(64)
                .tables(64)
                .memories(16)
                .build(),
            memory_bytes,
            exceeded: false,
        }
    }
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let allowed = self.limits.memory_growing(current, desired, maximum)?;
        if !allowed {
            self.exceeded = true;
            // Trap rather than let the guest see a failed allocation: a Rust
            // guest would abort anyway, with a less clear message.
            wasmtime::bail!("memory limit of {} bytes reached", self.memory_bytes);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.limits.table_growing(current, desired, maximum)
    }

    fn instances(&self) -> usize {
        self.limits.instances()
    }

    fn tables(&self) -> usize {
        self.limits.tables()
    }

    fn memories(&self) -> usize {
        self.limits.memories()
    }
}

impl WasmPlugin {
    /// A store for one call under `grant`, with its deadline armed.
    fn store(&self, grant: &Grant) -> (Store<CallState>, Instant) {
        let mut store = Store::new(&self.engine, CallState::new(grant));
        store.limiter(|state| &mut state.limiter);
        let deadline = Instant::now() + grant.timeout;
        store.epoch_deadline_callback(move |_| {
            if Instant::now() >= deadline {
                wasmtime::bail!("deadline reached");
            }
            Ok(UpdateDeadline::Continue(1))
        });
        store.set_epoch_deadline(1);
        (store, deadline)
    }

    /// Why a call trapped, in the terms a user understands.
    fn trap_error(
        &self,
        store: &Store<CallState>,
        deadline: Instant,
        grant: &Grant,
        err: &wasmtime::Error,
    ) -> ToolError {
        if store.data().limiter.exceeded {
            ToolError::MemoryLimit(grant.memory_bytes >> 20)
        } else if Instant::now() >= deadline {
            ToolError::Timeout(grant.timeout.as_millis())
        } else {
            // The root cause ("wasm trap: wasm `unreachable` instruction
            // executed"), not the wasm backtrace around it: a model reads this.
            ToolError::Crashed(err.root_cause().to_string())
        }
    }

    /// Asks a fresh instance for its tools, with no access at all.
    pub(super) fn describe(&self) -> Result<Vec<ToolSpec>, super::WasmError> {
        let grant = Grant::none(&crate::plugin::grant::HostLimits::default());
        let (mut store, _) = self.store(&grant);
        let pre = self.prepared().map_err(super::WasmError::Describe)?;
        let specs = pre
            .instantiate(&mut store)
            .and_then(|instance| instance.wharf_plugin_tool().call_describe(&mut store))
            .map_err(|err| super::WasmError::Describe(format!("{err:#}")))?;
        specs.into_iter().map(wit::tool_spec).collect()
    }
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
        args: &str,
        grant: &Grant,
    ) -> Result<ToolOutput, ToolError> {
        let pre = self.prepared().map_err(|reason| {
            ToolError::Failed(format!("the plugin cannot be loaded: {reason}"))
        })?;
        let (mut store, deadline) = self.store(grant);
        let instance = pre
            .instantiate(&mut store)
            .map_err(|err| self.trap_error(&store, deadline, grant, &err))?;
        let wit_cx = wit::call_context(cx);
        let result = instance
            .wharf_plugin_tool()
            .call_invoke(&mut store, &wit_cx, tool, args)
            .map_err(|err| self.trap_error(&store, deadline, grant, &err))?;
        let mut output = result.map(wit::tool_output).map_err(wit::tool_error)?;
        output.logs = std::mem::take(&mut store.data_mut().logs);
        Ok(output)
    }
}
