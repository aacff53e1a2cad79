//! What a session says while it runs: the events of PRODUCT §6, in codex's
//! `exec --json` shape (`{"type":"item.completed","item":{...}}`).

use serde::{Deserialize, Serialize};

use wharf_model::protocol::{ModelError, Usage};
use wharf_runtime::hooks::HookDecision;
use wharf_runtime::pipeline::ApprovalRequest;
use wharf_runtime::plugin::elicitation::ElicitationRequest;

use crate::ops::{SessionInfo, SessionSummary};

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
    /// The turn ended with an answer. `usage` is the tokens its requests
    /// used, `null` when a response of the turn came without usage (a
    /// server that does not report it): unknown, not zero.
    #[serde(rename = "turn.completed")]
    TurnCompleted { usage: Option<Usage> },
    #[serde(rename = "turn.failed")]
    TurnFailed { error: TurnError },
    /// A problem that does not end the turn (a warning).
    #[serde(rename = "error")]
    Error { message: String },
    /// The model started a response (again, when the client retried a
    /// stream that failed): text streamed since the last one is void.
    #[serde(rename = "response.started")]
    ResponseStarted,
    /// More of what the model is writing, as it streams; the
    /// `item.completed` of the message (or reasoning) follows with the
    /// whole text. `wharf exec` prints none.
    #[serde(rename = "item.delta")]
    ItemDelta { kind: DeltaKind, delta: String },
    /// Tokens used: the session's total so far and how much of the
    /// context window the last request filled (its input and output).
    #[serde(rename = "token.count")]
    TokenCount {
        total: Usage,
        context_used: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        context_window: Option<u64>,
    },
    /// A call waits for the user's answer (an interactive session): answer
    /// it with [`Op::Approval`](crate::ops::Op::Approval) and the same
    /// `call_id`.
    #[serde(rename = "approval.requested")]
    ApprovalRequested { request: ApprovalRequest },
    /// A running call's plugin (an MCP server) asks the user to fill in a
    /// form: answer it with [`Op::Elicitation`](crate::ops::Op::Elicitation)
    /// and the same `call_id`.
    #[serde(rename = "elicitation.requested")]
    ElicitationRequested { request: ElicitationRequest },
    /// What the session is: sent when it starts and after every change
    /// (model, approval policy, a feature), and on request.
    #[serde(rename = "session.configured")]
    SessionConfigured { info: Box<SessionInfo> },
    /// An answer to an op that is not a turn (`/diff`, a refused change):
    /// text for the user, not the model.
    #[serde(rename = "notice")]
    Notice {
        title: String,
        text: String,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        is_error: bool,
    },
    /// The saved sessions, newest first (after
    /// [`Op::ListSessions`](crate::ops::Op::ListSessions)).
    #[serde(rename = "session.list")]
    SessionList { sessions: Vec<SessionSummary> },
    /// The session ended (after [`Op::Shutdown`](crate::ops::Op::Shutdown));
    /// nothing follows.
    #[serde(rename = "session.ended")]
    SessionEnded,
    /// The conversation was replaced by a summary of it and the recent
    /// user messages, to fit the context window: on its own when a request
    /// filled it past `model_auto_compact_token_limit`, or when asked
    /// (`/compact`). `context_before` is the window used before.
    #[serde(rename = "compacted")]
    Compacted {
        trigger: CompactTrigger,
        context_before: u64,
    },
    /// A tool reported the model's plan (a JSON output block of the plan's
    /// shape, as the first-party plan tool returns it): the whole plan,
    /// every time.
    #[serde(rename = "plan.updated")]
    PlanUpdated {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        explanation: Option<String>,
        plan: Vec<PlanStep>,
    },
}

/// What started a compaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CompactTrigger {
    /// The context window filled past the limit.
    Auto,
    /// The user asked (`/compact`).
    Manual,
}

/// One step of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanStep {
    pub step: String,
    pub status: PlanStatus,
}

/// Where a plan's step is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanStatus {
    Pending,
    InProgress,
    Completed,
}

/// What an [`Event::ItemDelta`] adds to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeltaKind {
    AgentMessage,
    Reasoning,
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
    /// What each hook decided about a tool call (none without hooks).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hooks: Vec<HookRun>,
}

/// One hook's decision, as events show it (`item.completed`'s `hooks`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HookRun {
    pub event: String,
    pub hook: String,
    /// `command` or `plugin`.
    pub kind: String,
    pub required: bool,
    /// `allow`, `deny`, `rewrite_args`, `rewrite_output`, `add_context`,
    /// `failed` (required: the event stopped) or `skipped`.
    pub decision: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub duration_us: u64,
}

impl From<&HookDecision> for HookRun {
    fn from(decision: &HookDecision) -> HookRun {
        HookRun {
            event: decision.event.as_str().to_owned(),
            hook: decision.hook.clone(),
            kind: decision.kind.as_str().to_owned(),
            required: decision.required,
            decision: decision.outcome.as_str().to_owned(),
            reason: decision.detail.clone(),
            duration_us: u64::try_from(decision.duration.as_micros()).unwrap_or(u64::MAX),
        }
    }
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
    /// A search the provider's hosted web search made (`tools.web_search`):
    /// what it looked for (a query, or the page it opened).
    WebSearch {
        query: String,
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
    /// Stopped by a cancel (Esc, Ctrl-C) before it finished, or never run
    /// because the turn was cancelled.
    Cancelled,
}

/// One file a call changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileUpdate {
    pub path: String,
    pub kind: ChangeKind,
    /// The change as a unified diff (`@@ -a,b +c,d @@` hunks, three lines
    /// of context), when the session records diffs (an interactive one
    /// does) and the file is text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Add,
    Delete,
    Update,
}

impl Event {
    /// Whether the event only matters while the session runs: streamed
    /// text, token counts, approval requests, session info and notices.
    /// Rollouts and `wharf exec --json` keep the others (the turns and
    /// their items); a front end renders all of them.
    pub fn is_transient(&self) -> bool {
        match self {
            Event::ResponseStarted
            | Event::ItemDelta { .. }
            | Event::TokenCount { .. }
            | Event::ApprovalRequested { .. }
            | Event::ElicitationRequested { .. }
            | Event::SessionConfigured { .. }
            | Event::Notice { .. }
            | Event::SessionList { .. }
            | Event::SessionEnded => true,
            Event::ThreadStarted { .. }
            | Event::TurnStarted
            | Event::ItemStarted { .. }
            | Event::ItemUpdated { .. }
            | Event::ItemCompleted { .. }
            | Event::ItemProgress { .. }
            | Event::TurnCompleted { .. }
            | Event::TurnFailed { .. }
            | Event::Error { .. }
            | Event::Compacted { .. }
            | Event::PlanUpdated { .. } => false,
        }
    }

    /// Whether the event carries the model's reasoning (its deltas or its
    /// item), which `hide_agent_reasoning` keeps from being shown.
    pub fn is_reasoning(&self) -> bool {
        match self {
            Event::ItemDelta { kind, .. } => *kind == DeltaKind::Reasoning,
            Event::ItemStarted { item }
            | Event::ItemUpdated { item }
            | Event::ItemCompleted { item } => {
                matches!(item.details, ItemDetails::Reasoning { .. })
            }
            _ => false,
        }
    }
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
            | ItemDetails::WebSearch { .. }
            | ItemDetails::Error { .. } => None,
        }
    }
}
