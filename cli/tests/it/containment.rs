//! Containment of WASM plugins, through the real binary. The `hostile`
//! test plugin (`tests/guests/hostile`) tries each way out of its box —
//! files outside its grant, direct writes, writes the sandbox refuses, an
//! endless loop, a memory bomb, a flood of output, the environment, a
//! socket, a panic — and each attempt must fail the way its grant says,
//! with the next call (`echo`) still working. Then broken plugins beside
//! good ones: each is skipped with its reason, and the others still load.
//!
//! The plugin asks for: read `cwd`, write `cwd`, the variable
//! `WHARF_TEST_VISIBLE`, 2000 ms and 64 MiB per call.

use std::collections::BTreeSet;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use serde_json::json;
use sha2::Digest as _;

use super::*;

const HOSTILE_MANIFEST: &str = include_str!("../../../tests/guests/hostile/plugin.toml");
const HOSTILE_ARTIFACT: &str = "wharf_test_guest_hostile.wasm";

/// `-s workspace-write`, where `/tmp` (and so the whole test directory) is
/// writable too.
const WORKSPACE_WRITE: &[&str] = &["-s", "workspace-write"];
/// `-s workspace-write` without `/tmp`: only the cwd is writable.
const WORKSPACE_WRITE_NO_TMP: &[&str] = &[
    "-s",
    "workspace-write",
    "-c",
    "sandbox_workspace_write.exclude_slash_tmp=true",
];
/// The default sandbox.
const READ_ONLY: &[&str] = &[];

fn hostile_wasm() -> Vec<u8> {
    std::fs::read(env!("WHARF_TEST_HOSTILE_WASM")).unwrap()
}

/// Puts `manifest` and `artifact` (named `artifact_name`) into
/// `$WHARF_HOME/plugins/<dir>/`, as discovery expects; no consent marker.
fn install(env: &Env, dir: &str, manifest: &str, artifact_name: &str, artifact: &[u8]) {
    let dir = env.wharf_home().join("plugins").join(dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("plugin.toml"), manifest).unwrap();
    std::fs::write(dir.join(artifact_name), artifact).unwrap();
}

/// An `Env` with the hostile plugin installed.
pub(crate) fn hostile_env() -> Env {
    let env = Env::new();
    install(
        &env,
        "hostile",
        HOSTILE_MANIFEST,
        HOSTILE_ARTIFACT,
        &hostile_wasm(),
    );
    env
}

/// The arguments of `wharf <sandbox> --enable hostile tool call <tool>`.
fn call_args(sandbox: &[&str], tool: &str, args: &serde_json::Value) -> Vec<String> {
    let mut argv: Vec<String> = sandbox.iter().map(|s| (*s).to_owned()).collect();
    argv.extend(["--enable", "hostile", "tool", "call", tool, "--args"].map(str::to_owned));
    argv.push(args.to_string());
    argv
}

/// Calls a hostile tool under `sandbox`.
fn call(env: &Env, sandbox: &[&str], tool: &str, args: serde_json::Value) -> Output {
    let argv = call_args(sandbox, tool, &args);
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    env.wharf(&argv)
}

/// Variables set in wharf's own environment, by name.
type Vars = [(&'static str, &'static str)];

/// Calls `echo`: the plugin still serves calls, a fresh instance unharmed
/// by the last one.
#[track_caller]
fn echo(env: &Env) -> Output {
    let output = call(env, READ_ONLY, "echo", json!({ "text": "still here" })).success();
    assert_eq!(output.stdout, "still here\n");
    output
}

#[track_caller]
fn assert_echo_works(env: &Env) {
    assert_eq!(echo(env).stderr, "");
}

/// Every file and directory below `dir`, relative to it (symlinks not
/// followed).
fn tree(dir: &Path) -> BTreeSet<PathBuf> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeSet<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            out.insert(path.strip_prefix(root).unwrap().to_path_buf());
            if path.symlink_metadata().unwrap().is_dir() {
                walk(root, &path, out);
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(dir, dir, &mut out);
    out
}

/// A working directory with a file, and beside it a directory the plugin
/// is not granted, reachable through `..` and through two symlinks; a
/// second, unrelated temporary directory.
struct Escapes {
    env: Env,
    /// `<cwd>/../outside`, holding `secret.txt`.
    outside: PathBuf,
    /// Another temporary directory, holding `secret.txt`.
    other: TempDir,
}

