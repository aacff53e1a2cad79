//! The host's side of one native call: the state its callbacks see, and
//! the callbacks themselves (log, progress, read_file, exec,
//! is_cancelled).
//!
//! Every callback catches panics (a bug in wharf must not unwind into the
//! plugin's frames) and treats what the plugin passes as untrusted bytes.

use std::ffi::c_void;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use wharf_plugin_api::native::{self as abi, Buf, HostV1, wire};

use crate::exec;
use crate::plugin::grant::Grant;
use crate::plugin::{CallContext, CallLog};
use crate::wasm::files::{self, ReadFailure};

/// What one call's callbacks may use: its context, its grant, its
/// deadline, and where its logs go.
pub(super) struct CallState<'a> {
    cx: &'a CallContext,
    grant: &'a Grant,
    deadline: Instant,
    /// A plugin may call back from threads of its own.
    log: Mutex<CallLog>,
}

impl<'a> CallState<'a> {
    pub(super) fn new(cx: &'a CallContext, grant: &'a Grant, deadline: Instant) -> CallState<'a> {
        CallState {
            cx,
            grant,
            deadline,
            log: Mutex::new(CallLog::new(cx.progress.clone())),
        }
    }

    /// The table to pass to `invoke`; valid while `self` is.
    pub(super) fn host_table(&self) -> HostV1 {
        HostV1 {
            ctx: std::ptr::from_ref(self).cast(),
            log,
            progress,
            read_file,
            exec,
            is_cancelled,
            free,
        }
    }

    pub(super) fn into_logs(self) -> Vec<String> {
        self.log
            .into_inner()
            .map(CallLog::into_lines)
            .unwrap_or_default()
    }

    fn log(&self, level: &str, message: &str) {
        if let Ok(mut log) = self.log.lock() {
            log.log(level, message);
        }
    }

    fn progress(&self, message: &str) {
        if let Ok(mut log) = self.log.lock() {
            log.progress(message);
        }
    }

    fn read_file(&self, path: &str) -> wire::ReadResponse {
        match files::read_file(&self.grant.read_roots, path, self.grant.memory_bytes) {
            Ok(bytes) => wire::ReadResponse::Ok(abi::base64_encode(&bytes)),
            Err(ReadFailure::NotFound) => wire::ReadResponse::NotFound,
            Err(ReadFailure::Denied(message)) => wire::ReadResponse::Denied(message),
            Err(ReadFailure::Failed(message)) => wire::ReadResponse::Failed(message),
        }
    }

    /// Runs a command through [`crate::exec`], the one way plugins run
    /// commands: checked against the grant, under the session's sandbox,
    /// ended by the call's deadline at the latest.
    fn exec(&self, request: &[u8]) -> Result<wire::ExecOutput, wire::Error> {
        let request: wire::ExecRequest = serde_json::from_slice(request)
            .map_err(|err| wire::Error::InvalidArgs(format!("not an exec request: {err}")))?;
        if !self.grant.exec {
            return Err(wire::Error::Denied(
                "running commands is not in this plugin's grant \
                 (its manifest does not ask for `exec = true`)"
                    .to_owned(),
            ));
        }
        if Instant::now() >= self.deadline {
            return Err(wire::Error::Cancelled);
        }
        let request = wharf_plugin_api::ExecRequest::try_from(request)
            .map_err(|err| wire::Error::InvalidArgs(format!("not an exec request: {err}")))?;
        let request = exec::ExecRequest {
            argv: request.argv,
            cwd: request.cwd,
            env: request.env,
            stdin: request.stdin,
            // The call's deadline bounds it in any case.
            timeout: request
                .timeout_ms
                .map_or(Duration::MAX, Duration::from_millis),
        };
        let result = exec::run(
            &self.cx.sandbox,
            &self.cx.cwd,
            self.grant,
            self.deadline,
            request,
        )
        .map_err(|err| match err {
            exec::ExecError::Denied(message) => wire::Error::Denied(message),
            // A missing program is the call failing, not a lack of access.
            exec::ExecError::NotFound(message) | exec::ExecError::Failed(message) => {
                wire::Error::Failed(message)
            }
        })?;
        Ok(wire::ExecOutput::from(wharf_plugin_api::ExecOutput {
            exit_code: result.exit_code,
            stdout: result.stdout,
            stderr: result.stderr,
            timed_out: result.timed_out,
        }))
    }
}

