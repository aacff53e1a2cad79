//! Where a configuration value came from.

use std::fmt;
use std::path::{Path, PathBuf};

/// A position in a configuration file, 1-based, as editors show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub path: PathBuf,
    pub line: usize,
    pub column: usize,
}

impl Location {
    /// The location of byte `offset` in `text`, the contents of `path`.
    pub fn of_offset(path: &Path, text: &str, offset: usize) -> Location {
        let offset = offset.min(text.len());
        let before = text.get(..offset).unwrap_or(text);
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
        Location {
            path: path.to_path_buf(),
            line,
            column,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.path.display(), self.line, self.column)
    }
}

/// The layer that decided a value, from lowest to highest precedence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// wharf's built-in default.
    Default,
    /// The default of a trusted project (workspace-write, on-request), which
    /// replaces the built-in one; holds the project root.
    Trust(PathBuf),
    /// The `config.toml` a custom build bakes in (`crate::build_config`),
    /// above the defaults and below every file; its location names it
    /// "NAME (built into this wharf)".
    Build(Location),
    /// The project's `.wharf/config.toml`.
    Project(Location),
    /// The user's `$WHARF_HOME/config.toml`.
    User(Location),
    /// The selected `[profiles.NAME]` table, in either file.
    Profile { name: String, at: Location },
    /// A `-c key.path=value` override; holds the argument as given.
    Override(String),
    /// A dedicated flag such as `--sandbox` or `--enable`.
    Flag(&'static str),
    /// The administrator's requirements, above every layer: where they
    /// come from and the requirement, `ORIGIN: KEY`
    /// (`/etc/wharf/requirements.toml: [features]`).
    Requirements(String),
}

impl Source {
    /// The one word `wharf features list` and `wharf config show` print.
    pub fn kind(&self) -> &'static str {
        match self {
            Source::Default => "default",
            Source::Trust(_) => "trust",
            Source::Build(_) => "build",
            Source::Project(_) => "project",
            Source::User(_) => "config",
            Source::Profile { .. } => "profile",
            Source::Override(_) | Source::Flag(_) => "cli",
            Source::Requirements(_) => "requirements",
        }
    }

    /// The precedence of the layer: a higher rank overrides a lower one.
    pub(crate) fn rank(&self) -> u8 {
        match self {
            // A trusted project's default is still a default.
            Source::Default | Source::Trust(_) => 0,
            Source::Build(_) => 1,
            Source::Project(_) => 2,
            Source::User(_) => 3,
            Source::Profile { .. } => 4,
            Source::Override(_) => 5,
            Source::Flag(_) => 6,
            Source::Requirements(_) => 7,
        }
    }

    /// The detail after the kind: a file position, the profile, the flag.
    pub fn detail(&self) -> Option<String> {
        match self {
            Source::Default => None,
            Source::Trust(root) => Some(format!("the project {} is trusted", root.display())),
            Source::Build(at) | Source::Project(at) | Source::User(at) => Some(at.to_string()),
            Source::Profile { name, at } => Some(format!("{name} at {at}")),
            Source::Override(arg) => Some(format!("-c {arg}")),
            Source::Flag(flag) => Some((*flag).to_owned()),
            Source::Requirements(at) => Some(at.clone()),
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.detail() {
            Some(detail) => write!(f, "{} ({detail})", self.kind()),
            None => f.write_str(self.kind()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_are_one_based_and_count_characters() {
        let text = "a = 1\nbé = \"x\"\n";
        let path = Path::new("c.toml");
        let at = |offset| Location::of_offset(path, text, offset).to_string();
        assert_eq!(at(0), "c.toml:1:1");
        assert_eq!(at(6), "c.toml:2:1");
        // `=` after the two-byte `é` is the fourth character of line 2.
        assert_eq!(at(10), "c.toml:2:4");
        assert_eq!(at(999), "c.toml:3:1");
    }
}
