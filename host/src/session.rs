//! Assembling a session, once: the plugins the embedder builds in and the
//! ones installed under `$WHARF_HOME/plugins`, the configuration their
//! feature keys are registered in, the plugins an embedder makes at start
//! (MCP servers), and what the session's calls answer to — the model, the
//! approval policy and its approver, the cancel token — and report to: one
//! event sink. `wharf tool`, `wharf exec` and `wharf resume` start here;
//! nothing of a [`Host`] changes after [`SessionBuilder::build`].

use std::error::Error;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use wharf_config::features::FeatureRegistry;
use wharf_config::{ApprovalPolicy, Config, ConfigError, ConfigOptions};
use wharf_model::models::ModelInfo;
use wharf_model::protocol::{ModelClient, RequestOptions, ResponseItem};
use wharf_runtime::hooks::command::CommandHook;
use wharf_runtime::hooks::{Hook, Hooks};
use wharf_runtime::pipeline::{self, Approver, CallOutcome, EnvLookup, Session, ToolCall};
use wharf_runtime::plugin::Plugin;
use wharf_runtime::plugin::manifest::Manifest;
use wharf_runtime::registry::{Discovery, EmbeddedPlugin, Plugins, RequiredPluginFailed};
use wharf_runtime::wasm::{WasmError, WasmRuntime};

use crate::agent::{self, Agent, CancelToken, Event, SharedSink, Sink, TurnError, TurnOutcome};
use crate::audit::AuditLog;
use crate::notify::Notifier;
use crate::project_doc::{ProjectDocs, Search};

/// The plugins directory of a wharf home.
pub fn plugins_dir(wharf_home: &Path) -> PathBuf {
    wharf_home.join("plugins")
}

/// Where a wharf home caches compiled components.
pub fn cache_dir(wharf_home: &Path) -> PathBuf {
    wharf_home.join("cache").join("wasm")
}

/// The plugins found and the configuration, every plugin's feature key
/// registered; nothing is loaded yet.
pub struct Configured {
    pub options: ConfigOptions,
    pub registry: FeatureRegistry,
    pub config: Config,
    pub discovery: Discovery,
}

impl Configured {
    /// Finds `embedded` and the plugins installed in the wharf home of
    /// `options`, registers their feature keys in `registry`, and loads the
    /// configuration.
    pub fn load(
        options: ConfigOptions,
        mut registry: FeatureRegistry,
        embedded: &[EmbeddedPlugin],
    ) -> Result<Configured, ConfigError> {
        let mut discovery = Discovery::find(embedded, &plugins_dir(&options.wharf_home));
        discovery.register_features(&mut registry);
        let config = Config::load(&options, &registry)?;
        // The administrator's requirements decide which installed plugins
        // may load, before any is read.
        discovery.require(&config.requirements);
        Ok(Configured {
            options,
            registry,
            config,
            discovery,
        })
    }

    /// What the plugin search, then the configuration, warn about.
    pub fn warnings(&self) -> impl Iterator<Item = &String> {
        self.discovery.warnings.iter().chain(&self.config.warnings)
    }

    /// A session over this configuration.
    pub fn session(self) -> SessionBuilder {
        SessionBuilder {
            configured: self,
            id: None,
            model: None,
            approval_policy: None,
            approver: None,
            cancel: CancelToken::new(),
            events: Box::new(Vec::new()),
            sources: Vec::new(),
            env: Box::new(|_| None),
            record_diffs: false,
        }
    }
}

/// Plugins an embedder makes while the others load (MCP servers, which
/// take a process start or a network round trip each).
pub type PluginSource = Box<dyn FnOnce(&Config) -> Result<Vec<Started>, BoxError> + Send>;

/// A plugin made at start, ready for the registry.
pub type Started = (Manifest, Arc<dyn Plugin>);

type BoxError = Box<dyn Error + Send + Sync>;

