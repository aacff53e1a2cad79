//! A scripted model server on 127.0.0.1: it speaks the Responses API
//! (`POST /v1/responses`, server-sent events) and Chat Completions
//! (`POST /v1/chat/completions`, streamed chunks) from a queue of
//! [`Reply`]s, one per request, and records every request it receives.
//!
//! A [`Turn`] is what the model "says": reasoning, text, tool calls and
//! usage. The same turn is rendered in whichever protocol the request came
//! in, so one script drives both clients:
//!
//! ```no_run
//! use serde_json::json;
//! use wharf_tests::model_server::{Call, ModelServer, Reply, Turn};
//!
//! let server = ModelServer::start([
//!     Reply::rate_limited(1),
//!     Turn::function_call("exec_command", json!({"cmd": "ls"})).into(),
//!     Turn::calls([Call::function("a", json!({})), Call::custom("apply_patch", "*** Begin Patch")])
//!         .cut_mid_item(),
//!     Turn::text("done").with_reasoning("thinking").with_usage(120, 7).into(),
//! ])?;
//! // point a client at server.base_url() ("http://127.0.0.1:PORT/v1"), run,
//! // then: server.requests()[1].body["input"] …
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! Each reply is one of: an HTTP error ([`Reply::error`], with headers such
//! as `Retry-After`), a complete stream (`Turn` into `Reply`), a stream cut
//! in the middle of its last item ([`Turn::cut_mid_item`]: the connection
//! closes, no final chunk), or a stream that goes silent there for a while
//! ([`Turn::idle_mid_item`]). A request that finds the queue empty gets a
//! 400 saying so. A `GET` (the models manager's `/models`) takes the next
//! reply too: script it with a `Reply::Status` (200 with a body and an
//! `ETag`, or 304). Every HTTP connection carries one request (`Connection:
//! close`).
//!
//! The Responses API's WebSocket transport is served on the same port
//! (`model_server/websocket.rs`): a `GET` with `Upgrade: websocket` is
//! accepted — unless the next reply is a [`Reply::reject_upgrade`], which
//! answers it with an HTTP status instead — and every `response.create`
//! frame on the connection takes the next reply, recorded like a request
//! (its `websocket` is the connection's number). A turn is sent as one JSON
//! event per text frame; an error reply as an `error` event with the
//! status; a cut or idle stream cuts or idles the connection. Each streamed
//! turn starts with a ping; [`ModelServer::wait_for_pongs`] sees the
//! answers.
//! [`ModelServer::websocket_connections`] counts the upgrades accepted.
//!
//! A request whose body says `"stream": false` gets its turn as one JSON
//! object (`model_server/unstreamed.rs`): a `chat.completion`, or the
//! Responses API's `response`. [`ModelServer::start_with`] adds
//! [`Quirks`] of real OpenAI-compatible servers (`model_server/quirks.rs`):
//! a 500 on an assistant message whose `content` is `null`, a 404 on
//! `/responses`, an empty `200` stream when tools are offered, no usage.
//! [`Reply::empty_stream`] scripts an empty stream for one request, and
//! [`Reply::openai_model_list`] a `/models` list in OpenAI's form.

use std::collections::VecDeque;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

mod quirks;
mod render;
mod unstreamed;
mod websocket;

use quirks::QuirkAnswer;
pub use quirks::Quirks;
use render::{chat_usage, render_chat, render_responses, responses_events};

/// The scripted server. Dropping it stops accepting; streams still going
/// idle end early.
pub struct ModelServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

#[derive(Default)]
struct Shared {
    replies: Mutex<VecDeque<Reply>>,
    requests: Mutex<Vec<RecordedRequest>>,
    /// The answers to `GET …/models` (the models manager's refresh), kept
    /// apart from the turns' so that a session's refresh never takes a
    /// turn's reply; when none is left, a 404.
    model_lists: Mutex<VecDeque<Reply>>,
    /// The `GET …/models` requests, apart from `requests` for the same
    /// reason.
    model_list_requests: Mutex<Vec<RecordedRequest>>,
    /// Signalled with `requests` held: a request arrived, or the server
    /// is stopping.
    changed: Condvar,
    stop: AtomicBool,
    /// For call ids the script left out: `call_1`, `call_2`, …
    next_call: AtomicU64,
    /// WebSocket upgrades accepted so far.
    websocket_connections: AtomicUsize,
    /// Pongs received, each the answer to the ping sent before a turn.
    websocket_pongs: AtomicUsize,
    quirks: Quirks,
}

/// A request the server received.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub method: String,
    /// `/v1/responses`, `/v1/chat/completions?api-version=…`
    pub path: String,
    /// Names in lowercase.
    pub headers: Vec<(String, String)>,
    /// The body as JSON (`Null` when it is not JSON); for a WebSocket
    /// request, its frame.
    pub body: Value,
    /// The WebSocket connection (1, 2, … in the order they were accepted)
    /// that carried the request; `None` over plain HTTP. The method, path
    /// and headers are then those of the connection's upgrade.
    pub websocket: Option<usize>,
}

