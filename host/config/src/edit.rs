//! Edits of the user's `config.toml` that keep its comments and formatting.

use std::io;
use std::path::Path;

use toml_edit::{DocumentMut, Item, Table};

use super::mcp::McpServerConfig;
use super::source::{Location, Source};
use super::toml_types::{McpServerToml, TrustLevel};
use super::trust::{TrustTarget, TrustedFile, same_root};
use super::{ConfigError, ConfigOptions, display_key};
use crate::features::FeatureRegistry;

/// Sets `[features] KEY = enabled` (or `[profiles.PROFILE.features]`) in the
/// file at `path`, creating the file and the tables it needs. `key` may be
/// an alias: the canonical key is written and the alias entry removed.
pub fn set_feature(
    path: &Path,
    profile: Option<&str>,
    registry: &FeatureRegistry,
    key: &str,
    enabled: bool,
) -> Result<(), ConfigError> {
    let spec = registry.require(key)?;
    let (text, mut doc) = read_document(path)?;

    let mut key_path = Vec::new();
    if let Some(profile) = profile {
        key_path.extend(["profiles".to_owned(), profile.to_owned()]);
    }
    key_path.push("features".to_owned());
    let features = table_at(doc.as_table_mut(), &key_path).map_err(|bad| ConfigError::Invalid {
        at: Location::of_offset(path, &text, 0),
        key: display_key(&bad),
        message: "expected a table; fix or remove it before enabling features".to_owned(),
    })?;
    set_bool(
        features,
        &spec.key,
        &registry_aliases(registry, &spec.key),
        enabled,
    );
    write_document(path, &doc)
}

/// Writes `[mcp_servers.NAME]` in the file at `path` (creating the file),
/// after checking the entry as loading the config would. An existing entry
/// of that name is replaced, as `codex mcp add` does, keeping its place and
/// the comments above it. Returns whether one was replaced.
pub fn add_mcp_server(
    path: &Path,
    name: &str,
    server: &McpServerToml,
) -> Result<bool, ConfigError> {
    let key = vec!["mcp_servers".to_owned(), name.to_owned()];
    McpServerConfig::from_toml(name, server, &ConfigOptions::default(), Source::Default).map_err(
        |err| ConfigError::Value {
            key: display_key(&key),
            message: err.message,
        },
    )?;
    let entry = entry_values(server)?;
    let (text, mut doc) = read_document(path)?;
    let not_a_table = |bad: Vec<String>| ConfigError::Invalid {
        at: Location::of_offset(path, &text, 0),
        key: display_key(&bad),
        message: "expected a table; fix or remove it before adding MCP servers".to_owned(),
    };
    let root = doc.as_table_mut();
    if !root.contains_key("mcp_servers") {
        // Implicit, so that the file reads `[mcp_servers.NAME]` alone.
        let mut servers = Table::new();
        servers.set_implicit(true);
        root.insert("mcp_servers", Item::Table(servers));
    }
    let servers = root
        .get_mut("mcp_servers")
        .and_then(Item::as_table_like_mut)
        .ok_or_else(|| not_a_table(vec!["mcp_servers".to_owned()]))?;
    let replaced = match servers.get_mut(name) {
        None => {
            let mut table = Table::new();
            for (field, value) in entry {
                table.insert(&field, Item::Value(value));
            }
            servers.insert(name, Item::Table(table));
            false
        }
        Some(existing) => {
            let table = existing
                .as_table_like_mut()
                .ok_or_else(|| not_a_table(key.clone()))?;
            table.clear();
            for (field, value) in entry {
                table.insert(&field, Item::Value(value));
            }
            true
        }
    };
    write_document(path, &doc)?;
    Ok(replaced)
}

/// Removes `[mcp_servers.NAME]` from the file at `path`, keeping everything
/// else as written. Returns whether the file had that entry (a missing file
/// has none).
pub fn remove_mcp_server(path: &Path, name: &str) -> Result<bool, ConfigError> {
    if !path.exists() {
        return Ok(false);
    }
    let (text, mut doc) = read_document(path)?;
    let removed = doc
        .get_mut("mcp_servers")
        .and_then(Item::as_table_like_mut)
        .and_then(|servers| servers.remove(name))
        .is_some();
    if !removed {
        return Ok(false);
    }
    // The blank line that separated the entry from the next table now
    // starts the next one's decor; at the top of the file it is noise.
    let mut edited = doc.to_string();
    if !text.starts_with('\n') {
        edited = edited.trim_start_matches('\n').to_owned();
    }
    write_text(path, &edited)?;
    Ok(true)
}

