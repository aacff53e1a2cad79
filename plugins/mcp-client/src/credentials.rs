//! Where the OAuth tokens of streamable-HTTP MCP servers are kept: the OS
//! keyring, or `$WHARF_HOME/.credentials.json` (mode 0600).
//!
//! Tokens are stored under the server's name **and** a hash of its URL, so a
//! server that is renamed, or a name that is reused for another URL, never
//! sends one server's tokens to another.
//!
//! The keyring is tried in this order: the Secret Service over D-Bus (a
//! desktop's keyring, persistent; behind the `secret-service` cargo
//! feature), then the Linux kernel's keyutils (the user's persistent
//! keyring: kept across processes and logins, not across reboots). A
//! machine without either (a container, CI) uses the file in `auto` mode;
//! [`CredentialStore::note`] says so, for the caller to print.

mod file;
mod keyring;

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use file::FileStore;
use keyring::KeyringStore;
pub use keyring::join_new_session_keyring;

/// The file the `file` store uses, in `$WHARF_HOME`.
pub const CREDENTIALS_FILE: &str = ".credentials.json";

/// The keyring service name under which wharf keeps MCP tokens.
pub const KEYRING_SERVICE: &str = "wharf MCP OAuth";

/// `mcp_oauth_credentials_store`: where tokens go.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum StoreMode {
    /// The OS keyring, or the file when no keyring works here.
    #[default]
    Auto,
    /// The OS keyring only; an error when there is none.
    Keyring,
    /// `$WHARF_HOME/.credentials.json` only.
    File,
}

/// What a login produced, and what a refresh needs without discovering the
/// server's metadata again.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredTokens {
    /// The `[mcp_servers.NAME]` the tokens were obtained for.
    pub server_name: String,
    /// The server's URL at login; tokens are only used for this URL.
    pub server_url: String,
    /// The client id the authorization server gave wharf (dynamic
    /// client registration).
    pub client_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    pub access_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// Unix seconds; `None` when the server did not say (the token is used
    /// until the server refuses it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
    /// The scopes granted (or, when the server did not say, requested).
    #[serde(default)]
    pub scopes: Vec<String>,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revocation_endpoint: Option<String>,
    /// The authorization server's `issuer`, when its metadata has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
}

impl StoredTokens {
    /// The key the tokens are stored under.
    pub fn key(&self) -> CredentialKey {
        CredentialKey::new(&self.server_name, &self.server_url)
    }
}

/// Tokens never reach a log or an error message.
impl fmt::Debug for StoredTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StoredTokens")
            .field("server_name", &self.server_name)
            .field("server_url", &self.server_url)
            .field("client_id", &self.client_id)
            .field("access_token", &"[redacted]")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[redacted]"),
            )
            .field("expires_at", &self.expires_at)
            .field("scopes", &self.scopes)
            .field("token_endpoint", &self.token_endpoint)
            .finish_non_exhaustive()
    }
}

/// A server's name and URL: what tokens are stored under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialKey {
    pub server_name: String,
    pub server_url: String,
}

impl CredentialKey {
    pub fn new(server_name: &str, server_url: &str) -> CredentialKey {
        CredentialKey {
            server_name: server_name.to_owned(),
            server_url: server_url.to_owned(),
        }
    }

    /// `NAME|<16 hex digits of sha256(URL)>`: readable in the file and in
    /// `keyctl show`, without putting the URL (which may carry a tenant or
    /// a path someone considers private) into the key.
    pub fn storage_key(&self) -> String {
        let digest = Sha256::digest(self.server_url.as_bytes());
        let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
        format!("{}|{hex}", self.server_name)
    }

    /// Stored tokens belong to this key only if they were obtained for the
    /// same URL (the hash in the storage key makes a mismatch unlikely;
    /// this makes it impossible).
    fn matches(&self, tokens: &StoredTokens) -> bool {
        tokens.server_url == self.server_url
    }
}

/// Why tokens could not be read, written or deleted.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("{path}: {action}: {source}")]
    Io {
        path: PathBuf,
        action: &'static str,
        #[source]
        source: io::Error,
    },
    #[error(
        "{path}: not a valid credentials file ({source}); fix it, or delete it and run `wharf mcp login` again"
    )]
    CorruptFile {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error(
        "{backend}: the entry `{key}` is not valid stored tokens ({source}); run `wharf mcp logout` and `wharf mcp login` again"
    )]
    CorruptEntry {
        backend: &'static str,
        key: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("{backend}: cannot {action} `{key}`: {source}")]
    Keyring {
        backend: &'static str,
        action: &'static str,
        key: String,
        #[source]
        source: keyring_core::Error,
    },
    #[error(
        "mcp_oauth_credentials_store = \"keyring\", but no OS keyring works here ({reasons}); use \"auto\" or \"file\" to keep tokens in {file}"
    )]
    NoKeyring { reasons: String, file: PathBuf },
    #[error("{0}")]
    Unavailable(String),
}

