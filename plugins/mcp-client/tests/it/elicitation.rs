//! Elicitation against the real server-everything: wharf advertises forms,
//! so the server offers `trigger-elicitation-request`, whose question
//! reaches the call's `elicit` hook; accepted values, a decline and a
//! cancel go back to the server, whose result says which it got.

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use wharf_plugin_mcp_client::{CallHooks, ElicitReply, ElicitRequest, McpServer, ResultContent};

use crate::{stdio_spec, temp_cwd, unconfined};

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
