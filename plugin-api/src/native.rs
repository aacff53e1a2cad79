//! Native plugins: a versioned C ABI, so that a plugin can be a shared
//! library (`.so`) wharf loads, or a crate linked into wharf as a builtin,
//! with the same [`Tool`](crate::Tool) code as a WASM plugin.
//!
//! # The ABI, version 1
//!
//! A plugin exports one symbol, [`ENTRY_SYMBOL`] (`wharf_plugin_v1`), an
//! `extern "C" fn() -> *const PluginV1` returning a table that lives as long
//! as the library. The host reads [`PluginV1::abi_version`] first and touches
//! nothing else unless it is [`ABI_VERSION`]; a later version may lay the
//! rest of its table out differently, under a new symbol.
//!
//! Everything else crosses as bytes: UTF-8 JSON documents (the types in
//! [`wire`]) and plain UTF-8 strings, passed as a pointer and a length when
//! borrowed for the duration of a call, and returned as a [`Buf`] that the
//! side which allocated it frees (`PluginV1::free` for the plugin's,
//! `HostV1::free` for the host's), so that the two may use different
//! allocators.
//!
//! - `describe()` → [`wire::Described`]: the tools.
//! - `invoke(host, request)` → [`wire::Response`], given a
//!   [`wire::Request`] and a [`HostV1`] table valid until `invoke` returns.
//!   Calls may come from several threads at once.
//! - `end_session(session_id)`: the session ended; drop its state.
//! - `free(buf)`: frees a [`Buf`] the plugin returned.
//!
//! The host table offers `log`, `progress`, `read_file` (→
//! [`wire::ReadResponse`]), `exec` ([`wire::ExecRequest`] →
//! [`wire::ExecResponse`]) and `is_cancelled`, each taking the table's
//! `ctx` first.
//!
//! No panic may unwind across the boundary: every function
//! [`native_plugin!`](crate::native_plugin) generates catches it and
//! answers with [`wire::Error::Panicked`] (build plugins with the default
//! `panic = "unwind"`; with `abort`, a panic takes wharf down).
//!
//! # Trust
//!
//! A native plugin runs inside wharf's process with wharf's privileges. The
//! grant is enforced only where the host does the work (file reads through
//! [`Context::read_file`](crate::Context::read_file), commands through
//! [`Context::exec`](crate::Context::exec), file changes); code that calls
//! `std::fs` directly is not confined. Install only native plugins you
//! trust as much as wharf itself.

mod base64;
pub mod wire;

use std::cell::Cell;
use std::ffi::c_void;
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::{
    Args, Context, ExecOutput, ExecRequest, Level, Output, ReadError, ToolError, ToolSpec,
};

/// The version of the ABI this module implements.
pub const ABI_VERSION: u32 = 1;

/// The symbol a plugin library exports: `extern "C" fn() -> *const PluginV1`.
pub const ENTRY_SYMBOL: &str = "wharf_plugin_v1";

/// Bytes returned across the boundary, owned by the side that allocated
/// them until it gets them back through its `free`.
#[repr(C)]
#[derive(Debug)]
pub struct Buf {
    pub ptr: *mut u8,
    pub len: usize,
    /// The allocation's capacity; only its owner interprets it.
    pub cap: usize,
}

impl Buf {
    /// Hands `bytes` over; free the result with [`Buf::free`] on this side.
    pub fn from_vec(bytes: Vec<u8>) -> Buf {
        let mut bytes = std::mem::ManuallyDrop::new(bytes);
        Buf {
            ptr: bytes.as_mut_ptr(),
            len: bytes.len(),
            cap: bytes.capacity(),
        }
    }

