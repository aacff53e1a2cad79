//! Nested repositories tried against the real kernel: a command that plants
//! a hook or config in a repository inside the workspace (`vendor/lib`, a
//! worktree's git directory, one deep in `node_modules`), for the user's
//! next `git` command there to run, by writing, renaming, replacing or
//! hard-linking its way around the read-only mounts.
//!
//! Each test runs as whoever runs the suite; as root (CI), the last test of
//! `escapes.rs` runs this module again as `nobody`, where the mounts need a
//! user namespace.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::Sandbox;
use super::tests::{assert_ok, sh};
use crate::{PathEnv, ReadOnlyAccess, SandboxPolicy};

/// A session's world, in a temporary directory `$T` (a configured writable
/// root, so that the cwd's parent is writable too):
///
/// ```text
/// $T/work/                                  the cwd, no `.git` of its own
/// $T/work/vendor/lib/.git/                  a vendored checkout
/// $T/work/sub/wt/.git                       file: gitdir: ../../gitdirs/wt
/// $T/work/gitdirs/wt/                       the git directory it names
/// $T/work/node_modules/a/b/c/pkg/.git/      a deep one
/// ```
struct World {
    _dir: tempfile::TempDir,
    root: PathBuf,
    work: PathBuf,
}

/// The repositories, whose files must not change.
const REPOSITORIES: &[&str] = &[
    "work/vendor/lib/.git",
    "work/gitdirs/wt",
    "work/node_modules/a/b/c/pkg/.git",
];

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let work = root.join("work");
        for repository in REPOSITORIES {
            let git_dir = root.join(repository);
            for sub in ["hooks", "objects", "refs/heads"] {
                std::fs::create_dir_all(git_dir.join(sub)).unwrap();
            }
            std::fs::write(git_dir.join("HEAD"), "ref: refs/heads/main\n").unwrap();
            std::fs::write(git_dir.join("config"), "[core]\n\tbare = false\n").unwrap();
        }
        std::fs::write(work.join("vendor/lib/lib.c"), "int x;\n").unwrap();
        std::fs::create_dir_all(work.join("sub/wt")).unwrap();
        std::fs::write(work.join("sub/wt/.git"), "gitdir: ../../gitdirs/wt\n").unwrap();
        World {
            _dir: dir,
            root,
            work,
        }
    }

    fn sandbox(&self) -> Sandbox {
        let env = PathEnv {
            cwd: self.work.clone(),
            tmpdir: None,
            protected: Vec::new(),
        };
        let policy = SandboxPolicy::WorkspaceWrite {
            writable_roots: vec![self.root.clone()],
            read_only_access: ReadOnlyAccess::FullAccess,
            network_access: false,
            exclude_tmpdir_env_var: true,
            exclude_slash_tmp: true,
        };
        Sandbox::new(&policy, &env)
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }

    /// Every file below the repositories and the `.git` file, with its
    /// content.
    fn snapshot(&self) -> BTreeMap<PathBuf, String> {
        let mut files = BTreeMap::new();
        for top in REPOSITORIES.iter().chain(&["work/sub/wt/.git"]) {
            collect(&self.path(top), &mut files);
        }
        files
    }
}

fn collect(path: &Path, files: &mut BTreeMap<PathBuf, String>) {
    let meta = path.symlink_metadata().unwrap();
    if meta.is_dir() {
        for entry in std::fs::read_dir(path).unwrap() {
            collect(&entry.unwrap().path(), files);
        }
    } else {
        let content = std::fs::read_to_string(path).unwrap_or_default();
        files.insert(path.to_path_buf(), content);
    }
}

