//! The agent loop: a thread of turns. A turn sends the conversation to the
//! model, turns what streams back into items and events, runs the tool
//! calls the model makes through the [call pipeline](wharf_runtime::pipeline), and
//! asks again until the model answers without calling a tool.
//!
//! The loop is plain, blocking Rust: the [`ModelClient`] streams on its
//! own thread, one tool call runs on the caller's thread and the calls of
//! one response on scoped threads when the model supports parallel calls,
//! and the session's [`CancelToken`] (Ctrl-C) stops the stream and the
//! running calls: raising it wakes whatever waits, nothing polls it.

mod calls;
mod compact;
mod events;
mod fit;
pub mod hooks;
mod ids;
mod interrupt;
mod telemetry;
#[cfg(test)]
pub(crate) mod tests;

use wharf_config::Personality;
use wharf_model::models::ModelInfo;
use wharf_model::protocol::{
    InputImage, ModelClient, ModelError, Prompt, RequestOptions, ResponseEvent, ResponseItem, Role,
    Usage,
};
use wharf_runtime::pipeline::Session;

use wharf_runtime::plugin::Progress;
use wharf_runtime::registry::Plugins;

pub use calls::{Recorder, offered_tools};
pub use compact::{COMPACT_PROMPT, SUMMARY_PREFIX, estimate_tokens};
pub use events::{
    ChangeKind, CompactTrigger, DeltaKind, Event, FileUpdate, Item, ItemDetails, PlanStatus,
    PlanStep, Status, TurnError,
};
pub use fit::model_fit;
pub use ids::new_thread_id;
pub use interrupt::cancel_on_interrupt;
pub use wharf_cancel::CancelToken;

/// The instructions every session starts from.
pub const BASE_INSTRUCTIONS: &str = "\
You are a coding agent working in the user's repository on their machine. \
Do what the user asks, and only that. Read the code before you change it; \
run commands to check your assumptions and your work (build, test, lint) \
when you can. Make small, focused edits with the patch tool when one is \
offered. Commands and file edits run in a sandbox: when one is denied, \
say so and suggest what the user could do rather than working around it. \
Do not invent results you have not seen. When you are done, answer briefly: \
what you changed, how you checked it, and anything left undone.";

/// The line a personality adds to the instructions.
fn personality_line(personality: Personality) -> Option<&'static str> {
    match personality {
        Personality::None => None,
        Personality::Friendly => {
            Some("Be warm and encouraging in your messages, and explain your steps in plain words.")
        }
        Personality::Pragmatic => {
            Some("Be direct and terse: state results and decisions, skip pleasantries.")
        }
    }
}

/// Where a thread's events and conversation items go: a printer, a
/// rollout file, a test's list.
pub trait Sink {
    /// An event, as it happens.
    fn event(&mut self, event: &Event);
    /// An item added to the conversation the model sees (what a resumed
    /// session sends again).
    fn history(&mut self, _item: &ResponseItem) {}
    /// The conversation was compacted: `history` replaces every item
    /// before (what a resumed session sends instead).
    fn compacted(&mut self, _history: &[ResponseItem]) {}
}

impl Sink for Vec<Event> {
    fn event(&mut self, event: &Event) {
        self.push(event.clone());
    }
}

/// A sink events can reach from any thread: what a running call reports
/// of its progress goes there from the thread the call runs on.
pub type SharedSink = std::sync::Arc<std::sync::Mutex<dyn Sink + Send>>;

/// Where a running call reports progress: an `item.progress` event of
/// `item_id` in `sink`, sent from the thread the call runs on.
pub(crate) fn progress_events(sink: &SharedSink, item_id: String, tool: String) -> Progress {
    let sink = std::sync::Arc::clone(sink);
    Progress::new(move |message| {
        let event = Event::ItemProgress {
            item_id: item_id.clone(),
            tool: tool.clone(),
            message: message.to_owned(),
        };
        sink.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .event(&event);
    })
}

