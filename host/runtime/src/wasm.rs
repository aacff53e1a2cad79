//! The WASM plugin runtime: one [`wasmtime::Engine`] per process, compiled
//! components cached on disk, a fresh `Store` and instance for every call.
//!
//! Loading ([`WasmRuntime::load`]) checks that the bytes are a component,
//! reads which `wharf:plugin` version it implements before instantiating
//! anything, and prepares an `InstancePre` once. Calling
//! ([`WasmPlugin::invoke`], in `call.rs`) builds the WASI context from the
//! call's grant alone.

mod cache;
mod call;
pub(crate) mod files;
mod state;
pub mod v0_1_0;

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::plugin::ToolSpec;
use state::CallState;

/// The `wharf:plugin` versions this host serves.
pub const SUPPORTED_API_VERSIONS: &[&str] = &["0.1.0"];

/// How often the epoch ticks: the granularity of timeouts and cancellation.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(10);

#[derive(Debug, thiserror::Error)]
pub enum WasmError {
    #[error("not a WASM component: {0}")]
    NotAComponent(String),
    #[error(
        "targets wharf:plugin@{found}, which this wharf does not support (supported: {})",
        SUPPORTED_API_VERSIONS.join(", ")
    )]
    UnsupportedApi { found: String },
    #[error("not a wharf plugin: it exports no `wharf:plugin/tool` interface")]
    NotAPlugin,
    #[error("cannot compile: {0}")]
    Compile(String),
    #[error("cannot link: {0}")]
    Link(String),
    #[error("`describe` failed: {0}")]
    Describe(String),
    #[error("tool `{tool}` has an invalid input schema: {message}")]
    BadSpec { tool: String, message: String },
    #[error("cannot set up the WASM engine: {0}")]
    Engine(String),
}

/// The engine, the linker with every host import, and the epoch ticker.
pub struct WasmRuntime {
    engine: Engine,
    /// Shared by every plugin: cloning a linker copies all its definitions.
    linker: Arc<Linker<CallState>>,
    cache: Option<cache::CompileCache>,
    /// Whether instances come from the pooling allocator (false when the
    /// machine could not reserve its virtual memory).
    pooling: bool,
}

impl std::fmt::Debug for WasmRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasmRuntime")
            .field("pooling", &self.pooling)
            .field("cache", &self.cache)
            .finish_non_exhaustive()
    }
}

/// The most memory one plugin instance may ever use; a grant's cap is
/// lower or equal.
pub const MAX_MEMORY_BYTES: u64 = 1 << 30;

