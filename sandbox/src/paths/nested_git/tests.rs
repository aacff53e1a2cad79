//! The nested repository scan on real trees. `$T` in a row stands for the
//! tree's resolved root; adding a layout or a limit means adding a row.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::*;
use crate::policy::ReadOnlyAccess;

/// A tree made of `(path, what)` rows: `dir`, `link:<target>`, or file
/// content.
struct Tree {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl Tree {
    fn new(rows: &[(&str, &str)]) -> Tree {
        let dir = tempfile::tempdir().unwrap();
        let root = fs::canonicalize(dir.path()).unwrap();
        let tree = Tree { _dir: dir, root };
        for (path, what) in rows {
            let path = tree.path(path);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            if *what == "dir" {
                fs::create_dir_all(&path).unwrap();
            } else if let Some(target) = what.strip_prefix("link:") {
                symlink(tree.expand(target), &path).unwrap();
            } else {
                fs::write(&path, what).unwrap();
            }
        }
        tree
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }

    fn expand(&self, text: &str) -> String {
        text.replace("$T", &self.root.display().to_string())
    }

    /// What [`scan`] finds below `$T/ws`, relative to `$T`, sorted.
    fn scan(&self, limits: ScanLimits) -> (Vec<String>, Option<Stopped>) {
        let nested = scan(&[self.path("ws")], limits);
        let mut found: Vec<String> = nested
            .paths()
            .map(|path| match path.strip_prefix(&self.root) {
                Ok(relative) => relative.display().to_string(),
                Err(_) => path.display().to_string(),
            })
            .collect();
        found.sort();
        (found, nested.stopped)
    }
}

/// A workspace with every kind of nested repository, and decoys.
const WORKSPACE: &[(&str, &str)] = &[
    // The root's own repository: `protected_subpaths` already has it.
    ("ws/.git/hooks", "dir"),
    ("ws/.git/HEAD", "ref: refs/heads/main\n"),
    // A vendored checkout.
    ("ws/vendor/lib/.git/hooks", "dir"),
    ("ws/vendor/lib/.git/config", "[core]\n"),
    ("ws/vendor/lib/src/lib.rs", "\n"),
    // A worktree whose git directory lies elsewhere in the root, in a bare
    // repository (its commondir).
    (
        "ws/sub/wt/.git",
        "gitdir: ../../gitdirs/main/worktrees/wt\n",
    ),
    ("ws/gitdirs/main/HEAD", "ref: refs/heads/main\n"),
    ("ws/gitdirs/main/objects", "dir"),
    ("ws/gitdirs/main/refs", "dir"),
    ("ws/gitdirs/main/worktrees/wt/HEAD", "ref: refs/heads/wt\n"),
    ("ws/gitdirs/main/worktrees/wt/commondir", "../..\n"),
    // Deep, as in node_modules.
    ("ws/node_modules/a/b/c/d/e/pkg/.git/hooks", "dir"),
    // A `.git` file naming a directory that does not exist (yet).
    (
        "ws/node_modules/gone/.git",
        "gitdir: /nonexistent/gone.git\n",
    ),
    // A `.git` symlink: its target is what git uses.
    ("ws/sym/.git", "link:../vendor/lib/.git"),
    // A `.git` inside a `.git` is not looked for.
    ("ws/vendor/lib/.git/modules/m/.git/hooks", "dir"),
    // Decoys: a HEAD alone, a symlink to a directory holding a repository.
    ("ws/docs/HEAD", "not a repository\n"),
    ("ws/docs/refs", "dir"),
    ("outside/repo/.git/hooks", "dir"),
    ("ws/linked", "link:$T/outside"),
];

const EVERYTHING: &[&str] = &[
    "/nonexistent/gone.git",
    "ws/gitdirs/main",
    "ws/gitdirs/main/worktrees/wt",
    "ws/node_modules/a/b/c/d/e/pkg/.git",
    "ws/node_modules/gone/.git",
    "ws/sub/wt/.git",
    "ws/vendor/lib/.git",
];

fn limits(max_entries: usize, max_found: usize, max_time: Duration) -> ScanLimits {
    ScanLimits {
        max_entries,
        max_found,
        max_time,
    }
}

#[test]
fn the_scan_finds_nested_repositories_and_nothing_else() {
    let tree = Tree::new(WORKSPACE);
    let (found, stopped) = tree.scan(ScanLimits::SESSION);
    assert_eq!(found, EVERYTHING);
    assert_eq!(stopped, None);
}

#[test]
fn the_scan_stops_at_its_limits_and_keeps_what_it_found() {
    let tree = Tree::new(WORKSPACE);
    let long = Duration::from_secs(60);
    // (limits, how many found at most, why it stopped)
    let cases = [
        (limits(5, 1_000, long), 0, Some(Stopped::Entries(5))),
        (limits(1_000, 2, long), 2, Some(Stopped::Found(2))),
        (
            limits(1_000, 1_000, Duration::ZERO),
            0,
            Some(Stopped::TimeMs(0)),
        ),
        (limits(1_000, 1_000, long), EVERYTHING.len(), None),
    ];
    for (limits, at_most, expected) in cases {
        let (found, stopped) = tree.scan(limits);
        assert_eq!(stopped, expected, "{limits:?}");
        assert!(found.len() <= at_most, "{limits:?}: {found:?}");
        assert!(
            found.iter().all(|path| EVERYTHING.contains(&path.as_str())),
            "{limits:?}: {found:?}"
        );
    }
}

#[test]
fn the_scan_finds_shallow_repositories_first() {
    // A deep, narrow chain (as in node_modules) listed beside a shallow
    // repository: an entry limit reached in the chain still finds the
    // shallow one, whatever order the directory lists them in.
    let deep = format!("ws/node_modules/{}/.git", ["d"; 40].join("/"));
    let tree = Tree::new(&[("ws/vendor/lib/.git", "dir"), (&deep, "dir")]);
    let (found, stopped) = tree.scan(limits(15, 1_000, Duration::from_secs(60)));
    assert_eq!(found, ["ws/vendor/lib/.git"]);
    assert_eq!(stopped, Some(Stopped::Entries(15)));
}

#[test]
fn the_scan_walks_the_cwd_and_configured_roots_only() {
    let tree = Tree::new(&[
        ("ws/a/.git", "dir"),
        ("extra/b/.git", "dir"),
        ("tmpdir/c/.git", "dir"),
    ]);
    let env = PathEnv {
        cwd: tree.path("ws"),
        tmpdir: Some(tree.path("tmpdir")),
        protected: Vec::new(),
    };
    let workspace = SandboxPolicy::WorkspaceWrite {
        writable_roots: vec![tree.path("extra"), tree.path("ws/../ws")],
        read_only_access: ReadOnlyAccess::FullAccess,
        network_access: false,
        exclude_tmpdir_env_var: false,
        exclude_slash_tmp: false,
    };
    // (policy, roots walked)
    let cases = [
        (workspace, vec![tree.path("ws"), tree.path("extra")]),
        (SandboxPolicy::new_read_only(), Vec::new()),
        (SandboxPolicy::DangerFullAccess, Vec::new()),
    ];
    for (policy, expected) in cases {
        assert_eq!(scan_roots(&policy, &env), expected, "{policy:?}");
        let nested = scan(&expected, ScanLimits::SESSION);
        let rules = PathRules::new(&policy, &env).with_nested_git(&nested);
        // What was found is read-only, in the root it was found in; the
        // temporary directory was not walked.
        for scanned in &nested.roots {
            let root = rules
                .writable_roots()
                .iter()
                .find(|root| root.root == scanned.root)
                .unwrap();
            for path in &scanned.found {
                assert!(root.read_only_subpaths.contains(path), "{path:?}");
            }
        }
        let found: Vec<&Path> = nested.paths().collect();
        assert!(!found.contains(&tree.path("tmpdir/c/.git").as_path()));
        assert_eq!(found.len(), expected.len(), "{policy:?}: {found:?}");
    }
}

#[test]
fn an_inner_root_walked_first_is_not_walked_again() {
    let tree = Tree::new(&[("ws/a/.git", "dir"), ("ws/inner/b/.git", "dir")]);
    let nested = scan(
        &[tree.path("ws/inner"), tree.path("ws")],
        ScanLimits::SESSION,
    );
    let found: Vec<Vec<PathBuf>> = nested.roots.iter().map(|root| root.found.clone()).collect();
    assert_eq!(
        found,
        [
            vec![tree.path("ws/inner/b/.git")],
            vec![tree.path("ws/a/.git")]
        ]
    );
}

#[test]
fn a_directory_that_cannot_be_listed_still_has_its_git_found() {
    // Searchable and writable but not listable: as root the walk lists it
    // anyway, as anyone else it looks its `.git` up by name.
    use std::os::unix::fs::PermissionsExt as _;
    let tree = Tree::new(&[("ws/hidden/.git/hooks", "dir")]);
    let hidden = tree.path("ws/hidden");
    fs::set_permissions(&hidden, fs::Permissions::from_mode(0o300)).unwrap();
    let (found, stopped) = tree.scan(ScanLimits::SESSION);
    fs::set_permissions(&hidden, fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(found, ["ws/hidden/.git"]);
    assert_eq!(stopped, None);
}
