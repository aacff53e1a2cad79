//! One attempt at a request, whichever transport makes it: how it ended
//! ([`Attempt`]), what a wire API's events mean to it ([`Decoder`],
//! [`Step`]), how a failure is classified, how long to wait before the next
//! one, and waiting on a future while watching the consumer.

use std::hash::{BuildHasher, Hasher};
use std::pin::pin;
use std::task::Poll;
use std::time::{Duration, Instant};

use reqwest::header::HeaderMap;

use super::ClientConfig;
use super::sse::SseEvent;
use crate::protocol::{ModelError, ResponseEvent, ResponseItem, ResponseSender, Usage};

/// The longest `Retry-After` honored: a provider asking for more gets
/// this, so a bad header cannot hang a turn for hours.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(120);
/// How much of a provider's error message is kept (in characters): a
/// server's validation dump or HTML page is not a message.
const MAX_ERROR_MESSAGE: usize = 300;

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
    /// An unstreamed answer (`stream = false`): the whole JSON body, read
    /// into the steps its stream would have given, completion included.
    fn whole(&mut self, answer: &serde_json::Value) -> Result<Vec<Step>, StreamFailure>;
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

/// `wharf.api_request` (codex's `codex.api_request`): how attempt number
/// `attempt` ended and how long it took. Neither the request nor the
/// answer's body is recorded; an error is the client's message.
pub(super) fn trace_attempt(attempt: u32, started: Instant, outcome: &Attempt) {
    let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    match outcome {
        Attempt::Done => {
            tracing::info!(target: "wharf.api_request", attempt, duration_ms, "model request done");
        }
        Attempt::Cancelled => {
            tracing::info!(target: "wharf.api_request", attempt, duration_ms, "model request cancelled");
        }
        Attempt::Fatal(error) | Attempt::RetryStream(error) => tracing::warn!(
            target: "wharf.api_request",
            attempt,
            duration_ms,
            // As text: a &str field is written quoted, its control characters
            // escaped (the message can be the provider's).
            error.message = error.to_string().as_str(),
            "model request failed"
        ),
        Attempt::RetryRequest {
            status, message, ..
        } => tracing::warn!(
            target: "wharf.api_request",
            attempt,
            duration_ms,
            http.response.status_code = *status,
            error.message = message.as_str(),
            "model request failed"
        ),
    }
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

/// The provider's message, on one line and at most [`MAX_ERROR_MESSAGE`]
/// characters (then an ellipsis): from a JSON body, OpenAI's
/// `error.message` (or an `error` that is a string), else a top-level
/// `message` or `detail` (FastAPI's, or the first of its validation
/// errors); from any other body, its first line; the status's name when
/// the body says nothing.
pub(super) fn error_message(body: &str, status: reqwest::StatusCode) -> String {
    let parsed: Option<serde_json::Value> = serde_json::from_str(body).ok();
    let from_json = parsed.as_ref().and_then(|json| {
        [
            "/error/message",
            "/error",
            "/message",
            "/detail",
            "/detail/0/msg",
        ]
        .into_iter()
        .find_map(|pointer| json.pointer(pointer)?.as_str())
    });
    let text = match from_json {
        Some(message) => message,
        None => body.trim().lines().next().unwrap_or_default(),
    };
    let message = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if message.is_empty() {
        return status.canonical_reason().unwrap_or("no message").to_owned();
    }
    match message.char_indices().nth(MAX_ERROR_MESSAGE) {
        Some((cut, _)) => format!("{}…", &message[..cut]),
        None => message,
    }
}

/// A 404 from `url`: there is no such endpoint. Most OpenAI-compatible
/// servers have no Responses API, so for `…/responses` the hint is
/// `wire_api = "chat"`; otherwise `base_url` is the suspect.
pub(super) fn not_found(url: &reqwest::Url, provider: Option<&str>, message: &str) -> ModelError {
    let table = format!("[model_providers.{}]", provider.unwrap_or("<id>"));
    let message = if url.path().trim_end_matches('/').ends_with("/responses") {
        format!(
            "there is no Responses API at {url} ({message}); if the server speaks Chat \
             Completions, set `wire_api = \"chat\"` under {table}"
        )
    } else {
        format!("there is nothing at {url} ({message}); check `base_url` under {table}")
    };
    ModelError::Http {
        status: 404,
        message,
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
pub(super) fn backoff(
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
pub(super) async fn sleep(delay: Duration, tx: &ResponseSender) -> bool {
    let never = std::future::pending::<()>();
    matches!(wait(tx, delay, never).await, Waited::Idle)
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

/// Awaits `future`, giving up at `until` or when the consumer cancelled
/// (which wakes it at once).
pub(super) async fn wait_until<T>(
    tx: &ResponseSender,
    until: Instant,
    future: impl Future<Output = T>,
) -> Waited<T> {
    let mut future = pin!(future);
    let mut cancelled = pin!(tx.cancelled());
    let mut timer = pin!(tokio::time::sleep_until(until.into()));
    std::future::poll_fn(|context| {
        if cancelled.as_mut().poll(context).is_ready() {
            return Poll::Ready(Waited::Cancelled);
        }
        if let Poll::Ready(value) = future.as_mut().poll(context) {
            return Poll::Ready(Waited::Done(value));
        }
        if timer.as_mut().poll(context).is_ready() {
            return Poll::Ready(Waited::Idle);
        }
        Poll::Pending
    })
    .await
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
