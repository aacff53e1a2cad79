//! The WASM plugin runtime: one [`wasmtime::Engine`] per process, compiled
//! components cached on disk, a fresh `Store` and instance for every call.
//!
//! Loading ([`WasmRuntime::load`]) checks that the bytes are a component,
//! reads which `wharf:plugin` version it implements before instantiating
//! anything, and prepares an `InstancePre` once — at start only the first
//! time an artifact is seen; afterwards a start takes its tools from the
//! compile cache's record and the component is deserialized and linked on
//! its first call, once per process. Calling
//! ([`WasmPlugin::invoke`], in `call.rs`) builds the WASI context from the
//! call's grant alone.

mod cache;
mod call;
pub(crate) mod files;
mod hooks;
mod net;
mod state;
pub mod v0_1_0;
pub mod v0_2_0;

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::plugin::ToolSpec;
use crate::plugin::manifest::{MAX_ARTIFACT_BYTES, read_limited};
pub(crate) use cache::FileStamp;
pub use hooks::WasmHook;
use state::CallState;

/// The `wharf:plugin` versions this host serves.
pub const SUPPORTED_API_VERSIONS: &[&str] = &["0.1.0", "0.2.0"];

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
    /// The manifest asks for hooks the component cannot give.
    #[error("{0}")]
    Hooks(String),
    #[error("cannot set up the WASM engine: {0}")]
    Engine(String),
    /// Reading an artifact that was not read at start failed.
    #[error("{0}")]
    Read(String),
    #[error(
        "{} changed since wharf started (its sha256 is now {found}, not {expected}); run the \
         command again to check it against its pins",
        path.display()
    )]
    ArtifactChanged {
        path: PathBuf,
        found: String,
        expected: String,
    },
}

/// A component's bytes, shared without a copy: an artifact read from
/// disk (a `Vec<u8>`) or one built into the binary (a `&'static [u8]`).
pub(crate) type ComponentBytes = Arc<dyn AsRef<[u8]> + Send + Sync>;

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

/// Initialized memory up to this size always gets a copy-on-write image
/// (see `engine_config`); its zeroes cost disk in the compile cache only.
const DENSE_IMAGE_BYTES: u64 = 64 << 20;

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
        // wasi:http for every component; a request leaves only within the
        // call's network grant (`net.rs`).
        wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)
            .map_err(|err| WasmError::Engine(format!("{err:#}")))?;
        v0_1_0::add_to_linker(&mut linker).map_err(|err| WasmError::Engine(format!("{err:#}")))?;
        v0_2_0::add_to_linker(&mut linker).map_err(|err| WasmError::Engine(format!("{err:#}")))?;
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
        let sha256: [u8; 32] = Sha256::digest(bytes).into();
        self.load_hashed(name, Arc::new(bytes.to_vec()), sha256)
    }

    /// [`WasmRuntime::load`] of bytes the caller already hashed (to check
    /// them against their pins): `sha256` must be their digest, since it
    /// names the compiled code that will run. The bytes are neither hashed
    /// again nor copied — a heavy component (an interpreter's snapshot,
    /// tens of MiB) is read once and hashed once per start.
    pub(crate) fn load_hashed(
        &self,
        name: &str,
        bytes: ComponentBytes,
        sha256: [u8; 32],
    ) -> Result<WasmPlugin, WasmError> {
        let started = Instant::now();
        check_component_header((*bytes).as_ref())?;
        let mut plugin = self.plugin(name, Source::Bytes(bytes), sha256);
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

    /// The plugin whose artifact at `path` has the digest `sha256` (which
    /// passed its pins), without reading it, when the compile cache knows
    /// its tools: the artifact is read on its first call only if the
    /// compiled entry is gone, and then must still have that digest.
    /// `None`: load it from its bytes.
    pub(crate) fn load_unread(
        &self,
        name: &str,
        path: &Path,
        sha256: [u8; 32],
    ) -> Option<WasmPlugin> {
        let started = Instant::now();
        let known = self.cache.as_ref()?.known(&sha256)?;
        let mut plugin = self.plugin(name, Source::Unread(path.to_path_buf()), sha256);
        plugin.api_version = known.api_version;
        plugin.tools = known.tools;
        plugin.from_cache = true;
        plugin.load_time = started.elapsed();
        Some(plugin)
    }

    /// The digest the artifact at `path` had when it was hashed last, if
    /// it has not changed since (see `cache/digests.rs`).
    pub(crate) fn remembered_digest(&self, path: &Path) -> Option<[u8; 32]> {
        self.cache.as_ref()?.remembered_digest(path)
    }

    /// Records the digest of the artifact at `path`, read after `before`
    /// was taken, for the next start.
    pub(crate) fn remember_digest(&self, path: &Path, before: &FileStamp, sha256: &[u8; 32]) {
        if let Some(cache) = &self.cache {
            cache.remember_digest(path, before, sha256);
        }
    }

    fn plugin(&self, name: &str, source: Source, sha256: [u8; 32]) -> WasmPlugin {
        WasmPlugin {
            name: name.to_owned(),
            engine: self.engine.clone(),
            linker: Arc::clone(&self.linker),
            cache: self.cache.clone(),
            source,
            prepared: OnceLock::new(),
            tools: Vec::new(),
            sha256,
            api_version: String::new(),
            from_cache: false,
            load_time: Duration::ZERO,
        }
    }
}

