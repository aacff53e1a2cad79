//! Loading one candidate: its artifact read within [`MAX_ARTIFACT_BYTES`],
//! its pins checked (the requirements', wharf's lock, then the manifest's),
//! then the bytes that were checked compiled or opened. A candidate whose feature is off is not loaded at all: it gets
//! a stand-in that knows what is cheaply known of its tools.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::load_error::{LoadError, PinnedBy, check_pin};
use super::required::PluginRequirements;
use super::{Candidate, EmbeddedCode};
use crate::hooks::Hook;
use crate::native::NativePlugin;
use crate::plugin::grant::Grant;
use crate::plugin::manifest::{MAX_ARTIFACT_BYTES, PluginKind, Sha256, read_limited};
use crate::plugin::{Args, CallContext, Display, Plugin, ToolError, ToolOutput, ToolSpec};
use crate::wasm::{ComponentBytes, FileStamp, WasmHook, WasmPlugin, WasmRuntime, hex};

pub(super) struct Loaded {
    pub(super) plugin: Arc<dyn Plugin>,
    pub(super) sha256: String,
    pub(super) from_cache: bool,
    pub(super) load_time: Duration,
    /// False for the stand-in of a plugin whose feature is off.
    pub(super) loaded: bool,
    /// A WASM plugin's hooks, when its manifest asks for some.
    pub(super) hooks: Option<Arc<dyn Hook>>,
}

/// Loads `candidates` on one worker per core, each taking the next
/// candidate until none is left; results keep the candidates' order.
pub(super) fn load_all(
    runtime: &WasmRuntime,
    candidates: &[&Candidate],
    requirements: &PluginRequirements,
) -> Vec<Result<Loaded, LoadError>> {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    let next = AtomicUsize::new(0);
    let slots: Vec<Mutex<Option<Result<Loaded, LoadError>>>> =
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
                        load_one(runtime, candidate, requirements)
                    }))
                    .unwrap_or_else(|_| Err(LoadError::Panicked));
                    if let Some(slot) = slots.get(index)
                        && let Ok(mut slot) = slot.lock()
                    {
                        *slot = Some(loaded);
                    }
                }
            });
        }
    });
    slots
        .into_iter()
        .map(|slot| {
            slot.into_inner()
                .ok()
                .flatten()
                .unwrap_or_else(|| Err(LoadError::NotLoaded))
        })
        .collect()
}

/// Loads `candidate`; an installed one only as far as `requirements`
/// allow it.
pub(super) fn load_one(
    runtime: &WasmRuntime,
    candidate: &Candidate,
    requirements: &PluginRequirements,
) -> Result<Loaded, LoadError> {
    let manifest = &candidate.manifest;
    match (manifest.kind, candidate.embedded) {
        (PluginKind::Wasm, None | Some(EmbeddedCode::Wasm(_))) => {
            load_wasm(runtime, candidate, requirements)
        }
        (PluginKind::Native, None) => load_native(candidate, requirements),
        (PluginKind::Native, Some(EmbeddedCode::Native(table))) => {
            let started = Instant::now();
            let plugin = NativePlugin::builtin(manifest.name.as_str(), table())?;
            Ok(Loaded {
                plugin: Arc::new(plugin),
                sha256: String::new(),
                from_cache: false,
                load_time: started.elapsed(),
                loaded: true,
                hooks: None,
            })
        }
        (PluginKind::Mcp, _) => Err(LoadError::McpServer),
        (kind, Some(_)) => Err(LoadError::EmbeddedKind { kind }),
    }
}

/// Reads an installed plugin's artifact (within the limit) and checks it
/// against the pins: the requirements', which no one below the
/// administrator can change, then plugins.lock's, which decides for the
/// user, then the manifest's, which can only refuse more.
fn read_artifact(
    candidate: &Candidate,
    requirements: &PluginRequirements,
) -> Result<(Vec<u8>, Sha256), LoadError> {
    let manifest = &candidate.manifest;
    requirements.check_plugin(manifest.name.as_str(), manifest.kind)?;
    let bytes = read_limited(
        &manifest.artifact,
        MAX_ARTIFACT_BYTES,
        "a plugin's artifact",
    )?;
    let actual = Sha256::of(&bytes);
    requirements.check_artifact(manifest.name.as_str(), &actual)?;
    check_pins(candidate, &actual)?;
    Ok((bytes, actual))
}

