//! The plugins of a session: discovered, registered with the feature
//! registry, loaded (or skipped with a reason).
//!
//! Loading happens in two steps because feature keys must be known before
//! the configuration resolves them: [`Discovery::find`] reads manifests
//! (cheap), [`Discovery::register_features`] adds their keys, and after the
//! configuration is loaded [`Discovery::load`] compiles or loads the
//! components, in parallel.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use sha2::Digest as _;

use crate::features::{FeatureRegistry, FeatureSpec, Features};
use crate::plugin::manifest::{self, Manifest, PluginKind, Sha256};
use crate::plugin::{Plugin, ToolSpec};
use crate::wasm::{WasmRuntime, hex};
use wharf_plugin_api::native::PluginV1;

/// A plugin compiled into the binary: its manifest text and its code.
#[derive(Debug, Clone, Copy)]
pub struct EmbeddedPlugin {
    pub manifest: &'static str,
    pub code: EmbeddedCode,
}

/// The code of an embedded plugin.
#[derive(Clone, Copy)]
pub enum EmbeddedCode {
    /// A first-party WASM component (`kind = "wasm"`).
    Wasm(&'static [u8]),
    /// A builtin native plugin linked into the binary (`kind = "native"`):
    /// the same C ABI table a `.so` exports, without `dlopen`.
    Native(fn() -> &'static PluginV1),
}

impl std::fmt::Debug for EmbeddedCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EmbeddedCode::Wasm(bytes) => write!(f, "Wasm({} bytes)", bytes.len()),
            EmbeddedCode::Native(_) => f.write_str("Native"),
        }
    }
}

impl EmbeddedPlugin {
    pub const fn wasm(manifest: &'static str, wasm: &'static [u8]) -> EmbeddedPlugin {
        EmbeddedPlugin {
            manifest,
            code: EmbeddedCode::Wasm(wasm),
        }
    }

    pub const fn native(
        manifest: &'static str,
        table: fn() -> &'static PluginV1,
    ) -> EmbeddedPlugin {
        EmbeddedPlugin {
            manifest,
            code: EmbeddedCode::Native(table),
        }
    }
}

/// The name of the marker `wharf plugin add` leaves in a plugin's directory:
/// the user's consent, which lets a plugin be stable and on by default.
pub const INSTALLED_MARKER: &str = ".installed-by-wharf";

/// Where a plugin came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Built into this binary (first-party).
    Embedded,
    /// From `$WHARF_HOME/plugins/<name>/`.
    Installed { dir: PathBuf, consented: bool },
}

#[derive(Debug, Clone)]
struct Candidate {
    manifest: Manifest,
    origin: Origin,
    embedded: Option<EmbeddedCode>,
}

/// A plugin that is not available, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The plugin's name, or its directory when the manifest is unreadable.
    pub name: String,
    pub reason: String,
    pub required: bool,
}

/// Manifests found, before any component is loaded.
#[derive(Debug)]
pub struct Discovery {
    candidates: Vec<Candidate>,
    pub skipped: Vec<Skipped>,
    pub warnings: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("required plugin `{name}` failed to load: {reason}")]
pub struct RequiredPluginFailed {
    pub name: String,
    pub reason: String,
}

impl Discovery {
    /// The embedded plugins, then those in `plugins_dir`.
    pub fn find(embedded: &[EmbeddedPlugin], plugins_dir: &Path) -> Discovery {
        let mut discovery = Discovery {
            candidates: Vec::new(),
            skipped: Vec::new(),
            warnings: Vec::new(),
        };
        for plugin in embedded {
            let path = Path::new("<embedded>").join(manifest::MANIFEST_FILE);
            match Manifest::parse(&path, plugin.manifest) {
                Ok((manifest, _)) => discovery.candidates.push(Candidate {
                    manifest,
                    origin: Origin::Embedded,
                    embedded: Some(plugin.code),
                }),
                // A broken embedded manifest is a bug in this build.
                Err(err) => discovery.skipped.push(Skipped {
                    name: "<embedded>".to_owned(),
                    reason: err.to_string(),
                    required: false,
                }),
            }
        }
        for found in manifest::discover(plugins_dir) {
            match found {
                Ok(found) => {
                    discovery.warnings.extend(found.warnings);
                    let dir = found
                        .manifest
                        .path
                        .parent()
                        .map_or_else(PathBuf::new, Path::to_path_buf);
                    let consented = dir.join(INSTALLED_MARKER).is_file();
                    discovery.candidates.push(Candidate {
                        manifest: found.manifest,
                        origin: Origin::Installed { dir, consented },
                        embedded: None,
                    });
                }
                Err((dir, err)) => discovery.skipped.push(Skipped {
                    name: dir.file_name().map_or_else(
                        || dir.display().to_string(),
                        |n| n.to_string_lossy().into_owned(),
                    ),
                    reason: err.to_string(),
                    // An unreadable manifest cannot say it is required.
                    required: false,
                }),
            }
        }
        discovery.drop_duplicate_names();
        discovery
    }

