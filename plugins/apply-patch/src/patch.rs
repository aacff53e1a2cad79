//! The pure logic of `apply_patch`: parse codex's patch grammar, locate each
//! change in the files it names, and compute the new file contents.
//!
//! Nothing here touches the filesystem. Reads go through [`FileSource`] and the
//! result is a list of [`FileChange`]s for the caller to check against its
//! policy (writable roots, protected paths) and then carry out, in order. That
//! split keeps this module testable with an in-memory tree and lets the same
//! code run inside the WASM plugin, whose only window on files is the host.
//!
//! Behaviour follows openai/codex's `apply-patch` crate, including its
//! leniency towards the mistakes models make (padded markers, a heredoc
//! wrapper, a missing first `@@`, whitespace and typographic punctuation that
//! differ from the file). Where this module deliberately differs, the item
//! that does so says why.

mod compute;
mod parse;
mod seek;
#[cfg(test)]
mod tests;

use std::collections::BTreeSet;
use std::fmt;

pub use compute::compute;
pub use parse::{Chunk, Hunk, parse};

/// Read access to the files a patch may touch.
pub trait FileSource {
    /// Contents of the file at `path` (already resolved by the caller),
    /// `Ok(None)` if it does not exist, `Err(message)` if it is a directory or
    /// unreadable (the message is passed on to the model).
    fn read(&self, path: &str) -> Result<Option<String>, String>;
}

/// One file operation the caller must carry out, in the order given: the
/// plugin API's own type, so the plugin hands them to the host unchanged.
///
/// Paths are exactly as written in the patch (relative or absolute): resolving
/// them against the working directory, and checking them against the sandbox
/// policy, is the caller's job. `Add` overwrites a file that exists, as codex
/// does.
pub use wharf_plugin_api::FileChange;

/// What [`compute`] produced.
///
/// When `error` is set, `changes` holds the operations of the hunks before
/// the failing one. Codex applies hunks one by one and leaves the earlier ones
/// in place when a later one fails, so the caller should apply `changes` and
/// then report `error`. A parse error comes with no changes at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub changes: Vec<FileChange>,
    pub error: Option<PatchError>,
}

/// Why a patch (or part of it) could not be applied.
///
/// Both variants carry the 1-based line of the patch text they point at, so
/// the model can find the part it has to fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatchError {
    /// The text is not a patch in the accepted grammar; nothing was applied.
    Parse { line: usize, message: String },
    /// A file operation could not be carried out (missing file, lines not
    /// found, ...); the operations before it stand.
    Hunk {
        line: usize,
        path: String,
        message: String,
    },
}

impl PatchError {
    /// The 1-based line of the patch text this error points at.
    pub fn line(&self) -> usize {
        match self {
            Self::Parse { line, .. } | Self::Hunk { line, .. } => *line,
        }
    }

    /// The explanation, without the line prefix that `Display` adds.
    pub fn message(&self) -> &str {
        match self {
            Self::Parse { message, .. } | Self::Hunk { message, .. } => message,
        }
    }
}

impl fmt::Display for PatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Parse { line, message } => write!(f, "invalid patch, line {line}: {message}"),
            Self::Hunk { line, message, .. } => write!(f, "patch line {line}: {message}"),
        }
    }
}

impl std::error::Error for PatchError {}

/// The text codex prints after a successful patch: a header, then one line
/// per affected file, added files first, then modified, then deleted (a move
/// is listed as a modification of its destination).
///
/// A file touched by several hunks of the same kind is listed once.
#[must_use]
pub fn summary(changes: &[FileChange]) -> String {
    let mut added = Vec::new();
    let mut modified = Vec::new();
    let mut deleted = Vec::new();
    for change in changes {
        match change {
            FileChange::Add { path, .. } => added.push(path.as_str()),
            FileChange::Update {
                path,
                move_to: None,
                ..
            } => modified.push(path.as_str()),
            FileChange::Update {
                move_to: Some(dest),
                ..
            } => modified.push(dest.as_str()),
            FileChange::Delete { path } => deleted.push(path.as_str()),
        }
    }
    let mut out = String::from("Success. Updated the following files:\n");
    for (letter, paths) in [('A', added), ('M', modified), ('D', deleted)] {
        let mut seen = BTreeSet::new();
        for path in paths {
            if seen.insert(path) {
                out.push(letter);
                out.push(' ');
                out.push_str(path);
                out.push('\n');
            }
        }
    }
    out
}
