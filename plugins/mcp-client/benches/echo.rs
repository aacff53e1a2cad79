//! The MCP client's costs against server-everything (run with
//! `cargo bench -p wharf-plugin-mcp-client`), each side by side with what it
//! is compared to, in one run:
//!
//! - `echo` through [`McpServer::call`] (a blocking caller, the call on the
//!   MCP runtime, progress routing, result mapping) against the same rmcp
//!   client calling the same kind of server directly from async code, over
//!   stdio and streamable HTTP: the overhead of the wrapper;
//! - starting 5 stdio servers with [`McpServer::start_all`] against the
//!   slowest of 5 single starts: whether starts overlap.

// The direct rmcp clients and the HTTP server are bench fixtures, spawned
// here rather than through the sandbox.
#![allow(clippy::disallowed_methods, clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::os::fd::OwnedFd;
use std::path::Path;
use std::time::{Duration, Instant};

use rmcp::ServiceExt as _;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::StreamableHttpClientTransport;
use serde_json::json;
use tokio::net::unix::pipe;
use wharf_plugin_mcp_client::{CallHooks, McpServer, ServerSpec, TransportSpec, stdio_env};
use wharf_sandbox::{PathEnv, Sandbox, SandboxPolicy};
use wharf_tests::mcp_servers::{EverythingHttp, everything};

const WARMUP: usize = 20;
const ROUNDS: usize = 300;
const SERVERS: usize = 5;

fn main() {
    let script = everything();
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path().canonicalize().unwrap();
    let sandbox = Sandbox::new(
        &SandboxPolicy::DangerFullAccess,
        &PathEnv {
            cwd: cwd.clone(),
            tmpdir: None,
            protected: Vec::new(),
        },
    );
    let stdio = |name: &str| {
        ServerSpec::new(
            name,
            TransportSpec::Stdio {
                command: "node".to_owned(),
                args: vec![script.display().to_string(), "stdio".to_owned()],
                env: stdio_env(&|name| std::env::var(name).ok(), &[], &BTreeMap::new()),
                cwd: None,
                sandbox: Box::new(sandbox.clone()),
            },
        )
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut http = EverythingHttp::start().unwrap();

    let server = McpServer::start(stdio("bench")).unwrap();
    let stdio_wrapped = measure(|| wrapped_echo(&server));
    drop(server);
    let (child, client) = runtime.block_on(direct_stdio(&script, &cwd));
    let stdio_direct = measure(|| runtime.block_on(direct_echo(&client)));
    drop(client);
    end(child);

    let server = McpServer::start(ServerSpec::new(
        "bench",
        TransportSpec::Http {
            url: http.url.clone(),
            headers: BTreeMap::new(),
            auth: None,
        },
    ))
    .unwrap();
    let http_wrapped = measure(|| wrapped_echo(&server));
    drop(server);
    let client = runtime.block_on(async {
        ().serve(StreamableHttpClientTransport::from_uri(http.url.as_str()))
            .await
            .unwrap()
    });
    let http_direct = measure(|| runtime.block_on(direct_echo(&client)));
    drop(client);
    http.stop();

    let mut singles = Vec::new();
    for index in 0..SERVERS {
        let started = Instant::now();
        let server = McpServer::start(stdio(&format!("single{index}"))).unwrap();
        singles.push(started.elapsed());
        drop(server);
    }
    let started = Instant::now();
    let servers = McpServer::start_all(
        (0..SERVERS)
            .map(|index| stdio(&format!("parallel{index}")))
            .collect(),
    );
    let parallel = started.elapsed();
    assert!(servers.iter().all(Result::is_ok));
    drop(servers);

    println!("{:<40} {:>10} {:>10}", "echo round trip", "p50", "p99");
    for (what, samples) in [
        ("stdio, McpServer::call", stdio_wrapped),
        ("stdio, rmcp client directly", stdio_direct),
        ("streamable HTTP, McpServer::call", http_wrapped),
        ("streamable HTTP, rmcp client directly", http_direct),
    ] {
        let (p50, p99) = percentiles(samples);
        println!("{what:<40} {:>7.0} µs {:>7.0} µs", micros(p50), micros(p99));
    }
    let slowest = singles.iter().max().copied().unwrap_or_default();
    let sum: Duration = singles.iter().sum();
    println!();
    println!("{:<40} {:>10}", "start of 5 stdio servers", "wall");
    println!(
        "{:<40} {:>7.0} ms",
        "McpServer::start_all (in parallel)",
        millis(parallel)
    );
    println!(
        "{:<40} {:>7.0} ms",
        "slowest single McpServer::start",
        millis(slowest)
    );
    println!(
        "{:<40} {:>7.0} ms",
        "5 single starts one after another",
        millis(sum)
    );
}

fn wrapped_echo(server: &McpServer) {
    let result = server
        .call("echo", json!({"message": "bench"}), &CallHooks::none())
        .unwrap();
    assert!(!result.is_error);
}

async fn direct_echo<S: rmcp::Service<rmcp::RoleClient>>(
    client: &rmcp::service::RunningService<rmcp::RoleClient, S>,
) {
    let arguments = json!({"message": "bench"}).as_object().cloned().unwrap();
    let mut params = CallToolRequestParams::new("echo");
    params.arguments = Some(arguments);
    let result = client.peer().call_tool(params).await.unwrap();
    assert_ne!(result.is_error, Some(true));
}

/// server-everything over stdio with a plain spawn, the same pipes as the
/// crate's, and rmcp on top.
async fn direct_stdio(
    script: &Path,
    cwd: &Path,
) -> (
    std::process::Child,
    rmcp::service::RunningService<rmcp::RoleClient, ()>,
) {
    let mut child = std::process::Command::new("node")
        .arg(script)
        .arg("stdio")
        .current_dir(cwd)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout =
        pipe::Receiver::from_owned_fd(OwnedFd::from(child.stdout.take().unwrap())).unwrap();
    let stdin = pipe::Sender::from_owned_fd(OwnedFd::from(child.stdin.take().unwrap())).unwrap();
    let client = ().serve((stdout, stdin)).await.unwrap();
    (child, client)
}

fn end(mut child: std::process::Child) {
    let _ = child.kill();
    let _ = child.wait();
}

fn measure(mut round: impl FnMut()) -> Vec<Duration> {
    let mut samples = Vec::with_capacity(ROUNDS);
    for index in 0..WARMUP + ROUNDS {
        let started = Instant::now();
        round();
        if index >= WARMUP {
            samples.push(started.elapsed());
        }
    }
    samples
}

fn percentiles(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort();
    let at = |fraction: f64| {
        let index = ((samples.len() as f64 - 1.0) * fraction).round() as usize;
        samples.get(index).copied().unwrap_or_default()
    };
    (at(0.5), at(0.99))
}

fn micros(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e6
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e3
}
