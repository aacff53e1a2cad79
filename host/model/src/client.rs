//! The model clients: [`ResponsesClient`] (OpenAI's Responses API, over
//! HTTP or a WebSocket) and [`ChatClient`] (Chat Completions, which Ollama
//! and most OpenAI-compatible servers speak). Both implement
//! [`ModelClient`](crate::protocol::ModelClient): `stream` returns at once and
//! the request runs on the client's own small tokio runtime (one worker
//! thread), handing events over the [`ResponseStream`] channel, so the agent
//! loop stays plain blocking Rust.
//!
//! **HTTP stack.** `reqwest` 0.13 with rustls (aws-lc-rs, the platform's
//! certificate verifier), HTTP/1.1: the field's standard client, and the one
//! rmcp's HTTP transport uses, so the workspace keeps one HTTP/TLS stack.
//! Server-sent events are parsed by hand (`sse.rs`): it is a few lines.
//!
//! **Retries** (`transport.rs`). A request answered 429 or 5xx, or that
//! cannot connect, is retried up to `request_max_retries` times; a stream
//! that drops, goes idle for `stream_idle_timeout`, or fails with a
//! retryable provider error (`rate_limit_exceeded`, `server_error`) before
//! the response completes is retried up to `stream_max_retries` times, as
//! codex does. Each wait is exponential (`retry_base_delay` × 2ⁿ, at most
//! `retry_max_delay`) with ±10 % jitter, unless the answer carried
//! `Retry-After` (seconds) or `retry-after-ms`, which is honored (at most
//! two minutes). 401/403 fail at once with [`ModelError::Unauthorized`] and
//! the provider's message; other 4xx with [`ModelError::Http`]. When the
//! retries run out: [`ModelError::RetriesExhausted`] (with the number of
//! requests made), [`ModelError::Connect`], [`ModelError::Dropped`] or
//! [`ModelError::Idle`].
//!
//! **What the consumer sees across a retry.** Every attempt that gets a
//! `200` starts with [`ResponseEvent::Created`]; text and reasoning deltas
//! are forwarded as they arrive. Completed items are held back until the
//! response completes and then sent, in order, right before
//! [`ResponseEvent::Completed`]. So a `Created` after deltas means "the
//! provider is streaming the response again from scratch: drop the partial
//! text", and no item of a failed attempt ever reaches the consumer (it
//! cannot run a tool call twice).
//!
//! **WebSocket transport** (`websocket.rs`, [`Transport::WebSocket`],
//! chosen by [`Transport::for_model`]: the model's `prefer_websockets` or
//! the feature `responses_websockets`). The Responses API as codex speaks
//! it over `ws(s)://{base_url}/responses`: one text frame per request (the
//! POST body with `"type": "response.create"`), one JSON event per answer
//! frame, read by the same decoder as SSE. The connection stays open between
//! requests — no TCP/TLS handshake per turn — one request at a time; a
//! closed one is reopened by the next request. Retries, idle timeout,
//! cancellation and what the consumer sees are those of HTTP (the same
//! loop); an `error` event with a `status` counts as that HTTP status. A
//! server that answers the upgrade with a status other than 401/403/429/5xx
//! (404, 426…) does not speak WebSocket: the client says so once with
//! [`ResponseEvent::Warning`](crate::protocol::ResponseEvent::Warning) and
//! uses HTTP + SSE from then on. TLS is reqwest's rustls setup (aws-lc-rs,
//! the platform verifier), handed to `tokio-tungstenite` as a connector.
//!
//! **Unstreamed requests** (the provider's `stream = false`, for servers
//! that cannot stream, such as llama-cpp-python when tools are offered).
//! The body says `"stream": false` and the answer is one JSON object (a
//! `chat.completion`, a Responses `response`), which the decoder turns into
//! the events a stream would have given: `Created`, the text as one delta,
//! the items, `Completed`. The whole answer must come within
//! `stream_idle_timeout`; an answer sent as a stream anyway is read as one.
//! Such a client always uses HTTP (the WebSocket transport streams).
//!
//! **Errors name the way out.** A `200` whose stream ends before its first
//! event is retried once (a server that cannot stream a request never
//! will), then fails with [`ModelError::EmptyStream`], which names
//! `stream = false`; a 404 names the URL and, for `…/responses`, suggests
//! `wire_api = "chat"`; a provider's error body is cut to its message (see
//! `attempt::error_message`).

mod attempt;
mod chat;
mod responses;
mod sse;
mod transport;
mod websocket;

use std::collections::BTreeMap;
use std::time::Duration;