impl WasmRuntime {
    /// A runtime caching compiled components in `cache_dir` (none: compile
    /// every time).
    pub fn new(cache_dir: Option<PathBuf>) -> Result<WasmRuntime, WasmError> {
        let (engine, pooling) = match Engine::new(&engine_config(true)) {
            Ok(engine) => (engine, true),
            // The pooling allocator reserves virtual memory up front; where
            // that is refused (ulimit -v, small address spaces) fall back to
            // allocating per instance.
            Err(_) => (
                Engine::new(&engine_config(false))
                    .map_err(|err| WasmError::Engine(format!("{err:#}")))?,
                false,
            ),
        };
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker)
            .map_err(|err| WasmError::Engine(format!("{err:#}")))?;
        v0_1_0::add_to_linker(&mut linker).map_err(|err| WasmError::Engine(format!("{err:#}")))?;
        spawn_epoch_ticker(&engine);
        let cache = cache_dir.map(|dir| cache::CompileCache::new(dir, &engine));
        Ok(WasmRuntime {
            engine,
            linker: Arc::new(linker),
            cache,
            pooling,
        })
    }

    pub fn uses_pooling_allocator(&self) -> bool {
        self.pooling
    }

    /// The tools of the artifact whose sha256 is `sha256`, when the compile
    /// cache recorded them (an earlier full load): how listings show a
    /// plugin that is not loaded, without reading or compiling anything.
    pub fn known_tools(&self, sha256: &[u8; 32]) -> Option<Vec<ToolSpec>> {
        self.cache.as_ref()?.known(sha256).map(|known| known.tools)
    }

    /// Drops the compile cache's entries for the artifact whose sha256 is
    /// `sha256`: one `wharf plugin add` refused, or one it replaced.
    pub fn forget(&self, sha256: &[u8; 32]) {
        if let Some(cache) = &self.cache {
            cache.forget(sha256);
        }
    }

    /// Checks `bytes` and learns the plugin's tools. On a warm start —
    /// this exact artifact was fully loaded before by an engine like this
    /// one — that is a hash and a small file read: compiling (or mapping
    /// the compiled code) and linking wait for the first call. Otherwise
    /// the component is compiled (and cached), its API version checked, it
    /// is linked, and a fresh instance is asked for its tools.
    pub fn load(&self, name: &str, bytes: &[u8]) -> Result<WasmPlugin, WasmError> {
        let started = Instant::now();
        check_component_header(bytes)?;
        let sha256: [u8; 32] = Sha256::digest(bytes).into();
        let mut plugin = WasmPlugin {
            name: name.to_owned(),
            engine: self.engine.clone(),
            linker: Arc::clone(&self.linker),
            cache: self.cache.clone(),
            bytes: Arc::from(bytes),
            prepared: OnceLock::new(),
            tools: Vec::new(),
            sha256,
            api_version: String::new(),
            from_cache: false,
            load_time: Duration::ZERO,
        };
        if let Some(known) = self.cache.as_ref().and_then(|cache| cache.known(&sha256)) {
            plugin.api_version = known.api_version;
            plugin.tools = known.tools;
            plugin.from_cache = true;
            plugin.load_time = started.elapsed();
            return Ok(plugin);
        }
        let (pre, api_version, from_cache) = plugin.prepare_now()?;
        plugin.api_version = api_version;
        plugin.from_cache = from_cache;
        let _ = plugin.prepared.set(Ok(pre));
        plugin.tools = plugin.describe()?;
        if let Some(cache) = &self.cache {
            cache.remember(&sha256, &plugin.api_version, &plugin.tools);
        }
        plugin.load_time = started.elapsed();
        Ok(plugin)
    }
}

fn engine_config(pooling: bool) -> Config {
    let mut config = Config::new();
    config.epoch_interruption(true);
    config.wasm_component_model(true);
    if pooling {
        let mut pool = PoolingAllocationConfig::default();
        pool.total_component_instances(256);
        pool.total_core_instances(512);
        pool.total_memories(256);
        pool.total_tables(512);
        pool.max_memory_size(MAX_MEMORY_BYTES as usize);
        // A fresh instance per call frees a slot per call: return the
        // memory of 16 of them to the kernel in one batch rather than one
        // madvise each (measured: 29 → 23 µs per trivial call, and two
        // threads no longer slower than one).
        pool.decommit_batch_size(16);
        // Zero the first 2 MiB of a freed memory in place instead of
        // returning it to the kernel: a Rust guest's stack and small heap
        // then cost a memset per call instead of a page fault per touched
        // page (measured: a 50-hunk patch of a 2 000-line file 720 → 490 µs; a
        // trivial call 20 → 25 µs). Below the ~1.1 MiB a Rust guest starts
        // with it is slower than none (a partial madvise per call).
        pool.linear_memory_keep_resident(2 << 20);
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
    config
}

/// Bumps the engine's epoch every [`EPOCH_TICK`] until the engine is gone;
/// each store's deadline callback then checks its own time limit and
/// cancellation.
fn spawn_epoch_ticker(engine: &Engine) {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("wharf-epoch".to_owned())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        })
        .ok();
}

