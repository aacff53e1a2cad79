//! Elicitation against the real server-everything: wharf advertises forms,
//! so the server offers `trigger-elicitation-request`, whose question
//! reaches the call's `elicit` hook; accepted values, a decline and a
//! cancel go back to the server, whose result says which it got.

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use wharf_plugin_mcp_client::{CallHooks, ElicitReply, ElicitRequest, McpServer, ResultContent};

use wharf_tests::mcp_servers::PYTHON_STDIO_SERVER;

use crate::{program_spec, server_env, stdio_spec, temp_cwd, unconfined};

const TOOL: &str = "trigger-elicitation-request";

fn text(content: &[ResultContent]) -> String {
    content
        .iter()
        .filter_map(|block| match block {
            ResultContent::Text(text) => Some(text.as_str()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_servers_question_reaches_the_caller_and_the_answer_goes_back() {
    let (_dir, cwd) = temp_cwd();
    let mut spec = stdio_spec("everything", unconfined(&cwd));
    spec.startup_timeout = std::time::Duration::from_secs(60);
    let log = Arc::new(Mutex::new(Vec::<String>::new()));
    spec.log = Arc::new({
        let log = Arc::clone(&log);
        move |line: &str| log.lock().unwrap().push(line.to_owned())
    });
    let server = McpServer::start(spec).unwrap();
    // Offered only to a client that says it can answer.
    assert!(
        server.tools().iter().any(|tool| tool.name == TOOL),
        "{:?}",
        server.tools()
    );

    let asked = Mutex::new(Vec::<ElicitRequest>::new());
    let call = |reply: ElicitReply| {
        let elicit = |request: &ElicitRequest| {
            asked.lock().unwrap().push(request.clone());
            reply.clone()
        };
        let hooks = CallHooks {
            cancel: Default::default(),
            progress: &|_| {},
            elicit: &elicit,
        };
        text(&server.call(TOOL, json!({}), &hooks).unwrap().content)
    };

    let Value::Object(content) = json!({"name": "Ada Lovelace", "check": true, "integer": 7})
    else {
        unreachable!()
    };
    let accepted = call(ElicitReply::Accept(content));
    for line in [
        "- Name: Ada Lovelace",
        "- Agreed to terms: true",
        "- Favorite Integer: 7",
    ] {
        assert!(accepted.contains(line), "{line} not in {accepted}");
    }
    let asked = asked.lock().unwrap().first().cloned().unwrap();
    assert_eq!(
        asked.message,
        "Please provide inputs for the following fields:"
    );
    assert_eq!(asked.schema["required"], json!(["name"]));
    assert_eq!(asked.schema["properties"]["integer"]["maximum"], json!(100));

    let declined = call(ElicitReply::Decline { reason: None });
    assert!(declined.contains("User declined"), "{declined}");
    let cancelled = call(ElicitReply::Cancel);
    assert!(cancelled.contains("User cancelled"), "{cancelled}");
    assert!(log.lock().unwrap().is_empty(), "{log:?}");

    // Nobody to ask: declined, and the log says who asked what and why no.
    let declined = text(
        &server
            .call(TOOL, json!({}), &CallHooks::none())
            .unwrap()
            .content,
    );
    assert!(declined.contains("User declined"), "{declined}");
    let log = log.lock().unwrap();
    assert_eq!(log.len(), 1, "{log:?}");
    assert!(
        log[0].starts_with(
            "mcp server `everything` asked for input during `trigger-elicitation-request` \
             (\"Please provide inputs for the following fields:\", fields: name, check, \
             firstLine, email, homepage, birthdate, integer, number, and 5 more); declined: \
             nobody can answer it here"
        ),
        "{log:?}"
    );
}

/// A stdio server with one tool, `ask`, that sends `elicitation/create`
/// with the requested schema of argv[1] (JSON) while the call runs, and
/// answers the call with what the client answered (or "no answer").
/// It follows [`PYTHON_STDIO_SERVER`].
const ASKING_SERVER: &str = r#"
SCHEMA = json.loads(sys.argv[1])
for method, id, params in requests():
    if method == "initialize":
        assert "form" in params["capabilities"]["elicitation"], params
        answer_initialize(id, params, "asking", {"tools": {}})
    elif method == "tools/list":
        send({"jsonrpc": "2.0", "id": id, "result": {"tools": [
            {"name": "ask", "inputSchema": {"type": "object"}}]}})
    elif method == "tools/call":
        send({"jsonrpc": "2.0", "id": "q1", "method": "elicitation/create", "params": {
            "message": "Which \x1b[2Jone?", "requestedSchema": SCHEMA}})
        got = "no answer"
        for line in sys.stdin:
            message = json.loads(line)
            if message.get("id") == "q1":
                got = json.dumps(message.get("result", message.get("error")), sort_keys=True)
                break
        send({"jsonrpc": "2.0", "id": id, "result": {
            "content": [{"type": "text", "text": got}]}})
"#;

fn asking(cwd: &std::path::Path, schema: &Value) -> wharf_plugin_mcp_client::ServerSpec {
    let script = cwd.join("asking_server.py");
    std::fs::write(&script, format!("{PYTHON_STDIO_SERVER}{ASKING_SERVER}")).unwrap();
    let script = script.display().to_string();
    let mut spec = program_spec(
        "asking",
        "python3",
        &[&script, &schema.to_string()],
        server_env(),
        cwd,
    );
    spec.startup_timeout = std::time::Duration::from_secs(60);
    spec.tool_timeout = std::time::Duration::from_secs(60);
    spec
}

#[test]
fn a_form_that_cannot_be_read_is_declined_and_logged() {
    let (_dir, cwd) = temp_cwd();
    let nested = json!({"type": "object", "properties": {
        "address": {"type": "object", "properties": {"city": {"type": "string"}}}}});
    let mut spec = asking(&cwd, &nested);
    let log = Arc::new(Mutex::new(Vec::<String>::new()));
    spec.log = Arc::new({
        let log = Arc::clone(&log);
        move |line: &str| log.lock().unwrap().push(line.to_owned())
    });
    let server = McpServer::start(spec).unwrap();
    let asked = Mutex::new(0);
    let elicit = |_: &ElicitRequest| {
        *asked.lock().unwrap() += 1;
        ElicitReply::Cancel
    };
    let hooks = CallHooks {
        cancel: Default::default(),
        progress: &|_| {},
        elicit: &elicit,
    };
    let started = std::time::Instant::now();
    let answer = text(&server.call("ask", json!({}), &hooks).unwrap().content);
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert_eq!(answer, r#"{"action": "decline"}"#);
    assert_eq!(*asked.lock().unwrap(), 0);
    let log = log.lock().unwrap();
    assert_eq!(log.len(), 1, "{log:?}");
    assert!(
        log[0]
            == "mcp server `asking` asked for input during `ask` (\"Which \\u{1b}[2Jone?\", \
             fields: address); declined: its form is not one wharf can show: field `address` \
             is not a string, number, integer, boolean or enum",
        "{log:?}"
    );
}

/// The time the user takes to answer is not the tool's: a call whose
/// timeout passes while the form is open still gets its result.
#[test]
fn the_tool_timeout_waits_while_the_user_answers() {
    let (_dir, cwd) = temp_cwd();
    let schema = json!({"type": "object", "properties": {"name": {"type": "string"}},
        "required": ["name"]});
    let mut spec = asking(&cwd, &schema);
    spec.tool_timeout = std::time::Duration::from_millis(500);
    let server = McpServer::start(spec).unwrap();
    let elicit = |request: &ElicitRequest| {
        assert_eq!(request.message, "Which \u{1b}[2Jone?");
        assert_eq!(request.order, ["name"]);
        // A person reading the form, longer than the tool may take.
        std::thread::sleep(std::time::Duration::from_millis(1500));
        let Value::Object(content) = json!({"name": "Ada"}) else {
            unreachable!()
        };
        ElicitReply::Accept(content)
    };
    let hooks = CallHooks {
        cancel: Default::default(),
        progress: &|_| {},
        elicit: &elicit,
    };
    let answer = text(&server.call("ask", json!({}), &hooks).unwrap().content);
    assert_eq!(
        answer,
        r#"{"action": "accept", "content": {"name": "Ada"}}"#
    );
}

/// Over streamable HTTP the question comes on the call's event stream and
/// the answer goes back in a request of its own.
#[test]
fn an_http_servers_question_is_answered_too() {
    let fixture = wharf_tests::mcp_servers::EverythingHttp::start().unwrap();
    let server = McpServer::start(crate::http_spec("web", &fixture.url)).unwrap();
    let elicit = |request: &ElicitRequest| {
        assert_eq!(request.order.first().map(String::as_str), Some("name"));
        let Value::Object(content) = json!({"name": "Grace Hopper"}) else {
            unreachable!()
        };
        ElicitReply::Accept(content)
    };
    let hooks = CallHooks {
        cancel: Default::default(),
        progress: &|_| {},
        elicit: &elicit,
    };
    let accepted = text(&server.call(TOOL, json!({}), &hooks).unwrap().content);
    assert!(accepted.contains("- Name: Grace Hopper"), "{accepted}");
}
