//! examples/python-word-count (componentize-py) and examples/js-word-count
//! (componentize-js), the plugins written in other languages, the way a
//! user meets them: installed with `wharf plugin add`, called with
//! `wharf tool call`, beside a Rust plugin.
//!
//! Their components are built by `cargo xtask test` (or `cargo xtask
//! language-examples`) into `target/language-examples/`, with tools from
//! PyPI and npm that a plain `cargo build` does not install.

use super::*;

/// One example: its directory under `examples/` (and under
/// `target/language-examples/`), its tool, and the sources its component
/// is built from.
struct Example {
    dir: &'static str,
    tool: &'static str,
    sources: &'static [&'static str],
}

const EXAMPLES: &[Example] = &[
    Example {
        dir: "python-word-count",
        tool: "py_word_count",
        sources: &["app.py", "requirements.txt"],
    },
    Example {
        dir: "js-word-count",
        tool: "js_word_count",
        sources: &["word-count.js", "package-lock.json"],
    },
];

/// The component's file name, as both manifests' `artifact` says.
const ARTIFACT: &str = "word_count.wasm";

fn checkout() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Where xtask builds the examples: below `$CARGO_TARGET_DIR` when set, as
/// `cli/build.rs` and xtask place their outputs.
fn built_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| checkout().join("target"), PathBuf::from)
        .join("language-examples")
}

fn modified(path: &Path) -> std::time::SystemTime {
    std::fs::metadata(path).unwrap().modified().unwrap()
}

/// The example's component as xtask built it. Missing or older than its
/// sources: the test fails saying how to build it, rather than skip.
fn component(example: &Example) -> PathBuf {
    let path = built_dir().join(example.dir).join(ARTIFACT);
    assert!(
        path.is_file(),
        "{} is missing: the Python and JS example plugins are built by `cargo xtask test` \
         (or `cargo xtask language-examples`, then run the tests again)",
        path.display()
    );
    let source_dir = checkout().join("examples").join(example.dir);
    for source in example.sources {
        let source = source_dir.join(source);
        assert!(
            modified(&source) <= modified(&path),
            "{} is older than {}: run `cargo xtask language-examples` to build it again",
            path.display(),
            source.display()
        );
    }
    path
}

/// A directory laid out as the example's README says: its checked-in
/// plugin.toml, and the built component beside it.
fn plugin_dir(example: &Example) -> TempDir {
    let source = checkout().join("examples").join(example.dir);
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(source.join("plugin.toml"), dir.path().join("plugin.toml")).unwrap();
    std::fs::copy(component(example), dir.path().join(ARTIFACT)).unwrap();
    dir
}

/// examples/grep, the Rust example plugin, laid out the same way.
fn grep_dir() -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        checkout().join("examples/grep/plugin.toml"),
        dir.path().join("plugin.toml"),
    )
    .unwrap();
    std::fs::copy(
        env!("WHARF_EXAMPLE_GREP_WASM"),
        dir.path().join("wharf_example_grep.wasm"),
    )
    .unwrap();
    dir
}

fn call(env: &Env, tool: &str, path: &str) -> Output {
    let args = serde_json::json!({ "path": path }).to_string();
    env.wharf(&["tool", "call", tool, "--args", &args])
}

/// Both examples and the Rust grep installed in one home: each example
/// counts the words of files in the working directory and refuses the ones
/// outside its read grant, and grep still answers.
#[test]
fn python_and_js_plugins_count_words_beside_a_rust_plugin() {
    // Fail on a missing build before the slow installs.
    for example in EXAMPLES {
        component(example);
    }
    let env = Env::new();
    let sources: Vec<TempDir> = EXAMPLES.iter().map(plugin_dir).collect();
    let grep = grep_dir();
    for dir in sources.iter().chain([&grep]) {
        env.wharf(&["plugin", "add", &display(dir.path())])
            .success();
    }

    // The files in the working directory, the default read-only sandbox's
    // read grant.
    let files: &[(&str, &str)] = &[
        ("notes.txt", "one two\n\tthree  four\nfive"),
        ("one.txt", "word\n"),
        ("empty.txt", ""),
        ("sub/mixed.txt", "grüße, 世界\n\n \r\n"),
    ];
    for (file, contents) in files {
        let path = env.cwd().join(file);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }
    // Outside the grant: beside the working directory, and in the home,
    // with a symlink to it from inside.
    std::fs::write(env.dir.path().join("secret.txt"), "beside the workspace").unwrap();
    let home_secret = env.home().join("secret.txt");
    std::fs::write(&home_secret, "in the home").unwrap();
    std::os::unix::fs::symlink(&home_secret, env.cwd().join("link.txt")).unwrap();
    let outside = display(&home_secret);
    let cwd = display(&env.cwd());
    let absolute = format!("{cwd}/notes.txt");

    // (path argument, Ok(what both tools answer) or Err(start of the error
    // after `error: `))
    let cases: &[(&str, Result<&str, String>)] = &[
        ("notes.txt", Ok("3 lines, 5 words")),
        (&absolute, Ok("3 lines, 5 words")),
        ("one.txt", Ok("1 line, 1 word")),
        ("empty.txt", Ok("0 lines, 0 words")),
        ("sub/mixed.txt", Ok("3 lines, 2 words")),
        (
            &outside,
            Err(format!(
                "denied: {outside} is outside the plugin's read grant"
            )),
        ),
        (
            "../secret.txt",
            Err(format!("denied: {cwd}/../secret.txt: ")),
        ),
        ("link.txt", Err(format!("denied: {cwd}/link.txt: "))),
        ("missing.txt", Err("missing.txt: no such file".to_owned())),
    ];

    // One thread per example: each call is a wharf process of its own.
    std::thread::scope(|scope| {
        for example in EXAMPLES {
            let env = &env;
            scope.spawn(move || {
                for (path, expected) in cases {
                    let out = call(env, example.tool, path);
                    let tool = example.tool;
                    match expected {
                        Ok(counts) => {
                            let out = out.success();
                            assert_eq!(out.stdout, format!("{counts}\n"), "{tool} {path}");
                        }
                        Err(error) => {
                            let out = out.fails_with(1);
                            let prefix = format!("error: {error}");
                            assert!(
                                out.stderr.starts_with(&prefix),
                                "{tool} {path}: expected {prefix:?}, got:\n{}",
                                out.stderr
                            );
                            assert!(!out.stderr.contains("in the home"), "{}", out.stderr);
                            assert!(!out.stderr.contains("beside the"), "{}", out.stderr);
                        }
                    }
                }
            });
        }
    });

    // The Rust plugin works with both heavy plugins installed.
    let out = env
        .wharf(&["tool", "call", "grep", "--args", r#"{"pattern":"three"}"#])
        .success();
    assert!(
        out.stdout.starts_with("notes.txt:2: \tthree  four\n"),
        "{}",
        out.stdout
    );
    let out = env.wharf(&["tool", "list"]).success();
    for tool in EXAMPLES.iter().map(|example| example.tool).chain(["grep"]) {
        assert!(out.stdout.contains(tool), "{tool}:\n{}", out.stdout);
    }
}
