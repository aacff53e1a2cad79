//! The WebSocket transport of the Responses API, as codex speaks it: `GET
//! {base_url}/responses` upgraded (`ws://`, `wss://`) with the provider's
//! headers, the key and `OpenAI-Beta: responses_websockets=…`; each request
//! is one text frame, the POST body with `"type": "response.create"`; the
//! answer is text frames, each one JSON event shaped like an SSE `data:`
//! payload, which the Responses decoder reads as it reads SSE.
//!
//! The point is the connection: kept open between requests, so a turn
//! skips the TCP and TLS handshakes. A request takes the idle connection (or
//! opens one when there is none, or another request holds it: one request
//! per connection at a time) and puts it back when its response completed.
//! A connection whose attempt failed, idled or was cancelled is dropped: its
//! response may still be arriving. A kept connection the server closed
//! meanwhile is noticed when the request finds it dead before any event,
//! and replaced without counting a retry.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

use super::ClientError;
use super::attempt::{
    Attempt, Decoder, Waited, deliver, error_chain, error_message, failed, retry_after,
    status_failure, wait, wait_until,
};
use super::sse::SseEvent;
use crate::protocol::{ModelError, ResponseEvent, ResponseItem, ResponseSender};

/// The beta the Responses API's WebSocket endpoint asks clients to name.
const OPENAI_BETA: &str = "responses_websockets=2026-02-06";
/// The `error.code` of a server that has too many sockets open for the
/// account: this one is dropped, and the request is retried on a new one.
const CONNECTION_LIMIT: &str = "websocket_connection_limit_reached";

type Connection = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The WebSocket side of one client: where it connects, with which TLS
/// settings, and the connection kept between requests.
pub(super) struct Socket {
    url: reqwest::Url,
    /// For `wss://`: rustls with the crypto provider and platform verifier
    /// reqwest uses, so the workspace has one TLS stack.
    tls: Option<Arc<rustls::ClientConfig>>,
    idle: Mutex<Option<Connection>>,
    /// The server answered an upgrade with a status that says it does not
    /// speak WebSocket: the client uses HTTP from then on.
    fell_back: AtomicBool,
}

/// How a WebSocket attempt ended.
pub(super) enum Outcome {
    Attempt(Attempt),
    /// The server answered the upgrade with this (a status and its message):
    /// it does not speak WebSocket.
    Unsupported(String),
}

impl From<Attempt> for Outcome {
    fn from(attempt: Attempt) -> Outcome {
        Outcome::Attempt(attempt)
    }
}

impl Socket {
    /// The socket for `url`, the HTTP endpoint (`…/responses?…`): its scheme
    /// becomes `ws` or `wss`, its path and query stay.
    pub(super) fn new(url: &reqwest::Url) -> Result<Socket, ClientError> {
        let url = websocket_url(url)?;
        let tls = match url.scheme() {
            "wss" => Some(tls_config()?),
            _ => None,
        };
        Ok(Socket {
            url,
            tls,
            idle: Mutex::new(None),
            fell_back: AtomicBool::new(false),
        })
    }

    pub(super) fn url(&self) -> &str {
        self.url.as_str()
    }

    pub(super) fn fell_back(&self) -> bool {
        self.fell_back.load(Ordering::SeqCst)
    }

    /// Turns the transport off for good; `true` the first time (the time to
    /// warn).
    pub(super) fn fall_back(&self) -> bool {
        !self.fell_back.swap(true, Ordering::SeqCst)
    }

    fn take_idle(&self) -> Option<Connection> {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }

    /// Keeps `connection` for the next request, unless another request's
    /// connection is kept already.
    fn put_back(&self, connection: Connection) {
        let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.is_none() {
            *idle = Some(connection);
        }
    }
}

/// `http(s)://…` as `ws(s)://…`.
pub(super) fn websocket_url(url: &reqwest::Url) -> Result<reqwest::Url, ClientError> {
    let scheme = match url.scheme() {
        "http" => "ws",
        "https" => "wss",
        other => {
            return Err(ClientError::Url {
                url: url.to_string(),
                message: format!(
                    "the WebSocket transport needs an http or https URL, not `{other}`"
                ),
            });
        }
    };
    let mut url = url.clone();
    // http → ws and https → wss are changes between special schemes, which
    // the URL standard allows.
    url.set_scheme(scheme).map_err(|()| ClientError::Url {
        url: url.to_string(),
        message: format!("cannot change the scheme to `{scheme}`"),
    })?;
    Ok(url)
}

