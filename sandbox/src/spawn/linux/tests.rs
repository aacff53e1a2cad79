//! The race between the parent's checks and the child's mounts: whatever
//! replaces a protected directory after the parent prepared the spawn, the
//! child mounts only what was checked, or nothing runs.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use super::{launch, prepare};
use crate::spawn::{Command, Sandbox};
use crate::{PathEnv, ReadOnlyAccess, SandboxPolicy};

/// What happens to `work/.wharf` between preparing and starting, and the
/// end of the spawn's error.
type Swap = dyn Fn(&Path);

#[test]
fn a_protected_directory_swapped_after_the_checks_fails_the_spawn() {
    let cases: &[(&str, &Swap, &str)] = &[
        (
            "renamed away and made again",
            &|work| {
                std::fs::rename(work.join(".wharf"), work.join("old")).unwrap();
                std::fs::create_dir(work.join(".wharf")).unwrap();
            },
            "it was replaced while the sandbox was being set up",
        ),
        // `rmdir` frees the inode number, and the symlink often gets it:
        // the file type tells them apart.
        (
            "replaced by a symlink",
            &|work| {
                std::fs::create_dir(work.join("elsewhere")).unwrap();
                std::fs::remove_dir(work.join(".wharf")).unwrap();
                std::os::unix::fs::symlink("elsewhere", work.join(".wharf")).unwrap();
            },
            "it was replaced while the sandbox was being set up",
        ),
    ];
    for (what, swap, expected) in cases {
        let dir = tempfile::tempdir().unwrap();
        let work = dir.path().canonicalize().unwrap().join("work");
        std::fs::create_dir(&work).unwrap();
        let policy = SandboxPolicy::WorkspaceWrite {
            writable_roots: Vec::new(),
            read_only_access: ReadOnlyAccess::FullAccess,
            network_access: false,
            exclude_tmpdir_env_var: true,
            exclude_slash_tmp: true,
        };
        let env = PathEnv {
            cwd: work.clone(),
            tmpdir: None,
            protected: vec![work.join(".wharf")],
        };
        let sandbox = Sandbox::new(&policy, &env);
        let enforcement = prepare(&sandbox).unwrap();
        assert!(work.join(".wharf").is_dir(), "{what}: prepared");
        swap(&work);
        let command = Command::new(["/bin/sh", "-c", "echo evil > .wharf/config.toml"]);
        let err = launch(&policy, Some(enforcement), command, &work, None)
            .map(|_| ())
            .expect_err(what);
        assert_eq!(
            err.to_string(),
            format!(
                "cannot keep {} read-only: {expected}; the command was not run",
                work.join(".wharf").display()
            ),
            "{what}"
        );
        assert!(!work.join(".wharf/config.toml").exists(), "{what}");
        assert!(!work.join("elsewhere/config.toml").exists(), "{what}");
    }
}
