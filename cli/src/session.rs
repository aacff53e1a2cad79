//! Assembling a host: the plugins this binary embeds and the installed
//! ones, the configuration, and a session for tool calls.

use std::path::PathBuf;

use wharf_config::Config;
use wharf_config::ConfigOptions;
use wharf_config::features::FeatureRegistry;
use wharf_runtime::pipeline::Session;
use wharf_runtime::plugin::manifest::PluginKind;
use wharf_runtime::registry::{Discovery, EmbeddedPlugin, Plugins};
use wharf_runtime::wasm::WasmRuntime;

use crate::GlobalArgs;
use crate::terminal::safe;

/// The first-party plugins built into this binary: the WASM components
/// `build.rs` builds, and the builtin native plugins its cargo features
/// choose.
pub const EMBEDDED: &[EmbeddedPlugin] = &[
    EmbeddedPlugin::wasm(
        include_str!("../../plugins/apply-patch/plugin.toml"),
        include_bytes!(env!("WHARF_APPLY_PATCH_WASM")),
    ),
    EmbeddedPlugin::wasm(
        include_str!("../../plugins/view-image/plugin.toml"),
        include_bytes!(env!("WHARF_VIEW_IMAGE_WASM")),
    ),
    #[cfg(feature = "unified_exec")]
    EmbeddedPlugin::native(
        include_str!("../../plugins/unified-exec/unified-exec.toml"),
        wharf_plugin_unified_exec::tools::unified_exec::wharf_native_plugin,
    ),
    #[cfg(feature = "shell_tool")]
    EmbeddedPlugin::native(
        include_str!("../../plugins/unified-exec/shell.toml"),
        wharf_plugin_unified_exec::tools::shell_tool::wharf_native_plugin,
    ),
];

/// Feature registry and configuration, with every plugin's feature key
/// registered; the components themselves are not loaded.
pub struct Configured {
    pub options: ConfigOptions,
    pub registry: FeatureRegistry,
    pub config: Config,
    pub discovery: Discovery,
}

/// The plugins directory of a wharf home.
pub fn plugins_dir(options: &ConfigOptions) -> PathBuf {
    options.wharf_home.join("plugins")
}

/// Where compiled components are cached.
pub fn cache_dir(options: &ConfigOptions) -> PathBuf {
    options.wharf_home.join("cache").join("wasm")
}

impl GlobalArgs {
    /// Finds the plugins, registers their features, loads the configuration
    /// and prints the warnings of all three.
    pub fn configure(&self) -> anyhow::Result<Configured> {
        let options = self.options()?;
        let mut registry = crate::first_party::feature_registry()?;
        let mut discovery = Discovery::find(EMBEDDED, &plugins_dir(&options));
        discovery.register_features(&mut registry);
        let config = Config::load(&options, &registry)?;
        for warning in discovery.warnings.iter().chain(&config.warnings) {
            eprintln!("warning: {}", safe(warning));
        }
        Ok(Configured {
            options,
            registry,
            config,
            discovery,
        })
    }
}

/// Everything a tool call needs.
pub struct Host {
    pub config: Config,
    pub plugins: Plugins,
    pub session: Session,
    /// Whether WASM instances come from the pooling allocator (false when
    /// it could not reserve its virtual memory).
    pub pooling: bool,
    /// How long loading every plugin took (compiling those not cached).
    pub load_time: std::time::Duration,
}

impl Host {
    /// "compiled N plugins in M ms …" when this start compiled any (a cold
    /// cache), for listings to report.
    pub fn compile_report(&self) -> Option<String> {
        let compiled = self
            .plugins
            .entries
            .iter()
            .filter(|e| e.manifest.kind == PluginKind::Wasm && e.loaded && !e.from_cache)
            .count();
        (compiled > 0).then(|| {
            format!(
                "compiled {compiled} plugin(s) in {:.0} ms, in parallel; later starts load them from the cache",
                self.load_time.as_secs_f64() * 1000.0
            )
        })
    }
}

impl Configured {
    /// Loads the plugins' components (from the compile cache when warm) and
    /// opens a session. Skipped plugins are reported as warnings.
    pub fn load(self) -> anyhow::Result<Host> {
        let runtime = WasmRuntime::new(Some(cache_dir(&self.options)))?;
        let started = std::time::Instant::now();
        // MCP servers start (node, Python, a network round trip) while the
        // components load.
        let (plugins, servers) = std::thread::scope(|scope| {
            let servers = scope.spawn(|| start_mcp_servers(&self.config));
            let plugins = self.discovery.load(&runtime, &self.config.features);
            let servers = servers.join().unwrap_or_else(|_| Ok(Vec::new()));
            (plugins, servers)
        });
        let mut plugins = plugins?;
        for (manifest, plugin) in servers? {
            plugins.add_plugin(manifest, plugin);
        }
        let load_time = started.elapsed();
        for skipped in &plugins.skipped {
            eprintln!(
                "warning: plugin `{}` skipped: {}",
                skipped.name,
                safe(&skipped.reason)
            );
        }
        let session_id = format!("tool-{}", std::process::id());
        let session = Session::new(
            session_id,
            &self.config,
            self.options.home_dir.clone(),
            self.options.tmpdir.clone(),
            Box::new(|name| std::env::var(name).ok()),
        );
        Ok(Host {
            config: self.config,
            plugins,
            session,
            pooling: runtime.uses_pooling_allocator(),
            load_time,
        })
    }
}

#[cfg(feature = "mcp_client")]
fn start_mcp_servers(config: &Config) -> anyhow::Result<Vec<crate::mcp::Started>> {
    Ok(crate::mcp::start_servers(config)?)
}

/// A build without the MCP client starts no server; `[mcp_servers]` is
/// still read (and `wharf mcp list` shows it).
#[cfg(not(feature = "mcp_client"))]
fn start_mcp_servers(
    _: &Config,
) -> anyhow::Result<
    Vec<(
        wharf_runtime::plugin::manifest::Manifest,
        std::sync::Arc<dyn wharf_runtime::plugin::Plugin>,
    )>,
> {
    Ok(Vec::new())
}
