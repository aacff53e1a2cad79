//! `wharf plugin list|add|remove`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use clap::Subcommand;
use serde_json::json;
use sha2::Digest as _;
use wharf_host::native::{self, NativePlugin};
use wharf_host::plugin::Plugin;
use wharf_host::plugin::manifest::{MANIFEST_FILE, Manifest, PluginKind, Sha256};
use wharf_host::registry::{INSTALLED_MARKER, NotOffered, Origin};
use wharf_host::wasm::WasmRuntime;

use crate::GlobalArgs;
use crate::session::{cache_dir, plugins_dir};

#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Every plugin: kind, version, API, feature state, tools, and the access it is granted.
    List {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Install a plugin from a directory holding its plugin.toml and artifact.
    ///
    /// Checks the manifest and the artifact, shows what the plugin asks to
    /// access, compiles a component into the cache (or loads a native
    /// library to check it), and records the artifact's sha256 as a pin in
    /// the installed manifest.
    Add {
        /// The plugin's directory (or its plugin.toml).
        path: PathBuf,
        /// Refuse to install unless the artifact has this sha256 (hex).
        #[arg(long, value_name = "HEX")]
        sha256: Option<String>,
    },
    /// Uninstall a plugin installed with `wharf plugin add`.
    Remove {
        /// The plugin's name.
        name: String,
    },
}

pub fn run(command: PluginCommand, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    match command {
        PluginCommand::List { json } => list(global, json),
        PluginCommand::Add { path, sha256 } => add(global, &path, sha256.as_deref()),
        PluginCommand::Remove { name } => remove(global, &name),
    }
    .map(|()| ExitCode::SUCCESS)
}

