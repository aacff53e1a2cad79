//! Servers that offer too much or describe their tools badly: each gets a
//! small Python server on stdio whose `tools/list` is one Python
//! expression. What cannot be offered is skipped by name, the rest still
//! is.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use wharf_plugin_mcp_client::{
    CallHooks, MAX_LOG_LINES, McpServer, OfferLimits, ResultContent, ServerSpec,
};

use crate::{program_spec, server_env, temp_cwd};
use wharf_tests::mcp_servers::PYTHON_STDIO_SERVER;

/// A stdio MCP server (newline-delimited JSON-RPC) that lists the tools
/// `TOOLS` evaluates to (argv[1]), and whose every tool sends argv[2]
/// progress notifications, then argv[3] log messages (warning and debug in
/// turn), then a `ping` it waits to be answered, then its result.
/// It follows [`PYTHON_STDIO_SERVER`].
const SERVER: &str = r#"
TOOLS = eval(sys.argv[1])
PROGRESS, LOGS = int(sys.argv[2]), int(sys.argv[3])
for method, id, params in requests():
    if method == "initialize":
        answer_initialize(id, params, "offers", {"tools": {}, "logging": {}})
    elif method == "tools/list":
        send({"jsonrpc": "2.0", "id": id, "result": {"tools": TOOLS}})
    elif method == "tools/call":
        token = (params.get("_meta") or {}).get("progressToken")
        chunk = []
        for i in range(PROGRESS):
            chunk.append(json.dumps({"jsonrpc": "2.0", "method": "notifications/progress",
                "params": {"progressToken": token, "progress": i + 1, "total": PROGRESS}}))
            if len(chunk) == 1000 or i + 1 == PROGRESS:
                out.write("\n".join(chunk) + "\n")
                chunk = []
        for i in range(LOGS):
            out.write(json.dumps({"jsonrpc": "2.0", "method": "notifications/message",
                "params": {"level": "debug" if i % 2 else "warning",
                           "data": "log %d\n\x1b[2J" % i}}) + "\n")
        # The result comes after the client has read every notification:
        # it answers the ping only after them.
        send({"jsonrpc": "2.0", "id": "sync", "method": "ping"})
        while json.loads(sys.stdin.readline()).get("id") != "sync":
            pass
        send({"jsonrpc": "2.0", "id": id, "result": {
            "content": [{"type": "text", "text": "done"}]}})
    elif id is not None:
        send({"jsonrpc": "2.0", "id": id, "error": {"code": -32601, "message": "no"}})
"#;

/// The spec of a server named `name` listing `tools`.
pub(crate) fn offering(
    cwd: &Path,
    name: &str,
    tools: &str,
    progress: usize,
    logs: usize,
) -> ServerSpec {
    let script = cwd.join("offers_server.py");
    std::fs::write(&script, format!("{PYTHON_STDIO_SERVER}{SERVER}")).unwrap();
    let script = script.display().to_string();
    let progress = progress.to_string();
    let logs = logs.to_string();
    program_spec(
        name,
        "python3",
        &[&script, tools, &progress, &logs],
        server_env(),
        cwd,
    )
}

/// A tool whose schema is `schema` (a Python expression).
fn tool(name: &str, schema: &str) -> String {
    // A JSON string is a Python string too.
    let name = serde_json::to_string(name).unwrap();
    format!("{{'name': {name}, 'inputSchema': {schema}}}")
}

const OBJECT: &str = "{'type': 'object'}";

struct Case {
    what: &'static str,
    /// A Python expression for the listed tools.
    tools: String,
    limits: OfferLimits,
    /// The server's names of the tools offered.
    offered: Vec<String>,
    warnings: Vec<String>,
}

