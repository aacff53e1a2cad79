//! `plugins.lock`: wharf's own record of the plugins the user installed
//! with `wharf plugin add` — each one's kind, the sha256 its artifact must
//! have, and its tools. It lies beside the plugins directory
//! (`$WHARF_HOME/plugins.lock`), not in a plugin's own directory, so that
//! nothing a plugin ships or rewrites in its directory can change a pin or
//! give consent. An entry is the user's consent: the plugin may be on by
//! default, and a native library may be opened when its artifact matches.
//!
//! The file is TOML, written whole and atomically (a temporary file renamed
//! over it) by `wharf plugin add` and `wharf plugin remove`.

use std::collections::BTreeMap;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::plugin::manifest::{PluginKind, PluginName, ReadError, Sha256, read_limited};

/// The file name of the lock, beside the plugins directory.
pub const LOCK_FILE: &str = "plugins.lock";

/// The largest lock file wharf reads.
pub const MAX_LOCK_BYTES: u64 = 1024 * 1024;

const HEADER: &str = "\
# wharf's record of the plugins installed with `wharf plugin add`: each one's
# kind, the sha256 its artifact must have, and its tools. Written by
# `wharf plugin add` and `wharf plugin remove`; an entry is your consent to
# run the plugin. Do not edit it by hand.
";

/// The lock of the plugins directory `plugins_dir`: `plugins.lock` beside it.
pub fn path_beside(plugins_dir: &Path) -> PathBuf {
    plugins_dir.with_file_name(LOCK_FILE)
}

/// One installed plugin, as `wharf plugin add` recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Locked {
    pub kind: PluginKind,
    /// The digest the artifact must have.
    pub sha256: Sha256,
    /// The names of its tools when it was installed.
    pub tools: Vec<String>,
}

/// The parsed lock: plugin name → entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PluginLock {
    entries: BTreeMap<String, Locked>,
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(transparent)]
    Read(#[from] ReadError),
    #[error(
        "{}: {message} (delete the file and install the plugins again with `wharf plugin add`)",
        path.display()
    )]
    Invalid { path: PathBuf, message: String },
    #[error("cannot write {}: {error}", path.display())]
    Write { path: PathBuf, error: io::Error },
}

#[derive(Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LockToml {
    #[serde(default)]
    plugins: BTreeMap<String, LockedToml>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct LockedToml {
    kind: String,
    sha256: String,
    #[serde(default)]
    tools: Vec<String>,
}

impl PluginLock {
    /// Reads the lock at `path`; a missing file is an empty lock.
    pub fn read(path: &Path) -> Result<PluginLock, LockError> {
        let bytes = match read_limited(path, MAX_LOCK_BYTES, "plugins.lock") {
            Ok(bytes) => bytes,
            Err(ReadError::Io { error, .. }) if error.kind() == io::ErrorKind::NotFound => {
                return Ok(PluginLock::default());
            }
            Err(err) => return Err(err.into()),
        };
        let invalid = |message: String| LockError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        let text = String::from_utf8(bytes).map_err(|_| invalid("not UTF-8 text".to_owned()))?;
        let raw: LockToml =
            toml::from_str(&text).map_err(|err| invalid(err.message().to_owned()))?;
        let mut entries = BTreeMap::new();
        for (name, entry) in raw.plugins {
            let at = |message: String| invalid(format!("plugins.{name}: {message}"));
            PluginName::try_from(name.clone()).map_err(|err| at(err.to_string()))?;
            let kind = match entry.kind.as_str() {
                "wasm" => PluginKind::Wasm,
                "native" => PluginKind::Native,
                other => return Err(at(format!("unknown kind `{other}`"))),
            };
            let sha256: Sha256 = entry.sha256.parse().map_err(|err| at(format!("{err}")))?;
            let locked = Locked {
                kind,
                sha256,
                tools: entry.tools,
            };
            entries.insert(name, locked);
        }
        Ok(PluginLock { entries })
    }

    /// Writes the lock to `path` atomically: a temporary file in the same
    /// directory, flushed, then renamed over it.
    pub fn write(&self, path: &Path) -> Result<(), LockError> {
        let failed = |error| LockError::Write {
            path: path.to_path_buf(),
            error,
        };
        let raw = LockToml {
            plugins: self
                .entries
                .iter()
                .map(|(name, locked)| {
                    let entry = LockedToml {
                        kind: locked.kind.as_str().to_owned(),
                        sha256: locked.sha256.to_hex(),
                        tools: locked.tools.clone(),
                    };
                    (name.clone(), entry)
                })
                .collect(),
        };
        let body = toml::to_string(&raw)
            .map_err(|err| failed(io::Error::new(io::ErrorKind::InvalidData, err)))?;
        let dir = path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(failed)?;
        let mut file = tempfile::Builder::new()
            .prefix(".plugins.lock-")
            .tempfile_in(dir)
            .map_err(failed)?;
        file.write_all(format!("{HEADER}\n{body}").as_bytes())
            .and_then(|()| file.as_file().sync_all())
            .map_err(failed)?;
        file.persist(path).map_err(|err| failed(err.error))?;
        Ok(())
    }

    pub fn get(&self, name: &str) -> Option<&Locked> {
        self.entries.get(name)
    }

    pub fn insert(&mut self, name: &PluginName, locked: Locked) {
        self.entries.insert(name.as_str().to_owned(), locked);
    }

    pub fn remove(&mut self, name: &str) -> Option<Locked> {
        self.entries.remove(name)
    }

    /// Every entry, by plugin name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Locked)> {
        self.entries
            .iter()
            .map(|(name, locked)| (name.as_str(), locked))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_is_written_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = path_beside(&dir.path().join("plugins"));
        assert_eq!(path, dir.path().join("plugins.lock"));
        assert_eq!(PluginLock::read(&path).unwrap(), PluginLock::default());

        let mut lock = PluginLock::default();
        let locked = Locked {
            kind: PluginKind::Native,
            sha256: Sha256([7; 32]),
            tools: vec!["a".to_owned(), "b".to_owned()],
        };
        lock.insert(&"one".parse().unwrap(), locked.clone());
        lock.write(&path).unwrap();
        let read = PluginLock::read(&path).unwrap();
        assert_eq!(read.get("one"), Some(&locked));
        assert_eq!(read, lock);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with(HEADER), "{text}");
        let leftovers = std::fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(leftovers, 1);
    }

    #[test]
    fn a_broken_lock_names_the_file_and_the_entry() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LOCK_FILE);
        let sha = "0".repeat(64);
        // (contents, the start of the message after the path)
        let cases = [
            ("[plugins", "unclosed table, expected `]`"),
            (
                &*format!("[plugins.x]\nkind = \"elf\"\nsha256 = \"{sha}\"\n"),
                "plugins.x: unknown kind `elf`",
            ),
            (
                "[plugins.x]\nkind = \"wasm\"\nsha256 = \"12\"\n",
                "plugins.x: `12` is not a sha256 digest",
            ),
            (
                &*format!("[plugins.\"../x\"]\nkind = \"wasm\"\nsha256 = \"{sha}\"\n"),
                "plugins.../x: `../x` is not a valid plugin name",
            ),
        ];
        for (text, expected) in cases {
            std::fs::write(&path, text).unwrap();
            let message = PluginLock::read(&path).unwrap_err().to_string();
            let prefix = format!("{}: {expected}", path.display());
            assert!(message.starts_with(&prefix), "{text}: {message}");
        }
    }
}
