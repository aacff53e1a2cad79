//! wharf's layered configuration, its feature flags and model providers.
//!
//! Layers, lowest to highest precedence (see `docs/config.md`):
//!
//! 1. built-in defaults ([`toml_types::DEFAULTS`]), or a trusted project's
//!    (workspace-write, on-request), then a custom build's [`build_config`];
//! 2. the project's `.wharf/config.toml`, the nearest one found from the
//!    working directory up to the repository root, read only when the user
//!    trusts the project and the file is the one trusted ([`trust`]);
//! 3. the user's `$WHARF_HOME/config.toml`;
//! 4. the selected `[profiles.NAME]` (from either file, the user's winning);
//! 5. `-c key.path=value` overrides, in command-line order;
//! 6. dedicated flags (`--model`, `--sandbox`, `--ask-for-approval`,
//!    `--enable`, `--disable`);
//! 7. the administrator's [`requirements`], which nothing overrides: a
//!    value they do not allow falls back to one they do, with a warning;
//!    a pinned feature takes its pinned value (`--enable` against a pin is
//!    refused); MCP servers off their allowlist are blocked.
//!
//! Each file is checked on its own so that an error names the file, line,
//! column and key; the layers are then merged as TOML tables, remembering
//! the [`Source`] of every value, and the result is turned into [`Config`].
//! Writable roots that would expose the home directory are refused there
//! (`roots.rs`).

mod approval;
mod audit;
pub mod build_config;
mod by_name;
mod codex_notes;
pub mod digest;
mod edit;
pub mod env_policy;
mod error;
pub mod features;
mod flags;
pub mod hooks;
pub mod layer;
pub mod mcp;
mod notify;
mod options;
pub mod otel;
pub mod policy;
mod profile;
mod project_files;
mod project_search;
pub mod provider;
mod providers;
pub mod requirements;
mod roots;
mod schema;
mod source;
pub mod toml_types;
pub mod trust;
pub mod ui;

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use wharf_sandbox::{PathEnv, Sandbox, SandboxMode, SandboxPolicy, WITHOUT_NAMESPACES};

use crate::features::{FeatureRegistry, Features};
use crate::provider::ModelProviderInfo;
use layer::{FileLayer, Layered};
use toml_types::ConfigToml;

pub use approval::ApprovalPrompts;
pub use edit::{
    add_mcp_server, mcp_server_names, remove_mcp_server, set_feature, set_project_trust,
    trust_project,
};
pub use error::ConfigError;
pub(crate) use error::invalid_value;
use flags::{apply_flags, feature_settings};
pub use layer::display_key;
pub use mcp::{McpOfferLimits, McpSandbox, McpServerConfig, McpTransport};
pub use notify::DEFAULT_PROJECT_DOC_MAX_BYTES;
use notify::notify_program;
pub use options::ConfigOptions;
pub(crate) use policy::expand_home;
use profile::{profile_choice, profile_layer};
pub(crate) use project_search::same_file;
pub use project_search::{DEFAULT_PROJECT_ROOT_MARKERS, find_project_config, project_config_dirs};
pub use schema::json_schema;
pub use source::{Location, Source};
pub use toml_types::{
    ApprovalPolicy, McpOAuthCredentialsStore, Personality, ReasoningEffort, ReasoningSummary,
    TrustLevel, Verbosity,
};
pub use trust::{Ignored, Project, ProjectFile};

/// The name of the configuration file, in `$WHARF_HOME` and in a project's
/// `.wharf/` directory.
pub const CONFIG_FILE: &str = "config.toml";

