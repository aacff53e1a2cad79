//! The `config.toml` a custom build bakes in: the build's own defaults, a
//! layer above wharf's built-in defaults and below every file, read with
//! the same rules as a user's file.

use std::path::{Path, PathBuf};

use crate::ConfigOptions;
use crate::error::ConfigError;
use crate::layer::{self, FileLayer};
use crate::source::Source;

/// A configuration compiled into the binary (`include_str!`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildConfig {
    /// What messages call it, e.g. `acme-agent/config.toml`.
    pub name: String,
    /// The file's text.
    pub text: &'static str,
}

impl BuildConfig {
    pub fn new(name: &str, text: &'static str) -> BuildConfig {
        BuildConfig {
            name: name.to_owned(),
            text,
        }
    }

    /// Where its values and errors are placed: "NAME (built into this
    /// wharf)", then the line and column.
    fn path(&self) -> PathBuf {
        PathBuf::from(format!("{} (built into this wharf)", self.name))
    }

    /// The checked layer; an error is the build's (file, line, column, key).
    fn layer(&self) -> Result<FileLayer, ConfigError> {
        layer::parse_file(&self.path(), self.text, Source::Build)
    }
}

/// The files' layers a load starts from: the build's, when `options` has
/// one, without its `[projects]` (trust is only read from `user_path`).
pub(crate) fn layers(
    options: &ConfigOptions,
    user_path: &Path,
) -> Result<Vec<FileLayer>, ConfigError> {
    let Some(built_in) = &options.build_config else {
        return Ok(Vec::new());
    };
    let mut file = built_in.layer()?;
    crate::trust::drop_trust_table(&mut file, user_path);
    Ok(vec![file])
}
