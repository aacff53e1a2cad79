//! examples/grep, the third-party example plugin, the way a user meets it:
//! a directory with its plugin.toml and built component, installed with
//! `wharf plugin add`, called with `wharf tool call`, removed with
//! `wharf plugin remove`.

use sha2::Digest as _;

use super::*;

/// The example's manifest, as checked in.
const MANIFEST: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../examples/grep/plugin.toml"
));

/// The component built from examples/grep.
fn component() -> &'static Path {
    Path::new(env!("WHARF_EXAMPLE_GREP_WASM"))
}

/// A directory laid out as the example's README says: plugin.toml, and the
/// component beside it under the manifest's `artifact` name.
fn plugin_dir() -> TempDir {
    let manifest: toml::Table = toml::from_str(MANIFEST).unwrap();
    let artifact = manifest["artifact"].as_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("plugin.toml"), MANIFEST).unwrap();
    std::fs::copy(component(), dir.path().join(artifact)).unwrap();
    dir
}

fn sha256_of(path: &Path) -> String {
    let digest = sha2::Sha256::digest(std::fs::read(path).unwrap());
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Installs the example into `env`.
fn install(env: &Env) {
    let source = plugin_dir();
    env.wharf(&["plugin", "add", &display(source.path())])
        .success();
}

fn grep(env: &Env, args: &str) -> Output {
    env.wharf(&["tool", "call", "grep", "--args", args])
}

/// Splits what `wharf tool call grep` printed into the text block and the
/// JSON block (the last line).
fn text_and_json(stdout: &str) -> (&str, serde_json::Value) {
    let body = stdout.strip_suffix('\n').unwrap();
    let (text, json) = body.rsplit_once('\n').unwrap();
    (text, serde_json::from_str(json).unwrap())
}

#[test]
fn add_checks_the_pin_and_remove_uninstalls() {
    let env = Env::new();
    let source = plugin_dir();
    let source_arg = display(source.path());
    let sha = sha256_of(component());
    let plugins = env.wharf_home().join("plugins");
    let installed = plugins.join("grep");

    // A pin the artifact does not have: refused before anything is copied.
    let wrong = "0".repeat(64);
    let out = env
        .wharf(&["plugin", "add", &source_arg, "--sha256", &wrong])
        .fails_with(1);
    assert_eq!(
        out.stderr,
        format!("error: sha256 mismatch: expected {wrong}, the artifact is {sha}; not installed\n")
    );
    let leftovers: Vec<_> = std::fs::read_dir(&plugins)
        .map(|entries| entries.map(|entry| entry.unwrap().file_name()).collect())
        .unwrap_or_default();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // The right pin: the request is shown, then the plugin is installed
    // with the digest recorded in its manifest.
    let out = env
        .wharf(&["plugin", "add", &source_arg, "--sha256", &sha])
        .success();
    let (shown, last) = out.stdout.trim_end().rsplit_once('\n').unwrap();
    assert_eq!(
        shown,
        format!(
            "\
grep 0.1.0 (api 0.2.0), sha256 {sha}
asks for:
  reads: the workspace
  writes: nothing
  network: none
  environment: none
  runs commands: no
tools: grep"
        )
    );
    let prefix = format!("installed in {} (compiled in ", display(&installed));
    assert!(last.starts_with(&prefix), "{last}");
    let manifest: toml::Table =
        toml::from_str(&std::fs::read_to_string(installed.join("plugin.toml")).unwrap()).unwrap();
    assert_eq!(manifest["sha256"].as_str(), Some(sha.as_str()));
    assert_eq!(manifest["name"].as_str(), Some("grep"));
    let artifact = installed.join(manifest["artifact"].as_str().unwrap());
    assert_eq!(sha256_of(&artifact), sha);

    // Installed once only.
    let out = env.wharf(&["plugin", "add", &source_arg]).fails_with(1);
    assert_eq!(
        out.stderr,
        format!(
            "error: plugin `grep` is already installed in {}; replace it with `wharf plugin add --force` (or `wharf plugin upgrade DIR`), or remove it first (`wharf plugin remove grep`)\n",
            display(&installed)
        )
    );

    // Listed as a tool, on by default, and granted the working directory
    // only (the default sandbox is read-only).
    let out = env.wharf(&["tool", "list"]).success();
    let row = out
        .stdout
        .lines()
        .find(|line| line.starts_with("grep "))
        .unwrap_or_else(|| panic!("no grep row in:\n{}", out.stdout));
    let words: Vec<&str> = row.split_whitespace().take(3).collect();
    assert_eq!(words, ["grep", "grep", "on"], "{row}");
    assert!(
        row.ends_with("  Find the lines that contain a text, in a file or below a directory."),
        "{row}"
    );
    let out = env.wharf(&["plugin", "list"]).success();
    let expected = format!(
        "\
grep 0.1.0 (wasm, api 0.2.0) — feature grep on
  tools: grep
  reads: {}
  writes (checked file changes): nothing
",
        display(&env.cwd())
    );
    assert!(out.stdout.contains(&expected), "{}", out.stdout);

    // Removed: the directory goes, and so does the tool.
    let out = env.wharf(&["plugin", "remove", "grep"]).success();
    assert_eq!(
        out.stdout,
        format!("removed grep from {}\n", display(&installed))
    );
    assert!(!installed.exists());
    let out = grep(&env, r#"{"pattern":"needle"}"#).fails_with(2);
    assert!(
        out.stderr
            .starts_with("error: unknown tool `grep`; known: "),
        "{}",
        out.stderr
    );
}

#[test]
fn finds_lines_in_the_workspace_and_nowhere_else() {
    let env = Env::new();
    install(&env);
    let files: &[(&str, &[u8])] = &[
        ("notes.txt", b"a needle here\nnothing\nNEEDLE upper\n"),
        ("src/main.rs", b"fn main() {\n    let needle = 1;\n}\n"),
        ("target/out.txt", b"needle in target\n"),
        (".hidden/x.txt", b"needle hidden\n"),
        ("data.bin", b"needle\0binary"),
    ];
    for (path, contents) in files {
        let path = env.cwd().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }
    // Beside the working directory, so outside the workspace.
    let outside_dir = env.cwd().parent().unwrap().join("outside");
    std::fs::create_dir_all(&outside_dir).unwrap();
    let outside = outside_dir.join("secret.txt");
    std::fs::write(&outside, "needle outside\n").unwrap();

    let out = grep(&env, r#"{"pattern":"needle"}"#).success();
    let (text, json) = text_and_json(&out.stdout);
    assert_eq!(
        text,
        "\
notes.txt:1: a needle here
src/main.rs:2:     let needle = 1;
2 matches in 2 files; skipped 1 binary file"
    );
    assert_eq!(
        json,
        serde_json::json!({
            "matches": [
                { "path": "notes.txt", "line": 1, "text": "a needle here" },
                { "path": "src/main.rs", "line": 2, "text": "    let needle = 1;" },
            ],
            "files": 2,
            "searched_files": 2,
            "truncated": false,
            "skipped": { "binary": 1, "too_large": 0, "unreadable": 0 },
        })
    );

    // (arguments, text block) for calls that find something.
    let cases = [
        (
            r#"{"pattern":"needle","ignore_case":true,"glob":"*.txt"}"#,
            "notes.txt:1: a needle here\nnotes.txt:3: NEEDLE upper\n2 matches in 1 file",
        ),
        (
            r#"{"pattern":"needle","path":".hidden"}"#,
            ".hidden/x.txt:1: needle hidden\n1 match in 1 file",
        ),
        (
            r#"{"pattern":"needle","max_results":1}"#,
            "notes.txt:1: a needle here\n1 match in 1 file, stopped at max_results = 1 \
             (narrow the search or raise max_results); skipped 1 binary file",
        ),
    ];
    for (args, expected) in cases {
        let out = grep(&env, args).success();
        assert_eq!(text_and_json(&out.stdout).0, expected, "{args}");
    }

    let out = grep(&env, r#"{"pattern":"haystack"}"#).success();
    assert_eq!(
        out.stdout,
        "no matches for \"haystack\" in . (2 files searched, skipped 1 binary file)\n"
    );

    // Outside the workspace there is nothing to open: an error the model
    // can read (exit 1, on stdout like any output), not a crash.
    let cwd = display(&env.cwd());
    let outside_arg = display(&outside);
    let escape_args = serde_json::json!({ "pattern": "needle", "path": outside_arg }).to_string();
    let cases = [
        (
            r#"{"pattern":"needle","path":"../"}"#.to_owned(),
            format!(
                "cannot search `../` ({cwd}/../): it is outside what grep may read; grep reads \
                 only the workspace, and `path` is relative to the working directory\n"
            ),
        ),
        (
            escape_args.clone(),
            format!(
                "cannot search `{outside_arg}` ({outside_arg}): it does not exist, or is outside \
                 what grep may read; grep reads only the workspace, and `path` is relative to \
                 the working directory\n"
            ),
        ),
    ];
    for (args, expected) in &cases {
        let out = grep(&env, args);
        assert_eq!(
            (out.code, out.stdout.as_str(), out.stderr.as_str()),
            (1, expected.as_str(), ""),
            "{args}"
        );
    }

    // The grant follows the sandbox: in workspace-write mode a writable root
    // is part of the workspace, so the same file is found there.
    let roots = format!(
        "sandbox_workspace_write.writable_roots=[{:?}]",
        display(&outside_dir)
    );
    let out = env
        .wharf(&[
            "-s",
            "workspace-write",
            "-c",
            &roots,
            "tool",
            "call",
            "grep",
            "--args",
            &escape_args,
        ])
        .success();
    assert_eq!(
        text_and_json(&out.stdout).0,
        format!("{outside_arg}:1: needle outside\n1 match in 1 file")
    );

    // The schema's bounds are checked before the plugin runs.
    let out = grep(&env, r#"{"pattern":"needle","max_results":5000}"#).fails_with(2);
    assert!(
        out.stderr
            .starts_with("error: invalid arguments for `grep`: /max_results: 5000 is greater"),
        "{}",
        out.stderr
    );
}
