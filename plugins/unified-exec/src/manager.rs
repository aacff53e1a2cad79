//! [`UnifiedExec`]: the sessions of long-running commands, by wharf session.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use serde::Deserialize;
use wharf_sandbox::Sandbox;

use crate::process::{Collected, Process, WriteError};
use crate::render::{self, Response, Status};
use crate::{ExecError, SessionId};

/// The fewest milliseconds a call waits for output.
pub const MIN_YIELD_MS: u64 = 250;
/// The most milliseconds a call waits for output.
pub const MAX_YIELD_MS: u64 = 30_000;
/// The fewest milliseconds a `write_stdin` with no input waits (a poll).
pub const MIN_POLL_YIELD_MS: u64 = 5_000;
/// `exec_command`'s default wait.
pub const DEFAULT_EXEC_YIELD_MS: u64 = 10_000;
/// `write_stdin`'s default wait.
pub const DEFAULT_WRITE_YIELD_MS: u64 = 250;
/// The default output budget of one call, in estimated tokens.
pub const DEFAULT_MAX_OUTPUT_TOKENS: u64 = 10_000;
/// The most sessions one wharf session keeps open; beyond it the least
/// recently used (exited ones first) are closed.
pub const MAX_SESSIONS: usize = 64;
/// From this many open sessions on, responses warn the model.
pub const WARNING_SESSIONS: usize = 60;
/// The most recently used sessions, which pruning never closes.
pub const PROTECTED_SESSIONS: usize = 8;

/// How long [`UnifiedExec::end_session`] waits for a killed process to be
/// reaped (a SIGKILL takes milliseconds; this only bounds a stuck kernel).
const END_WAIT: Duration = Duration::from_secs(2);

/// The arguments of `exec_command`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ExecArgs {
    /// The command line, run by `shell`.
    pub cmd: String,
    /// Where to run it, relative to the sandbox's cwd; the cwd by default.
    #[serde(default)]
    pub workdir: Option<String>,
    /// The shell: `/bin/bash`, or `/bin/sh` where there is no bash.
    #[serde(default)]
    pub shell: Option<String>,
    /// `shell -lc cmd` (the default) or `shell -c cmd`.
    #[serde(default)]
    pub login: Option<bool>,
    /// A pseudo-terminal (stdin stays open for `write_stdin`) instead of
    /// pipes (the default: stdout and stderr merged, stdin `/dev/null`).
    #[serde(default)]
    pub tty: Option<bool>,
    #[serde(default)]
    pub yield_time_ms: Option<u64>,
    #[serde(default)]
    pub max_output_tokens: Option<u64>,
    /// `require_escalated`: the model asks to run outside the sandbox. The
    /// host decides (its approval stage) and passes the sandbox the
    /// command runs under; ignored here.
    #[serde(default)]
    pub sandbox_permissions: Option<String>,
    /// Why the model asks; for the host, ignored here.
    #[serde(default)]
    pub justification: Option<String>,
}

/// The arguments of `write_stdin`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct WriteStdinArgs {
    pub session_id: i64,
    /// What to type; empty just polls for output.
    #[serde(default)]
    pub chars: String,
    #[serde(default)]
    pub yield_time_ms: Option<u64>,
    #[serde(default)]
    pub max_output_tokens: Option<u64>,
}

/// One open session, as [`UnifiedExec::sessions`] lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionInfo {
    pub id: SessionId,
    /// The process exited, and no call has collected its exit yet.
    pub exited: bool,
    /// Its process id, which is also its process group id.
    pub pid: u32,
}

/// The session manager: the commands that outlived their call, by wharf
/// session. Session ids count from 1 in each wharf session.
///
/// Every process it starts is killed (SIGKILL to its process group) when
/// its wharf session ends ([`UnifiedExec::end_session`]), when the call
/// waiting on it is cancelled, when it is pruned, when the manager is
/// dropped, and, for what a command leaves behind, when the command exits.
#[derive(Debug, Default)]
pub struct UnifiedExec {
    owners: Mutex<HashMap<String, Owner>>,
}

/// The sessions of one wharf session.
#[derive(Debug, Default)]
struct Owner {
    last_id: u32,
    /// Ticks on every use, for least-recently-used order.
    clock: u64,
    sessions: HashMap<SessionId, Session>,
}

#[derive(Debug)]
struct Session {
    process: Arc<Process>,
    /// What the process runs, for the responses of later calls.
    argv: Vec<String>,
    last_used: u64,
}

impl UnifiedExec {
    pub fn new() -> UnifiedExec {
        UnifiedExec::default()
    }