/// The effective configuration of a session.
#[derive(Debug, Clone)]
pub struct Config {
    pub wharf_home: PathBuf,
    pub cwd: PathBuf,
    /// The applied profile, if any.
    pub profile: Option<String>,
    /// The configured model slug; `None` lets the models manager choose
    /// (`crate::provider::Models::resolve`).
    pub model: Option<String>,
    /// The selected provider (`model_provider`, default `openai`), every
    /// default applied.
    pub model_provider: ModelProviderInfo,
    /// Every provider by id: the built-in ones with the configured
    /// `[model_providers.ID]` laid over them, and the configured ones.
    pub model_providers: BTreeMap<String, ModelProviderInfo>,
    /// `approval_policy` (one the requirements allow); `None` lets the
    /// front end choose (`exec`: never) through
    /// [`Config::approval_policy_or`], which the requirements bound too.
    pub approval_policy: Option<ApprovalPolicy>,
    /// Which kinds of approval prompt may be shown: all, unless
    /// `approval_policy` is codex's granular table.
    pub approval_prompts: ApprovalPrompts,
    pub personality: Personality,
    /// `model_reasoning_effort`; `None`: the model's default.
    pub model_reasoning_effort: Option<ReasoningEffort>,
    /// `model_reasoning_summary`; `None`: `auto` for models that share
    /// summaries.
    pub model_reasoning_summary: Option<ReasoningSummary>,
    /// `model_verbosity`; `None`: the model's default.
    pub model_verbosity: Option<Verbosity>,
    /// `model_auto_compact_token_limit`; `None`: 90% of the model's
    /// context window.
    pub model_auto_compact_token_limit: Option<u64>,
    /// `tool_output_token_limit`; `None`: the model's truncation policy.
    pub tool_output_token_limit: Option<u64>,
    /// `project_doc_max_bytes` (default 32 KiB).
    pub project_doc_max_bytes: usize,
    /// `project_doc_fallback_filenames`, in order.
    pub project_doc_fallback_filenames: Vec<String>,
    /// `notify`: the program and its arguments, when set by a layer that
    /// may set it (not a project file).
    pub notify: Option<Vec<String>>,
    /// `tools.web_search`.
    pub web_search: bool,
    /// `[tui]`: notifications, the status line, the theme.
    pub tui: ui::TuiConfig,
    /// `[history]`: whether and how much of the typed prompts is kept.
    pub history: ui::HistoryConfig,
    /// `file_opener` (default `vscode`): the URI scheme of file citations.
    pub file_opener: ui::FileOpener,
    /// `hide_agent_reasoning` (default `false`).
    pub hide_agent_reasoning: bool,
    /// `show_raw_agent_reasoning` (default `false`).
    pub show_raw_agent_reasoning: bool,
    /// `[audit] enabled` (default `true`; a project file cannot change it):
    /// every tool call is recorded under `$WHARF_HOME/audit/`.
    pub audit_enabled: bool,
    /// `[otel]`: where the `telemetry` capability exports events (nothing
    /// leaves the machine by default).
    pub otel: otel::OtelConfig,
    /// `[hooks]`: the command hooks of every layer, in the order they run.
    pub hooks: hooks::HooksConfig,
    pub sandbox_policy: SandboxPolicy,
    /// `[sandbox_linux] namespaces`: whether commands get their own user,
    /// mount and PID namespaces (default `true`).
    pub sandbox_namespaces: bool,
    /// `[shell_environment_policy]`: the environment of every process a
    /// tool starts.
    pub shell_environment_policy: env_policy::EnvPolicy,
    pub features: Features,
    pub suppress_unstable_features_warning: bool,
    /// `[mcp_servers.NAME]` by name, checked; disabled ones included.
    pub mcp_servers: BTreeMap<String, McpServerConfig>,
    /// The `[mcp_servers.NAME]` skipped because their names cannot name
    /// tools (a `.` or a space): name → why, with where it is written.
    pub mcp_skipped: BTreeMap<String, String>,
    /// `mcp_oauth_credentials_store` (default `auto`).
    pub mcp_oauth_credentials_store: McpOAuthCredentialsStore,
    /// `mcp_oauth_callback_port`; `None`: any free port.
    pub mcp_oauth_callback_port: Option<u16>,
    /// The project, the user's trust in it, and whether its files were
    /// read.
    pub project: Project,
    /// `project_root_markers` of the user's own file (default `.git`): what
    /// marks the project root.
    pub project_root_markers: Vec<String>,
    /// The files that were read, lowest precedence first.
    pub files: Vec<PathBuf>,
    /// Every effective value and where it came from, for `wharf config show`.
    pub effective: Effective,
    /// The administrator's requirements (`requirements.toml`), above
    /// every other layer; empty when there are none.
    pub requirements: requirements::Requirements,
    /// Things the user should hear about that did not stop loading.
    pub warnings: Vec<String>,
}

