//! Replies to requests that say `"stream": false`: the whole answer as one
//! JSON object, a Chat `chat.completion` or a Responses API `response`.

use std::io::{self, Write};
use std::net::{Shutdown, TcpStream};

use serde_json::{Value, json};

use super::{
    Call, CallKind, Shared, StreamEnd, Turn, TurnItem, TurnUsage, chat_usage, responses_events,
    stay_silent,
};

/// A `chat.completion`: one choice whose message holds the turn's text,
/// reasoning (`reasoning_content`) and tool calls.
pub(super) fn chat_completion(
    turn: &Turn,
    number: usize,
    model: &str,
    usage: Option<TurnUsage>,
    mut call_id: impl FnMut(&Call) -> String,
) -> Value {
    let mut text = String::new();
    let mut reasoning = String::new();
    let mut calls = Vec::new();
    for item in &turn.items {
        match item {
            TurnItem::Text(part) => text.push_str(part),
            TurnItem::Reasoning(part) => reasoning.push_str(part),
            TurnItem::Call(call) => {
                let arguments = match &call.kind {
                    CallKind::Function(arguments) => arguments.to_string(),
                    CallKind::Custom(input) => json!({ "input": input }).to_string(),
                };
                calls.push(json!({
                    "id": call_id(call), "type": "function",
                    "function": { "name": call.name, "arguments": arguments },
                }));
            }
        }
    }
    // OpenAI's form: `content` is null when the message is only calls.
    let mut message = json!({
        "role": "assistant",
        "content": if text.is_empty() { Value::Null } else { json!(text) },
    });
    if !reasoning.is_empty() {
        message["reasoning_content"] = json!(reasoning);
    }
    let finish = if calls.is_empty() {
        "stop"
    } else {
        "tool_calls"
    };
    if !calls.is_empty() {
        message["tool_calls"] = Value::Array(calls);
    }
    let mut completion = json!({
        "id": format!("chatcmpl-{number}"), "object": "chat.completion", "created": 0,
        "model": model,
        "choices": [{ "index": 0, "message": message, "finish_reason": finish }],
    });
    if let Some(usage) = usage {
        completion["usage"] = chat_usage(usage);
    }
    completion
}

/// The Responses API's `response` object: what `response.completed`
/// carries at the end of a stream.
pub(super) fn response(
    turn: &Turn,
    number: usize,
    usage: Option<TurnUsage>,
    call_id: impl FnMut(&Call) -> String,
) -> Value {
    let events = responses_events(turn, number, usage, call_id);
    events
        .events
        .last()
        .map(|completed| completed["response"].clone())
        .unwrap_or_default()
}

/// Writes `body` as a `200` JSON answer, ended as `end` says: a cut or idle
/// answer stops in the middle of the body (its `Content-Length` says
/// more), then closes.
pub(super) fn write_json(
    stream: &mut TcpStream,
    body: &Value,
    end: StreamEnd,
    shared: &Shared,
) -> io::Result<()> {
    let body = body.to_string();
    write!(
        stream,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        body.len()
    )?;
    let half = body.len() / 2;
    match end {
        StreamEnd::Complete | StreamEnd::CompleteThenClose => {
            stream.write_all(body.as_bytes())?;
            stream.flush()
        }
        StreamEnd::CutMidItem => {
            stream.write_all(&body.as_bytes()[..half])?;
            stream.flush()?;
            stream.shutdown(Shutdown::Both)
        }
        StreamEnd::IdleMidItem(silence) => {
            stream.write_all(&body.as_bytes()[..half])?;
            stream.flush()?;
            stay_silent(shared, silence);
            stream.shutdown(Shutdown::Both)
        }
    }
}
