//! Rules about what the sources contain: no non-test file over 600 lines,
//! no `unsafe` in plugins, and only the sandbox (and build tooling, benches
//! and tests) starts processes.

use std::path::Path;

/// The longest a non-test source file may be.
const MAX_LINES: usize = 600;

/// The workspace's source trees (`target/` is skipped).
const SOURCE_DIRS: &[&str] = &[
    "cli",
    "host",
    "plugin-api",
    "plugins",
    "sandbox",
    "tui",
    "examples",
    "xtask",
];

/// Whether `path` (relative to the workspace) is test or bench code: a
/// test file, a bench, or a module declared under `#[cfg(test)]` (and what
/// is inside it).
fn is_test_or_bench(path: &Path) -> bool {
    super::is_test_file(path)
        || path.components().any(|part| part.as_os_str() == "benches")
        || declared_for_tests(&super::root().join(path))
}

/// Whether `file`'s module, or one of its ancestors, is declared under a
/// `#[cfg(...)]` that names `test`, in its parent's file.
fn declared_for_tests(file: &Path) -> bool {
    let mut module = file.with_extension("");
    while let (Some(name), Some(dir)) = (module.file_name(), module.parent()) {
        let name = name.to_string_lossy().into_owned();
        if ["src", "lib", "main"].contains(&name.as_str()) {
            return false;
        }
        // The parent's file: `dir.rs` beside `dir/`, or the crate root.
        let parent_file = [
            dir.with_extension("rs"),
            dir.join("lib.rs"),
            dir.join("main.rs"),
        ]
        .into_iter()
        .find(|candidate| candidate.is_file());
        let Some(parent_file) = parent_file else {
            return false;
        };
        let text = std::fs::read_to_string(&parent_file).unwrap_or_default();
        let declaration = format!(" {name};");
        let lines: Vec<&str> = text.lines().map(str::trim).collect();
        let declared = lines.windows(2).any(|pair| {
            pair[0].starts_with("#[cfg(")
                && pair[0].contains("test")
                && pair[1].contains("mod ")
                && pair[1].ends_with(&declaration)
        });
        if declared {
            return true;
        }
        module = dir.to_owned();
    }
    false
}

#[test]
fn no_source_file_is_over_600_lines() {
    let root = super::root();
    let mut long = Vec::new();
    for dir in SOURCE_DIRS {
        for file in super::rust_files(&root.join(dir)) {
            let relative = file.strip_prefix(&root).unwrap();
            if is_test_or_bench(relative) {
                continue;
            }
            let lines = std::fs::read_to_string(&file).unwrap().lines().count();
            if lines > MAX_LINES {
                long.push(format!("{}: {lines} lines", relative.display()));
            }
        }
    }
    assert!(
        long.is_empty(),
        "split these by responsibility:\n{}",
        long.join("\n")
    );
}

#[test]
fn plugins_forbid_unsafe_code() {
    let root = super::root();
    let mut missing = Vec::new();
    for plugin in std::fs::read_dir(root.join("plugins")).unwrap() {
        let lib = plugin.unwrap().path().join("src/lib.rs");
        let text = std::fs::read_to_string(&lib).unwrap();
        if !text.contains("#![forbid(unsafe_code)]") {
            missing.push(lib.strip_prefix(&root).unwrap().display().to_string());
        }
    }
    assert!(
        missing.is_empty(),
        "no #![forbid(unsafe_code)] in: {}",
        missing.join(", ")
    );
}

#[test]
fn only_the_sandbox_starts_processes() {
    // clippy's `disallowed_methods` (clippy.toml) refuses `Command::new`;
    // the places that may start a process say so with an `allow`.
    let root = super::root();
    let mut allowed_elsewhere = Vec::new();
    for dir in SOURCE_DIRS {
        for file in super::rust_files(&root.join(dir)) {
            let relative = file.strip_prefix(&root).unwrap();
            let may_spawn = relative.starts_with("sandbox")
                || relative.starts_with("xtask")
                || relative.file_name().is_some_and(|name| name == "build.rs")
                || is_test_or_bench(relative);
            if may_spawn {
                continue;
            }
            let text = std::fs::read_to_string(&file).unwrap();
            if text.contains("clippy::disallowed_methods") {
                allowed_elsewhere.push(relative.display().to_string());
            }
        }
    }
    assert!(
        allowed_elsewhere.is_empty(),
        "only wharf-sandbox starts processes; these allow `Command::new`: {}",
        allowed_elsewhere.join(", ")
    );
}
