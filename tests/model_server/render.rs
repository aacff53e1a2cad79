//! How a [`Turn`] is rendered on each wire: the Responses API's events
//! (SSE frames, or WebSocket text frames) and Chat's streamed chunks.

use serde_json::{Value, json};

use super::{Call, CallKind, Rendered, Turn, TurnItem, TurnUsage};

/// A text in two deltas (the first half may be empty for a short text).
fn halves(text: &str) -> [&str; 2] {
    let middle = text
        .char_indices()
        .nth(text.chars().count() / 2)
        .map_or(text.len(), |(index, _)| index);
    [&text[..middle], &text[middle..]]
}

fn responses_frame(data: &Value) -> String {
    let kind = data["type"].as_str().unwrap_or("message");
    format!("event: {kind}\ndata: {data}\n\n")
}

pub(super) fn render_responses(
    turn: &Turn,
    number: usize,
    usage: Option<TurnUsage>,
    call_id: impl FnMut(&Call) -> String,
) -> Rendered {
    let events = responses_events(turn, number, usage, call_id);
    Rendered {
        frames: events.events.iter().map(responses_frame).collect(),
        mid_item: events.mid_item,
    }
}

/// The Responses API's events of a turn, each one the JSON an SSE `data:`
/// or a WebSocket text frame carries, and the index of the event after
/// which its last item is half sent.
pub(super) struct Events {
    pub(super) events: Vec<Value>,
    pub(super) mid_item: usize,
}

pub(super) fn responses_events(
    turn: &Turn,
    number: usize,
    usage: Option<TurnUsage>,
    mut call_id: impl FnMut(&Call) -> String,
) -> Events {
    let response_id = format!("resp_{number}");
    let mut frames = vec![json!({
        "type": "response.created",
        "response": { "id": response_id, "status": "in_progress", "output": [] },
    })];
    let mut mid_item = 0;
    let mut output = Vec::new();
    for (index, item) in turn.items.iter().enumerate() {
        let item_id = format!("item_{number}_{index}");
        let (added, delta_type, text, done) = match item {
            TurnItem::Reasoning(summary) => (
                json!({ "type": "reasoning", "id": item_id, "summary": [] }),
                "response.reasoning_summary_text.delta",
                summary.clone(),
                json!({ "type": "reasoning", "id": item_id,
                        "summary": [{ "type": "summary_text", "text": summary }] }),
            ),
            TurnItem::Text(text) => (
                json!({ "type": "message", "id": item_id, "role": "assistant",
                        "status": "in_progress", "content": [] }),
                "response.output_text.delta",
                text.clone(),
                json!({ "type": "message", "id": item_id, "role": "assistant", "status": "completed",
                        "content": [{ "type": "output_text", "text": text, "annotations": [] }] }),
            ),
            TurnItem::Call(call) => {
                let id = call_id(call);
                match &call.kind {
                    CallKind::Function(arguments) => {
                        let arguments = arguments.to_string();
                        (
                            json!({ "type": "function_call", "id": item_id, "call_id": id,
                                    "name": call.name, "arguments": "", "status": "in_progress" }),
                            "response.function_call_arguments.delta",
                            arguments.clone(),
                            json!({ "type": "function_call", "id": item_id, "call_id": id,
                                    "name": call.name, "arguments": arguments, "status": "completed" }),
                        )
                    }
                    CallKind::Custom(input) => (
                        json!({ "type": "custom_tool_call", "id": item_id, "call_id": id,
                                "name": call.name, "input": "", "status": "in_progress" }),
                        "response.custom_tool_call_input.delta",
                        input.clone(),
                        json!({ "type": "custom_tool_call", "id": item_id, "call_id": id,
                                "name": call.name, "input": input, "status": "completed" }),
                    ),
                }
            }
        };
        frames.push(json!({
            "type": "response.output_item.added", "output_index": index, "item": added,
        }));
        for (part, delta) in halves(&text).into_iter().enumerate() {
            frames.push(json!({
                "type": delta_type, "item_id": item_id, "output_index": index, "delta": delta,
            }));
            if part == 0 {
                mid_item = frames.len() - 1;
            }
        }
        frames.push(json!({
            "type": "response.output_item.done", "output_index": index, "item": done,
        }));
        output.push(done);
    }
    let mut response = json!({
        "id": response_id,
        "object": "response",
        "status": "completed",
        "output": output,
    });
    if let Some(usage) = usage {
        response["usage"] = json!({
            "input_tokens": usage.input_tokens,
            "input_tokens_details": { "cached_tokens": usage.cached_input_tokens },
            "output_tokens": usage.output_tokens,
            "output_tokens_details": { "reasoning_tokens": usage.reasoning_output_tokens },
            "total_tokens": usage.input_tokens + usage.output_tokens,
        });
    }
    frames.push(json!({ "type": "response.completed", "response": response }));
    Events {
        events: frames,
        mid_item,
    }
}

