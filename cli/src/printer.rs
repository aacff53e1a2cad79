//! The one printer of a session's events: for people on stderr, or as
//! JSON lines on stdout (`--json`). `wharf exec` prints every event of its
//! turn, `wharf tool call` the progress of its call; both read the same
//! events the session's sink gets.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use wharf_host::agent::{
    ChangeKind, CompactTrigger, DeltaKind, Event, Item, ItemDetails, PlanStatus, Sink, Status,
};

use crate::terminal::safe;

/// Prints each event it gets.
pub struct Printer {
    /// JSON lines on stdout instead of lines for people on stderr.
    json: bool,
    /// Paths under it are shown relative to it.
    cwd: PathBuf,
    /// The agent message streaming on stderr, if one is.
    streaming: Option<Streamed>,
}

/// An agent message printed as its deltas came.
struct Streamed {
    /// What was printed of it.
    text: String,
    /// Whether its line is still the last thing on stderr (no other line
    /// came between its deltas).
    line_open: bool,
}

impl Printer {
    /// Lines for people on stderr, or with `json` JSON lines on stdout;
    /// paths under `cwd` shown relative to it.
    pub fn new(json: bool, cwd: PathBuf) -> Printer {
        Printer {
            json,
            cwd,
            streaming: None,
        }
    }

    pub fn print(&mut self, event: &Event) {
        if self.json {
            if event.is_transient() {
                return;
            }
            if let Ok(line) = serde_json::to_string(event) {
                let mut stdout = std::io::stdout().lock();
                let _ = writeln!(stdout, "{line}");
                let _ = stdout.flush();
            }
            return;
        }
        match event {
            Event::ItemDelta {
                kind: DeltaKind::AgentMessage,
                delta,
            } => return self.stream(delta),
            Event::ItemCompleted {
                item:
                    Item {
                        details: ItemDetails::AgentMessage { text },
                        ..
                    },
            } => {
                // Streamed whole: it is on stderr already.
                if self.end_stream().is_some_and(|streamed| streamed == *text) {
                    return;
                }
            }
            Event::ResponseStarted => {
                // A retried response streams its text again.
                if self.end_stream().is_some() {
                    eprintln!("(the response was interrupted and starts again)");
                }
            }
            _ => self.break_stream(),
        }
        if !event.is_transient() {
            human(event, &self.cwd);
        }
    }

    /// Prints `delta` of the agent message, after `agent: ` when it starts.
    fn stream(&mut self, delta: &str) {
        let streamed = self.streaming.get_or_insert_with(|| {
            eprint!("agent: ");
            Streamed {
                text: String::new(),
                line_open: true,
            }
        });
        streamed.text.push_str(delta);
        streamed.line_open = true;
        let mut stderr = std::io::stderr().lock();
        let _ = write!(stderr, "{}", safe(delta));
        let _ = stderr.flush();
    }

    /// Ends the streamed message's line before another line is printed.
    fn break_stream(&mut self) {
        if let Some(streamed) = &mut self.streaming
            && streamed.line_open
        {
            if !streamed.text.ends_with('\n') {
                eprintln!();
            }
            streamed.line_open = false;
        }
    }

    /// The streamed message is complete: its line ended, its text returned.
    fn end_stream(&mut self) -> Option<String> {
        self.break_stream();
        self.streaming.take().map(|streamed| streamed.text)
    }
}

impl Sink for Printer {
    fn event(&mut self, event: &Event) {
        self.print(event);
    }
}

/// Lines of a tool's output shown in progress.
const SHOWN_LINES: usize = 6;

