//! Tool calls in a turn: which tools a model is offered, running the calls
//! of one response (concurrently when the model allows it), and turning
//! outcomes into items for the user and outputs for the model.

use std::collections::HashSet;

use base64::Engine as _;

use serde_json::Value;
use wharf_model::models::{FreeformToolType, ModelInfo, ShellType};
use wharf_model::protocol::{OutputContent, ResponseItem, ToolDef};
use wharf_runtime::pipeline::{
    self, AppliedChange, CallError, CallOutcome, ModelFit, Resolved, Session, ToolCall,
};
use wharf_runtime::plugin::ToolSpec;
use wharf_runtime::plugin::{Content, Progress};
use wharf_runtime::registry::{Entry, Plugins};

use super::events::{ChangeKind, Event, FileUpdate, Item, ItemDetails};
use super::{SharedSink, Sink};

mod items;
mod plan;

/// The tools `model` is offered in `session`: the tools of every offered
/// plugin (feature on, not replaced) whose `requires` the model meets;
/// none that runs commands when the model's `shell_type` is `disabled`. A
/// tool with a freeform grammar is offered as a freeform tool to models
/// whose `freeform_tool_type` is `freeform`, as a function otherwise.
/// Sorted by name, so prompts are stable.
pub fn offered_tools(plugins: &Plugins, session: &Session, model: &ModelInfo) -> Vec<ToolDef> {
    let fit = super::model_fit(model);
    let mut tools = Vec::new();
    for entry in &plugins.entries {
        if plugins.offered(entry, &session.features).is_err() {
            continue;
        }
        if model.shell_type == ShellType::Disabled && entry.manifest.capabilities.exec {
            continue;
        }
        for spec in entry.plugin.tools() {
            if !fit.offers(&spec.requires) {
                continue;
            }
            let tool = match (&spec.freeform_grammar, model.freeform_tool_type) {
                (Some(grammar), FreeformToolType::Freeform) => ToolDef::Freeform {
                    name: spec.name.clone(),
                    description: spec.description.clone(),
                    grammar: grammar.clone(),
                },
                _ => ToolDef::Function {
                    name: spec.name.clone(),
                    description: spec.description.clone(),
                    parameters: spec.input_schema.clone(),
                },
            };
            tools.push(tool);
        }
    }
    tools.sort_by(|a, b| a.name().cmp(b.name()));
    tools
}

/// The call ids of `history`'s calls that have no output.
pub(super) fn unanswered(history: &[ResponseItem]) -> Vec<String> {
    let answered: HashSet<&str> = history
        .iter()
        .filter_map(|item| match item {
            ResponseItem::ToolOutput { call_id, .. } => Some(call_id.as_str()),
            _ => None,
        })
        .collect();
    history
        .iter()
        .filter_map(|item| match item {
            ResponseItem::FunctionCall { call_id, .. }
            | ResponseItem::CustomToolCall { call_id, .. }
                if !answered.contains(call_id.as_str()) =>
            {
                Some(call_id.clone())
            }
            _ => None,
        })
        .collect()
}

pub(super) fn new_item(next: &mut usize, details: ItemDetails) -> Item {
    let id = format!("item_{next}");
    *next += 1;
    Item {
        id,
        details,
        hooks: Vec::new(),
    }
}

/// Where the outcome of every call is recorded (the audit log,
/// `crate::audit`).
pub trait Recorder: Send + Sync {
    /// Records `outcome` of `call` in `session` (`resolved`: when a plugin
    /// offers its tool); returns a warning for the user, if any.
    fn record(
        &self,
        session: &Session,
        call: &ToolCall,
        resolved: Option<&Resolved<'_>>,
        outcome: &CallOutcome,
    ) -> Option<String>;
}

/// Runs the calls of one response.
pub(super) struct Runner<'r> {
    pub plugins: &'r Plugins,
    pub session: &'r Session,
    pub next_item: &'r mut usize,
    pub progress: Option<&'r SharedSink>,
    pub audit: Option<&'r dyn Recorder>,
}