/// rustls as reqwest sets it up: the process's default crypto provider if
/// one is installed, else aws-lc-rs; the platform's verifier; HTTP/1.1 by
/// ALPN, since the upgrade is an HTTP/1.1 request.
fn tls_config() -> Result<Arc<rustls::ClientConfig>, ClientError> {
    use rustls_platform_verifier::BuilderVerifierExt;
    let provider = rustls::crypto::CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
    let setup = |err: rustls::Error| ClientError::Setup(format!("cannot set up TLS: {err}"));
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(setup)?
        .with_platform_verifier()
        .map_err(setup)?
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The text frame of a request: the POST body (`body`, the JSON of
/// `responses_request`) with `"type": "response.create"`. Its `"stream":
/// true` stays: a WebSocket response always streams, and sending the one
/// body both transports share keeps them from drifting apart.
pub(super) fn request_frame(body: &Value) -> Result<String, serde_json::Error> {
    let mut frame = serde_json::Map::new();
    frame.insert("type".to_owned(), Value::from("response.create"));
    if let Value::Object(fields) = body {
        frame.extend(
            fields
                .iter()
                .map(|(key, value)| (key.clone(), value.clone())),
        );
    }
    serde_json::to_string(&frame)
}

/// Sends `frame` and streams the response, on the kept connection or a new
/// one.
pub(super) async fn attempt(
    headers: &HeaderMap,
    idle: Duration,
    socket: &Socket,
    frame: &str,
    mut decoder: Box<dyn Decoder>,
    tx: &ResponseSender,
) -> Outcome {
    if let Some(connection) = socket.take_idle() {
        match exchange(idle, socket, connection, frame, &mut decoder, tx).await {
            Exchange::Ended(attempt) => return attempt.into(),
            // The server closed it while it was kept: try a fresh one, as if
            // it had not been kept.
            Exchange::Stale(_) => {}
        }
    }
    let connection = match connect(headers, idle, socket, tx).await {
        Ok(connection) => connection,
        Err(outcome) => return outcome,
    };
    match exchange(idle, socket, connection, frame, &mut decoder, tx).await {
        Exchange::Ended(attempt) => attempt.into(),
        Exchange::Stale(error) => Attempt::RetryStream(error).into(),
    }
}

/// Opens a connection; the upgrade's answer decides what a failure means.
async fn connect(
    headers: &HeaderMap,
    idle: Duration,
    socket: &Socket,
    tx: &ResponseSender,
) -> Result<Connection, Outcome> {
    let request = handshake_request(socket, headers)
        .map_err(|message| Outcome::Attempt(Attempt::Fatal(ModelError::Connect(message))))?;
    let connector = match &socket.tls {
        Some(tls) => Connector::Rustls(Arc::clone(tls)),
        None => Connector::Plain,
    };
    let connecting =
        tokio_tungstenite::connect_async_tls_with_config(request, None, true, Some(connector));
    match wait(tx, idle, connecting).await {
        Waited::Cancelled => Err(Attempt::Cancelled.into()),
        Waited::Idle => Err(Attempt::RetryStream(ModelError::Idle(idle)).into()),
        Waited::Done(Ok((connection, _))) => Ok(connection),
        Waited::Done(Err(tungstenite::Error::Http(response))) => {
            let status = response.status();
            let body = response
                .body()
                .as_deref()
                .map(String::from_utf8_lossy)
                .unwrap_or_default();
            let code = status.as_u16();
            if code == 401 || code == 403 || code == 429 || status.is_server_error() {
                Err(status_failure(status, &body, retry_after(response.headers())).into())
            } else {
                Err(Outcome::Unsupported(format!(
                    "{status}: {}",
                    error_message(&body, status)
                )))
            }
        }
        Waited::Done(Err(err)) => Err(Attempt::RetryRequest {
            status: None,
            message: error_chain(&err),
            retry_after: None,
        }
        .into()),
    }
}

/// The upgrade request: the URL, the client's headers (the provider's and
/// the key), the beta and the user agent the HTTP client sends.
fn handshake_request(
    socket: &Socket,
    headers: &HeaderMap,
) -> Result<tungstenite::handshake::client::Request, String> {
    let mut request = socket
        .url
        .as_str()
        .into_client_request()
        .map_err(|err| format!("cannot make a WebSocket request for {}: {err}", socket.url))?;
    let target = request.headers_mut();
    for (name, value) in headers {
        target.insert(name, value.clone());
    }
    target.insert(
        HeaderName::from_static("openai-beta"),
        HeaderValue::from_static(OPENAI_BETA),
    );
    target.insert(
        reqwest::header::USER_AGENT,
        HeaderValue::from_static(concat!("wharf/", env!("CARGO_PKG_VERSION"))),
    );
    Ok(request)
}

/// How a request on one connection ended.
enum Exchange {
    Ended(Attempt),
    /// The connection was dead before the server said anything.
    Stale(ModelError),
}

/// Sends `frame` on `connection` and reads the response; puts the connection
/// back when the response completed.
async fn exchange(
    idle: Duration,
    socket: &Socket,
    mut connection: Connection,
    frame: &str,
    decoder: &mut Box<dyn Decoder>,
    tx: &ResponseSender,
) -> Exchange {
    match wait(tx, idle, connection.send(Message::text(frame))).await {
        Waited::Cancelled => return Exchange::Ended(Attempt::Cancelled),
        Waited::Idle => return Exchange::Ended(Attempt::RetryStream(ModelError::Idle(idle))),
        Waited::Done(Err(err)) => return Exchange::Stale(dropped(&err)),
        Waited::Done(Ok(())) => {}
    }
    let mut created = false;
    let mut items = Vec::new();
    // Only events count as progress: a server that pings but says nothing
    // is as idle as a silent one.
    let mut until = Instant::now() + idle;
    loop {
        let message = match wait_until(tx, until, connection.next()).await {
            Waited::Cancelled => return Exchange::Ended(Attempt::Cancelled),
            Waited::Idle => return Exchange::Ended(Attempt::RetryStream(ModelError::Idle(idle))),
            Waited::Done(Some(Ok(message))) => message,
            Waited::Done(Some(Err(err))) if !created => return Exchange::Stale(dropped(&err)),
            Waited::Done(Some(Err(err))) => {
                return Exchange::Ended(Attempt::RetryStream(dropped(&err)));
            }
            Waited::Done(None) => return closed(created, decoder, &mut items, tx),
        };
        let text = match message {
            Message::Text(text) => text.as_str().to_owned(),
            Message::Binary(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Message::Close(_) => return closed(created, decoder, &mut items, tx),
            // tungstenite answers pings itself as it reads.
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => continue,
        };
        until = Instant::now() + idle;
        let event = SseEvent {
            event: String::new(),
            data: text,
        };
        if let Some(attempt) = error_event(&event.data) {
            return Exchange::Ended(attempt);
        }
        if !created {
            created = true;
            if !tx.send(Ok(ResponseEvent::Created)) {
                return Exchange::Ended(Attempt::Cancelled);
            }
        }
        let steps = match decoder.event(&event) {
            Ok(steps) => steps,
            Err(failure) => return Exchange::Ended(failed(failure)),
        };
        match deliver(steps, &mut items, tx) {
            None => {}
            Some(Attempt::Done) => {
                socket.put_back(connection);
                return Exchange::Ended(Attempt::Done);
            }
            Some(end) => return Exchange::Ended(end),
        }
    }
}

/// The server closed the connection: whatever the decoder makes of the end,
/// which for the Responses API is a response that did not complete.
fn closed(
    created: bool,
    decoder: &mut Box<dyn Decoder>,
    items: &mut Vec<ResponseItem>,
    tx: &ResponseSender,
) -> Exchange {
    let error = ModelError::Dropped("the server closed the WebSocket".to_owned());
    if !created {
        return Exchange::Stale(error);
    }
    let steps = match decoder.end() {
        Ok(steps) => steps,
        Err(failure) => return Exchange::Ended(failed(failure)),
    };
    Exchange::Ended(deliver(steps, items, tx).unwrap_or(Attempt::RetryStream(error)))
}

fn dropped(error: &tungstenite::Error) -> ModelError {
    ModelError::Dropped(error_chain(error))
}

/// An `error` event that carries an HTTP status (`{"type": "error",
/// "status": 429, "error": {…}}`) means what that status means to the HTTP
/// transport; a full connection is dropped and the request retried. Other
/// `error` events are the decoder's.
pub(super) fn error_event(data: &str) -> Option<Attempt> {
    // Most events are deltas: skip parsing those twice.
    if !data.contains("\"error\"") {
        return None;
    }
    let event: Value = serde_json::from_str(data).ok()?;
    if event.get("type").and_then(Value::as_str) != Some("error") {
        return None;
    }
    let code = event.pointer("/error/code").and_then(Value::as_str);
    let status = event
        .get("status")
        .and_then(Value::as_u64)
        .and_then(|status| u16::try_from(status).ok())
        .and_then(|status| reqwest::StatusCode::from_u16(status).ok());
    if code == Some(CONNECTION_LIMIT) {
        let status = status.unwrap_or(reqwest::StatusCode::TOO_MANY_REQUESTS);
        return Some(Attempt::RetryRequest {
            status: Some(status.as_u16()),
            message: error_message(data, status),
            retry_after: None,
        });
    }
    let status = status?;
    let headers: HeaderMap = event
        .get("headers")
        .and_then(Value::as_object)
        .map(|headers| {
            headers
                .iter()
                .filter_map(|(name, value)| {
                    let value = match value {
                        Value::String(text) => text.clone(),
                        other => other.to_string(),
                    };
                    Some((
                        HeaderName::from_bytes(name.as_bytes()).ok()?,
                        HeaderValue::from_str(&value).ok()?,
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    Some(status_failure(status, data, retry_after(&headers)))
}
