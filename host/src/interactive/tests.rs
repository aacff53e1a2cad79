//! The driver over a scripted model and a test-double plugin, as a front
//! end sees it: ops in, events out.

use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use wharf_config::features::{FeatureRegistry, FeatureSpec, Stage};
use wharf_config::{ApprovalPolicy, ConfigOptions};
use wharf_model::models::ModelInfo;
use wharf_model::protocol::{
    ModelClient, ModelError, OutputContent, Prompt, ResponseItem, ResponseStream,
};
use wharf_runtime::pipeline::Decision;
use wharf_runtime::plugin::Plugin;
use wharf_sandbox::SandboxMode;

use super::*;
use crate::agent::tests::{Commands, Scripted, call, done, manifest, message};
use crate::agent::{ItemDetails, Status};
use crate::session::Configured;

/// A scripted client the test keeps a handle on.
#[derive(Clone)]
struct Shared(Arc<Scripted>);

impl ModelClient for Shared {
    fn stream(&self, prompt: &Prompt) -> Result<ResponseStream, ModelError> {
        self.0.stream(prompt)
    }
}

struct Harness {
    _dir: tempfile::TempDir,
    home: PathBuf,
    ops: Sender<Op>,
    events: Receiver<Event>,
    client: Arc<Scripted>,
    /// The models `connect` was asked for.
    connected: Arc<Mutex<Vec<String>>>,
    handle: Option<JoinHandle<()>>,
}

fn models() -> Vec<ModelInfo> {
    vec![
        ModelInfo::unknown("first-model"),
        ModelInfo::unknown("second-model"),
    ]
}

impl Harness {
    fn start(
        policy: ApprovalPolicy,
        responses: Vec<Vec<wharf_model::protocol::ResponseEvent>>,
    ) -> Harness {
        Harness::start_with(policy, responses, None)
    }

    fn start_with(
        policy: ApprovalPolicy,
        responses: Vec<Vec<wharf_model::protocol::ResponseEvent>>,
        resume: Option<(tempfile::TempDir, String)>,
    ) -> Harness {
        let (dir, resumed_id) = match resume {
            Some((dir, id)) => (dir, Some(id)),
            None => (tempfile::tempdir().unwrap(), None),
        };
        let home = dir.path().join("home");
        let cwd = dir.path().join("work");
        std::fs::create_dir_all(&cwd).unwrap();
        let mut registry =
            FeatureRegistry::from_toml(include_str!("../../../cli/features.toml")).unwrap();
        registry
            .register(FeatureSpec {
                key: "commands".to_owned(),
                stage: Stage::Experimental,
                default_enabled: true,
                description: String::new(),
            })
            .unwrap();
        let options = ConfigOptions {
            wharf_home: home.clone(),
            cwd,
            sandbox_mode: Some(SandboxMode::WorkspaceWrite),
            ..ConfigOptions::default()
        };
        let configured = Configured::load(options, registry, &[]).unwrap();
        let (events_tx, events) = mpsc::channel();
        let front = FrontEnd::new(events_tx);
        let plugin_dir = dir.path().to_path_buf();
        let model = models()[0].clone();
        let host = front
            .wire(configured.session())
            .model(model)
            .approval_policy(Some(policy))
            .plugins_from(move |_| {
                Ok(vec![(
                    manifest(&plugin_dir, "commands", "exec = true"),
                    Arc::new(Commands::default()) as Arc<dyn Plugin>,
                )])
            })
            .build()
            .unwrap();
        let client = Arc::new(Scripted::new(responses));
        let connected = Arc::new(Mutex::new(Vec::new()));
        let resumed =
            resumed_id.map(|id| Rollout::load(&rollout::find(&home, &id).unwrap()).unwrap());
        let setup = Setup {
            host,
            client: Box::new(Shared(Arc::clone(&client))),
            connect: {
                let connected = Arc::clone(&connected);
                let client = Arc::clone(&client);
                Box::new(move |model: &ModelInfo| {
                    connected.lock().unwrap().push(model.slug.clone());
                    Ok(Box::new(Shared(Arc::clone(&client))) as Box<dyn ModelClient>)
                })
            },
            catalog: models(),
            provider: "test".to_owned(),
            wharf_home: home.clone(),
            resumed,
        };
        let (ops, handle) = spawn(front, setup).unwrap();
        Harness {
            _dir: dir,
            home,
            ops,
            events,
            client,
            connected,
            handle: Some(handle),
        }
    }

