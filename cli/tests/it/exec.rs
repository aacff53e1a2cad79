//! `wharf exec` and `wharf resume` over recordings: the model's side is
//! replayed, the tools (the real unified_exec and apply_patch) really run.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::Env;

const MODEL: &str = "gpt-5.1-codex";

const SANDBOX: &[&str] = &[
    "-s",
    "workspace-write",
    "-c",
    "sandbox_workspace_write.exclude_slash_tmp=true",
];

/// One recorded request: (input items, last item kind, answered call ids,
/// events).
pub(crate) type Request = (usize, &'static str, &'static [&'static str], Vec<Value>);

pub(crate) fn recording(requests: &[Request]) -> String {
    let mut text = String::new();
    for (index, (items, last, outputs, events)) in requests.iter().enumerate() {
        let line = json!({
            "request": index + 1,
            "model": MODEL,
            "prompt": {"input_items": items, "last_item": last, "tool_outputs": outputs, "tools": []},
            "events": events,
        });
        text.push_str(&line.to_string());
        text.push('\n');
    }
    text
}

pub(crate) fn exec(id: &str, cmd: &str) -> Value {
    json!({"type": "output_item_done", "item": {"type": "function_call", "call_id": id,
        "name": "exec_command", "arguments": json!({"cmd": cmd}).to_string()}})
}

fn patch(id: &str, input: &str) -> Value {
    json!({"type": "output_item_done", "item": {"type": "custom_tool_call", "call_id": id,
        "name": "apply_patch", "input": input}})
}

pub(crate) fn say(text: &str) -> Value {
    json!({"type": "output_item_done", "item": {"type": "message", "role": "assistant", "text": text}})
}

pub(crate) fn done(tokens: u64) -> Value {
    json!({"type": "completed", "response_id": "r", "usage": {"input_tokens": tokens,
        "cached_input_tokens": 0, "output_tokens": 1, "reasoning_output_tokens": 0,
        "total_tokens": tokens + 1}})
}

const BUGGY: &str = "add() { echo $(( $1 - $2 )); }\n";
const FIXED: &str = "add() { echo $(( $1 + $2 )); }\n";
const FIX: &str = "*** Begin Patch\n*** Update File: calc.sh\n-add() { echo $(( $1 - $2 )); }\n+add() { echo $(( $1 + $2 )); }\n*** End Patch\n";

/// Read, fix, check, answer.
fn fix_session() -> String {
    recording(&[
        (
            1,
            "user_message",
            &[],
            vec![exec("call_1", "cat calc.sh"), done(10)],
        ),
        (
            3,
            "tool_output",
            &["call_1"],
            vec![patch("call_2", FIX), done(20)],
        ),
        (
            5,
            "tool_output",
            &["call_2"],
            vec![exec("call_3", ". ./calc.sh && add 2 3"), done(30)],
        ),
        (
            7,
            "tool_output",
            &["call_3"],
            vec![say("Fixed `add`: it subtracted."), done(40)],
        ),
    ])
}

fn write(env: &Env, name: &str, text: &str) -> PathBuf {
    let path = env.dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn workspace(env: &Env) {
    std::fs::write(env.cwd().join("calc.sh"), BUGGY).unwrap();
}

fn run(env: &Env, extra: &[&str]) -> crate::Output {
    let mut args = SANDBOX.to_vec();
    args.extend(["exec", "--skip-git-repo-check"]);
    args.extend_from_slice(extra);
    env.wharf(&args)
}

fn events(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|err| panic!("{err}: {line}")))
        .collect()
}

fn shape(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|event| {
            let mut s = event["type"].as_str().unwrap().to_owned();
            if let Some(item) = event.get("item") {
                s.push(':');
                s.push_str(item["type"].as_str().unwrap());
                if let Some(status) = item.get("status").and_then(Value::as_str) {
                    s.push(':');
                    s.push_str(status);
                }
            }
            s
        })
        .collect()
}

/// Every file under the home's `sessions/`.
pub(crate) fn rollouts(env: &Env) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![env.wharf_home().join("sessions")];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                found.push(path);
            }
        }
    }
    found
}

