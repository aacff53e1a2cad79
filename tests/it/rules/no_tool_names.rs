//! The host knows no tool: what it shows or decides about a call comes
//! from the tool (its spec's display hints, its output's command block) and
//! from the registry (the plugin's kind and name), never from a tool's
//! name. So no first-party tool name appears in the host crates' non-test
//! sources, comments included.

use std::path::{Path, PathBuf};

/// The names of wharf's first-party tools, and the prefix of MCP servers'
/// tools. `shell` is a common word: only the quoted string counts.
const TOOL_NAMES: &[&str] = &[
    "apply_patch",
    "view_image",
    "exec_command",
    "write_stdin",
    "unified_exec",
    "\"shell\"",
    "mcp__",
    "update_plan",
];

/// Text that may stay, each with why: removed from a line before it is
/// searched.
const ALLOWED: &[&str] = &[
    // codex's models.json key, read by a serde rename of
    // `ModelInfo::freeform_tool_type`: the catalog's wire format.
    "\"apply_patch_tool_type\"",
];

/// The `src/` directories of the host crates: `host/src` and `host/*/src`.
fn host_sources(root: &Path) -> Vec<PathBuf> {
    let host = root.join("host");
    let mut dirs = vec![host.join("src")];
    for entry in std::fs::read_dir(&host).unwrap() {
        let src = entry.unwrap().path().join("src");
        if src.is_dir() {
            dirs.push(src);
        }
    }
    dirs.sort();
    dirs
}

/// `file:line: name` for every line of `text` that names a tool.
fn tool_names_in(file: &Path, text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = ALLOWED
            .iter()
            .fold(line.to_owned(), |line, allowed| line.replace(allowed, ""));
        for name in TOOL_NAMES {
            if line.contains(name) {
                found.push(format!("{}:{}: {name}", file.display(), index + 1));
            }
        }
    }
    found
}

#[test]
fn the_host_names_no_tool_outside_tests() {
    let root = super::root();
    let mut found = Vec::new();
    for src in host_sources(&root) {
        for file in super::rust_files(&src) {
            if super::is_test_file(file.strip_prefix(&src).unwrap()) {
                continue;
            }
            let text = std::fs::read_to_string(&file).unwrap();
            found.extend(tool_names_in(file.strip_prefix(&root).unwrap(), &text));
        }
    }
    assert!(
        found.is_empty(),
        "the host must not know tools by name (take it from the tool's spec or output, or \
         the plugin's manifest):\n{}",
        found.join("\n")
    );
}

/// The scan itself, on lines that must and must not match.
#[test]
fn the_scan_finds_tool_names_and_only_them() {
    let cases = [
        ("// made with apply_patch", true),
        ("let prefix = \"mcp__\";", true),
        ("match tool { \"shell\" => {} }", true),
        ("ShellType::Disabled", false),
        ("// runs in a shell", false),
        ("fn freeform_tool_type()", false),
        ("#[serde(rename = \"apply_patch_tool_type\")]", false),
        ("apply_patch_tool_type: Freeform", true),
    ];
    for (line, named) in cases {
        let found = tool_names_in(Path::new("x.rs"), line);
        assert_eq!(!found.is_empty(), named, "{line}: {found:?}");
    }
}