    /// The bytes.
    ///
    /// # Safety
    ///
    /// `ptr` must point to `len` initialized bytes (or be null with any
    /// `len`), which stay valid and unchanged while the slice is used.
    pub unsafe fn as_slice(&self) -> &[u8] {
        if self.ptr.is_null() || self.len == 0 {
            return &[];
        }
        // SAFETY: non-null, and the caller promises `len` valid bytes.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }

    /// Frees a `Buf` made by [`Buf::from_vec`].
    ///
    /// # Safety
    ///
    /// `self` must come from [`Buf::from_vec`] in this same build of this
    /// crate (so the same allocator), unchanged and not freed before.
    pub unsafe fn free(self) {
        if self.ptr.is_null() {
            return;
        }
        // SAFETY: the caller promises these are the raw parts of a Vec<u8>
        // this allocator made, which nobody else frees.
        drop(unsafe { Vec::from_raw_parts(self.ptr, self.len, self.cap) });
    }
}

/// What a plugin exports (through [`ENTRY_SYMBOL`]).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct PluginV1 {
    /// [`ABI_VERSION`]; read before anything else.
    pub abi_version: u32,
    /// → JSON [`wire::Described`].
    pub describe: unsafe extern "C" fn() -> Buf,
    /// `(host, request JSON, its length)` → JSON [`wire::Response`].
    pub invoke: unsafe extern "C" fn(host: *const HostV1, request: *const u8, len: usize) -> Buf,
    /// `(session id, its length)`.
    pub end_session: unsafe extern "C" fn(session_id: *const u8, len: usize),
    /// Frees a [`Buf`] returned by `describe` or `invoke`.
    pub free: unsafe extern "C" fn(buf: Buf),
}

/// What the host offers a plugin during one `invoke`; valid until it
/// returns. `ctx` is the host's, passed back on every callback.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct HostV1 {
    pub ctx: *const c_void,
    /// `(ctx, level, message, its length)`; levels are the `LOG_*`
    /// constants.
    pub log: unsafe extern "C" fn(ctx: *const c_void, level: u32, message: *const u8, len: usize),
    /// `(ctx, status line, its length)`.
    pub progress: unsafe extern "C" fn(ctx: *const c_void, message: *const u8, len: usize),
    /// `(ctx, absolute path, its length)` → JSON [`wire::ReadResponse`].
    pub read_file: unsafe extern "C" fn(ctx: *const c_void, path: *const u8, len: usize) -> Buf,
    /// `(ctx, JSON [`wire::ExecRequest`], its length)` → JSON
    /// [`wire::ExecResponse`].
    pub exec: unsafe extern "C" fn(ctx: *const c_void, request: *const u8, len: usize) -> Buf,
    /// Whether the call should stop: cancelled, or past its deadline.
    pub is_cancelled: unsafe extern "C" fn(ctx: *const c_void) -> bool,
    /// Frees a [`Buf`] returned by `read_file` or `exec`.
    pub free: unsafe extern "C" fn(buf: Buf),
}

pub const LOG_TRACE: u32 = 0;
pub const LOG_DEBUG: u32 = 1;
pub const LOG_INFO: u32 = 2;
pub const LOG_WARN: u32 = 3;
pub const LOG_ERROR: u32 = 4;

/// The bytes of base64 `text` (`None` if invalid); for hosts reading
/// [`wire::Content::Image`] and [`wire::ReadResponse::Ok`].
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    base64::decode(text)
}

/// `bytes` as standard base64.
pub fn base64_encode(bytes: &[u8]) -> String {
    base64::encode(bytes)
}

thread_local! {
    /// The host table of the call running on this thread, if any.
    static CURRENT: Cell<*const HostV1> = const { Cell::new(std::ptr::null()) };
}

/// Makes `host` the current table until dropped (also when the tool
/// panics), then restores the previous one.
struct Entered(*const HostV1);

impl Entered {
    fn enter(host: *const HostV1) -> Entered {
        Entered(CURRENT.replace(host))
    }
}

impl Drop for Entered {
    fn drop(&mut self) {
        CURRENT.set(self.0);
    }
}

/// Runs `f` with the current call's host table; `None` outside a call (a
/// tool's unit tests, a thread the tool spawned).
fn with_host<R>(f: impl FnOnce(&HostV1) -> R) -> Option<R> {
    let host = CURRENT.get();
    if host.is_null() {
        return None;
    }
    // SAFETY: `CURRENT` is non-null only while `invoke` runs on this
    // thread, and the host keeps the table valid until `invoke` returns.
    Some(f(unsafe { &*host }))
}

