//! Tests of the matcher, the walk and the output, run natively
//! (`cargo test -p wharf-example-grep`).

use super::*;

#[test]
fn globs() {
    // (glob, file name, matches)
    let cases = [
        ("*.rs", "main.rs", true),
        ("*.rs", "main.rsx", false),
        ("*.rs", ".rs", true),
        ("?.txt", "a.txt", true),
        ("?.txt", "ab.txt", false),
        ("?.txt", ".txt", false),
        ("a*b*c", "aXXbYYc", true),
        ("a*b*c", "abcbc", true),
        ("a*b*c", "aXXbYY", false),
        ("*a", "banana", true),
        ("*an*", "banana", true),
        ("**.rs", "x.rs", true),
        ("*", "", true),
        ("*", "anything", true),
        ("", "", true),
        ("", "a", false),
        ("Cargo.toml", "Cargo.toml", true),
        ("cargo.toml", "Cargo.toml", false),
        ("*.é", "café.é", true),
        ("caf?", "café", true),
    ];
    for (glob, name, expected) in cases {
        let glob: Vec<char> = glob.chars().collect();
        let name_chars: Vec<char> = name.chars().collect();
        assert_eq!(
            glob_matches(&glob, &name_chars),
            expected,
            "{glob:?} vs {name:?}"
        );
    }
}

#[test]
fn lines() {
    // (pattern, ignore_case, line, matches)
    let cases = [
        ("fn main", false, "pub fn main() {", true),
        ("fn main", false, "fn  main", false),
        ("Needle", false, "a needle", false),
        ("Needle", true, "a NEEDLE", true),
        ("straße", true, "STRASSE", false),
        ("ÉTÉ", true, "un été", true),
        ("a.b", false, "axb", false),
        ("a.b", false, "a.b", true),
        ("(*)", false, "f(*)", true),
    ];
    for (pattern, ignore_case, line, expected) in cases {
        let input = Input {
            pattern: pattern.to_owned(),
            path: default_path(),
            glob: None,
            ignore_case,
            max_results: None,
        };
        let query = Query::new(&input).unwrap();
        assert_eq!(
            query.matches_line(line),
            expected,
            "{pattern:?} (ignore_case: {ignore_case}) in {line:?}"
        );
    }
}

#[test]
fn long_lines_are_cut_at_a_character_boundary() {
    assert_eq!(cut("short"), "short");
    let exactly = "x".repeat(MAX_LINE_CHARS);
    assert_eq!(cut(&exactly), exactly);
    let long = "é".repeat(MAX_LINE_CHARS + 1);
    assert_eq!(cut(&long), format!("{}…", "é".repeat(MAX_LINE_CHARS)));
}

#[test]
fn bad_arguments_are_refused() {
    let cases = [
        (
            r#"{"pattern":""}"#,
            "invalid arguments: `pattern` must not be empty",
        ),
        (
            r#"{"pattern":"x","glob":"src/*.rs"}"#,
            "invalid arguments: `glob` matches file names, not paths: `src/*.rs` contains `/` (put the directory in `path`)",
        ),
    ];
    for (args, expected) in cases {
        let input: Input = Args::new(args).parse().unwrap();
        let err = Query::new(&input).err().unwrap();
        assert_eq!(err.to_string(), expected, "{args}");
    }
    let err = Args::new(r#"{"pattern":"x","regex":true}"#)
        .parse::<Input>()
        .unwrap_err();
    assert!(err.to_string().contains("unknown field `regex`"), "{err}");
}

/// A working directory with something for every rule of the walk.
fn workspace() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let files: &[(&str, &[u8])] = &[
        ("README.md", b"Find the needle.\n"),
        (
            "src/main.rs",
            b"fn main() {\n    println!(\"needle\");\n}\n",
        ),
        (
            "src/lib.rs",
            b"// Needle in a comment\npub fn needle() {}\n",
        ),
        ("src/nested/deep.txt", b"one\r\nneedle two\r\n"),
        (".env", b"NEEDLE=1\nneedle=2\n"),
        (".git/config", b"needle\n"),
        (".cache/data.txt", b"needle\n"),
        ("target/debug/out.txt", b"needle\n"),
        ("node_modules/pkg/index.js", b"needle\n"),
        ("data.bin", b"needle\0\x01\x02"),
        ("latin1.txt", b"caf\xe9 needle\n"),
    ];
    for (path, contents) in files {
        let path = dir.path().join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, contents).unwrap();
    }
    let mut big = b"needle\n".to_vec();
    big.resize(usize::try_from(MAX_FILE_BYTES).unwrap() + 1, b'x');
    fs::write(dir.path().join("big.txt"), big).unwrap();
    let long = format!("needle{}\n", "y".repeat(300));
    fs::write(dir.path().join("src/nested/long.txt"), long).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(dir.path().join("src"), dir.path().join("src-link")).unwrap();
    dir
}

