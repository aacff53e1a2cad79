// A failed setup step fails the test, which is what unwrap says.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::{Value, json};

use super::attempt::{Attempt, Decoder, Step, StreamFailure, backoff, retry_after};
use super::chat::ChatDecoder;
use super::responses::ResponsesDecoder;
use super::sse::{SseEvent, SseParser};
use super::websocket::{error_event, request_frame, websocket_url};
use super::*;
use crate::models::ModelInfo;
use crate::protocol::{
    OutputContent, RequestOptions, ResponseEvent, ResponseItem, Role, ToolDef, Usage,
};
use wharf_config::Source;
use wharf_config::features::{FeatureRegistry, FeatureSetting};

fn prompt() -> Prompt {
    Prompt {
        model: "gpt-test".to_owned(),
        instructions: "be brief".to_owned(),
        input: vec![
            ResponseItem::Message {
                role: Role::User,
                text: "fix it".to_owned(),
                images: Vec::new(),
            },
            ResponseItem::Reasoning {
                summary: vec!["looking".to_owned()],
                id: None,
                encrypted_content: None,
            },
            ResponseItem::Message {
                role: Role::Assistant,
                text: "running".to_owned(),
                images: Vec::new(),
            },
            ResponseItem::FunctionCall {
                call_id: "c1".to_owned(),
                name: "exec_command".to_owned(),
                arguments: r#"{"cmd":"ls"}"#.to_owned(),
            },
            ResponseItem::CustomToolCall {
                call_id: "c2".to_owned(),
                name: "apply_patch".to_owned(),
                input: "*** Begin Patch".to_owned(),
            },
            ResponseItem::ToolOutput {
                call_id: "c1".to_owned(),
                output: vec![
                    OutputContent::Text {
                        text: "a.txt".to_owned(),
                    },
                    OutputContent::Image {
                        mime_type: "image/png".to_owned(),
                        data_base64: "iVBO".to_owned(),
                    },
                ],
                is_error: false,
            },
            ResponseItem::ToolOutput {
                call_id: "c2".to_owned(),
                output: vec![OutputContent::Text {
                    text: "Done!".to_owned(),
                }],
                is_error: true,
            },
        ],
        tools: vec![
            ToolDef::Function {
                name: "exec_command".to_owned(),
                description: "run".to_owned(),
                parameters: json!({"type": "object"}),
            },
            ToolDef::Freeform {
                name: "apply_patch".to_owned(),
                description: "patch".to_owned(),
                grammar: "start: x".to_owned(),
            },
        ],
        parallel_tool_calls: true,
        reasoning: false,
        options: Default::default(),
    }
}

#[test]
fn responses_request_has_the_api_shape() {
    assert_eq!(
        responses_request(&prompt()),
        json!({
            "model": "gpt-test",
            "instructions": "be brief",
            "input": [
                {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "fix it"}]},
                {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "running"}]},
                {"type": "function_call", "call_id": "c1", "name": "exec_command", "arguments": "{\"cmd\":\"ls\"}"},
                {"type": "custom_tool_call", "call_id": "c2", "name": "apply_patch", "input": "*** Begin Patch"},
                {"type": "function_call_output", "call_id": "c1", "output": [
                    {"type": "input_text", "text": "a.txt"},
                    {"type": "input_image", "image_url": "data:image/png;base64,iVBO"},
                ]},
                {"type": "custom_tool_call_output", "call_id": "c2", "output": "Done!"},
            ],
            "tools": [
                {"type": "function", "name": "exec_command", "description": "run", "strict": false,
                 "parameters": {"type": "object"}},
                {"type": "custom", "name": "apply_patch", "description": "patch",
                 "format": {"type": "grammar", "syntax": "lark", "definition": "start: x"}},
            ],
            "tool_choice": "auto",
            "parallel_tool_calls": true,
            "store": false,
            "stream": true,
        })
    );
}

