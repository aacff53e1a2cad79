//! Compiled components on disk, so that a warm start never compiles.
//!
//! An entry is `<artifact sha256>-<engine compatibility hash>.cwasm` under
//! the cache directory: a header binding it to both, then the bytes of
//! `Component::serialize`. Entries are written to a temporary file and
//! renamed, so a reader never sees a partial one.

use std::fs;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use wasmtime::Engine;
use wasmtime::component::Component;

use super::{WasmError, compile, hex};

const MAGIC: &[u8; 8] = b"WHARFCW1";
const HEADER_LEN: usize = 8 + 32 + 8 + 8;

#[derive(Debug)]
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
        if let Ok(data) = fs::read(&path)
            && let Some(serialized) = self.verified(&data, sha256)
        {
            // SAFETY: `Component::deserialize` requires bytes produced by
            // `Component::serialize` of a compatible engine. `verified`
            // checked that this entry carries our magic number, the sha256
            // of exactly this artifact, this engine's compatibility hash and
            // its full length; entries are only ever written by `store`
            // below (temporary file + rename, in a directory private to the
            // user), from `serialize` of an engine with that same hash.
            // wasmtime additionally checks its own version and
            // configuration header and fails cleanly on a mismatch.
            if let Ok(component) = unsafe { Component::deserialize(engine, serialized) } {
                return Ok((component, true));
            }
        }
        let component = compile(engine, bytes)?;
        // A cache that cannot be written only costs time on the next start.
        let _ = self.store(&path, sha256, &component);
        Ok((component, false))
    }

    fn verified<'a>(&self, data: &'a [u8], sha256: &[u8; 32]) -> Option<&'a [u8]> {
        let (header, payload) = data.split_at_checked(HEADER_LEN)?;
        let (magic, rest) = header.split_at_checked(8)?;
        let (hash, rest) = rest.split_at_checked(32)?;
        let (compat, len) = rest.split_at_checked(8)?;
        let compat = u64::from_le_bytes(compat.try_into().ok()?);
        let len = u64::from_le_bytes(len.try_into().ok()?);
        let intact = magic == MAGIC
            && hash == sha256
            && compat == self.compat
            && u64::try_from(payload.len()).ok()? == len;
        intact.then_some(payload)
    }

    fn store(&self, path: &Path, sha256: &[u8; 32], component: &Component) -> std::io::Result<()> {
        let serialized = component
            .serialize()
            .map_err(|err| std::io::Error::other(format!("{err:#}")))?;
        create_private_dir(&self.dir)?;
        let mut file = tempfile::NamedTempFile::new_in(&self.dir)?;
        file.write_all(MAGIC)?;
        file.write_all(sha256)?;
        file.write_all(&self.compat.to_le_bytes())?;
        file.write_all(&(serialized.len() as u64).to_le_bytes())?;
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