impl Runner<'_> {
    /// Runs `calls` (function or custom tool call items) and returns their
    /// outputs in call order: one at a time on this thread, or concurrently
    /// on scoped threads when `parallel`. A cancel reaches the running
    /// calls through the session's token (the pipeline ends their plugin's
    /// session, so that they return now); once they returned, every
    /// plugin's session is ended, and calls not started yet are aborted.
    pub fn run(
        &mut self,
        calls: &[ResponseItem],
        parallel: bool,
        sink: &mut dyn Sink,
    ) -> Vec<ResponseItem> {
        let (calls, found): (Vec<ToolCall>, Vec<Found<'_>>) = calls
            .iter()
            .filter_map(|item| tool_call(self.plugins, item))
            .unzip();
        let ready: Vec<Ready<'_>> = calls.iter().zip(found).map(Ready::new).collect();
        let mut outputs = Vec::with_capacity(ready.len());
        if parallel && ready.len() > 1 {
            let started: Vec<Item> = ready.iter().map(|call| self.started(call, sink)).collect();
            let outcomes = self.run_concurrently(&ready, &started);
            for ((item, outcome), call) in started.into_iter().zip(outcomes).zip(&ready) {
                self.audit(call, &outcome, sink);
                outputs.push(self.completed(item, outcome, sink));
            }
        } else {
            for call in &ready {
                let item = self.started(call, sink);
                let outcome = self.run_one(call, self.progress(&item, call.call()));
                self.audit(call, &outcome, sink);
                outputs.push(self.completed(item, outcome, sink));
            }
        }
        if self.session.cancel.is_cancelled() {
            self.plugins.end_session(&self.session.session_id);
        }
        outputs
    }

    fn run_one(&self, ready: &Ready<'_>, progress: Option<Progress>) -> CallOutcome {
        if self.session.cancel.is_cancelled() {
            return aborted(ready.call());
        }
        match ready {
            Ready::Resolved(resolved) => {
                pipeline::run(self.plugins, self.session, resolved, progress)
            }
            Ready::Unknown { call, .. } => pipeline::unknown_tool(call),
        }
    }

    /// Records `outcome` in the audit log; a record that cannot be written
    /// is said once, as a warning.
    fn audit(&self, ready: &Ready<'_>, outcome: &CallOutcome, sink: &mut dyn Sink) {
        let Some(audit) = self.audit else {
            return;
        };
        let resolved = match ready {
            Ready::Resolved(resolved) => Some(resolved),
            Ready::Unknown { .. } => None,
        };
        if let Some(message) = audit.record(self.session, ready.call(), resolved, outcome) {
            sink.event(&Event::Error { message });
        }
    }

    /// What `call` (shown as `item`) reports of its progress becomes an
    /// event in the shared sink, from the thread the call runs on.
    fn progress(&self, item: &Item, call: &ToolCall) -> Option<Progress> {
        let sink = self.progress?;
        Some(super::progress_events(
            sink,
            item.id.clone(),
            call.tool.clone(),
        ))
    }

    /// Runs each call on a thread of its own; outcomes in call order.
    fn run_concurrently(&self, ready: &[Ready<'_>], items: &[Item]) -> Vec<CallOutcome> {
        std::thread::scope(|scope| {
            let running: Vec<_> = ready
                .iter()
                .zip(items)
                .map(|(call, item)| {
                    let progress = self.progress(item, call.call());
                    scope.spawn(move || self.run_one(call, progress))
                })
                .collect();
            running
                .into_iter()
                .zip(ready)
                .map(|(thread, call)| thread.join().unwrap_or_else(|_| aborted(call.call())))
                .collect()
        })
    }

    fn started(&mut self, ready: &Ready<'_>, sink: &mut dyn Sink) -> Item {
        let details = match ready {
            Ready::Resolved(resolved) => items::started_details(
                resolved.call,
                Some((resolved.entry, resolved.spec)),
                resolved.args.as_ref().ok(),
            ),
            Ready::Unknown { call, args } => items::started_details(call, None, args.as_ref()),
        };
        let item = new_item(self.next_item, details);
        sink.event(&Event::ItemStarted { item: item.clone() });
        item
    }

    /// Ends `item` with `outcome`; the plans the output reported follow
    /// it as events, and neither people nor the model read them as output.
    fn completed(&self, item: Item, mut outcome: CallOutcome, sink: &mut dyn Sink) -> ResponseItem {
        super::hooks::warn(outcome.decisions.hooks(), sink);
        let plans = plan::take_reports(&mut outcome);
        let text = output_text(&outcome);
        let status = items::status(&outcome);
        let changes = file_updates(&outcome.applied);
        let details = match item.details {
            ItemDetails::CommandExecution { tool, command, .. } => ItemDetails::CommandExecution {
                tool,
                command,
                exit_code: items::exit_code(&outcome),
                aggregated_output: text,
                status,
            },
            ItemDetails::FileChange { tool, .. } => ItemDetails::FileChange {
                tool,
                changes,
                output: text,
                status,
            },
            ItemDetails::McpToolCall {
                server,
                tool,
                arguments,
                ..
            } => ItemDetails::McpToolCall {
                server,
                tool,
                arguments,
                output: text,
                status,
            },
            ItemDetails::ToolCall { tool, .. } if !changes.is_empty() => ItemDetails::FileChange {
                tool,
                changes,
                output: text,
                status,
            },
            ItemDetails::ToolCall {
                tool, arguments, ..
            } => ItemDetails::ToolCall {
                tool,
                arguments,
                output: text,
                status,
            },
            other @ (ItemDetails::UserMessage { .. }
            | ItemDetails::AgentMessage { .. }
            | ItemDetails::Reasoning { .. }
            | ItemDetails::WebSearch { .. }
            | ItemDetails::Error { .. }) => other,
        };
        sink.event(&Event::ItemCompleted {
            item: Item {
                id: item.id,
                details,
                hooks: outcome.decisions.hooks().iter().map(Into::into).collect(),
            },
        });
        for plan in &plans {
            sink.event(plan);
        }
        model_output(&outcome, self.session.model.as_ref())
    }
}

/// What looking a call's tool up found, with its arguments parsed: done
/// once per call, for the item shown and for the pipeline.
struct Found<'p> {
    tool: Option<(&'p Entry, &'p ToolSpec)>,
    args: Result<Value, String>,
}

