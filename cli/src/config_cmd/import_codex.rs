//! `wharf config import-codex`: a codex `config.toml` rewritten as wharf's
//! own, comments kept, with a report of what happened to every key.
//!
//! What wharf accepts is decided by wharf's own loader, never by a list
//! kept here: the codex file is checked against wharf's config types, each
//! key they do not know is renamed where wharf names the setting
//! differently ([`RENAMED`]) or dropped with the reason ([`REASONS`]), every
//! feature key against the feature registry, and the result is loaded as a
//! whole before anything is written.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use clap::Args;
use toml_edit::{DocumentMut, Item, Key, Table, TableLike};
use wharf_config::features::FeatureRegistry;
use wharf_config::layer::{CheckError, KeyPath, check};
use wharf_config::toml_types::ConfigToml;
use wharf_config::{CONFIG_FILE, Config, display_key};

use crate::GlobalArgs;
use crate::terminal::safe;

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The codex file to read. Default: `$CODEX_HOME/config.toml`, else
    /// `~/.codex/config.toml`.
    #[arg(long, value_name = "PATH")]
    from: Option<PathBuf>,
    /// Replace an existing `$WHARF_HOME/config.toml` (the old file is kept
    /// as `config.toml.bak`). Without it an existing file is left alone and
    /// nothing is written: the two files are not merged.
    #[arg(long)]
    force: bool,
}

/// Codex keys wharf has under another name: (codex key, wharf key, why).
/// Keys are relative to the file's top level or to a profile.
const RENAMED: &[(&str, &str, &str)] = &[
    ("model_personality", "personality", "codex's older name"),
    (
        "experimental_use_freeform_apply_patch",
        "features.apply_patch_freeform",
        "wharf turns tools on and off with feature flags",
    ),
    (
        "experimental_use_unified_exec_tool",
        "features.unified_exec",
        "wharf turns tools on and off with feature flags",
    ),
    (
        "include_apply_patch_tool",
        "features.apply_patch",
        "wharf turns tools on and off with feature flags",
    ),
    (
        "include_plan_tool",
        "features.plan_tool",
        "wharf turns tools on and off with feature flags",
    ),
    (
        "include_view_image_tool",
        "features.view_image",
        "wharf turns tools on and off with feature flags",
    ),
    (
        "tools_view_image",
        "features.view_image",
        "wharf turns tools on and off with feature flags",
    ),
    (
        "tools.view_image",
        "features.view_image",
        "wharf turns tools on and off with feature flags",
    ),
    ("tools_web_search", "tools.web_search", "codex's older name"),
    (
        "tools.web_search_request",
        "tools.web_search",
        "codex's older name",
    ),
    (
        "features.web_search_request",
        "tools.web_search",
        "the provider's hosted web search is `tools.web_search` in wharf",
    ),
];

/// Why wharf has no equivalent of a codex key (relative to the top level or
/// a profile; a table's entry covers its keys).
const REASONS: &[(&str, &str)] = &[
    (
        "model_context_window",
        "wharf takes each model's context window from its model catalog",
    ),
    (
        "model_max_output_tokens",
        "wharf does not cap the model's output tokens",
    ),
    (
        "model_supports_reasoning_summaries",
        "wharf's model catalog says which models summarize their reasoning",
    ),
    (
        "model_reasoning_summary_format",
        "wharf's model catalog says how each model summarizes its reasoning",
    ),
    ("review_model", "wharf has no /review command"),
    (
        "instructions",
        "wharf takes instructions from AGENTS.md files only: move them to $WHARF_HOME/AGENTS.md",
    ),
    (
        "developer_instructions",
        "wharf takes instructions from AGENTS.md files only: move them to $WHARF_HOME/AGENTS.md",
    ),
    (
        "experimental_instructions_file",
        "wharf takes instructions from AGENTS.md files only: move them to $WHARF_HOME/AGENTS.md",
    ),
    (
        "model_instructions_file",
        "wharf takes instructions from AGENTS.md files only: move them to $WHARF_HOME/AGENTS.md",
    ),
    ("compact_prompt", "wharf compacts with its own prompt"),
    (
        "experimental_compact_prompt_file",
        "wharf compacts with its own prompt",
    ),
    (
        "chatgpt_base_url",
        "wharf has no ChatGPT sign-in: providers read API keys from the environment (`env_key`)",
    ),
    (
        "cli_auth_credentials_store",
        "wharf has no ChatGPT sign-in: providers read API keys from the environment (`env_key`)",
    ),
    (
        "forced_chatgpt_workspace_id",
        "wharf has no ChatGPT sign-in: providers read API keys from the environment (`env_key`)",
    ),
    (
        "forced_login_method",
        "wharf has no ChatGPT sign-in: providers read API keys from the environment (`env_key`)",
    ),
    ("notice", "wharf shows none of codex's in-product notices"),
    (
        "windows_wsl_setup_acknowledged",
        "wharf runs on Linux, with no Windows setup",
    ),
    (
        "shell_environment_policy.experimental_use_profile",
        "wharf never runs commands through your shell's profile",
    ),
    (
        "disable_paste_burst",
        "wharf's interactive session reads pastes as pastes (bracketed paste)",
    ),
    (
        "check_for_update_on_startup",
        "wharf does not look for updates",
    ),
    (
        "features.rmcp_client",
        "wharf always talks to MCP servers through its own client (feature `mcp_client`)",
    ),
    ("features.undo", "wharf has no /undo"),
    ("features.ghost_commit", "wharf has no /undo"),
    ("features.skills", "wharf has no skills"),
    (
        "features.streamable_shell",
        "wharf's long-lived commands are the `unified_exec` feature",
    ),
];

