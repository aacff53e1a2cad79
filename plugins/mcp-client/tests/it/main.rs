//! The MCP client against real servers: `@modelcontextprotocol/server-everything`
//! over stdio (spawned through the sandbox) and streamable HTTP (a test
//! fixture process on 127.0.0.1), plus small programs and a loopback HTTP
//! server for what that server cannot show (environment, headers, 401).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod elicitation;
mod env;
mod failures;
mod headers;
mod malformed;
mod oauth;
mod offers;
mod redirects;
mod sandboxed;
mod scenarios;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use wharf_plugin_mcp_client::{McpServer, ServerSpec, TransportSpec, stdio_env};
use wharf_sandbox::{PathEnv, Sandbox, SandboxPolicy};
use wharf_tests::mcp_servers::everything;

/// The environment a configured server would get, from this process's.
fn server_env() -> BTreeMap<String, String> {
    stdio_env(&|name| std::env::var(name).ok(), &[], &BTreeMap::new())
}

/// danger-full-access, the default for stdio servers, in `cwd`.
fn unconfined(cwd: &Path) -> Sandbox {
    let env = PathEnv {
        cwd: cwd.to_path_buf(),
        tmpdir: None,
        protected: Vec::new(),
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
            sandbox: Box::new(sandbox),
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
            sandbox: Box::new(unconfined(cwd)),
        },
    )
}

/// Starts server-everything over stdio, unconfined.
fn start_stdio(name: &str) -> (tempfile::TempDir, McpServer) {
    let (dir, cwd) = temp_cwd();
    let server = McpServer::start(stdio_spec(name, unconfined(&cwd))).unwrap();
    (dir, server)
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