pub(super) fn render_chat(
    turn: &Turn,
    number: usize,
    model: &str,
    usage: Option<TurnUsage>,
    mut call_id: impl FnMut(&Call) -> String,
) -> Rendered {
    let id = format!("chatcmpl-{number}");
    let chunk = |choices: Value| {
        let data = json!({
            "id": id, "object": "chat.completion.chunk", "created": 0, "model": model,
            "choices": choices,
        });
        format!("data: {data}\n\n")
    };
    let delta =
        |delta: Value| chunk(json!([{ "index": 0, "delta": delta, "finish_reason": null }]));
    let mut frames = vec![delta(json!({ "role": "assistant", "content": "" }))];
    let mut mid_item = 0;
    let mut calls = 0;
    for item in &turn.items {
        match item {
            TurnItem::Reasoning(text) | TurnItem::Text(text) => {
                let key = if matches!(item, TurnItem::Text(_)) {
                    "content"
                } else {
                    "reasoning_content"
                };
                for (part, half) in halves(text).into_iter().enumerate() {
                    frames.push(delta(json!({ key: half })));
                    if part == 0 {
                        mid_item = frames.len() - 1;
                    }
                }
            }
            TurnItem::Call(call) => {
                let arguments = match &call.kind {
                    CallKind::Function(arguments) => arguments.to_string(),
                    CallKind::Custom(input) => json!({ "input": input }).to_string(),
                };
                let index = calls;
                calls += 1;
                frames.push(delta(json!({ "tool_calls": [{
                    "index": index, "id": call_id(call), "type": "function",
                    "function": { "name": call.name, "arguments": "" },
                }] })));
                for (part, half) in halves(&arguments).into_iter().enumerate() {
                    frames.push(delta(json!({ "tool_calls": [{
                        "index": index, "function": { "arguments": half },
                    }] })));
                    if part == 0 {
                        mid_item = frames.len() - 1;
                    }
                }
            }
        }
    }
    let finish = if calls > 0 { "tool_calls" } else { "stop" };
    frames.push(chunk(
        json!([{ "index": 0, "delta": {}, "finish_reason": finish }]),
    ));
    if let Some(usage) = usage {
        let data = json!({
            "id": id, "object": "chat.completion.chunk", "created": 0, "model": model,
            "choices": [],
            "usage": chat_usage(usage),
        });
        frames.push(format!("data: {data}\n\n"));
    }
    frames.push("data: [DONE]\n\n".to_owned());
    Rendered { frames, mid_item }
}

/// Chat's `usage` object.
pub(super) fn chat_usage(usage: TurnUsage) -> Value {
    json!({
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.input_tokens + usage.output_tokens,
        "prompt_tokens_details": { "cached_tokens": usage.cached_input_tokens },
        "completion_tokens_details": { "reasoning_tokens": usage.reasoning_output_tokens },
    })
}
