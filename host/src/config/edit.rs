//! Edits of the user's `config.toml` that keep its comments and formatting.

use std::io;
use std::path::Path;

use toml_edit::{DocumentMut, Item, Table};

use super::ConfigError;
use super::source::Location;
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
    let mut doc: DocumentMut = text.parse().map_err(|err: toml_edit::TomlError| {
        let offset = err.span().map_or(0, |span| span.start);
        ConfigError::Syntax {
            at: Location::of_offset(path, &text, offset),
            message: err.message().trim_end().to_owned(),
        }
    })?;

    let mut key_path = Vec::new();
    if let Some(profile) = profile {
        key_path.extend(["profiles".to_owned(), profile.to_owned()]);
    }
    key_path.push("features".to_owned());
    let features = table_at(doc.as_table_mut(), &key_path).map_err(|bad| ConfigError::Invalid {
        at: Location::of_offset(path, &text, 0),
        key: super::display_key(&bad),
        message: "expected a table; fix or remove it before enabling features".to_owned(),
    })?;
    set_bool(
        features,
        &spec.key,
        &registry_aliases(registry, &spec.key),
        enabled,
    );

    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|source| ConfigError::Write {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    std::fs::write(path, doc.to_string()).map_err(|source| ConfigError::Write {
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
