//! MCP servers in sessions, through the real binary: the real
//! `@modelcontextprotocol/server-everything` (installed into `tests/mcp` by
//! `cargo xtask test`) over stdio and streamable HTTP, its tools listed,
//! called with `wharf tool call`, and called by a (scripted) model in
//! `wharf exec`.

use serde_json::{Value, json};
use wharf_tests::mcp_servers::{EverythingHttp, everything};
use wharf_tests::model_server::{Call, ModelServer, Turn};

use crate::Env;

/// A config with server `everything` over stdio, plus `extra` lines.
fn stdio_config(env: &Env, extra: &str) {
    // node starts the server in well under a second, but a CI machine busy
    // compiling can take longer than the default 10 s.
    env.write_config(&format!(
        "[mcp_servers.everything]\ncommand = \"node\"\nargs = [{:?}, \"stdio\"]\n\
         startup_timeout_sec = 60\n{extra}",
        everything().display().to_string()
    ));
}

/// The flags that point wharf at `server` as provider `scripted`.
fn provider_flags(server: &ModelServer) -> Vec<String> {
    vec![
        "-c".to_owned(),
        "model_provider=scripted".to_owned(),
        "-c".to_owned(),
        format!("model_providers.scripted.base_url={}", server.base_url()),
        "-c".to_owned(),
        "model_providers.scripted.request_max_retries=0".to_owned(),
        "-c".to_owned(),
        "model_providers.scripted.wire_api=responses".to_owned(),
    ]
}

fn exec(env: &Env, server: &ModelServer, model: &str, prompt: &str) -> crate::Output {
    let flags = provider_flags(server);
    let mut args: Vec<&str> = flags.iter().map(String::as_str).collect();
    args.extend(["exec", "--skip-git-repo-check", "-m", model, prompt]);
    env.wharf(&args)
}

#[test]
fn a_stdio_servers_tools_are_listed_and_called() {
    let env = Env::new();
    stdio_config(&env, "");
    let output = env.wharf(&["tool", "list", "--json"]).success();
    let tools: Vec<Value> = serde_json::from_str(&output.stdout).unwrap();
    let names: Vec<&str> = tools.iter().filter_map(|t| t["name"].as_str()).collect();
    for tool in [
        "mcp__everything__echo",
        "mcp__everything__get-sum",
        "mcp__everything__get-tiny-image",
    ] {
        assert!(names.contains(&tool), "{tool} missing from {names:?}");
    }
    let echo = tools
        .iter()
        .find(|t| t["name"] == "mcp__everything__echo")
        .unwrap();
    assert_eq!(echo["plugin"], "mcp-everything");
    assert_eq!(echo["feature"], "mcp_client");
    assert_eq!(
        echo["input_schema"]["properties"]["message"]["type"],
        "string"
    );

    let output = env
        .wharf(&[
            "tool",
            "call",
            "mcp__everything__echo",
            "--args",
            r#"{"message":"hello over stdio"}"#,
        ])
        .success();
    assert_eq!(output.stdout, "Echo: hello over stdio\n");
    let output = env
        .wharf(&[
            "tool",
            "call",
            "mcp__everything__get-sum",
            "--args",
            r#"{"a":2,"b":40}"#,
        ])
        .success();
    assert!(output.stdout.contains("42"), "{}", output.stdout);

    // Progress notifications are shown while the tool runs.
    let output = env
        .wharf(&[
            "tool",
            "call",
            "mcp__everything__trigger-long-running-operation",
            "--args",
            r#"{"duration":0.3,"steps":3}"#,
        ])
        .success();
    assert!(
        output
            .stderr
            .contains("  … mcp__everything__trigger-long-running-operation: 1/3"),
        "{}",
        output.stderr
    );

    // Arguments that do not match the server's schema stop in the pipeline.
    let output = env.wharf(&[
        "tool",
        "call",
        "mcp__everything__get-sum",
        "--args",
        r#"{"a":"two"}"#,
    ]);
    assert_eq!(output.code, 2, "{}", output.stderr);

    // Filters: enabled_tools first, then disabled_tools.
    stdio_config(
        &env,
        "enabled_tools = [\"echo\", \"get-sum\"]\ndisabled_tools = [\"get-sum\"]\n",
    );
    let output = env.wharf(&["tool", "list", "--json"]).success();
    let tools: Vec<Value> = serde_json::from_str(&output.stdout).unwrap();
    let names: Vec<&str> = tools
        .iter()
        .filter_map(|t| t["name"].as_str())
        .filter(|name| name.starts_with("mcp__"))
        .collect();
    assert_eq!(names, ["mcp__everything__echo"]);

    // The feature turns every server off.
    let output = env
        .wharf(&["--disable", "mcp_client", "tool", "list", "--json"])
        .success();
    assert!(!output.stdout.contains("mcp__"), "{}", output.stdout);
}

