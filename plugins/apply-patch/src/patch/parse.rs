//! Parser for codex's patch grammar:
//!
//! ```text
//! patch   := "*** Begin Patch" hunk+ "*** End Patch"
//! hunk    := add | delete | update
//! add     := "*** Add File: " path ("+" text)*
//! delete  := "*** Delete File: " path
//! update  := "*** Update File: " path ["*** Move to: " path] chunk+
//! chunk   := ("@@" | "@@ " context) (" " text | "-" text | "+" text)+ ["*** End of File"]
//! ```
//!
//! Like codex, the parser forgives what models get wrong without changing
//! what a patch means: marker lines may be padded with whitespace, blank lines
//! may separate hunks and chunks, the first chunk of an update may omit its
//! `@@` line, and a patch wrapped in a shell heredoc (`<<'EOF'` … `EOF`) is
//! unwrapped. Every error names the 1-based line of the patch text it is
//! about, counted in the text as sent (before any unwrapping).

use super::PatchError;

const BEGIN_PATCH: &str = "*** Begin Patch";
const END_PATCH: &str = "*** End Patch";
const ADD_FILE: &str = "*** Add File:";
const DELETE_FILE: &str = "*** Delete File:";
const UPDATE_FILE: &str = "*** Update File:";
const MOVE_TO: &str = "*** Move to:";
const END_OF_FILE: &str = "*** End of File";
const CHUNK_HEADER: &str = "@@";

/// Lines the parser treats as a file-level marker even when indented, so that
/// a padded hunk header still ends the hunk before it.
const FILE_MARKERS: [&str; 6] = [
    ADD_FILE,
    DELETE_FILE,
    UPDATE_FILE,
    MOVE_TO,
    END_OF_FILE,
    END_PATCH,
];

/// Offending lines quoted in error messages are cut to this many characters:
/// the line number already says where to look.
const QUOTE_LIMIT: usize = 80;

/// One file operation of a patch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hunk<'a> {
    /// `*** Add File:` — `contents` has a `\n` after every `+` line.
    Add {
        path: &'a str,
        contents: String,
        line: usize,
    },
    /// `*** Delete File:`.
    Delete { path: &'a str, line: usize },
    /// `*** Update File:`, optionally with `*** Move to:`.
    Update {
        path: &'a str,
        move_to: Option<&'a str>,
        chunks: Vec<Chunk<'a>>,
        line: usize,
    },
}

/// One change inside an update: replace `old` by `new`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk<'a> {
    /// The text after `@@ `: a line (usually a function or class header) that
    /// must come before `old`, to tell apart places that look alike.
    pub context: Option<&'a str>,
    /// Context and `-` lines, in order: what the file holds now.
    pub old: Vec<&'a str>,
    /// Context and `+` lines, in order: what it should hold instead.
    pub new: Vec<&'a str>,
    /// `*** End of File` followed the chunk: `old` must end the file.
    pub end_of_file: bool,
    /// 1-based line of the chunk's `@@` (or of its first line when the `@@`
    /// was left out).
    pub line: usize,
}

impl Hunk<'_> {
    /// The 1-based line of the hunk's `*** … File:` header.
    pub fn line(&self) -> usize {
        match self {
            Self::Add { line, .. } | Self::Delete { line, .. } | Self::Update { line, .. } => *line,
        }
    }

    /// The path the hunk operates on (the source, for a move).
    pub fn path(&self) -> &str {
        match self {
            Self::Add { path, .. } | Self::Delete { path, .. } | Self::Update { path, .. } => path,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Line<'a> {
    number: usize,
    text: &'a str,
}

/// Parses a patch into its hunks, in order.
///
/// # Errors
///
/// [`PatchError::Parse`] when the text is not a patch in this grammar. A
/// patch without any hunk is an error too: codex reports "No files were
/// modified." for it, and an empty patch is almost always a model mistake.
pub fn parse(text: &str) -> Result<Vec<Hunk<'_>>, PatchError> {
    let all: Vec<Line<'_>> = text
        .split('\n')
        .enumerate()
        .map(|(index, raw)| Line {
            number: index + 1,
            text: raw.strip_suffix('\r').unwrap_or(raw),
        })
        .collect();
    let lines = unwrap_heredoc(trim_blank(&all))?;
    let (body, end_line) = patch_body(lines)?;
    let hunks = Parser {
        lines: body,
        pos: 0,
    }
    .hunks()?;
    if hunks.is_empty() {
        return Err(error(
            end_line,
            "the patch has no file operations; put `*** Add File: <path>`, \
             `*** Delete File: <path>` or `*** Update File: <path>` sections between \
             `*** Begin Patch` and `*** End Patch`",
        ));
    }
    Ok(hunks)
}

