//! What a front end sends a running session — [`Op`]s — and what it is
//! told about the session besides its turns ([`SessionInfo`], the saved
//! sessions: [`SessionSummary`]). With
//! [`Event`](crate::agent::Event), this is the whole protocol between the
//! session and a front end: a front end owns no agent state, it sends ops
//! and renders events. Every type is serializable, so the same protocol
//! can be served over a pipe or a socket.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
// Re-exported so that a front end (wharf-tui) names the protocol's types
// through wharf-host alone.
pub use wharf_config::ApprovalPolicy;
pub use wharf_runtime::pipeline::{ApprovalRequest, Decision};
pub use wharf_runtime::plugin::elicitation::{
    Choice, ElicitationAnswer, ElicitationRequest, FieldKind, FormField,
};

/// A request to the session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Op {
    /// The user's next prompt: starts a turn (queued while one runs).
    UserInput { text: String },
    /// Stop the running turn and its calls (Esc, Ctrl-C); nothing when
    /// none runs.
    Interrupt,
    /// The answer to [`Event::ApprovalRequested`](crate::agent::Event::ApprovalRequested)
    /// of `call_id`.
    Approval { call_id: String, decision: Decision },
    /// The answer to [`Event::ElicitationRequested`](crate::agent::Event::ElicitationRequested)
    /// of `call_id`.
    Elicitation {
        call_id: String,
        answer: ElicitationAnswer,
    },
    /// Use `model` (a slug of the catalog) from the next turn on.
    SetModel { model: String },
    /// Ask under `policy` from the next call on.
    SetApprovalPolicy { policy: ApprovalPolicy },
    /// Turn a feature on or off for this session (not written to
    /// config.toml).
    SetFeature { name: String, enabled: bool },
    /// Send [`SessionInfo`] again (`/status`).
    Status,
    /// Show the working tree's changes (`git diff`), as a notice titled
    /// `diff`.
    Diff,
    /// Compact the conversation now (`/compact`): the model summarizes
    /// it, and the summary with the recent user messages replaces it
    /// ([`Event::Compacted`](crate::agent::Event::Compacted)). Queued
    /// while a turn runs.
    Compact,
    /// Start a new thread in the same session (`/new`): an empty
    /// conversation and a new rollout.
    NewThread,
    /// Send the saved sessions ([`Event::SessionList`](crate::agent::Event::SessionList)).
    ListSessions,
    /// Continue saved session `id` instead of the current thread: its
    /// stored events are sent again (after `thread.started`) so that a
    /// front end can show them, and its conversation is the next turn's.
    Resume { id: String },
    /// End the session: running calls are cancelled, what they started
    /// ends, and [`Event::SessionEnded`](crate::agent::Event::SessionEnded)
    /// is the last event.
    Shutdown,
}

/// What the session is, for a status line and `/status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionInfo {
    pub session_id: String,
    pub cwd: PathBuf,
    pub model: String,
    pub provider: String,
    /// `read-only`, `workspace-write`, `danger-full-access`.
    pub sandbox: String,
    pub approval_policy: ApprovalPolicy,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_window: Option<u64>,
    /// The rollout file the session writes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollout: Option<PathBuf>,
    /// The project instructions (`AGENTS.md` files) threads start with.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub instructions: Vec<PathBuf>,
    /// Where the administrator's requirements come from (a file, or the
    /// name of those built into this wharf); `None`: there are none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requirements: Option<String>,
    /// The catalog's models, for a picker.
    pub models: Vec<ModelChoice>,
    pub features: Vec<FeatureState>,
    /// Every plugin found (MCP servers included), loaded or not.
    pub plugins: Vec<PluginState>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelChoice {
    pub slug: String,
    pub display_name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeatureState {
    pub name: String,
    pub enabled: bool,
    /// Why it cannot be changed in this session, when it cannot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locked: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PluginState {
    pub name: String,
    /// `wasm`, `native`, `mcp`.
    pub kind: String,
    /// The feature that switches it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature: Option<String>,
    pub tools: Vec<String>,
    /// `None`: loaded and offered. Otherwise why not (off, skipped: …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unavailable: Option<String>,
}

/// The first line of a rollout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionMeta {
    /// The thread id.
    pub id: String,
    /// When the session started, UTC (`2025-01-31T12:00:00Z`).
    pub timestamp: String,
    pub cwd: PathBuf,
    pub model: String,
    pub provider: String,
    pub wharf_version: String,
}

/// One saved session, for a picker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionSummary {
    pub path: PathBuf,
    pub meta: SessionMeta,
    /// The first user message, when the session has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_prompt: Option<String>,
}
