//! The approval policies through `wharf -a POLICY tool call`: the real
//! unified_exec plugin, the real sandbox, and the person at a real
//! pseudo-terminal (`script`) typing the answer. Where the sandbox's writes
//! are at stake, as root and again as `nobody`.

use serde_json::json;

use super::*;
use crate::escapes::on_a_terminal;

/// `wharf FLAGS tool call exec_command --args ARGS` as `user` on a
/// terminal, answering `answer`; everything the terminal showed.
fn on_terminal(
    env: &Env,
    user: User,
    flags: &[&str],
    args: &serde_json::Value,
    answer: &str,
) -> String {
    let args = args.to_string();
    let mut words = Vec::new();
    if user == User::Nobody {
        words.extend([
            "setpriv",
            "--reuid=nobody",
            "--regid=nogroup",
            "--clear-groups",
        ]);
    }
    words.push(env!("CARGO_BIN_EXE_wharf"));
    words.extend(flags);
    words.extend(["tool", "call", "exec_command", "--args", &args]);
    let line: Vec<String> = words.into_iter().map(shell_quote).collect();
    on_a_terminal(env, &line.join(" "), &format!("{answer}\n"))
}

/// `wharf FLAGS tool call exec_command --args ARGS` with no terminal to
/// ask on (stdin is not one).
fn without_terminal(env: &Env, flags: &[&str], args: &serde_json::Value) -> Output {
    let args = args.to_string();
    let mut words: Vec<&str> = flags.to_vec();
    words.extend(["tool", "call", "exec_command", "--args", &args]);
    env.wharf(&words)
}

fn cmd(cmd: &str) -> serde_json::Value {
    json!({ "cmd": cmd, "login": false })
}

fn escalated(cmd: &str) -> serde_json::Value {
    json!({
        "cmd": cmd,
        "login": false,
        "sandbox_permissions": "require_escalated",
        "justification": "it must write the file"
    })
}

const UNTRUSTED: &[&str] = &["-a", "untrusted", "-s", "workspace-write"];
const ON_FAILURE_READ_ONLY: &[&str] = &["-a", "on-failure", "-s", "read-only"];
const ON_REQUEST_READ_ONLY: &[&str] = &["-a", "on-request", "-s", "read-only"];

/// Under `untrusted`, a command that only reads runs without asking: here
/// with no terminal, where anything that asked would be refused. Joined to
/// one that writes, or hiding one in a substitution, it asks, and is
/// refused.
#[test]
fn untrusted_runs_known_safe_commands_without_asking() {
    let env = Env::new();
    std::fs::write(env.cwd().join("notes.txt"), "a\nb\n").unwrap();
    let ran = without_terminal(
        &env,
        UNTRUSTED,
        &cmd("cat notes.txt | wc -l && git status || pwd"),
    )
    .success();
    assert!(
        ran.stdout.contains("Process exited with code"),
        "{}",
        ran.stdout
    );
    assert!(!ran.stderr.contains("needs approval"), "{}", ran.stderr);

    for hidden in [
        "ls; touch made",
        "echo $(touch made)",
        "echo `touch made`",
        "cat notes.txt > made",
        "find . -delete",
        "sed -i s/a/b/ notes.txt",
        "git -c core.pager=evil log",
        "bash -c 'touch made'",
    ] {
        let refused = without_terminal(&env, UNTRUSTED, &cmd(hidden)).fails_with(1);
        assert!(
            refused
                .stderr
                .contains("needs approval under approval_policy `untrusted` (it runs commands)"),
            "{hidden}: {}",
            refused.stderr
        );
        assert!(!env.cwd().join("made").exists(), "{hidden}");
        assert_eq!(
            std::fs::read_to_string(env.cwd().join("notes.txt")).unwrap(),
            "a\nb\n",
            "{hidden}"
        );
    }
}

