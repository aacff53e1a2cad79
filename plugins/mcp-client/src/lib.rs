//! The MCP client of wharf: one [`McpServer`] per configured
//! `[mcp_servers.NAME]`, which `wharf-mcp-adapter` (beside this crate)
//! wraps into the host's `Plugin` trait so that MCP tools go through the
//! same pipeline as every other tool.
//!
//! A server is reached over stdio (a child process started **only**
//! through [`wharf_sandbox::Sandbox::spawn`], in its own process group, with
//! the environment of [`stdio_env`]) or streamable HTTP (static headers and
//! an optional OAuth hook, [`HttpAuth`]). The protocol is rmcp's; this crate
//! adds what wharf needs around it: tool names a model accepts
//! ([`qualified_name`]), the `enabled_tools`/`disabled_tools` filters,
//! timeouts, cancellation that reaches the server (`notifications/cancelled`),
//! progress, a restart after a crash (at most [`MAX_RESTARTS`]) and error
//! messages that say which server failed and why.
//!
//! Callers are plain blocking Rust: the async work runs on one small tokio
//! runtime shared by every server of the process.
//!
//! What it must not know: the host (`wharf-host`, `wharf-runtime`), its
//! config types or its `Plugin` trait. The adapter turns the config into a
//! [`ServerSpec`] and [`CallResult`] into the host's `ToolOutput`.

#![forbid(unsafe_code)]

mod content;
pub mod credentials;
mod elicitation;
mod env;
mod error;
mod http;
mod listing;
mod names;
pub mod oauth;
mod process;
mod progress;
mod runtime;
mod server;
mod server_log;
mod session;

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub use elicitation::{ElicitReply, ElicitRequest};
pub use env::{DEFAULT_ENV_VARS, stdio_env};
pub use error::{CallError, StartError};
pub use names::{MAX_TOOL_NAME_LEN, qualified_name};
pub use server::{MAX_RESTARTS, McpServer};
pub use server_log::{LogSink, MAX_LOG_LINES, stderr_log};
pub use wharf_cancel::CancelToken;

/// How long a server has to start and list its tools unless configured
/// (`startup_timeout_sec`).
pub const DEFAULT_STARTUP_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one tool call may take unless configured (`tool_timeout_sec`).
pub const DEFAULT_TOOL_TIMEOUT: Duration = Duration::from_secs(60);

/// How much of what a server offers reaches the model: every tool's name,
/// description and schema go into each request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OfferLimits {
    /// Tools offered, after the filters (`max_tools`); the ones past it
    /// are dropped, in the server's order.
    pub max_tools: usize,
    /// A tool's description, in bytes (`max_tool_description_bytes`).
    pub max_description_bytes: usize,
    /// A tool's input schema as compact JSON, in bytes
    /// (`max_tool_schema_bytes`).
    pub max_schema_bytes: usize,
}

impl OfferLimits {
    /// 128 tools: what OpenAI's APIs accept in one request, for every
    /// source together. 8 KiB of description and 64 KiB of schema: many
    /// times what real servers send, small enough that one server cannot
    /// fill the model's context by itself.
    pub const DEFAULT: OfferLimits = OfferLimits {
        max_tools: 128,
        max_description_bytes: 8 * 1024,
        max_schema_bytes: 64 * 1024,
    };
}

impl Default for OfferLimits {
    fn default() -> OfferLimits {
        OfferLimits::DEFAULT
    }
}

/// Everything needed to start (and restart) one server.
#[derive(Clone)]
pub struct ServerSpec {
    /// The config key, e.g. `docs`: part of every tool name and message.
    pub name: String,
    pub transport: TransportSpec,
    /// Bounds spawn (or connect) + `initialize` + listing the tools.
    pub startup_timeout: Duration,
    /// Bounds one tool call; the server is told to stop when it runs out.
    pub tool_timeout: Duration,
    /// Only these tools are offered (`None`: all). Applied first.
    pub enabled_tools: Option<Vec<String>>,
    /// Then these are removed.
    pub disabled_tools: Vec<String>,
    /// What the tools left may weigh.
    pub limits: OfferLimits,
    /// Where the server's warnings and errors (`notifications/message`)
    /// go: [`stderr_log`] unless set.
    pub log: LogSink,
}

impl ServerSpec {
    /// A spec with the default timeouts and every tool enabled.
    pub fn new(name: impl Into<String>, transport: TransportSpec) -> ServerSpec {
        ServerSpec {
            name: name.into(),
            transport,
            startup_timeout: DEFAULT_STARTUP_TIMEOUT,
            tool_timeout: DEFAULT_TOOL_TIMEOUT,
            enabled_tools: None,
            disabled_tools: Vec::new(),
            limits: OfferLimits::DEFAULT,
            log: stderr_log(),
        }
    }
}

impl fmt::Debug for ServerSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerSpec")
            .field("name", &self.name)
            .field("transport", &self.transport)
            .field("startup_timeout", &self.startup_timeout)
            .field("tool_timeout", &self.tool_timeout)
            .field("enabled_tools", &self.enabled_tools)
            .field("disabled_tools", &self.disabled_tools)
            .field("limits", &self.limits)
            .finish()
    }
}

