//! The wharf terminal UI. It renders the host's event stream and sends
//! ops; it owns no agent state. [`run`] is the interactive session,
//! [`pick_session`] the resume picker and [`ask_trust`] the trust prompt;
//! every state change goes through the terminal-free [`App`].

pub mod diff;
pub mod highlight;
pub mod history;
mod links;
pub mod markdown;
pub mod notify;
pub mod text;
pub mod theme;
pub mod transcript;

mod app;
mod approval;
mod composer;
mod elicitation;
mod picker;
mod resume;
mod slash;
pub mod status_line;
mod terminal;
#[cfg(test)]
mod test_util;
mod trust;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use crossterm::event::{Event as TermEvent, KeyEvent, KeyEventKind};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use wharf_host::agent::Event;
use wharf_host::ops::Op;
use wharf_host::rollout::SessionSummary;

pub use app::App;
use history::History;
use notify::Notifications;
use status_line::StatusItem;
use terminal::{Input, InputReader, Signals, Tui};
use theme::Theme;

/// How long `run` waits for `session.ended` after sending `Op::Shutdown`.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(2);

/// How often the screen is redrawn while something shows elapsed time.
const TICK: Duration = Duration::from_secs(1);

/// What the interactive session starts with.
pub struct Options {
    pub cwd: PathBuf,
    /// Sent as the first prompt at once.
    pub initial_prompt: Option<String>,
    pub theme: Theme,
    /// The status line's items, in order ([`status_line::DEFAULT_ITEMS`]
    /// unless configured).
    pub status_items: Vec<StatusItem>,
    pub notifications: Notifications,
    /// Where typed prompts are kept and recalled from; `None`: nowhere.
    pub history: Option<History>,
    /// `hide_agent_reasoning`.
    pub hide_reasoning: bool,
    /// `file_opener`'s URI scheme (`vscode`, `cursor`…): the paths of
    /// changed files become links; `None`: plain paths.
    pub file_opener: Option<&'static str>,
}

/// Runs the interactive session until the user quits: sends `ops`, renders
/// `events` (the session driver's channel). Sets up and always restores
/// the terminal. On quit (the user, a signal) it sends `Op::Shutdown` and
/// waits up to two seconds for `session.ended`.
pub fn run(ops: Sender<Op>, events: Receiver<Event>, options: Options) -> std::io::Result<()> {
    let (tx, rx) = mpsc::channel();
    terminal::forward_events(events, tx.clone())?;
    let mut app = App::new(ops, options.cwd, options.theme, Instant::now());
    app.set_status_items(options.status_items);
    app.set_notifications(options.notifications);
    app.hide_reasoning(options.hide_reasoning);
    app.set_file_opener(options.file_opener);
    if let Some(history) = options.history {
        // An unreadable history is no reason not to start: ↑ has less.
        let earlier = history.load().unwrap_or_default();
        app.set_history(history, earlier);
    }
    if let Some(prompt) = options.initial_prompt {
        app.send_prompt(prompt);
    }
    let result = (|| {
        let mut tui = Tui::enter()?;
        let _signals = Signals::install(tx.clone())?;
        let _input = InputReader::spawn(tx)?;
        event_loop(&mut tui, &mut app, &rx)
    })();
    app.quit();
    if !app.session_ended() {
        wait_for_end(&rx);
    }
    result
}

fn event_loop(tui: &mut Tui, app: &mut App, rx: &Receiver<Input>) -> std::io::Result<()> {
    loop {
        tui.terminal.draw(|frame| {
            let area = frame.area();
            app.render(area, frame.buffer_mut());
            if let Some(position) = app.cursor() {
                frame.set_cursor_position(position);
            }
        })?;
        links::write(&mut std::io::stdout(), app.links(), app.cursor())?;
        let first = if app.needs_tick() {
            match rx.recv_timeout(TICK) {
                Ok(input) => Some(input),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => return Ok(()),
            }
        } else {
            match rx.recv() {
                Ok(input) => Some(input),
                Err(_) => return Ok(()),
            }
        };
        app.set_now(Instant::now());
        // Everything that is waiting is handled before the next frame, so
        // a burst of deltas costs one draw.
        for input in first
            .into_iter()
            .chain(std::iter::from_fn(|| rx.try_recv().ok()))
        {
            match input {
                Input::Terminal(TermEvent::Key(key)) => app.handle_key(key),
                Input::Terminal(TermEvent::Paste(text)) => app.handle_paste(&text),
                Input::Terminal(TermEvent::FocusGained) => app.set_focused(true),
                Input::Terminal(TermEvent::FocusLost) => app.set_focused(false),
                Input::Terminal(_) => {}
                Input::Session(event) => app.handle_event(event),
                Input::SessionClosed => app.session_closed(),
                Input::Signal => app.quit(),
            }
        }
        write_notifications(app)?;
        if app.should_quit() {
            return Ok(());
        }
    }
}

