#![allow(clippy::unwrap_used)]

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt as _;
use std::os::unix::fs::symlink;
use std::path::Path;

use super::{ReadFailure, read_file};

/// `granted/` is the read root; `outside/` is not.
fn fixture() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap();
    let granted = root.join("granted");
    std::fs::create_dir_all(granted.join("sub")).unwrap();
    std::fs::create_dir_all(root.join("outside")).unwrap();
    std::fs::write(granted.join("a.txt"), "alpha").unwrap();
    std::fs::write(granted.join("sub/b.txt"), "beta").unwrap();
    std::fs::write(root.join("outside/secret"), "secret").unwrap();
    symlink("a.txt", granted.join("inner-link")).unwrap();
    // Absolute symlinks are refused even when they point inside, as with
    // the WASI preopens: they resolve from outside the root.
    symlink(granted.join("a.txt"), granted.join("absolute-link")).unwrap();
    symlink(root.join("outside/secret"), granted.join("escape-link")).unwrap();
    symlink(root.join("outside"), granted.join("escape-dir")).unwrap();
    make_fifo(&granted.join("fifo"));
    (dir, granted)
}

fn make_fifo(path: &Path) {
    let path = CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: `path` is a valid NUL-terminated string that outlives the call.
    let made = unsafe { libc::mkfifo(path.as_ptr(), 0o600) };
    assert_eq!(made, 0, "mkfifo failed");
}

#[test]
fn reads_inside_the_grant_and_refuses_everything_else() {
    let (_dir, granted) = fixture();
    let roots = [granted.clone()];
    let at = |rel: &str| format!("{}/{rel}", granted.display());
    let ok = |text: &str| Ok(text.as_bytes().to_vec());
    let denied = |r: &Result<Vec<u8>, ReadFailure>| matches!(r, Err(ReadFailure::Denied(_)));
    let failed_with = |r: &Result<Vec<u8>, ReadFailure>, needle: &str| matches!(r, Err(ReadFailure::Failed(m)) if m.contains(needle));

    assert_eq!(read_file(&roots, &at("a.txt"), 1 << 20), ok("alpha"));
    assert_eq!(read_file(&roots, &at("sub/b.txt"), 1 << 20), ok("beta"));
    assert_eq!(read_file(&roots, &at("sub/../a.txt"), 1 << 20), ok("alpha"));
    assert_eq!(read_file(&roots, &at("inner-link"), 1 << 20), ok("alpha"));
    assert_eq!(
        read_file(&roots, &at("missing"), 1 << 20),
        Err(ReadFailure::NotFound)
    );

    let outside = granted.parent().unwrap().join("outside/secret");
    assert!(denied(&read_file(
        &roots,
        &outside.to_string_lossy(),
        1 << 20
    )));
    assert!(denied(&read_file(
        &roots,
        &at("../outside/secret"),
        1 << 20
    )));
    assert!(denied(&read_file(&roots, &at("escape-link"), 1 << 20)));
    assert!(denied(&read_file(
        &roots,
        &at("escape-dir/secret"),
        1 << 20
    )));
    assert!(denied(&read_file(&[], &at("a.txt"), 1 << 20)));
    assert!(denied(&read_file(&roots, &at("absolute-link"), 1 << 20)));

    // A FIFO with no writer would block a plain open forever.
    assert!(failed_with(
        &read_file(&roots, &at("fifo"), 1 << 20),
        "not a regular file"
    ));
    assert!(failed_with(
        &read_file(&roots, &at("sub"), 1 << 20),
        "directory"
    ));
    assert!(failed_with(
        &read_file(&roots, &granted.to_string_lossy(), 1 << 20),
        "directory"
    ));
    assert!(failed_with(
        &read_file(&roots, &at("a.txt"), 4),
        "memory limit"
    ));
    assert!(failed_with(
        &read_file(&roots, "a.txt", 1 << 20),
        "absolute"
    ));
}

#[test]
fn the_kernel_views_are_never_read() {
    let (_dir, granted) = fixture();
    // A root that reaches /proc without naming it (the grant never holds
    // one: this is the second line of defence).
    let proc_link = granted.join("proc-link");
    symlink("/proc/self", &proc_link).unwrap();
    let denied = |roots: &[std::path::PathBuf], path: &str, needle: &str| match read_file(
        roots,
        path,
        1 << 20,
    ) {
        Err(ReadFailure::Denied(message)) => {
            assert!(message.contains(needle), "{path}: {message}");
        }
        other => panic!("{path}: {other:?}"),
    };
    let slash = [Path::new("/").to_path_buf()];
    denied(
        &slash,
        "/proc/self/environ",
        "/proc, /sys, /dev are never readable",
    );
    denied(&slash, "/sys/kernel/hostname", "are never readable");
    denied(&slash, "/dev/null", "are never readable");
    denied(
        &[Path::new("/proc/self").to_path_buf()],
        "/proc/self/environ",
        "are never readable",
    );
    denied(
        std::slice::from_ref(&proc_link),
        &format!("{}/environ", proc_link.display()),
        "is on procfs or sysfs",
    );
    // Elsewhere under `/` reads still work.
    assert_eq!(
        read_file(&slash, &format!("{}/a.txt", granted.display()), 1 << 20),
        Ok(b"alpha".to_vec())
    );
}
