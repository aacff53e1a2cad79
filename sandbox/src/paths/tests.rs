//! Table tests for the path rules. Every table runs against a fresh temporary
//! tree (see [`Fixture`]); `$T` in a row stands for its resolved root.
//! Adding a case means adding a row. Paths outside the tree (`/tmp/...`,
//! `/etc/...`, `/usr/bin/env`) are only checked, never written.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use super::*;

/// A temporary tree with a workspace, escape hatches and git layouts:
///
/// ```text
/// $T/repo/                       the cwd of most policies
///     src/main.rs
///     .git/hooks/                a plain repository
///     link_out -> $T/outside     a symlink escaping the root
///     rel_out -> ../outside      the same, relative
///     chain -> link_out          a symlink to a symlink
///     dangling -> $T/outside/newfile
///     loop_a -> loop_b, loop_b -> loop_a, self_loop -> self_loop
/// $T/repo2/                      a sibling with a similar name
/// $T/outside/secret
/// $T/outside/into_repo -> $T/repo/src
/// $T/extra/, $T/extra2/          configured writable roots
/// $T/tmpdir/                     stands in for $TMPDIR
/// $T/readable/notes.txt          a restricted readable root
/// $T/readable/link_secret -> $T/outside/secret
/// $T/wt/.git                     file: gitdir: ../shared/main/.git/worktrees/w
/// $T/shared/main/.git/hooks/
/// $T/shared/main/.git/worktrees/w/HEAD, commondir (../..)
/// $T/repo/sub/vendored/.git/hooks/  a nested repository
/// $T/repo/vendor/lib/.git        file: gitdir: ../../gitdirs/lib
/// $T/repo/gitdirs/lib/HEAD, objects/, refs/   the git directory it names
/// $T/repo/to_vendored_git -> sub/vendored/.git
/// $T/nest/a/proj/                the cwd of `WsNest`, no `.git` above it
/// $T/nest/home/.wharf/           stands in for `$WHARF_HOME`
/// $T/nest/realhome/, $T/nest/linkhome -> $T/nest/realhome
/// ```
///
/// [`PROTECTED`] is every policy's [`PathEnv::protected`].
struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl Fixture {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = fs::canonicalize(dir.path()).unwrap();
        let fixture = Fixture { _dir: dir, root };
        for dir in [
            "repo/src",
            "repo/.git/hooks",
            "repo2",
            "outside",
            "extra",
            "extra2",
            "tmpdir",
            "readable",
            "wt",
            "shared/main/.git/hooks",
            "shared/main/.git/worktrees/w",
            "repo/sub/vendored/.git/hooks",
            "repo/vendor/lib",
            "repo/gitdirs/lib/objects",
            "repo/gitdirs/lib/refs",
            "nest/a/proj",
            "nest/home/.wharf",
            "nest/realhome",
        ] {
            fs::create_dir_all(fixture.path(dir)).unwrap();
        }
        for (file, content) in [
            ("repo/src/main.rs", "fn main() {}\n"),
            ("outside/secret", "hunter2\n"),
            ("readable/notes.txt", "notes\n"),
            ("wt/.git", "gitdir: ../shared/main/.git/worktrees/w\n"),
            ("shared/main/.git/worktrees/w/HEAD", "ref: refs/heads/w\n"),
            ("shared/main/.git/worktrees/w/commondir", "../..\n"),
            ("repo/vendor/lib/.git", "gitdir: ../../gitdirs/lib\n"),
            ("repo/gitdirs/lib/HEAD", "ref: refs/heads/main\n"),
        ] {
            fs::write(fixture.path(file), content).unwrap();
        }
        for (link, target) in [
            ("repo/link_out", "$T/outside"),
            ("repo/rel_out", "../outside"),
            ("repo/chain", "link_out"),
            ("repo/dangling", "$T/outside/newfile"),
            ("repo/loop_a", "loop_b"),
            ("repo/loop_b", "loop_a"),
            ("repo/self_loop", "self_loop"),
            ("outside/into_repo", "$T/repo/src"),
            ("readable/link_secret", "$T/outside/secret"),
            ("repo/to_vendored_git", "sub/vendored/.git"),
            ("nest/linkhome", "$T/nest/realhome"),
        ] {
            symlink(fixture.expand(target), fixture.path(link)).unwrap();
        }
        fixture
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }

    /// Replaces `$T` with the fixture's root.
    fn expand(&self, text: &str) -> String {
        text.replace("$T", &self.root.display().to_string())
    }

    fn rules(&self, policy: P) -> PathRules {
        let (policy, cwd) = self.policy(policy);
        let env = PathEnv {
            cwd: self.path(cwd),
            tmpdir: Some(self.path("tmpdir")),
            protected: PROTECTED
                .iter()
                .map(|path| PathBuf::from(self.expand(path)))
                .collect(),
        };
        PathRules::new(&policy, &env)
    }

    fn policy(&self, policy: P) -> (SandboxPolicy, &'static str) {
        let workspace = |roots: &[&str], exclude_slash_tmp, exclude_tmpdir_env_var| {
            SandboxPolicy::WorkspaceWrite {
                writable_roots: roots
                    .iter()
                    .map(|root| PathBuf::from(self.expand(root)))
                    .collect(),
                read_only_access: ReadOnlyAccess::FullAccess,
                network_access: false,
                exclude_tmpdir_env_var,
                exclude_slash_tmp,
            }
        };
        let restricted = |include_platform_defaults| SandboxPolicy::ReadOnly {
            access: ReadOnlyAccess::Restricted {
                include_platform_defaults,
                readable_roots: vec![self.path("readable")],
            },
        };
        match policy {
            P::Ws => (workspace(&[], true, true), "repo"),
            P::WsSlashTmp => (workspace(&[], false, true), "repo"),
            P::WsTmpdir => (workspace(&[], true, false), "repo"),
            P::WsExtra => (workspace(&["$T/extra", "../extra2"], true, true), "repo"),
            P::WsDup => (
                workspace(
                    &[".", "$T/repo", "../repo/./src/..", "$T/tmpdir"],
                    true,
                    false,
                ),
                "repo",
            ),
            P::WsNest => (workspace(&["$T/nest"], true, true), "nest/a/proj"),
            P::Worktree => (workspace(&["$T/shared"], true, true), "wt"),
            P::WorktreeAlone => (workspace(&[], true, true), "wt"),
            P::ReadOnly => (SandboxPolicy::new_read_only(), "repo"),
            P::Danger => (SandboxPolicy::DangerFullAccess, "repo"),
            P::Restricted => (restricted(false), "repo"),
            P::RestrictedPlatform => (restricted(true), "repo"),
            P::WsRestricted => {
                let mut policy = workspace(&["$T/extra"], true, true);
                if let SandboxPolicy::WorkspaceWrite {
                    read_only_access, ..
                } = &mut policy
                {
                    *read_only_access = ReadOnlyAccess::Restricted {
                        include_platform_defaults: false,
                        readable_roots: Vec::new(),
                    };
                }
                (policy, "repo")
            }
        }
    }
}

