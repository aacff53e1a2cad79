//! Finding the git repositories nested in a workspace, so that commands
//! cannot write their hooks and config either.
//!
//! [`PathRules::check_write`] refuses a `.git` at any depth for the host's
//! own writes by looking at the path it is given. A command's writes are
//! confined by the kernel, which must be told every read-only path before
//! the command starts: so the writable roots are walked once per session
//! ([`scan`], cached by the [`Sandbox`](crate::Sandbox)) and what is found
//! becomes read-only subpaths of its root ([`PathRules::with_nested_git`]).
//!
//! What counts, below a root (the root's own `.git` is
//! [`WritableRoot::read_only_subpaths`] already):
//!
//! - every entry named `.git`: a directory, or a file naming a git directory
//!   (`gitdir: <path>`, submodules and worktrees), which is protected with
//!   the directory it names and that directory's `commondir`;
//! - every directory git would take for a repository (`HEAD` beside
//!   `objects/` and `refs/`, or beside `commondir`): bare repositories, and
//!   the git directories a `.git` file elsewhere points to.
//!
//! The walk is breadth first, so that shallow repositories (`vendor/lib`)
//! are found before a deep `node_modules`; it follows no symlink, does not
//! descend into what it found, and skips what it cannot list (but for a
//! `.git` right in it, which it can still look up). It is bounded
//! ([`ScanLimits`]): past a limit it stops, and what it found so far is
//! protected; [`NestedGit::stopped`] says which limit was hit.
//!
//! Which roots are walked ([`scan_roots`]): the cwd and the configured
//! writable roots. `/tmp` and `$TMPDIR` are not walked (unless one of them
//! is the cwd or a configured root): they are scratch space shared with
//! every other program, often large, and a repository there is not the
//! project's.

use std::collections::VecDeque;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use super::{GIT_DIR, PathEnv, PathRules, git_paths, resolve_or_normalize};
use crate::policy::SandboxPolicy;

/// How far one session's scan may go, over all its roots together.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScanLimits {
    /// Directory entries looked at.
    pub max_entries: usize,
    /// Protected paths found.
    pub max_found: usize,
    /// Time spent.
    pub max_time: Duration,
}

impl ScanLimits {
    /// What a session uses: a workspace of up to half a million files and
    /// directories is walked whole (the `nested_git` bench walks a
    /// 100 000-file tree in about 70 ms when the kernel has it cached); a
    /// home directory configured as a writable root is not, and cannot
    /// delay the first command by more than the time limit (a cold disk).
    /// The found limit keeps the mounts each command start makes (one per
    /// path, plus the directories above it) to a number that stays cheap.
    pub const SESSION: ScanLimits = ScanLimits {
        max_entries: 500_000,
        max_found: 1_000,
        max_time: Duration::from_secs(2),
    };
}

/// Which limit stopped a scan early.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stopped {
    /// [`ScanLimits::max_entries`] entries were looked at.
    Entries(usize),
    /// [`ScanLimits::max_found`] paths were found.
    Found(usize),
    /// [`ScanLimits::max_time`] passed (in milliseconds).
    TimeMs(u64),
}

impl fmt::Display for Stopped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stopped::Entries(limit) => write!(f, "after {limit} directory entries"),
            Stopped::Found(limit) => write!(f, "after finding {limit} git paths"),
            Stopped::TimeMs(limit) => write!(f, "after {limit} ms"),
        }
    }
}

/// The protected paths found below one writable root (resolved; they may
/// lie outside it when a `.git` file points elsewhere).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ScannedRoot {
    pub root: PathBuf,
    pub found: Vec<PathBuf>,
}

/// The result of [`scan`].
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NestedGit {
    /// The roots walked, in order, with what was found in each.
    pub roots: Vec<ScannedRoot>,
    /// Why the walk stopped before the end, if it did: the roots after the
    /// one it stopped in are listed with nothing found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<Stopped>,
}

impl NestedGit {
    /// Every path found, in every root.
    pub fn paths(&self) -> impl Iterator<Item = &Path> {
        self.roots
            .iter()
            .flat_map(|root| root.found.iter().map(PathBuf::as_path))
    }

