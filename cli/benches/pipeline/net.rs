//! A plugin's allowed HTTP request (`WHARF_BENCH=net`): `GET` from the
//! net test guest (tests/guests/net) through the pipeline — a fresh
//! instance, wasi:http, the host's allowlist check, resolution and
//! connection — to an HTTP server on loopback, against the same request
//! made natively (a new connection, the request, the whole answer). The
//! issue's target: at most 1 ms more.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use wharf_config::features::FeatureRegistry;
use wharf_config::{Config, ConfigOptions};
use wharf_runtime::pipeline::{self, Session, ToolCall};
use wharf_runtime::registry::{Discovery, EmbeddedPlugin};
use wharf_runtime::wasm::WasmRuntime;
use wharf_sandbox::SandboxMode;

use super::percentile;

const NET_MANIFEST: &str = include_str!("../../../tests/guests/net/plugin.toml");
const NET_WASM: &[u8] = include_bytes!(env!("WHARF_TEST_NET_WASM"));

const TARGET: Duration = Duration::from_millis(1);
const BODY: &str = "hello from the bench";

pub(crate) fn net(root: &Path) {
    let port = serve();
    let authority = format!("127.0.0.1:{port}");
    let manifest = NET_MANIFEST.replace("NETWORK", &format!("[\"{authority}\"]"));
    let embedded = [EmbeddedPlugin::wasm(
        Box::leak(manifest.into_boxed_str()),
        NET_WASM,
    )];
    let mut registry = FeatureRegistry::from_toml(include_str!("../../features.toml")).unwrap();
    let mut discovery = Discovery::find(&embedded, &root.join("no-plugins"));
    discovery.register_features(&mut registry);
    let work = root.join("net-work");
    std::fs::create_dir_all(&work).unwrap();
    let options = ConfigOptions {
        wharf_home: root.join("net-home"),
        cwd: work,
        sandbox_mode: Some(SandboxMode::WorkspaceWrite),
        overrides: vec!["sandbox_workspace_write.network_access=true".to_owned()],
        enable: vec!["net".to_owned()],
        ..ConfigOptions::default()
    };
    let config = Config::load(&options, &registry).unwrap();
    let runtime = WasmRuntime::new(None).unwrap();
    let plugins = Arc::new(discovery.load(&runtime, &config.features).unwrap());
    assert!(plugins.skipped.is_empty(), "{:?}", plugins.skipped);
    let session = Session::new("net", &config, None, None, Box::new(|_| None));
    let call = ToolCall {
        call_id: "b".into(),
        tool: "get".to_owned(),
        args: format!(r#"{{"url":"http://{authority}/","follow":0}}"#),
    };
    let plugin = || {
        let started = Instant::now();
        let outcome = pipeline::call(&plugins, &session, &call);
        let elapsed = started.elapsed();
        let text = format!("{:?}", outcome.result);
        assert!(text.contains(BODY), "{text}");
        elapsed
    };
    let native = || {
        let started = Instant::now();
        let mut stream = TcpStream::connect(&authority).unwrap();
        stream
            .write_all(format!("GET / HTTP/1.1\r\nHost: {authority}\r\n\r\n").as_bytes())
            .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        let elapsed = started.elapsed();
        assert!(answer.ends_with(BODY), "{answer}");
        elapsed
    };
    for _ in 0..200 {
        plugin();
        native();
    }
    // Interleaved, so that both see the same machine.
    let (mut plugin_samples, mut native_samples) = (Vec::new(), Vec::new());
    for _ in 0..2000 {
        plugin_samples.push(plugin());
        native_samples.push(native());
    }
    plugin_samples.sort();
    native_samples.sort();
    let plugin_p50 = percentile(&plugin_samples, 0.5);
    let native_p50 = percentile(&native_samples, 0.5);
    let over = plugin_p50.saturating_sub(native_p50);
    let us = |duration: Duration| duration.as_secs_f64() * 1e6;
    println!(
        "net: allowed GET from a plugin to loopback: p50 {:.1} µs, p99 {:.1} µs; natively: p50 \
         {:.1} µs, p99 {:.1} µs; the plugin's costs {:.1} µs more at p50 (target ≤ {:.0} µs: {})",
        us(plugin_p50),
        us(percentile(&plugin_samples, 0.99)),
        us(native_p50),
        us(percentile(&native_samples, 0.99)),
        us(over),
        us(TARGET),
        if over <= TARGET { "met" } else { "MISSED" }
    );
}

/// An HTTP server on 127.0.0.1 answering every request with [`BODY`] and
/// closing the connection; its port.
fn serve() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let mut reader = BufReader::new(stream);
            loop {
                let mut line = String::new();
                match reader.read_line(&mut line) {
                    Ok(0) | Err(_) => break,
                    Ok(_) if line == "\r\n" => break,
                    Ok(_) => {}
                }
            }
            let answer = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{BODY}",
                BODY.len()
            );
            let _ = reader.get_mut().write_all(answer.as_bytes());
        }
    });
    port
}
