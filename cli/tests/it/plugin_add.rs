//! `wharf plugin add` refuses what loading would skip, before it installs
//! anything (and, where the component's header says it, before it
//! compiles); `--force` and `plugin upgrade` replace an installed plugin.

use std::path::Path;

use sha2::Digest as _;
use tempfile::TempDir;

use crate::Env;

const ECHO_MANIFEST: &str = include_str!("../../../tests/guests/echo/plugin.toml");

fn echo_bytes() -> Vec<u8> {
    std::fs::read(env!("WHARF_TEST_ECHO_WASM")).unwrap()
}

/// The echo guest with every `from` in its bytes replaced by `to` (of the
/// same length), under `manifest`.
fn echo_dir(manifest: &str, from: &str, to: &str) -> (TempDir, String) {
    assert_eq!(from.len(), to.len());
    let mut bytes = echo_bytes();
    let mut found = false;
    let mut at = 0;
    while let Some(offset) = bytes[at..]
        .windows(from.len())
        .position(|w| w == from.as_bytes())
    {
        let start = at + offset;
        bytes[start..start + from.len()].copy_from_slice(to.as_bytes());
        found = true;
        at = start + from.len();
    }
    assert!(found, "`{from}` is not in the echo guest");
    let table: toml::Table = toml::from_str(manifest).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("plugin.toml"), manifest).unwrap();
    std::fs::write(dir.path().join(table["artifact"].as_str().unwrap()), &bytes).unwrap();
    let sha: String = sha2::Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    (dir, sha)
}

/// Every file name under `dir`.
fn names_under(dir: &Path) -> Vec<String> {
    let mut names = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return names;
    };
    for entry in entries.flatten() {
        names.push(entry.file_name().to_string_lossy().into_owned());
        if entry.file_type().unwrap().is_dir() {
            names.extend(names_under(&entry.path()));
        }
    }
    names
}

/// Nothing of the plugin whose artifact has `sha` is left in `env`: no
/// directory, no lock entry, no compile cache entry.
#[track_caller]
fn nothing_installed(env: &Env, sha: &str) {
    let home = env.wharf_home();
    assert!(!home.join("plugins/echo").exists());
    let lock = std::fs::read_to_string(home.join("plugins.lock")).unwrap_or_default();
    assert!(!lock.contains("echo"), "{lock}");
    let names = names_under(&home);
    assert!(
        !names.iter().any(|name| name.starts_with(sha)),
        "left in the cache: {names:?}"
    );
    let listed = env.wharf(&["plugin", "list"]).success();
    assert!(!listed.stdout.contains("echo"), "{}", listed.stdout);
}

#[test]
fn what_loading_would_skip_is_refused_naming_what_and_where() {
    let bad_api = ECHO_MANIFEST.replace("api = \"0.2.0\"", "api = \"9.9.9\"");
    // (manifest, bytes patched from → to, what stderr says)
    let cases = [
        (
            bad_api.as_str(),
            ("echo_text", "echo_text"),
            vec![
                "plugin.toml: `api = \"9.9.9\"` is not a plugin API this wharf supports \
                 (supported: 0.1.0, 0.2.0)",
                "not installed",
            ],
        ),
        (
            ECHO_MANIFEST,
            ("echo_text", "echo text"),
            vec![
                "plugin `echo`: its tool name \"echo text\" is not 1 to 64 letters, digits, \
                 `_` or `-`; rename the tool; not installed",
            ],
        ),
        (
            ECHO_MANIFEST,
            ("echo_textobject", "echo_textnumber"),
            vec![
                "plugin `echo`: tool `echo_text` has an invalid input schema: its `type` is \
                 \"number\", but a tool's arguments are an object",
                "not installed",
            ],
        ),
        (
            ECHO_MANIFEST,
            ("echo_text", "mcp__x_yz"),
            vec!["its tool `mcp__x_yz` starts with `mcp__`, which is reserved"],
        ),
        (
            ECHO_MANIFEST,
            ("wharf:plugin/tool@0.2.0", "wharf:plugin/tool@0.9.0"),
            vec![
                "the component exports wharf:plugin@0.9.0, which this wharf does not support",
                "not installed",
            ],
        ),
        (
            ECHO_MANIFEST,
            ("wasi:cli/environment", "wasi:kvs/environment"),
            vec![
                "the component imports `wasi:kvs/environment",
                "which wharf does not provide to plugins; rebuild against the `plugin` world",
                "not installed",
            ],
        ),
    ];
    for (manifest, (from, to), expected) in cases {
        let env = Env::new();
        let (dir, sha) = echo_dir(manifest, from, to);
        let out = env.wharf(&["plugin", "add", dir.path().to_str().unwrap()]);
        assert_eq!(out.code, 1, "{to}: {}\n{}", out.stdout, out.stderr);
        for text in expected {
            assert!(out.stderr.contains(text), "{to}: {}", out.stderr);
        }
        assert!(!out.stdout.contains("installed"), "{}", out.stdout);
        nothing_installed(&env, &sha);
    }
}

