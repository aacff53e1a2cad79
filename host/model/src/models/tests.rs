use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::*;

fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let vars: BTreeMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |name| vars.get(name).cloned()
}

/// A compact description of a model's capabilities, for table tests.
fn caps(model: &ModelInfo) -> String {
    let modalities: Vec<&str> = model
        .input_modalities
        .iter()
        .map(|m| match m {
            InputModality::Text => "text",
            InputModality::Image => "image",
        })
        .collect();
    format!(
        "{} [{}] parallel={} patch={:?} shell={:?} trunc={:?}:{} reasoning={} default={}",
        model.slug,
        modalities.join("+"),
        model.supports_parallel_tool_calls,
        model.freeform_tool_type,
        model.shell_type,
        model.truncation_policy.mode,
        model.truncation_policy.limit,
        model.supports_reasoning_summaries,
        model.default,
    )
}

#[test]
fn the_bundled_catalog_is_sound() {
    let bundled = Models::bundled();
    assert!(bundled.len() >= 5, "{bundled:?}");
    let mut slugs: Vec<&str> = bundled.iter().map(|m| m.slug.as_str()).collect();
    slugs.sort_unstable();
    slugs.dedup();
    assert_eq!(slugs.len(), bundled.len(), "duplicate slugs");
    for model in bundled {
        assert!(!model.display_name.is_empty(), "{}", model.slug);
        assert!(model.context_window.is_some(), "{}", model.slug);
        assert!(!model.providers.is_empty(), "{}", model.slug);
    }
    // Exactly one default per built-in provider, and the first default is
    // OpenAI's (the fallback for other providers).
    for provider in [OPENAI_PROVIDER_ID, OLLAMA_PROVIDER_ID] {
        let defaults: Vec<&str> = bundled
            .iter()
            .filter(|m| m.default && m.providers.iter().any(|p| p == provider))
            .map(|m| m.slug.as_str())
            .collect();
        assert_eq!(defaults.len(), 1, "{provider}: {defaults:?}");
    }
    let first_default = bundled.iter().find(|m| m.default).unwrap();
    assert_eq!(first_default.providers, [OPENAI_PROVIDER_ID]);
}

#[test]
fn models_are_found_by_slug_family_or_defaults() {
    let home = tempfile::tempdir().unwrap();
    let models = Models::load(home.path(), OPENAI_PROVIDER_ID);
    let cases = [
        (
            "gpt-5.1-codex",
            "gpt-5.1-codex [text+image] parallel=true patch=Freeform shell=UnifiedExec \
             trunc=Tokens:10000 reasoning=true default=true",
        ),
        (
            "gpt-4.1",
            "gpt-4.1 [text+image] parallel=true patch=Function shell=Shell trunc=Bytes:10000 \
             reasoning=false default=false",
        ),
        // A family member takes its preset's capabilities, never its default.
        (
            "gpt-5.1-codex-max",
            "gpt-5.1-codex-max [text+image] parallel=true patch=Freeform shell=UnifiedExec \
             trunc=Tokens:10000 reasoning=true default=false",
        ),
        (
            "gpt-4.1-2025-04-14",
            "gpt-4.1-2025-04-14 [text+image] parallel=true patch=Function shell=Shell \
             trunc=Bytes:10000 reasoning=false default=false",
        ),
        (
            "qwen3:8b",
            "qwen3:8b [text] parallel=false patch=Function shell=Shell trunc=Bytes:10000 \
             reasoning=false default=false",
        ),
        // No separator after the preset's slug: not a member of its family.
        (
            "gpt-4.10",
            "gpt-4.10 [text] parallel=false patch=Function shell=Shell trunc=Bytes:10000 \
             reasoning=false default=false",
        ),
        (
            "mystery-model",
            "mystery-model [text] parallel=false patch=Function shell=Shell trunc=Bytes:10000 \
             reasoning=false default=false",
        ),
    ];
    for (slug, expected) in cases {
        assert_eq!(caps(&models.find(slug)), expected, "{slug}");
    }
    assert_eq!(
        models.find("mystery-model"),
        ModelInfo::unknown("mystery-model")
    );
    assert_eq!(
        models.find("gpt-5.1-codex-max").display_name,
        "gpt-5.1-codex-max"
    );
    assert!(models.warnings().is_empty());
}

