//! The one tokio runtime of the MCP client, and how blocking callers wait
//! on it.
//!
//! rmcp is async; wharf's plugins are called from plain threads. One small
//! runtime serves every server of the process (two workers on a machine
//! of two cores; the work is I/O), created when the first server starts.
//! Callers never `block_on` it: they spawn the work and wait on a std
//! channel, which works from any thread, inside another runtime or not.

use std::future::Future;
use std::sync::OnceLock;
use std::sync::mpsc;
use std::time::Duration;

use tokio::runtime::{Handle, Runtime};

use crate::StartError;

pub(crate) fn handle() -> Result<Handle, StartError> {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    if let Some(runtime) = RUNTIME.get() {
        return Ok(runtime.handle().clone());
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("wharf-mcp")
        .enable_all()
        .build()
        .map_err(|err| StartError::Runtime(format!("cannot start a tokio runtime: {err}")))?;
    // Two first starts racing build two; the loser's is dropped here, on a
    // thread that is not part of any runtime.
    Ok(RUNTIME.get_or_init(|| runtime).handle().clone())
}

/// Runs `future` on the runtime and waits for it, at most `limit`
/// (`None`: it did not finish in time, or panicked; it keeps running or
/// is dropped with its task).
pub(crate) fn wait_for<F>(handle: &Handle, future: F, limit: Duration) -> Option<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let (tx, rx) = mpsc::sync_channel(1);
    handle.spawn(async move {
        let _ = tx.send(future.await);
    });
    rx.recv_timeout(limit).ok()
}
