//! `wharf`, the command line of the wharf coding-agent host, as a library:
//! `src/main.rs` calls [`main_with`] with wharf's own [`Build`], and a
//! custom build (`examples/custom-build`) with its own: its name, its
//! plugins, and the requirements and configuration it bakes in.

mod audit_cmd;
mod build_info;
mod config_cmd;
mod exec_cmd;
mod features_cmd;
mod first_party;
mod logging;
#[cfg(feature = "mcp_client")]
mod mcp;
mod mcp_cmd;
#[cfg(feature = "mcp_client")]
mod mcp_login;
mod plugin_cmd;
mod plugin_dev;
mod printer;
mod provider;
mod sandbox_cmd;
mod session;
#[cfg(feature = "telemetry")]
mod telemetry;
mod terminal;
mod tool_cmd;
mod trust_cmd;
mod tui_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, CommandFactory as _, FromArgMatches as _, Parser, Subcommand, ValueEnum};
use wharf_config::ApprovalPolicy;
use wharf_config::build_config::BuildConfig;
use wharf_config::{ConfigError, ConfigOptions, features::FeatureError};
use wharf_sandbox::SandboxMode;

pub use build_info::{Build, FIRST_PARTY};
pub use wharf_runtime::registry::EmbeddedPlugin;

/// A coding-agent host in which every capability is a plugin. Without a
/// command, opens the interactive session in the terminal.
#[derive(Debug, Parser)]
#[command(
    name = "wharf",
    version,
    propagate_version = true,
    max_term_width = 100
)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    /// The interactive session's model (default: the configured `model`,
    /// else the provider's default).
    #[arg(short = 'm', long, value_name = "MODEL")]
    model: Option<String>,
    /// The first prompt of the interactive session.
    prompt: Option<String>,
    #[command(subcommand)]
    command: Option<Command>,
}

/// Options every subcommand takes.
#[derive(Debug, Args)]
struct GlobalArgs {
    /// Turn a feature on for this run (repeatable).
    #[arg(long = "enable", value_name = "FEATURE", global = true)]
    enable: Vec<String>,
    /// Turn a feature off for this run (repeatable).
    #[arg(long = "disable", value_name = "FEATURE", global = true)]
    disable: Vec<String>,
    /// Override a configuration value, e.g. `-c sandbox_workspace_write.network_access=true`.
    /// The value is read as TOML, or taken as a string when it is not TOML (repeatable).
    #[arg(short = 'c', long = "config", value_name = "KEY=VALUE", global = true)]
    overrides: Vec<String>,
    /// Apply `[profiles.NAME]` from config.toml.
    #[arg(short = 'p', long, value_name = "NAME", global = true)]
    profile: Option<String>,
    /// Work in DIR instead of the current directory.
    #[arg(short = 'C', long = "cd", value_name = "DIR", global = true)]
    cd: Option<PathBuf>,
    /// The sandbox for processes and plugins that tools start.
    #[arg(short = 's', long = "sandbox", value_name = "MODE", global = true)]
    sandbox: Option<SandboxArg>,
    /// When to ask before a tool call runs (`wharf exec` cannot ask: a call
    /// that needs approval is refused; `wharf tool call` asks on a terminal
    /// and refuses without one).
    #[arg(
        short = 'a',
        long = "ask-for-approval",
        value_name = "POLICY",
        global = true
    )]
    approval: Option<ApprovalArg>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ApprovalArg {
    Untrusted,
    OnFailure,
    OnRequest,
    Never,
}