#[test]
fn the_default_model_depends_on_the_provider() {
    let home = tempfile::tempdir().unwrap();
    let cases = [
        (OPENAI_PROVIDER_ID, "gpt-5.1-codex"),
        (OLLAMA_PROVIDER_ID, "gpt-oss"),
        // A provider with no presets gets OpenAI's default, as in codex.
        ("azure", "gpt-5.1-codex"),
    ];
    for (provider, expected) in cases {
        let models = Models::load(home.path(), provider);
        assert_eq!(models.default_model().slug, expected, "{provider}");
        assert_eq!(models.resolve(None).slug, expected, "{provider}");
        assert_eq!(models.resolve(Some("gpt-4.1")).slug, "gpt-4.1");
    }
    let ollama = Models::load(home.path(), OLLAMA_PROVIDER_ID);
    let listed: Vec<String> = ollama.list().into_iter().map(|m| m.slug).collect();
    assert_eq!(listed, ["gpt-oss", "qwen3", "llama3.1"]);
    assert_eq!(
        Models::load(home.path(), "azure").list().len(),
        Models::bundled().len()
    );
}

/// Answers from a queue and records what it was asked.
#[derive(Default)]
struct FakeFetcher {
    answers: RefCell<VecDeque<Result<FetchResult, String>>>,
    asked: RefCell<Vec<(String, Option<String>)>>,
}

impl FakeFetcher {
    fn answering(answers: Vec<Result<FetchResult, String>>) -> FakeFetcher {
        FakeFetcher {
            answers: RefCell::new(answers.into()),
            asked: RefCell::default(),
        }
    }

    fn asked(&self) -> Vec<(String, Option<String>)> {
        self.asked.borrow().clone()
    }
}

impl ModelsFetcher for FakeFetcher {
    fn fetch(&self, url: &str, etag: Option<&str>) -> Result<FetchResult, String> {
        self.asked
            .borrow_mut()
            .push((url.to_owned(), etag.map(str::to_owned)));
        self.answers
            .borrow_mut()
            .pop_front()
            .unwrap_or_else(|| Err("no answer queued".to_owned()))
    }
}

fn fresh(body: &str, etag: &str) -> Result<FetchResult, String> {
    Ok(FetchResult::Fresh {
        body: body.to_owned(),
        etag: Some(etag.to_owned()),
    })
}

const CODEX_LIST: &str = r#"{"models": [
    {"slug": "gpt-9", "display_name": "GPT-9", "input_modalities": ["text", "image"],
     "supports_parallel_tool_calls": true, "apply_patch_tool_type": null,
     "shell_type": "shell_command", "truncation_policy": {"mode": "tokens", "limit": 5000},
     "default": true, "priority": 1, "visibility": "list"},
    {"display_name": "no slug"}
]}"#;