    /// An installed plugin may not shadow an embedded one or another
    /// installed one of the same name.
    fn drop_duplicate_names(&mut self) {
        let mut seen = BTreeSet::new();
        let mut kept = Vec::new();
        for candidate in self.candidates.drain(..) {
            let name = candidate.manifest.name.to_string();
            if seen.insert(name.clone()) {
                kept.push(candidate);
            } else {
                self.skipped.push(Skipped {
                    name: name.clone(),
                    reason: format!("another plugin is already named `{name}`"),
                    required: candidate.manifest.required,
                });
            }
        }
        self.candidates = kept;
    }

    /// Registers every plugin's feature key. A third-party plugin may only
    /// be on by default when the user installed it with `wharf plugin add`;
    /// otherwise its default is off, with a warning.
    pub fn register_features(&mut self, registry: &mut FeatureRegistry) {
        let mut kept = Vec::new();
        for candidate in self.candidates.drain(..) {
            let decl = &candidate.manifest.feature;
            let mut default_enabled = decl.default_enabled;
            if let Origin::Installed {
                consented: false, ..
            } = candidate.origin
                && default_enabled
            {
                default_enabled = false;
                self.warnings.push(format!(
                    "plugin `{}` asks to be on by default, but was not installed with \
                     `wharf plugin add`; it stays off until enabled (`--enable {}`)",
                    candidate.manifest.name, decl.key
                ));
            }
            // First-party plugins gate on first-party keys that already exist.
            let result = match registry.get(&decl.key) {
                Some(_) if candidate.origin == Origin::Embedded => Ok(()),
                _ => registry.register(FeatureSpec {
                    key: decl.key.clone(),
                    stage: decl.stage,
                    default_enabled,
                    description: candidate
                        .manifest
                        .description
                        .clone()
                        .unwrap_or_else(|| format!("the `{}` plugin", candidate.manifest.name)),
                }),
            };
            match result {
                Ok(()) => kept.push(candidate),
                Err(err) => self.skipped.push(Skipped {
                    name: candidate.manifest.name.to_string(),
                    reason: err.to_string(),
                    required: candidate.manifest.required,
                }),
            }
        }
        self.candidates = kept;
    }

    /// Loads every candidate's component (in parallel). A plugin that fails
    /// is skipped with its reason, unless it is required.
    pub fn load(self, runtime: &WasmRuntime) -> Result<Plugins, RequiredPluginFailed> {
        let results = load_all(runtime, self.candidates);
        let mut plugins = Plugins {
            entries: Vec::new(),
            skipped: self.skipped,
            warnings: self.warnings,
            tools: BTreeMap::new(),
        };
        for (candidate, result) in results {
            match result {
                Ok(loaded) => plugins.add(candidate, loaded),
                Err(reason) if candidate.manifest.required => {
                    return Err(RequiredPluginFailed {
                        name: candidate.manifest.name.to_string(),
                        reason,
                    });
                }
                Err(reason) => plugins.skipped.push(Skipped {
                    name: candidate.manifest.name.to_string(),
                    reason,
                    required: false,
                }),
            }
        }
        if let Some(skipped) = plugins.skipped.iter().find(|s| s.required) {
            return Err(RequiredPluginFailed {
                name: skipped.name.clone(),
                reason: skipped.reason.clone(),
            });
        }
        Ok(plugins)
    }
}

/// Loads `candidates` on one worker per core, each taking the next
/// candidate until none is left; results keep the candidates' order.
fn load_all(
    runtime: &WasmRuntime,
    candidates: Vec<Candidate>,
) -> Vec<(Candidate, Result<Loaded, String>)> {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<Result<Loaded, String>>>> =
        candidates.iter().map(|_| Mutex::new(None)).collect();
    let workers = std::thread::available_parallelism()
        .map_or(2, usize::from)
        .min(candidates.len());
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let Some(candidate) = candidates.get(index) else {
                        break;
                    };
                    // A bug in loading one plugin must not take the host
                    // down, nor hide the plugin silently.
                    let loaded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        load_one(runtime, candidate)
                    }))
                    .unwrap_or_else(|_| Err("loading it panicked (a bug in wharf)".to_owned()));
                    if let Some(slot) = slots.get(index)
                        && let Ok(mut slot) = slot.lock()
                    {
                        *slot = Some(loaded);
                    }
                }
            });
        }
    });
    candidates
        .into_iter()
        .zip(slots)
        .map(|(candidate, slot)| {
            let loaded = slot
                .into_inner()
                .ok()
                .flatten()
                .unwrap_or_else(|| Err("it was not loaded (a bug in wharf)".to_owned()));
            (candidate, loaded)
        })
        .collect()
}