/// What a thread carries from one turn to the next: the conversation, the
/// next item's number and the tokens used. An embedder that changes the
/// session between turns (another model, another approval policy) keeps it
/// and starts the next turn's [`Agent`] from it.
#[derive(Debug, Clone, Default)]
pub struct ThreadState {
    pub history: Vec<ResponseItem>,
    pub next_item: usize,
    pub usage: Usage,
    /// The context window the last request filled (input and output
    /// tokens); 0 when unknown.
    pub context_used: u64,
}

/// What a completed turn produced.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TurnOutcome {
    /// The last agent message, if the model wrote one.
    pub last_message: Option<String>,
    /// The tokens the turn's requests used; `None` when a response came
    /// without usage (unknown, not zero).
    pub usage: Option<Usage>,
}

/// A thread: the conversation with one model in one session.
pub struct Agent<'a> {
    plugins: &'a Plugins,
    session: &'a Session,
    client: &'a dyn ModelClient,
    model: ModelInfo,
    personality: Personality,
    base_instructions: String,
    history: Vec<ResponseItem>,
    next_item: usize,
    /// Tokens used by every turn of this thread.
    total_usage: Usage,
    /// Where calls report progress; `None`: it is dropped.
    progress: Option<SharedSink>,
    /// What every request asks of the model besides the conversation.
    options: RequestOptions,
    /// Images for the next turn's user message ([`Agent::attach_images`]).
    images: Vec<InputImage>,
    /// The context use that makes the thread compact; `None`: never on
    /// its own.
    auto_compact_limit: Option<u64>,
    /// The context window the last request filled.
    context_used: u64,
    /// The message a new thread starts with (the project instructions).
    context: Option<ResponseItem>,
    /// Where every call is recorded; `None`: nowhere.
    audit: Option<std::sync::Arc<dyn Recorder>>,
    /// Whether `wharf.user_prompt` carries the prompt's text
    /// (`[otel] log_user_prompt`), not `[REDACTED]`.
    log_user_prompt: bool,
}

