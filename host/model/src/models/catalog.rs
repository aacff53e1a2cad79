//! The models manager: the bundled catalog, a provider's `/models` answer
//! cached on disk with a TTL and an ETag, and lookups by slug.
//!
//! The cache of provider `ID` is `$WHARF_HOME/cache/models/ID.json`:
//! `{ "fetched_at": UNIX_SECONDS, "etag": "…", "models": [ModelInfo…] }`.
//! A cache that cannot be read or parsed is ignored with a warning; it is
//! never fatal. The HTTP request itself is behind [`ModelsFetcher`], which
//! the model clients implement (with the provider's headers and key), so
//! this module stays testable without a network.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::{ModelInfo, ModelProviderInfo, describe};

/// The catalog, embedded in the binary.
const BUNDLED_JSON: &str = include_str!("../../models.json");

/// The default model should the bundled catalog mark none (it does; a test
/// checks).
const FALLBACK_DEFAULT: &str = "gpt-5.1-codex";

/// How long a provider's `/models` answer is used before it is asked again:
/// five minutes. After that a refresh sends the cached ETag, and a
/// `304 Not Modified` keeps the cache for another five minutes.
pub const CATALOG_TTL: Duration = Duration::from_secs(300);

/// The answer to a `GET {base_url}/models`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FetchResult {
    /// `304 Not Modified`: the cached list, sent with its ETag, still holds.
    NotModified,
    /// A new body (JSON) and its `ETag` header, if any.
    Fresh { body: String, etag: Option<String> },
}

/// Fetches a provider's model list. The HTTP implementation lives with the
/// model clients; it adds the provider's headers and API key, sends
/// `If-None-Match: etag` when given one, and maps any failure (connection,
/// status other than 200 and 304) to a message naming it.
pub trait ModelsFetcher {
    fn fetch(&self, url: &str, etag: Option<&str>) -> Result<FetchResult, String>;
}

/// What [`Models::refresh`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshOutcome {
    /// The cache was younger than the TTL; nothing was fetched.
    UpToDate,
    /// The provider answered 304: the cache was kept and its clock reset.
    NotModified,
    /// The provider sent a new list of this many models.
    Refreshed(usize),
}

/// Why a refresh failed. The models known before the refresh stay in use.
#[derive(Debug, thiserror::Error)]
pub enum ModelsError {
    #[error("cannot fetch the model list from {url}: {message}")]
    Fetch { url: String, message: String },
    #[error(
        "the model list from {url} is not understood: {message} (expected {{\"models\": [...]}} or {{\"data\": [{{\"id\": ...}}]}})"
    )]
    Parse { url: String, message: String },
}

/// The cache file's contents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Cached {
    /// When the list was fetched or last confirmed, in seconds since the
    /// Unix epoch.
    fetched_at: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    etag: Option<String>,
    models: Vec<ModelInfo>,
}

/// The models of one provider: the bundled presets, and the provider's own
/// list once fetched.
#[derive(Debug, Clone)]
pub struct Models {
    provider: String,
    cache_path: PathBuf,
    ttl: Duration,
    cached: Option<Cached>,
    warnings: Vec<String>,
}

/// Where the `/models` cache of `provider` is kept under `wharf_home`. The
/// id is made a safe file name: characters other than ASCII letters,
/// digits, `-` and `_` become `_`.
pub fn cache_path(wharf_home: &Path, provider: &str) -> PathBuf {
    let name: String = provider
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    wharf_home
        .join("cache")
        .join("models")
        .join(format!("{name}.json"))
}

/// The bundled presets, parsed once. They are checked by a test, so a parse
/// failure here is a bug; it leaves an empty catalog rather than a crash.
fn bundled() -> &'static [ModelInfo] {
    static BUNDLED: OnceLock<Vec<ModelInfo>> = OnceLock::new();
    BUNDLED.get_or_init(|| {
        parse_list(BUNDLED_JSON, &|_| None).map_or_else(|_| Vec::new(), |(models, _)| models)
    })
}

