//! Record and replay a model's side of a session.
//!
//! [`RecordingClient`] wraps any [`ModelClient`], passes everything
//! through, and appends one JSONL line per request: the model asked, a
//! [`PromptSummary`] (enough to notice a replay going another way) and
//! every [`ResponseEvent`] the model streamed. [`ReplayClient`] serves
//! those events again in order, without a network, while the tools really
//! run; a session that asks for more requests than were recorded, or whose
//! request differs from the recorded one, fails with a
//! [`ModelError::Protocol`] saying how.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::{Deserialize, Serialize};

use crate::protocol::{
    ModelClient, ModelError, Prompt, ResponseEvent, ResponseItem, ResponseStream, Role,
};

/// What a recording keeps of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromptSummary {
    /// How many conversation items the request sent.
    pub input_items: usize,
    /// The kind of the last one (`user_message`, `tool_output`, …).
    pub last_item: String,
    /// The call ids of the tool outputs at the end of the input: the calls
    /// this request answers.
    pub tool_outputs: Vec<String>,
    /// The tools offered, by name.
    pub tools: Vec<String>,
}

impl PromptSummary {
    pub fn of(prompt: &Prompt) -> PromptSummary {
        let tool_outputs: Vec<String> = prompt
            .input
            .iter()
            .rev()
            .map_while(|item| match item {
                ResponseItem::ToolOutput { call_id, .. } => Some(call_id.clone()),
                _ => None,
            })
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        PromptSummary {
            input_items: prompt.input.len(),
            last_item: prompt.input.last().map_or("nothing", item_kind).to_owned(),
            tool_outputs,
            tools: prompt.tools.iter().map(|t| t.name().to_owned()).collect(),
        }
    }
}

fn item_kind(item: &ResponseItem) -> &'static str {
    match item {
        ResponseItem::Message { role, .. } => match role {
            Role::User => "user_message",
            Role::Assistant => "assistant_message",
            Role::Developer => "developer_message",
        },
        ResponseItem::Reasoning { .. } => "reasoning",
        ResponseItem::FunctionCall { .. } => "function_call",
        ResponseItem::CustomToolCall { .. } => "custom_tool_call",
        ResponseItem::WebSearchCall { .. } => "web_search_call",
        ResponseItem::ToolOutput { .. } => "tool_output",
    }
}

/// One line of a recording: a request and what the model streamed back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecordedRequest {
    /// From 1.
    pub request: usize,
    pub model: String,
    pub prompt: PromptSummary,
    pub events: Vec<ResponseEvent>,
    /// How the stream failed after `events`, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RecordingError {
    #[error("cannot write the recording {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot read the recording {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}:{line}: not a recorded request: {message}", path.display())]
    Parse {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{}: the recording holds no requests", path.display())]
    Empty { path: PathBuf },
}

/// Passes requests to `C` and records them in a JSONL file.
pub struct RecordingClient<C> {
    inner: C,
    path: PathBuf,
    file: std::sync::Arc<Mutex<File>>,
    requests: AtomicUsize,
}

