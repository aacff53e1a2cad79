//! Native plugins as users meet them: `.so` files built from this
//! workspace, installed with `wharf plugin add`, listed and called through
//! the binary; broken ones skipped with their reason while the others work.
//!
//! The libraries are the workspace's cdylibs: dev-dependencies of this
//! package, so building these tests builds them, into the directory of the
//! test binary (`target/<profile>/deps/`, without a hash in the name).

use std::sync::Arc;

use wharf_runtime::native::NativePlugin;
use wharf_runtime::plugin::grant::{Grant, HostLimits};
use wharf_runtime::plugin::{Args, CallContext, Plugin};
use wharf_sandbox::{PathEnv, Sandbox, SandboxPolicy};

use super::*;

/// A cdylib of this workspace, next to the test binary.
pub(crate) fn library(file: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let path = exe.parent().unwrap().join(file);
    assert!(
        path.is_file(),
        "{} is missing: cargo builds it with these tests (a dev-dependency of wharf-cli)",
        path.display()
    );
    path
}

const HELLO_SO: &str = "libwharf_example_native_hello.so";
pub(crate) const TEST_SO: &str = "libwharf_test_guest_native.so";

/// A directory with `manifest` as plugin.toml and `so` copied beside it
/// under the manifest's artifact name.
pub(crate) fn plugin_dir(manifest: &str, so: &str) -> TempDir {
    let table: toml::Table = toml::from_str(manifest).unwrap();
    let artifact = table["artifact"].as_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("plugin.toml"), manifest).unwrap();
    std::fs::copy(library(so), dir.path().join(artifact)).unwrap();
    dir
}

const HELLO_MANIFEST: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../examples/native-hello/plugin.toml"
));

pub(crate) const TEST_MANIFEST: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/guests/native/plugin.toml"
));

fn add(env: &Env, manifest: &str, so: &str) -> Output {
    let source = plugin_dir(manifest, so);
    env.wharf(&["plugin", "add", &display(source.path()), "--yes"])
        .success()
}

#[test]
fn the_example_installs_lists_and_counts() {
    let env = Env::new();
    let out = add(&env, HELLO_MANIFEST, HELLO_SO);
    let installed = env.wharf_home().join("plugins/native-hello");
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(
        lines.get(1..9).unwrap(),
        [
            "asks for:",
            "  reads: the workspace",
            "  writes: nothing",
            "  network: none",
            "  environment: none",
            "  runs commands: no",
            "note: a native plugin runs inside wharf with your privileges; only the commands \
             it runs through wharf are sandboxed",
            "tools: text_stats",
        ],
        "{}",
        out.stdout
    );
    assert!(
        lines[0].starts_with("native-hello 0.1.0 (api 1), sha256 "),
        "{}",
        lines[0]
    );
    let prefix = format!("installed in {} (loaded in ", display(&installed));
    assert!(lines[9].starts_with(&prefix), "{}", lines[9]);

    let out = env.wharf(&["tool", "list"]).success();
    let row = out
        .stdout
        .lines()
        .find(|line| line.starts_with("text_stats "))
        .unwrap_or_else(|| panic!("no text_stats row in:\n{}", out.stdout));
    let words: Vec<&str> = row.split_whitespace().take(3).collect();
    assert_eq!(words, ["text_stats", "native-hello", "on"], "{row}");

    let out = env.wharf(&["plugin", "list"]).success();
    let expected = format!(
        "native-hello 0.1.0 (native, api 1) — feature native_hello on\n  tools: text_stats\n  reads: {}\n",
        display(&env.cwd())
    );
    assert!(out.stdout.contains(&expected), "{}", out.stdout);
    assert!(
        out.stdout.contains("  loaded: a shared library in "),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("compiled 1 plugin"), "{}", out.stdout);

    std::fs::write(env.cwd().join("notes.txt"), "one two\nthree\n").unwrap();
    let out = env
        .wharf(&[
            "tool",
            "call",
            "text_stats",
            "--args",
            r#"{"path":"notes.txt"}"#,
        ])
        .success();
    assert_eq!(
        out.stdout,
        "notes.txt: 2 lines, 3 words, 14 bytes\n{\"lines\":2,\"words\":3,\"bytes\":14}\n"
    );
    // The host reads for the plugin, within its grant: the working
    // directory, not what lies beside it.
    let outside = env.cwd().parent().unwrap().join("secret.txt");
    std::fs::write(&outside, "secret").unwrap();
    let args = serde_json::json!({ "path": display(&outside) }).to_string();
    let out = env.wharf(&["tool", "call", "text_stats", "--args", &args]);
    assert_eq!(
        (out.code, out.stdout.as_str()),
        (
            1,
            format!(
                "cannot read {0}: {0} is outside the plugin's read grant\n",
                display(&outside)
            )
            .as_str()
        )
    );
}

