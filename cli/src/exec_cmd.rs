//! `wharf exec PROMPT`: one turn, non-interactively, and `wharf exec resume
//! [ID|--last] [PROMPT]` (also `wharf resume`): one more turn of a saved
//! session (codex's shapes).
//!
//! Progress goes to stderr, the agent's text as it streams; the final agent
//! message also goes to stdout unless both are terminals (the answer is on
//! the screen already); `--json` prints every event as a line on stdout
//! instead. An empty final answer is a warning. Exit status 0 when the
//! turn completes, 1 when it fails (or its final message does not match
//! `--output-schema`).
//!
//! As codex, `exec` runs only inside a git repository unless
//! `--skip-git-repo-check` is given; wharf also runs in a project the user
//! trusted (`wharf trust`), repository or not.

mod inputs;

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use wharf_config::ApprovalPolicy;
use wharf_host::agent::{self, CancelToken, Event, Sink};
use wharf_host::rollout::{self, Rollout, RolloutWriter, SessionMeta, SharedRollout};
use wharf_model::models::Models;
use wharf_model::protocol::{ModelClient, ResponseItem};
use wharf_model::replay::{RecordingClient, ReplayClient};

use crate::printer::Printer;
use crate::provider::{choose_model, provider_client, refresh_models};
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
    /// The session's id (as `thread.started` printed it). `wharf exec
    /// resume` needs it or --last; `wharf resume` without it shows a picker.
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
    /// Attach images (PNG, JPEG, GIF, WebP) to the prompt; only for models
    /// with image input. Several: `-i a.png,b.png` or `-i a.png -i b.png`.
    #[arg(
        short = 'i',
        long = "image",
        value_name = "FILE",
        value_delimiter = ',',
        num_args = 1..
    )]
    images: Vec<PathBuf>,
    /// A JSON Schema the final message must match: the model is asked for
    /// JSON of that shape, and exec exits 1 when the answer does not match.
    #[arg(long, value_name = "FILE")]
    output_schema: Option<PathBuf>,
    /// Write no session file (the session cannot be resumed).
    #[arg(long)]
    ephemeral: bool,
    /// Run outside a git repository (and outside a trusted project).
    #[arg(long)]
    skip_git_repo_check: bool,
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

impl ResumeArgs {
    /// The model given with `-m`.
    pub fn model(&self) -> Option<&str> {
        self.options.model.as_deref()
    }
}

/// What `wharf resume` opens in the terminal, if it opens anything: the
/// picker without an id, or the session `ID` (or `--last`) when no prompt
/// is given and stdin is a terminal. `None`: one more turn, as `wharf exec
/// resume`.
pub fn interactive_resume(args: &ResumeArgs) -> anyhow::Result<Option<crate::tui_cmd::Start>> {
    use crate::tui_cmd::Start;
    let interactive = std::io::stdin().is_terminal()
        && !args.options.json
        && args.options.replay.is_none()
        && args.options.record.is_none()
        && args.options.output_last_message.is_none()
        && args.options.images.is_empty()
        && args.options.output_schema.is_none()
        && !args.options.ephemeral;
    if args.id.is_none() && !args.last {
        if !interactive {
            return Err(UsageError(
                "give the session's id or --last (the picker needs a terminal)".to_owned(),
            )
            .into());
        }
        return Ok(Some(Start::Pick));
    }
    // `--last PROMPT` puts the prompt where the id goes.
    let prompt_given = if args.last {
        args.id.is_some()
    } else {
        args.prompt.is_some()
    };
    if !interactive || prompt_given {
        return Ok(None);
    }
    let options_home = wharf_config::ConfigOptions::from_env(&std::env::current_dir()?)?.wharf_home;
    let path = match &args.id {
        Some(id) => rollout::find(&options_home, id)?,
        None => rollout::latest(&options_home)?,
    };
    let saved = Rollout::load(&path)?;
    for warning in &saved.warnings {
        eprintln!("warning: {warning}");
    }
    Ok(Some(Start::Resume(Box::new(saved))))
}

