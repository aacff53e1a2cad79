//! The app: every state change of the interactive session, with no
//! terminal. Keys, pastes and the session's events go in; ops go out
//! through the sender and [`App::render`] draws into a buffer. `run`
//! (lib.rs) feeds it from the terminal.

mod commands;
mod view;

use std::path::PathBuf;
use std::sync::mpsc::Sender;
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui::layout::Position;
use wharf_host::agent::Event;
use wharf_host::ops::{Op, SessionInfo};
use wharf_host::rollout::SessionSummary;

use crate::approval::Approvals;
use crate::composer::Composer;
use crate::elicitation::Forms;
use crate::history::History;
use crate::links::Link;
use crate::notify::{Notifications, Notifier};
use crate::picker::Picker;
use crate::slash::{self, Popup};
use crate::status_line::{Context, DEFAULT_ITEMS, StatusItem};
use crate::theme::Theme;
use crate::transcript::{Scroll, Transcript};

/// How long after a Ctrl-C a second one quits.
const QUIT_WINDOW: Duration = Duration::from_secs(3);

/// A list shown over the screen.
#[derive(Debug)]
enum Overlay {
    Model(Picker),
    Approvals(Picker),
    Features(Picker),
    /// The picker and the session id of each item.
    Resume(Picker, Vec<String>),
}

impl Overlay {
    fn picker(&self) -> &Picker {
        match self {
            Overlay::Model(picker)
            | Overlay::Approvals(picker)
            | Overlay::Features(picker)
            | Overlay::Resume(picker, _) => picker,
        }
    }

    fn picker_mut(&mut self) -> &mut Picker {
        match self {
            Overlay::Model(picker)
            | Overlay::Approvals(picker)
            | Overlay::Features(picker)
            | Overlay::Resume(picker, _) => picker,
        }
    }
}

pub struct App {
    ops: Sender<Op>,
    theme: Theme,
    /// The time events and frames are stamped with ([`App::set_now`]).
    now: Instant,
    /// The wall clock in Unix seconds, for the ages in the resume picker.
    unix_now: fn() -> i64,
    transcript: Transcript,
    scroll: Scroll,
    composer: Composer,
    popup: Popup,
    approvals: Approvals,
    /// Forms plugins ask the user to fill in (MCP elicitation).
    forms: Forms,
    overlay: Option<Overlay>,
    info: Option<SessionInfo>,
    context: Context,
    total_tokens: Option<u64>,
    /// When the running turn started.
    turn_started: Option<Instant>,
    /// When Ctrl-C last asked to quit.
    quit_armed: Option<Instant>,
    /// `/resume` asked for the saved sessions.
    awaiting_sessions: bool,
    quit: bool,
    /// `session.ended` came.
    ended: bool,
    /// The rows of the transcript in the last frame (a page).
    page: usize,
    cursor: Option<Position>,
    /// What the status line shows (`[tui] status_line`).
    status_items: Vec<StatusItem>,
    /// Terminal notifications (`[tui] notifications`).
    notifier: Notifier,
    /// The prompt history file (`[history]`); `None`: memory only.
    history: Option<History>,
    /// The history file could not be written (said once).
    history_failed: bool,
    /// `hide_agent_reasoning`: reasoning never reaches the transcript.
    hide_reasoning: bool,
    /// `file_opener`'s URI scheme, for the paths in the transcript.
    file_opener: Option<&'static str>,
    /// The links of the last frame.
    links: Vec<Link>,
    cwd: PathBuf,
}

impl App {
    pub fn new(ops: Sender<Op>, cwd: PathBuf, theme: Theme, now: Instant) -> App {
        App {
            ops,
            theme,
            now,
            unix_now: crate::resume::now,
            transcript: Transcript::new(cwd.clone()),
            scroll: Scroll::default(),
            composer: Composer::default(),
            popup: Popup::default(),
            approvals: Approvals::default(),
            forms: Forms::default(),
            overlay: None,
            info: None,
            context: Context::default(),
            total_tokens: None,
            turn_started: None,
            quit_armed: None,
            awaiting_sessions: false,
            quit: false,
            ended: false,
            page: 10,
            cursor: None,
            status_items: DEFAULT_ITEMS.to_vec(),
            notifier: Notifier::default(),
            history: None,
            history_failed: false,
            hide_reasoning: false,
            file_opener: None,
            links: Vec::new(),
            cwd,
        }
    }

    /// `file_opener`: the paths of changed files link to `scheme`.
    pub fn set_file_opener(&mut self, scheme: Option<&'static str>) {
        self.file_opener = scheme;
    }

    /// The links of the last [`App::render`], to write over its frame.
    pub(crate) fn links(&self) -> &[Link] {
        &self.links
    }

    /// The status line's items, in order.
    pub fn set_status_items(&mut self, items: Vec<StatusItem>) {
        self.status_items = items;
    }

    pub fn set_notifications(&mut self, notifications: Notifications) {
        self.notifier = Notifier::new(notifications);
    }

