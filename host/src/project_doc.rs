//! Project instructions: the `AGENTS.md` files codex users keep for their
//! agents, found as codex finds them and sent to the model as the first
//! message of every thread.
//!
//! The files, in the order they are sent:
//!
//! 1. the user's own: `$WHARF_HOME/AGENTS.override.md`, else
//!    `$WHARF_HOME/AGENTS.md`;
//! 2. in a trusted project only, one file per directory from the project
//!    root (the repository root) down to the working directory:
//!    `AGENTS.override.md`, else `AGENTS.md`, else the first of
//!    `project_doc_fallback_filenames` that exists.
//!
//! The project's files share a budget of `project_doc_max_bytes`; the file
//! that crosses it is cut there and the ones below it are left out. The
//! user's file has a budget of its own of the same size. A file that is
//! empty, not a regular file (a FIFO would block the start of every
//! session), or — for a project's — a symlink leading out of the project,
//! is skipped; the last two with a warning. The project's files are
//! written by whoever wrote the repository, so what they say reaches the
//! model as the user's message, never as the system's instructions.

use std::fs::File;
use std::io::{self, Read as _};
use std::os::fd::AsRawFd as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use wharf_config::{Config, DEFAULT_PROJECT_DOC_MAX_BYTES};
use wharf_model::protocol::{ResponseItem, Role};

/// The file a directory's own instructions are read from first.
pub const OVERRIDE_FILE: &str = "AGENTS.override.md";
/// The usual name of the instructions file.
pub const DEFAULT_FILE: &str = "AGENTS.md";

/// How the message carrying the instructions starts: what tells it apart
/// from the user's own messages (a compaction keeps it as it is).
pub const MESSAGE_PREFIX: &str = "# AGENTS.md instructions for ";

/// Where to look and how much to read.
#[derive(Debug, Clone)]
pub struct Search<'a> {
    pub wharf_home: &'a Path,
    pub cwd: &'a Path,
    /// The project root, when the project is trusted: its files are read
    /// only then.
    pub trusted_root: Option<&'a Path>,
    pub max_bytes: usize,
    pub fallback_names: &'a [String],
}

impl<'a> Search<'a> {
    /// The search `config` describes.
    pub fn of(config: &'a Config) -> Search<'a> {
        Search {
            wharf_home: &config.wharf_home,
            cwd: &config.cwd,
            trusted_root: config
                .project
                .is_trusted()
                .then_some(config.project.root.as_path()),
            max_bytes: config.project_doc_max_bytes,
            fallback_names: &config.project_doc_fallback_filenames,
        }
    }
}

/// The instructions found for a session.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProjectDocs {
    /// The files used, in the order they are sent.
    pub files: Vec<DocFile>,
    /// Files skipped for a reason the user should hear.
    pub warnings: Vec<String>,
    cwd: PathBuf,
    /// Each file's path and the part of it that is sent.
    parts: Vec<(PathBuf, String)>,
}

/// One file used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocFile {
    pub path: PathBuf,
    /// The bytes sent.
    pub bytes: usize,
    /// Whether the file was cut at the budget.
    pub truncated: bool,
}

impl ProjectDocs {
    /// Finds and reads the files of `search`.
    pub fn load(search: &Search<'_>) -> ProjectDocs {
        let mut docs = ProjectDocs {
            cwd: search.cwd.to_path_buf(),
            ..ProjectDocs::default()
        };
        let names = candidate_names(search.fallback_names, &mut docs.warnings);

        let global_budget = search.max_bytes.max(DEFAULT_PROJECT_DOC_MAX_BYTES);
        for name in [OVERRIDE_FILE, DEFAULT_FILE] {
            let path = search.wharf_home.join(name);
            if docs.read(&path, None, global_budget) != Found::Nothing {
                break;
            }
        }

        let Some(root) = search.trusted_root else {
            return docs;
        };
        let mut budget = search.max_bytes;
        let mut cut = false;
        for dir in root_to_cwd(root, search.cwd) {
            if budget == 0 || cut {
                break;
            }
            for name in &names {
                match docs.read(&dir.join(name), Some(root), budget) {
                    Found::Nothing => continue,
                    Found::Skipped => break,
                    Found::Used(bytes) => {
                        budget = budget.saturating_sub(bytes);
                        cut = docs.files.last().is_some_and(|file| file.truncated);
                        break;
                    }
                }
            }
        }
        docs
    }

    /// The files' paths.
    pub fn paths(&self) -> Vec<PathBuf> {
        self.files.iter().map(|file| file.path.clone()).collect()
    }

    /// The message that carries the instructions to the model (a user
    /// message, as codex sends it), naming each file; `None` without any.
    pub fn message(&self) -> Option<ResponseItem> {
        if self.parts.is_empty() {
            return None;
        }
        let mut text = format!("{MESSAGE_PREFIX}{}\n\n<INSTRUCTIONS>\n", self.cwd.display());
        for (index, (path, contents)) in self.parts.iter().enumerate() {
            if index > 0 {
                text.push('\n');
            }
            text.push_str(&format!("--- {} ---\n", path.display()));
            text.push_str(contents.trim_end());
            text.push('\n');
        }
        text.push_str("</INSTRUCTIONS>");
        Some(ResponseItem::Message {
            role: Role::User,
            text,
            images: Vec::new(),
        })
    }

