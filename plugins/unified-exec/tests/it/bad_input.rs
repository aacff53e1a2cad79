//! Bad input is a tool error the model can read, never a crash.

use wharf_plugin_unified_exec::{ExecArgs, ExecError, ShellArgs, Status, shell};
use wharf_sandbox::{KernelSupport, Namespaces, SpawnError};

use crate::{Fixture, SESSION, args, never};

#[test]
fn bad_exec_commands_are_errors() {
    let fx = Fixture::new();
    std::fs::write(fx.work.join("file"), "").unwrap();
    let with = |change: fn(&mut ExecArgs)| {
        let mut args = args("true");
        change(&mut args);
        args
    };
    let cases: Vec<(ExecArgs, &str)> = vec![
        (args(""), "the command is empty"),
        (args(" \n "), "the command is empty"),
        (
            with(|a| a.shell = Some("/no/such/shell".into())),
            "/no/such/shell: command not found",
        ),
        (
            with(|a| a.workdir = Some("no/such/dir".into())),
            "no/such/dir: no such directory",
        ),
        (
            with(|a| a.workdir = Some("file".into())),
            "file: not a directory",
        ),
    ];
    for (args, message) in cases {
        let what = format!("{args:?}");
        let err = fx.try_exec(args).unwrap_err();
        assert!(err.to_string().contains(message), "{what}: {err}");
    }
    assert!(fx.exec.sessions(SESSION).is_empty());
}

#[test]
fn a_missing_program_inside_the_shell_is_output_not_an_error() {
    let fx = Fixture::new();
    let response = fx.exec("no-such-program-wharf");
    assert_eq!(response.status, Status::Exited(127));
    assert!(response.output.contains("command not found"), "{response}");
}

#[test]
fn an_unenforceable_sandbox_runs_nothing() {
    let fx = Fixture::new();
    let weak = fx.sandbox.clone().with_kernel(KernelSupport {
        landlock_abi: 0,
        seccomp: true,
        namespaces: Namespaces::Available,
    });
    let err = fx
        .exec
        .exec_command(&weak, SESSION, args("touch ran"), &never)
        .unwrap_err();
    assert!(
        matches!(err, ExecError::Spawn(SpawnError::Unenforceable { .. })),
        "{err}"
    );
    let err = shell(&weak, argv(&["touch", "ran"]), &never).unwrap_err();
    assert!(err.to_string().contains("cannot be enforced"), "{err}");
    assert!(!fx.work.join("ran").exists());
}

#[test]
fn unknown_sessions_are_errors() {
    let fx = Fixture::new();
    for id in [0, 1, 999, -1, i64::MAX] {
        let args = wharf_plugin_unified_exec::WriteStdinArgs {
            session_id: id,
            chars: "x".to_owned(),
            ..Default::default()
        };
        let err = fx.exec.write_stdin(SESSION, args, &never).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "unknown session id {id}: it exited, was closed or never existed (start a new \
                 command with exec_command)"
            )
        );
    }
}

#[test]
fn typing_into_a_session_on_pipes_is_an_error() {
    let fx = Fixture::new();
    let id = crate::running(&fx.exec("exec sleep 100"));
    let err = fx.try_write(id, "input\n", 250).unwrap_err();
    assert!(matches!(err, ExecError::NoStdin(_)), "{err}");
    assert!(err.to_string().contains("tty=true"), "{err}");
    // The session is still there.
    assert_eq!(fx.exec.sessions(SESSION)[0].id, id);
    fx.exec.end_session(SESSION);
}

#[test]
fn bad_shell_commands_are_errors() {
    let fx = Fixture::new();
    let cases: &[(&[&str], &str)] = &[
        (&[], "the command is empty"),
        (&[""], "the command is empty"),
        (
            &["no-such-program-wharf"],
            "no-such-program-wharf: command not found",
        ),
    ];
    for (command, message) in cases {
        let err = shell(&fx.sandbox, argv(command), &never).unwrap_err();
        assert!(err.to_string().contains(message), "{command:?}: {err}");
    }
    let mut args = argv(&["true"]);
    args.workdir = Some("missing".into());
    let err = shell(&fx.sandbox, args, &never).unwrap_err();
    assert!(err.to_string().contains("no such directory"), "{err}");
}

fn argv(command: &[&str]) -> ShellArgs {
    ShellArgs {
        command: command.iter().map(|&arg| arg.to_owned()).collect(),
        ..ShellArgs::default()
    }
}
