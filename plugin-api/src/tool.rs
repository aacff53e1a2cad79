//! The [`Tool`] trait and what a call receives.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;

use crate::Output;
use crate::bindings::wharf::plugin::types as wit;

/// One tool. Plugins list their tools in [`plugin!`](crate::plugin).
///
/// There is no `self`: every call runs in a fresh instance, so a tool keeps
/// no state between calls.
pub trait Tool {
    /// The name models call the tool by: `[a-zA-Z0-9_-]`, at most 64
    /// characters, unique within the plugin.
    const NAME: &'static str;

    /// What the tool does and what it takes.
    fn spec() -> ToolSpec;

    /// Runs the tool. The host has already checked `args` against
    /// [`ToolSpec::input_schema`].
    fn call(cx: &Context, args: Args) -> Result<Output, ToolError>;

    /// A session ended. Only native plugins live across calls, so only
    /// they may keep per-session state (in statics); this is where they
    /// drop it. WASM plugins are never called here.
    fn end_session(_session_id: &str) {}
}

/// The description of a tool that models see.
#[derive(Debug, Clone)]
pub struct ToolSpec {
    pub(crate) description: String,
    pub(crate) input_schema: serde_json::Value,
    pub(crate) freeform_grammar: Option<String>,
    pub(crate) requires: Vec<String>,
    #[cfg_attr(not(feature = "native"), allow(dead_code))]
    pub(crate) command_pointer: Option<String>,
    #[cfg_attr(not(feature = "native"), allow(dead_code))]
    pub(crate) freeform_argument: Option<String>,
}

impl ToolSpec {
    /// A tool taking an empty object; set the arguments with
    /// [`ToolSpec::input_schema`]. Start the description with a short
    /// one-line summary: listings such as `wharf tool list` show only the
    /// first line.
    pub fn new(description: impl Into<String>) -> ToolSpec {
        ToolSpec {
            description: description.into(),
            input_schema: serde_json::json!({ "type": "object", "properties": {} }),
            freeform_grammar: None,
            requires: Vec::new(),
            command_pointer: None,
            freeform_argument: None,
        }
    }

    /// The JSON Schema of the arguments object.
    pub fn input_schema(mut self, schema: serde_json::Value) -> ToolSpec {
        self.input_schema = schema;
        self
    }

    /// The input schema of `T`, generated from its
    /// `#[derive(schemars::JsonSchema)]` (feature `schemars`), so that the
    /// type the tool parses its arguments into is also what models are
    /// told; doc comments become descriptions. Subschemas are inlined, with
    /// no `$schema` or `$defs`, as model APIs expect.
    ///
    /// ```
    /// # #[cfg(feature = "schemars")] {
    /// #[derive(serde::Deserialize, schemars::JsonSchema)]
    /// struct Input {
    ///     /// Relative to the working directory.
    ///     path: String,
    ///     max_lines: Option<u32>,
    /// }
    ///
    /// let spec = wharf_plugin_api::ToolSpec::new("Counts lines.").input_schema_of::<Input>();
    /// # }
    /// ```
    #[cfg(feature = "schemars")]
    pub fn input_schema_of<T: schemars::JsonSchema>(self) -> ToolSpec {
        let generator = schemars::generate::SchemaSettings::draft2020_12()
            .with(|settings| {
                settings.meta_schema = None;
                settings.inline_subschemas = true;
            })
            .into_generator();
        let mut schema = generator.into_root_schema_for::<T>().to_value();
        // The title is the Rust type's name, which tells a model nothing.
        if let Some(object) = schema.as_object_mut() {
            object.remove("title");
        }
        self.input_schema(schema)
    }

    /// A Lark grammar: models that support it may call the tool with free
    /// text, which arrives as `{"input": "<text>"}` (or in the argument
    /// [`ToolSpec::freeform_argument`] names).
    pub fn freeform_grammar(mut self, grammar: impl Into<String>) -> ToolSpec {
        self.freeform_grammar = Some(grammar.into());
        self.freeform_argument
            .get_or_insert_with(|| "input".to_owned());
        self
    }

    /// The argument a freeform call's text goes into: a string property
    /// of the input schema. WASM tools (`wharf:plugin@0.1.0`) cannot carry
    /// this hint: their text always arrives as `input`.
    pub fn freeform_argument(mut self, argument: impl Into<String>) -> ToolSpec {
        self.freeform_argument = Some(argument.into());
        self
    }