impl Escapes {
    fn new() -> Escapes {
        let env = hostile_env();
        let cwd = env.cwd();
        std::fs::write(cwd.join("inside.txt"), "inside\n").unwrap();
        let outside = cwd.parent().unwrap().join("outside");
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("secret.txt"), "secret\n").unwrap();
        std::os::unix::fs::symlink(outside.join("secret.txt"), cwd.join("link-file")).unwrap();
        std::os::unix::fs::symlink("../outside", cwd.join("link-dir")).unwrap();
        let other = tempfile::tempdir().unwrap();
        std::fs::write(other.path().join("secret.txt"), "secret\n").unwrap();
        Escapes {
            env,
            outside,
            other,
        }
    }

    /// The working directory, `outside` and `other`, as messages show them.
    fn shown(&self) -> (String, String, String) {
        (
            display(&self.env.cwd()),
            display(&self.outside),
            display(self.other.path()),
        )
    }
}

/// WASI's answers, as the guest's std shows them: a path under no
/// preopened directory does not exist; a path that leaves the preopen
/// (`..`, a symlink) is not permitted.
const NOT_FOUND: &str = "No such file or directory (os error 44)";
const NOT_PERMITTED: &str = "Operation not permitted (os error 63)";
/// The host's `read-file` refusing a path that resolves outside its root.
const LEFT_ROOT: &str = "a path led outside of the filesystem";

#[test]
fn reads_stay_inside_the_working_directory() {
    let case = Escapes::new();
    let (cwd, _, other) = case.shown();
    // (tool, path, exit code, stdout)
    let cases: Vec<(&str, String, i32, String)> = vec![
        ("read_file", "inside.txt".into(), 0, "inside\n".into()),
        (
            "read_file",
            format!("{cwd}/inside.txt"),
            0,
            "inside\n".into(),
        ),
        (
            "read_file",
            format!("{other}/secret.txt"),
            1,
            format!("cannot read {other}/secret.txt: {NOT_FOUND}\n"),
        ),
        (
            "read_file",
            "../outside/secret.txt".into(),
            1,
            format!("cannot read {cwd}/../outside/secret.txt: {NOT_PERMITTED}\n"),
        ),
        (
            "read_file",
            "link-file".into(),
            1,
            format!("cannot read {cwd}/link-file: {NOT_PERMITTED}\n"),
        ),
        (
            "read_file",
            "link-dir/secret.txt".into(),
            1,
            format!("cannot read {cwd}/link-dir/secret.txt: {NOT_PERMITTED}\n"),
        ),
        ("host_read", "inside.txt".into(), 0, "inside\n".into()),
        (
            "host_read",
            format!("{other}/secret.txt"),
            1,
            format!(
                "cannot read {other}/secret.txt: {other}/secret.txt is outside the plugin's read grant\n"
            ),
        ),
        (
            "host_read",
            "../outside/secret.txt".into(),
            1,
            format!(
                "cannot read ../outside/secret.txt: {cwd}/../outside/secret.txt: {LEFT_ROOT}\n"
            ),
        ),
        (
            "host_read",
            "link-file".into(),
            1,
            format!("cannot read link-file: {cwd}/link-file: {LEFT_ROOT}\n"),
        ),
        (
            "host_read",
            "link-dir/secret.txt".into(),
            1,
            format!("cannot read link-dir/secret.txt: {cwd}/link-dir/secret.txt: {LEFT_ROOT}\n"),
        ),
        (
            "list_dir",
            ".".into(),
            0,
            "inside.txt\nlink-dir\nlink-file\n".into(),
        ),
        (
            "list_dir",
            "..".into(),
            1,
            format!("cannot list {cwd}/..: {NOT_PERMITTED}\n"),
        ),
        (
            "list_dir",
            "link-dir".into(),
            1,
            format!("cannot list {cwd}/link-dir: {NOT_PERMITTED}\n"),
        ),
        (
            "list_dir",
            "/".into(),
            1,
            format!("cannot list /: {NOT_FOUND}\n"),
        ),
    ];
    for (tool, path, code, stdout) in &cases {
        let output = call(&case.env, READ_ONLY, tool, json!({ "path": path }));
        assert_eq!(
            (output.code, output.stdout.as_str(), output.stderr.as_str()),
            (*code, stdout.as_str(), ""),
            "{tool} {path}"
        );
    }
    assert!(case.outside.join("secret.txt").is_file());
    assert_echo_works(&case.env);
}

