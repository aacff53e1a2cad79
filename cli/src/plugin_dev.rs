//! `wharf plugin dev DIR` and `wharf tool call --plugin DIR`: a plugin
//! under development, built when its sources are newer than its artifact,
//! checked as `wharf plugin add` checks it, and offered to this one session
//! only — nothing is copied into the plugins directory or recorded in
//! plugins.lock.

use std::path::Path;
use std::sync::Arc;
use std::time::SystemTime;

use anyhow::{Context as _, anyhow, bail};
use wharf_config::features::FeatureSpec;
use wharf_host::session::{Configured, Started};
use wharf_runtime::native;
use wharf_runtime::plugin::Plugin as _;
use wharf_runtime::plugin::manifest::{
    MANIFEST_FILE, MAX_ARTIFACT_BYTES, Manifest, PluginKind, read_limited, read_manifest_text,
};
use wharf_runtime::registry::{check_component, check_tools};
use wharf_runtime::wasm::{SUPPORTED_API_VERSIONS, WasmRuntime};
use wharf_sandbox::{Command, PathEnv, Sandbox, SandboxPolicy};

use crate::GlobalArgs;
use crate::session::cache_dir;
use crate::terminal::safe;

/// A plugin under development, ready to be added to a session.
pub(crate) struct DevPlugin {
    pub(crate) configured: Configured,
    pub(crate) started: Started,
    /// Its tools' names, in its order.
    pub(crate) tools: Vec<String>,
}

/// Builds (if needed) and checks the plugin in `dir`, and configures a
/// session in which its feature is on.
pub(crate) fn prepare(global: &GlobalArgs, dir: &Path) -> anyhow::Result<DevPlugin> {
    let manifest_path = if dir.is_dir() {
        dir.join(MANIFEST_FILE)
    } else {
        dir.to_path_buf()
    };
    let text = read_manifest_text(&manifest_path)?;
    let (manifest, warnings) = Manifest::parse(&manifest_path, &text)?;
    for warning in &warnings {
        eprintln!("warning: {}", safe(&warning.to_string()));
    }
    if manifest.kind != PluginKind::Wasm {
        bail!(
            "{}: `wharf plugin dev` runs WASM components (`kind = \"wasm\"`); install a {} \
             plugin with `wharf plugin add`",
            manifest_path.display(),
            manifest.kind
        );
    }
    let project = manifest_path.parent().unwrap_or(Path::new("."));
    if project.join("Cargo.toml").is_file() {
        let project = std::fs::canonicalize(project)
            .with_context(|| format!("cannot resolve {}", project.display()))?;
        build_if_needed(&project, &manifest.artifact)?;
    }
    let bytes = read_limited(
        &manifest.artifact,
        MAX_ARTIFACT_BYTES,
        "a plugin's artifact",
    )
    .map_err(|err| {
        anyhow!("{err}; build the plugin first (see the README `wharf plugin new` wrote)")
    })?;
    check_before_compiling(&manifest, &manifest_path, &bytes)?;

    // Its feature is registered before the configuration is read, and on:
    // an installed plugin of the same name then loses its key and is
    // skipped, so the version under development is the one called.
    let mut options = global.options()?;
    let mut registry = crate::first_party::feature_registry()?;
    let key = manifest.feature.key.clone();
    if registry.get(&key).is_some() {
        bail!(
            "{}: the feature key `{key}` belongs to wharf itself; change `feature.key`",
            manifest_path.display()
        );
    }
    registry.register(FeatureSpec {
        key: key.clone(),
        stage: manifest.feature.stage,
        default_enabled: true,
        description: manifest.description.clone().unwrap_or_default(),
    })?;
    options.enable.push(key);
    let configured = Configured::load(options, registry, crate::build_info::embedded())?;
    for warning in configured.warnings() {
        eprintln!("warning: {}", safe(warning));
    }

    let runtime = WasmRuntime::new(Some(cache_dir(&configured.options)))?;
    let plugin = runtime
        .load(manifest.name.as_str(), &bytes)
        .with_context(|| format!("{} is not a loadable plugin", manifest.artifact.display()))?;
    check_tools(manifest.kind, plugin.tools())
        .map_err(|reason| anyhow!("plugin `{}`: {reason}", manifest.name))?;
    let holders = configured.discovery.tool_holders(&runtime);
    let tools: Vec<String> = plugin.tools().iter().map(|t| t.name.clone()).collect();
    for tool in &tools {
        if let Some(holder) = holders
            .get(tool)
            .filter(|holder| holder.first_party || holder.plugin != manifest.name.as_str())
        {
            bail!(
                "plugin `{}`: its tool `{tool}` is already offered by `{}`; rename the tool",
                manifest.name,
                holder.plugin
            );
        }
    }
    Ok(DevPlugin {
        configured,
        started: (manifest, Arc::new(plugin)),
        tools,
    })
}