#[test]
fn a_model_calls_mcp_tools_and_images_reach_only_image_models() {
    for (model, sees_image) in [("gpt-5.1-codex", true), ("gpt-oss", false)] {
        let env = Env::new();
        stdio_config(&env, "");
        let server = ModelServer::start([
            Turn::calls([
                Call::function("mcp__everything__echo", json!({ "message": "ping" })),
                Call::function("mcp__everything__get-tiny-image", json!({})),
            ])
            .into(),
            Turn::text("Done.").into(),
        ])
        .unwrap();
        let output = exec(&env, &server, model, "use the tools").success();
        assert_eq!(output.stdout, "Done.\n", "{model}: {}", output.stderr);
        // The first request offered the server's tools.
        let bodies = server.bodies();
        assert_eq!(bodies.len(), 2, "{model}");
        let offered = bodies[0]["tools"].to_string();
        assert!(
            offered.contains("mcp__everything__echo"),
            "{model}: {offered}"
        );
        // The second carried the outputs back: the echo, and the image as
        // an image or as the placeholder.
        let second = bodies[1]["input"].to_string();
        assert!(second.contains("Echo: ping"), "{model}: {second}");
        let image = second.contains("data:image/png;base64,");
        let placeholder = second.contains("image content omitted");
        assert_eq!(
            (image, placeholder),
            (sees_image, !sees_image),
            "{model}: {second}"
        );
        // exec shows the calls as MCP calls.
        assert!(
            output.stderr.contains("→ everything/echo"),
            "{model}: {}",
            output.stderr
        );
    }
}

#[test]
fn a_required_server_that_cannot_start_fails_exec_before_the_model_is_asked() {
    let env = Env::new();
    env.write_config(
        "[mcp_servers.broken]\ncommand = \"wharf-no-such-mcp-server\"\nrequired = true\n\n\
         [mcp_servers.also_broken]\ncommand = \"wharf-no-such-mcp-server-either\"\nrequired = true\n",
    );
    let server = ModelServer::start([Turn::text("unreachable").into()]).unwrap();
    let output = exec(&env, &server, "gpt-5.1-codex", "hi").fails_with(1);
    for name in ["broken", "also_broken"] {
        assert!(
            output
                .stderr
                .contains(&format!("\n  mcp server `{name}`: ")),
            "{name}: {}",
            output.stderr
        );
    }
    assert!(
        output.stderr.contains("wharf-no-such-mcp-server"),
        "{}",
        output.stderr
    );
    assert_eq!(server.request_count(), 0);
}

#[test]
fn a_server_that_is_not_required_is_a_warning_and_the_session_goes_on() {
    let env = Env::new();
    stdio_config(
        &env,
        "\n[mcp_servers.broken]\ncommand = \"wharf-no-such-mcp-server\"\n",
    );
    let server = ModelServer::start([
        Turn::function_call("mcp__everything__echo", json!({ "message": "still here" })).into(),
        Turn::text("Fine.").into(),
    ])
    .unwrap();
    let output = exec(&env, &server, "gpt-5.1-codex", "hi").success();
    assert_eq!(output.stdout, "Fine.\n");
    assert!(
        output
            .stderr
            .contains("warning: mcp server `broken` failed to start; the session goes on"),
        "{}",
        output.stderr
    );
    assert!(
        server.bodies()[1]["input"]
            .to_string()
            .contains("Echo: still here")
    );
}

#[test]
fn a_streamable_http_servers_tools_are_called() {
    let http = EverythingHttp::start().unwrap();
    let env = Env::new();
    env.write_config(&format!(
        "[mcp_servers.remote]\nurl = \"http://127.0.0.1:{}/mcp\"\n",
        http.port
    ));
    let output = env
        .wharf(&[
            "tool",
            "call",
            "mcp__remote__echo",
            "--args",
            r#"{"message":"hello over http"}"#,
        ])
        .success();
    assert_eq!(output.stdout, "Echo: hello over http\n");
}

#[test]
fn mcp_list_and_get_with_tools_start_the_servers() {
    let env = Env::new();
    stdio_config(
        &env,
        "\n[mcp_servers.broken]\ncommand = \"wharf-no-such-mcp-server\"\n",
    );
    let output = env.wharf(&["mcp", "list", "--tools"]).success();
    let line = |name: &str| {
        output
            .stdout
            .lines()
            .find(|line| line.starts_with(name))
            .unwrap_or_else(|| panic!("no line for {name}:\n{}", output.stdout))
            .to_owned()
    };
    // 14: `trigger-elicitation-request` is offered to clients that can
    // show forms, as wharf can.
    assert!(
        line("everything ").contains("ready, 14 tool(s)"),
        "{}",
        output.stdout
    );
    assert!(
        line("broken ").contains("failed to start"),
        "{}",
        output.stdout
    );
    assert!(
        line("everything: ").contains("mcp__everything__echo"),
        "{}",
        output.stdout
    );
    assert!(
        line("broken: ").contains("command `wharf-no-such-mcp-server` not found"),
        "{}",
        output.stdout
    );

    let output = env
        .wharf(&["mcp", "get", "everything", "--tools", "--json"])
        .success();
    let server: Value = serde_json::from_str(&output.stdout).unwrap();
    assert_eq!(server["status"], "ready");
    let tools = server["tools"].to_string();
    assert!(tools.contains("mcp__everything__get-tiny-image"), "{tools}");
    // Without --tools nothing is started.
    let output = env.wharf(&["mcp", "get", "everything", "--json"]).success();
    let server: Value = serde_json::from_str(&output.stdout).unwrap();
    assert!(server.get("tools").is_none(), "{server}");
}