fn cached_file(home: &Path, provider: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(cache_path(home, provider)).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn a_refresh_is_cached_with_its_etag_and_used_until_the_ttl() {
    let home = tempfile::tempdir().unwrap();
    let provider = built_in_providers(None)[OPENAI_PROVIDER_ID].clone();
    let fetcher = FakeFetcher::answering(vec![fresh(CODEX_LIST, "\"v1\"")]);
    let mut models = Models::load(home.path(), OPENAI_PROVIDER_ID);

    let outcome = models.refresh(&fetcher, &provider, at(1_000)).unwrap();
    assert_eq!(outcome, RefreshOutcome::Refreshed(1));
    assert_eq!(
        fetcher.asked(),
        [("https://api.openai.com/v1/models".to_owned(), None)]
    );
    // The entry without a slug was skipped, with a warning.
    assert_eq!(models.warnings().len(), 1, "{:?}", models.warnings());
    assert!(
        models.warnings()[0].contains("#1"),
        "{:?}",
        models.warnings()
    );
    let cached = cached_file(home.path(), OPENAI_PROVIDER_ID);
    assert_eq!(cached["fetched_at"], 1_000);
    assert_eq!(cached["etag"], "\"v1\"");

    // A later load uses the cache: the provider's description and default.
    let models = Models::load(home.path(), OPENAI_PROVIDER_ID);
    assert!(models.warnings().is_empty(), "{:?}", models.warnings());
    assert_eq!(
        caps(&models.find("gpt-9")),
        "gpt-9 [text+image] parallel=true patch=Function shell=Shell trunc=Tokens:5000 \
         reasoning=false default=true"
    );
    assert_eq!(models.default_model().slug, "gpt-9");
    // Slugs the provider did not describe still come from the presets.
    assert!(models.find("gpt-5.1-codex").supports_image_input());

    // Within the TTL nothing is fetched.
    let mut models = models;
    let idle = FakeFetcher::default();
    let outcome = models.refresh(&idle, &provider, at(1_299)).unwrap();
    assert_eq!(outcome, RefreshOutcome::UpToDate);
    assert!(idle.asked().is_empty());
    assert!(models.is_fresh(at(1_299)));
    assert!(!models.is_fresh(at(1_300)));
}

#[test]
fn a_stale_cache_is_revalidated_with_its_etag() {
    let home = tempfile::tempdir().unwrap();
    let provider = built_in_providers(None)[OPENAI_PROVIDER_ID].clone();
    let first = FakeFetcher::answering(vec![fresh(CODEX_LIST, "\"v1\"")]);
    let mut models = Models::load(home.path(), OPENAI_PROVIDER_ID);
    models.refresh(&first, &provider, at(1_000)).unwrap();

    // 304: the list stays, its clock is reset on disk too.
    let mut models = Models::load(home.path(), OPENAI_PROVIDER_ID);
    let not_modified = FakeFetcher::answering(vec![Ok(FetchResult::NotModified)]);
    let outcome = models.refresh(&not_modified, &provider, at(2_000)).unwrap();
    assert_eq!(outcome, RefreshOutcome::NotModified);
    assert_eq!(
        not_modified.asked(),
        [(
            "https://api.openai.com/v1/models".to_owned(),
            Some("\"v1\"".to_owned())
        )]
    );
    assert_eq!(models.find("gpt-9").truncation_policy.limit, 5000);
    let cached = cached_file(home.path(), OPENAI_PROVIDER_ID);
    assert_eq!(cached["fetched_at"], 2_000);
    assert_eq!(cached["etag"], "\"v1\"");
    assert_eq!(cached["models"].as_array().unwrap().len(), 1);
    assert!(models.is_fresh(at(2_100)));

    // A new list replaces the old one.
    let replaced =
        FakeFetcher::answering(vec![fresh(r#"{"models": [{"slug": "gpt-10"}]}"#, "\"v2\"")]);
    let outcome = models.refresh(&replaced, &provider, at(3_000)).unwrap();
    assert_eq!(outcome, RefreshOutcome::Refreshed(1));
    let slugs: Vec<String> = models.list().into_iter().map(|m| m.slug).collect();
    assert_eq!(slugs, ["gpt-10"]);
    assert_eq!(models.find("gpt-10"), ModelInfo::unknown("gpt-10"));
    // The provider marks no default: OpenAI's preset is not listed, and no
    // listed model has a preset, so the preset default stays.
    assert_eq!(models.default_model().slug, "gpt-5.1-codex");
    assert_eq!(
        cached_file(home.path(), OPENAI_PROVIDER_ID)["etag"],
        "\"v2\""
    );
}

#[test]
fn a_corrupt_cache_is_ignored_with_a_warning() {
    for contents in ["{not json", r#"{"fetched_at": "yesterday", "models": []}"#] {
        let home = tempfile::tempdir().unwrap();
        let path = cache_path(home.path(), OPENAI_PROVIDER_ID);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, contents).unwrap();
        let mut models = Models::load(home.path(), OPENAI_PROVIDER_ID);
        assert_eq!(models.warnings().len(), 1, "{:?}", models.warnings());
        let warning = &models.warnings()[0];
        assert!(
            warning.starts_with(&format!(
                "{}: ignoring the cached model list",
                path.display()
            )),
            "{warning}"
        );
        assert_eq!(models.default_model().slug, "gpt-5.1-codex");
        assert!(!models.is_fresh(at(0)));
        // The next refresh fetches without an etag and repairs the file.
        let provider = built_in_providers(None)[OPENAI_PROVIDER_ID].clone();
        let fetcher = FakeFetcher::answering(vec![fresh(CODEX_LIST, "\"v1\"")]);
        models.refresh(&fetcher, &provider, at(10)).unwrap();
        assert_eq!(fetcher.asked()[0].1, None);
        assert!(
            Models::load(home.path(), OPENAI_PROVIDER_ID)
                .warnings()
                .is_empty()
        );
    }
}

#[test]
fn failed_refreshes_keep_the_known_models() {
    let home = tempfile::tempdir().unwrap();
    let provider = ModelProviderInfo {
        query_params: [("api-version".to_owned(), "2025-04-01 preview".to_owned())].into(),
        ..ModelProviderInfo::new("azure", "https://example.test/openai/", WireApi::Responses)
    };
    let url = "https://example.test/openai/models?api-version=2025-04-01%20preview";
    let cases = [
        (
            Err("connection refused".to_owned()),
            format!("cannot fetch the model list from {url}: connection refused"),
        ),
        (
            fresh("\"nope\"", "x"),
            format!(
                "the model list from {url} is not understood: invalid type: string \"nope\", \
                 expected struct List"
            ),
        ),
        (
            fresh("{}", "x"),
            format!(
                "the model list from {url} is not understood: it has neither `models` nor `data`"
            ),
        ),
        (
            Ok(FetchResult::NotModified),
            format!(
                "cannot fetch the model list from {url}: the provider answered 304 Not \
                 Modified, but there is no cached list to keep"
            ),
        ),
    ];
    for (answer, expected) in cases {
        let mut models = Models::load(home.path(), "azure");
        let fetcher = FakeFetcher::answering(vec![answer]);
        let err = models.refresh(&fetcher, &provider, at(10)).unwrap_err();
        let message = err.to_string();
        assert!(message.starts_with(&expected), "{message}");
        assert_eq!(models.default_model().slug, "gpt-5.1-codex");
        assert!(!cache_path(home.path(), "azure").exists());
    }
}

#[test]
fn an_openai_style_list_is_described_from_the_presets() {
    let home = tempfile::tempdir().unwrap();
    let provider = built_in_providers(None)[OLLAMA_PROVIDER_ID].clone();
    let body = r#"{"object": "list", "data": [
        {"id": "mistral:7b", "object": "model"},
        {"id": "qwen3:8b", "object": "model"},
        {"id": "gpt-oss:20b", "object": "model"}
    ]}"#;
    let fetcher = FakeFetcher::answering(vec![Ok(FetchResult::Fresh {
        body: body.to_owned(),
        etag: None,
    })]);
    let mut models = Models::load(home.path(), OLLAMA_PROVIDER_ID);
    assert_eq!(
        models.refresh(&fetcher, &provider, at(5)).unwrap(),
        RefreshOutcome::Refreshed(3)
    );
    assert_eq!(fetcher.asked()[0].0, "http://localhost:11434/v1/models");
    // The provider's default preset is installed as gpt-oss:20b.
    assert_eq!(models.default_model().slug, "gpt-oss:20b");
    assert_eq!(models.find("mistral:7b"), ModelInfo::unknown("mistral:7b"));
    assert_eq!(models.find("qwen3:8b").context_window, Some(40960));

    // Without the default preset installed: the first listed model wharf
    // has a preset for.
    let fetcher = FakeFetcher::answering(vec![fresh(
        r#"{"data": [{"id": "mistral:7b"}, {"id": "llama3.1:8b"}, {"id": "qwen3:8b"}]}"#,
        "e",
    )]);
    let mut models = Models::load(home.path(), OLLAMA_PROVIDER_ID);
    models.refresh(&fetcher, &provider, at(1_000)).unwrap();
    assert_eq!(models.default_model().slug, "llama3.1:8b");
}

#[test]
fn cache_paths_are_safe_file_names() {
    let home = Path::new("/h");
    assert_eq!(
        cache_path(home, "openai"),
        Path::new("/h/cache/models/openai.json")
    );
    assert_eq!(
        cache_path(home, "../my.proxy"),
        Path::new("/h/cache/models/___my_proxy.json")
    );
}

#[test]
fn api_keys_come_from_the_named_variable() {
    let providers = built_in_providers(None);
    let openai = &providers[OPENAI_PROVIDER_ID];
    let ollama = &providers[OLLAMA_PROVIDER_ID];
    let custom = ModelProviderInfo {
        env_key: Some("MY_KEY".to_owned()),
        ..ModelProviderInfo::new("mine", "http://h/v1", WireApi::Chat)
    };
    let with_token = ModelProviderInfo {
        experimental_bearer_token: Some("tok".to_owned()),
        ..custom.clone()
    };
    let missing = |provider: &str, var: &str, instructions: Option<&str>| {
        Err(ProviderError::MissingApiKey {
            provider: provider.to_owned(),
            var: var.to_owned(),
            instructions: instructions.map(str::to_owned),
        })
    };
    let openai_help = Some("create a key at https://platform.openai.com/api-keys");
    type Case<'a> = (
        &'a ModelProviderInfo,
        &'a [(&'a str, &'a str)],
        Result<Option<String>, ProviderError>,
    );
    let cases: [Case; 7] = [
        (
            openai,
            &[("OPENAI_API_KEY", "sk-1")],
            Ok(Some("sk-1".to_owned())),
        ),
        (
            openai,
            &[],
            missing("openai", "OPENAI_API_KEY", openai_help),
        ),
        (
            openai,
            &[("OPENAI_API_KEY", "  ")],
            missing("openai", "OPENAI_API_KEY", openai_help),
        ),
        (ollama, &[], Ok(None)),
        (&custom, &[("MY_KEY", "k")], Ok(Some("k".to_owned()))),
        (
            &custom,
            &[("OPENAI_API_KEY", "sk-1")],
            missing("mine", "MY_KEY", None),
        ),
        (&with_token, &[], Ok(Some("tok".to_owned()))),
    ];
    for (provider, vars, expected) in cases {
        assert_eq!(
            provider.api_key(&env(vars)),
            expected,
            "{} {vars:?}",
            provider.id
        );
    }
    assert_eq!(
        openai.api_key(&env(&[])).unwrap_err().to_string(),
        "model provider `openai` needs an API key: set the environment variable \
         OPENAI_API_KEY (create a key at https://platform.openai.com/api-keys)"
    );
    assert_eq!(
        custom.api_key(&env(&[])).unwrap_err().to_string(),
        "model provider `mine` needs an API key: set the environment variable MY_KEY"
    );
    // The token never shows in debug output.
    assert!(!format!("{with_token:?}").contains("tok\""));
}

