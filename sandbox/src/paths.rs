//! Which paths a policy lets a tool read and write, as pure functions.
//!
//! Every decision is made on *resolved* paths: symlinks followed (dangling
//! ones too), `.` and `..` applied after the components before them were
//! resolved. Comparing the text a model sent would let `root/link/x` or
//! `root/../x` walk out of a writable root. Roots are compared component-wise
//! ([`Path::starts_with`]), so `/work/repo2` is not inside `/work/repo`.
//!
//! The rules are computed once per policy and environment ([`PathRules::new`])
//! and are a snapshot: a top-level `.git` created afterwards is not protected
//! until the rules are rebuilt. The environment comes in as a [`PathEnv`]
//! value so the rules never read process state behind the caller's back.
//!
//! Under workspace-write, [`PathRules::check_write`] (what the host's own
//! writes go through: apply_patch, plugin file changes) refuses, inside the
//! writable roots: the protected subpaths of each root, every path of
//! [`PathEnv::protected`] (existing or not), any path with a `.git`
//! component below its root (nested repositories, submodules, vendored
//! checkouts; also a new `.git`: the host never creates one, a command may),
//! and anything inside a directory git would take for a repository (a
//! `HEAD` file beside `objects/` and `refs/`, or beside `commondir`), which
//! is where a `.git` file points.

use std::fmt;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::policy::{ReadOnlyAccess, SandboxMode, SandboxPolicy};

/// Files and directories ordinary programs need to start and run, readable
/// under [`ReadOnlyAccess::Restricted`] with `include_platform_defaults`.
///
/// The dynamic loader reads its cache and configuration and maps libraries;
/// programs look up users (`ls -l`, `git`), the time zone and TLS
/// certificates, and read the harmless device files. Nothing here holds
/// secrets (`/etc/shadow` and `/etc/ssl/private` are deliberately absent).
///
/// `/proc/self` is left out on purpose: resolving it in the host names the
/// *host's* process, whose environment holds API keys. Enforcement that runs
/// inside the child may grant the child's own `/proc/self` itself.
pub const PLATFORM_DEFAULT_READ_ROOTS: &[&str] = &[
    "/bin",
    "/sbin",
    "/usr",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/ld.so.preload",
    "/etc/alternatives",
    "/etc/localtime",
    "/etc/nsswitch.conf",
    "/etc/passwd",
    "/etc/group",
    "/etc/ssl/certs",
    "/etc/ca-certificates",
    "/etc/pki/tls/certs",
    "/etc/pki/ca-trust",
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/random",
    "/dev/urandom",
];

/// Subdirectory of a workspace holding project configuration. Always
/// read-only: a tool that could write it could loosen its own policy.
const PROJECT_CONFIG_DIR: &str = ".wharf";

/// git's directory (or, in a worktree or submodule, a file naming it).
const GIT_DIR: &str = ".git";

/// What the environment contributes to the rules, passed in explicitly so
/// that the rules are pure and tests never touch the process environment.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct PathEnv {
    /// The directory tool calls run in; relative paths are resolved against
    /// it, and it is a writable root under workspace-write. Must be absolute.
    pub cwd: PathBuf,
    /// The value of `$TMPDIR`, a writable root unless excluded.
    pub tmpdir: Option<PathBuf>,
    /// Paths that stay read-only under every policy but danger-full-access,
    /// whether or not they exist yet and wherever they lie: what a later
    /// session reads (wharf's home, every `.wharf` the project search
    /// visits). The embedder knows them; the rules only enforce them.
    #[serde(default)]
    pub protected: Vec<PathBuf>,
}

impl PathEnv {
    /// The environment of this process: `cwd` as given, `$TMPDIR` read now
    /// (an empty value counts as unset, as it does for most programs).
    pub fn from_process(cwd: PathBuf) -> Self {
        let tmpdir = std::env::var_os("TMPDIR")
            .filter(|value| !value.is_empty())
            .map(PathBuf::from);
        PathEnv {
            cwd,
            tmpdir,
            protected: Vec::new(),
        }
    }
}

/// A directory tools may write beneath, except for its read-only subpaths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WritableRoot {
    /// The resolved root.
    pub root: PathBuf,
    /// Resolved paths that stay read-only, with everything beneath them:
    /// `.git` (and the git directory a `.git` file points to) because hooks
    /// and config there run code on the user's next `git` command, and
    /// `.wharf` because it holds the project's own policy. They may lie
    /// outside `root` (a worktree's git directory usually does).
    pub read_only_subpaths: Vec<PathBuf>,
}

