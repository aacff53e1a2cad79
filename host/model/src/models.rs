//! What wharf knows about models and the providers that serve them.
//!
//! A [`ModelInfo`] says what a model can do (image input, parallel tool
//! calls, how its freeform and command tools are offered, how long a tool
//! output may be). The bundled catalog (`host/model/models.json`) holds a few presets;
//! [`Models`] lays a cached refresh from the provider's `/models` endpoint
//! over it and answers for any slug, with conservative defaults
//! ([`ModelInfo::unknown`]) for slugs nobody described. A
//! [`ModelProviderInfo`] is one `[model_providers.ID]` entry: where to send
//! requests, which wire protocol, which API key.
//!
//! What the pipeline needs of a model reaches it as the runtime's
//! `ModelFit`, which the agent builds from a [`ModelInfo`].

mod catalog;
mod choice;

use serde::{Deserialize, Deserializer, Serialize};

pub use catalog::{
    CATALOG_TTL, FetchResult, Models, ModelsError, ModelsFetcher, RefreshOutcome, cache_path,
};
pub use choice::Choice;
pub use wharf_config::provider::{
    DEFAULT_REQUEST_MAX_RETRIES, DEFAULT_STREAM_IDLE_TIMEOUT_MS, DEFAULT_STREAM_MAX_RETRIES,
    MAX_RETRIES, ModelProviderInfo, OLLAMA_BASE_URL, OLLAMA_PROVIDER_ID, OPENAI_BASE_URL,
    OPENAI_PROVIDER_ID, ProviderError, WireApi, built_in_providers,
};

/// What a model accepts and which tools suit it.
///
/// The serde form is the one of `host/model/models.json` and of the cache of a
/// provider's `/models` answer. Every field but `slug` may be missing; a
/// missing field takes the conservative value of [`ModelInfo::unknown`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// The name requests use: `gpt-5.1-codex`, `qwen3:8b`.
    pub slug: String,
    /// The name people read; the slug when missing.
    #[serde(default)]
    pub display_name: String,
    /// Tokens the model can attend to, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_window: Option<u64>,
    /// What the model reads besides text. Default: text only.
    #[serde(default = "text_only")]
    pub input_modalities: Vec<InputModality>,
    /// Whether the model may call several tools in one response.
    #[serde(default)]
    pub supports_parallel_tool_calls: bool,
    /// How tools with a grammar are offered: as JSON functions or as
    /// freeform (grammar) tools. The catalog's key is codex's, named after
    /// the one such tool codex has.
    #[serde(
        rename = "apply_patch_tool_type",
        default,
        deserialize_with = "null_as_default"
    )]
    pub freeform_tool_type: FreeformToolType,
    /// Which command tool suits the model.
    #[serde(default, deserialize_with = "null_as_default")]
    pub shell_type: ShellType,
    /// How much of a tool's output the model is shown.
    #[serde(default, deserialize_with = "null_as_default")]
    pub truncation_policy: TruncationPolicy,
    /// Whether the model shares summaries of its reasoning.
    #[serde(default)]
    pub supports_reasoning_summaries: bool,
    /// Whether the model takes `model_verbosity` (the Responses API's
    /// `text.verbosity`); codex's key. Others are not sent it.
    #[serde(default)]
    pub support_verbosity: bool,
    /// Whether to talk to it over a WebSocket rather than HTTP+SSE (Responses
    /// API only).
    #[serde(default)]
    pub prefer_websockets: bool,
    /// The preset used when `model` is unset (per provider, see
    /// [`Models::default_model`]).
    #[serde(default)]
    pub default: bool,
    /// The providers that serve this preset (their ids); empty: any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub providers: Vec<String>,
}

/// A kind of input a model reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InputModality {
    Text,
    Image,
}

/// How a tool with a grammar is offered to a model.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FreeformToolType {
    /// A function tool taking its JSON arguments (every model).
    #[default]
    Function,
    /// A freeform tool whose input is free text, constrained by the grammar.
    Freeform,
}

