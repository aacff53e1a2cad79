//! Benchmarks of the plugin runtime and the call pipeline (run with
//! `cargo xtask bench`). Each prints its figures; none asserts a time.
//!
//! - a trivial tool call through the whole pipeline, a fresh instance each
//!   call: p50 / p99 latency, and calls per second on 2 threads;
//! - apply_patch of a 50-hunk patch on a 2 000-line file through the
//!   pipeline (including writing the file);
//! - `wharf tool list` with 20 installed plugins: the cold first run
//!   (compiling) and warm runs (compiled components loaded from the cache);
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
use wharf_host::agent::{Agent, Event, Sink};
use wharf_host::rollout::{RolloutWriter, SessionMeta};
use wharf_model::models::Models;
use wharf_model::protocol::{
    ModelClient, ModelError, Prompt, ResponseEvent, ResponseItem, ResponseStream, Role,
};
use wharf_model::replay::{RecordingClient, ReplayClient};
use wharf_runtime::pipeline::{self, Session, ToolCall};
use wharf_runtime::plugin::Plugin;
use wharf_runtime::registry::{Discovery, EmbeddedPlugin, Plugins};
use wharf_runtime::wasm::WasmRuntime;
use wharf_sandbox::SandboxMode;
use wharf_tests::mcp_servers::{EverythingHttp, everything};

const HOSTILE_MANIFEST: &str = include_str!("../../tests/guests/hostile/plugin.toml");
const HOSTILE_WASM: &[u8] = include_bytes!(env!("WHARF_TEST_HOSTILE_WASM"));
const ECHO_MANIFEST: &str = include_str!("../../tests/guests/echo/plugin.toml");
const ECHO_WASM: &[u8] = include_bytes!(env!("WHARF_TEST_ECHO_WASM"));
const APPLY_PATCH_MANIFEST: &str = include_str!("../../plugins/apply-patch/plugin.toml");
const APPLY_PATCH_WASM: &[u8] = include_bytes!(env!("WHARF_APPLY_PATCH_WASM"));
/// The adapter the binary uses, compiled into the bench as it is.
#[path = "../src/mcp.rs"]
#[allow(dead_code)]
mod mcp;
/// What the adapter prints its servers' text through.
#[path = "../src/terminal.rs"]
#[allow(dead_code, unused_imports)]
mod terminal;

const UNIFIED_EXEC_MANIFEST: &str = include_str!("../../plugins/unified-exec/unified-exec.toml");

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let (plugins, session) = host(dir.path(), &work);

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
        exec_calls(&plugins, &session, &work);
    }
    if wanted("agent") {
        agent_session(&plugins, &session, dir.path());
    }
    if only
        .as_deref()
        .is_some_and(|list| list.split(',').any(|n| n == "mcp"))
    {
        mcp_calls(dir.path());
    }
}

fn host(root: &Path, work: &Path) -> (Arc<Plugins>, Arc<Session>) {
    let embedded = [
        EmbeddedPlugin::wasm(HOSTILE_MANIFEST, HOSTILE_WASM),
        EmbeddedPlugin::wasm(ECHO_MANIFEST, ECHO_WASM),
        EmbeddedPlugin::wasm(APPLY_PATCH_MANIFEST, APPLY_PATCH_WASM),
        EmbeddedPlugin::native(
            UNIFIED_EXEC_MANIFEST,
            wharf_plugin_unified_exec::tools::unified_exec::wharf_native_plugin,
        ),
    ];
    let mut registry = FeatureRegistry::with_first_party();
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
    (Arc::new(plugins), Arc::new(session))
}

