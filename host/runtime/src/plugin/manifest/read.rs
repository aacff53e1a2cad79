//! Reading a plugin's files with their size limit checked before anything
//! is read: every start reads each enabled plugin's manifest and artifact,
//! so an oversized file must cost a `stat`, not its size in memory and time.

use std::fs::{File, OpenOptions};
use std::io::{self, Read as _};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

/// The largest `plugin.toml` wharf reads.
pub const MAX_MANIFEST_BYTES: u64 = 64 * 1024;

/// The largest artifact (a component or a shared library) wharf reads.
pub const MAX_ARTIFACT_BYTES: u64 = 64 * 1024 * 1024;

/// Why a plugin's file was not read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The cause is part of the message (registry reasons are one line).
    #[error("cannot read {}: {error}", path.display())]
    Io { path: PathBuf, error: io::Error },
    #[error("{} is not a regular file", path.display())]
    NotAFile { path: PathBuf },
    #[error(
        "{}: {size} bytes is over the limit of {} for {what}; not read",
        path.display(),
        human(*limit)
    )]
    TooLarge {
        path: PathBuf,
        size: u64,
        limit: u64,
        what: &'static str,
    },
}

/// The contents of the regular file at `path`, refused when it is larger
/// than `limit` bytes (`what` names the file's role in the message). The
/// size is checked on the open file before reading, and the read is bounded
/// too, so a file growing in between cannot exceed the limit either. A
/// FIFO or a device is refused without blocking on it.
pub fn read_limited(path: &Path, limit: u64, what: &'static str) -> Result<Vec<u8>, ReadError> {
    let io = |error| ReadError::Io {
        path: path.to_path_buf(),
        error,
    };
    let file: File = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(io)?;
    let metadata = file.metadata().map_err(io)?;
    if !metadata.is_file() {
        return Err(ReadError::NotAFile {
            path: path.to_path_buf(),
        });
    }
    let too_large = |size| ReadError::TooLarge {
        path: path.to_path_buf(),
        size,
        limit,
        what,
    };
    if metadata.len() > limit {
        return Err(too_large(metadata.len()));
    }
    let mut bytes = Vec::with_capacity(usize::try_from(metadata.len()).unwrap_or(0));
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io)?;
    let read = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    if read > limit {
        return Err(too_large(read));
    }
    Ok(bytes)
}

/// `64 MiB`, `64 KiB`, or bytes.
fn human(bytes: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= KIB && bytes.is_multiple_of(KIB) {
        format!("{} KiB", bytes / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_over_the_limit_are_refused_before_reading() {
        let dir = tempfile::tempdir().unwrap();
        let small = dir.path().join("small");
        std::fs::write(&small, b"12345").unwrap();
        let sparse = dir.path().join("sparse");
        File::create(&sparse)
            .unwrap()
            .set_len(MAX_ARTIFACT_BYTES + 1)
            .unwrap();
        let fifo = dir.path().join("fifo");
        let c_path = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path; mkfifo only creates a node.
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);

        // (path, limit, the bytes read or the error's message)
        type Case<'a> = (&'a Path, u64, Result<&'a [u8], String>);
        let cases: [Case; 5] = [
            (&small, 5, Ok(b"12345")),
            (
                &small,
                4,
                Err(format!(
                    "{}: 5 bytes is over the limit of 4 bytes for a test file; not read",
                    small.display()
                )),
            ),
            (
                &sparse,
                MAX_ARTIFACT_BYTES,
                Err(format!(
                    "{}: 67108865 bytes is over the limit of 64 MiB for a test file; not read",
                    sparse.display()
                )),
            ),
            (
                &fifo,
                MAX_MANIFEST_BYTES,
                Err(format!("{} is not a regular file", fifo.display())),
            ),
            (
                &dir.path().join("missing"),
                5,
                Err(format!(
                    "cannot read {}: No such file or directory (os error 2)",
                    dir.path().join("missing").display()
                )),
            ),
        ];
        for (path, limit, expected) in cases {
            let got = read_limited(path, limit, "a test file").map_err(|err| err.to_string());
            assert_eq!(got.as_deref(), expected.as_deref(), "{}", path.display());
        }
        assert_eq!(human(MAX_MANIFEST_BYTES), "64 KiB");
    }
}