/// A reasoning model is asked for summaries and the encrypted reasoning,
/// and its reasoning items go back with their id and that content; one
/// without them (a Chat provider's) stays out.
#[test]
fn reasoning_is_asked_for_and_carried_back() {
    let mut prompt = prompt();
    prompt.reasoning = true;
    prompt.input.insert(
        1,
        ResponseItem::Reasoning {
            summary: vec!["plan".to_owned()],
            id: Some("rs_1".to_owned()),
            encrypted_content: Some("gAAAA".to_owned()),
        },
    );
    let body = responses_request(&prompt);
    assert_eq!(body["reasoning"], json!({"summary": "auto"}));
    assert_eq!(body["include"], json!(["reasoning.encrypted_content"]));
    let input = body["input"].as_array().unwrap();
    assert_eq!(
        input[1],
        json!({"type": "reasoning", "id": "rs_1", "encrypted_content": "gAAAA",
               "summary": [{"type": "summary_text", "text": "plan"}]})
    );
    // The item without an id (index 2 of the prompt) is not sent.
    let reasoning = input
        .iter()
        .filter(|item| item["type"] == "reasoning")
        .count();
    assert_eq!(reasoning, 1);
    // Not a reasoning model: neither key.
    let body = responses_request(&Prompt {
        reasoning: false,
        ..prompt
    });
    assert!(body.get("include").is_none() && body.get("reasoning").is_none());
}

#[test]
fn chat_request_has_the_api_shape() {
    let request = chat_request(&prompt());
    assert_eq!(
        request["messages"],
        json!([
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "fix it"},
            {"role": "assistant", "content": "running", "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "exec_command", "arguments": "{\"cmd\":\"ls\"}"}},
                {"id": "c2", "type": "function", "function": {"name": "apply_patch",
                 "arguments": "{\"input\":\"*** Begin Patch\"}"}},
            ]},
            {"role": "tool", "tool_call_id": "c1", "content": "a.txt"},
            {"role": "tool", "tool_call_id": "c2", "content": "Done!"},
        ])
    );
    assert_eq!(request["stream"], json!(true));
    assert_eq!(request["stream_options"], json!({"include_usage": true}));
    assert_eq!(request["tool_choice"], json!("auto"));
    assert_eq!(request["parallel_tool_calls"], json!(true));
    assert_eq!(
        request["tools"][0],
        json!({"type": "function", "function": {"name": "exec_command", "description": "run",
               "parameters": {"type": "object"}}})
    );
    assert_eq!(
        request["tools"][1]["function"]["name"],
        json!("apply_patch")
    );
    assert_eq!(
        request["tools"][1]["function"]["parameters"]["required"],
        json!(["input"])
    );
}

#[test]
fn chat_request_without_tools_names_none() {
    let mut prompt = prompt();
    prompt.tools.clear();
    let request = chat_request(&prompt);
    for key in ["tools", "tool_choice", "parallel_tool_calls"] {
        assert!(request.get(key).is_none(), "{key} in {request}");
    }
}

