//! The OS keyrings, through `keyring-core`: the Secret Service, then the
//! kernel's keyutils.

use std::sync::Arc;

use super::{CredentialError, CredentialKey, StoredTokens};

/// An OS keyring, through `keyring-core`.
pub(super) struct KeyringStore {
    store: Arc<keyring_core::CredentialStore>,
    pub(super) backend: KeyringBackend,
    service: String,
}

#[derive(Debug, Clone, Copy)]
pub(super) enum KeyringBackend {
    #[cfg(feature = "secret-service")]
    SecretService,
    Keyutils,
}

impl KeyringBackend {
    pub(super) fn name(self) -> &'static str {
        match self {
            #[cfg(feature = "secret-service")]
            KeyringBackend::SecretService => "Secret Service",
            KeyringBackend::Keyutils => "Linux keyutils",
        }
    }

    fn is_keyutils(self) -> bool {
        match self {
            #[cfg(feature = "secret-service")]
            KeyringBackend::SecretService => false,
            KeyringBackend::Keyutils => true,
        }
    }
}

impl KeyringStore {
    /// The first keyring that works here, or why none does.
    pub(super) fn open(service: &str) -> Result<KeyringStore, String> {
        let mut reasons = Vec::new();
        #[cfg(feature = "secret-service")]
        match zbus_secret_service_keyring_store::Store::new() {
            Ok(store) => {
                return Ok(KeyringStore {
                    store,
                    backend: KeyringBackend::SecretService,
                    service: service.to_owned(),
                });
            }
            Err(err) => reasons.push(format!("Secret Service: {err}")),
        }
        match KeyringStore::keyutils(service) {
            Ok(store) => Ok(store),
            Err(reason) => {
                reasons.push(reason);
                Err(reasons.join("; "))
            }
        }
    }

    pub(super) fn keyutils(service: &str) -> Result<KeyringStore, String> {
        keyutils::ensure_usable().map_err(|reason| format!("Linux keyutils: {reason}"))?;
        let store = linux_keyutils_keyring_store::Store::new()
            .map_err(|err| format!("Linux keyutils: {err}"))?;
        Ok(KeyringStore {
            store,
            backend: KeyringBackend::Keyutils,
            service: service.to_owned(),
        })
    }

    fn entry(
        &self,
        key: &str,
        action: &'static str,
    ) -> Result<keyring_core::Entry, CredentialError> {
        if self.backend.is_keyutils() {
            // A thread created before the session keyring was joined (a
            // runtime's worker) has none: join one here too. Entries cache
            // the session keyring's id, hence one entry per operation.
            keyutils::ensure_usable().map_err(|reason| CredentialError::Keyring {
                backend: self.backend.name(),
                action,
                key: key.to_owned(),
                source: keyring_core::Error::NoStorageAccess(reason.into()),
            })?;
        }
        self.store
            .build(&self.service, key, None)
            .map_err(|source| self.error(action, key, source))
    }

    fn error(
        &self,
        action: &'static str,
        key: &str,
        source: keyring_core::Error,
    ) -> CredentialError {
        CredentialError::Keyring {
            backend: self.backend.name(),
            action,
            key: key.to_owned(),
            source,
        }
    }

    pub(super) fn load(
        &self,
        key: &CredentialKey,
    ) -> Result<Option<StoredTokens>, CredentialError> {
        let storage_key = key.storage_key();
        let entry = self.entry(&storage_key, "read")?;
        let secret = match entry.get_secret() {
            Ok(secret) => secret,
            Err(keyring_core::Error::NoEntry) => return Ok(None),
            Err(source) => return Err(self.error("read", &storage_key, source)),
        };
        let tokens: StoredTokens =
            serde_json::from_slice(&secret).map_err(|source| CredentialError::CorruptEntry {
                backend: self.backend.name(),
                key: storage_key,
                source,
            })?;
        Ok(Some(tokens).filter(|tokens| key.matches(tokens)))
    }

    pub(super) fn save(&self, tokens: &StoredTokens) -> Result<(), CredentialError> {
        let storage_key = tokens.key().storage_key();
        let entry = self.entry(&storage_key, "write")?;
        let secret =
            serde_json::to_vec(tokens).map_err(|source| CredentialError::CorruptEntry {
                backend: self.backend.name(),
                key: storage_key.clone(),
                source,
            })?;
        entry
            .set_secret(&secret)
            .map_err(|source| self.error("write", &storage_key, source))
    }

    pub(super) fn delete(&self, key: &CredentialKey) -> Result<bool, CredentialError> {
        let storage_key = key.storage_key();
        let entry = self.entry(&storage_key, "delete")?;
        match entry.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring_core::Error::NoEntry) => Ok(false),
            Err(source) => Err(self.error("delete", &storage_key, source)),
        }
    }
}

pub use keyutils::join_new_session_keyring;

/// The kernel keyring's conditions for keeping tokens.
mod keyutils {
    use linux_keyutils::{KeyRing, KeyRingIdentifier};

    /// A thread whose process was started outside a login session (a
    /// container, a service, CI) has no session keyring; the kernel then
    /// lends it the user's "user session" keyring (`_uid_ses.UID`), which
    /// in a user namespace it may not even write to. Join a new session
    /// keyring of its own in that case, and require the user's persistent
    /// keyring: keys are linked there too, which is what lets `wharf mcp
    /// login` (a process that exits) hand tokens to a later wharf process
    /// with a different session keyring. Without it the keys would die
    /// with the process, and the file is the better place.
    pub(super) fn ensure_usable() -> Result<(), String> {
        if !has_own_session_keyring() {
            join_new_session_keyring()
                .map_err(|err| format!("cannot join a session keyring: {err}"))?;
            if !has_own_session_keyring() {
                return Err("no session keyring after joining one".to_owned());
            }
        }
        KeyRing::get_persistent(KeyRingIdentifier::Session)
            .map(|_| ())
            .map_err(|err| {
                format!("no persistent keyring ({err:?}), so tokens would not outlive the process")
            })
    }

    fn has_own_session_keyring() -> bool {
        KeyRing::from_special_id(KeyRingIdentifier::Session, false)
            .and_then(|keyring| keyring.metadata())
            .is_ok_and(|metadata| !metadata.get_description().starts_with("_uid_ses."))
    }

    /// Joins a new, anonymous session keyring (see
    /// [`wharf_sandbox::join_new_session_keyring`]). Tests call it to get a
    /// keyring no other test shares.
    pub fn join_new_session_keyring() -> std::io::Result<()> {
        wharf_sandbox::join_new_session_keyring()
    }
}
