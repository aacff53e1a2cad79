//! The Responses API: the request body and the meaning of its events.
//! Unstreamed (`stream = false`), the answer is the `response` object a
//! stream's `response.completed` carries; its output items become the
//! deltas and items a stream would have given.

use std::collections::HashSet;

use serde_json::{Value, json};

use super::attempt::{Decoder, Step, StreamFailure};
use super::sse::SseEvent;
use crate::protocol::{
    ModelError, OutputContent, Prompt, ReasoningSummary, RequestOptions, ResponseEvent,
    ResponseItem, Role, ToolDef, Usage,
};

/// The body of `POST /responses` for `prompt`: streamed, not stored
/// (`store: false`: each request carries the whole conversation, as codex
/// sends it).
///
/// For a reasoning model (`prompt.reasoning`) it asks for reasoning
/// summaries and, as codex does, for `reasoning.encrypted_content`: an
/// unstored response can be continued only by sending its reasoning items
/// back with their `id` and that content. Reasoning items without them (a
/// Chat provider's, an older rollout's) are for people and stay out.
///
/// The request's options go where codex puts them: the effort and the
/// summary in `reasoning` (reasoning models only), `text.verbosity`,
/// `--output-schema`'s schema as `text.format` (strict JSON Schema), and the
/// hosted `web_search` tool after the session's tools.
pub fn responses_request(prompt: &Prompt) -> Value {
    let custom_calls: HashSet<&str> = prompt
        .input
        .iter()
        .filter_map(|item| match item {
            ResponseItem::CustomToolCall { call_id, .. } => Some(call_id.as_str()),
            _ => None,
        })
        .collect();
    let input: Vec<Value> = prompt
        .input
        .iter()
        .filter_map(|item| input_item(item, &custom_calls))
        .collect();
    let options = &prompt.options;
    let mut tools: Vec<Value> = prompt.tools.iter().map(tool).collect();
    if options.web_search {
        tools.push(json!({ "type": "web_search" }));
    }
    let mut body = json!({
        "model": prompt.model,
        "instructions": prompt.instructions,
        "input": input,
        "tools": tools,
        "tool_choice": "auto",
        "parallel_tool_calls": prompt.parallel_tool_calls,
        "store": false,
        "stream": true,
    });
    if prompt.reasoning {
        body["reasoning"] = reasoning(options);
        body["include"] = json!(["reasoning.encrypted_content"]);
    }
    let mut text = serde_json::Map::new();
    if let Some(verbosity) = options.verbosity {
        text.insert("verbosity".to_owned(), json!(verbosity));
    }
    if let Some(schema) = &options.output_schema {
        text.insert(
            "format".to_owned(),
            json!({
                "type": "json_schema",
                "name": OUTPUT_SCHEMA_NAME,
                "strict": true,
                "schema": schema,
            }),
        );
    }
    if !text.is_empty() {
        body["text"] = Value::Object(text);
    }
    body
}

/// The name a request gives `--output-schema`'s schema (both wire APIs).
pub(crate) const OUTPUT_SCHEMA_NAME: &str = "wharf_output_schema";

/// A reasoning model's `reasoning`: the configured effort when set (the
/// model's own default otherwise), and summaries, `auto` unless configured;
/// `none` leaves them out.
fn reasoning(options: &RequestOptions) -> Value {
    let mut reasoning = serde_json::Map::new();
    if let Some(effort) = options.reasoning_effort {
        reasoning.insert("effort".to_owned(), json!(effort));
    }
    match options.reasoning_summary.unwrap_or(ReasoningSummary::Auto) {
        ReasoningSummary::None => {}
        summary => {
            reasoning.insert("summary".to_owned(), json!(summary));
        }
    }
    Value::Object(reasoning)
}

fn tool(tool: &ToolDef) -> Value {
    match tool {
        ToolDef::Function {
            name,
            description,
            parameters,
        } => json!({
            "type": "function",
            "name": name,
            "description": description,
            "strict": false,
            "parameters": parameters,
        }),
        ToolDef::Freeform {
            name,
            description,
            grammar,
        } => json!({
            "type": "custom",
            "name": name,
            "description": description,
            "format": { "type": "grammar", "syntax": "lark", "definition": grammar },
        }),
    }
}

