//! Hooks: code a user or a plugin puts around a session's events, which may
//! let an event go on, stop it with a reason, or change it. A hook is a
//! command (codex's `[hooks]` configuration) or a WASM plugin that exports
//! `wharf:plugin/hooks@0.2.0`; both are a [`Hook`] to the pipeline and the
//! agent, which run a session's [`Hooks`] in order.
//!
//! A hook that fails (crashes, overruns its deadline, answers what cannot
//! be read) stops the event when it is `required`, and is skipped with a
//! warning otherwise ([`HookFailure`]).

pub mod command;
pub mod run;

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::plugin::{Content, ToolOutput};

pub use run::{EventOutcome, HookDecision, HookOutcome};

/// The events hooks see, in the order a session meets them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HookEvent {
    SessionStart,
    UserPromptSubmit,
    /// Before the approval stage: may allow, deny or rewrite the arguments.
    BeforeToolCall,
    /// After the plugin returned: may observe, or rewrite the output.
    AfterToolCall,
    SessionEnd,
}

impl HookEvent {
    pub const ALL: [HookEvent; 5] = [
        HookEvent::SessionStart,
        HookEvent::UserPromptSubmit,
        HookEvent::BeforeToolCall,
        HookEvent::AfterToolCall,
        HookEvent::SessionEnd,
    ];

    /// The event's name in manifests, records and messages
    /// (`before-tool-call`), as the WIT names it.
    pub fn as_str(self) -> &'static str {
        match self {
            HookEvent::SessionStart => "session-start",
            HookEvent::UserPromptSubmit => "user-prompt-submit",
            HookEvent::BeforeToolCall => "before-tool-call",
            HookEvent::AfterToolCall => "after-tool-call",
            HookEvent::SessionEnd => "session-end",
        }
    }
}

impl fmt::Display for HookEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A tool call as a hook sees it.
#[derive(Debug, Clone, Copy)]
pub struct HookToolCall<'a> {
    pub session_id: &'a str,
    pub call_id: &'a str,
    pub cwd: &'a Path,
    pub tool: &'a str,
    /// The plugin that serves the tool (`mcp-NAME` for an MCP server's).
    pub plugin: &'a str,
    /// The arguments, already checked against the tool's schema.
    pub args: &'a serde_json::Value,
}

/// What a hook is given.
#[derive(Debug, Clone, Copy)]
pub enum HookInput<'a> {
    SessionStart {
        session_id: &'a str,
        cwd: &'a Path,
        /// `startup` for a new session, `resume` for a resumed one.
        source: &'a str,
    },
    UserPromptSubmit {
        session_id: &'a str,
        cwd: &'a Path,
        prompt: &'a str,
    },
    BeforeToolCall(HookToolCall<'a>),
    AfterToolCall {
        call: HookToolCall<'a>,
        output: &'a ToolOutput,
    },
    SessionEnd {
        session_id: &'a str,
        cwd: &'a Path,
    },
}

impl HookInput<'_> {
    pub fn event(&self) -> HookEvent {
        match self {
            HookInput::SessionStart { .. } => HookEvent::SessionStart,
            HookInput::UserPromptSubmit { .. } => HookEvent::UserPromptSubmit,
            HookInput::BeforeToolCall(_) => HookEvent::BeforeToolCall,
            HookInput::AfterToolCall { .. } => HookEvent::AfterToolCall,
            HookInput::SessionEnd { .. } => HookEvent::SessionEnd,
        }
    }

    /// The tool of a tool event, what matchers match.
    pub fn tool(&self) -> Option<&str> {
        match self {
            HookInput::BeforeToolCall(call) | HookInput::AfterToolCall { call, .. } => {
                Some(call.tool)
            }
            _ => None,
        }
    }
}

/// What a hook answered. Which answers an event takes: `before-tool-call`
/// all but `RewriteOutput` and `AddContext`; `after-tool-call` `Continue`
/// and `RewriteOutput`; `user-prompt-submit` `Continue`, `Deny` and
/// `AddContext`; the session events only `Continue`. Another answer is a
/// [`HookFailure::Garbage`].
#[derive(Debug, Clone, PartialEq)]
pub enum HookVerdict {
    /// Go on unchanged (allow; observe).
    Continue,
    /// Stop the event; the reason is what the model (or the user, for a
    /// prompt) reads.
    Deny(String),
    /// Go on with these arguments instead (checked against the schema
    /// again).
    RewriteArgs(serde_json::Value),
    /// The model reads this output instead.
    RewriteOutput(Vec<Content>),
    /// Go on, and the model also reads this text with the prompt.
    AddContext(String),
}

/// Why a hook gave no verdict.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HookFailure {
    #[error("crashed: {0}")]
    Crashed(String),
    #[error("did not answer within {} ms", .0.as_millis())]
    TimedOut(Duration),
    #[error("answered what cannot be read: {0}")]
    Garbage(String),
}

/// What kind of hook, for records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HookKind {
    /// A command from the configuration.
    Command,
    /// A WASM plugin's `hooks` export.
    Plugin,
}

impl HookKind {
    pub fn as_str(self) -> &'static str {
        match self {
            HookKind::Command => "command",
            HookKind::Plugin => "plugin",
        }
    }
}

/// Who a hook is, in events, the audit log and `--json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookSource {
    /// The plugin's name, or the command hook's name (its command when it
    /// has none).
    pub name: String,
    pub kind: HookKind,
    /// A failure stops the event instead of being skipped.
    pub required: bool,
}

/// One hook.
pub trait Hook: Send + Sync {
    fn source(&self) -> &HookSource;

    /// Whether the hook wants `event` (of `tool`, for tool events): its
    /// events and its matcher.
    fn wants(&self, event: HookEvent, tool: Option<&str>) -> bool;

    /// Runs the hook on `input`, answering by `deadline` at the latest.
    fn run(&self, input: &HookInput<'_>, deadline: Instant) -> Result<HookVerdict, HookFailure>;
}

/// A session's hooks, in the order they run.
#[derive(Clone, Default)]
pub struct Hooks(Vec<Arc<dyn Hook>>);

impl Hooks {
    pub fn new(hooks: Vec<Arc<dyn Hook>>) -> Hooks {
        Hooks(hooks)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<dyn Hook>> {
        self.0.iter()
    }

    /// The hooks that want `event` of `tool`, in order.
    pub fn wanting(
        &self,
        event: HookEvent,
        tool: Option<&str>,
    ) -> impl Iterator<Item = &Arc<dyn Hook>> {
        self.0.iter().filter(move |hook| hook.wants(event, tool))
    }
}

impl fmt::Debug for Hooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.0.iter().map(|hook| hook.source()))
            .finish()
    }
}
