//! Command hooks (`[hooks]`, codex's format) through the binary: each
//! answer a hook can give and each way it can fail, `required` or not, on
//! `wharf tool call` and in `wharf exec` turns against the scripted model
//! server (what the model then receives), the session events, and a hook
//! that tries to write outside the sandbox's writable roots.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use wharf_tests::model_server::{ModelServer, Turn};

use crate::{Env, Output, User, input_messages, provider_flags};

const SANDBOX: &[&str] = &["-s", "workspace-write"];

/// `script` saved as an executable `sh` file outside the working
/// directory, as the command that runs it.
fn script(env: &Env, name: &str, script: &str) -> String {
    let path = env.dir.path().join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{script}\n")).unwrap();
    format!("sh {}", path.display())
}

/// The config with the `hooks` feature on and `hooks`, one handler per
/// `(event, matcher, command, extra keys)`.
fn configure(env: &Env, hooks: &[(&str, &str, &str, &str)]) {
    let mut text = String::from("[features]\nhooks = true\n");
    for (index, (event, matcher, command, extra)) in hooks.iter().enumerate() {
        text.push_str(&format!(
            "\n[[hooks.{event}]]\nmatcher = \"{matcher}\"\n[[hooks.{event}.hooks]]\ntype = \
             \"command\"\nname = \"hook{index}\"\ncommand = '{command}'\n{extra}\n"
        ));
    }
    env.write_config(&text);
}

fn tool_call(env: &Env, cmd: &str) -> Output {
    let args = json!({ "cmd": cmd }).to_string();
    let mut argv = SANDBOX.to_vec();
    argv.extend(["tool", "call", "exec_command", "--json", "--args", &args]);
    env.wharf(&argv)
}

fn outcome(output: &Output) -> Value {
    serde_json::from_str(&output.stdout)
        .unwrap_or_else(|err| panic!("{err}: {}\n{}", output.stdout, output.stderr))
}

fn text_of(outcome: &Value) -> String {
    outcome["content"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|c| c["text"].as_str())
        .collect::<Vec<_>>()
        .join("")
}