impl RecordedRequest {
    /// The value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// What the server answers one request with.
#[derive(Debug, Clone)]
pub enum Reply {
    /// An HTTP error: `status`, extra headers, a body.
    Status {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
    /// A `200` streaming `turn`, ended as `end` says.
    Stream { turn: Turn, end: StreamEnd },
    /// A `200` streaming these SSE frames as they are, whatever the
    /// request's protocol (see [`Reply::events`]); over a WebSocket, their
    /// `data:` as text frames.
    Frames(Vec<String>),
    /// The answer to a WebSocket upgrade when this reply is next in line:
    /// the upgrade is refused with `status` and `body` (a server that does
    /// not speak WebSocket answers 404). Any other request takes it as a
    /// [`Reply::Status`].
    RejectUpgrade { status: u16, body: String },
}

/// How a streamed reply ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamEnd {
    /// Every event, then the end of the body.
    Complete,
    /// Every event, then the connection closes: over a WebSocket, one kept
    /// for the next request is closed (a close frame); over HTTP this is
    /// `Complete`, as every HTTP connection closes.
    CompleteThenClose,
    /// The events up to the middle of the last item, then the connection
    /// closes without ending the body.
    CutMidItem,
    /// The events up to the middle of the last item, then silence for the
    /// duration, then the connection closes.
    IdleMidItem(Duration),
}

impl Reply {
    /// An error answer with the APIs' JSON error body
    /// (`{"error": {"message": …, "type": …, "code": …}}`).
    pub fn error(status: u16, message: &str) -> Reply {
        Reply::Status {
            status,
            headers: vec![("Content-Type".to_owned(), "application/json".to_owned())],
            body: error_body(status, message),
        }
    }

    /// Refuses the next WebSocket upgrade with `status` and the APIs' JSON
    /// error body.
    pub fn reject_upgrade(status: u16, message: &str) -> Reply {
        Reply::RejectUpgrade {
            status,
            body: error_body(status, message),
        }
    }

    /// `429` with `Retry-After: seconds`.
    pub fn rate_limited(retry_after_seconds: u64) -> Reply {
        Reply::error(429, "Rate limit reached; please try again later.")
            .with_header("Retry-After", &retry_after_seconds.to_string())
    }

    /// A stream of hand-written events, each a JSON object: sent as
    /// `event: TYPE` + `data: JSON` when it has a `type` (the Responses
    /// API's form), else as `data: JSON` (Chat's). A string is sent as
    /// `data: STRING` (`"[DONE]"`).
    pub fn events(events: impl IntoIterator<Item = Value>) -> Reply {
        Reply::Frames(
            events
                .into_iter()
                .map(
                    |event| match (&event, event.get("type").and_then(Value::as_str)) {
                        (Value::String(text), _) => format!("data: {text}\n\n"),
                        (_, Some(kind)) => format!("event: {kind}\ndata: {event}\n\n"),
                        (_, None) => format!("data: {event}\n\n"),
                    },
                )
                .collect(),
        )
    }