pub fn run_resume(args: ResumeArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let options = global.options()?;
    if args.id.is_none() && !args.last {
        return Err(UsageError("give the session's id or --last".to_owned()).into());
    }
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

    let configured = crate::session::configure(options)?;
    let config = &configured.config;
    if !args.skip_git_repo_check && !in_git_repository(&config.cwd) && !config.project.is_trusted()
    {
        anyhow::bail!(
            "not inside a trusted directory or a git repository ({}); pass \
             --skip-git-repo-check to run anyway, or trust it with `wharf trust`",
            config.cwd.display()
        );
    }
    let output_schema = match &args.output_schema {
        Some(path) => Some(inputs::OutputSchema::load(path, &config.cwd)?),
        None => None,
    };
    let mut models = Models::load(&configured.options.wharf_home, &config.model_provider.id);
    if replay.is_none() {
        refresh_models(&mut models, &config.model_provider);
    }
    for warning in models.warnings() {
        eprintln!("warning: {warning}");
    }
    // A replay asks no provider: its model is the recording's.
    let model = match &replay {
        Some(_) => models.resolve(config.model.as_deref()),
        None => choose_model(&models, config.model.as_deref()),
    };
    let images = inputs::load_images(&args.images, &config.cwd, &model)?;
    for warning in crate::provider::request_warnings(config, &model) {
        eprintln!("warning: {warning}");
    }
    let provider = config.model_provider.id.clone();
    let (approval, warning) = config.approval_policy_or(ApprovalPolicy::Never);
    if let Some(warning) = warning {
        eprintln!("warning: {warning}");
    }
    let wharf_home = configured.options.wharf_home.clone();
    let cwd = config.cwd.clone();
    let client: Box<dyn ModelClient> = match replay {
        Some(replay) => Box::new(replay),
        None => provider_client(config, &model)?,
    };
    let client: Box<dyn ModelClient> = match &args.record {
        Some(path) => Box::new(RecordingClient::create(client, path)?),
        None => client,
    };

    let thread_id = resumed
        .as_ref()
        .map_or_else(agent::new_thread_id, |saved| saved.meta.id.clone());
    let rollout = SharedRollout::default();
    let sink = ExecSink {
        rollout: rollout.clone(),
        printer: Printer::new(args.json, cwd.clone()),
        hide_reasoning: config.hide_agent_reasoning,
    };
    let cancel = CancelToken::new();
    let host = crate::session::start(
        crate::session::session(configured)
            .id(thread_id.clone())
            .model(model.clone())
            .approval_policy(Some(approval))
            .cancel(cancel.clone())
            .events(sink),
    )?;
    crate::session::warn_project_docs(&host);

    // The rollout starts once the session did: a session that fails to
    // start leaves no file behind. `--ephemeral` writes none at all.
    let history = match resumed {
        Some(saved) => {
            if !args.ephemeral {
                rollout.set(RolloutWriter::append(&saved.path)?);
            }
            saved.history
        }
        None => {
            if !args.ephemeral {
                let meta = SessionMeta {
                    id: thread_id.clone(),
                    timestamp: rollout::timestamp_now(),
                    cwd,
                    model: model.slug.clone(),
                    provider,
                    wharf_version: env!("CARGO_PKG_VERSION").to_owned(),
                };
                rollout.set(RolloutWriter::create(&wharf_home, &meta)?);
            }
            Vec::new()
        }
    };

    agent::cancel_on_interrupt(cancel);
    let mut agent = host
        .agent(client.as_ref())
        .context("the session has no model")?
        .with_history(history);
    agent.attach_images(images);
    if let Some(schema) = &output_schema {
        let mut options = agent.options().clone();
        options.output_schema = Some(schema.schema().clone());
        agent.set_options(options);
    }

    if !args.json {
        eprintln!(
            "wharf exec · session {thread_id} · model {} · sandbox {} · approval {}",
            model.slug,
            host.config().sandbox_policy.mode().as_str(),
            approval.as_str()
        );
    }
    host.start(&agent);
    let result = host.run_turn(&mut agent, &prompt);
    // Processes the turn started do not outlive wharf.
    host.end();
    if let Some(err) = rollout.take_error() {
        eprintln!("warning: {err:#}");
    }

    match result {
        Ok(outcome) => {
            if let Some(path) = &args.output_last_message {
                let text = outcome.last_message.clone().unwrap_or_default();
                std::fs::write(path, text)
                    .with_context(|| format!("cannot write {}", path.display()))?;
            }
            let answer = outcome.last_message.as_deref().unwrap_or_default();
            if answer.trim().is_empty() {
                eprintln!(
                    "warning: the model's final answer is empty (it ended the turn without text)"
                );
            }
            // On a terminal the answer was shown with the progress on
            // stderr (as codex does); elsewhere stdout gets it.
            let shown_on_terminal =
                std::io::stdout().is_terminal() && std::io::stderr().is_terminal();
            if !args.json
                && !shown_on_terminal
                && let Some(message) = outcome
                    .last_message
                    .as_ref()
                    .filter(|_| !answer.trim().is_empty())
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
            if let Some(schema) = &output_schema
                && let Err(problem) = schema.check(outcome.last_message.as_deref())
            {
                eprintln!("error: {}", safe(&problem));
                return Ok(ExitCode::FAILURE);
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(_) => Ok(ExitCode::FAILURE),
    }
}

/// Whether `dir` or a directory above it holds `.git` (a repository's
/// directory, or a worktree's `.git` file).
fn in_git_repository(dir: &std::path::Path) -> bool {
    dir.ancestors().any(|dir| dir.join(".git").exists())
}

/// Prints events and writes them to the rollout.
struct ExecSink {
    rollout: SharedRollout,
    printer: Printer,
    /// `hide_agent_reasoning`: the rollout keeps the reasoning, the output
    /// does not show it.
    hide_reasoning: bool,
}

impl Sink for ExecSink {
    fn event(&mut self, event: &Event) {
        self.rollout.event(event);
        if !(self.hide_reasoning && event.is_reasoning()) {
            self.printer.print(event);
        }
    }

    fn history(&mut self, item: &ResponseItem) {
        self.rollout.history(item);
    }

    fn compacted(&mut self, history: &[ResponseItem]) {
        self.rollout.compacted(history);
    }
}
