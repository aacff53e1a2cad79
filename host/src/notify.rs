//! `notify`: the program the user configured, run after each turn that
//! completed with codex's JSON payload as its last argument, so that a
//! script can ring a bell or post a desktop notification.
//!
//! The program runs outside the sandbox's file and network rules (the user
//! chose it in their own `config.toml`; a project file cannot set it), in
//! the session's working directory, with the environment
//! `[shell_environment_policy]` gives commands, and with no stdio: a
//! notifier never writes over the terminal UI. The turn does not wait for
//! it. A thread reaps it and kills its process group at [`TIMEOUT`]; when
//! the session ends ([`Notifier`] is dropped), wharf waits for the
//! notifiers still running, each at most until its deadline, so none
//! outlives wharf by more than that.

use std::sync::{Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::Serialize;
use wharf_sandbox::{Command, Sandbox, Stdio};

use crate::agent::{Event, Sink, TurnOutcome};

/// How long a notifier may run before it is killed.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// What a notifier gets as its last argument, as JSON (codex's
/// `agent-turn-complete` notification).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Payload {
    #[serde(rename_all = "kebab-case")]
    AgentTurnComplete {
        thread_id: String,
        /// A new id for every turn.
        turn_id: String,
        cwd: String,
        /// What the user sent in the turn.
        input_messages: Vec<String>,
        /// The model's last message of the turn, `null` when it wrote none.
        last_assistant_message: Option<String>,
    },
}

/// Runs the configured program after each completed turn.
pub struct Notifier {
    argv: Vec<String>,
    sandbox: Sandbox,
    timeout: Duration,
    /// The threads reaping notifiers that may still run.
    running: Mutex<Vec<JoinHandle<()>>>,
}

impl Notifier {
    /// Runs `argv` (the program, then its own arguments) under `sandbox`
    /// (the session's, without its restrictions).
    pub fn new(argv: Vec<String>, sandbox: Sandbox) -> Notifier {
        Notifier {
            argv,
            sandbox,
            timeout: TIMEOUT,
            running: Mutex::new(Vec::new()),
        }
    }

    /// Kills a notifier after `timeout` instead of [`TIMEOUT`].
    pub fn with_timeout(mut self, timeout: Duration) -> Notifier {
        self.timeout = timeout;
        self
    }

    /// Starts the notifier for a turn of `thread_id` that completed with
    /// `outcome` after the user sent `input`. A notifier that cannot start
    /// is a warning in `sink`; the turn stands.
    pub fn turn_completed(
        &self,
        thread_id: &str,
        input: &str,
        outcome: &TurnOutcome,
        sink: &mut dyn Sink,
    ) {
        let payload = Payload::AgentTurnComplete {
            thread_id: thread_id.to_owned(),
            turn_id: crate::agent::new_thread_id(),
            cwd: self.sandbox.cwd().display().to_string(),
            input_messages: vec![input.to_owned()],
            last_assistant_message: outcome.last_message.clone(),
        };
        if let Err(message) = self.notify(&payload) {
            sink.event(&Event::Error { message });
        }
    }

    /// Starts the notifier with `payload`; the error says why it could not.
    pub fn notify(&self, payload: &Payload) -> Result<(), String> {
        let program = self.argv.first().map_or("", String::as_str);
        let json = serde_json::to_string(payload)
            .map_err(|err| format!("notify: cannot encode the payload: {err}"))?;
        let mut command = Command::new(self.argv.iter().map(String::as_str).chain([json.as_str()]));
        command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = self.sandbox.spawn(command).map_err(|err| {
            format!("notify: cannot run `{program}`: {err} (check `notify` in your config.toml)")
        })?;
        let process = child.process();
        let deadline = Instant::now().checked_add(self.timeout);
        let reaper = std::thread::Builder::new()
            .name("wharf-notify".to_owned())
            .spawn(move || {
                if let Ok(None) = process.wait_deadline(deadline) {
                    let _ = process.kill_group();
                    let _ = process.wait_deadline(None);
                }
            });
        match reaper {
            Ok(reaper) => {
                let mut running = self.running.lock().unwrap_or_else(PoisonError::into_inner);
                running.retain(|thread| !thread.is_finished());
                running.push(reaper);
                Ok(())
            }
            Err(err) => {
                // Nobody would reap it: end it now.
                let _ = child.kill_group();
                let _ = child.wait_deadline(None);
                Err(format!("notify: cannot watch `{program}`: {err}"))
            }
        }
    }

    /// Waits for the notifiers still running, each at most until its
    /// deadline (it is killed then).
    pub fn finish(&self) {
        let running =
            std::mem::take(&mut *self.running.lock().unwrap_or_else(PoisonError::into_inner));
        for thread in running {
            let _ = thread.join();
        }
    }
}

impl Drop for Notifier {
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(test)]
mod tests;
