//! `wharf config show` and `wharf config import-codex`.

mod import_codex;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;
use serde::Serialize;
use wharf_config::requirements::{APPROVAL_POLICIES, McpIdentity, Requirements, SANDBOX_MODES};
use wharf_config::{Config, Project, display_key};
use wharf_sandbox::{PathEnv, PathRules, WritableRoot};

use wharf_host::project_doc::{ProjectDocs, Search};

use crate::GlobalArgs;
use crate::terminal::safe;

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the effective configuration, where each value came from, and
    /// the administrator's requirements.
    Show {
        /// Print JSON instead of TOML-like lines.
        #[arg(long)]
        json: bool,
    },
    /// Write $WHARF_HOME/config.toml from a codex config.toml, comments
    /// kept, printing what was kept, changed and dropped, and why. An
    /// existing file is not replaced without --force.
    ImportCodex(import_codex::ImportArgs),
}

#[derive(Serialize)]
struct Shown<'a> {
    wharf_home: &'a Path,
    cwd: &'a Path,
    project: ShownProject<'a>,
    files: &'a [PathBuf],
    /// The project instructions (`AGENTS.md` files) sessions start with.
    instructions: Vec<ShownDoc<'a>>,
    ignored_files: Vec<IgnoredFile<'a>>,
    values: Vec<ShownValue<'a>>,
    /// `null`: everything is readable.
    readable_roots: Option<&'a [PathBuf]>,
    writable_roots: Vec<ShownRoot<'a>>,
    /// The administrator's requirements; `null`: none.
    requirements: Option<ShownRequirements>,
}

#[derive(Serialize)]
struct ShownRequirements {
    /// The file, or the name of the requirements built into this wharf.
    origin: String,
    /// Each requirement by its key as the file writes it
    /// (`features.hooks`, `mcp_servers.docs.identity.command`).
    rules: BTreeMap<String, toml::Value>,
    /// The configured MCP servers they block, with why.
    blocked_mcp_servers: BTreeMap<String, String>,
}

#[derive(Serialize)]
struct ShownProject<'a> {
    root: &'a Path,
    /// `trusted`, `untrusted`, or `null` when never decided.
    trust: Option<&'static str>,
}

#[derive(Serialize)]
struct ShownDoc<'a> {
    path: &'a Path,
    bytes: usize,
    truncated: bool,
}

#[derive(Serialize)]
struct IgnoredFile<'a> {
    path: &'a Path,
    reason: &'static str,
    message: String,
}

#[derive(Serialize)]
struct ShownValue<'a> {
    key: String,
    value: &'a toml::Value,
    source: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
}

/// A writable root and what stays read-only inside it, as `config show`
/// and `sandbox --check` print them.
#[derive(Serialize)]
pub(crate) struct ShownRoot<'a> {
    pub(crate) root: &'a Path,
    pub(crate) read_only_subpaths: &'a [PathBuf],
}

/// The writable roots of `rules` to show.
pub(crate) fn shown_roots(rules: &PathRules) -> Vec<ShownRoot<'_>> {
    rules
        .writable_roots()
        .iter()
        .map(|root| ShownRoot {
            root: &root.root,
            read_only_subpaths: &root.read_only_subpaths,
        })
        .collect()
}

