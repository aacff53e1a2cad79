//! Benchmarks of the plugin runtime and the call pipeline (run with
//! `cargo xtask bench`). Each prints its figures; none asserts a time.
//! `exec.rs`, `agent.rs` and `mcp_calls.rs` hold the larger ones.
//!
//! - a trivial tool call through the whole pipeline, a fresh instance each
//!   call: p50 / p99 latency, and calls per second on 2 threads;
//! - apply_patch of a 50-hunk patch on a 2 000-line file through the
//!   pipeline (including writing the file);
//! - `wharf tool list` with 20 installed plugins: the cold first run
//!   (compiling) and warm runs (compiled components loaded from the cache);
//! - heavy components (`heavy.rs`): the 16 MiB test guest's and the
//!   Python and JS examples' warm calls, and `wharf tool call` with them
//!   installed against without;
//! - the trivial call with one WASM `before-tool-call` hook against none,
//!   and with one command hook (`hooks.rs`);
//! - an allowed HTTP GET from a plugin to a loopback server against the
//!   same request made natively (`net.rs`);
//! - the trivial call with the audit log and wharf's log on, beside the
//!   same call with both off (`observed.rs`, last);
//! - MCP (`WHARF_BENCH=mcp`): `echo` of the real server-everything through
//!   the pipeline against the same client calling it directly, over stdio
//!   and streamable HTTP, and five stdio servers starting in parallel
//!   against the slowest of them alone.

#![allow(clippy::disallowed_methods, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use wharf_config::features::FeatureRegistry;
use wharf_config::{Config, ConfigOptions};
use wharf_runtime::pipeline::{self, Session, ToolCall};
use wharf_runtime::registry::{Discovery, EmbeddedPlugin, Plugins};
use wharf_runtime::wasm::WasmRuntime;
use wharf_sandbox::SandboxMode;

const HOSTILE_MANIFEST: &str = include_str!("../../../tests/guests/hostile/plugin.toml");
const HOSTILE_WASM: &[u8] = include_bytes!(env!("WHARF_TEST_HOSTILE_WASM"));
const ECHO_MANIFEST: &str = include_str!("../../../tests/guests/echo/plugin.toml");
const ECHO_WASM: &[u8] = include_bytes!(env!("WHARF_TEST_ECHO_WASM"));
const APPLY_PATCH_MANIFEST: &str = include_str!("../../../plugins/apply-patch/plugin.toml");
const APPLY_PATCH_WASM: &[u8] = include_bytes!(env!("WHARF_APPLY_PATCH_WASM"));
/// The adapter the binary uses, compiled into the bench as it is.
#[path = "../../src/mcp.rs"]
#[allow(dead_code)]
mod mcp;
/// What the adapter prints its servers' text through.
#[path = "../../src/terminal.rs"]
#[allow(dead_code, unused_imports)]
mod terminal;

/// wharf's log, installed as the binary installs it (its `writer`
/// submodule found beside it, in `src/logging/`).
#[path = "../../src"]
#[allow(dead_code, unused_imports)]
mod src {
    pub mod logging;
}
use src::logging;

mod agent;
mod exec;
mod heavy;
mod hooks;
mod mcp_calls;
mod net;
mod observed;

const UNIFIED_EXEC_MANIFEST: &str = include_str!("../../../plugins/unified-exec/unified-exec.toml");

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let (plugins, session, config) = host(dir.path(), &work);

    // `WHARF_BENCH=apply_patch` (a comma-separated list) runs only those.
    let only = std::env::var("WHARF_BENCH").ok();
    let wanted = |name: &str| {
        only.as_deref()
            .is_none_or(|list| list.split(',').any(|n| n == name))
    };
    if wanted("trivial") {
        trivial_calls(&plugins, &session);
    }
    if wanted("apply_patch") {
        apply_patch_call(&plugins, &session, &work);
    }
    if wanted("tool_list") {
        tool_list(dir.path());
    }
    if wanted("exec") {
        exec::exec_calls(&plugins, &session, &work);
    }
    if wanted("agent") {
        agent::agent_session(&plugins, &session, dir.path());
    }
    if wanted("hooks") {
        hooks::hook_calls(&plugins, &config);
    }
    if wanted("heavy") {
        heavy::heavy(dir.path());
    }
    if wanted("net") {
        net::net(dir.path());
    }
    if only
        .as_deref()
        .is_some_and(|list| list.split(',').any(|n| n == "mcp"))
    {
        mcp_calls::mcp_calls(dir.path());
    }
    // Last: it installs the log subscriber for the rest of the process.
    if wanted("observed") {
        observed::observed_calls(&plugins, &session, &config, dir.path());
    }
}

