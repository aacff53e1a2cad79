//! `update_plan` through the binary against the scripted model server:
//! the plan reaches `exec --json` as a `plan.updated` event and the human
//! output as a list, the model reads `Plan updated` (never the report), a
//! bad plan is an error the model reads, and `--disable plan_tool` takes
//! the tool away.

use serde_json::{Value, json};
use wharf_tests::model_server::{ModelServer, Turn};

use crate::{Env, Output, provider_flags};

/// `wharf [flags] exec --skip-git-repo-check [exec_flags] -m gpt-5.1-codex PROMPT`.
pub(crate) fn exec(env: &Env, flags: &[String], exec_flags: &[&str], prompt: &str) -> Output {
    let mut args: Vec<&str> = flags.iter().map(String::as_str).collect();
    args.extend(["exec", "--skip-git-repo-check"]);
    args.extend(exec_flags);
    args.extend(["-m", "gpt-5.1-codex", prompt]);
    env.wharf(&args)
}

/// The JSON lines of `exec --json`.
pub(crate) fn events(output: &Output) -> Vec<Value> {
    output
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// What the request `body` sends back as the output of call `call_id`, on
/// either wire.
fn tool_output(body: &Value, call_id: &str) -> String {
    let responses = body["input"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|item| item["type"] == "function_call_output" && item["call_id"] == call_id);
    let chat = body["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|message| message["role"] == "tool" && message["tool_call_id"] == call_id);
    match (responses, chat) {
        (Some(item), None) => item["output"].as_str().unwrap().to_owned(),
        (None, Some(message)) => message["content"].as_str().unwrap().to_owned(),
        _ => panic!("no single output of {call_id} in {body}"),
    }
}

/// The names of the tools the request `body` offers, on either wire.
fn offered(body: &Value) -> Vec<String> {
    body["tools"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|tool| tool["name"].as_str().or(tool["function"]["name"].as_str()))
        .map(str::to_owned)
        .collect()
}

fn plan_call() -> Value {
    json!({
        "explanation": "Fix the parser first.",
        "plan": [
            { "step": "Read the parser", "status": "completed" },
            { "step": "Fix empty input", "status": "in_progress" },
            { "step": "Add tests", "status": "pending" }
        ]
    })
}

#[test]
fn the_plan_is_an_event_and_the_model_reads_plan_updated() {
    for wire_api in ["responses", "chat"] {
        let env = Env::new();
        let server = ModelServer::start([
            Turn::function_call("update_plan", plan_call()).into(),
            Turn::text("Planned.").into(),
        ])
        .unwrap();
        let flags = provider_flags(&server, wire_api);
        let output = exec(&env, &flags, &["--json"], "plan it").success();
        let events = events(&output);
        let plans: Vec<&Value> = events
            .iter()
            .filter(|event| event["type"] == "plan.updated")
            .collect();
        assert_eq!(
            plans,
            [&json!({
                "type": "plan.updated",
                "explanation": "Fix the parser first.",
                "plan": [
                    { "step": "Read the parser", "status": "completed" },
                    { "step": "Fix empty input", "status": "in_progress" },
                    { "step": "Add tests", "status": "pending" }
                ]
            })],
            "{wire_api}: {}",
            output.stdout
        );
        // Right after the call's item, which shows the text only.
        let at = events
            .iter()
            .position(|event| event["type"] == "plan.updated")
            .unwrap();
        let item = &events[at - 1];
        assert_eq!(item["type"], "item.completed", "{wire_api}");
        assert_eq!(item["item"]["tool"], "update_plan", "{wire_api}");
        assert_eq!(item["item"]["output"], "Plan updated", "{wire_api}");

        let bodies = server.bodies();
        assert_eq!(bodies.len(), 2, "{wire_api}");
        assert_eq!(
            tool_output(&bodies[1], "call_1"),
            "Plan updated",
            "{wire_api}"
        );
    }
}

#[test]
fn people_see_the_plan() {
    let env = Env::new();
    let mut arguments = plan_call();
    arguments["plan"].as_array_mut().unwrap().push(
        json!({ "step": "Clear \u{1b}[2J\u{1b}]52;c;aGk=\u{7} the screen", "status": "pending" }),
    );
    let server = ModelServer::start([
        Turn::function_call("update_plan", arguments).into(),
        Turn::text("Planned.").into(),
    ])
    .unwrap();
    let output = exec(&env, &provider_flags(&server, "responses"), &[], "plan it").success();
    for line in [
        "plan:",
        "  Fix the parser first.",
        "  [x] Read the parser",
        "  [>] Fix empty input",
        "  [ ] Add tests",
        "  [ ] Clear \\x1b[2J\\x1b]52;c;aGk=\\x07 the screen",
    ] {
        assert!(
            output.stderr.lines().any(|shown| shown == line),
            "{line:?} in\n{}",
            output.stderr
        );
    }
    // The terminal never gets the tool's control characters.
    assert!(
        !output.stderr.contains(['\u{1b}', '\u{7}']),
        "{}",
        output.stderr
    );
}

/// (the arguments, what the model must read back)
#[test]
fn a_bad_plan_is_an_error_the_model_reads() {
    let cases = [
        (
            json!({ "plan": [
                { "step": "one", "status": "in_progress" },
                { "step": "two", "status": "in_progress" }
            ]}),
            "at most one step can be in_progress",
        ),
        (
            json!({ "plan": [{ "step": "one", "status": "started" }] }),
            "started",
        ),
        (json!({ "explanation": "no steps" }), "plan"),
    ];
    for (arguments, expected) in cases {
        let env = Env::new();
        let server = ModelServer::start([
            Turn::function_call("update_plan", arguments.clone()).into(),
            Turn::text("Sorry.").into(),
        ])
        .unwrap();
        let flags = provider_flags(&server, "responses");
        let output = exec(&env, &flags, &["--json"], "plan it").success();
        assert!(
            !events(&output)
                .iter()
                .any(|event| event["type"] == "plan.updated"),
            "{arguments}: {}",
            output.stdout
        );
        let read = tool_output(&server.bodies()[1], "call_1");
        assert!(
            read.contains("invalid arguments") && read.contains(expected),
            "{arguments}: {read}"
        );
    }
}

#[test]
fn plan_tool_can_be_turned_off() {
    for (flags, offered_plan) in [(&[][..], true), (&["--disable", "plan_tool"][..], false)] {
        let env = Env::new();
        let server = ModelServer::start([Turn::text("Hi.").into()]).unwrap();
        let mut all = provider_flags(&server, "responses");
        all.extend(flags.iter().map(|flag| (*flag).to_owned()));
        exec(&env, &all, &[], "hi").success();
        let tools = offered(&server.bodies()[0]);
        assert_eq!(
            tools.iter().any(|tool| tool == "update_plan"),
            offered_plan,
            "{flags:?}: {tools:?}"
        );
    }
}