    /// Whether the terminal has the focus (for notifications sent only
    /// while it does not).
    pub fn set_focused(&mut self, focused: bool) {
        self.notifier.set_focused(focused);
    }

    /// The bytes of the notifications to write to the terminal.
    pub fn take_notifications(&mut self) -> Vec<Vec<u8>> {
        self.notifier.take()
    }

    /// Prompts go to `history`, and ↑ recalls `earlier` (oldest first)
    /// before this session's.
    pub fn set_history(&mut self, history: History, earlier: Vec<String>) {
        for text in earlier {
            self.composer.remember(&text);
        }
        self.history = Some(history);
    }

    /// `hide_agent_reasoning`: the model's reasoning is not shown.
    pub fn hide_reasoning(&mut self, hide: bool) {
        self.hide_reasoning = hide;
    }

    /// Writes `text` to the history file, if there is one.
    fn record(&mut self, text: &str) {
        let Some(history) = &self.history else {
            return;
        };
        let session_id = self
            .info
            .as_ref()
            .map_or("", |info| info.session_id.as_str());
        if let Err(err) = history.append(session_id, text)
            && !self.history_failed
        {
            self.history_failed = true;
            let message = format!(
                "cannot write the prompt history {}: {err}",
                history.path.display()
            );
            self.transcript.push_local("warning", &message, true);
        }
    }

    /// The clock for what happens next (elapsed times, Ctrl-C's window).
    pub fn set_now(&mut self, now: Instant) {
        self.now = now;
    }

    #[cfg(test)]
    fn set_unix_now(&mut self, unix_now: fn() -> i64) {
        self.unix_now = unix_now;
    }

    /// The user quit (or the session ended): `Op::Shutdown` was sent.
    pub fn should_quit(&self) -> bool {
        self.quit
    }

    /// Whether the screen changes by itself (elapsed seconds, a hint that
    /// expires): redraw every second while true.
    pub fn needs_tick(&self) -> bool {
        self.turn_started.is_some() || self.transcript.is_running() || self.quit_hint().is_some()
    }

    /// Where the terminal's cursor goes after the last [`App::render`].
    pub fn cursor(&self) -> Option<Position> {
        self.cursor
    }

    /// Ends the session: sends `Op::Shutdown` (once).
    pub fn quit(&mut self) {
        if !self.quit {
            self.quit = true;
            let _ = self.ops.send(Op::Shutdown);
        }
    }

    /// Sends `text` as a prompt (the command line's initial prompt); it
    /// joins the history.
    pub fn send_prompt(&mut self, text: String) {
        self.composer.remember(&text);
        self.record(&text);
        self.send(Op::UserInput { text });
    }

    /// The session's channel closed without `session.ended`.
    pub fn session_closed(&mut self) {
        self.ended = true;
        self.quit = true;
    }

    /// Whether `session.ended` came (or the session is gone).
    pub fn session_ended(&self) -> bool {
        self.ended
    }

    fn send(&mut self, op: Op) {
        if self.ops.send(op).is_err() {
            // The session is gone: nothing more can happen.
            self.quit = true;
        }
    }

    fn running(&self) -> bool {
        self.turn_started.is_some()
    }

    pub fn handle_paste(&mut self, text: &str) {
        if self.approvals.is_open() {
            self.approvals.handle_paste(text);
        } else if self.forms.is_open() {
            self.forms.handle_paste(text);
        } else if self.overlay.is_none() {
            self.composer.insert_str(text);
            self.popup.reset();
        }
    }

    pub fn handle_key(&mut self, key: KeyEvent) {
        if key.kind == KeyEventKind::Release {
            return;
        }
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if key.code != KeyCode::Char('c') || !ctrl {
            self.quit_armed = None;
        }
        if self.approvals.is_open() {
            self.approval_key(key, ctrl);
        } else if self.forms.is_open() {
            self.form_key(key, ctrl);
        } else if self.overlay.is_some() {
            self.overlay_key(key);
        } else {
            self.composer_key(key, ctrl);
        }
    }

    fn approval_key(&mut self, key: KeyEvent, ctrl: bool) {
        if ctrl && key.code == KeyCode::Char('c') {
            for (call_id, decision) in self.approvals.deny_all() {
                self.send(Op::Approval { call_id, decision });
            }
            self.send(Op::Interrupt);
            return;
        }
        if let Some((call_id, decision)) = self.approvals.handle_key(key) {
            self.send(Op::Approval { call_id, decision });
        }
    }

    fn form_key(&mut self, key: KeyEvent, ctrl: bool) {
        if ctrl && key.code == KeyCode::Char('c') {
            for (call_id, answer) in self.forms.cancel_all() {
                self.send(Op::Elicitation { call_id, answer });
            }
            self.send(Op::Interrupt);
            return;
        }
        if let Some((call_id, answer)) = self.forms.handle_key(key) {
            self.send(Op::Elicitation { call_id, answer });
        }
    }

