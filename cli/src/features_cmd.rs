//! `wharf features list|enable|disable`.

use std::process::ExitCode;

use clap::Subcommand;
use serde::Serialize;
use wharf_config::features::Stage;
use wharf_config::set_feature;
use wharf_runtime::registry::Discovery;

use crate::GlobalArgs;
use crate::build_info::embedded;
use crate::session::plugins_dir;
use crate::terminal::safe;

#[derive(Debug, Subcommand)]
pub enum FeaturesCommand {
    /// Show every feature flag: its stage, whether it is on, and which layer
    /// decided (`requirements` for a feature the administrator pins).
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Turn a feature on in config.toml (in `[profiles.NAME.features]` with --profile).
    Enable {
        /// The feature key, e.g. `view_image`.
        key: String,
    },
    /// Turn a feature off in config.toml (in `[profiles.NAME.features]` with --profile).
    Disable {
        /// The feature key, e.g. `unified_exec`.
        key: String,
    },
}

#[derive(Serialize)]
struct Row<'a> {
    key: &'a str,
    stage: Stage,
    enabled: bool,
    default_enabled: bool,
    source: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
    description: &'a str,
    /// Its installed plugins the requirements keep from loading, and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    blocked: Vec<Blocked<'a>>,
}

#[derive(Serialize)]
struct Blocked<'a> {
    plugin: &'a str,
    reason: &'a str,
}

pub fn run(command: FeaturesCommand, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    match command {
        FeaturesCommand::List { json } => list(global, json),
        FeaturesCommand::Enable { key } => set(global, &key, true),
        FeaturesCommand::Disable { key } => set(global, &key, false),
    }
    .map(|()| ExitCode::SUCCESS)
}

fn list(global: &GlobalArgs, json: bool) -> anyhow::Result<()> {
    let configured = global.configure()?;
    let (registry, config) = (&configured.registry, &configured.config);
    let skipped = &configured.discovery.skipped;
    let rows: Vec<Row<'_>> = registry
        .specs()
        .filter_map(|spec| {
            let state = config.features.state(&spec.key)?;
            Some(Row {
                key: &spec.key,
                stage: spec.stage,
                enabled: state.enabled,
                default_enabled: spec.default_enabled,
                source: state.source.kind(),
                detail: state.source.detail(),
                description: &spec.description,
                blocked: skipped
                    .iter()
                    .filter(|s| s.blocked && s.feature.as_deref() == Some(spec.key.as_str()))
                    .map(|s| Blocked {
                        plugin: &s.name,
                        reason: &s.reason,
                    })
                    .collect(),
            })
        })
        .collect();
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    let key_width = rows
        .iter()
        .map(|row| row.key.len())
        .max()
        .unwrap_or(0)
        .max(3);
    println!(
        "{:key_width$}  {:17}  {:5}  SOURCE",
        "KEY", "STAGE", "STATE"
    );
    for row in &rows {
        let state = if row.enabled { "on" } else { "off" };
        let source = match &row.detail {
            Some(detail) => format!("{} ({detail})", row.source),
            None => row.source.to_owned(),
        };
        println!(
            "{:key_width$}  {:17}  {state:5}  {source}",
            row.key,
            row.stage.as_str()
        );
        // As `wharf plugin list` says it; a plugin's name is its author's.
        for blocked in &row.blocked {
            println!(
                "  plugin {} skipped: {}",
                safe(blocked.plugin),
                safe(blocked.reason)
            );
        }
    }
    Ok(())
}

fn set(global: &GlobalArgs, key: &str, enabled: bool) -> anyhow::Result<()> {
    let options = global.options()?;
    // Plugins' own keys count too; their manifests are all that is read.
    let mut registry = crate::first_party::feature_registry()?;
    Discovery::find(embedded(), &plugins_dir(&options)).register_features(&mut registry);
    let registry = &registry;
    // A pinned feature cannot be changed; the file is left as it is.
    options
        .requirements
        .load()?
        .check_feature(registry, key, enabled)?;
    let path = options.user_config_path();
    let profile = global.profile.as_deref();
    set_feature(&path, profile, registry, key, enabled)?;
    let spec = registry.require(key)?;
    let verb = if enabled { "enabled" } else { "disabled" };
    let table = match profile {
        Some(profile) => format!("[profiles.{profile}.features]"),
        None => "[features]".to_owned(),
    };
    println!("{verb} {} in {table} of {}", spec.key, path.display());
    if enabled && spec.stage == Stage::UnderDevelopment {
        eprintln!(
            "warning: feature `{}` is under development and may change or break",
            spec.key
        );
    }
    Ok(())
}
