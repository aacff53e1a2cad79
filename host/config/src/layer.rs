//! One configuration layer — a file or a `-c` override — parsed, checked
//! against [`ConfigToml`], and merged over the layers below it while
//! remembering which layer set each value.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

use serde::de::DeserializeOwned;
use toml::de::{DeTable, DeValue};

use super::source::{Location, Source};
use super::toml_types::ConfigToml;
use super::{ConfigError, codex_notes};

/// A dotted key path, one element per key: `["sandbox_workspace_write", "network_access"]`.
pub type KeyPath = Vec<String>;

/// A table of values and, for each leaf (every value that is not a table),
/// the layer that set it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Layered {
    pub table: toml::Table,
    pub sources: BTreeMap<KeyPath, Source>,
}

/// A parsed and validated file.
pub(crate) struct FileLayer {
    pub layered: Layered,
    pub warnings: Vec<String>,
    /// Where each key (tables included) is written.
    pub key_locations: BTreeMap<KeyPath, Location>,
}

/// Parses `text`, the contents of `path`. `source` turns a key's location
/// into the source its value is attributed to.
pub(crate) fn parse_file(
    path: &Path,
    text: &str,
    source: impl Fn(Location) -> Source,
) -> Result<FileLayer, ConfigError> {
    let at =
        |span: Option<Range<usize>>| Location::of_offset(path, text, span.map_or(0, |s| s.start));
    let root = DeTable::parse(text).map_err(|err| ConfigError::Syntax {
        at: at(err.span()),
        message: err.message().trim_end().to_owned(),
    })?;
    let mut key_spans = BTreeMap::new();
    collect_key_spans(root.get_ref(), &mut Vec::new(), &mut key_spans);
    let key_locations: BTreeMap<KeyPath, Location> = key_spans
        .into_iter()
        .map(|(key, span)| (key, at(Some(span))))
        .collect();

    let (typed, unknown) = check::<ConfigToml, _>(toml::Deserializer::from(root)).map_err(
        |CheckError { key, message, span }| {
            // Prefer the position of the offending value; fall back to its key.
            let at = match span {
                Some(span) => at(Some(span)),
                None => nearest_location(&key_locations, &key).unwrap_or_else(|| at(None)),
            };
            ConfigError::Invalid {
                at,
                key: display_key(&key),
                message,
            }
        },
    )?;
    let mut unknown: Vec<(Location, KeyPath)> = unknown
        .into_iter()
        .map(|key| {
            let at = nearest_location(&key_locations, &key).unwrap_or_else(|| at(None));
            (at, key)
        })
        .collect();
    unknown.sort_by_key(|(at, _)| (at.line, at.column));
    let mut warnings: Vec<String> = unknown
        .iter()
        .map(|(at, key)| format!("{at}: {}", unknown_key(key)))
        .collect();
    for (name, profile) in &typed.profiles {
        let nested = [
            ("profile", profile.profile.is_some()),
            ("profiles", !profile.profiles.is_empty()),
            ("projects", !profile.projects.is_empty()),
        ];
        for (field, present) in nested {
            if present {
                let key = vec!["profiles".to_owned(), name.clone(), field.to_owned()];
                let at = nearest_location(&key_locations, &key).unwrap_or_else(|| at(None));
                warnings.push(format!(
                    "{at}: `{}` has no effect inside a profile (ignored)",
                    display_key(&key)
                ));
            }
        }
    }

    let mut table: toml::Table = toml::from_str(text).map_err(|err| ConfigError::Syntax {
        at: at(err.span()),
        message: err.message().trim_end().to_owned(),
    })?;
    for (_, key) in &unknown {
        remove_at(&mut table, key);
    }
    let locate = |key: &[String]| nearest_location(&key_locations, key).unwrap_or_else(|| at(None));
    for (key, note) in codex_notes::notes(&typed, &mut table) {
        warnings.push(format!(
            "{}: `{}`: {note}",
            locate(key.as_slice()),
            display_key(&key)
        ));
    }
    let mut sources = BTreeMap::new();
    for key in leaf_paths(&table) {
        // A `[features.NAME]` table became its `enabled` value: point there.
        let enabled = [key.as_slice(), &["enabled".to_owned()]].concat();
        let location = match key.as_slice() {
            [.., features, _] if features == "features" => key_locations.get(&enabled).cloned(),
            _ => None,
        }
        .unwrap_or_else(|| locate(key.as_slice()));
        sources.insert(key, source(location));
    }
    Ok(FileLayer {
        layered: Layered { table, sources },
        warnings,
        key_locations,
    })
}