    fn send(&self, op: Op) {
        self.ops.send(op).unwrap();
    }

    /// Events until one `until` accepts (included).
    fn until(&self, until: impl Fn(&Event) -> bool) -> Vec<Event> {
        let mut seen = Vec::new();
        loop {
            let event = self
                .events
                .recv_timeout(Duration::from_secs(20))
                .unwrap_or_else(|_| panic!("no matching event; saw {seen:#?}"));
            let stop = until(&event);
            seen.push(event);
            if stop {
                return seen;
            }
        }
    }

    fn turn(&self, text: &str) -> Vec<Event> {
        self.send(Op::UserInput {
            text: text.to_owned(),
        });
        self.until(|e| matches!(e, Event::TurnCompleted { .. } | Event::TurnFailed { .. }))
    }

    fn shutdown(mut self) -> (tempfile::TempDir, PathBuf) {
        self.send(Op::Shutdown);
        let rest = self.until(|e| matches!(e, Event::SessionEnded));
        assert!(matches!(rest.last(), Some(Event::SessionEnded)));
        self.handle.take().unwrap().join().unwrap();
        (self._dir, self.home)
    }
}

fn tool_output(prompt: &Prompt, call_id: &str) -> String {
    prompt
        .input
        .iter()
        .find_map(|item| match item {
            ResponseItem::ToolOutput {
                call_id: id,
                output,
                ..
            } if id == call_id => match &output[0] {
                OutputContent::Text { text } => Some(text.clone()),
                OutputContent::Image { .. } => None,
            },
            _ => None,
        })
        .unwrap()
}

fn completed_statuses(events: &[Event]) -> Vec<Status> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::ItemCompleted { item } => item.details.status(),
            _ => None,
        })
        .collect()
}

fn info(events: &[Event]) -> SessionInfo {
    events
        .iter()
        .rev()
        .find_map(|e| match e {
            Event::SessionConfigured { info } => Some((**info).clone()),
            _ => None,
        })
        .unwrap()
}

use crate::ops::SessionInfo;

#[test]
fn a_session_starts_runs_turns_and_saves_them() {
    let h = Harness::start(
        ApprovalPolicy::Never,
        vec![
            vec![message("hello"), done()],
            vec![message("again"), done()],
        ],
    );
    let start = h.until(|e| matches!(e, Event::ThreadStarted { .. }));
    let first = info(&start);
    assert_eq!(first.model, "first-model");
    assert_eq!(first.rollout, None, "no file before the first turn");
    assert!(
        first
            .plugins
            .iter()
            .any(|p| p.name == "commands" && p.unavailable.is_none())
    );

    let events = h.turn("hi");
    assert!(events.iter().any(|e| matches!(
        e,
        Event::TokenCount {
            context_used: 12,
            ..
        }
    )));
    h.turn("and again");
    // The second request carries the first turn.
    let prompts = h.client.prompts.lock().unwrap().clone();
    assert_eq!(prompts[1].input.len(), 3, "{:#?}", prompts[1].input);
    let (_dir, home) = h.shutdown();

    let saved = rollout::list(&home);
    assert_eq!(saved.len(), 1);
    assert_eq!(saved[0].first_prompt.as_deref(), Some("hi"));
    let rollout = Rollout::load(&saved[0].path).unwrap();
    assert_eq!(rollout.history.len(), 4);
    assert!(matches!(rollout.events[0], Event::ThreadStarted { .. }));
    assert!(
        rollout.events.iter().all(|e| !e.is_transient()),
        "{:#?}",
        rollout.events
    );
}

