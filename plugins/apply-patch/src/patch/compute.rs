//! Turning parsed hunks into [`FileChange`]s, reading files through a
//! [`FileSource`] and writing nothing.

use std::borrow::Cow;
use std::collections::BTreeMap;

use super::parse::{Chunk, Hunk, parse};
use super::seek::{Haystack, seek};
use super::{Applied, FileChange, FileSource, PatchError};

/// Parses `patch_text` and computes, hunk by hunk, the file operations that
/// carry it out.
///
/// Each hunk sees the files as the earlier hunks of the same patch left them,
/// exactly as if they had been written to disk one by one (which is what
/// codex does). Processing stops at the first hunk that fails; see
/// [`Applied`] for what the caller does then.
#[must_use]
pub fn compute(patch_text: &str, files: &dyn FileSource) -> Applied {
    let hunks = match parse(patch_text) {
        Ok(hunks) => hunks,
        Err(error) => {
            return Applied {
                changes: Vec::new(),
                error: Some(error),
            };
        }
    };
    let mut tree = Tree {
        files,
        changes: Vec::with_capacity(hunks.len()),
        latest: BTreeMap::new(),
    };
    for hunk in &hunks {
        if let Err(error) = tree.apply(hunk) {
            return Applied {
                changes: tree.changes,
                error: Some(error),
            };
        }
    }
    Applied {
        changes: tree.changes,
        error: None,
    }
}

/// The files as `files` holds them, overlaid with the changes computed so far.
///
/// The changes themselves hold the new contents; `latest` only points at the
/// change that last wrote each path, so no file's contents are kept twice.
struct Tree<'f> {
    files: &'f dyn FileSource,
    changes: Vec<FileChange>,
    /// Keyed by [`path_key`]: index into `changes` of the last write, or
    /// `None` when the file has been deleted (or moved away).
    latest: BTreeMap<String, Option<usize>>,
}

impl Tree<'_> {
    fn read(&self, path: &str) -> Result<Option<Cow<'_, str>>, String> {
        match self.latest.get(&path_key(path)) {
            Some(Some(index)) => Ok(self
                .changes
                .get(*index)
                .and_then(written_contents)
                .map(Cow::Borrowed)),
            Some(None) => Ok(None),
            None => self.files.read(path).map(|found| found.map(Cow::Owned)),
        }
    }

    fn record(&mut self, change: FileChange) {
        let index = self.changes.len();
        match &change {
            FileChange::Add { path, .. }
            | FileChange::Update {
                path,
                move_to: None,
                ..
            } => {
                self.latest.insert(path_key(path), Some(index));
            }
            FileChange::Delete { path } => {
                self.latest.insert(path_key(path), None);
            }
            FileChange::Update {
                path,
                move_to: Some(dest),
                ..
            } => {
                self.latest.insert(path_key(path), None);
                self.latest.insert(path_key(dest), Some(index));
            }
        }
        self.changes.push(change);
    }

    fn apply(&mut self, hunk: &Hunk<'_>) -> Result<(), PatchError> {
        let change = match hunk {
            // Codex writes an added file whether or not it exists (scenario
            // 011), so there is nothing to check here.
            Hunk::Add { path, contents, .. } => FileChange::Add {
                path: (*path).to_owned(),
                contents: contents.clone(),
            },
            Hunk::Delete { path, line } => match self.read(path) {
                Ok(Some(_)) => FileChange::Delete {
                    path: (*path).to_owned(),
                },
                Ok(None) => {
                    return Err(hunk_error(
                        *line,
                        path,
                        format!("cannot delete {path}: no such file"),
                    ));
                }
                Err(reason) => {
                    return Err(hunk_error(
                        *line,
                        path,
                        format!("cannot delete {path}: {reason}"),
                    ));
                }
            },
            Hunk::Update {
                path,
                move_to,
                chunks,
                line,
            } => {
                let contents = match self.read(path) {
                    Ok(Some(original)) => update(&original, path, chunks)?,
                    Ok(None) => {
                        return Err(hunk_error(
                            *line,
                            path,
                            format!(
                                "cannot update {path}: no such file; to create it, use \
                                 `*** Add File: {path}` with every line starting with '+'"
                            ),
                        ));
                    }
                    Err(reason) => {
                        return Err(hunk_error(
                            *line,
                            path,
                            format!("cannot update {path}: {reason}"),
                        ));
                    }
                };
                // Codex writes the destination, then removes the source: a
                // move onto itself would delete the file. Treat it as no move.
                let move_to = move_to
                    .filter(|dest| path_key(dest) != path_key(path))
                    .map(str::to_owned);
                FileChange::Update {
                    path: (*path).to_owned(),
                    move_to,
                    contents,
                }
            }
        };
        self.record(change);
        Ok(())
    }
}

