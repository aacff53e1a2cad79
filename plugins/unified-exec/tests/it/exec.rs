//! exec_command and write_stdin on one session at a time.

use std::time::Duration;

use wharf_plugin_unified_exec::{ExecArgs, ExecError, SessionId, Status};

use crate::{Fixture, args, running};

#[test]
fn a_quick_command_reports_its_exit_code_and_output() {
    let fx = Fixture::new();
    let response = fx.exec("echo hi; exit 3");
    assert_eq!(response.status, Status::Exited(3));
    assert_eq!(response.output, "hi\n");
    assert_eq!(response.original_token_count, None);
    let text = response.to_string();
    assert!(text.starts_with("Wall time: "), "{text}");
    assert!(
        text.ends_with(" seconds\nProcess exited with code 3\nOutput:\nhi\n"),
        "{text}"
    );
    // It returned on exit, not at the end of the yield.
    assert!(response.wall_time < Duration::from_millis(250), "{text}");
}

#[test]
fn the_default_is_a_login_bash() {
    let fx = Fixture::new();
    let args = ExecArgs {
        cmd: "shopt -q login_shell && echo login $BASH_VERSION".to_owned(),
        ..ExecArgs::default()
    };
    let response = fx.try_exec(args).unwrap();
    assert_eq!(response.exit_code(), Some(0), "{response}");
    // (A login shell reads the profile, which may print its own lines.)
    assert!(
        response
            .output
            .lines()
            .any(|line| line.starts_with("login ")),
        "{response}"
    );
}

#[test]
fn commands_get_the_non_interactive_environment() {
    let fx = Fixture::new();
    let response = fx.exec(
        "echo $NO_COLOR $TERM $PAGER $GIT_PAGER $GH_PAGER $LANG $LC_ALL $LC_CTYPE [$COLORTERM]",
    );
    assert_eq!(
        response.output,
        "1 dumb cat cat cat C.UTF-8 C.UTF-8 C.UTF-8 []\n"
    );
}

#[test]
fn pipes_merge_stdout_and_stderr_in_order_with_stdin_closed() {
    let fx = Fixture::new();
    let response = fx.exec("echo one; echo two >&2; echo three; cat; echo four >&2");
    assert_eq!(response.status, Status::Exited(0));
    assert_eq!(response.output, "one\ntwo\nthree\nfour\n");
}

#[test]
fn workdir_is_relative_to_the_sandbox_cwd() {
    let fx = Fixture::new();
    std::fs::create_dir(fx.work.join("sub")).unwrap();
    let mut args = args("pwd");
    args.workdir = Some("sub".to_owned());
    let response = fx.try_exec(args).unwrap();
    assert_eq!(
        response.output,
        format!("{}\n", fx.work.join("sub").display())
    );
}

#[test]
fn a_long_running_command_becomes_a_session_until_it_exits() {
    let fx = Fixture::new();
    let first = fx.exec("echo started; sleep 1; echo done");
    assert_eq!(first.status, Status::Running(SessionId(1)));
    assert_eq!(first.output, "started\n");
    assert!(
        first
            .to_string()
            .contains("\nProcess running with session ID 1\nOutput:\nstarted\n"),
        "{first}"
    );
    // A poll waits for the exit, not for the whole 5 s of a poll.
    let poll = fx.write(SessionId(1), "", 250);
    assert_eq!(poll.status, Status::Exited(0), "{poll}");
    assert_eq!(poll.output, "done\n");
    assert!(poll.wall_time < Duration::from_secs(2), "{poll}");
    // Its exit was reported: the session is gone.
    assert!(matches!(
        fx.try_write(SessionId(1), "", 250),
        Err(ExecError::UnknownSession(1))
    ));
    assert!(fx.exec.sessions(crate::SESSION).is_empty());
}

