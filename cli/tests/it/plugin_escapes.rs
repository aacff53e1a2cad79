//! Plugin management tried as an attacker would: a plugin taking another
//! plugin's or an MCP server's tool name, `wharf plugin remove` given a
//! path, oversized manifests and artifacts, plugins whose feature is off
//! still being compiled or opened, a native library re-enabled by editing
//! its own pin, and a native library opened before the user agreed.
//!
//! Tool names come from a plugin's code, not its manifest: the tests rename
//! a tool of the hostile test component by replacing its name in the
//! component's bytes with another of the same length.

use sha2::Digest as _;

use super::*;
use crate::native::{TEST_MANIFEST, TEST_SO, library, plugin_dir};

const HOSTILE_MANIFEST: &str = include_str!("../../../tests/guests/hostile/plugin.toml");
const HOSTILE_ARTIFACT: &str = "wharf_test_guest_hostile.wasm";
const GREP_MANIFEST: &str = include_str!("../../../examples/grep/plugin.toml");
const GREP_ARTIFACT: &str = "wharf_example_grep.wasm";

/// The variable naming the file the native test library appends to when
/// it is opened.
const LOADED_MARK: &str = "WHARF_TEST_NATIVE_LOADED";

fn hostile_wasm() -> Vec<u8> {
    std::fs::read(env!("WHARF_TEST_HOSTILE_WASM")).unwrap()
}

/// The hostile component with its tool `from` renamed `to`.
fn renamed(from: &str, to: &str) -> Vec<u8> {
    assert_eq!(from.len(), to.len(), "{from} → {to}");
    let mut bytes = hostile_wasm();
    let mut replaced = 0;
    let mut at = 0;
    while let Some(offset) = bytes[at..]
        .windows(from.len())
        .position(|window| window == from.as_bytes())
    {
        let start = at + offset;
        bytes[start..start + to.len()].copy_from_slice(to.as_bytes());
        replaced += 1;
        at = start + to.len();
    }
    assert!(replaced > 0, "`{from}` is not in the hostile component");
    bytes
}

/// A directory to install from: `manifest` and `artifact` under `name`.
fn source(manifest: &str, name: &str, artifact: &[u8]) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("plugin.toml"), manifest).unwrap();
    std::fs::write(dir.path().join(name), artifact).unwrap();
    dir
}

/// Puts a plugin into `$WHARF_HOME/plugins/<dir>/` by hand (no lock entry).
fn copy_in(env: &Env, dir: &str, manifest: &str, name: &str, artifact: &[u8]) -> PathBuf {
    let dir = env.wharf_home().join("plugins").join(dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("plugin.toml"), manifest).unwrap();
    std::fs::write(dir.join(name), artifact).unwrap();
    dir
}

fn add(env: &Env, source: &TempDir, extra: &[&str]) -> Output {
    let mut args = vec!["plugin", "add"];
    let path = display(source.path());
    args.push(&path);
    args.extend(extra);
    env.wharf(&args)
}

