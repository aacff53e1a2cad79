//! Native plugins: shared libraries, and builtins linked into the binary,
//! that speak the C ABI of `wharf_plugin_api::native` (version 1).
//!
//! [`NativePlugin::load`] opens a library, finds its `wharf_plugin_v1`
//! symbol, checks the table's ABI version before reading anything else and
//! asks it for its tools; [`NativePlugin::builtin`] does the same with a
//! table linked into the binary. A call ([`Plugin::invoke`]) sends the
//! request as JSON with a host table whose callbacks (`call.rs`) see only
//! that call's state: its grant, its deadline, its logs.
//!
//! A native plugin runs in wharf's process with wharf's privileges: the
//! grant binds only what the host does for it (reads, commands, file
//! changes). Panics are caught on the plugin's side of the boundary and
//! come back as errors; the deadline cannot preempt native code, so it is
//! cooperative (`is_cancelled`).

mod call;
#[cfg(test)]
mod tests;

use std::collections::BTreeSet;
use std::fs::File;
use std::io::Write as _;
use std::os::fd::{AsRawFd as _, FromRawFd as _, OwnedFd};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use libloading::Library;
use wharf_plugin_api::native::{self as abi, Buf, ENTRY_SYMBOL, PluginV1, wire};

pub use wharf_plugin_api::native::ABI_VERSION;

use crate::ids::SessionId;
use crate::plugin::grant::Grant;
use crate::plugin::{
    Args, CallContext, CommandRun, Content, Display, FileChange, Plugin, ToolError, ToolOutput,
    ToolSpec,
};

/// Why a native plugin could not be loaded. `origin` names the library
/// file, or the builtin.
#[derive(Debug, thiserror::Error)]
pub enum NativeError {
    #[error("{origin}: cannot load it as a shared library: {reason}")]
    Open { origin: String, reason: String },
    #[error(
        "{origin}: not a wharf native plugin: it exports no `{ENTRY_SYMBOL}` symbol \
         (list the tools with `wharf_plugin_api::native_plugin!` and build a cdylib)"
    )]
    NoEntry { origin: String },
    #[error("{origin}: `{ENTRY_SYMBOL}` returned no table")]
    NullTable { origin: String },
    #[error(
        "{origin}: implements native plugin ABI version {found}, but this wharf supports version \
         {ABI_VERSION} (rebuild the plugin against a matching wharf-plugin-api)"
    )]
    AbiVersion { origin: String, found: u32 },
    #[error("{origin}: `describe` failed: {reason}")]
    Describe { origin: String, reason: String },
}

/// A native plugin, loaded from a library or linked in.
pub struct NativePlugin {
    name: String,
    /// Copied out of the library; its function pointers are valid while
    /// `library` is loaded.
    table: PluginV1,
    /// `None` for builtins. Every call holds a clone, so that the code it
    /// runs stays mapped until the call returns.
    library: Option<Arc<Library>>,
    tools: Vec<ToolSpec>,
}

impl std::fmt::Debug for NativePlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NativePlugin")
            .field("name", &self.name)
            .field("builtin", &self.library.is_none())
            .field("tools", &self.tools.len())
            .finish_non_exhaustive()
    }
}

/// The type of the entry symbol.
type Entry = unsafe extern "C" fn() -> *const PluginV1;

impl NativePlugin {
    /// Loads the library at `path` as the plugin `name`.
    ///
    /// Loading runs the library's initializers: only load a library whose
    /// sha256 the user pinned and agreed to run. Wharf itself loads
    /// installed plugins with [`NativePlugin::load_bytes`].
    pub fn load(name: &str, path: &Path) -> Result<NativePlugin, NativeError> {
        NativePlugin::open(name, path.display().to_string(), path)
    }

    /// Loads the library whose contents are `bytes`, read from `origin`, as
    /// the plugin `name`. The bytes are copied into a sealed anonymous
    /// memory file and that file is opened: what runs is exactly what the
    /// caller checked (the registry: plugins.lock's pin; `wharf plugin
    /// add`: the user's consent), whatever happens to `origin` meanwhile.
    pub fn load_bytes(
        name: &str,
        origin: &Path,
        bytes: &[u8],
    ) -> Result<NativePlugin, NativeError> {
        let shown = origin.display().to_string();
        let file = sealed_memfd(bytes).map_err(|err| NativeError::Open {
            origin: shown.clone(),
            reason: format!("cannot copy it into memory: {err}"),
        })?;
        let path = format!("/proc/self/fd/{}", file.as_raw_fd());
        // The mapping the loader makes keeps the contents once `file` is
        // closed.
        NativePlugin::open(name, shown, Path::new(&path))
    }

