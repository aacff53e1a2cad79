//! What Landlock does not cover: a file's mode, owner, times and extended
//! attributes. Outside the writable roots (and on the protected paths in
//! them) every mount is read-only, so each change fails with `EROFS`.

use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
use std::path::Path;

use super::{World, python};

/// (what the command tries, Python after [`PRELUDE`] on the file `$F`)
const CHANGES: &[(&str, &str)] = &[
    ("chmod", "oserror(lambda: os.chmod('$F', 0o777))"),
    (
        "chown to its own owner (which still changes the inode)",
        "oserror(lambda: os.chown('$F', os.getuid(), os.getgid()))",
    ),
    ("utime", "oserror(lambda: os.utime('$F', (0, 0)))"),
    (
        "setxattr",
        "oserror(lambda: os.setxattr('$F', 'user.wharf', b'evil'))",
    ),
    (
        "removexattr of an attribute it has",
        "oserror(lambda: os.removexattr('$F', 'user.kept'))",
    ),
];

/// What a change would alter: mode, owner, times, the kept attribute.
fn snapshot(path: &Path) -> (u32, u32, u32, i64, i64, Option<Vec<u8>>) {
    let meta = std::fs::symlink_metadata(path).unwrap();
    (
        meta.mode(),
        meta.uid(),
        meta.gid(),
        meta.mtime(),
        meta.ctime(),
        xattr(path, "user.kept"),
    )
}

fn xattr(path: &Path, name: &str) -> Option<Vec<u8>> {
    let path = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    let name = std::ffi::CString::new(name).unwrap();
    let mut value = [0u8; 64];
    // SAFETY: NUL-terminated strings and a writable buffer of the size given.
    let len = unsafe {
        libc::getxattr(
            path.as_ptr(),
            name.as_ptr(),
            value.as_mut_ptr().cast(),
            value.len(),
        )
    };
    usize::try_from(len).ok().map(|len| value[..len].to_vec())
}

fn set_xattr(path: &Path, name: &str, value: &[u8]) {
    let path = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    let name = std::ffi::CString::new(name).unwrap();
    // SAFETY: NUL-terminated strings and a live buffer of the size given.
    let set = unsafe {
        libc::setxattr(
            path.as_ptr(),
            name.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        )
    };
    assert_eq!(set, 0, "{}", std::io::Error::last_os_error());
}

#[test]
fn metadata_outside_the_writable_roots_cannot_change() {
    let world = World::new();
    // A file of the same user outside every writable root, and one on a
    // protected path inside the root.
    let outside_dir = tempfile::tempdir().unwrap();
    let outside = outside_dir.path().join("file");
    let protected = world.work.join(".wharf/config.toml");
    std::fs::create_dir_all(world.work.join(".wharf")).unwrap();
    for file in [&outside, &protected] {
        std::fs::write(file, "mine\n").unwrap();
        std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o644)).unwrap();
        set_xattr(file, "user.kept", b"1");
    }
    let mut escaped = Vec::new();
    for (name, policy) in &world.confining_policies() {
        let sandbox = world.sandbox(policy);
        for file in [&outside, &protected] {
            for (what, code) in CHANGES {
                let before = snapshot(file);
                let code = code.replace("$F", file.to_str().unwrap());
                let ran = python(&sandbox, &code);
                let after = snapshot(file);
                if ran.code != Some(1) || ran.stdout.trim() != "EROFS" || before != after {
                    escaped.push(format!(
                        "{name}: {what} on {}: {}{} ({before:?} -> {after:?})",
                        file.display(),
                        ran.stdout,
                        ran.stderr
                    ));
                }
            }
        }
    }
    assert!(escaped.is_empty(), "got through:\n{}", escaped.join("\n"));

    // Inside the writable root the same changes work: the test can fail.
    let inside = world.work.join("inside");
    std::fs::write(&inside, "mine\n").unwrap();
    set_xattr(&inside, "user.kept", b"1");
    let sandbox = world.sandbox(&world.workspace_write());
    for (what, code) in CHANGES {
        let code = code.replace("$F", inside.to_str().unwrap());
        let ran = python(&sandbox, &code);
        assert_eq!(ran.stdout.trim(), "ok", "{what} inside: {}", ran.stderr);
    }
}
