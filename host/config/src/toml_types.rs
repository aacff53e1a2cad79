//! The shape of `config.toml`, as serde and the JSON Schema see it.
//!
//! These types live at the edge: they only describe what may be written in a
//! file. [`super::Config`] is what the rest of wharf reads.

use std::collections::BTreeMap;
use std::path::PathBuf;

pub mod approval;
pub mod feature;
pub mod hooks;
mod mcp;
mod model;
pub mod otel;
pub mod ui;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::by_name::deserialize_by_name;
use crate::provider::WireApi;

pub use mcp::{
    McpEnvVarSource, McpEnvVarToml, McpOAuthCredentialsStore, McpServerToml, McpToolApproval,
    McpToolToml,
};
pub use model::{Personality, ReasoningEffort, ReasoningSummary, Verbosity};

/// One configuration layer: `config.toml`, `.wharf/config.toml`, a profile,
/// or a `-c` override. Every field is optional so that layers can be partial.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[schemars(title = "wharf config.toml")]
pub struct ConfigToml {
    /// The model to use, by slug. When unset, the models manager picks the
    /// provider's default model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,

    /// The provider that serves the model, by id: a key of
    /// `model_providers` or a built-in one (`openai`, `ollama`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_provider: Option<String>,

    /// Model providers by id. An entry named like a built-in provider
    /// (`openai`, `ollama`) changes only the keys it sets; any other entry
    /// defines a provider and needs `base_url`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub model_providers: BTreeMap<String, ModelProviderToml>,

    /// When to ask before running a tool call: `untrusted`, `on-failure`,
    /// `on-request` or `never`, or codex's granular table
    /// `{ granular = { sandbox_approval = true, mcp_elicitations = false, … } }`
    /// (`on-request` with some kinds of prompt refused without asking).
    /// Unset: `exec` never asks, the TUI asks on request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approval_policy: Option<approval::ApprovalPolicyToml>,

    /// The tone of the model's messages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub personality: Option<Personality>,

    /// How much a reasoning model thinks before it answers: `none`,
    /// `minimal`, `low`, `medium`, `high` or `xhigh`. Unset: the model's
    /// own default. Sent only to models that reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_reasoning_effort: Option<ReasoningEffort>,

    /// How much of its reasoning a model summarizes for you: `auto`,
    /// `concise`, `detailed` or `none`. Default `auto` for models that
    /// share summaries.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_reasoning_summary: Option<ReasoningSummary>,

    /// How long the model's answers are (`low`, `medium`, `high`; the
    /// Responses API's `text.verbosity`). Unset: the model's default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_verbosity: Option<Verbosity>,

    /// Compact the conversation when a request used this many tokens of
    /// the context window. Default: 90% of the model's context window
    /// (no automatic compaction when the window is unknown).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model_auto_compact_token_limit: Option<u64>,

    /// The most of one tool output that enters the conversation, in tokens
    /// (about four bytes each): longer outputs keep their head and tail,
    /// the cut marked. Default: the model's truncation policy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_output_token_limit: Option<u64>,

    /// The most bytes of project instructions (`AGENTS.md` files) sent to
    /// the model. Default 32768; `0` sends none of the project's files.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_doc_max_bytes: Option<u64>,

    /// What marks a project root (codex's key): the first directory from
    /// the working directory up that holds one of these names is the root
    /// that trust is recorded for, where the search for `.wharf/config.toml`,
    /// `.codex/config.toml` and `AGENTS.md` files stops. Default `[".git"]`;
    /// `[]` makes the working directory the root. Read from your own
    /// config.toml only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_root_markers: Option<Vec<String>>,

    /// Other file names to read in a directory that has no `AGENTS.md`
    /// (e.g. `["CLAUDE.md", ".agents.md"]`), in order.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_doc_fallback_filenames: Option<Vec<String>>,

    /// A program to run after each turn, with its arguments; wharf appends
    /// one more argument, a JSON object describing the turn (codex's
    /// `agent-turn-complete` payload). Read from your own config.toml,
    /// profiles and `-c` only: a project file cannot set it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notify: Option<Vec<String>>,

    /// The terminal UI: notifications, the status line, the theme.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tui: Option<ui::TuiToml>,

    /// The history of the prompts you typed (`$WHARF_HOME/history.jsonl`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<ui::HistoryToml>,