/// Runs the tool's search with `args` in [`workspace`] and returns what
/// the model would read.
fn grep(args: &str) -> String {
    let dir = workspace();
    let input: Input = Args::new(args).parse().unwrap();
    let query = Query::new(&input).unwrap();
    let root = dir.path().join(&input.path);
    match search(dir.path(), &root, &query) {
        Ok(report) if report.matches.is_empty() => report.no_matches(&input.pattern, &input.path),
        Ok(report) => report.text(&query),
        Err(err) => format!("error: {}", err.kind()),
    }
}

#[test]
fn searches() {
    let long = format!("src/nested/long.txt:1: needle{}…", "y".repeat(194));
    // (arguments, what the model reads)
    let cases: &[(&str, &str)] = &[
        (
            r#"{"pattern":"needle"}"#,
            &format!(
                "\
.env:2: needle=2
README.md:1: Find the needle.
latin1.txt:1: caf\u{fffd} needle
src/lib.rs:2: pub fn needle() {{}}
src/main.rs:2:     println!(\"needle\");
src/nested/deep.txt:2: needle two
{long}
7 matches in 7 files; skipped 1 binary file, 1 file over 1 MiB"
            ),
        ),
        (
            r#"{"pattern":"NEEDLE","ignore_case":true,"glob":"*.rs"}"#,
            "\
src/lib.rs:1: // Needle in a comment
src/lib.rs:2: pub fn needle() {}
src/main.rs:2:     println!(\"needle\");
3 matches in 2 files",
        ),
        (
            r#"{"pattern":"needle","path":"./src","glob":"*.txt"}"#,
            &format!("src/nested/deep.txt:2: needle two\n{long}\n2 matches in 2 files"),
        ),
        (
            r#"{"pattern":"needle","max_results":2}"#,
            "\
.env:2: needle=2
README.md:1: Find the needle.
2 matches in 2 files, stopped at max_results = 2 (narrow the search or raise max_results); skipped 1 binary file, 1 file over 1 MiB",
        ),
        (
            r#"{"pattern":"needle","max_results":7}"#,
            &format!(
                "\
.env:2: needle=2
README.md:1: Find the needle.
latin1.txt:1: caf\u{fffd} needle
src/lib.rs:2: pub fn needle() {{}}
src/main.rs:2:     println!(\"needle\");
src/nested/deep.txt:2: needle two
{long}
7 matches in 7 files; skipped 1 binary file, 1 file over 1 MiB"
            ),
        ),
        // Named explicitly, skipped directories and files are searched.
        (
            r#"{"pattern":"needle","path":".git"}"#,
            ".git/config:1: needle\n1 match in 1 file",
        ),
        (
            r#"{"pattern":"needle","path":"target"}"#,
            "target/debug/out.txt:1: needle\n1 match in 1 file",
        ),
        (
            r#"{"pattern":"needle","path":"src/main.rs","glob":"*.md"}"#,
            "src/main.rs:2:     println!(\"needle\");\n1 match in 1 file",
        ),
        (
            r#"{"pattern":"needle","path":"big.txt"}"#,
            "no matches for \"needle\" in big.txt (0 files searched, skipped 1 file over 1 MiB)",
        ),
        (
            r#"{"pattern":"haystack"}"#,
            "no matches for \"haystack\" in . (7 files searched, skipped 1 binary file, 1 file over 1 MiB)",
        ),
        (
            r#"{"pattern":"needle","glob":"*.none"}"#,
            "no matches for \"needle\" in . (0 files searched)",
        ),
        (r#"{"pattern":"needle","path":"missing"}"#, "error: entity not found"),
    ];
    for (args, expected) in cases {
        assert_eq!(grep(args), *expected, "{args}");
    }
}

#[test]
fn paths_are_shown_relative_to_the_working_directory() {
    let cwd = Path::new("/work/project");
    let cases = [
        ("/work/project/src/a.rs", "src/a.rs"),
        ("/work/project/./src/./a.rs", "src/a.rs"),
        ("/work/project/.", "."),
        ("/work/other/a.rs", "/work/other/a.rs"),
    ];
    for (path, expected) in cases {
        assert_eq!(display(cwd, Path::new(path)), expected, "{path}");
    }
}

#[test]
fn the_json_block_has_every_match() {
    let dir = workspace();
    let input: Input = Args::new(r#"{"pattern":"needle","path":"src","glob":"*.rs"}"#)
        .parse()
        .unwrap();
    let query = Query::new(&input).unwrap();
    let report = search(dir.path(), &dir.path().join("src"), &query).unwrap();
    assert_eq!(
        serde_json::to_value(&report).unwrap(),
        serde_json::json!({
            "matches": [
                { "path": "src/lib.rs", "line": 2, "text": "pub fn needle() {}" },
                { "path": "src/main.rs", "line": 2, "text": "    println!(\"needle\");" },
            ],
            "files": 2,
            "searched_files": 2,
            "truncated": false,
            "skipped": { "binary": 0, "too_large": 0, "unreadable": 0 },
        })
    );
}