/// Parses a `-c key.path=value` argument into a one-value layer. The value
/// is read as TOML when it parses as TOML, as a plain string otherwise.
pub(crate) fn parse_override(arg: &str) -> Result<(Layered, Vec<String>), ConfigError> {
    let usage = |message: &str| ConfigError::Override {
        arg: arg.to_owned(),
        message: message.to_owned(),
    };
    let (key, raw) = arg
        .split_once('=')
        .ok_or_else(|| usage("expected key.path=value"))?;
    let key: KeyPath = key.trim().split('.').map(|k| k.trim().to_owned()).collect();
    if key.iter().any(String::is_empty) {
        return Err(usage("the key path has an empty part"));
    }
    let value = parse_value(raw.trim());
    let mut table = toml::Table::new();
    insert_at(&mut table, &key, value);
    let (typed, unknown) = check::<ConfigToml, _>(toml::Value::Table(table.clone())).map_err(
        |CheckError { key, message, .. }| ConfigError::Override {
            arg: arg.to_owned(),
            message: format!("{}: {message}", display_key(&key)),
        },
    )?;
    let mut warnings: Vec<String> = unknown
        .iter()
        .map(|k| format!("-c {arg}: {}", unknown_key(k)))
        .collect();
    for key in &unknown {
        remove_at(&mut table, key);
    }
    for (key, note) in codex_notes::notes(&typed, &mut table) {
        warnings.push(format!("-c {arg}: `{}`: {note}", display_key(&key)));
    }
    let mut sources = BTreeMap::new();
    for leaf in leaf_paths(&table) {
        sources.insert(leaf, Source::Override(arg.to_owned()));
    }
    Ok((Layered { table, sources }, warnings))
}

fn parse_value(raw: &str) -> toml::Value {
    let parsed = toml::from_str::<toml::Table>(&format!("value = {raw}"));
    match parsed {
        Ok(mut table) if table.len() == 1 => table
            .remove("value")
            .unwrap_or_else(|| toml::Value::String(raw.to_owned())),
        _ => toml::Value::String(raw.to_owned()),
    }
}