use crate::models::{
    DEFAULT_REQUEST_MAX_RETRIES, DEFAULT_STREAM_IDLE_TIMEOUT_MS, DEFAULT_STREAM_MAX_RETRIES,
    FetchResult, MAX_RETRIES, ModelInfo, ModelProviderInfo, ModelsFetcher, ProviderError, WireApi,
};
use crate::protocol::{ModelClient, ModelError, Prompt, ResponseStream};
use wharf_config::features::Features;

use chat::ChatDecoder;
pub use chat::chat_request;
use responses::ResponsesDecoder;
pub use responses::responses_request;

/// Where and how a client sends its requests.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientConfig {
    /// The root of the API, e.g. `https://api.openai.com/v1`; the client
    /// appends `responses` or `chat/completions`.
    pub base_url: String,
    /// Appended to every request URL (`api-version` for Azure).
    pub query_params: BTreeMap<String, String>,
    /// Sent as `Authorization: Bearer …`.
    pub api_key: Option<String>,
    /// Sent with every request.
    pub headers: BTreeMap<String, String>,
    /// Retries of a request answered 429/5xx or that cannot connect.
    pub request_max_retries: u32,
    /// Retries of a stream that dropped or went idle before completing.
    pub stream_max_retries: u32,
    /// How long a stream (or the wait for the answer's headers) may be
    /// silent before it counts as lost.
    pub stream_idle_timeout: Duration,
    /// The first retry's wait; each next one doubles it.
    pub retry_base_delay: Duration,
    /// The longest computed wait (a `Retry-After` may ask for more).
    pub retry_max_delay: Duration,
    /// Ask for a streamed answer (`"stream": true`); `false` for servers
    /// that cannot stream.
    pub stream: bool,
    /// The provider's id under `[model_providers]`, for the errors that
    /// say what to change there.
    pub provider: Option<String>,
}

impl std::fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientConfig")
            .field("base_url", &self.base_url)
            .field("query_params", &self.query_params)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("request_max_retries", &self.request_max_retries)
            .field("stream_max_retries", &self.stream_max_retries)
            .field("stream_idle_timeout", &self.stream_idle_timeout)
            .field("retry_base_delay", &self.retry_base_delay)
            .field("retry_max_delay", &self.retry_max_delay)
            .field("stream", &self.stream)
            .field("provider", &self.provider)
            .finish()
    }
}

impl ClientConfig {
    /// `base_url` with no key, no headers and codex's defaults: 4 request
    /// retries, 5 stream retries, a five-minute idle timeout, waits from
    /// 200 ms up to 10 s; streamed.
    pub fn new(base_url: &str) -> ClientConfig {
        ClientConfig {
            base_url: base_url.to_owned(),
            query_params: BTreeMap::new(),
            api_key: None,
            headers: BTreeMap::new(),
            request_max_retries: clamp_retries(DEFAULT_REQUEST_MAX_RETRIES),
            stream_max_retries: clamp_retries(DEFAULT_STREAM_MAX_RETRIES),
            stream_idle_timeout: Duration::from_millis(DEFAULT_STREAM_IDLE_TIMEOUT_MS),
            retry_base_delay: Duration::from_millis(200),
            retry_max_delay: Duration::from_secs(10),
            stream: true,
            provider: None,
        }
    }

    /// The settings of `provider`, its key and headers read through `env`
    /// (never the process environment directly).
    pub fn from_provider(
        provider: &ModelProviderInfo,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<ClientConfig, ClientError> {
        Ok(ClientConfig {
            query_params: provider.query_params.clone(),
            api_key: provider.api_key(env)?,
            headers: provider.headers(env),
            request_max_retries: clamp_retries(provider.request_max_retries),
            stream_max_retries: clamp_retries(provider.stream_max_retries),
            stream_idle_timeout: provider.stream_idle_timeout(),
            stream: provider.stream,
            provider: Some(provider.id.clone()),
            ..ClientConfig::new(&provider.base_url)
        })
    }

    /// The URL of `endpoint` under `base_url`, with the query parameters.
    fn url(&self, endpoint: &str) -> Result<reqwest::Url, ClientError> {
        let text = format!(
            "{}/{}",
            self.base_url.trim_end_matches('/'),
            endpoint.trim_start_matches('/')
        );
        let mut url = reqwest::Url::parse(&text).map_err(|err| ClientError::Url {
            url: text.clone(),
            message: err.to_string(),
        })?;
        if !self.query_params.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (key, value) in &self.query_params {
                pairs.append_pair(key, value);
            }
        }
        Ok(url)
    }
}

fn clamp_retries(retries: u64) -> u32 {
    u32::try_from(retries.min(MAX_RETRIES)).unwrap_or(u32::MAX)
}

/// Why a client cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error("model provider URL `{url}` is not valid: {message} (check `base_url`)")]
    Url { url: String, message: String },
    #[error(
        "HTTP header `{name}` cannot be sent: {message} (check `http_headers` and `env_http_headers`)"
    )]
    Header { name: String, message: String },
    #[error("cannot set up the HTTP client: {0}")]
    Setup(String),
}