/// Copies and frees a buffer the host returned.
fn take_host_buf(host: &HostV1, buf: Buf) -> Vec<u8> {
    // SAFETY: the host returned this Buf from one of its callbacks, so it
    // points to `len` valid bytes until we give it back with `free`.
    let bytes = unsafe { buf.as_slice() }.to_vec();
    // SAFETY: the Buf came from this host's callback and is freed once.
    unsafe { (host.free)(buf) };
    bytes
}

pub(crate) fn log(level: Level, message: &str) {
    let level = match level {
        Level::Trace => LOG_TRACE,
        Level::Debug => LOG_DEBUG,
        Level::Info => LOG_INFO,
        Level::Warn => LOG_WARN,
        Level::Error => LOG_ERROR,
    };
    with_host(|host| {
        // SAFETY: the host's callback with its own ctx and a borrowed string.
        unsafe { (host.log)(host.ctx, level, message.as_ptr(), message.len()) }
    });
}

pub(crate) fn progress(message: &str) {
    with_host(|host| {
        // SAFETY: the host's callback with its own ctx and a borrowed string.
        unsafe { (host.progress)(host.ctx, message.as_ptr(), message.len()) }
    });
}

pub(crate) fn is_cancelled() -> bool {
    // SAFETY: the host's callback with its own ctx.
    with_host(|host| unsafe { (host.is_cancelled)(host.ctx) }).unwrap_or(false)
}

/// Reads through the host; `None` outside a call.
pub(crate) fn read_file(path: &str) -> Option<Result<Vec<u8>, ReadError>> {
    with_host(|host| {
        // SAFETY: the host's callback with its own ctx and a borrowed string.
        let buf = unsafe { (host.read_file)(host.ctx, path.as_ptr(), path.len()) };
        let bytes = take_host_buf(host, buf);
        match serde_json::from_slice::<wire::ReadResponse>(&bytes) {
            Ok(wire::ReadResponse::Ok(data)) => base64::decode(&data)
                .ok_or_else(|| ReadError::Failed("the host sent invalid base64".to_owned())),
            Ok(wire::ReadResponse::NotFound) => Err(ReadError::NotFound),
            Ok(wire::ReadResponse::Denied(message)) => Err(ReadError::Denied(message)),
            Ok(wire::ReadResponse::Failed(message)) => Err(ReadError::Failed(message)),
            Err(err) => Err(ReadError::Failed(format!(
                "the host's read_file answer is not valid: {err}"
            ))),
        }
    })
}

pub(crate) fn exec(request: &ExecRequest) -> Result<ExecOutput, ToolError> {
    let json = serde_json::to_vec(&wire::ExecRequest::from(request))
        .map_err(|err| ToolError::Failed(format!("cannot encode the command: {err}")))?;
    with_host(|host| {
        // SAFETY: the host's callback with its own ctx and borrowed bytes.
        let buf = unsafe { (host.exec)(host.ctx, json.as_ptr(), json.len()) };
        let bytes = take_host_buf(host, buf);
        match serde_json::from_slice::<wire::ExecResponse>(&bytes) {
            Ok(wire::ExecResponse::Ok(output)) => Ok(output.into()),
            Ok(wire::ExecResponse::Error(err)) => Err(tool_error(err)),
            Err(err) => Err(ToolError::Failed(format!(
                "the host's exec answer is not valid: {err}"
            ))),
        }
    })
    .unwrap_or_else(|| {
        Err(ToolError::Denied(
            "no host to run the command: exec works only inside a call, on the call's thread"
                .to_owned(),
        ))
    })
}

fn tool_error(err: wire::Error) -> ToolError {
    match err {
        wire::Error::InvalidArgs(message) => ToolError::InvalidArgs(message),
        wire::Error::Denied(message) => ToolError::Denied(message),
        wire::Error::Cancelled => ToolError::Cancelled,
        wire::Error::Failed(message) | wire::Error::Panicked(message) => ToolError::Failed(message),
    }
}