/// The names of the `[mcp_servers]` entries written in the file at `path`
/// (none when it is missing), without checking them: what `wharf mcp
/// remove` can remove even when an entry is broken.
pub fn mcp_server_names(path: &Path) -> Result<Vec<String>, ConfigError> {
    if !path.exists() {
        return Ok(Vec::new());
    }
    let (_, doc) = read_document(path)?;
    Ok(doc
        .get("mcp_servers")
        .and_then(Item::as_table_like)
        .map(|servers| servers.iter().map(|(name, _)| name.to_owned()).collect())
        .unwrap_or_default())
}

/// Records the user's decision about the project at `root` in the file at
/// `path` (creating it): `[projects."ROOT"] trust_level = …`, with
/// `config_sha256` set to the hash of the project file that was trusted, or
/// removed when there is none (an untrusted project, or one without a
/// file). An entry whose key names the same directory is updated in place,
/// keeping its comments.
pub fn set_project_trust(
    path: &Path,
    root: &Path,
    level: TrustLevel,
    config_sha256: Option<&str>,
) -> Result<(), ConfigError> {
    record_trust(path, root, level, [config_sha256, None])
}

/// Records that the user trusts `target` (what [`crate::trust::trust_target`]
/// found and showed), with the hash of each of its files: `config_sha256`
/// for `.wharf/config.toml`, `codex_config_sha256` for
/// `.codex/config.toml`.
pub fn trust_project(path: &Path, target: &TrustTarget) -> Result<(), ConfigError> {
    let sha256 = |file: &Option<TrustedFile>| file.as_ref().map(|file| file.sha256.clone());
    let (wharf, codex) = (sha256(&target.file), sha256(&target.codex_file));
    record_trust(
        path,
        &target.root,
        TrustLevel::Trusted,
        [wharf.as_deref(), codex.as_deref()],
    )
}

/// [`set_project_trust`] with the hashes of both project files.
fn record_trust(
    path: &Path,
    root: &Path,
    level: TrustLevel,
    sha256: [Option<&str>; 2],
) -> Result<(), ConfigError> {
    let Some(root_key) = root.to_str() else {
        return Err(ConfigError::Value {
            key: "projects".to_owned(),
            message: format!(
                "{} is not valid UTF-8, which a TOML key must be (rename the directory)",
                root.display()
            ),
        });
    };
    let (text, mut doc) = read_document(path)?;
    let not_a_table = |bad: Vec<String>| ConfigError::Invalid {
        at: Location::of_offset(path, &text, 0),
        key: display_key(&bad),
        message: "expected a table; fix or remove it before changing trust".to_owned(),
    };
    let root_table = doc.as_table_mut();
    if !root_table.contains_key("projects") {
        // Implicit, so that the file reads `[projects."/path"]` alone.
        let mut projects = Table::new();
        projects.set_implicit(true);
        root_table.insert("projects", Item::Table(projects));
    }
    let projects = root_table
        .get_mut("projects")
        .and_then(Item::as_table_like_mut)
        .ok_or_else(|| not_a_table(vec!["projects".to_owned()]))?;
    let key = projects
        .iter()
        .map(|(key, _)| key.to_owned())
        .find(|key| key == root_key || same_root(key, root))
        .unwrap_or_else(|| root_key.to_owned());
    if projects.get(&key).is_none() {
        projects.insert(&key, Item::Table(Table::new()));
    }
    let entry = projects
        .get_mut(&key)
        .and_then(Item::as_table_like_mut)
        .ok_or_else(|| not_a_table(vec!["projects".to_owned(), key.clone()]))?;
    set_string(entry, "trust_level", level.as_str());
    for (key, sha256) in ["config_sha256", "codex_config_sha256"]
        .into_iter()
        .zip(sha256)
    {
        match sha256 {
            Some(sha256) => set_string(entry, key, sha256),
            None => {
                entry.remove(key);
            }
        }
    }
    write_document(path, &doc)
}

