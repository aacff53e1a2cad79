//! What the agent loop says to a model and hears back, independent of the
//! wire: a [`Prompt`] in, a stream of [`ResponseEvent`]s out, through a
//! [`ModelClient`]. The Responses and Chat Completions clients, the
//! recording and the replaying client all implement the same trait, so the
//! loop never knows which one it talks to.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::models::ModelInfo;
pub use wharf_config::{ReasoningEffort, ReasoningSummary, Verbosity};

/// One request to a model: the whole conversation so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prompt {
    /// The model's slug (`gpt-5.1-codex`, `qwen3:8b`).
    pub model: String,
    /// The system / developer instructions.
    pub instructions: String,
    /// The conversation, oldest first.
    pub input: Vec<ResponseItem>,
    /// The tools offered for this request.
    pub tools: Vec<ToolDef>,
    /// Whether the model may call several tools in one response.
    pub parallel_tool_calls: bool,
    /// Whether the model reasons and shares summaries: then the Responses
    /// API is asked for the summaries and for the encrypted reasoning, which
    /// later requests carry back so the model keeps its train of thought
    /// across tool calls.
    #[serde(default)]
    pub reasoning: bool,
    /// How the model is asked to work: the configuration's and the
    /// command's settings for every request of the session.
    #[serde(default)]
    pub options: RequestOptions,
}

/// What a request asks of the model beyond the conversation, as codex
/// sends it: reasoning effort and summaries, verbosity, a schema the final
/// answer must match, the provider's own web search.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RequestOptions {
    /// `model_reasoning_effort`; sent to reasoning models only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_effort: Option<ReasoningEffort>,
    /// `model_reasoning_summary`; `None`: `auto` for reasoning models.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_summary: Option<ReasoningSummary>,
    /// `model_verbosity`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verbosity: Option<Verbosity>,
    /// The JSON Schema the final answer must match (`exec
    /// --output-schema`): the answer is asked for as JSON in that shape.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_schema: Option<serde_json::Value>,
    /// Offer the provider's hosted web search (`tools.web_search`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub web_search: bool,
}

impl RequestOptions {
    /// These options as `model` takes them: `model_verbosity` only for a
    /// model whose catalog entry says it supports it (the reasoning
    /// settings are left to the wire, which sends them to reasoning models
    /// only).
    pub fn for_model(&self, model: &ModelInfo) -> RequestOptions {
        RequestOptions {
            verbosity: self.verbosity.filter(|_| model.support_verbosity),
            ..self.clone()
        }
    }
}

/// A tool as a model sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToolDef {
    /// Arguments are a JSON object matching `parameters` (a JSON Schema).
    Function {
        name: String,
        description: String,
        parameters: serde_json::Value,
    },
    /// The input is free text in `grammar` (a Lark grammar), for models
    /// that support it.
    Freeform {
        name: String,
        description: String,
        grammar: String,
    },
}

impl ToolDef {
    pub fn name(&self) -> &str {
        match self {
            ToolDef::Function { name, .. } | ToolDef::Freeform { name, .. } => name,
        }
    }
}

/// Who said a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    User,
    Assistant,
    Developer,
}

/// One item of the conversation, sent or received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResponseItem {
    Message {
        role: Role,
        text: String,
        /// Images the user attached (`wharf exec -i`), sent before the
        /// text; only for models with image input.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        images: Vec<InputImage>,
    },
    /// The model's reasoning, as the summaries it shares.
    Reasoning {
        summary: Vec<String>,
        /// The Responses API's id of the item and its encrypted content
        /// (asked for with `include`, since requests are not stored): both
        /// are needed to hand the reasoning back on the next request.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        encrypted_content: Option<String>,
    },
    /// A call of a function tool; `arguments` is JSON text.
    FunctionCall {
        call_id: String,
        name: String,
        arguments: String,
    },
    /// A call of a freeform tool; `input` is the raw text.
    CustomToolCall {
        call_id: String,
        name: String,
        input: String,
    },
    /// A search the provider's hosted web search made (Responses API,
    /// `tools.web_search`). It stays in the conversation and goes back to
    /// the model, as codex sends it; `action` is the provider's, kept as
    /// sent (a search's `query`, a page opened…).
    WebSearchCall {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<String>,
        #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
        action: serde_json::Value,
    },
    /// What a tool call produced, for the next request.
    ToolOutput {
        call_id: String,
        output: Vec<OutputContent>,
        /// The call failed (the model should read the text as an error).
        is_error: bool,
    },
}

impl ResponseItem {
    /// A message of `role` with no images.
    pub fn text(role: Role, text: impl Into<String>) -> ResponseItem {
        ResponseItem::Message {
            role,
            text: text.into(),
            images: Vec::new(),
        }
    }