    /// Whether there is nothing to say: no root walked, nothing stopped.
    pub fn is_empty(&self) -> bool {
        self.roots.is_empty() && self.stopped.is_none()
    }
}

/// The roots [`scan`] walks for `policy` in `env`, resolved as
/// [`PathRules::new`] resolves them: the cwd and the configured writable
/// roots under workspace-write; none otherwise (read-only writes nothing,
/// danger-full-access protects nothing).
pub fn scan_roots(policy: &SandboxPolicy, env: &PathEnv) -> Vec<PathBuf> {
    let SandboxPolicy::WorkspaceWrite { writable_roots, .. } = policy else {
        return Vec::new();
    };
    let mut roots: Vec<PathBuf> = Vec::new();
    for root in std::iter::once(&env.cwd).chain(writable_roots) {
        let root = resolve_or_normalize(root, &env.cwd);
        if !roots.contains(&root) {
            roots.push(root);
        }
    }
    roots
}

/// Walks `roots` in order for nested repositories (see the module
/// documentation), within `limits` for all of them together. A root inside
/// one walked before it is walked again only as far as the first walk did
/// not reach: a directory that is an earlier, fully walked root is skipped.
pub fn scan(roots: &[PathBuf], limits: ScanLimits) -> NestedGit {
    let mut walk = Walk {
        limits,
        started: Instant::now(),
        entries: 0,
        found: 0,
    };
    let mut result = NestedGit::default();
    let mut done: Vec<&Path> = Vec::new();
    for root in roots {
        let mut found = Vec::new();
        if result.stopped.is_none() {
            result.stopped = walk.root(root, &done, &mut found);
            if result.stopped.is_none() {
                done.push(root);
            }
        }
        result.roots.push(ScannedRoot {
            root: root.clone(),
            found,
        });
    }
    result
}

/// The budget of one [`scan`].
struct Walk {
    limits: ScanLimits,
    started: Instant,
    entries: usize,
    found: usize,
}

/// What a directory's listing says about it.
#[derive(Default)]
struct Listing {
    head: bool,
    objects: bool,
    refs: bool,
    commondir: bool,
}

impl Listing {
    /// git's own test, as [`is_git_dir`](super::is_git_dir) makes it, on
    /// the entries already read.
    fn is_git_dir(&self) -> bool {
        self.head && (self.commondir || (self.objects && self.refs))
    }
}

impl Walk {
    /// Walks one root breadth first, adding what it finds to `found`.
    fn root(&mut self, root: &Path, skip: &[&Path], found: &mut Vec<PathBuf>) -> Option<Stopped> {
        let mut queue = VecDeque::from([root.to_path_buf()]);
        while let Some(dir) = queue.pop_front() {
            if self.started.elapsed() >= self.limits.max_time {
                let ms = u64::try_from(self.limits.max_time.as_millis()).unwrap_or(u64::MAX);
                return Some(Stopped::TimeMs(ms));
            }
            let Ok(read) = fs::read_dir(&dir) else {
                // Unreadable: what is in it is unknown, but a directory one
                // may search and write without listing (mode 0300) may
                // still hold a `.git` git would find there.
                let dot_git = dir.join(GIT_DIR);
                if dir != root
                    && fs::symlink_metadata(&dot_git).is_ok()
                    && let Some(stopped) = self.add(found, git_paths(&dot_git, &dir))
                {
                    return Some(stopped);
                }
                continue;
            };
            let mut listing = Listing::default();
            let mut subdirs = Vec::new();
            for entry in read.flatten() {
                self.entries += 1;
                if self.entries > self.limits.max_entries {
                    return Some(Stopped::Entries(self.limits.max_entries));
                }
                let Ok(kind) = entry.file_type() else {
                    continue;
                };
                let name = entry.file_name();
                let path = entry.path();
                if name == GIT_DIR {
                    if dir != root
                        && let Some(stopped) = self.add(found, git_paths(&path, &dir))
                    {
                        return Some(stopped);
                    }
                    continue;
                }
                // A symlink is not followed, but git follows one that names
                // a part of a git directory.
                let (is_dir, is_file) = if kind.is_symlink() {
                    fs::metadata(&path)
                        .map_or((false, false), |meta| (meta.is_dir(), meta.is_file()))
                } else {
                    (kind.is_dir(), kind.is_file())
                };
                match name.to_str() {
                    Some("HEAD") => listing.head = kind.is_file(),
                    Some("objects") => listing.objects = is_dir,
                    Some("refs") => listing.refs = is_dir,
                    Some("commondir") => listing.commondir = is_file,
                    _ => {}
                }
                if kind.is_dir() && !skip.contains(&path.as_path()) {
                    subdirs.push(path);
                }
            }
            if dir != root && listing.is_git_dir() {
                if let Some(stopped) = self.add(found, vec![dir]) {
                    return Some(stopped);
                }
            } else {
                queue.extend(subdirs);
            }
        }
        None
    }