#[test]
fn approvals_are_asked_remembered_for_the_session_and_denied_with_a_reason() {
    let h = Harness::start(
        ApprovalPolicy::Untrusted,
        vec![
            vec![
                call("c1", "run", serde_json::json!({"cmd": "cargo test one"})),
                done(),
            ],
            vec![
                call("c2", "run", serde_json::json!({"cmd": "cargo test two"})),
                done(),
            ],
            vec![
                call("c3", "run", serde_json::json!({"cmd": "rm -rf target"})),
                done(),
            ],
            vec![message("understood"), done()],
        ],
    );
    h.send(Op::UserInput {
        text: "test it".to_owned(),
    });
    let asked = h.until(|e| matches!(e, Event::ApprovalRequested { .. }));
    let Some(Event::ApprovalRequested { request }) = asked.last() else {
        unreachable!()
    };
    assert_eq!(request.call_id.as_str(), "c1");
    assert_eq!(request.command.as_deref(), Some("cargo test one"));
    h.send(Op::Approval {
        call_id: "c1".to_owned(),
        decision: Decision::ApproveForSession,
    });
    // `cargo test two` is not asked; `rm -rf target` is.
    let asked = h.until(|e| matches!(e, Event::ApprovalRequested { .. }));
    let Some(Event::ApprovalRequested { request }) = asked.last() else {
        unreachable!()
    };
    assert_eq!(request.call_id.as_str(), "c3");
    assert_eq!(
        completed_statuses(&asked),
        [Status::Completed, Status::Completed]
    );
    h.send(Op::Approval {
        call_id: "c3".to_owned(),
        decision: Decision::Deny {
            reason: Some("never delete build output".to_owned()),
        },
    });
    let rest = h.until(|e| matches!(e, Event::TurnCompleted { .. }));
    assert_eq!(completed_statuses(&rest)[0], Status::Declined);
    let prompts = h.client.prompts.lock().unwrap().clone();
    let output = tool_output(&prompts[3], "c3");
    assert!(output.contains("never delete build output"), "{output}");
    h.shutdown();
}

#[test]
fn an_interrupt_answers_a_waiting_approval_and_cancels_the_turn() {
    let h = Harness::start(
        ApprovalPolicy::Untrusted,
        vec![
            vec![
                call("c1", "run", serde_json::json!({"cmd": "make"})),
                done(),
            ],
            vec![message("after the interrupt"), done()],
        ],
    );
    h.send(Op::UserInput {
        text: "build".to_owned(),
    });
    h.until(|e| matches!(e, Event::ApprovalRequested { .. }));
    h.send(Op::Interrupt);
    let rest = h.until(|e| matches!(e, Event::TurnCompleted { .. } | Event::TurnFailed { .. }));
    assert!(
        matches!(rest.last(), Some(Event::TurnFailed { error }) if error.message.contains("cancel")),
        "{rest:#?}"
    );
    // The session goes on: the next prompt is a turn of its own.
    let events = h.turn("go on");
    assert!(matches!(events.last(), Some(Event::TurnCompleted { .. })));
    h.shutdown();
}

#[test]
fn the_model_and_policy_change_between_turns() {
    let h = Harness::start(ApprovalPolicy::Never, vec![vec![message("ok"), done()]]);
    h.until(|e| matches!(e, Event::ThreadStarted { .. }));
    h.send(Op::SetModel {
        model: "no-such-model".to_owned(),
    });
    let refused = h.until(|e| matches!(e, Event::Notice { .. }));
    assert!(
        matches!(refused.last(), Some(Event::Notice { is_error: true, text, .. })
        if text.contains("unknown model `no-such-model`") && text.contains("second-model"))
    );
    h.send(Op::SetModel {
        model: "second-model".to_owned(),
    });
    h.send(Op::SetApprovalPolicy {
        policy: ApprovalPolicy::OnRequest,
    });
    let changed = h.until(|e| {
        matches!(e, Event::SessionConfigured { info } if info.approval_policy == ApprovalPolicy::OnRequest)
    });
    assert_eq!(info(&changed).model, "second-model");
    h.turn("hi");
    assert_eq!(h.client.prompts.lock().unwrap()[0].model, "second-model");
    assert_eq!(*h.connected.lock().unwrap(), ["second-model"]);
    h.shutdown();
}