/// What the plugins directory and the lock hold: nothing half-installed
/// may stay after a refusal.
pub(crate) fn installed(env: &Env) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(env.wharf_home().join("plugins"))
        .map(|entries| {
            entries
                .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    if let Ok(lock) = std::fs::read_to_string(env.wharf_home().join("plugins.lock")) {
        let lock: toml::Table = toml::from_str(&lock).unwrap();
        if let Some(plugins) = lock.get("plugins").and_then(|p| p.as_table()) {
            names.extend(plugins.keys().map(|name| format!("lock:{name}")));
        }
    }
    names
}

#[track_caller]
fn refused(output: &Output, message: &str) {
    assert_eq!(output.code, 1, "{}", output.stderr);
    assert!(
        output.stderr.contains(message),
        "expected {message:?} in:\n{}",
        output.stderr
    );
}

/// A warning line `plugin `name` skipped: …` containing `reason`.
#[track_caller]
fn skipped(stderr: &str, name: &str, reason: &str) {
    let prefix = format!("warning: plugin `{name}` skipped: ");
    assert!(
        stderr
            .lines()
            .any(|line| line.starts_with(&prefix) && line.contains(reason)),
        "expected {prefix}…{reason}… in:\n{stderr}"
    );
}

#[test]
fn a_plugin_cannot_take_an_mcp_servers_tool() {
    let env = Env::new();
    let wasm = renamed("propose_write", "mcp__ab__echo");
    let reserved = "its tool `mcp__ab__echo` starts with `mcp__`, which is reserved for the tools \
                    of MCP servers";
    let out = add(
        &env,
        &source(HOSTILE_MANIFEST, HOSTILE_ARTIFACT, &wasm),
        &[],
    );
    refused(&out, reserved);
    assert_eq!(installed(&env), Vec::<String>::new());

    // Copied in by hand and enabled, beside the MCP server `ab`, whose
    // `echo` is `mcp__ab__echo`: the server's tool is the one called.
    copy_in(&env, "hostile", HOSTILE_MANIFEST, HOSTILE_ARTIFACT, &wasm);
    env.write_config(&format!(
        "[mcp_servers.ab]\ncommand = \"node\"\nargs = [{:?}, \"stdio\"]\n",
        display(&wharf_tests::mcp_servers::everything())
    ));
    let out = env
        .wharf(&[
            "--enable",
            "hostile",
            "tool",
            "call",
            "mcp__ab__echo",
            "--args",
            r#"{"message":"from the server"}"#,
        ])
        .success();
    assert_eq!(out.stdout, "Echo: from the server\n");
    skipped(&out.stderr, "hostile", reserved);
}

#[test]
fn plugin_add_refuses_tool_names_another_plugin_holds() {
    let env = Env::new();
    // A first-party tool.
    let view_image = renamed("write_file", "view_image");
    let out = add(
        &env,
        &source(HOSTILE_MANIFEST, HOSTILE_ARTIFACT, &view_image),
        &[],
    );
    refused(
        &out,
        "plugin `hostile`: its tool `view_image` is already offered by the first-party plugin \
         `view-image`; not installed",
    );
    assert_eq!(installed(&env), Vec::<String>::new());

    // Another installed plugin's tool.
    let grep = std::fs::read(env!("WHARF_EXAMPLE_GREP_WASM")).unwrap();
    add(&env, &source(GREP_MANIFEST, GREP_ARTIFACT, &grep), &[]).success();
    let stolen = renamed("spin", "grep");
    let out = add(
        &env,
        &source(HOSTILE_MANIFEST, HOSTILE_ARTIFACT, &stolen),
        &[],
    );
    refused(
        &out,
        "plugin `hostile`: its tool `grep` is already offered by the installed plugin `grep`; \
         not installed",
    );
    assert_eq!(installed(&env), ["grep", "lock:grep"]);

    // Copied in by hand and enabled: neither installed plugin gets the
    // name by loading first; the first-party one keeps its own.
    copy_in(&env, "hostile", HOSTILE_MANIFEST, HOSTILE_ARTIFACT, &stolen);
    let out = env
        .wharf(&["--enable", "hostile", "tool", "list"])
        .success();
    skipped(
        &out.stderr,
        "hostile",
        "its tool `grep` is also offered by the installed plugin `grep`",
    );
    skipped(
        &out.stderr,
        "grep",
        "its tool `grep` is also offered by the installed plugin `hostile`",
    );
    assert!(
        !out.stdout.lines().any(|line| line.starts_with("grep ")),
        "{}",
        out.stdout
    );
    copy_in(
        &env,
        "hostile",
        HOSTILE_MANIFEST,
        HOSTILE_ARTIFACT,
        &view_image,
    );
    let out = env
        .wharf(&["--enable", "hostile", "tool", "list"])
        .success();
    skipped(
        &out.stderr,
        "hostile",
        "its tool `view_image` is already offered by `view-image`",
    );
    let row = out
        .stdout
        .lines()
        .find(|line| line.starts_with("view_image "))
        .unwrap();
    assert_eq!(
        row.split_whitespace().take(2).collect::<Vec<_>>(),
        ["view_image", "view-image"]
    );
}

#[test]
fn plugin_remove_takes_a_name_and_never_follows_a_link_out() {
    let env = Env::new();
    let plugins = env.wharf_home().join("plugins");
    std::fs::create_dir_all(&plugins).unwrap();
    // A directory outside that looks like a plugin, reached by `..`, by an
    // absolute path, and through a link in the plugins directory.
    let victim = env.wharf_home().parent().unwrap().join("victim");
    std::fs::create_dir_all(&victim).unwrap();
    std::fs::write(victim.join("plugin.toml"), "name = \"victim\"\n").unwrap();
    std::fs::write(victim.join("precious.txt"), "keep me").unwrap();
    std::os::unix::fs::symlink(&victim, plugins.join("linked")).unwrap();
    let absolute = display(&victim);
    for name in ["../../victim", &absolute, "linked/", "linked/.", "."] {
        let out = env.wharf(&["plugin", "remove", name]).fails_with(2);
        assert!(
            out.stderr
                .contains("`wharf plugin remove` takes a plugin's name"),
            "{name}: {}",
            out.stderr
        );
        assert!(victim.join("precious.txt").is_file(), "{name}");
    }
    // By its name, the link goes and what it points to stays.
    let out = env.wharf(&["plugin", "remove", "linked"]).success();
    assert!(
        out.stdout.starts_with("removed linked: the link "),
        "{}",
        out.stdout
    );
    assert!(plugins.join("linked").symlink_metadata().is_err());
    assert_eq!(
        std::fs::read_to_string(victim.join("precious.txt")).unwrap(),
        "keep me"
    );
    // A directory without a plugin.toml is not a plugin's.
    std::fs::create_dir_all(plugins.join("stray")).unwrap();
    let out = env.wharf(&["plugin", "remove", "stray"]).fails_with(1);
    assert!(
        out.stderr
            .contains("(it holds no plugin.toml); not removed"),
        "{}",
        out.stderr
    );
    assert!(plugins.join("stray").is_dir());
}

#[test]
fn oversized_manifests_and_artifacts_are_refused_with_the_limit() {
    let env = Env::new();
    let big_manifest = |name: &str| {
        format!(
            "{}\n# {}\n",
            HOSTILE_MANIFEST.replace("\"hostile\"", &format!("\"{name}\"")),
            "x".repeat(65 * 1024)
        )
    };
    let manifest_limit = "over the limit of 64 KiB for a plugin.toml; not read";
    let artifact_limit = "68157440 bytes is over the limit of 64 MiB for a plugin's artifact; \
                          not read";
    // 65 MiB that take no room.
    let sparse = |path: &Path| {
        std::fs::File::create(path)
            .unwrap()
            .set_len(65 * 1024 * 1024)
            .unwrap();
    };

    let fat = source(&big_manifest("hostile"), HOSTILE_ARTIFACT, &hostile_wasm());
    refused(&add(&env, &fat, &[]), manifest_limit);
    let big = source(HOSTILE_MANIFEST, HOSTILE_ARTIFACT, b"");
    sparse(&big.path().join(HOSTILE_ARTIFACT));
    refused(&add(&env, &big, &[]), artifact_limit);
    assert_eq!(installed(&env), Vec::<String>::new());

    // At every start, for plugins copied in by hand.
    copy_in(
        &env,
        "fat",
        &big_manifest("fat"),
        HOSTILE_ARTIFACT,
        &hostile_wasm(),
    );
    let dir = copy_in(&env, "hostile", HOSTILE_MANIFEST, HOSTILE_ARTIFACT, b"");
    sparse(&dir.join(HOSTILE_ARTIFACT));
    let out = env
        .wharf(&["--enable", "hostile", "tool", "list"])
        .success();
    skipped(&out.stderr, "fat", manifest_limit);
    skipped(&out.stderr, "hostile", artifact_limit);
}

#[test]
fn a_plugin_whose_feature_is_off_is_not_loaded() {
    let env = Env::new();
    let grep = std::fs::read(env!("WHARF_EXAMPLE_GREP_WASM")).unwrap();
    let sha: String = sha2::Sha256::digest(&grep)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    add(&env, &source(GREP_MANIFEST, GREP_ARTIFACT, &grep), &[]).success();
    // A broken plugin copied in by hand: off by default, so never read.
    copy_in(
        &env,
        "garbage",
        "name = \"garbage\"\nversion = \"1\"\napi = \"0.1.0\"\nkind = \"wasm\"\nartifact = \"x.wasm\"\n",
        "x.wasm",
        b"not a component",
    );
    let cache = env.wharf_home().join("cache/wasm");
    std::fs::remove_dir_all(&cache).unwrap();

    let out = env.wharf(&["--disable", "grep", "tool", "list"]).success();
    assert!(!out.stderr.contains("garbage"), "{}", out.stderr);
    let row = out
        .stdout
        .lines()
        .find(|line| line.starts_with("grep "))
        .unwrap_or_else(|| panic!("no grep row in:\n{}", out.stdout));
    assert_eq!(
        row.split_whitespace().collect::<Vec<_>>(),
        ["grep", "grep", "off"],
        "{row}"
    );
    let compiled: Vec<String> = std::fs::read_dir(&cache)
        .map(|entries| {
            entries
                .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|name| name.starts_with(&sha))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(compiled, Vec::<String>::new());

    let out = env
        .wharf(&["--disable", "grep", "plugin", "list"])
        .success();
    assert!(
        out.stdout
            .contains("grep 0.1.0 (wasm, api 0.2.0) — feature grep off\n  tools: grep\n"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("  loaded: no (its feature is off)\n"),
        "{}",
        out.stdout
    );
    let out = env
        .wharf(&[
            "--disable",
            "grep",
            "tool",
            "call",
            "grep",
            "--args",
            r#"{"pattern":"x"}"#,
        ])
        .fails_with(1);
    assert_eq!(
        out.stderr,
        "error: tool `grep` is not available: feature `grep` is disabled (turn it on with \
         `--enable grep`)\n"
    );
}

/// The native test plugin's source directory, and the file its library
/// marks when opened.
fn native_source() -> (TempDir, PathBuf) {
    let source = plugin_dir(TEST_MANIFEST, TEST_SO);
    let mark = source.path().join("opened");
    (source, mark)
}

fn with_mark(mark: &Path) -> [(&str, &str); 1] {
    [(LOADED_MARK, mark.to_str().unwrap())]
}

#[test]
fn a_native_library_is_opened_only_after_consent() {
    let env = Env::new();
    let (source, mark) = native_source();
    let path = display(source.path());
    let out = env.wharf_with_vars(&["plugin", "add", &path], &with_mark(&mark));
    refused(
        &out,
        "plugin `native-test` is a native library that would run inside wharf with your \
         privileges; there is no terminal to ask on, so pass --yes to install it; not installed",
    );
    assert!(
        out.stdout
            .contains("note: a native plugin runs inside wharf with your privileges"),
        "{}",
        out.stdout
    );
    assert!(!mark.exists(), "the library was opened before consent");
    assert_eq!(installed(&env), Vec::<String>::new());

    let out = env
        .wharf_with_vars(&["plugin", "add", &path, "--yes"], &with_mark(&mark))
        .success();
    assert!(
        out.stdout.contains("tools: panic, context, run\n"),
        "{}",
        out.stdout
    );
    assert!(mark.exists(), "consent given, the library is checked");
    assert_eq!(installed(&env), ["native-test", "lock:native-test"]);
}

#[test]
fn a_native_librarys_own_pin_cannot_re_enable_it() {
    let env = Env::new();
    let (source, mark) = native_source();
    add(&env, &source, &["--yes"]).success();
    let dir = env.wharf_home().join("plugins/native-test");
    let so = dir.join(TEST_SO);

    // The library swapped for a changed one, and the manifest's pin
    // edited to match it.
    let mut changed = std::fs::read(library(TEST_SO)).unwrap();
    changed.extend_from_slice(b"changed");
    std::fs::write(&so, &changed).unwrap();
    let sha: String = sha2::Sha256::digest(&changed)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    let manifest = std::fs::read_to_string(dir.join("plugin.toml")).unwrap();
    let mut doc: toml_edit::DocumentMut = manifest.parse().unwrap();
    doc["sha256"] = toml_edit::value(&sha);
    std::fs::write(dir.join("plugin.toml"), doc.to_string()).unwrap();

    let out = env
        .wharf_with_vars(&["tool", "list"], &with_mark(&mark))
        .success();
    skipped(
        &out.stderr,
        "native-test",
        "sha256 mismatch: plugins.lock pins ",
    );
    skipped(
        &out.stderr,
        "native-test",
        &format!("the artifact is {sha}"),
    );
    assert!(
        !out.stdout.lines().any(|line| line.starts_with("context ")),
        "{}",
        out.stdout
    );
    assert!(!mark.exists(), "the changed library was opened");

    // Copied in by hand, without `wharf plugin add`: enabling it does not
    // open it either.
    let out = env.wharf(&["plugin", "remove", "native-test"]).success();
    assert!(
        out.stdout.starts_with("removed native-test"),
        "{}",
        out.stdout
    );
    copy_in(
        &env,
        "native-test",
        TEST_MANIFEST,
        TEST_SO,
        &std::fs::read(library(TEST_SO)).unwrap(),
    );
    let out = env
        .wharf_with_vars(
            &["--enable", "native_test", "tool", "list"],
            &with_mark(&mark),
        )
        .success();
    skipped(
        &out.stderr,
        "native-test",
        "wharf opens one only when it was installed with `wharf plugin add`",
    );
    assert!(!mark.exists(), "a library copied in by hand was opened");
}