impl<C: ModelClient> RecordingClient<C> {
    /// Records into `path`, replacing what it held.
    pub fn create(inner: C, path: &Path) -> Result<RecordingClient<C>, RecordingError> {
        let file = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .open(path)
            .map_err(|source| RecordingError::Write {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(RecordingClient {
            inner,
            path: path.to_path_buf(),
            file: std::sync::Arc::new(Mutex::new(file)),
            requests: AtomicUsize::new(0),
        })
    }
}

impl<C: ModelClient> ModelClient for RecordingClient<C> {
    fn stream(&self, prompt: &Prompt) -> Result<ResponseStream, ModelError> {
        let request = self.requests.fetch_add(1, Ordering::SeqCst) + 1;
        let mut recorded = RecordedRequest {
            request,
            model: prompt.model.clone(),
            prompt: PromptSummary::of(prompt),
            events: Vec::new(),
            error: None,
        };
        let inner = match self.inner.stream(prompt) {
            Ok(stream) => stream,
            Err(err) => {
                recorded.error = Some(err.to_string());
                write_line(&self.file, &self.path, &recorded)?;
                return Err(err);
            }
        };
        let (tx, rx) = ResponseStream::channel();
        let file = std::sync::Arc::clone(&self.file);
        let path = self.path.clone();
        std::thread::spawn(move || {
            for event in inner {
                // The line is written before the response's last event is
                // passed on, so that the next request's line follows it.
                let last = matches!(event, Ok(ResponseEvent::Completed { .. }) | Err(_));
                match &event {
                    Ok(event) => recorded.events.push(event.clone()),
                    Err(err) => recorded.error = Some(err.to_string()),
                }
                if last && let Err(err) = write_line(&file, &path, &recorded) {
                    tx.send(Err(err));
                    return;
                }
                if !tx.send(event) || last {
                    return;
                }
            }
            // Ended without completing (or the caller went away).
            recorded.error = Some("the stream ended before the response completed".to_owned());
            let _ = write_line(&file, &path, &recorded);
        });
        Ok(rx)
    }
}

fn write_line(
    file: &Mutex<File>,
    path: &Path,
    recorded: &RecordedRequest,
) -> Result<(), ModelError> {
    let fail = |message: String| {
        ModelError::Protocol(format!(
            "cannot write the recording {}: {message}",
            path.display()
        ))
    };
    let mut line = serde_json::to_string(recorded).map_err(|err| fail(err.to_string()))?;
    line.push('\n');
    let mut file = file
        .lock()
        .map_err(|_| fail("a writer panicked".to_owned()))?;
    file.write_all(line.as_bytes())
        .and_then(|()| file.flush())
        .map_err(|err| fail(err.to_string()))
}

/// Serves a recording's responses in order.
#[derive(Debug)]
pub struct ReplayClient {
    path: PathBuf,
    requests: Vec<RecordedRequest>,
    next: AtomicUsize,
}

impl ReplayClient {
    pub fn load(path: &Path) -> Result<ReplayClient, RecordingError> {
        let text = std::fs::read_to_string(path).map_err(|source| RecordingError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let mut requests = Vec::new();
        for (index, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let request: RecordedRequest =
                serde_json::from_str(line).map_err(|err| RecordingError::Parse {
                    path: path.to_path_buf(),
                    line: index + 1,
                    message: err.to_string(),
                })?;
            requests.push(request);
        }
        if requests.is_empty() {
            return Err(RecordingError::Empty {
                path: path.to_path_buf(),
            });
        }
        Ok(ReplayClient {
            path: path.to_path_buf(),
            requests,
            next: AtomicUsize::new(0),
        })
    }

    /// The model the recording was made with (its first request's).
    pub fn model(&self) -> &str {
        self.requests.first().map_or("", |r| r.model.as_str())
    }

    fn differs(&self, number: usize, what: &str, expected: String, got: String) -> ModelError {
        ModelError::Protocol(format!(
            "request {number} differs from the recording {}: expected {what} {expected}, got {got}",
            self.path.display()
        ))
    }

    fn check(&self, recorded: &RecordedRequest, prompt: &Prompt) -> Result<(), ModelError> {
        let now = PromptSummary::of(prompt);
        let expected = &recorded.prompt;
        let number = recorded.request;
        if now.tool_outputs != expected.tool_outputs {
            return Err(self.differs(
                number,
                "tool outputs for",
                format!("{:?}", expected.tool_outputs),
                format!("{:?}", now.tool_outputs),
            ));
        }
        if now.last_item != expected.last_item {
            return Err(self.differs(
                number,
                "the last input item to be a",
                expected.last_item.clone(),
                now.last_item,
            ));
        }
        if now.input_items != expected.input_items {
            return Err(self.differs(
                number,
                "input items:",
                expected.input_items.to_string(),
                now.input_items.to_string(),
            ));
        }
        // Tools may come and go between builds; only the ones the recorded
        // response calls must still be offered.
        for event in &recorded.events {
            if let ResponseEvent::OutputItemDone {
                item:
                    ResponseItem::FunctionCall { name, .. } | ResponseItem::CustomToolCall { name, .. },
            } = event
                && !now.tools.contains(name)
            {
                return Err(ModelError::Protocol(format!(
                    "request {number} of the recording {} calls `{name}`, which this session \
                     does not offer (offered: {}); check the features and the model",
                    self.path.display(),
                    now.tools.join(", ")
                )));
            }
        }
        Ok(())
    }
}

impl ModelClient for ReplayClient {
    fn stream(&self, prompt: &Prompt) -> Result<ResponseStream, ModelError> {
        let index = self.next.fetch_add(1, Ordering::SeqCst);
        let Some(recorded) = self.requests.get(index) else {
            return Err(ModelError::Protocol(format!(
                "the session asked for request {} but the recording {} holds {}",
                index + 1,
                self.path.display(),
                plural(self.requests.len(), "request")
            )));
        };
        self.check(recorded, prompt)?;
        let (tx, rx) = ResponseStream::channel();
        for event in &recorded.events {
            tx.send(Ok(event.clone()));
        }
        if let Some(error) = &recorded.error {
            tx.send(Err(ModelError::Protocol(format!("(recorded) {error}"))));
        }
        Ok(rx)
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// A boxed client is a client, so that the recorder can wrap whichever
/// client the configuration chose.
impl ModelClient for Box<dyn ModelClient> {
    fn stream(&self, prompt: &Prompt) -> Result<ResponseStream, ModelError> {
        (**self).stream(prompt)
    }
}