/// Components start with `\0asm` and the component layer `0d 00 01 00`;
/// core modules carry version `01 00 00 00` there.
fn check_component_header(bytes: &[u8]) -> Result<(), WasmError> {
    match bytes.get(..8) {
        Some([0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00]) => Ok(()),
        Some([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]) => Err(WasmError::NotAComponent(
            "this is a core WASM module; build the plugin for the wasm32-wasip2 target, \
             which emits a component"
                .to_owned(),
        )),
        _ => Err(WasmError::NotAComponent(
            "the file does not start with the WASM magic number".to_owned(),
        )),
    }
}

fn compile(engine: &Engine, bytes: &[u8]) -> Result<Component, WasmError> {
    Component::from_binary(engine, bytes).map_err(|err| WasmError::Compile(format!("{err:#}")))
}

/// The version of the `wharf:plugin/tool` interface the component exports,
/// read from its type before anything is instantiated.
fn api_version(engine: &Engine, component: &Component) -> Result<String, WasmError> {
    let ty = component.component_type();
    let mut found = None;
    for (name, _) in ty.exports(engine) {
        if let Some(version) = name.strip_prefix("wharf:plugin/tool@") {
            found = Some(version.to_owned());
        }
    }
    let version = found.ok_or(WasmError::NotAPlugin)?;
    if SUPPORTED_API_VERSIONS.contains(&version.as_str()) {
        Ok(version)
    } else {
        Err(WasmError::UnsupportedApi { found: version })
    }
}

/// A loaded WASM plugin: a prepared instance to stamp out per call,
/// prepared on first use when its tools were already known.
pub struct WasmPlugin {
    name: String,
    engine: Engine,
    linker: Arc<Linker<CallState>>,
    cache: Option<cache::CompileCache>,
    bytes: Arc<[u8]>,
    prepared: OnceLock<Result<v0_1_0::PluginPre<CallState>, String>>,
    tools: Vec<ToolSpec>,
    sha256: [u8; 32],
    api_version: String,
    from_cache: bool,
    load_time: Duration,
}

impl std::fmt::Debug for WasmPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasmPlugin")
            .field("name", &self.name)
            .field("api_version", &self.api_version)
            .field("tools", &self.tools.len())
            .finish_non_exhaustive()
    }
}

impl WasmPlugin {
    /// Compiles or maps the component, checks its API version and links
    /// it: everything before an instance can be made.
    fn prepare_now(&self) -> Result<(v0_1_0::PluginPre<CallState>, String, bool), WasmError> {
        let (component, from_cache) = match &self.cache {
            Some(cache) => cache.get_or_compile(&self.engine, &self.sha256, &self.bytes)?,
            None => (compile(&self.engine, &self.bytes)?, false),
        };
        let api_version = api_version(&self.engine, &component)?;
        let pre = self
            .linker
            .instantiate_pre(&component)
            .map_err(|err| WasmError::Link(format!("{err:#}")))?;
        let pre = v0_1_0::PluginPre::new(pre).map_err(|err| WasmError::Link(format!("{err:#}")))?;
        Ok((pre, api_version, from_cache))
    }

    /// The prepared instance, made on first use.
    pub(crate) fn prepared(&self) -> Result<&v0_1_0::PluginPre<CallState>, String> {
        self.prepared
            .get_or_init(|| {
                self.prepare_now()
                    .map(|(pre, _, _)| pre)
                    .map_err(|err| err.to_string())
            })
            .as_ref()
            .map_err(Clone::clone)
    }

    /// The sha256 of the artifact, as loaded.
    pub fn sha256(&self) -> &[u8; 32] {
        &self.sha256
    }

    pub fn api_version(&self) -> &str {
        &self.api_version
    }

    /// Whether the compiled code came from the on-disk cache.
    pub fn from_cache(&self) -> bool {
        self.from_cache
    }

    /// Compile (or cache load) + link + describe.
    pub fn load_time(&self) -> Duration {
        self.load_time
    }
}

pub use wharf_config::digest::hex;