#[test]
fn a_replayed_session_reads_fixes_and_checks_with_real_tools() {
    let env = Env::new();
    workspace(&env);
    let rec = write(&env, "fix.jsonl", &fix_session());
    let last = env.dir.path().join("last.txt");
    let output = run(
        &env,
        &[
            "--replay",
            &crate::display(&rec),
            "-o",
            &crate::display(&last),
            "fix add",
        ],
    )
    .success();
    assert_eq!(output.stdout, "Fixed `add`: it subtracted.\n");
    assert_eq!(
        std::fs::read_to_string(&last).unwrap(),
        "Fixed `add`: it subtracted."
    );
    assert_eq!(
        std::fs::read_to_string(env.cwd().join("calc.sh")).unwrap(),
        FIXED
    );
    let stderr = &output.stderr;
    for expected in [
        "model gpt-5.1-codex",
        "$ cat calc.sh",
        "│ add() { echo $(( $1 - $2 )); }",
        "→ apply_patch",
        "  M calc.sh",
        "$ . ./calc.sh && add 2 3",
        "  │ 5",
        "tokens used: 104",
    ] {
        assert!(stderr.contains(expected), "{expected:?} not in:\n{stderr}");
    }

    let files = rollouts(&env);
    assert_eq!(files.len(), 1, "{files:?}");
    let text = std::fs::read_to_string(&files[0]).unwrap();
    let meta: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(meta["type"], "session_meta");
    assert_eq!(meta["model"], MODEL);
    assert_eq!(meta["cwd"], crate::display(&env.cwd()));
    assert!(text.contains("\"type\":\"turn.completed\""));
}

