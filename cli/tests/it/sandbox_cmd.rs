//! `wharf sandbox -- CMD`: the configured policy, enforced by the kernel,
//! on a command run from the command line.

use crate::Env;

/// Workspace-write without `/tmp`, where the test's directories live.
const WORKSPACE_WRITE: &[&str] = &[
    "-s",
    "workspace-write",
    "-c",
    "sandbox_workspace_write.exclude_slash_tmp=true",
];

fn sandboxed(env: &Env, sandbox: &[&str], script: &str) -> crate::Output {
    let mut args = sandbox.to_vec();
    args.extend(["sandbox", "--", "sh", "-c", script]);
    env.wharf(&args)
}

#[test]
fn commands_run_under_the_configured_policy() {
    let env = Env::new();
    let outside = env.cwd().parent().unwrap().join("outside.txt");

    let ran = sandboxed(
        &env,
        WORKSPACE_WRITE,
        "echo hi > inside.txt && echo $WHARF_SANDBOX_NETWORK_DISABLED",
    )
    .success();
    assert_eq!(ran.stdout, "1\n");
    assert_eq!(
        std::fs::read_to_string(env.cwd().join("inside.txt")).unwrap(),
        "hi\n"
    );

    let denied = sandboxed(
        &env,
        WORKSPACE_WRITE,
        &format!("echo x > {}", outside.display()),
    );
    assert_eq!(denied.code, 2, "{}", denied.stderr);
    assert!(
        // Outside the writable roots the whole tree is mounted read-only.
        denied.stderr.contains("Read-only file system"),
        "{}",
        denied.stderr
    );
    assert!(!outside.exists());

    let read_only = sandboxed(&env, &["-s", "read-only"], "echo x > new.txt");
    assert_ne!(read_only.code, 0);
    assert!(!env.cwd().join("new.txt").exists());

    // The command's own status comes back.
    assert_eq!(sandboxed(&env, WORKSPACE_WRITE, "exit 7").code, 7);
    assert_eq!(sandboxed(&env, WORKSPACE_WRITE, "kill -9 $$").code, 128 + 9);
}

#[test]
fn bad_commands_say_what_is_wrong() {
    let env = Env::new();
    let missing = env.wharf(&["sandbox", "--", "no-such-program-wharf"]);
    assert_eq!(missing.code, 127);
    assert_eq!(
        missing.stderr,
        "error: no-such-program-wharf: command not found\n"
    );

    let nothing = env.wharf(&["sandbox"]);
    assert_eq!(nothing.code, 2);
    assert!(nothing.stderr.contains("<COMMAND>"), "{}", nothing.stderr);
}
