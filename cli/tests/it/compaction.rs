//! Context management through the binary, against the scripted model
//! server: a session whose request fills the window past
//! `model_auto_compact_token_limit` compacts and goes on, `exec resume`
//! after it sends the compacted history, and `tool_output_token_limit`
//! cuts a long tool output before it reaches the model.

use serde_json::{Value, json};
use wharf_host::agent::{COMPACT_PROMPT, SUMMARY_PREFIX};
use wharf_tests::model_server::{ModelServer, Turn};

use crate::{Env, input_messages, provider_flags};

/// What the command prints; only the compacted request may not carry it.
const OLD_OUTPUT: &str = "OLD-OUTPUT-7f3a";
const SUMMARY: &str = "Ran the listing; the bug is in parse(); fix it next.";

fn exec(env: &Env, server: &ModelServer, config: &[&str], args: &[&str]) -> crate::Output {
    let mut all = provider_flags(server, "responses");
    all.extend(["-s".to_owned(), "workspace-write".to_owned()]);
    for setting in config {
        all.extend(["-c".to_owned(), (*setting).to_owned()]);
    }
    all.push("exec".to_owned());
    all.extend(args.iter().map(|arg| (*arg).to_owned()));
    all.extend(["--skip-git-repo-check", "-m", "gpt-5.1-codex"].map(str::to_owned));
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    env.wharf(&all)
}

