//! Project trust: whether a project's `.wharf/config.toml` is read.
//!
//! A cloned repository is not the user. Its project file could start MCP
//! servers, loosen the sandbox or send the API key to a provider of its own,
//! so it is read only when the user's own config.toml says the project is
//! trusted (`[projects."ROOT"] trust_level = "trusted"`), and only while its
//! sha256 is the one recorded then: a command run in the workspace may have
//! rewritten it since. Nothing else can declare trust — the `projects` table
//! of a project file, a profile or `-c` is ignored.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::layer::{self, FileLayer};
use super::project_search::{default_root_markers, find_in_project, marked_root};
use super::source::Source;
use super::toml_types::{ProjectToml, TrustLevel};
use super::{ConfigError, same_file};

/// The project a session works in, what the user decided about it, and
/// what became of its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    /// The repository root (the first directory from the working directory
    /// up that holds `.git`), else the working directory; canonical when it
    /// exists. Trust is recorded under this path.
    pub root: PathBuf,
    /// `None`: the user never decided.
    pub trust: Option<TrustLevel>,
    /// The project file the search found, if any.
    pub file: Option<ProjectFile>,
    /// The project's `.codex/config.toml` (a codex user's project file),
    /// if the search found one: read below `.wharf/config.toml`, under the
    /// same trust rules.
    pub codex_file: Option<ProjectFile>,
}

/// The project file the search found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectFile {
    pub path: PathBuf,
    /// Why it was not read; `None` when it was.
    pub ignored: Option<Ignored>,
}

/// Why a project file was not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ignored {
    /// The user never decided about the project.
    Undecided,
    /// The user marked the project untrusted.
    Untrusted,
    /// Its contents are not the ones the user trusted.
    Changed,
    /// The project had no file when the user trusted it.
    Created,
}

impl Ignored {
    /// One word for JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Ignored::Undecided => "not-trusted",
            Ignored::Untrusted => "untrusted",
            Ignored::Changed => "changed",
            Ignored::Created => "created",
        }
    }

    /// Why, and what to do about it, for the project at `root`.
    pub fn reason(self, root: &Path) -> String {
        let root = root.display();
        match self {
            Ignored::Undecided => {
                format!("the project {root} is not trusted (run `wharf trust {root}` to use it)")
            }
            Ignored::Untrusted => format!(
                "the project {root} is marked untrusted (run `wharf trust {root}` to use it)"
            ),
            Ignored::Changed => format!(
                "it changed since the project {root} was trusted (review it, then run \
                 `wharf trust {root}` again)"
            ),
            Ignored::Created => format!(
                "it did not exist when the project {root} was trusted (review it, then run \
                 `wharf trust {root}` again)"
            ),
        }
    }
}

impl Project {
    /// The warning about an ignored `.wharf/config.toml`, if it was ignored.
    pub fn warning(&self) -> Option<String> {
        self.file_warning(self.file.as_ref())
    }

    /// The warnings about ignored project files, `.codex/config.toml`'s
    /// included.
    pub fn warnings(&self) -> Vec<String> {
        [self.file.as_ref(), self.codex_file.as_ref()]
            .into_iter()
            .filter_map(|file| self.file_warning(file))
            .collect()
    }

    fn file_warning(&self, file: Option<&ProjectFile>) -> Option<String> {
        let file = file?;
        let ignored = file.ignored?;
        Some(format!(
            "ignoring {}: {}",
            file.path.display(),
            ignored.reason(&self.root)
        ))
    }

    /// Whether the user trusts this project.
    pub fn is_trusted(&self) -> bool {
        self.trust == Some(TrustLevel::Trusted)
    }
}

/// [`decide_file`] for `.wharf/config.toml`.
#[cfg(test)]
pub(crate) fn decide(record: Option<&ProjectToml>, file_sha256: Option<&str>) -> Option<Ignored> {
    decide_file(record, ProjectFileKind::Wharf, file_sha256)
}

/// Which of a project's files: they are hashed and recorded apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProjectFileKind {
    /// `.wharf/config.toml` (`config_sha256`).
    Wharf,
    /// `.codex/config.toml` (`codex_config_sha256`).
    Codex,
}

impl ProjectFileKind {
    fn dir(self) -> &'static str {
        match self {
            ProjectFileKind::Wharf => ".wharf",
            ProjectFileKind::Codex => ".codex",
        }
    }

    fn recorded(self, record: &ProjectToml) -> Option<&str> {
        match self {
            ProjectFileKind::Wharf => record.config_sha256.as_deref(),
            ProjectFileKind::Codex => record.codex_config_sha256.as_deref(),
        }
    }
}