impl Config {
    /// What no tool may write, existing or not, wherever it lies: wharf's
    /// home (configuration, plugins, the compile cache, credentials,
    /// sessions) and every `.wharf` directory the project search visits.
    /// Everything here is read by a later session.
    pub fn protected_paths(&self) -> Vec<PathBuf> {
        let mut protected = vec![self.wharf_home.clone()];
        protected.extend(project_config_dirs(&self.cwd, &self.project_root_markers));
        protected
    }

    /// The sandbox every process a tool starts runs in, in `env`: the
    /// policy, `[sandbox_linux]` and `[shell_environment_policy]` applied.
    pub fn sandbox(&self, env: &PathEnv) -> Sandbox {
        Sandbox::new(&self.sandbox_policy, env)
            .with_namespaces(self.sandbox_namespaces)
            .with_environment(self.shell_environment_policy.environment())
    }
}

/// The merged configuration as values with their sources.
#[derive(Debug, Clone, Default)]
pub struct Effective {
    layered: Layered,
}

/// One effective value.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry<'a> {
    /// The dotted key path, e.g. `sandbox_workspace_write.network_access`.
    pub key: String,
    pub value: &'a toml::Value,
    pub source: &'a Source,
}

impl Effective {
    /// Every value that is not a table, in key order.
    pub fn entries(&self) -> Vec<Entry<'_>> {
        self.layered
            .sources
            .iter()
            .filter_map(|(key, source)| {
                let value = lookup(&self.layered.table, key)?;
                Some(Entry {
                    key: display_key(key),
                    value,
                    source,
                })
            })
            .collect()
    }
}

pub(crate) fn lookup<'a>(table: &'a toml::Table, key: &[String]) -> Option<&'a toml::Value> {
    let (first, rest) = key.split_first()?;
    let value = table.get(first)?;
    if rest.is_empty() {
        return Some(value);
    }
    lookup(value.as_table()?, rest)
}

