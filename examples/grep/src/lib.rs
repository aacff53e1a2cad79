//! `grep`: find the lines of the workspace that contain a text.
//!
//! This is wharf's example of a third-party tool: one file, built only
//! against `wharf-plugin-api` (plus serde), compiled for `wasm32-wasip2` and
//! installed with `wharf plugin add`. Read it top to bottom: the arguments,
//! the tool, the matcher, the walk, the output (the tests are in `tests.rs`).
//!
//! What it does, exactly:
//!
//! - **Matching.** A line matches when it contains `pattern` as literal
//!   text: no regular expressions, so nothing needs escaping. With
//!   `ignore_case`, both sides are lowercased first (Unicode-aware).
//! - **Files.** `path` (default `.`, relative to the working directory) is
//!   a file, searched as is, or a directory, walked in path order. The walk
//!   skips `.git`, `target`, `node_modules` and hidden directories (a
//!   `path` that names one is still searched), symlinks (never followed),
//!   binary files (a NUL byte in the first 8 KiB) and files over 1 MiB.
//!   `glob` keeps only files whose *name* matches: `*` is any run of
//!   characters, `?` one character, anything else itself (case-sensitive).
//! - **Output.** One `path:line: text` line per match (paths relative to
//!   the working directory, lines numbered from 1, cut at 200 characters),
//!   then a summary line; and the same matches as a JSON block. At most
//!   `max_results` matches (default 100, at most 1000) are returned.
//!
//! What it may read is not its choice: the manifest asks for
//! `fs.read = ["workspace"]`, and the host preopens the granted directories
//! read-only, at their real absolute paths. The guest has no working
//! directory, so every path goes through [`Context::resolve`]; a path outside
//! the grant simply cannot be opened, and the tool reports that as an error
//! output the model can read.

use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};
use wharf_plugin_api::{Args, Context, Output, Tool, ToolError, ToolSpec};

/// Matches returned when the call does not say.
const DEFAULT_MAX_RESULTS: usize = 100;
/// The most matches one call may ask for (the schema says so too).
const MAX_RESULTS_LIMIT: usize = 1000;
/// Larger files are skipped: they are rarely source, and one call should
/// stay fast.
const MAX_FILE_BYTES: u64 = 1 << 20;
/// A NUL byte this early means a binary file.
const BINARY_SNIFF_BYTES: usize = 8 << 10;
/// Longer lines are cut, so that one minified file cannot fill the output.
const MAX_LINE_CHARS: usize = 200;
/// Directories the walk never enters (unless `path` names one).
const SKIPPED_DIRS: &[&str] = &[".git", "target", "node_modules"];

/// The tool.
pub struct Grep;

/// The arguments, as the model sends them.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {
    pattern: String,
    #[serde(default = "default_path")]
    path: String,
    glob: Option<String>,
    #[serde(default)]
    ignore_case: bool,
    max_results: Option<usize>,
}

fn default_path() -> String {
    ".".to_owned()
}

impl Tool for Grep {
    const NAME: &'static str = "grep";

    fn spec() -> ToolSpec {
        ToolSpec::new(
            "Find the lines that contain a text, in a file or below a directory.\n\n\
             Prints `path:line: text` for each match, sorted by path. The pattern is literal \
             text, not a regular expression. Skips .git, target, node_modules, hidden \
             directories, binary files and files over 1 MiB.",
        )
        .input_schema(serde_json::json!({
            "type": "object",
            "properties": {
                "pattern": {
                    "type": "string",
                    "minLength": 1,
                    "description": "The text to find, literally (no regular expression)."
                },
                "path": {
                    "type": "string",
                    "description": "A file or directory to search, relative to the working directory. Default: \".\"."
                },
                "glob": {
                    "type": "string",
                    "description": "Only search files whose name matches, e.g. \"*.rs\": * is any characters, ? one character."
                },
                "ignore_case": {
                    "type": "boolean",
                    "description": "Match regardless of case. Default: false."
                },
                "max_results": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": MAX_RESULTS_LIMIT,
                    "description": "Stop after this many matching lines. Default: 100."
                }
            },
            "required": ["pattern"],
            "additionalProperties": false
        }))
    }

    fn call(cx: &Context, args: Args) -> Result<Output, ToolError> {
        let input: Input = args.parse()?;
        let query = Query::new(&input)?;
        let root = cx.resolve(&input.path);
        let report = match search(cx.cwd(), &root, &query) {
            Ok(report) => report,
            Err(err) => return Ok(Output::error(cannot_search(&input.path, &root, &err))),
        };
        if report.matches.is_empty() {
            return Ok(Output::text(report.no_matches(&input.pattern, &input.path)));
        }
        Ok(Output::text(report.text(&query)).with_json(&report))
    }
}