/// Runs `cargo build --target wasm32-wasip2 --release` in `project` when
/// `artifact` is missing or older than a source.
fn build_if_needed(project: &Path, artifact: &Path) -> anyhow::Result<()> {
    let built = std::fs::metadata(artifact).and_then(|m| m.modified()).ok();
    let newest = [
        "src",
        "Cargo.toml",
        "Cargo.lock",
        ".cargo",
        "build.rs",
        "wit",
    ]
    .iter()
    .filter_map(|name| newest_under(&project.join(name)))
    .max();
    let stale = match (built, newest) {
        (None, _) => true,
        (Some(built), Some(newest)) => newest > built,
        (Some(_), None) => false,
    };
    if !stale {
        return Ok(());
    }
    eprintln!("building {}", project.display());
    let argv = ["cargo", "build", "--target", "wasm32-wasip2", "--release"];
    // The author's own build of their own project, as they would run it in
    // a shell: not a plugin's command, so not under the session's policy.
    let sandbox = Sandbox::new(
        &SandboxPolicy::DangerFullAccess,
        &PathEnv::from_process(project.to_path_buf()),
    );
    let mut command = Command::new(argv);
    command.cwd(project).own_process_group(false);
    let status = sandbox
        .spawn(command)
        .context("cannot run cargo")?
        .wait()
        .context("waiting for cargo")?;
    if !status.success() {
        bail!("`{}` failed in {}", argv.join(" "), project.display());
    }
    if !artifact.is_file() {
        bail!(
            "cargo built {} but not {} (the manifest's `artifact`); set `artifact` to the \
             built component",
            project.display(),
            artifact.display()
        );
    }
    Ok(())
}

/// The latest modification time of `path` or anything below it.
fn newest_under(path: &Path) -> Option<SystemTime> {
    let metadata = std::fs::symlink_metadata(path).ok()?;
    let own = metadata.modified().ok();
    if !metadata.is_dir() {
        return own;
    }
    let children = std::fs::read_dir(path).ok()?;
    children
        .flatten()
        .filter_map(|entry| newest_under(&entry.path()))
        .chain(own)
        .max()
}

/// The tool `plugin dev` calls: the one named, or the plugin's only one.
pub(crate) fn tool_to_call(dev_tools: &[String], named: Option<String>) -> anyhow::Result<String> {
    match (named, dev_tools) {
        (Some(name), _) => Ok(name),
        (None, [only]) => Ok(only.clone()),
        (None, tools) => Err(crate::UsageError(format!(
            "the plugin offers {} tools ({}); name the one to call",
            tools.len(),
            tools.join(", ")
        ))
        .into()),
    }
}

/// Every check that needs none of the plugin's code run or compiled: its
/// kind, the API it targets, and (for a component) what its header says
/// it exports and imports.
pub(crate) fn check_before_compiling(
    manifest: &Manifest,
    manifest_path: &Path,
    bytes: &[u8],
) -> anyhow::Result<()> {
    let at = manifest_path.display();
    match manifest.kind {
        PluginKind::Wasm => {
            if !SUPPORTED_API_VERSIONS.contains(&manifest.api.as_str()) {
                bail!(
                    "{at}: `api = \"{}\"` is not a plugin API this wharf supports (supported: {}); \
                     build against a supported wit/ version and set `api` to it",
                    manifest.api,
                    SUPPORTED_API_VERSIONS.join(", ")
                );
            }
            check_component(&manifest.api, bytes)
                .map_err(|err| anyhow!("{}: {err}", manifest.artifact.display()))
        }
        PluginKind::Native => {
            let abi = native::ABI_VERSION.to_string();
            if manifest.api != abi {
                bail!(
                    "{at}: `api = \"{}\"` is not a native plugin ABI this wharf supports \
                     (supported: \"{abi}\")",
                    manifest.api
                );
            }
            Ok(())
        }
        PluginKind::Mcp => {
            bail!("{at}: an MCP server is not installed as a plugin; add it with `wharf mcp add`")
        }
    }
}