fn error(line: usize, message: impl Into<String>) -> PatchError {
    PatchError::Parse {
        line,
        message: message.into(),
    }
}

/// The line as it can be shown in a message: trimmed and cut short.
fn quote(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(QUOTE_LIMIT) {
        Some((cut, _)) => format!("{}…", text.get(..cut).unwrap_or(text)),
        None => text.to_owned(),
    }
}

fn is_blank(line: &Line<'_>) -> bool {
    line.text.trim().is_empty()
}

/// Leading and trailing blank lines carry no meaning (codex trims the whole
/// text before parsing).
fn trim_blank<'l, 'a>(lines: &'l [Line<'a>]) -> &'l [Line<'a>] {
    let start = lines.iter().position(|line| !is_blank(line));
    let end = lines.iter().rposition(|line| !is_blank(line));
    match (start, end) {
        (Some(start), Some(end)) => lines.get(start..=end).unwrap_or_default(),
        _ => &[],
    }
}

/// Strips a heredoc wrapper (`<<'EOF'` … `EOF`, optionally preceded by the
/// command name), which models send when they think they are writing a shell
/// command. Anything more elaborate (a `cd` first, other commands) is left
/// alone and fails the `*** Begin Patch` check: its meaning cannot be honoured
/// here.
fn unwrap_heredoc<'l, 'a>(lines: &'l [Line<'a>]) -> Result<&'l [Line<'a>], PatchError> {
    let (Some(first), Some(last)) = (lines.first(), lines.last()) else {
        return Ok(lines);
    };
    let Some(delimiter) = heredoc_delimiter(first.text) else {
        return Ok(lines);
    };
    if lines.len() < 2 || last.text.trim() != delimiter {
        return Err(error(
            last.number,
            format!(
                "the heredoc opened by `{}` on line {} is not closed by a `{delimiter}` line; \
                 send the patch text alone, from `*** Begin Patch` to `*** End Patch`",
                quote(first.text),
                first.number
            ),
        ));
    }
    let inner = lines.get(1..lines.len() - 1).unwrap_or_default();
    Ok(trim_blank(inner))
}

/// The delimiter of a heredoc opening line such as `<<'EOF'`, `<<"EOF"`,
/// `<<EOF` or `apply_patch <<'EOF'`.
fn heredoc_delimiter(text: &str) -> Option<&str> {
    let text = text.trim();
    let text = ["apply_patch", "applypatch"]
        .iter()
        .find_map(|command| text.strip_prefix(command))
        .map_or(text, str::trim_start);
    let text = text.strip_prefix("<<")?;
    let text = text.strip_prefix('-').unwrap_or(text).trim_start();
    let word = if let Some(quoted) = text.strip_prefix('\'') {
        quoted.strip_suffix('\'')?
    } else if let Some(quoted) = text.strip_prefix('"') {
        quoted.strip_suffix('"')?
    } else {
        text
    };
    let is_word = !word.is_empty() && word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    is_word.then_some(word)
}

/// Checks the `*** Begin Patch` / `*** End Patch` frame and returns the lines
/// between them, with the line number of `*** End Patch`.
fn patch_body<'l, 'a>(lines: &'l [Line<'a>]) -> Result<(&'l [Line<'a>], usize), PatchError> {
    let (Some(first), Some(last)) = (lines.first(), lines.last()) else {
        return Err(error(
            1,
            "the patch is empty; it must start with `*** Begin Patch` and end with `*** End Patch`",
        ));
    };
    if first.text.trim() != BEGIN_PATCH {
        return Err(error(
            first.number,
            format!(
                "the first line must be `{BEGIN_PATCH}`, found `{}`",
                quote(first.text)
            ),
        ));
    }
    if lines.len() < 2 || last.text.trim() != END_PATCH {
        return Err(error(
            last.number,
            format!(
                "the last line must be `{END_PATCH}`, found `{}`; was the patch cut off?",
                quote(last.text)
            ),
        ));
    }
    let body = lines.get(1..lines.len() - 1).unwrap_or_default();
    Ok((body, last.number))
}