fn cases() -> Vec<Case> {
    let good = tool("good", OBJECT);
    let limits = OfferLimits::DEFAULT;
    vec![
        Case {
            what: "10 000 tools",
            tools: format!(
                "[{{'name': 't%d' % i, 'inputSchema': {OBJECT}}} for i in range(10000)]"
            ),
            limits,
            offered: (0..128).map(|i| format!("t{i}")).collect(),
            warnings: vec![
                "10000 tools are left to offer, more than max_tools (128): these are not \
                 offered: `t128`, `t129`, `t130`, `t131`, `t132`, and 9867 more (raise \
                 max_tools or choose with enabled_tools in [mcp_servers.s])"
                    .to_owned(),
            ],
        },
        Case {
            what: "a 1 MB description",
            tools: format!(
                "[{{'name': 'wordy', 'description': 'x' * 1000000, 'inputSchema': {OBJECT}}}, {good}]"
            ),
            limits,
            offered: vec!["good".to_owned()],
            warnings: vec![
                "tool `wordy` is skipped: its description is 1000000 bytes, more than \
                 max_tool_description_bytes (8192)"
                    .to_owned(),
            ],
        },
        Case {
            what: "a 4 MB schema",
            tools: format!(
                "[{}, {good}]",
                tool(
                    "huge",
                    "{'type': 'object', 'properties': \
                     {'p%d' % i: {'type': 'string', 'description': 'y' * 30} for i in range(80000)}}"
                )
            ),
            limits,
            offered: vec!["good".to_owned()],
            warnings: vec![
                "tool `huge` is skipped: its input schema is more than max_tool_schema_bytes (65536) as JSON"
                    .to_owned(),
            ],
        },
        Case {
            what: "inputSchema: 5 beside a good tool",
            tools: format!("[{}, {good}]", tool("five", "5")),
            limits,
            offered: vec!["good".to_owned()],
            warnings: vec![
                "tool `five` is skipped: its input schema is a number, not a JSON Schema object"
                    .to_owned(),
            ],
        },
        Case {
            what: "a schema for strings",
            tools: format!("[{}, {good}]", tool("text", "{'type': 'string'}")),
            limits,
            offered: vec!["good".to_owned()],
            warnings: vec![
                "tool `text` is skipped: its input schema is for `string` values, but MCP \
                 arguments are an object"
                    .to_owned(),
            ],
        },
        Case {
            what: "a name with a newline and an escape, and a tool without a name",
            tools: format!(
                "[{}, {{'inputSchema': {OBJECT}}}, {good}]",
                tool("two\nlines\u{1b}[2J", "5")
            ),
            limits,
            offered: vec!["good".to_owned()],
            warnings: vec![
                "the server's tool #2 is skipped: it has no name".to_owned(),
                "tool `two\\nlines\\u{1b}[2J` is skipped: its input schema is a number, not a \
                 JSON Schema object"
                    .to_owned(),
            ],
        },
        Case {
            what: "limits set in the config",
            tools: format!(
                "[{}, {}, {}, {}]",
                "{'name': 'a', 'description': 'x' * 11}",
                tool("b", "{'type': 'object', 'description': 'y' * 30}"),
                tool("c", OBJECT),
                tool("d", OBJECT),
            ),
            limits: OfferLimits {
                max_tools: 1,
                max_description_bytes: 10,
                max_schema_bytes: 30,
            },
            offered: vec!["c".to_owned()],
            warnings: vec![
                "tool `a` is skipped: its description is 11 bytes, more than \
                 max_tool_description_bytes (10)"
                    .to_owned(),
                "tool `b` is skipped: its input schema is more than max_tool_schema_bytes (30) as JSON"
                    .to_owned(),
                "2 tools are left to offer, more than max_tools (1): this one is not offered: \
                 `d` (raise max_tools or choose with enabled_tools in [mcp_servers.s])"
                    .to_owned(),
            ],
        },
    ]
}

/// At most a few names and how many, for a failure's message.
fn summary(names: &[&str]) -> String {
    let shown: Vec<&str> = names.iter().take(3).copied().collect();
    format!("{} tool(s): {shown:?}…", names.len())
}

/// What a warning looks like in a failure's message: at most 300
/// characters of it.
fn clipped(warnings: &[String]) -> Vec<String> {
    warnings
        .iter()
        .map(|warning| warning.chars().take(300).collect())
        .collect()
}