fn host(root: &Path, work: &Path) -> (Arc<Plugins>, Arc<Session>, Config) {
    let embedded = [
        EmbeddedPlugin::wasm(HOSTILE_MANIFEST, HOSTILE_WASM),
        EmbeddedPlugin::wasm(ECHO_MANIFEST, ECHO_WASM),
        EmbeddedPlugin::wasm(APPLY_PATCH_MANIFEST, APPLY_PATCH_WASM),
        EmbeddedPlugin::native(
            UNIFIED_EXEC_MANIFEST,
            wharf_plugin_unified_exec::tools::unified_exec::wharf_native_plugin,
        ),
    ];
    let mut registry = FeatureRegistry::from_toml(include_str!("../../features.toml")).unwrap();
    let mut discovery = Discovery::find(&embedded, &root.join("no-plugins"));
    discovery.register_features(&mut registry);
    let options = ConfigOptions {
        wharf_home: root.join("home"),
        cwd: work.to_path_buf(),
        sandbox_mode: Some(SandboxMode::WorkspaceWrite),
        enable: vec!["hostile".to_owned(), "echo".to_owned()],
        ..ConfigOptions::default()
    };
    let config = Config::load(&options, &registry).unwrap();
    let runtime = WasmRuntime::new(None).unwrap();
    let plugins = discovery.load(&runtime, &config.features).unwrap();
    assert!(plugins.skipped.is_empty(), "{:?}", plugins.skipped);
    let session = Session::new("bench", &config, None, None, Box::new(|_| None));
    (Arc::new(plugins), Arc::new(session), config)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn report(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    println!(
        "{name}: p50 {:.1} µs, p99 {:.1} µs, min {:.1} µs ({} calls)",
        percentile(&samples, 0.5).as_secs_f64() * 1e6,
        percentile(&samples, 0.99).as_secs_f64() * 1e6,
        samples[0].as_secs_f64() * 1e6,
        samples.len()
    );
}

fn echo_call(tool: &str) -> ToolCall {
    ToolCall {
        call_id: "b".into(),
        tool: tool.to_owned(),
        args: r#"{"text":"hello"}"#.to_owned(),
    }
}

/// A trivial tool, in a plugin that imports little of WASI (`echo_text`)
/// and in one that imports most of it (`echo` of the hostile test plugin):
/// instantiation time grows with the imports.
fn trivial_calls(plugins: &Arc<Plugins>, session: &Arc<Session>) {
    trivial_call(plugins, session, "echo_text", "minimal component");
    trivial_call(plugins, session, "echo", "component importing most of WASI");
}

fn trivial_call(plugins: &Arc<Plugins>, session: &Arc<Session>, tool: &str, label: &str) {
    let call = echo_call(tool);
    for _ in 0..1000 {
        let outcome = pipeline::call(plugins, session, &call);
        assert!(outcome.result.is_ok(), "{:?}", outcome.result);
    }
    let samples: Vec<Duration> = (0..20_000)
        .map(|_| {
            let started = Instant::now();
            let outcome = pipeline::call(plugins, session, &call);
            let elapsed = started.elapsed();
            assert!(outcome.result.is_ok());
            elapsed
        })
        .collect();
    report(
        &format!("trivial call through the pipeline, fresh instance, {label}"),
        samples,
    );

    for threads in [1, 2] {
        let per_thread = 20_000;
        let started = Instant::now();
        std::thread::scope(|scope| {
            for _ in 0..threads {
                let (plugins, session, call) =
                    (Arc::clone(plugins), Arc::clone(session), call.clone());
                scope.spawn(move || {
                    for _ in 0..per_thread {
                        let outcome = pipeline::call(&plugins, &session, &call);
                        assert!(outcome.result.is_ok());
                    }
                });
            }
        });
        let elapsed = started.elapsed();
        println!(
            "  throughput with {threads} thread(s): {:.0} calls/s",
            f64::from(threads * per_thread) / elapsed.as_secs_f64()
        );
    }
}

fn apply_patch_call(plugins: &Arc<Plugins>, session: &Arc<Session>, work: &Path) {
    let original: String = (0..2000)
        .map(|i| format!("    let value_{i:04} = compute({i}, \"some text on line {i}\");\n"))
        .collect();
    let mut patch = String::from("*** Begin Patch\n*** Update File: big.rs\n");
    for hunk in 0..50 {
        let line = hunk * 40 + 20;
        patch.push_str("@@\n");
        for context in line - 3..line {
            patch.push_str(&format!(" {}", original.lines().nth(context).unwrap()));
            patch.push('\n');
        }
        patch.push_str(&format!("-{}\n", original.lines().nth(line).unwrap()));
        patch.push_str(&format!("+    let value_{line:04} = changed({line});\n"));
        for context in line + 1..line + 4 {
            patch.push_str(&format!(" {}\n", original.lines().nth(context).unwrap()));
        }
    }
    patch.push_str("*** End Patch\n");
    let call = ToolCall {
        call_id: "p".into(),
        tool: "apply_patch".to_owned(),
        args: serde_json::json!({ "input": patch }).to_string(),
    };
    let file = work.join("big.rs");
    let mut samples = Vec::new();
    for round in 0..220 {
        std::fs::write(&file, &original).unwrap();
        let started = Instant::now();
        let outcome = pipeline::call(plugins, session, &call);
        let elapsed = started.elapsed();
        if round == 219 {
            let t = outcome.timings;
            println!(
                "  last call: checks {:?}, invoke {:?}, apply {:?}",
                t.checks, t.invoke, t.apply
            );
        }
        let output = outcome.result.unwrap();
        assert!(!output.is_error, "{}", output.text());
        if round >= 20 {
            samples.push(elapsed);
        }
    }
    report(
        "apply_patch, 50 hunks on a 2 000-line file, through the pipeline",
        samples,
    );

    // The same patch computed natively, without WASM, I/O or the pipeline:
    // the floor the call's overhead is measured against.
    struct Memory<'a>(&'a str);
    impl wharf_plugin_apply_patch::patch::FileSource for Memory<'_> {
        fn read(&self, _path: &str) -> Result<Option<String>, String> {
            Ok(Some(self.0.to_owned()))
        }
    }
    let samples: Vec<Duration> = (0..220)
        .map(|_| {
            let started = Instant::now();
            let applied = wharf_plugin_apply_patch::patch::compute(&patch, &Memory(&original));
            let elapsed = started.elapsed();
            assert!(applied.error.is_none());
            elapsed
        })
        .skip(20)
        .collect();
    report(
        "the same patch computed natively (no WASM, no I/O)",
        samples,
    );
}