struct Loaded {
    plugin: Arc<dyn Plugin>,
    sha256: String,
    from_cache: bool,
    load_time: Duration,
}

fn load_one(runtime: &WasmRuntime, candidate: &Candidate) -> Result<Loaded, String> {
    let manifest = &candidate.manifest;
    match (manifest.kind, candidate.embedded) {
        (PluginKind::Wasm, None | Some(EmbeddedCode::Wasm(_))) => load_wasm(runtime, candidate),
        (PluginKind::Native, None) => load_native(manifest),
        (PluginKind::Native, Some(EmbeddedCode::Native(table))) => {
            let started = std::time::Instant::now();
            let plugin = crate::native::NativePlugin::builtin(manifest.name.as_str(), table())
                .map_err(|err| err.to_string())?;
            Ok(Loaded {
                plugin: Arc::new(plugin),
                sha256: String::new(),
                from_cache: false,
                load_time: started.elapsed(),
            })
        }
        (PluginKind::Mcp, _) => Err(
            "an MCP server is started from `[mcp_servers]` in config.toml, not loaded as a plugin"
                .to_owned(),
        ),
        (kind, Some(_)) => Err(format!(
            "the manifest says `kind = \"{}\"` but the binary embeds other code (a bug in this build)",
            kind.as_str()
        )),
    }
}

/// Checks the pin and the ABI version the manifest names, then loads the
/// library (which runs its code: the pin is checked first).
fn load_native(manifest: &Manifest) -> Result<Loaded, String> {
    let started = std::time::Instant::now();
    let bytes = std::fs::read(&manifest.artifact)
        .map_err(|err| format!("cannot read {}: {err}", manifest.artifact.display()))?;
    let actual = Sha256(sha2::Sha256::digest(&bytes).into());
    if let Some(pinned) = &manifest.sha256
        && *pinned != actual
    {
        return Err(format!(
            "sha256 mismatch: the manifest pins {pinned}, the artifact is {actual}"
        ));
    }
    let abi = crate::native::ABI_VERSION.to_string();
    if manifest.api != abi {
        return Err(format!(
            "the manifest targets native plugin ABI `{}`, which this wharf does not support \
             (supported: {abi})",
            manifest.api
        ));
    }
    let plugin = crate::native::NativePlugin::load(manifest.name.as_str(), &manifest.artifact)
        .map_err(|err| err.to_string())?;
    Ok(Loaded {
        plugin: Arc::new(plugin),
        sha256: actual.to_string(),
        from_cache: false,
        load_time: started.elapsed(),
    })
}

fn load_wasm(runtime: &WasmRuntime, candidate: &Candidate) -> Result<Loaded, String> {
    let manifest = &candidate.manifest;
    let owned;
    let bytes: &[u8] = match candidate.embedded {
        Some(EmbeddedCode::Wasm(bytes)) => bytes,
        _ => {
            owned = std::fs::read(&manifest.artifact)
                .map_err(|err| format!("cannot read {}: {err}", manifest.artifact.display()))?;
            &owned
        }
    };
    let actual = Sha256(sha2::Sha256::digest(bytes).into());
    if let Some(pinned) = &manifest.sha256
        && *pinned != actual
    {
        return Err(format!(
            "sha256 mismatch: the manifest pins {pinned}, the artifact is {actual}"
        ));
    }
    if !crate::wasm::SUPPORTED_API_VERSIONS.contains(&manifest.api.as_str()) {
        return Err(format!(
            "the manifest targets wharf:plugin@{}, which this wharf does not support (supported: {})",
            manifest.api,
            crate::wasm::SUPPORTED_API_VERSIONS.join(", ")
        ));
    }
    let plugin = runtime
        .load(manifest.name.as_str(), bytes)
        .map_err(|err| err.to_string())?;
    Ok(Loaded {
        sha256: hex(plugin.sha256()),
        from_cache: plugin.from_cache(),
        load_time: plugin.load_time(),
        plugin: Arc::new(plugin),
    })
}