/// A call ready to show and run: resolved, or naming no tool.
enum Ready<'a> {
    Resolved(Resolved<'a>),
    Unknown {
        call: &'a ToolCall,
        args: Option<Value>,
    },
}

impl<'a> Ready<'a> {
    fn new((call, found): (&'a ToolCall, Found<'a>)) -> Ready<'a> {
        match found.tool {
            Some((entry, spec)) => Ready::Resolved(Resolved {
                call,
                entry,
                spec,
                args: found.args,
            }),
            None => Ready::Unknown {
                call,
                args: found.args.ok(),
            },
        }
    }

    fn call(&self) -> &'a ToolCall {
        match self {
            Ready::Resolved(resolved) => resolved.call,
            Ready::Unknown { call, .. } => call,
        }
    }
}

/// The pipeline's request for a call item, its tool looked up and its
/// arguments parsed; `None` for other items.
fn tool_call<'p>(plugins: &'p Plugins, item: &ResponseItem) -> Option<(ToolCall, Found<'p>)> {
    let (call_id, name, raw, freeform) = match item {
        ResponseItem::FunctionCall {
            call_id,
            name,
            arguments,
        } => (call_id, name, arguments, false),
        ResponseItem::CustomToolCall {
            call_id,
            name,
            input,
        } => (call_id, name, input, true),
        ResponseItem::Message { .. }
        | ResponseItem::Reasoning { .. }
        | ResponseItem::WebSearchCall { .. }
        | ResponseItem::ToolOutput { .. } => return None,
    };
    let tool = plugins.tool(name);
    let (text, args) = if freeform {
        // A freeform tool's input goes into the argument its spec names.
        let value = items::freeform_arguments(tool.map(|(_, spec)| spec), raw);
        (value.to_string(), Ok(value))
    } else {
        (raw.clone(), pipeline::parse_args(raw))
    };
    let call = ToolCall {
        call_id: call_id.as_str().into(),
        tool: name.clone(),
        args: text,
    };
    Some((call, Found { tool, args }))
}

fn file_updates(applied: &[AppliedChange]) -> Vec<FileUpdate> {
    applied
        .iter()
        .map(|change| FileUpdate {
            path: change.path.display().to_string(),
            diff: change.diff.clone(),
            kind: match change.kind {
                pipeline::ChangeKind::Added => ChangeKind::Add,
                pipeline::ChangeKind::Modified => ChangeKind::Update,
                pipeline::ChangeKind::Deleted => ChangeKind::Delete,
            },
        })
        .collect()
}

/// The outcome as text for people.
fn output_text(outcome: &CallOutcome) -> String {
    match &outcome.result {
        Ok(output) => output.text(),
        Err(err) => err.to_string(),
    }
}

/// The outcome as the model reads it. Images were already replaced by a
/// placeholder for models without image input, and output text cut to the
/// model's budget (the pipeline's sanitizing); an error's text is cut here.
fn model_output(outcome: &CallOutcome, fit: Option<&ModelFit>) -> ResponseItem {
    let (output, is_error) = match &outcome.result {
        Ok(output) => {
            let mut parts: Vec<OutputContent> = output
                .content
                .iter()
                .map(|content| match content {
                    Content::Text(text) | Content::Json(text) => {
                        OutputContent::Text { text: text.clone() }
                    }
                    Content::Image { mime_type, data } => OutputContent::Image {
                        mime_type: mime_type.clone(),
                        data_base64: base64::engine::general_purpose::STANDARD.encode(data),
                    },
                })
                .collect();
            if parts.is_empty() {
                parts.push(OutputContent::Text {
                    text: String::new(),
                });
            }
            (parts, output.is_error)
        }
        Err(err) => {
            let mut text = err.to_string();
            if let Some(fit) = fit {
                text = fit.truncate(&text);
            }
            (vec![OutputContent::Text { text }], true)
        }
    };
    ResponseItem::ToolOutput {
        call_id: outcome.call_id.to_string(),
        output,
        is_error,
    }
}

fn aborted(call: &ToolCall) -> CallOutcome {
    CallOutcome {
        call_id: call.call_id.clone(),
        tool: call.tool.clone(),
        plugin: None,
        result: Err(CallError::Tool(wharf_runtime::plugin::ToolError::Cancelled)),
        applied: Vec::new(),
        timings: pipeline::Timings::default(),
        decisions: pipeline::Decisions::one(pipeline::StageDecision {
            stage: pipeline::Stage::Invoke,
            verdict: pipeline::Verdict::Deny,
            by: pipeline::DecidedBy::Cancel,
        }),
        grant: None,
    }
}
