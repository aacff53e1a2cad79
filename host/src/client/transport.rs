//! Sending a request and streaming its answer, with the retries, the idle
//! timeout and the cancellation every wire API and both transports share.
//! What the events *mean* is the [`Decoder`]'s business (`responses.rs`,
//! `chat.rs`); how one attempt reaches the server is [`http_attempt`]'s
//! (POST + server-sent events) or `websocket.rs`'s (a kept-open socket), and
//! both plug into the one retry loop, [`run`].

use std::hash::{BuildHasher, Hasher};
use std::pin::pin;
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use reqwest::header::{self, HeaderMap, HeaderName, HeaderValue};
use tokio::runtime::Runtime;

use super::sse::{SseEvent, SseParser};
use super::websocket::{self, Socket};
use super::{ClientConfig, ClientError, Transport};
use crate::model::{
    ModelError, ResponseEvent, ResponseItem, ResponseSender, ResponseStream, Usage,
};
use crate::models::FetchResult;

/// The longest `Retry-After` honored: a provider asking for more gets
/// this, so a bad header cannot hang a turn for hours.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(120);
/// How often a wait looks at the cancel flag.
const CANCEL_POLL: Duration = Duration::from_millis(50);
/// How much of an error body is kept in a message.
const MAX_ERROR_BODY: usize = 2000;

/// What one event of the stream means to the transport.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Step {
    /// Pass on now (a delta).
    Forward(ResponseEvent),
    /// A completed item: held until the response completes.
    Item(ResponseItem),
    /// The response is complete.
    Completed {
        response_id: String,
        usage: Option<Usage>,
    },
}

/// A stream that cannot go on.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum StreamFailure {
    /// Start the request again (counts against `stream_max_retries`); the
    /// error is reported when no retry is left.
    Retry(ModelError),
    /// Give up now.
    Fatal(ModelError),
}

/// The meaning of one wire API's events, for one attempt.
pub(crate) trait Decoder: Send {
    fn event(&mut self, event: &SseEvent) -> Result<Vec<Step>, StreamFailure>;
    /// The body ended without a transport error.
    fn end(&mut self) -> Result<Vec<Step>, StreamFailure>;
}

/// A runtime, a connection pool and the request settings of one client.
pub(super) struct Http {
    runtime: Option<Runtime>,
    shared: Arc<Shared>,
}

pub(super) struct Shared {
    client: reqwest::Client,
    url: reqwest::Url,
    /// The provider's headers and the key.
    pub(super) headers: HeaderMap,
    pub(super) config: ClientConfig,
    /// The WebSocket transport, when the client was built for it.
    websocket: Option<Socket>,
}

/// One request in the forms the transports send: the JSON body of a POST,
/// and the text frame of a WebSocket (`None` when the client has none).
struct Payload {
    body: Vec<u8>,
    frame: Option<String>,
}

