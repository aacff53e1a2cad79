//! requirements.toml's plugin keys tried as a user who wants a plugin the
//! administrator did not allow would: an artifact swapped after
//! `wharf plugin add` (with plugins.lock edited to match), the same plugin
//! under another name, a native library with `allow_native_plugins =
//! false` whatever its pin, and `wharf plugin add` of each. The
//! requirements come from `$WHARF_REQUIREMENTS` (there is no system file
//! where tests run).

use sha2::Digest as _;

use super::*;
use crate::native::{TEST_MANIFEST, TEST_SO, library, plugin_dir as native_dir};

const GREP_MANIFEST: &str = include_str!("../../../examples/grep/plugin.toml");
const GREP_ARTIFACT: &str = "wharf_example_grep.wasm";

/// The variable naming the file the native test library appends to when
/// it is opened.
const LOADED_MARK: &str = "WHARF_TEST_NATIVE_LOADED";

fn grep_wasm() -> Vec<u8> {
    std::fs::read(env!("WHARF_EXAMPLE_GREP_WASM")).unwrap()
}

fn sha256(bytes: &[u8]) -> String {
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// A requirements file with `text`, in a directory of its own.
struct Requirements {
    dir: TempDir,
}

impl Requirements {
    fn new(text: &str) -> Requirements {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("requirements.toml"), text).unwrap();
        Requirements { dir }
    }

    fn path(&self) -> String {
        display(&self.dir.path().join("requirements.toml"))
    }

    /// wharf with these requirements, and `vars`.
    fn wharf(&self, env: &Env, args: &[&str], vars: &[(&str, &str)]) -> Output {
        let path = self.path();
        let mut all = vec![("WHARF_REQUIREMENTS", path.as_str())];
        all.extend_from_slice(vars);
        env.wharf_with_vars(args, &all)
    }
}

/// A directory to install from: `manifest` and `artifact` under `name`.
fn source(manifest: &str, name: &str, artifact: &[u8]) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("plugin.toml"), manifest).unwrap();
    std::fs::write(dir.path().join(name), artifact).unwrap();
    dir
}

/// The grep example renamed `name` (its feature key too).
fn renamed_grep(name: &str) -> String {
    let mut doc: toml_edit::DocumentMut = GREP_MANIFEST.parse().unwrap();
    doc["name"] = toml_edit::value(name);
    doc["feature"]["key"] = toml_edit::value(name);
    doc.to_string()
}

/// What `wharf plugin add` left in the wharf home: the plugins directory's
/// entries, `lock:NAME` for each plugins.lock entry, and `cache` when a
/// component was compiled into the cache.
fn installed(env: &Env) -> Vec<String> {
    let mut names = plugin_escapes::installed(env);
    if env.wharf_home().join("cache").exists() {
        names.push("cache".to_owned());
    }
    names
}

/// Rewrites plugins.lock's entry for `name` to record `sha256` (what a
/// user who owns the wharf home can do).
fn forge_lock(env: &Env, name: &str, kind: &str, sha256: &str, tools: &[&str]) {
    let path = env.wharf_home().join("plugins.lock");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let mut doc: toml_edit::DocumentMut = text.parse().unwrap();
    let mut entry = toml_edit::Table::new();
    entry["kind"] = toml_edit::value(kind);
    entry["sha256"] = toml_edit::value(sha256);
    let mut list = toml_edit::Array::new();
    for tool in tools {
        list.push(*tool);
    }
    entry["tools"] = toml_edit::value(list);
    if doc.get("plugins").is_none() {
        doc["plugins"] = toml_edit::table();
    }
    doc["plugins"][name] = toml_edit::Item::Table(entry);
    std::fs::write(&path, doc.to_string()).unwrap();
}

