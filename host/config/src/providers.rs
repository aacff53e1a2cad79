//! `model_provider` and `[model_providers.ID]`: the built-in providers with
//! the configured entries laid over them, and the one selected.

use std::collections::BTreeMap;

use super::layer::{KeyPath, Layered};
use super::toml_types::{ConfigToml, ModelProviderToml};
use super::{ConfigError, ConfigOptions, invalid_value};
use crate::provider::{
    MAX_RETRIES, ModelProviderInfo, OLLAMA_PROVIDER_ID, OPENAI_API_KEY_VAR, OSS_PROVIDER_ALIAS,
    WireApi, built_in_providers,
};

/// Every provider (built in, then configured) and the selected one.
pub(super) fn resolve(
    typed: &ConfigToml,
    options: &ConfigOptions,
    effective: &Layered,
) -> Result<(BTreeMap<String, ModelProviderInfo>, ModelProviderInfo), ConfigError> {
    let mut providers = built_in_providers(options.openai_base_url.as_deref());
    for (id, entry) in &typed.model_providers {
        let merged = merge(id, entry, providers.get(id), effective)?;
        providers.insert(id.clone(), merged);
    }
    let id = typed
        .model_provider
        .as_deref()
        .unwrap_or(crate::provider::OPENAI_PROVIDER_ID);
    // Older codex's `oss` was a local Ollama: the built-in `ollama`, unless
    // the file defines a provider of that id.
    let id = match id {
        OSS_PROVIDER_ALIAS if !providers.contains_key(id) => OLLAMA_PROVIDER_ID,
        id => id,
    };
    let Some(selected) = providers.get(id).cloned() else {
        let key = vec!["model_provider".to_owned()];
        let known: Vec<&str> = providers.keys().map(String::as_str).collect();
        let message = format!(
            "unknown model provider `{id}`; known: {} (define it under [model_providers.{id}])",
            known.join(", ")
        );
        return Err(invalid_value(effective.sources.get(&key), &key, message));
    };
    Ok((providers, selected))
}

/// `entry` over `base` (the built-in provider of the same id, if any).
fn merge(
    id: &str,
    entry: &ModelProviderToml,
    base: Option<&ModelProviderInfo>,
    effective: &Layered,
) -> Result<ModelProviderInfo, ConfigError> {
    let key = |field: &str| -> KeyPath {
        let mut key = vec!["model_providers".to_owned(), id.to_owned()];
        if !field.is_empty() {
            key.push(field.to_owned());
        }
        key
    };
    let base_url = match (&entry.base_url, base) {
        (Some(url), _) => {
            let url = url.trim();
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                let key = key("base_url");
                let message = format!("expected an http:// or https:// URL, found `{url}`");
                return Err(invalid_value(effective.sources.get(&key), &key, message));
            }
            url.to_owned()
        }
        (None, Some(base)) => base.base_url.clone(),
        (None, None) => {
            let key = key("");
            let built_in: Vec<String> = built_in_providers(None).into_keys().collect();
            let message = format!(
                "`base_url` is required for a provider that is not built in (built in: {}), \
                 e.g. base_url = \"https://host/v1\"",
                built_in.join(", ")
            );
            return Err(invalid_value(
                first_source_under(effective, &key),
                &key,
                message,
            ));
        }
    };
    let fallback = ModelProviderInfo::new(id, &base_url, WireApi::default());
    let base = base.unwrap_or(&fallback);
    let extended = |base: &BTreeMap<String, String>, entry: &Option<BTreeMap<String, String>>| {
        let mut map = base.clone();
        map.extend(entry.iter().flatten().map(|(k, v)| (k.clone(), v.clone())));
        map
    };
    Ok(ModelProviderInfo {
        id: id.to_owned(),
        name: entry.name.clone().unwrap_or_else(|| base.name.clone()),
        base_url,
        // codex's `requires_openai_auth`: the OpenAI key (wharf has no
        // ChatGPT sign-in), unless `env_key` names another variable.
        env_key: entry
            .env_key
            .clone()
            .or_else(|| {
                (entry.requires_openai_auth == Some(true)).then(|| OPENAI_API_KEY_VAR.to_owned())
            })
            .or_else(|| base.env_key.clone()),
        env_key_instructions: entry
            .env_key_instructions
            .clone()
            .or_else(|| base.env_key_instructions.clone()),
        experimental_bearer_token: entry
            .experimental_bearer_token
            .clone()
            .or_else(|| base.experimental_bearer_token.clone()),
        wire_api: entry.wire_api.unwrap_or(base.wire_api),
        query_params: extended(&base.query_params, &entry.query_params),
        http_headers: extended(&base.http_headers, &entry.http_headers),
        env_http_headers: extended(&base.env_http_headers, &entry.env_http_headers),
        request_max_retries: entry
            .request_max_retries
            .unwrap_or(base.request_max_retries)
            .min(MAX_RETRIES),
        stream_max_retries: entry
            .stream_max_retries
            .unwrap_or(base.stream_max_retries)
            .min(MAX_RETRIES),
        stream_idle_timeout_ms: entry
            .stream_idle_timeout_ms
            .unwrap_or(base.stream_idle_timeout_ms),
        supports_websockets: entry.supports_websockets.or(base.supports_websockets),
        stream: entry.stream.unwrap_or(base.stream),
    })
}

/// The source of the first value set beneath `key` (a table), to place an
/// error about the table as a whole.
fn first_source_under<'a>(effective: &'a Layered, key: &[String]) -> Option<&'a super::Source> {
    effective
        .sources
        .range(key.to_vec()..)
        .take_while(|(path, _)| path.starts_with(key))
        .map(|(_, source)| source)
        .next()
}