/// The call state behind a callback's `ctx`.
///
/// # Safety
///
/// `ctx` is the `ctx` of a table made by [`CallState::host_table`] whose
/// state is still alive (the plugin may only call back during `invoke`).
unsafe fn state<'a>(ctx: *const c_void) -> &'a CallState<'a> {
    // SAFETY: the caller's promise.
    unsafe { &*ctx.cast::<CallState<'a>>() }
}

/// Bytes a plugin passed, as lossy UTF-8.
///
/// # Safety
///
/// `ptr` is null or points to `len` bytes valid for the callback.
unsafe fn text(ptr: *const u8, len: usize) -> String {
    let borrowed = Buf {
        ptr: ptr.cast_mut(),
        len,
        cap: len,
    };
    // SAFETY: the caller's promise; the bytes are copied before returning.
    String::from_utf8_lossy(unsafe { borrowed.as_slice() }).into_owned()
}

/// Runs a callback's body with panics caught, `fallback` if it panicked.
fn guarded<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}

fn json_buf(value: &impl serde::Serialize) -> Buf {
    Buf::from_vec(serde_json::to_vec(value).unwrap_or_default())
}

unsafe extern "C" fn log(ctx: *const c_void, level: u32, message: *const u8, len: usize) {
    guarded((), || {
        // SAFETY: the plugin passes back our ctx and `len` bytes, during
        // the call.
        let (state, message) = unsafe { (state(ctx), text(message, len)) };
        let level = match level {
            abi::LOG_TRACE => "trace",
            abi::LOG_DEBUG => "debug",
            abi::LOG_INFO => "info",
            abi::LOG_WARN => "warn",
            _ => "error",
        };
        state.log(level, &message);
    });
}

unsafe extern "C" fn progress(ctx: *const c_void, message: *const u8, len: usize) {
    guarded((), || {
        // SAFETY: as for `log`.
        let (state, message) = unsafe { (state(ctx), text(message, len)) };
        state.progress(&message);
    });
}

unsafe extern "C" fn read_file(ctx: *const c_void, path: *const u8, len: usize) -> Buf {
    let response = guarded(
        wire::ReadResponse::Failed("the host failed while reading (a bug in wharf)".to_owned()),
        || {
            // SAFETY: as for `log`.
            let (state, path) = unsafe { (state(ctx), text(path, len)) };
            state.read_file(&path)
        },
    );
    json_buf(&response)
}

unsafe extern "C" fn exec(ctx: *const c_void, request: *const u8, len: usize) -> Buf {
    let response = guarded(
        Err(wire::Error::Failed(
            "the host failed while running the command (a bug in wharf)".to_owned(),
        )),
        || {
            let borrowed = Buf {
                ptr: request.cast_mut(),
                len,
                cap: len,
            };
            // SAFETY: as for `log`.
            let (state, request) = unsafe { (state(ctx), borrowed.as_slice()) };
            state.exec(request)
        },
    );
    json_buf(&match response {
        Ok(output) => wire::ExecResponse::Ok(output),
        Err(err) => wire::ExecResponse::Error(err),
    })
}

unsafe extern "C" fn is_cancelled(ctx: *const c_void) -> bool {
    guarded(true, || {
        // SAFETY: the plugin passes back our ctx during the call.
        let state = unsafe { state(ctx) };
        Instant::now() >= state.deadline || state.cx.cancel.is_cancelled()
    })
}

unsafe extern "C" fn free(buf: Buf) {
    // SAFETY: the plugin gives back a Buf our callbacks made with
    // `Buf::from_vec` in this build.
    unsafe { buf.free() }
}