/// The command line is judged as the shell that runs it reads it: another
/// program in the shell's place (`"shell": "python3"` reads `cmd` as
/// Python) is refused by the schema before anything asks or runs.
#[test]
fn a_safe_looking_command_cannot_pick_another_interpreter() {
    let env = Env::new();
    for shell in ["python3", "/tmp/evil", "perl", "bash -x"] {
        let args = json!({ "cmd": "echo hi", "login": false, "shell": shell });
        let refused = without_terminal(&env, UNTRUSTED, &args).fails_with(2);
        assert!(
            refused
                .stderr
                .contains("invalid arguments for `exec_command`: /shell"),
            "{shell}: {}",
            refused.stderr
        );
    }
    let args = json!({ "cmd": "echo hi", "login": false, "shell": "/bin/sh" });
    without_terminal(&env, UNTRUSTED, &args).success();
}

/// Under `untrusted`, a command that writes asks on the terminal, showing
/// the command; `n` refuses it, `y` runs it.
#[test]
fn untrusted_asks_for_a_command_that_writes() {
    for (answer, runs) in [("n", false), ("y", true)] {
        let env = Env::new();
        let shown = on_terminal(&env, User::Me, UNTRUSTED, &cmd("touch made"), answer);
        assert!(
            shown.contains("needs approval: it runs commands"),
            "{shown}"
        );
        assert!(shown.contains("command: touch made"), "{shown}");
        assert!(shown.contains("run it? [y/N]"), "{shown}");
        assert_eq!(env.cwd().join("made").exists(), runs, "{answer}: {shown}");
    }
}

/// Under `on-failure`, a write the read-only sandbox denied asks to run
/// the command again without the sandbox, naming the denial: `y` writes
/// the file, `n` leaves the failure as it was.
#[test]
fn on_failure_offers_to_rerun_a_denied_write_without_the_sandbox() {
    for user in users() {
        for (answer, written) in [("y", true), ("n", false)] {
            let env = env_for(user);
            let shown = on_terminal(&env, user, ON_FAILURE_READ_ONLY, &cmd("touch made"), answer);
            let what = format!("{user:?}, {answer}: {shown}");
            assert!(
                shown.contains("`touch made` failed in the sandbox: touch: cannot touch 'made'"),
                "{what}"
            );
            assert!(
                shown.contains("run it again without the sandbox? [y/N]"),
                "{what}"
            );
            assert_eq!(env.cwd().join("made").exists(), written, "{what}");
            if !written {
                assert!(
                    shown.contains("Process exited with code 1"),
                    "the sandbox's failure stands: {what}"
                );
            }
        }
    }
}

/// A command that fails for its own reasons is not offered a re-run.
#[test]
fn on_failure_asks_nothing_for_a_failure_of_its_own() {
    let env = Env::new();
    let ran = without_terminal(&env, ON_FAILURE_READ_ONLY, &cmd("echo broken; exit 3")).success();
    assert!(
        ran.stdout.contains("Process exited with code 3"),
        "{}",
        ran.stdout
    );
    assert!(!ran.stderr.contains("approval"), "{}", ran.stderr);
}

/// Under `on-request`, the model may ask to run a command outside the
/// sandbox with a justification: the terminal shows it, `y` runs the
/// command without the sandbox (the write lands), `n` runs nothing.
#[test]
fn on_request_escalation_asks_with_the_justification() {
    for user in users() {
        for (answer, written) in [("y", true), ("n", false)] {
            let env = env_for(user);
            let shown = on_terminal(
                &env,
                user,
                ON_REQUEST_READ_ONLY,
                &escalated("touch made"),
                answer,
            );
            let what = format!("{user:?}, {answer}: {shown}");
            assert!(
                shown.contains("justification: it must write the file"),
                "{what}"
            );
            assert!(
                shown.contains("run it outside the sandbox? [y/N]"),
                "{what}"
            );
            assert_eq!(env.cwd().join("made").exists(), written, "{what}");
        }
    }
}