/// What happened to one key.
enum Outcome {
    Kept,
    Changed { to: String, why: &'static str },
    Dropped { why: String },
}

struct Report {
    lines: Vec<(String, Outcome)>,
}

pub(super) fn run(args: ImportArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let options = global.options()?;
    let from = match args.from {
        Some(path) => path,
        None => default_codex_config(options.home_dir.as_deref())?,
    };
    let text = std::fs::read_to_string(&from)
        .with_context(|| format!("cannot read the codex configuration {}", from.display()))?;
    let mut doc: DocumentMut = text
        .parse()
        .with_context(|| format!("{} is not valid TOML", from.display()))?;
    let registry = crate::first_party::feature_registry()?;
    let mut report = Report { lines: Vec::new() };
    let original = leaves(&doc);
    translate(&mut doc, &registry, &mut report)
        .with_context(|| format!("cannot import {}", from.display()))?;
    for key in leaves(&doc) {
        if original.contains(&key) {
            report.lines.push((display_key(&key), Outcome::Kept));
        }
    }
    let header = format!(
        "# Imported from {} by `wharf config import-codex`.\n",
        from.display()
    );
    let text = format!("{header}{doc}");

    let dest = options.user_config_path();
    let notes = load_as_wharf(&options, &registry, &text, &dest)?;
    if dest.exists() && !args.force {
        bail!(
            "{} exists; nothing was written (`--force` replaces it, keeping the old file as \
             {CONFIG_FILE}.bak)",
            dest.display()
        );
    }
    std::fs::create_dir_all(&options.wharf_home)
        .with_context(|| format!("cannot create {}", options.wharf_home.display()))?;
    if dest.exists() {
        let backup = dest.with_extension("toml.bak");
        std::fs::rename(&dest, &backup)
            .with_context(|| format!("cannot move {} aside", dest.display()))?;
        println!("kept the old file as {}", backup.display());
    }
    std::fs::write(&dest, &text).with_context(|| format!("cannot write {}", dest.display()))?;
    print_report(&report, &notes);
    println!("wrote {} from {}", dest.display(), from.display());
    Ok(ExitCode::SUCCESS)
}

/// `$CODEX_HOME/config.toml`, else `~/.codex/config.toml`.
fn default_codex_config(home: Option<&Path>) -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::var_os("CODEX_HOME").filter(|dir| !dir.is_empty()) {
        return Ok(PathBuf::from(dir).join(CONFIG_FILE));
    }
    let home = home.context("no home directory: say which file with --from PATH")?;
    Ok(home.join(".codex").join(CONFIG_FILE))
}

/// Renames and drops what wharf does not take as codex wrote it, until
/// wharf's loader accepts every key left.
fn translate(
    doc: &mut DocumentMut,
    registry: &FeatureRegistry,
    report: &mut Report,
) -> anyhow::Result<()> {
    // Each round removes or moves at least one key; a file has finitely many.
    for _ in 0..1000 {
        let table: toml::Table = toml::from_str(&doc.to_string())?;
        let unknown = match check::<ConfigToml, _>(toml::Value::Table(table)) {
            Ok((_, unknown)) => unknown,
            Err(CheckError { key, message, .. }) => {
                if key.is_empty() {
                    bail!("{message}");
                }
                let why = format!("wharf cannot take this value: {message}");
                drop_key(doc, &key, why, report)?;
                continue;
            }
        };
        let unknown_features = unknown_features(doc, registry);
        if unknown.is_empty() && unknown_features.is_empty() {
            return Ok(());
        }
        for key in unknown.into_iter().chain(unknown_features) {
            apply_rule(doc, &key, report)?;
        }
    }
    bail!("the file keeps changing as it is translated (a bug of wharf)")
}

