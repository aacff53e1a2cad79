//! The component walk: what runs where `openat2` is missing, and what names
//! the fault when it fails.

use std::os::unix::fs::symlink;

use super::*;

/// (what, the tree below the root, directories to open, create, expected:
/// `Ok` or a part of the error)
type Row = (
    &'static str,
    fn(&Path),
    &'static str,
    bool,
    Result<(), &'static str>,
);

#[test]
fn the_walk_never_follows_a_symlink_and_names_the_fault() {
    let rows: &[Row] = &[
        (
            "existing directories",
            |root| std::fs::create_dir_all(root.join("a/b")).unwrap(),
            "a/b",
            false,
            Ok(()),
        ),
        ("missing, created", |_| {}, "a/b/c", true, Ok(())),
        (
            "missing, not created",
            |_| {},
            "a/b",
            false,
            Err("/root/a: No such file or directory"),
        ),
        (
            "a symlink to a directory outside",
            |root| symlink(root.parent().unwrap(), root.join("a")).unwrap(),
            "a/b",
            true,
            Err("/root/a is a symbolic link now"),
        ),
        (
            "a symlink to a directory inside",
            |root| {
                std::fs::create_dir(root.join("real")).unwrap();
                symlink("real", root.join("a")).unwrap();
            },
            "a",
            false,
            Err("/root/a is a symbolic link now"),
        ),
        (
            "a dangling symlink where a directory is to be made",
            |root| symlink("/nonexistent", root.join("a")).unwrap(),
            "a/b",
            true,
            Err("/root/a is a symbolic link now"),
        ),
        (
            "a regular file on the way",
            |root| std::fs::write(root.join("a"), "").unwrap(),
            "a/b",
            true,
            Err("/root/a is not a directory"),
        ),
    ];
    for (what, prepare, dirs, create, expected) in rows {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap().join("root");
        std::fs::create_dir(&root).unwrap();
        prepare(&root);
        let start = File::open(&root).unwrap();
        let walked = walk(start.as_fd(), &root, Path::new(dirs), *create);
        match (walked, expected) {
            (Ok(_), Ok(())) => assert!(root.join(dirs).is_dir(), "{what}"),
            (Err(err), Err(part)) => assert!(err.to_string().contains(part), "{what}: {err}"),
            (walked, expected) => panic!("{what}: got {walked:?}, expected {expected:?}"),
        }
    }
}

#[test]
fn a_root_reached_through_a_symlink_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().canonicalize().unwrap();
    std::fs::create_dir_all(base.join("real/root")).unwrap();
    symlink(base.join("real"), base.join("link")).unwrap();
    assert!(open_root(&base.join("real/root")).is_ok());
    let err = open_root(&base.join("link/root")).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}/link is a symbolic link now (it was not when the path was checked), and the host does not follow symlinks when it writes",
            base.display()
        )
    );
}

#[test]
fn the_old_contents_read_for_a_diff_stop_past_the_largest_file_diffed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big");
    // Sparse: its size costs no disk, and reading it whole would cost
    // that much memory.
    File::create(&path).unwrap().set_len(1 << 30).unwrap();
    let file = File::open(&path).unwrap();
    let mut old = Vec::new();
    read_old(&file, &mut old).unwrap();
    assert_eq!(old.len(), super::super::diff::MAX_BYTES + 1);
}
