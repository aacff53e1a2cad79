//! `[features]` entries: `NAME = true`, or codex's table form
//! `[features.NAME]` with `enabled = …` beside the feature's settings.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::de::value::MapAccessDeserializer;
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

/// One feature's setting as written.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum FeatureToml {
    /// `true` turns the feature on, `false` off.
    Enabled(bool),
    /// `enabled = …` and the feature's settings. wharf's features take no
    /// settings yet: any other key is reported and ignored.
    Table {
        #[serde(skip_serializing_if = "Option::is_none")]
        enabled: Option<bool>,
        #[serde(flatten)]
        settings: BTreeMap<String, serde_json::Value>,
    },
}

impl<'de> Deserialize<'de> for FeatureToml {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Either;
        impl<'de> Visitor<'de> for Either {
            type Value = FeatureToml;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("`true`, `false`, or a table with `enabled = true|false`")
            }
            fn visit_bool<E: de::Error>(self, value: bool) -> Result<Self::Value, E> {
                Ok(FeatureToml::Enabled(value))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                #[derive(Deserialize)]
                struct Table {
                    enabled: Option<bool>,
                    #[serde(flatten)]
                    settings: BTreeMap<String, serde_json::Value>,
                }
                let table = Table::deserialize(MapAccessDeserializer::new(map))?;
                Ok(FeatureToml::Table {
                    enabled: table.enabled,
                    settings: table.settings,
                })
            }
        }
        deserializer.deserialize_any(Either)
    }
}

/// Turns every `features.NAME` table of `table` (the top level's and each
/// profile's) into its `enabled` value, or removes it when it has none, so
/// that the layers merge plain booleans. Returns the key path of every
/// setting that was dropped, for a warning.
pub(crate) fn flatten_feature_tables(table: &mut toml::Table) -> Vec<Vec<String>> {
    let mut dropped = Vec::new();
    flatten_in(table, &["features".to_owned()], &mut dropped);
    if let Some(toml::Value::Table(profiles)) = table.get_mut("profiles") {
        for (name, profile) in profiles.iter_mut() {
            if let toml::Value::Table(profile) = profile {
                let prefix = ["profiles".to_owned(), name.clone(), "features".to_owned()];
                flatten_in(profile, &prefix, &mut dropped);
            }
        }
    }
    dropped
}

fn flatten_in(table: &mut toml::Table, prefix: &[String], dropped: &mut Vec<Vec<String>>) {
    let Some(toml::Value::Table(features)) = table.get_mut("features") else {
        return;
    };
    let tables: Vec<String> = features
        .iter()
        .filter(|(_, value)| value.is_table())
        .map(|(name, _)| name.clone())
        .collect();
    for name in tables {
        let Some(toml::Value::Table(mut entry)) = features.remove(&name) else {
            continue;
        };
        let enabled = entry.remove("enabled");
        for setting in entry.keys() {
            let mut key = prefix.to_vec();
            key.extend([name.clone(), setting.clone()]);
            dropped.push(key);
        }
        if let Some(enabled) = enabled {
            features.insert(name, enabled);
        }
    }
}
