//! One connection to a server: connecting (spawn or HTTP, `initialize`,
//! every page of `tools/list`) and calling a tool on it.

use std::sync::mpsc;
use std::time::Duration;

#[allow(deprecated, reason = "servers still send MCP logging (server_log.rs)")]
use rmcp::model::LoggingMessageNotificationParam;
use rmcp::model::{
    CallToolRequest, CallToolRequestParams, ClientCapabilities, ClientConfig, ClientRequest,
    CustomRequest, CustomResult, ElicitRequestParams, ElicitResult, ElicitationCapability,
    ErrorCode, ErrorData, FormElicitationCapability, Implementation, JsonObject,
    ProgressNotificationParam, ServerResult,
};
use rmcp::service::{
    NotificationContext, PeerRequestOptions, RequestContext, RunningService, ServiceError,
};
use rmcp::{ClientHandler, RoleClient, ServiceExt as _};
use tokio::sync::oneshot;
use tokio::time::{Instant, timeout_at};

use crate::elicitation::{Ask, ElicitReply, ElicitRouter};
use crate::error::{init_detail, service_detail, transport_detail};
use crate::http::{self, HttpFailure};
use crate::listing;
use crate::names::select_tools;
use crate::process::{Launch, StdioProcess};
use crate::progress::ProgressRouter;
use crate::server_log::LogRelay;
use crate::{CallResult, McpTool, ServerSpec, StartError, TransportSpec, content};

/// The request by which a server asks the user for input.
const ELICITATION_METHOD: &str = "elicitation/create";
/// How long to wait for a dead server's exit status and last stderr lines
/// before reporting without them.
const DEATH_NOTICE_WAIT: Duration = Duration::from_secs(1);
/// How long the `notifications/cancelled` of a stopped call may take.
const CANCEL_SEND_WAIT: Duration = Duration::from_secs(2);

/// What wharf tells servers about itself: form elicitation (the running
/// call's caller answers, see `elicitation.rs`); no sampling or roots.
#[derive(Clone)]
struct Handler {
    server: String,
    progress: ProgressRouter,
    log: LogRelay,
    elicit: ElicitRouter,
}

impl ClientHandler for Handler {
    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.progress.dispatch(params);
    }

    #[allow(deprecated, reason = "servers still send MCP logging (server_log.rs)")]
    async fn on_logging_message(
        &self,
        params: LoggingMessageNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        self.log.relay(&params);
    }

    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, ErrorData> {
        Ok(self.elicit.answer(&self.server, request, &self.log).await)
    }

    /// rmcp hands over an `elicitation/create` it could not read as a
    /// custom request: it is declined, saying why, rather than refused as
    /// an unknown method.
    async fn on_custom_request(
        &self,
        request: CustomRequest,
        _context: RequestContext<RoleClient>,
    ) -> Result<CustomResult, ErrorData> {
        if request.method != ELICITATION_METHOD {
            return Err(ErrorData::new(
                ErrorCode::METHOD_NOT_FOUND,
                request.method,
                None,
            ));
        }
        let answer = self
            .elicit
            .unreadable(&self.server, request.params, &self.log);
        Ok(CustomResult::new(answer))
    }

    fn get_info(&self) -> ClientConfig {
        let mut capabilities = ClientCapabilities::default();
        let mut form = FormElicitationCapability::new();
        // Answers are checked against the form before they are sent.
        form.schema_validation = Some(true);
        capabilities.elicitation = Some(ElicitationCapability::new().with_form(form));
        ClientConfig::new(
            capabilities,
            Implementation::new("wharf", env!("CARGO_PKG_VERSION")),
        )
    }
}

pub(crate) struct Session {
    server: String,
    service: RunningService<RoleClient, Handler>,
    progress: ProgressRouter,
    log: LogRelay,
    elicit: ElicitRouter,
    /// The stdio server's process; `None` over HTTP.
    process: Option<StdioProcess>,
    /// The HTTP server's URL; `None` over stdio.
    url: Option<String>,
    /// Why the HTTP client cut an answer off, if it did.
    verdict: Option<http::Verdict>,
}

/// A started server and what it offers.
pub(crate) struct Connected {
    pub session: Session,
    pub tools: Vec<McpTool>,
    pub warnings: Vec<String>,
}

/// Something a running call tells its caller.
pub(crate) enum CallEvent {
    Progress(String),
    /// The server asks the user for input; answer on the ask's `reply`.
    Elicit(Ask),
    Done(Result<CallResult, Failure>),
    /// The caller's own cancel, sent by its cancel hook to wake it (never
    /// by the session).
    Cancelled,
}

/// Where a running call's events go: a channel its caller waits on, the
/// blocking or the async kind.
pub(crate) trait CallEvents: Send + Sync {
    fn send(&self, event: CallEvent);
}

