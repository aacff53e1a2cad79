//! `wharf`, the command line of the wharf coding-agent host.

mod config_cmd;
mod features_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand, ValueEnum};
use wharf_host::features::FeatureRegistry;
use wharf_host::{Config, ConfigError, ConfigOptions, FeatureError};
use wharf_sandbox::SandboxMode;

/// A coding-agent host in which every capability is a plugin.
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
    #[command(subcommand)]
    command: Command,
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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            if is_usage_error(&err) {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let registry = FeatureRegistry::with_first_party();
    match cli.command {
        Command::Features { command } => features_cmd::run(command, &cli.global, &registry),
        Command::Config { command } => config_cmd::run(command, &cli.global, &registry),
    }
}

impl GlobalArgs {
    fn options(&self) -> anyhow::Result<ConfigOptions> {
        let cwd = match &self.cd {
            Some(dir) => dir.clone(),
            None => std::env::current_dir().context("cannot read the current directory")?,
        };
        let mut options = ConfigOptions::from_env(&cwd)?;
        options.profile = self.profile.clone();
        options.overrides = self.overrides.clone();
        options.sandbox_mode = self.sandbox.map(SandboxMode::from);
        options.enable = self.enable.clone();
        options.disable = self.disable.clone();
        Ok(options)
    }

    /// Loads the configuration and prints its warnings.
    fn load_config(&self, registry: &FeatureRegistry) -> anyhow::Result<Config> {
        let config = Config::load(&self.options()?, registry)?;
        for warning in &config.warnings {
            eprintln!("warning: {warning}");
        }
        Ok(config)
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
    })
}