/// The contents a change leaves at its (destination) path.
fn written_contents(change: &FileChange) -> Option<&str> {
    match change {
        FileChange::Add { contents, .. } | FileChange::Update { contents, .. } => Some(contents),
        FileChange::Delete { .. } => None,
    }
}

/// Spellings of one path that a patch may mix (`a/b`, `./a/b`, `a//b`) map to
/// the same key, so that a later hunk sees an earlier hunk's change. `..` is
/// left alone: resolving it needs the filesystem, which is the caller's.
fn path_key(path: &str) -> String {
    let absolute = path.starts_with('/');
    let parts: Vec<&str> = path
        .split('/')
        .filter(|part| !part.is_empty() && *part != ".")
        .collect();
    let joined = parts.join("/");
    if absolute {
        format!("/{joined}")
    } else {
        joined
    }
}

fn hunk_error(line: usize, path: &str, message: String) -> PatchError {
    PatchError::Hunk {
        line,
        path: path.to_owned(),
        message,
    }
}

/// Replace `old_len` lines at `start` by `new`.
struct Replacement<'c> {
    start: usize,
    old_len: usize,
    new: &'c [&'c str],
}

/// Applies the chunks of one update to `original` and returns the new
/// contents.
fn update(original: &str, path: &str, chunks: &[Chunk<'_>]) -> Result<String, PatchError> {
    let file = TextFile::parse(original);
    let mut replacements = locate(&file.lines, path, chunks)?;
    // Pure additions without context go to the end and do not advance the
    // search, so the list is not always in file order. A stable sort keeps
    // insertions at the same place in patch order.
    replacements.sort_by_key(|replacement| replacement.start);
    Ok(file.render(&replacements))
}

/// Finds where each chunk applies, in order: every chunk is searched for
/// after the previous one, so a patch's changes cannot cross.
fn locate<'c>(
    lines: &[&str],
    path: &str,
    chunks: &'c [Chunk<'c>],
) -> Result<Vec<Replacement<'c>>, PatchError> {
    let haystack = Haystack::new(lines);
    let mut replacements = Vec::with_capacity(chunks.len());
    let mut cursor = 0;
    for chunk in chunks {
        if let Some(context) = chunk.context {
            match seek(&haystack, &[context], cursor, false) {
                Some(found) => cursor = found.index + 1,
                None => {
                    let after = after_line(cursor);
                    return Err(hunk_error(
                        chunk.line,
                        path,
                        format!(
                            "cannot update {path}: the context line `@@ {context}` was not \
                             found{after}; re-read the file and copy that line exactly \
                             (or leave the `@@` line bare)"
                        ),
                    ));
                }
            }
        }
        if chunk.old.is_empty() {
            // Codex appends a pure addition to the file whatever its `@@`
            // line says (scenario 016 has none). When the chunk names a
            // context line, the model clearly means "insert after it", so
            // that is where it goes.
            let start = match chunk.context {
                Some(_) if !chunk.end_of_file => cursor,
                _ => end_insertion_point(lines),
            };
            replacements.push(Replacement {
                start,
                old_len: 0,
                new: &chunk.new,
            });
            continue;
        }
        let mut old = chunk.old.as_slice();
        let mut new = chunk.new.as_slice();
        let mut found = seek(&haystack, old, cursor, chunk.end_of_file);
        // Trailing empty lines often stand for the file's final newline, or
        // are blank lines the model left before the next hunk: retry without
        // them (codex drops one; several are as common).
        let blank_tail = trailing_empty(old);
        if found.is_none() && blank_tail > 0 {
            old = old.get(..old.len() - blank_tail).unwrap_or_default();
            let new_tail = trailing_empty(new).min(blank_tail);
            new = new.get(..new.len() - new_tail).unwrap_or_default();
            found = seek(&haystack, old, cursor, chunk.end_of_file);
        }
        let Some(found) = found else {
            let place = if chunk.end_of_file {
                " at the end of the file".to_owned()
            } else {
                after_line(cursor)
            };
            let expected = chunk.old.join("\n");
            return Err(hunk_error(
                chunk.line,
                path,
                format!(
                    "cannot update {path}: the lines to change were not found{place}:\n\
                     {expected}\n\
                     re-read the file; context (' ') and removed ('-') lines must match it \
                     line for line, in order"
                ),
            ));
        };
        replacements.push(Replacement {
            start: found.index,
            old_len: old.len(),
            new,
        });
        cursor = found.index + old.len();
    }
    Ok(replacements)
}

