//! The [`Hooks`] trait: what a plugin that hooks a session's events
//! answers (`wharf:plugin/hooks`, new in 0.2.0).

use std::path::{Path, PathBuf};

use crate::Output;
use crate::bindings::exports::wharf::plugin::hooks as wit;

/// A plugin's hooks, exported with `plugin!(Tools…; hooks = MyHooks)`.
/// Every method has a default that lets the event go on, so a plugin
/// implements only the events it hooks. Which events the host calls, and
/// for which tools, is the manifest's `[hooks]` table.
///
/// There is no `self`: like a tool call, each event runs in a fresh
/// instance with no access to files, commands or the network; what a hook
/// decides on is the event it is given. A panic is reported to the host,
/// which skips the hook with a warning (or stops the event when the
/// manifest says `required = true`).
pub trait Hooks {
    /// Before a tool call reaches the approval stage.
    fn before_tool_call(_call: &ToolCall) -> BeforeToolCall {
        BeforeToolCall::Allow
    }

    /// After the tool returned, before the model reads `output`.
    fn after_tool_call(_call: &ToolCall, _output: &Output) -> AfterToolCall {
        AfterToolCall::Keep
    }

    /// A session starts; `source` is `startup` or `resume`.
    fn session_start(_session: &Session, _source: &str) {}

    /// A session ends.
    fn session_end(_session: &Session) {}

    /// The user submitted `prompt`, before the model reads it.
    fn user_prompt_submit(_session: &Session, _prompt: &str) -> PromptDecision {
        PromptDecision::Allow
    }
}

/// The hooks of a plugin that hooks nothing: what `plugin!` exports for a
/// tool-only plugin (the host never calls them unless the manifest asks).
pub struct NoHooks;

impl Hooks for NoHooks {}

/// A tool call as a hook sees it.
#[derive(Debug, Clone)]
pub struct ToolCall {
    pub call_id: String,
    pub session_id: String,
    /// The session's working directory, absolute.
    pub cwd: PathBuf,
    /// The tool's name, as the model called it.
    pub tool: String,
    /// The plugin that serves the tool (`mcp-NAME` for an MCP server's).
    pub plugin: String,
    /// The arguments, already checked against the tool's input schema.
    pub args: serde_json::Value,
}

/// What a session event is about.
#[derive(Debug, Clone)]
pub struct Session {
    pub session_id: String,
    cwd: PathBuf,
}

impl Session {
    /// The session's working directory, absolute.
    pub fn cwd(&self) -> &Path {
        &self.cwd
    }
}

/// What [`Hooks::before_tool_call`] answers.
#[derive(Debug, Clone, PartialEq)]
pub enum BeforeToolCall {
    Allow,
    /// Refuse the call; the model reads the reason.
    Deny(String),
    /// Go on with these arguments instead (a JSON object, checked against
    /// the tool's input schema again).
    Rewrite(serde_json::Value),
}

/// What [`Hooks::after_tool_call`] answers.
#[derive(Debug, Clone)]
pub enum AfterToolCall {
    /// The model reads the tool's output.
    Keep,
    /// The model reads this output's content instead.
    Rewrite(Output),
}

/// What [`Hooks::user_prompt_submit`] answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromptDecision {
    Allow,
    /// Refuse the prompt; the user reads the reason.
    Deny(String),
    /// Go on, and the model also reads this text with the prompt.
    AddContext(String),
}

impl ToolCall {
    pub(crate) fn from_wit(call: wit::ToolCall) -> ToolCall {
        ToolCall {
            call_id: call.call_id,
            session_id: call.session_id,
            cwd: PathBuf::from(call.cwd),
            tool: call.tool,
            plugin: call.plugin,
            // The host sends the JSON it checked against the schema.
            args: serde_json::from_str(&call.args_json).unwrap_or(serde_json::Value::Null),
        }
    }
}

impl Session {
    pub(crate) fn from_wit(info: wit::SessionInfo) -> Session {
        Session {
            session_id: info.session_id,
            cwd: PathBuf::from(info.cwd),
        }
    }
}

impl BeforeToolCall {
    pub(crate) fn into_wit(self) -> wit::BeforeDecision {
        match self {
            BeforeToolCall::Allow => wit::BeforeDecision::Allow,
            BeforeToolCall::Deny(reason) => wit::BeforeDecision::Deny(reason),
            BeforeToolCall::Rewrite(args) => wit::BeforeDecision::Rewrite(args.to_string()),
        }
    }
}

impl AfterToolCall {
    pub(crate) fn into_wit(self) -> wit::AfterDecision {
        match self {
            AfterToolCall::Keep => wit::AfterDecision::Keep,
            AfterToolCall::Rewrite(output) => {
                wit::AfterDecision::Rewrite(output.into_wit().content)
            }
        }
    }
}

impl PromptDecision {
    pub(crate) fn into_wit(self) -> wit::PromptDecision {
        match self {
            PromptDecision::Allow => wit::PromptDecision::Allow,
            PromptDecision::Deny(reason) => wit::PromptDecision::Deny(reason),
            PromptDecision::AddContext(text) => wit::PromptDecision::AddContext(text),
        }
    }
}
