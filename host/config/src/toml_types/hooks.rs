//! `[hooks]` as written, in codex's format (see `crate::hooks` for what it
//! means): one array of matcher groups per event, each group with its
//! handlers.
//!
//! ```toml
//! [[hooks.PreToolUse]]
//! matcher = "write_file|apply_.*"
//!
//! [[hooks.PreToolUse.hooks]]
//! type = "command"
//! command = "python3 .wharf/hooks/check.py"
//! timeout = 10
//! required = true
//! ```

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `[hooks]`: matcher groups by event (`PreToolUse`, `PostToolUse`,
/// `SessionStart`, `SessionEnd`, `UserPromptSubmit`).
pub type HooksToml = BTreeMap<String, Vec<HookGroupToml>>;

/// One `[[hooks.EVENT]]` entry: which tools (or session sources) it is
/// for, and what runs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub struct HookGroupToml {
    /// A regular expression the whole tool name (for `SessionStart`: the
    /// source, `startup` or `resume`) must match; unset, `""` or `"*"`
    /// match everything.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matcher: Option<String>,
    /// The handlers, run in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hooks: Vec<HookHandlerToml>,
}

/// One `[[hooks.EVENT.hooks]]` handler.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub struct HookHandlerToml {
    /// `command`: a shell command that reads the event as JSON on stdin
    /// and answers on stdout. codex's other types (`prompt`, `agent`) are
    /// read and skipped with a warning.
    #[serde(rename = "type")]
    pub kind: HookHandlerKind,
    /// The command, run by `sh -c` in the session's directory under the
    /// sandbox policy and the environment policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// Seconds the command may take (default 600).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<u64>,
    /// A failure (a crash, a timeout, an answer that cannot be read)
    /// stops the event instead of being skipped with a warning (wharf's
    /// addition; default `false`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub required: Option<bool>,
    /// The name records and warnings give the hook (wharf's addition;
    /// default: the command).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// codex's spinner text; accepted and not shown.
    #[serde(rename = "statusMessage", skip_serializing_if = "Option::is_none")]
    pub status_message: Option<String>,
    /// codex's background hooks; wharf runs every hook to its answer.
    #[serde(rename = "async", skip_serializing_if = "Option::is_none")]
    pub run_async: Option<bool>,
}

/// What a handler is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum HookHandlerKind {
    Command,
    Prompt,
    Agent,
}
