//! `wharf plugin add`: every check that needs no code of the plugin first
//! (its pins, and the administrator's requirements: a plugin they would
//! keep from loading is not installed), then (for a native library, only after the user agreed) its code is
//! loaded to learn its tools, then the plugin is copied in and recorded in
//! plugins.lock. A refused plugin leaves nothing behind.

use std::collections::BTreeMap;
use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::path::Path;

use anyhow::{Context as _, anyhow, bail};
use wharf_runtime::native::NativePlugin;
use wharf_runtime::plugin::Plugin;
use wharf_runtime::plugin::grant::{NetworkPolicy, describe_network};
use wharf_runtime::plugin::manifest::{
    MANIFEST_FILE, MAX_ARTIFACT_BYTES, Manifest, PluginKind, Sha256, read_limited,
    read_manifest_text,
};
use wharf_runtime::registry::lock::{self, Locked, PluginLock};
use wharf_runtime::registry::names;
use wharf_runtime::registry::{LoadError, PinnedBy, ToolHolder, check_pin, check_tools};
use wharf_runtime::wasm::WasmRuntime;

use crate::GlobalArgs;
use crate::session::{cache_dir, plugins_dir};
use crate::terminal::safe;

/// How `add` treats a plugin of the same name already installed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Replace {
    /// Refuse (`wharf plugin add`).
    No,
    /// Replace it if there is one (`wharf plugin add --force`).
    IfInstalled,
    /// Replace it; refuse when there is none (`wharf plugin upgrade`).
    Required,
}