#[test]
fn direct_writes_fail_on_the_read_only_preopen() {
    let env = hostile_env();
    let target = env.cwd().join("direct.txt");
    // Even where the sandbox lets the cwd be written, the plugin's own view
    // of it is read-only: writes go through the host or nowhere.
    for sandbox in [
        READ_ONLY,
        WORKSPACE_WRITE,
        &["-s", "danger-full-access"][..],
    ] {
        let output = call(
            &env,
            sandbox,
            "write_file",
            json!({ "path": "direct.txt", "contents": "direct\n" }),
        );
        assert_eq!(output.code, 1, "{sandbox:?}: {}", output.stderr);
        assert_eq!(
            output.stdout,
            format!("cannot write {}: {NOT_PERMITTED}\n", display(&target)),
            "{sandbox:?}"
        );
        assert!(!target.exists(), "{sandbox:?}");
    }
    assert_echo_works(&env);
}

#[test]
fn proposed_writes_are_checked_against_the_sandbox_and_the_grant() {
    let case = Escapes::new();
    let env = &case.env;
    // `.git` is protected only if it exists when the session starts.
    std::fs::create_dir(env.cwd().join(".git")).unwrap();
    let (cwd, outside, other) = case.shown();
    let before = [env.cwd(), case.outside.clone(), case.other.path().into()].map(|dir| tree(&dir));

    let made = call(
        env,
        WORKSPACE_WRITE,
        "propose_write",
        json!({ "path": "new.txt", "contents": "made\n" }),
    )
    .success();
    assert_eq!(made.stdout, "proposed new.txt\n");
    assert_eq!(made.stderr, "");
    assert_eq!(
        std::fs::read_to_string(env.cwd().join("new.txt")).unwrap(),
        "made\n"
    );

    // (sandbox, path, stderr): every one denied, exit 1, nothing written.
    let denied: Vec<(&[&str], String, String)> = vec![
        // `/tmp` is writable, but the plugin asked for the cwd only.
        (
            WORKSPACE_WRITE,
            "../outside/new.txt".into(),
            format!("write to {outside}/new.txt is outside what this plugin may change"),
        ),
        (
            WORKSPACE_WRITE,
            format!("{other}/new.txt"),
            format!("write to {other}/new.txt is outside what this plugin may change"),
        ),
        // Without `/tmp`, the sandbox itself refuses first.
        (
            WORKSPACE_WRITE_NO_TMP,
            "../outside/new.txt".into(),
            format!(
                "write to {cwd}/../outside/new.txt (resolves to {outside}/new.txt) is outside the writable roots"
            ),
        ),
        (
            WORKSPACE_WRITE_NO_TMP,
            "link-dir/new.txt".into(),
            format!(
                "write to {cwd}/link-dir/new.txt (resolves to {outside}/new.txt) is outside the writable roots"
            ),
        ),
        (
            WORKSPACE_WRITE_NO_TMP,
            format!("{other}/new.txt"),
            format!("write to {other}/new.txt is outside the writable roots"),
        ),
        (
            WORKSPACE_WRITE,
            ".git/hooks/x".into(),
            format!("write to {cwd}/.git/hooks/x is inside the protected path {cwd}/.git"),
        ),
        (
            WORKSPACE_WRITE,
            ".wharf/config.toml".into(),
            format!("write to {cwd}/.wharf/config.toml is inside the protected path {cwd}/.wharf"),
        ),
        (
            READ_ONLY,
            "read-only.txt".into(),
            format!("writes are not allowed in read-only mode: {cwd}/read-only.txt"),
        ),
    ];
    for (sandbox, path, message) in &denied {
        let output = call(
            env,
            sandbox,
            "propose_write",
            json!({ "path": path, "contents": "escaped\n" }),
        )
        .fails_with(1);
        assert_eq!(
            output.stderr,
            format!("error: denied: {message}\n"),
            "{sandbox:?} {path}"
        );
    }

    let mut expected = before;
    expected[0].insert("new.txt".into());
    let after = [env.cwd(), case.outside.clone(), case.other.path().into()].map(|dir| tree(&dir));
    assert_eq!(after, expected);
    assert_echo_works(env);
}