#[test]
fn built_in_providers_follow_codex() {
    let providers = built_in_providers(None);
    let keys: Vec<&str> = providers.keys().map(String::as_str).collect();
    assert_eq!(keys, ["lmstudio", "ollama", "openai"]);
    let openai = &providers[OPENAI_PROVIDER_ID];
    assert_eq!(openai.base_url, "https://api.openai.com/v1");
    assert_eq!(openai.wire_api, WireApi::Responses);
    assert_eq!(openai.env_key.as_deref(), Some("OPENAI_API_KEY"));
    assert_eq!(
        (openai.request_max_retries, openai.stream_max_retries),
        (4, 5)
    );
    assert_eq!(openai.stream_idle_timeout(), Duration::from_secs(300));
    assert_eq!(
        openai.url("/responses"),
        "https://api.openai.com/v1/responses"
    );
    let headers = openai.headers(&env(&[
        ("OPENAI_PROJECT", "p1"),
        ("OPENAI_ORGANIZATION", ""),
    ]));
    assert_eq!(
        headers,
        BTreeMap::from([("OpenAI-Project".to_owned(), "p1".to_owned())])
    );
    let ollama = &providers[OLLAMA_PROVIDER_ID];
    assert_eq!(
        ollama.url("chat/completions"),
        "http://localhost:11434/v1/chat/completions"
    );
    assert_eq!(
        (ollama.wire_api, ollama.env_key.as_deref()),
        (WireApi::Chat, None)
    );

    let proxied = built_in_providers(Some("http://127.0.0.1:9/v1"));
    assert_eq!(
        proxied[OPENAI_PROVIDER_ID].base_url,
        "http://127.0.0.1:9/v1"
    );
    assert_eq!(
        built_in_providers(Some(" "))[OPENAI_PROVIDER_ID].base_url,
        OPENAI_BASE_URL
    );
}

