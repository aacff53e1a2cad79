//! Servers whose output rmcp would drop (a line over its size limit, JSON
//! nested deeper than the parser reads, text that is not JSON-RPC): the
//! call or the start fails at once and says why, instead of waiting for
//! its timeout.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::json;
use wharf_plugin_mcp_client::{CallError, CallHooks, McpServer, ServerSpec, StartError};

use crate::{program_spec, server_env, temp_cwd};
use wharf_tests::mcp_servers::PYTHON_STDIO_SERVER;

/// A stdio MCP server with one tool, `echo`; argv[1] says how it breaks:
/// `banner` writes a line of text before anything else, `prefix` writes
/// bytes without a newline (glued to the `initialize` answer), `huge` answers a
/// call with a 20 MiB line, `deep` with a result nested 200 levels deep.
/// It follows [`PYTHON_STDIO_SERVER`].
const SERVER: &str = r#"
MODE = sys.argv[1]
if MODE == "banner":
    out.write("Starting server v1.2 \x1b]52;c;aGk=\x07 on stdio\n")
    out.flush()
if MODE == "prefix":
    out.write("\x00\xff\u202e")
    out.flush()
for method, id, params in requests():
    if method == "initialize":
        answer_initialize(id, params, "malformed", {"tools": {}})
    elif method == "tools/list":
        send({"jsonrpc": "2.0", "id": id, "result": {"tools": [
            {"name": "echo", "inputSchema": {"type": "object"}}]}})
    elif method == "tools/call" and MODE == "huge":
        text = "x" * (20 * 1024 * 1024)
        send({"jsonrpc": "2.0", "id": id, "result": {
            "content": [{"type": "text", "text": text}]}})
    elif method == "tools/call" and MODE == "deep":
        out.write('{"jsonrpc": "2.0", "id": %s, "result": {"content": [], "x": %s%s}}\n'
            % (json.dumps(id), "[" * 200, "]" * 200))
        out.flush()
    elif method == "tools/call":
        send({"jsonrpc": "2.0", "id": id, "result": {
            "content": [{"type": "text", "text": "ok"}]}})
"#;

/// Generous next to the 60 s the timeouts are set to: the failure must
/// not wait for them.
const AT_ONCE: Duration = Duration::from_secs(10);

/// Calls `echo` on `server`, which must fail at once, the connection gone;
/// returns why.
#[track_caller]
fn fails_at_once(server: &McpServer, mode: &str) -> String {
    let started = Instant::now();
    let outcome = server.call("echo", json!({}), &CallHooks::none());
    let elapsed = started.elapsed();
    let Err(CallError::Disconnected(message)) = outcome else {
        panic!("{mode}: {outcome:?}");
    };
    assert!(
        elapsed < AT_ONCE,
        "{mode}: the call failed after {elapsed:?}"
    );
    message
}

fn malformed(cwd: &Path, name: &str, mode: &str) -> ServerSpec {
    let script = cwd.join("malformed_server.py");
    std::fs::write(&script, format!("{PYTHON_STDIO_SERVER}{SERVER}")).unwrap();
    let script = script.display().to_string();
    let mut spec = program_spec(name, "python3", &[&script, mode], server_env(), cwd);
    spec.startup_timeout = Duration::from_secs(60);
    spec.tool_timeout = Duration::from_secs(60);
    spec
}

#[test]
fn a_call_whose_answer_is_dropped_fails_at_once_and_says_why() {
    let cases = [
        (
            "huge",
            "the server wrote a message larger than 16 MiB to stdout",
        ),
        (
            "deep",
            "the server wrote a message nested 128 levels deep or more to stdout",
        ),
    ];
    for (mode, cause) in cases {
        let (_dir, cwd) = temp_cwd();
        let name = format!("{mode}-server");
        let server = McpServer::start(malformed(&cwd, &name, mode)).unwrap();
        let message = fails_at_once(&server, mode);
        assert!(
            message.starts_with(&format!("mcp server `{name}` stopped answering: {cause}")),
            "{mode}: {message}"
        );
        assert!(
            message.ends_with("the next call restarts it"),
            "{mode}: {message}"
        );
    }
}

#[test]
fn text_before_initialize_fails_the_start_at_once_and_is_shown_safely() {
    let cases = [
        (
            "banner",
            "`Starting server v1.2 \\u{1b}]52;c;aGk=\\u{7} on stdio`",
        ),
        // Without a newline it would spoil the `initialize` answer.
        ("prefix", "`\\0ÿ\\u{202e}"),
    ];
    for (mode, shown) in cases {
        let (_dir, cwd) = temp_cwd();
        let started = Instant::now();
        let outcome = McpServer::start(malformed(&cwd, "noisy", mode));
        let elapsed = started.elapsed();
        let Err(err) = outcome else {
            panic!("{mode}: a server writing text to stdout started");
        };
        assert!(
            elapsed < AT_ONCE,
            "{mode}: the start failed after {elapsed:?}"
        );
        assert!(
            matches!(err, StartError::Protocol { .. }),
            "{mode}: {err:?}"
        );
        // What follows the text may arrive with it: only its start is sure.
        let message = err.to_string();
        assert!(
            message.starts_with(&format!(
                "mcp server `noisy`: initialize failed: the server wrote something that is not \
                 a JSON-RPC message to stdout: {shown}"
            )) && message.ends_with(
                "` (an MCP server writes only MCP messages to stdout; logs go to stderr)"
            ),
            "{mode}: {message}"
        );
    }
}

/// The streamable HTTP server of `malformed_http_server.py` on 127.0.0.1,
/// answering `tools/call` as `mode` says; killed on drop.
struct HttpServer {
    child: std::process::Child,
    url: String,
}

impl HttpServer {
    fn start(mode: &str) -> HttpServer {
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/it/malformed_http_server.py"
        );
        // A test fixture, not something wharf runs: it does not go through
        // the sandbox.
        #[allow(clippy::disallowed_methods)]
        let mut child = std::process::Command::new("python3")
            .args([script, mode])
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut port = String::new();
        let stdout = child.stdout.take().unwrap();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut port).unwrap();
        let url = format!("http://127.0.0.1:{}/mcp", port.trim());
        HttpServer { child, url }
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn an_http_answer_that_cannot_be_read_fails_the_call_at_once_and_says_why() {
    let cases = [
        (
            "huge-json",
            "HTTP response body exceeded the maximum size of 16777216 bytes",
        ),
        ("deep-json", "recursion limit exceeded"),
        ("garbage-json", "could not parse JSON response"),
        (
            "huge-sse",
            "its event stream failed: body error: SSE event exceeded the maximum size of \
             16777216 bytes",
        ),
        (
            "deep-sse",
            "the server sent an event nested 128 levels deep or more, deeper than the JSON \
             parser reads",
        ),
        (
            "garbage-sse",
            "the server sent an event that is not a JSON-RPC message: `oops \\u{1b}[2J`",
        ),
    ];
    for (mode, cause) in cases {
        let fixture = HttpServer::start(mode);
        let mut spec = crate::http_spec("web", &fixture.url);
        spec.tool_timeout = Duration::from_secs(60);
        let server = McpServer::start(spec).unwrap();
        let message = fails_at_once(&server, mode);
        assert!(
            message.starts_with(&format!(
                "the connection to mcp server `web` ({}) broke: ",
                fixture.url
            )) && message.contains(cause),
            "{mode}: {message}"
        );
    }
}