impl Models {
    /// The models of provider `provider` (its id): the bundled presets,
    /// overridden by the cached `/models` answer under `wharf_home` if
    /// there is one. Never fails: a cache that cannot be used is reported
    /// in [`warnings`](Self::warnings).
    pub fn load(wharf_home: &Path, provider: &str) -> Models {
        let cache_path = cache_path(wharf_home, provider);
        let mut warnings = Vec::new();
        let cached = match std::fs::read_to_string(&cache_path) {
            Ok(text) => match serde_json::from_str::<Cached>(&text) {
                Ok(cached) => Some(Cached {
                    models: cached
                        .models
                        .into_iter()
                        .map(ModelInfo::normalized)
                        .collect(),
                    ..cached
                }),
                Err(err) => {
                    warnings.push(format!(
                        "{}: ignoring the cached model list: {err} (it is fetched again)",
                        cache_path.display()
                    ));
                    None
                }
            },
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => None,
            Err(err) => {
                warnings.push(format!(
                    "{}: ignoring the cached model list: {err}",
                    cache_path.display()
                ));
                None
            }
        };
        Models {
            provider: provider.to_owned(),
            cache_path,
            ttl: CATALOG_TTL,
            cached,
            warnings,
        }
    }

    /// The same, with another TTL than [`CATALOG_TTL`].
    pub fn with_ttl(mut self, ttl: Duration) -> Models {
        self.ttl = ttl;
        self
    }

    /// The bundled presets, for every provider.
    pub fn bundled() -> &'static [ModelInfo] {
        bundled()
    }

    /// Problems with the cache that did not stop loading or refreshing.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The models to choose from: the provider's list when one was
    /// fetched, else the presets for this provider (every preset when none
    /// names it).
    pub fn list(&self) -> Vec<ModelInfo> {
        if let Some(cached) = &self.cached {
            return cached.models.clone();
        }
        let mine: Vec<ModelInfo> = bundled()
            .iter()
            .filter(|preset| preset.providers.contains(&self.provider))
            .cloned()
            .collect();
        if mine.is_empty() {
            bundled().to_vec()
        } else {
            mine
        }
    }

    /// The models the provider said it serves, once its `/models` list
    /// was fetched (now or into the cache); `None` before.
    pub fn served(&self) -> Option<&[ModelInfo]> {
        self.cached.as_ref().map(|cached| cached.models.as_slice())
    }

    /// The provider's id.
    pub fn provider(&self) -> &str {
        &self.provider
    }

    /// What is known of `slug`: the provider's own description, else the
    /// bundled preset with that slug or of its family (`gpt-4.1` for
    /// `gpt-4.1-mini`, `qwen3` for `qwen3:8b`), else
    /// [`ModelInfo::unknown`].
    pub fn find(&self, slug: &str) -> ModelInfo {
        self.cached
            .as_ref()
            .and_then(|cached| cached.models.iter().find(|model| model.slug == slug))
            .cloned()
            .or_else(|| describe(bundled(), slug))
            .unwrap_or_else(|| ModelInfo::unknown(slug))
    }

    /// `configured` (the `model` key) when set, else [`default_model`](Self::default_model).
    pub fn resolve(&self, configured: Option<&str>) -> ModelInfo {
        match configured {
            Some(slug) => self.find(slug),
            None => self.default_model(),
        }
    }

    /// The model used when `model` is unset: one the provider's list marks
    /// default; else the preset marked default for this provider, unless
    /// the provider's list lacks it, in which case the first listed model
    /// wharf has a preset for; else the first preset marked default (for a
    /// provider wharf has no presets for, as codex does).
    pub fn default_model(&self) -> ModelInfo {
        let listed = self.cached.as_ref().map(|cached| cached.models.as_slice());
        if let Some(marked) = listed.and_then(|models| models.iter().find(|model| model.default)) {
            return marked.clone();
        }
        let preset = bundled()
            .iter()
            .find(|preset| preset.default && preset.providers.contains(&self.provider));
        if let Some(listed) = listed.filter(|models| !models.is_empty()) {
            let available = preset.and_then(|preset| {
                listed
                    .iter()
                    .find(|model| describe(std::slice::from_ref(preset), &model.slug).is_some())
            });
            let known = || {
                listed
                    .iter()
                    .find(|model| describe(bundled(), &model.slug).is_some())
            };
            if let Some(model) = available.or_else(known) {
                return model.clone();
            }
        }
        preset
            .or_else(|| bundled().iter().find(|preset| preset.default))
            .cloned()
            .unwrap_or_else(|| ModelInfo::unknown(FALLBACK_DEFAULT))
    }

    /// Whether the cached list is younger than the TTL at `now`.
    pub fn is_fresh(&self, now: SystemTime) -> bool {
        let Some(cached) = &self.cached else {
            return false;
        };
        let fetched_at = UNIX_EPOCH + Duration::from_secs(cached.fetched_at);
        now.duration_since(fetched_at)
            .is_ok_and(|age| age < self.ttl)
    }

    /// Asks `provider` for its models through `fetcher`, unless the cache is
    /// still fresh at `now`. A 304 keeps the cache and resets its clock; a
    /// new list replaces it. A failure leaves the known models in use. A
    /// cache that cannot be written is a warning: the new list is used
    /// anyway.
    pub fn refresh(
        &mut self,
        fetcher: &dyn ModelsFetcher,
        provider: &ModelProviderInfo,
        now: SystemTime,
    ) -> Result<RefreshOutcome, ModelsError> {
        if self.is_fresh(now) {
            return Ok(RefreshOutcome::UpToDate);
        }
        let url = provider.url("models");
        let etag = self
            .cached
            .as_ref()
            .and_then(|cached| cached.etag.as_deref());
        let result = fetcher
            .fetch(&url, etag)
            .map_err(|message| ModelsError::Fetch {
                url: url.clone(),
                message,
            })?;
        let fetched_at = now
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        let outcome = match result {
            FetchResult::NotModified => {
                let Some(cached) = self.cached.as_mut().filter(|cached| cached.etag.is_some())
                else {
                    return Err(ModelsError::Fetch {
                        url,
                        message: "the provider answered 304 Not Modified, but there is no cached list to keep".to_owned(),
                    });
                };
                cached.fetched_at = fetched_at;
                RefreshOutcome::NotModified
            }
            FetchResult::Fresh { body, etag } => {
                let (models, mut skipped) = parse_list(&body, &|slug| describe(bundled(), slug))
                    .map_err(|message| ModelsError::Parse {
                        url: url.clone(),
                        message,
                    })?;
                self.warnings.append(&mut skipped);
                let count = models.len();
                self.cached = Some(Cached {
                    fetched_at,
                    etag,
                    models,
                });
                RefreshOutcome::Refreshed(count)
            }
        };
        if let Err(err) = self.write_cache() {
            self.warnings.push(format!(
                "{}: cannot cache the model list: {err}",
                self.cache_path.display()
            ));
        }
        Ok(outcome)
    }

    /// Writes the cache atomically: a temporary file beside it, renamed.
    fn write_cache(&self) -> std::io::Result<()> {
        let Some(cached) = &self.cached else {
            return Ok(());
        };
        let dir = self
            .cache_path
            .parent()
            .ok_or_else(|| std::io::Error::other("the cache path has no directory"))?;
        std::fs::create_dir_all(dir)?;
        let text = serde_json::to_string_pretty(cached).map_err(std::io::Error::other)?;
        let mut file = tempfile::NamedTempFile::new_in(dir)?;
        file.write_all(text.as_bytes())?;
        file.persist(&self.cache_path).map_err(|err| err.error)?;
        Ok(())
    }
}