/// (what the command tries, the script, run in `$T/work`)
const ATTACKS: &[(&str, &str)] = &[
    (
        "write a hook in vendor/lib/.git",
        "echo evil > vendor/lib/.git/hooks/post-checkout",
    ),
    (
        "append to vendor/lib/.git/config",
        "printf '[core]\\n\\thooksPath = /evil\\n' >> vendor/lib/.git/config",
    ),
    (
        "set a config value with git",
        "git -C vendor/lib config core.hooksPath /evil",
    ),
    (
        "rename vendor/lib/.git away and make a new one",
        "mv vendor/lib/.git vendor/lib/old && mkdir -p vendor/lib/.git/hooks \
         && echo evil > vendor/lib/.git/hooks/post-checkout",
    ),
    (
        "remove vendor/lib/.git and make a new one",
        "rm -rf vendor/lib/.git; mkdir -p vendor/lib/.git/hooks \
         && echo evil > vendor/lib/.git/hooks/post-checkout",
    ),
    (
        "remove vendor/lib/.git and rename a prepared one there",
        "mkdir -p prepared/hooks && echo evil > prepared/hooks/post-checkout \
         && rm -rf vendor/lib/.git; mv -T prepared vendor/lib/.git",
    ),
    (
        "rename vendor/lib away and rebuild it",
        "mv vendor/lib vendor/moved && mkdir -p vendor/lib/.git/hooks \
         && echo evil > vendor/lib/.git/hooks/post-checkout",
    ),
    (
        "rename vendor away and rebuild it",
        "mv vendor moved && mkdir -p vendor/lib/.git/hooks \
         && echo evil > vendor/lib/.git/hooks/post-checkout",
    ),
    (
        "hard-link the config and write through the link",
        "ln vendor/lib/.git/config linked && echo evil >> linked",
    ),
    (
        "write a hook in the git directory a .git file names",
        "echo evil > gitdirs/wt/hooks/post-checkout",
    ),
    (
        "append to that git directory's config",
        "echo '[core] hooksPath = /evil' >> gitdirs/wt/config",
    ),
    (
        "rename that git directory away and rebuild it",
        "mv gitdirs/wt gitdirs/old && mkdir -p gitdirs/wt/hooks \
         && echo evil > gitdirs/wt/hooks/post-checkout",
    ),
    (
        "point the .git file at another directory",
        "mkdir -p evil/hooks && echo 'gitdir: ../../evil' > sub/wt/.git",
    ),
    (
        "replace the .git file",
        "rm -f sub/wt/.git; echo 'gitdir: ../../evil' > sub/wt/.git",
    ),
    (
        "rename the worktree away and rebuild it",
        "mv sub/wt sub/moved && mkdir sub/wt && echo 'gitdir: ../../evil' > sub/wt/.git",
    ),
    (
        "write a hook deep in node_modules",
        "echo evil > node_modules/a/b/c/pkg/.git/hooks/post-checkout",
    ),
];

fn assert_no_escape(world: &World, sandbox: &Sandbox) {
    let before = world.snapshot();
    let mut escaped = Vec::new();
    for (what, script) in ATTACKS {
        let ran = sh(sandbox, script);
        if ran.code == Some(0) {
            escaped.push(format!("{what}: {}{}", ran.stdout, ran.stderr));
        }
    }
    assert!(escaped.is_empty(), "escaped:\n{}", escaped.join("\n"));
    assert_eq!(world.snapshot(), before);
    for moved in [
        "work/vendor/lib/old",
        "work/vendor/moved",
        "work/moved",
        "work/linked",
        "work/gitdirs/old",
        "work/sub/moved",
    ] {
        assert!(!world.path(moved).exists(), "{moved} exists");
    }
}

#[test]
fn commands_cannot_plant_hooks_in_nested_repositories() {
    let world = World::new();
    let sandbox = world.sandbox();
    assert_no_escape(&world, &sandbox);

    // The rest of the workspace stays writable, inside the nested checkouts
    // too; a repository made during the session is not protected until the
    // next session's scan.
    assert_ok(
        &sh(
            &sandbox,
            "echo ok >> vendor/lib/lib.c && mkdir vendor/lib/new && echo ok > sub/wt/file \
             && git init -q fresh && echo x > fresh/.git/description",
        ),
        "ordinary work",
    );
}

#[test]
fn a_plugins_sandbox_protects_what_the_hosts_scan_found() {
    // The host hands its sandbox to a native plugin as JSON on every call;
    // the plugin's copy carries the scan instead of walking again.
    let world = World::new();
    let json = serde_json::to_value(world.sandbox()).unwrap();
    let found = &json["nested_git"]["roots"][0]["found"];
    assert!(
        found.as_array().unwrap().contains(
            &world
                .path("work/vendor/lib/.git")
                .display()
                .to_string()
                .into()
        ),
        "{json}"
    );
    let plugins: Sandbox = serde_json::from_value(json.clone()).unwrap();
    assert_no_escape(&world, &plugins);

    // Without the scan (an older host), the plugin's copy makes its own.
    let mut without = json;
    without.as_object_mut().unwrap().remove("nested_git");
    let plugins: Sandbox = serde_json::from_value(without).unwrap();
    assert_no_escape(&world, &plugins);
}