impl std::fmt::Debug for Http {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http")
            .field("url", &self.shared.url.as_str())
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

impl Drop for Http {
    fn drop(&mut self) {
        // Streams still running end with a closed channel; nothing waits.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl Http {
    /// A client of `endpoint` under the configured `base_url`, over
    /// `transport`.
    pub(super) fn new(
        config: ClientConfig,
        endpoint: &str,
        transport: Transport,
    ) -> Result<Http, ClientError> {
        let url = config.url(endpoint)?;
        let websocket = match transport {
            Transport::Http => None,
            Transport::WebSocket => Some(Socket::new(&url)?),
        };
        let mut headers = HeaderMap::new();
        for (name, value) in &config.headers {
            let header_error = |message: String| ClientError::Header {
                name: name.clone(),
                message,
            };
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|err| header_error(err.to_string()))?;
            let value =
                HeaderValue::from_str(value).map_err(|err| header_error(err.to_string()))?;
            headers.insert(name, value);
        }
        if let Some(key) = &config.api_key {
            let mut value = HeaderValue::from_str(&format!("Bearer {key}")).map_err(|_| {
                ClientError::Header {
                    name: "Authorization".to_owned(),
                    message: "the API key has characters a header cannot carry".to_owned(),
                }
            })?;
            value.set_sensitive(true);
            headers.insert(header::AUTHORIZATION, value);
        }
        let client = reqwest::Client::builder()
            .user_agent(concat!("wharf/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|err| ClientError::Setup(error_chain(&err)))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("wharf-model-http")
            .enable_all()
            .build()
            .map_err(|err| ClientError::Setup(format!("cannot start a runtime: {err}")))?;
        Ok(Http {
            runtime: Some(runtime),
            shared: Arc::new(Shared {
                client,
                url,
                headers,
                config,
                websocket,
            }),
        })
    }

    /// Starts streaming `body`; `decoder` makes a fresh decoder per attempt.
    pub(super) fn stream(
        &self,
        body: serde_json::Value,
        decoder: impl Fn() -> Box<dyn Decoder> + Send + Sync + 'static,
    ) -> ResponseStream {
        let (tx, stream) = ResponseStream::channel();
        let frame = self
            .shared
            .websocket
            .as_ref()
            .map(|_| websocket::request_frame(&body));
        let payload = match (serde_json::to_vec(&body), frame.transpose()) {
            (Ok(body), Ok(frame)) => Payload { body, frame },
            (Err(err), _) | (_, Err(err)) => {
                tx.send(Err(ModelError::Protocol(format!(
                    "cannot encode the request: {err}"
                ))));
                return stream;
            }
        };
        match &self.runtime {
            Some(runtime) => {
                runtime.spawn(run(Arc::clone(&self.shared), payload, decoder, tx));
            }
            None => {
                tx.send(Err(ModelError::Connect(
                    "the client is shut down".to_owned(),
                )));
            }
        }
        stream
    }

    /// `GET url` with the client's headers, `If-None-Match: etag` when
    /// given; for the models manager.
    pub(super) fn fetch(&self, url: &str, etag: Option<&str>) -> Result<FetchResult, String> {
        let Some(runtime) = &self.runtime else {
            return Err("the client is shut down".to_owned());
        };
        let mut request = self
            .shared
            .client
            .get(url)
            .headers(self.shared.headers.clone())
            .timeout(self.shared.config.stream_idle_timeout);
        if let Some(etag) = etag {
            request = request.header(header::IF_NONE_MATCH, etag);
        }
        let (tx, rx) = mpsc::channel();
        runtime.spawn(async move {
            let result = async {
                let response = request.send().await.map_err(|err| error_chain(&err))?;
                let status = response.status();
                if status == reqwest::StatusCode::NOT_MODIFIED {
                    return Ok(FetchResult::NotModified);
                }
                let etag = response
                    .headers()
                    .get(header::ETAG)
                    .and_then(|value| value.to_str().ok())
                    .map(str::to_owned);
                let body = response.text().await.map_err(|err| error_chain(&err))?;
                if !status.is_success() {
                    return Err(format!("{status}: {}", error_message(&body, status)));
                }
                Ok(FetchResult::Fresh { body, etag })
            }
            .await;
            // The caller waits on `rx`; if it is gone there is no one to tell.
            let _ = tx.send(result);
        });
        rx.recv()
            .unwrap_or_else(|_| Err("the request was abandoned".to_owned()))
    }
}

/// How one attempt ended.
#[derive(Debug, PartialEq)]
pub(super) enum Attempt {
    Done,
    Cancelled,
    Fatal(ModelError),
    /// No usable answer: a 429/5xx status (`Some`) or no connection.
    RetryRequest {
        status: Option<u16>,
        message: String,
        retry_after: Option<Duration>,
    },
    /// The answer's stream failed before completing.
    RetryStream(ModelError),
}

/// Sends the request until a response completes, the retries run out, or
/// the consumer goes away.
async fn run(
    shared: Arc<Shared>,
    payload: Payload,
    decoder: impl Fn() -> Box<dyn Decoder> + Sync,
    tx: ResponseSender,
) {
    let config = &shared.config;
    let mut requests = 0u32;
    let mut request_retries = 0u32;
    let mut stream_retries = 0u32;
    loop {
        requests += 1;
        let wait = match attempt(&shared, &payload, &decoder, &tx).await {
            Attempt::Done | Attempt::Cancelled => return,
            Attempt::Fatal(error) => {
                tx.send(Err(error));
                return;
            }
            Attempt::RetryRequest {
                status,
                message,
                retry_after,
            } => {
                if request_retries >= config.request_max_retries {
                    tx.send(Err(match status {
                        Some(status) => ModelError::RetriesExhausted {
                            status,
                            attempts: requests,
                            message,
                        },
                        None => ModelError::Connect(message),
                    }));
                    return;
                }
                request_retries += 1;
                backoff(config, request_retries, retry_after)
            }
            Attempt::RetryStream(error) => {
                if stream_retries >= config.stream_max_retries {
                    tx.send(Err(error));
                    return;
                }
                stream_retries += 1;
                backoff(config, stream_retries, None)
            }
        };
        if !sleep(wait, &tx).await {
            return;
        }
    }
}

/// One attempt over the client's transport: the WebSocket while the server
/// speaks it, HTTP + SSE otherwise. A server that refuses the upgrade is
/// not asked again; the same attempt goes on over HTTP, after a warning the
/// first time.
async fn attempt(
    shared: &Shared,
    payload: &Payload,
    decoder: &(dyn Fn() -> Box<dyn Decoder> + Sync),
    tx: &ResponseSender,
) -> Attempt {
    if let (Some(socket), Some(frame)) = (&shared.websocket, &payload.frame)
        && !socket.fell_back()
    {
        match websocket::attempt(shared, socket, frame, decoder(), tx).await {
            websocket::Outcome::Attempt(attempt) => return attempt,
            websocket::Outcome::Unsupported(reason) => {
                if socket.fall_back() {
                    let message = format!(
                        "the provider does not take WebSocket connections at {} ({reason}); \
                         using HTTP for the rest of the session",
                        socket.url()
                    );
                    if !tx.send(Ok(ResponseEvent::Warning { message })) {
                        return Attempt::Cancelled;
                    }
                }
            }
        }
    }
    http_attempt(shared, payload.body.clone(), decoder(), tx).await
}

/// One POST, its answer streamed as server-sent events.
async fn http_attempt(
    shared: &Shared,
    body: Vec<u8>,
    mut decoder: Box<dyn Decoder>,
    tx: &ResponseSender,
) -> Attempt {
    let idle = shared.config.stream_idle_timeout;
    let request = shared
        .client
        .post(shared.url.clone())
        .headers(shared.headers.clone())
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT, "text/event-stream")
        .body(body);
    let mut response = match wait(tx, idle, request.send()).await {
        Waited::Cancelled => return Attempt::Cancelled,
        Waited::Idle => return Attempt::RetryStream(ModelError::Idle(idle)),
        Waited::Done(Err(err)) => {
            return Attempt::RetryRequest {
                status: None,
                message: error_chain(&err),
                retry_after: None,
            };
        }
        Waited::Done(Ok(response)) => response,
    };
    let status = response.status();
    if !status.is_success() {
        let retry_after = retry_after(response.headers());
        let body = match wait(tx, idle, response.text()).await {
            Waited::Cancelled => return Attempt::Cancelled,
            Waited::Done(Ok(body)) => body,
            Waited::Idle | Waited::Done(Err(_)) => String::new(),
        };
        return status_failure(status, &body, retry_after);
    }
    if !tx.send(Ok(ResponseEvent::Created)) {
        return Attempt::Cancelled;
    }
    let mut parser = SseParser::new();
    let mut items = Vec::new();
    loop {
        let chunk = match wait(tx, idle, response.chunk()).await {
            Waited::Cancelled => return Attempt::Cancelled,
            Waited::Idle => return Attempt::RetryStream(ModelError::Idle(idle)),
            Waited::Done(Err(err)) => {
                return Attempt::RetryStream(ModelError::Dropped(error_chain(&err)));
            }
            Waited::Done(Ok(chunk)) => chunk,
        };
        let Some(bytes) = chunk else {
            // The body ended: a last event without its blank line, then
            // whatever the decoder makes of the end.
            let mut steps = Vec::new();
            if let Some(event) = parser.finish() {
                match decoder.event(&event) {
                    Ok(more) => steps.extend(more),
                    Err(failure) => return failed(failure),
                }
            }
            match decoder.end() {
                Ok(more) => steps.extend(more),
                Err(failure) => return failed(failure),
            }
            return deliver(steps, &mut items, tx).unwrap_or_else(|| {
                Attempt::RetryStream(ModelError::Dropped(
                    "the stream ended before the response completed".to_owned(),
                ))
            });
        };
        for event in parser.push(&bytes) {
            let steps = match decoder.event(&event) {
                Ok(steps) => steps,
                Err(failure) => return failed(failure),
            };
            if let Some(end) = deliver(steps, &mut items, tx) {
                return end;
            }
        }
    }
}

/// Passes deltas on and holds items; at the completion, sends the items and
/// `Completed`. `Some` when the attempt is over.
pub(super) fn deliver(
    steps: Vec<Step>,
    items: &mut Vec<ResponseItem>,
    tx: &ResponseSender,
) -> Option<Attempt> {
    for step in steps {
        match step {
            Step::Forward(event) => {
                if !tx.send(Ok(event)) {
                    return Some(Attempt::Cancelled);
                }
            }
            Step::Item(item) => items.push(item),
            Step::Completed { response_id, usage } => {
                for item in items.drain(..) {
                    if !tx.send(Ok(ResponseEvent::OutputItemDone { item })) {
                        return Some(Attempt::Cancelled);
                    }
                }
                tx.send(Ok(ResponseEvent::Completed { response_id, usage }));
                return Some(Attempt::Done);
            }
        }
    }
    None
}

pub(super) fn failed(failure: StreamFailure) -> Attempt {
    match failure {
        StreamFailure::Retry(error) => Attempt::RetryStream(error),
        StreamFailure::Fatal(error) => Attempt::Fatal(error),
    }
}

/// A non-2xx answer (or a WebSocket `error` event carrying a status).
pub(super) fn status_failure(
    status: reqwest::StatusCode,
    body: &str,
    retry_after: Option<Duration>,
) -> Attempt {
    let message = error_message(body, status);
    let code = status.as_u16();
    if code == 401 || code == 403 {
        Attempt::Fatal(ModelError::Unauthorized {
            status: code,
            message,
        })
    } else if code == 429 || status.is_server_error() {
        Attempt::RetryRequest {
            status: Some(code),
            message,
            retry_after,
        }
    } else {
        Attempt::Fatal(ModelError::Http {
            status: code,
            message,
        })
    }
}

/// The provider's message: `error.message` of a JSON body, else the body
/// itself (shortened), else the status's name.
pub(super) fn error_message(body: &str, status: reqwest::StatusCode) -> String {
    let parsed: Option<serde_json::Value> = serde_json::from_str(body).ok();
    let message = parsed.as_ref().and_then(|json| {
        let error = json.get("error")?;
        error
            .get("message")
            .and_then(serde_json::Value::as_str)
            .or_else(|| error.as_str())
            .map(str::to_owned)
    });
    let message = message.unwrap_or_else(|| body.trim().to_owned());
    if message.is_empty() {
        return status.canonical_reason().unwrap_or("no message").to_owned();
    }
    match message.char_indices().nth(MAX_ERROR_BODY) {
        Some((cut, _)) => format!("{}…", &message[..cut]),
        None => message,
    }
}

/// `retry-after-ms` (OpenAI's) or `Retry-After` in seconds (a fraction is
/// accepted); an HTTP date is not, and falls back to the backoff.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let number = |name: &str| -> Option<f64> {
        let value: f64 = headers.get(name)?.to_str().ok()?.trim().parse().ok()?;
        (value.is_finite() && value >= 0.0).then_some(value)
    };
    let delay = number("retry-after-ms")
        .map(|ms| ms / 1000.0)
        .or_else(|| number("retry-after"))?;
    Some(Duration::from_secs_f64(
        delay.min(MAX_RETRY_AFTER.as_secs_f64()),
    ))
}

