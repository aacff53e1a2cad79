//! codex's shapes of config.toml keys, each written as codex documents it:
//! it loads, the value reaches `Config`, and where wharf differs on purpose
//! a warning names the key and says what wharf does instead. One row per
//! shape.

use super::Fixture;
use crate::provider::WireApi;
use crate::requirements::RequirementsSource;
use crate::toml_types::McpToolApproval;
use crate::{ApprovalPolicy, ApprovalPrompts, Config, McpTransport};

/// (what the row is about, the user's config.toml, what `Config` must say,
/// the warnings, each a substring of one warning; `{user}` is the file's
/// path)
type Row = (
    &'static str,
    &'static str,
    fn(&Config),
    &'static [&'static str],
);

const ROWS: &[Row] = &[
    (
        "granular approvals: on-request with some prompts refused",
        "approval_policy = { granular = { sandbox_approval = false, rules = true, \
         mcp_elicitations = false } }\n",
        |config| {
            assert_eq!(config.approval_policy, Some(ApprovalPolicy::OnRequest));
            assert_eq!(
                config.approval_prompts,
                ApprovalPrompts {
                    sandbox_approval: false,
                    rules: true,
                    skill_approval: false,
                    request_permissions: false,
                    mcp_elicitations: false,
                }
            );
        },
        &["{user}:1:60: `approval_policy.granular.rules`: wharf has no execpolicy rules"],
    ),
    (
        "granular approvals as a table, an unknown category warns at its line",
        "[approval_policy.granular]\nsandbox_approval = true\nmcp_elicitations = true\n\
         skill_approval = true\nno_such_prompt = false\n",
        |config| {
            assert_eq!(config.approval_policy, Some(ApprovalPolicy::OnRequest));
            assert!(config.approval_prompts.sandbox_approval);
            assert!(config.approval_prompts.skill_approval);
        },
        &[
            "{user}:4:1: `approval_policy.granular.skill_approval`: wharf has no skills",
            "{user}:5:1: unknown key `approval_policy.granular.no_such_prompt` (ignored)",
        ],
    ),
    (
        "a named policy lets every prompt through",
        "approval_policy = \"untrusted\"\n",
        |config| {
            assert_eq!(config.approval_policy, Some(ApprovalPolicy::Untrusted));
            assert_eq!(config.approval_prompts, ApprovalPrompts::default());
        },
        &[],
    ),
    (
        "lmstudio is built in, as codex's",
        "model_provider = \"lmstudio\"\nmodel = \"openai/gpt-oss-20b\"\n",
        |config| {
            let provider = &config.model_provider;
            assert_eq!(provider.id, "lmstudio");
            assert_eq!(provider.base_url, "http://localhost:1234/v1");
            assert_eq!(provider.wire_api, WireApi::Responses);
            assert_eq!(provider.env_key, None);
        },
        &[],
    ),
    (
        "older codex's oss is the built-in ollama, said so",
        "model_provider = \"oss\"\n",
        |config| {
            assert_eq!(config.model_provider.id, "ollama");
            assert_eq!(config.model_provider.base_url, "http://localhost:11434/v1");
        },
        &["{user}:1:1: `model_provider`: older codex's `oss` provider was a local Ollama"],
    ),
    (
        "a provider of one's own named oss is that provider",
        "model_provider = \"oss\"\n[model_providers.oss]\nbase_url = \"http://127.0.0.1:9/v1\"\n",
        |config| {
            assert_eq!(config.model_provider.id, "oss");
            assert_eq!(config.model_provider.base_url, "http://127.0.0.1:9/v1");
        },
        &[],
    ),
    (
        "requires_openai_auth sends the OpenAI key; supports_websockets picks the transport",
        "model_provider = \"proxy\"\n[model_providers.proxy]\nbase_url = \"http://127.0.0.1:9/v1\"\n\
         wire_api = \"responses\"\nrequires_openai_auth = true\nsupports_websockets = false\n",
        |config| {
            let provider = &config.model_provider;
            assert_eq!(provider.env_key.as_deref(), Some("OPENAI_API_KEY"));
            assert_eq!(provider.supports_websockets, Some(false));
            assert_eq!(config.model_providers["openai"].supports_websockets, None);
        },
        &[
            "{user}:5:1: `model_providers.proxy.requires_openai_auth`: wharf has no ChatGPT \
           sign-in: this provider is sent the API key in `OPENAI_API_KEY`",
        ],
    ),
    (
        "env_vars takes names and { name, source } tables",
        "[mcp_servers.docs]\ncommand = \"docs-mcp\"\nenv_vars = [\"PLAIN\", { name = \"LOCAL\", \
         source = \"local\" }, { name = \"REMOTE\", source = \"remote\" }, { name = \"BARE\" }]\n",
        |config| {
            let McpTransport::Stdio { env_vars, .. } = &config.mcp_servers["docs"].transport else {
                panic!("not stdio");
            };
            assert_eq!(env_vars, &["PLAIN", "LOCAL", "REMOTE", "BARE"]);
        },
        &[
            "{user}:3:1: `mcp_servers.docs.env_vars.2`: `REMOTE` has source = \"remote\": wharf \
           runs every MCP server on this machine",
        ],
    ),
    (
        "a server name with a dot or a space is skipped, the rest loads",
        "[mcp_servers.\"github.com\"]\ncommand = \"gh-mcp\"\n[mcp_servers.\"my docs\"]\n\
         url = \"https://h/mcp\"\n[mcp_servers.ok]\ncommand = \"ok-mcp\"\n",
        |config| {
            let names: Vec<&str> = config.mcp_servers.keys().map(String::as_str).collect();
            assert_eq!(names, ["ok"]);
            let skipped: Vec<&str> = config.mcp_skipped.keys().map(String::as_str).collect();
            assert_eq!(skipped, ["github.com", "my docs"]);
            assert!(config.mcp_skipped["github.com"].contains("invalid server name"));
        },
        &[
            "{user}:2:1: mcp_servers.\"github.com\": invalid server name: use only ASCII \
             letters, digits, `-` and `_` (the server is skipped)",
            "{user}:4:1: mcp_servers.\"my docs\": invalid server name",
        ],
    ),
    (
        "[features.NAME] tables: enabled counts, other settings warn",
        "[features.hooks]\nenabled = true\nmax_depth = 3\n[features.view_image]\nenabled = false\n\
         [features.plan_tool]\nsomething = 1\n",
        |config| {
            assert!(config.features.enabled("hooks"));
            assert!(!config.features.enabled("view_image"));
            // No `enabled`: the feature keeps its default.
            assert!(config.features.enabled("plan_tool"));
        },
        &[
            "{user}:3:1: `features.hooks.max_depth`: wharf's features take no settings (ignored)",
            "{user}:7:1: `features.plan_tool.something`: wharf's features take no settings",
        ],
    ),
    (
        "MCP tools' approval modes",
        "[mcp_servers.docs]\ncommand = \"docs-mcp\"\ndefault_tools_approval_mode = \"prompt\"\n\
         [mcp_servers.docs.tools.search]\napproval_mode = \"approve\"\n\
         [mcp_servers.docs.tools.write]\napproval_mode = \"writes\"\n",
        |config| {
            let approvals = &config.mcp_servers["docs"].tool_approvals;
            assert_eq!(approvals.mode("search"), McpToolApproval::Approve);
            assert_eq!(approvals.mode("write"), McpToolApproval::Writes);
            assert_eq!(approvals.mode("other"), McpToolApproval::Prompt);
            let by_plugin = config.mcp_tool_approvals();
            assert_eq!(by_plugin.keys().collect::<Vec<_>>(), ["mcp-docs"]);
        },
        &[
            "{user}:7:1: `mcp_servers.docs.tools.write.approval_mode`: wharf does not read MCP \
           tool annotations, so `writes` asks before every call of `write`",
        ],
    ),
    (
        "codex keys wharf does not take say what wharf does instead",
        "review_model = \"o3\"\n[tui]\nalternate_screen = \"never\"\n[profiles.x]\n\
         oss_provider = \"lmstudio\"\n",
        |config| assert_eq!(config.model, None),
        &[
            "{user}:1:1: `review_model`: codex's key; wharf has no /review (ignored)",
            "{user}:3:1: `tui.alternate_screen`: codex's key; the terminal UI has no such setting",
            "{user}:5:1: `profiles.x.oss_provider`: codex's key; wharf has no --oss",
        ],
    ),
    (
        "project_root_markers are the user's",
        "project_root_markers = [\".hg\", \"package.json\"]\n",
        |config| {
            assert_eq!(config.project_root_markers, [".hg", "package.json"]);
        },
        &[],
    ),
];

