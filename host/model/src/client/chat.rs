//! Chat Completions: the request body and the assembly of its streamed
//! chunks into items.
//!
//! Chat has no freeform tools: one is offered as a function taking
//! `{"input": string}` (its grammar in the description), and a call of it
//! comes back as a [`ResponseItem::CustomToolCall`], so the agent does not
//! see the difference. Images in tool outputs cannot be sent: only the
//! text parts go (the agent puts its own placeholder for models without
//! image input). Reasoning items are not sent back. An assistant message
//! that is only tool calls says `"content": ""`: OpenAI takes it, and
//! servers that validate the message as a string (llama-cpp-python) refuse
//! `null` and crash on a missing `content`.
//!
//! Unstreamed (`stream = false`), the answer is one `chat.completion`
//! whose `choices[].message` has the fields a chunk's `delta` has: it is
//! read as one chunk that is the whole answer.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::attempt::{Decoder, Step, StreamFailure};
use super::responses::{OUTPUT_SCHEMA_NAME, short};
use super::sse::SseEvent;
use crate::protocol::{
    InputImage, ModelError, OutputContent, Prompt, ResponseEvent, ResponseItem, Role, ToolDef,
    Usage,
};

/// The body of `POST /chat/completions` for `prompt`.
pub fn chat_request(prompt: &Prompt) -> Value {
    let mut request = json!({
        "model": prompt.model,
        "messages": messages(prompt),
        "stream": true,
        "stream_options": { "include_usage": true },
    });
    if !prompt.tools.is_empty() {
        let tools: Vec<Value> = prompt.tools.iter().map(tool).collect();
        request["tools"] = Value::Array(tools);
        request["tool_choice"] = json!("auto");
        request["parallel_tool_calls"] = json!(prompt.parallel_tool_calls);
    }
    // Chat has no verbosity, no reasoning summaries and no hosted web
    // search: the CLI warns about the ones configured.
    let options = &prompt.options;
    if prompt.reasoning
        && let Some(effort) = options.reasoning_effort
    {
        request["reasoning_effort"] = json!(effort);
    }
    if let Some(schema) = &options.output_schema {
        request["response_format"] = json!({
            "type": "json_schema",
            "json_schema": { "name": OUTPUT_SCHEMA_NAME, "strict": true, "schema": schema },
        });
    }
    request
}

fn tool(tool: &ToolDef) -> Value {
    let (name, description, parameters) = match tool {
        ToolDef::Function {
            name,
            description,
            parameters,
        } => (name, description.clone(), parameters.clone()),
        ToolDef::Freeform {
            name,
            description,
            grammar,
        } => (
            name,
            format!("{description}\n\nThe input follows this Lark grammar:\n{grammar}"),
            json!({
                "type": "object",
                "properties": { "input": { "type": "string", "description": "the raw input" } },
                "required": ["input"],
                "additionalProperties": false,
            }),
        ),
    };
    json!({
        "type": "function",
        "function": { "name": name, "description": description, "parameters": parameters },
    })
}

fn messages(prompt: &Prompt) -> Vec<Value> {
    let mut messages = Vec::new();
    if !prompt.instructions.is_empty() {
        messages.push(json!({ "role": "system", "content": prompt.instructions }));
    }
    // An assistant message and the tool calls after it are one message;
    // calls with no text before them have an empty text.
    let mut assistant: Option<(String, Vec<Value>)> = None;
    let flush = |assistant: &mut Option<(String, Vec<Value>)>, messages: &mut Vec<Value>| {
        if let Some((content, calls)) = assistant.take() {
            let mut message = json!({ "role": "assistant", "content": content });
            if !calls.is_empty() {
                message["tool_calls"] = Value::Array(calls);
            }
            messages.push(message);
        }
    };
    for item in &prompt.input {
        let call = match item {
            ResponseItem::FunctionCall {
                call_id,
                name,
                arguments,
            } => Some((call_id, name, arguments.clone())),
            ResponseItem::CustomToolCall {
                call_id,
                name,
                input,
            } => Some((call_id, name, json!({ "input": input }).to_string())),
            _ => None,
        };
        if let Some((call_id, name, arguments)) = call {
            assistant
                .get_or_insert_with(|| (String::new(), Vec::new()))
                .1
                .push(json!({
                    "id": call_id,
                    "type": "function",
                    "function": { "name": name, "arguments": arguments },
                }));
            continue;
        }
        flush(&mut assistant, &mut messages);
        match item {
            ResponseItem::Message {
                role: Role::Assistant,
                text,
                ..
            } => assistant = Some((text.clone(), Vec::new())),
            ResponseItem::Message { role, text, images } => {
                let role = if *role == Role::User {
                    "user"
                } else {
                    "system"
                };
                messages.push(json!({ "role": role, "content": message_content(text, images) }));
            }
            ResponseItem::ToolOutput {
                call_id, output, ..
            } => {
                let text: Vec<&str> = output
                    .iter()
                    .filter_map(|part| match part {
                        OutputContent::Text { text } => Some(text.as_str()),
                        OutputContent::Image { .. } => None,
                    })
                    .collect();
                messages.push(json!({
                    "role": "tool",
                    "tool_call_id": call_id,
                    "content": text.join("\n"),
                }));
            }
            ResponseItem::Reasoning { .. }
            | ResponseItem::WebSearchCall { .. }
            | ResponseItem::FunctionCall { .. }
            | ResponseItem::CustomToolCall { .. } => {}
        }
    }
    flush(&mut assistant, &mut messages);
    messages
}

