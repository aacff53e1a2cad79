//! Plugins as the host sees them: the [`Plugin`] trait every kind
//! implements (WASM, native and builtin today; MCP later), the types a call
//! takes and produces, manifests and grants.

mod call_log;
pub mod elicitation;
pub mod grant;
pub mod manifest;

pub(crate) use call_log::CallLog;

use std::fmt;

use crate::ids::{CallId, SessionId};
use grant::Grant;

/// A tool as offered to models.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ToolSpec {
    pub name: String,
    pub description: String,
    /// The JSON Schema of the arguments object.
    pub input_schema: serde_json::Value,
    /// A Lark grammar for free-form calls.
    pub freeform_grammar: Option<String>,
    /// Model capabilities the tool needs, e.g. `image_input`.
    pub requires: Vec<String>,
    /// How to show the tool's calls and where freeform text goes.
    #[serde(default, skip_serializing_if = "Display::is_empty")]
    pub display: Display,
}

/// What a tool says about showing its calls, so that the host needs no
/// knowledge of any tool: native plugins declare it in their spec (WIT
/// 0.1.0 has no place for it), the MCP adapter sets the label.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Display {
    /// The JSON pointer (`/cmd`) of the argument holding the command line
    /// a call runs: a string, or an array of words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// The argument a freeform call's text goes into; `None`:
    /// [`DEFAULT_FREEFORM_ARGUMENT`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub freeform_argument: Option<String>,
    /// The tool's name for people, where it differs from the name models
    /// call it by (an MCP server's own name of the tool).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

impl Display {
    pub fn is_empty(&self) -> bool {
        *self == Display::default()
    }
}

/// Where a freeform call's text goes when the tool does not say: the plugin
/// API's default, and all that WIT 0.1.0 can carry.
pub const DEFAULT_FREEFORM_ARGUMENT: &str = "input";

impl ToolSpec {
    /// The argument a freeform call's text goes into; `None` for a tool
    /// that takes no freeform calls (no grammar).
    pub fn freeform_argument(&self) -> Option<&str> {
        self.freeform_grammar.as_ref()?;
        Some(
            self.display
                .freeform_argument
                .as_deref()
                .unwrap_or(DEFAULT_FREEFORM_ARGUMENT),
        )
    }
}

/// Where a call runs.
#[derive(Debug, Clone)]
pub struct CallContext {
    pub call_id: CallId,
    pub session_id: SessionId,
    /// Absolute.
    pub cwd: std::path::PathBuf,
    /// The session's sandbox: what commands run under, and what native
    /// plugins are told (its serde form) so that they can start their own.
    pub sandbox: std::sync::Arc<wharf_sandbox::Sandbox>,
    /// Raised when the call should stop (the turn was cancelled): a WASM
    /// guest is trapped or dropped, native plugins see it through
    /// `is_cancelled`, and the pipeline ends the plugin's session.
    pub cancel: wharf_cancel::CancelToken,
    /// Where the call reports progress as it runs; `None`: nobody listens.
    pub progress: Option<Progress>,
    /// Who answers when the plugin asks the user for input while the call
    /// runs; `None`: nobody can (`wharf exec`), the plugin is told no.
    pub elicitation: Option<elicitation::Elicitation>,
}

/// Where a running call reports progress, a line at a time, from the
/// thread the call runs on. Its embedder decides what a line becomes (the
/// agent makes it an event).
#[derive(Clone)]
pub struct Progress(std::sync::Arc<dyn Fn(&str) + Send + Sync>);

impl Progress {
    pub fn new(report: impl Fn(&str) + Send + Sync + 'static) -> Progress {
        Progress(std::sync::Arc::new(report))
    }

    pub fn report(&self, message: &str) {
        (self.0)(message);
    }
}

impl fmt::Debug for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Progress")
    }
}

/// One block of a tool's output.
#[derive(Debug, Clone, PartialEq)]
pub enum Content {
    Text(String),
    /// JSON text as the tool produced it.
    Json(String),
    Image {
        mime_type: String,
        data: Vec<u8>,
    },
}

impl Content {
    /// The size that counts against the output cap.
    pub fn len(&self) -> usize {
        match self {
            Content::Text(text) | Content::Json(text) => text.len(),
            Content::Image { data, .. } => data.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A file edit a tool asks for; the host checks and applies it. The same
/// type tool authors return: the WIT variant and the native wire format are
/// converted into it where they enter the host (wasm/v0_1_0.rs, native.rs).
pub use wharf_plugin_api::FileChange;

/// A command a call ran (argv, exit code, duration), as tools report it:
/// the plugin API's type, carried by the native wire form. WIT 0.1.0 has no
/// place for it, so WASM outputs have none.
pub use wharf_plugin_api::CommandRun;

/// What a tool returned.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ToolOutput {
    pub content: Vec<Content>,
    /// The tool ran and failed; the model reads the content as an error.
    pub is_error: bool,
    pub changes: Vec<FileChange>,
    /// What the plugin logged during the call, `[level] message`.
    pub logs: Vec<String>,
    /// The command the call ran, if the tool said: whether it succeeded is
    /// its exit code.
    pub command: Option<CommandRun>,
}

impl ToolOutput {
    /// The text blocks joined by newlines (JSON blocks included as text).
    pub fn text(&self) -> String {
        let texts: Vec<&str> = self
            .content
            .iter()
            .filter_map(|content| match content {
                Content::Text(text) | Content::Json(text) => Some(text.as_str()),
                Content::Image { .. } => None,
            })
            .collect();
        texts.join("\n")
    }
}

/// Why a call did not produce output.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ToolError {
    #[error("invalid arguments: {0}")]
    InvalidArgs(String),
    #[error("denied: {0}")]
    Denied(String),
    #[error("cancelled")]
    Cancelled,
    #[error("timed out after {0} ms")]
    Timeout(u128),
    #[error("the plugin exceeded its memory limit of {0} MiB")]
    MemoryLimit(u64),
    /// The plugin trapped or broke the interface's rules; it is a bug in the
    /// plugin, and the next call gets a fresh instance.
    #[error("the plugin crashed: {0}")]
    Crashed(String),
    #[error("{0}")]
    Failed(String),
}

/// A call's arguments, parsed once by the pipeline: the JSON text as the
/// model sent it (what a WASM or native plugin is handed) and its value
/// (what the host and an MCP server read).
#[derive(Debug, Clone, Copy)]
pub struct Args<'a> {
    pub text: &'a str,
    pub value: &'a serde_json::Value,
}

/// A loaded plugin of any kind.
pub trait Plugin: Send + Sync {
    fn name(&self) -> &str;

    /// The tools it offers.
    fn tools(&self) -> &[ToolSpec];

    /// Runs `tool` with `args` (already checked against the tool's
    /// schema) with exactly the access of `grant`.
    fn invoke(
        &self,
        cx: &CallContext,
        tool: &str,
        args: Args<'_>,
        grant: &Grant,
    ) -> Result<ToolOutput, ToolError>;

    /// The session ended: drop whatever the plugin keeps for it. Only
    /// plugins that live across calls (native ones) keep anything.
    fn end_session(&self, _session_id: &SessionId) {}
}

impl fmt::Debug for dyn Plugin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Plugin")
            .field("name", &self.name())
            .field("tools", &self.tools().len())
            .finish()
    }
}