/// Sets `key` in `table`, creating the tables on the way.
pub(crate) fn insert_at(table: &mut toml::Table, key: &[String], value: toml::Value) {
    let Some((last, parents)) = key.split_last() else {
        return;
    };
    let mut current = table;
    for part in parents {
        let entry = current
            .entry(part.clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if !entry.is_table() {
            *entry = toml::Value::Table(toml::Table::new());
        }
        let toml::Value::Table(next) = entry else {
            return;
        };
        current = next;
    }
    current.insert(last.clone(), value);
}

/// Removes the value at `key`, if there is one: an unknown key, which takes
/// no part in the merge, or a lower layer's entry that a file replaces whole.
pub(crate) fn remove_at(table: &mut toml::Table, key: &[String]) {
    match key {
        [] => {}
        [last] => {
            table.remove(last);
        }
        [first, rest @ ..] => {
            if let Some(toml::Value::Table(inner)) = table.get_mut(first) {
                remove_at(inner, rest);
            }
        }
    }
}

/// Why [`check`] failed: the key path, serde's message, and where toml
/// placed the error, if it knows.
pub struct CheckError {
    pub key: KeyPath,
    pub message: String,
    pub span: Option<Range<usize>>,
}

/// Deserializes `T`, collecting the keys it does not know and, on failure,
/// the path of the key that failed.
pub fn check<'de, T, D>(deserializer: D) -> Result<(T, Vec<KeyPath>), CheckError>
where
    T: DeserializeOwned,
    D: serde::Deserializer<'de, Error = toml::de::Error>,
{
    let mut unknown = Vec::new();
    let mut on_unknown = |path: serde_ignored::Path<'_>| unknown.push(ignored_path(&path));
    let ignoring = serde_ignored::Deserializer::new(deserializer, &mut on_unknown);
    match serde_path_to_error::deserialize(ignoring) {
        Ok(value) => Ok((value, unknown)),
        Err(err) => {
            let key = err
                .path()
                .iter()
                .filter_map(|segment| match segment {
                    serde_path_to_error::Segment::Map { key } => Some(key.clone()),
                    serde_path_to_error::Segment::Seq { index } => Some(index.to_string()),
                    serde_path_to_error::Segment::Enum { .. }
                    | serde_path_to_error::Segment::Unknown => None,
                })
                .collect();
            let inner = err.into_inner();
            Err(CheckError {
                key,
                message: inner.message().trim_end().to_owned(),
                span: inner.span(),
            })
        }
    }
}

fn ignored_path(path: &serde_ignored::Path<'_>) -> KeyPath {
    let mut key = match path {
        serde_ignored::Path::Root => return Vec::new(),
        serde_ignored::Path::Seq { parent, .. }
        | serde_ignored::Path::Map { parent, .. }
        | serde_ignored::Path::Some { parent }
        | serde_ignored::Path::NewtypeStruct { parent }
        | serde_ignored::Path::NewtypeVariant { parent } => ignored_path(parent),
    };
    match path {
        serde_ignored::Path::Seq { index, .. } => key.push(index.to_string()),
        serde_ignored::Path::Map { key: part, .. } => key.push(part.clone()),
        _ => {}
    }
    key
}

fn collect_key_spans(
    table: &DeTable<'_>,
    prefix: &mut KeyPath,
    out: &mut BTreeMap<KeyPath, Range<usize>>,
) {
    for (key, value) in table {
        prefix.push(key.get_ref().to_string());
        out.insert(prefix.clone(), key.span());
        if let DeValue::Table(inner) = value.get_ref() {
            collect_key_spans(inner, prefix, out);
        }
        prefix.pop();
    }
}

/// How an unknown key is reported: codex's keys with what wharf does
/// instead, any other as unknown.
fn unknown_key(key: &[String]) -> String {
    let shown = display_key(key);
    match codex_notes::instead_of(key) {
        Some(instead) => format!("`{shown}`: codex's key; {instead} (ignored)"),
        None => format!("unknown key `{shown}` (ignored)"),
    }
}

/// The location of `key`, or of its nearest written ancestor.
fn nearest_location(locations: &BTreeMap<KeyPath, Location>, key: &[String]) -> Option<Location> {
    (1..=key.len())
        .rev()
        .find_map(|len| key.get(..len).and_then(|prefix| locations.get(prefix)))
        .cloned()
}

/// Every path to a value that is not a table, in key order.
pub(crate) fn leaf_paths(table: &toml::Table) -> Vec<KeyPath> {
    fn walk(table: &toml::Table, prefix: &mut KeyPath, out: &mut Vec<KeyPath>) {
        for (key, value) in table {
            prefix.push(key.clone());
            match value {
                toml::Value::Table(inner) => walk(inner, prefix, out),
                _ => out.push(prefix.clone()),
            }
            prefix.pop();
        }
    }
    let mut out = Vec::new();
    walk(table, &mut Vec::new(), &mut out);
    out
}

/// A key path as TOML writes it: bare keys joined by dots, other keys quoted.
pub fn display_key(key: &[String]) -> String {
    let bare = |k: &str| {
        !k.is_empty()
            && k.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    };
    key.iter()
        .map(|k| if bare(k) { k.clone() } else { format!("{k:?}") })
        .collect::<Vec<_>>()
        .join(".")
}

impl Layered {
    /// Lays `upper` over `self`: tables merge key by key, any other value
    /// replaces what was there (arrays included).
    pub(crate) fn merge(&mut self, upper: &Layered) {
        merge_tables(
            &mut self.table,
            &mut self.sources,
            &upper.table,
            &upper.sources,
            &mut Vec::new(),
        );
    }

    /// Removes `key` and everything beneath it.
    pub(crate) fn remove(&mut self, key: &str) -> Option<toml::Value> {
        let prefix = vec![key.to_owned()];
        self.sources.retain(|path, _| !path.starts_with(&prefix));
        self.table.remove(key)
    }

    /// Sets one value, attributed to `source`.
    pub(crate) fn set(&mut self, key: KeyPath, value: toml::Value, source: Source) {
        let mut upper = Layered::default();
        insert_at(&mut upper.table, &key, value);
        for leaf in leaf_paths(&upper.table) {
            upper.sources.insert(leaf, source.clone());
        }
        self.merge(&upper);
    }
}

fn merge_tables(
    lower: &mut toml::Table,
    lower_sources: &mut BTreeMap<KeyPath, Source>,
    upper: &toml::Table,
    upper_sources: &BTreeMap<KeyPath, Source>,
    path: &mut KeyPath,
) {
    for (key, value) in upper {
        path.push(key.clone());
        match (lower.get_mut(key), value) {
            (Some(toml::Value::Table(lower_inner)), toml::Value::Table(upper_inner)) => {
                merge_tables(lower_inner, lower_sources, upper_inner, upper_sources, path);
            }
            _ => {
                lower_sources.retain(|p, _| !p.starts_with(path.as_slice()));
                for (p, source) in upper_sources.range(path.clone()..) {
                    if !p.starts_with(path.as_slice()) {
                        break;
                    }
                    lower_sources.insert(p.clone(), source.clone());
                }
                lower.insert(key.clone(), value.clone());
            }
        }
        path.pop();
    }
}