/// A message's content: its text, or with attached images a list of
/// `image_url` parts (data URLs) and then the text.
fn message_content(text: &str, images: &[InputImage]) -> Value {
    if images.is_empty() {
        return json!(text);
    }
    let mut parts: Vec<Value> = images
        .iter()
        .map(|image| json!({ "type": "image_url", "image_url": { "url": image.data_url() } }))
        .collect();
    parts.push(json!({ "type": "text", "text": text }));
    Value::Array(parts)
}

/// A tool call being assembled from its deltas.
#[derive(Debug, Default)]
struct PartialCall {
    id: String,
    name: String,
    arguments: String,
}

/// The chunks of one attempt, assembled into items.
#[derive(Debug, Default)]
pub(crate) struct ChatDecoder {
    /// Tools offered as freeform, whose calls become custom tool calls.
    freeform: Vec<String>,
    response_id: String,
    text: String,
    reasoning: String,
    /// By the `index` the deltas carry.
    calls: BTreeMap<u64, PartialCall>,
    usage: Option<Usage>,
    /// A choice said why it finished.
    finished: bool,
}

impl ChatDecoder {
    pub(crate) fn new(freeform: Vec<String>) -> ChatDecoder {
        ChatDecoder {
            freeform,
            ..ChatDecoder::default()
        }
    }

    fn chunk(&mut self, chunk: &Value) -> Result<Vec<Step>, StreamFailure> {
        if let Some(error) = chunk.get("error") {
            let message = error
                .get("message")
                .and_then(Value::as_str)
                .or_else(|| error.as_str())
                .unwrap_or("no message");
            return Err(StreamFailure::Fatal(ModelError::Protocol(format!(
                "the provider failed the response: {message}"
            ))));
        }
        if let Some(id) = chunk.get("id").and_then(Value::as_str) {
            id.clone_into(&mut self.response_id);
        }
        if let Some(usage) = chunk.get("usage").filter(|usage| usage.is_object()) {
            self.usage = Some(chat_usage(usage));
        }
        let mut steps = Vec::new();
        let choices = chunk.get("choices").and_then(Value::as_array);
        for choice in choices.into_iter().flatten() {
            // A streamed chunk's `delta`, or an unstreamed answer's `message`.
            let delta = choice
                .get("delta")
                .or_else(|| choice.get("message"))
                .unwrap_or(&Value::Null);
            // DeepSeek and vLLM say `reasoning_content`, Ollama `reasoning`.
            let reasoning = delta
                .get("reasoning_content")
                .or_else(|| delta.get("reasoning"))
                .and_then(Value::as_str);
            if let Some(text) = reasoning
                && !text.is_empty()
            {
                self.reasoning.push_str(text);
                steps.push(Step::Forward(ResponseEvent::ReasoningSummaryDelta {
                    delta: text.to_owned(),
                }));
            }
            if let Some(text) = delta.get("content").and_then(Value::as_str)
                && !text.is_empty()
            {
                self.text.push_str(text);
                steps.push(Step::Forward(ResponseEvent::OutputTextDelta {
                    delta: text.to_owned(),
                }));
            }
            let calls = delta.get("tool_calls").and_then(Value::as_array);
            for (position, call) in calls.into_iter().flatten().enumerate() {
                let index = call
                    .get("index")
                    .and_then(Value::as_u64)
                    .unwrap_or(position as u64);
                let partial = self.calls.entry(index).or_default();
                let text = |pointer: &str| call.pointer(pointer).and_then(Value::as_str);
                if let Some(id) = text("/id").filter(|id| !id.is_empty())
                    && partial.id.is_empty()
                {
                    id.clone_into(&mut partial.id);
                }
                if let Some(name) = text("/function/name").filter(|name| !name.is_empty())
                    && partial.name.is_empty()
                {
                    name.clone_into(&mut partial.name);
                }
                if let Some(arguments) = text("/function/arguments") {
                    partial.arguments.push_str(arguments);
                }
            }
            if choice
                .get("finish_reason")
                .is_some_and(|reason| !reason.is_null())
            {
                self.finished = true;
            }
        }
        Ok(steps)
    }