/// Where one server's tokens are read and written.
pub struct CredentialStore {
    keyring: Option<KeyringStore>,
    file: Option<FileStore>,
    note: Option<String>,
}

impl CredentialStore {
    /// Opens the store `mode` asks for. Finding out whether a keyring works
    /// takes a fraction of a millisecond when it does not (no D-Bus socket,
    /// no keyutils), so this is done once per process, not per call.
    pub fn open(mode: StoreMode, wharf_home: &Path) -> Result<CredentialStore, CredentialError> {
        CredentialStore::open_with_service(mode, wharf_home, KEYRING_SERVICE)
    }

    /// [`CredentialStore::open`] with another keyring service name, so that
    /// tests do not meet each other's (or the user's) entries.
    pub fn open_with_service(
        mode: StoreMode,
        wharf_home: &Path,
        service: &str,
    ) -> Result<CredentialStore, CredentialError> {
        let file = FileStore::new(wharf_home.join(CREDENTIALS_FILE));
        match mode {
            StoreMode::File => Ok(CredentialStore {
                keyring: None,
                file: Some(file),
                note: None,
            }),
            StoreMode::Keyring => match KeyringStore::open(service) {
                Ok(keyring) => Ok(CredentialStore {
                    keyring: Some(keyring),
                    file: None,
                    note: None,
                }),
                Err(reasons) => Err(CredentialError::NoKeyring {
                    reasons,
                    file: file.path,
                }),
            },
            StoreMode::Auto => match KeyringStore::open(service) {
                Ok(keyring) => Ok(CredentialStore {
                    keyring: Some(keyring),
                    file: Some(file),
                    note: None,
                }),
                Err(reasons) => {
                    let note = format!(
                        "no OS keyring works here ({reasons}); MCP OAuth tokens are kept in {} (mode 0600)",
                        file.path.display()
                    );
                    Ok(CredentialStore {
                        keyring: None,
                        file: Some(file),
                        note: Some(note),
                    })
                }
            },
        }
    }

    /// A store that keeps tokens in the kernel keyring through keyutils,
    /// with no file; for tests of that backend (which must join a session
    /// keyring of their own first, see [`join_new_session_keyring`]).
    pub fn keyutils(service: &str) -> Result<CredentialStore, CredentialError> {
        let keyring = KeyringStore::keyutils(service).map_err(CredentialError::Unavailable)?;
        Ok(CredentialStore {
            keyring: Some(keyring),
            file: None,
            note: None,
        })
    }

    /// Why the store is not what the user may expect (`auto` fell back to
    /// the file), for the caller to print as a warning; `None` otherwise.
    pub fn note(&self) -> Option<&str> {
        self.note.as_deref()
    }

    /// Where tokens are written: "the OS keyring (Linux keyutils)" or the
    /// file's path.
    pub fn describe(&self) -> String {
        match (&self.keyring, &self.file) {
            (Some(keyring), _) => format!("the OS keyring ({})", keyring.backend.name()),
            (None, Some(file)) => file.path.display().to_string(),
            (None, None) => "nowhere".to_owned(),
        }
    }

    /// The tokens stored for `key`, if any. In `auto` mode a keyring that
    /// has none (or fails) is backed by the file, so tokens written there
    /// while no keyring worked are still found.
    pub fn load(&self, key: &CredentialKey) -> Result<Option<StoredTokens>, CredentialError> {
        let keyring_result = match &self.keyring {
            Some(keyring) => match keyring.load(key) {
                Ok(Some(tokens)) => return Ok(Some(tokens)),
                Ok(None) => Ok(None),
                Err(err) => Err(err),
            },
            None => Ok(None),
        };
        match &self.file {
            Some(file) => match file.load(key)? {
                Some(tokens) => Ok(Some(tokens)),
                None => keyring_result,
            },
            None => keyring_result,
        }
    }

    /// Stores `tokens` under their server's key, replacing what was there.
    /// In `auto` mode a keyring that fails to write falls back to the
    /// file; a successful keyring write removes a stale copy from the file.
    pub fn save(&self, tokens: &StoredTokens) -> Result<(), CredentialError> {
        let key = tokens.key();
        if let Some(keyring) = &self.keyring {
            match keyring.save(tokens) {
                Ok(()) => {
                    if let Some(file) = &self.file {
                        file.delete(&key)?;
                    }
                    return Ok(());
                }
                Err(err) if self.file.is_none() => return Err(err),
                Err(_) => {}
            }
        }
        match &self.file {
            Some(file) => file.save(tokens),
            None => Ok(()),
        }
    }