    /// Adds `paths` to `found` (once each), counting them against the limit.
    fn add(&mut self, found: &mut Vec<PathBuf>, paths: Vec<PathBuf>) -> Option<Stopped> {
        for path in paths {
            if found.contains(&path) {
                continue;
            }
            if self.found >= self.limits.max_found {
                return Some(Stopped::Found(self.limits.max_found));
            }
            self.found += 1;
            found.push(path);
        }
        None
    }
}

impl PathRules {
    /// These rules with `nested`'s paths added to the read-only subpaths
    /// of the roots they were found in, so that [`PathRules::check_write`]
    /// refuses them and the process sandbox mounts them read-only. Roots
    /// these rules do not have are ignored.
    pub fn with_nested_git(mut self, nested: &NestedGit) -> PathRules {
        for scanned in &nested.roots {
            let Some(root) = self
                .writable
                .iter_mut()
                .find(|root| root.root == scanned.root)
            else {
                continue;
            };
            for path in &scanned.found {
                if !root.read_only_subpaths.contains(path) {
                    root.read_only_subpaths.push(path.clone());
                }
            }
        }
        self
    }
}

/// One session's scan, made at most once and shared by every clone of the
/// [`Sandbox`](crate::Sandbox) holding it.
///
/// Its serde form is the scan itself, made when serialized: the host hands
/// its sandbox to a native plugin as JSON on every call, and the plugin
/// must not walk the workspace again each time. `null` (or no field) means
/// "not scanned": a sandbox read from it scans when it first needs to.
#[derive(Debug, Clone, Default)]
pub(crate) struct NestedGitCache {
    /// The roots to walk, when this cache was made from a policy rather
    /// than read without a scan.
    roots: Option<Arc<[PathBuf]>>,
    scanned: Arc<OnceLock<NestedGit>>,
}

impl NestedGitCache {
    /// A cache that will walk [`scan_roots`] of `policy` in `env`.
    pub(crate) fn new(policy: &SandboxPolicy, env: &PathEnv) -> NestedGitCache {
        NestedGitCache {
            roots: Some(scan_roots(policy, env).into()),
            scanned: Arc::default(),
        }
    }

    /// The scan, made now if it was not yet: of the roots this cache was
    /// made with, or else of `roots()`.
    pub(crate) fn get(&self, roots: impl FnOnce() -> Vec<PathBuf>) -> &NestedGit {
        self.scanned.get_or_init(|| match &self.roots {
            Some(known) => scan(known, ScanLimits::SESSION),
            None => scan(&roots(), ScanLimits::SESSION),
        })
    }

    /// Whether there is neither a scan nor the roots to make one.
    pub(crate) fn is_unknown(&self) -> bool {
        self.roots.is_none() && self.scanned.get().is_none()
    }
}

impl serde::Serialize for NestedGitCache {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match (&self.roots, self.scanned.get()) {
            (_, Some(scanned)) => serializer.serialize_some(scanned),
            (Some(roots), None) => serializer.serialize_some(
                self.scanned
                    .get_or_init(|| scan(roots, ScanLimits::SESSION)),
            ),
            (None, None) => serializer.serialize_none(),
        }
    }
}

impl<'de> serde::Deserialize<'de> for NestedGitCache {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let scanned = Option::<NestedGit>::deserialize(deserializer)?;
        Ok(NestedGitCache {
            roots: None,
            scanned: Arc::new(scanned.map(OnceLock::from).unwrap_or_default()),
        })
    }
}

#[cfg(test)]
mod tests;
