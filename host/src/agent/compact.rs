//! Compaction: when a thread's conversation fills the model's context
//! window, the model summarizes it and the summary, after the project
//! instructions and the recent user messages, replaces it.
//!
//! It happens on its own ([`CompactTrigger::Auto`]) when a request used
//! the auto-compaction limit or more — before the next request of the
//! turn, once every call of the last response has its output, or before a
//! turn starts — and when asked ([`CompactTrigger::Manual`], `/compact`).
//! The sink records the replacement ([`Sink::compacted`]), so that a
//! resumed thread continues from it.

use wharf_model::protocol::{ModelError, Prompt, ResponseEvent, ResponseItem, Role, Usage};
use wharf_runtime::pipeline::{ModelFit, Truncation};

use super::{Agent, CompactTrigger, Event, Sink, TurnError, add_usage};

/// What the model is asked, after the conversation, for the summary.
pub const COMPACT_PROMPT: &str = "\
The conversation above is about to be replaced by a summary, because it no \
longer fits your context window. Write that summary now, for another model \
that continues the work from it and sees nothing else of this conversation \
besides the user's recent messages. Include:

- what the user asked for, and any constraint or preference they stated;
- what has been done so far and what it showed (commands run, results, \
errors met and how they were solved);
- the decisions made and why;
- every file read, created or changed, with what changed;
- what is left to do, in order, and what you were doing last.

Be specific: names, paths, commands, numbers. Do not call tools; answer \
with the summary only.";

/// What starts the summary's message in the new history.
pub const SUMMARY_PREFIX: &str = "\
Earlier work in this conversation was compacted into the summary below \
(written by the model that did it); continue from it.\n\n";

/// The most tokens of user messages a compacted history keeps.
const USER_MESSAGES_MAX_TOKENS: u64 = 20_000;

/// Bytes per token, as wharf estimates text it has no usage report for.
const BYTES_PER_TOKEN: u64 = 4;

/// Roughly how many tokens `items` take (about 4 bytes a token), for a
/// conversation no request has measured yet.
pub fn estimate_tokens(items: &[ResponseItem]) -> u64 {
    let bytes: usize = items.iter().map(item_bytes).sum();
    (bytes as u64).div_ceil(BYTES_PER_TOKEN)
}

fn item_bytes(item: &ResponseItem) -> usize {
    match item {
        ResponseItem::Message { text, images, .. } => {
            text.len()
                + images
                    .iter()
                    .map(|image| image.data_base64.len())
                    .sum::<usize>()
        }
        ResponseItem::Reasoning {
            summary,
            encrypted_content,
            ..
        } => {
            summary.iter().map(String::len).sum::<usize>()
                + encrypted_content.as_ref().map_or(0, String::len)
        }
        ResponseItem::FunctionCall {
            name, arguments, ..
        } => name.len() + arguments.len(),
        ResponseItem::CustomToolCall { name, input, .. } => name.len() + input.len(),
        ResponseItem::WebSearchCall { action, .. } => action.to_string().len(),
        ResponseItem::ToolOutput { output, .. } => output
            .iter()
            .map(|part| serde_json::to_string(part).map_or(0, |text| text.len()))
            .sum(),
    }
}

/// The user messages a compacted history keeps, within `budget` tokens:
/// the newest first, the one that does not fit cut (its head and tail
/// kept), none older; returned oldest first. Project instructions and
/// earlier summaries are not user messages.
fn recent_user_messages(history: &[ResponseItem], budget: u64) -> Vec<String> {
    let mut kept = Vec::new();
    let mut left = budget;
    for text in history.iter().rev().filter_map(user_text) {
        if left == 0 {
            break;
        }
        let tokens = (text.len() as u64).div_ceil(BYTES_PER_TOKEN);
        if tokens <= left {
            kept.push(text.to_owned());
            left -= tokens;
        } else {
            let cut = ModelFit {
                slug: String::new(),
                image_input: false,
                truncation: Truncation::Tokens(left),
            };
            kept.push(cut.truncate(text));
            left = 0;
        }
    }
    kept.reverse();
    kept
}

/// The text of a message the user typed.
fn user_text(item: &ResponseItem) -> Option<&str> {
    match item {
        ResponseItem::Message {
            role: Role::User,
            text,
            ..
        } if !is_project_instructions(text) && !text.starts_with(SUMMARY_PREFIX) => Some(text),
        _ => None,
    }
}

