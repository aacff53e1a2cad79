//! What one file (or `-c` override) says that wharf takes differently from
//! codex: each note names the key and says what wharf does instead. The
//! layer adds where the key is written.

use crate::approval::inert_categories;
use crate::provider::{
    OLLAMA_BASE_URL, OLLAMA_PROVIDER_ID, OPENAI_API_KEY_VAR, OSS_PROVIDER_ALIAS,
};
use crate::toml_types::approval::ApprovalPolicyToml;
use crate::toml_types::feature::flatten_feature_tables;
use crate::toml_types::{ConfigToml, McpToolApproval};

/// The notes about `typed`, the checked contents of one layer whose table
/// is `table`. Feature tables are turned into their `enabled` value in
/// `table` on the way (wharf's features take no settings).
pub(crate) fn notes(typed: &ConfigToml, table: &mut toml::Table) -> Vec<(Vec<String>, String)> {
    let mut notes: Vec<(Vec<String>, String)> = flatten_feature_tables(table)
        .into_iter()
        .map(|key| {
            let note = "wharf's features take no settings (ignored)".to_owned();
            (key, note)
        })
        .collect();
    layer_notes(typed, &[], &mut notes);
    for (name, profile) in &typed.profiles {
        layer_notes(profile, &["profiles".to_owned(), name.clone()], &mut notes);
    }
    notes
}

/// The notes of the keys of one level: the top level or a profile.
fn layer_notes(typed: &ConfigToml, prefix: &[String], notes: &mut Vec<(Vec<String>, String)>) {
    let key = |parts: &[&str]| -> Vec<String> {
        let mut key = prefix.to_vec();
        key.extend(parts.iter().map(|part| (*part).to_owned()));
        key
    };
    if let Some(ApprovalPolicyToml::Granular { granular }) = &typed.approval_policy {
        for (category, instead) in inert_categories(granular) {
            let note = format!("{instead} (the value changes nothing)");
            notes.push((key(&["approval_policy", "granular", category]), note));
        }
    }
    if typed.model_provider.as_deref() == Some(OSS_PROVIDER_ALIAS)
        && !typed.model_providers.contains_key(OSS_PROVIDER_ALIAS)
    {
        let note = format!(
            "older codex's `oss` provider was a local Ollama server; wharf uses its built-in \
             `{OLLAMA_PROVIDER_ID}` ({OLLAMA_BASE_URL})"
        );
        notes.push((key(&["model_provider"]), note));
    }
    for (id, provider) in &typed.model_providers {
        if provider.requires_openai_auth == Some(true) {
            let var = provider.env_key.as_deref().unwrap_or(OPENAI_API_KEY_VAR);
            let note = format!(
                "wharf has no ChatGPT sign-in: this provider is sent the API key in `{var}`"
            );
            let path = key(&["model_providers", id.as_str(), "requires_openai_auth"]);
            notes.push((path, note));
        }
    }
    for (name, server) in &typed.mcp_servers {
        let server_key = |parts: &[&str]| {
            let mut path = key(&["mcp_servers", name.as_str()]);
            path.extend(parts.iter().map(|part| (*part).to_owned()));
            path
        };
        for (index, var) in server.env_vars.iter().flatten().enumerate() {
            if var.is_remote() {
                let note = format!(
                    "`{}` has source = \"remote\": wharf runs every MCP server on this machine, \
                     so it is passed from wharf's environment like a local one",
                    var.name()
                );
                notes.push((server_key(&["env_vars", index.to_string().as_str()]), note));
            }
        }
        let writes = "wharf does not read MCP tool annotations, so `writes` asks before every call";
        if server.default_tools_approval_mode == Some(McpToolApproval::Writes) {
            let note = format!("{writes} of this server's tools");
            notes.push((server_key(&["default_tools_approval_mode"]), note));
        }
        for (tool, config) in server.tools.iter().flatten() {
            if config.approval_mode == Some(McpToolApproval::Writes) {
                let note = format!("{writes} of `{tool}`");
                notes.push((server_key(&["tools", tool.as_str(), "approval_mode"]), note));
            }
        }
    }
}

