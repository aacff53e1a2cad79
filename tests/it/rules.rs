//! The rules ARCHITECTURE.md states about the shape of the workspace,
//! checked over the real tree: which crate may depend on which
//! ([`dependencies`], from `cargo metadata`), that no module imports its way
//! in a circle ([`module_cycles`]), what the sources may contain
//! ([`sources`]), and that the host names no tool ([`no_tool_names`]).

mod dependencies;
mod module_cycles;
mod no_tool_names;
mod sources;

use std::path::{Path, PathBuf};

/// The workspace root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the workspace")
        .to_owned()
}

/// Every `.rs` file under `dir`, sorted, skipping `target/`.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if path.file_name().is_some_and(|name| name != "target") {
                    stack.push(path);
                }
            } else if path.extension().is_some_and(|ext| ext == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// Whether `path` (relative to a crate's `src/`) holds only tests: a
/// `tests.rs` or anything under a `tests/` directory.
fn is_test_file(path: &Path) -> bool {
    path.components().any(|part| part.as_os_str() == "tests")
        || path.file_name().is_some_and(|name| name == "tests.rs")
}

/// `cargo metadata` of the workspace's own packages.
fn metadata() -> serde_json::Value {
    #[allow(
        clippy::disallowed_methods,
        reason = "a test asks cargo about the workspace; nothing sandboxed runs"
    )]
    let output = std::process::Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}