fn check_pins(candidate: &Candidate, actual: &Sha256) -> Result<(), LoadError> {
    let manifest = &candidate.manifest;
    let name = manifest.name.as_str();
    if let Some(locked) = &candidate.locked {
        if locked.kind != manifest.kind {
            return Err(LoadError::KindMismatch {
                plugin: name.to_owned(),
                locked: locked.kind,
                manifest: manifest.kind,
            });
        }
        check_pin(
            PinnedBy::Lock,
            name,
            &locked.sha256,
            actual,
            &manifest.artifact,
        )?;
    }
    if let Some(pinned) = &manifest.sha256 {
        check_pin(PinnedBy::Manifest, name, pinned, actual, &manifest.artifact)?;
    }
    Ok(())
}

/// Opens a native library only when `wharf plugin add` recorded it (the
/// user's consent) and the artifact is the one recorded; the bytes that
/// were checked are the ones opened.
fn load_native(
    candidate: &Candidate,
    requirements: &PluginRequirements,
) -> Result<Loaded, LoadError> {
    let manifest = &candidate.manifest;
    let started = Instant::now();
    requirements.check_plugin(manifest.name.as_str(), manifest.kind)?;
    if candidate.locked.is_none() {
        return Err(LoadError::NotInstalled {
            plugin: manifest.name.to_string(),
        });
    }
    let abi = crate::native::ABI_VERSION.to_string();
    if manifest.api != abi {
        return Err(LoadError::UnsupportedApi {
            kind: PluginKind::Native,
            api: manifest.api.clone(),
        });
    }
    let (bytes, actual) = read_artifact(candidate, requirements)?;
    let plugin = NativePlugin::load_bytes(manifest.name.as_str(), &manifest.artifact, &bytes)?;
    Ok(Loaded {
        plugin: Arc::new(plugin),
        sha256: actual.to_string(),
        from_cache: false,
        load_time: started.elapsed(),
        loaded: true,
        hooks: None,
    })
}

fn load_wasm(
    runtime: &WasmRuntime,
    candidate: &Candidate,
    requirements: &PluginRequirements,
) -> Result<Loaded, LoadError> {
    let manifest = &candidate.manifest;
    // Hashed once, here, for the pins; the runtime keys its cache with
    // the same digest and keeps the bytes without a copy.
    let (bytes, actual): (ComponentBytes, Sha256) = match candidate.embedded {
        // Built into this binary: part of the build, not subject to the
        // requirements.
        Some(EmbeddedCode::Wasm(bytes)) => {
            let actual = Sha256::of(bytes);
            check_pins(candidate, &actual)?;
            (Arc::new(bytes), actual)
        }
        _ => {
            if let Some(loaded) = load_unchanged(runtime, candidate, requirements)? {
                return Ok(loaded);
            }
            let before = FileStamp::of(&manifest.artifact);
            let (bytes, actual) = read_artifact(candidate, requirements)?;
            if let Some(before) = &before {
                runtime.remember_digest(&manifest.artifact, before, &actual.0);
            }
            (Arc::new(bytes), actual)
        }
    };
    check_api(manifest)?;
    let plugin = Arc::new(runtime.load_hashed(manifest.name.as_str(), bytes, actual.0)?);
    Ok(Loaded {
        sha256: hex(plugin.sha256()),
        from_cache: plugin.from_cache(),
        load_time: plugin.load_time(),
        hooks: wasm_hooks(&plugin, manifest)?,
        plugin,
        loaded: true,
    })
}

/// An installed component that has not changed since it was last hashed,
/// loaded without reading it: its remembered digest checked against the
/// pins as the artifact's would be, its tools from the compile cache.
/// `None`: it must be read (changed, never hashed, or not compiled yet).
fn load_unchanged(
    runtime: &WasmRuntime,
    candidate: &Candidate,
    requirements: &PluginRequirements,
) -> Result<Option<Loaded>, LoadError> {
    let manifest = &candidate.manifest;
    let Some(sha256) = runtime.remembered_digest(&manifest.artifact) else {
        return Ok(None);
    };
    let actual = Sha256(sha256);
    requirements.check_plugin(manifest.name.as_str(), manifest.kind)?;
    requirements.check_artifact(manifest.name.as_str(), &actual)?;
    check_pins(candidate, &actual)?;
    check_api(manifest)?;
    let Some(plugin) = runtime.load_unread(manifest.name.as_str(), &manifest.artifact, sha256)
    else {
        return Ok(None);
    };
    let plugin = Arc::new(plugin);
    Ok(Some(Loaded {
        sha256: actual.to_hex(),
        from_cache: plugin.from_cache(),
        load_time: plugin.load_time(),
        hooks: wasm_hooks(&plugin, manifest)?,
        plugin,
        loaded: true,
    }))
}