/// A marker line that starts a new hunk (or ends the patch), padded or not.
fn is_file_marker(text: &str) -> bool {
    let text = text.trim();
    FILE_MARKERS.iter().any(|marker| text.starts_with(marker))
}

/// Reads a chunk header: `Some(context)` for `@@`/`@@ context`, `None` if the
/// line is not a header.
///
/// Models sometimes write unified-diff headers (`@@ -12,7 +12,8 @@ fn f()`);
/// the line numbers are dropped and what follows them is the context, since
/// matching is by content anyway.
fn chunk_header(text: &str) -> Option<Option<&str>> {
    let rest = text.trim_start().strip_prefix(CHUNK_HEADER)?;
    if rest.trim().is_empty() {
        return Some(None);
    }
    // Codex strips exactly `@@ `: further indentation belongs to the context.
    let context = rest.strip_prefix([' ', '\t'])?;
    let context = match after_line_numbers(context) {
        Some(after) => after.strip_prefix(' ').unwrap_or(after),
        None => context,
    };
    Some((!context.trim().is_empty()).then_some(context))
}

/// For `-12,7 +12,8 @@ rest`, returns `rest` (with its leading space).
fn after_line_numbers(text: &str) -> Option<&str> {
    fn range(text: &str, sign: char) -> Option<&str> {
        let text = text.strip_prefix(sign)?;
        let digits = |s: &str| s.len() - s.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        let start = digits(text);
        let text = text.get(start..).filter(|_| start > 0)?;
        match text.strip_prefix(',') {
            Some(count) => {
                let len = digits(count);
                count.get(len..).filter(|_| len > 0)
            }
            None => Some(text),
        }
    }
    let text = range(text, '-')?.strip_prefix(' ')?;
    range(text, '+')?.strip_prefix(" @@")
}

struct Parser<'l, 'a> {
    lines: &'l [Line<'a>],
    pos: usize,
}

