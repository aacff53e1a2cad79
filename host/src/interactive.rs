//! An interactive session: a front end (the TUI) sends [`Op`]s and renders
//! [`Event`]s; everything else — the agent, its conversation, the rollout,
//! what the user approved — lives here, on threads of the session's own.
//!
//! [`spawn`] starts two threads. The *router* takes every op as it comes:
//! an interrupt raises the session's cancel token and an approval answers
//! the waiting call at once, even while a turn runs; the other ops go, in
//! order, to the *driver*, which owns the [`Host`] and runs one op at a
//! time (a prompt typed during a turn waits for the turn to end). The
//! driver changes the session only between turns: another model, another
//! approval policy or a feature toggle applies from the next turn on.

mod approver;
mod info;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::JoinHandle;

use wharf_model::models::ModelInfo;
use wharf_model::protocol::{ModelClient, ResponseItem};

use crate::agent::{self, CancelToken, Event, Sink, ThreadState, TurnError};
use crate::ops::Op;
use crate::rollout::{self, Rollout, RolloutWriter, SessionMeta, SharedRollout};
use crate::session::{Host, SessionBuilder};

pub use approver::{FrontEndApprover, command_prefix};

/// Makes the client of a model (the session's provider, another model).
pub type Connect = Box<dyn FnMut(&ModelInfo) -> Result<Box<dyn ModelClient>, String> + Send>;

/// The front end's side of a session: the channel its events go to, the
/// approver that asks it, the cancel token its interrupts raise, and the
/// rollout the events are written to. Wire a [`SessionBuilder`] with it
/// before building the host.
pub struct FrontEnd {
    events: Sender<Event>,
    approver: Arc<FrontEndApprover>,
    cancel: CancelToken,
    rollout: SharedRollout,
}

impl FrontEnd {
    /// A front end that receives the session's events on `events`.
    pub fn new(events: Sender<Event>) -> FrontEnd {
        let cancel = CancelToken::new();
        FrontEnd {
            approver: Arc::new(FrontEndApprover::new(events.clone(), cancel.clone())),
            events,
            cancel,
            rollout: SharedRollout::default(),
        }
    }

    /// `builder` with this front end's approver, cancel token and event
    /// sink; file changes carry their diffs.
    pub fn wire(&self, builder: SessionBuilder) -> SessionBuilder {
        builder
            .record_diffs(true)
            .approver(Arc::clone(&self.approver) as Arc<_>)
            .cancel(self.cancel.clone())
            .events(FrontEndSink {
                events: self.events.clone(),
                rollout: self.rollout.clone(),
            })
    }
}

/// What the driver needs besides the front end.
pub struct Setup {
    /// Built with [`FrontEnd::wire`], with a model.
    pub host: Host,
    /// The client of the host's model.
    pub client: Box<dyn ModelClient>,
    /// How to reach another model (`/model`).
    pub connect: Connect,
    /// The models a user may switch to.
    pub catalog: Vec<ModelInfo>,
    /// The provider's id, for rollouts.
    pub provider: String,
    pub wharf_home: PathBuf,
    /// The saved session this one continues, if any.
    pub resumed: Option<Rollout>,
}

/// Starts the session's threads. Send ops on the returned sender; the
/// session ends on [`Op::Shutdown`] or when the sender is dropped, after
/// [`Event::SessionEnded`]. Join the handle to wait for what the session
/// started to end.
pub fn spawn(front: FrontEnd, setup: Setup) -> std::io::Result<(Sender<Op>, JoinHandle<()>)> {
    let (ops, incoming) = mpsc::channel::<Op>();
    let (forward, queued) = mpsc::channel::<Op>();
    let approver = Arc::clone(&front.approver);
    let cancel = front.cancel.clone();
    std::thread::Builder::new()
        .name("wharf-ops".to_owned())
        .spawn(move || route(&incoming, &forward, &approver, &cancel))?;
    let driver = Driver::new(front, setup);
    let handle = std::thread::Builder::new()
        .name("wharf-session".to_owned())
        .spawn(move || driver.run(&queued))?;
    Ok((ops, handle))
}

/// Handles what must not wait for a running turn; passes the rest on.
fn route(
    incoming: &Receiver<Op>,
    forward: &Sender<Op>,
    approver: &FrontEndApprover,
    cancel: &CancelToken,
) {
    for op in incoming {
        match op {
            Op::Interrupt => cancel.cancel(),
            Op::Approval { call_id, decision } => {
                approver.answer(&call_id, decision);
            }
            Op::Elicitation { call_id, answer } => {
                approver.answer_elicitation(&call_id, answer);
            }
            Op::Shutdown => {
                cancel.cancel();
                let _ = forward.send(Op::Shutdown);
                return;
            }
            other => {
                if forward.send(other).is_err() {
                    return;
                }
            }
        }
    }
    // The front end is gone: end the session as if it had said so.
    cancel.cancel();
    let _ = forward.send(Op::Shutdown);
}