fn item_types(body: &Value) -> Vec<String> {
    body["input"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["type"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn no_tools(body: &Value) -> bool {
    body.get("tools")
        .is_none_or(|tools| tools.as_array().is_some_and(Vec::is_empty))
}

/// A session whose first request (900 + 100 tokens) reaches the limit of
/// 1000 while the model still has a call to answer: the answer is sent,
/// then the summary asked for, then the turn goes on from it.
fn session_that_compacts(env: &Env) -> (ModelServer, crate::Output) {
    std::fs::write(env.wharf_home().join("AGENTS.md"), "Global: be brief.\n").unwrap();
    let server = ModelServer::start([
        Turn::function_call(
            "exec_command",
            json!({ "cmd": format!("echo {OLD_OUTPUT}"), "login": false }),
        )
        .with_usage(900, 100)
        .into(),
        Turn::text(SUMMARY).with_usage(1200, 40).into(),
        Turn::text("Fixed.").with_usage(80, 5).into(),
    ])
    .unwrap();
    let output = exec(
        env,
        &server,
        &["model_auto_compact_token_limit=1000"],
        &["--json", "find the bug"],
    )
    .success();
    (server, output)
}

#[test]
fn a_session_that_crosses_the_limit_compacts_and_goes_on() {
    let env = Env::new();
    let (server, output) = session_that_compacts(&env);
    let bodies = server.bodies();
    assert_eq!(bodies.len(), 3, "{}", output.stderr);

    // The compaction request: the whole conversation, the call answered,
    // then the prompt; no tools.
    let compaction = &bodies[1];
    assert!(no_tools(compaction), "{compaction}");
    assert!(compaction.to_string().contains(OLD_OUTPUT));
    let user = input_messages(compaction, "user");
    assert_eq!(user.last().map(String::as_str), Some(COMPACT_PROMPT));
    assert!(item_types(compaction).contains(&"function_call_output".to_owned()));

    // The turn goes on: instructions, the prompt, the summary; no call,
    // no output, tools offered again.
    let next = &bodies[2];
    assert!(!no_tools(next), "{next}");
    assert!(!next.to_string().contains(OLD_OUTPUT), "{next}");
    assert_eq!(item_types(next), ["message", "message", "message"]);
    let user = input_messages(next, "user");
    assert!(
        user[0].starts_with("# AGENTS.md instructions for "),
        "{user:?}"
    );
    assert_eq!(user[1], "find the bug");
    assert_eq!(user[2], format!("{SUMMARY_PREFIX}{SUMMARY}"));

    let events: Vec<Value> = output
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let compacted: Vec<&Value> = events
        .iter()
        .filter(|event| event["type"] == "compacted")
        .collect();
    assert_eq!(
        compacted,
        [&json!({"type": "compacted", "trigger": "auto", "context_before": 1000})]
    );
    // The summary is not an answer the user reads.
    let last = events
        .iter()
        .rev()
        .find(|event| event["type"] == "item.completed");
    assert_eq!(last.unwrap()["item"]["text"], "Fixed.");
    assert!(!output.stdout.contains(SUMMARY));
}

#[test]
fn exec_resume_after_compaction_sends_the_compacted_history() {
    let env = Env::new();
    let (server, output) = session_that_compacts(&env);
    let thread: Value = serde_json::from_str(output.stdout.lines().next().unwrap()).unwrap();
    let id = thread["thread_id"].as_str().unwrap().to_owned();
    server.push(Turn::text("Still fixed."));
    let resumed = exec(&env, &server, &[], &["resume", &id, "and now?"]).success();
    assert_eq!(resumed.stdout, "Still fixed.\n", "{}", resumed.stderr);

    let body = &server.bodies()[3];
    assert!(!body.to_string().contains(OLD_OUTPUT), "{body}");
    let user = input_messages(body, "user");
    assert_eq!(user.len(), 4, "{user:?}");
    assert!(user[0].starts_with("# AGENTS.md instructions for "));
    assert_eq!(
        user[1..],
        [
            "find the bug".to_owned(),
            format!("{SUMMARY_PREFIX}{SUMMARY}"),
            "and now?".to_owned()
        ]
    );
    assert_eq!(input_messages(body, "assistant"), ["Fixed."]);
}

#[test]
fn a_failed_compaction_fails_the_turn_with_a_clear_message() {
    let env = Env::new();
    let server = ModelServer::start([
        Turn::function_call("exec_command", json!({ "cmd": "true", "login": false }))
            .with_usage(5000, 10)
            .into(),
        wharf_tests::model_server::Reply::error(400, "context_length_exceeded"),
    ])
    .unwrap();
    let output = exec(
        &env,
        &server,
        &["model_auto_compact_token_limit=1000"],
        &["go"],
    );
    assert_eq!(output.code, 1, "{}", output.stderr);
    assert!(
        output
            .stderr
            .contains("compacting the conversation failed: the provider answered 400"),
        "{}",
        output.stderr
    );
}

/// `tool_output_token_limit` cuts a long output (its head and tail kept,
/// the cut marked) in what the model reads; without it the model's own
/// policy keeps it whole.
#[test]
fn the_tool_output_budget_cuts_a_long_output_before_the_model_reads_it() {
    for (config, cut) in [
        (&["tool_output_token_limit=50"][..], true),
        (&[][..], false),
    ] {
        let env = Env::new();
        let server = ModelServer::start([
            Turn::function_call(
                "exec_command",
                json!({ "cmd": "seq 100000 102000", "login": false }),
            )
            .into(),
            Turn::text("Counted.").into(),
        ])
        .unwrap();
        exec(&env, &server, config, &["count"]).success();
        let body = &server.bodies()[1];
        let output = body["input"]
            .as_array()
            .unwrap()
            .iter()
            .find(|item| item["type"] == "function_call_output")
            .map(|item| item["output"].to_string())
            .unwrap();
        assert_eq!(output.contains("tokens truncated"), cut, "{output}");
        // The tail is kept either way.
        assert!(output.contains("102000"), "{output}");
        if cut {
            // 50 tokens: about 200 bytes of the output are kept.
            assert!(output.len() < 600, "{}", output.len());
            assert!(!output.contains("101000"));
        } else {
            assert!(output.contains("101000"));
        }
    }
}

/// A rollout keeps no token counts: a session resumed with a conversation
/// past the limit (by its size, about 4 bytes a token) compacts before the
/// new prompt is sent.
#[test]
fn a_session_resumed_past_the_limit_compacts_before_its_turn() {
    let env = Env::new();
    let server = ModelServer::start([
        Turn::function_call(
            "exec_command",
            json!({ "cmd": "seq 1 3000", "login": false }),
        )
        .into(),
        Turn::text("Listed.").into(),
    ])
    .unwrap();
    let first = exec(&env, &server, &[], &["--json", "list"]).success();
    let thread: Value = serde_json::from_str(first.stdout.lines().next().unwrap()).unwrap();
    let id = thread["thread_id"].as_str().unwrap().to_owned();

    server.push(Turn::text(SUMMARY));
    server.push(Turn::text("Resumed."));
    let resumed = exec(
        &env,
        &server,
        &["model_auto_compact_token_limit=1000"],
        &["resume", &id, "--json", "go on"],
    )
    .success();
    let bodies = server.bodies();
    assert_eq!(bodies.len(), 4, "{}", resumed.stderr);
    assert!(no_tools(&bodies[2]));
    assert!(bodies[2].to_string().contains("2999"));
    assert_eq!(
        input_messages(&bodies[2], "user")
            .last()
            .map(String::as_str),
        Some(COMPACT_PROMPT)
    );
    assert!(!bodies[3].to_string().contains("2999"));
    assert_eq!(
        input_messages(&bodies[3], "user"),
        [
            "list".to_owned(),
            format!("{SUMMARY_PREFIX}{SUMMARY}"),
            "go on".to_owned()
        ]
    );
    assert!(
        resumed
            .stdout
            .contains(r#"{"type":"compacted","trigger":"auto","context_before":"#)
    );
}