/// `exec_command` of `true` through the whole pipeline (the builtin
/// plugin over the C ABI, the sandbox under workspace-write with a `.git` to
/// protect) against a bare spawn of the same command line, interleaved;
/// and `echo hi` until its output is in hand.
fn exec_calls(plugins: &Arc<Plugins>, session: &Arc<Session>, work: &Path) {
    std::fs::create_dir_all(work.join(".git")).unwrap();
    let exec = |cmd: &str| ToolCall {
        call_id: "e".to_owned(),
        tool: "exec_command".to_owned(),
        args: serde_json::json!({ "cmd": cmd, "login": false }).to_string(),
    };
    let (exec_true, exec_echo) = (exec("true"), exec("echo hi"));
    let mut bare = Vec::new();
    let mut through = Vec::new();
    let mut echo = Vec::new();
    for round in 0..220 {
        let started = Instant::now();
        let status = Command::new("/bin/bash")
            .args(["-c", "true"])
            .current_dir(work)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .status()
            .unwrap();
        let plain = started.elapsed();
        assert!(status.success());

        let started = Instant::now();
        let outcome = pipeline::call(plugins, session, &exec_true);
        let confined = started.elapsed();
        let text = outcome.result.unwrap().text();
        assert!(text.contains("Process exited with code 0"), "{text}");

        let started = Instant::now();
        let outcome = pipeline::call(plugins, session, &exec_echo);
        let echoed = started.elapsed();
        assert!(outcome.result.unwrap().text().ends_with("Output:\nhi\n"));
        if round >= 20 {
            bare.push(plain);
            through.push(confined);
            echo.push(echoed);
        }
    }
    bare.sort();
    through.sort();
    let (bare, through) = (percentile(&bare, 0.5), percentile(&through, 0.5));
    println!(
        "exec_command `true` through the pipeline under workspace-write: p50 {:.0} µs, a bare spawn of \
         `bash -c true` p50 {:.0} µs: overhead {:.0} µs",
        through.as_secs_f64() * 1e6,
        bare.as_secs_f64() * 1e6,
        (through.as_secs_f64() - bare.as_secs_f64()) * 1e6
    );
    report(
        "exec_command `echo hi` through the pipeline, output in hand",
        echo,
    );
}

/// A model that answers each user message with two parallel tool calls
/// (`exec_command` of `true`, and `echo_text`) and each set of tool
/// outputs with a message; it notes when it ends each call item.
struct ScriptedModel {
    sent_calls: std::sync::Mutex<Vec<Instant>>,
    requests: std::sync::atomic::AtomicUsize,
}