/// The thread that owns the session.
struct Driver {
    front: FrontEnd,
    host: Host,
    client: Box<dyn ModelClient>,
    connect: Connect,
    catalog: Vec<ModelInfo>,
    provider: String,
    wharf_home: PathBuf,
    thread: ThreadState,
    /// The rollout of the current thread is created at its first turn.
    unsaved: Option<SessionMeta>,
}

impl Driver {
    fn new(front: FrontEnd, setup: Setup) -> Driver {
        let Setup {
            host,
            client,
            connect,
            catalog,
            provider,
            wharf_home,
            resumed,
        } = setup;
        let mut driver = Driver {
            front,
            host,
            client,
            connect,
            catalog,
            provider,
            wharf_home,
            thread: ThreadState::default(),
            unsaved: None,
        };
        match resumed {
            Some(saved) => driver.continue_thread(saved),
            None => driver.new_thread(None),
        }
        driver
    }

    fn run(mut self, ops: &Receiver<Op>) {
        for op in ops {
            match op {
                Op::UserInput { text } => self.turn(&text),
                Op::SetModel { model } => self.set_model(&model),
                Op::SetApprovalPolicy { policy } => match self.host.set_approval_policy(policy) {
                    Ok(()) => self.send_info(),
                    Err(reason) => self.notice("approvals", reason, true),
                },
                Op::SetFeature { name, enabled } => match self.host.set_feature(&name, enabled) {
                    Ok(()) => self.send_info(),
                    Err(reason) => self.notice(
                        "features",
                        format!("cannot turn `{name}` {}: {reason}", on_off(enabled)),
                        true,
                    ),
                },
                Op::Status => self.send_info(),
                Op::Diff => {
                    let (text, is_error) = info::git_diff(self.host.session());
                    self.notice("diff", text, is_error);
                }
                Op::Compact => self.compact(),
                Op::NewThread => self.new_thread(None),
                Op::ListSessions => self.send(Event::SessionList {
                    sessions: rollout::list(&self.wharf_home),
                }),
                Op::Resume { id } => match rollout::find(&self.wharf_home, &id)
                    .and_then(|path| Rollout::load(&path))
                {
                    Ok(saved) => self.continue_thread(saved),
                    Err(err) => self.notice("resume", err.to_string(), true),
                },
                Op::Shutdown => break,
                // The router handles these.
                Op::Interrupt | Op::Approval { .. } | Op::Elicitation { .. } => {}
            }
        }
        // Processes the session's calls started do not outlive it.
        self.host.end();
        self.send(Event::SessionEnded);
    }

    fn turn(&mut self, text: &str) {
        if let Some(meta) = self.unsaved.take() {
            match RolloutWriter::create(&self.wharf_home, &meta) {
                Ok(mut writer) => {
                    writer.event(&Event::ThreadStarted {
                        thread_id: meta.id.clone(),
                    });
                    self.front.rollout.set(writer);
                    // The status shows the rollout's path now.
                    self.send_info();
                }
                Err(err) => self.send(Event::Error {
                    message: format!("{err}; this session is not saved"),
                }),
            }
        }
        let state = std::mem::take(&mut self.thread);
        let Some(agent) = self.host.agent(self.client.as_ref()) else {
            self.notice("turn", "the session has no model".to_owned(), true);
            return;
        };
        let mut agent = agent.with_state(state);
        // A failed turn was reported by its events.
        let _ = self.host.run_turn(&mut agent, text);
        self.thread = agent.into_state();
        if let Some(err) = self.front.rollout.take_error() {
            self.send(Event::Error {
                message: format!("{err}; the rest of this session is not saved"),
            });
        }
    }

    /// Compacts the thread's conversation (`/compact`); a failure is a
    /// notice, the conversation stays as it was.
    fn compact(&mut self) {
        if self.thread.history.is_empty() {
            self.notice("compact", "nothing to compact yet".to_owned(), false);
            return;
        }
        let state = std::mem::take(&mut self.thread);
        let Some(agent) = self.host.agent(self.client.as_ref()) else {
            self.thread = state;
            self.notice("compact", "the session has no model".to_owned(), true);
            return;
        };
        let mut agent = agent.with_state(state);
        let result = self.host.compact(&mut agent);
        self.thread = agent.into_state();
        if let Err(err) = result {
            self.notice("compact", err.message, true);
        }
        if let Some(err) = self.front.rollout.take_error() {
            self.send(Event::Error {
                message: format!("{err}; the rest of this session is not saved"),
            });
        }
    }

