//! Every supported `wharf:plugin` version keeps working: a component built
//! against the frozen wit/0.1.0 with wit-bindgen alone (tests/guests/legacy)
//! is installed and called through the pipeline like any plugin, its host
//! imports forwarded to the latest implementation; and plugin-api's own
//! components (examples/grep) are 0.2.0.

use super::*;

const LEGACY_MANIFEST: &str = include_str!("../../../tests/guests/legacy/plugin.toml");

fn legacy_dir() -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("plugin.toml"), LEGACY_MANIFEST).unwrap();
    std::fs::copy(
        env!("WHARF_TEST_LEGACY_WASM"),
        dir.path().join("wharf_test_guest_legacy.wasm"),
    )
    .unwrap();
    dir
}

#[test]
fn a_0_1_0_component_installs_and_its_tool_is_called() {
    let env = Env::new();
    let source = legacy_dir();
    let added = env
        .wharf(&["plugin", "add", &display(source.path())])
        .success();
    assert!(
        added
            .stdout
            .starts_with("legacy 0.1.0 (api 0.1.0), sha256 "),
        "{}",
        added.stdout
    );
    std::fs::write(env.cwd().join("notes.txt"), "read through 0.1.0\n").unwrap();
    let out = env
        .wharf(&[
            "--enable",
            "legacy",
            "tool",
            "call",
            "legacy_echo",
            "--args",
            r#"{"text": "hello", "read": "notes.txt"}"#,
        ])
        .success();
    // Each host import of 0.1.0 answered through 0.2.0's implementation:
    // the read within the grant, `exec` refused without `exec = true`.
    assert!(
        out.stdout
            .starts_with("echo: hello\nread: read through 0.1.0\nexec: refused\n"),
        "{}",
        out.stdout
    );
}

#[test]
fn plugin_api_components_target_the_latest_version() {
    let env = Env::new();
    let dir = tempfile::tempdir().unwrap();
    let manifest = include_str!("../../../examples/grep/plugin.toml");
    std::fs::write(dir.path().join("plugin.toml"), manifest).unwrap();
    std::fs::copy(
        env!("WHARF_EXAMPLE_GREP_WASM"),
        dir.path().join("wharf_example_grep.wasm"),
    )
    .unwrap();
    // A manifest that still says 0.1.0 is told what the component exports.
    let stale = tempfile::tempdir().unwrap();
    std::fs::write(
        stale.path().join("plugin.toml"),
        manifest.replace("api = \"0.2.0\"", "api = \"0.1.0\""),
    )
    .unwrap();
    std::fs::copy(
        env!("WHARF_EXAMPLE_GREP_WASM"),
        stale.path().join("wharf_example_grep.wasm"),
    )
    .unwrap();
    let refused = env
        .wharf(&["plugin", "add", &display(stale.path())])
        .fails_with(1);
    assert!(
        refused.stderr.contains(
            "the manifest says `api = \"0.1.0\"` but the component exports \
             wharf:plugin@0.2.0; set `api = \"0.2.0\"` in plugin.toml"
        ),
        "{}",
        refused.stderr
    );
    let added = env
        .wharf(&["plugin", "add", &display(dir.path())])
        .success();
    assert!(
        added.stdout.starts_with("grep 0.1.0 (api 0.2.0), sha256 "),
        "{}",
        added.stdout
    );
}
