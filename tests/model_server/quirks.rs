//! How the scripted server can deviate from OpenAI's API the way real
//! OpenAI-compatible servers do. The defaults are OpenAI's behaviour;
//! [`Quirks::llama_cpp`] is what a llama-cpp-python server (0.3, Chat
//! Completions) was seen doing.
//!
//! A quirk answers before the script is read: a request it turns away does
//! not take a reply from the queue (it is recorded all the same).

use serde_json::{Value, json};

use super::Wire;

/// Server behaviours beyond the script, each off by default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Quirks {
    /// A Chat request with an assistant message that has `tool_calls` and
    /// a `content` that is `null` or missing gets a 500 with a pydantic
    /// validation dump (several lines, long), as llama-cpp-python answers.
    pub strict_assistant_content: bool,
    /// Only Chat Completions is served: `POST …/responses` is a 404 with
    /// FastAPI's `{"detail": "Not Found"}`.
    pub chat_only: bool,
    /// A streamed Chat request that offers tools is answered `200` and a
    /// stream that ends with no event at all (llama-cpp-python with
    /// `tool_choice: "auto"`). Requests with `"stream": false` are
    /// answered normally.
    pub empty_stream_with_tools: bool,
    /// No usage is ever reported: no `usage` chunk on Chat, no
    /// `response.usage` on the Responses API, none in a non-streamed reply.
    pub no_usage: bool,
}

impl Quirks {
    /// Every quirk on: the llama-cpp-python server of issue 20.
    pub fn llama_cpp() -> Quirks {
        Quirks {
            strict_assistant_content: true,
            chat_only: true,
            empty_stream_with_tools: true,
            no_usage: true,
        }
    }

    /// The answer these quirks give `body` sent to `wire` instead of the
    /// script's, if any.
    pub(super) fn answer(&self, wire: &Wire, body: &Value) -> Option<QuirkAnswer> {
        match wire {
            Wire::Responses if self.chat_only => Some(QuirkAnswer::Status {
                status: 404,
                body: json!({ "detail": "Not Found" }).to_string(),
            }),
            Wire::Responses => None,
            Wire::Chat => {
                if self.strict_assistant_content
                    && let Some(index) = assistant_call_without_content(body)
                {
                    return Some(QuirkAnswer::Status {
                        status: 500,
                        body: validation_dump(index),
                    });
                }
                let offers_tools = body["tools"].as_array().is_some_and(|t| !t.is_empty());
                let streamed = body["stream"] != json!(false);
                (self.empty_stream_with_tools && streamed && offers_tools)
                    .then_some(QuirkAnswer::EmptyStream)
            }
        }
    }
}

/// What a quirk answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum QuirkAnswer {
    Status {
        status: u16,
        body: String,
    },
    /// `200`, stream headers, then the end of the body.
    EmptyStream,
}

/// The index of the first assistant message with `tool_calls` whose
/// `content` is `null` or missing.
fn assistant_call_without_content(body: &Value) -> Option<usize> {
    body["messages"].as_array()?.iter().position(|message| {
        message["role"] == "assistant"
            && message.get("tool_calls").is_some()
            && message.get("content").is_none_or(Value::is_null)
    })
}

/// A 500 body the way llama-cpp-python wraps a pydantic error: JSON whose
/// `error.message` is the whole multi-line validation report.
fn validation_dump(index: usize) -> String {
    let kinds = [
        "ChatCompletionRequestSystemMessage",
        "ChatCompletionRequestUserMessage",
        "ChatCompletionRequestAssistantMessage",
        "ChatCompletionRequestToolMessage",
        "ChatCompletionRequestFunctionMessage",
    ];
    let mut report = format!(
        "{} validation errors for CreateChatCompletionRequest",
        kinds.len()
    );
    for kind in kinds {
        report.push_str(&format!(
            "\nmessages.{index}.typed-dict.{kind}.content\n  Input should be a valid string \
             [type=string_type, input_value=None, input_type=NoneType]\n    For further \
             information visit https://errors.pydantic.dev/2.9/v/string_type"
        ));
    }
    json!({
        "error": {
            "message": report,
            "type": "internal_server_error",
            "param": null,
            "code": null,
        }
    })
    .to_string()
}