fn engine_config(pooling: bool) -> Config {
    let mut config = Config::new();
    config.epoch_interruption(true);
    config.wasm_component_model(true);
    // A heavy component (an interpreter's snapshot: tens of MiB of
    // initialized memory) must cost no more per call than a small one. With
    // a copy-on-write image, an instance's memory is a private mapping of
    // the image made once per process: instantiating maps it, a call
    // faults in only the pages it writes, and the reset after it touches
    // only those (see `linear_memory_keep_resident` below). wasmtime's
    // default (on) said explicitly, since every call depends on it.
    config.memory_init_cow(true);
    // wasmtime makes an image only of a dense enough initialized range,
    // or one under this size; an interpreter's heap snapshot is sparse
    // (objects between zeroed pages). Past this size a sparse component
    // falls back to copying its data segments per call, still correct.
    config.memory_guaranteed_dense_image_size(DENSE_IMAGE_BYTES);
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

/// Where a plugin's component comes from when it is first prepared.
enum Source {
    /// Bytes read and hashed at start, or built into the binary.
    Bytes(ComponentBytes),
    /// An installed artifact not read at start (its digest remembered).
    Unread(PathBuf),
}

/// The artifact at `path`, read to compile it after a start that did not
/// read it: refused unless it still has the digest its pins were checked
/// against.
fn read_artifact_again(path: &Path, sha256: &[u8; 32]) -> Result<ComponentBytes, WasmError> {
    let bytes = read_limited(path, MAX_ARTIFACT_BYTES, "a plugin's artifact")
        .map_err(|err| WasmError::Read(err.to_string()))?;
    let found: [u8; 32] = Sha256::digest(&bytes).into();
    if &found != sha256 {
        return Err(WasmError::ArtifactChanged {
            path: path.to_path_buf(),
            found: hex(&found),
            expected: hex(sha256),
        });
    }
    Ok(Arc::new(bytes))
}

/// A loaded WASM plugin: a prepared instance to stamp out per call,
/// prepared on first use when its tools were already known.
pub struct WasmPlugin {
    name: String,
    engine: Engine,
    linker: Arc<Linker<CallState>>,
    cache: Option<cache::CompileCache>,
    source: Source,
    prepared: OnceLock<Result<call::Prepared, String>>,
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
    fn prepare_now(&self) -> Result<(call::Prepared, String, bool), WasmError> {
        let bytes = || match &self.source {
            Source::Bytes(bytes) => Ok(Arc::clone(bytes)),
            Source::Unread(path) => read_artifact_again(path, &self.sha256),
        };
        let (component, from_cache) = match &self.cache {
            Some(cache) => cache.get_or_compile_with(&self.engine, &self.sha256, bytes)?,
            None => (compile(&self.engine, (*bytes()?).as_ref())?, false),
        };
        let api_version = api_version(&self.engine, &component)?;
        let pre = self
            .linker
            .instantiate_pre(&component)
            .map_err(|err| WasmError::Link(format!("{err:#}")))?;
        let pre = call::Prepared::new(pre, &api_version)?;
        Ok((pre, api_version, from_cache))
    }

    /// The prepared instance, made on first use.
    pub(crate) fn prepared(&self) -> Result<&call::Prepared, String> {
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
