//! `model`, `model_provider`, `[model_providers.ID]`, `approval_policy`
//! and `personality`.

use std::collections::BTreeMap;

use super::{Fixture, source_of};
use crate::provider::{OPENAI_BASE_URL, WireApi};
use crate::{ApprovalPolicy, ConfigError, Personality, Source};

#[test]
fn bad_model_settings_name_file_line_column_and_key() {
    // (config.toml text, the error's expected suffix after the file path)
    let cases = [
        (
            "[model_providers.x]\nbase_url = \"http://h/v1\"\nwire_api = \"grpc\"\n",
            "config.toml:3:12: model_providers.x.wire_api: unknown variant `grpc`, expected `responses` or `chat`",
        ),
        (
            "[model_providers.x]\nbase_url = \"http://h/v1\"\nwire_api = 2\n",
            "config.toml:3:12: model_providers.x.wire_api: invalid type: integer `2`, expected \
             one of \"responses\", \"chat\"",
        ),
        (
            "approval_policy = \"sometimes\"\n",
            "config.toml:1:19: approval_policy: unknown variant `sometimes`, expected one of \
             `untrusted`, `on-failure`, `on-request`, `never`",
        ),
        (
            "[profiles.ci]\napproval_policy = true\n",
            "config.toml:2:19: profiles.ci.approval_policy: invalid type: boolean `true`, \
             expected one of \"untrusted\", \"on-failure\", \"on-request\", \"never\", or a \
             table `{ granular = { … } }`",
        ),
        (
            "personality = \"grumpy\"\n",
            "config.toml:1:15: personality: unknown variant `grumpy`, expected one of `none`, \
             `friendly`, `pragmatic`",
        ),
        (
            "[model_providers.x]\nbase_url = \"http://h/v1\"\nrequest_max_retries = -1\n",
            "config.toml:3:23: model_providers.x.request_max_retries: invalid value: integer \
             `-1`, expected u64",
        ),
        (
            "model = \"m\"\n[model_providers.azure]\nenv_key = \"AZURE_KEY\"\n",
            "config.toml:3:1: model_providers.azure: `base_url` is required for a provider that \
             is not built in (built in: lmstudio, ollama, openai), e.g. base_url = \"https://host/v1\"",
        ),
        (
            "[model_providers.local]\nbase_url = \"localhost:8080\"\n",
            "config.toml:2:1: model_providers.local.base_url: expected an http:// or https:// \
             URL, found `localhost:8080`",
        ),
        (
            "model_provider = \"nope\"\n",
            "config.toml:1:1: model_provider: unknown model provider `nope`; known: lmstudio, \
             ollama, openai (define it under [model_providers.nope])",
        ),
        (
            "model_provider = \"azure\"\n[profiles.x.model_providers.azure]\nbase_url = \"http://h\"\n",
            "config.toml:1:1: model_provider: unknown model provider `azure`; known: lmstudio, \
             ollama, openai (define it under [model_providers.azure])",
        ),
    ];
    for (text, expected) in cases {
        let fixture = Fixture::new();
        let path = fixture.user_config(text);
        let err = fixture.load_with(|_| {}).unwrap_err();
        let message = err.to_string();
        let expected = format!(
            "{}{}",
            path.display(),
            expected.trim_start_matches("config.toml")
        );
        assert_eq!(message, expected, "for config:\n{text}");
        assert!(!err.is_usage(), "{message}");
    }
}

#[test]
fn a_provider_table_without_keys_is_an_error_without_a_place() {
    let fixture = Fixture::new();
    fixture.user_config("[model_providers.empty]\n");
    let err = fixture.load_with(|_| {}).unwrap_err();
    assert!(matches!(err, ConfigError::Value { .. }), "{err:?}");
    assert!(
        err.to_string()
            .starts_with("model_providers.empty: `base_url` is required"),
        "{err}"
    );
    assert!(!err.is_usage());

    let err = fixture
        .load_with(|options| options.overrides = vec!["model_provider=gone".to_owned()])
        .unwrap_err();
    assert!(
        err.to_string().starts_with("model_providers.empty:"),
        "{err}"
    );
}

