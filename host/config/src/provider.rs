//! Model providers: where requests go, in which wire protocol, with which
//! credentials. The keys of `[model_providers.ID]` are codex's, so a codex
//! user's provider entries carry over.

use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use schemars::JsonSchema;
use serde::Serialize;

/// The id of the built-in OpenAI provider, the default `model_provider`.
pub const OPENAI_PROVIDER_ID: &str = "openai";
/// The id of the built-in provider for a local Ollama server.
pub const OLLAMA_PROVIDER_ID: &str = "ollama";
/// The built-in OpenAI provider's base URL, unless `OPENAI_BASE_URL` says
/// otherwise.
pub const OPENAI_BASE_URL: &str = "https://api.openai.com/v1";
/// The built-in Ollama provider's base URL (its OpenAI-compatible API).
pub const OLLAMA_BASE_URL: &str = "http://localhost:11434/v1";
/// The variable the built-in OpenAI provider reads its key from, and a
/// provider with `requires_openai_auth = true` too.
pub const OPENAI_API_KEY_VAR: &str = "OPENAI_API_KEY";
/// The id of the built-in provider for a local LM Studio server (codex's).
pub const LMSTUDIO_PROVIDER_ID: &str = "lmstudio";
/// The built-in LM Studio provider's base URL (codex's default port).
pub const LMSTUDIO_BASE_URL: &str = "http://localhost:1234/v1";
/// Older codex's id of its local open-source provider, which was an Ollama
/// server on localhost:11434: wharf takes it as [`OLLAMA_PROVIDER_ID`].
pub const OSS_PROVIDER_ALIAS: &str = "oss";

/// `request_max_retries` when unset (codex's default).
pub const DEFAULT_REQUEST_MAX_RETRIES: u64 = 4;
/// `stream_max_retries` when unset (codex's default).
pub const DEFAULT_STREAM_MAX_RETRIES: u64 = 5;
/// `stream_idle_timeout_ms` when unset: five minutes (codex's default).
pub const DEFAULT_STREAM_IDLE_TIMEOUT_MS: u64 = 300_000;
/// The most retries a provider may be configured with; more is clamped.
pub const MAX_RETRIES: u64 = 100;

/// The protocol a provider speaks. It cannot be detected, so each provider
/// says which.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum WireApi {
    /// OpenAI's Responses API (`POST {base_url}/responses`).
    Responses,
    /// Chat Completions (`POST {base_url}/chat/completions`), which most
    /// OpenAI-compatible servers speak. The default for a provider that
    /// does not say, as in codex.
    #[default]
    Chat,
}

crate::by_name::deserialize_by_name!(WireApi {
    Responses = "responses",
    Chat = "chat",
});

impl WireApi {
    /// The name written in config.toml.
    pub fn as_str(self) -> &'static str {
        match self {
            WireApi::Responses => "responses",
            WireApi::Chat => "chat",
        }
    }
}

/// One model provider, with every default applied.
#[derive(Clone, PartialEq, Eq)]
pub struct ModelProviderInfo {
    /// The key under `[model_providers]` (`openai`, `ollama`, `azure`).
    pub id: String,
    /// The name people read; the id when unset.
    pub name: String,
    /// The root of the provider's OpenAI-compatible API, e.g.
    /// `https://api.openai.com/v1`; endpoints are appended to it.
    pub base_url: String,
    /// The environment variable holding the API key, if one is needed.
    pub env_key: Option<String>,
    /// Told to the user when `env_key` is unset: how to get a key.
    pub env_key_instructions: Option<String>,
    /// A key written in the config itself (discouraged: prefer `env_key`).
    pub experimental_bearer_token: Option<String>,
    pub wire_api: WireApi,
    /// Appended to every request URL (`api-version` for Azure).
    pub query_params: BTreeMap<String, String>,
    /// Headers sent with every request: name → value.
    pub http_headers: BTreeMap<String, String>,
    /// Headers whose values come from the environment: name → variable. A
    /// header whose variable is unset or empty is not sent.
    pub env_http_headers: BTreeMap<String, String>,
    /// How many times a failed request is retried (at most [`MAX_RETRIES`]).
    pub request_max_retries: u64,
    /// How many times a dropped stream is reconnected (at most
    /// [`MAX_RETRIES`]).
    pub stream_max_retries: u64,
    /// How long a stream may stay silent before it counts as lost.
    pub stream_idle_timeout_ms: u64,
    /// codex's `supports_websockets`: `Some(true)` talks to the Responses
    /// API over a WebSocket, `Some(false)` never does; `None` leaves it to
    /// the model and the `responses_websockets` feature.
    pub supports_websockets: Option<bool>,
    /// Whether requests ask for a streamed answer. `false` for servers
    /// that cannot stream (some cannot when tools are offered): each
    /// answer then comes whole, as one JSON object.
    pub stream: bool,
}

impl fmt::Debug for ModelProviderInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ModelProviderInfo")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("base_url", &self.base_url)
            .field("env_key", &self.env_key)
            .field(
                "experimental_bearer_token",
                &self
                    .experimental_bearer_token
                    .as_ref()
                    .map(|_| "<redacted>"),
            )
            .field("wire_api", &self.wire_api)
            .field("query_params", &self.query_params)
            .field("http_headers", &self.http_headers)
            .field("env_http_headers", &self.env_http_headers)
            .field("request_max_retries", &self.request_max_retries)
            .field("stream_max_retries", &self.stream_max_retries)
            .field("stream_idle_timeout_ms", &self.stream_idle_timeout_ms)
            .field("supports_websockets", &self.supports_websockets)
            .field("stream", &self.stream)
            .finish_non_exhaustive()
    }
}