/// `model_reasoning_effort`, `model_reasoning_summary`, `model_verbosity`,
/// `--output-schema` and `tools.web_search` on both wires: each case is a
/// prompt's options and whether the model reasons, then the keys the
/// Responses body and the Chat body have for them (`null`: absent).
#[test]
fn request_options_reach_both_wires_as_codex_sends_them() {
    let schema = json!({"type": "object", "properties": {"ok": {"type": "boolean"}},
                        "required": ["ok"], "additionalProperties": false});
    let options = |value: Value| -> RequestOptions { serde_json::from_value(value).unwrap() };
    let cases = [
        (
            "a reasoning model, nothing configured: summaries on auto",
            true,
            options(json!({})),
            json!({"reasoning": {"summary": "auto"}, "text": null, "web_search": null}),
            json!({"reasoning_effort": null, "response_format": null}),
        ),
        (
            "effort and summary configured",
            true,
            options(json!({"reasoning_effort": "high", "reasoning_summary": "detailed"})),
            json!({"reasoning": {"effort": "high", "summary": "detailed"}, "text": null,
                   "web_search": null}),
            json!({"reasoning_effort": "high", "response_format": null}),
        ),
        (
            "summaries off, effort xhigh",
            true,
            options(json!({"reasoning_effort": "xhigh", "reasoning_summary": "none"})),
            json!({"reasoning": {"effort": "xhigh"}, "text": null, "web_search": null}),
            json!({"reasoning_effort": "xhigh", "response_format": null}),
        ),
        (
            "a model that does not reason gets no reasoning settings",
            false,
            options(json!({"reasoning_effort": "low", "reasoning_summary": "concise"})),
            json!({"reasoning": null, "text": null, "web_search": null}),
            json!({"reasoning_effort": null, "response_format": null}),
        ),
        (
            "verbosity",
            false,
            options(json!({"verbosity": "low"})),
            json!({"reasoning": null, "text": {"verbosity": "low"}, "web_search": null}),
            json!({"reasoning_effort": null, "response_format": null}),
        ),
        (
            "an output schema, with verbosity",
            false,
            options(json!({"verbosity": "high", "output_schema": schema})),
            json!({"reasoning": null, "text": {"verbosity": "high", "format": {
                "type": "json_schema", "name": "wharf_output_schema", "strict": true,
                "schema": schema}}, "web_search": null}),
            json!({"reasoning_effort": null, "response_format": {"type": "json_schema",
                "json_schema": {"name": "wharf_output_schema", "strict": true, "schema": schema}}}),
        ),
        (
            "web search: the hosted tool after the session's (Chat has none)",
            false,
            options(json!({"web_search": true})),
            json!({"reasoning": null, "text": null, "web_search": {"type": "web_search"}}),
            json!({"reasoning_effort": null, "response_format": null}),
        ),
    ];
    for (name, reasoning, options, responses, chat) in cases {
        let prompt = Prompt {
            reasoning,
            options,
            ..prompt()
        };
        let body = responses_request(&prompt);
        let tools = body["tools"].as_array().unwrap();
        let hosted = tools.iter().find(|tool| tool["type"] == "web_search");
        let seen = json!({
            "reasoning": body.get("reasoning"),
            "text": body.get("text"),
            "web_search": hosted,
        });
        assert_eq!(seen, responses, "responses: {name}");
        if hosted.is_some() {
            assert_eq!(tools.last(), hosted, "{name}");
            assert_eq!(tools.len(), prompt.tools.len() + 1, "{name}");
        }
        let request = chat_request(&prompt);
        let seen = json!({
            "reasoning_effort": request.get("reasoning_effort"),
            "response_format": request.get("response_format"),
        });
        assert_eq!(seen, chat, "chat: {name}");
        assert_eq!(
            request["tools"].as_array().unwrap().len(),
            prompt.tools.len(),
            "chat tools: {name}"
        );
        for key in ["verbosity", "text", "reasoning"] {
            assert!(request.get(key).is_none(), "chat {key}: {name}");
        }
    }
}

/// Verbosity reaches a model only when its catalog entry takes it.
#[test]
fn verbosity_is_dropped_for_models_that_do_not_take_it() {
    let options = RequestOptions {
        verbosity: Some(crate::protocol::Verbosity::Low),
        reasoning_effort: Some(crate::protocol::ReasoningEffort::High),
        web_search: true,
        ..RequestOptions::default()
    };
    let taking = ModelInfo {
        support_verbosity: true,
        ..ModelInfo::unknown("m")
    };
    assert_eq!(options.for_model(&taking), options);
    let other = options.for_model(&ModelInfo::unknown("m"));
    assert_eq!(other.verbosity, None);
    assert_eq!(
        RequestOptions {
            verbosity: None,
            ..other
        },
        RequestOptions {
            verbosity: None,
            ..options
        }
    );
}