#[test]
fn broken_native_plugins_are_skipped_with_the_reason() {
    let env = Env::new();
    add(&env, HELLO_MANIFEST, HELLO_SO);
    let plugins = env.wharf_home().join("plugins");
    // A text file, and a library the manifest says speaks another ABI.
    let write = |dir: &Path, name: &str, api: &str, artifact: &[u8]| {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(
            dir.join("plugin.toml"),
            format!(
                "name = \"{name}\"\nversion = \"1\"\napi = \"{api}\"\nkind = \"native\"\n\
                 artifact = \"lib.so\"\n"
            ),
        )
        .unwrap();
        std::fs::write(dir.join("lib.so"), artifact).unwrap();
        dir.join("lib.so")
    };
    let so = std::fs::read(library(TEST_SO)).unwrap();
    let sources = tempfile::tempdir().unwrap();
    let text = write(&sources.path().join("text"), "text", "1", b"not a library");
    write(&sources.path().join("future"), "future", "2", &so);

    // `wharf plugin add` refuses them, saying why.
    let out = env.wharf(&[
        "plugin",
        "add",
        &display(&sources.path().join("future")),
        "--yes",
    ]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert!(
        out.stderr.ends_with(
            "plugin.toml: `api = \"2\"` is not a native plugin ABI this wharf supports \
             (supported: \"1\"); not installed\n"
        ),
        "{}",
        out.stderr
    );
    let out = env.wharf(&[
        "plugin",
        "add",
        &display(&sources.path().join("text")),
        "--yes",
    ]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let prefix = format!(
        "error: {0} is not a loadable plugin: {0}: cannot load it as a shared library: ",
        display(&text)
    );
    assert!(out.stderr.starts_with(&prefix), "{}", out.stderr);

    // Copied in by hand and enabled, neither is opened.
    write(&plugins.join("text"), "text", "1", b"not a library");
    write(&plugins.join("future"), "future", "2", &so);
    let out = env
        .wharf(&["--enable", "text", "--enable", "future", "tool", "list"])
        .success();
    assert!(out.stdout.contains("text_stats "), "{}", out.stdout);
    for name in ["future", "text"] {
        let prefix = format!(
            "warning: plugin `{name}` skipped: a native plugin runs with your privileges, so \
             wharf opens one only when it was installed with `wharf plugin add`"
        );
        assert!(
            out.stderr.lines().any(|line| line.starts_with(&prefix)),
            "{}",
            out.stderr
        );
    }

    std::fs::write(env.cwd().join("a.txt"), "x\n").unwrap();
    env.wharf(&[
        "tool",
        "call",
        "text_stats",
        "--args",
        r#"{"path":"a.txt"}"#,
    ])
    .success();
}

#[test]
fn a_panicking_tool_is_an_error_and_the_next_call_works() {
    let env = Env::new();
    add(&env, TEST_MANIFEST, TEST_SO);
    for _ in 0..2 {
        let out = env.wharf(&["tool", "call", "panic", "--args", r#"{"message":"boom"}"#]);
        assert_eq!(out.code, 1, "{}", out.stderr);
        assert!(
            out.stderr
                .ends_with("error: the plugin crashed: it panicked: boom\n"),
            "{}",
            out.stderr
        );
    }
    let out = env.wharf(&["tool", "call", "context", "--json"]).success();
    let outcome: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let told = &outcome["content"][0]["json"];
    assert_eq!(told["cwd"], display(&env.cwd()), "{outcome}");
    assert_eq!(told["cancelled"], false, "{outcome}");
    // The session's sandbox, in its serde form.
    assert_eq!(told["sandbox"]["policy"]["mode"], "read-only", "{outcome}");
    assert_eq!(
        told["sandbox"]["env"]["cwd"],
        display(&env.cwd()),
        "{outcome}"
    );
    assert_eq!(
        outcome["logs"],
        serde_json::json!(["[info] looking around", "[progress] halfway"])
    );

    // Commands go through the sandbox (danger-full-access: no kernel
    // features needed to run this test).
    let out = env
        .wharf(&[
            "-s",
            "danger-full-access",
            "tool",
            "call",
            "run",
            "--args",
            r#"{"argv":["sh","-c","echo hi; exit 4"]}"#,
        ])
        .success();
    assert_eq!(
        out.stdout,
        "{\"exit_code\":4,\"stdout\":\"hi\\n\",\"stderr\":\"\",\"timed_out\":false}\n"
    );
}

/// The plugin is dropped (and the library unloaded) only after the calls
/// that use it have finished; loading it again afterwards works.
#[test]
fn a_library_unloads_after_its_calls_and_loads_again() {
    let cwd = tempfile::tempdir().unwrap();
    let cwd = cwd.path().canonicalize().unwrap();
    let env = PathEnv {
        cwd: cwd.clone(),
        tmpdir: None,
        protected: Vec::new(),
    };
    let cx = CallContext {
        call_id: "c".into(),
        session_id: "s".into(),
        cwd: cwd.clone(),
        sandbox: Arc::new(Sandbox::new(&SandboxPolicy::new_read_only(), &env)),
        cancel: Default::default(),
        progress: None,
        elicitation: None,
    };
    let grant = Grant::none(&HostLimits::default());
    let path = library(TEST_SO);
    for _ in 0..3 {
        let plugin: Arc<dyn Plugin> = Arc::new(NativePlugin::load("native-test", &path).unwrap());
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let plugin = Arc::clone(&plugin);
                let (cx, grant) = (cx.clone(), grant.clone());
                std::thread::spawn(move || {
                    let value = serde_json::json!({});
                    let args = Args {
                        text: "{}",
                        value: &value,
                    };
                    (0..20)
                        .map(|_| {
                            plugin
                                .invoke(&cx, "context", args, &grant)
                                .unwrap()
                                .logs
                                .len()
                        })
                        .sum::<usize>()
                })
            })
            .collect();
        // The last reference may be a thread's: the library then unloads
        // there, after its last call returned.
        drop(plugin);
        for thread in threads {
            assert_eq!(thread.join().unwrap(), 40);
        }
    }
}