    /// Runs `args.cmd` under `sandbox` and waits for it, for output, until
    /// the yield time passes or it exits. A command still running is kept
    /// as a session of `wharf_session`, which `write_stdin` reaches.
    /// `cancel` is asked now and then while waiting; when it says yes the
    /// command is killed and the call fails with [`ExecError::Cancelled`].
    pub fn exec_command(
        &self,
        sandbox: &Sandbox,
        wharf_session: &str,
        args: ExecArgs,
        cancel: &dyn Fn() -> bool,
    ) -> Result<Response, ExecError> {
        let started = Instant::now();
        if args.cmd.trim().is_empty() {
            return Err(ExecError::EmptyCommand);
        }
        let cwd = match &args.workdir {
            Some(workdir) => sandbox.cwd().join(workdir),
            None => sandbox.cwd().to_path_buf(),
        };
        let shell = args.shell.unwrap_or_else(default_shell);
        let flag = if args.login.unwrap_or(true) {
            "-lc"
        } else {
            "-c"
        };
        let argv = vec![shell, flag.to_owned(), args.cmd];
        let process = Process::spawn(sandbox, argv.clone(), cwd, args.tty.unwrap_or(false))?;
        let yield_ms = clamp_yield(args.yield_time_ms.unwrap_or(DEFAULT_EXEC_YIELD_MS));
        let collected = process
            .collect(started + Duration::from_millis(yield_ms), cancel)
            .ok_or(ExecError::Cancelled)?;
        let max_tokens = args.max_output_tokens.unwrap_or(DEFAULT_MAX_OUTPUT_TOKENS);
        let mut warning = None;
        let status = match collected.exit {
            Some(code) => Status::Exited(code),
            None => {
                let (id, open) = self.store(wharf_session, process, argv.clone());
                warning = (open >= WARNING_SESSIONS).then(|| too_many_sessions(open));
                Status::Running(id)
            }
        };
        Ok(respond(
            argv, started, status, &collected, max_tokens, warning,
        ))
    }

    /// Types `args.chars` into a session's terminal (nothing: just polls)
    /// and collects its output until the yield time passes or it exits.
    /// A session that exited is closed by the call that reports its exit.
    pub fn write_stdin(
        &self,
        wharf_session: &str,
        args: WriteStdinArgs,
        cancel: &dyn Fn() -> bool,
    ) -> Result<Response, ExecError> {
        let started = Instant::now();
        let id = u32::try_from(args.session_id).ok().map(SessionId);
        let Some((id, (process, argv))) =
            id.and_then(|id| Some((id, self.touch(wharf_session, id)?)))
        else {
            return Err(ExecError::UnknownSession(args.session_id));
        };
        let mut yield_ms = args.yield_time_ms.unwrap_or(DEFAULT_WRITE_YIELD_MS);
        if args.chars.is_empty() {
            yield_ms = yield_ms.max(MIN_POLL_YIELD_MS);
        }
        let deadline = started + Duration::from_millis(clamp_yield(yield_ms));
        let written = if args.chars.is_empty() {
            Ok(())
        } else {
            process.write(args.chars.into_bytes(), deadline)
        };
        if let Err(WriteError::NoStdin) = written {
            return Err(ExecError::NoStdin(id));
        }
        let Some(collected) = process.collect(deadline, cancel) else {
            self.remove(wharf_session, id, &process);
            return Err(ExecError::Cancelled);
        };
        // A terminal whose program exited refuses input: report the exit.
        if let (Err(WriteError::Io(source)), None) = (written, collected.exit) {
            return Err(ExecError::Write { id, source });
        }
        let status = match collected.exit {
            Some(code) => {
                self.remove(wharf_session, id, &process);
                Status::Exited(code)
            }
            None => Status::Running(id),
        };
        let max_tokens = args.max_output_tokens.unwrap_or(DEFAULT_MAX_OUTPUT_TOKENS);
        Ok(respond(argv, started, status, &collected, max_tokens, None))
    }

    /// Kills every process `wharf_session` started, waits until they are
    /// reaped, and forgets its sessions.
    pub fn end_session(&self, wharf_session: &str) {
        let owner = self.lock().remove(wharf_session);
        let sessions: Vec<_> = owner
            .into_iter()
            .flat_map(|owner| owner.sessions.into_values())
            .collect();
        // Kill every group first, then wait for each, so that the session's
        // processes are gone when this returns.
        for session in &sessions {
            session.process.kill();
        }
        for session in &sessions {
            session.process.kill_and_wait(END_WAIT);
        }
    }

    /// The open sessions of `wharf_session`, by id.
    pub fn sessions(&self, wharf_session: &str) -> Vec<SessionInfo> {
        let owners = self.lock();
        let mut sessions: Vec<SessionInfo> = owners
            .get(wharf_session)
            .into_iter()
            .flat_map(|owner| &owner.sessions)
            .map(|(&id, session)| SessionInfo {
                id,
                exited: session.process.has_exited(),
                pid: session.process.pid(),
            })
            .collect();
        sessions.sort_by_key(|session| session.id);
        sessions
    }