/// `event` for people, on stderr.
pub fn human(event: &Event, cwd: &Path) {
    let item = match event {
        Event::ItemStarted { item } => {
            match &item.details {
                ItemDetails::CommandExecution { command, .. } => eprintln!("$ {}", safe(command)),
                ItemDetails::McpToolCall { server, tool, .. } => {
                    eprintln!("→ {}/{}", safe(server), safe(tool));
                }
                ItemDetails::ToolCall {
                    tool, arguments, ..
                } => eprintln!("→ {} {}", safe(tool), short(&arguments.to_string(), 120)),
                ItemDetails::FileChange { tool, .. } => eprintln!("→ {}", safe(tool)),
                ItemDetails::UserMessage { .. }
                | ItemDetails::AgentMessage { .. }
                | ItemDetails::Reasoning { .. }
                | ItemDetails::WebSearch { .. }
                | ItemDetails::Error { .. } => {}
            }
            return;
        }
        Event::ItemCompleted { item } => item,
        Event::TurnCompleted { usage } => {
            match usage {
                Some(usage) => eprintln!("tokens used: {}", usage.total_tokens),
                None => eprintln!("tokens used: unknown (the provider reported no usage)"),
            }
            return;
        }
        Event::TurnFailed { error } => {
            eprintln!("error: {}", safe(&error.message));
            return;
        }
        Event::Error { message } => {
            eprintln!("warning: {}", safe(message));
            return;
        }
        Event::ItemProgress { tool, message, .. } => {
            eprintln!("  … {}: {}", safe(tool), safe(message));
            return;
        }
        Event::Compacted {
            trigger,
            context_before,
        } => {
            let why = match trigger {
                CompactTrigger::Auto => "the context window filled up",
                CompactTrigger::Manual => "asked",
            };
            eprintln!("compacted the conversation ({why}; {context_before} tokens before)");
            return;
        }
        Event::PlanUpdated { explanation, plan } => {
            eprintln!("plan:");
            if let Some(explanation) = explanation {
                eprintln!("  {}", short(explanation, 400));
            }
            for step in plan {
                let mark = match step.status {
                    PlanStatus::Completed => "[x]",
                    PlanStatus::InProgress => "[>]",
                    PlanStatus::Pending => "[ ]",
                };
                eprintln!("  {mark} {}", short(&step.step, 200));
            }
            return;
        }
        Event::ThreadStarted { .. } | Event::TurnStarted | Event::ItemUpdated { .. } => return,
        Event::ResponseStarted
        | Event::ItemDelta { .. }
        | Event::TokenCount { .. }
        | Event::ApprovalRequested { .. }
        | Event::ElicitationRequested { .. }
        | Event::SessionConfigured { .. }
        | Event::Notice { .. }
        | Event::SessionList { .. }
        | Event::SessionEnded => return,
    };
    match &item.details {
        ItemDetails::UserMessage { text } => eprintln!("user: {}", short(text, 400)),
        ItemDetails::AgentMessage { text } => eprintln!("agent: {}", safe(text)),
        ItemDetails::Reasoning { text } => eprintln!("thinking: {}", short(text, 400)),
        ItemDetails::Error { message } => eprintln!("error: {}", safe(message)),
        ItemDetails::WebSearch { query } => eprintln!("web search: {}", short(query, 200)),
        ItemDetails::CommandExecution {
            aggregated_output,
            exit_code,
            status,
            ..
        } => {
            let head = match (exit_code, status) {
                (Some(code), _) => format!("exit {code}"),
                (None, status) => status_word(*status).to_owned(),
            };
            eprintln!("  {head}");
            print_excerpt(command_body(aggregated_output));
        }
        ItemDetails::FileChange {
            changes,
            output,
            status,
            ..
        } => {
            for change in changes {
                let path = Path::new(&change.path);
                let shown = path.strip_prefix(cwd).unwrap_or(path);
                let letter = match change.kind {
                    ChangeKind::Add => 'A',
                    ChangeKind::Delete => 'D',
                    ChangeKind::Update => 'M',
                };
                eprintln!("  {letter} {}", safe(&shown.to_string_lossy()));
            }
            if *status != Status::Completed || changes.is_empty() {
                eprintln!("  {}", status_word(*status));
                print_excerpt(output);
            }
        }
        ItemDetails::McpToolCall { output, status, .. }
        | ItemDetails::ToolCall { output, status, .. } => {
            eprintln!("  {}", status_word(*status));
            print_excerpt(output);
        }
    }
}

fn status_word(status: Status) -> &'static str {
    match status {
        Status::InProgress => "running",
        Status::Completed => "ok",
        Status::Failed => "failed",
        Status::Declined => "declined",
        Status::Cancelled => "cancelled",
    }
}

/// A command's output without the header of codex's format (everything
/// up to `Output:`).
fn command_body(output: &str) -> &str {
    match output.split_once("\nOutput:\n") {
        Some((_, body)) => body,
        None => output,
    }
}

fn print_excerpt(text: &str) {
    let lines: Vec<&str> = text.lines().collect();
    for line in lines.iter().take(SHOWN_LINES) {
        eprintln!("  │ {}", short(line, 160));
    }
    if lines.len() > SHOWN_LINES {
        eprintln!("  │ … {} more lines", lines.len() - SHOWN_LINES);
    }
}

/// `text` cut to `max` characters, made safe for the terminal.
fn short(text: &str, max: usize) -> String {
    let text = text.trim_end();
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", safe(text.get(..at).unwrap_or(text))),
        None => safe(text).into_owned(),
    }
}
