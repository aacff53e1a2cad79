//! What can go wrong loading a configuration, each error naming the file,
//! line, column and key (or the `-c` argument) it is about.

use std::io;
use std::path::PathBuf;

use crate::features::FeatureError;
use crate::layer::display_key;
use crate::source::{Location, Source};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot write {}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{at}: {message}")]
    Syntax { at: Location, message: String },
    #[error("{at}: {key}: {message}")]
    Invalid {
        at: Location,
        key: String,
        message: String,
    },
    #[error("-c {arg}: {message}")]
    Override { arg: String, message: String },
    /// A value that is wrong as a whole, with no single place to point at
    /// (an empty table, say).
    #[error("{key}: {message}")]
    Value { key: String, message: String },
    #[error("config profile `{name}` not found{}", known_profiles(known))]
    UnknownProfile { name: String, known: Vec<String> },
    #[error(transparent)]
    Feature(#[from] FeatureError),
    #[error("cannot find the home directory; set WHARF_HOME to where wharf keeps its files")]
    NoHome,
    #[error("cannot use {} as the working directory", path.display())]
    Cwd {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

fn known_profiles(known: &[String]) -> String {
    if known.is_empty() {
        " (no profiles are defined)".to_owned()
    } else {
        format!("; known: {}", known.join(", "))
    }
}

impl ConfigError {
    /// Whether the command line itself is wrong (exit status 2) rather than
    /// a file or the system (exit status 1).
    pub fn is_usage(&self) -> bool {
        match self {
            ConfigError::Override { .. } | ConfigError::Feature(_) => true,
            ConfigError::UnknownProfile { .. } => true,
            ConfigError::Read { .. }
            | ConfigError::Write { .. }
            | ConfigError::Syntax { .. }
            | ConfigError::Invalid { .. }
            | ConfigError::Value { .. }
            | ConfigError::NoHome
            | ConfigError::Cwd { .. } => false,
        }
    }
}

/// An error about the value at `key`, placed where that value was set.
pub(crate) fn invalid_value(
    source: Option<&Source>,
    key: &[String],
    message: String,
) -> ConfigError {
    match source {
        Some(
            Source::Build(at) | Source::Project(at) | Source::User(at) | Source::Profile { at, .. },
        ) => ConfigError::Invalid {
            at: at.clone(),
            key: display_key(key),
            message,
        },
        Some(Source::Override(arg)) => ConfigError::Override {
            arg: arg.clone(),
            message,
        },
        Some(Source::Default | Source::Trust(_) | Source::Flag(_)) => ConfigError::Override {
            arg: display_key(key),
            message,
        },
        Some(Source::Requirements(at)) => ConfigError::Value {
            key: format!("{at}: {}", display_key(key)),
            message,
        },
        None => ConfigError::Value {
            key: display_key(key),
            message,
        },
    }
}