impl CallEvents for mpsc::Sender<CallEvent> {
    fn send(&self, event: CallEvent) {
        let _ = mpsc::Sender::send(self, event);
    }
}

impl CallEvents for tokio::sync::mpsc::UnboundedSender<CallEvent> {
    fn send(&self, event: CallEvent) {
        let _ = tokio::sync::mpsc::UnboundedSender::send(self, event);
    }
}

/// Why a call produced no result (the server's side of [`crate::CallError`]).
pub(crate) enum Failure {
    Cancelled,
    Timeout,
    /// The session is unusable; the message says why.
    Disconnected(String),
    Protocol(String),
    Unauthorized(String),
}

/// Starts the server of `spec` and lists its tools, all within its
/// `startup_timeout`. Call it on the runtime.
pub(crate) async fn connect(spec: &ServerSpec) -> Result<Connected, StartError> {
    let deadline = Instant::now() + spec.startup_timeout;
    let progress = ProgressRouter::default();
    let log = LogRelay::new(&spec.name, spec.log.clone());
    let elicit = ElicitRouter::default();
    let handler = Handler {
        server: spec.name.clone(),
        progress: progress.clone(),
        log: log.clone(),
        elicit: elicit.clone(),
    };
    let session = match &spec.transport {
        TransportSpec::Stdio {
            command,
            args,
            env,
            cwd,
            sandbox,
        } => {
            let launch = Launch {
                server: &spec.name,
                command,
                args,
                env,
                cwd: cwd.as_ref(),
                sandbox,
            };
            let (process, pipes) = StdioProcess::spawn(&launch)?;
            let service = match timeout_at(deadline, handler.serve(pipes)).await {
                Ok(Ok(service)) => service,
                Ok(Err(err)) => {
                    return Err(
                        stdio_failure(spec, &process, "initialize", init_detail(&err)).await,
                    );
                }
                Err(_) => return Err(timed_out(spec, Some(&process), "initialize")),
            };
            Session {
                server: spec.name.clone(),
                service,
                progress,
                log: log.clone(),
                elicit,
                process: Some(process),
                url: None,
                verdict: None,
            }
        }
        TransportSpec::Http { url, headers, auth } => {
            let (transport, verdict) = http::transport(&spec.name, url, headers, auth.clone())?;
            let service = match timeout_at(deadline, handler.serve(transport)).await {
                Ok(Ok(service)) => service,
                Ok(Err(err)) => {
                    // An answer cut off by wharf: that says why, not rmcp.
                    let (failure, detail) = match verdict.get() {
                        Some(cause) => (None, cause.clone()),
                        None => (http::init_failure(&err), init_detail(&err)),
                    };
                    return Err(http_failure(spec, url, "initialize", failure, detail));
                }
                Err(_) => return Err(timed_out(spec, None, "initialize")),
            };
            Session {
                server: spec.name.clone(),
                service,
                progress,
                log: log.clone(),
                elicit,
                process: None,
                url: Some(url.clone()),
                verdict: Some(verdict),
            }
        }
    };
    let listing = match timeout_at(deadline, listing::list_tools(session.service.peer())).await {
        Ok(Ok(tools)) => tools,
        Ok(Err(err)) => {
            let error = match (&session.process, &session.url) {
                (Some(process), _) => {
                    stdio_failure(spec, process, "tools/list", service_detail(&err)).await
                }
                (None, Some(url)) => {
                    let failure = match &err {
                        ServiceError::TransportSend(error) => http::http_failure(error),
                        other => http::http_failure(other),
                    };
                    http_failure(spec, url, "tools/list", failure, service_detail(&err))
                }
                (None, None) => protocol(spec, "tools/list", err.to_string(), String::new()),
            };
            return Err(error);
        }
        Err(_) => return Err(timed_out(spec, session.process.as_ref(), "tools/list")),
    };
    let (tools, mut warnings) = select_tools(
        &spec.name,
        listing.tools,
        spec.enabled_tools.as_deref(),
        &spec.disabled_tools,
        &spec.limits,
    );
    warnings.splice(0..0, listing.warnings);
    Ok(Connected {
        session,
        tools,
        warnings,
    })
}

fn protocol(spec: &ServerSpec, phase: &'static str, message: String, stderr: String) -> StartError {
    StartError::Protocol {
        server: spec.name.clone(),
        phase,
        message,
        stderr,
    }
}

fn timed_out(spec: &ServerSpec, process: Option<&StdioProcess>, phase: &'static str) -> StartError {
    StartError::Timeout {
        server: spec.name.clone(),
        phase,
        after: spec.startup_timeout,
        stderr: process.map(StdioProcess::stderr_now).unwrap_or_default(),
    }
}