    /// `200` with the headers of a stream, then the end of the body: no
    /// event at all.
    pub fn empty_stream() -> Reply {
        Reply::Frames(Vec::new())
    }

    /// A `200` answer to `GET …/models` in OpenAI's form (`{"object":
    /// "list", "data": [{"id": …}…]}`), as OpenAI-compatible servers list
    /// what they serve.
    pub fn openai_model_list(ids: &[&str]) -> Reply {
        let data: Vec<Value> = ids
            .iter()
            .map(|id| json!({ "id": id, "object": "model", "created": 0, "owned_by": "local" }))
            .collect();
        Reply::Status {
            status: 200,
            headers: vec![("Content-Type".to_owned(), "application/json".to_owned())],
            body: json!({ "object": "list", "data": data }).to_string(),
        }
    }

    /// Adds a header to an error answer (a stream ignores it).
    pub fn with_header(mut self, name: &str, value: &str) -> Reply {
        if let Reply::Status { headers, .. } = &mut self {
            headers.push((name.to_owned(), value.to_owned()));
        }
        self
    }
}

/// The APIs' JSON error body.
fn error_body(status: u16, message: &str) -> String {
    let kind = match status {
        429 => "rate_limit_exceeded",
        500..=599 => "server_error",
        _ => "invalid_request_error",
    };
    json!({ "error": { "message": message, "type": kind, "code": kind } }).to_string()
}

impl From<Turn> for Reply {
    fn from(turn: Turn) -> Reply {
        Reply::Stream {
            turn,
            end: StreamEnd::Complete,
        }
    }
}

/// One tool call in a [`Turn`].
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// `None`: the server numbers it (`call_1`, `call_2`, … per server).
    pub id: Option<String>,
    pub name: String,
    pub kind: CallKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CallKind {
    /// A function call; the arguments as JSON.
    Function(Value),
    /// A freeform (custom) tool call; the raw input. Over Chat it is sent
    /// as a function call with `{"input": …}`.
    Custom(String),
}

impl Call {
    pub fn function(name: &str, arguments: Value) -> Call {
        Call {
            id: None,
            name: name.to_owned(),
            kind: CallKind::Function(arguments),
        }
    }

    pub fn custom(name: &str, input: &str) -> Call {
        Call {
            id: None,
            name: name.to_owned(),
            kind: CallKind::Custom(input.to_owned()),
        }
    }

    pub fn with_id(mut self, id: &str) -> Call {
        self.id = Some(id.to_owned());
        self
    }
}

/// One item a turn outputs, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum TurnItem {
    Reasoning(String),
    Text(String),
    Call(Call),
}

/// Token counts the turn reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TurnUsage {
    pub input_tokens: u64,
    pub cached_input_tokens: u64,
    pub output_tokens: u64,
    pub reasoning_output_tokens: u64,
}

/// What the model answers: its items in order, and usage (by default 100
/// input and 10 output tokens).
#[derive(Debug, Clone, PartialEq)]
pub struct Turn {
    pub items: Vec<TurnItem>,
    pub usage: TurnUsage,
}

impl Default for Turn {
    fn default() -> Turn {
        Turn {
            items: Vec::new(),
            usage: TurnUsage {
                input_tokens: 100,
                cached_input_tokens: 0,
                output_tokens: 10,
                reasoning_output_tokens: 0,
            },
        }
    }
}

impl Turn {
    /// A turn with no items yet.
    pub fn new() -> Turn {
        Turn::default()
    }

    /// An assistant message.
    pub fn text(text: &str) -> Turn {
        Turn::new().with_text(text)
    }

    /// One function call.
    pub fn function_call(name: &str, arguments: Value) -> Turn {
        Turn::new().with_call(Call::function(name, arguments))
    }