#[test]
fn an_endless_loop_times_out() {
    let env = hostile_env();
    assert_echo_works(&env); // compiles the component, outside the timing
    let started = Instant::now();
    let output = call(&env, READ_ONLY, "spin", json!({})).fails_with(1);
    let took = started.elapsed();
    assert_eq!(output.stderr, "error: timed out after 2000 ms\n");
    assert!(took >= Duration::from_millis(2000), "took {took:?}");
    assert!(took < Duration::from_secs(10), "took {took:?}");
    assert_echo_works(&env);
}

/// A guest waiting inside a host call (a sleep, a read of a FIFO that no
/// one writes) is beyond the epoch's reach; the call's deadline still ends
/// it, and the process exits without waiting for the abandoned read.
#[test]
fn a_call_waiting_in_the_host_times_out() {
    let env = hostile_env();
    assert_echo_works(&env); // compiles the component, outside the timing
    let fifo = env.cwd().join("fifo");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let waits = [
        ("sleep", json!({ "ms": 60_000 })),
        ("read_file", json!({ "path": "fifo" })),
    ];
    for (tool, args) in waits {
        let started = Instant::now();
        let output = call(&env, READ_ONLY, tool, args).fails_with(1);
        let took = started.elapsed();
        assert_eq!(output.stderr, "error: timed out after 2000 ms\n", "{tool}");
        assert!(took >= Duration::from_millis(2000), "{tool} took {took:?}");
        assert!(took < Duration::from_secs(10), "{tool} took {took:?}");
    }
    // The host's one-call read refuses the FIFO instead of waiting on it.
    let output = call(&env, READ_ONLY, "host_read", json!({ "path": "fifo" }));
    assert_eq!(output.code, 1);
    assert_eq!(
        output.stdout,
        format!(
            "cannot read fifo: {}/fifo is not a regular file (a FIFO, socket or device)\n",
            env.cwd().display()
        )
    );
    assert_echo_works(&env);
}

#[test]
fn a_memory_bomb_hits_the_memory_limit() {
    let env = hostile_env();
    let output = call(&env, READ_ONLY, "alloc", json!({ "mb": 512 })).fails_with(1);
    assert_eq!(
        output.stderr,
        "error: the plugin exceeded its memory limit of 64 MiB\n"
    );
    // Below the limit, allocating works: the cap is 64 MiB, not less.
    let output = call(&env, READ_ONLY, "alloc", json!({ "mb": 16 })).success();
    assert_eq!(output.stdout, "allocated 16 MiB\n");
    assert_echo_works(&env);
}

#[test]
fn a_flood_of_output_is_truncated() {
    let env = hostile_env();
    let output = call(&env, READ_ONLY, "flood", json!({ "bytes": 5_000_000 })).success();
    let kept = 1 << 20;
    let marker = "[output truncated: 5000000 bytes exceed the limit of 1048576 bytes]\n";
    // Not assert_eq: a failure would print a megabyte.
    assert_eq!(output.stdout.len(), kept + 1 + marker.len());
    assert!(output.stdout.ends_with(&format!("\n{marker}")));
    assert!(output.stdout.bytes().take(kept).all(|b| b == b'x'));
    assert_eq!(output.stderr, "");
    assert_echo_works(&env);
}

#[test]
fn only_granted_environment_variables_are_visible() {
    let env = hostile_env();
    let vars = [
        ("WHARF_TEST_VISIBLE", "granted value"),
        ("WHARF_TEST_SECRET", "secret value"),
    ];
    let not_found = |name: &str| format!("cannot read {name}: environment variable not found\n");
    // (variables set for wharf, name asked for, exit code, stdout)
    let cases: &[(&Vars, &str, i32, String)] = &[
        (&vars, "WHARF_TEST_VISIBLE", 0, "granted value\n".into()),
        // Set for wharf, not asked for by the plugin.
        (
            &vars,
            "WHARF_TEST_SECRET",
            1,
            not_found("WHARF_TEST_SECRET"),
        ),
        (&vars, "HOME", 1, not_found("HOME")),
        (&vars, "PATH", 1, not_found("PATH")),
        (&vars, "WHARF_HOME", 1, not_found("WHARF_HOME")),
        // Asked for, but not set: nothing to pass on.
        (
            &[],
            "WHARF_TEST_VISIBLE",
            1,
            not_found("WHARF_TEST_VISIBLE"),
        ),
    ];
    for (set, name, code, stdout) in cases {
        let argv = call_args(READ_ONLY, "env", &json!({ "name": name }));
        let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
        let output = env.wharf_with_vars(&argv, set);
        assert_eq!(
            (output.code, output.stdout.as_str(), output.stderr.as_str()),
            (*code, stdout.as_str(), ""),
            "{name} with {set:?}"
        );
    }
    assert_echo_works(&env);
}

