//! `wharf exec PROMPT`: one turn, non-interactively, and `wharf exec resume
//! [ID|--last] [PROMPT]` (also `wharf resume`): one more turn of a saved
//! session (codex's shapes).
//!
//! Progress goes to stderr, the final agent message to stdout; `--json`
//! prints every event as a line on stdout instead. Exit status 0 when the
//! turn completes, 1 when it fails.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use wharf_config::ApprovalPolicy;
use wharf_config::{Config, features::FeatureRegistry};
use wharf_host::agent::{self, Agent, CancelFlag, Event, ItemDetails, Sink, Status};
use wharf_host::rollout::{self, Rollout, RolloutWriter, SessionMeta};
use wharf_model::client::{ClientConfig, ResponsesClient, Transport};
use wharf_model::models::{ModelInfo, ModelProviderInfo, Models};
use wharf_model::protocol::{ModelClient, ResponseItem};
use wharf_model::replay::{RecordingClient, ReplayClient};
use wharf_runtime::registry::Discovery;

use crate::session::{Configured, EMBEDDED, plugins_dir};
use crate::terminal::safe;
use crate::{GlobalArgs, UsageError};

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ExecArgs {
    #[command(subcommand)]
    command: Option<ExecCommand>,
    /// What to do. `-` or none: read it from stdin (when stdin is not a terminal).
    prompt: Option<String>,
    #[command(flatten)]
    options: TurnArgs,
}

#[derive(Debug, Subcommand)]
enum ExecCommand {
    /// Continue a saved session with one more turn.
    Resume(ResumeArgs),
}

/// `wharf exec resume` and `wharf resume`.
#[derive(Debug, Args)]
pub struct ResumeArgs {
    /// The session's id (as `thread.started` printed it).
    #[arg(required_unless_present = "last")]
    id: Option<String>,
    /// The next prompt. `-` or none: read it from stdin.
    prompt: Option<String>,
    /// Continue the most recent session (then the first argument, if any,
    /// is the prompt).
    #[arg(long, conflicts_with = "prompt")]
    last: bool,
    #[command(flatten)]
    options: TurnArgs,
}

/// The options of a turn.
#[derive(Debug, Args)]
struct TurnArgs {
    /// The model (default: the configured `model`, else the provider's
    /// default; with `--replay`, the recording's).
    #[arg(short = 'm', long, value_name = "MODEL")]
    model: Option<String>,
    /// Print one JSON event per line on stdout.
    #[arg(long)]
    json: bool,
    /// Write the last agent message to FILE.
    #[arg(short = 'o', long = "output-last-message", value_name = "FILE")]
    output_last_message: Option<PathBuf>,
    /// Record the model's responses to FILE (JSONL) for `--replay` (with
    /// `--replay`, re-records the replayed session).
    #[arg(long, value_name = "FILE")]
    record: Option<PathBuf>,
    /// Play a recording's responses instead of calling a provider; the tools
    /// really run.
    #[arg(long, value_name = "FILE")]
    replay: Option<PathBuf>,
}

pub fn run(args: ExecArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        Some(ExecCommand::Resume(resume)) => run_resume(resume, global),
        None => {
            let prompt = read_prompt(args.prompt)?;
            run_turn(global, &args.options, prompt, None)
        }
    }
}

pub fn run_resume(args: ResumeArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let options = global.options()?;
    // With --last, a lone argument is the prompt.
    let (id, prompt) = if args.last {
        (None, args.id)
    } else {
        (args.id, args.prompt)
    };
    let path = match &id {
        Some(id) => rollout::find(&options.wharf_home, id)?,
        None => rollout::latest(&options.wharf_home)?,
    };
    let saved = Rollout::load(&path)?;
    for warning in &saved.warnings {
        eprintln!("warning: {warning}");
    }
    let prompt = read_prompt(prompt)?;
    run_turn(global, &args.options, prompt, Some(saved))
}

/// The prompt given, or stdin's when it is `-` or missing and stdin is not
/// a terminal.
fn read_prompt(prompt: Option<String>) -> anyhow::Result<String> {
    let prompt = match prompt.as_deref() {
        Some("-") | None => {
            let mut stdin = std::io::stdin();
            if stdin.is_terminal() {
                return Err(UsageError(
                    "no prompt: give one as an argument, or pipe it on stdin".to_owned(),
                )
                .into());
            }
            let mut text = String::new();
            stdin
                .read_to_string(&mut text)
                .context("cannot read the prompt from stdin")?;
            text
        }
        Some(text) => text.to_owned(),
    };
    if prompt.trim().is_empty() {
        return Err(UsageError("the prompt is empty".to_owned()).into());
    }
    Ok(prompt)
}

