//! The TUI's frame costs (run with `cargo xtask bench`): a whole frame of
//! a session whose transcript is over 10 000 lines (target ≤ 4 ms), and
//! how long a streamed delta takes from the session's channel to the
//! terminal's bytes (target ≤ 16 ms, one frame at 60 Hz). Figures only; it
//! asserts no time.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use ratatui::backend::CrosstermBackend;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};
use serde_json::json;
use wharf_host::agent::{DeltaKind, Event, Item, ItemDetails, Status};
use wharf_tui::App;
use wharf_tui::theme::Theme;
use wharf_tui::transcript::Transcript;

const TURNS: usize = 500;
const ROUNDS: usize = 200;
const WIDTH: u16 = 120;
const HEIGHT: u16 = 40;

fn main() {
    let cwd = PathBuf::from("/work");
    let theme = Theme::new(true);
    let events = session(TURNS);

    let start = Instant::now();
    let mut transcript = Transcript::new(cwd.clone());
    for event in &events {
        transcript.apply(event, start);
    }
    let lines = transcript.line_count(WIDTH, &theme);

    let (ops, _ops_rx) = mpsc::channel();
    let mut app = App::new(ops, cwd, theme, start);
    for event in events {
        app.handle_event(event);
    }
    let area = Rect::new(0, 0, WIDTH, HEIGHT);
    // The first frame lays every cell out once.
    let first = {
        let mut buf = Buffer::empty(area);
        let started = Instant::now();
        app.render(area, &mut buf);
        started.elapsed()
    };
    let mut frames = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let mut buf = Buffer::empty(area);
        let started = Instant::now();
        app.render(area, &mut buf);
        frames.push(started.elapsed());
    }
    println!(
        "tui frame, {lines}-line transcript at {WIDTH}x{HEIGHT}: first {:.2} ms, then {} (target: p50 <= 4 ms)",
        ms(first),
        summary(&mut frames)
    );
    // Every frame at another width: every cached layout is void.
    let mut resized = Vec::with_capacity(ROUNDS);
    for round in 0..ROUNDS {
        let area = Rect::new(0, 0, WIDTH - (round % 2) as u16, HEIGHT);
        let mut buf = Buffer::empty(area);
        let started = Instant::now();
        app.render(area, &mut buf);
        resized.push(started.elapsed());
    }
    println!(
        "tui frame after a resize, same transcript: {} (target: p50 <= 4 ms)",
        summary(&mut resized)
    );

    // A delta from another thread to the terminal's bytes, as `run` does
    // it: received, applied, drawn, the bytes written.
    let (events_tx, events_rx) = mpsc::channel::<(Instant, Event)>();
    let sender = std::thread::spawn(move || {
        events_tx
            .send((Instant::now(), Event::TurnStarted))
            .unwrap();
        for round in 0..ROUNDS {
            std::thread::sleep(Duration::from_millis(2));
            let delta = Event::ItemDelta {
                kind: DeltaKind::AgentMessage,
                delta: format!("word{round} and some more text, "),
            };
            events_tx.send((Instant::now(), delta)).unwrap();
        }
    });
    let written = Arc::new(AtomicUsize::new(0));
    let backend = CrosstermBackend::new(Sink(Arc::clone(&written)));
    let mut terminal = Terminal::with_options(
        backend,
        TerminalOptions {
            viewport: Viewport::Fixed(area),
        },
    )
    .unwrap();
    let mut latencies = Vec::with_capacity(ROUNDS);
    while let Ok((sent, event)) = events_rx.recv() {
        let is_delta = matches!(event, Event::ItemDelta { .. });
        app.set_now(Instant::now());
        app.handle_event(event);
        terminal
            .draw(|frame| {
                let area = frame.area();
                app.render(area, frame.buffer_mut());
            })
            .unwrap();
        if is_delta {
            latencies.push(sent.elapsed());
        }
    }
    sender.join().unwrap();
    let written = written.load(Ordering::Relaxed);
    println!(
        "tui streamed delta -> terminal bytes ({written} bytes written): {} (target: p50 <= 16 ms)",
        summary(&mut latencies)
    );
}

/// A terminal that counts what it is sent.
struct Sink(Arc<AtomicUsize>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.fetch_add(buf.len(), Ordering::Relaxed);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `turns` turns of a prompt, a markdown answer with a code block and a
/// command with 20 lines of output: about 20 lines each.
fn session(turns: usize) -> Vec<Event> {
    let mut events = vec![Event::ThreadStarted {
        thread_id: "bench".to_owned(),
    }];
    let mut next = 0;
    let mut item = |details: ItemDetails| {
        next += 1;
        Item {
            id: format!("item_{next}"),
            details,
            hooks: Vec::new(),
        }
    };
    for turn in 0..turns {
        events.push(Event::TurnStarted);
        events.push(Event::ItemCompleted {
            item: item(ItemDetails::UserMessage {
                text: format!("fix the failing test number {turn}"),
            }),
        });
        events.push(Event::ItemCompleted {
            item: item(ItemDetails::AgentMessage {
                text: format!(
                    "## Step {turn}\n\nThe test fails because `add` subtracts:\n\n\
                     ```rust\nfn add(a: i32, b: i32) -> i32 {{\n    a - b // wrong\n}}\n```\n\n\
                     - read the code\n- fix it\n- run the tests again"
                ),
            }),
        });
        let output: String = (0..20)
            .map(|line| format!("test case {line} ... ok\n"))
            .collect();
        let command = item(ItemDetails::CommandExecution {
            tool: "exec_command".to_owned(),
            command: "cargo test".to_owned(),
            aggregated_output: String::new(),
            exit_code: None,
            status: Status::InProgress,
        });
        events.push(Event::ItemStarted {
            item: command.clone(),
        });
        events.push(Event::ItemCompleted {
            item: Item {
                id: command.id,
                details: ItemDetails::CommandExecution {
                    tool: "exec_command".to_owned(),
                    command: "cargo test".to_owned(),
                    aggregated_output: output,
                    exit_code: Some(0),
                    status: Status::Completed,
                },
                hooks: Vec::new(),
            },
        });
        events.push(Event::TurnCompleted {
            usage: serde_json::from_value(json!({"input_tokens": 100, "cached_input_tokens": 0,
                "output_tokens": 10, "reasoning_output_tokens": 0, "total_tokens": 110}))
            .unwrap(),
        });
    }
    events
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// "p50 X ms, p99 Y ms".
fn summary(times: &mut [Duration]) -> String {
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
    format!("p50 {:.3} ms, p99 {:.3} ms", ms(at(0.5)), ms(at(0.99)))
}