/// Attached images: `input_image` data URLs before the text on Responses,
/// `image_url` parts before the text on Chat; a message without images
/// keeps its plain shape, and an older rollout's message (no `images`)
/// loads.
#[test]
fn attached_images_go_before_the_prompt_on_both_wires() {
    let image = crate::protocol::InputImage {
        mime_type: "image/png".to_owned(),
        data_base64: "iVBORw0K".to_owned(),
    };
    let mut prompt = prompt();
    prompt.input[0] = ResponseItem::Message {
        role: Role::User,
        text: "what is this?".to_owned(),
        images: vec![image.clone(), image],
    };
    let url = "data:image/png;base64,iVBORw0K";
    assert_eq!(
        responses_request(&prompt)["input"][0],
        json!({"type": "message", "role": "user", "content": [
            {"type": "input_image", "image_url": url},
            {"type": "input_image", "image_url": url},
            {"type": "input_text", "text": "what is this?"},
        ]})
    );
    assert_eq!(
        chat_request(&prompt)["messages"][1],
        json!({"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": url}},
            {"type": "image_url", "image_url": {"url": url}},
            {"type": "text", "text": "what is this?"},
        ]})
    );
    let old: ResponseItem =
        serde_json::from_value(json!({"type": "message", "role": "user", "text": "hi"})).unwrap();
    assert_eq!(old, ResponseItem::text(Role::User, "hi"));
    assert_eq!(
        serde_json::to_value(&old).unwrap(),
        json!({"type": "message", "role": "user", "text": "hi"})
    );
}

/// A hosted web search the provider made goes back to it, without its id
/// (requests are not stored), as codex sends it; Chat leaves it out.
#[test]
fn web_search_calls_go_back_to_the_responses_api_only() {
    let action = json!({"type": "search", "query": "rust 2024 edition"});
    let mut prompt = prompt();
    prompt.input.insert(
        1,
        ResponseItem::WebSearchCall {
            id: Some("ws_1".to_owned()),
            status: Some("completed".to_owned()),
            action: action.clone(),
        },
    );
    assert_eq!(
        responses_request(&prompt)["input"][1],
        json!({"type": "web_search_call", "status": "completed", "action": action})
    );
    assert_eq!(
        ResponseItem::web_search_query(&action),
        Some("rust 2024 edition")
    );
    let messages = chat_request(&prompt)["messages"].clone();
    assert_eq!(messages, chat_request(&self::prompt())["messages"]);
}

#[test]
fn sse_parser_handles_split_chunks_comments_and_crlf() {
    let text =
        ": keep-alive\r\nevent: a\r\ndata: {\"x\":\r\ndata: 1}\r\n\r\ndata: é\n\ndata: [DONE]";
    let bytes = text.as_bytes();
    // Every split point, including inside the two-byte `é`.
    for split in 0..bytes.len() {
        let mut parser = SseParser::new();
        let mut events = parser.push(&bytes[..split]);
        events.extend(parser.push(&bytes[split..]));
        events.extend(parser.finish());
        assert_eq!(
            events,
            vec![
                SseEvent {
                    event: "a".to_owned(),
                    data: "{\"x\":\n1}".to_owned()
                },
                SseEvent {
                    event: String::new(),
                    data: "é".to_owned()
                },
                SseEvent {
                    event: String::new(),
                    data: "[DONE]".to_owned()
                },
            ],
            "split at {split}"
        );
    }
}

fn decode(decoder: &mut dyn Decoder, events: &[Value]) -> Result<Vec<Step>, StreamFailure> {
    let mut steps = Vec::new();
    for data in events {
        steps.extend(decoder.event(&SseEvent {
            event: String::new(),
            data: data.to_string(),
        })?);
    }
    steps.extend(decoder.end()?);
    Ok(steps)
}

