//! The sha256 of each installed artifact as wharf last hashed it, so that
//! a start need not read and hash an unchanged heavy component (an
//! interpreter's snapshot: tens of MiB, ~10 ms of hashing each) to check
//! its pins.
//!
//! An entry, `<sha256 of the artifact's path>.digest` in the cache
//! directory, tagged like every entry, records the file's identity (device,
//! inode), size, and modification and change times with the digest. It is
//! used only while the file still has all of those: a write, a rename over
//! it or a `touch` changes one of them, and the artifact is read and hashed
//! again (which is how a swapped artifact is still refused at start). An
//! entry is written only for a file last modified [`SETTLED`] before it was
//! read, and unchanged after: timestamps tick coarsely, so a write in the
//! same tick as the read would otherwise leave the same times.
//!
//! What this cannot see (a write through a shared mapping before the
//! kernel updates the times, a filesystem with coarse times) only delays
//! the refusal of a changed artifact: the code that runs comes from the
//! compile cache under the digest that passed the pins, and an artifact
//! read to compile is hashed again and must have that digest
//! ([`super::super::read_artifact_again`]).

use std::os::unix::fs::MetadataExt as _;
use std::path::Path;
use std::time::{Duration, SystemTime};

use sha2::{Digest as _, Sha256};

use super::{CompileCache, hex};

/// How long a file must be left alone before its digest is recorded.
const SETTLED: Duration = Duration::from_secs(1);
const MAX_DIGEST_BYTES: u64 = 64 * 1024;

/// What identifies a file's contents without reading them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct FileStamp {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl FileStamp {
    /// The stamp of the regular file at `path` (followed as a read of it
    /// follows it).
    pub(crate) fn of(path: &Path) -> Option<FileStamp> {
        let metadata = std::fs::metadata(path).ok()?;
        metadata.is_file().then(|| FileStamp {
            dev: metadata.dev(),
            ino: metadata.ino(),
            size: metadata.size(),
            mtime: (metadata.mtime(), metadata.mtime_nsec()),
            ctime: (metadata.ctime(), metadata.ctime_nsec()),
        })
    }

    /// Whether the file's contents were last modified at least [`SETTLED`]
    /// before `now`: any write from then on sets another modification time.
    fn settled(&self, now: SystemTime) -> bool {
        let Ok(now) = now.duration_since(SystemTime::UNIX_EPOCH) else {
            return false;
        };
        i64::try_from(now.saturating_sub(SETTLED).as_secs()).is_ok_and(|now| self.mtime.0 < now)
    }
}

/// An entry: the file it is about, how it looked, what it hashed to.
#[derive(serde::Serialize, serde::Deserialize)]
struct Recorded {
    path: String,
    stamp: FileStamp,
    sha256: String,
}

impl CompileCache {
    fn digest_entry(&self, path: &Path) -> std::path::PathBuf {
        let name: [u8; 32] = Sha256::digest(path.as_os_str().as_encoded_bytes()).into();
        self.dir.join(format!("{}.digest", hex(&name)))
    }

    /// The sha256 the file at `path` had when it was hashed last, if it is
    /// still that file, unchanged.
    pub(crate) fn remembered_digest(&self, path: &Path) -> Option<[u8; 32]> {
        let json = self.read_verified(&self.digest_entry(path), MAX_DIGEST_BYTES)?;
        let recorded: Recorded = serde_json::from_slice(&json).ok()?;
        let now = FileStamp::of(path)?;
        if recorded.path != path.to_string_lossy() || recorded.stamp != now {
            return None;
        }
        parse_hex(&recorded.sha256)
    }

    /// Records that the file at `path`, stamped `before` it was read, has
    /// the digest `sha256`: when it was settled then and is unchanged now.
    pub(crate) fn remember_digest(&self, path: &Path, before: &FileStamp, sha256: &[u8; 32]) {
        self.remember_digest_at(path, before, sha256, SystemTime::now());
    }

    fn remember_digest_at(
        &self,
        path: &Path,
        before: &FileStamp,
        sha256: &[u8; 32],
        now: SystemTime,
    ) {
        if !before.settled(now) || FileStamp::of(path).as_ref() != Some(before) {
            return;
        }
        let recorded = Recorded {
            path: path.to_string_lossy().into_owned(),
            stamp: before.clone(),
            sha256: hex(sha256),
        };
        if let Ok(json) = serde_json::to_vec(&recorded) {
            // Not written: the next start hashes the artifact again.
            let _ = self.write_tagged(&self.digest_entry(path), &json);
        }
    }
}