    /// The argument holding the command line the call runs, as a JSON
    /// pointer (`"/cmd"`): a string, or an array of words. The host shows
    /// it for the call instead of the tool's name and arguments. Native
    /// tools only for now (`wharf:plugin@0.1.0` cannot carry the hint).
    pub fn shows_command(mut self, pointer: impl Into<String>) -> ToolSpec {
        self.command_pointer = Some(pointer.into());
        self
    }

    /// A model capability the tool needs (e.g. `"image_input"`); models
    /// without it are not offered the tool.
    pub fn requires(mut self, capability: impl Into<String>) -> ToolSpec {
        self.requires.push(capability.into());
        self
    }

    /// The display hints stay behind: the 0.1.0 record cannot grow.
    pub(crate) fn into_wit(self, name: &str) -> wit::ToolSpec {
        wit::ToolSpec {
            name: name.to_owned(),
            description: self.description,
            input_schema: self.input_schema.to_string(),
            freeform_grammar: self.freeform_grammar,
            requires: self.requires,
        }
    }
}

/// Where a call runs.
#[derive(Debug, Clone)]
pub struct Context {
    call_id: String,
    session_id: String,
    cwd: PathBuf,
    /// What a native host says the call may touch; null elsewhere.
    #[cfg_attr(not(feature = "native"), allow(dead_code))]
    sandbox: serde_json::Value,
}

impl Context {
    /// A context for calling a tool directly, in its own unit tests.
    pub fn new(cwd: impl Into<PathBuf>) -> Context {
        Context {
            call_id: "test".to_owned(),
            session_id: "test".to_owned(),
            cwd: cwd.into(),
            sandbox: serde_json::Value::Null,
        }
    }

    pub(crate) fn from_wit(cx: wit::CallContext) -> Context {
        Context {
            call_id: cx.call_id,
            session_id: cx.session_id,
            cwd: PathBuf::from(cx.cwd),
            sandbox: serde_json::Value::Null,
        }
    }

    #[cfg(feature = "native")]
    pub(crate) fn from_native(cx: crate::native::wire::RequestContext) -> Context {
        Context {
            call_id: cx.call_id,
            session_id: cx.session_id,
            cwd: PathBuf::from(cx.cwd),
            sandbox: cx.sandbox,
        }
    }

    /// A context for a tool's unit tests with a `sandbox` value, as a
    /// native host would pass it.
    #[cfg(feature = "native")]
    pub fn with_sandbox(mut self, sandbox: serde_json::Value) -> Context {
        self.sandbox = sandbox;
        self
    }

    /// What the host says this call may touch, as it passed it (wharf
    /// passes the call's grant: `read_roots`, `write_roots`, `exec`,
    /// `network`, `timeout_ms`, …; see the README). `null` in a tool's own
    /// tests and in WASM.
    #[cfg(feature = "native")]
    pub fn sandbox_json(&self) -> &serde_json::Value {
        &self.sandbox
    }

    /// Runs a command through the host, which runs it in the process
    /// sandbox under the session's policy, in the call's working directory
    /// unless the request names another. Only if the manifest asks for
    /// `exec = true`: otherwise, or when the kernel cannot enforce the
    /// sandbox, [`ToolError::Denied`] says why; a command that cannot start
    /// (no such program, a bad directory or variable) is
    /// [`ToolError::Failed`] (`"rg: command not found"`). A command that
    /// ran and failed is an [`ExecOutput`](crate::ExecOutput) with its exit
    /// code. Outside wharf (a tool's own unit tests) nothing runs.
    pub fn exec(&self, request: &crate::ExecRequest) -> Result<crate::ExecOutput, ToolError> {
        #[cfg(target_arch = "wasm32")]
        {
            crate::exec::exec(request)
        }
        #[cfg(all(feature = "native", not(target_arch = "wasm32")))]
        {
            crate::native::exec(request)
        }
        #[cfg(not(any(target_arch = "wasm32", feature = "native")))]
        {
            let _ = request;
            Err(ToolError::Denied(
                "commands run only inside wharf, not in a tool's own tests".to_owned(),
            ))
        }
    }

    /// Whether the host wants the call to stop (cancelled, or past its
    /// deadline). Native code cannot be interrupted: a long-running native
    /// tool should check this now and then and return
    /// [`ToolError::Cancelled`]. Always false outside a call.
    #[cfg(feature = "native")]
    pub fn is_cancelled(&self) -> bool {
        crate::native::is_cancelled()
    }

    pub fn call_id(&self) -> &str {
        &self.call_id
    }

    pub fn session_id(&self) -> &str {
        &self.session_id
    }