#[test]
fn responses_events_map_to_steps() {
    let usage = json!({"input_tokens": 10, "input_tokens_details": {"cached_tokens": 4},
                       "output_tokens": 7, "output_tokens_details": {"reasoning_tokens": 3},
                       "total_tokens": 17});
    let events = [
        json!({"type": "response.created", "response": {"id": "r1"}}),
        json!({"type": "response.reasoning_summary_text.delta", "delta": "thin"}),
        json!({"type": "response.output_item.done", "item": {"type": "reasoning", "id": "rs",
               "summary": [{"type": "summary_text", "text": "think"}, {"type": "summary_text", "text": "more"}],
               "encrypted_content": "gAAAA"}}),
        json!({"type": "response.output_text.delta", "delta": "he"}),
        json!({"type": "response.output_item.done", "item": {"type": "message", "role": "assistant",
               "content": [{"type": "output_text", "text": "he"}, {"type": "output_text", "text": "llo"}]}}),
        json!({"type": "response.function_call_arguments.delta", "delta": "{}"}),
        json!({"type": "response.output_item.done", "item": {"type": "function_call", "call_id": "c1",
               "name": "f", "arguments": "{}"}}),
        json!({"type": "response.output_item.done", "item": {"type": "custom_tool_call", "call_id": "c2",
               "name": "apply_patch", "input": "patch"}}),
        json!({"type": "response.output_item.done", "item": {"type": "web_search_call", "id": "w"}}),
        json!({"type": "response.completed", "response": {"id": "r1", "usage": usage}}),
    ];
    let steps = decode(&mut ResponsesDecoder, &events).unwrap();
    assert_eq!(
        steps,
        vec![
            Step::Forward(ResponseEvent::ReasoningSummaryDelta {
                delta: "thin".to_owned()
            }),
            Step::Item(ResponseItem::Reasoning {
                summary: vec!["think".to_owned(), "more".to_owned()],
                id: Some("rs".to_owned()),
                encrypted_content: Some("gAAAA".to_owned()),
            }),
            Step::Forward(ResponseEvent::OutputTextDelta {
                delta: "he".to_owned()
            }),
            Step::Item(ResponseItem::Message {
                role: Role::Assistant,
                text: "hello".to_owned(),
                images: Vec::new(),
            }),
            Step::Item(ResponseItem::FunctionCall {
                call_id: "c1".to_owned(),
                name: "f".to_owned(),
                arguments: "{}".to_owned()
            }),
            Step::Item(ResponseItem::CustomToolCall {
                call_id: "c2".to_owned(),
                name: "apply_patch".to_owned(),
                input: "patch".to_owned()
            }),
            Step::Item(ResponseItem::WebSearchCall {
                id: Some("w".to_owned()),
                status: None,
                action: Value::Null,
            }),
            Step::Completed {
                response_id: "r1".to_owned(),
                usage: Some(Usage {
                    input_tokens: 10,
                    cached_input_tokens: 4,
                    output_tokens: 7,
                    reasoning_output_tokens: 3,
                    total_tokens: 17
                })
            },
        ]
    );
}

#[test]
fn responses_failures_are_retried_only_when_transient() {
    let failed = |code: &str| json!({"type": "response.failed", "response": {"error": {"code": code, "message": "m"}}});
    let cases = [
        (failed("rate_limit_exceeded"), true),
        (failed("server_error"), true),
        (failed("context_length_exceeded"), false),
        (failed("insufficient_quota"), false),
        (
            json!({"type": "error", "error": {"code": "server_error", "message": "m"}}),
            true,
        ),
        (
            json!({"type": "response.incomplete", "response": {"incomplete_details": {"reason": "max_output_tokens"}}}),
            false,
        ),
    ];
    for (event, retried) in cases {
        let failure = decode(&mut ResponsesDecoder, std::slice::from_ref(&event)).unwrap_err();
        assert_eq!(
            matches!(failure, StreamFailure::Retry(_)),
            retried,
            "{event}: {failure:?}"
        );
    }
    let failure = decode(&mut ResponsesDecoder, &[failed("context_length_exceeded")]);
    assert_eq!(
        failure,
        Err(StreamFailure::Fatal(ModelError::Protocol(
            "the provider failed the response (context_length_exceeded): m".to_owned()
        )))
    );
}