/// Whether `text` is a project-instructions message (the AGENTS.md
/// files): those messages lead the history and stay as they are.
fn is_project_instructions(text: &str) -> bool {
    text.starts_with(crate::project_doc::MESSAGE_PREFIX)
}

fn user_message(text: String) -> ResponseItem {
    ResponseItem::text(Role::User, text)
}

/// The history that replaces `history`: its leading project instructions,
/// the recent user messages within `user_budget` tokens, then `summary`.
pub(super) fn replacement(
    history: &[ResponseItem],
    summary: &str,
    user_budget: u64,
) -> Vec<ResponseItem> {
    let mut new: Vec<ResponseItem> = history
        .iter()
        .take_while(|item| {
            matches!(item, ResponseItem::Message { role: Role::User, text, .. }
                if is_project_instructions(text))
        })
        .cloned()
        .collect();
    new.extend(
        recent_user_messages(history, user_budget)
            .into_iter()
            .map(user_message),
    );
    new.push(user_message(format!("{SUMMARY_PREFIX}{}", summary.trim())));
    new
}

/// Why a compaction failed, as the turn's error.
fn failed(err: ModelError) -> TurnError {
    let message = match &err {
        ModelError::Cancelled => "cancelled".to_owned(),
        other => format!(
            "compacting the conversation failed: {other} (try again, or start a new thread with \
             /new)"
        ),
    };
    TurnError {
        message,
        cause: Some(err),
    }
}

impl Agent<'_> {
    /// Whether the last request used the auto-compaction limit or more.
    pub(super) fn over_compact_limit(&self) -> bool {
        self.auto_compact_limit
            .is_some_and(|limit| self.context_used >= limit)
    }

    /// Replaces the conversation with the model's summary of it, the
    /// project instructions and the recent user messages; says so with
    /// [`Event::Compacted`]. Never called between a call and its output.
    pub(super) fn compact_history(
        &mut self,
        trigger: CompactTrigger,
        sink: &mut dyn Sink,
    ) -> Result<(), TurnError> {
        let mut input = self.history.clone();
        input.push(user_message(COMPACT_PROMPT.to_owned()));
        let mut options = self.options.clone();
        // The summary is prose for a model, whatever the answer's shape.
        options.output_schema = None;
        options.web_search = false;
        let prompt = Prompt {
            model: self.model.slug.clone(),
            instructions: self.instructions(),
            input,
            tools: Vec::new(),
            parallel_tool_calls: false,
            reasoning: self.model.supports_reasoning_summaries,
            options,
        };
        let (summary, usage) = self.summarize(&prompt).map_err(failed)?;
        if summary.trim().is_empty() {
            return Err(failed(ModelError::Protocol(
                "the model answered the compaction request without a summary".to_owned(),
            )));
        }
        if let Some(usage) = usage {
            add_usage(&mut self.total_usage, &usage);
        }
        let budget = self
            .auto_compact_limit
            .map_or(USER_MESSAGES_MAX_TOKENS, |limit| {
                USER_MESSAGES_MAX_TOKENS.min(limit / 4)
            });
        let history = replacement(&self.history, &summary, budget);
        let context_before = self.context_used;
        self.context_used = estimate_tokens(&history);
        sink.compacted(&history);
        self.history = history;
        sink.event(&Event::Compacted {
            trigger,
            context_before,
        });
        sink.event(&Event::TokenCount {
            total: self.total_usage,
            context_used: self.context_used,
            context_window: self.model.context_window,
        });
        Ok(())
    }

    /// Sends the compaction request; returns the text of its answer and
    /// the tokens it used. Nothing of it is shown or kept.
    fn summarize(&self, prompt: &Prompt) -> Result<(String, Option<Usage>), ModelError> {
        let mut stream = self.client.stream(prompt)?;
        let _interrupt = self.session.cancel.on_cancel({
            let interrupt = stream.interrupt();
            move || interrupt.interrupt()
        });
        let mut summary = String::new();
        loop {
            match stream.next() {
                None => {
                    return Err(ModelError::Dropped(
                        "the model client stopped sending events".to_owned(),
                    ));
                }
                Some(Err(err)) => return Err(err),
                Some(Ok(ResponseEvent::OutputItemDone {
                    item:
                        ResponseItem::Message {
                            role: Role::Assistant,
                            text,
                            ..
                        },
                })) => {
                    if !summary.is_empty() {
                        summary.push_str("\n\n");
                    }
                    summary.push_str(&text);
                }
                Some(Ok(ResponseEvent::Completed { usage, .. })) => return Ok((summary, usage)),
                Some(Ok(_)) => {}
            }
        }
    }
}