/// Which command tool suits a model. The command tool a session offers is
/// chosen by the features, as in codex (the PTY sessions' tool while their
/// feature is on, the default; the one-shot tool when it is off). Of this
/// field only `disabled` changes what is offered: no tool that runs
/// commands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShellType {
    /// Long-lived command sessions on a PTY.
    UnifiedExec,
    /// The one-shot `shell` tool. codex's `default`, `local` and
    /// `shell_command` are read as this.
    #[default]
    #[serde(alias = "default", alias = "local", alias = "shell_command")]
    Shell,
    /// No command tool at all.
    Disabled,
}

/// How much of a tool's output a model is shown: `limit` bytes, or about
/// `limit` tokens (a token is taken as four bytes, codex's estimate).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TruncationPolicy {
    pub mode: TruncationMode,
    pub limit: u64,
}

/// The unit of a [`TruncationPolicy`]'s limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TruncationMode {
    Bytes,
    Tokens,
}

/// The limit of [`ModelInfo::unknown`]: 10 000 bytes, as codex.
pub const DEFAULT_TRUNCATION_BYTES: u64 = 10_000;

impl Default for TruncationPolicy {
    fn default() -> TruncationPolicy {
        TruncationPolicy {
            mode: TruncationMode::Bytes,
            limit: DEFAULT_TRUNCATION_BYTES,
        }
    }
}

fn text_only() -> Vec<InputModality> {
    vec![InputModality::Text]
}

/// `null` (which codex's `/models` writes for "no preference") as the
/// field's default.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

impl ModelInfo {
    /// What wharf assumes of a model nobody described: text only, one tool
    /// call at a time, grammar tools as functions, the command tool the
    /// features choose (see [`ShellType`]), tool output cut at 10 000
    /// bytes, no reasoning summaries, no verbosity, no WebSocket.
    pub fn unknown(slug: &str) -> ModelInfo {
        ModelInfo {
            slug: slug.to_owned(),
            display_name: slug.to_owned(),
            context_window: None,
            input_modalities: text_only(),
            supports_parallel_tool_calls: false,
            freeform_tool_type: FreeformToolType::Function,
            shell_type: ShellType::Shell,
            truncation_policy: TruncationPolicy::default(),
            supports_reasoning_summaries: false,
            support_verbosity: false,
            prefer_websockets: false,
            default: false,
            providers: Vec::new(),
        }
    }

    /// Whether the model reads images.
    pub fn supports_image_input(&self) -> bool {
        self.input_modalities.contains(&InputModality::Image)
    }

    /// This preset's description of `slug`, a member of its family
    /// (`gpt-4.1-mini` of `gpt-4.1`, `qwen3:8b` of `qwen3`).
    fn for_family_member(&self, slug: &str) -> ModelInfo {
        ModelInfo {
            slug: slug.to_owned(),
            display_name: slug.to_owned(),
            default: false,
            ..self.clone()
        }
    }

    /// Fills what the serde defaults cannot: an empty display name is the
    /// slug.
    fn normalized(mut self) -> ModelInfo {
        if self.display_name.trim().is_empty() {
            self.display_name = self.slug.clone();
        }
        self
    }
}

/// The preset describing `slug` among `presets`: the one with that slug, else
/// the one whose slug is the longest prefix of `slug` followed by a
/// separator (`gpt-4.1` for `gpt-4.1-2025-04-14`, `qwen3` for `qwen3:8b`).
fn describe(presets: &[ModelInfo], slug: &str) -> Option<ModelInfo> {
    if let Some(exact) = presets.iter().find(|preset| preset.slug == slug) {
        return Some(exact.clone());
    }
    presets
        .iter()
        .filter(|preset| {
            slug.strip_prefix(preset.slug.as_str())
                .and_then(|rest| rest.chars().next())
                .is_some_and(|next| !next.is_alphanumeric())
        })
        .max_by_key(|preset| preset.slug.len())
        .map(|preset| preset.for_family_member(slug))
}

#[cfg(test)]
mod tests;