impl WritableRoot {
    fn new(root: PathBuf) -> Self {
        let read_only_subpaths = protected_subpaths(&root);
        WritableRoot {
            root,
            read_only_subpaths,
        }
    }
}

/// Why a read or write was refused. Messages name the path (and what it
/// resolves to when a symlink or `..` made a difference) so a model can tell
/// what went wrong and pick another path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denial {
    /// The policy is read-only.
    #[error("writes are not allowed in read-only mode: {}", Shown(.requested, .resolved))]
    ReadOnlyMode {
        /// The path as asked for, made absolute.
        requested: PathBuf,
        /// Where it actually leads.
        resolved: PathBuf,
    },
    /// The path is under no writable root.
    #[error("write to {} is outside the writable roots", Shown(.requested, .resolved))]
    OutsideWritableRoots {
        /// The path as asked for, made absolute.
        requested: PathBuf,
        /// Where it actually leads.
        resolved: PathBuf,
    },
    /// The path is a protected subpath of a writable root, or beneath one.
    #[error(
        "write to {} is inside the protected path {}",
        Shown(.requested, .resolved),
        .protected.display()
    )]
    ProtectedPath {
        /// The path as asked for, made absolute.
        requested: PathBuf,
        /// Where it actually leads.
        resolved: PathBuf,
        /// The read-only subpath that contains it.
        protected: PathBuf,
    },
    /// Reads are restricted and the path is under no readable root.
    #[error("read of {} is outside the readable roots", Shown(.requested, .resolved))]
    OutsideReadableRoots {
        /// The path as asked for, made absolute.
        requested: PathBuf,
        /// Where it actually leads.
        resolved: PathBuf,
    },
    /// The path could not be resolved (a symlink loop, a directory we may not
    /// search), so where it leads is unknown and it is refused.
    #[error("cannot resolve {}: {reason}", .requested.display())]
    Unresolvable {
        /// The path as asked for, made absolute.
        requested: PathBuf,
        /// The underlying error.
        reason: String,
    },
}

/// Shows a requested path, adding its target when resolution changed it.
struct Shown<'a>(&'a Path, &'a Path);

impl fmt::Display for Shown<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Shown(requested, resolved) = *self;
        if requested == resolved {
            write!(f, "{}", requested.display())
        } else {
            write!(
                f,
                "{} (resolves to {})",
                requested.display(),
                resolved.display()
            )
        }
    }
}

/// The rules of one policy in one environment, computed once (roots
/// canonicalized) so each check is a resolution plus a few prefix tests.
#[derive(Debug, Clone)]
pub struct PathRules {
    mode: SandboxMode,
    cwd: PathBuf,
    writable: Vec<WritableRoot>,
    readable: Option<Vec<PathBuf>>,
    /// [`PathEnv::protected`], resolved.
    protected: Vec<PathBuf>,
}

impl PathRules {
    /// Computes the writable and readable roots of `policy` in `env`.
    ///
    /// Under workspace-write the writable roots are, in this order: the cwd,
    /// the configured roots, `/tmp` (unless `exclude_slash_tmp`) and
    /// `$TMPDIR` (unless `exclude_tmpdir_env_var`), each resolved and kept
    /// even if it does not exist yet, duplicates dropped. A root that cannot
    /// be resolved (a symlink loop) is kept lexically: nothing resolves to a
    /// path beneath a loop, so it grants nothing.
    ///
    /// Under danger-full-access the single writable root is `/`, with no
    /// protected subpaths, so callers that list or enforce roots need no
    /// special case for "everything".
    pub fn new(policy: &SandboxPolicy, env: &PathEnv) -> PathRules {
        let cwd = resolve_or_normalize(&env.cwd, &env.cwd);
        let writable = match policy {
            SandboxPolicy::ReadOnly { .. } => Vec::new(),
            SandboxPolicy::WorkspaceWrite {
                writable_roots,
                exclude_tmpdir_env_var,
                exclude_slash_tmp,
                ..
            } => {
                let mut candidates = vec![env.cwd.clone()];
                candidates.extend(writable_roots.iter().cloned());
                if !exclude_slash_tmp {
                    candidates.push(PathBuf::from("/tmp"));
                }
                if !exclude_tmpdir_env_var {
                    candidates.extend(env.tmpdir.clone());
                }
                let roots = candidates
                    .iter()
                    .map(|candidate| resolve_or_normalize(candidate, &env.cwd));
                dedup(roots).into_iter().map(WritableRoot::new).collect()
            }
            SandboxPolicy::DangerFullAccess => vec![WritableRoot {
                root: PathBuf::from("/"),
                read_only_subpaths: Vec::new(),
            }],
        };
        let readable = match policy.read_access() {
            None | Some(ReadOnlyAccess::FullAccess) => None,
            Some(ReadOnlyAccess::Restricted {
                include_platform_defaults,
                readable_roots,
            }) => {
                let mut roots: Vec<PathBuf> = readable_roots
                    .iter()
                    .map(|root| resolve_or_normalize(root, &env.cwd))
                    .collect();
                roots.push(cwd.clone());
                roots.extend(writable.iter().map(|root| root.root.clone()));
                if *include_platform_defaults {
                    roots.extend(
                        PLATFORM_DEFAULT_READ_ROOTS
                            .iter()
                            .map(|root| resolve_or_normalize(Path::new(root), &env.cwd)),
                    );
                }
                Some(dedup(roots))
            }
        };
        let protected = dedup(
            env.protected
                .iter()
                .map(|path| resolve_or_normalize(path, &env.cwd)),
        );
        PathRules {
            mode: policy.mode(),
            cwd,
            writable,
            readable,
            protected,
        }
    }

