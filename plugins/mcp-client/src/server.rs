//! [`McpServer`]: a started server as blocking callers use it, restarted
//! when it dies.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use tokio::runtime::Handle;
use tokio::sync::oneshot;

use crate::progress::{PROGRESS_INTERVAL, Throttle};
use crate::runtime::{self, wait_for};
use crate::session::{self, CallEvent, CallEvents, Connected, Failure, Session};
use crate::{CallError, CallHooks, CallResult, McpTool, ServerSpec, StartError};

/// How many times a server that died is started again, per
/// [`McpServer`] (a session's lifetime).
pub const MAX_RESTARTS: u32 = 3;

/// How long a cancelled call waits for the server to be told.
const CANCEL_GRACE: Duration = Duration::from_secs(3);
/// Past `startup_timeout`: time for the failure's details (exit status,
/// stderr) to be gathered.
const START_MARGIN: Duration = Duration::from_secs(5);
/// How long shutting down waits for the process to be reaped.
const SHUTDOWN_WAIT: Duration = Duration::from_secs(3);

/// A started MCP server. Callers block; the protocol runs on the MCP
/// runtime. Calls may run in parallel from several threads.
pub struct McpServer {
    spec: ServerSpec,
    runtime: Handle,
    tools: Vec<McpTool>,
    warnings: Vec<String>,
    state: Mutex<State>,
}

struct State {
    /// `None` after the server died (the next call starts it again) or
    /// after shutdown.
    session: Option<Arc<Session>>,
    restarts: u32,
    shut_down: bool,
}

impl McpServer {
    /// Starts the server (spawn or connect), initializes it and lists its
    /// tools (every page), applying `enabled_tools` then `disabled_tools`,
    /// all within `startup_timeout`.
    pub fn start(spec: ServerSpec) -> Result<McpServer, StartError> {
        let runtime = runtime::handle()?;
        let connected = connect(&runtime, &spec)?;
        Ok(McpServer::new(spec, runtime, connected))
    }

    /// Starts every server at once; the results are in the order of
    /// `specs`. Takes as long as the slowest start, not the sum.
    pub fn start_all(specs: Vec<ServerSpec>) -> Vec<Result<McpServer, StartError>> {
        let runtime = match runtime::handle() {
            Ok(runtime) => runtime,
            Err(err) => return specs.iter().map(|_| Err(err.clone())).collect(),
        };
        let pending: Vec<_> = specs
            .into_iter()
            .map(|spec| {
                let (tx, rx) = mpsc::sync_channel(1);
                let task_spec = spec.clone();
                runtime.spawn(async move {
                    let _ = tx.send(session::connect(&task_spec).await);
                });
                (spec, rx)
            })
            .collect();
        pending
            .into_iter()
            .map(|(spec, rx)| {
                let connected = rx
                    .recv_timeout(spec.startup_timeout + START_MARGIN)
                    .unwrap_or_else(|_| Err(start_lost(&spec)));
                connected.map(|connected| McpServer::new(spec, runtime.clone(), connected))
            })
            .collect()
    }

    fn new(spec: ServerSpec, runtime: Handle, connected: Connected) -> McpServer {
        McpServer {
            spec,
            runtime,
            tools: connected.tools,
            warnings: connected.warnings,
            state: Mutex::new(State {
                session: Some(Arc::new(connected.session)),
                restarts: 0,
                shut_down: false,
            }),
        }
    }

    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// The tools discovered at start, after filtering.
    pub fn tools(&self) -> &[McpTool] {
        &self.tools
    }

    /// What the user should know about the tools: skipped duplicates,
    /// filter entries that name no tool.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The stdio server's process id (also its process group's), while it
    /// runs.
    pub fn pid(&self) -> Option<u32> {
        self.lock()
            .session
            .as_ref()
            .and_then(|session| session.pid())
    }