/// Writes the notifications `app` has for the terminal.
fn write_notifications(app: &mut App) -> std::io::Result<()> {
    let pending = app.take_notifications();
    if pending.is_empty() {
        return Ok(());
    }
    let mut stdout = std::io::stdout().lock();
    for bytes in pending {
        stdout.write_all(&bytes)?;
    }
    stdout.flush()
}

/// Waits for `session.ended` (or the session's channel to close), at
/// most [`SHUTDOWN_WAIT`].
fn wait_for_end(rx: &Receiver<Input>) {
    let deadline = Instant::now() + SHUTDOWN_WAIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(Input::Session(Event::SessionEnded) | Input::SessionClosed) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

/// `wharf resume` without an id: a full-screen picker of saved sessions
/// (newest first, as given: age like "3h ago", first prompt, cwd). The
/// chosen index, or `None` when the user closed it (Esc, q) — at once when
/// there are none.
pub fn pick_session(sessions: &[SessionSummary], theme: &Theme) -> std::io::Result<Option<usize>> {
    if sessions.is_empty() {
        return Ok(None);
    }
    let picker = resume::picker(sessions, resume::now());
    modal(
        (picker, 10),
        |(picker, page), area, buf| {
            *page = usize::from(area.height.saturating_sub(4).max(1));
            picker.render(area, buf, theme);
        },
        |(picker, page), key| match picker.handle_key(key, *page) {
            picker::Picked::Chosen(index) => Some(Some(index)),
            picker::Picked::Closed => Some(None),
            picker::Picked::None | picker::Picked::Toggled(_) => None,
        },
    )
    .map(Option::flatten)
}

/// The trust prompt on first start in an undecided project: `Some(true)`
/// trust, `Some(false)` do not trust, `None`: the user quit.
pub fn ask_trust(project_root: &Path, theme: &Theme) -> std::io::Result<Option<bool>> {
    modal(
        trust::TrustPrompt::default(),
        |prompt, area, buf| {
            let boxed = picker::centered(area, 80, 14);
            prompt.render(project_root, boxed, buf, theme);
        },
        |prompt, key| match prompt.handle_key(key) {
            trust::Answer::Pending => None,
            trust::Answer::Decided(trust) => Some(Some(trust)),
            trust::Answer::Quit => Some(None),
        },
    )
    .map(Option::flatten)
}

/// A screen of its own for `state` until `key` answers: `None` when a
/// signal ends it.
fn modal<S, T>(
    mut state: S,
    draw: impl Fn(&mut S, Rect, &mut Buffer),
    key: impl Fn(&mut S, KeyEvent) -> Option<T>,
) -> std::io::Result<Option<T>> {
    let (tx, rx) = mpsc::channel();
    let mut tui = Tui::enter()?;
    let _signals = Signals::install(tx.clone())?;
    let _input = InputReader::spawn(tx)?;
    loop {
        tui.terminal
            .draw(|frame| draw(&mut state, frame.area(), frame.buffer_mut()))?;
        let Ok(input) = rx.recv() else {
            return Ok(None);
        };
        match input {
            Input::Terminal(TermEvent::Key(event)) if event.kind != KeyEventKind::Release => {
                if let Some(answer) = key(&mut state, event) {
                    return Ok(Some(answer));
                }
            }
            Input::Signal => return Ok(None),
            _ => {}
        }
    }
}