/// What wharf does instead of a codex key it does not take: patterns of
/// key paths (`*` is any one part; a key below a pattern matches it too).
const CODEX_KEYS: &[(&str, &str)] = &[
    ("tui.*", "the terminal UI has no such setting"),
    ("disable_paste_burst", "the terminal UI has no such setting"),
    (
        "model_context_window",
        "wharf takes it from its model catalog",
    ),
    (
        "model_max_output_tokens",
        "wharf takes it from its model catalog",
    ),
    (
        "model_supports_reasoning_summaries",
        "wharf takes it from its model catalog",
    ),
    (
        "model_catalog_json",
        "wharf reads the provider's model list and its own catalog",
    ),
    (
        "model_instructions_file",
        "wharf keeps its instructions; put yours in AGENTS.md",
    ),
    (
        "experimental_instructions_file",
        "wharf keeps its instructions; put yours in AGENTS.md",
    ),
    (
        "base_instructions",
        "wharf keeps its instructions; put yours in AGENTS.md",
    ),
    (
        "developer_instructions",
        "wharf keeps its instructions; put yours in AGENTS.md",
    ),
    (
        "instructions",
        "wharf keeps its instructions; put yours in AGENTS.md",
    ),
    ("compact_prompt", "wharf compacts with its own prompt"),
    (
        "experimental_compact_prompt_file",
        "wharf compacts with its own prompt",
    ),
    ("review_model", "wharf has no /review"),
    ("plan_mode_reasoning_effort", "wharf has no plan mode"),
    (
        "oss_provider",
        "wharf has no --oss: set model_provider = \"ollama\" or \"lmstudio\"",
    ),
    ("service_tier", "wharf sends no service tier"),
    (
        "openai_base_url",
        "set [model_providers.openai] base_url (or OPENAI_BASE_URL)",
    ),
    (
        "chatgpt_base_url",
        "wharf has no ChatGPT sign-in; providers take API keys (env_key)",
    ),
    (
        "forced_login_method",
        "wharf has no ChatGPT sign-in; providers take API keys (env_key)",
    ),
    (
        "forced_chatgpt_workspace_id",
        "wharf has no ChatGPT sign-in",
    ),
    (
        "cli_auth_credentials_store",
        "wharf has no sign-in to store (see mcp_oauth_credentials_store)",
    ),
    (
        "preferred_auth_method",
        "wharf has no ChatGPT sign-in; providers take API keys (env_key)",
    ),
    (
        "check_for_update_on_startup",
        "wharf does not check for updates",
    ),
    (
        "approvals_reviewer",
        "wharf asks you: it has no automatic reviewer",
    ),
    (
        "auto_review",
        "wharf asks you: it has no automatic reviewer",
    ),
    (
        "default_permissions",
        "wharf's sandbox is sandbox_mode, sandbox_workspace_write and read_only_access",
    ),
    (
        "permissions",
        "wharf's sandbox is sandbox_mode, sandbox_workspace_write and read_only_access",
    ),
    (
        "allow_login_shell",
        "wharf's command tools run no login shell",
    ),
    (
        "shell_environment_policy.experimental_use_profile",
        "wharf's command tools run no login shell",
    ),
    ("windows", "wharf runs on Linux"),
    ("notice", "wharf keeps no acknowledged notices"),
    ("analytics", "wharf sends no analytics"),
    ("feedback", "wharf sends no feedback"),
    ("memories", "wharf keeps no memories"),
    ("web_search", "wharf's is tools.web_search = true"),
    (
        "tools.*",
        "the only such key is tools.web_search; wharf's own tools are turned on and off in \
         [features]",
    ),
    ("agents", "wharf has no sub-agents"),
    (
        "skills",
        "wharf has no skills: its capabilities are plugins",
    ),
    ("apps", "wharf has no apps (connectors): use MCP servers"),
    (
        "model_providers.*.websocket_connect_timeout_ms",
        "the WebSocket connects within the request timeout",
    ),
    (
        "model_providers.*.auth",
        "set the key with env_key (wharf runs no token command)",
    ),
    ("model_providers.*.aws", "wharf has no Bedrock provider"),
];

/// What wharf does instead of `key`, when it is codex's (and unknown to
/// wharf): for the unknown-key warning.
pub(crate) fn instead_of(key: &[String]) -> Option<&'static str> {
    // A profile takes the top level's keys.
    let key = match key {
        [profiles, _, rest @ ..] if profiles == "profiles" && !rest.is_empty() => rest,
        key => key,
    };
    CODEX_KEYS.iter().find_map(|(pattern, instead)| {
        let parts: Vec<&str> = pattern.split('.').collect();
        let matches = key.len() >= parts.len()
            && parts
                .iter()
                .zip(key)
                .all(|(part, key)| *part == "*" || part == key);
        matches.then_some(*instead)
    })
}
