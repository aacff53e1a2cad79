//! `read-file`, the host's one-call file read for plugins.
//!
//! WASI's filesystem serves the same files, but a whole-file read there is
//! an open, a stat and two reads, each a hop to a blocking thread and back
//! (~80 µs apiece on a 2-core machine). Here it is one synchronous host
//! call. It may run on the caller's thread because it cannot block: the
//! file is opened non-blocking and anything but a regular file is refused,
//! so a FIFO without a writer or a terminal device cannot hang the call
//! past its deadline.
//!
//! `/proc`, `/sys` and `/dev` are never read, whatever the roots: the grant
//! leaves them out, and a file on procfs or sysfs is refused even where such
//! a filesystem is mounted inside a root.

use std::io::{self, Read as _};
use std::os::fd::AsRawFd as _;
use std::path::{Component, Path, PathBuf};

use cap_primitives::fs::{OpenOptions, OpenOptionsExt as _};

use crate::plugin::grant::NEVER_READ;

/// Why a read failed, as the guest sees it.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ReadFailure {
    NotFound,
    Denied(String),
    Failed(String),
}

/// Reads `path` (absolute, as the guest names it) if it lies inside one of
/// `roots` (the grant's read-only preopens) and is a regular file of at
/// most `limit` bytes. `..` and symlinks are resolved beneath the root and
/// may not leave it, as with the WASI preopen.
pub(crate) fn read_file(roots: &[PathBuf], path: &str, limit: u64) -> Result<Vec<u8>, ReadFailure> {
    let wanted = Path::new(path);
    if !wanted.is_absolute() {
        return Err(ReadFailure::Failed(format!(
            "{path}: the path must be absolute"
        )));
    }
    if NEVER_READ.iter().any(|never| wanted.starts_with(never)) {
        return Err(ReadFailure::Denied(format!(
            "{path}: {} are never readable by plugins",
            NEVER_READ.join(", ")
        )));
    }
    let Some((root, relative)) = roots
        .iter()
        .find_map(|root| Some((root, wanted.strip_prefix(root).ok()?)))
    else {
        return Err(ReadFailure::Denied(format!(
            "{path} is outside the plugin's read grant"
        )));
    };
    if relative.components().all(|c| c == Component::CurDir) {
        return Err(ReadFailure::Failed(format!("{path} is a directory")));
    }
    let failed = |err: io::Error| match err.kind() {
        io::ErrorKind::NotFound => ReadFailure::NotFound,
        io::ErrorKind::PermissionDenied => ReadFailure::Denied(format!("{path}: {err}")),
        _ => ReadFailure::Failed(format!("{path}: {err}")),
    };

    let dir = std::fs::File::open(root).map_err(failed)?;
    let mut options = OpenOptions::new();
    options.read(true).custom_flags(libc::O_NONBLOCK);
    let file = cap_primitives::fs::open(&dir, relative, &options).map_err(failed)?;
    if on_kernel_filesystem(&file) {
        return Err(ReadFailure::Denied(format!(
            "{path} is on procfs or sysfs, which plugins never read"
        )));
    }
    let metadata = file.metadata().map_err(failed)?;
    if metadata.is_dir() {
        return Err(ReadFailure::Failed(format!("{path} is a directory")));
    }
    if !metadata.is_file() {
        return Err(ReadFailure::Failed(format!(
            "{path} is not a regular file (a FIFO, socket or device)"
        )));
    }
    let too_large = || {
        ReadFailure::Failed(format!(
            "{path} is larger than the plugin's memory limit of {limit} bytes"
        ))
    };
    if metadata.len() > limit {
        return Err(too_large());
    }
    let mut contents = Vec::with_capacity(usize::try_from(metadata.len()).unwrap_or(0));
    // The file may grow between the stat and the read: the limit holds
    // regardless.
    file.take(limit.saturating_add(1))
        .read_to_end(&mut contents)
        .map_err(failed)?;
    if contents.len() as u64 > limit {
        return Err(too_large());
    }
    Ok(contents)
}

/// Whether `file` lies on procfs or sysfs (wherever they are mounted). A
/// filesystem that cannot be asked counts as one: refuse rather than guess.
fn on_kernel_filesystem(file: &std::fs::File) -> bool {
    let mut stat = std::mem::MaybeUninit::<libc::statfs>::zeroed();
    // SAFETY: fstatfs writes a statfs into live, writable memory, for a
    // descriptor `file` keeps open.
    if unsafe { libc::fstatfs(file.as_raw_fd(), stat.as_mut_ptr()) } != 0 {
        return true;
    }
    // SAFETY: fstatfs succeeded, so it filled the struct (zeroed anyway).
    let kind = unsafe { stat.assume_init() }.f_type;
    kind == libc::PROC_SUPER_MAGIC || kind == libc::SYSFS_MAGIC
}

#[cfg(test)]
mod tests;
