//! The plugins of a session: discovered, registered with the feature
//! registry, loaded (or skipped with a reason).
//!
//! Loading happens in two steps because feature keys must be known before
//! the configuration resolves them: [`Discovery::find`] reads manifests
//! (cheap) and `plugins.lock` ([`lock`]), [`Discovery::register_features`]
//! adds their keys, and after the configuration is loaded
//! [`Discovery::load`] compiles or loads the components of the plugins
//! whose feature is on, in parallel. Between the last two,
//! [`Discovery::require`] applies the administrator's requirements
//! ([`required`]) to the installed plugins. Tool names are unique across every
//! kind of plugin ([`names`]).

mod embedded;
mod hooks;
mod load;
mod load_check;
mod load_error;
pub mod lock;
pub mod names;
pub mod required;
mod telemetry;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub use self::embedded::{EmbeddedCode, EmbeddedPlugin};
use self::load::Loaded;
pub use self::load_check::{
    ComponentCheck, MAX_TOOL_NAME, check_component, check_tool_name, check_tools,
};
pub use self::load_error::{LoadError, PinnedBy, check_pin};
use self::lock::{Locked, PluginLock};
use self::required::PluginRequirements;
use crate::ids::SessionId;
use crate::plugin::manifest::{self, Manifest};
use crate::plugin::{Plugin, ToolSpec};
use crate::wasm::WasmRuntime;
use wharf_config::features::{FeatureRegistry, FeatureSpec, Features};
use wharf_config::requirements::Requirements;

/// Where a plugin came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Built into this binary (first-party).
    Embedded,
    /// From `$WHARF_HOME/plugins/<name>/`; `consented` when plugins.lock
    /// has an entry for it (installed with `wharf plugin add`).
    Installed { dir: PathBuf, consented: bool },
}

#[derive(Debug, Clone)]
struct Candidate {
    manifest: Manifest,
    origin: Origin,
    embedded: Option<EmbeddedCode>,
    /// Its plugins.lock entry, for an installed plugin.
    locked: Option<Locked>,
}

/// The plugin that holds a tool name ([`Discovery::tool_holders`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolHolder {
    pub plugin: String,
    /// Built into this binary.
    pub first_party: bool,
}

/// A plugin that is not available, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The plugin's name, or its directory when the manifest is unreadable.
    pub name: String,
    pub reason: String,
    pub required: bool,
    /// The administrator's requirements keep it from loading.
    pub blocked: bool,
    /// Its tools, as far as they are known without loading it (the names
    /// plugins.lock recorded at `wharf plugin add`).
    pub tools: Vec<String>,
    /// The feature key its manifest declares (`None`: the manifest could
    /// not be read).
    pub feature: Option<String>,
}

impl Skipped {
    fn of(candidate: &Candidate, reason: String, blocked: bool) -> Skipped {
        Skipped {
            name: candidate.manifest.name.to_string(),
            reason,
            required: candidate.manifest.required,
            blocked,
            tools: candidate
                .locked
                .as_ref()
                .map(|locked| locked.tools.clone())
                .unwrap_or_default(),
            feature: Some(candidate.manifest.feature.key.clone()),
        }
    }
}

/// Manifests found, before any component is loaded.
#[derive(Debug)]
pub struct Discovery {
    candidates: Vec<Candidate>,
    pub skipped: Vec<Skipped>,
    pub warnings: Vec<String>,
    /// What the administrator allows of installed plugins
    /// ([`Discovery::require`]).
    requirements: PluginRequirements,
}

#[derive(Debug, thiserror::Error)]
#[error("required plugin `{name}` failed to load: {reason}")]
pub struct RequiredPluginFailed {
    pub name: String,
    pub reason: String,
}