    /// One freeform tool call (`apply_patch` with the patch as input).
    pub fn custom_call(name: &str, input: &str) -> Turn {
        Turn::new().with_call(Call::custom(name, input))
    }

    /// Several calls in one response (parallel tool calls).
    pub fn calls(calls: impl IntoIterator<Item = Call>) -> Turn {
        calls.into_iter().fold(Turn::new(), Turn::with_call)
    }

    pub fn with_text(mut self, text: &str) -> Turn {
        self.items.push(TurnItem::Text(text.to_owned()));
        self
    }

    pub fn with_reasoning(mut self, summary: &str) -> Turn {
        self.items.push(TurnItem::Reasoning(summary.to_owned()));
        self
    }

    pub fn with_call(mut self, call: Call) -> Turn {
        self.items.push(TurnItem::Call(call));
        self
    }

    /// Input and output token counts (total = their sum).
    pub fn with_usage(mut self, input_tokens: u64, output_tokens: u64) -> Turn {
        self.usage.input_tokens = input_tokens;
        self.usage.output_tokens = output_tokens;
        self
    }

    /// All four counts.
    pub fn with_full_usage(mut self, usage: TurnUsage) -> Turn {
        self.usage = usage;
        self
    }

    /// This turn, cut off in the middle of its last item.
    pub fn cut_mid_item(self) -> Reply {
        Reply::Stream {
            turn: self,
            end: StreamEnd::CutMidItem,
        }
    }

    /// This turn, complete, then its connection closed.
    pub fn then_close(self) -> Reply {
        Reply::Stream {
            turn: self,
            end: StreamEnd::CompleteThenClose,
        }
    }

    /// This turn, going silent for `silence` in the middle of its last
    /// item.
    pub fn idle_mid_item(self, silence: Duration) -> Reply {
        Reply::Stream {
            turn: self,
            end: StreamEnd::IdleMidItem(silence),
        }
    }
}

impl ModelServer {
    /// Listens on 127.0.0.1 (a free port) and answers with `replies` in
    /// order.
    pub fn start(replies: impl IntoIterator<Item = Reply>) -> io::Result<ModelServer> {
        ModelServer::start_with(Quirks::default(), replies)
    }