/// What a `wharf tool call` case expects: the text of the output, or the
/// start of the error; the decision of the first hook; a warning on
/// stderr.
enum Expect {
    Output(&'static str),
    Denied(&'static str),
}

#[test]
fn tool_call_hooks_allow_deny_rewrite_and_fail() {
    let env = Env::new();
    // (what, event, hook script, extra keys, expected, first hook's
    // decision, a warning on stderr)
    let cases: &[(&str, &str, &str, &str, Expect, &str, bool)] = &[
        (
            "allow",
            "PreToolUse",
            "cat >/dev/null; exit 0",
            "",
            Expect::Output("hi"),
            "allow",
            false,
        ),
        (
            "deny by exit 2",
            "PreToolUse",
            "cat >/dev/null; echo 'no echoing' >&2; exit 2",
            "",
            Expect::Denied("denied: no echoing (hook `hook0`)"),
            "deny",
            false,
        ),
        (
            "deny by JSON",
            "PreToolUse",
            r#"cat >/dev/null; echo "{\"hookSpecificOutput\":{\"hookEventName\":\"PreToolUse\",\"permissionDecision\":\"deny\",\"permissionDecisionReason\":\"json says no\"}}""#,
            "",
            Expect::Denied("denied: json says no (hook `hook0`)"),
            "deny",
            false,
        ),
        (
            "rewrite the arguments",
            "PreToolUse",
            r#"cat >/dev/null; echo "{\"hookSpecificOutput\":{\"updatedInput\":{\"cmd\":\"echo rewritten\"}}}""#,
            "",
            Expect::Output("rewritten"),
            "rewrite_args",
            false,
        ),
        (
            "rewrite the arguments past the schema, required",
            "PreToolUse",
            r#"cat >/dev/null; echo "{\"hookSpecificOutput\":{\"updatedInput\":{\"nope\":1}}}""#,
            "required = true",
            Expect::Denied(
                "denied: the required hook `hook0` failed: answered what cannot be read: rewrote the arguments to ones the tool's schema refuses",
            ),
            "failed",
            false,
        ),
        (
            "rewrite the output",
            "PostToolUse",
            r#"cat >/dev/null; echo "{\"hookSpecificOutput\":{\"updatedToolOutput\":\"[redacted by hook]\"}}""#,
            "",
            Expect::Output("[redacted by hook]"),
            "rewrite_output",
            false,
        ),
        (
            "crash, not required",
            "PreToolUse",
            "cat >/dev/null; exit 7",
            "",
            Expect::Output("hi"),
            "skipped",
            true,
        ),
        (
            "crash, required",
            "PreToolUse",
            "cat >/dev/null; echo oops >&2; exit 7",
            "required = true",
            Expect::Denied(
                "denied: the required hook `hook0` failed: crashed: exit status 7: oops",
            ),
            "failed",
            false,
        ),
        (
            "timeout, required",
            "PreToolUse",
            "sleep 30",
            "timeout = 1\nrequired = true",
            Expect::Denied(
                "denied: the required hook `hook0` failed: did not answer within 1000 ms",
            ),
            "failed",
            false,
        ),
        (
            "timeout, not required",
            "PreToolUse",
            "sleep 30",
            "timeout = 1",
            Expect::Output("hi"),
            "skipped",
            true,
        ),
        (
            "garbage, required",
            "PreToolUse",
            "cat >/dev/null; echo 'sure, why not'",
            "required = true",
            Expect::Denied(
                "denied: the required hook `hook0` failed: answered what cannot be read: stdout is not a JSON object",
            ),
            "failed",
            false,
        ),
        (
            "garbage, not required",
            "PostToolUse",
            "cat >/dev/null; echo '{oops'",
            "",
            Expect::Output("hi"),
            "skipped",
            true,
        ),
        (
            "crash after the call, required: the output never reaches the caller",
            "PostToolUse",
            "cat >/dev/null; exit 9",
            "required = true",
            Expect::Denied("denied: the required hook `hook0` failed: crashed: exit status 9"),
            "failed",
            false,
        ),
    ];
    for (what, event, body, extra, expected, decision, warned) in cases {
        let command = script(&env, "hook.sh", body);
        configure(&env, &[(event, "exec_command", &command, extra)]);
        let output = tool_call(&env, "echo hi");
        let got = outcome(&output);
        match expected {
            Expect::Output(text) => {
                assert_eq!(output.code, 0, "{what}: {}", output.stderr);
                // exec_command's output ends with the command's.
                assert!(text_of(&got).trim_end().ends_with(text), "{what}: {got}");
            }
            Expect::Denied(start) => {
                assert_eq!(output.code, 1, "{what}: {}", output.stderr);
                let message = got["error"]["message"].as_str().unwrap();
                assert!(message.starts_with(start), "{what}: {message}");
            }
        }
        let hooks = got["hooks"]
            .as_array()
            .unwrap_or_else(|| panic!("{what}: {got}"));
        assert_eq!(hooks[0]["hook"], "hook0", "{what}");
        assert_eq!(hooks[0]["kind"], "command", "{what}");
        assert_eq!(hooks[0]["decision"], *decision, "{what}: {got}");
        assert_eq!(
            output
                .stderr
                .contains("warning: hook `hook0` (command) failed"),
            *warned,
            "{what}: {}",
            output.stderr
        );
    }
}

#[test]
fn a_hook_sees_the_call_and_only_its_matcher_selects_it() {
    let env = Env::new();
    let seen = env.dir.path().join("seen.json");
    let record = script(&env, "record.sh", &format!("cat > {}", seen.display()));
    configure(
        &env,
        &[
            ("PreToolUse", "exec_.*", &record, ""),
            ("PreToolUse", "other_tool", "exit 2", ""),
        ],
    );
    tool_call(&env, "echo hi").success();
    let input: Value = serde_json::from_str(&std::fs::read_to_string(&seen).unwrap()).unwrap();
    assert_eq!(input["hook_event_name"], "PreToolUse");
    assert_eq!(input["tool_name"], "exec_command");
    assert_eq!(input["tool_input"], json!({ "cmd": "echo hi" }));
    assert_eq!(input["tool_use_id"], "cli");
    assert!(input["session_id"].is_string(), "{input}");
    assert!(input["cwd"].is_string(), "{input}");
}

#[test]
fn hooks_run_only_with_the_feature_on() {
    let env = Env::new();
    env.write_config(
        "[[hooks.PreToolUse]]\n[[hooks.PreToolUse.hooks]]\ntype = \"command\"\ncommand = \
         \"exit 2\"\n",
    );
    let output = tool_call(&env, "echo hi").success();
    assert!(
        output
            .stderr
            .contains("`[hooks]` is set but the `hooks` feature is off"),
        "{}",
        output.stderr
    );
}

#[test]
fn hook_configuration_errors_and_warnings_name_the_place() {
    let env = Env::new();
    let path = env.write_config(
        "[features]\nhooks = true\n\n[[hooks.Stop]]\n[[hooks.Stop.hooks]]\ntype = \"command\"\n\
         command = \"true\"\n\n[[hooks.PreToolUse]]\nmatcher = \"(\"\n[[hooks.PreToolUse.hooks]]\n\
         type = \"command\"\ncommand = \"true\"\n",
    );
    let output = env.wharf(&["config", "show"]);
    assert_eq!(output.code, 1, "{}", output.stderr);
    let at = format!("{}:9:", path.display());
    assert!(
        output.stderr.contains(&at)
            && output
                .stderr
                .contains("`matcher` is not a regular expression"),
        "{}",
        output.stderr
    );
    env.write_config(
        "[features]\nhooks = true\n\n[[hooks.Stop]]\n[[hooks.Stop.hooks]]\ntype = \"command\"\n\
         command = \"true\"\n\n[[hooks.PreToolUse]]\n[[hooks.PreToolUse.hooks]]\ntype = \"command\"\n",
    );
    let output = env.wharf(&["config", "show"]);
    assert!(
        output.stderr.contains("a command hook needs `command`"),
        "{}",
        output.stderr
    );
    env.write_config(
        "[features]\nhooks = true\n\n[[hooks.Stop]]\n[[hooks.Stop.hooks]]\ntype = \"command\"\n\
         command = \"true\"\n",
    );
    let output = tool_call(&env, "echo hi").success();
    assert!(
        output
            .stderr
            .contains("`hooks.Stop`: wharf has no `Stop` event (ignored"),
        "{}",
        output.stderr
    );
}

/// `wharf exec` with `args` against `server`.
fn exec(env: &Env, server: &ModelServer, args: &[&str]) -> Output {
    let mut all: Vec<String> = SANDBOX.iter().map(|s| (*s).to_owned()).collect();
    all.extend(provider_flags(server, "responses"));
    all.extend(
        [
            "exec",
            "--json",
            "--skip-git-repo-check",
            "-m",
            "gpt-5.1-codex",
        ]
        .map(str::to_owned),
    );
    all.extend(args.iter().map(|arg| (*arg).to_owned()));
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    env.wharf(&all)
}

fn tool_output(body: &Value, call_id: &str) -> String {
    body["input"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|item| item["type"] == "function_call_output" && item["call_id"] == call_id)
        .map(|item| item["output"].to_string())
        .unwrap_or_else(|| panic!("no output of {call_id}: {body}"))
}

#[test]
fn in_a_turn_the_model_reads_the_denial_and_the_added_context() {
    let env = Env::new();
    let log = env.dir.path().join("events.log");
    let record = format!(
        "{{ cat; echo; }} >> {}",
        crate::shell_quote(&log.display().to_string())
    );
    let session_log = script(&env, "log.sh", &record);
    let guard = script(
        &env,
        "guard.sh",
        "cat >/dev/null; echo 'rm is not allowed here' >&2; exit 2",
    );
    let context = script(
        &env,
        "context.sh",
        "cat >/dev/null; echo 'The build uses make.'",
    );
    configure(
        &env,
        &[
            ("SessionStart", "startup", &session_log, ""),
            ("UserPromptSubmit", "", &context, ""),
            ("PreToolUse", "exec_command", &guard, ""),
            ("SessionEnd", "", &session_log, ""),
        ],
    );
    let server = ModelServer::start([
        Turn::function_call("exec_command", json!({ "cmd": "rm -rf build" })).into(),
        Turn::text("I may not remove it.").into(),
    ])
    .unwrap();
    let output = exec(&env, &server, &["clean up"]).success();
    let bodies = server.bodies();
    // The context a hook added is a message the model reads.
    let developer = input_messages(&bodies[0], "developer");
    assert!(
        developer.iter().any(|text| text == "The build uses make."),
        "{developer:?}"
    );
    // The denial is the call's output in the next request.
    let answered = tool_output(&bodies[1], "call_1");
    assert!(
        answered.contains("rm is not allowed here (hook `hook2`)"),
        "{answered}"
    );
    // --json attributes the decision on the call's item.
    let item = output
        .stdout
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .find(|event| event["type"] == "item.completed" && event["item"]["hooks"].is_array())
        .unwrap_or_else(|| panic!("{}", output.stdout));
    assert_eq!(item["item"]["hooks"][0]["decision"], "deny");
    assert_eq!(item["item"]["hooks"][0]["event"], "before-tool-call");
    // The session's start and end ran their hook.
    let logged = std::fs::read_to_string(&log).unwrap();
    let events: Vec<Value> = logged
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let names: Vec<&str> = events
        .iter()
        .map(|e| e["hook_event_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["SessionStart", "SessionEnd"], "{logged}");
    assert_eq!(events[0]["source"], "startup");
}

#[test]
fn a_refused_prompt_never_reaches_the_model() {
    let env = Env::new();
    let refuse = script(
        &env,
        "refuse.sh",
        r#"grep -q sk-live && { echo '{"decision":"block","reason":"the prompt holds an API key"}'; exit 0; }; exit 0"#,
    );
    configure(&env, &[("UserPromptSubmit", "", &refuse, "")]);
    let server = ModelServer::start([Turn::text("never sent").into()]).unwrap();
    let output = exec(&env, &server, &["deploy with sk-live-123"]);
    assert_eq!(output.code, 1, "{}", output.stderr);
    assert!(
        output
            .stdout
            .contains("the prompt was refused: the prompt holds an API key (hook `hook0`)"),
        "{}",
        output.stdout
    );
    assert_eq!(server.request_count(), 0);
}

#[test]
fn a_hook_runs_inside_the_sandbox() {
    for user in crate::users() {
        let env = crate::env_for(user);
        let outside: PathBuf = env.home().join("escaped");
        let escape = script(
            &env,
            "escape.sh",
            &format!("cat >/dev/null; touch {} || exit 3", outside.display()),
        );
        configure(&env, &[("PreToolUse", "", &escape, "required = true")]);
        if user == User::Nobody {
            crate::chown_tree(env.dir.path());
            crate::chown_tree(env.home.path());
        }
        let args = json!({ "cmd": "echo hi" }).to_string();
        let output = env
            .wharf_as(user)
            .args(SANDBOX)
            .args(["tool", "call", "exec_command", "--json", "--args", &args])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(!output.status.success(), "{user:?}: {stdout}");
        assert!(
            stdout.contains("the required hook `hook0` failed: crashed: exit status 3"),
            "{user:?}: {stdout}"
        );
        assert!(
            !Path::new(&outside).exists(),
            "{user:?}: the hook wrote outside"
        );
    }
}

#[test]
fn the_command_hook_example_guards_secrets() {
    let env = Env::new();
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/command-hooks");
    let snippet = std::fs::read_to_string(format!("{example}/hooks.toml")).unwrap();
    let config = snippet.replace(
        "/path/to/examples/command-hooks/guard-secrets.sh",
        &format!("{example}/guard-secrets.sh"),
    );
    env.write_config(&config);
    // (command, refused)
    let cases = [
        ("cat .env", true),
        ("cat ~/.ssh/id_rsa", true),
        ("openssl x509 -in server.pem", true),
        ("ls src", false),
        ("echo environment", false),
    ];
    for (cmd, refused) in cases {
        let output = tool_call(&env, cmd);
        let got = outcome(&output);
        let message = got["error"]["message"].as_str().unwrap_or_default();
        assert_eq!(
            message.contains("may hold a secret") && message.ends_with("(hook `guard-secrets`)"),
            refused,
            "{cmd}: {got}"
        );
        assert_eq!(output.code == 0, !refused, "{cmd}: {}", output.stderr);
    }
}