impl<'a> Agent<'a> {
    /// A new thread over `session` (its id is the thread's id). The
    /// session's model and the one given here should be the same:
    /// the pipeline checks calls against the session's.
    pub fn new(
        plugins: &'a Plugins,
        session: &'a Session,
        client: &'a dyn ModelClient,
        model: ModelInfo,
    ) -> Agent<'a> {
        Agent {
            plugins,
            session,
            client,
            model,
            personality: Personality::None,
            base_instructions: BASE_INSTRUCTIONS.to_owned(),
            history: Vec::new(),
            next_item: 0,
            total_usage: Usage::default(),
            progress: None,
            options: RequestOptions::default(),
            images: Vec::new(),
            auto_compact_limit: None,
            context_used: 0,
            context: None,
            audit: None,
            log_user_prompt: false,
        }
    }

    /// Sends the progress of running calls to `sink`, as
    /// [`Event::ItemProgress`] (the turn's sink should be the same one).
    pub fn with_progress(mut self, sink: SharedSink) -> Agent<'a> {
        self.progress = Some(sink);
        self
    }

    /// Puts the text of each prompt in `wharf.user_prompt`
    /// (`[otel] log_user_prompt`); otherwise it is `[REDACTED]`.
    pub fn set_log_user_prompt(&mut self, log: bool) {
        self.log_user_prompt = log;
    }

    /// Records every call in `audit` (the audit log).
    pub fn with_audit(mut self, audit: Option<std::sync::Arc<dyn Recorder>>) -> Agent<'a> {
        self.audit = audit;
        self
    }

    /// Continues a conversation (a resumed rollout). Its context use is
    /// estimated (a rollout keeps no token counts), so that one resumed
    /// past the auto-compaction limit compacts before its next turn.
    pub fn with_history(mut self, history: Vec<ResponseItem>) -> Agent<'a> {
        self.context_used = estimate_tokens(&history);
        self.history = history;
        self
    }

    /// Continues a thread where [`Agent::state`] left it.
    pub fn with_state(mut self, state: ThreadState) -> Agent<'a> {
        self.history = state.history;
        self.next_item = state.next_item;
        self.total_usage = state.usage;
        self.context_used = state.context_used;
        self
    }

    /// Where the thread is, to continue it with another [`Agent`].
    pub fn into_state(self) -> ThreadState {
        ThreadState {
            history: self.history,
            next_item: self.next_item,
            usage: self.total_usage,
            context_used: self.context_used,
        }
    }

    /// Replaces [`BASE_INSTRUCTIONS`].
    pub fn with_instructions(mut self, instructions: impl Into<String>) -> Agent<'a> {
        self.base_instructions = instructions.into();
        self
    }

    /// Starts a new thread with `message` before the first user input (the
    /// project instructions); a thread that has a history already (a
    /// resumed one) keeps the one it started with.
    pub fn with_context(mut self, message: Option<ResponseItem>) -> Agent<'a> {
        self.context = message;
        self
    }

    /// What the next requests ask of the model besides the conversation
    /// (reasoning effort, verbosity, an output schema, web search), as the
    /// thread's model takes them ([`RequestOptions::for_model`]).
    pub fn set_options(&mut self, options: RequestOptions) {
        self.options = options.for_model(&self.model);
    }

    pub fn options(&self) -> &RequestOptions {
        &self.options
    }

    /// Compacts the conversation on its own once a request fills `limit`
    /// tokens of the context window or more (`None`: never).
    pub fn set_auto_compact_limit(&mut self, limit: Option<u64>) {
        self.auto_compact_limit = limit;
    }

    /// Compacts the conversation now (`/compact`), between turns: the
    /// model summarizes it and the summary replaces it. Nothing to
    /// compact is not an error. A cancel raised before is forgotten.
    pub fn compact(&mut self, sink: &mut dyn Sink) -> Result<(), TurnError> {
        self.session.cancel.reset();
        if self.history.is_empty() {
            return Ok(());
        }
        self.compact_history(CompactTrigger::Manual, sink)
    }

    /// Sends `images` with the next turn's prompt, before its text (`wharf
    /// exec -i`). The caller checks that the model reads images.
    pub fn attach_images(&mut self, images: Vec<InputImage>) {
        self.images = images;
    }

    /// The personality of the next turns.
    pub fn set_personality(&mut self, personality: Personality) {
        self.personality = personality;
    }

    pub fn thread_id(&self) -> &str {
        self.session.session_id.as_str()
    }

    pub fn history(&self) -> &[ResponseItem] {
        &self.history
    }

    /// What cancels this thread's turns: the session's token.
    pub fn cancel_token(&self) -> CancelToken {
        self.session.cancel.clone()
    }

    /// Says that the thread started (once, before its first turn).
    pub fn start(&self, sink: &mut dyn Sink) {
        telemetry::conversation_starts(self);
        sink.event(&Event::ThreadStarted {
            thread_id: self.thread_id().to_owned(),
        });
        let source = if self.history.is_empty() {
            "startup"
        } else {
            "resume"
        };
        hooks::session_start(self.session, source, sink);
    }

    /// The instructions of the next request.
    pub fn instructions(&self) -> String {
        let mut text = self.base_instructions.clone();
        if let Some(line) = personality_line(self.personality) {
            text.push_str("\n\n");
            text.push_str(line);
        }
        text.push_str(&format!(
            "\n\nThe working directory is {}.",
            self.session.cwd.display()
        ));
        text
    }

    /// Runs one turn: `input` from the user, then model responses and tool
    /// calls until the model answers without calling a tool. A cancel
    /// raised before the turn is forgotten; one raised during it fails the
    /// turn with "cancelled".
    pub fn run_turn(&mut self, input: &str, sink: &mut dyn Sink) -> Result<TurnOutcome, TurnError> {
        self.session.cancel.reset();
        let (_turn, started) = (telemetry::turn_span(self), std::time::Instant::now());
        telemetry::user_prompt(input, self.images.len(), self.log_user_prompt);
        sink.event(&Event::TurnStarted);
        let context = match hooks::prompt_submitted(self.session, input, sink) {
            Ok(context) => context,
            Err(error) => {
                sink.event(&Event::TurnFailed {
                    error: error.clone(),
                });
                return Err(error);
            }
        };
        if self.history.is_empty()
            && let Some(context) = self.context.clone()
        {
            self.push_history(context, sink);
        }
        // A thread whose last request filled the window is compacted
        // before the new input joins it.
        let compacted = if self.over_compact_limit() {
            self.compact_history(CompactTrigger::Auto, sink)
        } else {
            Ok(())
        };
        let user = ResponseItem::Message {
            role: Role::User,
            text: input.to_owned(),
            images: std::mem::take(&mut self.images),
        };
        self.push_history(user, sink);
        let item = self.item(ItemDetails::UserMessage {
            text: input.to_owned(),
        });
        sink.event(&Event::ItemCompleted { item });
        for text in context {
            let role = Role::Developer;
            self.push_history(
                ResponseItem::Message {
                    role,
                    text,
                    images: Vec::new(),
                },
                sink,
            );
        }

        let mut outcome = TurnOutcome {
            usage: Some(Usage::default()),
            ..TurnOutcome::default()
        };
        let result = compacted.and_then(|()| self.turn_loop(&mut outcome, sink));
        telemetry::turn_ended(result.as_ref().map(|()| &outcome), started);
        // Every call the model made gets an output, even when the turn
        // stopped before it ran: the next request must answer each.
        self.answer_unanswered(sink);
        match result {
            Ok(()) => {
                sink.event(&Event::TurnCompleted {
                    usage: outcome.usage,
                });
                Ok(outcome)
            }
            Err(error) => {
                sink.event(&Event::TurnFailed {
                    error: error.clone(),
                });
                Err(error)
            }
        }
    }

    fn turn_loop(
        &mut self,
        outcome: &mut TurnOutcome,
        sink: &mut dyn Sink,
    ) -> Result<(), TurnError> {
        loop {
            if self.session.cancel.is_cancelled() {
                return Err(ModelError::Cancelled.into());
            }
            let prompt = Prompt {
                model: self.model.slug.clone(),
                instructions: self.instructions(),
                input: self.history.clone(),
                tools: offered_tools(self.plugins, self.session, &self.model),
                parallel_tool_calls: self.model.supports_parallel_tool_calls,
                reasoning: self.model.supports_reasoning_summaries,
                options: self.options.clone(),
            };
            let calls = self.stream_response(&prompt, outcome, sink)?;
            if calls.is_empty() {
                return Ok(());
            }
            let parallel = self.model.supports_parallel_tool_calls;
            let mut runner = calls::Runner {
                plugins: self.plugins,
                session: self.session,
                next_item: &mut self.next_item,
                progress: self.progress.as_ref(),
                audit: self.audit.as_deref(),
            };
            let outputs = runner.run(&calls, parallel, sink);
            for output in outputs {
                self.push_history(output, sink);
            }
            // Every call has its output: the history may be replaced.
            if self.over_compact_limit() {
                self.compact_history(CompactTrigger::Auto, sink)?;
            }
        }
    }

    /// Streams one response into items; returns the tool calls it made.
    fn stream_response(
        &mut self,
        prompt: &Prompt,
        outcome: &mut TurnOutcome,
        sink: &mut dyn Sink,
    ) -> Result<Vec<ResponseItem>, ModelError> {
        let request_started = std::time::Instant::now();
        let mut stream = self.client.stream(prompt)?;
        // A cancel wakes the blocked `next` with `Cancelled` (at once if
        // the token is up already).
        let _interrupt = self.session.cancel.on_cancel({
            let interrupt = stream.interrupt();
            move || interrupt.interrupt()
        });
        let mut calls = Vec::new();
        loop {
            let event = match stream.next() {
                None => {
                    return Err(ModelError::Dropped(
                        "the model client stopped sending events".to_owned(),
                    ));
                }
                Some(Err(err)) => return Err(err),
                Some(Ok(event)) => event,
            };
            telemetry::sse_event(&event, request_started);
            match event {
                ResponseEvent::Created => sink.event(&Event::ResponseStarted),
                ResponseEvent::OutputTextDelta { delta } => sink.event(&Event::ItemDelta {
                    kind: DeltaKind::AgentMessage,
                    delta,
                }),
                ResponseEvent::ReasoningSummaryDelta { delta } => sink.event(&Event::ItemDelta {
                    kind: DeltaKind::Reasoning,
                    delta,
                }),
                ResponseEvent::OutputItemDone { item } => {
                    self.receive(item, &mut calls, outcome, sink);
                }
                ResponseEvent::Warning { message } => sink.event(&Event::Error { message }),
                ResponseEvent::Completed { usage, .. } => {
                    // One response without usage makes the turn's unknown.
                    match (&mut outcome.usage, &usage) {
                        (Some(turn), Some(usage)) => add_usage(turn, usage),
                        (turn, None) => *turn = None,
                        (None, Some(_)) => {}
                    }
                    if let Some(usage) = usage {
                        add_usage(&mut self.total_usage, &usage);
                        self.context_used = usage.input_tokens + usage.output_tokens;
                        sink.event(&Event::TokenCount {
                            total: self.total_usage,
                            context_used: self.context_used,
                            context_window: self.model.context_window,
                        });
                    }
                    return Ok(calls);
                }
            }
        }
    }

    fn receive(
        &mut self,
        item: ResponseItem,
        calls: &mut Vec<ResponseItem>,
        outcome: &mut TurnOutcome,
        sink: &mut dyn Sink,
    ) {
        let details = match &item {
            ResponseItem::Message { role, text, .. } => match role {
                Role::Assistant => {
                    outcome.last_message = Some(text.clone());
                    Some(ItemDetails::AgentMessage { text: text.clone() })
                }
                Role::User | Role::Developer => None,
            },
            ResponseItem::Reasoning { summary, .. } => Some(ItemDetails::Reasoning {
                text: summary.join("\n"),
            }),
            ResponseItem::WebSearchCall { action, .. } => Some(ItemDetails::WebSearch {
                query: ResponseItem::web_search_query(action)
                    .unwrap_or_default()
                    .to_owned(),
            }),
            ResponseItem::FunctionCall { .. } | ResponseItem::CustomToolCall { .. } => {
                calls.push(item.clone());
                None
            }
            ResponseItem::ToolOutput { .. } => None,
        };
        self.push_history(item, sink);
        if let Some(details) = details {
            let item = self.item(details);
            sink.event(&Event::ItemCompleted { item });
        }
    }

    /// Adds "aborted" outputs for calls of the history that have none.
    fn answer_unanswered(&mut self, sink: &mut dyn Sink) {
        let unanswered = calls::unanswered(&self.history);
        for call_id in unanswered {
            let output = ResponseItem::ToolOutput {
                call_id,
                output: vec![wharf_model::protocol::OutputContent::Text {
                    text: "aborted: the turn was cancelled or failed before this call ran"
                        .to_owned(),
                }],
                is_error: true,
            };
            self.push_history(output, sink);
        }
    }

    fn push_history(&mut self, item: ResponseItem, sink: &mut dyn Sink) {
        sink.history(&item);
        self.history.push(item);
    }

    fn item(&mut self, details: ItemDetails) -> Item {
        calls::new_item(&mut self.next_item, details)
    }
}

fn add_usage(total: &mut Usage, more: &Usage) {
    total.input_tokens += more.input_tokens;
    total.cached_input_tokens += more.cached_input_tokens;
    total.output_tokens += more.output_tokens;
    total.reasoning_output_tokens += more.reasoning_output_tokens;
    total.total_tokens += more.total_tokens;
}
