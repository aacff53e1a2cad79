//! `wharf exec` against OpenAI-compatible servers that are not OpenAI: the
//! scripted model server with the quirks a llama-cpp-python server showed
//! (a 500 on `"content": null`, no Responses API, an empty stream when
//! tools are offered, no usage), and the errors a user meets there.

use std::io::{Read, Write};
use std::net::TcpStream;

use serde_json::{Value, json};
use wharf_tests::model_server::{ModelServer, Quirks, Reply, Turn};

use crate::Env;

/// `wharf exec` with the provider flags of `server` (`scripted`, one
/// request retry) and `extra` configuration.
fn exec(env: &Env, server: &ModelServer, wire_api: &str, extra: &[&str]) -> crate::Output {
    let flags = crate::provider_flags(server, wire_api);
    let mut args: Vec<&str> = flags.iter().map(String::as_str).collect();
    for setting in extra {
        args.extend(["-c", setting]);
    }
    args.extend([
        "-s",
        "workspace-write",
        "exec",
        "--skip-git-repo-check",
        "-m",
        "gpt-5.1-codex",
        "list the files",
    ]);
    env.wharf(&args)
}

/// The `error: ` line of a turn that failed (exit code 1), and all of
/// stderr.
#[track_caller]
fn failed_turn(output: &crate::Output) -> (String, &str) {
    assert_eq!(output.code, 1, "{}", output.stderr);
    let error = output
        .stderr
        .lines()
        .find(|line| line.starts_with("error: "))
        .unwrap_or_else(|| panic!("no error line in:\n{}", output.stderr));
    (error.to_owned(), &output.stderr)
}

/// A tool call, then the answer.
fn round_trip() -> [Reply; 2] {
    [
        Turn::function_call(
            "exec_command",
            json!({ "cmd": "echo listed", "login": false }),
        )
        .into(),
        Turn::text("Listed them.").into(),
    ]
}

