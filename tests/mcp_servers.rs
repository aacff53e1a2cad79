//! The real MCP server the tests and benchmarks drive,
//! `@modelcontextprotocol/server-everything`, pinned in `tests/mcp/` and
//! installed there by `npm ci` (`cargo xtask test` does it).

use std::io::{self, BufRead as _, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// How long the HTTP server may take to say it listens.
const START_LIMIT: Duration = Duration::from_secs(20);

/// What the server prints on stderr once its port accepts connections.
const LISTENING: &str = "listening on port";

/// The server's entry point, `dist/index.js`: run it with `node PATH stdio`
/// or `node PATH streamableHttp`. Fails (never skips) when it is missing.
pub fn everything() -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("mcp/node_modules/@modelcontextprotocol/server-everything/dist/index.js");
    assert!(
        path.is_file(),
        "{} is missing: run `npm ci --prefix tests/mcp` (cargo xtask test does) to install \
         the MCP test server",
        path.display()
    );
    path
}

/// server-everything serving streamable HTTP on a free loopback port,
/// killed on drop.
pub struct EverythingHttp {
    child: Child,
    pub port: u16,
    /// `http://127.0.0.1:PORT/mcp`.
    pub url: String,
}

impl EverythingHttp {
    /// Starts the server and returns once it says it listens (read from its
    /// stderr, not polled), or fails naming why: it exited, or said nothing
    /// within 20 s.
    pub fn start() -> io::Result<EverythingHttp> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        // A test fixture, not something wharf runs: it does not go through
        // the sandbox.
        #[allow(clippy::disallowed_methods)]
        let mut child = Command::new("node")
            .arg(everything())
            .arg("streamableHttp")
            .env("PORT", port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()?;
        let stderr = child
            .stderr
            .take()
            .ok_or_else(|| io::Error::other("the server's stderr is not piped"))?;
        let (listening, told) = mpsc::channel();
        // Reads stderr to its end, so the server never blocks on a full pipe.
        std::thread::Builder::new()
            .name("mcp-http-stderr".to_owned())
            .spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    if line.contains(LISTENING) {
                        let _ = listening.send(());
                    }
                }
            })?;
        let mut server = EverythingHttp {
            child,
            port,
            url: format!("http://127.0.0.1:{port}/mcp"),
        };
        match told.recv_timeout(START_LIMIT) {
            Ok(()) => Ok(server),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                let status = server.child.wait()?;
                Err(io::Error::other(format!(
                    "the HTTP MCP test server exited ({status}) before listening on {port}"
                )))
            }
            Err(mpsc::RecvTimeoutError::Timeout) => Err(io::Error::other(format!(
                "the HTTP MCP test server did not listen on {port} within {} s",
                START_LIMIT.as_secs()
            ))),
        }
    }

    /// Kills the server (a server that goes away mid-session).
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for EverythingHttp {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The start of a small stdio MCP server in Python that a test writes to
/// misbehave on purpose: `send(message)` writes one JSON-RPC line,
/// `requests()` yields each request as `(method, id, params)`, and
/// `answer_initialize(id, params, name, capabilities)` answers
/// `initialize` in the client's protocol version. The test's own script
/// follows it.
pub const PYTHON_STDIO_SERVER: &str = r#"import json, sys
out = sys.stdout
def send(message):
    out.write(json.dumps(message) + "\n")
    out.flush()
def requests():
    for line in sys.stdin:
        request = json.loads(line)
        yield request.get("method"), request.get("id"), request.get("params") or {}
def answer_initialize(id, params, name, capabilities):
    send({"jsonrpc": "2.0", "id": id, "result": {
        "protocolVersion": params.get("protocolVersion", "2025-06-18"),
        "capabilities": capabilities,
        "serverInfo": {"name": name, "version": "1"}}})
"#;