impl ToolError {
    fn into_wire(self) -> wire::Error {
        match self {
            ToolError::InvalidArgs(message) => wire::Error::InvalidArgs(message),
            ToolError::Denied(message) => wire::Error::Denied(message),
            ToolError::Cancelled => wire::Error::Cancelled,
            ToolError::Failed(message) => wire::Error::Failed(message),
        }
    }
}

impl ToolSpec {
    fn into_native(self, name: &str) -> wire::ToolSpec {
        wire::ToolSpec {
            name: name.to_owned(),
            description: self.description,
            input_schema: self.input_schema,
            freeform_grammar: self.freeform_grammar,
            requires: self.requires,
            display: wire::Display {
                command: self.command_pointer,
                freeform_argument: self.freeform_argument,
            },
        }
    }
}

impl Output {
    fn into_native(self) -> wire::Output {
        use crate::bindings::wharf::plugin::types::Content as WitContent;
        let content = self
            .content
            .into_iter()
            .map(|content| match content {
                WitContent::Text(text) => wire::Content::Text { text },
                WitContent::Json(json) => wire::Content::Json { json },
                WitContent::Image(image) => wire::Content::Image {
                    mime_type: image.mime_type,
                    data: base64::encode(&image.data),
                },
            })
            .collect();
        let changes = self
            .changes
            .into_iter()
            .map(wire::FileChange::from)
            .collect();
        wire::Output {
            content,
            is_error: self.is_error,
            changes,
            command: self.command.map(wire::Command::from),
        }
    }
}

/// The message of a caught panic.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(message) = payload.downcast_ref::<&str>() {
        (*message).to_owned()
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message.clone()
    } else {
        "(a panic without a message)".to_owned()
    }
}