#[test]
fn what_a_server_offers_is_bounded_and_checked_tool_by_tool() {
    let (_dir, cwd) = temp_cwd();
    let mut failures = Vec::new();
    for case in cases() {
        let mut spec = offering(&cwd, "s", &case.tools, 0, 0);
        spec.limits = case.limits;
        let server = match McpServer::start(spec) {
            Ok(server) => server,
            Err(err) => {
                failures.push(format!("{}: did not start: {err}", case.what));
                continue;
            }
        };
        let offered: Vec<&str> = server
            .tools()
            .iter()
            .map(|tool| tool.name.as_str())
            .collect();
        if offered != case.offered || server.warnings() != case.warnings {
            let expected: Vec<&str> = case.offered.iter().map(String::as_str).collect();
            failures.push(format!(
                "{}: offered {}, warned {:?}; expected {}, {:?}",
                case.what,
                summary(&offered),
                clipped(server.warnings()),
                summary(&expected),
                case.warnings,
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Progress lines a flood may show: one at the start, one per 250 ms, the
/// last one.
fn allowed_updates(took: Duration) -> usize {
    usize::try_from(took.as_millis() / 250).unwrap() + 2
}

#[test]
fn a_progress_flood_is_shown_a_few_times_a_second_ending_with_the_last() {
    const FLOOD: usize = 50_000;
    let (_dir, cwd) = temp_cwd();
    let spec = offering(
        &cwd,
        "flood",
        &format!("[{}]", tool("go", OBJECT)),
        FLOOD,
        0,
    );
    let server = McpServer::start(spec).unwrap();
    let shown = Mutex::new(Vec::new());
    let progress = |line: &str| shown.lock().unwrap().push(line.to_owned());
    let hooks = CallHooks {
        cancel: Default::default(),
        progress: &progress,
        elicit: &wharf_plugin_mcp_client::decline,
    };
    let started = Instant::now();
    let result = server.call("go", json!({}), &hooks).unwrap();
    let took = started.elapsed();
    assert_eq!(result.content, [ResultContent::Text("done".to_owned())]);
    let shown = shown.into_inner().unwrap();
    assert!(
        shown.len() <= allowed_updates(took),
        "{} updates in {took:?}",
        shown.len()
    );
    // Growing, and ending at the end of the flood: the line held back when
    // the result came is shown. (rmcp handles each notification on a task
    // of its own; the very last may still be on its way then.)
    let amounts: Vec<usize> = shown
        .iter()
        .map(|line| {
            line.strip_suffix(&format!("/{FLOOD}"))
                .and_then(|amount| amount.parse().ok())
                .unwrap_or_else(|| panic!("{line}"))
        })
        .collect();
    assert!(amounts.is_sorted(), "{amounts:?}");
    assert!(
        amounts.last().is_some_and(|last| *last > FLOOD * 99 / 100),
        "{amounts:?}"
    );
}

#[test]
fn a_log_flood_shows_a_few_warnings_then_how_many_were_not_shown() {
    const LOGS: usize = 10_000;
    let (_dir, cwd) = temp_cwd();
    let mut spec = offering(&cwd, "logs", &format!("[{}]", tool("go", OBJECT)), 0, LOGS);
    let lines = Arc::new(Mutex::new(Vec::new()));
    let kept = Arc::clone(&lines);
    spec.log = Arc::new(move |line: &str| kept.lock().unwrap().push(line.to_owned()));
    let server = McpServer::start(spec).unwrap();
    let result = server.call("go", json!({}), &CallHooks::none()).unwrap();
    assert_eq!(result.content, [ResultContent::Text("done".to_owned())]);
    server.shutdown();
    let lines = lines.lock().unwrap();
    assert_eq!(lines.len(), MAX_LOG_LINES + 1, "{lines:?}");
    // rmcp handles each notification on a task of its own: which 20 are
    // shown varies, that they are warnings, escaped, does not.
    for line in &lines[..MAX_LOG_LINES] {
        let number: usize = line
            .strip_prefix("mcp server `logs` warning: log ")
            .and_then(|rest| rest.strip_suffix("\\n\\u{1b}[2J"))
            .and_then(|number| number.parse().ok())
            .unwrap_or_else(|| panic!("{line}"));
        assert_eq!(number % 2, 0, "{line}");
    }
    // The warnings past the first 20 (debug ones are dropped), less any
    // still on their way when the connection closed.
    let last = &lines[MAX_LOG_LINES];
    let not_shown: usize = last
        .strip_prefix("mcp server `logs`: ")
        .and_then(|rest| rest.strip_suffix(" more log message(s) were not shown (at most 20 are)"))
        .and_then(|count| count.parse().ok())
        .unwrap_or_else(|| panic!("{last}"));
    assert!(
        (1..=LOGS / 2 - MAX_LOG_LINES).contains(&not_shown),
        "{last}"
    );
}