#[test]
fn chat_deltas_assemble_into_items() {
    let chunk = |delta: Value| json!({"id": "cc1", "choices": [{"index": 0, "delta": delta, "finish_reason": null}]});
    let events = [
        chunk(json!({"role": "assistant", "content": ""})),
        chunk(json!({"reasoning_content": "hm"})),
        chunk(json!({"content": "ok"})),
        // Two calls, their deltas interleaved by index.
        chunk(
            json!({"tool_calls": [{"index": 0, "id": "a", "type": "function", "function": {"name": "f", "arguments": ""}}]}),
        ),
        chunk(
            json!({"tool_calls": [{"index": 1, "id": "b", "type": "function", "function": {"name": "apply_patch", "arguments": "{\"inp"}}]}),
        ),
        chunk(json!({"tool_calls": [{"index": 0, "function": {"arguments": "{\"x\":"}}]})),
        chunk(json!({"tool_calls": [{"index": 1, "function": {"arguments": "ut\":\"P\"}"}}]})),
        chunk(json!({"tool_calls": [{"index": 0, "function": {"arguments": "1}"}}]})),
        json!({"id": "cc1", "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}),
        json!({"id": "cc1", "choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}}),
    ];
    let mut decoder = ChatDecoder::new(vec!["apply_patch".to_owned()]);
    let mut steps = decode(&mut decoder, &events).unwrap();
    // Without `[DONE]`, a finished stream completes at its end; with it,
    // the same.
    let mut with_done = ChatDecoder::new(vec!["apply_patch".to_owned()]);
    let mut done_steps = Vec::new();
    for data in &events {
        done_steps.extend(
            with_done
                .event(&SseEvent {
                    event: String::new(),
                    data: data.to_string(),
                })
                .unwrap(),
        );
    }
    done_steps.extend(
        with_done
            .event(&SseEvent {
                event: String::new(),
                data: "[DONE]".to_owned(),
            })
            .unwrap(),
    );
    assert_eq!(steps, done_steps);
    let completed = steps.pop().unwrap();
    assert_eq!(
        completed,
        Step::Completed {
            response_id: "cc1".to_owned(),
            usage: Some(Usage {
                input_tokens: 5,
                output_tokens: 2,
                total_tokens: 7,
                ..Usage::default()
            })
        }
    );
    assert_eq!(
        steps,
        vec![
            Step::Forward(ResponseEvent::ReasoningSummaryDelta {
                delta: "hm".to_owned()
            }),
            Step::Forward(ResponseEvent::OutputTextDelta {
                delta: "ok".to_owned()
            }),
            Step::Item(ResponseItem::Reasoning {
                summary: vec!["hm".to_owned()],
                id: None,
                encrypted_content: None,
            }),
            Step::Item(ResponseItem::Message {
                role: Role::Assistant,
                text: "ok".to_owned(),
                images: Vec::new(),
            }),
            Step::Item(ResponseItem::FunctionCall {
                call_id: "a".to_owned(),
                name: "f".to_owned(),
                arguments: "{\"x\":1}".to_owned()
            }),
            Step::Item(ResponseItem::CustomToolCall {
                call_id: "b".to_owned(),
                name: "apply_patch".to_owned(),
                input: "P".to_owned()
            }),
        ]
    );
}

#[test]
fn chat_stream_without_finish_is_not_complete() {
    let events = [json!({"id": "x", "choices": [{"index": 0, "delta": {"content": "par"}}]})];
    let steps = decode(&mut ChatDecoder::default(), &events).unwrap();
    assert!(
        !steps
            .iter()
            .any(|step| matches!(step, Step::Completed { .. })),
        "{steps:?}"
    );
}

#[test]
fn chat_error_chunk_is_fatal() {
    let events = [json!({"error": {"message": "model not found"}})];
    assert_eq!(
        decode(&mut ChatDecoder::default(), &events),
        Err(StreamFailure::Fatal(ModelError::Protocol(
            "the provider failed the response: model not found".to_owned()
        )))
    );
}

#[test]
fn retry_after_headers() {
    type Headers = &'static [(&'static str, &'static str)];
    let cases: [(Headers, Option<Duration>); 6] = [
        (&[], None),
        (&[("retry-after", "2")], Some(Duration::from_secs(2))),
        (&[("retry-after", "0.5")], Some(Duration::from_millis(500))),
        (
            &[("retry-after-ms", "250"), ("retry-after", "9")],
            Some(Duration::from_millis(250)),
        ),
        (&[("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")], None),
        (&[("retry-after", "86400")], Some(Duration::from_secs(120))),
    ];
    for (headers, expected) in cases {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.insert(*name, HeaderValue::from_static(value));
        }
        assert_eq!(retry_after(&map), expected, "{headers:?}");
    }
}

#[test]
fn backoff_doubles_with_jitter_up_to_the_cap() {
    let config = ClientConfig {
        retry_base_delay: Duration::from_millis(100),
        retry_max_delay: Duration::from_millis(1000),
        ..ClientConfig::new("http://127.0.0.1:1")
    };
    for (retry, nominal) in [
        (1, 100),
        (2, 200),
        (3, 400),
        (4, 800),
        (5, 1000),
        (40, 1000),
    ] {
        let delay = backoff(&config, retry, None).as_secs_f64() * 1000.0;
        let nominal = f64::from(nominal);
        assert!(
            (nominal * 0.9..=nominal * 1.1).contains(&delay),
            "retry {retry}: {delay} ms"
        );
    }
    assert_eq!(
        backoff(&config, 1, Some(Duration::from_secs(3))),
        Duration::from_secs(3)
    );
}

#[test]
fn config_from_provider_reads_key_and_headers_through_env() {
    let mut provider = ModelProviderInfo::new("p", "http://127.0.0.1:9/v1/", WireApi::Chat);
    provider.env_key = Some("P_KEY".to_owned());
    provider.env_http_headers = [("X-Org".to_owned(), "P_ORG".to_owned())].into();
    provider.query_params = [("api-version".to_owned(), "2025 01".to_owned())].into();
    provider.request_max_retries = 1000;
    let env = |name: &str| match name {
        "P_KEY" => Some("sk-1".to_owned()),
        "P_ORG" => Some("org".to_owned()),
        _ => None,
    };
    let config = ClientConfig::from_provider(&provider, &env).unwrap();
    assert_eq!(config.api_key.as_deref(), Some("sk-1"));
    assert_eq!(config.headers.get("X-Org").map(String::as_str), Some("org"));
    assert_eq!(config.request_max_retries, 100);
    assert_eq!(
        config.url("chat/completions").unwrap().as_str(),
        "http://127.0.0.1:9/v1/chat/completions?api-version=2025+01"
    );
    assert!(!format!("{config:?}").contains("sk-1"));

    let missing = ClientConfig::from_provider(&provider, &|_| None).unwrap_err();
    assert!(missing.to_string().contains("P_KEY"), "{missing}");
}

#[test]
fn websocket_urls_keep_path_and_query() {
    let cases = [
        (
            "http://127.0.0.1:9/v1/responses",
            Ok("ws://127.0.0.1:9/v1/responses"),
        ),
        (
            "https://api.openai.com/v1/responses?api-version=1",
            Ok("wss://api.openai.com/v1/responses?api-version=1"),
        ),
        (
            "ftp://example.com/v1/responses",
            Err("the WebSocket transport needs an http or https URL, not `ftp`"),
        ),
    ];
    for (url, expected) in cases {
        let url = reqwest::Url::parse(url).unwrap();
        let got = websocket_url(&url).map(|url| url.to_string());
        match (got, expected) {
            (Ok(got), Ok(expected)) => assert_eq!(got, expected),
            (Err(err), Err(expected)) => assert!(err.to_string().contains(expected), "{err}"),
            (got, expected) => panic!("{url}: {got:?}, expected {expected:?}"),
        }
    }
    // A wss client sets up TLS at construction; an unusable URL fails there.
    let config = ClientConfig::new("https://api.openai.com/v1");
    ResponsesClient::with_transport(config, Transport::WebSocket).unwrap();
    let config = ClientConfig::new("ftp://example.com/v1");
    assert!(ResponsesClient::with_transport(config.clone(), Transport::WebSocket).is_err());
    ResponsesClient::with_transport(config, Transport::Http).unwrap();
}

#[test]
fn the_websocket_frame_is_the_post_body_with_its_type() {
    let body = responses_request(&prompt());
    let frame: Value = serde_json::from_str(&request_frame(&body).unwrap()).unwrap();
    let mut expected = body;
    expected["type"] = json!("response.create");
    assert_eq!(frame, expected);
}

#[test]
fn websocket_error_events_map_like_http_statuses() {
    let message = |text: &str| text.to_owned();
    let cases = [
        (
            json!({"type": "error", "status": 401, "error": {"message": "bad key"}}),
            Some(Attempt::Fatal(ModelError::Unauthorized {
                status: 401,
                message: message("bad key"),
            })),
        ),
        (
            json!({"type": "error", "status": 429, "error": {"message": "slow"},
                   "headers": {"retry-after-ms": "1500"}}),
            Some(Attempt::RetryRequest {
                status: Some(429),
                message: message("slow"),
                retry_after: Some(Duration::from_millis(1500)),
            }),
        ),
        (
            json!({"type": "error", "status": 502, "error": {"message": "gateway"}}),
            Some(Attempt::RetryRequest {
                status: Some(502),
                message: message("gateway"),
                retry_after: None,
            }),
        ),
        (
            json!({"type": "error", "status": 400, "error": {"message": "bad input"}}),
            Some(Attempt::Fatal(ModelError::Http {
                status: 400,
                message: message("bad input"),
            })),
        ),
        (
            json!({"type": "error", "error": {"code": "websocket_connection_limit_reached",
                   "message": "too many"}}),
            Some(Attempt::RetryRequest {
                status: Some(429),
                message: message("too many"),
                retry_after: None,
            }),
        ),
        // No status: the decoder's (`response.failed`-like) business.
        (
            json!({"type": "error", "error": {"code": "server_error", "message": "oops"}}),
            None,
        ),
        (
            json!({"type": "response.output_text.delta", "delta": "hi"}),
            None,
        ),
    ];
    for (event, expected) in cases {
        assert_eq!(error_event(&event.to_string()), expected, "{event}");
    }
}

#[test]
fn the_transport_follows_the_model_and_the_feature() {
    let registry =
        FeatureRegistry::from_toml(include_str!("../../../../cli/features.toml")).unwrap();
    let setting = |enabled| FeatureSetting {
        key: RESPONSES_WEBSOCKETS.to_owned(),
        enabled,
        source: Source::Flag("--enable"),
    };
    let (off, _) = Features::resolve(&registry, &[], false);
    let (on, _) = Features::resolve(&registry, &[setting(true)], false);
    let plain = ModelInfo::unknown("m");
    let preferring = ModelInfo {
        prefer_websockets: true,
        ..ModelInfo::unknown("m")
    };
    assert_eq!(Transport::for_model(&plain, &off), Transport::Http);
    assert_eq!(Transport::for_model(&plain, &on), Transport::WebSocket);
    assert_eq!(
        Transport::for_model(&preferring, &off),
        Transport::WebSocket
    );
}

mod compat;
