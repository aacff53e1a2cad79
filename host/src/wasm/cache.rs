//! Compiled components on disk, so that a warm start never compiles.
//!
//! An entry is `<artifact sha256>-<engine compatibility hash>.cwasm` under
//! the cache directory, holding exactly the bytes of
//! `Component::serialize`, so that loading it is an mmap. Entries are
//! written to a temporary file in the same directory and renamed, so a
//! reader never sees a partial one; the directory is private to the user.

use std::fs;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write as _;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};

use wasmtime::Engine;
use wasmtime::component::Component;

use super::{WasmError, compile, hex};
use crate::plugin::ToolSpec;

/// What a full load of an artifact learned: enough to list its tools
/// without compiling or mapping it.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(super) struct Known {
    pub(super) api_version: String,
    pub(super) tools: Vec<ToolSpec>,
}

#[derive(Debug, Clone)]
pub(super) struct CompileCache {
    dir: PathBuf,
    /// Changes whenever compiled code from one engine would not run on
    /// another (wasmtime version, `Config`, CPU features).
    compat: u64,
}

impl CompileCache {
    pub(super) fn new(dir: PathBuf, engine: &Engine) -> CompileCache {
        let mut hasher = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        CompileCache {
            dir,
            compat: hasher.finish(),
        }
    }

    fn entry(&self, sha256: &[u8; 32]) -> PathBuf {
        self.dir
            .join(format!("{}-{:016x}.cwasm", hex(sha256), self.compat))
    }

    fn known_entry(&self, sha256: &[u8; 32]) -> PathBuf {
        self.dir
            .join(format!("{}-{:016x}.tools.json", hex(sha256), self.compat))
    }

    /// What an earlier full load of this exact artifact learned, if it was
    /// recorded by an engine like this one.
    pub(super) fn known(&self, sha256: &[u8; 32]) -> Option<Known> {
        let path = self.known_entry(sha256);
        if !self.trusted(&path) || !self.trusted(&self.entry(sha256)) {
            return None;
        }
        serde_json::from_slice(&fs::read(path).ok()?).ok()
    }

    /// Records what a full load learned, for the next start.
    pub(super) fn remember(&self, sha256: &[u8; 32], api_version: &str, tools: &[ToolSpec]) {
        let known = Known {
            api_version: api_version.to_owned(),
            tools: tools.to_vec(),
        };
        let Ok(json) = serde_json::to_vec(&known) else {
            return;
        };
        let write = || -> std::io::Result<()> {
            create_private_dir(&self.dir)?;
            let mut file = tempfile::NamedTempFile::new_in(&self.dir)?;
            file.write_all(&json)?;
            file.persist(self.known_entry(sha256))
                .map_err(|err| err.error)?;
            Ok(())
        };
        // Like the compiled code: a cache that cannot be written only costs
        // time on the next start.
        let _ = write();
    }

    /// The component for `bytes` (whose hash is `sha256`), from the cache
    /// when an entry verifies, compiled (and stored) otherwise. The flag says
    /// whether it came from the cache.
    pub(super) fn get_or_compile(
        &self,
        engine: &Engine,
        sha256: &[u8; 32],
        bytes: &[u8],
    ) -> Result<(Component, bool), WasmError> {
        let path = self.entry(sha256);
        if self.trusted(&path) {
            // SAFETY: `Component::deserialize_file` requires a file written
            // by `Component::serialize` of a compatible engine, which nobody
            // modifies while it is mapped. The entry's name binds it to the
            // sha256 of exactly this artifact and to this engine's
            // compatibility hash; entries are only written by `store` below
            // (temporary file + rename) from `serialize` of an engine with
            // that hash; `trusted` checked that the file belongs to this
            // user and that neither it nor its directory is writable by
            // anyone else, and wharf never rewrites an entry in place (a
            // new one replaces it by rename, leaving mapped pages intact).
            // wasmtime additionally checks its own version and
            // configuration header and fails cleanly on a mismatch.
            if let Ok(component) = unsafe { Component::deserialize_file(engine, &path) } {
                return Ok((component, true));
            }
        }
        let component = compile(engine, bytes)?;
        // A cache that cannot be written only costs time on the next start.
        let _ = self.store(&path, &component);
        Ok((component, false))
    }

    /// Whether `path` is an entry only this user could have written: owned
    /// by the owner of the (private) cache directory, and not writable by
    /// group or others, in a directory that is not either.
    fn trusted(&self, path: &Path) -> bool {
        let (Ok(dir), Ok(file)) = (fs::metadata(&self.dir), fs::symlink_metadata(path)) else {
            return false;
        };
        file.is_file()
            && file.uid() == dir.uid()
            && file.mode() & 0o022 == 0
            && dir.mode() & 0o022 == 0
    }

    fn store(&self, path: &Path, component: &Component) -> std::io::Result<()> {
        let serialized = component
            .serialize()
            .map_err(|err| std::io::Error::other(format!("{err:#}")))?;
        create_private_dir(&self.dir)?;
        let mut file = tempfile::NamedTempFile::new_in(&self.dir)?;
        file.write_all(&serialized)?;
        file.persist(path).map_err(|err| err.error)?;
        Ok(())
    }
}

/// Creates `dir` (and parents) readable by the user only: the cache holds
/// native code that wharf will map executable.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt as _;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}