impl Discovery {
    /// The embedded plugins, then those in `plugins_dir`, with their
    /// entries in the `plugins.lock` beside it. An unreadable lock is a
    /// warning, and then no installed plugin counts as consented to.
    pub fn find(embedded: &[EmbeddedPlugin], plugins_dir: &Path) -> Discovery {
        let mut discovery = Discovery {
            candidates: Vec::new(),
            skipped: Vec::new(),
            warnings: Vec::new(),
            requirements: PluginRequirements::default(),
        };
        let lock = PluginLock::read(&lock::path_beside(plugins_dir)).unwrap_or_else(|err| {
            discovery.warnings.push(format!(
                "{err}; until then, installed plugins are off by default and native ones are \
                 not loaded"
            ));
            PluginLock::default()
        });
        for plugin in embedded {
            let path = Path::new("<embedded>").join(manifest::MANIFEST_FILE);
            match Manifest::parse(&path, plugin.manifest) {
                Ok((manifest, _)) => discovery.candidates.push(Candidate {
                    manifest,
                    origin: Origin::Embedded,
                    embedded: Some(plugin.code),
                    locked: None,
                }),
                // A broken embedded manifest is a bug in this build.
                Err(err) => discovery.skipped.push(Skipped {
                    name: "<embedded>".to_owned(),
                    reason: err.to_string(),
                    required: false,
                    blocked: false,
                    tools: Vec::new(),
                    feature: None,
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
                    let locked = lock.get(found.manifest.name.as_str()).cloned();
                    discovery.candidates.push(Candidate {
                        manifest: found.manifest,
                        origin: Origin::Installed {
                            dir,
                            consented: locked.is_some(),
                        },
                        embedded: None,
                        locked,
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
                    blocked: false,
                    tools: Vec::new(),
                    feature: None,
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
                let reason = format!("another plugin is already named `{name}`");
                self.skipped.push(Skipped::of(&candidate, reason, false));
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
                Err(err) => {
                    let skipped = Skipped::of(&candidate, err.to_string(), false);
                    self.skipped.push(skipped);
                }
            }
        }
        self.candidates = kept;
    }

    /// Applies `requirements` to the installed plugins: from here on, one
    /// the requirements block is skipped with the reason, and nothing of
    /// it is read, compiled or opened; the artifact of one they pin is
    /// checked when it is read, before it is compiled or opened. A plugin
    /// whose plugins.lock entry records another digest than the pinned one
    /// is blocked at once (its artifact, if it matched the pin, would not
    /// match the lock). The plugins built into the binary are part of the
    /// build: no requirement applies to them.
    pub fn require(&mut self, requirements: &Requirements) {
        self.requirements = PluginRequirements::new(requirements);
        let mut kept = Vec::new();
        for candidate in self.candidates.drain(..) {
            let name = candidate.manifest.name.as_str();
            let blocked = match &candidate.origin {
                Origin::Embedded => Ok(()),
                Origin::Installed { .. } => self
                    .requirements
                    .check_plugin(name, candidate.manifest.kind)
                    .and_then(|()| match &candidate.locked {
                        Some(locked) => self.requirements.check_artifact(name, &locked.sha256),
                        None => Ok(()),
                    }),
            };
            match blocked {
                Ok(()) => kept.push(candidate),
                Err(reason) => {
                    let skipped = Skipped::of(&candidate, reason.to_string(), true);
                    self.skipped.push(skipped);
                }
            }
        }
        self.candidates = kept;
    }

    /// Why the requirements in force would keep an installed plugin named
    /// `name` of `kind`, whose artifact has the digest `sha256`, from
    /// loading (for `wharf plugin add`, before it compiles or opens it).
    pub fn check_requirements(
        &self,
        name: &str,
        kind: manifest::PluginKind,
        sha256: &manifest::Sha256,
    ) -> Result<(), required::Blocked> {
        self.requirements.check_plugin(name, kind)?;
        self.requirements.check_artifact(name, sha256)
    }

    /// Loads the component or library of every candidate whose feature is
    /// on in `features` (in parallel); the others are not read, compiled or
    /// opened, and stand in with the tools known without that. A plugin
    /// that fails is skipped with its reason, unless it is required.
    pub fn load(
        self,
        runtime: &WasmRuntime,
        features: &Features,
    ) -> Result<Plugins, RequiredPluginFailed> {
        let on: Vec<&Candidate> = self
            .candidates
            .iter()
            .filter(|candidate| features.enabled(&candidate.manifest.feature.key))
            .collect();
        let mut loaded = load::load_all(runtime, &on, &self.requirements).into_iter();
        let mut results = Vec::new();
        for candidate in self.candidates {
            let result = if features.enabled(&candidate.manifest.feature.key) {
                loaded.next().unwrap_or_else(|| Err(LoadError::NotLoaded))
            } else {
                Ok(load::unloaded(runtime, &candidate))
            };
            results.push((candidate, result));
        }
        let mut plugins = Plugins {
            entries: Vec::new(),
            skipped: self.skipped,
            warnings: self.warnings,
            tools: BTreeMap::new(),
        };
        let mut installed = Vec::new();
        for (candidate, result) in results {
            match result {
                Ok(loaded) if candidate.origin == Origin::Embedded => {
                    plugins.add(candidate, loaded);
                }
                Ok(loaded) => installed.push((candidate, loaded)),
                Err(reason) if candidate.manifest.required => {
                    return Err(RequiredPluginFailed {
                        name: candidate.manifest.name.to_string(),
                        reason: reason.to_string(),
                    });
                }
                Err(reason) => {
                    let blocked = matches!(reason, LoadError::Blocked(_));
                    plugins
                        .skipped
                        .push(Skipped::of(&candidate, reason.to_string(), blocked));
                }
            }
        }
        for (candidate, loaded) in names::settle_installed(&mut plugins, installed) {
            plugins.add(candidate, loaded);
        }
        if let Some(skipped) = plugins.skipped.iter().find(|s| s.required) {
            return Err(RequiredPluginFailed {
                name: skipped.name.clone(),
                reason: skipped.reason.clone(),
            });
        }
        Ok(plugins)
    }

    /// Which plugin holds each tool name `wharf plugin add` must not give
    /// another plugin: every first-party plugin's tools (an embedded
    /// component is loaded for them when the compile cache does not know
    /// them: it is this binary's own code), and the tools plugins.lock
    /// records for the installed ones. Tool name → plugin name.
    pub fn tool_holders(&self, runtime: &WasmRuntime) -> BTreeMap<String, ToolHolder> {
        let mut holders = BTreeMap::new();
        for candidate in &self.candidates {
            let tools: Vec<String> = match (&candidate.origin, &candidate.locked) {
                (Origin::Embedded, _) => load::load_one(runtime, candidate, &self.requirements)
                    .map(|loaded| {
                        loaded
                            .plugin
                            .tools()
                            .iter()
                            .map(|spec| spec.name.clone())
                            .collect()
                    })
                    .unwrap_or_default(),
                (Origin::Installed { .. }, Some(locked)) => locked.tools.clone(),
                (Origin::Installed { .. }, None) => Vec::new(),
            };
            for tool in tools {
                holders.entry(tool).or_insert_with(|| ToolHolder {
                    plugin: candidate.manifest.name.to_string(),
                    first_party: candidate.origin == Origin::Embedded,
                });
            }
        }
        holders
    }
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
    /// False when its feature was off at load: nothing of it was read,
    /// compiled or opened, and `plugin` only lists the tools known without
    /// that (possibly none, or names without descriptions).
    pub loaded: bool,
    /// One compiled argument validator per tool, by tool name.
    validators: BTreeMap<String, jsonschema::Validator>,
    /// Its `wharf:plugin/hooks` export, when its manifest asks for hooks.
    pub hooks: Option<Arc<dyn crate::hooks::Hook>>,
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
    /// Why a plugin with `manifest` may not offer `tools` beside those
    /// already added, if it may not: a name reserved for MCP servers, or
    /// one another plugin holds.
    fn refusal(&self, manifest: &Manifest, tools: &[ToolSpec]) -> Option<String> {
        tools.iter().find_map(|spec| {
            if let Some(reason) = names::reserved(manifest.kind, &spec.name) {
                return Some(reason);
            }
            let owner = self.entries.get(*self.tools.get(&spec.name)?)?;
            Some(format!(
                "its tool `{}` is already offered by `{}`",
                spec.name, owner.manifest.name
            ))
        })
    }

    fn skip(&mut self, candidate: &Candidate, reason: String) {
        telemetry::plugin_skipped(candidate, &reason);
        self.skipped.push(Skipped::of(candidate, reason, false));
    }

    /// Adds a loaded plugin (or skips it: a tool without a valid input
    /// schema or with a name another plugin took or that is reserved
    /// cannot be offered).
    fn add(&mut self, candidate: Candidate, loaded: Loaded) {
        if let Some(reason) = self.refusal(&candidate.manifest, loaded.plugin.tools()) {
            self.skip(&candidate, reason);
            return;
        }
        // A stand-in is never called: its schemas (when known) need no
        // validator.
        let validators = if loaded.loaded {
            match check_tools(candidate.manifest.kind, loaded.plugin.tools()) {
                Ok(validators) => validators,
                Err(reason) => {
                    self.skip(&candidate, reason);
                    return;
                }
            }
        } else {
            BTreeMap::new()
        };
        let index = self.entries.len();
        for spec in loaded.plugin.tools() {
            self.tools.insert(spec.name.clone(), index);
        }
        telemetry::plugin_load(&candidate, &loaded);
        self.entries.push(Entry {
            manifest: candidate.manifest,
            origin: candidate.origin,
            plugin: loaded.plugin,
            sha256: loaded.sha256,
            from_cache: loaded.from_cache,
            load_time: loaded.load_time,
            loaded: loaded.loaded,
            validators,
            hooks: loaded.hooks,
        });
    }

    /// Adds a plugin that is not loaded from a component (native, builtin,
    /// or a test double), with a manifest describing its grant and feature.
    pub fn add_plugin(&mut self, manifest: Manifest, plugin: Arc<dyn Plugin>) {
        let candidate = Candidate {
            manifest,
            origin: Origin::Embedded,
            embedded: None,
            locked: None,
        };
        let loaded = Loaded {
            plugin,
            sha256: String::new(),
            from_cache: false,
            load_time: Duration::ZERO,
            loaded: true,
            hooks: None,
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
    pub fn end_session(&self, session_id: &SessionId) {
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

#[cfg(test)]
mod tests;