/// The decision table. `file_sha256` is the hash of the file's contents,
/// computed only for a trusted project (an untrusted file is not even
/// read). `None` means the file is read.
pub(crate) fn decide_file(
    record: Option<&ProjectToml>,
    kind: ProjectFileKind,
    file_sha256: Option<&str>,
) -> Option<Ignored> {
    let Some(record) = record else {
        return Some(Ignored::Undecided);
    };
    match record.trust_level {
        None => Some(Ignored::Undecided),
        Some(TrustLevel::Untrusted) => Some(Ignored::Untrusted),
        Some(TrustLevel::Trusted) => match (kind.recorded(record), file_sha256) {
            (None, _) => Some(Ignored::Created),
            (Some(expected), Some(actual)) if expected.eq_ignore_ascii_case(actual) => None,
            (Some(_), _) => Some(Ignored::Changed),
        },
    }
}

/// The project root of `dir`: the first directory from `dir` up that holds
/// one of `markers` (`project_root_markers`, default `.git`; where the
/// project-file search stops), else `dir` itself; canonical when it can be.
pub fn project_root(dir: &Path, markers: &[String]) -> PathBuf {
    let root = marked_root(dir, markers).unwrap_or(dir);
    root.canonicalize().unwrap_or_else(|_| root.to_path_buf())
}

/// `project_root_markers` of the user's own config.toml at `user_path`
/// (only the user's file says what a project root is), else `.git`. A file
/// that does not parse gives the default: loading reports it.
pub fn root_markers(user_path: &Path) -> Vec<String> {
    std::fs::read_to_string(user_path)
        .ok()
        .and_then(|text| text.parse::<toml::Table>().ok())
        .and_then(|table| table.get("project_root_markers").cloned())
        .and_then(|markers| markers.try_into::<Vec<String>>().ok())
        .unwrap_or_else(default_root_markers)
}

/// The sha256 of `bytes`, as lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    crate::digest::hex(&Sha256::digest(bytes))
}

/// The `[projects]` entry for `root`: the one written as `root`, else one
/// whose (absolute) key resolves to it.
pub(crate) fn lookup<'a>(
    projects: &'a BTreeMap<String, ProjectToml>,
    root: &Path,
) -> Option<&'a ProjectToml> {
    if let Some(record) = root.to_str().and_then(|key| projects.get(key)) {
        return Some(record);
    }
    projects
        .iter()
        .find(|(key, _)| same_root(key, root))
        .map(|(_, record)| record)
}

/// Whether the `[projects]` key `key` names `root`.
pub(crate) fn same_root(key: &str, root: &Path) -> bool {
    let key = Path::new(key);
    key.is_absolute() && key.canonicalize().is_ok_and(|key| key == root)
}

/// The trust table of the user's file (already checked against the types).
pub(crate) fn recorded(user: Option<&FileLayer>) -> BTreeMap<String, ProjectToml> {
    user.and_then(|file| file.layered.table.get("projects"))
        .and_then(|projects| projects.clone().try_into().ok())
        .unwrap_or_default()
}

/// The layers of a project's files that were read: `.codex/config.toml`'s
/// and `.wharf/config.toml`'s.
#[derive(Default)]
pub(crate) struct ProjectLayers {
    pub codex: Option<FileLayer>,
    pub wharf: Option<FileLayer>,
}

/// Finds the project of `cwd` (its root found by `markers`) and its files,
/// and reads and checks each file the decision table allows.
pub(crate) fn load_project(
    cwd: &Path,
    user_path: &Path,
    projects: &BTreeMap<String, ProjectToml>,
    markers: &[String],
) -> Result<(Project, ProjectLayers), ConfigError> {
    let root = project_root(cwd, markers);
    let record = lookup(projects, &root);
    let mut project = Project {
        root,
        trust: record.and_then(|record| record.trust_level),
        file: None,
        codex_file: None,
    };
    let (file, wharf) = load_file(
        &project,
        record,
        ProjectFileKind::Wharf,
        cwd,
        user_path,
        markers,
    )?;
    let (codex_file, codex) = load_file(
        &project,
        record,
        ProjectFileKind::Codex,
        cwd,
        user_path,
        markers,
    )?;
    project.file = file;
    project.codex_file = codex_file;
    Ok((project, ProjectLayers { codex, wharf }))
}