/// Why the file or directory to search could not be opened. Outside the
/// grant there is nothing to open, so WASI says "not found" or "not
/// permitted"; both are worded so that the model knows where it may look.
fn cannot_search(path: &str, resolved: &Path, err: &io::Error) -> String {
    let why = match err.kind() {
        io::ErrorKind::NotFound => "it does not exist, or is outside what grep may read".to_owned(),
        io::ErrorKind::PermissionDenied => "it is outside what grep may read".to_owned(),
        _ => err.to_string(),
    };
    format!(
        "cannot search `{path}` ({}): {why}; grep reads only the workspace, and `path` is relative to the working directory",
        resolved.display()
    )
}

/// What to look for, checked and prepared once per call.
struct Query {
    /// The pattern, lowercased when `ignore_case` is set.
    needle: String,
    ignore_case: bool,
    glob: Option<Vec<char>>,
    max_results: usize,
}

impl Query {
    fn new(input: &Input) -> Result<Query, ToolError> {
        if input.pattern.is_empty() {
            return Err(ToolError::InvalidArgs(
                "`pattern` must not be empty".to_owned(),
            ));
        }
        if let Some(glob) = &input.glob
            && glob.contains('/')
        {
            return Err(ToolError::InvalidArgs(format!(
                "`glob` matches file names, not paths: `{glob}` contains `/` (put the directory in `path`)"
            )));
        }
        let needle = if input.ignore_case {
            input.pattern.to_lowercase()
        } else {
            input.pattern.clone()
        };
        Ok(Query {
            needle,
            ignore_case: input.ignore_case,
            glob: input.glob.as_ref().map(|glob| glob.chars().collect()),
            max_results: input
                .max_results
                .unwrap_or(DEFAULT_MAX_RESULTS)
                .clamp(1, MAX_RESULTS_LIMIT),
        })
    }

    fn matches_line(&self, line: &str) -> bool {
        if self.ignore_case {
            line.to_lowercase().contains(&self.needle)
        } else {
            line.contains(&self.needle)
        }
    }

    fn wants_file(&self, name: &str) -> bool {
        match &self.glob {
            None => true,
            Some(glob) => glob_matches(glob, &name.chars().collect::<Vec<_>>()),
        }
    }
}

/// Whether `name` matches `glob`, where `*` is any run of characters and
/// `?` exactly one. On a mismatch after a `*`, that `*` takes one more
/// character and matching resumes: linear in practice, never exponential.
fn glob_matches(glob: &[char], name: &[char]) -> bool {
    let (mut g, mut n) = (0, 0);
    // After the last `*` seen: where the glob resumes, and how much of the
    // name that `*` has taken so far.
    let mut star: Option<(usize, usize)> = None;
    while let Some(&c) = name.get(n) {
        match glob.get(g) {
            Some('*') => {
                star = Some((g + 1, n));
                g += 1;
            }
            Some(&p) if p == '?' || p == c => {
                g += 1;
                n += 1;
            }
            _ => match star {
                Some((resume, taken)) => {
                    star = Some((resume, taken + 1));
                    g = resume;
                    n = taken + 1;
                }
                None => return false,
            },
        }
    }
    glob.get(g..)
        .is_some_and(|rest| rest.iter().all(|&p| p == '*'))
}

/// One matching line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
struct Match {
    /// Relative to the working directory (absolute when outside it).
    path: String,
    /// From 1.
    line: usize,
    /// Cut at [`MAX_LINE_CHARS`].
    text: String,
}

/// What a search found; serialized as the output's JSON block.
#[derive(Debug, Default, Serialize)]
struct Report {
    /// In path order, then line order.
    matches: Vec<Match>,
    /// How many files the matches are in.
    files: usize,
    /// Files read and searched.
    searched_files: usize,
    /// Whether the search stopped at `max_results` with more to find.
    truncated: bool,
    skipped: Skipped,
}

/// Files the search passed over, so that a model knows its answer may be
/// incomplete.
#[derive(Debug, Default, Serialize)]
struct Skipped {
    binary: usize,
    too_large: usize,
    /// Files and directories below the root that could not be read.
    unreadable: usize,
}

/// Searches `root` (a file or a directory) for `query`. Only a failure to
/// open `root` itself is an error; anything below it that cannot be read is
/// counted in [`Skipped::unreadable`].
fn search(cwd: &Path, root: &Path, query: &Query) -> io::Result<Report> {
    let mut walk = Walk {
        cwd,
        query,
        report: Report::default(),
    };
    if fs::metadata(root)?.is_dir() {
        walk.dir(root)?;
    } else {
        walk.file(root)?;
    }
    Ok(walk.report)
}

