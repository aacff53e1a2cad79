//! What real OpenAI-compatible servers need from the wire: an empty
//! `content` beside tool calls, unstreamed answers read into the same
//! steps as streamed ones, and error messages that are short and say what
//! to change.

use serde_json::{Value, json};

use super::super::attempt::{Decoder, Step, error_message, not_found};
use super::super::chat::ChatDecoder;
use super::super::responses::ResponsesDecoder;
use super::super::sse::SseEvent;
use super::super::*;
use crate::protocol::{ResponseItem, Role, ToolDef};

fn call(id: &str) -> ResponseItem {
    ResponseItem::FunctionCall {
        call_id: id.to_owned(),
        name: "exec_command".to_owned(),
        arguments: r#"{"cmd":"ls"}"#.to_owned(),
    }
}

/// A user message, then tool calls with no text before them.
fn calls_only_prompt() -> Prompt {
    Prompt {
        model: "m".to_owned(),
        instructions: String::new(),
        input: vec![
            ResponseItem::text(Role::User, "list"),
            call("c1"),
            call("c2"),
            ResponseItem::ToolOutput {
                call_id: "c1".to_owned(),
                output: Vec::new(),
                is_error: false,
            },
        ],
        tools: vec![ToolDef::Function {
            name: "exec_command".to_owned(),
            description: "run".to_owned(),
            parameters: json!({"type": "object"}),
        }],
        parallel_tool_calls: true,
        reasoning: false,
        options: Default::default(),
    }
}

#[test]
fn tool_calls_without_text_say_an_empty_content() {
    let request = chat_request(&calls_only_prompt());
    let assistant = &request["messages"][1];
    assert_eq!(assistant["role"], json!("assistant"));
    // `""`: not `null`, not missing.
    assert_eq!(assistant.get("content"), Some(&json!("")), "{assistant}");
    assert_eq!(assistant["tool_calls"].as_array().map(Vec::len), Some(2));
}

#[test]
fn an_unstreamed_client_asks_for_the_whole_answer() {
    let config = |stream| ClientConfig {
        stream,
        ..ClientConfig::new("http://127.0.0.1:9/v1")
    };
    let prompt = calls_only_prompt();
    let chat = |stream| {
        let client = ChatClient::new(config(stream)).unwrap();
        client.http.streamed_or_not(chat_request(&prompt))
    };
    let streamed = chat(true);
    assert_eq!(streamed["stream"], json!(true));
    assert_eq!(streamed["stream_options"], json!({"include_usage": true}));
    let whole = chat(false);
    assert_eq!(whole["stream"], json!(false));
    assert!(whole.get("stream_options").is_none(), "{whole}");
    assert_eq!(whole["messages"], streamed["messages"]);

    let responses = ResponsesClient::with_transport(config(false), Transport::WebSocket).unwrap();
    let body = responses.http.streamed_or_not(responses_request(&prompt));
    assert_eq!(body["stream"], json!(false));
}

/// Feeds `chunks` as a stream, as the transport does: up to the
/// completion, or to the end of the body.
fn streamed(decoder: &mut dyn Decoder, chunks: &[Value]) -> Vec<Step> {
    let completed = |steps: &[Step]| matches!(steps.last(), Some(Step::Completed { .. }));
    let mut steps = Vec::new();
    for chunk in chunks {
        let data = match chunk {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        let event = SseEvent {
            event: String::new(),
            data,
        };
        steps.extend(decoder.event(&event).unwrap());
        if completed(&steps) {
            return steps;
        }
    }
    steps.extend(decoder.end().unwrap());
    steps
}

#[test]
fn an_unstreamed_chat_answer_gives_the_steps_of_its_stream() {
    let usage = json!({"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7});
    let arguments = [r#"{"x":1}"#, r#"{"input":"P"}"#];
    let chunk = |delta: Value, finish: Value| json!({"id": "cc1", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]});
    let stream = [
        chunk(
            json!({"role": "assistant", "reasoning_content": "hm"}),
            Value::Null,
        ),
        chunk(json!({"content": "ok"}), Value::Null),
        chunk(
            json!({"tool_calls": [{"index": 0, "id": "a", "function": {"name": "f", "arguments": arguments[0]}}]}),
            Value::Null,
        ),
        chunk(
            json!({"tool_calls": [{"index": 1, "id": "b", "function": {"name": "apply_patch", "arguments": arguments[1]}}]}),
            json!("tool_calls"),
        ),
        json!({"id": "cc1", "choices": [], "usage": usage}),
        json!("[DONE]"),
    ];
    let whole = json!({
        "id": "cc1", "object": "chat.completion",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
            "role": "assistant", "content": "ok", "reasoning_content": "hm",
            "tool_calls": [
                {"id": "a", "type": "function", "function": {"name": "f", "arguments": arguments[0]}},
                {"id": "b", "type": "function", "function": {"name": "apply_patch", "arguments": arguments[1]}},
            ],
        }}],
        "usage": usage,
    });
    let freeform = || ChatDecoder::new(vec!["apply_patch".to_owned()]);
    let expected = streamed(&mut freeform(), &stream);
    assert_eq!(
        expected.last(),
        Some(&Step::Completed {
            response_id: "cc1".to_owned(),
            usage: Some(crate::protocol::Usage {
                input_tokens: 5,
                output_tokens: 2,
                total_tokens: 7,
                ..Default::default()
            }),
        })
    );
    assert_eq!(freeform().whole(&whole).unwrap(), expected);
}

