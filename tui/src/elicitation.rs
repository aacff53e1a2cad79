//! The form a plugin asks the user to fill in while its call runs (MCP
//! elicitation): the plugin's message, then one row per field — text,
//! number, integer, yes/no, one choice, several choices — required ones
//! marked. Enter checks the answers and sends them; Ctrl-D declines, Esc
//! cancels. The answer is an [`Op::Elicitation`](wharf_host::ops::Op::Elicitation)
//! with the request's call id. Forms queue like approvals.

mod view;

use std::collections::VecDeque;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde_json::{Map, Value};
use wharf_host::ops::{ElicitationAnswer, ElicitationRequest, FieldKind, FormField};

/// A call id and what the user answered.
pub type Answer = (String, ElicitationAnswer);

/// The forms waiting, the first one shown.
#[derive(Debug, Default)]
pub struct Forms {
    queue: VecDeque<Form>,
}

/// One form being filled in.
#[derive(Debug)]
struct Form {
    request: ElicitationRequest,
    inputs: Vec<Input>,
    /// The field with the cursor.
    focus: usize,
    /// Why the last Enter did not send.
    error: Option<String>,
    /// The first row shown, when the form is taller than the screen.
    scroll: usize,
}

/// What the user entered in one field so far.
#[derive(Debug, Clone, PartialEq)]
enum Input {
    /// Text, a number or an integer, as typed.
    Text(String),
    /// Yes, no, or not answered.
    Flag(Option<bool>),
    /// The choice picked, if any.
    Pick(Option<usize>),
    /// Which choices are picked, and the one the cursor is on.
    Picks { picked: Vec<bool>, cursor: usize },
}

impl Input {
    /// The field's starting value: the plugin's default, if any.
    fn of(field: &FormField) -> Input {
        let default = field.default.as_ref();
        match &field.kind {
            FieldKind::Text { .. } | FieldKind::Number { .. } | FieldKind::Integer { .. } => {
                Input::Text(match default {
                    Some(Value::String(text)) => text.clone(),
                    Some(other) => other.to_string(),
                    None => String::new(),
                })
            }
            FieldKind::Boolean => Input::Flag(default.and_then(Value::as_bool)),
            FieldKind::Choice { choices } => Input::Pick(default.and_then(|value| {
                choices
                    .iter()
                    .position(|choice| Some(choice.value.as_str()) == value.as_str())
            })),
            FieldKind::Choices { choices, .. } => {
                let defaults = default.and_then(Value::as_array);
                let picked = choices
                    .iter()
                    .map(|choice| {
                        defaults.is_some_and(|values| {
                            values
                                .iter()
                                .any(|value| value.as_str() == Some(&choice.value))
                        })
                    })
                    .collect();
                Input::Picks { picked, cursor: 0 }
            }
        }
    }

    /// The answer for `field` (`None`: left empty), or why it is not one.
    fn value(&self, field: &FormField) -> Result<Option<Value>, String> {
        match (self, &field.kind) {
            (Input::Text(text), _) => field.value_of_text(text),
            (Input::Flag(flag), _) => Ok(flag.map(Value::Bool)),
            (Input::Pick(pick), FieldKind::Choice { choices }) => Ok(pick
                .and_then(|at| choices.get(at))
                .map(|choice| Value::String(choice.value.clone()))),
            (Input::Picks { picked, .. }, FieldKind::Choices { choices, .. }) => {
                let values: Vec<Value> = choices
                    .iter()
                    .zip(picked)
                    .filter(|(_, picked)| **picked)
                    .map(|(choice, _)| Value::String(choice.value.clone()))
                    .collect();
                Ok((!values.is_empty() || field.required).then_some(Value::Array(values)))
            }
            (Input::Pick(_) | Input::Picks { .. }, _) => Ok(None),
        }
    }
}

impl Forms {
    pub fn push(&mut self, request: ElicitationRequest) {
        let inputs = request.fields.iter().map(Input::of).collect();
        self.queue.push_back(Form {
            request,
            inputs,
            focus: 0,
            error: None,
            scroll: 0,
        });
    }

    pub fn is_open(&self) -> bool {
        !self.queue.is_empty()
    }

    /// Cancels every waiting form (Ctrl-C).
    pub fn cancel_all(&mut self) -> Vec<Answer> {
        self.queue
            .drain(..)
            .map(|form| (form.request.call_id.to_string(), ElicitationAnswer::Cancel))
            .collect()
    }

