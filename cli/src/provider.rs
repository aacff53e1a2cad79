//! The model provider a session talks to: its model list refreshed at
//! start, and its client for a model (`wharf exec`, the interactive
//! session).

use anyhow::Context as _;
use wharf_config::Config;
use wharf_model::client::{ClientConfig, ResponsesClient, Transport};
use wharf_model::models::{ModelInfo, ModelProviderInfo, Models, WireApi};
use wharf_model::protocol::ModelClient;

/// How long a session's start waits for the provider's model list.
const MODELS_REFRESH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

/// Asks the provider for its model list when the cached one is older than
/// its TTL (five minutes), so that the session resolves its model from what
/// the provider serves now. Bounded to a few seconds; a failure is a
/// warning and the models known before stay in use. A provider whose key is
/// missing is not asked: building the session's client says what is wrong.
pub fn refresh_models(models: &mut Models, provider: &ModelProviderInfo) {
    let now = std::time::SystemTime::now();
    if models.is_fresh(now) {
        return;
    }
    let env = |name: &str| std::env::var(name).ok();
    let Ok(config) = ClientConfig::from_provider(provider, &env) else {
        return;
    };
    let config = ClientConfig {
        stream_idle_timeout: MODELS_REFRESH_TIMEOUT,
        ..config
    };
    let Ok(fetcher) = ResponsesClient::new(config) else {
        return;
    };
    if let Err(err) = models.refresh(&fetcher, provider, now) {
        eprintln!("warning: {err}; using the models known before");
    }
}

/// The session's model: `configured` checked against the provider's list
/// when it is known ([`Models::choose`]), what the choice needs said
/// printed on stderr.
pub fn choose_model(models: &Models, configured: Option<&str>) -> ModelInfo {
    let choice = models.choose(configured);
    if let Some(note) = &choice.note {
        eprintln!("{note}");
    }
    if let Some(warning) = &choice.warning {
        eprintln!("warning: {warning}");
    }
    choice.model
}

/// The client of the configured provider (`model_provider`), over the
/// transport `model` and the features choose, its API key and headers read
/// from the environment.
pub fn provider_client(config: &Config, model: &ModelInfo) -> anyhow::Result<Box<dyn ModelClient>> {
    let provider = &config.model_provider;
    let env = |name: &str| std::env::var(name).ok();
    let transport = Transport::for_model(model, &config.features);
    wharf_model::client::client_for_provider(provider, transport, &env).with_context(|| {
        format!(
            "cannot talk to provider `{}` ({} API at {})",
            provider.id,
            provider.wire_api.as_str(),
            provider.base_url
        )
    })
}

/// What the configuration asks that `model` on this provider cannot take:
/// said once per session, and left out of the requests.
pub(crate) fn request_warnings(config: &Config, model: &ModelInfo) -> Vec<String> {
    let mut warnings = Vec::new();
    if config.model_verbosity.is_some() && !model.support_verbosity {
        warnings.push(format!(
            "model_verbosity is not sent: the model {} does not take it",
            model.slug
        ));
    }
    if config.web_search && config.model_provider.wire_api != WireApi::Responses {
        warnings.push(
            "tools.web_search needs a provider with wire_api = \"responses\"; the model gets no \
             web search"
                .to_owned(),
        );
    }
    warnings
}