/// A stdio server failed to start: it exited (say how, with its stderr),
/// or it is running but spoke no MCP.
async fn stdio_failure(
    spec: &ServerSpec,
    process: &StdioProcess,
    phase: &'static str,
    message: String,
) -> StartError {
    // wharf cut the connection: the server may well still run, and what it
    // wrote says more than how it ends.
    if let Some(violation) = process.violation() {
        return protocol(spec, phase, violation.to_string(), process.stderr_now());
    }
    let status = process.wait_exit(DEATH_NOTICE_WAIT).await;
    let stderr = process.stderr_tail(DEATH_NOTICE_WAIT).await;
    match status {
        Some(status) => StartError::Exited {
            server: spec.name.clone(),
            status,
            stderr,
        },
        None => protocol(spec, phase, message, stderr),
    }
}

fn http_failure(
    spec: &ServerSpec,
    url: &str,
    phase: &'static str,
    failure: Option<HttpFailure>,
    detail: String,
) -> StartError {
    let http = |message: String| StartError::Http {
        server: spec.name.clone(),
        url: url.to_owned(),
        message,
    };
    match failure {
        Some(HttpFailure::Unauthorized) => StartError::Unauthorized {
            server: spec.name.clone(),
            url: url.to_owned(),
        },
        Some(HttpFailure::AuthHook(message)) => http(format!(
            "{message} (log in again with `wharf mcp login {}`)",
            spec.name
        )),
        Some(HttpFailure::Status(status)) => http(format!("{phase} failed with HTTP {status}")),
        Some(HttpFailure::Redirect(refused)) => http(format!(
            "{phase} failed: {refused} (set `url` in [mcp_servers.{}] to the final URL)",
            spec.name
        )),
        None => http(format!("{phase} failed: {detail}")),
    }
}

/// The caller's answer to the question being asked (`None`: it went
/// away without one); pending while nothing is asked.
async fn answered(
    asking: &mut Option<(
        oneshot::Receiver<ElicitReply>,
        oneshot::Sender<ElicitReply>,
        Instant,
    )>,
) -> Option<ElicitReply> {
    match asking {
        Some((answer, _, _)) => Some(answer.await.unwrap_or(ElicitReply::Cancel)),
        None => std::future::pending().await,
    }
}

impl Session {
    pub(crate) fn pid(&self) -> Option<u32> {
        self.process.as_ref().map(StdioProcess::pid)
    }

    /// Whether the server is known to be gone: its process ended, or the
    /// connection's loop stopped.
    pub(crate) fn is_dead(&self) -> bool {
        self.process
            .as_ref()
            .is_some_and(|process| process.exit_status().is_some())
            || self.service.peer().is_transport_closed()
    }

    /// Calls `tool`, sending progress to `events`, until the result, the
    /// `limit` or `cancel` (a message, or its sender dropped).
    pub(crate) async fn call(
        &self,
        tool: String,
        arguments: Option<JsonObject>,
        limit: Duration,
        events: &dyn CallEvents,
        mut cancel: oneshot::Receiver<()>,
    ) -> Result<CallResult, Failure> {
        let mut asks = self.elicit.subscribe(&tool);
        let mut params = CallToolRequestParams::new(tool);
        params.arguments = arguments;
        let request = ClientRequest::CallToolRequest(CallToolRequest::new(params));
        let peer = self.service.peer();
        let mut handle = match peer
            .send_cancellable_request(request, PeerRequestOptions::no_options())
            .await
        {
            Ok(handle) => handle,
            Err(err) => return Err(self.failure(err).await),
        };
        let mut progress = self.progress.subscribe(handle.progress_token.clone());
        let timer = tokio::time::sleep(limit);
        tokio::pin!(timer);
        // A question to the user being answered: where the answer goes
        // back, and since when the timer waits for it.
        let mut asking: Option<(
            oneshot::Receiver<ElicitReply>,
            oneshot::Sender<ElicitReply>,
            Instant,
        )> = None;
        // The answer, or why the call stopped first.
        let outcome = loop {
            tokio::select! {
                biased;
                answer = &mut handle.rx => break Ok(answer),
                Some(reply) = answered(&mut asking) => {
                    if let Some((_, server, since)) = asking.take() {
                        let _ = server.send(reply);
                        // The time the user took is not the tool's.
                        let deadline = timer.deadline() + since.elapsed();
                        timer.as_mut().reset(deadline);
                    }
                }
                Some(ask) = asks.asks.recv(), if asking.is_none() => {
                    let (reply, answer) = oneshot::channel();
                    asking = Some((answer, ask.reply, Instant::now()));
                    events.send(CallEvent::Elicit(Ask { request: ask.request, reply }));
                }
                Some(line) = progress.lines.recv() => {
                    events.send(CallEvent::Progress(line));
                }
                () = &mut timer, if asking.is_none() => break Err((Failure::Timeout, "timed out")),
                _ = &mut cancel => break Err((Failure::Cancelled, "cancelled by the user")),
            }
        };
        let answer = match outcome {
            Ok(answer) => {
                // rmcp hands notifications to the handler on their own
                // tasks: the last progress can be a step behind the answer.
                tokio::task::yield_now().await;
                while let Ok(line) = progress.lines.try_recv() {
                    events.send(CallEvent::Progress(line));
                }
                answer
            }
            Err((failure, reason)) => {
                // Tell the server to stop; a server that is gone or hangs
                // must not hold the caller.
                let notice = handle.cancel(Some(reason.to_owned()));
                let _ = tokio::time::timeout(CANCEL_SEND_WAIT, notice).await;
                return Err(failure);
            }
        };
        match answer {
            Ok(Ok(ServerResult::CallToolResult(result))) => Ok(content::convert(result)),
            Ok(Ok(other)) => Err(Failure::Protocol(format!(
                "mcp server `{}` answered tools/call with something else than a result: {}",
                self.server,
                serde_json::to_string(&other).unwrap_or_default()
            ))),
            Ok(Err(err)) => Err(self.failure(err).await),
            Err(_) => Err(self.failure(ServiceError::TransportClosed).await),
        }
    }

