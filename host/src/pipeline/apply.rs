//! File changes a tool returned: every path checked against the grant and
//! the sandbox before any is touched, then applied in order.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use wharf_sandbox::PathRules;

use super::CallError;
use crate::plugin::FileChange;
use crate::plugin::grant::Grant;

/// A change the host made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedChange {
    pub kind: ChangeKind,
    /// Resolved, absolute; for a move, the destination.
    pub path: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Added,
    Modified,
    Deleted,
}

impl fmt::Display for AppliedChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let letter = match self.kind {
            ChangeKind::Added => 'A',
            ChangeKind::Modified => 'M',
            ChangeKind::Deleted => 'D',
        };
        write!(f, "{letter} {}", self.path.display())
    }
}

/// A change with its paths resolved and allowed.
enum Checked<'a> {
    Write {
        path: PathBuf,
        contents: &'a str,
        kind: ChangeKind,
        remove: Option<PathBuf>,
    },
    Delete {
        path: PathBuf,
    },
}

/// Checks every path of `changes`, then applies them in order, recording
/// each in `applied`. A path outside the grant or the sandbox's writable
/// roots denies the whole set: nothing is changed.
pub(super) fn apply(
    changes: &[FileChange],
    grant: &Grant,
    rules: &PathRules,
    applied: &mut Vec<AppliedChange>,
) -> Result<(), CallError> {
    let allowed = |path: &str| -> Result<PathBuf, CallError> {
        let resolved = rules
            .check_write(Path::new(path))
            .map_err(|denial| CallError::Denied(denial.to_string()))?;
        if grant
            .write_roots
            .iter()
            .any(|root| resolved.starts_with(root))
        {
            Ok(resolved)
        } else {
            Err(CallError::Denied(format!(
                "write to {} is outside what this plugin may change",
                resolved.display()
            )))
        }
    };
    let mut checked = Vec::with_capacity(changes.len());
    for change in changes {
        checked.push(match change {
            FileChange::Add { path, contents } => {
                let path = allowed(path)?;
                let kind = if path.exists() {
                    ChangeKind::Modified
                } else {
                    ChangeKind::Added
                };
                Checked::Write {
                    path,
                    contents,
                    kind,
                    remove: None,
                }
            }
            FileChange::Delete { path } => Checked::Delete {
                path: allowed(path)?,
            },
            FileChange::Update {
                path,
                move_to,
                contents,
            } => {
                let source = allowed(path)?;
                match move_to {
                    Some(destination) => {
                        let destination = allowed(destination)?;
                        let remove = (destination != source).then_some(source);
                        Checked::Write {
                            path: destination,
                            contents,
                            kind: ChangeKind::Modified,
                            remove,
                        }
                    }
                    None => Checked::Write {
                        path: source,
                        contents,
                        kind: ChangeKind::Modified,
                        remove: None,
                    },
                }
            }
        });
    }
    for change in checked {
        let done = match change {
            Checked::Write {
                path,
                contents,
                kind,
                remove,
            } => write(&path, contents)
                .and_then(|()| remove.map_or(Ok(()), |old| delete(&old)))
                .map(|()| AppliedChange { kind, path })
                .map_err(|err| (err, "write")),
            Checked::Delete { path } => delete(&path)
                .map(|()| AppliedChange {
                    kind: ChangeKind::Deleted,
                    path,
                })
                .map_err(|err| (err, "delete")),
        };
        match done {
            Ok(change) => applied.push(change),
            Err((err, what)) => {
                let mut message = format!("cannot {what}: {err}");
                if !applied.is_empty() {
                    let done: Vec<String> = applied.iter().map(ToString::to_string).collect();
                    message.push_str(&format!(
                        "; these changes were already made: {}",
                        done.join(", ")
                    ));
                }
                return Err(CallError::Apply(message));
            }
        }
    }
    Ok(())
}

/// Writes `contents` over the file at `path`. Without `O_TRUNC`: write,
/// then cut to length. Truncating first makes the filesystem free and
/// reallocate every block (measured on ext4: 245 µs instead of 11 µs for a
/// 120 KB file).
fn write(path: &Path, contents: &str) -> io::Result<()> {
    use std::io::Write as _;
    let with_path =
        |err: io::Error| io::Error::new(err.kind(), format!("{}: {err}", path.display()));
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(with_path)?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(with_path)?;
    file.write_all(contents.as_bytes()).map_err(with_path)?;
    file.set_len(contents.len() as u64).map_err(with_path)
}

fn delete(path: &Path) -> io::Result<()> {
    if std::fs::symlink_metadata(path)?.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::IsADirectory,
            format!("{} is a directory", path.display()),
        ));
    }
    std::fs::remove_file(path)
        .map_err(|err| io::Error::new(err.kind(), format!("{}: {err}", path.display())))
}
