//! The builtin unified_exec and shell plugins through the real binary:
//! registered by cargo feature, gated by feature flags, run under the
//! process sandbox, ended with the session.

use std::time::{Duration, Instant};

use crate::Env;

const WORKSPACE_WRITE: &[&str] = &[
    "-s",
    "workspace-write",
    "-c",
    "sandbox_workspace_write.exclude_slash_tmp=true",
];

pub(crate) fn tool_call(
    env: &Env,
    flags: &[&str],
    tool: &str,
    args: &serde_json::Value,
) -> crate::Output {
    let args = args.to_string();
    let mut argv = flags.to_vec();
    argv.extend(["tool", "call", tool, "--args", &args]);
    env.wharf(&argv)
}

#[test]
fn unified_exec_replaces_shell_and_both_are_listed() {
    let env = Env::new();
    let listed = env.wharf(&["tool", "list"]).success().stdout;
    let state = |tool: &str| {
        listed
            .lines()
            .find(|line| line.starts_with(&format!("{tool} ")))
            .map(|line| {
                line.split_whitespace()
                    .nth(2)
                    .unwrap_or_default()
                    .to_owned()
            })
    };
    assert_eq!(state("exec_command").as_deref(), Some("on"), "{listed}");
    assert_eq!(state("write_stdin").as_deref(), Some("on"), "{listed}");
    assert_eq!(state("shell").as_deref(), Some("off"), "{listed}");

    let refused = tool_call(
        &env,
        &[],
        "shell",
        &serde_json::json!({ "command": ["true"] }),
    );
    assert_eq!(refused.code, 1);
    assert_eq!(
        refused.stderr,
        "error: tool `shell` is not available: feature `unified_exec` is on and replaces \
         `shell_tool` (turn it off with `--disable unified_exec`)\n"
    );
    let mut flags = WORKSPACE_WRITE.to_vec();
    flags.extend(["--disable", "unified_exec"]);
    let ran = tool_call(
        &env,
        &flags,
        "shell",
        &serde_json::json!({ "command": ["sh", "-c", "echo one-shot > made.txt; cat made.txt"] }),
    )
    .success();
    assert!(ran.stdout.starts_with("Exit code: 0\n"), "{}", ran.stdout);
    assert!(
        ran.stdout.ends_with("Output:\none-shot\n"),
        "{}",
        ran.stdout
    );
}

#[test]
fn exec_command_runs_in_the_sandbox_and_ends_with_the_session() {
    let env = Env::new();
    std::fs::create_dir_all(env.cwd().join(".git")).unwrap();
    let outside = env.cwd().parent().unwrap().join("outside.txt");
    let script = format!(
        "echo hi > inside.txt; touch .git/hook; echo x > {}; echo done",
        outside.display()
    );
    let ran = tool_call(
        &env,
        WORKSPACE_WRITE,
        "exec_command",
        &serde_json::json!({ "cmd": script, "login": false }),
    )
    .success();
    assert!(
        ran.stdout.contains("Process exited with code 0\n"),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stdout.contains("Read-only file system"),
        "{}",
        ran.stdout
    );
    assert!(
        ran.stdout.contains("outside.txt: Read-only file system"),
        "{}",
        ran.stdout
    );
    assert!(ran.stdout.ends_with("done\n"), "{}", ran.stdout);
    assert!(env.cwd().join("inside.txt").is_file());
    assert!(!env.cwd().join(".git/hook").exists());
    assert!(!outside.exists());

    // A command still running when `wharf tool call` returns is ended with
    // the session: by the time wharf exits, the process is gone. (It runs
    // in its own PID namespace, so it is found by its unique argument.)
    let started = Instant::now();
    let sleep = format!("30.{}", std::process::id());
    let running = tool_call(
        &env,
        WORKSPACE_WRITE,
        "exec_command",
        &serde_json::json!({ "cmd": format!("exec sleep {sleep}"), "login": false, "yield_time_ms": 250 }),
    )
    .success();
    assert!(
        running
            .stdout
            .contains("Process running with session ID 1\n"),
        "{}",
        running.stdout
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    let cmdline = format!("sleep\0{sleep}\0");
    let outlived = std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|entry| {
            std::fs::read(entry.path().join("cmdline"))
                .is_ok_and(|bytes| bytes == cmdline.as_bytes())
        })
        .count();
    assert_eq!(outlived, 0, "`sleep {sleep}` outlived the session");
}

/// Bad arguments are usage errors (exit 2); a command that cannot start is
/// a tool error (exit 1). Neither crashes anything.
#[test]
fn bad_exec_input_is_a_tool_error() {
    let env = Env::new();
    let unknown = tool_call(
        &env,
        &[],
        "write_stdin",
        &serde_json::json!({ "session_id": 42 }),
    );
    assert_eq!(unknown.code, 2, "{}", unknown.stderr);
    assert!(unknown.stderr.contains("42"), "{}", unknown.stderr);
    let empty = tool_call(
        &env,
        &[],
        "exec_command",
        &serde_json::json!({ "cmd": "  " }),
    );
    assert_eq!(empty.code, 2, "{}", empty.stderr);
    let workdir = tool_call(
        &env,
        &[],
        "exec_command",
        &serde_json::json!({ "cmd": "true", "workdir": "missing" }),
    );
    assert_eq!(workdir.code, 1, "{}", workdir.stderr);
    assert!(
        workdir.stderr.contains("no such directory"),
        "{}",
        workdir.stderr
    );
}