fn run_turn(
    global: &GlobalArgs,
    args: &TurnArgs,
    prompt: String,
    resumed: Option<Rollout>,
) -> anyhow::Result<ExitCode> {
    let mut options = global.options()?;
    // A resumed session keeps its working directory unless -C says otherwise.
    if let Some(saved) = &resumed
        && global.cd.is_none()
    {
        options.cwd.clone_from(&saved.meta.cwd);
    }
    options.model.clone_from(&args.model);
    let replay = match &args.replay {
        Some(path) => Some(ReplayClient::load(path)?),
        None => None,
    };
    if options.model.is_none() {
        options.model = match (&replay, &resumed) {
            (Some(replay), _) => Some(replay.model().to_owned()),
            (None, Some(saved)) => Some(saved.meta.model.clone()),
            (None, None) => None,
        };
    }

    let mut registry = FeatureRegistry::with_first_party();
    let mut discovery = Discovery::find(EMBEDDED, &plugins_dir(&options));
    discovery.register_features(&mut registry);
    let config = Config::load(&options, &registry)?;
    for warning in discovery.warnings.iter().chain(&config.warnings) {
        eprintln!("warning: {warning}");
    }
    let mut models = Models::load(&options.wharf_home, &config.model_provider.id);
    if replay.is_none() {
        refresh_models(&mut models, &config.model_provider);
    }
    for warning in models.warnings() {
        eprintln!("warning: {warning}");
    }
    let model = models.resolve(config.model.as_deref());
    let provider = config.model_provider.id.clone();
    let approval = config.approval_policy.unwrap_or(ApprovalPolicy::Never);
    let wharf_home = options.wharf_home.clone();
    let configured = Configured {
        options,
        registry,
        config,
        discovery,
    };
    let client: Box<dyn ModelClient> = match replay {
        Some(replay) => Box::new(replay),
        None => provider_client(&configured.config, &model)?,
    };
    let client: Box<dyn ModelClient> = match &args.record {
        Some(path) => Box::new(RecordingClient::create(client, path)?),
        None => client,
    };

    let mut host = configured.load()?;
    let thread_id = resumed
        .as_ref()
        .map_or_else(agent::new_thread_id, |saved| saved.meta.id.clone());
    host.session.session_id.clone_from(&thread_id);
    host.session.model = Some(agent::model_fit(&model));
    host.session.approval_policy = Some(approval);

    let (writer, history) = match resumed {
        Some(saved) => (RolloutWriter::append(&saved.path)?, saved.history),
        None => {
            let meta = SessionMeta {
                id: thread_id.clone(),
                timestamp: rollout::timestamp_now(),
                cwd: host.session.cwd.clone(),
                model: model.slug.clone(),
                provider,
                wharf_version: env!("CARGO_PKG_VERSION").to_owned(),
            };
            (RolloutWriter::create(&wharf_home, &meta)?, Vec::new())
        }
    };

    let cancel = CancelFlag::new();
    host.session.cancelled = Some(cancel.shared());
    agent::cancel_on_interrupt(cancel.clone());
    let mut agent = Agent::new(&host.plugins, &host.session, client.as_ref(), model.clone())
        .with_history(history)
        .with_cancel(cancel);
    agent.set_personality(host.config.personality);

    let mut sink = ExecSink {
        rollout: writer,
        json: args.json,
        cwd: host.session.cwd.clone(),
    };
    if !args.json {
        eprintln!(
            "wharf exec · session {thread_id} · model {} · sandbox {} · approval {}",
            model.slug,
            host.config.sandbox_policy.mode().as_str(),
            approval.as_str()
        );
    }
    agent.start(&mut sink);
    let result = agent.run_turn(&prompt, &mut sink);
    // Processes the turn started do not outlive wharf.
    host.plugins.end_session(&thread_id);
    if let Some(err) = sink.rollout.take_error() {
        eprintln!("warning: {err:#}");
    }

    match result {
        Ok(outcome) => {
            if let Some(path) = &args.output_last_message {
                let text = outcome.last_message.clone().unwrap_or_default();
                std::fs::write(path, text)
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
            if !args.json
                && let Some(message) = &outcome.last_message
            {
                // The answer is data when piped (scripts read it as the
                // model wrote it), and made safe when a person reads it.
                let mut stdout = std::io::stdout().lock();
                let shown = if stdout.is_terminal() {
                    safe(message)
                } else {
                    message.into()
                };
                writeln!(stdout, "{shown}").context("cannot write to stdout")?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(_) => Ok(ExitCode::FAILURE),
    }
}

/// How long a session's start waits for the provider's model list.
const MODELS_REFRESH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);

/// Asks the provider for its model list when the cached one is older than
/// its TTL (five minutes), so that the session resolves its model from what
/// the provider serves now. Bounded to a few seconds; a failure is a
/// warning and the models known before stay in use. A provider whose key is
/// missing is not asked: building the session's client says what is wrong.
fn refresh_models(models: &mut Models, provider: &ModelProviderInfo) {
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

/// The client of the configured provider (`model_provider`), over the
/// transport `model` and the features choose, its API key and headers read
/// from the environment.
fn provider_client(config: &Config, model: &ModelInfo) -> anyhow::Result<Box<dyn ModelClient>> {
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

/// Prints events (as JSON lines on stdout, or for people on stderr) and
/// writes them to the rollout.
struct ExecSink {
    rollout: RolloutWriter,
    json: bool,
    cwd: PathBuf,
}

impl Sink for ExecSink {
    fn event(&mut self, event: &Event) {
        self.rollout.event(event);
        if self.json {
            if let Ok(line) = serde_json::to_string(event) {
                let mut stdout = std::io::stdout().lock();
                let _ = writeln!(stdout, "{line}");
                let _ = stdout.flush();
            }
        } else {
            print_event(event, &self.cwd);
        }
    }

    fn history(&mut self, item: &ResponseItem) {
        self.rollout.history(item);
    }
}

/// Lines of a tool's output shown in progress.
const SHOWN_LINES: usize = 6;

fn print_event(event: &Event, cwd: &Path) {
    let item = match event {
        Event::ItemStarted { item } => {
            match &item.details {
                ItemDetails::CommandExecution { command, .. } => eprintln!("$ {}", safe(command)),
                ItemDetails::McpToolCall { server, tool, .. } => {
                    eprintln!("→ {}/{}", safe(server), safe(tool));
                }
                ItemDetails::ToolCall {
                    tool, arguments, ..
                } => eprintln!("→ {} {}", safe(tool), short(&arguments.to_string(), 120)),
                ItemDetails::FileChange { tool, .. } => eprintln!("→ {}", safe(tool)),
                ItemDetails::UserMessage { .. }
                | ItemDetails::AgentMessage { .. }
                | ItemDetails::Reasoning { .. }
                | ItemDetails::Error { .. } => {}
            }
            return;
        }
        Event::ItemCompleted { item } => item,
        Event::TurnCompleted { usage } => {
            eprintln!("tokens used: {}", usage.total_tokens);
            return;
        }
        Event::TurnFailed { error } => {
            eprintln!("error: {}", safe(&error.message));
            return;
        }
        Event::Error { message } => {
            eprintln!("warning: {}", safe(message));
            return;
        }
        Event::ThreadStarted { .. } | Event::TurnStarted | Event::ItemUpdated { .. } => return,
    };
    match &item.details {
        ItemDetails::UserMessage { text } => eprintln!("user: {}", short(text, 400)),
        ItemDetails::AgentMessage { text } => eprintln!("agent: {}", safe(text)),
        ItemDetails::Reasoning { text } => eprintln!("thinking: {}", short(text, 400)),
        ItemDetails::Error { message } => eprintln!("error: {}", safe(message)),
        ItemDetails::CommandExecution {
            aggregated_output,
            exit_code,
            status,
            ..
        } => {
            let head = match (exit_code, status) {
                (Some(code), _) => format!("exit {code}"),
                (None, status) => status_word(*status).to_owned(),
            };
            eprintln!("  {head}");
            print_excerpt(command_body(aggregated_output));
        }
        ItemDetails::FileChange {
            changes,
            output,
            status,
            ..
        } => {
            for change in changes {
                let path = Path::new(&change.path);
                let shown = path.strip_prefix(cwd).unwrap_or(path);
                let letter = match change.kind {
                    agent::ChangeKind::Add => 'A',
                    agent::ChangeKind::Delete => 'D',
                    agent::ChangeKind::Update => 'M',
                };
                eprintln!("  {letter} {}", safe(&shown.to_string_lossy()));
            }
            if *status != Status::Completed || changes.is_empty() {
                eprintln!("  {}", status_word(*status));
                print_excerpt(output);
            }
        }
        ItemDetails::McpToolCall { output, status, .. }
        | ItemDetails::ToolCall { output, status, .. } => {
            eprintln!("  {}", status_word(*status));
            print_excerpt(output);
        }
    }
}

fn status_word(status: Status) -> &'static str {
    match status {
        Status::InProgress => "running",
        Status::Completed => "ok",
        Status::Failed => "failed",
        Status::Declined => "declined",
    }
}

/// A command's output without the header of codex's format (everything
/// up to `Output:`).
fn command_body(output: &str) -> &str {
    match output.split_once("\nOutput:\n") {
        Some((_, body)) => body,
        None => output,
    }
}

fn print_excerpt(text: &str) {
    let lines: Vec<&str> = text.lines().collect();
    for line in lines.iter().take(SHOWN_LINES) {
        eprintln!("  │ {}", short(line, 160));
    }
    if lines.len() > SHOWN_LINES {
        eprintln!("  │ … {} more lines", lines.len() - SHOWN_LINES);
    }
}

/// `text` cut to `max` characters, made safe for the terminal.
fn short(text: &str, max: usize) -> String {
    let text = text.trim_end();
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", safe(text.get(..at).unwrap_or(text))),
        None => safe(text).into_owned(),
    }
}