#[test]
fn sockets_are_not_available() {
    let env = hostile_env();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let output = call(&env, READ_ONLY, "connect", json!({ "addr": addr }));
    assert_eq!(
        (output.code, output.stdout.as_str(), output.stderr.as_str()),
        (
            1,
            format!("cannot connect to {addr}: Permission denied (os error 2)\n").as_str(),
            ""
        )
    );
    // wharf has exited: a connection it had made would be queued by now.
    let accepted = listener.accept();
    assert!(
        matches!(&accepted, Err(err) if err.kind() == std::io::ErrorKind::WouldBlock),
        "the listener saw {accepted:?}"
    );
    assert_echo_works(&env);
}

/// A panic's message and where it happened reach the error (not only
/// "wasm trap: unreachable") and wharf's log.
#[test]
fn a_panic_is_a_crash_with_its_message_and_the_next_call_works() {
    let env = hostile_env();
    let output = call(&env, READ_ONLY, "panic", json!({})).fails_with(1);
    let source = include_str!("../../../tests/guests/hostile/src/lib.rs");
    let line = 1 + source
        .lines()
        .position(|line| line.trim() == r#"panic!("the hostile plugin panics on purpose")"#)
        .unwrap();
    let panic = format!(
        "the hostile plugin panics on purpose (at tests/guests/hostile/src/lib.rs:{line}:9)"
    );
    assert_eq!(
        output.stderr,
        format!("error: the plugin crashed: it panicked: {panic}\n")
    );
    let log = std::fs::read_to_string(env.wharf_home().join("log").join("wharf.log")).unwrap();
    assert!(
        log.lines()
            .any(|line| line.contains("wharf.plugin_panic") && line.contains(&panic)),
        "{log}"
    );
    assert_echo_works(&env);
}

/// A manifest for `name`, with `artifact = "plugin.wasm"`; `kind` is on
/// line 4, its value at column 8.
fn manifest(name: &str, api: &str, kind: &str, extra: &str) -> String {
    format!(
        "name = \"{name}\"\nversion = \"0.1.0\"\napi = \"{api}\"\nkind = \"{kind}\"\nartifact = \"plugin.wasm\"\n{extra}"
    )
}

const NOT_WASM: &[u8] = b"#!/bin/sh\necho not wasm\n";
const CORE_MODULE: &[u8] = b"\0asm\x01\0\0\0";
const CORE_MODULE_REASON: &str = "not a WASM component: this is a core WASM module; build the \
    plugin for the wasm32-wasip2 target, which emits a component";

/// Whether `wharf tool list` printed `tool` as a tool of `plugin`.
fn listed(stdout: &str, tool: &str, plugin: &str) -> bool {
    stdout
        .lines()
        .any(|line| line.split_whitespace().take(2).eq([tool, plugin]))
}

#[test]
fn broken_plugins_are_skipped_beside_good_ones() {
    let env = hostile_env();
    let plugins = env.wharf_home().join("plugins");
    let hostile = hostile_wasm();
    let hostile_sha: String = sha2::Sha256::digest(&hostile)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let wrong_sha = "0".repeat(64);
    // (plugin directory and name, manifest, artifact, why it is skipped)
    let cases: &[(&str, String, &[u8], String)] = &[
        (
            "garbage",
            manifest("garbage", "0.1.0", "wasm", ""),
            NOT_WASM,
            "not a WASM component: the file does not start with the WASM magic number".into(),
        ),
        (
            "core",
            manifest("core", "0.1.0", "wasm", ""),
            CORE_MODULE,
            CORE_MODULE_REASON.into(),
        ),
        (
            "future",
            manifest("future", "9.9.0", "wasm", ""),
            &hostile,
            "the manifest targets wharf:plugin@9.9.0, which this wharf does not support \
             (supported: 0.1.0, 0.2.0)"
                .into(),
        ),
        (
            "elf",
            manifest("elf", "0.1.0", "elf", ""),
            &hostile,
            format!(
                "{}:4:8: kind: unknown variant `elf`, expected `wasm` or `native`",
                display(&plugins.join("elf/plugin.toml"))
            ),
        ),
        (
            "pinned",
            manifest(
                "pinned",
                "0.1.0",
                "wasm",
                &format!("sha256 = \"{wrong_sha}\"\n"),
            ),
            &hostile,
            format!(
                "sha256 mismatch: the manifest pins {wrong_sha}, the artifact is {hostile_sha}"
            ),
        ),
    ];
    for (name, manifest, artifact, _) in cases {
        install(&env, name, manifest, "plugin.wasm", artifact);
    }
    // Each broken plugin once, in no particular order, and nothing else.
    let mut expected: Vec<String> = cases
        .iter()
        .map(|(name, _, _, reason)| format!("warning: plugin `{name}` skipped: {reason}"))
        .collect();
    expected.sort();
    let warnings = |stderr: &str| {
        let mut lines: Vec<String> = stderr.lines().map(str::to_owned).collect();
        lines.sort();
        lines
    };

    // Copied in by hand, they are off until enabled, and only then loaded.
    let mut enable_all = Vec::new();
    for (name, ..) in cases.iter().filter(|(name, ..)| *name != "elf") {
        enable_all.extend(["--enable", *name]);
    }
    enable_all.extend(["--enable", "hostile", "tool", "list"]);
    let output = env.wharf(&enable_all).success();
    assert_eq!(warnings(&output.stderr), expected);
    assert!(
        listed(&output.stdout, "echo", "hostile"),
        "{}",
        output.stdout
    );
    assert!(
        listed(&output.stdout, "apply_patch", "apply-patch"),
        "{}",
        output.stdout
    );
    // Off, they are not read: only the manifest that cannot be parsed is
    // reported.
    let elf: Vec<String> = expected
        .iter()
        .filter(|line| line.starts_with("warning: plugin `elf`"))
        .cloned()
        .collect();
    assert_eq!(warnings(&echo(&env).stderr), elf);
}

#[test]
fn a_broken_required_plugin_fails_startup() {
    let env = hostile_env();
    install(
        &env,
        "needed",
        &manifest("needed", "0.1.0", "wasm", "required = true\n"),
        "plugin.wasm",
        CORE_MODULE,
    );
    let output = env
        .wharf(&["--enable", "needed", "tool", "list"])
        .fails_with(1);
    assert_eq!(
        output.stderr,
        format!("error: required plugin `needed` failed to load: {CORE_MODULE_REASON}\n")
    );
}

/// Where the pooling allocator cannot reserve its virtual memory (here a
/// `ulimit -v` of 8 GB), the runtime falls back to allocating per instance
/// and plugins still run.
#[test]
fn the_runtime_falls_back_when_virtual_memory_is_short() {
    let env = hostile_env();
    let list = env.wharf(&["plugin", "list"]).success();
    assert!(
        list.stdout
            .ends_with("runtime: pooling instance allocator\n"),
        "{}",
        list.stdout
    );

    let script = "ulimit -v 8000000 && exec \"$0\" --enable hostile \"$@\"";
    let run = |args: &[&str]| {
        let output = env
            .command("bash")
            .arg("-c")
            .arg(script)
            .arg(env!("CARGO_BIN_EXE_wharf"))
            .args(args)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).unwrap()
    };
    let list = run(&["plugin", "list"]);
    assert!(
        list.contains("runtime: on-demand instance allocator"),
        "{list}"
    );
    let echo = run(&["tool", "call", "echo", "--args", r#"{"text":"still here"}"#]);
    assert_eq!(echo, "still here\n");
}

/// First-party guests link with a 256 KiB stack placed below their data:
/// overflowing it traps instead of overwriting memory.
#[test]
fn a_stack_overflow_is_a_crash_and_the_next_call_works() {
    let env = hostile_env();
    let output = call(&env, READ_ONLY, "recurse", json!({ "depth": 100 })).success();
    assert_eq!(output.stdout, "recursed, sum 5050\n");
    let output = call(&env, READ_ONLY, "recurse", json!({ "depth": 1_000 })).fails_with(1);
    assert!(
        output.stderr.starts_with("error: the plugin crashed: "),
        "{}",
        output.stderr
    );
    assert_echo_works(&env);
}

/// Commands a WASM plugin runs need `exec = true` in its manifest, and run
/// in the process sandbox: the kernel confines them, the call's deadline
/// ends them.
#[test]
fn commands_need_the_exec_grant_and_run_in_the_process_sandbox() {
    let env = hostile_env();
    let script = |s: &str| json!({ "argv": ["sh", "-c", s] });
    let denied = call(&env, WORKSPACE_WRITE_NO_TMP, "run", script("echo hi"));
    assert_eq!(denied.code, 1);
    assert_eq!(
        denied.stdout,
        "cannot run: denied: running commands is not in this plugin's grant \
         (its manifest does not ask for `exec = true`)\n"
    );

    let manifest = HOSTILE_MANIFEST.replace("[capabilities]\n", "[capabilities]\nexec = true\n");
    install(
        &env,
        "hostile",
        &manifest,
        HOSTILE_ARTIFACT,
        &hostile_wasm(),
    );
    let outside = env.cwd().parent().unwrap().join("outside.txt");
    let ran = call(
        &env,
        WORKSPACE_WRITE_NO_TMP,
        "run",
        script(&format!(
            "echo hi > inside.txt; echo $WHARF_SANDBOX_NETWORK_DISABLED; echo x > {}",
            outside.display()
        )),
    )
    .success();
    assert!(
        ran.stdout
            .starts_with("exit Some(2), timed out false\nstdout: 1\nstderr: "),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stdout.contains("outside.txt: Read-only file system"),
        "{}",
        ran.stdout
    );
    assert!(env.cwd().join("inside.txt").is_file());
    assert!(!outside.exists());

    // The plugin's 2 s deadline ends a command that would run for a minute,
    // and with it the call.
    let started = Instant::now();
    let slow = call(&env, WORKSPACE_WRITE_NO_TMP, "run", script("sleep 60")).fails_with(1);
    assert_eq!(slow.stderr, "error: timed out after 2000 ms\n");
    assert!(started.elapsed() < Duration::from_secs(10));

    let missing = call(
        &env,
        WORKSPACE_WRITE_NO_TMP,
        "run",
        json!({ "argv": ["no-such-program-wharf"] }),
    );
    // A missing program is a failure, not a denial.
    assert_eq!(
        missing.stdout,
        "cannot run: no-such-program-wharf: command not found\n"
    );
    assert_echo_works(&env);
}

/// `exec` carries bytes that are not UTF-8 both ways exactly, sets the
/// request's variables on top of the session's environment — but never
/// lifts the sandbox's network marker — and refuses a variable no
/// environment can hold.
#[test]
fn exec_carries_bytes_and_the_request_variables() {
    let env = hostile_env();
    let manifest = HOSTILE_MANIFEST.replace("[capabilities]\n", "[capabilities]\nexec = true\n");
    install(
        &env,
        "hostile",
        &manifest,
        HOSTILE_ARTIFACT,
        &hostile_wasm(),
    );
    let stdin = [0xff_u8, 0xfe, 0, b'x', 0x80];
    let script =
        r#"cat; printf '%s|%s' "$WHARF_TEST_PLUGIN_VAR" "$WHARF_SANDBOX_NETWORK_DISABLED""#;
    let args = json!({
        "argv": ["sh", "-c", script],
        "stdin": stdin,
        "env": [
            ["WHARF_TEST_PLUGIN_VAR", "from the plugin"],
            ["WHARF_SANDBOX_NETWORK_DISABLED", "0"],
        ],
    });
    let mut argv = call_args(WORKSPACE_WRITE_NO_TMP, "run", &args);
    argv.push("--json".to_owned());
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let out = env.wharf(&argv).success();
    let outcome: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let mut expected = stdin.to_vec();
    expected.extend(b"from the plugin|1");
    assert_eq!(
        outcome["content"][1]["json"]["stdout"],
        json!(expected),
        "{outcome}"
    );

    for name in ["A=B", "", "A\u{0}B"] {
        let bad = call(
            &env,
            WORKSPACE_WRITE_NO_TMP,
            "run",
            json!({ "argv": ["true"], "env": [[name, "x"]] }),
        );
        assert_eq!(
            bad.stdout,
            format!(
                "cannot run: `{}` is not a valid environment variable name (it must be \
                 non-empty, without `=` or NUL)\n",
                name.escape_debug()
            )
        );
    }
}
