//! A recorded and replayed agent session with parallel tool calls.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use wharf_host::agent::{Agent, Event, Sink};
use wharf_host::rollout::{RolloutWriter, SessionMeta};
use wharf_model::models::Models;
use wharf_model::protocol::{
    ModelClient, ModelError, Prompt, ResponseEvent, ResponseItem, ResponseStream, Role,
};
use wharf_model::replay::{RecordingClient, ReplayClient};
use wharf_runtime::pipeline::Session;
use wharf_runtime::plugin::{Args, Plugin};
use wharf_runtime::registry::Plugins;

use crate::report;

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
                    images: Vec::new(),
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
        args: Args<'_>,
        grant: &wharf_runtime::plugin::grant::Grant,
    ) -> Result<wharf_runtime::plugin::ToolOutput, wharf_runtime::plugin::ToolError> {
        self.started.lock().unwrap().push(Instant::now());
        self.inner.invoke(cx, tool, args, grant)
    }

    fn end_session(&self, session_id: &wharf_runtime::ids::SessionId) {
        self.inner.end_session(session_id);
    }
}

/// A session of 20 user turns with 2 parallel tool calls each (40 calls,
/// the tools really running): recorded from a scripted model, then
/// replayed with and without a rollout; and the time from the end of a
/// call item in the stream to the plugin's invoke.
pub fn agent_session(plugins: &Arc<Plugins>, session: &Arc<Session>, root: &Path) {
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