    /// [`ModelServer::start`] for a server with `quirks`.
    pub fn start_with(
        quirks: Quirks,
        replies: impl IntoIterator<Item = Reply>,
    ) -> io::Result<ModelServer> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            replies: Mutex::new(replies.into_iter().collect()),
            quirks,
            ..Shared::default()
        });
        let accept = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("model-server".to_owned())
                .spawn(move || accept_loop(&listener, &shared))?
        };
        Ok(ModelServer {
            addr,
            shared,
            accept: Some(accept),
        })
    }

    /// `http://127.0.0.1:PORT/v1`: a provider's `base_url`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Queues another reply.
    pub fn push(&self, reply: impl Into<Reply>) {
        lock(&self.shared.replies).push_back(reply.into());
    }

    /// Replies not used yet.
    pub fn remaining(&self) -> usize {
        lock(&self.shared.replies).len()
    }

    /// Every request so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.requests).clone()
    }

    /// The bodies of every request so far.
    pub fn bodies(&self) -> Vec<Value> {
        lock(&self.shared.requests)
            .iter()
            .map(|request| request.body.clone())
            .collect()
    }

    /// Queues the answer to the next `GET …/models`.
    pub fn push_model_list(&self, reply: Reply) {
        lock(&self.shared.model_lists).push_back(reply);
    }

    /// The `GET …/models` requests so far.
    pub fn model_list_requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.model_list_requests).clone()
    }

    pub fn request_count(&self) -> usize {
        lock(&self.shared.requests).len()
    }

    /// WebSocket upgrades accepted so far (refused ones are not counted).
    pub fn websocket_connections(&self) -> usize {
        self.shared.websocket_connections.load(Ordering::SeqCst)
    }

    /// Waits (at most `limit`) until the clients have answered `count` of
    /// the pings sent before each streamed turn over a WebSocket; woken by
    /// each pong.
    pub fn wait_for_pongs(&self, count: usize, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        let mut requests = lock(&self.shared.requests);
        while self.shared.websocket_pongs.load(Ordering::SeqCst) < count {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            requests = self
                .shared
                .changed
                .wait_timeout(requests, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        true
    }

    /// Waits (at most `limit`) until `count` requests have arrived; woken
    /// by each arrival, not by a timer.
    pub fn wait_for_requests(&self, count: usize, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        let mut requests = lock(&self.shared.requests);
        while requests.len() < count {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            requests = self
                .shared
                .changed
                .wait_timeout(requests, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        true
    }
}

impl Drop for ModelServer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake streams going idle, then the blocking accept.
        {
            let _requests = lock(&self.shared.requests);
            self.shared.changed.notify_all();
        }
        let _ = TcpStream::connect(self.addr);
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

/// A poisoned lock only means another connection's thread panicked; the
/// data is still the script.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = stream else { continue };
        let shared = Arc::clone(shared);
        // A connection that fails only fails its own request.
        let _ = std::thread::Builder::new()
            .name("model-server-conn".to_owned())
            .spawn(move || {
                let _ = serve(stream, &shared);
            });
    }
}

fn serve(mut stream: TcpStream, shared: &Shared) -> io::Result<()> {
    let Some(request) = read_request(&stream)? else {
        return Ok(());
    };
    let upgrade = request
        .header("upgrade")
        .is_some_and(|value| value.eq_ignore_ascii_case("websocket"));
    if upgrade && request.method == "GET" {
        return websocket::serve(stream, request, shared);
    }
    let path = request
        .path
        .split('?')
        .next()
        .unwrap_or_default()
        .to_owned();
    if request.method == "GET" && path.ends_with("/models") {
        lock(&shared.model_list_requests).push(request);
        let reply = lock(&shared.model_lists).pop_front();
        return match reply {
            Some(Reply::Status {
                status,
                headers,
                body,
            }) => write_status(&mut stream, status, &headers, &body),
            _ => write_status(
                &mut stream,
                404,
                &[],
                &error_body(404, "this model server has no model list scripted"),
            ),
        };
    }
    let number = record(shared, request.clone());
    let wire = match (request.method.as_str(), path.as_str()) {
        ("POST", p) if p.ends_with("/responses") => Wire::Responses,
        ("POST", p) if p.ends_with("/chat/completions") => Wire::Chat,
        _ => {
            let body = json!({ "error": { "message": format!("no such endpoint: {} {}", request.method, request.path) } });
            return write_status(&mut stream, 404, &[], &body.to_string());
        }
    };
    match shared.quirks.answer(&wire, &request.body) {
        Some(QuirkAnswer::Status { status, body }) => {
            let headers = [("Content-Type".to_owned(), "application/json".to_owned())];
            return write_status(&mut stream, status, &headers, &body);
        }
        Some(QuirkAnswer::EmptyStream) => {
            let empty = Rendered {
                frames: Vec::new(),
                mid_item: 0,
            };
            return write_stream(&mut stream, &empty, StreamEnd::Complete, shared);
        }
        None => {}
    }
    let reply = lock(&shared.replies).pop_front();
    let Some(reply) = reply else {
        let message = format!("the model server has no scripted reply left for request {number}");
        return write_status(&mut stream, 400, &[], &error_body(400, &message));
    };
    match reply {
        Reply::Status {
            status,
            headers,
            body,
        } => write_status(&mut stream, status, &headers, &body),
        Reply::RejectUpgrade { status, body } => write_status(&mut stream, status, &[], &body),
        Reply::Frames(frames) => {
            let rendered = Rendered {
                mid_item: frames.len(),
                frames,
            };
            write_stream(&mut stream, &rendered, StreamEnd::Complete, shared)
        }
        Reply::Stream { turn, end } => {
            let model = request.body["model"].as_str().unwrap_or("model").to_owned();
            let ids = |call: &Call| call_id(shared, call);
            let usage = (!shared.quirks.no_usage).then_some(turn.usage);
            if request.body["stream"] == json!(false) {
                let whole = match wire {
                    Wire::Responses => unstreamed::response(&turn, number, usage, ids),
                    Wire::Chat => unstreamed::chat_completion(&turn, number, &model, usage, ids),
                };
                return unstreamed::write_json(&mut stream, &whole, end, shared);
            }
            let rendered = match wire {
                Wire::Responses => render_responses(&turn, number, usage, ids),
                Wire::Chat => render_chat(&turn, number, &model, usage, ids),
            };
            write_stream(&mut stream, &rendered, end, shared)
        }
    }
}

/// Adds `request` to the record and wakes whoever waits for it; returns
/// its number (from 1).
fn record(shared: &Shared, request: RecordedRequest) -> usize {
    let mut requests = lock(&shared.requests);
    requests.push(request);
    shared.changed.notify_all();
    requests.len()
}

/// The call's id, or the server's next `call_N`.
fn call_id(shared: &Shared, call: &Call) -> String {
    call.id.clone().unwrap_or_else(|| {
        format!(
            "call_{}",
            shared.next_call.fetch_add(1, Ordering::SeqCst) + 1
        )
    })
}

enum Wire {
    Responses,
    Chat,
}

fn read_request(stream: &TcpStream) -> io::Result<Option<RecordedRequest>> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let path = parts.next().unwrap_or_default().to_owned();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(None);
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    let length = headers
        .iter()
        .find(|(name, _)| name == "content-length")
        .and_then(|(_, value)| value.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
    Ok(Some(RecordedRequest {
        method,
        path,
        headers,
        body,
        websocket: None,
    }))
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

fn write_status(
    stream: &mut TcpStream,
    status: u16,
    headers: &[(String, String)],
    body: &str,
) -> io::Result<()> {
    let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    // One write: a client that reads the head of a refused WebSocket
    // upgrade takes what has arrived as the whole answer, so the body
    // must not trail behind in a second segment.
    head.push_str(body);
    stream.write_all(head.as_bytes())?;
    stream.flush()
}

/// The SSE frames of a turn, and after which frame its last item is half
/// sent.
struct Rendered {
    frames: Vec<String>,
    mid_item: usize,
}

fn write_stream(
    stream: &mut TcpStream,
    rendered: &Rendered,
    end: StreamEnd,
    shared: &Shared,
) -> io::Result<()> {
    stream.write_all(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n\
          Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n",
    )?;
    let count = match end {
        StreamEnd::Complete | StreamEnd::CompleteThenClose => rendered.frames.len(),
        StreamEnd::CutMidItem | StreamEnd::IdleMidItem(_) => rendered.mid_item + 1,
    };
    for frame in rendered.frames.iter().take(count) {
        write!(stream, "{:x}\r\n{frame}\r\n", frame.len())?;
        stream.flush()?;
    }
    match end {
        StreamEnd::Complete | StreamEnd::CompleteThenClose => {
            stream.write_all(b"0\r\n\r\n")?;
            stream.flush()
        }
        StreamEnd::CutMidItem => stream.shutdown(Shutdown::Both),
        StreamEnd::IdleMidItem(silence) => {
            stay_silent(shared, silence);
            stream.shutdown(Shutdown::Both)
        }
    }
}

/// Returns when `silence` is over or the server stops, whichever comes
/// first (woken by the stop, not by polling).
fn stay_silent(shared: &Shared, silence: Duration) {
    let until = Instant::now() + silence;
    let mut requests = lock(&shared.requests);
    while !shared.stop.load(Ordering::SeqCst) {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        requests = shared
            .changed
            .wait_timeout(requests, left)
            .unwrap_or_else(PoisonError::into_inner)
            .0;
    }
}
