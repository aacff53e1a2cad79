//! Feature flags: which capabilities are on, and which layer decided it.
//!
//! Every plugin — first- or third-party — is gated by a feature key. The
//! [`FeatureRegistry`] knows the keys (the binary's own from the table it
//! declares, see [`FeatureRegistry::from_toml`]; plugins add theirs at load
//! time); [`Features`] is the resolved state of one session. This crate
//! knows no key itself.

use std::collections::BTreeMap;
use std::fmt;

use crate::Source;

/// How far along a feature is. Decides warnings, not availability.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Incomplete; enabling it prints a warning.
    UnderDevelopment,
    /// Usable, may still change; off unless the user turns it on.
    Experimental,
    Stable,
    /// Still works; enabling it prints a warning.
    Deprecated,
    /// Gone; setting it has no effect but a warning.
    Removed,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::UnderDevelopment => "under_development",
            Stage::Experimental => "experimental",
            Stage::Stable => "stable",
            Stage::Deprecated => "deprecated",
            Stage::Removed => "removed",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeatureSpec {
    pub key: String,
    pub stage: Stage,
    pub default_enabled: bool,
    /// One line for `wharf features list`.
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FeatureError {
    #[error("unknown feature flag: {key}; known: {}", known.join(", "))]
    Unknown { key: String, known: Vec<String> },
    #[error("feature flag `{key}` is both enabled and disabled on the command line")]
    Conflict { key: String },
    #[error("feature flag `{key}` is already registered")]
    Duplicate { key: String },
    #[error("`{key}` is not a valid feature key (use letters, digits, `_` and `-`)")]
    InvalidKey { key: String },
    /// The binary's own feature table does not parse (a bug of the build).
    #[error("the built-in feature table is invalid: {0}")]
    Table(String),
    /// The administrator's requirements pin `key`; `at` names them
    /// (`ORIGIN: [features]`).
    #[error(
        "blocked by requirements ({at}): feature `{key}` is pinned {}, so it cannot be turned {}",
        on_off(*pinned),
        on_off(!*pinned)
    )]
    Pinned {
        key: String,
        pinned: bool,
        at: String,
    },
}

fn on_off(enabled: bool) -> &'static str {
    if enabled { "on" } else { "off" }
}

/// One key of a binary's feature table (see [`FeatureRegistry::from_toml`]).
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct TableEntry {
    stage: Stage,
    default_enabled: bool,
    description: String,
    #[serde(default)]
    aliases: Vec<String>,
}

/// The known feature keys and their aliases.
#[derive(Debug, Clone, Default)]
pub struct FeatureRegistry {
    specs: BTreeMap<String, FeatureSpec>,
    /// Old or alternative name → canonical key.
    aliases: BTreeMap<String, String>,
}

impl FeatureRegistry {
    /// A registry holding the keys a binary declares for itself: a TOML
    /// document with one table per key (`stage`, `default_enabled`,
    /// `description`, optional `aliases`). wharf's is `cli/features.toml`.
    pub fn from_toml(table: &str) -> Result<FeatureRegistry, FeatureError> {
        let entries: BTreeMap<String, TableEntry> =
            toml::from_str(table).map_err(|err| FeatureError::Table(err.to_string()))?;
        let mut registry = FeatureRegistry::default();
        for (key, entry) in entries {
            registry.register(FeatureSpec {
                key: key.clone(),
                stage: entry.stage,
                default_enabled: entry.default_enabled,
                description: entry.description,
            })?;
            for alias in entry.aliases {
                if registry.canonical(&alias).is_some() {
                    return Err(FeatureError::Duplicate { key: alias });
                }
                registry.aliases.insert(alias, key.clone());
            }
        }
        Ok(registry)
    }

    /// Adds a key at run time (a plugin's own feature). Keys are unique
    /// across canonical names and aliases.
    pub fn register(&mut self, spec: FeatureSpec) -> Result<(), FeatureError> {
        let valid = !spec.key.is_empty()
            && spec
                .key
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !valid {
            return Err(FeatureError::InvalidKey { key: spec.key });
        }
        if self.canonical(&spec.key).is_some() {
            return Err(FeatureError::Duplicate { key: spec.key });
        }
        self.specs.insert(spec.key.clone(), spec);
        Ok(())
    }

    /// The canonical key for `key`, which may be an alias.
    pub fn canonical<'a>(&'a self, key: &'a str) -> Option<&'a str> {
        if let Some((key, _)) = self.specs.get_key_value(key) {
            return Some(key);
        }
        self.aliases.get(key).map(String::as_str)
    }

    pub fn get(&self, key: &str) -> Option<&FeatureSpec> {
        self.canonical(key).and_then(|key| self.specs.get(key))
    }

