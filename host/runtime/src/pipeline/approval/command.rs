//! The command a call runs, as its tool shows it: the argument its spec's
//! display hint points at. The agent shows it and the approval stage judges
//! it, from this one reading.

use serde_json::Value;

use crate::plugin::ToolSpec;

/// A command a call runs, read from the argument the spec's
/// [`Display::command`](crate::plugin::Display::command) hint points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShownCommand {
    /// A command line, for a shell to read (`"ls -l | head"`).
    Line(String),
    /// A program and its arguments, run without a shell (`["ls", "-l"]`).
    /// `exact` is false when a word was not a string: it is shown as its
    /// JSON text, and the command is never judged safe.
    Words { words: Vec<String>, exact: bool },
}

impl ShownCommand {
    /// The command for people: the line, or the words joined by spaces.
    pub fn text(&self) -> String {
        match self {
            ShownCommand::Line(line) => line.clone(),
            ShownCommand::Words { words, .. } => words.join(" "),
        }
    }
}

/// The command a call of `spec`'s tool with `arguments` runs; `None` when
/// the tool shows none, or its hint points at nothing or at something else
/// than a string or an array.
pub fn shown_command(spec: &ToolSpec, arguments: &Value) -> Option<ShownCommand> {
    let pointer = spec.display.command.as_deref()?;
    match arguments.pointer(pointer)? {
        Value::String(line) => Some(ShownCommand::Line(line.clone())),
        Value::Array(values) => {
            let words = values
                .iter()
                .map(|word| {
                    word.as_str()
                        .map_or_else(|| word.to_string(), str::to_owned)
                })
                .collect();
            let exact = values.iter().all(Value::is_string);
            Some(ShownCommand::Words { words, exact })
        }
        _ => None,
    }
}