#[test]
fn configured_providers_lay_over_the_built_in_ones() {
    let fixture = Fixture::new();
    fixture.project_config(
        "[model_providers.azure]\nstream_idle_timeout_ms = 1000\nbase_url = \"https://old\"\n\
         env_http_headers = { \"X-Org\" = \"AZURE_ORG\" }\n",
    );
    fixture.user_config(
        "model_provider = \"ollama\"\n\
         [model_providers.ollama]\nbase_url = \"http://gpu:11434/v1/\"\n\
         [model_providers.openai]\nrequest_max_retries = 500\nhttp_headers = { \"X-Team\" = \"a\" }\n\
         [model_providers.azure]\nname = \"Azure\"\n\
         base_url = \"https://x.openai.azure.com/openai\"\nenv_key = \"AZURE_OPENAI_API_KEY\"\n\
         wire_api = \"responses\"\nquery_params = { api-version = \"2025-04-01-preview\" }\n",
    );
    fixture.trust();
    let config = fixture
        .load_with(|options| options.openai_base_url = Some("http://proxy/v1".to_owned()))
        .unwrap();
    assert!(config.warnings.is_empty(), "{:?}", config.warnings);

    let selected = &config.model_provider;
    assert_eq!(selected.id, "ollama");
    assert_eq!(selected.name, "Ollama");
    assert_eq!(selected.base_url, "http://gpu:11434/v1/");
    assert_eq!(selected.url("models"), "http://gpu:11434/v1/models");
    assert_eq!(selected.wire_api, WireApi::Chat);
    assert_eq!(selected, &config.model_providers["ollama"]);

    let openai = &config.model_providers["openai"];
    assert_eq!(
        openai.base_url, "http://proxy/v1",
        "OPENAI_BASE_URL applies"
    );
    assert_eq!(openai.request_max_retries, 100, "clamped");
    assert_eq!(openai.stream_max_retries, 5);
    assert_eq!(openai.env_key.as_deref(), Some("OPENAI_API_KEY"));
    assert_eq!(openai.wire_api, WireApi::Responses);
    assert_eq!(
        openai.http_headers,
        BTreeMap::from([("X-Team".to_owned(), "a".to_owned())])
    );
    assert_eq!(
        openai.env_http_headers.keys().collect::<Vec<_>>(),
        ["OpenAI-Organization", "OpenAI-Project"]
    );

    let azure = &config.model_providers["azure"];
    assert_eq!(azure.name, "Azure");
    assert_eq!(azure.base_url, "https://x.openai.azure.com/openai");
    assert_eq!(azure.wire_api, WireApi::Responses);
    assert_eq!(azure.env_key.as_deref(), Some("AZURE_OPENAI_API_KEY"));
    assert_eq!(azure.stream_idle_timeout_ms, 1000, "from the project file");
    assert_eq!(
        azure.env_http_headers,
        BTreeMap::from([("X-Org".to_owned(), "AZURE_ORG".to_owned())])
    );
    assert_eq!(
        azure.url("responses"),
        "https://x.openai.azure.com/openai/responses?api-version=2025-04-01-preview"
    );
    let key = azure.api_key(&|name| (name == "AZURE_OPENAI_API_KEY").then(|| "k".to_owned()));
    assert_eq!(key, Ok(Some("k".to_owned())));

    // A provider's own settings default like codex's: chat, 4/5 retries.
    let fixture = Fixture::new();
    fixture.user_config(
        "model_provider = \"local\"\n[model_providers.local]\nbase_url = \"http://127.0.0.1:8080/v1\"\n",
    );
    let config = fixture
        .load_with(|options| options.openai_base_url = Some("http://proxy/v1".to_owned()))
        .unwrap();
    let local = &config.model_provider;
    assert_eq!(
        (
            local.name.as_str(),
            local.wire_api,
            local.env_key.as_deref(),
            local.request_max_retries,
            local.stream_max_retries,
            local.stream_idle_timeout_ms
        ),
        ("local", WireApi::Chat, None, 4, 5, 300_000)
    );

    // The configured base URL beats OPENAI_BASE_URL.
    let fixture = Fixture::new();
    fixture.user_config("[model_providers.openai]\nbase_url = \"https://mine/v1\"\n");
    let config = fixture
        .load_with(|options| options.openai_base_url = Some("http://proxy/v1".to_owned()))
        .unwrap();
    assert_eq!(config.model_provider.base_url, "https://mine/v1");
    assert_eq!(
        Fixture::new().load().model_provider.base_url,
        OPENAI_BASE_URL
    );
}

#[test]
fn approval_policy_personality_and_model_follow_the_layers() {
    let fixture = Fixture::new();
    fixture.user_config(
        "approval_policy = \"on-request\"\npersonality = \"friendly\"\n\
         [profiles.auto]\napproval_policy = \"never\"\npersonality = \"pragmatic\"\n",
    );
    let config = fixture.load();
    assert_eq!(config.approval_policy, Some(ApprovalPolicy::OnRequest));
    assert_eq!(config.personality, Personality::Friendly);

    let config = fixture
        .load_with(|options| options.profile = Some("auto".to_owned()))
        .unwrap();
    assert_eq!(config.approval_policy, Some(ApprovalPolicy::Never));
    assert_eq!(config.personality, Personality::Pragmatic);

    let config = fixture
        .load_with(|options| {
            options.approval_policy = Some(ApprovalPolicy::Untrusted);
            options.model = Some("gpt-4.1".to_owned());
            options.overrides = vec![
                "approval_policy=on-failure".to_owned(),
                "model=o3".to_owned(),
                "model_provider=ollama".to_owned(),
            ];
        })
        .unwrap();
    assert_eq!(config.approval_policy, Some(ApprovalPolicy::Untrusted));
    assert_eq!(config.model.as_deref(), Some("gpt-4.1"));
    assert_eq!(config.model_provider.id, "ollama");
    assert_eq!(
        source_of(&config, "approval_policy"),
        &Source::Flag("--ask-for-approval")
    );
    assert_eq!(source_of(&config, "model"), &Source::Flag("--model"));
    assert_eq!(
        source_of(&config, "model_provider"),
        &Source::Override("model_provider=ollama".to_owned())
    );

    // A bad -c value is a usage error naming the argument.
    let err = fixture
        .load_with(|options| options.overrides = vec!["approval_policy=always".to_owned()])
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "-c approval_policy=always: approval_policy: unknown variant `always`, expected one of \
         `untrusted`, `on-failure`, `on-request`, `never`"
    );
    assert!(err.is_usage());
}
