//! The state of one WASM store: its WASI context, built from the grant
//! alone, the memory limiter, and what the guest's host calls reach (files,
//! commands, logs).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use wasmtime::component::ResourceTable;
use wasmtime::{ResourceLimiter, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::p2::pipe::SinkOutputStream;
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use wharf_sandbox::Sandbox;

use super::files::{self, ReadFailure};
use super::net::Allowlist;
use super::net::http::NetHooks;
use crate::exec::{self, ExecError, ExecRequest, ExecResult};
use crate::plugin::grant::Grant;
use crate::plugin::{CallLog, Progress};

/// The state of one store: WASI, resources, limits, what the guest logged.
pub(crate) struct CallState {
    wasi: WasiCtx,
    table: ResourceTable,
    /// `wasi:http`: every request checked against the grant's network.
    http: WasiHttpCtx,
    net: NetHooks,
    pub(super) limiter: Limiter,
    /// The grant's read-only roots, for `read-file`.
    read_roots: Vec<PathBuf>,
    /// What `exec` needs: `None` while describing or when the grant has no
    /// `exec`.
    exec: Option<ExecAccess>,
    /// Whether this store runs a call (not a `describe`).
    in_call: bool,
    pub(super) log: CallLog,
}

/// The call's sandbox, cwd, grant and deadline, for `exec`.
pub(super) struct ExecAccess {
    pub(super) sandbox: Arc<Sandbox>,
    pub(super) cwd: PathBuf,
    pub(super) grant: Grant,
    pub(super) deadline: Instant,
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for CallState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.net,
        }
    }
}

impl CallState {
    /// Default deny: no environment but the granted variables, no
    /// arguments, no stdin, stdout and stderr discarded, no name lookups,
    /// sockets only with a network grant and then only to its addresses
    /// (see `net`), and only the granted roots, read-only. (Writes reach
    /// the disk only as file changes the host checks and applies.)
    pub(super) fn new(
        grant: &Grant,
        exec: Option<ExecAccess>,
        progress: Option<Progress>,
        in_call: bool,
    ) -> CallState {
        let mut wasi = WasiCtxBuilder::new();
        wasi.stdout(SinkOutputStream)
            .stderr(SinkOutputStream)
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .envs(&grant.env);
        let allowlist = Allowlist::new(&grant.network);
        if !allowlist.is_empty() {
            let sockets = allowlist.clone();
            wasi.allow_tcp(true)
                .allow_udp(true)
                .socket_addr_check(move |addr, usage| {
                    let sockets = sockets.clone();
                    Box::pin(async move { sockets.allows_socket(addr, usage).await })
                });
        }
        for root in &grant.read_roots {
            let guest_path = root.to_string_lossy();
            // A root that vanished since the grant was computed is simply
            // not there for the guest.
            let _ = wasi.preopened_dir(root, &guest_path, FsPerms::ReadOnly);
        }
        CallState {
            wasi: wasi.build(),
            table: ResourceTable::new(),
            http: WasiHttpCtx::new(),
            net: NetHooks { allowlist },
            limiter: Limiter::new(grant.memory_bytes),
            read_roots: grant.read_roots.clone(),
            exec,
            in_call,
            log: CallLog::new(progress),
        }
    }

    pub(super) fn read_file(&self, path: &str) -> Result<Vec<u8>, ReadFailure> {
        files::read_file(&self.read_roots, path, self.limiter.memory_bytes)
    }

    pub(super) fn exec(&self, request: ExecRequest) -> Result<ExecResult, ExecError> {
        let Some(access) = &self.exec else {
            return Err(ExecError::Denied(if self.in_call {
                exec::NOT_GRANTED.to_owned()
            } else {
                "commands can only run during a call".to_owned()
            }));
        };
        exec::run(
            &access.sandbox,
            &access.cwd,
            &access.grant,
            access.deadline,
            request,
        )
    }

    pub(super) fn log(&mut self, level: &str, message: &str) {
        self.log.log(level, message);
    }

    pub(super) fn progress(&mut self, message: &str) {
        self.log.progress(message);
    }
}

/// `StoreLimits` plus a record of whether the memory cap was what stopped
/// the guest, so the error can say so.
pub(super) struct Limiter {
    limits: StoreLimits,
    memory_bytes: u64,
    pub(super) exceeded: bool,
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