    fn open(name: &str, origin: String, path: &Path) -> Result<NativePlugin, NativeError> {
        // SAFETY: opening a library runs its initializers with wharf's
        // privileges; that is the trust a user gives by installing a native
        // plugin (see the module docs): `wharf plugin add` asks for consent
        // before it opens one, and the registry opens only libraries that
        // plugins.lock records, after checking their sha256 against it.
        let library = unsafe { Library::new(path) }.map_err(|err| NativeError::Open {
            origin: origin.clone(),
            reason: err.to_string(),
        })?;
        let symbol = format!("{ENTRY_SYMBOL}\0");
        // SAFETY: `Entry` is the type the ABI gives the symbol; a library
        // exporting something else under this name breaks the ABI, which
        // the version check below catches for tables with a version field.
        let entry: Entry = match unsafe { library.get::<Entry>(symbol.as_bytes()) } {
            Ok(entry) => *entry,
            Err(_) => return Err(NativeError::NoEntry { origin }),
        };
        // SAFETY: the entry point takes nothing and returns a pointer to a
        // static table; `library` stays loaded while it runs.
        let table = unsafe { entry() };
        // SAFETY: `table` came from this library's entry point, and the
        // plugin keeps `library` loaded for as long as it lives.
        unsafe { NativePlugin::from_table(name, origin, table, Some(Arc::new(library))) }
    }

    /// A plugin linked into the binary (`native_plugin!(builtin: ...)`):
    /// the same checks as a library, without loading one.
    pub fn builtin(name: &str, table: &'static PluginV1) -> Result<NativePlugin, NativeError> {
        let origin = format!("builtin plugin `{name}`");
        // SAFETY: a static table lives, with its code, as long as the
        // process.
        unsafe { NativePlugin::from_table(name, origin, table, None) }
    }

    /// Checks the ABI version, copies the table and asks for the tools.
    ///
    /// # Safety
    ///
    /// `table` is null or points to a table whose first field is the ABI
    /// version (true of every version) and, when that is 1, to a
    /// [`PluginV1`] whose functions stay valid while `library` is loaded
    /// (forever when `None`).
    unsafe fn from_table(
        name: &str,
        origin: String,
        table: *const PluginV1,
        library: Option<Arc<Library>>,
    ) -> Result<NativePlugin, NativeError> {
        if table.is_null() {
            return Err(NativeError::NullTable { origin });
        }
        // SAFETY: non-null, and every ABI version starts with its `u32`
        // version; nothing else is read before it is checked.
        let found = unsafe { std::ptr::addr_of!((*table).abi_version).read() };
        if found != ABI_VERSION {
            return Err(NativeError::AbiVersion { origin, found });
        }
        // SAFETY: a version-1 table is a `PluginV1` (the caller's promise).
        let table = unsafe { *table };
        let mut plugin = NativePlugin {
            name: name.to_owned(),
            table,
            library,
            tools: Vec::new(),
        };
        plugin.tools = plugin
            .describe()
            .map_err(|reason| NativeError::Describe { origin, reason })?;
        Ok(plugin)
    }

    /// Whether the plugin was linked into the binary.
    pub fn is_builtin(&self) -> bool {
        self.library.is_none()
    }

    fn describe(&self) -> Result<Vec<ToolSpec>, String> {
        // SAFETY: a function of the plugin's version-1 table, with the
        // library loaded (`self` holds it).
        let buf = unsafe { (self.table.describe)() };
        let described: wire::Described = serde_json::from_slice(&self.take(buf))
            .map_err(|err| format!("its answer is not the JSON of ABI {ABI_VERSION}: {err}"))?;
        let specs = match described {
            wire::Described::Tools(specs) => specs,
            wire::Described::Error(message) => return Err(message),
        };
        let mut names = BTreeSet::new();
        for spec in &specs {
            if !names.insert(spec.name.as_str()) {
                return Err(format!("it lists the tool `{}` twice", spec.name));
            }
        }
        Ok(specs
            .into_iter()
            .map(|spec| ToolSpec {
                name: spec.name,
                description: spec.description,
                input_schema: spec.input_schema,
                freeform_grammar: spec.freeform_grammar,
                requires: spec.requires,
                display: Display {
                    command: spec.display.command,
                    freeform_argument: spec.display.freeform_argument,
                    label: None,
                },
            })
            .collect())
    }

    /// Copies a buffer the plugin returned, and gives it back to be freed.
    fn take(&self, buf: Buf) -> Vec<u8> {
        // SAFETY: the plugin returned this Buf from `describe` or `invoke`,
        // so it points to `len` bytes it owns until `free`.
        let bytes = unsafe { buf.as_slice() }.to_vec();
        // SAFETY: a Buf of this plugin's, freed once, by its own `free`.
        unsafe { (self.table.free)(buf) };
        bytes
    }
}