/// `value` as a JSON [`Buf`]; JSON of our own types cannot fail to
/// serialize, but if it did the host gets a document saying so.
fn json_buf(value: &impl serde::Serialize) -> Buf {
    let bytes = serde_json::to_vec(value).unwrap_or_else(|err| {
        format!(r#"{{"error":{{"kind":"failed","message":"cannot encode the answer: {err}"}}}}"#)
            .into_bytes()
    });
    Buf::from_vec(bytes)
}

/// What [`native_plugin!`](crate::native_plugin) expands to needs; not
/// part of the API.
#[doc(hidden)]
pub mod __private {
    use super::*;

    /// One tool of a plugin, as function pointers.
    pub struct ToolEntry {
        pub name: &'static str,
        pub spec: fn() -> ToolSpec,
        pub call: fn(&Context, Args) -> Result<Output, ToolError>,
        pub end_session: fn(&str),
    }

    impl ToolEntry {
        pub const fn of<T: crate::Tool>() -> ToolEntry {
            ToolEntry {
                name: T::NAME,
                spec: T::spec,
                call: T::call,
                end_session: T::end_session,
            }
        }
    }

    /// The tools a `native_plugin!` lists.
    pub trait ToolSet {
        const TOOLS: &'static [ToolEntry];
    }

    /// The table for the tools of `T`.
    pub const fn table<T: ToolSet>() -> PluginV1 {
        PluginV1 {
            abi_version: ABI_VERSION,
            describe: describe::<T>,
            invoke: invoke::<T>,
            end_session: end_session::<T>,
            free,
        }
    }

    unsafe extern "C" fn describe<T: ToolSet>() -> Buf {
        let described = catch_unwind(|| {
            T::TOOLS
                .iter()
                .map(|tool| (tool.spec)().into_native(tool.name))
                .collect::<Vec<_>>()
        });
        let described = match described {
            Ok(tools) => wire::Described::Tools(tools),
            Err(payload) => {
                wire::Described::Error(format!("the plugin panicked: {}", panic_message(&*payload)))
            }
        };
        json_buf(&described)
    }

    /// # Safety
    ///
    /// `host` is null or valid until this returns; `request` points to
    /// `len` bytes.
    unsafe extern "C" fn invoke<T: ToolSet>(
        host: *const HostV1,
        request: *const u8,
        len: usize,
    ) -> Buf {
        let request = Buf {
            ptr: request.cast_mut(),
            len,
            cap: len,
        };
        // SAFETY: the host passes `len` readable bytes, borrowed for this
        // call; the Buf is only read, never freed.
        let request = unsafe { request.as_slice() };
        let response =
            catch_unwind(AssertUnwindSafe(|| run::<T>(host, request))).unwrap_or_else(|payload| {
                wire::Response::Error(wire::Error::Panicked(panic_message(&*payload)))
            });
        json_buf(&response)
    }

    fn run<T: ToolSet>(host: *const HostV1, request: &[u8]) -> wire::Response {
        let request: wire::Request = match serde_json::from_slice(request) {
            Ok(request) => request,
            Err(err) => {
                return wire::Response::Error(wire::Error::Failed(format!(
                    "the host's request is not valid: {err}"
                )));
            }
        };
        let Some(tool) = T::TOOLS.iter().find(|tool| tool.name == request.tool) else {
            return wire::Response::Error(wire::Error::InvalidArgs(format!(
                "this plugin has no tool named `{}`",
                request.tool
            )));
        };
        let cx = Context::from_native(request.context);
        let _entered = Entered::enter(host);
        match (tool.call)(&cx, Args::new(request.args)) {
            Ok(output) => wire::Response::Ok(output.into_native()),
            Err(err) => wire::Response::Error(err.into_wire()),
        }
    }

    /// # Safety
    ///
    /// `session_id` points to `len` bytes.
    unsafe extern "C" fn end_session<T: ToolSet>(session_id: *const u8, len: usize) {
        let session_id = Buf {
            ptr: session_id.cast_mut(),
            len,
            cap: len,
        };
        // SAFETY: the host passes `len` readable bytes for this call.
        let session_id = String::from_utf8_lossy(unsafe { session_id.as_slice() });
        for tool in T::TOOLS {
            // A tool that panics while cleaning up must not stop the others
            // from cleaning up, nor unwind into the host.
            let _ = catch_unwind(|| (tool.end_session)(&session_id));
        }
    }

    /// # Safety
    ///
    /// `buf` was returned by this plugin's `describe` or `invoke`.
    unsafe extern "C" fn free(buf: Buf) {
        // SAFETY: the host gives back a Buf this build made with `from_vec`.
        unsafe { buf.free() }
    }
}

/// Exports the listed [`Tool`](crate::Tool) types as a native plugin.
///
/// ```ignore
/// // A `.so` (crate-type = ["cdylib"]): exports `wharf_plugin_v1`.
/// wharf_plugin_api::native_plugin!(Search, Count);
///
/// // A builtin linked into wharf: no exported symbol (two builtins would
/// // clash); wharf gets the table from `wharf_native_plugin()`.
/// wharf_plugin_api::native_plugin!(builtin: Search, Count);
/// ```
///
/// Both forms define `pub fn wharf_native_plugin() -> &'static PluginV1`
/// in the module where they are used (the crate root, by convention).
#[macro_export]
macro_rules! native_plugin {
    (builtin: $($tool:ty),+ $(,)?) => {
        #[doc(hidden)]
        pub struct __WharfNativeTools;

        impl $crate::native::__private::ToolSet for __WharfNativeTools {
            const TOOLS: &'static [$crate::native::__private::ToolEntry] =
                &[$($crate::native::__private::ToolEntry::of::<$tool>()),+];
        }

        /// This plugin's native ABI table.
        pub fn wharf_native_plugin() -> &'static $crate::native::PluginV1 {
            static TABLE: $crate::native::PluginV1 =
                $crate::native::__private::table::<__WharfNativeTools>();
            &TABLE
        }
    };
    ($($tool:ty),+ $(,)?) => {
        $crate::native_plugin!(builtin: $($tool),+);

        /// The entry point wharf looks up in the library.
        #[unsafe(no_mangle)]
        pub extern "C" fn wharf_plugin_v1() -> *const $crate::native::PluginV1 {
            wharf_native_plugin()
        }
    };
}