/// What a session in `$T/nest/a/proj` protects, as the host computes it:
/// wharf's home, then every `.wharf` the project search visits (no `.git`
/// on the way, so up to `/`; the last ones lie outside every root), and a
/// home reached through a symlink.
const PROTECTED: &[&str] = &[
    "$T/nest/home/.wharf",
    "$T/nest/a/proj/.wharf",
    "$T/nest/a/.wharf",
    "$T/nest/.wharf",
    "$T/.wharf",
    "$T/nest/linkhome",
];

/// The policies the tables use, each with its cwd (see [`Fixture::policy`]).
#[derive(Debug, Clone, Copy)]
enum P {
    /// Workspace-write in `repo`, `/tmp` and `$TMPDIR` excluded.
    Ws,
    /// As `Ws`, with `/tmp` writable.
    WsSlashTmp,
    /// As `Ws`, with `$TMPDIR` (`$T/tmpdir`) writable.
    WsTmpdir,
    /// As `Ws`, with `$T/extra` (absolute) and `../extra2` (relative) writable.
    WsExtra,
    /// As `Ws`, with roots that all resolve to the cwd, plus `$TMPDIR` twice.
    WsDup,
    /// Workspace-write in `$T/nest/a/proj`, with `$T/nest` writable.
    WsNest,
    /// Workspace-write in the worktree `wt`, with `$T/shared` writable.
    Worktree,
    /// Workspace-write in the worktree `wt` alone.
    WorktreeAlone,
    /// Read-only, full read access.
    ReadOnly,
    /// Danger-full-access.
    Danger,
    /// Read-only, reads restricted to `$T/readable` (and the cwd).
    Restricted,
    /// As `Restricted`, with the platform defaults.
    RestrictedPlatform,
    /// Workspace-write with `$T/extra`, reads restricted to the writable roots.
    WsRestricted,
}