impl<'a> Parser<'_, 'a> {
    fn peek(&self) -> Option<Line<'a>> {
        self.lines.get(self.pos).copied()
    }

    fn skip_blank(&mut self) {
        while self.peek().is_some_and(|line| is_blank(&line)) {
            self.pos += 1;
        }
    }

    fn hunks(mut self) -> Result<Vec<Hunk<'a>>, PatchError> {
        let mut hunks = Vec::new();
        loop {
            self.skip_blank();
            let Some(line) = self.peek() else {
                return Ok(hunks);
            };
            self.pos += 1;
            let header = line.text.trim();
            let hunk = if let Some(rest) = header.strip_prefix(ADD_FILE) {
                self.add(line, header_path(rest, line, ADD_FILE)?)
            } else if let Some(rest) = header.strip_prefix(DELETE_FILE) {
                Hunk::Delete {
                    path: header_path(rest, line, DELETE_FILE)?,
                    line: line.number,
                }
            } else if let Some(rest) = header.strip_prefix(UPDATE_FILE) {
                self.update(line, header_path(rest, line, UPDATE_FILE)?)?
            } else {
                return Err(invalid_header(line, hunks.last()));
            };
            hunks.push(hunk);
        }
    }

    fn add(&mut self, header: Line<'a>, path: &'a str) -> Hunk<'a> {
        let mut contents = String::new();
        while let Some(text) = self.peek().and_then(|line| line.text.strip_prefix('+')) {
            contents.push_str(text);
            contents.push('\n');
            self.pos += 1;
        }
        Hunk::Add {
            path,
            contents,
            line: header.number,
        }
    }

    fn update(&mut self, header: Line<'a>, path: &'a str) -> Result<Hunk<'a>, PatchError> {
        let move_to = match self.peek() {
            Some(line) => match line.text.trim().strip_prefix(MOVE_TO) {
                Some(rest) => {
                    self.pos += 1;
                    Some(header_path(rest, line, MOVE_TO)?)
                }
                None => None,
            },
            None => None,
        };
        let mut chunks = Vec::new();
        loop {
            self.skip_blank();
            match self.peek() {
                Some(line) if !line.text.starts_with('*') && !is_file_marker(line.text) => {
                    chunks.push(self.chunk(line, path, chunks.is_empty())?);
                }
                _ => break,
            }
        }
        if chunks.is_empty() {
            return Err(error(
                header.number,
                format!(
                    "`{UPDATE_FILE} {path}` has no changes; follow it with an `@@` line and \
                     lines starting with ' ' (context), '-' (remove) or '+' (add)"
                ),
            ));
        }
        Ok(Hunk::Update {
            path,
            move_to,
            chunks,
            line: header.number,
        })
    }

    /// Parses one chunk. Inside it, only an unindented line that is not a
    /// diff line ends it: an indented `*** …` line is a context line (the file
    /// may well contain patch text), unlike between hunks.
    fn chunk(&mut self, start: Line<'a>, path: &str, first: bool) -> Result<Chunk<'a>, PatchError> {
        let context = match chunk_header(start.text) {
            Some(context) => {
                self.pos += 1;
                context
            }
            // Codex lets the first chunk start right away with diff lines.
            None if first => None,
            None => {
                return Err(error(
                    start.number,
                    format!(
                        "expected `@@` to start the next change to {path}, found `{}`; \
                         every change after the first starts with an `@@` line",
                        quote(start.text)
                    ),
                ));
            }
        };
        let mut chunk = Chunk {
            context,
            old: Vec::new(),
            new: Vec::new(),
            end_of_file: false,
            line: start.number,
        };
        let mut has_lines = false;
        while let Some(line) = self.peek() {
            if line.text.trim_end() == END_OF_FILE {
                if !has_lines {
                    return Err(error(
                        line.number,
                        format!(
                            "`{END_OF_FILE}` must follow the lines of a change, \
                             but this change to {path} has none"
                        ),
                    ));
                }
                chunk.end_of_file = true;
                self.pos += 1;
                break;
            }
            if line.text.is_empty() {
                // An empty line is an empty context line whose ' ' got lost.
                chunk.old.push("");
                chunk.new.push("");
            } else if let Some(text) = line.text.strip_prefix(' ') {
                chunk.old.push(text);
                chunk.new.push(text);
            } else if let Some(text) = line.text.strip_prefix('-') {
                chunk.old.push(text);
            } else if let Some(text) = line.text.strip_prefix('+') {
                chunk.new.push(text);
            } else if has_lines || line.text.starts_with('*') || chunk_header(line.text).is_some() {
                // The next chunk or hunk (an empty chunk is reported below).
                break;
            } else {
                return Err(error(
                    line.number,
                    format!(
                        "unexpected line `{}` in a change to {path}; each line of a change \
                         starts with ' ' (context), '-' (remove) or '+' (add)",
                        quote(line.text)
                    ),
                ));
            }
            has_lines = true;
            self.pos += 1;
        }
        if !has_lines {
            return Err(error(
                start.number,
                format!(
                    "the `@@` line of a change to {path} is not followed by any line \
                     starting with ' ' (context), '-' (remove) or '+' (add)"
                ),
            ));
        }
        Ok(chunk)
    }
}

/// The path after a `*** … File:` marker.
fn header_path<'a>(rest: &'a str, line: Line<'a>, marker: &str) -> Result<&'a str, PatchError> {
    let path = rest.trim();
    if path.is_empty() {
        return Err(error(
            line.number,
            format!("`{marker}` needs a path after it"),
        ));
    }
    Ok(path)
}

fn invalid_header(line: Line<'_>, previous: Option<&Hunk<'_>>) -> PatchError {
    let found = quote(line.text);
    let message = match previous {
        Some(Hunk::Add { path, .. }) if !line.text.trim_start().starts_with("***") => format!(
            "`{found}` is not part of the file added by `{ADD_FILE} {path}` nor a file \
             operation; every line of an added file starts with '+'"
        ),
        _ => format!(
            "`{found}` is not a valid file operation; expected `{ADD_FILE} <path>`, \
             `{DELETE_FILE} <path>` or `{UPDATE_FILE} <path>`"
        ),
    };
    error(line.number, message)
}
