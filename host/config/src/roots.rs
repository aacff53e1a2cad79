//! Writable roots that would expose the home directory.
//!
//! Under workspace-write every writable root is writable all the way down,
//! so a root that is `/`, the home directory or one of its ancestors, or
//! wharf's home or one of its ancestors would let a command rewrite the
//! shell's startup files, SSH keys or wharf's own configuration — `TMPDIR=/`
//! would make everything writable. Such a root is refused when the
//! configuration is loaded, with a warning naming it and why: `/tmp` and
//! `$TMPDIR` are excluded, a configured root is left out, and a working
//! directory that is one (wharf started in `~`) makes the session
//! read-only.

use std::path::{Path, PathBuf};

use wharf_sandbox::{SandboxPolicy, resolve_path};

use super::ConfigOptions;

/// `policy` with every root that would expose a home refused, and the
/// warnings saying so.
pub(super) fn refuse_exposing_roots(
    policy: SandboxPolicy,
    options: &ConfigOptions,
) -> (SandboxPolicy, Vec<String>) {
    let SandboxPolicy::WorkspaceWrite {
        writable_roots,
        read_only_access,
        network_access,
        mut exclude_tmpdir_env_var,
        mut exclude_slash_tmp,
    } = policy
    else {
        return (policy, Vec::new());
    };
    let guard = Guard::new(options);
    let mut warnings = Vec::new();

    if let Some(why) = guard.exposes(&options.cwd) {
        warnings.push(format!(
            "the working directory {why}: workspace-write would make it writable, so this \
             session is read-only (start wharf in a project directory, or pass -s read-only)"
        ));
        return (
            SandboxPolicy::ReadOnly {
                access: read_only_access,
            },
            warnings,
        );
    }
    let mut kept = Vec::with_capacity(writable_roots.len());
    for root in writable_roots {
        match guard.exposes(&root) {
            Some(why) => warnings.push(format!(
                "sandbox_workspace_write.writable_roots: {why}; it is left out"
            )),
            None => kept.push(root),
        }
    }
    if !exclude_slash_tmp && let Some(why) = guard.exposes(Path::new("/tmp")) {
        warnings.push(format!(
            "writable root {why}; it is not writable in this session (set \
             sandbox_workspace_write.exclude_slash_tmp = true to say so)"
        ));
        exclude_slash_tmp = true;
    }
    if !exclude_tmpdir_env_var
        && let Some(tmpdir) = &options.tmpdir
        && let Some(why) = guard.exposes(tmpdir)
    {
        warnings.push(format!(
            "$TMPDIR: {why}; it is not writable in this session (set TMPDIR to a directory \
             of its own)"
        ));
        exclude_tmpdir_env_var = true;
    }
    let policy = SandboxPolicy::WorkspaceWrite {
        writable_roots: kept,
        read_only_access,
        network_access,
        exclude_tmpdir_env_var,
        exclude_slash_tmp,
    };
    (policy, warnings)
}

/// The directories no writable root may contain, resolved.
struct Guard<'a> {
    cwd: &'a Path,
    /// (what it is, where it resolves to)
    guarded: Vec<(&'static str, PathBuf)>,
}

impl<'a> Guard<'a> {
    fn new(options: &'a ConfigOptions) -> Guard<'a> {
        let candidates = [
            ("the home directory", options.home_dir.as_deref()),
            ("wharf's home", Some(options.wharf_home.as_path())),
        ];
        let guarded = candidates
            .into_iter()
            .filter_map(|(what, path)| {
                let path = path.filter(|path| path.is_absolute())?;
                Some((what, resolve(path, &options.cwd)))
            })
            .collect();
        Guard {
            cwd: &options.cwd,
            guarded,
        }
    }

    /// Why `root` (absolute, or relative to the working directory) may not
    /// be writable, as a clause that starts with the root ("/ is the root
    /// of the file system"), or `None` when it may.
    fn exposes(&self, root: &Path) -> Option<String> {
        let resolved = resolve(root, self.cwd);
        let shown = if resolved.as_path() == root {
            root.display().to_string()
        } else {
            format!("{} (resolved: {})", root.display(), resolved.display())
        };
        if resolved.parent().is_none() {
            return Some(format!("{shown} is the root of the file system"));
        }
        self.guarded.iter().find_map(|(what, guarded)| {
            guarded.starts_with(&resolved).then(|| {
                let relation = if *guarded == resolved {
                    "is"
                } else {
                    "contains"
                };
                format!("{shown} {relation} {what} {}", guarded.display())
            })
        })
    }
}

/// Where `path` leads, as the sandbox's rules see it; lexical when it
/// cannot be resolved (a symlink loop), as the rules keep it.
fn resolve(path: &Path, cwd: &Path) -> PathBuf {
    resolve_path(path, cwd).unwrap_or_else(|_| cwd.join(path))
}