impl Config {
    /// Loads the configuration for `options`, resolving feature flags
    /// against `registry`.
    pub fn load(
        options: &ConfigOptions,
        registry: &FeatureRegistry,
    ) -> Result<Config, ConfigError> {
        let mut warnings = Vec::new();
        let mut files = Vec::new();
        // Fail closed: requirements that cannot be read stop everything.
        let requirements = options.requirements.load()?;
        let defaults = default_layer()?;

        // The user's file first: it alone says whether the project's may be
        // read. Layers go lowest first: the project's, then the user's.
        let user_path = options.user_config_path();
        let mut user = read_file(&user_path, Source::User)?;
        let projects = trust::recorded(user.as_ref());
        let markers = trust::root_markers(&user_path);
        let (project, project_layers) =
            trust::load_project(&options.cwd, &user_path, &projects, &markers)?;
        warnings.extend(project.warnings());
        let mut loaded: Vec<FileLayer> = build_config::layers(options, &user_path)?;
        project_files::push_layers(
            &project,
            project_layers,
            &user_path,
            &mut loaded,
            &mut files,
            &mut warnings,
        );
        if let Some(mut file) = user.take() {
            file.layered.remove("projects");
            files.push(user_path.clone());
            loaded.push(file);
        }
        let file_hooks = hooks::take_from_files(&mut loaded);
        let mut merged = Layered::default();
        for file in &mut loaded {
            warnings.append(&mut file.warnings);
            mcp::drop_replaced_servers(&mut merged, &file.layered);
            merged.merge(&file.layered);
        }

        // `-c` overrides of profiles apply to the profile tables, so that
        // `-c profiles.ci.model=x --profile ci` works; the rest go on top.
        let mut overrides = Vec::new();
        for arg in &options.overrides {
            let (layer, mut layer_warnings) = layer::parse_override(arg)?;
            warnings.append(&mut layer_warnings);
            if layer.table.contains_key("projects") {
                warnings.push(format!(
                    "-c {arg}: trust is only read from {} (ignored; use `wharf trust`)",
                    user_path.display()
                ));
                continue;
            }
            if layer.table.contains_key("profiles") {
                merged.merge(&layer);
            } else {
                overrides.push(layer);
            }
        }

        let profile_choice = profile_choice(options, &overrides, &merged);
        let mut profiles = merged.remove("profiles");
        merged.remove("profile");
        // Trust is never a profile's to declare (the file's warning says so).
        if let Some(toml::Value::Table(profiles)) = &mut profiles {
            for (_, profile) in profiles.iter_mut() {
                if let toml::Value::Table(profile) = profile {
                    profile.remove("projects");
                }
            }
        }
        let mut effective = defaults;
        effective.merge(&merged);
        if let Some((name, source)) = &profile_choice {
            effective.merge(&profile_layer(name, source, profiles.as_ref(), &loaded)?);
        }
        for layer in &overrides {
            effective.merge(layer);
        }
        // `-c profile=…` only chooses the profile; show the choice once.
        effective.remove("profile");
        if let Some((name, source)) = &profile_choice {
            effective.set(
                vec!["profile".to_owned()],
                toml::Value::String(name.clone()),
                source.clone(),
            );
        }
        apply_flags(options, registry, &requirements, &mut effective)?;
        apply_trust_defaults(&project, &mut effective);
        // The requirements last: nothing overrides them.
        requirements.apply(registry, &mut effective, &mut warnings)?;

        let typed: ConfigToml = toml::Value::Table(effective.table.clone())
            .try_into()
            .map_err(|err: toml::de::Error| ConfigError::Override {
                arg: options.overrides.join(" "),
                message: err.message().trim_end().to_owned(),
            })?;
        let suppress = typed.suppress_unstable_features_warning.unwrap_or(false);
        let settings = feature_settings(&effective);
        let (features, mut feature_warnings) = Features::resolve(registry, &settings, suppress);
        warnings.append(&mut feature_warnings);
        let (sandbox_policy, mut root_warnings) = roots::refuse_exposing_roots(
            policy::sandbox_policy(&typed, options, &effective)?,
            options,
        );
        warnings.append(&mut root_warnings);
        let (model_providers, model_provider) = providers::resolve(&typed, options, &effective)?;
        let (mut mcp_servers, mcp_skipped) = mcp::resolve(&typed, options, &effective)?;
        warnings.extend(mcp_skipped.values().cloned());
        mcp::block(&mut mcp_servers, &requirements);
        let shell_environment_policy =
            env_policy::EnvPolicy::resolve(typed.shell_environment_policy.as_ref(), &effective)?;
        let sandbox_namespaces = typed
            .sandbox_linux
            .as_ref()
            .and_then(|linux| linux.namespaces)
            .unwrap_or(true);
        if !sandbox_namespaces && sandbox_policy != SandboxPolicy::DangerFullAccess {
            warnings.push(format!(
                "`[sandbox_linux] namespaces = false`: commands run under Landlock and seccomp \
                 only, so {WITHOUT_NAMESPACES}"
            ));
        }

        let notify = notify_program(typed.notify.clone(), &effective, &project, &mut warnings)?;
        let project_doc_max_bytes = typed
            .project_doc_max_bytes
            .map_or(DEFAULT_PROJECT_DOC_MAX_BYTES, |bytes| {
                usize::try_from(bytes).unwrap_or(usize::MAX)
            });

        Ok(Config {
            wharf_home: options.wharf_home.clone(),
            cwd: options.cwd.clone(),
            profile: profile_choice.map(|(name, _)| name),
            model: typed.model,
            model_provider,
            model_providers,
            approval_policy: typed.approval_policy.map(|policy| policy.policy()),
            approval_prompts: ApprovalPrompts::of(typed.approval_policy.as_ref()),
            personality: typed.personality.unwrap_or_default(),
            model_reasoning_effort: typed.model_reasoning_effort,
            model_reasoning_summary: typed.model_reasoning_summary,
            model_verbosity: typed.model_verbosity,
            model_auto_compact_token_limit: typed.model_auto_compact_token_limit,
            tool_output_token_limit: typed.tool_output_token_limit,
            project_doc_max_bytes,
            project_doc_fallback_filenames: typed
                .project_doc_fallback_filenames
                .unwrap_or_default(),
            notify,
            web_search: typed
                .tools
                .as_ref()
                .and_then(|tools| tools.web_search)
                .unwrap_or(false),
            tui: ui::TuiConfig::resolve(typed.tui.as_ref()),
            history: ui::HistoryConfig::resolve(typed.history.as_ref()),
            file_opener: typed.file_opener.unwrap_or_default(),
            hide_agent_reasoning: typed.hide_agent_reasoning.unwrap_or(false),
            show_raw_agent_reasoning: typed.show_raw_agent_reasoning.unwrap_or(false),
            otel: otel::OtelConfig::resolve(
                typed.otel.as_ref(),
                &effective,
                &project,
                &options.wharf_home,
                &mut warnings,
            ),
            hooks: hooks::HooksConfig::resolve(
                file_hooks,
                &typed.hooks,
                &effective,
                &mut warnings,
            )?,
            audit_enabled: audit::audit_enabled(
                typed.audit.as_ref(),
                &effective,
                &project,
                &mut warnings,
            ),
            sandbox_policy,
            sandbox_namespaces,
            shell_environment_policy,
            features,
            suppress_unstable_features_warning: suppress,
            mcp_servers,
            mcp_skipped,
            mcp_oauth_credentials_store: typed.mcp_oauth_credentials_store.unwrap_or_default(),
            mcp_oauth_callback_port: typed.mcp_oauth_callback_port,
            project,
            project_root_markers: markers,
            files,
            effective: Effective { layered: effective },
            requirements,
            warnings,
        })
    }
}