/// A loaded plugin.
pub struct Entry {
    pub manifest: Manifest,
    pub origin: Origin,
    pub plugin: Arc<dyn Plugin>,
    /// Of the artifact, lowercase hex.
    pub sha256: String,
    pub from_cache: bool,
    pub load_time: Duration,
    /// One compiled argument validator per tool, by tool name.
    validators: BTreeMap<String, jsonschema::Validator>,
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("name", &self.manifest.name)
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

impl Entry {
    pub fn feature_key(&self) -> &str {
        &self.manifest.feature.key
    }

    pub(crate) fn validator(&self, tool: &str) -> Option<&jsonschema::Validator> {
        self.validators.get(tool)
    }
}

/// Why a plugin's tools are not offered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotOffered {
    #[error("feature `{key}` is disabled (turn it on with `--enable {key}`)")]
    Disabled { key: String },
    #[error("feature `{by}` is on and replaces `{key}` (turn it off with `--disable {by}`)")]
    Replaced { key: String, by: String },
}

/// The loaded plugins of a session and the tools they offer.
#[derive(Debug, Default)]
pub struct Plugins {
    pub entries: Vec<Entry>,
    pub skipped: Vec<Skipped>,
    pub warnings: Vec<String>,
    /// Tool name → index into `entries`.
    tools: BTreeMap<String, usize>,
}

impl Plugins {
    /// Adds a loaded plugin (or skips it: a tool without a valid input
    /// schema or with a name another plugin took cannot be offered).
    fn add(&mut self, candidate: Candidate, loaded: Loaded) {
        let name = candidate.manifest.name.to_string();
        let mut validators = BTreeMap::new();
        for spec in loaded.plugin.tools() {
            if let Some(owner) = self.tools.get(&spec.name) {
                let owner = self
                    .entries
                    .get(*owner)
                    .map_or_else(String::new, |e| e.manifest.name.to_string());
                self.skipped.push(Skipped {
                    name,
                    reason: format!("its tool `{}` is already offered by `{owner}`", spec.name),
                    required: candidate.manifest.required,
                });
                return;
            }
            match jsonschema::validator_for(&spec.input_schema) {
                Ok(validator) => {
                    validators.insert(spec.name.clone(), validator);
                }
                Err(err) => {
                    self.skipped.push(Skipped {
                        name,
                        reason: format!("tool `{}` has an invalid input schema: {err}", spec.name),
                        required: candidate.manifest.required,
                    });
                    return;
                }
            }
        }
        let index = self.entries.len();
        for spec in loaded.plugin.tools() {
            self.tools.insert(spec.name.clone(), index);
        }
        self.entries.push(Entry {
            manifest: candidate.manifest,
            origin: candidate.origin,
            plugin: loaded.plugin,
            sha256: loaded.sha256,
            from_cache: loaded.from_cache,
            load_time: loaded.load_time,
            validators,
        });
    }

    /// Adds a plugin that is not loaded from a component (native, builtin,
    /// or a test double), with a manifest describing its grant and feature.
    pub fn add_plugin(&mut self, manifest: Manifest, plugin: Arc<dyn Plugin>) {
        let candidate = Candidate {
            manifest,
            origin: Origin::Embedded,
            embedded: None,
        };
        let loaded = Loaded {
            plugin,
            sha256: String::new(),
            from_cache: false,
            load_time: Duration::ZERO,
        };
        self.add(candidate, loaded);
    }

    /// The plugin offering `tool`, and the tool's spec.
    pub fn tool(&self, tool: &str) -> Option<(&Entry, &ToolSpec)> {
        let entry = self.entries.get(*self.tools.get(tool)?)?;
        let spec = entry.plugin.tools().iter().find(|spec| spec.name == tool)?;
        Some((entry, spec))
    }

    /// Whether `entry`'s tools are offered under `features`: its feature is
    /// on, and no loaded plugin whose feature is on replaces it.
    pub fn offered(&self, entry: &Entry, features: &Features) -> Result<(), NotOffered> {
        let key = entry.feature_key();
        if !features.enabled(key) {
            return Err(NotOffered::Disabled {
                key: key.to_owned(),
            });
        }
        match &entry.manifest.feature.replaced_by {
            Some(by)
                if features.enabled(by)
                    && self.entries.iter().any(|other| other.feature_key() == by) =>
            {
                Err(NotOffered::Replaced {
                    key: key.to_owned(),
                    by: by.clone(),
                })
            }
            _ => Ok(()),
        }
    }

    /// Tells every plugin that `session_id` ended.
    pub fn end_session(&self, session_id: &str) {
        for entry in &self.entries {
            entry.plugin.end_session(session_id);
        }
    }

    pub fn entry(&self, name: &str) -> Option<&Entry> {
        self.entries
            .iter()
            .find(|e| e.manifest.name.as_str() == name)
    }
}