    /// Canonical keys in order, for listings and error messages.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.specs.keys().map(String::as_str)
    }

    /// `(alias, canonical key)` pairs.
    pub fn aliases(&self) -> impl Iterator<Item = (&str, &str)> {
        self.aliases
            .iter()
            .map(|(alias, key)| (alias.as_str(), key.as_str()))
    }

    pub fn specs(&self) -> impl Iterator<Item = &FeatureSpec> {
        self.specs.values()
    }

    /// Looks up a key given on the command line, where an unknown key is an
    /// error that lists the known ones.
    pub fn require(&self, key: &str) -> Result<&FeatureSpec, FeatureError> {
        self.get(key).ok_or_else(|| FeatureError::Unknown {
            key: key.to_owned(),
            known: self.keys().map(str::to_owned).collect(),
        })
    }
}

/// One feature's effective state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeatureState {
    pub enabled: bool,
    /// The layer that decided `enabled`.
    pub source: Source,
}

/// A setting of one feature by one layer, before resolution.
#[derive(Debug, Clone)]
pub struct FeatureSetting {
    /// As written: possibly an alias, possibly unknown.
    pub key: String,
    pub enabled: bool,
    pub source: Source,
}

/// The effective feature states of a session.
#[derive(Debug, Clone)]
pub struct Features {
    states: BTreeMap<String, FeatureState>,
}

impl Features {
    /// Resolves the states from the registry defaults and `settings`, given
    /// from lowest to highest precedence. Returns warnings for unknown keys
    /// and for features whose stage deserves one.
    pub fn resolve(
        registry: &FeatureRegistry,
        settings: &[FeatureSetting],
        suppress_unstable_warning: bool,
    ) -> (Features, Vec<String>) {
        let mut warnings = Vec::new();
        let mut states: BTreeMap<String, FeatureState> = registry
            .specs()
            .map(|spec| {
                let state = FeatureState {
                    enabled: spec.default_enabled && spec.stage != Stage::Removed,
                    source: Source::Default,
                };
                (spec.key.clone(), state)
            })
            .collect();
        for setting in settings {
            let Some(spec) = registry.get(&setting.key) else {
                let known: Vec<&str> = registry.keys().collect();
                warnings.push(format!(
                    "unknown feature flag `{}` in {} (ignored); known: {}",
                    setting.key,
                    setting.source,
                    known.join(", ")
                ));
                continue;
            };
            if spec.key != setting.key {
                // An alias: the canonical key wins over it within a layer.
                let canonical_in_same_layer = settings.iter().any(|other| {
                    other.key == spec.key && other.source.rank() == setting.source.rank()
                });
                if canonical_in_same_layer {
                    continue;
                }
            }
            if spec.stage == Stage::Removed && setting.enabled {
                warnings.push(format!(
                    "feature `{}` has been removed; the setting in {} has no effect",
                    spec.key, setting.source
                ));
                continue;
            }
            states.insert(
                spec.key.clone(),
                FeatureState {
                    enabled: setting.enabled,
                    source: setting.source.clone(),
                },
            );
        }
        for spec in registry.specs() {
            let Some(state) = states.get(&spec.key) else {
                continue;
            };
            if !state.enabled || state.source == Source::Default {
                continue;
            }
            match spec.stage {
                Stage::UnderDevelopment if !suppress_unstable_warning => warnings.push(format!(
                    "feature `{}` is under development and may change or break \
                     (enabled by {}); set suppress_unstable_features_warning = true \
                     to hide this warning",
                    spec.key, state.source
                )),
                Stage::Deprecated => warnings.push(format!(
                    "feature `{}` is deprecated and will be removed (enabled by {})",
                    spec.key, state.source
                )),
                _ => {}
            }
        }
        (Features { states }, warnings)
    }

    /// Whether `key` is on. Unknown keys are off.
    pub fn enabled(&self, key: &str) -> bool {
        self.states.get(key).is_some_and(|state| state.enabled)
    }

    pub fn state(&self, key: &str) -> Option<&FeatureState> {
        self.states.get(key)
    }

    /// Turns the known feature `key` on or off, decided by `source` (a
    /// session's own toggle). Returns false, changing nothing, for an
    /// unknown key.
    pub fn set(&mut self, key: &str, enabled: bool, source: Source) -> bool {
        match self.states.get_mut(key) {
            Some(state) => {
                *state = FeatureState { enabled, source };
                true
            }
            None => false,
        }
    }

    /// Every feature and its state, by key.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &FeatureState)> {
        self.states.iter().map(|(key, state)| (key.as_str(), state))
    }
}

#[cfg(test)]
pub(crate) mod tests;