/// A trusted project's defaults, as codex's: workspace-write and
/// on-request, where no layer but the built-in defaults decided.
fn apply_trust_defaults(project: &Project, effective: &mut Layered) {
    if !project.is_trusted() {
        return;
    }
    let source = Source::Trust(project.root.clone());
    let mode = vec!["sandbox_mode".to_owned()];
    if matches!(effective.sources.get(&mode), None | Some(Source::Default)) {
        let value = toml::Value::String(SandboxMode::WorkspaceWrite.as_str().to_owned());
        effective.set(mode, value, source.clone());
    }
    let approval = vec!["approval_policy".to_owned()];
    if matches!(
        effective.sources.get(&approval),
        None | Some(Source::Default)
    ) {
        let value = toml::Value::String(ApprovalPolicy::OnRequest.as_str().to_owned());
        effective.set(approval, value, source);
    }
}

fn default_layer() -> Result<Layered, ConfigError> {
    let table: toml::Table =
        toml::from_str(toml_types::DEFAULTS).map_err(|err| ConfigError::Syntax {
            at: Location::of_offset(Path::new("<defaults>"), toml_types::DEFAULTS, 0),
            message: err.message().to_owned(),
        })?;
    let sources = layer::leaf_paths(&table)
        .into_iter()
        .map(|key| (key, Source::Default))
        .collect();
    Ok(Layered { table, sources })
}

/// Reads and checks one file; a missing file is no layer at all.
fn read_file(
    path: &Path,
    source: fn(Location) -> Source,
) -> Result<Option<FileLayer>, ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(ConfigError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    layer::parse_file(path, &text, source).map(Some)
}

#[cfg(test)]
mod tests;