    /// The mode of the policy these rules were computed from.
    pub fn mode(&self) -> SandboxMode {
        self.mode
    }

    /// The resolved cwd relative paths are checked against.
    pub fn cwd(&self) -> &Path {
        &self.cwd
    }

    /// The writable roots: empty for read-only, `/` alone for
    /// danger-full-access.
    pub fn writable_roots(&self) -> &[WritableRoot] {
        &self.writable
    }

    /// The readable roots, or `None` when everything is readable.
    pub fn readable_roots(&self) -> Option<&[PathBuf]> {
        self.readable.as_deref()
    }

    /// [`PathEnv::protected`], resolved: read-only wherever they lie under
    /// every policy but danger-full-access, existing or not.
    pub fn protected_paths(&self) -> &[PathBuf] {
        &self.protected
    }

    /// Checks that `path` (absolute, or relative to the cwd) may be read and
    /// returns where it resolves to. Unresolvable paths are refused in every
    /// mode: the operation itself would fail the same way.
    pub fn check_read(&self, path: &Path) -> Result<PathBuf, Denial> {
        let (requested, resolved) = self.resolve(path)?;
        let Some(roots) = &self.readable else {
            return Ok(resolved);
        };
        if roots.iter().any(|root| resolved.starts_with(root)) {
            Ok(resolved)
        } else {
            Err(Denial::OutsideReadableRoots {
                requested,
                resolved,
            })
        }
    }

    /// Checks that `path` (absolute, or relative to the cwd) may be written
    /// and returns where it resolves to.
    ///
    /// A path under a protected subpath is refused even if another writable
    /// root contains it: `/tmp` being writable must not unprotect
    /// `/tmp/repo/.git`. So is a path under one of
    /// [`PathRules::protected_paths`], and one in a git repository anywhere
    /// below its writable root (see the module documentation).
    pub fn check_write(&self, path: &Path) -> Result<PathBuf, Denial> {
        let (requested, resolved) = self.resolve(path)?;
        match self.mode {
            SandboxMode::ReadOnly => Err(Denial::ReadOnlyMode {
                requested,
                resolved,
            }),
            SandboxMode::DangerFullAccess => Ok(resolved),
            SandboxMode::WorkspaceWrite => {
                // The outermost root holding the path: a `.git` anywhere
                // below it counts.
                let Some(root) = self
                    .writable
                    .iter()
                    .map(|root| &root.root)
                    .filter(|root| resolved.starts_with(root))
                    .min_by_key(|root| root.components().count())
                else {
                    return Err(Denial::OutsideWritableRoots {
                        requested,
                        resolved,
                    });
                };
                let protected = self
                    .writable
                    .iter()
                    .flat_map(|root| &root.read_only_subpaths)
                    .chain(&self.protected)
                    .find(|protected| resolved.starts_with(protected))
                    .cloned()
                    .or_else(|| git_dir_below(root, &resolved));
                match protected {
                    Some(protected) => Err(Denial::ProtectedPath {
                        requested,
                        resolved,
                        protected,
                    }),
                    None => Ok(resolved),
                }
            }
        }
    }

    /// Whether [`PathRules::check_read`] allows `path`.
    pub fn can_read(&self, path: &Path) -> bool {
        self.check_read(path).is_ok()
    }

    /// Whether [`PathRules::check_write`] allows `path`.
    pub fn can_write(&self, path: &Path) -> bool {
        self.check_write(path).is_ok()
    }