pub(super) fn add(
    global: &GlobalArgs,
    path: &Path,
    expected: Option<&str>,
    yes: bool,
    replace: Replace,
) -> anyhow::Result<()> {
    let manifest_path = if path.is_dir() {
        path.join(MANIFEST_FILE)
    } else {
        path.to_path_buf()
    };
    let text = read_manifest_text(&manifest_path)?;
    let (manifest, warnings) = Manifest::parse(&manifest_path, &text)?;
    for warning in &warnings {
        eprintln!("warning: {}", safe(&warning.to_string()));
    }
    let bytes = read_limited(
        &manifest.artifact,
        MAX_ARTIFACT_BYTES,
        "a plugin's artifact",
    )?;
    let actual = Sha256::of(&bytes);
    let name = manifest.name.as_str();
    let not_installed = |err: LoadError| anyhow!("{err}; not installed");
    if let Some(expected) = expected {
        let expected: Sha256 = expected
            .parse()
            .map_err(|err| crate::UsageError(format!("--sha256: {err}")))?;
        check_pin(PinnedBy::User, name, &expected, &actual, &manifest.artifact)
            .map_err(not_installed)?;
    }
    if let Some(pinned) = &manifest.sha256 {
        check_pin(
            PinnedBy::Manifest,
            name,
            pinned,
            &actual,
            &manifest.artifact,
        )
        .map_err(not_installed)?;
    }

    let configured = global.configure()?;
    // The digest checked is the one of `bytes`, which are what is compiled
    // or opened below and copied in.
    configured
        .discovery
        .check_requirements(name, manifest.kind, &actual)
        .map_err(|err| anyhow!("{err}; not installed"))?;
    let options = &configured.options;
    let plugins = plugins_dir(options);
    let target = plugins.join(manifest.name.as_str());
    let installed = target.symlink_metadata().is_ok();
    match (installed, replace) {
        (true, Replace::No) => bail!(
            "plugin `{}` is already installed in {}; replace it with `wharf plugin add --force` \
             (or `wharf plugin upgrade DIR`), or remove it first (`wharf plugin remove {}`)",
            manifest.name,
            target.display(),
            manifest.name
        ),
        (false, Replace::Required) => bail!(
            "plugin `{}` is not installed in {}, so there is nothing to upgrade; install it with \
             `wharf plugin add {}`",
            manifest.name,
            plugins.display(),
            path.display()
        ),
        _ => {}
    }
    // When replacing, the feature key is the old version's own.
    if configured.registry.get(&manifest.feature.key).is_some() && !installed {
        bail!(
            "the feature key `{}` is already taken; change `feature.key` in the manifest",
            manifest.feature.key
        );
    }
    crate::plugin_dev::check_before_compiling(&manifest, &manifest_path, &bytes)
        .map_err(not_installed_text)?;

    // The manifest is a third party's: its text is shown safe.
    println!(
        "{} {} (api {}), sha256 {actual}",
        manifest.name,
        safe(&manifest.version),
        manifest.api
    );
    println!("asks for:");
    for line in manifest.describe_capabilities() {
        println!("  {}", safe(&line));
    }
    let network = NetworkPolicy::of(&configured.config.sandbox_policy);
    if let Some(line) = describe_network(&manifest, network) {
        println!("  {}", safe(&line));
    }
    let runtime = WasmRuntime::new(Some(cache_dir(options)))?;
    // A refused artifact leaves nothing in the compile cache that was not
    // there before.
    let was_cached = runtime.known_tools(&actual.0).is_some();
    let refuse = |err: anyhow::Error| {
        if !was_cached {
            runtime.forget(&actual.0);
        }
        err
    };
    let not_loadable = || format!("{} is not a loadable plugin", manifest.artifact.display());
    let started = std::time::Instant::now();
    let (plugin, how): (Box<dyn Plugin>, &str) = match manifest.kind {
        PluginKind::Wasm => {
            let plugin = runtime
                .load(manifest.name.as_str(), &bytes)
                .with_context(not_loadable)
                .map_err(refuse)?;
            (Box::new(plugin), "compiled")
        }
        PluginKind::Native | PluginKind::Mcp => {
            println!(
                "note: a native plugin runs inside wharf with your privileges; \
                 only the commands it runs through wharf are sandboxed"
            );
            confirm(&manifest, yes)?;
            let plugin =
                NativePlugin::load_bytes(manifest.name.as_str(), &manifest.artifact, &bytes)
                    .with_context(not_loadable)?;
            (Box::new(plugin), "loaded")
        }
    };
    let load_time = started.elapsed();
    let tools: Vec<String> = plugin.tools().iter().map(|t| t.name.clone()).collect();
    let mut holders = configured.discovery.tool_holders(&runtime);
    // The version being replaced gives its names up.
    holders.retain(|_, holder| holder.first_party || holder.plugin != manifest.name.as_str());
    check_tools(manifest.kind, plugin.tools())
        .map(drop)
        .map_err(|reason| anyhow!("plugin `{}`: {reason}; not installed", manifest.name))
        .and_then(|()| check_tool_names(&manifest, &tools, &holders))
        .map_err(refuse)?;
    println!("tools: {}", safe(&tools.join(", ")));

    let locked = Locked {
        kind: manifest.kind,
        sha256: actual,
        tools,
    };
    let replaced = install(&manifest, &text, &bytes, locked, &target)?;
    if let Some(old) = replaced.filter(|old| *old != actual) {
        runtime.forget(&old.0);
    }
    println!(
        "{} in {} ({how} in {:.0} ms)",
        if installed { "replaced" } else { "installed" },
        target.display(),
        load_time.as_secs_f64() * 1000.0
    );
    Ok(())
}

fn not_installed_text(err: anyhow::Error) -> anyhow::Error {
    anyhow!("{err:#}; not installed")
}

/// The user's consent to run a native plugin: `--yes`, or `y` on a
/// terminal. Asked before the library is ever opened (opening it runs its
/// code).
fn confirm(manifest: &Manifest, yes: bool) -> anyhow::Result<()> {
    if yes {
        return Ok(());
    }
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        bail!(
            "plugin `{}` is a native library that would run inside wharf with your privileges; \
             there is no terminal to ask on, so pass --yes to install it; not installed",
            manifest.name
        );
    }
    eprint!(
        "install `{}` and let it run with your privileges? [y/N] ",
        manifest.name
    );
    std::io::stderr().flush()?;
    let mut answer = String::new();
    stdin.lock().read_line(&mut answer)?;
    match answer.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" => Ok(()),
        _ => bail!("plugin `{}` not installed", manifest.name),
    }
}