    /// Removes the tokens stored for `key` from every backend of the store.
    /// Returns whether there were any.
    pub fn delete(&self, key: &CredentialKey) -> Result<bool, CredentialError> {
        let mut removed = false;
        if let Some(keyring) = &self.keyring {
            removed |= keyring.delete(key)?;
        }
        if let Some(file) = &self.file {
            removed |= file.delete(key)?;
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;
    use std::time::{SystemTime, UNIX_EPOCH};

    use super::*;

    const URL: &str = "http://127.0.0.1:1/mcp";

    fn tokens(name: &str, url: &str, access: &str) -> StoredTokens {
        StoredTokens {
            server_name: name.to_owned(),
            server_url: url.to_owned(),
            client_id: "client-1".to_owned(),
            client_secret: None,
            access_token: access.to_owned(),
            refresh_token: Some(format!("refresh-{access}")),
            expires_at: Some(1_900_000_000),
            scopes: vec!["read".to_owned()],
            authorization_endpoint: "http://127.0.0.1:1/authorize".to_owned(),
            token_endpoint: "http://127.0.0.1:1/token".to_owned(),
            revocation_endpoint: None,
            issuer: None,
        }
    }

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    /// A keyring service name no other test (or run) uses.
    fn unique_service(test: &str) -> String {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        format!("wharf-test {test} {} {nanos}", std::process::id())
    }

    #[test]
    fn file_store_round_trip_is_private() {
        let home = tempfile::tempdir().unwrap();
        let store = CredentialStore::open(StoreMode::File, home.path()).unwrap();
        let saved = tokens("docs", URL, "a1");
        store.save(&saved).unwrap();

        let path = home.path().join(CREDENTIALS_FILE);
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&path.with_extension("json.lock")), 0o600);
        assert_eq!(store.load(&saved.key()).unwrap(), Some(saved.clone()));
        assert_eq!(store.describe(), path.display().to_string());
        assert_eq!(store.note(), None);

        let map: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let entry = &map[saved.key().storage_key()];
        assert_eq!(entry["access_token"], "a1");
        assert_eq!(entry["server_url"], URL);
    }

    #[test]
    fn a_group_readable_file_is_replaced_by_a_private_one() {
        let home = tempfile::tempdir().unwrap();
        let path = home.path().join(CREDENTIALS_FILE);
        std::fs::write(&path, "{}").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();

        let store = CredentialStore::open(StoreMode::File, home.path()).unwrap();
        store.save(&tokens("docs", URL, "a1")).unwrap();
        assert_eq!(mode(&path), 0o600);
    }

    #[test]
    fn tokens_are_keyed_by_name_and_url() {
        let home = tempfile::tempdir().unwrap();
        let store = CredentialStore::open(StoreMode::File, home.path()).unwrap();
        store.save(&tokens("docs", URL, "a1")).unwrap();

        let other_url = CredentialKey::new("docs", "http://127.0.0.1:2/mcp");
        let other_name = CredentialKey::new("wiki", URL);
        assert_eq!(store.load(&other_url).unwrap(), None);
        assert_eq!(store.load(&other_name).unwrap(), None);
        assert_ne!(
            other_url.storage_key(),
            CredentialKey::new("docs", URL).storage_key()
        );
    }

    #[test]
    fn delete_removes_one_entry() {
        let home = tempfile::tempdir().unwrap();
        let store = CredentialStore::open(StoreMode::File, home.path()).unwrap();
        let docs = tokens("docs", URL, "a1");
        let wiki = tokens("wiki", URL, "w1");
        store.save(&docs).unwrap();
        store.save(&wiki).unwrap();

        assert!(store.delete(&docs.key()).unwrap());
        assert!(!store.delete(&docs.key()).unwrap());
        assert_eq!(store.load(&docs.key()).unwrap(), None);
        assert_eq!(store.load(&wiki.key()).unwrap(), Some(wiki));
    }