#[test]
fn an_interactive_program_on_a_pty() {
    let fx = Fixture::new();
    let mut args = args("exec python3 -i -q");
    args.tty = Some(true);
    args.yield_time_ms = Some(500);
    let started = fx.try_exec(args).unwrap();
    let id = running(&started);
    // Python prints its prompt once it has started, which a busy machine
    // can take longer than the first yield to do.
    let mut shown = started.output.clone();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !shown.contains(">>> ") && std::time::Instant::now() < deadline {
        shown.push_str(&fx.write(id, "", 250).output);
    }
    assert!(shown.contains(">>> "), "{started}\n{shown}");

    let answer = fx.write(id, "print(6 * 7)\n", 500);
    assert_eq!(answer.status, Status::Running(id));
    // The terminal echoes the input, then Python answers.
    assert!(answer.output.contains("print(6 * 7)"), "{answer}");
    assert!(answer.output.contains("42\r\n"), "{answer}");

    let state = fx.write(id, "x = 'kept'\nprint(x.upper())\n", 500);
    assert!(state.output.contains("KEPT"), "{state}");

    let exit = fx.write(id, "raise SystemExit(5)\n", 2000);
    assert_eq!(exit.status, Status::Exited(5), "{exit}");
}

#[test]
fn a_shell_on_a_pty_keeps_its_state_between_calls() {
    let fx = Fixture::new();
    let mut args = args("exec bash --norc --noprofile -i");
    args.tty = Some(true);
    let id = running(&fx.try_exec(args).unwrap());
    fx.write(id, "cd /; X=remembered\n", 250);
    let response = fx.write(id, "echo \"$PWD $X\"\n", 250);
    assert!(response.output.contains("/ remembered"), "{response}");
    let exit = fx.write(id, "exit 7\n", 2000);
    assert_eq!(exit.status, Status::Exited(7), "{exit}");
}

#[test]
fn a_flood_is_truncated_with_the_marker() {
    let fx = Fixture::new();
    let response = fx.exec("seq 1 1000000");
    assert_eq!(response.status, Status::Exited(0));
    // `seq 1 1000000` writes 6_888_896 bytes: ⌈/4⌉ tokens.
    assert_eq!(response.original_token_count, Some(1_722_224));
    assert!(response.output.starts_with("1\n2\n3\n"), "{response}");
    assert!(response.output.ends_with("999999\n1000000\n"));
    assert!(response.output.contains(" tokens truncated…"));
    // 10_000 tokens of 4 bytes, plus the marker.
    assert!(
        response.output.len() <= 40_000 + 40,
        "{}",
        response.output.len()
    );
    assert!(
        response
            .to_string()
            .contains("\nOriginal token count: 1722224\nOutput:\n1\n2\n"),
    );
}

#[test]
fn the_buffer_keeps_one_mebibyte_of_a_flood() {
    let fx = Fixture::new();
    let mut args = args("head -c 5000000 /dev/zero | tr '\\0' a");
    args.max_output_tokens = Some(10_000_000);
    let response = fx.try_exec(args).unwrap();
    assert_eq!(response.status, Status::Exited(0));
    assert_eq!(response.original_token_count, Some(1_250_000));
    // 512 KiB, the marker for what the buffer dropped, 512 KiB.
    let half = "a".repeat(512 * 1024);
    let removed = 1_250_000 - 1024 * 1024 / 4;
    assert_eq!(
        response.output,
        format!("{half}…{removed} tokens truncated…{half}")
    );
}

#[test]
fn output_collected_by_one_call_is_not_repeated_by_the_next() {
    let fx = Fixture::new();
    let first = fx.exec("echo one; sleep 0.5; echo two");
    let id = running(&first);
    assert_eq!(first.output, "one\n");
    let second = fx.write(id, "", 250);
    assert_eq!(second.output, "two\n", "{second}");
    assert_eq!(second.status, Status::Exited(0));
}

#[test]
fn typing_into_a_program_that_exited_reports_its_exit() {
    let fx = Fixture::new();
    let mut args = args("sleep 0.3; exit 4");
    args.tty = Some(true);
    let id = running(&fx.try_exec(args).unwrap());
    assert!(
        fx.exec
            .wait_for_exit(crate::SESSION, id, Duration::from_secs(5)),
        "it did not exit"
    );
    let response = fx.write(id, "too late\n", 250);
    assert_eq!(response.status, Status::Exited(4), "{response}");
}