impl Plugin for NativePlugin {
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
        // Whatever happens to the plugin's owner meanwhile, the library
        // stays loaded until this call has returned.
        let _library = self.library.clone();
        let sandbox = serde_json::to_value(&*cx.sandbox).map_err(|err| {
            ToolError::Failed(format!("cannot describe the sandbox to the plugin: {err}"))
        })?;
        let request = wire::Request {
            tool: tool.to_owned(),
            args: args.text.to_owned(),
            context: wire::RequestContext {
                call_id: cx.call_id.to_string(),
                session_id: cx.session_id.to_string(),
                cwd: cx.cwd.to_string_lossy().into_owned(),
                sandbox,
            },
        };
        let request = serde_json::to_vec(&request)
            .map_err(|err| ToolError::Failed(format!("cannot encode the request: {err}")))?;
        let deadline = Instant::now() + grant.timeout;
        let state = call::CallState::new(cx, grant, deadline);
        let host = state.host_table();
        // SAFETY: a function of the plugin's version-1 table, with the
        // library loaded; `host` and the state its `ctx` points to outlive
        // the call, and `request` is `len` readable bytes.
        let buf = unsafe { (self.table.invoke)(&host, request.as_ptr(), request.len()) };
        let response: wire::Response = serde_json::from_slice(&self.take(buf)).map_err(|err| {
            ToolError::Crashed(format!(
                "its answer is not the JSON of ABI {ABI_VERSION}: {err}"
            ))
        })?;
        match response {
            wire::Response::Ok(output) => {
                let mut output = tool_output(output)?;
                output.logs = state.into_logs();
                Ok(output)
            }
            wire::Response::Error(err) => Err(tool_error(err, deadline, grant)),
        }
    }

    fn end_session(&self, session_id: &SessionId) {
        let session_id = session_id.as_str();
        let _library = self.library.clone();
        // SAFETY: a function of the plugin's version-1 table, with the
        // library loaded, given `len` readable bytes.
        unsafe { (self.table.end_session)(session_id.as_ptr(), session_id.len()) }
    }
}

/// An anonymous memory file holding `bytes`, sealed against any change.
fn sealed_memfd(bytes: &[u8]) -> std::io::Result<File> {
    // SAFETY: a valid NUL-terminated name and flags; the call only creates
    // a file descriptor.
    let fd = unsafe {
        libc::memfd_create(
            c"wharf-native-plugin".as_ptr(),
            libc::MFD_CLOEXEC | libc::MFD_ALLOW_SEALING,
        )
    };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `fd` was just returned by memfd_create and is owned by
    // nothing else.
    let mut file = File::from(unsafe { OwnedFd::from_raw_fd(fd) });
    file.write_all(bytes)?;
    let seals = libc::F_SEAL_SEAL | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE;
    // SAFETY: fcntl on a descriptor `file` owns, with an integer argument.
    if unsafe { libc::fcntl(file.as_raw_fd(), libc::F_ADD_SEALS, seals) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(file)
}

fn tool_output(output: wire::Output) -> Result<ToolOutput, ToolError> {
    let content = output
        .content
        .into_iter()
        .map(|content| match content {
            wire::Content::Text { text } => Ok(Content::Text(text)),
            wire::Content::Json { json } => Ok(Content::Json(json)),
            wire::Content::Image { mime_type, data } => match abi::base64_decode(&data) {
                Some(data) => Ok(Content::Image { mime_type, data }),
                None => Err(ToolError::Crashed(format!(
                    "its {mime_type} image is not valid base64"
                ))),
            },
        })
        .collect::<Result<Vec<_>, _>>()?;
    let changes = output.changes.into_iter().map(FileChange::from).collect();
    Ok(ToolOutput {
        content,
        is_error: output.is_error,
        changes,
        logs: Vec::new(),
        command: output.command.map(CommandRun::from),
    })
}

fn tool_error(err: wire::Error, deadline: Instant, grant: &Grant) -> ToolError {
    match err {
        wire::Error::InvalidArgs(message) => ToolError::InvalidArgs(message),
        wire::Error::Denied(message) => ToolError::Denied(message),
        // A plugin that stops because `is_cancelled` said its time was up
        // timed out, as far as the caller is concerned.
        wire::Error::Cancelled if Instant::now() >= deadline => {
            ToolError::Timeout(grant.timeout.as_millis())
        }
        wire::Error::Cancelled => ToolError::Cancelled,
        wire::Error::Failed(message) => ToolError::Failed(message),
        wire::Error::Panicked(message) => ToolError::Crashed(format!("it panicked: {message}")),
    }
}