fn list(global: &GlobalArgs, json: bool) -> anyhow::Result<()> {
    let host = global.configure()?.load()?;
    let mut rows = Vec::new();
    for entry in &host.plugins.entries {
        let manifest = &entry.manifest;
        let grant = host.session.grant(entry);
        let enabled = host.plugins.offered(entry, &host.config.features).is_ok();
        let origin = match &entry.origin {
            Origin::Embedded => "built in".to_owned(),
            Origin::Installed { dir, .. } => dir.display().to_string(),
        };
        let tools: Vec<&str> = entry
            .plugin
            .tools()
            .iter()
            .map(|t| t.name.as_str())
            .collect();
        rows.push(json!({
            "name": manifest.name.as_str(),
            "kind": manifest.kind.as_str(),
            "version": manifest.version,
            "api": manifest.api,
            "feature": entry.feature_key(),
            "enabled": enabled,
            "origin": origin,
            "sha256": entry.sha256,
            "tools": tools,
            "requested": manifest.describe_capabilities(),
            "granted": grant.describe(),
            "loaded_from_cache": entry.from_cache,
            "load_ms": entry.load_time.as_secs_f64() * 1000.0,
        }));
    }
    for skipped in &host.plugins.skipped {
        rows.push(json!({ "name": skipped.name, "skipped": skipped.reason }));
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    for entry in &host.plugins.entries {
        let manifest = &entry.manifest;
        let state = match host.plugins.offered(entry, &host.config.features) {
            Ok(()) => "on".to_owned(),
            Err(NotOffered::Disabled { .. }) => "off".to_owned(),
            Err(NotOffered::Replaced { by, .. }) => format!("on, replaced by {by}"),
        };
        let tools: Vec<&str> = entry
            .plugin
            .tools()
            .iter()
            .map(|t| t.name.as_str())
            .collect();
        println!(
            "{} {} ({}, api {}) — feature {} {state}",
            manifest.name,
            manifest.version,
            manifest.kind,
            manifest.api,
            entry.feature_key()
        );
        println!("  tools: {}", tools.join(", "));
        for line in host.session.grant(entry).describe() {
            println!("  {line}");
        }
        let how = match (manifest.kind, entry.from_cache) {
            (PluginKind::Native, _) if entry.origin == Origin::Embedded => "built in",
            (PluginKind::Native, _) => "a shared library",
            (PluginKind::Wasm, true) => "from the compile cache",
            (PluginKind::Wasm, false) => "compiled",
            (PluginKind::Mcp, _) => "started",
        };
        println!(
            "  loaded: {how} in {:.1} ms",
            entry.load_time.as_secs_f64() * 1000.0
        );
    }
    for skipped in &host.plugins.skipped {
        println!("{} — skipped: {}", skipped.name, skipped.reason);
    }
    if let Some(report) = host.compile_report() {
        println!("{report}");
    }
    if host.pooling {
        println!("runtime: pooling instance allocator");
    } else {
        println!(
            "runtime: on-demand instance allocator (the pooling allocator could not reserve its virtual memory)"
        );
    }
    Ok(())
}

fn add(global: &GlobalArgs, path: &Path, expected: Option<&str>) -> anyhow::Result<()> {
    let manifest_path = if path.is_dir() {
        path.join(MANIFEST_FILE)
    } else {
        path.to_path_buf()
    };
    let (manifest, warnings) = {
        let text = std::fs::read_to_string(&manifest_path)
            .with_context(|| format!("cannot read {}", manifest_path.display()))?;
        Manifest::parse(&manifest_path, &text)?
    };
    for warning in &warnings {
        eprintln!("warning: {warning}");
    }
    let bytes = std::fs::read(&manifest.artifact)
        .with_context(|| format!("cannot read the artifact {}", manifest.artifact.display()))?;
    let actual = Sha256(sha2::Sha256::digest(&bytes).into());
    if let Some(expected) = expected {
        let expected: Sha256 = expected
            .parse()
            .map_err(|err| crate::UsageError(format!("--sha256: {err}")))?;
        if expected != actual {
            bail!("sha256 mismatch: expected {expected}, the artifact is {actual}; not installed");
        }
    }
    if let Some(pinned) = &manifest.sha256
        && *pinned != actual
    {
        bail!(
            "sha256 mismatch: the manifest pins {pinned}, the artifact is {actual}; not installed"
        );
    }

    let configured = global.configure()?;
    let options = &configured.options;
    let target = plugins_dir(options).join(manifest.name.as_str());
    if target.exists() {
        bail!(
            "plugin `{}` is already installed in {}; remove it first (`wharf plugin remove {}`)",
            manifest.name,
            target.display(),
            manifest.name
        );
    }
    if configured.registry.get(&manifest.feature.key).is_some() {
        bail!(
            "the feature key `{}` is already taken; change `feature.key` in the manifest",
            manifest.feature.key
        );
    }
    let not_loadable = || format!("{} is not a loadable plugin", manifest.artifact.display());
    let started = std::time::Instant::now();
    let (plugin, how): (Box<dyn Plugin>, &str) = match manifest.kind {
        PluginKind::Wasm => {
            let runtime = WasmRuntime::new(Some(cache_dir(options)))?;
            let plugin = runtime
                .load(manifest.name.as_str(), &bytes)
                .with_context(not_loadable)?;
            (Box::new(plugin), "compiled")
        }
        PluginKind::Native => {
            let abi = native::ABI_VERSION.to_string();
            if manifest.api != abi {
                bail!(
                    "{}: `api = \"{}\"` is not a native plugin ABI this wharf supports \
                     (supported: \"{abi}\"); not installed",
                    manifest_path.display(),
                    manifest.api
                );
            }
            let plugin = NativePlugin::load(manifest.name.as_str(), &manifest.artifact)
                .with_context(not_loadable)?;
            (Box::new(plugin), "loaded")
        }
        PluginKind::Mcp => bail!(
            "{}: an MCP server is not installed as a plugin; add it with `wharf mcp add`",
            manifest_path.display()
        ),
    };
    let load_time = started.elapsed();

    println!(
        "{} {} (api {}), sha256 {actual}",
        manifest.name, manifest.version, manifest.api
    );
    println!("asks for:");
    for line in manifest.describe_capabilities() {
        println!("  {line}");
    }
    let tools: Vec<&str> = plugin.tools().iter().map(|t| t.name.as_str()).collect();
    println!("tools: {}", tools.join(", "));
    if manifest.kind == PluginKind::Native {
        println!(
            "note: a native plugin runs inside wharf with your privileges; \
             only the commands it runs through wharf are sandboxed"
        );
    }

    install(&manifest, &manifest_path, &bytes, &actual, &target)?;
    println!(
        "installed in {} ({how} in {:.0} ms)",
        target.display(),
        load_time.as_secs_f64() * 1000.0
    );
    Ok(())
}

/// Copies the manifest (with the pin recorded) and the artifact into the
/// plugins directory, then marks the directory as installed by the user.
fn install(
    manifest: &Manifest,
    manifest_path: &Path,
    bytes: &[u8],
    sha256: &Sha256,
    target: &Path,
) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(manifest_path)?;
    let mut doc: toml_edit::DocumentMut = text.parse()?;
    let artifact_name = manifest
        .artifact
        .file_name()
        .context("the artifact has no file name")?
        .to_string_lossy()
        .into_owned();
    doc["artifact"] = toml_edit::value(&artifact_name);
    doc["sha256"] = toml_edit::value(sha256.to_string());
    let staging = tempfile::Builder::new()
        .prefix(".adding-")
        .tempdir_in(
            target
                .parent()
                .context("the plugins directory has no parent")?,
        )
        .or_else(|_| {
            std::fs::create_dir_all(target.parent().unwrap_or(target))?;
            tempfile::Builder::new()
                .prefix(".adding-")
                .tempdir_in(target.parent().unwrap_or(target))
        })?;
    std::fs::write(staging.path().join(MANIFEST_FILE), doc.to_string())?;
    std::fs::write(staging.path().join(&artifact_name), bytes)?;
    std::fs::write(
        staging.path().join(INSTALLED_MARKER),
        format!("sha256 = \"{sha256}\"\n"),
    )?;
    let staged = staging.keep();
    std::fs::rename(&staged, target)
        .with_context(|| format!("cannot move the plugin into {}", target.display()))?;
    Ok(())
}

fn remove(global: &GlobalArgs, name: &str) -> anyhow::Result<()> {
    let configured = global.configure()?;
    let dir = plugins_dir(&configured.options).join(name);
    if !dir.join(MANIFEST_FILE).is_file() {
        if crate::session::EMBEDDED
            .iter()
            .any(|embedded| embedded.manifest.contains(&format!("name = \"{name}\"")))
        {
            bail!(
                "plugin `{name}` is built in; turn it off with `wharf features disable KEY` instead"
            );
        }
        bail!(
            "no plugin named `{name}` is installed in {}",
            plugins_dir(&configured.options).display()
        );
    }
    std::fs::remove_dir_all(&dir).with_context(|| format!("cannot remove {}", dir.display()))?;
    println!("removed {name} from {}", dir.display());
    Ok(())
}