    /// The editor file citations in the model's answers open in, by its URI
    /// scheme: `vscode` (the default), `vscode-insiders`, `windsurf`,
    /// `cursor`, or `none` for plain paths.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file_opener: Option<ui::FileOpener>,

    /// Do not show the model's reasoning (summaries) in the terminal UI
    /// and `exec`. Default `false`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hide_agent_reasoning: Option<bool>,

    /// Show the model's raw reasoning text, where the provider sends it,
    /// besides its summaries. Default `false`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub show_raw_agent_reasoning: Option<bool>,

    /// Tools the provider runs itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tools: Option<ToolsToml>,

    /// The audit log: one JSON line per tool call under
    /// `$WHARF_HOME/audit/`. Read from your own config.toml, profiles and
    /// `-c` only: a project file cannot turn it off.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audit: Option<AuditToml>,

    /// Where the `telemetry` capability exports wharf's events
    /// (OpenTelemetry). Read from your own config.toml, profiles and `-c`
    /// only: a project file cannot set it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub otel: Option<otel::OtelToml>,

    /// Commands run around the session's events, in codex's format (see
    /// `docs/hooks.md`); every file's hooks run.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub hooks: hooks::HooksToml,

    /// The profile to apply when `--profile` is not given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,

    /// Named sets of settings, chosen with `--profile NAME` or `profile`.
    /// A profile takes the same keys as the top level, except `profile` and
    /// `profiles`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub profiles: BTreeMap<String, ConfigToml>,

    /// How much the processes and plugins that tools start may touch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sandbox_mode: Option<SandboxModeToml>,

    /// Settings that apply when `sandbox_mode = "workspace-write"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sandbox_workspace_write: Option<SandboxWorkspaceWriteToml>,

    /// What sandboxed processes may read (in `read-only` and
    /// `workspace-write` modes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub read_only_access: Option<ReadOnlyAccessToml>,

    /// How the sandbox is built on Linux.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sandbox_linux: Option<SandboxLinuxToml>,

    /// The environment of every process a tool starts (a plugin's commands
    /// and sessions, `wharf sandbox`), built from wharf's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shell_environment_policy: Option<ShellEnvironmentPolicyToml>,

    /// Feature flags by key: `true` turns a feature on, `false` off; or,
    /// as codex writes features with settings, a table `[features.NAME]`
    /// with `enabled = true|false` (wharf's features take no settings yet:
    /// other keys there are ignored with a warning).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub features: BTreeMap<String, feature::FeatureToml>,

    /// Do not warn when an under-development feature is enabled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppress_unstable_features_warning: Option<bool>,

    /// MCP servers by name (letters, digits, `-` and `_`), each offered to
    /// the model as a plugin whose tools' names carry the server's name. A
    /// file's entry replaces an entry of the same name from a lower file;
    /// profiles and `-c` change single keys of it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub mcp_servers: BTreeMap<String, McpServerToml>,

    /// Where OAuth tokens of MCP servers are kept: `auto` (the OS keyring,
    /// or the file when no keyring is available), `keyring` or `file`
    /// (`$WHARF_HOME/.credentials.json`, mode 0600). Default `auto`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mcp_oauth_credentials_store: Option<McpOAuthCredentialsStore>,

    /// The local port of the OAuth callback for `wharf mcp login`. Default:
    /// any free port.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mcp_oauth_callback_port: Option<u16>,

    /// Trust decisions by project root (an absolute path: the repository
    /// root, or the directory itself outside a repository), as `wharf trust`
    /// writes them. Read only from the user's own config.toml: a project
    /// file, a profile or `-c` cannot declare trust.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub projects: BTreeMap<String, ProjectToml>,
}

/// One `[projects."/abs/path"]` entry (codex's `trust_level`, plus the hash
/// of the project file the user trusted).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub struct ProjectToml {
    /// `trusted`: the project's `.wharf/config.toml` is read (while it is
    /// the file that was trusted) and sessions default to workspace-write;
    /// `untrusted`: the file is not read and sessions default to read-only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trust_level: Option<TrustLevel>,
    /// The sha256 (hex) of the project's `.wharf/config.toml` when it was
    /// trusted; absent when there was none. A file with another hash is
    /// ignored until the project is trusted again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_sha256: Option<String>,
    /// The same for the project's `.codex/config.toml` (a codex user's
    /// project file, read below `.wharf/config.toml`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub codex_config_sha256: Option<String>,
}

