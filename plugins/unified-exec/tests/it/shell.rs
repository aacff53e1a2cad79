//! The one-shot `shell` tool.

use std::time::{Duration, Instant};

use wharf_plugin_unified_exec::{ShellArgs, TIMEOUT_EXIT_CODE, shell};

use crate::{Fixture, never};

fn run(
    fx: &Fixture,
    command: &[&str],
    timeout_ms: Option<u64>,
) -> wharf_plugin_unified_exec::ShellResponse {
    let args = ShellArgs {
        command: command.iter().map(|&arg| arg.to_owned()).collect(),
        workdir: None,
        timeout_ms,
        ..ShellArgs::default()
    };
    shell(&fx.sandbox, args, &never).unwrap()
}

#[test]
fn runs_argv_without_a_shell() {
    let fx = Fixture::new();
    let response = run(&fx, &["echo", "a  b", "$HOME"], None);
    assert_eq!(response.exit_code, 0);
    assert_eq!(response.output, "a  b $HOME\n");
    let text = response.to_string();
    assert!(text.starts_with("Exit code: 0\nWall time: "), "{text}");
    assert!(text.ends_with(" seconds\nOutput:\na  b $HOME\n"), "{text}");
}

#[test]
fn a_failing_command_is_output_with_its_exit_code() {
    let fx = Fixture::new();
    let response = run(&fx, &["sh", "-c", "echo out; echo err >&2; exit 4"], None);
    assert_eq!(response.exit_code, 4);
    assert_eq!(response.output, "out\nerr\n");
}

#[test]
fn a_command_past_its_timeout_is_killed() {
    let fx = Fixture::new();
    let started = Instant::now();
    let response = run(
        &fx,
        &["sh", "-c", "echo started; exec sleep 100"],
        Some(300),
    );
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(response.exit_code, TIMEOUT_EXIT_CODE);
    assert_eq!(response.timed_out_after_ms, Some(300));
    assert!(
        response
            .to_string()
            .ends_with("\nOutput:\ncommand timed out after 300 milliseconds\nstarted\n"),
        "{response}"
    );
}

#[test]
fn a_flood_is_truncated() {
    let fx = Fixture::new();
    let response = run(&fx, &["seq", "1", "1000000"], None);
    assert_eq!(response.exit_code, 0);
    assert_eq!(response.original_token_count, Some(1_722_224));
    assert!(response.output.contains(" tokens truncated…"));
    assert!(
        response
            .to_string()
            .contains("\nOriginal token count: 1722224\nOutput:\n1\n")
    );
}