    /// Calls `tool` by its MCP name ([`McpTool::name`]) and blocks until
    /// the result, the `tool_timeout`, or [`CallHooks::cancel`]; a
    /// timeout or a cancel sends `notifications/cancelled` to the server.
    /// Progress notifications of this call go to [`CallHooks::progress`].
    pub fn call(
        &self,
        tool: &str,
        arguments: serde_json::Value,
        hooks: &CallHooks,
    ) -> Result<CallResult, CallError> {
        if !self.tools.iter().any(|offered| offered.name == tool) {
            return Err(CallError::UnknownTool(format!(
                "mcp server `{}` offers no tool `{tool}`",
                self.spec.name
            )));
        }
        let arguments = match arguments {
            serde_json::Value::Object(map) => Some(map),
            serde_json::Value::Null => None,
            other => {
                return Err(CallError::InvalidArguments(format!(
                    "the arguments of an MCP tool are a JSON object, not `{other}`"
                )));
            }
        };
        let session = self.session()?;
        let (cancel, cancelled) = oneshot::channel();
        let tool = tool.to_owned();
        let limit = self.spec.tool_timeout;
        let mut progress = Throttle::new(hooks.progress, PROGRESS_INTERVAL);
        let outcome = if Handle::try_current().is_err() {
            // The usual case, a plain thread: drive the call right here, so
            // that the answer wakes this thread and no worker hops in
            // between (a third of the round trip of a fast stdio server).
            let (events, mut rx) = tokio::sync::mpsc::unbounded_channel();
            let call = session.call(tool, arguments, limit, &events, cancelled);
            self.runtime
                .block_on(drive(call, &mut rx, cancel, hooks, &mut progress))
        } else {
            // Inside a runtime, `block_on` would panic: the call runs as a
            // task of the client's runtime and this thread waits, woken by
            // the task's events or by the cancel.
            let (events, rx) = mpsc::channel();
            let _wake = hooks.cancel.on_cancel({
                let events = events.clone();
                move || CallEvents::send(&events, CallEvent::Cancelled)
            });
            let reply = Reply {
                events,
                done: false,
            };
            let task_session = Arc::clone(&session);
            self.runtime.spawn(async move {
                let result = task_session
                    .call(tool, arguments, limit, &reply, cancelled)
                    .await;
                reply.done(result);
            });
            wait_for_result(&rx, cancel, hooks, &mut progress)
        };
        if outcome.is_ok() {
            progress.finish();
        }
        match outcome {
            Ok(result) => Ok(result),
            Err(Failure::Cancelled) => Err(CallError::Cancelled),
            Err(Failure::Timeout) => Err(CallError::Timeout(limit)),
            Err(Failure::Protocol(message)) => Err(CallError::Protocol(message)),
            Err(Failure::Unauthorized(message)) => Err(CallError::Unauthorized(message)),
            Err(Failure::Disconnected(message)) => {
                self.forget(&session);
                Err(CallError::Disconnected(message))
            }
        }
    }

    /// The session to call on: the running one, or a new one if the last
    /// one died (counted against [`MAX_RESTARTS`]). A session found dead
    /// here fails this call, like a call that was running when it died.
    fn session(&self) -> Result<Arc<Session>, CallError> {
        let mut state = self.lock();
        if state.shut_down {
            return Err(CallError::Disconnected(format!(
                "mcp server `{}` was shut down",
                self.spec.name
            )));
        }
        if let Some(session) = &state.session {
            if !session.is_dead() {
                return Ok(Arc::clone(session));
            }
            let dead = Arc::clone(session);
            state.session = None;
            drop(state);
            let notice = wait_for(
                &self.runtime,
                async move {
                    let notice = dead.death_notice("the connection closed").await;
                    dead.close(SHUTDOWN_WAIT).await;
                    notice
                },
                SHUTDOWN_WAIT * 2,
            );
            return Err(CallError::Disconnected(notice.unwrap_or_else(|| {
                format!(
                    "mcp server `{}` stopped; the next call restarts it",
                    self.spec.name
                )
            })));
        }
        if state.restarts >= MAX_RESTARTS {
            return Err(CallError::RestartLimit(state.restarts));
        }
        // Other callers wait for this restart rather than start their own.
        state.restarts += 1;
        let connected = connect(&self.runtime, &self.spec).map_err(CallError::Restart)?;
        let session = Arc::new(connected.session);
        state.session = Some(Arc::clone(&session));
        Ok(session)
    }

    /// Drops `session` if it is still the current one: it died during a
    /// call, and the next call starts a new one.
    fn forget(&self, session: &Arc<Session>) {
        let mut state = self.lock();
        let current = state
            .session
            .as_ref()
            .is_some_and(|current| Arc::ptr_eq(current, session));
        if current {
            state.session = None;
        }
        drop(state);
        let dead = Arc::clone(session);
        wait_for(
            &self.runtime,
            async move { dead.close(SHUTDOWN_WAIT).await },
            SHUTDOWN_WAIT * 2,
        );
    }