#[test]
fn a_refused_header_is_refused_before_compiling() {
    // The export's version is read from the header: the refusal comes
    // before the compile that would print "compiled".
    let env = Env::new();
    let (dir, _) = echo_dir(
        ECHO_MANIFEST,
        "wharf:plugin/tool@0.2.0",
        "wharf:plugin/tool@0.9.0",
    );
    let out = env.wharf(&["plugin", "add", dir.path().to_str().unwrap()]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(!out.stdout.contains("asks for"), "{}", out.stdout);
}

#[test]
fn force_and_upgrade_replace_an_installed_plugin() {
    let env = Env::new();
    let (first, first_sha) = echo_dir(ECHO_MANIFEST, "echo_text", "echo_text");
    let (second, second_sha) = echo_dir(ECHO_MANIFEST, "Returns its text.", "Returns its TEXT.");
    let (first, second) = (
        first.path().to_str().unwrap(),
        second.path().to_str().unwrap(),
    );
    let out = env.wharf(&["plugin", "upgrade", first]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(out.stderr.contains("nothing to upgrade"), "{}", out.stderr);
    env.wharf(&["plugin", "add", first]).success();
    let lock = || std::fs::read_to_string(env.wharf_home().join("plugins.lock")).unwrap();
    assert!(lock().contains(&first_sha));
    let cached = || names_under(&env.wharf_home());
    assert!(
        cached().iter().any(|n| n.starts_with(&first_sha)),
        "{:?}",
        cached()
    );

    let out = env.wharf(&["plugin", "add", second]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.contains("already installed") && out.stderr.contains("--force"),
        "{}",
        out.stderr
    );
    assert!(lock().contains(&first_sha));

    for (args, sha, old) in [
        (
            vec!["plugin", "add", "--force", second],
            &second_sha,
            &first_sha,
        ),
        (vec!["plugin", "upgrade", first], &first_sha, &second_sha),
    ] {
        let out = env.wharf(&args).success();
        assert!(out.stdout.contains("replaced in"), "{}", out.stdout);
        assert!(
            lock().contains(sha.as_str()) && !lock().contains(old.as_str()),
            "{}",
            lock()
        );
        let names = cached();
        assert!(
            !names.iter().any(|n| n.starts_with(old.as_str())),
            "{names:?}"
        );
        let listed = env
            .wharf(&["--enable", "echo", "tool", "list", "--json"])
            .success();
        assert!(listed.stdout.contains("echo_text"), "{}", listed.stdout);
    }
    let called = env
        .wharf(&[
            "--enable",
            "echo",
            "tool",
            "call",
            "echo_text",
            "--args",
            r#"{"text":"hi"}"#,
        ])
        .success();
    assert_eq!(called.stdout, "hi\n");
}