    /// What a [`ResponseItem::WebSearchCall`] looked for: its action's
    /// `query` (or the first of its `queries`), else its `url`.
    pub fn web_search_query(action: &serde_json::Value) -> Option<&str> {
        action
            .get("query")
            .or_else(|| action.pointer("/queries/0"))
            .or_else(|| action.get("url"))
            .and_then(serde_json::Value::as_str)
    }
}

/// An image a user attached to a message: its type (`image/png`) and its
/// bytes in base64, as a data URL carries them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputImage {
    pub mime_type: String,
    pub data_base64: String,
}

impl InputImage {
    /// `bytes` as an image to send, its type told by its first bytes: PNG,
    /// JPEG, GIF or WebP (what the providers read). `None`: none of them,
    /// whatever the file's name says.
    pub fn from_bytes(bytes: &[u8]) -> Option<InputImage> {
        use base64::Engine as _;
        let mime_type = if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            "image/png"
        } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
            "image/jpeg"
        } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
            "image/gif"
        } else if bytes.starts_with(b"RIFF") && bytes.get(8..12) == Some(b"WEBP") {
            "image/webp"
        } else {
            return None;
        };
        Some(InputImage {
            mime_type: mime_type.to_owned(),
            data_base64: base64::engine::general_purpose::STANDARD.encode(bytes),
        })
    }

    /// The `data:` URL both wire APIs take.
    pub fn data_url(&self) -> String {
        format!("data:{};base64,{}", self.mime_type, self.data_base64)
    }
}

/// A part of a tool's output as a model receives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OutputContent {
    Text {
        text: String,
    },
    /// Only for models with image input; others get a text placeholder.
    Image {
        mime_type: String,
        data_base64: String,
    },
}

/// Token counts of one response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Usage {
    pub input_tokens: u64,
    pub cached_input_tokens: u64,
    pub output_tokens: u64,
    pub reasoning_output_tokens: u64,
    pub total_tokens: u64,
}

/// What a streamed response says, in order. A response ends with
/// `Completed`, or the stream ends with an error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResponseEvent {
    /// The provider accepted the request. Sent again when a client retries
    /// a stream that failed: drop the partial text since the last
    /// `Created` (items come only from the attempt that completes).
    Created,
    /// More text of the assistant message being written.
    OutputTextDelta { delta: String },
    /// More of a reasoning summary.
    ReasoningSummaryDelta { delta: String },
    /// An item is complete (a message, reasoning, a tool call).
    OutputItemDone { item: ResponseItem },
    Completed {
        response_id: String,
        usage: Option<Usage>,
    },
    /// Something the user should know that does not change the response
    /// (the client's WebSocket transport fell back to HTTP).
    Warning { message: String },
}

/// Why a request or its stream failed, after the client's own retries.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    /// 401/403: retrying cannot help.
    #[error("the provider refused the credentials ({status}): {message}")]
    Unauthorized { status: u16, message: String },
    /// 429 or 5xx on every attempt.
    #[error("the provider kept failing ({status}) after {attempts} attempts: {message}")]
    RetriesExhausted {
        status: u16,
        attempts: u32,
        message: String,
    },
    /// Another HTTP status.
    #[error("the provider answered {status}: {message}")]
    Http { status: u16, message: String },
    /// No event for this long.
    #[error("the stream was idle for {0:?}")]
    Idle(Duration),
    /// The connection ended before the response completed, on every
    /// attempt. The text is what ended it (`connection reset`, `the server
    /// closed the WebSocket`), never a restatement of this message.
    #[error("the stream ended before the response completed: {0}")]
    Dropped(String),
    /// The provider answered `200` and ended the stream before its first
    /// event, twice: it will do so again. Servers do this for requests they
    /// cannot stream (llama-cpp-python when tools are offered).
    #[error(
        "the provider answered {url} with an empty stream (no event at all): it probably cannot \
         stream this request (some servers cannot stream when tools are offered); set \
         `stream = false` under [model_providers.{}] to make unstreamed requests",
        provider.as_deref().unwrap_or("<id>")
    )]
    EmptyStream {
        url: String,
        /// The provider's id, for the hint.
        provider: Option<String>,
    },
    /// The provider's event or the replayed recording does not make sense.
    #[error("{0}")]
    Protocol(String),
    /// Connecting failed (refused, DNS, TLS).
    #[error("cannot reach the provider: {0}")]
    Connect(String),
    #[error("cancelled")]
    Cancelled,
}

/// A model to talk to. Implementations stream on their own thread (or
/// runtime) and hand events over a channel, so the caller is plain,
/// blocking Rust.
pub trait ModelClient: Send + Sync {
    /// Sends `prompt` and returns its events as they arrive.
    fn stream(&self, prompt: &Prompt) -> Result<ResponseStream, ModelError>;
}

mod stream;
#[cfg(test)]
mod tests;

pub use stream::{ResponseSender, ResponseStream, StreamInterrupt};
