//! `wharf exec` against a live (scripted) model server on 127.0.0.1: the
//! provider comes from the configuration, the client streams (over HTTP, or
//! the Responses API's WebSocket), the tools really run.

use serde_json::json;
use wharf_tests::model_server::{Call, ModelServer, Reply, Turn};

use crate::Env;

/// The flags that point wharf at `server` as provider `scripted`, in a
/// workspace-write sandbox.
fn provider_flags(server: &ModelServer, wire_api: &str) -> Vec<String> {
    let mut flags = crate::provider_flags(server, wire_api);
    flags.extend(["-s".to_owned(), "workspace-write".to_owned()]);
    flags
}

fn exec(env: &Env, flags: &[String], prompt: &str) -> crate::Output {
    let mut args: Vec<&str> = flags.iter().map(String::as_str).collect();
    args.extend([
        "exec",
        "--skip-git-repo-check",
        "-m",
        "gpt-5.1-codex",
        prompt,
    ]);
    env.wharf(&args)
}

#[test]
fn a_tool_round_trip_over_both_wire_apis() {
    for wire_api in ["responses", "chat"] {
        let env = Env::new();
        let server = ModelServer::start([
            Turn::calls([
                Call::function(
                    "exec_command",
                    json!({ "cmd": "echo made > made.txt; cat made.txt", "login": false }),
                ),
                Call::function(
                    "exec_command",
                    json!({ "cmd": "echo second", "login": false }),
                ),
            ])
            .into(),
            Turn::text("Made the file.").with_usage(100, 10).into(),
        ])
        .unwrap();
        let output = exec(&env, &provider_flags(&server, wire_api), "make a file").success();
        assert_eq!(
            output.stdout, "Made the file.\n",
            "{wire_api}: {}",
            output.stderr
        );
        assert_eq!(
            std::fs::read_to_string(env.cwd().join("made.txt")).unwrap(),
            "made\n"
        );
        // The second request carried both outputs back, in call order.
        let bodies = server.bodies();
        assert_eq!(bodies.len(), 2, "{wire_api}");
        let second = bodies[1].to_string();
        let (made, other) = (second.find("made\\n"), second.find("second\\n"));
        assert!(
            made.is_some() && other.is_some() && made < other,
            "{wire_api}: {second}"
        );
    }
}

#[test]
fn a_provider_that_keeps_failing_fails_the_turn() {
    let env = Env::new();
    let server = ModelServer::start([
        Reply::error(500, "overloaded"),
        Reply::error(500, "overloaded"),
    ])
    .unwrap();
    let output = exec(&env, &provider_flags(&server, "responses"), "hi");
    assert_eq!(output.code, 1, "{}", output.stderr);
    assert!(
        output
            .stderr
            .contains("the provider kept failing (500) after 2 attempts"),
        "{}",
        output.stderr
    );
    assert_eq!(server.request_count(), 2);
}

#[test]
fn rate_limits_are_waited_out() {
    let env = Env::new();
    let server = ModelServer::start([Reply::rate_limited(1), Turn::text("ok").into()]).unwrap();
    let output = exec(&env, &provider_flags(&server, "responses"), "hi").success();
    assert_eq!(output.stdout, "ok\n");
    assert_eq!(server.request_count(), 2);
}

/// The flags of [`provider_flags`] with the WebSocket transport turned on.
fn websocket_flags(server: &ModelServer) -> Vec<String> {
    let mut flags = provider_flags(server, "responses");
    flags.extend(["--enable".to_owned(), "responses_websockets".to_owned()]);
    flags
}

#[test]
fn a_tool_round_trip_over_the_websocket() {
    let env = Env::new();
    let server = ModelServer::start([
        Turn::function_call(
            "exec_command",
            json!({ "cmd": "echo over the socket", "login": false }),
        )
        .into(),
        Turn::text("Ran it.").into(),
    ])
    .unwrap();
    let output = exec(&env, &websocket_flags(&server), "run it").success();
    assert_eq!(output.stdout, "Ran it.\n", "{}", output.stderr);
    // Both requests went over one connection, the second with the output.
    let requests = server.requests();
    let carried: Vec<Option<usize>> = requests.iter().map(|r| r.websocket).collect();
    assert_eq!(carried, [Some(1), Some(1)], "{}", output.stderr);
    assert_eq!(server.websocket_connections(), 1);
    assert_eq!(requests[1].body["type"], json!("response.create"));
    let second = requests[1].body.to_string();
    assert!(second.contains("over the socket\\n"), "{second}");
}

#[test]
fn a_server_without_websocket_is_used_over_http_with_a_warning() {
    let env = Env::new();
    let server = ModelServer::start([
        Reply::reject_upgrade(404, "no such endpoint"),
        Turn::text("fine over http").into(),
    ])
    .unwrap();
    let output = exec(&env, &websocket_flags(&server), "hi").success();
    assert_eq!(output.stdout, "fine over http\n", "{}", output.stderr);
    assert!(
        output
            .stderr
            .contains("warning: the provider does not take WebSocket connections"),
        "{}",
        output.stderr
    );
    let methods: Vec<String> = server.requests().iter().map(|r| r.method.clone()).collect();
    assert_eq!(methods, ["GET", "POST"]);
}

/// The session asks the provider for its model list (once per TTL: the
/// list is cached under `$WHARF_HOME/cache/models/`) and resolves its model
/// from it: here a model the provider says has no command tool.
#[test]
fn a_session_resolves_its_model_from_the_providers_list() {
    let env = Env::new();
    let server = ModelServer::start([Turn::text("one").into(), Turn::text("two").into()]).unwrap();
    server.push_model_list(Reply::Status {
        status: 200,
        headers: vec![("ETag".to_owned(), "\"v1\"".to_owned())],
        body: r#"{"models": [{"slug": "house-model", "shell_type": "disabled"}]}"#.to_owned(),
    });
    let flags = provider_flags(&server, "responses");
    let run = |prompt: &str| {
        let mut args: Vec<&str> = flags.iter().map(String::as_str).collect();
        args.extend(["exec", "--skip-git-repo-check", "-m", "house-model", prompt]);
        env.wharf(&args).success()
    };
    assert_eq!(run("first").stdout, "one\n");
    assert_eq!(run("second").stdout, "two\n");
    // Asked once: the second session found the cached list fresh.
    let asked = server.model_list_requests();
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].path, "/v1/models");
    let cache = env.wharf_home().join("cache/models/scripted.json");
    assert!(
        std::fs::read_to_string(&cache)
            .unwrap()
            .contains("house-model")
    );
    // The list said: no command tool for this model.
    for body in server.bodies() {
        let tools = body["tools"].to_string();
        assert!(!tools.contains("exec_command"), "{tools}");
        assert!(tools.contains("apply_patch"), "{tools}");
    }

    // A provider without a list: a warning, and the session goes on with
    // the models known before.
    let env = Env::new();
    let server = ModelServer::start([Turn::text("fine").into()]).unwrap();
    let output = exec(&env, &provider_flags(&server, "responses"), "hi").success();
    assert_eq!(output.stdout, "fine\n");
    assert!(
        output
            .stderr
            .contains("warning: cannot fetch the model list"),
        "{}",
        output.stderr
    );
}