/// Why a session could not start.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error(transparent)]
    Runtime(#[from] WasmError),
    #[error(transparent)]
    RequiredPlugin(#[from] RequiredPluginFailed),
    /// A [`PluginSource`] failed (a required MCP server did not start).
    #[error(transparent)]
    Source(BoxError),
}

/// What a session is made of, set before it starts.
pub struct SessionBuilder {
    configured: Configured,
    id: Option<String>,
    model: Option<ModelInfo>,
    approval_policy: Option<ApprovalPolicy>,
    approver: Option<Arc<dyn Approver>>,
    cancel: CancelToken,
    events: Box<dyn Sink + Send>,
    sources: Vec<PluginSource>,
    env: Box<EnvLookup>,
    record_diffs: bool,
}

impl SessionBuilder {
    /// What the session is built over.
    pub fn configured(&self) -> &Configured {
        &self.configured
    }

    /// The session's id (a thread's id; plugins key what they keep for a
    /// session by it). Default: a new thread id.
    pub fn id(mut self, id: impl Into<String>) -> SessionBuilder {
        self.id = Some(id.into());
        self
    }

    /// The model the calls are made for. None (`wharf tool call`): every
    /// tool may run and outputs reach the caller as the tool made them.
    pub fn model(mut self, model: ModelInfo) -> SessionBuilder {
        self.model = Some(model);
        self
    }

    /// When to ask before a call. None: nothing asks.
    pub fn approval_policy(mut self, policy: Option<ApprovalPolicy>) -> SessionBuilder {
        self.approval_policy = policy;
        self
    }

    /// Who answers approval requests. None: nobody, so a call that needs
    /// approval is denied.
    pub fn approver(mut self, approver: Arc<dyn Approver>) -> SessionBuilder {
        self.approver = Some(approver);
        self
    }

    /// The flag that stops the running turn and its calls (Ctrl-C).
    pub fn cancel(mut self, cancel: CancelToken) -> SessionBuilder {
        self.cancel = cancel;
        self
    }

    /// Where everything the session says goes: the agent's events and the
    /// progress of every call. Default: kept in a list nobody reads.
    pub fn events(mut self, sink: impl Sink + Send + 'static) -> SessionBuilder {
        self.events = Box::new(sink);
        self
    }

    /// Plugins `source` makes from the configuration while the others
    /// load; its failure fails the build.
    pub fn plugins_from(
        mut self,
        source: impl FnOnce(&Config) -> Result<Vec<Started>, BoxError> + Send + 'static,
    ) -> SessionBuilder {
        self.sources.push(Box::new(source));
        self
    }

    /// How the session reads the environment variables plugins may be
    /// granted. Default: none is set.
    pub fn env(mut self, lookup: Box<EnvLookup>) -> SessionBuilder {
        self.env = lookup;
        self
    }

    /// Whether file changes carry a unified diff in their events (for a
    /// front end that shows them). Default: no.
    pub fn record_diffs(mut self, record: bool) -> SessionBuilder {
        self.record_diffs = record;
        self
    }

    /// Loads the plugins (components from the compile cache when warm) and
    /// runs the plugin sources meanwhile; a plugin that fails to load is
    /// skipped and listed in [`Plugins::skipped`], unless it is required.
    pub fn build(self) -> Result<Host, SessionError> {
        let SessionBuilder {
            configured,
            id,
            model,
            approval_policy,
            approver,
            cancel,
            mut events,
            sources,
            env,
            record_diffs,
        } = self;
        let Configured {
            options,
            config,
            discovery,
            ..
        } = configured;
        let runtime = WasmRuntime::new(Some(cache_dir(&options.wharf_home)))?;
        let started = Instant::now();
        let (plugins, made) = std::thread::scope(|scope| {
            let made = scope.spawn(|| {
                let mut made = Vec::new();
                for source in sources {
                    made.extend(source(&config)?);
                }
                Ok::<_, BoxError>(made)
            });
            let plugins = discovery.load(&runtime, &config.features);
            let made = made.join().unwrap_or_else(|_| Ok(Vec::new()));
            (plugins, made)
        });
        let mut plugins = plugins?;
        for (manifest, plugin) in made.map_err(SessionError::Source)? {
            plugins.add_plugin(manifest, plugin);
        }
        let load_time = started.elapsed();

        let id = id.unwrap_or_else(agent::new_thread_id);
        let mut session = Session::new(id, &config, options.home_dir, options.tmpdir, env);
        session.model = model.as_ref().map(|model| model_fit(&config, model));
        session.approval_policy = approval_policy;
        session.approver = approver;
        session.cancel = cancel;
        session.record_diffs = record_diffs;
        session.hooks = session_hooks(&config, &session, &plugins, events.as_mut());
        let notifier = config
            .notify
            .clone()
            .map(|argv| Notifier::new(argv, session.sandbox.unrestricted()));
        Ok(Host {
            audit: AuditLog::of(&config).map(|log| Arc::new(log) as Arc<dyn agent::Recorder>),
            notifier,
            config,
            plugins,
            session,
            model,
            events: shared(events),
            pooling: runtime.uses_pooling_allocator(),
            load_time,
            project_docs: OnceLock::new(),
        })
    }
}

/// A started session: its plugins, its configuration, and the sink
/// everything it says goes to.
pub struct Host {
    /// Runs `notify` after each completed turn.
    notifier: Option<Notifier>,
    /// Records every call (`[audit] enabled`).
    audit: Option<Arc<dyn agent::Recorder>>,
    config: Config,
    plugins: Plugins,
    session: Session,
    model: Option<ModelInfo>,
    events: SharedSink,
    pooling: bool,
    load_time: Duration,
    /// The instructions every thread of the session starts with, read
    /// when the first thread needs them (a `wharf tool` command never
    /// does).
    project_docs: OnceLock<ProjectDocs>,
}

impl Host {
    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn plugins(&self) -> &Plugins {
        &self.plugins
    }

    /// What the pipeline checks each call against.
    pub fn session(&self) -> &Session {
        &self.session
    }

    pub fn id(&self) -> &str {
        self.session.session_id.as_str()
    }

    /// Whether WASM instances come from the pooling allocator (false when
    /// it could not reserve its virtual memory).
    pub fn pooling(&self) -> bool {
        self.pooling
    }

    /// How long loading every plugin took (compiling those not cached).
    pub fn load_time(&self) -> Duration {
        self.load_time
    }

    /// A thread over this session with `client`, speaking as the
    /// configured personality; `None` when the session has no model.
    pub fn agent<'a>(&'a self, client: &'a dyn ModelClient) -> Option<Agent<'a>> {
        let model = self.model.clone()?;
        let mut agent = Agent::new(&self.plugins, &self.session, client, model)
            .with_progress(Arc::clone(&self.events))
            .with_context(self.project_docs().message())
            .with_audit(self.audit.clone());
        agent.set_personality(self.config.personality);
        agent.set_log_user_prompt(self.config.otel.log_user_prompt);
        agent.set_options(request_options(&self.config));
        agent.set_auto_compact_limit(auto_compact_limit(&self.config, self.model.as_ref()));
        Some(agent)
    }

    /// Says that `agent`'s thread started.
    pub fn start(&self, agent: &Agent<'_>) {
        agent.start(&mut Locked(&self.events));
    }

    /// Runs one turn of `agent` (see [`Agent::run_turn`]); once it
    /// completed, starts the `notify` program.
    pub fn run_turn(&self, agent: &mut Agent<'_>, input: &str) -> Result<TurnOutcome, TurnError> {
        let result = agent.run_turn(input, &mut Locked(&self.events));
        if let (Ok(outcome), Some(notifier)) = (&result, &self.notifier) {
            notifier.turn_completed(agent.thread_id(), input, outcome, &mut Locked(&self.events));
        }
        result
    }

    /// Compacts `agent`'s conversation now (`/compact`; see
    /// [`Agent::compact`]).
    pub fn compact(&self, agent: &mut Agent<'_>) -> Result<(), TurnError> {
        agent.compact(&mut Locked(&self.events))
    }

    /// Runs one call through the pipeline, outside any turn (`wharf tool
    /// call`); its progress goes to the sink as it comes, and the outcome
    /// to the audit log.
    pub fn call(&self, call: &ToolCall) -> CallOutcome {
        let outcome = self.call_unwarned(call);
        agent::hooks::warn(outcome.decisions.hooks(), &mut Locked(&self.events));
        outcome
    }

    fn call_unwarned(&self, call: &ToolCall) -> CallOutcome {
        let progress =
            agent::progress_events(&self.events, call.call_id.to_string(), call.tool.clone());
        let resolved = pipeline::resolve(&self.plugins, call);
        let outcome = match &resolved {
            Some(resolved) => pipeline::run(&self.plugins, &self.session, resolved, Some(progress)),
            None => pipeline::unknown_tool(call),
        };
        if let Some(audit) = &self.audit
            && let Some(message) = audit.record(&self.session, call, resolved.as_ref(), &outcome)
        {
            Locked(&self.events).event(&Event::Error { message });
        }
        outcome
    }

    /// The project instructions (`AGENTS.md` files) the session's threads
    /// start with.
    pub fn project_docs(&self) -> &ProjectDocs {
        self.project_docs
            .get_or_init(|| ProjectDocs::load(&Search::of(&self.config)))
    }

    /// The model the calls are made for.
    pub fn model(&self) -> Option<&ModelInfo> {
        self.model.as_ref()
    }

    /// Makes the next calls for `model` (its turns must use it too).
    pub fn set_model(&mut self, model: ModelInfo) {
        self.session.model = Some(model_fit(&self.config, &model));
        self.model = Some(model);
    }

    /// Asks under `policy` from the next call on; a policy the
    /// requirements do not allow is refused, with why.
    pub fn set_approval_policy(&mut self, policy: ApprovalPolicy) -> Result<(), String> {
        if let Some(reason) = self.config.requirements.approval_policy_refused(policy) {
            return Err(reason);
        }
        self.session.approval_policy = Some(policy);
        Ok(())
    }

    /// Turns feature `key` on or off for the rest of the session. A
    /// plugin whose feature was off when the session started was not
    /// loaded, so turning it on cannot offer its tools: that is refused,
    /// with what to do instead.
    pub fn set_feature(&mut self, key: &str, enabled: bool) -> Result<(), String> {
        if self.session.features.state(key).is_none() {
            return Err(format!("unknown feature `{key}`"));
        }
        if let Some(reason) = self.feature_locked(key) {
            return Err(reason);
        }
        self.session
            .features
            .set(key, enabled, wharf_config::Source::Flag("/features"));
        Ok(())
    }

    /// Why feature `key` cannot be switched in this session, if it cannot:
    /// the requirements pin it, or its plugin was not loaded.
    pub fn feature_locked(&self, key: &str) -> Option<String> {
        let pinned = self
            .config
            .features
            .state(key)
            .is_some_and(|state| matches!(state.source, wharf_config::Source::Requirements(_)));
        if pinned {
            let enabled = self.session.features.enabled(key);
            let error = wharf_config::features::FeatureError::Pinned {
                key: key.to_owned(),
                pinned: enabled,
                at: self
                    .config
                    .requirements
                    .at(wharf_config::requirements::FEATURES),
            };
            return Some(error.to_string());
        }
        let unloaded = self
            .plugins
            .entries
            .iter()
            .any(|entry| entry.feature_key() == key && !entry.loaded);
        unloaded.then(|| {
            format!(
                "its plugin was not loaded when the session started; start a new session with \
                 `--enable {key}` (or `wharf features enable {key}`)"
            )
        })
    }

    /// Runs the `session-start` hooks of a thread the front end started
    /// itself (`source`: `startup`, or `resume` for a saved one); an
    /// [`Agent`]'s own start runs them otherwise.
    pub fn thread_started(&self, source: &str) {
        agent::hooks::session_start(&self.session, source, &mut Locked(&self.events));
    }

    /// Starts thread `id` in this session: what the calls of the previous
    /// thread started ends now.
    pub fn new_thread(&mut self, id: impl Into<String>) {
        self.end();
        self.session.session_id = id.into().into();
    }

    /// Ends the session: what its calls started (a command session still
    /// running) ends now, not when wharf exits.
    pub fn end(&self) {
        agent::hooks::session_end(&self.session, &mut Locked(&self.events));
        self.plugins.end_session(&self.session.session_id);
    }
}

/// The session's hooks, in the order they run: the configuration's
/// command hooks (when the `hooks` feature is on), then the plugins' hooks
/// (ordered by plugin name).
fn session_hooks(
    config: &Config,
    session: &Session,
    plugins: &Plugins,
    sink: &mut dyn Sink,
) -> Hooks {
    let commands = &config.hooks.commands;
    let mut hooks: Vec<Arc<dyn Hook>> = Vec::new();
    if config.features.enabled(HOOKS_FEATURE) {
        for command in commands {
            hooks.push(Arc::new(CommandHook::new(
                command,
                Arc::clone(&session.sandbox),
            )));
        }
    } else if let Some(first) = commands.first() {
        sink.event(&Event::Error {
            message: format!(
                "{}: `[hooks]` is set but the `{HOOKS_FEATURE}` feature is off, so no command                  hook runs (turn it on with `--enable {HOOKS_FEATURE}` or `[features]                  {HOOKS_FEATURE} = true`)",
                first.origin
            ),
        });
    }
    hooks.extend(plugins.hooks(&session.features));
    Hooks::new(hooks)
}

/// The feature key that turns command hooks on and off.
const HOOKS_FEATURE: &str = "hooks";

/// The model as the pipeline sees it, with the configured budget of a
/// tool output (`tool_output_token_limit`) in place of the model's
/// truncation policy.
fn model_fit(config: &Config, model: &ModelInfo) -> pipeline::ModelFit {
    let mut fit = agent::model_fit(model);
    if let Some(limit) = config.tool_output_token_limit {
        fit.truncation = pipeline::Truncation::Tokens(limit);
    }
    fit
}

/// The context use a thread compacts at: `model_auto_compact_token_limit`,
/// else 90% of the model's context window; `None` when neither is known.
pub fn auto_compact_limit(config: &Config, model: Option<&ModelInfo>) -> Option<u64> {
    config.model_auto_compact_token_limit.or_else(|| {
        model?
            .context_window
            .map(|window| window.saturating_mul(9) / 10)
    })
}

/// What the configuration asks of every request.
pub fn request_options(config: &Config) -> RequestOptions {
    RequestOptions {
        reasoning_effort: config.model_reasoning_effort,
        reasoning_summary: config.model_reasoning_summary,
        verbosity: config.model_verbosity,
        output_schema: None,
        web_search: config.web_search,
    }
}

fn shared(sink: Box<dyn Sink + Send>) -> SharedSink {
    Arc::new(Mutex::new(sink))
}

/// The shared sink, locked for one event at a time: a running call's
/// progress reaches it from the call's thread between the turn's events.
struct Locked<'s>(&'s SharedSink);

impl Sink for Locked<'_> {
    fn event(&mut self, event: &Event) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .event(event);
    }

    fn history(&mut self, item: &ResponseItem) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .history(item);
    }

    fn compacted(&mut self, history: &[ResponseItem]) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .compacted(history);
    }
}

impl Sink for Box<dyn Sink + Send> {
    fn event(&mut self, event: &Event) {
        (**self).event(event);
    }

    fn history(&mut self, item: &ResponseItem) {
        (**self).history(item);
    }

    fn compacted(&mut self, history: &[ResponseItem]) {
        (**self).compacted(history);
    }
}

#[cfg(test)]
mod tests;