#[derive(Debug, Clone, Copy)]
enum Op {
    R,
    W,
}
use Op::{R, W};

/// One check: the resolved path when allowed (`*` to skip comparing it, for
/// system paths), or the denial's message.
type Row = (P, Op, &'static str, Result<&'static str, &'static str>);

/// Runs every row against one fixture and reports all mismatches at once.
fn check(rows: &[Row]) {
    let fixture = Fixture::new();
    let mut failures = Vec::new();
    for &(policy, op, path, expected) in rows {
        let rules = fixture.rules(policy);
        let path = PathBuf::from(fixture.expand(path));
        let (actual, allowed) = match op {
            R => (rules.check_read(&path), rules.can_read(&path)),
            W => (rules.check_write(&path), rules.can_write(&path)),
        };
        assert_eq!(actual.is_ok(), allowed, "can_* disagrees for {path:?}");
        let matches = match (&actual, expected) {
            (Ok(_), Ok("*")) => true,
            (Ok(resolved), Ok(want)) => *resolved == Path::new(&fixture.expand(want)),
            (Err(denial), Err(want)) => denial.to_string() == fixture.expand(want),
            _ => false,
        };
        if !matches {
            let actual = actual.map_err(|denial| denial.to_string());
            failures.push(format!(
                "{policy:?} {op:?} {}\n    expected {expected:?}\n    actual   {actual:?}",
                path.display()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} rows failed (paths under {}):\n{}",
        failures.len(),
        rows.len(),
        fixture.root.display(),
        failures.join("\n")
    );
}

#[test]
#[rustfmt::skip]
fn workspace_writes_and_escapes() {
    check(&[
        (P::Ws, W, "src/main.rs", Ok("$T/repo/src/main.rs")),
        (P::Ws, W, "new/dir/file.rs", Ok("$T/repo/new/dir/file.rs")),
        (P::Ws, W, "$T/repo", Ok("$T/repo")),
        (P::Ws, W, "$T/repo/./src/../x", Ok("$T/repo/x")),
        (P::Ws, W, "$T/outside/x", Err("write to $T/outside/x is outside the writable roots")),
        (P::Ws, W, "../outside/x", Err("write to $T/repo/../outside/x (resolves to $T/outside/x) is outside the writable roots")),
        (P::Ws, W, "$T/repo/../outside/x", Err("write to $T/repo/../outside/x (resolves to $T/outside/x) is outside the writable roots")),
        (P::Ws, W, "src/../../x", Err("write to $T/repo/src/../../x (resolves to $T/x) is outside the writable roots")),
        (P::Ws, W, "$T/repo2/x", Err("write to $T/repo2/x is outside the writable roots")),
        (P::Ws, W, "$T/repo2", Err("write to $T/repo2 is outside the writable roots")),
        (P::Ws, W, "/etc/passwd", Err("write to /etc/passwd is outside the writable roots")),
        // Symlinks inside the root that lead out of it.
        (P::Ws, W, "link_out/secret", Err("write to $T/repo/link_out/secret (resolves to $T/outside/secret) is outside the writable roots")),
        (P::Ws, W, "link_out/new/file", Err("write to $T/repo/link_out/new/file (resolves to $T/outside/new/file) is outside the writable roots")),
        (P::Ws, W, "rel_out/x", Err("write to $T/repo/rel_out/x (resolves to $T/outside/x) is outside the writable roots")),
        (P::Ws, W, "chain/x", Err("write to $T/repo/chain/x (resolves to $T/outside/x) is outside the writable roots")),
        (P::Ws, W, "dangling", Err("write to $T/repo/dangling (resolves to $T/outside/newfile) is outside the writable roots")),
        // `..` after a symlink pops the target, not the link.
        (P::Ws, W, "link_out/../x", Err("write to $T/repo/link_out/../x (resolves to $T/x) is outside the writable roots")),
        (P::Ws, W, "link_out/../repo/x", Ok("$T/repo/x")),
        // A symlink from outside into the root is fine.
        (P::Ws, W, "$T/outside/into_repo/new.rs", Ok("$T/repo/src/new.rs")),
        // Loops are denials, not hangs or panics.
        (P::Ws, W, "loop_a/x", Err("cannot resolve $T/repo/loop_a/x: too many levels of symbolic links")),
        (P::Ws, W, "self_loop", Err("cannot resolve $T/repo/self_loop: too many levels of symbolic links")),
        (P::Ws, R, "loop_b", Err("cannot resolve $T/repo/loop_b: too many levels of symbolic links")),
    ]);
}

#[test]
#[rustfmt::skip]
fn protected_subpaths() {
    check(&[
        (P::Ws, W, ".git", Err("write to $T/repo/.git is inside the protected path $T/repo/.git")),
        (P::Ws, W, ".git/config", Err("write to $T/repo/.git/config is inside the protected path $T/repo/.git")),
        (P::Ws, W, ".git/hooks/pre-commit", Err("write to $T/repo/.git/hooks/pre-commit is inside the protected path $T/repo/.git")),
        (P::Ws, W, "src/../.git/config", Err("write to $T/repo/src/../.git/config (resolves to $T/repo/.git/config) is inside the protected path $T/repo/.git")),
        (P::Ws, W, ".gitignore", Ok("$T/repo/.gitignore")),
        (P::Ws, R, ".git/config", Ok("$T/repo/.git/config")),
        // `.wharf` does not exist in the fixture and is protected anyway.
        (P::Ws, W, ".wharf", Err("write to $T/repo/.wharf is inside the protected path $T/repo/.wharf")),
        (P::Ws, W, ".wharf/config.toml", Err("write to $T/repo/.wharf/config.toml is inside the protected path $T/repo/.wharf")),
        (P::Ws, W, ".wharfrc", Ok("$T/repo/.wharfrc")),
        // A worktree: `.git` is a file pointing at the git directory, whose
        // `commondir` is the main repository's `.git`.
        (P::Worktree, W, "src.rs", Ok("$T/wt/src.rs")),
        (P::Worktree, W, ".git", Err("write to $T/wt/.git is inside the protected path $T/wt/.git")),
        (P::Worktree, W, "$T/shared/main/.git/worktrees/w/HEAD", Err("write to $T/shared/main/.git/worktrees/w/HEAD is inside the protected path $T/shared/main/.git/worktrees/w")),
        (P::Worktree, W, "$T/shared/main/.git/hooks/pre-commit", Err("write to $T/shared/main/.git/hooks/pre-commit is inside the protected path $T/shared/main/.git")),
        (P::Worktree, W, "$T/shared/main/lib.rs", Ok("$T/shared/main/lib.rs")),
        (P::Worktree, W, "$T/shared/.wharf/x", Err("write to $T/shared/.wharf/x is inside the protected path $T/shared/.wharf")),
        (P::WorktreeAlone, W, "$T/shared/main/.git/worktrees/w/HEAD", Err("write to $T/shared/main/.git/worktrees/w/HEAD is outside the writable roots")),
    ]);
}

#[test]
#[rustfmt::skip]
fn protected_paths_of_the_environment() {
    check(&[
        // Every `.wharf` the project search visits, existing or not, in the
        // cwd and in the parents a writable root holds.
        (P::WsNest, W, ".wharf", Err("write to $T/nest/a/proj/.wharf is inside the protected path $T/nest/a/proj/.wharf")),
        (P::WsNest, W, ".wharf/config.toml", Err("write to $T/nest/a/proj/.wharf/config.toml is inside the protected path $T/nest/a/proj/.wharf")),
        (P::WsNest, W, "../.wharf/config.toml", Err("write to $T/nest/a/proj/../.wharf/config.toml (resolves to $T/nest/a/.wharf/config.toml) is inside the protected path $T/nest/a/.wharf")),
        (P::WsNest, W, "$T/nest/a/.wharf", Err("write to $T/nest/a/.wharf is inside the protected path $T/nest/a/.wharf")),
        (P::WsNest, W, "../../.wharf/x", Err("write to $T/nest/a/proj/../../.wharf/x (resolves to $T/nest/.wharf/x) is inside the protected path $T/nest/.wharf")),
        (P::WsNest, W, "../.wharfrc", Ok("$T/nest/a/.wharfrc")),
        (P::WsNest, W, "../x/.wharf/config.toml", Ok("$T/nest/a/x/.wharf/config.toml")),
        // Outside every root it stays "outside".
        (P::WsNest, W, "$T/.wharf/config.toml", Err("write to $T/.wharf/config.toml is outside the writable roots")),
        // Wharf's home, existing, inside a writable root.
        (P::WsNest, W, "$T/nest/home/.wharf/config.toml", Err("write to $T/nest/home/.wharf/config.toml is inside the protected path $T/nest/home/.wharf")),
        (P::WsNest, W, "$T/nest/home/.wharf/cache/apply_patch.cwasm", Err("write to $T/nest/home/.wharf/cache/apply_patch.cwasm is inside the protected path $T/nest/home/.wharf")),
        (P::WsNest, W, "$T/nest/home/.wharf", Err("write to $T/nest/home/.wharf is inside the protected path $T/nest/home/.wharf")),
        (P::WsNest, W, "$T/nest/home/notes", Ok("$T/nest/home/notes")),
        // A protected path that is a symlink protects its target.
        (P::WsNest, W, "$T/nest/realhome/config.toml", Err("write to $T/nest/realhome/config.toml is inside the protected path $T/nest/realhome")),
        (P::WsNest, W, "$T/nest/linkhome/config.toml", Err("write to $T/nest/linkhome/config.toml (resolves to $T/nest/realhome/config.toml) is inside the protected path $T/nest/realhome")),
        (P::WsNest, R, "$T/nest/home/.wharf/config.toml", Ok("$T/nest/home/.wharf/config.toml")),
        // Read-only refuses everything; danger-full-access protects nothing.
        (P::ReadOnly, W, "$T/nest/home/.wharf/config.toml", Err("writes are not allowed in read-only mode: $T/nest/home/.wharf/config.toml")),
        (P::Danger, W, "$T/nest/home/.wharf/config.toml", Ok("$T/nest/home/.wharf/config.toml")),
    ]);
}

#[test]
#[rustfmt::skip]
fn nested_repositories() {
    check(&[
        (P::Ws, W, "sub/vendored/.git/hooks/x", Err("write to $T/repo/sub/vendored/.git/hooks/x is inside the protected path $T/repo/sub/vendored/.git")),
        (P::Ws, W, "sub/vendored/.git", Err("write to $T/repo/sub/vendored/.git is inside the protected path $T/repo/sub/vendored/.git")),
        (P::Ws, W, "to_vendored_git/config", Err("write to $T/repo/to_vendored_git/config (resolves to $T/repo/sub/vendored/.git/config) is inside the protected path $T/repo/sub/vendored/.git")),
        // Not there yet: the host never creates a `.git` (a command may).
        (P::Ws, W, "sub/fresh/.git/config", Err("write to $T/repo/sub/fresh/.git/config is inside the protected path $T/repo/sub/fresh/.git")),
        // A submodule's `.git` file, and the git directory it names.
        (P::Ws, W, "vendor/lib/.git", Err("write to $T/repo/vendor/lib/.git is inside the protected path $T/repo/vendor/lib/.git")),
        (P::Ws, W, "gitdirs/lib/hooks/post-checkout", Err("write to $T/repo/gitdirs/lib/hooks/post-checkout is inside the protected path $T/repo/gitdirs/lib")),
        (P::Ws, W, "gitdirs/lib/config", Err("write to $T/repo/gitdirs/lib/config is inside the protected path $T/repo/gitdirs/lib")),
        (P::Ws, W, "gitdirs/lib/../notes.txt", Ok("$T/repo/gitdirs/notes.txt")),
        (P::Ws, W, "sub/vendored/src.rs", Ok("$T/repo/sub/vendored/src.rs")),
        (P::Ws, W, "vendor/lib/src.rs", Ok("$T/repo/vendor/lib/src.rs")),
        (P::Ws, W, "sub/.gitignore", Ok("$T/repo/sub/.gitignore")),
        (P::Ws, W, "sub/x.git/config", Ok("$T/repo/sub/x.git/config")),
        (P::Ws, R, "sub/vendored/.git/hooks/x", Ok("$T/repo/sub/vendored/.git/hooks/x")),
        (P::Danger, W, "sub/vendored/.git/hooks/x", Ok("$T/repo/sub/vendored/.git/hooks/x")),
        // A repository's working tree stays writable, only its git
        // directory does not.
        (P::Worktree, W, "$T/shared/main/lib.rs", Ok("$T/shared/main/lib.rs")),
    ]);
}

#[test]
#[rustfmt::skip]
fn temporary_and_configured_roots() {
    check(&[
        (P::Ws, W, "/tmp/wharf-sandbox-probe", Err("write to /tmp/wharf-sandbox-probe is outside the writable roots")),
        (P::WsSlashTmp, W, "/tmp/wharf-sandbox-probe", Ok("*")),
        (P::WsTmpdir, W, "/tmp/wharf-sandbox-probe", Err("write to /tmp/wharf-sandbox-probe is outside the writable roots")),
        (P::Ws, W, "$T/tmpdir/x", Err("write to $T/tmpdir/x is outside the writable roots")),
        (P::WsTmpdir, W, "$T/tmpdir/x", Ok("$T/tmpdir/x")),
        (P::WsTmpdir, W, "$T/tmpdir/.wharf/x", Err("write to $T/tmpdir/.wharf/x is inside the protected path $T/tmpdir/.wharf")),
        (P::WsExtra, W, "$T/extra/x", Ok("$T/extra/x")),
        (P::WsExtra, W, "../extra2/y", Ok("$T/extra2/y")),
        (P::WsExtra, W, "src/x", Ok("$T/repo/src/x")),
        (P::WsExtra, W, "$T/extra3/x", Err("write to $T/extra3/x is outside the writable roots")),
        (P::WsExtra, W, "$T/extra/.wharf", Err("write to $T/extra/.wharf is inside the protected path $T/extra/.wharf")),
    ]);
}

#[test]
#[rustfmt::skip]
fn read_only_and_danger() {
    check(&[
        (P::ReadOnly, W, "src/main.rs", Err("writes are not allowed in read-only mode: $T/repo/src/main.rs")),
        (P::ReadOnly, W, "link_out/x", Err("writes are not allowed in read-only mode: $T/repo/link_out/x (resolves to $T/outside/x)")),
        (P::ReadOnly, W, "/tmp/wharf-sandbox-probe", Err("writes are not allowed in read-only mode: /tmp/wharf-sandbox-probe")),
        (P::ReadOnly, R, "src/main.rs", Ok("$T/repo/src/main.rs")),
        (P::ReadOnly, R, "$T/outside/secret", Ok("$T/outside/secret")),
        (P::ReadOnly, R, "/usr/bin/env", Ok("*")),
        (P::Danger, W, "$T/outside/x", Ok("$T/outside/x")),
        (P::Danger, W, ".git/config", Ok("$T/repo/.git/config")),
        (P::Danger, W, "/etc/wharf-never-written", Ok("/etc/wharf-never-written")),
        (P::Danger, R, "link_out/secret", Ok("$T/outside/secret")),
        (P::Danger, W, "loop_a", Err("cannot resolve $T/repo/loop_a: too many levels of symbolic links")),
    ]);
}

#[test]
#[rustfmt::skip]
fn restricted_reads() {
    check(&[
        (P::Restricted, R, "$T/readable/notes.txt", Ok("$T/readable/notes.txt")),
        (P::Restricted, R, "$T/readable", Ok("$T/readable")),
        (P::Restricted, R, "src/main.rs", Ok("$T/repo/src/main.rs")),
        (P::Restricted, R, "$T/outside/secret", Err("read of $T/outside/secret is outside the readable roots")),
        (P::Restricted, R, "../outside/secret", Err("read of $T/repo/../outside/secret (resolves to $T/outside/secret) is outside the readable roots")),
        (P::Restricted, R, "$T/readable/link_secret", Err("read of $T/readable/link_secret (resolves to $T/outside/secret) is outside the readable roots")),
        (P::Restricted, R, "link_out/secret", Err("read of $T/repo/link_out/secret (resolves to $T/outside/secret) is outside the readable roots")),
        (P::Restricted, R, "$T/outside/into_repo/main.rs", Ok("$T/repo/src/main.rs")),
        (P::Restricted, R, "$T/repo2/x", Err("read of $T/repo2/x is outside the readable roots")),
        (P::Restricted, R, "/usr/bin/env", Err("read of /usr/bin/env is outside the readable roots")),
        (P::RestrictedPlatform, R, "/usr/bin/env", Ok("*")),
        (P::RestrictedPlatform, R, "/dev/null", Ok("/dev/null")),
        (P::RestrictedPlatform, R, "$T/outside/secret", Err("read of $T/outside/secret is outside the readable roots")),
        (P::RestrictedPlatform, R, "/etc/shadow", Err("read of /etc/shadow is outside the readable roots")),
        (P::WsRestricted, R, "$T/extra/x", Ok("$T/extra/x")),
        (P::WsRestricted, R, ".git/config", Ok("$T/repo/.git/config")),
        (P::WsRestricted, R, "$T/readable/notes.txt", Err("read of $T/readable/notes.txt is outside the readable roots")),
        (P::WsRestricted, W, "$T/extra/x", Ok("$T/extra/x")),
        (P::Ws, R, "$T/outside/secret", Ok("$T/outside/secret")),
    ]);
}

#[test]
fn computed_roots() {
    type Roots = &'static [(&'static str, &'static [&'static str])];
    let fixture = Fixture::new();
    let rows: &[(P, Roots, Option<&[&str]>)] = &[
        (
            P::Ws,
            &[("$T/repo", &["$T/repo/.git", "$T/repo/.wharf"])],
            None,
        ),
        (
            P::WsDup,
            &[
                ("$T/repo", &["$T/repo/.git", "$T/repo/.wharf"]),
                ("$T/tmpdir", &["$T/tmpdir/.wharf"]),
            ],
            None,
        ),
        (
            P::WsExtra,
            &[
                ("$T/repo", &["$T/repo/.git", "$T/repo/.wharf"]),
                ("$T/extra", &["$T/extra/.wharf"]),
                ("$T/extra2", &["$T/extra2/.wharf"]),
            ],
            None,
        ),
        (
            P::Worktree,
            &[
                (
                    "$T/wt",
                    &[
                        "$T/wt/.git",
                        "$T/shared/main/.git/worktrees/w",
                        "$T/shared/main/.git",
                        "$T/wt/.wharf",
                    ],
                ),
                ("$T/shared", &["$T/shared/.wharf"]),
            ],
            None,
        ),
        (P::ReadOnly, &[], None),
        (P::Danger, &[("/", &[])], None),
        (P::Restricted, &[], Some(&["$T/readable", "$T/repo"])),
        (
            P::WsRestricted,
            &[
                ("$T/repo", &["$T/repo/.git", "$T/repo/.wharf"]),
                ("$T/extra", &["$T/extra/.wharf"]),
            ],
            Some(&["$T/repo", "$T/extra"]),
        ),
    ];
    let paths = |paths: &[&str]| -> Vec<PathBuf> {
        paths
            .iter()
            .map(|path| PathBuf::from(fixture.expand(path)))
            .collect()
    };
    for &(policy, roots, readable) in rows {
        let rules = fixture.rules(policy);
        let expected: Vec<WritableRoot> = roots
            .iter()
            .map(|(root, subpaths)| WritableRoot {
                root: PathBuf::from(fixture.expand(root)),
                read_only_subpaths: paths(subpaths),
            })
            .collect();
        assert_eq!(rules.writable_roots(), expected, "{policy:?}");
        assert_eq!(
            rules.readable_roots(),
            readable.map(paths).as_deref(),
            "{policy:?}"
        );
    }

    let platform = fixture.rules(P::RestrictedPlatform);
    let readable = platform.readable_roots().unwrap();
    assert_eq!(readable[..2], paths(&["$T/readable", "$T/repo"]));
    assert!(readable.contains(&PathBuf::from("/usr")), "{readable:?}");

    // The environment's protected paths, resolved, whatever the policy.
    let mut expected = paths(PROTECTED);
    expected[5] = fixture.path("nest/realhome");
    for policy in [P::WsNest, P::ReadOnly, P::Danger] {
        assert_eq!(
            fixture.rules(policy).protected_paths(),
            expected,
            "{policy:?}"
        );
    }
}