    fn set_model(&mut self, slug: &str) {
        let Some(model) = self.catalog.iter().find(|m| m.slug == slug).cloned() else {
            let known: Vec<&str> = self.catalog.iter().map(|m| m.slug.as_str()).collect();
            self.notice(
                "model",
                format!("unknown model `{slug}`; known: {}", known.join(", ")),
                true,
            );
            return;
        };
        match (self.connect)(&model) {
            Ok(client) => {
                self.client = client;
                self.host.set_model(model);
                self.send_info();
            }
            Err(err) => self.notice("model", format!("cannot use `{slug}`: {err}"), true),
        }
    }

    /// Starts a new, empty thread (`id`, else a new one); its rollout is
    /// created at its first turn.
    fn new_thread(&mut self, id: Option<String>) {
        let id = id.unwrap_or_else(agent::new_thread_id);
        self.host.new_thread(id.clone());
        self.front.approver.forget();
        self.front.rollout.clear();
        self.thread = ThreadState::default();
        self.unsaved = Some(SessionMeta {
            id: id.clone(),
            timestamp: rollout::timestamp_now(),
            cwd: self.host.session().cwd.clone(),
            model: self.model_slug(),
            provider: self.provider.clone(),
            wharf_version: env!("CARGO_PKG_VERSION").to_owned(),
        });
        self.send_info();
        self.send(Event::ThreadStarted { thread_id: id });
        self.host.thread_started("startup");
    }

    /// Continues `saved`: its conversation is the next turn's, its events
    /// are shown again, and the next turns are appended to its file.
    fn continue_thread(&mut self, saved: Rollout) {
        let writer = match RolloutWriter::append(&saved.path) {
            Ok(writer) => writer,
            Err(err) => {
                self.notice("resume", err.to_string(), true);
                return;
            }
        };
        self.host.new_thread(saved.meta.id.clone());
        self.front.approver.forget();
        self.front.rollout.set(writer);
        self.unsaved = None;
        self.thread = ThreadState {
            next_item: next_item(&saved.events),
            // A rollout keeps no token counts: an estimate, so that a
            // thread resumed past the limit compacts before its next turn.
            context_used: agent::estimate_tokens(&saved.history),
            history: saved.history,
            usage: Default::default(),
        };
        self.send_info();
        self.send(Event::ThreadStarted {
            thread_id: saved.meta.id,
        });
        for warning in saved.warnings {
            self.send(Event::Error { message: warning });
        }
        self.host.thread_started("resume");
        let mut turn_open = false;
        for event in saved.events {
            match &event {
                Event::ThreadStarted { .. } => continue,
                Event::TurnStarted => turn_open = true,
                Event::TurnCompleted { .. } | Event::TurnFailed { .. } => turn_open = false,
                _ => {}
            }
            self.send(event);
        }
        if turn_open {
            // wharf ended during that turn (killed, crashed): say so, so
            // that nothing is shown as still running.
            self.send(Event::TurnFailed {
                error: TurnError {
                    message: "the session ended before this turn did".to_owned(),
                    cause: None,
                },
            });
        }
    }

    fn model_slug(&self) -> String {
        self.host
            .model()
            .map_or_else(String::new, |model| model.slug.clone())
    }

    fn send_info(&self) {
        let rollout = self.front.rollout.path();
        let info = info::session_info(&self.host, &self.catalog, &self.provider, rollout);
        self.send(Event::SessionConfigured {
            info: Box::new(info),
        });
    }

    fn notice(&self, title: &str, text: String, is_error: bool) {
        self.send(Event::Notice {
            title: title.to_owned(),
            text,
            is_error,
        });
    }

    /// An event for the front end only (not the rollout).
    fn send(&self, event: Event) {
        let _ = self.front.events.send(event);
    }
}

fn on_off(enabled: bool) -> &'static str {
    if enabled { "on" } else { "off" }
}

/// The number after the highest `item_N` of `events`: a resumed thread's
/// next items must not reuse the ids of those shown again.
fn next_item(events: &[Event]) -> usize {
    events
        .iter()
        .filter_map(|event| match event {
            Event::ItemStarted { item } | Event::ItemCompleted { item } => {
                item.id.strip_prefix("item_")?.parse::<usize>().ok()
            }
            _ => None,
        })
        .max()
        .map_or(0, |n| n + 1)
}

/// The session's events go to the front end and, once it exists, to the
/// thread's rollout.
struct FrontEndSink {
    events: Sender<Event>,
    rollout: SharedRollout,
}

impl Sink for FrontEndSink {
    fn event(&mut self, event: &Event) {
        self.rollout.event(event);
        let _ = self.events.send(event.clone());
    }

    fn history(&mut self, item: &ResponseItem) {
        self.rollout.history(item);
    }

    fn compacted(&mut self, history: &[ResponseItem]) {
        self.rollout.compacted(history);
    }
}

#[cfg(test)]
mod tests;