/// How wharf reaches a server.
#[derive(Clone)]
pub enum TransportSpec {
    /// A child process speaking MCP on its stdin and stdout.
    Stdio {
        command: String,
        args: Vec<String>,
        /// The **whole** environment of the server (nothing is inherited):
        /// build it with [`stdio_env`].
        env: BTreeMap<String, String>,
        /// Where it runs; the sandbox's cwd when `None`.
        cwd: Option<PathBuf>,
        /// What it runs under: danger-full-access unless the user set a
        /// `sandbox_mode` for the server.
        sandbox: Box<wharf_sandbox::Sandbox>,
    },
    /// A server reached over streamable HTTP.
    Http {
        url: String,
        /// Sent on every request to this server (and no other), including
        /// `Authorization` when `bearer_token_env_var` resolved.
        headers: BTreeMap<String, String>,
        /// OAuth: asked for a token before every request, so that a refresh
        /// takes effect without reconnecting. Its `Authorization` wins over
        /// one in `headers`.
        auth: Option<Arc<dyn HttpAuth>>,
    },
}

impl fmt::Debug for TransportSpec {
    /// Header values and environment values are left out: they are where
    /// tokens live.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransportSpec::Stdio {
                command,
                args,
                env,
                cwd,
                sandbox,
            } => f
                .debug_struct("Stdio")
                .field("command", command)
                .field("args", args)
                .field("env", &env.keys().collect::<Vec<_>>())
                .field("cwd", cwd)
                .field("sandbox", &sandbox.policy().mode())
                .finish(),
            TransportSpec::Http { url, headers, auth } => f
                .debug_struct("Http")
                .field("url", url)
                .field("headers", &headers.keys().collect::<Vec<_>>())
                .field("auth", &auth.is_some())
                .finish(),
        }
    }
}

/// The OAuth hook of an HTTP server (implemented next to the credential
/// store, in `oauth.rs`).
pub trait HttpAuth: Send + Sync {
    /// The current access token, refreshed first when it is about to
    /// expire; `None` when there is none (the request goes without one).
    ///
    /// It is called before every HTTP request on a blocking thread of the
    /// MCP runtime: it may block (on a refresh), but must not start a tokio
    /// runtime of its own there.
    fn access_token(&self) -> Result<Option<String>, String>;
}

/// A tool a server offers, as discovered at start.
#[derive(Debug, Clone, PartialEq)]
pub struct McpTool {
    /// `mcp__<server>__<tool>`, sanitized and short enough for models.
    pub qualified_name: String,
    /// The name the server knows it by: what [`McpServer::call`] takes.
    pub name: String,
    pub description: String,
    /// The server's JSON Schema of the arguments, passed through;
    /// `{"type": "object"}` when it gave none.
    pub input_schema: serde_json::Value,
    pub title: Option<String>,
}

/// What a caller lets a call see and do while it runs.
pub struct CallHooks<'a> {
    /// Raised to stop the call: it wakes the waiting caller, and the
    /// server is sent `notifications/cancelled`.
    pub cancel: CancelToken,
    /// Each progress notification of this call, as one line of text.
    pub progress: &'a dyn Fn(&str),
    /// What the user answers when the server asks for input while the call
    /// runs (elicitation). Called on the caller's thread; it may block
    /// until the user answers, and the tool timeout waits meanwhile.
    pub elicit: &'a dyn Fn(&ElicitRequest) -> ElicitReply,
}

impl CallHooks<'static> {
    /// Never cancelled, progress dropped, input declined.
    pub fn none() -> CallHooks<'static> {
        CallHooks {
            cancel: CancelToken::new(),
            progress: &|_| {},
            elicit: &decline,
        }
    }
}

/// Declines an elicitation: nobody can answer.
pub fn decline(_: &ElicitRequest) -> ElicitReply {
    ElicitReply::Decline {
        reason: Some("nobody can answer it here".to_owned()),
    }
}

/// What a tool returned.
#[derive(Debug, Clone, PartialEq)]
pub struct CallResult {
    pub content: Vec<ResultContent>,
    /// The tool ran and failed; the content says why.
    pub is_error: bool,
    /// `structuredContent`, when the tool sent one.
    pub structured: Option<serde_json::Value>,
}

/// One block of a tool's result; binary data is decoded from base64.
#[derive(Debug, Clone, PartialEq)]
pub enum ResultContent {
    Text(String),
    Image {
        mime_type: String,
        data: Vec<u8>,
    },
    Audio {
        mime_type: String,
        data: Vec<u8>,
    },
    /// An embedded resource: `text` or `blob`.
    Resource {
        uri: String,
        mime_type: Option<String>,
        text: Option<String>,
        blob: Option<Vec<u8>>,
    },
    ResourceLink {
        uri: String,
        name: String,
        description: Option<String>,
    },
}
