//! The manifest as written: the shape serde reads `plugin.toml` into, and
//! where each key and value sits in the text, for error locations.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

use serde::Deserialize;
use toml::de::{DeTable, DeValue};

use super::values::{ArtifactPath, EnvName, NonEmpty, Positive, Word};
use super::{HostPort, PathRequest, PluginKind, PluginName, Sha256};
use wharf_config::Location;
use wharf_config::features::Stage;

/// The shape of `plugin.toml` as serde sees it. Required keys are optional
/// here so that a missing one is reported by name, with every other one.
#[derive(Deserialize)]
pub(super) struct ManifestToml {
    pub(super) name: Option<PluginName>,
    pub(super) version: Option<NonEmpty>,
    pub(super) api: Option<NonEmpty>,
    pub(super) kind: Option<PluginKind>,
    pub(super) artifact: Option<ArtifactPath>,
    pub(super) sha256: Option<Sha256>,
    pub(super) description: Option<String>,
    #[serde(default)]
    pub(super) required: bool,
    #[serde(default)]
    pub(super) feature: FeatureToml,
    #[serde(default)]
    pub(super) capabilities: CapabilitiesToml,
    #[serde(default)]
    pub(super) requires: Vec<Word>,
    #[serde(default)]
    pub(super) limits: LimitsToml,
    pub(super) hooks: Option<super::hooks::HooksToml>,
}

#[derive(Default, Deserialize)]
pub(super) struct FeatureToml {
    pub(super) key: Option<Word>,
    pub(super) stage: Option<StageToml>,
    pub(super) default_enabled: Option<bool>,
    pub(super) replaced_by: Option<Word>,
}

/// [`Stage`] as written in a file.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum StageToml {
    UnderDevelopment,
    Experimental,
    Stable,
    Deprecated,
    Removed,
}

impl From<StageToml> for Stage {
    fn from(stage: StageToml) -> Stage {
        match stage {
            StageToml::UnderDevelopment => Stage::UnderDevelopment,
            StageToml::Experimental => Stage::Experimental,
            StageToml::Stable => Stage::Stable,
            StageToml::Deprecated => Stage::Deprecated,
            StageToml::Removed => Stage::Removed,
        }
    }
}

#[derive(Default, Deserialize)]
pub(super) struct CapabilitiesToml {
    #[serde(default)]
    pub(super) fs: FsToml,
    #[serde(default)]
    pub(super) network: Vec<HostPort>,
    #[serde(default)]
    pub(super) env: Vec<EnvName>,
    #[serde(default)]
    pub(super) exec: bool,
    /// Accepted here too: written after `[capabilities]`, a `requires` line
    /// lands in this table, and dropping it would offer image tools to
    /// text-only models.
    #[serde(default)]
    pub(super) requires: Vec<Word>,
}

#[derive(Default, Deserialize)]
pub(super) struct FsToml {
    #[serde(default)]
    pub(super) read: Vec<PathRequest>,
    #[serde(default)]
    pub(super) write: Vec<PathRequest>,
}

#[derive(Default, Deserialize)]
pub(super) struct LimitsToml {
    pub(super) timeout_ms: Option<Positive>,
    pub(super) memory_mb: Option<Positive>,
}

/// A dotted key path, one element per key or array index.
pub(super) type KeyPath = Vec<String>;

/// Where each key and each value of a file is written.
pub(super) struct Spans<'a> {
    pub(super) path: &'a Path,
    pub(super) text: &'a str,
    pub(super) keys: BTreeMap<KeyPath, Range<usize>>,
    pub(super) values: BTreeMap<KeyPath, Range<usize>>,
}

impl Spans<'_> {
    pub(super) fn at(&self, offset: usize) -> Location {
        Location::of_offset(self.path, self.text, offset)
    }

    /// Where `key` (or its nearest written ancestor) is written.
    pub(super) fn key(&self, key: &[String]) -> Location {
        let offset = (1..=key.len())
            .rev()
            .find_map(|len| key.get(..len).and_then(|prefix| self.keys.get(prefix)))
            .map_or(0, |span| span.start);
        self.at(offset)
    }

    /// Where the value of `key` is written, falling back to the key.
    pub(super) fn value(&self, key: &[String]) -> Location {
        match self.values.get(key) {
            Some(span) => self.at(span.start),
            None => self.key(key),
        }
    }

    pub(super) fn collect(&mut self, table: &DeTable<'_>, prefix: &mut KeyPath) {
        for (key, value) in table {
            prefix.push(key.get_ref().to_string());
            self.keys.insert(prefix.clone(), key.span());
            self.collect_value(value.get_ref(), value.span(), prefix);
            prefix.pop();
        }
    }

    fn collect_value(&mut self, value: &DeValue<'_>, span: Range<usize>, prefix: &mut KeyPath) {
        self.values.insert(prefix.clone(), span);
        match value {
            DeValue::Table(inner) => self.collect(inner, prefix),
            DeValue::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    prefix.push(index.to_string());
                    self.collect_value(item.get_ref(), item.span(), prefix);
                    prefix.pop();
                }
            }
            _ => {}
        }
    }
}