pub fn run(command: ConfigCommand, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let json = match command {
        ConfigCommand::Show { json } => json,
        ConfigCommand::ImportCodex(args) => return import_codex::run(args, global),
    };
    let configured = global.configure()?;
    let config = &configured.config;
    let rules = PathRules::new(
        &config.sandbox_policy,
        &PathEnv {
            cwd: config.cwd.clone(),
            tmpdir: configured.options.tmpdir.clone(),
            protected: config.protected_paths(),
        },
    );
    let docs = ProjectDocs::load(&Search::of(config));
    for warning in &docs.warnings {
        eprintln!("warning: {}", safe(warning));
    }
    if json {
        print_json(config, &rules, &docs)?;
    } else {
        print_text(config, &rules, &docs);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_json(config: &Config, rules: &PathRules, docs: &ProjectDocs) -> anyhow::Result<()> {
    let shown = Shown {
        wharf_home: &config.wharf_home,
        cwd: &config.cwd,
        project: ShownProject {
            root: &config.project.root,
            trust: config.project.trust.map(|level| level.as_str()),
        },
        files: &config.files,
        instructions: docs
            .files
            .iter()
            .map(|file| ShownDoc {
                path: &file.path,
                bytes: file.bytes,
                truncated: file.truncated,
            })
            .collect(),
        ignored_files: ignored_files(&config.project),
        values: config
            .effective
            .entries()
            .iter()
            .map(|entry| ShownValue {
                key: entry.key.clone(),
                value: entry.value,
                source: entry.source.kind(),
                detail: entry.source.detail(),
            })
            .collect(),
        readable_roots: rules.readable_roots(),
        writable_roots: shown_roots(rules),
        requirements: config
            .requirements
            .origin
            .as_ref()
            .map(|origin| ShownRequirements {
                origin: origin.to_string(),
                rules: requirement_rules(&config.requirements)
                    .into_iter()
                    .collect(),
                blocked_mcp_servers: blocked_mcp_servers(config)
                    .map(|(name, reason)| (name.to_owned(), reason.to_owned()))
                    .collect(),
            }),
    };
    println!("{}", serde_json::to_string_pretty(&shown)?);
    Ok(())
}

fn ignored_files(project: &Project) -> Vec<IgnoredFile<'_>> {
    let Some(file) = &project.file else {
        return Vec::new();
    };
    let Some(ignored) = file.ignored else {
        return Vec::new();
    };
    vec![IgnoredFile {
        path: &file.path,
        reason: ignored.as_str(),
        message: ignored.reason(&project.root),
    }]
}

fn print_text(config: &Config, rules: &PathRules, docs: &ProjectDocs) {
    println!("# wharf home: {}", config.wharf_home.display());
    println!("# working directory: {}", config.cwd.display());
    let trust = match config.project.trust {
        Some(level) => level.as_str(),
        None => "not trusted yet",
    };
    println!("# project: {} ({trust})", config.project.root.display());
    if config.files.is_empty() {
        println!("# files read: none");
    }
    for file in &config.files {
        println!("# file read: {}", file.display());
    }
    for ignored in ignored_files(&config.project) {
        println!(
            "# file ignored: {}: {}",
            ignored.path.display(),
            ignored.message
        );
    }
    if docs.files.is_empty() {
        println!("# instructions: none");
    }
    for file in &docs.files {
        let cut = if file.truncated { ", cut" } else { "" };
        println!(
            "# instructions: {} ({} bytes{cut})",
            file.path.display(),
            file.bytes
        );
    }
    match &config.requirements.origin {
        None => println!("# requirements: none"),
        Some(origin) => {
            println!("# requirements: {origin}");
            for (key, value) in requirement_rules(&config.requirements) {
                println!("#   {key} = {value}");
            }
            for (_, reason) in blocked_mcp_servers(config) {
                println!("# {}", safe(reason));
            }
        }
    }
    let entries = config.effective.entries();
    let lines: Vec<String> = entries
        .iter()
        .map(|entry| format!("{} = {}", entry.key, entry.value))
        .collect();
    let width = lines.iter().map(String::len).max().unwrap_or(0);
    for (line, entry) in lines.iter().zip(&entries) {
        println!("{line:width$}  # {}", entry.source);
    }
    match rules.readable_roots() {
        None => println!("# readable: everything"),
        Some(roots) => {
            println!("# readable roots:");
            for root in roots {
                println!("#   {}", root.display());
            }
        }
    }
    if rules.writable_roots().is_empty() {
        println!("# writable roots: none");
    } else {
        println!("# writable roots:");
        for root in rules.writable_roots() {
            println!("#   {}", shown_root(root));
        }
    }
}

/// The configured MCP servers the requirements block, and why.
fn blocked_mcp_servers(config: &Config) -> impl Iterator<Item = (&str, &str)> {
    config.mcp_servers.values().filter_map(|server| {
        let reason = server.blocked.as_deref()?;
        Some((server.name.as_str(), reason))
    })
}

/// Every requirement in force, by its key as the file writes it.
fn requirement_rules(requirements: &Requirements) -> Vec<(String, toml::Value)> {
    let string = |text: &str| toml::Value::String(text.to_owned());
    let mut rules = Vec::new();
    if let Some(allowed) = &requirements.allowed_approval_policies {
        let names = allowed.iter().map(|policy| string(policy.as_str()));
        rules.push((
            APPROVAL_POLICIES.to_owned(),
            toml::Value::Array(names.collect()),
        ));
    }
    if let Some(allowed) = &requirements.allowed_sandbox_modes {
        let names = allowed.iter().map(|mode| string(mode.as_str()));
        rules.push((
            SANDBOX_MODES.to_owned(),
            toml::Value::Array(names.collect()),
        ));
    }
    rules.push((
        "allow_native_plugins".to_owned(),
        toml::Value::Boolean(requirements.allow_native_plugins),
    ));
    for (key, pinned) in &requirements.features {
        let key = display_key(&["features".to_owned(), key.clone()]);
        rules.push((key, toml::Value::Boolean(*pinned)));
    }
    if let Some(servers) = &requirements.mcp_servers {
        if servers.is_empty() {
            rules.push((
                "mcp_servers".to_owned(),
                toml::Value::Table(toml::Table::new()),
            ));
        }
        for (name, identity) in servers {
            let (field, value) = match identity {
                McpIdentity::Command(command) => ("command", command),
                McpIdentity::Url(url) => ("url", url),
            };
            let key = ["mcp_servers", name, "identity", field].map(str::to_owned);
            rules.push((display_key(&key), string(value)));
        }
    }
    if let Some(plugins) = &requirements.plugins {
        if plugins.is_empty() {
            rules.push(("plugins".to_owned(), toml::Value::Table(toml::Table::new())));
        }
        for (name, pin) in plugins {
            let key = ["plugins", name, "sha256"].map(str::to_owned);
            rules.push((display_key(&key), string(&pin.sha256)));
        }
    }
    if let Some(otel) = &requirements.otel
        && let Ok(otel) = toml::Value::try_from(otel)
    {
        rules.push(("otel".to_owned(), otel));
    }
    rules
}

/// `/work (read-only inside: /work/.git, /work/.wharf)`.
fn shown_root(root: &WritableRoot) -> String {
    if root.read_only_subpaths.is_empty() {
        return root.root.display().to_string();
    }
    let inside: Vec<String> = root
        .read_only_subpaths
        .iter()
        .map(|path| path.display().to_string())
        .collect();
    format!(
        "{} (read-only inside: {})",
        root.root.display(),
        inside.join(", ")
    )
}
