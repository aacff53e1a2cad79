//! What a user does with a server, over both transports: list, call each
//! kind of tool, filter, follow progress, cancel, time out.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::json;
use wharf_plugin_mcp_client::{
    CallError, CallHooks, CallResult, CancelToken, McpServer, ResultContent, ServerSpec,
};

use crate::{http_spec, start_stdio, stdio_spec, temp_cwd, unconfined};
use wharf_tests::mcp_servers::EverythingHttp;

fn text(result: &CallResult) -> String {
    result
        .content
        .iter()
        .filter_map(|content| match content {
            ResultContent::Text(text) => Some(text.as_str()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn call(server: &McpServer, tool: &str, arguments: serde_json::Value) -> CallResult {
    server.call(tool, arguments, &CallHooks::none()).unwrap()
}

fn lists_qualified_tools(server: &McpServer, name: &str) {
    let tools = server.tools();
    for tool in [
        "echo",
        "get-sum",
        "get-tiny-image",
        "trigger-long-running-operation",
    ] {
        let found = tools
            .iter()
            .find(|listed| listed.name == tool)
            .unwrap_or_else(|| panic!("{tool} missing from {tools:?}"));
        assert_eq!(found.qualified_name, format!("mcp__{name}__{tool}"));
    }
    let echo = tools.iter().find(|tool| tool.name == "echo").unwrap();
    assert_eq!(echo.input_schema["type"], "object");
    assert!(
        echo.input_schema["properties"]["message"].is_object(),
        "{:?}",
        echo.input_schema
    );
    assert!(!echo.description.is_empty());
    assert_eq!(echo.title.as_deref(), Some("Echo Tool"));
    assert!(server.warnings().is_empty(), "{:?}", server.warnings());
}

fn calls_every_kind_of_tool(server: &McpServer) {
    let echo = call(server, "echo", json!({"message": "hello wharf"}));
    assert_eq!(
        echo.content,
        [ResultContent::Text("Echo: hello wharf".to_owned())]
    );
    assert!(!echo.is_error);

    let sum = call(server, "get-sum", json!({"a": 2, "b": 40}));
    assert!(text(&sum).contains("42"), "{sum:?}");

    let image = call(server, "get-tiny-image", json!({}));
    let [
        ResultContent::Text(before),
        ResultContent::Image { mime_type, data },
        ResultContent::Text(_),
    ] = image.content.as_slice()
    else {
        panic!("text, image, text expected: {image:?}");
    };
    assert!(before.contains("image"), "{before}");
    assert_eq!(mime_type, "image/png");
    assert!(
        data.starts_with(b"\x89PNG\r\n\x1a\n"),
        "not a PNG: {:?}",
        &data[..8.min(data.len())]
    );

    // Bad arguments: the tool runs and fails, the model reads why.
    let bad = call(server, "get-sum", json!({"a": "two", "b": 40}));
    assert!(bad.is_error, "{bad:?}");
    assert!(!text(&bad).is_empty());

    let structured = call(
        server,
        "get-structured-content",
        json!({"location": "New York"}),
    );
    assert!(structured.structured.is_some(), "{structured:?}");

    let links = call(server, "get-resource-links", json!({"count": 2}));
    let link_count = links
        .content
        .iter()
        .filter(|content| matches!(content, ResultContent::ResourceLink { .. }))
        .count();
    assert_eq!(link_count, 2, "{links:?}");

    let reference = call(
        server,
        "get-resource-reference",
        json!({"resourceType": "Text", "resourceId": 1}),
    );
    assert!(
        reference
            .content
            .iter()
            .any(|content| matches!(content, ResultContent::Resource { text: Some(_), .. })),
        "{reference:?}"
    );

    let unknown = server.call("no-such-tool", json!({}), &CallHooks::none());
    assert!(
        matches!(unknown, Err(CallError::UnknownTool(_))),
        "{unknown:?}"
    );
    let not_object = server.call("echo", json!(["x"]), &CallHooks::none());
    assert!(
        matches!(not_object, Err(CallError::InvalidArguments(_))),
        "{not_object:?}"
    );
}

fn reports_progress(server: &McpServer) {
    let lines = Mutex::new(Vec::new());
    let hooks = CallHooks {
        cancel: CancelToken::new(),
        progress: &|line| lines.lock().unwrap().push(line.to_owned()),
        elicit: &wharf_plugin_mcp_client::decline,
    };
    let result = server
        .call(
            "trigger-long-running-operation",
            // Steps further apart than progress is shown (4 a second).
            json!({"duration": 2.0, "steps": 4}),
            &hooks,
        )
        .unwrap();
    assert!(text(&result).contains("completed"), "{result:?}");
    // In order; the last one may race the answer (rmcp handles
    // notifications on tasks of their own) and come too late to report.
    let lines = lines.lock().unwrap();
    let expected = ["1/4", "2/4", "3/4", "4/4"];
    assert!(
        lines.len() >= 3 && lines.iter().zip(expected).all(|(line, want)| line == want),
        "progress lines: {lines:?}"
    );
}

/// Cancelled after its first progress: the call returns at once and the
/// server keeps serving.
fn cancels_mid_way(server: &McpServer) {
    let cancel = CancelToken::new();
    let cancelled_at = Mutex::new(None);
    let hooks = CallHooks {
        cancel: cancel.clone(),
        progress: &|_| {
            cancel.cancel();
            cancelled_at
                .lock()
                .unwrap()
                .get_or_insert_with(Instant::now);
        },
        elicit: &wharf_plugin_mcp_client::decline,
    };
    let started = Instant::now();
    let outcome = server.call(
        "trigger-long-running-operation",
        json!({"duration": 30, "steps": 100}),
        &hooks,
    );
    assert!(matches!(outcome, Err(CallError::Cancelled)), "{outcome:?}");
    let cancelled_at = cancelled_at
        .lock()
        .unwrap()
        .expect("a progress notification came");
    assert!(
        cancelled_at.elapsed() < Duration::from_secs(1),
        "the cancelled call took {:?} to return",
        cancelled_at.elapsed()
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    let echo = call(server, "echo", json!({"message": "still here"}));
    assert_eq!(
        echo.content,
        [ResultContent::Text("Echo: still here".to_owned())]
    );
}

/// The same from a thread inside a tokio runtime: there the call runs as a
/// task of the client's runtime, and the cancel wakes the waiting caller.
fn cancels_mid_way_inside_a_runtime(server: &McpServer) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let _inside = runtime.enter();
    cancels_mid_way(server);
}

fn times_out(mut spec: ServerSpec) {
    spec.tool_timeout = Duration::from_millis(300);
    let server = McpServer::start(spec).unwrap();
    let started = Instant::now();
    let outcome = server.call(
        "trigger-long-running-operation",
        json!({"duration": 20, "steps": 2}),
        &CallHooks::none(),
    );
    assert_eq!(outcome, Err(CallError::Timeout(Duration::from_millis(300))));
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        outcome.unwrap_err().to_string(),
        "timed out after 300 ms (tool_timeout_sec)"
    );
    let echo = call(&server, "echo", json!({"message": "after"}));
    assert!(!echo.is_error);
}

fn filters_tools(mut spec: ServerSpec, name: &str) {
    spec.enabled_tools = Some(vec![
        "echo".to_owned(),
        "get-sum".to_owned(),
        "missing".to_owned(),
    ]);
    spec.disabled_tools = vec!["get-sum".to_owned()];
    let server = McpServer::start(spec).unwrap();
    let names: Vec<_> = server
        .tools()
        .iter()
        .map(|tool| tool.qualified_name.as_str())
        .collect();
    assert_eq!(names, [format!("mcp__{name}__echo")]);
    assert_eq!(
        server.warnings(),
        ["enabled_tools names `missing`, which the server does not offer"]
    );
    let disabled = server.call("get-sum", json!({"a": 1, "b": 2}), &CallHooks::none());
    assert!(
        matches!(disabled, Err(CallError::UnknownTool(_))),
        "{disabled:?}"
    );
}

#[test]
fn stdio_lists_and_calls_tools() {
    let (_dir, server) = start_stdio("every");
    lists_qualified_tools(&server, "every");
    calls_every_kind_of_tool(&server);
}

#[test]
fn stdio_progress_and_cancel() {
    let (_dir, server) = start_stdio("every");
    reports_progress(&server);
    cancels_mid_way(&server);
    cancels_mid_way_inside_a_runtime(&server);
}

#[test]
fn stdio_timeout() {
    let (_dir, cwd) = temp_cwd();
    times_out(stdio_spec("every", unconfined(&cwd)));
}

#[test]
fn stdio_filters() {
    let (_dir, cwd) = temp_cwd();
    filters_tools(stdio_spec("filtered", unconfined(&cwd)), "filtered");
}

#[test]
fn http_lists_and_calls_tools() {
    let fixture = EverythingHttp::start().unwrap();
    let server = McpServer::start(http_spec("web", &fixture.url)).unwrap();
    assert_eq!(server.pid(), None);
    lists_qualified_tools(&server, "web");
    calls_every_kind_of_tool(&server);
}

#[test]
fn http_progress_and_cancel() {
    let fixture = EverythingHttp::start().unwrap();
    let server = McpServer::start(http_spec("web", &fixture.url)).unwrap();
    reports_progress(&server);
    cancels_mid_way(&server);
    cancels_mid_way_inside_a_runtime(&server);
}

#[test]
fn http_timeout_and_filters() {
    let fixture = EverythingHttp::start().unwrap();
    times_out(http_spec("web", &fixture.url));
    filters_tools(http_spec("webf", &fixture.url), "webf");
}