/// Why a provider cannot be used as configured.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProviderError {
    #[error(
        "model provider `{provider}` needs an API key: set the environment variable {var}{}",
        instructions.as_deref().map(|text| format!(" ({text})")).unwrap_or_default()
    )]
    MissingApiKey {
        provider: String,
        var: String,
        instructions: Option<String>,
    },
}

impl ModelProviderInfo {
    /// A provider with `id`, `base_url` and `wire_api`, and every other
    /// setting at its default.
    pub fn new(id: &str, base_url: &str, wire_api: WireApi) -> ModelProviderInfo {
        ModelProviderInfo {
            id: id.to_owned(),
            name: id.to_owned(),
            base_url: base_url.to_owned(),
            env_key: None,
            env_key_instructions: None,
            experimental_bearer_token: None,
            wire_api,
            query_params: BTreeMap::new(),
            http_headers: BTreeMap::new(),
            env_http_headers: BTreeMap::new(),
            request_max_retries: DEFAULT_REQUEST_MAX_RETRIES,
            stream_max_retries: DEFAULT_STREAM_MAX_RETRIES,
            stream_idle_timeout_ms: DEFAULT_STREAM_IDLE_TIMEOUT_MS,
            supports_websockets: None,
            stream: true,
        }
    }

    /// The API key to send as `Authorization: Bearer …`:
    /// `experimental_bearer_token` if set, else the value of `env_key` read
    /// through `env`. `Ok(None)` when the provider needs no key; an error
    /// naming the variable when it needs one and the variable is unset or
    /// blank.
    pub fn api_key(
        &self,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Option<String>, ProviderError> {
        if let Some(token) = &self.experimental_bearer_token {
            return Ok(Some(token.clone()));
        }
        let Some(var) = &self.env_key else {
            return Ok(None);
        };
        match env(var) {
            Some(value) if !value.trim().is_empty() => Ok(Some(value)),
            _ => Err(ProviderError::MissingApiKey {
                provider: self.id.clone(),
                var: var.clone(),
                instructions: self.env_key_instructions.clone(),
            }),
        }
    }

    /// The extra headers of every request: `http_headers`, then the
    /// `env_http_headers` whose variable is set and not blank (these win
    /// over a fixed header of the same name).
    pub fn headers(&self, env: &dyn Fn(&str) -> Option<String>) -> BTreeMap<String, String> {
        let mut headers = self.http_headers.clone();
        for (name, var) in &self.env_http_headers {
            if let Some(value) = env(var).filter(|value| !value.trim().is_empty()) {
                headers.insert(name.clone(), value);
            }
        }
        headers
    }

    /// The URL of `endpoint` (`responses`, `chat/completions`, `models`)
    /// under `base_url`, with the `query_params`.
    pub fn url(&self, endpoint: &str) -> String {
        let mut url = format!(
            "{}/{}",
            self.base_url.trim_end_matches('/'),
            endpoint.trim_start_matches('/')
        );
        let mut separator = if url.contains('?') { '&' } else { '?' };
        for (key, value) in &self.query_params {
            url.push(separator);
            url.push_str(&percent_encode(key));
            url.push('=');
            url.push_str(&percent_encode(value));
            separator = '&';
        }
        url
    }

    /// [`stream_idle_timeout_ms`](Self::stream_idle_timeout_ms) as a
    /// duration.
    pub fn stream_idle_timeout(&self) -> Duration {
        Duration::from_millis(self.stream_idle_timeout_ms)
    }
}

/// RFC 3986 percent-encoding of everything but the unreserved characters.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The providers wharf knows without configuration: `openai` (the Responses
/// API at `openai_base_url`, else [`OPENAI_BASE_URL`]; key in
/// `OPENAI_API_KEY`; `OpenAI-Organization` and `OpenAI-Project` headers from
/// `OPENAI_ORGANIZATION` and `OPENAI_PROJECT`, as codex), `ollama` (Chat
/// Completions on localhost:11434, no key) and `lmstudio` (the Responses
/// API on localhost:1234, no key, as codex).
pub fn built_in_providers(openai_base_url: Option<&str>) -> BTreeMap<String, ModelProviderInfo> {
    let base_url = openai_base_url
        .map(str::trim)
        .filter(|url| !url.is_empty())
        .unwrap_or(OPENAI_BASE_URL);
    let openai = ModelProviderInfo {
        name: "OpenAI".to_owned(),
        env_key: Some(OPENAI_API_KEY_VAR.to_owned()),
        env_key_instructions: Some(
            "create a key at https://platform.openai.com/api-keys".to_owned(),
        ),
        env_http_headers: [
            ("OpenAI-Organization", "OPENAI_ORGANIZATION"),
            ("OpenAI-Project", "OPENAI_PROJECT"),
        ]
        .into_iter()
        .map(|(name, var)| (name.to_owned(), var.to_owned()))
        .collect(),
        ..ModelProviderInfo::new(OPENAI_PROVIDER_ID, base_url, WireApi::Responses)
    };
    let ollama = ModelProviderInfo {
        name: "Ollama".to_owned(),
        ..ModelProviderInfo::new(OLLAMA_PROVIDER_ID, OLLAMA_BASE_URL, WireApi::Chat)
    };
    // codex's built-in: LM Studio's Responses API on its default port.
    let lmstudio = ModelProviderInfo {
        name: "LM Studio".to_owned(),
        ..ModelProviderInfo::new(LMSTUDIO_PROVIDER_ID, LMSTUDIO_BASE_URL, WireApi::Responses)
    };
    [openai, ollama, lmstudio]
        .into_iter()
        .map(|provider| (provider.id.clone(), provider))
        .collect()
}
