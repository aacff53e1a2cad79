//! `wharf [PROMPT]`: the interactive session in the terminal, and `wharf
//! resume` without a prompt, which picks a saved session to continue in it.
//!
//! The session runs in `wharf_host::interactive` (the agent, the rollout,
//! the approvals remembered); the TUI only sends ops and renders events.

use std::io::IsTerminal as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::mpsc;

use anyhow::Context as _;
use wharf_config::trust::trust_target;
use wharf_config::{ApprovalPolicy, Config, ConfigOptions, TrustLevel, set_project_trust};
use wharf_host::interactive::{self, Connect, FrontEnd, Setup};
use wharf_host::rollout::{self, Rollout};
use wharf_model::client::Transport;
use wharf_model::models::{ModelInfo, Models};
use wharf_model::protocol::ModelClient;
use wharf_tui::theme::Theme;

mod settings;

use crate::provider::{choose_model, provider_client, refresh_models};
use crate::{GlobalArgs, UsageError};

/// What to open.
pub enum Start {
    /// A new session, with a first prompt or none.
    New { prompt: Option<String> },
    /// A saved session (`wharf resume ID` on a terminal, or picked).
    Resume(Box<Rollout>),
    /// Pick a saved session first (`wharf resume`).
    Pick,
}

pub fn run(global: &GlobalArgs, model: Option<String>, start: Start) -> anyhow::Result<ExitCode> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return Err(UsageError(
            "the interactive session needs a terminal (stdin and stdout); for scripts, use \
             `wharf exec PROMPT`, and see `wharf --help` for the commands"
                .to_owned(),
        )
        .into());
    }
    let theme = Theme::from_env();
    let mut options = global.options()?;
    let (prompt, resumed) = match start {
        Start::New { prompt } => (prompt, None),
        Start::Resume(saved) => (None, Some(*saved)),
        Start::Pick => match pick(&options, &theme)? {
            Some(saved) => (None, Some(saved)),
            None => return Ok(ExitCode::SUCCESS),
        },
    };
    // A resumed session keeps its directory and model unless told otherwise.
    if let Some(saved) = &resumed {
        if global.cd.is_none() {
            options.cwd.clone_from(&saved.meta.cwd);
        }
        if model.is_none() {
            options.model = Some(saved.meta.model.clone());
        }
    }
    if model.is_some() {
        options.model = model;
    }
    let mut configured = crate::session::configure(options)?;
    if configured.config.project.trust.is_none() {
        let root = configured.config.project.root.clone();
        match ask_trust(&configured.options, root, &theme)? {
            // The decision changes the defaults and what is read.
            Some(()) => configured = crate::session::configure(configured.options)?,
            None => return Ok(ExitCode::SUCCESS),
        }
    }
    let config = &configured.config;
    let mut models = Models::load(&configured.options.wharf_home, &config.model_provider.id);
    refresh_models(&mut models, &config.model_provider);
    for warning in models.warnings() {
        eprintln!("warning: {warning}");
    }
    let model = choose_model(&models, config.model.as_deref());
    for warning in crate::provider::request_warnings(config, &model) {
        eprintln!("warning: {warning}");
    }
    let catalog = catalog(&models, &model);
    let client = provider_client(config, &model)?;
    let connect = connector(config);
    let provider = config.model_provider.id.clone();
    let settings = settings::Settings::of(config, std::env::var("TERM_PROGRAM").ok().as_deref());
    for warning in &settings.warnings {
        eprintln!("warning: {warning}");
    }
    let wharf_home = configured.options.wharf_home.clone();
    let cwd = config.cwd.clone();
    // Asking is what an interactive session is for: codex's default.
    let (approval, warning) = config.approval_policy_or(ApprovalPolicy::OnRequest);
    if let Some(warning) = warning {
        eprintln!("warning: {warning}");
    }

    let (events_tx, events) = mpsc::channel();
    let front = FrontEnd::new(events_tx);
    let host = crate::session::start(
        front
            .wire(crate::session::session(configured))
            .model(model)
            .approval_policy(Some(approval)),
    )?;
    crate::session::warn_project_docs(&host);
    let setup = Setup {
        host,
        client,
        connect,
        catalog,
        provider,
        wharf_home,
        resumed,
    };
    let (ops, session) =
        interactive::spawn(front, setup).context("cannot start the session's threads")?;
    let options = wharf_tui::Options {
        cwd,
        initial_prompt: prompt,
        theme,
        status_items: settings.status_items,
        notifications: settings.notifications,
        history: settings.history,
        hide_reasoning: settings.hide_reasoning,
        file_opener: settings.file_opener,
    };
    let shown = wharf_tui::run(ops, events, options);
    // What the session started ends before wharf does.
    let _ = session.join();
    shown.context("the terminal failed")?;
    Ok(ExitCode::SUCCESS)
}

/// The resume picker; `None` when the user left it.
fn pick(options: &ConfigOptions, theme: &Theme) -> anyhow::Result<Option<Rollout>> {
    let sessions = rollout::list(&options.wharf_home);
    if sessions.is_empty() {
        anyhow::bail!(
            "no saved sessions under {} yet; start one with `wharf`",
            rollout::sessions_dir(&options.wharf_home).display()
        );
    }
    let Some(index) = wharf_tui::pick_session(&sessions, theme)? else {
        return Ok(None);
    };
    let path = &sessions[index].path;
    let saved = Rollout::load(path)?;
    for warning in &saved.warnings {
        eprintln!("warning: {warning}");
    }
    Ok(Some(saved))
}

/// On the first start in project `root`, which the user never decided
/// about, asks whether to trust it and records the answer in their
/// config.toml (as `wharf trust` does); `None` when the user quit.
fn ask_trust(options: &ConfigOptions, root: PathBuf, theme: &Theme) -> anyhow::Result<Option<()>> {
    let user_path = options.user_config_path();
    match wharf_tui::ask_trust(&root, theme)? {
        None => Ok(None),
        Some(true) => {
            let target = trust_target(&options.cwd, &user_path)
                .with_context(|| format!("cannot trust {}", root.display()))?;
            wharf_config::trust_project(&user_path, &target)?;
            Ok(Some(()))
        }
        Some(false) => {
            set_project_trust(&user_path, &root, TrustLevel::Untrusted, None)?;
            Ok(Some(()))
        }
    }
}

/// The models `/model` offers: the catalog, with the session's own first
/// when the catalog lacks it.
fn catalog(models: &Models, model: &ModelInfo) -> Vec<ModelInfo> {
    let mut list = models.list();
    if !list.iter().any(|m| m.slug == model.slug) {
        list.insert(0, model.clone());
    }
    list
}

/// Makes the client of another model of the configured provider.
fn connector(config: &Config) -> Connect {
    let provider = config.model_provider.clone();
    let features = config.features.clone();
    Box::new(move |model: &ModelInfo| {
        let env = |name: &str| std::env::var(name).ok();
        let transport = Transport::for_model(model, &features);
        wharf_model::client::client_for_provider(&provider, transport, &env)
            .map(|client| client as Box<dyn ModelClient>)
            .map_err(|err| err.to_string())
    })
}
