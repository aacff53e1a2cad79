//! Resolving a path the way the kernel walks it, without requiring it to
//! exist: what every decision of the path rules starts from.

use std::ffi::OsString;
use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

/// Linux gives up after 40 symlinks in one lookup (`MAXSYMLINKS`); so do we,
/// so that a loop is an error instead of a hang.
const MAX_SYMLINK_HOPS: usize = 40;

/// Resolves `path` (absolute, or relative to `cwd`) to an absolute path
/// without `.`, `..` or symlinks, the way the kernel would walk it.
///
/// Unlike [`fs::canonicalize`] it accepts paths that do not exist (yet):
/// components are resolved while they exist, symlinks are followed even when
/// dangling (a write through `root/link` to a missing `/etc/newfile` creates
/// `/etc/newfile`), and the missing rest is appended lexically. `..` pops the
/// component resolved so far, so `link/..` is the parent of the link's
/// target. Fails on a symlink loop (more than 40 hops), a component that
/// cannot be inspected (permission denied), or a relative `cwd`.
pub fn resolve_path(path: &Path, cwd: &Path) -> io::Result<PathBuf> {
    resolve_walk(path, cwd, &mut |_| {})
}

/// [`resolve_path`], also returning where each symlink met on the way lies
/// (the link itself, not its target), in the order they were followed.
///
/// Whoever may replace one of those links decides where `path` leads next
/// time, which is what the process sandbox must know about a protected path.
pub(crate) fn resolve_noting_links(path: &Path, cwd: &Path) -> io::Result<(PathBuf, Vec<PathBuf>)> {
    let mut links = Vec::new();
    let resolved = resolve_walk(path, cwd, &mut |link| links.push(link.to_path_buf()))?;
    Ok((resolved, links))
}

fn resolve_walk(path: &Path, cwd: &Path, on_link: &mut dyn FnMut(&Path)) -> io::Result<PathBuf> {
    let joined = cwd.join(path);
    if !joined.is_absolute() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("the working directory {} is not absolute", cwd.display()),
        ));
    }
    let mut pending = Vec::new();
    push_steps(&mut pending, &joined);
    let mut resolved = PathBuf::from("/");
    let mut hops = 0;
    while let Some(step) = pending.pop() {
        match step {
            Step::Root => resolved = PathBuf::from("/"),
            Step::Parent => {
                resolved.pop();
            }
            Step::Name(name) => {
                let candidate = resolved.join(&name);
                match fs::symlink_metadata(&candidate) {
                    Ok(meta) if meta.file_type().is_symlink() => {
                        hops += 1;
                        if hops > MAX_SYMLINK_HOPS {
                            return Err(io::Error::other("too many levels of symbolic links"));
                        }
                        on_link(&candidate);
                        // A relative target continues from the link's parent,
                        // which is what `resolved` still holds.
                        push_steps(&mut pending, &fs::read_link(&candidate)?);
                    }
                    Ok(_) => resolved = candidate,
                    Err(err)
                        if matches!(
                            err.kind(),
                            io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
                        ) =>
                    {
                        resolved = candidate;
                    }
                    Err(err) => return Err(err),
                }
            }
        }
    }
    Ok(resolved)
}

/// One step of the walk in [`resolve_path`].
enum Step {
    Root,
    Parent,
    Name(OsString),
}

/// Pushes the components of `path` onto `pending` (a stack, so in reverse).
fn push_steps(pending: &mut Vec<Step>, path: &Path) {
    let steps = path.components().filter_map(|component| match component {
        Component::Prefix(_) | Component::RootDir => Some(Step::Root),
        Component::CurDir => None,
        Component::ParentDir => Some(Step::Parent),
        Component::Normal(name) => Some(Step::Name(name.to_owned())),
    });
    let start = pending.len();
    pending.extend(steps);
    pending[start..].reverse();
}

/// `path` joined to `cwd` with `.` and `..` applied as text, always absolute:
/// the fallback for roots that cannot be resolved.
pub(super) fn normalize_lexically(path: &Path, cwd: &Path) -> PathBuf {
    let mut normalized = PathBuf::from("/");
    for component in cwd.join(path).components() {
        match component {
            Component::Prefix(_) | Component::RootDir => normalized = PathBuf::from("/"),
            Component::CurDir => {}
            Component::ParentDir => {
                normalized.pop();
            }
            Component::Normal(name) => normalized.push(name),
        }
    }
    normalized
}

pub(super) fn resolve_or_normalize(path: &Path, cwd: &Path) -> PathBuf {
    resolve_path(path, cwd).unwrap_or_else(|_| normalize_lexically(path, cwd))
}