/// The keys of `[features]` (top level and profiles) wharf's registry does
/// not know.
fn unknown_features(doc: &DocumentMut, registry: &FeatureRegistry) -> Vec<KeyPath> {
    let mut prefixes: Vec<KeyPath> = vec![Vec::new()];
    if let Some(profiles) = doc.get("profiles").and_then(Item::as_table_like) {
        for (name, _) in profiles.iter() {
            prefixes.push(vec!["profiles".to_owned(), name.to_owned()]);
        }
    }
    let mut unknown = Vec::new();
    for prefix in prefixes {
        let mut path = prefix.clone();
        path.push("features".to_owned());
        let Some(features) = table_at(doc.as_table(), &path) else {
            continue;
        };
        for (name, _) in features.iter() {
            if registry.canonical(name).is_none() {
                let mut key = path.clone();
                key.push(name.to_owned());
                unknown.push(key);
            }
        }
    }
    unknown
}

/// Renames or drops `key`, which wharf does not take.
fn apply_rule(doc: &mut DocumentMut, key: &KeyPath, report: &mut Report) -> anyhow::Result<()> {
    let (prefix, relative) = split_profile(key);
    let relative_name = display_key(relative);
    if let Some((_, to, why)) = RENAMED.iter().find(|(from, ..)| *from == relative_name) {
        let mut target = prefix.to_vec();
        target.extend(to.split('.').map(str::to_owned));
        if table_at(doc.as_table(), &target[..target.len() - 1])
            .is_some_and(|table| table.contains_key(&target[target.len() - 1]))
        {
            let why = format!("`{}` is set too, and wins", display_key(&target));
            return drop_key(doc, key, why, report);
        }
        let (name, mut item) =
            remove_at(doc, key).with_context(|| format!("cannot move `{}`", display_key(key)))?;
        // A feature written as a table (`[features.NAME] enabled = …`)
        // that wharf keeps outside `[features]` takes its `enabled`.
        if relative.first().is_some_and(|table| table == "features")
            && !to.starts_with("features.")
            && let Some(enabled) = item
                .as_table_like()
                .and_then(|table| table.get("enabled"))
                .cloned()
        {
            item = enabled;
        }
        insert_at(doc, &target, &name, item)?;
        report.lines.push((
            display_key(key),
            Outcome::Changed {
                to: display_key(&target),
                why,
            },
        ));
        return Ok(());
    }
    let why = reason(relative);
    drop_key(doc, key, why, report)
}

/// `profiles.NAME.rest` split into `profiles.NAME` and `rest`.
fn split_profile(key: &[String]) -> (&[String], &[String]) {
    match key {
        [profiles, _, rest @ ..] if profiles == "profiles" && !rest.is_empty() => key.split_at(2),
        _ => key.split_at(0),
    }
}

/// Why wharf drops `key` (relative to the top level or a profile).
fn reason(key: &[String]) -> String {
    for len in (1..=key.len()).rev() {
        let prefix = display_key(&key[..len]);
        if let Some((_, why)) = REASONS.iter().find(|(name, _)| *name == prefix) {
            return (*why).to_owned();
        }
    }
    match key.first().map(String::as_str) {
        Some("features") => {
            "wharf has no such feature (`wharf features list` shows the keys)".to_owned()
        }
        Some("mcp_servers") => "wharf's MCP servers have no such setting".to_owned(),
        Some("model_providers") => "wharf's model providers have no such setting".to_owned(),
        _ => "wharf has no such setting".to_owned(),
    }
}

fn drop_key(
    doc: &mut DocumentMut,
    key: &KeyPath,
    why: String,
    report: &mut Report,
) -> anyhow::Result<()> {
    remove_at(doc, key).with_context(|| format!("cannot remove `{}`", display_key(key)))?;
    report
        .lines
        .push((display_key(key), Outcome::Dropped { why }));
    Ok(())
}

/// The table (or inline table) at `path`; array-of-tables entries by index.
fn table_at<'a>(table: &'a dyn TableLike, path: &[String]) -> Option<&'a dyn TableLike> {
    let Some((first, rest)) = path.split_first() else {
        return Some(table);
    };
    match table.get(first)? {
        Item::ArrayOfTables(array) => {
            let (index, rest) = rest.split_first()?;
            table_at(array.get(index.parse().ok()?)?, rest)
        }
        item => table_at(item.as_table_like()?, rest),
    }
}