    #[test]
    fn concurrent_writers_keep_every_update() {
        let home = tempfile::tempdir().unwrap();
        let writers = 6;
        let rounds = 10;
        std::thread::scope(|scope| {
            for writer in 0..writers {
                let home = home.path();
                scope.spawn(move || {
                    // One store per writer, as separate processes would have.
                    let store = CredentialStore::open(StoreMode::File, home).unwrap();
                    for round in 0..rounds {
                        let name = format!("server-{writer}");
                        store
                            .save(&tokens(&name, URL, &format!("t{round}")))
                            .unwrap();
                    }
                });
            }
        });

        let store = CredentialStore::open(StoreMode::File, home.path()).unwrap();
        for writer in 0..writers {
            let key = CredentialKey::new(&format!("server-{writer}"), URL);
            let loaded = store.load(&key).unwrap().unwrap();
            assert_eq!(loaded.access_token, format!("t{}", rounds - 1));
        }
        let mut names: Vec<String> = std::fs::read_dir(home.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, [".credentials.json", ".credentials.json.lock"]);
    }

    #[test]
    fn a_corrupt_file_is_an_error_naming_it() {
        let home = tempfile::tempdir().unwrap();
        let path = home.path().join(CREDENTIALS_FILE);
        std::fs::write(&path, "{\"docs|00\": {\"access_token\": ").unwrap();
        let store = CredentialStore::open(StoreMode::File, home.path()).unwrap();

        let err = store.load(&CredentialKey::new("docs", URL)).unwrap_err();
        let message = err.to_string();
        assert!(message.starts_with(&format!("{}: not a valid credentials file", path.display())));
        assert!(
            message.contains("delete it and run `wharf mcp login` again"),
            "{message}"
        );
        // A save must not overwrite what it could not read.
        assert!(store.save(&tokens("docs", URL, "a1")).is_err());
        assert!(std::fs::read_to_string(&path).unwrap().ends_with(": "));
    }

    #[test]
    fn keyutils_store_saves_loads_and_deletes() {
        join_new_session_keyring().unwrap();
        let service = unique_service("keyutils");
        let store = CredentialStore::keyutils(&service).unwrap();
        assert_eq!(store.describe(), "the OS keyring (Linux keyutils)");
        let first = tokens("docs", URL, "k1");
        let key = first.key();

        assert_eq!(store.load(&key).unwrap(), None);
        store.save(&first).unwrap();
        assert_eq!(store.load(&key).unwrap(), Some(first));
        let second = tokens("docs", URL, "k2");
        store.save(&second).unwrap();
        assert_eq!(store.load(&key).unwrap(), Some(second));
        assert_eq!(
            store
                .load(&CredentialKey::new("docs", "http://other/mcp"))
                .unwrap(),
            None
        );

        assert!(store.delete(&key).unwrap());
        assert_eq!(store.load(&key).unwrap(), None);
        assert!(!store.delete(&key).unwrap());
    }

    #[test]
    fn keyutils_tokens_outlive_the_session_keyring_that_wrote_them() {
        // `wharf mcp login` writes and exits; a later wharf process has
        // another session keyring. The persistent keyring bridges them.
        join_new_session_keyring().unwrap();
        let service = unique_service("persistent");
        let saved = tokens("docs", URL, "p1");
        CredentialStore::keyutils(&service)
            .unwrap()
            .save(&saved)
            .unwrap();

        join_new_session_keyring().unwrap();
        let later = CredentialStore::keyutils(&service).unwrap();
        assert_eq!(later.load(&saved.key()).unwrap(), Some(saved.clone()));
        assert!(later.delete(&saved.key()).unwrap());
    }

    #[test]
    fn auto_prefers_the_keyring_and_still_finds_file_tokens() {
        join_new_session_keyring().unwrap();
        let home = tempfile::tempdir().unwrap();
        let service = unique_service("auto");
        let old = tokens("docs", URL, "from-file");
        CredentialStore::open(StoreMode::File, home.path())
            .unwrap()
            .save(&old)
            .unwrap();

        let auto =
            CredentialStore::open_with_service(StoreMode::Auto, home.path(), &service).unwrap();
        assert_eq!(auto.note(), None, "keyutils works on this machine");
        assert_eq!(auto.load(&old.key()).unwrap(), Some(old.clone()));

        // A save goes to the keyring and takes the plaintext copy away.
        let new = tokens("docs", URL, "from-keyring");
        auto.save(&new).unwrap();
        let file_only = CredentialStore::open(StoreMode::File, home.path()).unwrap();
        assert_eq!(file_only.load(&old.key()).unwrap(), None);
        assert_eq!(auto.load(&new.key()).unwrap(), Some(new.clone()));
        assert!(auto.delete(&new.key()).unwrap());
        assert_eq!(auto.load(&new.key()).unwrap(), None);
    }

    #[test]
    fn debug_output_hides_the_tokens() {
        let shown = format!("{:?}", tokens("docs", URL, "secret-access"));
        assert!(!shown.contains("secret-access"), "{shown}");
        assert!(shown.contains("[redacted]"));
    }
}