    /// The session's working directory (absolute). Relative paths from a
    /// model mean paths below it; [`Context::resolve`] joins them.
    pub fn cwd(&self) -> &Path {
        &self.cwd
    }

    /// `path` if absolute, else `cwd/path`.
    pub fn resolve(&self, path: impl AsRef<Path>) -> PathBuf {
        self.cwd.join(path)
    }

    /// Reads a whole file from the call's read grant (a relative `path` is
    /// below [`Context::cwd`]). One host call where `std::fs::read` makes
    /// several WASI calls, so prefer it for whole files. Anything but a
    /// regular file is refused, so the read never blocks.
    ///
    /// In a native plugin the host reads, with the same rules. Outside a
    /// call (a tool's own unit tests) it reads with `std::fs`.
    pub fn read_file(&self, path: impl AsRef<Path>) -> Result<Vec<u8>, ReadError> {
        let path = self.resolve(path);
        #[cfg(target_arch = "wasm32")]
        {
            use crate::bindings::wharf::plugin::host;
            host::read_file(&path.to_string_lossy()).map_err(|err| match err {
                host::ReadError::NotFound => ReadError::NotFound,
                host::ReadError::Denied(message) => ReadError::Denied(message),
                host::ReadError::Failed(message) => ReadError::Failed(message),
            })
        }
        #[cfg(not(target_arch = "wasm32"))]
        {
            // Inside a native call the host reads, beneath the grant.
            #[cfg(feature = "native")]
            if let Some(read) = crate::native::read_file(&path.to_string_lossy()) {
                return read;
            }
            std::fs::read(&path).map_err(|err| match err.kind() {
                std::io::ErrorKind::NotFound => ReadError::NotFound,
                std::io::ErrorKind::PermissionDenied => {
                    ReadError::Denied(format!("{}: {err}", path.display()))
                }
                _ => ReadError::Failed(format!("{}: {err}", path.display())),
            })
        }
    }

    /// [`Context::read_file`] of UTF-8 text.
    pub fn read_to_string(&self, path: impl AsRef<Path>) -> Result<String, ReadError> {
        let path = path.as_ref();
        String::from_utf8(self.read_file(path)?).map_err(|_| {
            ReadError::Failed(format!(
                "{} is not UTF-8 text",
                self.resolve(path).display()
            ))
        })
    }
}

/// Why [`Context::read_file`] failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadError {
    NotFound,
    /// Outside the call's read grant (also through `..` or a symlink).
    Denied(String),
    /// Not a regular file, too large, not UTF-8, or an I/O error.
    Failed(String),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::NotFound => f.write_str("no such file"),
            ReadError::Denied(message) | ReadError::Failed(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for ReadError {}

impl From<ReadError> for ToolError {
    fn from(err: ReadError) -> ToolError {
        match err {
            ReadError::Denied(message) => ToolError::Denied(message),
            other => ToolError::Failed(other.to_string()),
        }
    }
}

/// The JSON arguments of a call.
#[derive(Debug, Clone)]
pub struct Args {
    json: String,
}

impl Args {
    /// Arguments from JSON text (for tests of a tool).
    pub fn new(json: impl Into<String>) -> Args {
        Args { json: json.into() }
    }

    /// Deserializes the arguments; a mismatch is an
    /// [`ToolError::InvalidArgs`] the model can read.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, ToolError> {
        serde_json::from_str(&self.json)
            .map_err(|err| ToolError::InvalidArgs(format!("invalid arguments: {err}")))
    }

    /// The JSON text as the model sent it.
    pub fn as_str(&self) -> &str {
        &self.json
    }
}

/// A call that could not run. (A tool that ran and failed returns
/// [`Output::error`] instead, which the model reads like any output.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ToolError {
    /// The arguments are wrong.
    InvalidArgs(String),
    /// The call would need access the grant does not give.
    Denied(String),
    Cancelled,
    Failed(String),
}

impl ToolError {
    pub(crate) fn into_wit(self) -> wit::ToolError {
        match self {
            ToolError::InvalidArgs(message) => wit::ToolError::InvalidArgs(message),
            ToolError::Denied(message) => wit::ToolError::Denied(message),
            ToolError::Cancelled => wit::ToolError::Cancelled,
            ToolError::Failed(message) => wit::ToolError::Failed(message),
        }
    }
}

impl fmt::Display for ToolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ToolError::InvalidArgs(message) => write!(f, "invalid arguments: {message}"),
            ToolError::Denied(message) => write!(f, "denied: {message}"),
            ToolError::Cancelled => f.write_str("cancelled"),
            ToolError::Failed(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for ToolError {}