fn parse_hex(text: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    if text.len() != 64 {
        return None;
    }
    for (byte, pair) in out.iter_mut().zip(text.as_bytes().chunks(2)) {
        let pair = std::str::from_utf8(pair).ok()?;
        *byte = u8::from_str_radix(pair, 16).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use std::fs::{self, File, FileTimes};
    use std::time::{Duration, SystemTime};

    use super::*;

    /// An artifact last modified long ago (a day before `now`).
    fn old_file(path: &Path, contents: &[u8]) {
        fs::write(path, contents).unwrap();
        let past = SystemTime::now() - Duration::from_secs(86_400);
        File::options()
            .write(true)
            .open(path)
            .unwrap()
            .set_times(FileTimes::new().set_modified(past))
            .unwrap();
    }

    /// A digest is used only while the file is the one that was hashed,
    /// unchanged: every way of changing or replacing it (keeping its size,
    /// or even putting its modification time back) makes the next start
    /// read and hash it again.
    #[test]
    fn a_remembered_digest_holds_only_for_the_unchanged_file() {
        type Change = fn(&Path, &CompileCache);
        let cases: &[(&str, Change, bool)] = &[
            ("unchanged", |_, _| {}, true),
            (
                "rewritten, same size",
                |path, _| fs::write(path, b"other").unwrap(),
                false,
            ),
            (
                "rewritten, modification time put back",
                |path, _| {
                    let before = fs::metadata(path).unwrap().modified().unwrap();
                    fs::write(path, b"other").unwrap();
                    File::options()
                        .write(true)
                        .open(path)
                        .unwrap()
                        .set_times(FileTimes::new().set_modified(before))
                        .unwrap();
                },
                false,
            ),
            (
                "replaced by a rename",
                |path, _| {
                    let new = path.with_extension("new");
                    old_file(&new, b"other");
                    fs::rename(&new, path).unwrap();
                },
                false,
            ),
            (
                "the entry copied from another artifact's",
                |path, cache| {
                    let other = path.with_extension("other");
                    old_file(&other, b"bytes");
                    let stamp = FileStamp::of(&other).unwrap();
                    cache.remember_digest(&other, &stamp, &[9; 32]);
                    fs::copy(cache.digest_entry(&other), cache.digest_entry(path)).unwrap();
                },
                false,
            ),
            (
                "the entry edited",
                |path, cache| {
                    let entry = cache.digest_entry(path);
                    let text = fs::read_to_string(&entry).unwrap();
                    fs::write(&entry, text.replace(&hex(&[1; 32]), &hex(&[2; 32]))).unwrap();
                },
                false,
            ),
        ];
        for (name, change, kept) in cases {
            let dir = tempfile::tempdir().unwrap();
            let engine = wasmtime::Engine::default();
            let cache = CompileCache::new(dir.path().join("cache"), &engine);
            let artifact = dir.path().join("plugin.wasm");
            old_file(&artifact, b"bytes");
            let stamp = FileStamp::of(&artifact).unwrap();
            cache.remember_digest(&artifact, &stamp, &[1; 32]);
            assert_eq!(cache.remembered_digest(&artifact), Some([1; 32]), "{name}");
            change(&artifact, &cache);
            let expected = kept.then_some([1; 32]);
            assert_eq!(cache.remembered_digest(&artifact), expected, "{name}");
        }
    }

    /// A file modified in the last second is not remembered (a write in
    /// the same clock tick would leave the same times), nor one that
    /// changed while it was read.
    #[test]
    fn a_recent_or_changing_file_is_not_remembered() {
        let dir = tempfile::tempdir().unwrap();
        let cache = CompileCache::new(dir.path().join("cache"), &wasmtime::Engine::default());
        let artifact = dir.path().join("plugin.wasm");
        fs::write(&artifact, b"bytes").unwrap();
        let stamp = FileStamp::of(&artifact).unwrap();
        cache.remember_digest(&artifact, &stamp, &[1; 32]);
        assert_eq!(cache.remembered_digest(&artifact), None, "recent");

        old_file(&artifact, b"bytes");
        let before = FileStamp::of(&artifact).unwrap();
        fs::write(&artifact, b"other").unwrap();
        let later = SystemTime::now() + Duration::from_secs(5);
        cache.remember_digest_at(&artifact, &before, &[1; 32], later);
        assert_eq!(
            cache.remembered_digest(&artifact),
            None,
            "changed while read"
        );
    }
}