/// The hooks of `plugin`, when its manifest asks for some: refused when
/// the component cannot give them (a 0.1.0 component, no `hooks` export).
fn wasm_hooks(
    plugin: &Arc<WasmPlugin>,
    manifest: &crate::plugin::manifest::Manifest,
) -> Result<Option<Arc<dyn Hook>>, LoadError> {
    let Some(selection) = &manifest.hooks else {
        return Ok(None);
    };
    let hook = WasmHook::new(Arc::clone(plugin), selection.clone())?;
    Ok(Some(Arc::new(hook)))
}

fn check_api(manifest: &crate::plugin::manifest::Manifest) -> Result<(), LoadError> {
    if crate::wasm::SUPPORTED_API_VERSIONS.contains(&manifest.api.as_str()) {
        Ok(())
    } else {
        Err(LoadError::UnsupportedApi {
            kind: PluginKind::Wasm,
            api: manifest.api.clone(),
        })
    }
}

/// The stand-in of a plugin whose feature is off: nothing of it is read,
/// compiled or opened. Its tools are what is known without that — a
/// builtin's table, the compile cache's record of a component, or the
/// names plugins.lock recorded — so that listings can show them as off.
pub(super) fn unloaded(runtime: &WasmRuntime, candidate: &Candidate) -> Loaded {
    let manifest = &candidate.manifest;
    let sha256 = match (candidate.embedded, &candidate.locked) {
        (Some(EmbeddedCode::Wasm(bytes)), _) => Some(Sha256::of(bytes)),
        (None, Some(locked)) => Some(locked.sha256),
        (Some(EmbeddedCode::Native(_)), _) | (None, None) => None,
    };
    let cached = match manifest.kind {
        PluginKind::Wasm => sha256.and_then(|sha| runtime.known_tools(&sha.0)),
        PluginKind::Native | PluginKind::Mcp => None,
    };
    let tools = match (cached, candidate.embedded, &candidate.locked) {
        (Some(tools), _, _) => tools,
        // A builtin's table is code of this binary: describing it opens
        // nothing.
        (None, Some(EmbeddedCode::Native(table)), _) => {
            NativePlugin::builtin(manifest.name.as_str(), table())
                .map(|plugin| plugin.tools().to_vec())
                .unwrap_or_default()
        }
        (None, None, Some(locked)) => locked
            .tools
            .iter()
            .map(|name| ToolSpec {
                name: name.clone(),
                description: String::new(),
                input_schema: serde_json::Value::Null,
                freeform_grammar: None,
                requires: Vec::new(),
                display: Display::default(),
            })
            .collect(),
        _ => Vec::new(),
    };
    Loaded {
        plugin: Arc::new(Unloaded {
            name: manifest.name.to_string(),
            key: manifest.feature.key.clone(),
            tools,
        }),
        sha256: sha256.map(|sha| sha.to_hex()).unwrap_or_default(),
        from_cache: false,
        load_time: Duration::ZERO,
        loaded: false,
        hooks: None,
    }
}

/// A plugin that was not loaded because its feature is off. The pipeline's
/// feature gate refuses its tools before `invoke` is reached.
struct Unloaded {
    name: String,
    key: String,
    tools: Vec<ToolSpec>,
}

impl Plugin for Unloaded {
    fn name(&self) -> &str {
        &self.name
    }

    fn tools(&self) -> &[ToolSpec] {
        &self.tools
    }

    fn invoke(
        &self,
        _cx: &CallContext,
        _tool: &str,
        _args: Args<'_>,
        _grant: &Grant,
    ) -> Result<ToolOutput, ToolError> {
        Err(ToolError::Failed(format!(
            "plugin `{}` is not loaded: its feature `{}` was off when the session started",
            self.name, self.key
        )))
    }
}