/// What the user decided about a project (codex's values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum TrustLevel {
    /// Its project file may be read; sessions default to workspace-write.
    Trusted,
    /// Its project file is never read; sessions default to read-only.
    Untrusted,
}

/// One `[model_providers.ID]` entry, as codex writes it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub struct ModelProviderToml {
    /// The name people read. Default: the id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The root of the provider's OpenAI-compatible API, e.g.
    /// `https://api.openai.com/v1`. Required unless the id is a built-in
    /// provider's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// The environment variable that holds the API key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub env_key: Option<String>,
    /// Shown when `env_key` is not set: how to get a key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub env_key_instructions: Option<String>,
    /// An API key written here rather than in the environment
    /// (discouraged: prefer `env_key`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub experimental_bearer_token: Option<String>,
    /// The protocol: `responses` (OpenAI's Responses API) or `chat` (Chat
    /// Completions). Default: `chat`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wire_api: Option<WireApi>,
    /// Query parameters added to every request URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_params: Option<BTreeMap<String, String>>,
    /// Headers sent with every request: name = value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http_headers: Option<BTreeMap<String, String>>,
    /// Headers whose values come from the environment: name = variable. A
    /// header whose variable is unset or empty is not sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub env_http_headers: Option<BTreeMap<String, String>>,
    /// How many times a failed request is retried. Default 4, at most 100.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_max_retries: Option<u64>,
    /// How many times a dropped response stream is reconnected. Default 5,
    /// at most 100.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_max_retries: Option<u64>,
    /// Milliseconds a response stream may stay silent before it counts as
    /// lost. Default 300000 (five minutes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream_idle_timeout_ms: Option<u64>,
    /// codex's key: the provider takes the OpenAI API key. wharf has no
    /// ChatGPT sign-in: `true` reads the key from `OPENAI_API_KEY`, unless
    /// `env_key` names another variable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requires_openai_auth: Option<bool>,
    /// codex's key: `true` talks to the provider's Responses API over a
    /// WebSocket (HTTP when the server refuses the upgrade), `false` never
    /// does. Unset: the model and the `responses_websockets` feature
    /// decide.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supports_websockets: Option<bool>,
    /// Ask for streamed answers. Default true; false for servers that
    /// cannot stream (some cannot when tools are offered): each answer then
    /// comes whole, as one JSON object. wharf's own key (codex has none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
}

/// When wharf asks the user before running a tool call (codex's values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ApprovalPolicy {
    /// Ask for everything but known-safe, read-only commands.
    Untrusted,
    /// Run in the sandbox; ask to run again without it when a call fails.
    OnFailure,
    /// The model decides when to ask.
    OnRequest,
    /// Never ask; a failure goes back to the model.
    Never,
}

/// `[tools]`: tools the model provider runs on its side.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub struct ToolsToml {
    /// Offer the Responses API's hosted `web_search` tool (default
    /// `false`). Chat Completions providers have no such tool: a warning
    /// says so and nothing is offered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub web_search: Option<bool>,
}

/// `[audit]`: the record of every tool call.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub struct AuditToml {
    /// Write one JSON line per tool call to `$WHARF_HOME/audit/audit.jsonl`
    /// (default `true`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SandboxModeToml {
    /// Read anything the read policy allows, write nothing.
    ReadOnly,
    /// Also write inside the working directory, the configured
    /// `writable_roots` and the temporary directories.
    WorkspaceWrite,
    /// No sandbox at all.
    DangerFullAccess,
}

