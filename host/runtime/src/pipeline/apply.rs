//! File changes a tool returned: every path checked against the grant and
//! the sandbox before any is touched, then applied in order.

mod beneath;
mod diff;

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Instant;

use wharf_sandbox::PathRules;

use super::CallError;
use super::decisions::DecidedBy;
use crate::plugin::FileChange;
use crate::plugin::grant::Grant;
use beneath::{BeneathError, Written};

/// A change the host made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedChange {
    pub kind: ChangeKind,
    /// Resolved, absolute; for a move, the destination.
    pub path: PathBuf,
    /// The change as a unified diff, when the session records diffs and
    /// both sides are text.
    pub diff: Option<String>,
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

/// A path that may be written: resolved by the rules, with the grant's
/// write root it lies beneath.
struct Allowed {
    root: PathBuf,
    path: PathBuf,
}

/// A change with its paths resolved and allowed.
enum Checked<'a> {
    Write {
        target: Allowed,
        contents: &'a str,
        /// `None`: added, or modified if the file was there.
        kind: Option<ChangeKind>,
        /// The source of a move, deleted once the destination is written.
        remove: Option<Allowed>,
    },
    Delete {
        target: Allowed,
    },
}

/// Checks every path of `changes`, then applies them in order, recording
/// each in `applied`. A path outside the grant or the sandbox's writable
/// roots denies the whole set: nothing is changed. An error says what
/// refused it: the sandbox's path rules, the grant, or the file system
/// (counted as the grant's: the change was allowed and could not be made).
///
/// Each change is made through a handle of the root its path was checked
/// beneath, never following a symlink (see [`beneath`]), so the file
/// changed is the one checked. Once `deadline` (the call's, of the grant's
/// timeout) has passed, the remaining changes are not made.
pub(super) fn apply(
    changes: &[FileChange],
    grant: &Grant,
    rules: &PathRules,
    deadline: Instant,
    record_diffs: bool,
    applied: &mut Vec<AppliedChange>,
) -> Result<(), (CallError, DecidedBy)> {
    let allowed = |path: &str| -> Result<Allowed, (CallError, DecidedBy)> {
        let resolved = rules
            .check_write(Path::new(path))
            .map_err(|denial| (CallError::Denied(denial.to_string()), DecidedBy::Sandbox))?;
        match grant
            .write_roots
            .iter()
            .filter(|root| resolved.starts_with(root))
            .max_by_key(|root| root.as_os_str().len())
        {
            Some(root) => Ok(Allowed {
                root: root.clone(),
                path: resolved,
            }),
            None => Err((
                CallError::Denied(format!(
                    "write to {} is outside what this plugin may change",
                    resolved.display()
                )),
                DecidedBy::Grant,
            )),
        }
    };
    let mut checked = Vec::with_capacity(changes.len());
    for change in changes {
        checked.push(match change {
            FileChange::Add { path, contents } => Checked::Write {
                target: allowed(path)?,
                contents,
                kind: None,
                remove: None,
            },
            FileChange::Delete { path } => Checked::Delete {
                target: allowed(path)?,
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
                        let remove = (destination.path != source.path).then_some(source);
                        Checked::Write {
                            target: destination,
                            contents,
                            kind: Some(ChangeKind::Modified),
                            remove,
                        }
                    }
                    None => Checked::Write {
                        target: source,
                        contents,
                        kind: Some(ChangeKind::Modified),
                        remove: None,
                    },
                }
            }
        });
    }
    let mut roots = beneath::Roots::default();
    for change in checked {
        let (what, target) = match &change {
            Checked::Write { target, .. } => ("write", target),
            Checked::Delete { target } => ("delete", target),
        };
        if Instant::now() >= deadline {
            let reason = format!(
                "timed out after {} ms, the call's limit",
                grant.timeout.as_millis()
            );
            return Err((
                CallError::Apply(failure(what, &target.path, &reason, applied)),
                DecidedBy::Grant,
            ));
        }
        match change {
            Checked::Write {
                target,
                contents,
                kind,
                remove,
            } => {
                let mut old = Vec::new();
                let written = beneath::write(
                    &mut roots,
                    &target.root,
                    &target.path,
                    contents.as_bytes(),
                    kind.is_none(),
                    (record_diffs && remove.is_none()).then_some(&mut old),
                )
                .map_err(|err| refused("write", &target.path, &err, applied))?;
                let diff = (record_diffs && remove.is_none())
                    .then(|| diff::unified(&target.path, &old, contents.as_bytes()))
                    .flatten();
                let kind = kind.unwrap_or(match written {
                    Written::Created => ChangeKind::Added,
                    Written::Replaced => ChangeKind::Modified,
                });
                // Recorded before the source goes: if that fails, the
                // message lists the destination as made.
                applied.push(AppliedChange {
                    kind,
                    path: target.path,
                    diff,
                });
                if let Some(source) = remove {
                    beneath::delete(&mut roots, &source.root, &source.path, None)
                        .map_err(|err| refused("delete", &source.path, &err, applied))?;
                }
            }
            Checked::Delete { target } => {
                let mut old = Vec::new();
                beneath::delete(
                    &mut roots,
                    &target.root,
                    &target.path,
                    record_diffs.then_some(&mut old),
                )
                .map_err(|err| refused("delete", &target.path, &err, applied))?;
                let diff = record_diffs
                    .then(|| diff::unified(&target.path, &old, b""))
                    .flatten();
                applied.push(AppliedChange {
                    kind: ChangeKind::Deleted,
                    path: target.path,
                    diff,
                });
            }
        }
    }
    Ok(())
}

/// The error of a change that failed: a denial if it met a symlink before
/// anything was changed (as the rules would have refused it), else a
/// failure that lists the changes already made.
fn refused(
    what: &str,
    path: &Path,
    err: &BeneathError,
    applied: &[AppliedChange],
) -> (CallError, DecidedBy) {
    let message = failure(what, path, &err.to_string(), applied);
    if matches!(err, BeneathError::Symlink(_)) && applied.is_empty() {
        (CallError::Denied(message), DecidedBy::Sandbox)
    } else {
        (CallError::Apply(message), DecidedBy::Grant)
    }
}

fn failure(what: &str, path: &Path, reason: &str, applied: &[AppliedChange]) -> String {
    let mut message = format!("cannot {what} {}: {reason}", path.display());
    if !applied.is_empty() {
        let done: Vec<String> = applied.iter().map(ToString::to_string).collect();
        message.push_str(&format!(
            "; these changes were already made: {}",
            done.join(", ")
        ));
    }
    message
}