/// One of the project's files, and its layer when the decision table lets
/// it be read.
fn load_file(
    project: &Project,
    record: Option<&ProjectToml>,
    kind: ProjectFileKind,
    cwd: &Path,
    user_path: &Path,
    markers: &[String],
) -> Result<(Option<ProjectFile>, Option<FileLayer>), ConfigError> {
    let Some(path) =
        find_in_project(cwd, markers, kind.dir()).filter(|path| !same_file(path, user_path))
    else {
        return Ok((None, None));
    };
    let mut layer = None;
    let ignored = if project.is_trusted() {
        match read_bytes(&path)? {
            // Gone since the search saw it: no file.
            None => return Ok((None, None)),
            Some(bytes) => {
                let ignored = decide_file(record, kind, Some(&sha256_hex(&bytes)));
                if ignored.is_none() {
                    // The bytes that were hashed are the bytes parsed.
                    let text = utf8(&path, bytes)?;
                    layer = Some(layer::parse_file(&path, &text, Source::Project)?);
                }
                ignored
            }
        }
    } else {
        decide_file(record, kind, None)
    };
    Ok((Some(ProjectFile { path, ignored }), layer))
}

/// What `wharf trust` is about to trust: the project root of `dir`, and the
/// project file the search finds from `dir`, checked.
#[derive(Debug, Clone)]
pub struct TrustTarget {
    pub root: PathBuf,
    /// Its `.wharf/config.toml`.
    pub file: Option<TrustedFile>,
    /// Its `.codex/config.toml`.
    pub codex_file: Option<TrustedFile>,
}

/// A project file as `wharf trust` shows and records it.
#[derive(Debug, Clone)]
pub struct TrustedFile {
    pub path: PathBuf,
    /// The hash of exactly the contents shown in `entries`.
    pub sha256: String,
    /// Every value it sets, as dotted key and value, in key order.
    pub entries: Vec<(String, toml::Value)>,
    /// Its unknown keys and the like.
    pub warnings: Vec<String>,
}

/// Finds what `wharf trust DIR` would trust. The file must load: a broken
/// file is an error (with its place) rather than something trusted blind.
pub fn trust_target(dir: &Path, user_path: &Path) -> Result<TrustTarget, ConfigError> {
    let markers = root_markers(user_path);
    let file = |kind: ProjectFileKind| match find_in_project(dir, &markers, kind.dir())
        .filter(|path| !same_file(path, user_path))
    {
        Some(path) => trusted_file(path),
        None => Ok(None),
    };
    Ok(TrustTarget {
        root: project_root(dir, &markers),
        file: file(ProjectFileKind::Wharf)?,
        codex_file: file(ProjectFileKind::Codex)?,
    })
}

/// The project file at `path` as `wharf trust` shows and records it;
/// `None` when it is gone.
fn trusted_file(path: PathBuf) -> Result<Option<TrustedFile>, ConfigError> {
    let Some(bytes) = read_bytes(&path)? else {
        return Ok(None);
    };
    let sha256 = sha256_hex(&bytes);
    let text = utf8(&path, bytes)?;
    let layer = layer::parse_file(&path, &text, Source::Project)?;
    let entries = layer
        .layered
        .sources
        .keys()
        .filter_map(|key| {
            let value = super::lookup(&layer.layered.table, key)?;
            Some((layer::display_key(key), value.clone()))
        })
        .collect();
    Ok(Some(TrustedFile {
        path,
        sha256,
        entries,
        warnings: layer.warnings,
    }))
}

/// The file's bytes; `None` when it does not exist.
fn read_bytes(path: &Path) -> Result<Option<Vec<u8>>, ConfigError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(ConfigError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

fn utf8(path: &Path, bytes: Vec<u8>) -> Result<String, ConfigError> {
    String::from_utf8(bytes).map_err(|err| ConfigError::Read {
        path: path.to_path_buf(),
        source: io::Error::new(io::ErrorKind::InvalidData, err),
    })
}

/// A project file's own `[projects]` table: trust comes from the user's
/// file only.
pub(crate) fn drop_trust_table(file: &mut FileLayer, user_path: &Path) {
    let key = vec!["projects".to_owned()];
    if file.layered.remove("projects").is_some() {
        let at = file
            .key_locations
            .get(&key)
            .map_or_else(String::new, |at| format!("{at}: "));
        file.warnings.push(format!(
            "{at}`projects`: trust is only read from {} (ignored; use `wharf trust`)",
            user_path.display()
        ));
    }
}