fn input_item(item: &ResponseItem, custom_calls: &HashSet<&str>) -> Option<Value> {
    Some(match item {
        ResponseItem::Message { role, text, images } => {
            let (role, kind) = match role {
                Role::User => ("user", "input_text"),
                Role::Developer => ("developer", "input_text"),
                Role::Assistant => ("assistant", "output_text"),
            };
            // Attached images come first, then the text, as codex sends a
            // prompt with images.
            let mut content: Vec<Value> = images
                .iter()
                .map(|image| json!({ "type": "input_image", "image_url": image.data_url() }))
                .collect();
            content.push(json!({ "type": kind, "text": text }));
            json!({ "type": "message", "role": role, "content": content })
        }
        ResponseItem::WebSearchCall { status, action, .. } => {
            // Without its id, as codex sends it back: requests are not
            // stored, so the id names nothing the provider kept.
            let mut call = json!({ "type": "web_search_call" });
            if let Some(status) = status {
                call["status"] = json!(status);
            }
            if !action.is_null() {
                call["action"] = action.clone();
            }
            call
        }
        ResponseItem::Reasoning {
            summary,
            id: Some(id),
            encrypted_content: Some(encrypted_content),
        } => json!({
            "type": "reasoning",
            "id": id,
            "summary": summary
                .iter()
                .map(|text| json!({ "type": "summary_text", "text": text }))
                .collect::<Vec<_>>(),
            "encrypted_content": encrypted_content,
        }),
        ResponseItem::Reasoning { .. } => return None,
        ResponseItem::FunctionCall {
            call_id,
            name,
            arguments,
        } => json!({
            "type": "function_call",
            "call_id": call_id,
            "name": name,
            "arguments": arguments,
        }),
        ResponseItem::CustomToolCall {
            call_id,
            name,
            input,
        } => json!({
            "type": "custom_tool_call",
            "call_id": call_id,
            "name": name,
            "input": input,
        }),
        ResponseItem::ToolOutput {
            call_id, output, ..
        } => {
            if custom_calls.contains(call_id.as_str()) {
                json!({
                    "type": "custom_tool_call_output",
                    "call_id": call_id,
                    "output": output_value(output),
                })
            } else {
                json!({
                    "type": "function_call_output",
                    "call_id": call_id,
                    "output": output_value(output),
                })
            }
        }
    })
}

/// A tool's output: a string when it is all text, else a list of
/// `input_text` and `input_image` (a data URL) parts.
fn output_value(output: &[OutputContent]) -> Value {
    let has_image = output
        .iter()
        .any(|part| matches!(part, OutputContent::Image { .. }));
    if !has_image {
        let text: Vec<&str> = output
            .iter()
            .filter_map(|part| match part {
                OutputContent::Text { text } => Some(text.as_str()),
                OutputContent::Image { .. } => None,
            })
            .collect();
        return Value::String(text.join("\n"));
    }
    Value::Array(
        output
            .iter()
            .map(|part| match part {
                OutputContent::Text { text } => json!({ "type": "input_text", "text": text }),
                OutputContent::Image {
                    mime_type,
                    data_base64,
                } => json!({
                    "type": "input_image",
                    "image_url": format!("data:{mime_type};base64,{data_base64}"),
                }),
            })
            .collect(),
    )
}

/// The events of one attempt.
#[derive(Debug, Default)]
pub(crate) struct ResponsesDecoder;

