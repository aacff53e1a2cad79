//! What a tool returns.

use std::time::Duration;

use crate::bindings::wharf::plugin::types as wit;

/// A tool's output: blocks of content for the model, and file edits for the
/// host to check and apply.
#[derive(Debug, Clone, Default)]
pub struct Output {
    pub(crate) content: Vec<wit::Content>,
    pub(crate) is_error: bool,
    pub(crate) changes: Vec<FileChange>,
    pub(crate) command: Option<CommandRun>,
}

impl Output {
    /// An empty output.
    pub fn new() -> Output {
        Output::default()
    }

    /// One text block.
    pub fn text(text: impl Into<String>) -> Output {
        Output::new().with_text(text)
    }

    /// A failure the model should read: one text block, marked as an error.
    pub fn error(text: impl Into<String>) -> Output {
        Output::text(text).mark_error()
    }

    pub fn with_text(mut self, text: impl Into<String>) -> Output {
        self.content.push(wit::Content::Text(text.into()));
        self
    }

    /// A JSON block.
    pub fn with_json(mut self, value: &impl serde::Serialize) -> Output {
        let json = serde_json::to_string(value).unwrap_or_else(|err| {
            format!("{{\"error\":\"output could not be serialized: {err}\"}}")
        });
        self.content.push(wit::Content::Json(json));
        self
    }

    /// An image block (`image/png`, `image/jpeg`, …).
    pub fn with_image(mut self, mime_type: impl Into<String>, data: Vec<u8>) -> Output {
        self.content.push(wit::Content::Image(wit::Image {
            mime_type: mime_type.into(),
            data,
        }));
        self
    }

    /// Marks the output as a failure the model should read.
    pub fn mark_error(mut self) -> Output {
        self.is_error = true;
        self
    }

    /// Asks the host to make a file edit; edits apply in order.
    pub fn with_change(mut self, change: FileChange) -> Output {
        self.changes.push(change);
        self
    }

    /// Says which command the call ran and how it ended, so that the host
    /// can show it and judge the call by its exit code rather than by the
    /// text. Native plugins only: `wharf:plugin@0.1.0` has no place for
    /// it, so a WASM tool's command is dropped (until a later WIT version).
    pub fn with_command(mut self, command: CommandRun) -> Output {
        self.command = Some(command);
        self
    }

    /// The command the call ran, if the tool said.
    pub fn command(&self) -> Option<&CommandRun> {
        self.command.as_ref()
    }

    /// The text blocks, joined by newlines (for a tool's own tests).
    pub fn as_text(&self) -> String {
        let texts: Vec<&str> = self
            .content
            .iter()
            .filter_map(|content| match content {
                wit::Content::Text(text) | wit::Content::Json(text) => Some(text.as_str()),
                wit::Content::Image(_) => None,
            })
            .collect();
        texts.join("\n")
    }

    /// Whether the output is marked as an error.
    pub fn is_error(&self) -> bool {
        self.is_error
    }

    /// The file changes, in order.
    pub fn changes(&self) -> &[FileChange] {
        &self.changes
    }

    /// `command` stays behind: the 0.1.0 record cannot grow.
    /// A tool's output as a hook is given it: its content and error flag.
    pub(crate) fn from_wit(output: wit::ToolOutput) -> Output {
        Output {
            content: output.content,
            is_error: output.is_error,
            changes: Vec::new(),
            command: None,
        }
    }

    pub(crate) fn into_wit(self) -> wit::ToolOutput {
        wit::ToolOutput {
            content: self.content,
            is_error: self.is_error,
            changes: self.changes.into_iter().map(FileChange::into_wit).collect(),
        }
    }
}

/// A command a call ran: what it was, how it ended, how long it took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandRun {
    /// The program and its arguments, as started.
    pub argv: Vec<String>,
    /// `None` while it still runs (a session the model can come back to).
    pub exit_code: Option<i32>,
    /// How long the call waited for it.
    pub duration: Duration,
}

/// A file edit for the host to apply. Paths are absolute or relative to the
/// call's working directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileChange {
    /// Create the file (and its directories), or overwrite it.
    Add { path: String, contents: String },
    /// Remove the file.
    Delete { path: String },
    /// Replace the contents; with `move_to`, write them there and remove
    /// `path`.
    Update {
        path: String,
        move_to: Option<String>,
        contents: String,
    },
}

impl FileChange {
    fn into_wit(self) -> wit::FileChange {
        match self {
            FileChange::Add { path, contents } => {
                wit::FileChange::Add(wit::FileContents { path, contents })
            }
            FileChange::Delete { path } => wit::FileChange::Delete(path),
            FileChange::Update {
                path,
                move_to,
                contents,
            } => wit::FileChange::Update(wit::FileUpdate {
                path,
                move_to,
                contents,
            }),
        }
    }
}
