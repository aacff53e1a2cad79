//! The terminal while the TUI runs: raw mode, the alternate screen,
//! bracketed paste, the keyboard protocol that tells Shift-Enter from
//! Enter, and a hidden cursor — restored however the TUI ends: normally,
//! on an error (the guard's drop), on a panic (a hook that restores and
//! then calls the previous hook) and on SIGTERM, SIGHUP, SIGQUIT and SIGINT (a
//! handler writes to a pipe; the app reads it as an input and quits
//! cleanly). Terminal input is read on a thread of its own and merged with
//! the session's events into one channel.

use std::fs::File;
use std::io::{self, Read, Stdout};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::panic::{self, PanicHookInfo};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::mpsc::Sender;
use std::thread::JoinHandle;
use std::time::Duration;

use crossterm::event::{
    DisableBracketedPaste, DisableFocusChange, EnableBracketedPaste, EnableFocusChange,
    KeyboardEnhancementFlags, PopKeyboardEnhancementFlags, PushKeyboardEnhancementFlags,
};
use crossterm::terminal::{EnterAlternateScreen, LeaveAlternateScreen};
use crossterm::{cursor, execute, terminal};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use wharf_host::agent::Event;

/// What the app loop receives.
#[derive(Debug)]
pub enum Input {
    Terminal(crossterm::event::Event),
    Session(Event),
    /// The session's channel closed: the session is gone.
    SessionClosed,
    /// SIGTERM, SIGHUP, SIGQUIT or SIGINT.
    Signal,
}

/// The terminal in TUI mode; dropping it restores the terminal.
pub struct Tui {
    pub terminal: Terminal<CrosstermBackend<Stdout>>,
    _hook: PanicHook,
}

impl Tui {
    /// Switches the terminal to TUI mode.
    pub fn enter() -> io::Result<Tui> {
        let hook = PanicHook::install();
        let setup = || -> io::Result<Terminal<CrosstermBackend<Stdout>>> {
            terminal::enable_raw_mode()?;
            execute!(
                io::stdout(),
                EnterAlternateScreen,
                EnableBracketedPaste,
                // Notifications can wait for the terminal to lose the focus.
                EnableFocusChange,
                cursor::Hide
            )?;
            // Terminals without the keyboard protocol ignore the request;
            // Shift-Enter is then an Enter (Ctrl-J still adds a line).
            let _ = execute!(
                io::stdout(),
                PushKeyboardEnhancementFlags(KeyboardEnhancementFlags::DISAMBIGUATE_ESCAPE_CODES)
            );
            let mut terminal = Terminal::new(CrosstermBackend::new(io::stdout()))?;
            terminal.clear()?;
            Ok(terminal)
        };
        match setup() {
            Ok(terminal) => Ok(Tui {
                terminal,
                _hook: hook,
            }),
            Err(err) => {
                restore();
                Err(err)
            }
        }
    }
}

impl Drop for Tui {
    fn drop(&mut self) {
        restore();
    }
}

/// Puts the terminal back as the shell had it; every step is tried.
pub fn restore() {
    let mut stdout = io::stdout();
    let _ = execute!(stdout, PopKeyboardEnhancementFlags);
    let _ = execute!(stdout, DisableBracketedPaste);
    let _ = execute!(stdout, DisableFocusChange);
    let _ = execute!(stdout, LeaveAlternateScreen);
    let _ = execute!(stdout, cursor::Show);
    let _ = terminal::disable_raw_mode();
}

