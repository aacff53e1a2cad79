//! `[profiles.NAME]`: which profile applies, and its table as a layer
//! whose values are attributed to it.

use std::collections::BTreeMap;

use crate::layer::{self, FileLayer, KeyPath, Layered};
use crate::{ConfigError, ConfigOptions, Source};

/// Which profile applies and who chose it: `--profile`, then `-c profile=…`,
/// then `profile = …` in the files.
pub(crate) fn profile_choice(
    options: &ConfigOptions,
    overrides: &[Layered],
    files: &Layered,
) -> Option<(String, Source)> {
    if let Some(name) = &options.profile {
        return Some((name.clone(), Source::Flag("--profile")));
    }
    let key = vec!["profile".to_owned()];
    overrides
        .iter()
        .rev()
        .chain(std::iter::once(files))
        .find_map(|layer| {
            let name = layer.table.get("profile")?.as_str()?;
            Some((name.to_owned(), layer.sources.get(&key)?.clone()))
        })
}

/// The selected profile as a layer whose values are attributed to it.
pub(crate) fn profile_layer(
    name: &str,
    chosen_by: &Source,
    profiles: Option<&toml::Value>,
    files: &[FileLayer],
) -> Result<Layered, ConfigError> {
    let tables = profiles.and_then(toml::Value::as_table);
    let Some(table) = tables
        .and_then(|t| t.get(name))
        .and_then(toml::Value::as_table)
    else {
        let known: Vec<String> = tables
            .map(|t| t.keys().cloned().collect())
            .unwrap_or_default();
        let err = ConfigError::UnknownProfile {
            name: name.to_owned(),
            known,
        };
        return Err(match chosen_by {
            // A file naming a missing profile is a file error, with its place.
            Source::Project(at) | Source::User(at) => ConfigError::Invalid {
                at: at.clone(),
                key: "profile".to_owned(),
                message: err.to_string(),
            },
            _ => err,
        });
    };
    let mut layer = Layered {
        table: table.clone(),
        sources: BTreeMap::new(),
    };
    for key in layer::leaf_paths(table) {
        let mut full: KeyPath = vec!["profiles".to_owned(), name.to_owned()];
        full.extend(key.iter().cloned());
        // The user's file wins over the project's, so look there first.
        let at = files
            .iter()
            .rev()
            .find_map(|file| file.key_locations.get(&full).cloned());
        let source = match at {
            Some(at) => Source::Profile {
                name: name.to_owned(),
                at,
            },
            None => chosen_by.clone(),
        };
        layer.sources.insert(key, source);
    }
    Ok(layer)
}