/// Escalation is refused with a message the model reads under every
/// policy but `on-request`, and with nobody to approve; nothing runs.
#[test]
fn escalation_is_refused_where_it_is_not_allowed() {
    let env = Env::new();
    let cases: &[(&[&str], &str)] = &[
        (
            &["-a", "never", "-s", "read-only"],
            "escalation is not allowed under approval_policy never",
        ),
        (
            &["-a", "untrusted", "-s", "read-only"],
            "you should not ask for escalated permissions if the approval policy is untrusted",
        ),
        (
            ON_FAILURE_READ_ONLY,
            "you should not ask for escalated permissions if the approval policy is on-failure",
        ),
        (ON_REQUEST_READ_ONLY, "nobody can approve in this session"),
        (
            &["-s", "read-only"],
            "asks to run outside the sandbox (`sandbox_permissions`)",
        ),
    ];
    for (flags, message) in cases {
        let refused = without_terminal(&env, flags, &escalated("touch made")).fails_with(1);
        assert!(
            refused.stderr.contains(message),
            "{flags:?}: {}",
            refused.stderr
        );
        assert!(!env.cwd().join("made").exists(), "{flags:?}");
    }
}

/// A call of `exec_command` with `arguments`, as the model sends it.
fn model_calls(id: &str, arguments: &serde_json::Value) -> serde_json::Value {
    json!({"type": "output_item_done", "item": {"type": "function_call", "call_id": id,
        "name": "exec_command", "arguments": arguments.to_string()}})
}

/// The agent under `wharf exec` (no one to approve), the model replayed:
/// under `untrusted` its read-only command runs and its write is declined;
/// its request to leave the sandbox is declined under `never` (exec's
/// default) and, with nobody to approve, under `on-request`. The model
/// reads why each time.
#[test]
fn the_agent_runs_what_its_policy_allows_and_the_model_reads_the_rest() {
    use crate::exec::{done, recording, say};
    let cases: &[(&[&str], serde_json::Value, serde_json::Value, &str)] = &[
        (
            &["-a", "untrusted"],
            cmd("cat notes.txt"),
            cmd("touch made"),
            "needs approval under approval_policy `untrusted` (it runs commands)",
        ),
        (
            &[],
            cmd("cat notes.txt"),
            escalated("touch made"),
            "escalation is not allowed under approval_policy never",
        ),
        (
            &["-a", "on-request"],
            cmd("cat notes.txt"),
            escalated("touch made"),
            "asks to run outside the sandbox under approval_policy `on-request`, and nobody can approve",
        ),
    ];
    for (policy, first, second, declined) in cases {
        let env = Env::new();
        std::fs::write(env.cwd().join("notes.txt"), "the notes\n").unwrap();
        let rec = env.dir.path().join("rec.jsonl");
        let text = recording(&[
            (
                1,
                "user_message",
                &[],
                vec![model_calls("call_1", first), done(1)],
            ),
            (
                3,
                "tool_output",
                &["call_1"],
                vec![model_calls("call_2", second), done(1)],
            ),
            (5, "tool_output", &["call_2"], vec![say("done"), done(1)]),
        ]);
        std::fs::write(&rec, text).unwrap();
        let mut args: Vec<&str> = vec!["-s", "workspace-write"];
        args.extend(*policy);
        let rec = display(&rec);
        args.extend([
            "exec",
            "--skip-git-repo-check",
            "--json",
            "--replay",
            &rec,
            "look",
        ]);
        let output = env.wharf(&args).success();
        let items: Vec<serde_json::Value> = output
            .stdout
            .lines()
            .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
            .filter(|event| {
                event["type"] == "item.completed" && event["item"]["type"] == "command_execution"
            })
            .map(|event| event["item"].clone())
            .collect();
        assert_eq!(items.len(), 2, "{policy:?}: {}", output.stdout);
        assert_eq!(items[0]["status"], "completed", "{policy:?}: {}", items[0]);
        assert!(
            items[0]["aggregated_output"]
                .as_str()
                .unwrap()
                .contains("the notes"),
            "{policy:?}: {}",
            items[0]
        );
        assert_eq!(items[1]["status"], "declined", "{policy:?}: {}", items[1]);
        assert!(
            items[1]["aggregated_output"]
                .as_str()
                .unwrap()
                .contains(declined),
            "{policy:?}: {}",
            items[1]
        );
        assert!(!env.cwd().join("made").exists(), "{policy:?}");
    }
}