    /// Reads `path` into the instructions, at most `budget` bytes; a file
    /// of a project must stay inside `root` once its symlinks are resolved.
    fn read(&mut self, path: &Path, root: Option<&Path>, budget: usize) -> Found {
        let (contents, truncated) = match read_limited(path, root, budget) {
            Ok(Some(read)) => read,
            Ok(None) => return Found::Nothing,
            Err(why) => {
                self.warnings.push(format!(
                    "{}: not read as instructions: {why}",
                    path.display()
                ));
                return Found::Skipped;
            }
        };
        if contents.trim().is_empty() {
            return Found::Nothing;
        }
        if truncated {
            self.warnings.push(format!(
                "{}: cut at {budget} bytes (`project_doc_max_bytes`); the instructions below it \
                 are left out",
                path.display()
            ));
        }
        let bytes = contents.len();
        self.files.push(DocFile {
            path: path.to_path_buf(),
            bytes,
            truncated,
        });
        self.parts.push((path.to_path_buf(), contents));
        Found::Used(bytes)
    }
}

/// What looking at one candidate found.
#[derive(Debug, PartialEq, Eq)]
enum Found {
    /// No such file, or an empty one: try the next name.
    Nothing,
    /// A file that cannot be used: the directory has no instructions.
    Skipped,
    /// A file, this many bytes of it sent.
    Used(usize),
}

/// The names looked for in each directory of a project: the override, the
/// usual name, then the fallbacks that are plain file names.
fn candidate_names(fallbacks: &[String], warnings: &mut Vec<String>) -> Vec<String> {
    let mut names = vec![OVERRIDE_FILE.to_owned(), DEFAULT_FILE.to_owned()];
    for name in fallbacks {
        let plain = !name.is_empty()
            && name != "."
            && name != ".."
            && !name.contains('/')
            && !name.contains('\0');
        if !plain {
            warnings.push(format!(
                "`project_doc_fallback_filenames`: {name:?} is not a file name (ignored)"
            ));
        } else if !names.contains(name) {
            names.push(name.clone());
        }
    }
    names
}

/// The directories from `root` down to `cwd`, root first; only `cwd` when
/// it is not inside `root`.
fn root_to_cwd(root: &Path, cwd: &Path) -> Vec<PathBuf> {
    let cwd = cwd.canonicalize().unwrap_or_else(|_| cwd.to_path_buf());
    let Ok(below) = cwd.strip_prefix(root) else {
        return vec![cwd];
    };
    let mut dirs = vec![root.to_path_buf()];
    let mut dir = root.to_path_buf();
    for component in below.components() {
        dir.push(component);
        dirs.push(dir.clone());
    }
    dirs
}

/// The text of the regular file at `path`, cut at `budget` bytes (on a
/// character boundary), and whether it was cut; `None` when there is no
/// file. The file is opened without blocking (a FIFO or a device is
/// refused, never waited on); with `root`, the file opened must lie inside
/// it, which is checked on the open file itself, so a symlink swapped in
/// after the check changes nothing.
fn read_limited(
    path: &Path,
    root: Option<&Path>,
    budget: usize,
) -> Result<Option<(String, bool)>, String> {
    let file = match File::options()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
    {
        Ok(file) => file,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(err) if err.raw_os_error() == Some(libc::ELOOP) => {
            return Err("a symlink loop".to_owned());
        }
        Err(err) => return Err(err.to_string()),
    };
    let metadata = file.metadata().map_err(|err| err.to_string())?;
    if metadata.is_dir() {
        return Ok(None);
    }
    if !metadata.is_file() {
        return Err("not a regular file".to_owned());
    }
    if let Some(root) = root {
        let opened = std::fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd()))
            .or_else(|_| path.canonicalize())
            .map_err(|err| err.to_string())?;
        if !opened.starts_with(root) {
            return Err(format!(
                "it leads to {}, outside the project {}",
                opened.display(),
                root.display()
            ));
        }
    }
    let mut bytes = Vec::new();
    let limit = u64::try_from(budget).unwrap_or(u64::MAX).saturating_add(1);
    file.take(limit)
        .read_to_end(&mut bytes)
        .map_err(|err| err.to_string())?;
    let truncated = bytes.len() > budget;
    if truncated {
        bytes.truncate(budget);
    }
    let mut text = String::from_utf8_lossy(&bytes).into_owned();
    if truncated {
        // A cut in the middle of a character leaves a replacement mark at
        // the end: drop it.
        while text.ends_with('\u{FFFD}') {
            text.pop();
        }
    }
    Ok(Some((text, truncated)))
}

#[cfg(test)]
mod tests;
