//! The tools as the host calls them: JSON arguments, the sandbox in the
//! context, errors as `ToolError`s.

use wharf_plugin_api::{Args, Context, Tool, ToolError};
use wharf_plugin_unified_exec::tools::{ExecCommand, Shell, WriteStdin, manager};

use crate::Fixture;

fn context(fx: &Fixture) -> Context {
    let sandbox = serde_json::to_value(&fx.sandbox).unwrap();
    Context::new(&fx.work).with_sandbox(sandbox)
}

#[test]
fn exec_command_and_write_stdin_through_the_tool_interface() {
    let fx = Fixture::new();
    let cx = context(&fx);
    let args = Args::new(r#"{"cmd": "echo $((6 * 7))", "login": false}"#);
    let text = ExecCommand::call(&cx, args).unwrap().as_text();
    assert!(
        text.ends_with("\nProcess exited with code 0\nOutput:\n42\n"),
        "{text}"
    );

    let args = Args::new(r#"{"cmd": "exec sleep 100", "login": false, "yield_time_ms": 0}"#);
    let text = ExecCommand::call(&cx, args).unwrap().as_text();
    let id: u32 = text
        .lines()
        .find_map(|line| line.strip_prefix("Process running with session ID "))
        .unwrap()
        .parse()
        .unwrap();
    let pid = manager().sessions(cx.session_id())[0].pid;
    let write = Args::new(format!(r#"{{"session_id": {id}, "chars": "x"}}"#));
    let err = WriteStdin::call(&cx, write).unwrap_err();
    assert!(
        matches!(&err, ToolError::InvalidArgs(message) if message.contains("tty=true")),
        "{err}"
    );
    WriteStdin::end_session(cx.session_id());
    crate::assert_dies(pid);
    let poll = Args::new(format!(r#"{{"session_id": {id}}}"#));
    assert!(matches!(
        WriteStdin::call(&cx, poll),
        Err(ToolError::InvalidArgs(_))
    ));
}

#[test]
fn shell_through_the_tool_interface() {
    let fx = Fixture::new();
    let args = Args::new(r#"{"command": ["sh", "-c", "echo hi; exit 2"]}"#);
    let text = Shell::call(&context(&fx), args).unwrap().as_text();
    assert!(text.starts_with("Exit code: 2\nWall time: "), "{text}");
    assert!(text.ends_with("\nOutput:\nhi\n"), "{text}");
}

/// Each tool tells the host which command it ran and how it ended, so
/// that the host judges the call by the exit code, not by the text.
#[test]
fn every_tool_reports_the_command_it_ran() {
    type Call = fn(&Context, Args) -> Result<wharf_plugin_api::Output, ToolError>;
    let fx = Fixture::new();
    let cx = context(&fx);
    let words = |words: &[&str]| words.iter().map(|word| (*word).to_owned()).collect();
    let reply = "read line; exit 5";
    // (tool, arguments; ID: the session the previous row left running)
    // → (argv, exit code)
    let cases: Vec<(Call, String, Vec<String>, Option<i32>)> = vec![
        (
            ExecCommand::call,
            r#"{"cmd": "exit 3", "login": false, "shell": "/bin/bash"}"#.to_owned(),
            words(&["/bin/bash", "-c", "exit 3"]),
            Some(3),
        ),
        (
            ExecCommand::call,
            format!(
                r#"{{"cmd": "{reply}", "login": false, "shell": "/bin/bash", "tty": true, "yield_time_ms": 0}}"#
            ),
            words(&["/bin/bash", "-c", reply]),
            None,
        ),
        (
            WriteStdin::call,
            r#"{"session_id": ID, "chars": "\n", "yield_time_ms": 10000}"#.to_owned(),
            words(&["/bin/bash", "-c", reply]),
            Some(5),
        ),
        (
            Shell::call,
            r#"{"command": ["sh", "-c", "exit 2"]}"#.to_owned(),
            words(&["sh", "-c", "exit 2"]),
            Some(2),
        ),
    ];
    let mut session = String::new();
    for (call, args, argv, exit_code) in cases {
        let args = args.replace("ID", &session);
        let output = call(&cx, Args::new(args.as_str())).unwrap();
        let ran = output
            .command()
            .unwrap_or_else(|| panic!("{args}: no command"));
        assert_eq!((&ran.argv, ran.exit_code), (&argv, exit_code), "{args}");
        if let Some(id) = output
            .as_text()
            .lines()
            .find_map(|line| line.strip_prefix("Process running with session ID "))
        {
            session = id.to_owned();
        }
    }
    WriteStdin::end_session(cx.session_id());
}

#[test]
fn tool_errors() {
    let fx = Fixture::new();
    let cx = context(&fx);
    type Expected = fn(&ToolError) -> bool;
    let cases: Vec<(Result<_, ToolError>, Expected)> = vec![
        (
            ExecCommand::call(&Context::new(&fx.work), Args::new(r#"{"cmd": "true"}"#)),
            |err| matches!(err, ToolError::Denied(m) if m.contains("no sandbox")),
        ),
        (
            Shell::call(
                &Context::new(&fx.work),
                Args::new(r#"{"command": ["true"]}"#),
            ),
            |err| matches!(err, ToolError::Denied(_)),
        ),
        (
            ExecCommand::call(&cx, Args::new(r#"{"cmd": ""}"#)),
            |err| matches!(err, ToolError::InvalidArgs(m) if m.contains("empty")),
        ),
        (
            ExecCommand::call(&cx, Args::new(r#"{"cmd": "true", "workdir": "nope"}"#)),
            |err| matches!(err, ToolError::Failed(m) if m.contains("no such directory")),
        ),
        (
            Shell::call(&cx, Args::new(r#"{"command": ["no-such-program-wharf"]}"#)),
            |err| matches!(err, ToolError::Failed(m) if m.contains("command not found")),
        ),
        (
            WriteStdin::call(&cx, Args::new(r#"{"session_id": 12345}"#)),
            |err| matches!(err, ToolError::InvalidArgs(m) if m.contains("unknown session id 12345")),
        ),
        (
            WriteStdin::call(&cx, Args::new(r#"{"chars": "x"}"#)),
            |err| matches!(err, ToolError::InvalidArgs(_)),
        ),
    ];
    for (index, (result, expected)) in cases.into_iter().enumerate() {
        let err = result.map(|output| output.as_text()).unwrap_err();
        assert!(expected(&err), "case {index}: {err:?}");
    }
}

/// The host's `[shell_environment_policy]` reaches the plugin inside the
/// sandbox's JSON: commands start from that environment, not wharf's, and
/// the plugin's own variables (`TERM=dumb`, …) apply on top.
#[test]
fn commands_start_from_the_environment_the_sandbox_carries() {
    let fx = Fixture::new();
    let policy_env = [
        ("PATH", "/usr/bin:/bin"),
        ("FROM_POLICY", "1"),
        ("TERM", "xterm"),
    ];
    let sandbox = fx.sandbox.clone().with_environment(
        policy_env
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect(),
    );
    let cx = Context::new(&fx.work).with_sandbox(serde_json::to_value(&sandbox).unwrap());
    // Set for this test process by cargo, so a leak would show.
    let inherited = "CARGO_MANIFEST_DIR";
    assert!(std::env::var_os(inherited).is_some());
    let outputs = [
        ExecCommand::call(&cx, Args::new(r#"{"cmd": "env", "login": false}"#)),
        Shell::call(&cx, Args::new(r#"{"command": ["env"]}"#)),
    ];
    for output in outputs {
        let text = output.unwrap().as_text();
        let lines: Vec<&str> = text.lines().collect();
        for expected in ["FROM_POLICY=1", "PATH=/usr/bin:/bin", "TERM=dumb"] {
            assert!(lines.contains(&expected), "no {expected} in {text}");
        }
        assert!(
            !lines
                .iter()
                .any(|line| line.starts_with(&format!("{inherited}="))),
            "{text}"
        );
    }
}

/// The model may ask to run a command outside the sandbox
/// (`sandbox_permissions`, `justification`, which the schemas offer: the
/// host's tests call the tools with them): the tools take them and run
/// the command under the sandbox the host passed, whatever they say.
#[test]
fn escalation_arguments_are_taken_and_ignored() {
    type Call = fn(&Context, Args) -> Result<wharf_plugin_api::Output, ToolError>;
    let fx = Fixture::new();
    let cx = context(&fx);
    let escalated = r#""sandbox_permissions": "require_escalated", "justification": "why""#;
    let cases: [(Call, String); 2] = [
        (
            ExecCommand::call,
            format!(r#"{{"cmd": "touch exec.txt", "login": false, {escalated}}}"#),
        ),
        (
            Shell::call,
            format!(r#"{{"command": ["touch", "shell.txt"], {escalated}}}"#),
        ),
    ];
    for (call, args) in cases {
        let output = call(&cx, Args::new(args.as_str())).unwrap();
        assert_eq!(output.command().unwrap().exit_code, Some(0), "{args}");
    }
    assert!(fx.work.join("exec.txt").is_file());
    assert!(fx.work.join("shell.txt").is_file());
}