impl From<ApprovalArg> for ApprovalPolicy {
    fn from(arg: ApprovalArg) -> ApprovalPolicy {
        match arg {
            ApprovalArg::Untrusted => ApprovalPolicy::Untrusted,
            ApprovalArg::OnFailure => ApprovalPolicy::OnFailure,
            ApprovalArg::OnRequest => ApprovalPolicy::OnRequest,
            ApprovalArg::Never => ApprovalPolicy::Never,
        }
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum SandboxArg {
    ReadOnly,
    WorkspaceWrite,
    DangerFullAccess,
}

impl From<SandboxArg> for SandboxMode {
    fn from(arg: SandboxArg) -> SandboxMode {
        match arg {
            SandboxArg::ReadOnly => SandboxMode::ReadOnly,
            SandboxArg::WorkspaceWrite => SandboxMode::WorkspaceWrite,
            SandboxArg::DangerFullAccess => SandboxMode::DangerFullAccess,
        }
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List feature flags, or turn one on or off in config.toml.
    Features {
        #[command(subcommand)]
        command: features_cmd::FeaturesCommand,
    },
    /// Inspect the configuration.
    Config {
        #[command(subcommand)]
        command: config_cmd::ConfigCommand,
    },
    /// Manage the MCP servers in config.toml: add, list, get, remove.
    Mcp(mcp_cmd::McpArgs),
    /// List the installed plugins, add one, or remove one.
    Plugin {
        #[command(subcommand)]
        command: plugin_cmd::PluginCommand,
    },
    /// List the tools, or run one through the policy pipeline (no model involved).
    Tool {
        #[command(subcommand)]
        command: tool_cmd::ToolCommand,
    },
    /// Run a command under the configured sandbox, as tools' commands run:
    /// `wharf -s workspace-write sandbox -- CMD ARGS…`.
    Sandbox(sandbox_cmd::SandboxArgs),
    /// Run the agent non-interactively: `wharf exec "fix the failing test"`.
    Exec(exec_cmd::ExecArgs),
    /// Continue a saved session: without an id, pick one in the interactive
    /// session; with an id (or --last) and a prompt, run one more turn (as
    /// `wharf exec resume`); with an id and no prompt on a terminal, open it.
    Resume(exec_cmd::ResumeArgs),
    /// Trust a project, so that its .wharf/config.toml is read (or, with
    /// --revoke, mark it untrusted).
    Trust(trust_cmd::TrustArgs),
    /// Print the audit log: every tool call, what decided it and how it ended.
    Audit(audit_cmd::AuditArgs),
}

/// Runs the command line of `build`: what `main` of wharf, or of a custom
/// build, returns.
pub fn main_with(build: Build) -> ExitCode {
    let build = build_info::install(build);
    // The name and version are the build's, in `--help` and `--version`.
    let mut command = Cli::command()
        .name(build.name)
        .bin_name(build.name)
        .version(build.version);
    if let Some(about) = build.about {
        command = command.about(about);
    }
    let matches = command.clone().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|err| err.format(&mut command).exit());
    let options = cli.global.options().ok();
    #[cfg(feature = "telemetry")]
    let exporter = options.as_ref().and_then(telemetry::exporter);
    #[cfg(not(feature = "telemetry"))]
    let exporter = None;
    logging::init(options.map(|o| o.wharf_home).as_deref(), exporter);
    let result = run(cli);
    // What an exporter holds is sent (within its deadline) before the
    // process ends.
    logging::shutdown();
    match result {
        Ok(code) => code,
        Err(err) => {
            // Causes can carry a tool's or a server's text.
            eprintln!("error: {}", terminal::safe(&format!("{err:#}")));
            if is_usage_error(&err) {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let Some(command) = cli.command else {
        let start = tui_cmd::Start::New { prompt: cli.prompt };
        return tui_cmd::run(&cli.global, cli.model, start);
    };
    if cli.prompt.is_some() {
        return Err(UsageError(
            "a prompt goes after the command (`wharf exec PROMPT`), or alone to open the \
             interactive session"
                .to_owned(),
        )
        .into());
    }
    let model = cli.model;
    if model.is_some() && !matches!(command, Command::Resume(_)) {
        return Err(UsageError(
            "-m before a command only applies to the interactive session; put it after the \
             command (`wharf exec -m MODEL …`)"
                .to_owned(),
        )
        .into());
    }
    match command {
        Command::Features { command } => features_cmd::run(command, &cli.global),
        Command::Config { command } => config_cmd::run(command, &cli.global),
        Command::Mcp(args) => mcp_cmd::run(args, &cli.global),
        Command::Plugin { command } => plugin_cmd::run(command, &cli.global),
        Command::Tool { command } => tool_cmd::run(command, &cli.global),
        Command::Sandbox(args) => sandbox_cmd::run(args, &cli.global),
        Command::Exec(args) => exec_cmd::run(args, &cli.global),
        Command::Resume(args) => match exec_cmd::interactive_resume(&args)? {
            Some(start) => {
                let model = model.or_else(|| args.model().map(str::to_owned));
                tui_cmd::run(&cli.global, model, start)
            }
            None => exec_cmd::run_resume(args, &cli.global),
        },
        Command::Trust(args) => trust_cmd::run(args, &cli.global),
        Command::Audit(args) => audit_cmd::run(args, &cli.global),
    }
}

impl GlobalArgs {
    fn options(&self) -> anyhow::Result<ConfigOptions> {
        let cwd = match &self.cd {
            Some(dir) => dir.clone(),
            None => std::env::current_dir().context("cannot read the current directory")?,
        };
        let build = build_info::current();
        let mut options = ConfigOptions::from_env_with(&cwd, build.requirements)?;
        options.build_config = build
            .default_config
            .map(|(name, text)| BuildConfig::new(name, text));
        options.profile = self.profile.clone();
        options.overrides = self.overrides.clone();
        options.sandbox_mode = self.sandbox.map(SandboxMode::from);
        options.approval_policy = self.approval.map(ApprovalPolicy::from);
        options.enable = self.enable.clone();
        options.disable = self.disable.clone();
        Ok(options)
    }
}

/// Errors in what was typed on the command line exit with status 2, like
/// clap's own.
fn is_usage_error(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<ConfigError>()
            .is_some_and(ConfigError::is_usage)
            || cause.downcast_ref::<FeatureError>().is_some()
            || cause.downcast_ref::<UsageError>().is_some()
    })
}

/// A mistake in what was typed that clap cannot catch (an unknown tool name,
/// arguments that are not JSON): exit status 2.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}