    /// Forgets the forms: nothing waits for them any more (the turn ended).
    pub fn clear(&mut self) {
        self.queue.clear();
    }

    /// Pasted text goes into the text field with the cursor, on one line.
    pub fn handle_paste(&mut self, text: &str) {
        if let Some(form) = self.queue.front_mut()
            && let Some(Input::Text(typed)) = form.inputs.get_mut(form.focus)
        {
            typed.extend(text.chars().map(|c| if c.is_control() { ' ' } else { c }));
        }
    }

    /// A key for the form shown; the answer when it ends the form.
    pub fn handle_key(&mut self, key: KeyEvent) -> Option<Answer> {
        let form = self.queue.front_mut()?;
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let answer = match key.code {
            KeyCode::Esc => Some(ElicitationAnswer::Cancel),
            KeyCode::Char('d') if ctrl => Some(ElicitationAnswer::Decline { reason: None }),
            KeyCode::Enter => form.submit(),
            KeyCode::Tab | KeyCode::Down => {
                form.focus = (form.focus + 1).min(form.inputs.len().saturating_sub(1));
                None
            }
            KeyCode::BackTab | KeyCode::Up => {
                form.focus = form.focus.saturating_sub(1);
                None
            }
            _ => {
                form.edit(key, ctrl);
                None
            }
        }?;
        let form = self.queue.pop_front()?;
        Some((form.request.call_id.to_string(), answer))
    }
}

impl Form {
    /// The answers, checked: `None` (and the error shown, the cursor on
    /// the field) when one is not valid.
    fn submit(&mut self) -> Option<ElicitationAnswer> {
        let mut content = Map::new();
        for (at, (field, input)) in self.request.fields.iter().zip(&self.inputs).enumerate() {
            match input.value(field) {
                Ok(Some(value)) => {
                    content.insert(field.name.clone(), value);
                }
                Ok(None) if field.required => {
                    self.fail(at, format!("{} is required", field.label()));
                    return None;
                }
                Ok(None) => {}
                Err(why) => {
                    self.fail(at, format!("{}: {why}", field.label()));
                    return None;
                }
            }
        }
        if let Err(why) = self.request.check_answer(&content) {
            self.error = Some(why);
            return None;
        }
        Some(ElicitationAnswer::Accept { content })
    }

    fn fail(&mut self, at: usize, why: String) {
        self.focus = at;
        self.error = Some(why);
    }

    /// A key that edits the field with the cursor.
    fn edit(&mut self, key: KeyEvent, ctrl: bool) {
        let Some(input) = self.inputs.get_mut(self.focus) else {
            return;
        };
        let choices = self
            .request
            .fields
            .get(self.focus)
            .map_or(0, |field| match &field.kind {
                FieldKind::Choice { choices } | FieldKind::Choices { choices, .. } => choices.len(),
                _ => 0,
            });
        match (input, key.code) {
            (Input::Text(text), KeyCode::Backspace) => {
                text.pop();
            }
            (Input::Text(text), KeyCode::Char(c)) if !ctrl => text.push(c),
            (Input::Flag(flag), KeyCode::Char(' ') | KeyCode::Left | KeyCode::Right) => {
                *flag = Some(!flag.unwrap_or(false));
            }
            (Input::Flag(flag), KeyCode::Char('y')) => *flag = Some(true),
            (Input::Flag(flag), KeyCode::Char('n')) => *flag = Some(false),
            (Input::Pick(pick), KeyCode::Right | KeyCode::Char(' ')) => {
                *pick = Some(pick.map_or(0, |at| (at + 1) % choices.max(1)));
            }
            (Input::Pick(pick), KeyCode::Left) => {
                *pick = Some(pick.map_or(0, |at| (at + choices.max(1) - 1) % choices.max(1)));
            }
            (Input::Picks { cursor, .. }, KeyCode::Right) => {
                *cursor = (*cursor + 1).min(choices.saturating_sub(1));
            }
            (Input::Picks { cursor, .. }, KeyCode::Left) => *cursor = cursor.saturating_sub(1),
            (Input::Picks { picked, cursor }, KeyCode::Char(' ')) => {
                if let Some(picked) = picked.get_mut(*cursor) {
                    *picked = !*picked;
                }
            }
            _ => return,
        }
        self.error = None;
    }
}

#[cfg(test)]
mod tests;