struct Walk<'a> {
    cwd: &'a Path,
    query: &'a Query,
    report: Report,
}

impl Walk<'_> {
    /// Visits the entries of `dir` sorted by name, so that the matches come
    /// out in path order.
    fn dir(&mut self, dir: &Path) -> io::Result<()> {
        let mut entries = Vec::new();
        for entry in fs::read_dir(dir)? {
            let entry = entry?;
            entries.push((entry.file_name(), entry.file_type()?));
        }
        entries.sort_by(|(a, _), (b, _)| a.cmp(b));
        for (name, kind) in entries {
            if self.report.truncated {
                break;
            }
            let path = dir.join(&name);
            let name = name.to_string_lossy();
            let visited = if kind.is_dir() {
                if name.starts_with('.') || SKIPPED_DIRS.contains(&name.as_ref()) {
                    continue;
                }
                self.dir(&path)
            } else if kind.is_file() && self.query.wants_file(&name) {
                self.file(&path)
            } else {
                // Symlinks (which could lead in circles) and special files.
                continue;
            };
            if visited.is_err() {
                self.report.skipped.unreadable += 1;
            }
        }
        Ok(())
    }

    fn file(&mut self, path: &Path) -> io::Result<()> {
        if fs::metadata(path)?.len() > MAX_FILE_BYTES {
            self.report.skipped.too_large += 1;
            return Ok(());
        }
        let bytes = fs::read(path)?;
        let head = bytes.get(..BINARY_SNIFF_BYTES).unwrap_or(&bytes);
        if head.contains(&0) {
            self.report.skipped.binary += 1;
            return Ok(());
        }
        self.report.searched_files += 1;
        let shown = display(self.cwd, path);
        let mut found = false;
        for (index, line) in String::from_utf8_lossy(&bytes).lines().enumerate() {
            if !self.query.matches_line(line) {
                continue;
            }
            if self.report.matches.len() == self.query.max_results {
                self.report.truncated = true;
                break;
            }
            found = true;
            self.report.matches.push(Match {
                path: shown.clone(),
                line: index + 1,
                text: cut(line),
            });
        }
        if found {
            self.report.files += 1;
        }
        Ok(())
    }
}

/// `path` relative to `cwd` when inside it, without `.` components; `.` for
/// `cwd` itself.
fn display(cwd: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(cwd).unwrap_or(path);
    let shown: PathBuf = relative
        .components()
        .filter(|part| !matches!(part, Component::CurDir))
        .collect();
    if shown.as_os_str().is_empty() {
        ".".to_owned()
    } else {
        shown.display().to_string()
    }
}

/// `line` cut to [`MAX_LINE_CHARS`] characters, marked with `…` when cut.
fn cut(line: &str) -> String {
    match line.char_indices().nth(MAX_LINE_CHARS) {
        Some((end, _)) => format!("{}…", line.get(..end).unwrap_or(line)),
        None => line.to_owned(),
    }
}

impl Report {
    /// The matches, one `path:line: text` line each, and a summary line.
    fn text(&self, query: &Query) -> String {
        let mut text = String::new();
        for m in &self.matches {
            text.push_str(&format!("{}:{}: {}\n", m.path, m.line, m.text));
        }
        text.push_str(&format!(
            "{} in {}",
            count(self.matches.len(), "match", "matches"),
            count(self.files, "file", "files")
        ));
        if self.truncated {
            text.push_str(&format!(
                ", stopped at max_results = {} (narrow the search or raise max_results)",
                query.max_results
            ));
        }
        text.push_str(&self.skipped_note("; "));
        text
    }

    /// The answer when nothing matched.
    fn no_matches(&self, pattern: &str, path: &str) -> String {
        format!(
            "no matches for {pattern:?} in {path} ({} searched{})",
            count(self.searched_files, "file", "files"),
            self.skipped_note(", ")
        )
    }

    /// `"{sep}skipped 1 binary file, …"`, or nothing when nothing was skipped.
    fn skipped_note(&self, sep: &str) -> String {
        let skipped = &self.skipped;
        let parts: Vec<String> = [
            (skipped.binary, "binary file", "binary files"),
            (skipped.too_large, "file over 1 MiB", "files over 1 MiB"),
            (skipped.unreadable, "unreadable entry", "unreadable entries"),
        ]
        .into_iter()
        .filter(|(n, _, _)| *n > 0)
        .map(|(n, one, many)| count(n, one, many))
        .collect();
        if parts.is_empty() {
            String::new()
        } else {
            format!("{sep}skipped {}", parts.join(", "))
        }
    }
}

/// `1 file`, `2 files`.
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

wharf_plugin_api::plugin!(Grep);

#[cfg(test)]
mod tests;
