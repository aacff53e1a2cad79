//! What an MCP server reports while its tool runs is an event of the
//! session like any other: `wharf exec --json` prints it as an
//! `item.progress` line of the call's item, between the item's start and
//! its completion, and people read the same event on stderr.

use serde_json::{Value, json};
use wharf_tests::mcp_servers::PYTHON_STDIO_SERVER;
use wharf_tests::model_server::{ModelServer, Turn};

use crate::{Env, Output};

/// A stdio MCP server whose one tool, `build`, reports `1/2: compiling`
/// before it answers `built`. It follows [`PYTHON_STDIO_SERVER`].
const SERVER: &str = r#"
for method, id, params in requests():
    if method == "initialize":
        answer_initialize(id, params, "steps", {"tools": {}})
    elif method == "tools/list":
        send({"jsonrpc": "2.0", "id": id, "result": {"tools": [{
            "name": "build", "description": "builds in steps",
            "inputSchema": {"type": "object"}}]}})
    elif method == "tools/call":
        token = (params.get("_meta") or {}).get("progressToken")
        if token is not None:
            send({"jsonrpc": "2.0", "method": "notifications/progress", "params": {
                "progressToken": token, "progress": 1, "total": 2,
                "message": "compiling"}})
        # The result comes after the client has read the notification: it
        # answers the ping only after it.
        send({"jsonrpc": "2.0", "id": "sync", "method": "ping"})
        while json.loads(sys.stdin.readline()).get("id") != "sync":
            pass
        send({"jsonrpc": "2.0", "id": id, "result": {
            "content": [{"type": "text", "text": "built"}]}})
    elif id is not None:
        send({"jsonrpc": "2.0", "id": id, "error": {"code": -32601, "message": "no"}})
"#;

const TOOL: &str = "mcp__steps__build";

/// `wharf exec` (with `extra` flags) against a model that calls [`TOOL`]
/// once, then answers.
fn exec_calling_the_tool(env: &Env, extra: &[&str]) -> Output {
    let script = env.cwd().join("steps_server.py");
    std::fs::write(&script, format!("{PYTHON_STDIO_SERVER}{SERVER}")).unwrap();
    env.write_config(&format!(
        "[mcp_servers.steps]\ncommand = \"python3\"\nargs = [{:?}]\n",
        script.display().to_string()
    ));
    let server = ModelServer::start([
        Turn::function_call(TOOL, json!({})).into(),
        Turn::text("Built.").into(),
    ])
    .unwrap();
    let provider = [
        "model_provider=scripted".to_owned(),
        format!("model_providers.scripted.base_url={}", server.base_url()),
        "model_providers.scripted.request_max_retries=0".to_owned(),
        "model_providers.scripted.wire_api=responses".to_owned(),
    ];
    let mut args = Vec::new();
    for value in &provider {
        args.extend(["-c", value.as_str()]);
    }
    args.extend(["exec", "--skip-git-repo-check", "-m", "gpt-5.1-codex"]);
    args.extend(extra);
    args.push("build it");
    env.wharf(&args).success()
}

#[test]
fn exec_json_emits_an_mcp_tools_progress_as_an_event_of_its_item() {
    let env = Env::new();
    let output = exec_calling_the_tool(&env, &["--json"]);
    let events: Vec<Value> = output
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let position = |wanted: &dyn Fn(&Value) -> bool| {
        events
            .iter()
            .position(wanted)
            .unwrap_or_else(|| panic!("no such event in {}", output.stdout))
    };
    let started = position(&|event| {
        event["type"] == "item.started" && event["item"]["type"] == "mcp_tool_call"
    });
    let item_id = events[started]["item"]["id"].clone();
    let progress = position(&|event| event["type"] == "item.progress");
    assert_eq!(
        events[progress],
        json!({
            "type": "item.progress",
            "item_id": item_id,
            "tool": TOOL,
            "message": "1/2: compiling",
        })
    );
    let completed =
        position(&|event| event["type"] == "item.completed" && event["item"]["id"] == item_id);
    assert!(
        started < progress && progress < completed,
        "{}",
        output.stdout
    );
    // One stream: the JSON consumer has it, so it is not printed for people.
    assert!(!output.stderr.contains("compiling"), "{}", output.stderr);
}

#[test]
fn exec_shows_people_the_same_progress_on_stderr() {
    let env = Env::new();
    let output = exec_calling_the_tool(&env, &[]);
    assert_eq!(output.stdout, "Built.\n", "{}", output.stderr);
    assert!(
        output
            .stderr
            .contains(&format!("  … {TOOL}: 1/2: compiling")),
        "{}",
        output.stderr
    );
}
