//! Compiled components on disk, so that a warm start never compiles.
//!
//! An entry is `<artifact sha256>-<engine compatibility hash>.cwasm` under
//! the cache directory: a tag line, then exactly the bytes of
//! `Component::serialize`; beside it, `….tools.json` (tag line, then what a
//! full load learned); and per installed artifact, `<sha256 of its
//! path>.digest`, the digest it had when last read (`digests.rs`), so that
//! an unchanged one is not read at start. Entries are written to a temporary file in the
//! same directory and renamed, so a reader never sees a partial one; the
//! directory is private to the user.
//!
//! Compiled code is native code, deserialized without checks: a file
//! swapped in by anyone but wharf would run with wharf's privileges. So the
//! cache is wharf's alone twice over. Its directory lies in `$WHARF_HOME`,
//! which no sandboxed process or plugin change may write (see
//! `Config::protected_paths`); and every entry carries a tag, an
//! HMAC-SHA256 under a random key kept beside the entries (`key`, mode
//! 0600), over the entry's name and its bytes. An entry is deserialized
//! only from bytes read into memory whose tag verified, so the code that
//! runs is the code that was checked. A writer that cannot read the key
//! (another user, a process with restricted reads) cannot forge a tag, and
//! a valid entry copied over another name does not verify.

use std::fs;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::{Read as _, Write as _};
use std::os::unix::fs::{MetadataExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use sha2::{Digest as _, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

use super::{ComponentBytes, WasmError, compile, hex};
use crate::plugin::ToolSpec;

mod digests;
pub(crate) use digests::FileStamp;

/// What a full load of an artifact learned: enough to list its tools
/// without compiling or mapping it.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub(super) struct Known {
    pub(super) api_version: String,
    pub(super) tools: Vec<ToolSpec>,
}

/// The key file, in the cache directory.
const KEY_FILE: &str = "key";
const KEY_LEN: usize = 32;
/// A file's tag: the hex of an HMAC-SHA256, then a newline.
const TAG_LEN: usize = 64;
/// Larger files are not read: no compiled component comes near.
const MAX_ENTRY_BYTES: u64 = 1 << 30;
const MAX_KNOWN_BYTES: u64 = 16 << 20;

#[derive(Debug, Clone)]
pub(super) struct CompileCache {
    dir: PathBuf,
    /// Changes whenever compiled code from one engine would not run on
    /// another (wasmtime version, `Config`, CPU features).
    compat: u64,
    /// The tag key, read (or made) on first use; `None` when it can be
    /// neither, which leaves every entry unverified, so unused.
    key: Arc<OnceLock<Option<[u8; KEY_LEN]>>>,
}

impl CompileCache {
    pub(super) fn new(dir: PathBuf, engine: &Engine) -> CompileCache {
        let mut hasher = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        CompileCache {
            dir,
            compat: hasher.finish(),
            key: Arc::default(),
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
    /// recorded by an engine like this one, its tag verifies, and the
    /// compiled entry is still there (it is verified when first used).
    pub(super) fn known(&self, sha256: &[u8; 32]) -> Option<Known> {
        if !self.entry(sha256).is_file() {
            return None;
        }
        let json = self.read_verified(&self.known_entry(sha256), MAX_KNOWN_BYTES)?;
        serde_json::from_slice(&json).ok()
    }

    /// Removes what is stored for `sha256` (an artifact that was refused or
    /// replaced); a file already gone is not an error.
    pub(super) fn forget(&self, sha256: &[u8; 32]) {
        let _ = fs::remove_file(self.entry(sha256));
        let _ = fs::remove_file(self.known_entry(sha256));
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
        // Like the compiled code: a cache that cannot be written only costs
        // time on the next start.
        let _ = self.write_tagged(&self.known_entry(sha256), &json);
    }

    /// [`CompileCache::get_or_compile_with`] of bytes at hand.
    #[cfg(test)]
    pub(super) fn get_or_compile(
        &self,
        engine: &Engine,
        sha256: &[u8; 32],
        bytes: &[u8],
    ) -> Result<(Component, bool), WasmError> {
        self.get_or_compile_with(engine, sha256, || Ok(Arc::new(bytes.to_vec())))
    }

    /// The component of the artifact whose hash is `sha256`, from the
    /// cache when an entry verifies, else compiled (and stored) from
    /// `bytes()` — called only then: the first call of a plugin whose
    /// artifact was not read at start reads it only on a cache miss. The
    /// flag says whether it came from the cache.
    pub(super) fn get_or_compile_with(
        &self,
        engine: &Engine,
        sha256: &[u8; 32],
        bytes: impl FnOnce() -> Result<ComponentBytes, WasmError>,
    ) -> Result<(Component, bool), WasmError> {
        let path = self.entry(sha256);
        if let Some(serialized) = self.read_verified(&path, MAX_ENTRY_BYTES) {
            // SAFETY: `Component::deserialize` requires bytes made by
            // `Component::serialize` of a compatible engine. These are in
            // our own memory, so nothing can change them after the check,
            // and their tag verified: an HMAC under this cache's secret key
            // over the entry's name — which binds it to the sha256 of
            // exactly this artifact and to this engine's compatibility
            // hash — and the bytes. Only `store` below makes tags for
            // entries, over the output of `serialize` of an engine with
            // that hash. wasmtime also checks its own version and
            // configuration header and fails cleanly on a mismatch.
            if let Ok(component) = unsafe { Component::deserialize(engine, &serialized) } {
                return Ok((component, true));
            }
        }
        let component = compile(engine, (*bytes()?).as_ref())?;
        // A cache that cannot be written only costs time on the next start.
        let _ = self.store(&path, &component);
        Ok((component, false))
    }

    fn store(&self, path: &Path, component: &Component) -> std::io::Result<()> {
        let serialized = component
            .serialize()
            .map_err(|err| std::io::Error::other(format!("{err:#}")))?;
        self.write_tagged(path, &serialized)
    }

    /// Writes the tag of `bytes`, a newline, then `bytes` to `path`,
    /// atomically (a temporary file renamed: a reader never sees a partial
    /// entry, and a mapped old one keeps its pages).
    fn write_tagged(&self, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
        let key = self
            .key()
            .ok_or_else(|| std::io::Error::other("the cache has no key"))?;
        let mut file = tempfile::NamedTempFile::new_in(&self.dir)?;
        file.write_all(hex(&tag(&key, path, bytes)).as_bytes())?;
        file.write_all(b"\n")?;
        file.write_all(bytes)?;
        file.persist(path).map_err(|err| err.error)?;
        Ok(())
    }

    /// The bytes after the tag of the file at `path`, if it is a regular
    /// file (not followed through a symlink) of at most `max` bytes whose
    /// tag verifies.
    fn read_verified(&self, path: &Path, max: u64) -> Option<Vec<u8>> {
        let key = self.key()?;
        let file = open_regular(path)?;
        let len = file.metadata().ok()?.len();
        if len > max {
            return None;
        }
        let mut contents = Vec::with_capacity(usize::try_from(len).ok()?);
        file.take(max).read_to_end(&mut contents).ok()?;
        let (recorded, bytes) = split_tag(&contents)?;
        let expected = hex(&tag(&key, path, bytes));
        constant_time_eq(recorded, expected.as_bytes()).then(|| bytes.to_vec())
    }

    fn key(&self) -> Option<[u8; KEY_LEN]> {
        *self.key.get_or_init(|| load_or_make_key(&self.dir).ok())
    }
}

/// Opens `path` for reading if it is a regular file, without following a
/// symlink and without blocking on a FIFO.
fn open_regular(path: &Path) -> Option<fs::File> {
    let file = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .ok()?;
    file.metadata().ok()?.is_file().then_some(file)
}

fn split_tag(contents: &[u8]) -> Option<(&[u8], &[u8])> {
    let (tag, rest) = contents.split_at_checked(TAG_LEN + 1)?;
    let (tag, newline) = tag.split_at(TAG_LEN);
    (newline == b"\n").then_some((tag, rest))
}

/// HMAC-SHA256 (RFC 2104) under `key` of the file name of `path`, a zero
/// byte, and `bytes`.
fn tag(key: &[u8; KEY_LEN], path: &Path, bytes: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut padded = [0u8; BLOCK];
    padded[..KEY_LEN].copy_from_slice(key);
    let name = path.file_name().map(|name| name.as_encoded_bytes());
    let mut inner = Sha256::new();
    inner.update(padded.map(|b| b ^ 0x36));
    inner.update(name.unwrap_or_default());
    inner.update([0]);
    inner.update(bytes);
    let mut outer = Sha256::new();
    outer.update(padded.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The cache's key: `dir/key` when it is a private file of this user of
/// the right size, else a new random one written there (the old entries
/// then stop verifying and are compiled again).
fn load_or_make_key(dir: &Path) -> std::io::Result<[u8; KEY_LEN]> {
    create_private_dir(dir)?;
    let path = dir.join(KEY_FILE);
    if let Some(mut file) = open_regular(&path) {
        let metadata = file.metadata()?;
        // SAFETY: `geteuid` has no preconditions and cannot fail.
        let uid = unsafe { libc::geteuid() };
        let mut key = [0u8; KEY_LEN];
        if metadata.len() == KEY_LEN as u64
            && metadata.uid() == uid
            && metadata.mode() & 0o077 == 0
            && file.read_exact(&mut key).is_ok()
        {
            return Ok(key);
        }
    }
    let mut key = [0u8; KEY_LEN];
    fs::File::open("/dev/urandom")?.read_exact(&mut key)?;
    let mut file = tempfile::Builder::new()
        .permissions(fs::Permissions::from_mode(0o600))
        .tempfile_in(dir)?;
    file.write_all(&key)?;
    file.persist(&path).map_err(|err| err.error)?;
    Ok(key)
}

/// Creates `dir` (and parents) readable by the user only: the cache holds
/// native code that wharf will run.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt as _;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(test)]
mod tests;