/// The wait before retry number `retry` (from 1).
pub(crate) fn backoff(
    config: &ClientConfig,
    retry: u32,
    retry_after: Option<Duration>,
) -> Duration {
    if let Some(delay) = retry_after {
        return delay.min(MAX_RETRY_AFTER);
    }
    let exponent = retry.saturating_sub(1).min(20);
    let delay = config
        .retry_base_delay
        .saturating_mul(1 << exponent)
        .min(config.retry_max_delay);
    // ±10 %: clients that failed together do not retry together.
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    let jitter = 0.9 + 0.2 * (random % 1000) as f64 / 1000.0;
    delay.mul_f64(jitter)
}

/// Sleeps `delay`; `false` if the consumer cancelled meanwhile.
async fn sleep(delay: Duration, tx: &ResponseSender) -> bool {
    let until = Instant::now() + delay;
    loop {
        if tx.is_cancelled() {
            return false;
        }
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return true;
        }
        tokio::time::sleep(left.min(CANCEL_POLL)).await;
    }
}

pub(super) enum Waited<T> {
    Done(T),
    Idle,
    Cancelled,
}

/// Awaits `future`, giving up when nothing came for `idle` or the consumer
/// cancelled.
pub(super) async fn wait<T>(
    tx: &ResponseSender,
    idle: Duration,
    future: impl Future<Output = T>,
) -> Waited<T> {
    wait_until(tx, Instant::now() + idle, future).await
}

/// Awaits `future`, giving up at `until` or when the consumer cancelled.
pub(super) async fn wait_until<T>(
    tx: &ResponseSender,
    until: Instant,
    future: impl Future<Output = T>,
) -> Waited<T> {
    let mut future = pin!(future);
    loop {
        if tx.is_cancelled() {
            return Waited::Cancelled;
        }
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Waited::Idle;
        }
        if let Ok(value) = tokio::time::timeout(left.min(CANCEL_POLL), future.as_mut()).await {
            return Waited::Done(value);
        }
    }
}

/// An error and its causes: reqwest's own message alone ("error sending
/// request") does not say what went wrong.
pub(super) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let message = cause.to_string();
        if !text.contains(&message) {
            text.push_str(": ");
            text.push_str(&message);
        }
        source = cause.source();
    }
    text
}
