//! MCP: `echo` through the pipeline against the client alone, and five
//! servers starting in parallel against the slowest alone.

use std::path::{Path, PathBuf};
use std::time::Instant;

use wharf_config::features::FeatureRegistry;
use wharf_config::{Config, ConfigOptions};
use wharf_runtime::pipeline::{self, Session, ToolCall};
use wharf_runtime::registry::Plugins;
use wharf_tests::mcp_servers::{EverythingHttp, everything};

use crate::{mcp, percentile, report};

/// A configuration with `servers` (TOML tables) under a fresh wharf home.
fn mcp_config(root: &Path, name: &str, servers: &str) -> Config {
    let home = root.join(name);
    std::fs::create_dir_all(&home).unwrap();
    std::fs::write(home.join("config.toml"), servers).unwrap();
    let options = ConfigOptions {
        wharf_home: home,
        cwd: root.to_path_buf(),
        ..ConfigOptions::default()
    };
    Config::load(
        &options,
        &FeatureRegistry::from_toml(include_str!("../../features.toml")).unwrap(),
    )
    .unwrap()
}

fn stdio_table(name: &str) -> String {
    format!(
        "[mcp_servers.{name}]\ncommand = \"node\"\nargs = [{:?}, \"stdio\"]\n",
        everything().display().to_string()
    )
}

/// `echo` through the pipeline (the session's MCP plugin) and through a
/// second client of its own calling `McpServer::call` directly, the two
/// interleaved so that both see the same machine.
pub fn mcp_calls(root: &Path) {
    let http = EverythingHttp::start().unwrap();
    let http_port = http.port;
    let transports = [
        ("stdio", stdio_table("everything")),
        (
            "streamable HTTP",
            format!("[mcp_servers.everything]\nurl = \"http://127.0.0.1:{http_port}/mcp\"\n"),
        ),
    ];
    for (label, table) in transports {
        let config = mcp_config(root, &format!("mcp-{}", label.len()), &table);
        let mut plugins = Plugins::default();
        for (manifest, plugin) in mcp::start_servers(&config).unwrap() {
            plugins.add_plugin(manifest, plugin);
        }
        let session = Session::new("bench-mcp", &config, None, None, Box::new(|_| None));
        let server_config = &config.mcp_servers["everything"];
        let env = |name: &str| std::env::var(name).ok();
        let spec = wharf_mcp_adapter::server_spec(&config, server_config, &env).unwrap();
        let direct = wharf_plugin_mcp_client::McpServer::start(spec).unwrap();
        let call = ToolCall {
            call_id: "m".into(),
            tool: "mcp__everything__echo".to_owned(),
            args: r#"{"message":"hello"}"#.to_owned(),
        };
        let hooks = wharf_plugin_mcp_client::CallHooks::none();
        let mut through = Vec::new();
        let mut alone = Vec::new();
        for round in 0..2_200 {
            let started = Instant::now();
            let outcome = pipeline::call(&plugins, &session, &call);
            let piped = started.elapsed();
            assert!(outcome.result.is_ok(), "{:?}", outcome.result);
            let started = Instant::now();
            let result = direct
                .call("echo", serde_json::json!({ "message": "hello" }), &hooks)
                .unwrap();
            let bare = started.elapsed();
            assert!(!result.is_error);
            if round >= 200 {
                through.push(piped);
                alone.push(bare);
            }
        }
        through.sort();
        alone.sort();
        let (p50_through, p50_alone) = (percentile(&through, 0.5), percentile(&alone, 0.5));
        report(
            &format!("MCP echo over {label}, through the pipeline"),
            through,
        );
        report(&format!("MCP echo over {label}, the client alone"), alone);
        println!(
            "  overhead of the pipeline at p50: {:.1} µs ({:+.1} %)",
            (p50_through.as_secs_f64() - p50_alone.as_secs_f64()) * 1e6,
            (p50_through.as_secs_f64() / p50_alone.as_secs_f64() - 1.0) * 100.0
        );
    }
    drop(http);

    // Session start with five stdio servers, against each alone: node's
    // servers (each burns ~230 ms of CPU to start, so on two cores five
    // cannot start in the time of one), then a light server of
    // wharf-tests whose five copies wait 100 to 500 ms before they answer,
    // which shows what wharf itself adds to the slowest start.
    let node = |name: &str| stdio_table(name);
    five_servers("node server-everything", &node, root);
    let light = light_server();
    let delayed = |name: &str| {
        let index = ["one", "two", "three", "four", "five"]
            .iter()
            .position(|n| *n == name)
            .unwrap_or(0);
        format!(
            "[mcp_servers.{name}]\ncommand = {:?}\nargs = [\"--delay-ms\", \"{}\"]\n",
            light.display().to_string(),
            100 * (index + 1)
        )
    };
    five_servers("light servers answering after 100-500 ms", &delayed, root);
}

/// `wharf-test-mcp-echo`, built by `cargo xtask bench` beside this bench.
fn light_server() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(Path::parent).unwrap();
    let path = dir.join("wharf-test-mcp-echo");
    assert!(
        path.is_file(),
        "{} is missing: build it with `cargo build --release -p wharf-tests --bin wharf-test-mcp-echo` (cargo xtask bench does)",
        path.display()
    );
    path
}

fn five_servers(label: &str, table: &dyn Fn(&str) -> String, root: &Path) {
    let names = ["one", "two", "three", "four", "five"];
    let all: String = names.iter().map(|name| table(name)).collect();
    let all = mcp_config(root, &format!("five-{}", label.len()), &all);
    for run in 0..3 {
        let slowest = names
            .iter()
            .map(|name| {
                let config = mcp_config(root, &format!("mcp-{name}-{}", label.len()), &table(name));
                let started = Instant::now();
                let servers = mcp::start_servers(&config).unwrap();
                let took = started.elapsed();
                drop(servers);
                took
            })
            .max()
            .unwrap();
        let started = Instant::now();
        let servers = mcp::start_servers(&all).unwrap();
        let together = started.elapsed();
        assert_eq!(servers.len(), 5);
        drop(servers);
        println!(
            "five stdio servers ({label}), run {run}: all in parallel {:.0} ms, slowest alone {:.0} ms ({:+.0} ms)",
            together.as_secs_f64() * 1e3,
            slowest.as_secs_f64() * 1e3,
            (together.as_secs_f64() - slowest.as_secs_f64()) * 1e3
        );
    }
}