    /// Waits (at most `limit`) until session `id`'s process has exited and
    /// been reaped, without counting as a use of the session. `false` when
    /// it is still running, or there is no such session.
    pub fn wait_for_exit(&self, wharf_session: &str, id: SessionId, limit: Duration) -> bool {
        let watch = self
            .lock()
            .get(wharf_session)
            .and_then(|owner| owner.sessions.get(&id))
            .map(|session| session.process.exit_watch());
        watch.is_some_and(|watch| watch.wait(limit))
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Owner>> {
        self.owners.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Keeps `process` as a new session, pruning one first when full;
    /// returns its id and how many sessions are open.
    fn store(
        &self,
        wharf_session: &str,
        process: Process,
        argv: Vec<String>,
    ) -> (SessionId, usize) {
        let mut owners = self.lock();
        let owner = owners.entry(wharf_session.to_owned()).or_default();
        if owner.sessions.len() >= MAX_SESSIONS
            && let Some(pruned) = owner.prune_candidate()
            && let Some(session) = owner.sessions.remove(&pruned)
        {
            session.process.kill();
        }
        owner.last_id += 1;
        owner.clock += 1;
        let id = SessionId(owner.last_id);
        let session = Session {
            process: Arc::new(process),
            argv,
            last_used: owner.clock,
        };
        owner.sessions.insert(id, session);
        (id, owner.sessions.len())
    }

    /// The session's process and what it runs, marked as just used.
    fn touch(&self, wharf_session: &str, id: SessionId) -> Option<(Arc<Process>, Vec<String>)> {
        let mut owners = self.lock();
        let owner = owners.get_mut(wharf_session)?;
        owner.clock += 1;
        let session = owner.sessions.get_mut(&id)?;
        session.last_used = owner.clock;
        Some((Arc::clone(&session.process), session.argv.clone()))
    }

    /// Forgets session `id` if it still holds `process`, and kills what is
    /// left of it.
    fn remove(&self, wharf_session: &str, id: SessionId, process: &Arc<Process>) {
        let mut owners = self.lock();
        if let Some(owner) = owners.get_mut(wharf_session)
            && owner
                .sessions
                .get(&id)
                .is_some_and(|session| Arc::ptr_eq(&session.process, process))
        {
            owner.sessions.remove(&id);
        }
        drop(owners);
        process.kill();
    }
}

impl Drop for UnifiedExec {
    fn drop(&mut self) {
        let owners = std::mem::take(&mut *self.lock());
        for session in owners
            .into_values()
            .flat_map(|owner| owner.sessions.into_values())
        {
            session.process.kill();
        }
    }
}

impl Owner {
    /// Which session to close to make room: outside the
    /// [`PROTECTED_SESSIONS`] most recently used, the least recently used
    /// one that exited, else the least recently used one.
    fn prune_candidate(&self) -> Option<SessionId> {
        let mut by_age: Vec<(&SessionId, &Session)> = self.sessions.iter().collect();
        by_age.sort_by_key(|(_, session)| session.last_used);
        let unprotected = by_age.len().saturating_sub(PROTECTED_SESSIONS);
        let candidates = by_age.get(..unprotected)?;
        candidates
            .iter()
            .find(|(_, session)| session.process.has_exited())
            .or_else(|| candidates.first())
            .map(|(id, _)| **id)
    }
}

fn respond(
    argv: Vec<String>,
    started: Instant,
    status: Status,
    collected: &Collected,
    max_tokens: u64,
    warning: Option<String>,
) -> Response {
    let truncated = render::truncate(&collected.unread, max_tokens);
    Response {
        argv,
        wall_time: started.elapsed(),
        status,
        original_token_count: truncated.original_tokens,
        output: truncated.text,
        warning,
    }
}

/// The warning appended to responses while [`WARNING_SESSIONS`] or more
/// sessions are open.
pub fn too_many_sessions(open: usize) -> String {
    format!(
        "{open} exec sessions are open (at most {MAX_SESSIONS}; past that the least recently \
         used are closed). Reuse running sessions with write_stdin, and end the ones you no \
         longer need (exit them, or send Ctrl-C \"\\u0003\")."
    )
}

fn clamp_yield(ms: u64) -> u64 {
    ms.clamp(MIN_YIELD_MS, MAX_YIELD_MS)
}

/// `/bin/bash`, or `/bin/sh` where there is no bash.
fn default_shell() -> String {
    let bash = "/bin/bash";
    if Path::new(bash).exists() {
        bash.to_owned()
    } else {
        "/bin/sh".to_owned()
    }
}
