//! `$WHARF_HOME/.credentials.json`: the store used where no OS keyring
//! works, or when the user asks for it.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use super::{CredentialError, CredentialKey, StoredTokens};

/// `$WHARF_HOME/.credentials.json`: a JSON object from storage key to
/// [`StoredTokens`].
pub(super) struct FileStore {
    pub(super) path: PathBuf,
}

type TokenMap = BTreeMap<String, StoredTokens>;

impl FileStore {
    pub(super) fn new(path: PathBuf) -> FileStore {
        FileStore { path }
    }

    pub(super) fn load(
        &self,
        key: &CredentialKey,
    ) -> Result<Option<StoredTokens>, CredentialError> {
        let map = self.read()?;
        Ok(map
            .get(&key.storage_key())
            .filter(|tokens| key.matches(tokens))
            .cloned())
    }

    pub(super) fn save(&self, tokens: &StoredTokens) -> Result<(), CredentialError> {
        self.update(|map| {
            map.insert(tokens.key().storage_key(), tokens.clone());
            true
        })
        .map(|_| ())
    }

    pub(super) fn delete(&self, key: &CredentialKey) -> Result<bool, CredentialError> {
        self.update(|map| map.remove(&key.storage_key()).is_some())
    }

    fn read(&self) -> Result<TokenMap, CredentialError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(text) => text,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(TokenMap::new()),
            Err(source) => return Err(self.io_error("cannot read", source)),
        };
        if text.trim().is_empty() {
            return Ok(TokenMap::new());
        }
        serde_json::from_str(&text).map_err(|source| CredentialError::CorruptFile {
            path: self.path.clone(),
            source,
        })
    }

    /// Read, change, write back, under an exclusive lock on a lock file
    /// beside the store, so that two wharf processes refreshing tokens of
    /// different servers at once both keep their update. `change` returns
    /// whether it changed anything; nothing is written otherwise.
    fn update(&self, change: impl FnOnce(&mut TokenMap) -> bool) -> Result<bool, CredentialError> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|source| CredentialError::Io {
            path: dir.to_owned(),
            action: "cannot create the directory",
            source,
        })?;
        let lock_path = self.path.with_extension("json.lock");
        let lock = open_private(&lock_path).map_err(|source| CredentialError::Io {
            path: lock_path.clone(),
            action: "cannot open the lock file",
            source,
        })?;
        lock.lock().map_err(|source| CredentialError::Io {
            path: lock_path.clone(),
            action: "cannot lock",
            source,
        })?;
        let mut map = self.read()?;
        if !change(&mut map) {
            return Ok(false);
        }
        self.write(dir, &map)?;
        Ok(true)
        // `lock` is released when it is dropped.
    }

    /// Writes `map` to a new file created with mode 0600 in the same
    /// directory, then renames it over the store: readers see the old or
    /// the new content, never a part, and the tokens are never in a file
    /// anyone else can read, not even for a moment.
    fn write(&self, dir: &Path, map: &TokenMap) -> Result<(), CredentialError> {
        let mut text = serde_json::to_string_pretty(map).map_err(|source| CredentialError::Io {
            path: self.path.clone(),
            action: "cannot encode",
            source: io::Error::other(source),
        })?;
        text.push('\n');
        // tempfile creates files with mode 0600 on Unix (O_EXCL, so never
        // an existing file someone else prepared).
        let mut temp = tempfile::Builder::new()
            .prefix(".credentials.")
            .suffix(".tmp")
            .tempfile_in(dir)
            .map_err(|source| self.io_error("cannot create a temporary file beside", source))?;
        temp.write_all(text.as_bytes())
            .and_then(|()| temp.as_file().sync_all())
            .map_err(|source| self.io_error("cannot write", source))?;
        temp.persist(&self.path)
            .map_err(|err| self.io_error("cannot replace", err.error))?;
        Ok(())
    }

    fn io_error(&self, action: &'static str, source: io::Error) -> CredentialError {
        CredentialError::Io {
            path: self.path.clone(),
            action,
            source,
        }
    }
}

/// Opens (creating with mode 0600) a file only its owner can use.
fn open_private(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
}