fn trailing_empty(lines: &[&str]) -> usize {
    lines
        .iter()
        .rev()
        .take_while(|line| line.is_empty())
        .count()
}

fn after_line(cursor: usize) -> String {
    if cursor == 0 {
        String::new()
    } else {
        format!(" after line {cursor}")
    }
}

/// Where codex puts a pure addition: at the end, but before a final blank
/// line if there is one.
fn end_insertion_point(lines: &[&str]) -> usize {
    match lines.last() {
        Some(&"") => lines.len() - 1,
        _ => lines.len(),
    }
}

/// A file split into lines for matching, keeping what is needed to write it
/// back unchanged where the patch does not touch it.
struct TextFile<'a> {
    source: &'a str,
    /// A leading byte-order mark, kept out of the first line so that it does
    /// not defeat matching, and written back.
    bom: &'a str,
    /// Line texts without their `\n` / `\r\n`.
    lines: Vec<&'a str>,
    /// Byte offset in `source` where each line starts, plus `source.len()`.
    starts: Vec<usize>,
    /// The line ending of the first line (LF if none): new lines get it, as
    /// rustfmt and codex do.
    newline: &'static str,
    /// Whether the last line has an ending. Codex always ends an updated
    /// file with one (scenario 014), so one is added when it is missing.
    terminated: bool,
}

impl<'a> TextFile<'a> {
    fn parse(source: &'a str) -> Self {
        let bom = if source.starts_with('\u{feff}') {
            "\u{feff}"
        } else {
            ""
        };
        let body = source.get(bom.len()..).unwrap_or_default();
        let mut lines = Vec::new();
        let mut starts = Vec::new();
        let mut newline = None;
        let mut offset = bom.len();
        for piece in body.split_inclusive('\n') {
            starts.push(offset);
            offset += piece.len();
            let text = match piece.strip_suffix('\n') {
                Some(text) => match text.strip_suffix('\r') {
                    Some(text) => {
                        newline.get_or_insert("\r\n");
                        text
                    }
                    None => {
                        newline.get_or_insert("\n");
                        text
                    }
                },
                None => piece,
            };
            lines.push(text);
        }
        starts.push(offset);
        Self {
            source,
            bom,
            lines,
            starts,
            newline: newline.unwrap_or("\n"),
            terminated: body.is_empty() || body.ends_with('\n'),
        }
    }

    /// Writes the file with `replacements` (sorted by `start`) applied: one
    /// pass, copying untouched runs of lines as they are.
    fn render(&self, replacements: &[Replacement<'_>]) -> String {
        let added: usize = replacements
            .iter()
            .flat_map(|replacement| replacement.new)
            .map(|line| line.len() + self.newline.len())
            .sum();
        let mut out = String::with_capacity(self.source.len() + added + self.newline.len());
        out.push_str(self.bom);
        let count = self.lines.len();
        let mut next = 0;
        for replacement in replacements {
            // Only an end-of-file insertion can land inside the lines an
            // earlier chunk replaced; it then goes right after them.
            let start = replacement.start.max(next).min(count);
            self.copy_lines(&mut out, next, start);
            for line in replacement.new {
                out.push_str(line);
                out.push_str(self.newline);
            }
            next = (replacement.start + replacement.old_len)
                .max(start)
                .min(count);
        }
        self.copy_lines(&mut out, next, count);
        out
    }

    fn copy_lines(&self, out: &mut String, from: usize, to: usize) {
        if from >= to {
            return;
        }
        let (Some(&begin), Some(&end)) = (self.starts.get(from), self.starts.get(to)) else {
            return;
        };
        out.push_str(self.source.get(begin..end).unwrap_or_default());
        if to == self.lines.len() && !self.terminated {
            out.push_str(self.newline);
        }
    }
}