    /// The path as asked for, made absolute (for messages), and resolved.
    ///
    /// The requested form keeps its `..`: applying them as text would hide
    /// exactly the symlink tricks a reader of the denial needs to see.
    fn resolve(&self, path: &Path) -> Result<(PathBuf, PathBuf), Denial> {
        let requested: PathBuf = self.cwd.join(path).components().collect();
        match resolve_path(path, &self.cwd) {
            Ok(resolved) => Ok((requested, resolved)),
            Err(err) => Err(Denial::Unresolvable {
                requested,
                reason: err.to_string(),
            }),
        }
    }
}

/// Drops repeated paths, keeping the first occurrence in place.
fn dedup(paths: impl IntoIterator<Item = PathBuf>) -> Vec<PathBuf> {
    let mut unique: Vec<PathBuf> = Vec::new();
    for path in paths {
        if !unique.contains(&path) {
            unique.push(path);
        }
    }
    unique
}

/// The read-only subpaths of a resolved writable root.
///
/// `.git` counts only if it exists, so that `git init` in a fresh workspace
/// still works. When it is a file (a worktree or submodule), the git
/// directory it names is protected too, and so is that directory's
/// `commondir` (the main repository's `.git`, whose hooks and config the
/// worktree uses).
fn protected_subpaths(root: &Path) -> Vec<PathBuf> {
    let mut protected = Vec::new();
    let dot_git = root.join(GIT_DIR);
    if fs::symlink_metadata(&dot_git).is_ok() {
        protected.extend(git_paths(&dot_git, root));
    }
    protected.push(resolve_or_normalize(&root.join(PROJECT_CONFIG_DIR), root));
    dedup(protected)
}

/// What keeps the repository of the existing `dot_git` in `dir` read-only,
/// resolved: `dot_git` itself and, when it is a file, the git directory it
/// names (relative to `dir`) and that directory's `commondir`.
fn git_paths(dot_git: &Path, dir: &Path) -> Vec<PathBuf> {
    let dot_git = resolve_or_normalize(dot_git, dir);
    let git_dir =
        read_pointer(&dot_git, "gitdir:").map(|git_dir| resolve_or_normalize(&git_dir, dir));
    let common_dir = git_dir.as_ref().and_then(|git_dir| {
        read_pointer(&git_dir.join("commondir"), "")
            .map(|common_dir| resolve_or_normalize(&common_dir, git_dir))
    });
    let mut paths = vec![dot_git];
    paths.extend(git_dir);
    paths.extend(common_dir);
    dedup(paths)
}

/// The repository `resolved` lies in, if any, below `root` (both resolved):
/// the path up to a `.git` component, or the outermost directory from the
/// root down to the path's parent that git would take for a repository
/// (nested repositories, and the git directory a nested `.git` file names
/// wherever it lies in the root). The path itself counts when it exists.
fn git_dir_below(root: &Path, resolved: &Path) -> Option<PathBuf> {
    let below = resolved.strip_prefix(root).ok()?;
    let mut dir = root.to_path_buf();
    if is_git_dir(&dir) {
        return Some(dir);
    }
    for component in below.components() {
        dir.push(component);
        if component.as_os_str() == GIT_DIR || is_git_dir(&dir) {
            return Some(dir);
        }
    }
    None
}

/// Whether git would take `dir` for a repository (its own test: a `HEAD`
/// file, and `objects/` and `refs/` directories or a `commondir` file, as
/// in a worktree's git directory).
fn is_git_dir(dir: &Path) -> bool {
    fs::symlink_metadata(dir.join("HEAD")).is_ok_and(|meta| meta.is_file())
        && (fs::metadata(dir.join("commondir")).is_ok_and(|meta| meta.is_file())
            || (fs::metadata(dir.join("objects")).is_ok_and(|meta| meta.is_dir())
                && fs::metadata(dir.join("refs")).is_ok_and(|meta| meta.is_dir())))
}

/// The path named by the first line of the file at `file` after `prefix`
/// (git's `gitdir: <path>` and `commondir` files), if it is a readable file
/// of that shape.
fn read_pointer(file: &Path, prefix: &str) -> Option<PathBuf> {
    if !fs::metadata(file).ok()?.is_file() {
        return None;
    }
    // Only the first line matters; don't read a huge file into memory.
    let mut content = String::new();
    fs::File::open(file)
        .ok()?
        .take(4096)
        .read_to_string(&mut content)
        .ok()?;
    let target = content.lines().next()?.strip_prefix(prefix)?.trim();
    (!target.is_empty()).then(|| PathBuf::from(target))
}

pub mod nested_git;
mod resolve;

pub(crate) use resolve::resolve_noting_links;
use resolve::resolve_or_normalize;
pub use resolve::resolve_path;

#[cfg(test)]
mod tests;