#[test]
fn codex_shapes_load_and_reach_the_config() {
    for (about, text, check, expected) in ROWS {
        let fixture = Fixture::new();
        let path = fixture.user_config(text);
        let config = fixture
            .load_with(|_| {})
            .unwrap_or_else(|err| panic!("{about}: {err}"));
        check(&config);
        let user = path.display().to_string();
        for warning in *expected {
            let warning = warning.replace("{user}", &user);
            assert!(
                config.warnings.iter().any(|w| w.contains(&warning)),
                "{about}: no warning with\n  {warning}\nin\n  {:#?}",
                config.warnings
            );
        }
        if expected.is_empty() {
            assert_eq!(config.warnings, Vec::<String>::new(), "{about}");
        }
    }
}

#[test]
fn bad_shapes_are_errors_naming_the_key_and_the_choices() {
    let cases = [
        (
            "approval_policy = \"sometimes\"\n",
            "config.toml:1:19: approval_policy: unknown variant `sometimes`, expected one of",
        ),
        ("approval_policy = 3\n", "or a table `{ granular = { … } }`"),
        (
            "[approval_policy.granular]\nsandbox_approval = \"yes\"\n",
            "approval_policy.granular.sandbox_approval: invalid type: string \"yes\", expected \
             a boolean",
        ),
        (
            "[mcp_servers.x]\ncommand = \"x\"\nenv_vars = [{ name = \"A\", source = \"cloud\" }]\n",
            "unknown variant `cloud`, expected `local` or `remote`",
        ),
        (
            "[mcp_servers.x]\ncommand = \"x\"\ndefault_tools_approval_mode = \"ask\"\n",
            "expected one of `auto`, `prompt`, `writes`, `approve`",
        ),
        (
            "[features.hooks]\nenabled = \"yes\"\n",
            "features.hooks.enabled: invalid type: string \"yes\", expected a boolean",
        ),
    ];
    for (text, expected) in cases {
        let fixture = Fixture::new();
        fixture.user_config(text);
        let err = fixture.load_with(|_| {}).unwrap_err().to_string();
        assert!(
            err.contains(expected),
            "{text}\n  {err}\nlacks\n  {expected}"
        );
    }
}