/// Parses a model list: codex's `{"models": [ModelInfo…]}` (the form of
/// `models.json` too), or the OpenAI-compatible `{"data": [{"id": …}…]}`
/// that OpenAI and Ollama answer, whose ids are described by `describe`
/// (else [`ModelInfo::unknown`]). An entry that cannot be read is skipped;
/// the second value says which were.
fn parse_list(
    body: &str,
    describe: &dyn Fn(&str) -> Option<ModelInfo>,
) -> Result<(Vec<ModelInfo>, Vec<String>), String> {
    #[derive(Deserialize)]
    struct List {
        models: Option<Vec<serde_json::Value>>,
        data: Option<Vec<serde_json::Value>>,
    }
    #[derive(Deserialize)]
    struct Listed {
        id: String,
    }
    let list: List = serde_json::from_str(body).map_err(|err| err.to_string())?;
    let mut skipped = Vec::new();
    let mut models = Vec::new();
    if let Some(entries) = list.models {
        for (index, entry) in entries.into_iter().enumerate() {
            match serde_json::from_value::<ModelInfo>(entry) {
                Ok(model) => models.push(model.normalized()),
                Err(err) => skipped.push(format!("skipping model #{index} of the list: {err}")),
            }
        }
    } else if let Some(entries) = list.data {
        for (index, entry) in entries.into_iter().enumerate() {
            match serde_json::from_value::<Listed>(entry) {
                Ok(Listed { id }) => {
                    models.push(describe(&id).unwrap_or_else(|| ModelInfo::unknown(&id)));
                }
                Err(err) => skipped.push(format!("skipping model #{index} of the list: {err}")),
            }
        }
    } else {
        return Err("it has neither `models` nor `data`".to_owned());
    }
    Ok((models, skipped))
}