#[test]
fn the_catalog_knows_which_models_read_images() {
    let home = tempfile::tempdir().unwrap();
    let models = Models::load(home.path(), OPENAI_PROVIDER_ID);
    assert!(models.find("gpt-5.1-codex").supports_image_input());
    assert!(!models.find("qwen3:8b").supports_image_input());
    assert_eq!(
        ModelInfo::unknown("m").truncation_policy,
        TruncationPolicy {
            mode: TruncationMode::Bytes,
            limit: 10_000
        }
    );
}

/// `model_verbosity` goes to the gpt-5 family (as codex's catalog says,
/// not its codex models), and to a model a provider's `/models` says
/// takes it.
#[test]
fn the_catalog_knows_which_models_take_a_verbosity() {
    let home = tempfile::tempdir().unwrap();
    let models = Models::load(home.path(), OPENAI_PROVIDER_ID);
    let cases = [
        ("gpt-5", true),
        ("gpt-5.1", true),
        ("gpt-5.1-mini", true),
        ("gpt-5.1-codex", false),
        ("gpt-5.1-codex-max", false),
        ("gpt-4.1", false),
        ("qwen3:8b", false),
        ("mystery-model", false),
    ];
    for (slug, expected) in cases {
        assert_eq!(models.find(slug).support_verbosity, expected, "{slug}");
    }
    let described: ModelInfo =
        serde_json::from_str(r#"{"slug": "x", "support_verbosity": true}"#).unwrap();
    assert!(described.support_verbosity);
}

/// The models of provider `provider` once its `/models` answer was `ids`.
fn serving(home: &Path, provider: &str, ids: &[&str]) -> Models {
    let data: Vec<serde_json::Value> = ids.iter().map(|id| serde_json::json!({"id": id})).collect();
    let body = serde_json::json!({ "object": "list", "data": data }).to_string();
    let fetcher = FakeFetcher::answering(vec![fresh(&body, "e")]);
    let info = ModelProviderInfo::new(provider, "http://127.0.0.1:9/v1", WireApi::Chat);
    let mut models = Models::load(home, provider);
    models.refresh(&fetcher, &info, at(1)).unwrap();
    models
}

#[test]
fn a_provider_serving_one_model_needs_no_model_key() {
    let home = tempfile::tempdir().unwrap();
    let models = serving(home.path(), "local", &["smollm2-135m"]);
    let choice = models.choose(None);
    assert_eq!(choice.model.slug, "smollm2-135m");
    assert_eq!(
        choice.note.as_deref(),
        Some("model smollm2-135m: the only one provider `local` serves")
    );
    assert_eq!(choice.warning, None);
    // Configured, it is used as it is, and checked.
    let choice = models.choose(Some("smollm2-135m"));
    assert_eq!((choice.note, choice.warning), (None, None));
}

#[test]
fn a_model_the_provider_does_not_list_is_warned_about() {
    let home = tempfile::tempdir().unwrap();
    let models = serving(home.path(), "local", &["smollm2-135m"]);
    let choice = models.choose(Some("gpt-5.1-codex"));
    assert_eq!(choice.model.slug, "gpt-5.1-codex");
    assert_eq!(choice.note, None);
    assert_eq!(
        choice.warning.as_deref(),
        Some(
            "provider `local` does not list the model gpt-5.1-codex (it serves smollm2-135m); \
             the request may fail: check -m or `model`"
        )
    );

    // Unconfigured, with several models none of which the catalog knows:
    // the default is sent, and the warning says how to choose.
    let ids: Vec<String> = (1..=10).map(|n| format!("m{n}")).collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let home = tempfile::tempdir().unwrap();
    let models = serving(home.path(), "local", &ids);
    let choice = models.choose(None);
    assert_eq!(choice.model.slug, "gpt-5.1-codex");
    assert_eq!(
        choice.warning.as_deref(),
        Some(
            "no model is configured and provider `local` does not list the default, \
             gpt-5.1-codex (it serves m1, m2, m3, m4, m5, m6, m7, m8, … (10 in all)); choose \
             one with -m or `model`"
        )
    );
}

#[test]
fn model_choice_checks_only_what_a_known_list_says() {
    let home = tempfile::tempdir().unwrap();
    // No list yet: nothing to check against.
    let models = Models::load(home.path(), "local");
    assert_eq!(
        models.choose(Some("anything")),
        Choice {
            model: ModelInfo::unknown("anything"),
            note: None,
            warning: None
        }
    );
    // Ollama's `NAME` is its `NAME:latest`.
    let home = tempfile::tempdir().unwrap();
    let models = serving(
        home.path(),
        OLLAMA_PROVIDER_ID,
        &["qwen3:latest", "mistral:7b"],
    );
    assert_eq!(models.choose(Some("qwen3")).warning, None);
    assert!(models.choose(Some("qwen3:8b")).warning.is_some());
    // The built-in OpenAI provider keeps the catalog's choice, unchecked.
    let home = tempfile::tempdir().unwrap();
    let models = serving(home.path(), OPENAI_PROVIDER_ID, &["gpt-4.1"]);
    let choice = models.choose(None);
    assert_eq!(choice.model.slug, models.resolve(None).slug);
    assert_eq!((choice.note, choice.warning), (None, None));
    assert_eq!(models.choose(Some("o9")).warning, None);
}