    /// Closes the connection and kills the stdio server's process group,
    /// waiting (up to a few seconds) until it is gone. Calls fail
    /// afterwards. Also done on drop.
    pub fn shutdown(&self) {
        let session = {
            let mut state = self.lock();
            state.shut_down = true;
            state.session.take()
        };
        if let Some(session) = session {
            wait_for(
                &self.runtime,
                async move { session.close(SHUTDOWN_WAIT).await },
                SHUTDOWN_WAIT * 2,
            );
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for McpServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn connect(runtime: &Handle, spec: &ServerSpec) -> Result<Connected, StartError> {
    let task_spec = spec.clone();
    wait_for(
        runtime,
        async move { session::connect(&task_spec).await },
        spec.startup_timeout + START_MARGIN,
    )
    .unwrap_or_else(|| Err(start_lost(spec)))
}

/// The start's task neither finished nor timed out: it panicked, or the
/// runtime is stuck.
fn start_lost(spec: &ServerSpec) -> StartError {
    StartError::Runtime(format!(
        "starting mcp server `{}` did not finish (the MCP runtime failed)",
        spec.name
    ))
}

/// The waiting caller's end of a call's task: it says `Done` exactly once,
/// a lost call if the task is dropped before it finished.
struct Reply {
    events: mpsc::Sender<CallEvent>,
    done: bool,
}

impl Reply {
    fn done(mut self, result: Result<CallResult, Failure>) {
        self.done = true;
        CallEvents::send(&self.events, CallEvent::Done(result));
    }
}

impl CallEvents for Reply {
    fn send(&self, event: CallEvent) {
        CallEvents::send(&self.events, event);
    }
}

impl Drop for Reply {
    fn drop(&mut self) {
        if !self.done {
            CallEvents::send(&self.events, CallEvent::Done(Err(lost())));
        }
    }
}

fn lost() -> Failure {
    Failure::Disconnected("the MCP client's call task ended without a result".to_owned())
}

/// Runs `call` on the calling thread, handing on its progress as it comes
/// (throttled) until it ends; a cancel wakes it, and `call` itself then
/// sends `notifications/cancelled` and ends.
async fn drive(
    call: impl Future<Output = Result<CallResult, Failure>>,
    rx: &mut tokio::sync::mpsc::UnboundedReceiver<CallEvent>,
    cancel: oneshot::Sender<()>,
    hooks: &CallHooks<'_>,
    progress: &mut Throttle<'_>,
) -> Result<CallResult, Failure> {
    tokio::pin!(call);
    let cancelled = hooks.cancel.cancelled();
    tokio::pin!(cancelled);
    loop {
        let due = progress.due_at();
        let release = tokio::time::sleep_until(due.unwrap_or_else(Instant::now).into());
        tokio::select! {
            result = &mut call => {
                while let Ok(event) = rx.try_recv() {
                    if let CallEvent::Progress(line) = event {
                        progress.offer(line, Instant::now());
                    }
                }
                return result;
            }
            Some(event) = rx.recv() => match event {
                CallEvent::Progress(line) => progress.offer(line, Instant::now()),
                // The user answers on this thread, as for an approval.
                CallEvent::Elicit(ask) => {
                    let _ = ask.reply.send((hooks.elicit)(&ask.request));
                }
                CallEvent::Done(_) | CallEvent::Cancelled => {}
            },
            () = release, if due.is_some() => progress.tick(Instant::now()),
            () = &mut cancelled => {
                let _ = cancel.send(());
                // Telling the server is bounded: a stuck transport must not
                // hold the call.
                return tokio::time::timeout(CANCEL_GRACE, &mut call)
                    .await
                    .unwrap_or(Err(Failure::Cancelled));
            }
        }
    }
}

/// Waits on a call's task: its progress (throttled), its result, or the
/// caller's cancel, each of which wakes this thread.
fn wait_for_result(
    rx: &mpsc::Receiver<CallEvent>,
    cancel: oneshot::Sender<()>,
    hooks: &CallHooks<'_>,
    progress: &mut Throttle<'_>,
) -> Result<CallResult, Failure> {
    loop {
        let event = match progress.due_at() {
            Some(due) => match rx.recv_timeout(due.saturating_duration_since(Instant::now())) {
                Ok(event) => event,
                Err(RecvTimeoutError::Timeout) => {
                    progress.tick(Instant::now());
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => return Err(lost()),
            },
            None => match rx.recv() {
                Ok(event) => event,
                Err(_) => return Err(lost()),
            },
        };
        match event {
            CallEvent::Progress(line) => progress.offer(line, Instant::now()),
            CallEvent::Elicit(ask) => {
                let _ = ask.reply.send((hooks.elicit)(&ask.request));
            }
            CallEvent::Done(result) => return result,
            CallEvent::Cancelled => {
                let _ = cancel.send(());
                // The task sends `notifications/cancelled`, bounded.
                let deadline = Instant::now() + CANCEL_GRACE;
                while let Some(left) = deadline.checked_duration_since(Instant::now()) {
                    match rx.recv_timeout(left) {
                        Ok(
                            CallEvent::Progress(_) | CallEvent::Cancelled | CallEvent::Elicit(_),
                        ) => {}
                        Ok(CallEvent::Done(_)) | Err(_) => break,
                    }
                }
                return Err(Failure::Cancelled);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The adapter shares one server between the threads of a session.
    #[test]
    fn a_server_can_be_shared_between_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<McpServer>();
    }
}