#[test]
fn resolution() {
    let fixture = Fixture::new();
    let cwd = fixture.path("repo");
    let rows: &[(&str, Result<&str, &str>)] = &[
        (".", Ok("$T/repo")),
        ("", Ok("$T/repo")),
        ("src/./main.rs", Ok("$T/repo/src/main.rs")),
        ("src//main.rs", Ok("$T/repo/src/main.rs")),
        ("src/../x", Ok("$T/repo/x")),
        ("../outside/secret", Ok("$T/outside/secret")),
        ("/..", Ok("/")),
        ("/../..", Ok("/")),
        ("missing/a/../b", Ok("$T/repo/missing/b")),
        ("src/main.rs/..", Ok("$T/repo/src")),
        ("link_out", Ok("$T/outside")),
        ("link_out/..", Ok("$T")),
        ("link_out/secret", Ok("$T/outside/secret")),
        ("rel_out/secret", Ok("$T/outside/secret")),
        ("chain/secret", Ok("$T/outside/secret")),
        ("dangling", Ok("$T/outside/newfile")),
        ("dangling/deeper/../x", Ok("$T/outside/newfile/x")),
        ("$T/outside/into_repo/../x", Ok("$T/repo/x")),
        ("loop_a", Err("too many levels of symbolic links")),
        ("loop_a/x", Err("too many levels of symbolic links")),
        ("self_loop", Err("too many levels of symbolic links")),
    ];
    for &(input, expected) in rows {
        let actual = resolve_path(Path::new(&fixture.expand(input)), &cwd);
        let actual = actual.map_err(|err| err.to_string());
        let expected = expected
            .map(|path| PathBuf::from(fixture.expand(path)))
            .map_err(str::to_owned);
        assert_eq!(actual, expected, "{input}");
    }

    let err = resolve_path(Path::new("x"), Path::new("relative/cwd")).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert_eq!(
        err.to_string(),
        "the working directory relative/cwd is not absolute"
    );
    assert_eq!(
        resolve_path(Path::new("/abs"), Path::new("relative")).unwrap(),
        Path::new("/abs")
    );
}
