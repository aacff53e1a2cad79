//! The dedicated flags as the top layer, and the feature settings every
//! layer made.

use std::collections::BTreeMap;

use super::layer::Layered;
use super::{ConfigError, ConfigOptions, Source, requirements};
use crate::features::{FeatureError, FeatureRegistry, FeatureSetting};

/// `--model`, `--sandbox`, `--ask-for-approval`, `--enable` and
/// `--disable`, as the top layer; `--enable` or `--disable` against a
/// feature the requirements pin is refused.
pub(crate) fn apply_flags(
    options: &ConfigOptions,
    registry: &FeatureRegistry,
    requirements: &requirements::Requirements,
    effective: &mut Layered,
) -> Result<(), ConfigError> {
    if let Some(model) = &options.model {
        effective.set(
            vec!["model".to_owned()],
            toml::Value::String(model.clone()),
            Source::Flag("--model"),
        );
    }
    if let Some(policy) = options.approval_policy {
        effective.set(
            vec!["approval_policy".to_owned()],
            toml::Value::String(policy.as_str().to_owned()),
            Source::Flag("--ask-for-approval"),
        );
    }
    if let Some(mode) = options.sandbox_mode {
        effective.set(
            vec!["sandbox_mode".to_owned()],
            toml::Value::String(mode.as_str().to_owned()),
            Source::Flag("--sandbox"),
        );
    }
    let mut chosen: BTreeMap<String, bool> = BTreeMap::new();
    let flags = [
        ("--enable", &options.enable, true),
        ("--disable", &options.disable, false),
    ];
    for (flag, keys, enabled) in flags {
        for key in keys {
            let spec = registry.require(key)?;
            requirements.check_feature(registry, &spec.key, enabled)?;
            if chosen.insert(spec.key.clone(), enabled) == Some(!enabled) {
                return Err(FeatureError::Conflict {
                    key: spec.key.clone(),
                }
                .into());
            }
            effective.set(
                vec!["features".to_owned(), spec.key.clone()],
                toml::Value::Boolean(enabled),
                Source::Flag(flag),
            );
        }
    }
    Ok(())
}

pub(crate) fn feature_settings(effective: &Layered) -> Vec<FeatureSetting> {
    let Some(table) = effective
        .table
        .get("features")
        .and_then(toml::Value::as_table)
    else {
        return Vec::new();
    };
    let mut settings: Vec<FeatureSetting> = table
        .iter()
        .filter_map(|(key, value)| {
            let source = effective
                .sources
                .get(&vec!["features".to_owned(), key.clone()])?;
            Some(FeatureSetting {
                key: key.clone(),
                enabled: value.as_bool()?,
                source: source.clone(),
            })
        })
        .collect();
    settings.sort_by_key(|setting| setting.source.rank());
    settings
}