/// Refuses tool names reserved for MCP servers or held by a first-party
/// plugin or another installed plugin, naming each conflict.
fn check_tool_names(
    manifest: &Manifest,
    tools: &[String],
    holders: &BTreeMap<String, ToolHolder>,
) -> anyhow::Result<()> {
    let conflicts: Vec<String> = tools
        .iter()
        .filter_map(|tool| {
            if let Some(reason) = names::reserved(manifest.kind, tool) {
                return Some(reason);
            }
            let holder = holders.get(tool)?;
            let whose = if holder.first_party {
                "the first-party plugin"
            } else {
                "the installed plugin"
            };
            Some(format!(
                "its tool `{tool}` is already offered by {whose} `{}`",
                holder.plugin
            ))
        })
        .collect();
    if conflicts.is_empty() {
        return Ok(());
    }
    bail!(
        "plugin `{}`: {}; not installed (tool names are unique across all plugins)",
        manifest.name,
        conflicts.join("; ")
    )
}

/// Copies the manifest and the artifact into the plugins directory (staged
/// under a hidden name, then renamed into place), then records the plugin
/// in plugins.lock. When recording fails, the copy is removed again.
/// When a plugin of that name is installed, it is moved aside first and
/// removed once the new one is recorded (put back if recording fails);
/// returns the digest plugins.lock held for it.
fn install(
    manifest: &Manifest,
    text: &str,
    bytes: &[u8],
    locked: Locked,
    target: &Path,
) -> anyhow::Result<Option<Sha256>> {
    let mut doc: toml_edit::DocumentMut = text.parse()?;
    let artifact_name = manifest
        .artifact
        .file_name()
        .context("the artifact has no file name")?
        .to_string_lossy()
        .into_owned();
    doc["artifact"] = toml_edit::value(&artifact_name);
    // For whoever reads the directory: plugins.lock holds the pin wharf
    // checks, and a manifest pin can only refuse more.
    doc["sha256"] = toml_edit::value(locked.sha256.to_string());
    let plugins = target
        .parent()
        .context("the plugins directory has no parent")?;
    std::fs::create_dir_all(plugins)
        .with_context(|| format!("cannot create {}", plugins.display()))?;
    let lock_path = lock::path_beside(plugins);
    let mut lock = PluginLock::read(&lock_path)?;
    let staging = tempfile::Builder::new()
        .prefix(".adding-")
        .tempdir_in(plugins)?;
    std::fs::write(staging.path().join(MANIFEST_FILE), doc.to_string())?;
    std::fs::write(staging.path().join(&artifact_name), bytes)?;
    let replaced = lock.get(manifest.name.as_str()).map(|old| old.sha256);
    let aside = plugins.join(format!(".replacing-{}", manifest.name));
    let moved_aside = target.symlink_metadata().is_ok();
    // What an interrupted replacement left (wharf skips hidden entries).
    remove_entry(&aside);
    if moved_aside {
        std::fs::rename(target, &aside)
            .with_context(|| format!("cannot move {} aside to replace it", target.display()))?;
    }
    let put_back = || {
        if moved_aside {
            let _ = std::fs::rename(&aside, target);
        }
    };
    // Until the rename succeeds, dropping `staging` removes it.
    if let Err(err) = std::fs::rename(staging.path(), target) {
        put_back();
        return Err(err)
            .with_context(|| format!("cannot move the plugin into {}", target.display()));
    }
    let _ = staging.keep();
    lock.insert(&manifest.name, locked);
    if let Err(err) = lock.write(&lock_path) {
        let _ = std::fs::remove_dir_all(target);
        put_back();
        return Err(err).context(format!("plugin `{}` not installed", manifest.name));
    }
    if moved_aside {
        remove_entry(&aside);
    }
    Ok(replaced)
}

/// Removes `path` if it is there: a link without touching what it points
/// to, a directory with what is in it (remove_dir_all does not follow
/// links below).
fn remove_entry(path: &Path) {
    let _ = std::fs::remove_file(path).or_else(|_| std::fs::remove_dir_all(path));
}