/// Sets `key = value`, keeping the comments around an existing value.
fn set_string(table: &mut dyn toml_edit::TableLike, key: &str, value: &str) {
    if let Some(existing) = table.get_mut(key).and_then(Item::as_value_mut) {
        let decor = existing.decor().clone();
        *existing = toml_edit::Value::from(value);
        *existing.decor_mut() = decor;
        return;
    }
    table.insert(key, toml_edit::value(value));
}

/// `server`'s keys as TOML values in the order of [`McpServerToml`]'s
/// fields, tables inline (`env = { K = "V" }`), so that the entry is one
/// block under its header.
fn entry_values(server: &McpServerToml) -> Result<Vec<(String, toml_edit::Value)>, ConfigError> {
    let serialized = toml::to_string(server).map_err(|err| ConfigError::Value {
        key: "mcp_servers".to_owned(),
        message: format!("cannot write the entry: {err}"),
    })?;
    let doc: DocumentMut =
        serialized
            .parse()
            .map_err(|err: toml_edit::TomlError| ConfigError::Value {
                key: "mcp_servers".to_owned(),
                message: format!("cannot write the entry: {}", err.message()),
            })?;
    Ok(doc
        .as_table()
        .iter()
        .filter_map(|(field, item)| {
            let mut value = item.clone().into_value().ok()?;
            value.decor_mut().clear();
            Some((field.to_owned(), value))
        })
        .collect())
}

/// The text of the file at `path` (empty when missing) and its document.
fn read_document(path: &Path) -> Result<(String, DocumentMut), ConfigError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == io::ErrorKind::NotFound => String::new(),
        Err(source) => {
            return Err(ConfigError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let doc: DocumentMut = text.parse().map_err(|err: toml_edit::TomlError| {
        let offset = err.span().map_or(0, |span| span.start);
        ConfigError::Syntax {
            at: Location::of_offset(path, &text, offset),
            message: err.message().trim_end().to_owned(),
        }
    })?;
    Ok((text, doc))
}

/// Writes `doc` to `path`, creating its directory.
fn write_document(path: &Path, doc: &DocumentMut) -> Result<(), ConfigError> {
    write_text(path, &doc.to_string())
}

fn write_text(path: &Path, text: &str) -> Result<(), ConfigError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|source| ConfigError::Write {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    std::fs::write(path, text).map_err(|source| ConfigError::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// Sets `key = enabled`, keeping the comments around an existing entry for
/// `key` or, failing that, for one of its `aliases` (which are removed).
fn set_bool(table: &mut dyn toml_edit::TableLike, key: &str, aliases: &[String], enabled: bool) {
    let mut alias_decor = None;
    for alias in aliases {
        if let Some(alias_key) = table.key(alias) {
            alias_decor.get_or_insert_with(|| alias_key.leaf_decor().clone());
            table.remove(alias);
        }
    }
    if let Some(value) = table.get_mut(key).and_then(Item::as_value_mut) {
        let decor = value.decor().clone();
        *value = toml_edit::Value::from(enabled);
        *value.decor_mut() = decor;
        return;
    }
    table.insert(key, toml_edit::value(enabled));
    if let (Some(decor), Some(mut new_key)) = (alias_decor, table.key_mut(key)) {
        *new_key.leaf_decor_mut() = decor;
    }
}

fn registry_aliases(registry: &FeatureRegistry, canonical: &str) -> Vec<String> {
    registry
        .aliases()
        .filter(|(_, target)| *target == canonical)
        .map(|(alias, _)| alias.to_owned())
        .collect()
}

/// The table at `path` below `root`, created (as `[a.b.c]`, with implicit
/// parents) when missing. Inline tables are kept inline. On a non-table
/// value, returns the path to it.
fn table_at<'a>(
    root: &'a mut Table,
    path: &[String],
) -> Result<&'a mut dyn toml_edit::TableLike, Vec<String>> {
    let mut current: &mut dyn toml_edit::TableLike = root;
    for (depth, part) in path.iter().enumerate() {
        let is_last = depth + 1 == path.len();
        if current.get(part).is_none() {
            let mut table = Table::new();
            table.set_implicit(!is_last);
            current.insert(part, Item::Table(table));
        }
        let Some(item) = current.get_mut(part) else {
            return Err(path.get(..=depth).unwrap_or(path).to_vec());
        };
        match item.as_table_like_mut() {
            Some(table) => current = table,
            None => return Err(path.get(..=depth).unwrap_or(path).to_vec()),
        }
    }
    Ok(current)
}