    async fn failure(&self, err: ServiceError) -> Failure {
        let server = &self.server;
        match err {
            ServiceError::McpError(error) => Failure::Protocol(format!(
                "mcp server `{server}` answered with error {}: {}",
                error.code.0, error.message
            )),
            ServiceError::Cancelled { .. } => Failure::Cancelled,
            ServiceError::Timeout { .. } => Failure::Timeout,
            ServiceError::TransportSend(error) => match http::http_failure(&error) {
                Some(HttpFailure::Unauthorized) => Failure::Unauthorized(format!(
                    "mcp server `{server}` answered 401 Unauthorized: log in with \
                     `wharf mcp login {server}`, or check its bearer_token_env_var and http_headers"
                )),
                Some(HttpFailure::AuthHook(message)) => Failure::Unauthorized(format!(
                    "{message} (log in again with `wharf mcp login {server}`)"
                )),
                Some(HttpFailure::Status(status)) => {
                    Failure::Protocol(format!("mcp server `{server}` answered HTTP {status}"))
                }
                Some(HttpFailure::Redirect(refused)) => Failure::Protocol(format!(
                    "mcp server `{server}`: {refused} (set `url` in [mcp_servers.{server}] \
                     to the final URL)"
                )),
                None => Failure::Disconnected(self.death_notice(&transport_detail(&error)).await),
            },
            ServiceError::TransportClosed => {
                Failure::Disconnected(self.death_notice("the connection closed").await)
            }
            other => Failure::Protocol(format!("mcp server `{server}`: {other}")),
        }
    }

    /// What to tell the caller about a server that stopped answering: how
    /// its process ended and the end of its stderr, or what broke.
    pub(crate) async fn death_notice(&self, detail: &str) -> String {
        let server = &self.server;
        let what = match &self.process {
            Some(process) => {
                let violation = process.violation();
                let (status, stderr) = if violation.is_some() {
                    (None, process.stderr_now())
                } else {
                    let status = process.wait_exit(DEATH_NOTICE_WAIT).await;
                    (status, process.stderr_tail(DEATH_NOTICE_WAIT / 4).await)
                };
                let mut what = match (violation, status) {
                    (Some(violation), _) => {
                        format!("mcp server `{server}` stopped answering: {violation}")
                    }
                    (None, Some(status)) => {
                        format!("mcp server `{server}` (pid {}) {status}", process.pid())
                    }
                    (None, None) => format!("mcp server `{server}` stopped answering: {detail}"),
                };
                if !stderr.is_empty() {
                    what.push_str("; its stderr ends with:\n");
                    what.push_str(&stderr);
                    what.push('\n');
                }
                what
            }
            None => {
                let url = self.url.as_deref().unwrap_or_default();
                let verdict = self.verdict.as_ref().and_then(|verdict| verdict.get());
                let detail = verdict.map_or(detail, String::as_str);
                format!("the connection to mcp server `{server}` ({url}) broke: {detail}")
            }
        };
        format!("{what}; the next call restarts it")
    }

    /// Ends the connection and the server's process group, waiting (a
    /// bounded time) until the process is reaped.
    pub(crate) async fn close(&self, limit: Duration) {
        self.service.cancellation_token().cancel();
        self.log.finish();
        if let Some(process) = &self.process {
            process.kill();
            let _ = process.wait_exit(limit).await;
        }
    }
}