    /// The assembled items and the completion.
    fn finish(&mut self) -> Vec<Step> {
        let mut steps = Vec::new();
        if !self.reasoning.is_empty() {
            steps.push(Step::Item(ResponseItem::Reasoning {
                summary: vec![std::mem::take(&mut self.reasoning)],
                id: None,
                encrypted_content: None,
            }));
        }
        if !self.text.is_empty() {
            steps.push(Step::Item(ResponseItem::Message {
                role: Role::Assistant,
                text: std::mem::take(&mut self.text),
                images: Vec::new(),
            }));
        }
        for (index, call) in std::mem::take(&mut self.calls) {
            let call_id = if call.id.is_empty() {
                format!("{}call_{index}", prefix(&self.response_id))
            } else {
                call.id
            };
            let arguments = if call.arguments.trim().is_empty() {
                "{}".to_owned()
            } else {
                call.arguments
            };
            let item = if self.freeform.contains(&call.name) {
                let input = serde_json::from_str::<Value>(&arguments)
                    .ok()
                    .and_then(|value| value.get("input")?.as_str().map(str::to_owned))
                    .unwrap_or(arguments);
                ResponseItem::CustomToolCall {
                    call_id,
                    name: call.name,
                    input,
                }
            } else {
                ResponseItem::FunctionCall {
                    call_id,
                    name: call.name,
                    arguments,
                }
            };
            steps.push(Step::Item(item));
        }
        steps.push(Step::Completed {
            response_id: self.response_id.clone(),
            usage: self.usage,
        });
        steps
    }
}

fn prefix(response_id: &str) -> String {
    if response_id.is_empty() {
        String::new()
    } else {
        format!("{response_id}_")
    }
}

impl Decoder for ChatDecoder {
    fn event(&mut self, event: &SseEvent) -> Result<Vec<Step>, StreamFailure> {
        if event.data.trim() == "[DONE]" {
            return Ok(self.finish());
        }
        let chunk: Value = serde_json::from_str(&event.data).map_err(|err| {
            StreamFailure::Retry(ModelError::Protocol(format!(
                "the provider sent a chunk that is not JSON ({err}): {}",
                short(&event.data)
            )))
        })?;
        self.chunk(&chunk)
    }

    /// Some servers end without `[DONE]`; a stream that said why it
    /// finished is complete all the same.
    fn end(&mut self) -> Result<Vec<Step>, StreamFailure> {
        Ok(if self.finished {
            self.finish()
        } else {
            Vec::new()
        })
    }

    /// A `chat.completion`: one chunk holding everything, then the end.
    fn whole(&mut self, answer: &Value) -> Result<Vec<Step>, StreamFailure> {
        let mut steps = self.chunk(answer)?;
        steps.extend(self.finish());
        Ok(steps)
    }
}

fn chat_usage(usage: &Value) -> Usage {
    let count = |pointer: &str| usage.pointer(pointer).and_then(Value::as_u64).unwrap_or(0);
    Usage {
        input_tokens: count("/prompt_tokens"),
        cached_input_tokens: count("/prompt_tokens_details/cached_tokens"),
        output_tokens: count("/completion_tokens"),
        reasoning_output_tokens: count("/completion_tokens_details/reasoning_tokens"),
        total_tokens: count("/total_tokens"),
    }
}