#[test]
fn json_prints_the_events_in_order() {
    let env = Env::new();
    workspace(&env);
    let rec = write(&env, "fix.jsonl", &fix_session());
    let output = run(
        &env,
        &["--json", "--replay", &crate::display(&rec), "fix add"],
    )
    .success();
    let events = events(&output.stdout);
    assert_eq!(
        shape(&events),
        [
            "thread.started",
            "turn.started",
            "item.completed:user_message",
            "item.started:command_execution:in_progress",
            "item.completed:command_execution:completed",
            "item.started:file_change:in_progress",
            "item.completed:file_change:completed",
            "item.started:command_execution:in_progress",
            "item.completed:command_execution:completed",
            "item.completed:agent_message",
            "turn.completed",
        ]
    );
    let ids: Vec<&str> = events
        .iter()
        .filter(|e| e["type"] == "item.completed")
        .map(|e| e["item"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["item_0", "item_1", "item_2", "item_3", "item_4"]);
    assert_eq!(events[4]["item"]["exit_code"], 0);
    assert_eq!(events[6]["item"]["changes"][0]["kind"], "update");
    assert_eq!(events[10]["usage"]["total_tokens"], 104);
}

#[test]
fn a_call_that_needs_approval_is_denied_in_exec() {
    let env = Env::new();
    let rec = write(
        &env,
        "deny.jsonl",
        &recording(&[
            (
                1,
                "user_message",
                &[],
                vec![exec("call_1", "touch made"), done(1)],
            ),
            (
                3,
                "tool_output",
                &["call_1"],
                vec![say("I was not allowed to."), done(1)],
            ),
        ]),
    );
    let output = run(
        &env,
        &[
            "-a",
            "untrusted",
            "--json",
            "--replay",
            &crate::display(&rec),
            "make a file",
        ],
    )
    .success();
    let events = events(&output.stdout);
    let call = events
        .iter()
        .find(|e| e["type"] == "item.completed" && e["item"]["type"] == "command_execution")
        .unwrap();
    assert_eq!(call["item"]["status"], "declined");
    let text = call["item"]["aggregated_output"].as_str().unwrap();
    assert!(
        text.starts_with("denied: `exec_command` needs approval under approval_policy `untrusted`"),
        "{text}"
    );
    assert!(text.contains("rerun with `-a never`"), "{text}");
    assert!(!env.cwd().join("made").exists());
}

#[test]
fn a_replay_that_goes_another_way_fails_clearly() {
    let env = Env::new();
    workspace(&env);
    let rec = write(
        &env,
        "other.jsonl",
        &recording(&[
            (
                1,
                "user_message",
                &[],
                vec![exec("call_1", "cat calc.sh"), done(1)],
            ),
            (3, "tool_output", &["call_9"], vec![say("never"), done(1)]),
        ]),
    );
    let output = run(&env, &["--replay", &crate::display(&rec), "fix add"]).fails_with(1);
    assert!(
        output.stderr.contains(&format!(
            "error: request 2 differs from the recording {}: expected tool outputs for [\"call_9\"], got [\"call_1\"]",
            crate::display(&rec)
        )),
        "{}",
        output.stderr
    );

    let short = write(
        &env,
        "short.jsonl",
        &recording(&[(
            1,
            "user_message",
            &[],
            vec![exec("call_1", "true"), done(1)],
        )]),
    );
    let output = run(&env, &["--replay", &crate::display(&short), "go"]).fails_with(1);
    assert!(
        output.stderr.contains(&format!(
            "error: the session asked for request 2 but the recording {} holds 1 request",
            crate::display(&short)
        )),
        "{}",
        output.stderr
    );
}

#[test]
fn a_recording_made_with_record_replays() {
    let env = Env::new();
    workspace(&env);
    let original = write(&env, "fix.jsonl", &fix_session());
    let recorded = env.dir.path().join("recorded.jsonl");
    run(
        &env,
        &[
            "--replay",
            &crate::display(&original),
            "--record",
            &crate::display(&recorded),
            "fix add",
        ],
    )
    .success();
    let lines: Vec<Value> = events(&std::fs::read_to_string(&recorded).unwrap());
    assert_eq!(lines.len(), 4);
    let tools: Vec<&str> = lines[0]["prompt"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert!(
        tools.contains(&"exec_command") && tools.contains(&"apply_patch"),
        "{tools:?}"
    );

    workspace(&env);
    let output = run(&env, &["--replay", &crate::display(&recorded), "fix add"]).success();
    assert_eq!(output.stdout, "Fixed `add`: it subtracted.\n");
    assert_eq!(
        std::fs::read_to_string(env.cwd().join("calc.sh")).unwrap(),
        FIXED
    );
}

#[test]
fn resume_continues_a_session_whose_last_line_was_cut_short() {
    let env = Env::new();
    workspace(&env);
    let first = write(
        &env,
        "first.jsonl",
        &recording(&[(1, "user_message", &[], vec![say("Hello."), done(1)])]),
    );
    run(&env, &["--replay", &crate::display(&first), "hi"]).success();
    let files = rollouts(&env);
    let rollout = files.first().unwrap();
    let id = {
        let text = std::fs::read_to_string(rollout).unwrap();
        let meta: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        meta["id"].as_str().unwrap().to_owned()
    };
    // A crash in the middle of a line.
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(rollout)
        .unwrap();
    file.write_all(br#"{"type":"event","event":{"type":"tu"#)
        .unwrap();
    drop(file);

    // The resumed request holds the earlier conversation (user, agent) and
    // the new prompt.
    let second = write(
        &env,
        "second.jsonl",
        &recording(&[(3, "user_message", &[], vec![say("Again."), done(1)])]),
    );
    let output = env
        .wharf(&[
            "exec",
            "resume",
            "--skip-git-repo-check",
            "--last",
            "--replay",
            &crate::display(&second),
            "again",
        ])
        .success();
    assert_eq!(output.stdout, "Again.\n");
    assert!(
        output.stderr.contains("the last line is cut short"),
        "{}",
        output.stderr
    );
    assert!(
        output.stderr.contains(&format!("session {id}")),
        "{}",
        output.stderr
    );

    // `wharf resume ID` is the same, and the file reads cleanly now.
    let third = write(
        &env,
        "third.jsonl",
        &recording(&[(5, "user_message", &[], vec![say("Third."), done(1)])]),
    );
    let output = env
        .wharf(&[
            "resume",
            &id,
            "--skip-git-repo-check",
            "--replay",
            &crate::display(&third),
            "once more",
        ])
        .success();
    assert_eq!(output.stdout, "Third.\n");
    assert!(!output.stderr.contains("cut short"), "{}", output.stderr);
    assert_eq!(rollouts(&env).len(), 1);

    let output = env.wharf(&["resume", "no-such-id", "x"]).fails_with(1);
    assert!(
        output.stderr.contains("no session `no-such-id`"),
        "{}",
        output.stderr
    );
}

#[test]
fn the_prompt_can_come_from_stdin() {
    let env = Env::new();
    let rec = write(
        &env,
        "hi.jsonl",
        &recording(&[(1, "user_message", &[], vec![say("Hi."), done(1)])]),
    );
    let mut child = command(
        &env,
        &[
            "exec",
            "--skip-git-repo-check",
            "--json",
            "--replay",
            &crate::display(&rec),
        ],
    )
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .spawn()
    .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"hello from stdin")
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    let events = events(&String::from_utf8(output.stdout).unwrap());
    assert_eq!(events[2]["item"]["text"], "hello from stdin");

    let output = env
        .wharf(&[
            "exec",
            "--skip-git-repo-check",
            "--replay",
            &crate::display(&rec),
        ])
        .fails_with(2);
    assert!(
        output.stderr.contains("the prompt is empty"),
        "{}",
        output.stderr
    );
}

#[test]
fn ctrl_c_cancels_a_running_command_and_fails_the_turn() {
    let env = Env::new();
    let call = json!({"cmd": "sleep 60", "yield_time_ms": 30000});
    let (seen, took) = interrupt_call(&env, SANDBOX, "exec_command", &call, "$ sleep 60");
    assert!(
        seen.iter().any(|line| line == "error: cancelled"),
        "{seen:#?}"
    );
    assert!(took < Duration::from_secs(25), "{took:?}");
}

/// A WASM call is stopped by Ctrl-C too, whether the guest computes (the
/// epoch reaches it) or waits in a host call (the call's driver does): the
/// error is `cancelled`, not the plugin's 2 s timeout.
#[test]
fn ctrl_c_cancels_a_running_wasm_call() {
    let env = crate::containment::hostile_env();
    for (tool, args) in [("spin", json!({})), ("sleep", json!({ "ms": 60_000 }))] {
        let started = format!("→ {tool}");
        let (seen, _) = interrupt_call(&env, &["--enable", "hostile"], tool, &args, &started);
        assert!(
            seen.iter().any(|line| line == "error: cancelled"),
            "{tool}: {seen:#?}"
        );
        assert!(
            !seen.iter().any(|line| line.contains("timed out")),
            "{tool}: {seen:#?}"
        );
    }
}

/// Replays a turn that calls `tool` with `arguments`, sends SIGINT once
/// wharf's stderr shows a line starting with `started`, and checks that the
/// turn failed (exit 1). Returns stderr's lines and how long it all took.
fn interrupt_call(
    env: &Env,
    global: &[&str],
    tool: &str,
    arguments: &Value,
    started: &str,
) -> (Vec<String>, Duration) {
    let rec = write(
        env,
        &format!("{tool}.jsonl"),
        &recording(&[(
            1,
            "user_message",
            &[],
            vec![
                json!({"type": "output_item_done", "item": {"type": "function_call", "call_id": "call_1",
                    "name": tool, "arguments": arguments.to_string()}}),
                done(1),
            ],
        )]),
    );
    let mut args = global.to_vec();
    args.extend(["exec", "--skip-git-repo-check", "--replay"]);
    let rec = crate::display(&rec);
    args.extend([rec.as_str(), "wait"]);
    let clock = std::time::Instant::now();
    let mut child = command(env, &args)
        .stderr(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let running = line.starts_with(started);
        seen.push(line);
        if running {
            break;
        }
    }
    // The call is running (or about to): interrupt wharf.
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    seen.extend(lines.map(Result::unwrap));
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(1), "{seen:#?}");
    (seen, clock.elapsed())
}

fn command(env: &Env, args: &[&str]) -> Command {
    let mut command = env.command(env!("CARGO_BIN_EXE_wharf"));
    command.args(args);
    command
}

/// The README's demo (`cargo xtask demo`): the checked-in recording still
/// replays over the example workspace and fixes it.
#[test]
fn the_example_recording_fixes_the_example_workspace() {
    let env = Env::new();
    let examples = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../examples");
    for name in ["calc.sh", "test.sh"] {
        std::fs::copy(
            examples.join("workspaces/calculator").join(name),
            env.cwd().join(name),
        )
        .unwrap();
    }
    let rec = examples.join("sessions/fix-calculator.jsonl");
    let output = run(&env, &["--replay", &crate::display(&rec), "fix the tests"]).success();
    assert!(
        output.stdout.starts_with("Fixed the bug in `calc.sh`"),
        "{}",
        output.stdout
    );
    assert!(
        output.stderr.contains("FAIL add 2 3: expected 5, got -1"),
        "{}",
        output.stderr
    );
    assert!(
        output.stderr.contains("ok   add 2 3 = 5"),
        "{}",
        output.stderr
    );
    let fixed = std::fs::read_to_string(env.cwd().join("calc.sh")).unwrap();
    assert!(fixed.contains("add() { echo $(( $1 + $2 )); }"), "{fixed}");
}