fn table_at_mut<'a>(
    table: &'a mut dyn TableLike,
    path: &[String],
) -> Option<&'a mut dyn TableLike> {
    let Some((first, rest)) = path.split_first() else {
        return Some(table);
    };
    match table.get_mut(first)? {
        Item::ArrayOfTables(array) => {
            let (index, rest) = rest.split_first()?;
            table_at_mut(array.get_mut(index.parse().ok()?)?, rest)
        }
        item => table_at_mut(item.as_table_like_mut()?, rest),
    }
}

/// Removes `key`, and the tables it leaves empty; returns its name (with
/// the comments above it) and its item.
fn remove_at(doc: &mut DocumentMut, key: &[String]) -> Option<(Key, Item)> {
    let (last, parent) = key.split_last()?;
    let table = table_at_mut(doc.as_table_mut(), parent)?;
    let name = table.key(last)?.clone();
    let item = table.remove(last)?;
    if table.is_empty() && !parent.is_empty() {
        remove_at(doc, parent);
    }
    Some((name, item))
}

/// Inserts `item` at `key` under the new name, creating the tables on the
/// way, with the comments `name` carried.
fn insert_at(doc: &mut DocumentMut, key: &[String], name: &Key, item: Item) -> anyhow::Result<()> {
    let Some((last, parents)) = key.split_last() else {
        bail!("an empty key");
    };
    let mut table: &mut dyn TableLike = doc.as_table_mut();
    for part in parents {
        let entry = table
            .entry(part)
            .or_insert_with(|| Item::Table(Table::new()));
        table = entry
            .as_table_like_mut()
            .with_context(|| format!("`{part}` is not a table"))?;
    }
    let key = Key::new(last.as_str()).with_leaf_decor(name.leaf_decor().clone());
    table.entry_format(&key).or_insert(item);
    Ok(())
}

/// Every key path to a value that is not a table.
fn leaves(doc: &DocumentMut) -> Vec<KeyPath> {
    fn walk(table: &dyn TableLike, prefix: &mut KeyPath, out: &mut Vec<KeyPath>) {
        for (key, item) in table.iter() {
            prefix.push(key.to_owned());
            match item.as_table_like() {
                Some(inner) => walk(inner, prefix, out),
                None => out.push(prefix.clone()),
            }
            prefix.pop();
        }
    }
    let mut out = Vec::new();
    walk(doc.as_table(), &mut Vec::new(), &mut out);
    out
}

/// Loads `text` as wharf would load it from `dest` (alone: no project, no
/// `-c`), returning its warnings with the file named as `dest`.
fn load_as_wharf(
    options: &wharf_config::ConfigOptions,
    registry: &FeatureRegistry,
    text: &str,
    dest: &Path,
) -> anyhow::Result<Vec<String>> {
    let staging = tempfile::tempdir().context("cannot create a temporary directory")?;
    let home = staging.path();
    std::fs::write(home.join(CONFIG_FILE), text)?;
    let mut trial = options.clone();
    trial.wharf_home = home.to_path_buf();
    trial.cwd = home.to_path_buf();
    trial.profile = None;
    trial.overrides.clear();
    trial.enable.clear();
    trial.disable.clear();
    trial.model = None;
    trial.sandbox_mode = None;
    trial.approval_policy = None;
    let staged = home.join(CONFIG_FILE).display().to_string();
    let config = Config::load(&trial, registry).map_err(|err| {
        let message = err
            .to_string()
            .replace(&staged, &dest.display().to_string());
        anyhow::anyhow!(
            "the translated file does not load in wharf ({message}); nothing was written"
        )
    })?;
    Ok(config
        .warnings
        .iter()
        .map(|warning| warning.replace(&staged, &dest.display().to_string()))
        .collect())
}

fn print_report(report: &Report, notes: &[String]) {
    let mut kept = Vec::new();
    let mut changed = Vec::new();
    let mut dropped = Vec::new();
    for (key, outcome) in &report.lines {
        let key = safe(key);
        match outcome {
            Outcome::Kept => kept.push(format!("kept     {key}")),
            Outcome::Changed { to, why } => {
                changed.push(format!("changed  {key} → {} ({why})", safe(to)));
            }
            Outcome::Dropped { why } => dropped.push(format!("dropped  {key} ({})", safe(why))),
        }
    }
    let counts = format!(
        "{} kept, {} changed, {} dropped",
        kept.len(),
        changed.len(),
        dropped.len()
    );
    for group in [&mut kept, &mut changed, &mut dropped] {
        group.sort();
        for line in group.iter() {
            println!("{line}");
        }
    }
    for note in notes {
        println!("note     {}", safe(note));
    }
    println!("{counts}");
}