#[test]
fn requirements_take_granular_approvals_as_on_request() {
    let fixture = Fixture::new();
    fixture.user_config("[approval_policy.granular]\nsandbox_approval = false\n");
    let requirements = |allowed: &str| {
        let path = fixture
            .dir
            .path()
            .join(format!("requirements-{allowed}.toml"));
        std::fs::write(
            &path,
            format!("allowed_approval_policies = [\"{allowed}\"]\n"),
        )
        .unwrap();
        path
    };
    let allowed = requirements("on-request");
    let config = fixture
        .load_with(|options| options.requirements = RequirementsSource::File(allowed.clone()))
        .unwrap();
    assert_eq!(config.approval_policy, Some(ApprovalPolicy::OnRequest));
    assert!(!config.approval_prompts.sandbox_approval);

    let refused = requirements("never");
    let config = fixture
        .load_with(|options| options.requirements = RequirementsSource::File(refused.clone()))
        .unwrap();
    assert_eq!(config.approval_policy, Some(ApprovalPolicy::Never));
    assert_eq!(config.approval_prompts, ApprovalPrompts::default());
    assert!(
        config
            .warnings
            .iter()
            .any(|w| w.contains("approval policy `on-request` is not allowed")),
        "{:?}",
        config.warnings
    );
}

#[test]
fn a_profile_and_an_override_take_the_same_shapes() {
    let fixture = Fixture::new();
    fixture.user_config(
        "profile = \"careful\"\n[profiles.careful.approval_policy.granular]\n\
         mcp_elicitations = false\n",
    );
    let config = fixture.load();
    assert!(!config.approval_prompts.mcp_elicitations);
    let config = fixture
        .load_with(|options| {
            options.overrides = vec![
                "approval_policy={ granular = { sandbox_approval = false } }".to_owned(),
                "features.hooks={ enabled = true, depth = 2 }".to_owned(),
            ];
        })
        .unwrap();
    // Tables merge key by key: the profile's category stays.
    assert!(!config.approval_prompts.sandbox_approval);
    assert!(!config.approval_prompts.mcp_elicitations);
    assert!(config.features.enabled("hooks"));
    assert!(
        config.warnings.iter().any(|w| w
            == "-c features.hooks={ enabled = true, depth = 2 }: `features.hooks.depth`: \
                wharf's features take no settings (ignored)"),
        "{:?}",
        config.warnings
    );
}