fn tool_list(root: &Path) {
    let wharf = PathBuf::from(env!("CARGO_BIN_EXE_wharf"));
    let home = root.join("list-home");
    for i in 0..20 {
        let dir = home.join("plugins").join(format!("hostile-{i:02}"));
        std::fs::create_dir_all(&dir).unwrap();
        let manifest = HOSTILE_MANIFEST
            .replace("name = \"hostile\"", &format!("name = \"hostile-{i:02}\""))
            .replace("key = \"hostile\"", &format!("key = \"hostile_{i:02}\""));
        std::fs::write(dir.join("plugin.toml"), manifest).unwrap();
        // Distinct artifacts, as twenty real plugins would be: each gets
        // its own cache entry and its own compile.
        let mut wasm = HOSTILE_WASM.to_vec();
        append_custom_section(&mut wasm, &format!("bench-{i}"));
        std::fs::write(dir.join("wharf_test_guest_hostile.wasm"), wasm).unwrap();
    }
    let run = || {
        let started = Instant::now();
        let output = Command::new(&wharf)
            .args(["tool", "list"])
            .env_clear()
            .env("WHARF_HOME", &home)
            .env("HOME", root)
            .current_dir(root)
            .output()
            .unwrap();
        let elapsed = started.elapsed();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        elapsed
    };
    let cold = run();
    let mut warm: Vec<Duration> = (0..20).map(|_| run()).collect();
    warm.sort();
    println!(
        "wharf tool list, 20 installed plugins: cold {:.0} ms (compiling in parallel), warm p50 {:.1} ms, min {:.1} ms",
        cold.as_secs_f64() * 1e3,
        percentile(&warm, 0.5).as_secs_f64() * 1e3,
        warm[0].as_secs_f64() * 1e3
    );
}

/// Appends a custom section to a component (a valid, ignored section), so
/// that copies differ in their bytes and hash.
fn append_custom_section(wasm: &mut Vec<u8>, name: &str) {
    let mut payload = Vec::new();
    leb128(&mut payload, name.len());
    payload.extend_from_slice(name.as_bytes());
    wasm.push(0); // custom section id
    leb128(wasm, payload.len());
    wasm.extend_from_slice(&payload);
}

fn leb128(out: &mut Vec<u8>, mut value: usize) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}
