//! The host this binary assembles: the plugins it embeds, the
//! configuration (its warnings printed), and sessions through wharf-host's
//! `SessionBuilder`, with the MCP servers this build can start and the
//! process's environment.

use std::path::PathBuf;

use wharf_config::{Config, ConfigOptions};
use wharf_host::session::{Configured, Host, SessionBuilder, Started};
use wharf_runtime::plugin::manifest::PluginKind;

use crate::GlobalArgs;
use crate::build_info::embedded;
use crate::terminal::safe;

/// The plugins directory of a wharf home.
pub fn plugins_dir(options: &ConfigOptions) -> PathBuf {
    wharf_host::session::plugins_dir(&options.wharf_home)
}

/// Where compiled components are cached.
pub fn cache_dir(options: &ConfigOptions) -> PathBuf {
    wharf_host::session::cache_dir(&options.wharf_home)
}

impl GlobalArgs {
    /// Finds the plugins, registers their features, loads the configuration
    /// and prints the warnings of all three.
    pub fn configure(&self) -> anyhow::Result<Configured> {
        configure(self.options()?)
    }
}

/// [`GlobalArgs::configure`] with `options` as the command adjusted them.
pub fn configure(options: ConfigOptions) -> anyhow::Result<Configured> {
    let configured =
        Configured::load(options, crate::first_party::feature_registry()?, embedded())?;
    for warning in configured.warnings() {
        eprintln!("warning: {}", safe(warning));
    }
    Ok(configured)
}

/// A session over `configured`: the MCP servers start while the components
/// load, and plugins are granted variables from the process's environment.
pub fn session(configured: Configured) -> SessionBuilder {
    configured
        .session()
        .plugins_from(start_mcp_servers)
        .env(Box::new(|name| std::env::var(name).ok()))
}

/// The id of a session of `wharf tool`.
pub fn tool_session_id() -> String {
    format!("tool-{}", std::process::id())
}

/// Builds `builder`; skipped plugins are reported as warnings.
pub fn start(builder: SessionBuilder) -> anyhow::Result<Host> {
    let host = builder.build()?;
    for skipped in &host.plugins().skipped {
        eprintln!(
            "warning: plugin `{}` skipped: {}",
            skipped.name,
            safe(&skipped.reason)
        );
    }
    Ok(host)
}

/// Prints what reading the project instructions warned about, for the
/// commands that talk to a model (the instructions are read then).
pub fn warn_project_docs(host: &Host) {
    for warning in &host.project_docs().warnings {
        eprintln!("warning: {}", safe(warning));
    }
}

/// "compiled N plugins in M ms …" when this start compiled any (a cold
/// cache), for listings to report.
pub fn compile_report(host: &Host) -> Option<String> {
    let compiled = host
        .plugins()
        .entries
        .iter()
        .filter(|e| e.manifest.kind == PluginKind::Wasm && e.loaded && !e.from_cache)
        .count();
    (compiled > 0).then(|| {
        format!(
            "compiled {compiled} plugin(s) in {:.0} ms, in parallel; later starts load them from the cache",
            host.load_time().as_secs_f64() * 1000.0
        )
    })
}

type StartError = Box<dyn std::error::Error + Send + Sync>;

#[cfg(feature = "mcp_client")]
fn start_mcp_servers(config: &Config) -> Result<Vec<Started>, StartError> {
    Ok(crate::mcp::start_servers(config)?)
}

/// A build without the MCP client starts no server; `[mcp_servers]` is
/// still read (and `wharf mcp list` shows it).
#[cfg(not(feature = "mcp_client"))]
fn start_mcp_servers(_: &Config) -> Result<Vec<Started>, StartError> {
    Ok(Vec::new())
}
