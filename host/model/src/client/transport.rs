//! Sending a request and streaming its answer, with the retries, the idle
//! timeout and the cancellation every wire API and both transports share.
//! What the events *mean* is the [`Decoder`]'s business (`responses.rs`,
//! `chat.rs`); how one attempt reaches the server is [`http_attempt`]'s
//! (POST + server-sent events, or one JSON answer when the client does not
//! stream) or `websocket.rs`'s (a kept-open socket), and both plug into the
//! one retry loop, [`run`].

use std::sync::{Arc, mpsc};

use reqwest::header::{self, HeaderMap, HeaderName, HeaderValue};
use tokio::runtime::Runtime;

use super::attempt::{
    Attempt, Decoder, Waited, backoff, deliver, error_chain, error_message, failed, not_found,
    retry_after, sleep, status_failure, trace_attempt, wait,
};
use super::responses::short;
use super::sse::SseParser;
use super::websocket::{self, Socket};
use super::{ClientConfig, ClientError, Transport};
use crate::models::FetchResult;
use crate::protocol::{ModelError, ResponseEvent, ResponseSender, ResponseStream};

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

    /// `body` (a request asking for a stream) as this client sends it:
    /// unchanged, or asking for the whole answer at once when the provider
    /// does not stream (`stream_options` goes too: OpenAI refuses it then).
    pub(super) fn streamed_or_not(&self, mut body: serde_json::Value) -> serde_json::Value {
        if !self.shared.config.stream {
            body["stream"] = serde_json::Value::Bool(false);
            if let Some(fields) = body.as_object_mut() {
                fields.remove("stream_options");
            }
        }
        body
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
                // A span of its own, within the caller's (the turn).
                let span = tracing::info_span!(target: "wharf.api_request", "model_request");
                let request = run(Arc::clone(&self.shared), payload, decoder, tx);
                runtime.spawn(tracing::Instrument::instrument(request, span));
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
    // An empty stream is the server's answer to this request, not a
    // glitch: one retry tells the two apart.
    let mut empty_retries = 0u32;
    loop {
        requests += 1;
        let started = std::time::Instant::now();
        let outcome = attempt(&shared, &payload, &decoder, &tx).await;
        trace_attempt(requests, started, &outcome);
        let wait = match outcome {
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
                let (retries, limit) = match error {
                    ModelError::EmptyStream { .. } => {
                        (&mut empty_retries, config.stream_max_retries.min(1))
                    }
                    _ => (&mut stream_retries, config.stream_max_retries),
                };
                if *retries >= limit {
                    tx.send(Err(error));
                    return;
                }
                *retries += 1;
                backoff(config, *retries, None)
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
        match websocket::attempt(
            &shared.headers,
            shared.config.stream_idle_timeout,
            socket,
            frame,
            decoder(),
            tx,
        )
        .await
        {
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

/// One POST, its answer streamed as server-sent events or, unstreamed,
/// one JSON object.
async fn http_attempt(
    shared: &Shared,
    body: Vec<u8>,
    decoder: Box<dyn Decoder>,
    tx: &ResponseSender,
) -> Attempt {
    let idle = shared.config.stream_idle_timeout;
    let accept = if shared.config.stream {
        "text/event-stream"
    } else {
        "application/json"
    };
    let request = shared
        .client
        .post(shared.url.clone())
        .headers(shared.headers.clone())
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT, accept)
        .body(body);
    let response = match wait(tx, idle, request.send()).await {
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
        if status == reqwest::StatusCode::NOT_FOUND {
            let message = error_message(&body, status);
            let provider = shared.config.provider.as_deref();
            return Attempt::Fatal(not_found(&shared.url, provider, &message));
        }
        return status_failure(status, &body, retry_after);
    }
    if !tx.send(Ok(ResponseEvent::Created)) {
        return Attempt::Cancelled;
    }
    let event_stream = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("text/event-stream"));
    if shared.config.stream || event_stream {
        read_stream(shared, response, decoder, tx).await
    } else {
        read_whole(shared, response, decoder, tx).await
    }
}

/// Reads an answer's server-sent events until the response completes.
async fn read_stream(
    shared: &Shared,
    mut response: reqwest::Response,
    mut decoder: Box<dyn Decoder>,
    tx: &ResponseSender,
) -> Attempt {
    let idle = shared.config.stream_idle_timeout;
    let mut parser = SseParser::new();
    let mut items = Vec::new();
    let mut events = 0usize;
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
                events += 1;
                match decoder.event(&event) {
                    Ok(more) => steps.extend(more),
                    Err(failure) => return failed(failure),
                }
            }
            match decoder.end() {
                Ok(more) => steps.extend(more),
                Err(failure) => return failed(failure),
            }
            if let Some(end) = deliver(steps, &mut items, tx) {
                return end;
            }
            return Attempt::RetryStream(if events == 0 {
                ModelError::EmptyStream {
                    url: shared.url.to_string(),
                    provider: shared.config.provider.clone(),
                }
            } else {
                ModelError::Dropped("the server ended the body without the last event".to_owned())
            });
        };
        for event in parser.push(&bytes) {
            events += 1;
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

/// Reads an unstreamed answer: one JSON object, which must come whole
/// within the idle timeout.
async fn read_whole(
    shared: &Shared,
    response: reqwest::Response,
    mut decoder: Box<dyn Decoder>,
    tx: &ResponseSender,
) -> Attempt {
    let idle = shared.config.stream_idle_timeout;
    let body = match wait(tx, idle, response.bytes()).await {
        Waited::Cancelled => return Attempt::Cancelled,
        Waited::Idle => return Attempt::RetryStream(ModelError::Idle(idle)),
        Waited::Done(Err(err)) => {
            return Attempt::RetryStream(ModelError::Dropped(error_chain(&err)));
        }
        Waited::Done(Ok(body)) => body,
    };
    // A whole body that is not JSON will not be JSON the next time either.
    let answer: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(answer) => answer,
        Err(err) => {
            let text = String::from_utf8_lossy(&body);
            return Attempt::Fatal(ModelError::Protocol(format!(
                "the provider's answer from {} is not JSON ({err}): {}",
                shared.url,
                short(text.trim())
            )));
        }
    };
    let steps = match decoder.whole(&answer) {
        Ok(steps) => steps,
        Err(failure) => return failed(failure),
    };
    deliver(steps, &mut Vec::new(), tx).unwrap_or_else(|| {
        Attempt::Fatal(ModelError::Protocol(format!(
            "the provider's answer from {} has no response in it",
            shared.url
        )))
    })
}