/// `wharf tool list`'s row of `tool`, split in words.
fn tool_row(stdout: &str, tool: &str) -> String {
    let prefix = format!("{tool} ");
    stdout
        .lines()
        .find(|line| line.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no {tool} row in:\n{stdout}"))
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[track_caller]
fn assert_blocked(requirements: &Requirements, env: &Env, plugin: &str, reason: &str) {
    // Listed with the reason, wherever plugins and tools are listed.
    let out = requirements.wharf(env, &["tool", "list"], &[]).success();
    let warning = format!("warning: plugin `{plugin}` skipped: {reason}\n");
    assert!(
        out.stderr.contains(&warning),
        "{warning}in:\n{}",
        out.stderr
    );
    assert_eq!(
        tool_row(&out.stdout, "grep"),
        format!("grep {plugin} off {reason}"),
        "{}",
        out.stdout
    );
    let out = requirements.wharf(env, &["plugin", "list"], &[]).success();
    let line = format!("{plugin} — skipped: {reason}\n  tools: grep\n");
    assert!(out.stdout.contains(&line), "{line}in:\n{}", out.stdout);
    let out = requirements
        .wharf(env, &["plugin", "list", "--json"], &[])
        .success();
    let rows: Vec<serde_json::Value> = serde_json::from_str(&out.stdout).unwrap();
    let row = rows.iter().find(|row| row["name"] == plugin).unwrap();
    assert_eq!(
        (&row["skipped"], &row["blocked"]),
        (&serde_json::json!(reason), &serde_json::json!(true))
    );
    // Its tool is not called, and the call says why.
    std::fs::write(env.cwd().join("a.txt"), "needle\n").unwrap();
    let args = ["tool", "call", "grep", "--args", r#"{"pattern":"needle"}"#];
    let out = requirements.wharf(env, &args, &[]).fails_with(1);
    assert_eq!(
        out.stderr.lines().last().unwrap(),
        format!("error: tool `grep` is not available: plugin `{plugin}` was not loaded: {reason}")
    );
}

#[test]
fn a_swapped_artifact_is_blocked_even_with_plugins_lock_edited_to_match() {
    let env = Env::new();
    let wasm = grep_wasm();
    let pinned = sha256(&wasm);
    let requirements = Requirements::new(&format!("[plugins.grep]\nsha256 = \"{pinned}\"\n"));
    let at = requirements.path();
    let source = source(GREP_MANIFEST, GREP_ARTIFACT, &wasm);
    requirements
        .wharf(&env, &["plugin", "add", &display(source.path())], &[])
        .success();

    // Allowed and matching: it loads and works.
    std::fs::write(env.cwd().join("a.txt"), "needle\n").unwrap();
    let args = ["tool", "call", "grep", "--args", r#"{"pattern":"needle"}"#];
    let out = requirements.wharf(&env, &args, &[]).success();
    assert!(
        out.stdout.starts_with("a.txt:1: needle\n"),
        "{}",
        out.stdout
    );
    let out = requirements.wharf(&env, &["tool", "list"], &[]).success();
    assert!(
        tool_row(&out.stdout, "grep").starts_with("grep grep on "),
        "{}",
        out.stdout
    );

    // The artifact swapped for another component that offers `grep`: the
    // same one with a custom section appended (id 0, 5 bytes: the name
    // `junk`), which would load and run as well.
    let other = [wasm.as_slice(), b"\0\x05\x04junk"].concat();
    let other_sha = sha256(&other);
    let artifact = env.wharf_home().join("plugins/grep").join(GREP_ARTIFACT);
    std::fs::write(&artifact, &other).unwrap();
    let reason = format!(
        "blocked by requirements ({at}: plugins.grep.sha256): the artifact is {other_sha}, not \
         the pinned {pinned}"
    );
    assert_blocked(&requirements, &env, "grep", &reason);

    // plugins.lock and the installed manifest's pin are the user's: edited
    // to match the new artifact, they cannot lift the administrator's pin.
    forge_lock(&env, "grep", "wasm", &other_sha, &["grep"]);
    let manifest = env.wharf_home().join("plugins/grep/plugin.toml");
    let mut doc: toml_edit::DocumentMut =
        std::fs::read_to_string(&manifest).unwrap().parse().unwrap();
    doc["sha256"] = toml_edit::value(&other_sha);
    std::fs::write(&manifest, doc.to_string()).unwrap();
    assert_blocked(&requirements, &env, "grep", &reason);
    // Without the requirements, the forged lock is enough to run it.
    let out = env.wharf(&args).success();
    assert!(
        out.stdout.starts_with("a.txt:1: needle\n"),
        "{}",
        out.stdout
    );
}

#[test]
fn the_same_plugin_under_another_name_is_blocked() {
    let env = Env::new();
    let wasm = grep_wasm();
    let sha = sha256(&wasm);
    let requirements = Requirements::new(&format!("[plugins.grep]\nsha256 = \"{sha}\"\n"));
    let at = requirements.path();
    let reason = format!(
        "blocked by requirements ({at}: [plugins]): `finder` is not allowed (only the plugins \
         listed there may load; ask your administrator to add it)"
    );

    // Refused by `wharf plugin add`.
    let manifest = renamed_grep("finder");
    let source = source(&manifest, GREP_ARTIFACT, &wasm);
    let out = requirements
        .wharf(&env, &["plugin", "add", &display(source.path())], &[])
        .fails_with(1);
    assert_eq!(out.stderr, format!("error: {reason}; not installed\n"));
    assert_eq!(installed(&env), Vec::<String>::new());

    // Copied in by hand, with a plugins.lock entry written for it.
    let dir = env.wharf_home().join("plugins/finder");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("plugin.toml"), &manifest).unwrap();
    std::fs::write(dir.join(GREP_ARTIFACT), &wasm).unwrap();
    forge_lock(&env, "finder", "wasm", &sha, &["grep"]);
    assert_blocked(&requirements, &env, "finder", &reason);
}

/// Whatever its pin, with `allow_native_plugins = false` no installed
/// native library is opened: the test library, opened, appends to a file.
#[test]
fn a_native_plugin_is_never_opened_when_natives_are_off() {
    let env = Env::new();
    let source = native_dir(TEST_MANIFEST, TEST_SO);
    let so_sha = sha256(&std::fs::read(library(TEST_SO)).unwrap());
    env.wharf(&["plugin", "add", &display(source.path()), "--yes"])
        .success();
    let marks = tempfile::tempdir().unwrap();
    let mark = marks.path().join("opened");
    let with_mark = [(LOADED_MARK, mark.to_str().unwrap())];

    let requirements = Requirements::new(&format!(
        "allow_native_plugins = false\n[plugins.native-test]\nsha256 = \"{so_sha}\"\n"
    ));
    let at = requirements.path();
    let reason = format!(
        "blocked by requirements ({at}: allow_native_plugins = false): `native-test` is a \
         native plugin, and no installed native plugin may load"
    );
    let out = requirements
        .wharf(
            &env,
            &["--enable", "native_test", "tool", "list"],
            &with_mark,
        )
        .success();
    assert!(
        out.stderr.contains(&format!(
            "warning: plugin `native-test` skipped: {reason}\n"
        )),
        "{}",
        out.stderr
    );
    assert_eq!(
        tool_row(&out.stdout, "context"),
        format!("context native-test off {reason}")
    );
    let out = requirements
        .wharf(&env, &["plugin", "list"], &with_mark)
        .success();
    assert!(
        out.stdout
            .contains(&format!("native-test — skipped: {reason}\n")),
        "{}",
        out.stdout
    );
    let out = requirements
        .wharf(&env, &["tool", "call", "context"], &with_mark)
        .fails_with(1);
    assert!(
        out.stderr.ends_with(&format!("{reason}\n")),
        "{}",
        out.stderr
    );
    assert!(!mark.exists(), "the native library was opened");

    // Without the requirements, the same start opens it (the mark works).
    env.wharf_with_vars(&["tool", "list"], &with_mark).success();
    assert!(mark.exists(), "the native library was not opened");
}

#[test]
fn plugin_add_refuses_what_the_requirements_would_block() {
    let wasm = grep_wasm();
    let sha = sha256(&wasm);
    let so = std::fs::read(library(TEST_SO)).unwrap();
    let so_sha = sha256(&so);
    let zeros = "0".repeat(64);
    let grep = || source(GREP_MANIFEST, GREP_ARTIFACT, &wasm);
    let native = || native_dir(TEST_MANIFEST, TEST_SO);
    let not_listed = |name: &str| {
        format!(
            "`{name}` is not allowed (only the plugins listed there may load; ask your \
             administrator to add it)"
        )
    };
    // (requirements, the plugin's source, the key, the reason after it)
    let cases: Vec<(String, TempDir, &str, String)> = vec![
        (
            format!("[plugins.other]\nsha256 = \"{sha}\"\n"),
            grep(),
            "[plugins]",
            not_listed("grep"),
        ),
        (
            format!("[plugins.grep]\nsha256 = \"{zeros}\"\n"),
            grep(),
            "plugins.grep.sha256",
            format!("the artifact is {sha}, not the pinned {zeros}"),
        ),
        (
            format!("[plugins.grep]\nsha256 = \"{sha}\"\n"),
            native(),
            "[plugins]",
            not_listed("native-test"),
        ),
        (
            format!("allow_native_plugins = false\n[plugins.native-test]\nsha256 = \"{so_sha}\"\n"),
            native(),
            "allow_native_plugins = false",
            "`native-test` is a native plugin, and no installed native plugin may load".to_owned(),
        ),
    ];
    for (text, source, key, reason) in cases {
        let env = Env::new();
        let requirements = Requirements::new(&text);
        let mark = source.path().join("opened");
        let out = requirements
            .wharf(
                &env,
                &["plugin", "add", &display(source.path()), "--yes"],
                &[(LOADED_MARK, mark.to_str().unwrap())],
            )
            .fails_with(1);
        assert_eq!(
            out.stderr,
            format!(
                "error: blocked by requirements ({}: {key}): {reason}; not installed\n",
                requirements.path()
            ),
            "{text}"
        );
        assert_eq!(installed(&env), Vec::<String>::new(), "{text}");
        assert!(!mark.exists(), "{text}: the native library was opened");
    }
}

/// `wharf features list`'s rows of a plugin's feature that the
/// requirements block say why, in the table and in JSON, as `plugin list`
/// does: a native library while natives are off, and an artifact whose
/// plugins.lock digest is not the pinned one.
#[test]
fn features_list_says_why_a_plugins_feature_is_blocked() {
    let wasm = grep_wasm();
    let pinned = sha256(&wasm);
    let so_sha = sha256(&std::fs::read(library(TEST_SO)).unwrap());
    // (the plugin, its feature, the requirements, their reason (`{at}`: the
    // file), how it is installed)
    type Install = fn(&Env, &Requirements);
    let cases: [(&str, &str, String, &str, Install); 2] = [
        (
            "native-test",
            "native_test",
            format!("allow_native_plugins = false\n[plugins.native-test]\nsha256 = \"{so_sha}\"\n"),
            "blocked by requirements ({at}: allow_native_plugins = false): `native-test` is a \
             native plugin, and no installed native plugin may load",
            |env, _| {
                let source = native_dir(TEST_MANIFEST, TEST_SO);
                env.wharf(&["plugin", "add", &display(source.path()), "--yes"])
                    .success();
            },
        ),
        (
            "grep",
            "grep",
            format!("[plugins.grep]\nsha256 = \"{pinned}\"\n"),
            "blocked by requirements ({at}: plugins.grep.sha256): the artifact is {other}, not \
             the pinned {pinned}",
            |env, requirements| {
                let source = source(GREP_MANIFEST, GREP_ARTIFACT, &grep_wasm());
                requirements
                    .wharf(env, &["plugin", "add", &display(source.path())], &[])
                    .success();
                forge_lock(env, "grep", "wasm", &"0".repeat(64), &["grep"]);
            },
        ),
    ];
    for (plugin, feature, text, reason, install) in cases {
        let env = Env::new();
        let requirements = Requirements::new(&text);
        install(&env, &requirements);
        let reason = reason
            .replace("{at}", &requirements.path())
            .replace("{other}", &"0".repeat(64))
            .replace("{pinned}", &pinned);

        let out = requirements
            .wharf(&env, &["features", "list"], &[])
            .success();
        let row = out
            .stdout
            .lines()
            .position(|line| line.starts_with(&format!("{feature} ")))
            .unwrap_or_else(|| panic!("no {feature} row in:\n{}", out.stdout));
        assert_eq!(
            out.stdout.lines().nth(row + 1),
            Some(format!("  plugin {plugin} skipped: {reason}").as_str()),
            "{}",
            out.stdout
        );
        let out = requirements
            .wharf(&env, &["features", "list", "--json"], &[])
            .success();
        let rows: Vec<serde_json::Value> = serde_json::from_str(&out.stdout).unwrap();
        let row = rows.iter().find(|row| row["key"] == feature).unwrap();
        assert_eq!(
            row["blocked"],
            serde_json::json!([{ "plugin": plugin, "reason": reason }]),
            "{row}"
        );
        // Without the requirements, nothing is said.
        let out = env.wharf(&["features", "list", "--json"]).success();
        let rows: Vec<serde_json::Value> = serde_json::from_str(&out.stdout).unwrap();
        let row = rows.iter().find(|row| row["key"] == feature).unwrap();
        assert!(row.get("blocked").is_none(), "{row}");
    }
}