type Hook = Box<dyn Fn(&PanicHookInfo<'_>) + Sync + Send + 'static>;

/// While installed, a panic restores the terminal before the previous
/// hook prints its message (on the shell's screen, not the alternate one).
struct PanicHook {
    previous: Arc<Hook>,
}

impl PanicHook {
    fn install() -> PanicHook {
        let previous: Arc<Hook> = Arc::new(panic::take_hook());
        let chained = Arc::clone(&previous);
        panic::set_hook(Box::new(move |info| {
            restore();
            chained(info);
        }));
        PanicHook { previous }
    }
}

impl Drop for PanicHook {
    fn drop(&mut self) {
        // The hook cannot be changed while this thread panics (the hook
        // already ran and restored the terminal).
        if std::thread::panicking() {
            return;
        }
        let _ = panic::take_hook();
        let previous = Arc::clone(&self.previous);
        panic::set_hook(Box::new(move |info| previous(info)));
    }
}

/// Reads terminal input on a thread until dropped.
pub struct InputReader {
    stop: Arc<AtomicBool>,
    /// Closed when the reader thread ends.
    done: std::sync::mpsc::Receiver<()>,
}

/// How long dropping an [`InputReader`] waits for its thread. A read on a
/// terminal that hung up (the window closed) can keep crossterm from ever
/// returning; the thread is then left to end with the process rather than
/// keeping wharf from exiting.
const READER_STOP: Duration = Duration::from_millis(500);

impl InputReader {
    pub fn spawn(tx: Sender<Input>) -> io::Result<InputReader> {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let (ended, done) = std::sync::mpsc::channel::<()>();
        std::thread::Builder::new()
            .name("tui-input".to_owned())
            .spawn(move || {
                // Dropped when the thread ends, however it ends.
                let _ended = ended;
                // Poll with a timeout so that the thread sees `stop` and
                // leaves no reader behind to take the shell's input.
                while !stopped.load(Ordering::Relaxed) {
                    if hung_up() {
                        // The window closed: quit as on SIGHUP, which may
                        // not come (crossterm would spin on the dead tty).
                        let _ = tx.send(Input::Signal);
                        return;
                    }
                    match crossterm::event::poll(Duration::from_millis(100)) {
                        Ok(false) => {}
                        Ok(true) => match crossterm::event::read() {
                            Ok(event) => {
                                if tx.send(Input::Terminal(event)).is_err() {
                                    return;
                                }
                            }
                            Err(_) => return,
                        },
                        Err(_) => return,
                    }
                }
            })?;
        Ok(InputReader { stop, done })
    }
}

/// Whether the terminal on stdin hung up (its window closed, the tmux
/// server was killed): crossterm takes a dead terminal for one that is
/// always ready with nothing to read, and would spin on it.
fn hung_up() -> bool {
    let mut fd = libc::pollfd {
        fd: libc::STDIN_FILENO,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: `fd` is one valid, writable pollfd for the duration of the
    // call, and a timeout of 0 does not block.
    let ready = unsafe { libc::poll(&mut fd, 1, 0) };
    ready > 0 && fd.revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0
}

impl Drop for InputReader {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Ends (disconnected) when the thread does; a timeout leaves it.
        let _ = self.done.recv_timeout(READER_STOP);
    }
}

/// Forwards the session's events into the merged channel until the
/// session closes its sender (or the app stops listening).
pub fn forward_events(
    events: std::sync::mpsc::Receiver<Event>,
    tx: Sender<Input>,
) -> io::Result<()> {
    std::thread::Builder::new()
        .name("tui-events".to_owned())
        .spawn(move || {
            while let Ok(event) = events.recv() {
                if tx.send(Input::Session(event)).is_err() {
                    return;
                }
            }
            let _ = tx.send(Input::SessionClosed);
        })?;
    Ok(())
}

/// The write end of the signal pipe, for the handler (-1: none).
static SIGNAL_PIPE: AtomicI32 = AtomicI32::new(-1);

/// SIGINT comes only from `kill` (in raw mode Ctrl-C is a key).
const SIGNALS: [libc::c_int; 4] = [libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT, libc::SIGINT];

extern "C" fn on_signal(_signal: libc::c_int) {
    let fd = SIGNAL_PIPE.load(Ordering::Relaxed);
    if fd >= 0 {
        let byte = 1u8;
        // SAFETY: write(2) is async-signal-safe; `fd` is the pipe's
        // non-blocking write end, open while the handlers are installed
        // (Signals::drop restores the handlers before it closes it), and
        // `byte` is one readable byte on this stack.
        unsafe { libc::write(fd, (&raw const byte).cast(), 1) };
    }
}

/// SIGTERM, SIGHUP, SIGQUIT and SIGINT become [`Input::Signal`] while this lives;
/// dropping it puts the previous handlers back.
pub struct Signals {
    write: Option<OwnedFd>,
    previous: Vec<(libc::c_int, libc::sigaction)>,
    thread: Option<JoinHandle<()>>,
}

impl Signals {
    pub fn install(tx: Sender<Input>) -> io::Result<Signals> {
        let mut fds = [0 as libc::c_int; 2];
        // SAFETY: `fds` has room for the two descriptors pipe2 writes.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: pipe2 succeeded: both descriptors are new and ours alone.
        let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        // SAFETY: F_SETFL on a descriptor we own; a full pipe must not
        // block the handler.
        if unsafe { libc::fcntl(write.as_raw_fd(), libc::F_SETFL, libc::O_NONBLOCK) } != 0 {
            return Err(io::Error::last_os_error());
        }
        let mut reader = File::from(read);
        let thread = std::thread::Builder::new()
            .name("tui-signals".to_owned())
            .spawn(move || {
                let mut byte = [0u8; 1];
                loop {
                    match reader.read(&mut byte) {
                        Ok(0) => return,
                        Ok(_) => {
                            if tx.send(Input::Signal).is_err() {
                                return;
                            }
                        }
                        Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                        Err(_) => return,
                    }
                }
            })?;
        let mut signals = Signals {
            write: Some(write),
            previous: Vec::new(),
            thread: Some(thread),
        };
        let fd = signals.write.as_ref().map_or(-1, AsRawFd::as_raw_fd);
        SIGNAL_PIPE.store(fd, Ordering::Relaxed);
        for signal in SIGNALS {
            // SAFETY: a zeroed sigaction is a valid "no flags, empty mask"
            // value that the fields below complete.
            let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
            action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
            action.sa_flags = libc::SA_RESTART;
            // SAFETY: an empty mask is built in place in our own struct.
            unsafe { libc::sigemptyset(&raw mut action.sa_mask) };
            // SAFETY: see above; a zeroed sigaction receives the old one.
            let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
            // SAFETY: `action` is a valid handler (on_signal only does
            // async-signal-safe work) and `old` is ours to fill.
            if unsafe { libc::sigaction(signal, &raw const action, &raw mut old) } != 0 {
                return Err(io::Error::last_os_error());
            }
            signals.previous.push((signal, old));
        }
        Ok(signals)
    }
}

impl Drop for Signals {
    fn drop(&mut self) {
        for (signal, old) in self.previous.drain(..) {
            // SAFETY: `old` is the action sigaction returned for `signal`.
            unsafe { libc::sigaction(signal, &raw const old, std::ptr::null_mut()) };
        }
        SIGNAL_PIPE.store(-1, Ordering::Relaxed);
        // Closing the write end ends the reader thread (end of file).
        self.write = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests;