/// The assistant messages of a Chat request body.
fn assistant_messages(body: &Value) -> Vec<Value> {
    body["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|message| message["role"] == "assistant")
        .cloned()
        .collect()
}

/// Fails when `message` says the same thing twice: one `: `-separated
/// clause repeated, or one clause inside a later one.
#[track_caller]
fn assert_no_repeated_clause(message: &str) {
    let clauses: Vec<&str> = message.split(": ").map(str::trim).collect();
    for (index, clause) in clauses.iter().enumerate() {
        for later in &clauses[index + 1..] {
            assert!(
                clause.len() < 12 || !later.contains(clause),
                "`{clause}` is said twice in: {message}"
            );
        }
    }
}

/// POSTs `body` to the server's Chat endpoint, returns the status code.
fn post_chat(server: &ModelServer, body: &Value) -> u16 {
    let mut stream = TcpStream::connect(server.addr()).unwrap();
    let body = body.to_string();
    write!(
        stream,
        "POST /v1/chat/completions HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        server.addr(),
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0)
}

#[test]
fn a_strict_server_takes_the_tool_round_trip() {
    let strict = Quirks {
        strict_assistant_content: true,
        ..Quirks::default()
    };
    // The server does refuse what wharf used to send.
    let probe = ModelServer::start_with(strict, []).unwrap();
    let with_content = |content: Value| {
        json!({ "model": "m", "stream": true, "messages": [
            { "role": "user", "content": "hi" },
            { "role": "assistant", "content": content, "tool_calls": [{ "id": "c", "type": "function",
              "function": { "name": "f", "arguments": "{}" } }] },
            { "role": "tool", "tool_call_id": "c", "content": "ok" },
        ] })
    };
    assert_eq!(post_chat(&probe, &with_content(Value::Null)), 500);
    // With `""` it goes on to the script (which is empty: 400).
    assert_eq!(post_chat(&probe, &with_content(json!(""))), 400);

    let env = Env::new();
    let server = ModelServer::start_with(strict, round_trip()).unwrap();
    let output = exec(&env, &server, "chat", &[]).success();
    assert_eq!(output.stdout, "Listed them.\n", "{}", output.stderr);
    let bodies = server.bodies();
    assert_eq!(bodies.len(), 2, "{}", output.stderr);
    let assistant = assistant_messages(&bodies[1]);
    assert_eq!(assistant.len(), 1, "{}", bodies[1]);
    assert_eq!(assistant[0].get("content"), Some(&json!("")));
    assert!(assistant[0]["tool_calls"].is_array());
}

#[test]
fn an_empty_stream_is_retried_once_and_names_the_option() {
    let env = Env::new();
    let quirks = Quirks {
        empty_stream_with_tools: true,
        ..Quirks::default()
    };
    let server = ModelServer::start_with(quirks, round_trip()).unwrap();
    let output = exec(&env, &server, "chat", &[]);
    let (error, stderr) = failed_turn(&output);
    // Once, then once more: not the six attempts of a dropped stream.
    assert_eq!(server.request_count(), 2, "{stderr}");
    let url = format!("{}/chat/completions", server.base_url());
    assert!(error.contains(&url), "{error}");
    assert!(error.contains("empty stream"), "{error}");
    assert!(
        error.contains("set `stream = false` under [model_providers.scripted]"),
        "{error}"
    );
    assert_no_repeated_clause(&error);
}

#[test]
fn unstreamed_requests_run_a_tool_round_trip_on_a_llama_cpp_like_server() {
    let env = Env::new();
    let server = ModelServer::start_with(Quirks::llama_cpp(), round_trip()).unwrap();
    let output = exec(
        &env,
        &server,
        "chat",
        &["model_providers.scripted.stream=false"],
    )
    .success();
    assert_eq!(output.stdout, "Listed them.\n", "{}", output.stderr);
    let bodies = server.bodies();
    assert_eq!(bodies.len(), 2, "{}", output.stderr);
    for body in &bodies {
        assert_eq!(body["stream"], json!(false), "{body}");
        assert!(body.get("stream_options").is_none(), "{body}");
    }
    // The tool ran: its output went back with the call's id.
    let second = bodies[1].to_string();
    assert!(second.contains("listed\\n"), "{second}");
}

#[test]
fn unstreamed_requests_over_the_responses_api() {
    let env = Env::new();
    let server = ModelServer::start(round_trip()).unwrap();
    let output = exec(
        &env,
        &server,
        "responses",
        &["model_providers.scripted.stream=false"],
    )
    .success();
    assert_eq!(output.stdout, "Listed them.\n", "{}", output.stderr);
    let requests = server.requests();
    assert_eq!(requests.len(), 2, "{}", output.stderr);
    for request in &requests {
        assert_eq!(request.path, "/v1/responses");
        assert_eq!(request.body["stream"], json!(false));
    }
}

#[test]
fn a_404_on_responses_names_the_url_and_suggests_chat() {
    let env = Env::new();
    let quirks = Quirks {
        chat_only: true,
        ..Quirks::default()
    };
    let server = ModelServer::start_with(quirks, round_trip()).unwrap();
    let output = exec(&env, &server, "responses", &[]);
    let (error, stderr) = failed_turn(&output);
    // A 404 is not retried.
    assert_eq!(server.request_count(), 1, "{stderr}");
    let url = format!("{}/responses", server.base_url());
    assert_eq!(
        error,
        format!(
            "error: the provider answered 404: there is no Responses API at {url} (Not Found); \
             if the server speaks Chat Completions, set `wire_api = \"chat\"` under \
             [model_providers.scripted]"
        ),
        "{stderr}"
    );
}

#[test]
fn a_server_error_body_is_cut_to_its_message() {
    let validation = (0..8)
        .map(|n| {
            format!("messages.{n}.content\n  Input should be a valid string [type=string_type]")
        })
        .collect::<Vec<_>>()
        .join("\n");
    let pydantic = json!({ "error": { "message": format!("8 validation errors\n{validation}") } });
    let traceback = "Traceback (most recent call last):\n  File \"server.py\", line 9\n\
                     KeyError: 'content'";
    let cases = [
        (
            pydantic.to_string(),
            "8 validation errors messages.0.content Input should be",
        ),
        (
            traceback.to_owned(),
            "(500) after 2 attempts: Traceback (most recent call last):\n",
        ),
    ];
    for (body, kept) in cases {
        let env = Env::new();
        let answer = |body: &str| Reply::Status {
            status: 500,
            headers: Vec::new(),
            body: body.to_owned(),
        };
        let server = ModelServer::start([answer(&body), answer(&body)]).unwrap();
        let output = exec(&env, &server, "chat", &[]);
        let (error, stderr) = failed_turn(&output);
        assert!(stderr.contains(kept), "{stderr}");
        assert!(error.chars().count() < 420, "{error}");
        for rest in ["messages.7", "KeyError", "server.py"] {
            assert!(!stderr.contains(rest), "{stderr}");
        }
    }
}

#[test]
fn a_dropped_stream_says_its_cause_once() {
    let env = Env::new();
    let cut = || Turn::text("half an answer").cut_mid_item();
    let server = ModelServer::start([cut(), cut()]).unwrap();
    let output = exec(
        &env,
        &server,
        "chat",
        &["model_providers.scripted.stream_max_retries=1"],
    );
    let (error, stderr) = failed_turn(&output);
    assert_eq!(server.request_count(), 2, "{stderr}");
    assert!(
        error.starts_with("error: the stream ended before the response completed: "),
        "{error}"
    );
    assert_no_repeated_clause(&error);
}