impl Decoder for ResponsesDecoder {
    fn event(&mut self, event: &SseEvent) -> Result<Vec<Step>, StreamFailure> {
        let data: Value = serde_json::from_str(&event.data).map_err(|err| {
            StreamFailure::Retry(ModelError::Protocol(format!(
                "the provider sent an event that is not JSON ({err}): {}",
                short(&event.data)
            )))
        })?;
        let kind = data
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or(&event.event);
        let text = |key: &str| {
            data.get(key)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        Ok(match kind {
            "response.output_text.delta" => vec![Step::Forward(ResponseEvent::OutputTextDelta {
                delta: text("delta"),
            })],
            "response.reasoning_summary_text.delta" | "response.reasoning_text.delta" => {
                vec![Step::Forward(ResponseEvent::ReasoningSummaryDelta {
                    delta: text("delta"),
                })]
            }
            "response.output_item.done" => data
                .get("item")
                .and_then(output_item)
                .map(Step::Item)
                .into_iter()
                .collect(),
            "response.completed" => {
                vec![completed(data.get("response").unwrap_or(&Value::Null))]
            }
            "response.failed" => {
                let error = data
                    .get("response")
                    .and_then(|response| response.get("error"))
                    .unwrap_or(&Value::Null);
                return Err(provider_failure(error));
            }
            "response.incomplete" => {
                return Err(incomplete(data.get("response").unwrap_or(&Value::Null)));
            }
            "error" => return Err(provider_failure(data.get("error").unwrap_or(&data))),
            // response.created, in_progress, output_item.added, content
            // parts, argument deltas: nothing the consumer needs.
            _ => Vec::new(),
        })
    }

    fn end(&mut self) -> Result<Vec<Step>, StreamFailure> {
        Ok(Vec::new())
    }

    /// A `response` object: each output item after the delta a stream
    /// would have sent for its text, then the completion.
    fn whole(&mut self, response: &Value) -> Result<Vec<Step>, StreamFailure> {
        if let Some(error) = response.get("error").filter(|error| !error.is_null()) {
            return Err(provider_failure(error));
        }
        match response.get("status").and_then(Value::as_str) {
            Some("failed") => return Err(provider_failure(&Value::Null)),
            Some("incomplete") => return Err(incomplete(response)),
            _ => {}
        }
        let mut steps = Vec::new();
        let output = response.get("output").and_then(Value::as_array);
        for item in output.into_iter().flatten().filter_map(output_item) {
            let delta = match &item {
                ResponseItem::Message { text, .. } if !text.is_empty() => {
                    Some(ResponseEvent::OutputTextDelta {
                        delta: text.clone(),
                    })
                }
                ResponseItem::Reasoning { summary, .. } if !summary.is_empty() => {
                    Some(ResponseEvent::ReasoningSummaryDelta {
                        delta: summary.join("\n\n"),
                    })
                }
                _ => None,
            };
            steps.extend(delta.map(Step::Forward));
            steps.push(Step::Item(item));
        }
        steps.push(completed(response));
        Ok(steps)
    }
}

/// The completion a `response` object says: its id and usage.
fn completed(response: &Value) -> Step {
    Step::Completed {
        response_id: response
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        usage: response.get("usage").filter(|u| u.is_object()).map(usage),
    }
}

/// An incomplete `response` (the output limit, a content filter): final.
fn incomplete(response: &Value) -> StreamFailure {
    let reason = response
        .pointer("/incomplete_details/reason")
        .and_then(Value::as_str)
        .unwrap_or("unknown");
    StreamFailure::Fatal(ModelError::Protocol(format!(
        "the response is incomplete: {reason}"
    )))
}

/// A `response.failed` or `error`: retried when the provider says it is
/// transient, final otherwise (a context overflow, a refused quota).
fn provider_failure(error: &Value) -> StreamFailure {
    let code = error
        .get("code")
        .or_else(|| error.get("type"))
        .and_then(Value::as_str)
        .unwrap_or("error");
    let message = error
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("no message");
    let failure = ModelError::Protocol(format!(
        "the provider failed the response ({code}): {message}"
    ));
    match code {
        "rate_limit_exceeded" | "server_error" | "server_is_overloaded" | "slow_down" => {
            StreamFailure::Retry(failure)
        }
        _ => StreamFailure::Fatal(failure),
    }
}

/// An output item the protocol knows; others (image generation, local
/// shell calls…) are skipped.
fn output_item(item: &Value) -> Option<ResponseItem> {
    let text = |key: &str| {
        item.get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let parts = |key: &str, kind: &str| -> Vec<String> {
        item.get(key)
            .and_then(Value::as_array)
            .map(|parts| {
                parts
                    .iter()
                    .filter(|part| part.get("type").and_then(Value::as_str) == Some(kind))
                    .filter_map(|part| part.get("text").and_then(Value::as_str))
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    };
    match item.get("type").and_then(Value::as_str)? {
        "message" => {
            let role = match item.get("role").and_then(Value::as_str) {
                Some("user") => Role::User,
                Some("developer" | "system") => Role::Developer,
                _ => Role::Assistant,
            };
            Some(ResponseItem::Message {
                role,
                text: parts("content", "output_text").concat(),
                images: Vec::new(),
            })
        }
        "reasoning" => Some(ResponseItem::Reasoning {
            summary: parts("summary", "summary_text"),
            id: item.get("id").and_then(Value::as_str).map(str::to_owned),
            encrypted_content: item
                .get("encrypted_content")
                .and_then(Value::as_str)
                .map(str::to_owned),
        }),
        "function_call" => Some(ResponseItem::FunctionCall {
            call_id: text("call_id"),
            name: text("name"),
            arguments: text("arguments"),
        }),
        "custom_tool_call" => Some(ResponseItem::CustomToolCall {
            call_id: text("call_id"),
            name: text("name"),
            input: text("input"),
        }),
        "web_search_call" => Some(ResponseItem::WebSearchCall {
            id: item.get("id").and_then(Value::as_str).map(str::to_owned),
            status: item
                .get("status")
                .and_then(Value::as_str)
                .map(str::to_owned),
            action: item.get("action").cloned().unwrap_or(Value::Null),
        }),
        _ => None,
    }
}

fn usage(usage: &Value) -> Usage {
    let count = |pointer: &str| usage.pointer(pointer).and_then(Value::as_u64).unwrap_or(0);
    Usage {
        input_tokens: count("/input_tokens"),
        cached_input_tokens: count("/input_tokens_details/cached_tokens"),
        output_tokens: count("/output_tokens"),
        reasoning_output_tokens: count("/output_tokens_details/reasoning_tokens"),
        total_tokens: count("/total_tokens"),
    }
}

/// The start of a long text, for error messages.
pub(crate) fn short(text: &str) -> &str {
    match text.char_indices().nth(200) {
        Some((cut, _)) => &text[..cut],
        None => text,
    }
}
