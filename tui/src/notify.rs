//! Terminal notifications (`[tui] notifications`): when a turn completes or
//! a call waits for approval, a desktop notification through the terminal
//! (OSC 9) or its bell, as codex sends them.

use wharf_host::agent::{Event, ItemDetails};

use crate::text::sanitize_line;

/// The kind codex names the notification of a completed turn.
pub const TURN_COMPLETE: &str = "agent-turn-complete";
/// The kind codex names the notification of a call waiting for approval.
pub const APPROVAL_REQUESTED: &str = "approval-requested";
/// Every kind the terminal UI sends.
pub const KINDS: [&str; 2] = [TURN_COMPLETE, APPROVAL_REQUESTED];

/// How a notification reaches the terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// `ESC ] 9 ; text BEL`: a desktop notification in terminals that show
    /// it (iTerm2, WezTerm, Ghostty, …).
    Osc9,
    /// The terminal bell.
    Bel,
}

/// Which notifications to send, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notifications {
    /// The kinds to send ([`KINDS`]); empty: none.
    pub kinds: Vec<&'static str>,
    pub method: Method,
    /// Send them only while the terminal does not have the focus (as far
    /// as the terminal reports focus changes).
    pub unfocused_only: bool,
}

impl Default for Notifications {
    /// None at all (what tests start with).
    fn default() -> Notifications {
        Notifications {
            kinds: Vec::new(),
            method: Method::Bel,
            unfocused_only: false,
        }
    }
}

/// Longest notification text sent, in characters.
const MAX_TEXT: usize = 120;

/// The notifications waiting to be written, and what decides them.
#[derive(Debug, Default)]
pub(crate) struct Notifier {
    config: Notifications,
    /// Whether the terminal has the focus: until it says otherwise, yes.
    unfocused: bool,
    /// The last agent message of the running turn, for the turn's
    /// notification.
    last_message: Option<String>,
    pending: Vec<Vec<u8>>,
}

impl Notifier {
    pub(crate) fn new(config: Notifications) -> Notifier {
        Notifier {
            config,
            ..Notifier::default()
        }
    }

    pub(crate) fn set_focused(&mut self, focused: bool) {
        self.unfocused = !focused;
    }

    /// Notes what `event` asks to notify.
    pub(crate) fn on_event(&mut self, event: &Event) {
        match event {
            Event::TurnStarted => self.last_message = None,
            Event::ItemCompleted { item } => {
                if let ItemDetails::AgentMessage { text } = &item.details {
                    self.last_message = Some(text.clone());
                }
            }
            Event::TurnCompleted { .. } => {
                let text = match self.last_message.take() {
                    Some(message) => format!("wharf: {message}"),
                    None => "wharf: turn complete".to_owned(),
                };
                self.push(TURN_COMPLETE, &text);
            }
            Event::ApprovalRequested { request } => {
                let what = request.command.as_deref().unwrap_or(request.tool.as_str());
                self.push(APPROVAL_REQUESTED, &format!("wharf: approve {what}?"));
            }
            _ => {}
        }
    }

    fn push(&mut self, kind: &str, text: &str) {
        if !self.config.kinds.contains(&kind) || (self.config.unfocused_only && !self.unfocused) {
            return;
        }
        self.pending.push(sequence(self.config.method, text));
    }

    /// The bytes to write to the terminal, oldest first.
    pub(crate) fn take(&mut self) -> Vec<Vec<u8>> {
        std::mem::take(&mut self.pending)
    }
}

/// What `method` writes for `text`: the text on one line, without control
/// characters (which would end the sequence or drive the terminal), cut.
fn sequence(method: Method, text: &str) -> Vec<u8> {
    match method {
        Method::Bel => b"\x07".to_vec(),
        Method::Osc9 => {
            let line: String = sanitize_line(text)
                .chars()
                .filter(|c| !c.is_control())
                .take(MAX_TEXT)
                .collect();
            format!("\x1b]9;{line}\x07").into_bytes()
        }
    }
}

#[cfg(test)]
mod tests;