#[test]
fn a_feature_toggles_for_the_session_and_an_unknown_one_is_refused() {
    let h = Harness::start(ApprovalPolicy::Never, vec![]);
    h.until(|e| matches!(e, Event::ThreadStarted { .. }));
    h.send(Op::SetFeature {
        name: "commands".to_owned(),
        enabled: false,
    });
    let off = h.until(|e| matches!(e, Event::SessionConfigured { .. }));
    let info = info(&off);
    let commands = info.plugins.iter().find(|p| p.name == "commands").unwrap();
    assert!(
        commands
            .unavailable
            .as_deref()
            .unwrap()
            .contains("disabled")
    );
    h.send(Op::SetFeature {
        name: "nonsense".to_owned(),
        enabled: true,
    });
    let refused = h.until(|e| matches!(e, Event::Notice { .. }));
    assert!(
        matches!(refused.last(), Some(Event::Notice { text, .. }) if text.contains("unknown feature `nonsense`"))
    );
    h.shutdown();
}

#[test]
fn a_new_thread_starts_empty_and_a_saved_one_resumes_with_its_history() {
    let h = Harness::start(
        ApprovalPolicy::Never,
        vec![vec![message("one"), done()], vec![message("two"), done()]],
    );
    let first = h.until(|e| matches!(e, Event::ThreadStarted { .. }));
    let Some(Event::ThreadStarted {
        thread_id: first_id,
    }) = first.last().cloned()
    else {
        unreachable!()
    };
    h.turn("first thread");
    h.send(Op::NewThread);
    let second = h.until(|e| matches!(e, Event::ThreadStarted { .. }));
    assert!(
        !matches!(second.last(), Some(Event::ThreadStarted { thread_id }) if *thread_id == first_id)
    );
    h.turn("second thread");
    assert_eq!(
        h.client.prompts.lock().unwrap()[1].input.len(),
        1,
        "a new thread has no history"
    );
    h.send(Op::ListSessions);
    let listed = h.until(|e| matches!(e, Event::SessionList { .. }));
    let Some(Event::SessionList { sessions }) = listed.last() else {
        unreachable!()
    };
    assert_eq!(sessions.len(), 2);
    let (dir, _home) = h.shutdown();

    // A new session continuing the first thread.
    let h = Harness::start_with(
        ApprovalPolicy::Never,
        vec![vec![message("three"), done()]],
        Some((dir, first_id.clone())),
    );
    // The saved turn is shown again, up to its end.
    let shown = h.until(|e| matches!(e, Event::TurnCompleted { .. }));
    assert!(shown.iter().any(|e| {
        matches!(e, Event::ItemCompleted { item } if matches!(&item.details, ItemDetails::AgentMessage { text } if text == "one"))
    }));
    assert!(
        shown
            .iter()
            .any(|e| matches!(e, Event::ThreadStarted { thread_id } if *thread_id == first_id))
    );
    let events = h.turn("continue");
    let ids: Vec<String> = events
        .iter()
        .filter_map(|e| match e {
            Event::ItemCompleted { item } => Some(item.id.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(ids, ["item_2", "item_3"], "ids go on after the saved ones");
    assert_eq!(h.client.prompts.lock().unwrap()[0].input.len(), 3);
    h.shutdown();
}

#[test]
fn dropping_the_front_end_ends_the_session() {
    let mut h = Harness::start(ApprovalPolicy::Never, vec![]);
    h.until(|e| matches!(e, Event::ThreadStarted { .. }));
    let handle = h.handle.take().unwrap();
    let (ops, _) = mpsc::channel();
    drop(std::mem::replace(&mut h.ops, ops));
    h.until(|e| matches!(e, Event::SessionEnded));
    handle.join().unwrap();
}

#[test]
fn a_saved_turn_that_never_ended_is_shown_as_failed() {
    let h = Harness::start(ApprovalPolicy::Never, vec![vec![message("one"), done()]]);
    h.until(|e| matches!(e, Event::ThreadStarted { .. }));
    h.turn("first");
    let (dir, home) = h.shutdown();
    // wharf killed during its next turn: the rollout ends after its start.
    let saved = rollout::list(&home);
    let mut writer = RolloutWriter::append(&saved[0].path).unwrap();
    writer.event(&Event::TurnStarted);
    drop(writer);
    let id = saved[0].meta.id.clone();

    let h = Harness::start_with(ApprovalPolicy::Never, vec![], Some((dir, id)));
    let shown = h.until(|e| matches!(e, Event::TurnFailed { .. }));
    assert!(matches!(shown.last(), Some(Event::TurnFailed { error })
        if error.message == "the session ended before this turn did"));
    assert!(
        matches!(shown[shown.len() - 2], Event::TurnStarted),
        "{shown:#?}"
    );
    h.shutdown();
}

#[test]
fn compact_between_turns_replaces_the_conversation_and_is_saved() {
    use crate::agent::{COMPACT_PROMPT, CompactTrigger, SUMMARY_PREFIX};
    use wharf_model::protocol::Role;
    let user = |text: &str| ResponseItem::text(Role::User, text);
    let notice = |events: &[Event]| match events.last() {
        Some(Event::Notice { text, is_error, .. }) => (text.clone(), *is_error),
        other => panic!("not a notice: {other:?}"),
    };
    let h = Harness::start(
        ApprovalPolicy::Never,
        vec![
            vec![message("hello"), done()],
            vec![message("the summary"), done()],
            vec![message("after"), done()],
        ],
    );
    h.until(|e| matches!(e, Event::ThreadStarted { .. }));
    h.send(Op::Compact);
    let empty = h.until(|e| matches!(e, Event::Notice { .. }));
    assert_eq!(notice(&empty), ("nothing to compact yet".to_owned(), false));
    h.turn("hi");
    h.send(Op::Compact);
    let compacted = h.until(|e| matches!(e, Event::Compacted { .. }));
    assert_eq!(
        compacted.last(),
        Some(&Event::Compacted {
            trigger: CompactTrigger::Manual,
            context_before: 12,
        })
    );
    h.turn("next");
    let prompts = h.client.prompts.lock().unwrap().clone();
    assert!(prompts[1].tools.is_empty());
    assert_eq!(prompts[1].input.last(), Some(&user(COMPACT_PROMPT)));
    let summary = user(&format!("{SUMMARY_PREFIX}the summary"));
    assert_eq!(
        prompts[2].input,
        [user("hi"), summary.clone(), user("next")]
    );
    // A compaction that fails says so and keeps the conversation.
    h.send(Op::Compact);
    let failed = h.until(|e| matches!(e, Event::Notice { .. }));
    let (text, is_error) = notice(&failed);
    assert!(is_error);
    assert!(
        text.contains("compacting the conversation failed"),
        "{text}"
    );
    let (_dir, home) = h.shutdown();

    let saved = rollout::list(&home);
    let rollout = Rollout::load(&saved[0].path).unwrap();
    assert_eq!(
        rollout.history,
        [
            user("hi"),
            summary,
            user("next"),
            ResponseItem::text(Role::Assistant, "after")
        ]
    );
    assert!(rollout.events.contains(&compacted[compacted.len() - 1]));
}
