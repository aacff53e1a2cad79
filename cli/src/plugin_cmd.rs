//! `wharf plugin list|add|remove`.

mod add;
mod new;
mod remove;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;
use serde_json::json;
use wharf_runtime::plugin::manifest::PluginKind;
use wharf_runtime::registry::{NotOffered, Origin};

use crate::GlobalArgs;
use crate::terminal::safe;

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
    /// Checks the manifest and the artifact (at most 64 KiB and 64 MiB),
    /// shows what the plugin asks to access, refuses tool names another
    /// plugin holds, compiles a component into the cache (or, once you
    /// confirmed, loads a native library to check it), and records the
    /// artifact's sha256 in $WHARF_HOME/plugins.lock: wharf loads the
    /// plugin only while its artifact has that digest.
    Add {
        /// The plugin's directory (or its plugin.toml).
        path: PathBuf,
        /// Refuse to install unless the artifact has this sha256 (hex).
        #[arg(long, value_name = "HEX")]
        sha256: Option<String>,
        /// Install a native plugin without asking: it runs inside wharf
        /// with your privileges (needed when there is no terminal to ask on).
        #[arg(long, short = 'y')]
        yes: bool,
        /// Replace a plugin of the same name that is installed (its pin in
        /// plugins.lock and its compile cache entry go with it).
        #[arg(long)]
        force: bool,
    },
    /// Replace an installed plugin with the one in a directory: `plugin
    /// add --force` for a plugin that must already be installed.
    Upgrade {
        /// The new version's directory (or its plugin.toml).
        path: PathBuf,
        /// Refuse unless the new artifact has this sha256 (hex).
        #[arg(long, value_name = "HEX")]
        sha256: Option<String>,
        /// Install a native plugin without asking.
        #[arg(long, short = 'y')]
        yes: bool,
    },
    /// Write a new plugin project: a working tool, its test, and
    /// plugin.toml with every key explained; prints the steps to build,
    /// try and install it.
    New {
        /// The plugin's name (`a-z 0-9 _ -`); its tool is named after it.
        name: String,
        /// The language to write it in.
        #[arg(long, value_enum, default_value = "rust")]
        lang: new::Lang,
        /// Where to write it (default: ./NAME); must be empty or absent.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// The plugin-api directory of a wharf checkout, which the Rust
        /// project depends on by path (wharf-plugin-api is not on
        /// crates.io). Default: the one this wharf was built from.
        #[arg(long, value_name = "DIR")]
        api_path: Option<PathBuf>,
    },
    /// Build (if its sources are newer), check and call a plugin under
    /// development without installing it: nothing is copied into the
    /// plugins directory or recorded in plugins.lock. Its log lines and
    /// panics are printed on stderr.
    Dev {
        /// The plugin's directory (or its plugin.toml).
        path: PathBuf,
        /// The tool to call (default: the plugin's only tool).
        tool: Option<String>,
        /// The arguments, a JSON object.
        #[arg(long, value_name = "JSON", default_value = "{}")]
        args: String,
        /// Print the whole outcome as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Uninstall a plugin installed with `wharf plugin add`.
    Remove {
        /// The plugin's name, as `wharf plugin list` shows it.
        name: String,
    },
}

pub fn run(command: PluginCommand, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    match command {
        PluginCommand::List { json } => list(global, json),
        PluginCommand::Add {
            path,
            sha256,
            yes,
            force,
        } => {
            let replace = if force {
                add::Replace::IfInstalled
            } else {
                add::Replace::No
            };
            add::add(global, &path, sha256.as_deref(), yes, replace)
        }
        PluginCommand::Upgrade { path, sha256, yes } => add::add(
            global,
            &path,
            sha256.as_deref(),
            yes,
            add::Replace::Required,
        ),
        PluginCommand::Remove { name } => remove::remove(global, &name),
        PluginCommand::New {
            name,
            lang,
            dir,
            api_path,
        } => new::new(&name, lang, dir.as_deref(), api_path.as_deref()),
        PluginCommand::Dev {
            path,
            tool,
            args,
            json,
        } => {
            let dev = crate::plugin_dev::prepare(global, &path)?;
            let tool = crate::plugin_dev::tool_to_call(&dev.tools, tool)?;
            return crate::tool_cmd::call(global, &tool, args, json, Some(dev));
        }
    }
    .map(|()| ExitCode::SUCCESS)
}

fn list(global: &GlobalArgs, json: bool) -> anyhow::Result<()> {
    let host = crate::session::start(
        crate::session::session(global.configure()?).id(crate::session::tool_session_id()),
    )?;
    let mut rows = Vec::new();
    for entry in &host.plugins().entries {
        let manifest = &entry.manifest;
        let grant = host.session().grant(entry);
        let enabled = host
            .plugins()
            .offered(entry, &host.config().features)
            .is_ok();
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
            "loaded": entry.loaded,
            "loaded_from_cache": entry.from_cache,
            "load_ms": entry.load_time.as_secs_f64() * 1000.0,
        }));
    }
    for skipped in &host.plugins().skipped {
        rows.push(json!({
            "name": skipped.name,
            "skipped": skipped.reason,
            "blocked": skipped.blocked,
            "tools": skipped.tools,
        }));
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    for entry in &host.plugins().entries {
        let manifest = &entry.manifest;
        let state = match host.plugins().offered(entry, &host.config().features) {
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
        // A third party's manifest: its text is shown safe.
        println!(
            "{} {} ({}, api {}) — feature {} {state}",
            manifest.name,
            safe(&manifest.version),
            manifest.kind,
            manifest.api,
            entry.feature_key()
        );
        if tools.is_empty() && !entry.loaded {
            println!("  tools: not known until it is loaded");
        } else {
            println!("  tools: {}", safe(&tools.join(", ")));
        }
        let network = &manifest.capabilities.network;
        if !network.is_empty() {
            let hosts: Vec<String> = network.iter().map(ToString::to_string).collect();
            println!("  network requested: {}", safe(&hosts.join(", ")));
        }
        for line in host.session().grant(entry).describe() {
            println!("  {}", safe(&line));
        }
        if !entry.loaded {
            println!("  loaded: no (its feature is off)");
            continue;
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
    for skipped in &host.plugins().skipped {
        println!(
            "{} — skipped: {}",
            safe(&skipped.name),
            safe(&skipped.reason)
        );
        if !skipped.tools.is_empty() {
            println!("  tools: {}", safe(&skipped.tools.join(", ")));
        }
    }
    if let Some(report) = crate::session::compile_report(&host) {
        println!("{report}");
    }
    if host.pooling() {
        println!("runtime: pooling instance allocator");
    } else {
        println!(
            "runtime: on-demand instance allocator (the pooling allocator could not reserve its virtual memory)"
        );
    }
    Ok(())
}