#[test]
fn an_unstreamed_response_gives_the_steps_of_its_stream() {
    let usage = json!({"input_tokens": 10, "output_tokens": 7, "total_tokens": 17});
    let reasoning = json!({"type": "reasoning", "id": "rs", "encrypted_content": "gA",
                           "summary": [{"type": "summary_text", "text": "think"}]});
    let message = json!({"type": "message", "role": "assistant",
                         "content": [{"type": "output_text", "text": "hello"}]});
    let function =
        json!({"type": "function_call", "call_id": "c1", "name": "f", "arguments": "{}"});
    let response = json!({"id": "r1", "object": "response", "status": "completed",
                          "output": [reasoning, message, function], "usage": usage});
    let stream = [
        json!({"type": "response.created", "response": {"id": "r1"}}),
        json!({"type": "response.reasoning_summary_text.delta", "delta": "think"}),
        json!({"type": "response.output_item.done", "item": reasoning}),
        json!({"type": "response.output_text.delta", "delta": "hello"}),
        json!({"type": "response.output_item.done", "item": message}),
        json!({"type": "response.output_item.done", "item": function}),
        json!({"type": "response.completed", "response": response}),
    ];
    let expected = streamed(&mut ResponsesDecoder, &stream);
    assert_eq!(expected.len(), 6, "{expected:?}");
    assert_eq!(ResponsesDecoder.whole(&response).unwrap(), expected);

    // A response that did not complete is an error, as in a stream.
    let incomplete = json!({"id": "r2", "status": "incomplete", "output": [],
                            "incomplete_details": {"reason": "max_output_tokens"}});
    let failure = ResponsesDecoder.whole(&incomplete).unwrap_err();
    assert!(
        format!("{failure:?}").contains("incomplete: max_output_tokens"),
        "{failure:?}"
    );
}

/// Each case: a provider's error body and the message kept from it.
#[test]
fn error_bodies_are_cut_to_their_message() {
    let long_line = "x".repeat(400);
    let kept_of_long = format!("{}…", "x".repeat(300));
    let validation = "5 validation errors for CreateChatCompletionRequest\nmessages.2.content\n  \
                      Input should be a valid string [type=string_type, input_value=None]";
    let cases: Vec<(String, String)> =
        vec![
        (
            json!({"error": {"message": "model not found", "type": "invalid_request_error"}})
                .to_string(),
            "model not found".to_owned(),
        ),
        (
            json!({"error": "quota exceeded"}).to_string(),
            "quota exceeded".to_owned(),
        ),
        (
            json!({"message": "model is loading"}).to_string(),
            "model is loading".to_owned(),
        ),
        (
            json!({"detail": "Not Found"}).to_string(),
            "Not Found".to_owned(),
        ),
        (
            json!({"detail": [{"loc": ["body", "model"], "msg": "Field required"}]}).to_string(),
            "Field required".to_owned(),
        ),
        // A JSON message on several lines is put on one.
        (
            json!({"error": {"message": validation}}).to_string(),
            "5 validation errors for CreateChatCompletionRequest messages.2.content Input \
             should be a valid string [type=string_type, input_value=None]"
                .to_owned(),
        ),
        // Any other body: its first line.
        (
            "Traceback (most recent call last):\n  File \"app.py\", line 3\nKeyError: 'content'"
                .to_owned(),
            "Traceback (most recent call last):".to_owned(),
        ),
        (
            "<html>\n<head><title>502 Bad Gateway</title></head>\n</html>".to_owned(),
            "<html>".to_owned(),
        ),
        // Long: cut, with an ellipsis.
        (json!({"error": {"message": long_line}}).to_string(), kept_of_long.clone()),
        (long_line.clone(), kept_of_long),
        // Nothing: the status's name.
        ("  \n".to_owned(), "Internal Server Error".to_owned()),
    ];
    for (body, expected) in cases {
        assert_eq!(
            error_message(&body, reqwest::StatusCode::INTERNAL_SERVER_ERROR),
            expected,
            "{body}"
        );
    }
}

#[test]
fn a_404_names_the_url_and_what_to_change() {
    let responses = reqwest::Url::parse("http://127.0.0.1:8000/v1/responses").unwrap();
    let error = not_found(&responses, Some("local"), "Not Found");
    assert_eq!(
        error.to_string(),
        "the provider answered 404: there is no Responses API at \
         http://127.0.0.1:8000/v1/responses (Not Found); if the server speaks Chat Completions, \
         set `wire_api = \"chat\"` under [model_providers.local]"
    );
    let chat = reqwest::Url::parse("http://127.0.0.1:8000/chat/completions").unwrap();
    assert_eq!(
        not_found(&chat, None, "no such route").to_string(),
        "the provider answered 404: there is nothing at http://127.0.0.1:8000/chat/completions \
         (no such route); check `base_url` under [model_providers.<id>]"
    );
}

#[test]
fn an_empty_stream_names_the_option_to_set() {
    let error = ModelError::EmptyStream {
        url: "http://h/v1/chat/completions".to_owned(),
        provider: Some("llama".to_owned()),
    };
    let message = error.to_string();
    assert!(
        message.contains("http://h/v1/chat/completions"),
        "{message}"
    );
    assert!(
        message.contains("set `stream = false` under [model_providers.llama]"),
        "{message}"
    );
}
