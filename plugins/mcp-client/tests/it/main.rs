//! The MCP client against real servers: `@modelcontextprotocol/server-everything`
//! over stdio (spawned through the sandbox) and streamable HTTP (a test
//! fixture process on 127.0.0.1), plus small programs and a loopback HTTP
//! server for what that server cannot show (environment, headers, 401).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod env;
mod failures;
mod headers;
mod oauth;
mod sandboxed;
mod scenarios;

use std::collections::BTreeMap;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use wharf_plugin_mcp_client::{McpServer, ServerSpec, TransportSpec, stdio_env};
use wharf_sandbox::{PathEnv, Sandbox, SandboxPolicy};

/// `dist/index.js` of server-everything, installed by `npm ci --prefix tests/mcp`.
fn everything() -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/mcp/node_modules/@modelcontextprotocol/server-everything/dist/index.js");
    assert!(
        path.is_file(),
        "{} is missing: run `npm ci --prefix tests/mcp` (cargo xtask test does) to install \
         the MCP test server",
        path.display()
    );
    path
}

/// The environment a configured server would get, from this process's.
fn server_env() -> BTreeMap<String, String> {
    stdio_env(&|name| std::env::var(name).ok(), &[], &BTreeMap::new())
}

/// danger-full-access, the default for stdio servers, in `cwd`.
fn unconfined(cwd: &Path) -> Sandbox {
    let env = PathEnv {
        cwd: cwd.to_path_buf(),
        tmpdir: None,
    };
    Sandbox::new(&SandboxPolicy::DangerFullAccess, &env)
}

fn temp_cwd() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path().canonicalize().unwrap();
    (dir, cwd)
}

/// server-everything over stdio.
fn stdio_spec(name: &str, sandbox: Sandbox) -> ServerSpec {
    ServerSpec::new(
        name,
        TransportSpec::Stdio {
            command: "node".to_owned(),
            args: vec![everything().display().to_string(), "stdio".to_owned()],
            env: server_env(),
            cwd: None,
            sandbox,
        },
    )
}

fn http_spec(name: &str, url: &str) -> ServerSpec {
    ServerSpec::new(
        name,
        TransportSpec::Http {
            url: url.to_owned(),
            headers: BTreeMap::new(),
            auth: None,
        },
    )
}

/// A command that is not an MCP server, with the given environment.
fn program_spec(
    name: &str,
    command: &str,
    args: &[&str],
    env: BTreeMap<String, String>,
    cwd: &Path,
) -> ServerSpec {
    ServerSpec::new(
        name,
        TransportSpec::Stdio {
            command: command.to_owned(),
            args: args.iter().map(|arg| (*arg).to_owned()).collect(),
            env,
            cwd: None,
            sandbox: unconfined(cwd),
        },
    )
}

/// Starts server-everything over stdio, unconfined.
fn start_stdio(name: &str) -> (tempfile::TempDir, McpServer) {
    let (dir, cwd) = temp_cwd();
    let server = McpServer::start(stdio_spec(name, unconfined(&cwd))).unwrap();
    (dir, server)
}

/// server-everything serving streamable HTTP on a free loopback port: a
/// test fixture, so it is spawned directly; killed on drop.
struct HttpFixture {
    child: std::process::Child,
    url: String,
}

impl HttpFixture {
    fn start() -> HttpFixture {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        // A test fixture, not something wharf runs: it does not go through
        // the sandbox.
        #[allow(clippy::disallowed_methods)]
        let mut child = std::process::Command::new("node")
            .arg(everything())
            .arg("streamableHttp")
            .env("PORT", port.to_string())
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("node runs the MCP test server");
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("the HTTP MCP test server exited ({status}) before listening on {port}");
            }
            assert!(
                Instant::now() < deadline,
                "the HTTP MCP test server did not listen on {port} within 20 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        HttpFixture {
            child,
            url: format!("http://127.0.0.1:{port}/mcp"),
        }
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for HttpFixture {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Whether a process group with this id still has a member.
fn group_alive(pgid: u32) -> bool {
    let pgid = libc::pid_t::try_from(pgid).unwrap();
    // SAFETY: signal 0 only checks that the group exists.
    unsafe { libc::kill(-pgid, 0) == 0 }
}

fn kill(pid: u32) {
    let pid = libc::pid_t::try_from(pid).unwrap();
    // SAFETY: kill takes integers; the pid is the test's server.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0);
}
