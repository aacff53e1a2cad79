//! The approver of an interactive session: it sends each request to the
//! front end as an event, waits for the answer op, and remembers what the
//! user approved for the whole session.

use std::collections::HashMap;
use std::sync::mpsc::{self, Sender, SyncSender};
use std::sync::{Mutex, PoisonError};

use wharf_runtime::pipeline::{ApprovalRequest, Approver, Decision};
use wharf_runtime::plugin::elicitation::{ElicitationAnswer, ElicitationRequest};

use crate::agent::{CancelToken, Event};

/// Asks the front end, through the session's event channel.
pub struct FrontEndApprover {
    events: Mutex<Sender<Event>>,
    cancel: CancelToken,
    /// Requests waiting for an answer, by call id.
    pending: Mutex<HashMap<String, SyncSender<Decision>>>,
    /// Forms waiting to be filled in, by call id.
    forms: Mutex<HashMap<String, SyncSender<ElicitationAnswer>>>,
    /// What "yes, for this session" covers.
    remembered: Mutex<Vec<Remembered>>,
}

/// One "yes, for this session": the same tool, and for a command the same
/// prefix (its first two words: `cargo test`, `git status`); asking to run
/// outside the sandbox is remembered apart from running inside it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Remembered {
    tool: String,
    prefix: Option<Vec<String>>,
    outside_sandbox: bool,
}

impl Remembered {
    fn of(request: &ApprovalRequest) -> Remembered {
        Remembered {
            tool: request.tool.clone(),
            prefix: request.command.as_deref().map(command_prefix),
            outside_sandbox: request.retry_without_sandbox || request.justification.is_some(),
        }
    }
}

/// The words "yes for this session" matches a later command by.
pub fn command_prefix(command: &str) -> Vec<String> {
    command
        .split_whitespace()
        .take(2)
        .map(str::to_owned)
        .collect()
}

impl FrontEndApprover {
    /// An approver that sends its requests on `events` and gives up (a
    /// denial) when `cancel` is raised while it waits.
    pub fn new(events: Sender<Event>, cancel: CancelToken) -> FrontEndApprover {
        FrontEndApprover {
            events: Mutex::new(events),
            cancel,
            pending: Mutex::default(),
            forms: Mutex::default(),
            remembered: Mutex::default(),
        }
    }

    /// Delivers the front end's answer to the request of `call_id`.
    /// Returns false when no request of that id waits (answered already,
    /// or cancelled).
    pub fn answer(&self, call_id: &str, decision: Decision) -> bool {
        let waiting = lock(&self.pending).remove(call_id);
        match waiting {
            Some(sender) => sender.send(decision).is_ok(),
            None => false,
        }
    }

    /// Delivers the front end's answer to the form of `call_id`; false
    /// when none waits.
    pub fn answer_elicitation(&self, call_id: &str, answer: ElicitationAnswer) -> bool {
        let waiting = lock(&self.forms).remove(call_id);
        match waiting {
            Some(sender) => sender.send(answer).is_ok(),
            None => false,
        }
    }

    /// Forgets every "yes, for this session" (a new thread).
    pub fn forget(&self) {
        lock(&self.remembered).clear();
    }
}

impl Approver for FrontEndApprover {
    fn decide(&self, request: &ApprovalRequest) -> Decision {
        let key = Remembered::of(request);
        if lock(&self.remembered).contains(&key) {
            return Decision::ApprovedBefore;
        }
        let (sender, answer) = mpsc::sync_channel(1);
        let call_id = request.call_id.to_string();
        lock(&self.pending).insert(call_id.clone(), sender.clone());
        // A cancel (Esc, Ctrl-C, the session ending) answers no.
        let _on_cancel = self.cancel.on_cancel(move || {
            let _ = sender.try_send(Decision::Deny { reason: None });
        });
        let sent = lock(&self.events)
            .send(Event::ApprovalRequested {
                request: request.clone(),
            })
            .is_ok();
        let decision = if sent {
            answer.recv().unwrap_or(Decision::Deny { reason: None })
        } else {
            // Nobody is listening any more.
            Decision::Deny { reason: None }
        };
        lock(&self.pending).remove(&call_id);
        if decision == Decision::ApproveForSession {
            lock(&self.remembered).push(key);
        }
        decision
    }

    /// Sends the form to the front end and waits for the user; a cancel
    /// (Esc, Ctrl-C, the session ending) cancels it.
    fn elicit(&self, request: &ElicitationRequest) -> ElicitationAnswer {
        let (sender, answer) = mpsc::sync_channel(1);
        let call_id = request.call_id.to_string();
        lock(&self.forms).insert(call_id.clone(), sender.clone());
        let _on_cancel = self.cancel.on_cancel(move || {
            let _ = sender.try_send(ElicitationAnswer::Cancel);
        });
        let sent = lock(&self.events)
            .send(Event::ElicitationRequested {
                request: request.clone(),
            })
            .is_ok();
        let answer = if sent {
            answer.recv().unwrap_or(ElicitationAnswer::Cancel)
        } else {
            ElicitationAnswer::Cancel
        };
        lock(&self.forms).remove(&call_id);
        answer
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