/// The feature that turns the Responses API's WebSocket transport on for
/// every model.
pub const RESPONSES_WEBSOCKETS: &str = "responses_websockets";

/// How a [`ResponsesClient`] reaches the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// `POST {base_url}/responses`, answered with server-sent events.
    Http,
    /// A WebSocket to `{base_url}/responses`, kept open across requests;
    /// HTTP when the server refuses the upgrade.
    WebSocket,
}

impl Transport {
    /// The WebSocket when the model prefers it or the feature
    /// `responses_websockets` is on; HTTP otherwise.
    pub fn for_model(model: &ModelInfo, features: &Features) -> Transport {
        if model.prefer_websockets || features.enabled(RESPONSES_WEBSOCKETS) {
            Transport::WebSocket
        } else {
            Transport::Http
        }
    }
}

/// A client of OpenAI's Responses API (`POST {base_url}/responses`, or its
/// WebSocket).
#[derive(Debug)]
pub struct ResponsesClient {
    http: transport::Http,
}

impl ResponsesClient {
    /// A client over HTTP + SSE.
    pub fn new(config: ClientConfig) -> Result<ResponsesClient, ClientError> {
        ResponsesClient::with_transport(config, Transport::Http)
    }

    /// A client over `transport`; over HTTP whatever it says when `config`
    /// does not stream.
    pub fn with_transport(
        config: ClientConfig,
        transport: Transport,
    ) -> Result<ResponsesClient, ClientError> {
        let transport = if config.stream {
            transport
        } else {
            Transport::Http
        };
        Ok(ResponsesClient {
            http: transport::Http::new(config, "responses", transport)?,
        })
    }

    pub fn from_provider(
        provider: &ModelProviderInfo,
        transport: Transport,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<ResponsesClient, ClientError> {
        ResponsesClient::with_transport(ClientConfig::from_provider(provider, env)?, transport)
    }
}

impl ModelClient for ResponsesClient {
    fn stream(&self, prompt: &Prompt) -> Result<ResponseStream, ModelError> {
        let body = self.http.streamed_or_not(responses_request(prompt));
        Ok(self.http.stream(body, || Box::new(ResponsesDecoder)))
    }
}

/// A client of the Chat Completions API (`POST {base_url}/chat/completions`).
#[derive(Debug)]
pub struct ChatClient {
    http: transport::Http,
}

impl ChatClient {
    pub fn new(config: ClientConfig) -> Result<ChatClient, ClientError> {
        Ok(ChatClient {
            http: transport::Http::new(config, "chat/completions", Transport::Http)?,
        })
    }

    pub fn from_provider(
        provider: &ModelProviderInfo,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<ChatClient, ClientError> {
        ChatClient::new(ClientConfig::from_provider(provider, env)?)
    }
}

impl ModelClient for ChatClient {
    fn stream(&self, prompt: &Prompt) -> Result<ResponseStream, ModelError> {
        let body = self.http.streamed_or_not(chat_request(prompt));
        let freeform: Vec<String> = prompt
            .tools
            .iter()
            .filter(|tool| matches!(tool, crate::protocol::ToolDef::Freeform { .. }))
            .map(|tool| tool.name().to_owned())
            .collect();
        Ok(self
            .http
            .stream(body, move || Box::new(ChatDecoder::new(freeform.clone()))))
    }
}

/// The client for `provider`'s wire API. `transport` applies to the
/// Responses API; Chat Completions has no WebSocket and always uses HTTP.
pub fn client_for_provider(
    provider: &ModelProviderInfo,
    transport: Transport,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Box<dyn ModelClient>, ClientError> {
    // The provider's `supports_websockets`, when it says, decides over
    // the model's preference and the feature.
    let transport = match provider.supports_websockets {
        Some(true) => Transport::WebSocket,
        Some(false) => Transport::Http,
        None => transport,
    };
    Ok(match provider.wire_api {
        WireApi::Responses => Box::new(ResponsesClient::from_provider(provider, transport, env)?),
        WireApi::Chat => Box::new(ChatClient::from_provider(provider, env)?),
    })
}

/// `GET {url}` with the provider's key and headers, for the models manager.
impl ModelsFetcher for ResponsesClient {
    fn fetch(&self, url: &str, etag: Option<&str>) -> Result<FetchResult, String> {
        self.http.fetch(url, etag)
    }
}

impl ModelsFetcher for ChatClient {
    fn fetch(&self, url: &str, etag: Option<&str>) -> Result<FetchResult, String> {
        self.http.fetch(url, etag)
    }
}

#[cfg(test)]
mod tests;
