//! examples/secret-guard, the example hook plugin, the way a user meets it:
//! installed with `wharf plugin add`, its `before-tool-call` hook refuses
//! a command naming a secret file before it runs (the reason is what the
//! model would read), and lets other commands through.

use super::*;

const MANIFEST: &str = include_str!("../../../examples/secret-guard/plugin.toml");
const ARTIFACT: &str = "wharf_example_secret_guard.wasm";

fn plugin_dir(manifest: &str) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("plugin.toml"), manifest).unwrap();
    std::fs::copy(
        env!("WHARF_EXAMPLE_SECRET_GUARD_WASM"),
        dir.path().join(ARTIFACT),
    )
    .unwrap();
    dir
}

fn exec_command(env: &Env, cmd: &str) -> Output {
    let args = serde_json::json!({ "cmd": cmd }).to_string();
    env.wharf(&["tool", "call", "exec_command", "--args", &args])
}

#[test]
fn a_command_naming_a_secret_file_is_refused_with_the_hooks_reason() {
    let env = Env::new();
    let source = plugin_dir(MANIFEST);
    let added = env
        .wharf(&["plugin", "add", &display(source.path())])
        .success();
    // What it hooks is shown before it is installed.
    assert!(
        added.stdout.contains(
            "\n  hooks: before-tool-call of exec_command, shell, apply_patch (required: a \
             failure stops the event)\n"
        ),
        "{}",
        added.stdout
    );
    let secret = env.cwd().join(".env");
    std::fs::write(&secret, "TOKEN=hunter2\n").unwrap();

    let refused = exec_command(&env, "cat .env").fails_with(1);
    assert_eq!(
        refused.stderr,
        "error: denied: secret-guard: `exec_command` names `.env`, which looks like a secret \
         (.env, SSH keys, *.pem, *.key); leave it out of tool calls, or remove the \
         secret-guard plugin to allow it (hook `secret-guard`)\n"
    );
    // Refused before it ran: nothing of the file was printed.
    assert!(!refused.stderr.contains("hunter2"));

    let allowed = exec_command(&env, "echo fine").success();
    assert!(allowed.stdout.contains("fine\n"), "{}", allowed.stdout);
}

#[test]
fn hooks_in_a_0_1_0_manifest_are_refused_naming_the_plugin() {
    let env = Env::new();
    let source = plugin_dir(&MANIFEST.replace("api = \"0.2.0\"", "api = \"0.1.0\""));
    let out = env
        .wharf(&["plugin", "add", &display(source.path())])
        .fails_with(1);
    assert!(
        out.stderr.contains(
            "hooks: the plugin `secret-guard` asks for hooks, but wharf:plugin@0.1.0 has no \
             hooks; set `api = \"0.2.0\"` and rebuild the plugin against wit/0.2.0 (world \
             `plugin-with-hooks`)"
        ),
        "{}",
        out.stderr
    );
}