/// `[shell_environment_policy]`, applied in this order: `inherit`, the
/// default excludes, `exclude`, `set`, `include_only`. Patterns are globs
/// (`*`, `?`) on variable names, case-insensitive.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub struct ShellEnvironmentPolicyToml {
    /// Which of wharf's variables to start from: `all` (the default),
    /// `core` (HOME, LOGNAME, PATH, SHELL, USER, USERNAME, TMPDIR, TEMP,
    /// TMP) or `none`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inherit: Option<EnvInheritToml>,
    /// Keep variables whose names match `*KEY*`, `*SECRET*` or `*TOKEN*`
    /// (removed by default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ignore_default_excludes: Option<bool>,
    /// Remove the variables whose names match one of these patterns.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exclude: Option<Vec<String>>,
    /// Set these variables (after the excludes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub set: Option<BTreeMap<String, String>>,
    /// When not empty, keep only the variables whose names match one of
    /// these patterns (applied last, so it also filters `set`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include_only: Option<Vec<String>>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum EnvInheritToml {
    /// Every variable of wharf's environment.
    #[default]
    All,
    /// Only HOME, LOGNAME, PATH, SHELL, USER, USERNAME, TMPDIR, TEMP, TMP.
    Core,
    /// Nothing: only what `set` gives.
    None,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub struct SandboxWorkspaceWriteToml {
    /// More directories that may be written, besides the working directory.
    /// Relative paths are taken from the working directory; `~/` is the
    /// home directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub writable_roots: Option<Vec<PathBuf>>,
    /// Allow network access from sandboxed processes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_access: Option<bool>,
    /// Do not make `$TMPDIR` writable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exclude_tmpdir_env_var: Option<bool>,
    /// Do not make `/tmp` writable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exclude_slash_tmp: Option<bool>,
}

/// `[sandbox_linux]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub struct SandboxLinuxToml {
    /// Run commands in their own user, mount and PID namespaces (default
    /// `true`). `false` is for machines that refuse them (containers with
    /// Docker's default seccomp profile, hosts that restrict unprivileged
    /// user namespaces): commands then run under Landlock and seccomp only,
    /// and `.git` and `.wharf` inside writable roots become writable, file
    /// metadata outside the roots can change, other processes are visible
    /// and background processes can outlive their command.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespaces: Option<bool>,
}

/// `{ type = "full-access" }` or `{ type = "restricted",
/// include_platform_defaults = true, readable_roots = [...] }`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub struct ReadOnlyAccessToml {
    #[serde(rename = "type")]
    pub kind: ReadOnlyAccessKind,
    /// With `restricted`: also allow the system directories that ordinary
    /// programs need to start (`/usr`, `/lib`, …). Default `true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub include_platform_defaults: Option<bool>,
    /// With `restricted`: the directories that may be read, besides the
    /// working directory and the writable roots.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub readable_roots: Option<Vec<PathBuf>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ReadOnlyAccessKind {
    /// Everything may be read.
    FullAccess,
    /// Only the listed roots (and what programs need to run) may be read.
    Restricted,
}

deserialize_by_name!(ApprovalPolicy {
    Untrusted = "untrusted",
    OnFailure = "on-failure",
    OnRequest = "on-request",
    Never = "never",
});

impl ApprovalPolicy {
    /// The name written in config.toml and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalPolicy::Untrusted => "untrusted",
            ApprovalPolicy::OnFailure => "on-failure",
            ApprovalPolicy::OnRequest => "on-request",
            ApprovalPolicy::Never => "never",
        }
    }
}

deserialize_by_name!(SandboxModeToml {
    ReadOnly = "read-only",
    WorkspaceWrite = "workspace-write",
    DangerFullAccess = "danger-full-access",
});

deserialize_by_name!(EnvInheritToml {
    All = "all",
    Core = "core",
    None = "none",
});

deserialize_by_name!(TrustLevel {
    Trusted = "trusted",
    Untrusted = "untrusted",
});

impl TrustLevel {
    /// The name written in config.toml.
    pub fn as_str(self) -> &'static str {
        match self {
            TrustLevel::Trusted => "trusted",
            TrustLevel::Untrusted => "untrusted",
        }
    }
}

deserialize_by_name!(ReadOnlyAccessKind {
    FullAccess = "full-access",
    Restricted = "restricted",
});

/// wharf's built-in defaults, as the lowest configuration layer. Written as
/// TOML so that `wharf config show` can attribute each value to "default".
pub(crate) const DEFAULTS: &str = r#"
model_provider = "openai"
personality = "none"
project_doc_max_bytes = 32768
project_doc_fallback_filenames = []
sandbox_mode = "read-only"
read_only_access = { type = "full-access" }
suppress_unstable_features_warning = false

[sandbox_workspace_write]
writable_roots = []
network_access = false
exclude_tmpdir_env_var = false
exclude_slash_tmp = false

[sandbox_linux]
namespaces = true
"#;

#[cfg(test)]
mod tests;