impl ModelClient for &ScriptedModel {
    fn stream(&self, prompt: &Prompt) -> Result<ResponseStream, ModelError> {
        let n = self
            .requests
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (tx, rx) = ResponseStream::channel();
        tx.send(Ok(ResponseEvent::Created));
        let answered = matches!(prompt.input.last(), Some(ResponseItem::ToolOutput { .. }));
        if answered {
            tx.send(Ok(ResponseEvent::OutputItemDone {
                item: ResponseItem::Message {
                    role: Role::Assistant,
                    text: "done".to_owned(),
                },
            }));
        } else {
            let calls = [
                ("exec_command", r#"{"cmd":"true","login":false}"#),
                ("echo_text", r#"{"text":"hello"}"#),
            ];
            for (i, (name, arguments)) in calls.into_iter().enumerate() {
                let item = ResponseItem::FunctionCall {
                    call_id: format!("call_{n}_{i}"),
                    name: name.to_owned(),
                    arguments: arguments.to_owned(),
                };
                self.sent_calls.lock().unwrap().push(Instant::now());
                tx.send(Ok(ResponseEvent::OutputItemDone { item }));
            }
        }
        tx.send(Ok(ResponseEvent::Completed {
            response_id: format!("resp_{n}"),
            usage: None,
        }));
        Ok(rx)
    }
}

/// Wraps a plugin to note when each invoke starts.
struct Probe {
    inner: Arc<dyn Plugin>,
    started: Arc<std::sync::Mutex<Vec<Instant>>>,
}

impl Plugin for Probe {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn tools(&self) -> &[wharf_runtime::plugin::ToolSpec] {
        self.inner.tools()
    }

    fn invoke(
        &self,
        cx: &wharf_runtime::plugin::CallContext,
        tool: &str,
        args: &str,
        grant: &wharf_runtime::plugin::grant::Grant,
    ) -> Result<wharf_runtime::plugin::ToolOutput, wharf_runtime::plugin::ToolError> {
        self.started.lock().unwrap().push(Instant::now());
        self.inner.invoke(cx, tool, args, grant)
    }

    fn end_session(&self, session_id: &str) {
        self.inner.end_session(session_id);
    }
}

/// A session of 20 user turns with 2 parallel tool calls each (40 calls,
/// the tools really running): recorded from a scripted model, then
/// replayed with and without a rollout; and the time from the end of a
/// call item in the stream to the plugin's invoke.
fn agent_session(plugins: &Arc<Plugins>, session: &Arc<Session>, root: &Path) {
    let model = Models::bundled()
        .iter()
        .find(|m| m.supports_parallel_tool_calls)
        .cloned()
        .unwrap();
    // The same plugins, each wrapped in a probe.
    let started = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut probed = Plugins::default();
    for entry in &plugins.entries {
        probed.add_plugin(
            entry.manifest.clone(),
            Arc::new(Probe {
                inner: Arc::clone(&entry.plugin),
                started: Arc::clone(&started),
            }),
        );
    }
    let scripted = ScriptedModel {
        sent_calls: std::sync::Mutex::new(Vec::new()),
        requests: std::sync::atomic::AtomicUsize::new(0),
    };
    let recording = root.join("bench-session.jsonl");
    {
        let recorder = RecordingClient::create(&scripted, &recording).unwrap();
        let mut agent = Agent::new(&probed, session, &recorder, model.clone());
        let mut events: Vec<Event> = Vec::new();
        for turn in 0..20 {
            agent
                .run_turn(&format!("turn {turn}"), &mut events)
                .unwrap();
        }
    }
    let sent = scripted.sent_calls.lock().unwrap().clone();
    let invoked = std::mem::take(&mut *started.lock().unwrap());
    assert_eq!((sent.len(), invoked.len()), (40, 40));
    // Parallel calls: pair each call's end with the earliest invoke after
    // it that is not taken yet.
    let mut latencies: Vec<Duration> = Vec::new();
    let mut invoked = invoked;
    invoked.sort();
    for at in sent {
        if let Some(index) = invoked.iter().position(|i| *i >= at) {
            latencies.push(invoked.remove(index) - at);
        }
    }
    report(
        "from the end of a function-call item to the plugin's invoke (parallel calls)",
        latencies,
    );

    let runs = std::sync::atomic::AtomicUsize::new(0);
    let replay = |with_rollout: bool| {
        let run = runs.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let client = ReplayClient::load(&recording).unwrap();
        let started = Instant::now();
        let mut agent = Agent::new(plugins, session, &client, model.clone());
        let mut sink = BenchSink {
            rollout: with_rollout.then(|| {
                let meta = SessionMeta {
                    id: format!("{}-{run}", agent.thread_id()),
                    timestamp: wharf_host::rollout::timestamp_now(),
                    cwd: root.to_path_buf(),
                    model: model.slug.clone(),
                    provider: "replay".to_owned(),
                    wharf_version: env!("CARGO_PKG_VERSION").to_owned(),
                };
                RolloutWriter::create(&root.join("home"), &meta).unwrap()
            }),
        };
        for turn in 0..20 {
            agent.run_turn(&format!("turn {turn}"), &mut sink).unwrap();
        }
        started.elapsed()
    };
    let mut plain = Vec::new();
    let mut logged = Vec::new();
    for _ in 0..7 {
        plain.push(replay(false));
        logged.push(replay(true));
    }
    plain.sort();
    logged.sort();
    let (plain, logged) = (plain[3], logged[3]);
    println!(
        "a replayed session of 20 turns and 40 tool calls (tools running): median {:.1} ms without a \
         rollout, {:.1} ms with one (+{:.1} %)",
        plain.as_secs_f64() * 1e3,
        logged.as_secs_f64() * 1e3,
        (logged.as_secs_f64() / plain.as_secs_f64() - 1.0) * 100.0
    );
}

struct BenchSink {
    rollout: Option<RolloutWriter>,
}

impl Sink for BenchSink {
    fn event(&mut self, event: &Event) {
        if let Some(rollout) = &mut self.rollout {
            rollout.event(event);
        }
    }

    fn history(&mut self, item: &ResponseItem) {
        if let Some(rollout) = &mut self.rollout {
            rollout.history(item);
        }
    }
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
        call_id: "b".to_owned(),
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
        call_id: "p".to_owned(),
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
    Config::load(&options, &FeatureRegistry::with_first_party()).unwrap()
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
fn mcp_calls(root: &Path) {
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
        let spec = mcp::server_spec(server_config, root, &[], &env).unwrap();
        let direct = wharf_plugin_mcp_client::McpServer::start(spec).unwrap();
        let call = ToolCall {
            call_id: "m".to_owned(),
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
