//! What a session says while it runs: the events of PRODUCT §6, in codex's
//! `exec --json` shape (`{"type":"item.completed","item":{...}}`).

use serde::{Deserialize, Serialize};

use wharf_model::protocol::{ModelError, Usage};

/// One event of a thread, in the order they happen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Event {
    #[serde(rename = "thread.started")]
    ThreadStarted { thread_id: String },
    #[serde(rename = "turn.started")]
    TurnStarted,
    #[serde(rename = "item.started")]
    ItemStarted { item: Item },
    /// Reserved for streamed progress (a TUI's growing message); `wharf
    /// exec` emits none.
    #[serde(rename = "item.updated")]
    ItemUpdated { item: Item },
    #[serde(rename = "item.completed")]
    ItemCompleted { item: Item },
    /// What a running tool call reported of its progress (an MCP server's
    /// `notifications/progress`), between its `item.started` and its
    /// `item.completed`; `item_id` names the call's item.
    #[serde(rename = "item.progress")]
    ItemProgress {
        item_id: String,
        tool: String,
        message: String,
    },
    #[serde(rename = "turn.completed")]
    TurnCompleted { usage: Usage },
    #[serde(rename = "turn.failed")]
    TurnFailed { error: TurnError },
    /// A problem that does not end the turn (a warning).
    #[serde(rename = "error")]
    Error { message: String },
}

/// Why a turn failed: the message users and `--json` read, and the model
/// error behind it (not written: a resumed rollout has the message only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct TurnError {
    pub message: String,
    #[serde(skip)]
    #[source]
    pub cause: Option<ModelError>,
}

impl From<ModelError> for TurnError {
    fn from(cause: ModelError) -> TurnError {
        TurnError {
            message: cause.to_string(),
            cause: Some(cause),
        }
    }
}

/// One item of a turn: `item_0`, `item_1`… in the order they start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    pub id: String,
    #[serde(flatten)]
    pub details: ItemDetails,
}

/// What an item is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ItemDetails {
    UserMessage {
        text: String,
    },
    AgentMessage {
        text: String,
    },
    Reasoning {
        text: String,
    },
    /// A call of a tool whose plugin runs commands (its manifest asks for
    /// `exec`).
    CommandExecution {
        tool: String,
        command: String,
        aggregated_output: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        exit_code: Option<i32>,
        status: Status,
    },
    /// A call of a tool whose plugin edits files (its manifest asks for
    /// `fs.write`), or any call that changed files.
    FileChange {
        tool: String,
        changes: Vec<FileUpdate>,
        #[serde(skip_serializing_if = "String::is_empty")]
        output: String,
        status: Status,
    },
    /// A call of an MCP server's tool: the server's name and its own name
    /// of the tool (the plugin's and the spec's, from the registry).
    McpToolCall {
        server: String,
        tool: String,
        arguments: serde_json::Value,
        #[serde(skip_serializing_if = "String::is_empty")]
        output: String,
        status: Status,
    },
    /// A call of any other tool.
    ToolCall {
        tool: String,
        arguments: serde_json::Value,
        #[serde(skip_serializing_if = "String::is_empty")]
        output: String,
        status: Status,
    },
    Error {
        message: String,
    },
}

/// Where a tool call is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    InProgress,
    Completed,
    Failed,
    /// Refused before it ran (approval, policy).
    Declined,
}

/// One file a call changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileUpdate {
    pub path: String,
    pub kind: ChangeKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Add,
    Delete,
    Update,
}

impl ItemDetails {
    /// The status of a tool call item; `None` for the others.
    pub fn status(&self) -> Option<Status> {
        match self {
            ItemDetails::CommandExecution { status, .. }
            | ItemDetails::FileChange { status, .. }
            | ItemDetails::McpToolCall { status, .. }
            | ItemDetails::ToolCall { status, .. } => Some(*status),
            ItemDetails::UserMessage { .. }
            | ItemDetails::AgentMessage { .. }
            | ItemDetails::Reasoning { .. }
            | ItemDetails::Error { .. } => None,
        }
    }
}