    fn composer_key(&mut self, key: KeyEvent, ctrl: bool) {
        let popup_shown = Popup::matches(self.composer.text()).is_some();
        let plain = key.modifiers.is_empty() || key.modifiers == KeyModifiers::SHIFT;
        match key.code {
            KeyCode::Char('c') if ctrl => self.ctrl_c(),
            KeyCode::Char('d') if ctrl && self.composer.is_empty() => self.quit(),
            KeyCode::Char('d') if ctrl => {
                self.composer.handle_key(KeyEvent::from(KeyCode::Delete));
            }
            KeyCode::Char('o') if ctrl => self.transcript.toggle_fold_all(),
            KeyCode::Esc if self.running() => self.send(Op::Interrupt),
            KeyCode::Esc if popup_shown => self.composer.clear(),
            KeyCode::PageUp => self.scroll.up(self.page.saturating_sub(1).max(1)),
            KeyCode::PageDown => self.scroll.down(self.page.saturating_sub(1).max(1)),
            KeyCode::Up if popup_shown => self.popup.up(),
            KeyCode::Down if popup_shown => self.popup.down(self.composer.text()),
            KeyCode::Tab if popup_shown => {
                if let Some((_, name)) = self.popup.selected(self.composer.text()) {
                    self.composer.set_text(&format!("/{name} "));
                }
            }
            KeyCode::Enter if key.modifiers.is_empty() => self.submit(popup_shown),
            _ => {
                let before = self.composer.text().len();
                if self.composer.handle_key(key) && plain && self.composer.text().len() != before {
                    self.popup.reset();
                }
            }
        }
    }

    /// Ctrl-C: interrupt a running turn; otherwise clear the composer, and
    /// a second one within [`QUIT_WINDOW`] quits.
    fn ctrl_c(&mut self) {
        if self.running() {
            self.send(Op::Interrupt);
            return;
        }
        let armed = self
            .quit_armed
            .is_some_and(|at| self.now.saturating_duration_since(at) < QUIT_WINDOW);
        if armed && self.composer.is_empty() {
            self.quit();
            return;
        }
        self.composer.clear();
        self.quit_armed = Some(self.now);
    }

    /// Enter: run the slash command, or send the prompt.
    fn submit(&mut self, popup_shown: bool) {
        let text = self.composer.text().to_owned();
        if let Some(typed) = slash::command_name(&text) {
            let chosen = if popup_shown {
                self.popup.selected(&text).map(|(command, _)| command)
            } else {
                slash::find(typed)
            };
            self.composer.clear();
            self.popup.reset();
            match chosen {
                Some(command) => self.run_command(command),
                None => self.transcript.push_local(
                    "error",
                    &format!("unknown command /{typed} (type / to list the commands)"),
                    true,
                ),
            }
            return;
        }
        if let Some(text) = self.composer.submit() {
            self.scroll.to_end();
            self.record(&text);
            self.send(Op::UserInput { text });
        }
    }

    pub fn handle_event(&mut self, event: Event) {
        match &event {
            Event::SessionConfigured { info } => {
                self.info = Some((**info).clone());
                self.refresh_features();
            }
            Event::ThreadStarted { .. } => {
                // A new or resumed conversation: nothing of the old one
                // runs or waits.
                self.transcript.clear();
                self.scroll.to_end();
                self.turn_started = None;
                self.approvals.clear();
                self.forms.clear();
                self.context.used = 0;
            }
            Event::TurnStarted => self.turn_started = Some(self.now),
            Event::TurnCompleted { .. } | Event::TurnFailed { .. } => {
                self.turn_started = None;
                // Nothing waits for an answer once the turn is over.
                self.approvals.clear();
                self.forms.clear();
            }
            Event::TokenCount {
                total,
                context_used,
                context_window,
            } => {
                self.total_tokens = Some(total.total_tokens);
                self.context = Context {
                    used: *context_used,
                    window: context_window.or(self.context.window),
                };
            }
            Event::ApprovalRequested { request } => self.approvals.push(request.clone()),
            Event::ElicitationRequested { request } => self.forms.push(request.clone()),
            Event::SessionList { sessions } if self.awaiting_sessions => {
                self.awaiting_sessions = false;
                self.open_resume(sessions);
            }
            Event::SessionEnded => {
                self.turn_started = None;
                self.ended = true;
                self.quit = true;
            }
            _ => {}
        }
        self.notifier.on_event(&event);
        if !(self.hide_reasoning && event.is_reasoning()) {
            self.transcript.apply(&event, self.now);
        }
    }

    fn open_resume(&mut self, sessions: &[SessionSummary]) {
        if sessions.is_empty() {
            self.transcript
                .push_local("resume", "no saved sessions yet", false);
            return;
        }
        let picker = crate::resume::picker(sessions, (self.unix_now)());
        let ids = sessions.iter().map(|s| s.meta.id.clone()).collect();
        self.overlay = Some(Overlay::Resume(picker, ids));
    }
}

#[cfg(test)]
pub(crate) mod tests;
