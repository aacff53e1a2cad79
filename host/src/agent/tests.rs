//! The loop over a scripted model client and test-double plugins.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::time::Duration;

use wharf_sandbox::SandboxMode;

use super::*;
use wharf_config::features::{FeatureRegistry, FeatureSpec, Stage};
use wharf_config::{ApprovalPolicy, Config, ConfigOptions};
use wharf_model::models::FreeformToolType;
use wharf_model::protocol::{OutputContent, ResponseStream, ToolDef};
use wharf_runtime::ids::SessionId;
use wharf_runtime::plugin::grant::Grant;
use wharf_runtime::plugin::manifest::Manifest;
use wharf_runtime::plugin::{
    Args, CallContext, CommandRun, Content, Display, FileChange, Plugin, ToolError, ToolOutput,
    ToolSpec,
};

/// Serves scripted responses in order and keeps the prompts it was sent.
#[derive(Default)]
pub(crate) struct Scripted {
    responses: Mutex<VecDeque<Vec<ResponseEvent>>>,
    pub prompts: Mutex<Vec<Prompt>>,
}

impl Scripted {
    pub fn new(responses: Vec<Vec<ResponseEvent>>) -> Scripted {
        Scripted {
            responses: Mutex::new(responses.into()),
            prompts: Mutex::default(),
        }
    }
}

impl ModelClient for Scripted {
    fn stream(&self, prompt: &Prompt) -> Result<ResponseStream, ModelError> {
        self.prompts.lock().unwrap().push(prompt.clone());
        let events = self
            .responses
            .lock()
            .unwrap()
            .pop_front()
            .ok_or_else(|| ModelError::Protocol("no more scripted responses".to_owned()))?;
        let (tx, rx) = ResponseStream::channel();
        for event in events {
            tx.send(Ok(event));
        }
        Ok(rx)
    }
}

pub(crate) fn call(id: &str, name: &str, args: serde_json::Value) -> ResponseEvent {
    ResponseEvent::OutputItemDone {
        item: ResponseItem::FunctionCall {
            call_id: id.to_owned(),
            name: name.to_owned(),
            arguments: args.to_string(),
        },
    }
}

pub(crate) fn message(text: &str) -> ResponseEvent {
    ResponseEvent::OutputItemDone {
        item: ResponseItem::Message {
            role: Role::Assistant,
            text: text.to_owned(),
            images: Vec::new(),
        },
    }
}

pub(crate) fn done() -> ResponseEvent {
    ResponseEvent::Completed {
        response_id: "r".to_owned(),
        usage: Some(Usage {
            input_tokens: 10,
            output_tokens: 2,
            total_tokens: 12,
            ..Usage::default()
        }),
    }
}

/// `run{cmd}` (shown by its `cmd`): "Process exited with code 0" and the
/// command, and a command block with exit code 0; `cmd` =
/// `block` waits until the session ends, `together` waits (a bounded
/// while) for another `together` call, `image` returns a PNG.
#[derive(Default)]
pub(crate) struct Commands {
    ended: Mutex<bool>,
    wake: Condvar,
    running: Mutex<Option<mpsc::Sender<()>>>,
    together: AtomicUsize,
}

impl Plugin for Commands {
    fn name(&self) -> &str {
        "commands"
    }

    fn tools(&self) -> &[ToolSpec] {
        static TOOLS: std::sync::OnceLock<Vec<ToolSpec>> = std::sync::OnceLock::new();
        TOOLS.get_or_init(|| {
            let mut run = spec(
                "run",
                serde_json::json!({"type": "object", "properties": {"cmd": {"type": "string"}}, "required": ["cmd"]}),
                None,
                &[],
            );
            run.display.command = Some("/cmd".to_owned());
            vec![run]
        })
    }

    fn invoke(
        &self,
        _cx: &CallContext,
        _tool: &str,
        args: Args<'_>,
        _grant: &Grant,
    ) -> Result<ToolOutput, ToolError> {
        let args = args.value;
        let cmd = args["cmd"].as_str().unwrap().to_owned();
        let text = |body: &str| ToolOutput {
            content: vec![Content::Text(format!(
                "Process exited with code 0\nOutput:\n{body}"
            ))],
            command: Some(CommandRun {
                argv: vec![cmd.clone()],
                exit_code: Some(0),
                duration: Duration::ZERO,
            }),
            ..ToolOutput::default()
        };
        match cmd.as_str() {
            "block" => {
                if let Some(tx) = self.running.lock().unwrap().take() {
                    tx.send(()).unwrap();
                }
                let ended = self.ended.lock().unwrap();
                let (ended, _) = self
                    .wake
                    .wait_timeout_while(ended, Duration::from_secs(20), |ended| !*ended)
                    .unwrap();
                if *ended {
                    Err(ToolError::Cancelled)
                } else {
                    Ok(text("not cancelled"))
                }
            }
            "together" => {
                self.together.fetch_add(1, Ordering::SeqCst);
                let deadline = std::time::Instant::now() + Duration::from_secs(10);
                while self.together.load(Ordering::SeqCst) < 2
                    && std::time::Instant::now() < deadline
                {
                    std::thread::yield_now();
                }
                let seen = self.together.load(Ordering::SeqCst);
                Ok(text(if seen >= 2 { "together" } else { "alone" }))
            }
            "image" => Ok(ToolOutput {
                content: vec![Content::Image {
                    mime_type: "image/png".to_owned(),
                    data: vec![1, 2, 3],
                }],
                ..ToolOutput::default()
            }),
            other => Ok(text(other)),
        }
    }

    fn end_session(&self, _session_id: &SessionId) {
        *self.ended.lock().unwrap() = true;
        self.wake.notify_all();
    }
}

/// `patch{input}` (freeform too): adds `out.txt` holding the input.
/// `look{}` needs image input.
struct Edits {
    tools: Vec<ToolSpec>,
}

impl Plugin for Edits {
    fn name(&self) -> &str {
        "edits"
    }

    fn tools(&self) -> &[ToolSpec] {
        &self.tools
    }

    fn invoke(
        &self,
        _cx: &CallContext,
        tool: &str,
        args: Args<'_>,
        _grant: &Grant,
    ) -> Result<ToolOutput, ToolError> {
        let args = args.value;
        if tool == "look" {
            return Ok(ToolOutput {
                content: vec![Content::Text("looked".to_owned())],
                ..ToolOutput::default()
            });
        }
        Ok(ToolOutput {
            content: vec![Content::Text("A out.txt".to_owned())],
            changes: vec![FileChange::Add {
                path: "out.txt".to_owned(),
                contents: args["input"].as_str().unwrap().to_owned(),
            }],
            ..ToolOutput::default()
        })
    }
}

fn spec(
    name: &str,
    schema: serde_json::Value,
    grammar: Option<&str>,
    requires: &[&str],
) -> ToolSpec {
    ToolSpec {
        name: name.to_owned(),
        description: format!("{name} tool"),
        input_schema: schema,
        freeform_grammar: grammar.map(str::to_owned),
        requires: requires.iter().map(|r| (*r).to_owned()).collect(),
        display: Display::default(),
    }
}

pub(crate) fn manifest(dir: &std::path::Path, name: &str, caps: &str) -> Manifest {
    let text = format!(
        "name = \"{name}\"\nversion = \"1.0.0\"\napi = \"0.1.0\"\nkind = \"wasm\"\n\
         artifact = \"{name}.wasm\"\n[feature]\nkey = \"{name}\"\ndefault_enabled = true\n\
         [capabilities]\n{caps}\n"
    );
    Manifest::parse(&dir.join("plugin.toml"), &text).unwrap().0
}

pub(crate) struct Setup {
    pub dir: tempfile::TempDir,
    pub plugins: Plugins,
    commands: Arc<Commands>,
}

impl Setup {
    pub fn new() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("work")).unwrap();
        let commands = Arc::new(Commands::default());
        let mut plugins = Plugins::default();
        plugins.add_plugin(
            manifest(dir.path(), "commands", "exec = true"),
            Arc::clone(&commands) as Arc<dyn Plugin>,
        );
        let edits = Edits {
            tools: vec![
                spec(
                    "patch",
                    serde_json::json!({"type": "object", "properties": {"input": {"type": "string"}}, "required": ["input"]}),
                    Some("start: /.+/"),
                    &[],
                ),
                spec(
                    "look",
                    serde_json::json!({"type": "object"}),
                    None,
                    &["image_input"],
                ),
            ],
        };
        plugins.add_plugin(
            manifest(
                dir.path(),
                "edits",
                "fs.read = [\"cwd\"]\nfs.write = [\"cwd\"]",
            ),
            Arc::new(edits),
        );
        Setup {
            dir,
            plugins,
            commands,
        }
    }

    pub fn cwd(&self) -> std::path::PathBuf {
        self.dir.path().join("work")
    }

    pub fn session(&self, model: &ModelInfo) -> Session {
        let mut registry =
            FeatureRegistry::from_toml(include_str!("../../../cli/features.toml")).unwrap();
        for key in ["commands", "edits"] {
            registry
                .register(FeatureSpec {
                    key: key.to_owned(),
                    stage: Stage::Experimental,
                    default_enabled: true,
                    description: String::new(),
                })
                .unwrap();
        }
        let options = ConfigOptions {
            wharf_home: self.dir.path().join("home"),
            cwd: self.cwd(),
            sandbox_mode: Some(SandboxMode::WorkspaceWrite),
            overrides: vec!["sandbox_workspace_write.exclude_slash_tmp=true".to_owned()],
            ..ConfigOptions::default()
        };
        let config = Config::load(&options, &registry).unwrap();
        let mut session = Session::new("thread-1", &config, None, None, Box::new(|_| None));
        session.model = Some(model_fit(model));
        session.approval_policy = Some(ApprovalPolicy::Never);
        session
    }
}

fn text_model() -> ModelInfo {
    ModelInfo::unknown("text-model")
}

fn rich_model() -> ModelInfo {
    ModelInfo {
        input_modalities: vec![
            wharf_model::models::InputModality::Text,
            wharf_model::models::InputModality::Image,
        ],
        supports_parallel_tool_calls: true,
        freeform_tool_type: FreeformToolType::Freeform,
        ..ModelInfo::unknown("rich-model")
    }
}

/// The events as `type` or `type:item-type:status` strings; transient
/// events (streamed text, token counts) left out.
fn shape(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter(|event| !event.is_transient())
        .map(|event| {
            let value = serde_json::to_value(event).unwrap();
            let kind = value["type"].as_str().unwrap().to_owned();
            match value.get("item") {
                Some(item) => {
                    let mut s = format!("{kind}:{}", item["type"].as_str().unwrap());
                    if let Some(status) = item.get("status").and_then(|s| s.as_str()) {
                        s.push(':');
                        s.push_str(status);
                    }
                    s
                }
                None => kind,
            }
        })
        .collect()
}

fn item_details(events: &[Event]) -> Vec<ItemDetails> {
    events
        .iter()
        .filter_map(|event| match event {
            Event::ItemCompleted { item } => Some(item.details.clone()),
            _ => None,
        })
        .collect()
}

fn tool_output(prompt: &Prompt, id: &str) -> (Vec<OutputContent>, bool) {
    prompt
        .input
        .iter()
        .find_map(|item| match item {
            ResponseItem::ToolOutput {
                call_id,
                output,
                is_error,
            } if call_id == id => Some((output.clone(), *is_error)),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no output for {id} in {:?}", prompt.input))
}

#[test]
fn a_turn_runs_a_command_then_a_freeform_patch_then_answers() {
    let setup = Setup::new();
    let model = rich_model();
    let session = setup.session(&model);
    let client = Scripted::new(vec![
        vec![
            ResponseEvent::Created,
            call("call_1", "run", serde_json::json!({"cmd": "cat calc.py"})),
            done(),
        ],
        vec![
            ResponseEvent::OutputItemDone {
                item: ResponseItem::CustomToolCall {
                    call_id: "call_2".to_owned(),
                    name: "patch".to_owned(),
                    input: "fixed".to_owned(),
                },
            },
            done(),
        ],
        vec![message("Fixed it."), done()],
    ]);
    let mut agent = Agent::new(&setup.plugins, &session, &client, model);
    let mut events = Vec::new();
    agent.start(&mut events);
    let outcome = agent.run_turn("fix the bug", &mut events).unwrap();

    assert_eq!(outcome.last_message.as_deref(), Some("Fixed it."));
    assert_eq!(outcome.usage.map(|usage| usage.total_tokens), Some(36));
    assert_eq!(
        shape(&events),
        [
            "thread.started",
            "turn.started",
            "item.completed:user_message",
            "item.started:command_execution:in_progress",
            "item.completed:command_execution:completed",
            "item.started:file_change:in_progress",
            "item.completed:file_change:completed",
            "item.completed:agent_message",
            "turn.completed",
        ]
    );
    let details = item_details(&events);
    match &details[1] {
        ItemDetails::CommandExecution {
            command, exit_code, ..
        } => {
            assert_eq!(command, "cat calc.py");
            assert_eq!(*exit_code, Some(0));
        }
        other => panic!("{other:?}"),
    }
    match &details[2] {
        ItemDetails::FileChange { changes, .. } => {
            assert_eq!(changes.len(), 1);
            assert_eq!(changes[0].kind, ChangeKind::Add);
            assert!(changes[0].path.ends_with("out.txt"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        std::fs::read_to_string(setup.cwd().join("out.txt")).unwrap(),
        "fixed"
    );

    let prompts = client.prompts.lock().unwrap();
    assert_eq!(prompts.len(), 3);
    let tools = &prompts[0].tools;
    assert!(matches!(
        tools.iter().find(|t| t.name() == "patch"),
        Some(ToolDef::Freeform { .. })
    ));
    assert!(tools.iter().any(|t| t.name() == "look"));
    let (output, is_error) = tool_output(&prompts[1], "call_1");
    assert!(!is_error);
    assert!(matches!(&output[0], OutputContent::Text { text } if text.ends_with("cat calc.py")));
    // The last request holds the whole conversation, outputs after calls.
    let kinds: Vec<&str> = prompts[2]
        .input
        .iter()
        .map(|item| match item {
            ResponseItem::Message { .. } => "message",
            ResponseItem::Reasoning { .. } => "reasoning",
            ResponseItem::FunctionCall { .. } => "function_call",
            ResponseItem::CustomToolCall { .. } => "custom_tool_call",
            ResponseItem::WebSearchCall { .. } => "web_search_call",
            ResponseItem::ToolOutput { .. } => "output",
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "message",
            "function_call",
            "output",
            "custom_tool_call",
            "output"
        ]
    );
}

#[test]
fn parallel_calls_run_together_and_answer_in_call_order() {
    let setup = Setup::new();
    let model = rich_model();
    let session = setup.session(&model);
    let client = Scripted::new(vec![
        vec![
            call("call_a", "run", serde_json::json!({"cmd": "together"})),
            call("call_b", "run", serde_json::json!({"cmd": "together"})),
            done(),
        ],
        vec![message("ok"), done()],
    ]);
    let mut agent = Agent::new(&setup.plugins, &session, &client, model);
    let mut events = Vec::new();
    agent.run_turn("go", &mut events).unwrap();
    let prompts = client.prompts.lock().unwrap();
    assert!(prompts[0].parallel_tool_calls);
    let outputs: Vec<(String, String)> = prompts[1]
        .input
        .iter()
        .filter_map(|item| match item {
            ResponseItem::ToolOutput {
                call_id, output, ..
            } => match &output[0] {
                OutputContent::Text { text } => Some((call_id.clone(), text.clone())),
                OutputContent::Image { .. } => None,
            },
            _ => None,
        })
        .collect();
    assert_eq!(outputs.len(), 2);
    assert_eq!(outputs[0].0, "call_a");
    assert_eq!(outputs[1].0, "call_b");
    assert!(
        outputs.iter().all(|(_, text)| text.ends_with("together")),
        "{outputs:?}"
    );
    assert_eq!(
        shape(&events)[2..6],
        [
            "item.started:command_execution:in_progress",
            "item.started:command_execution:in_progress",
            "item.completed:command_execution:completed",
            "item.completed:command_execution:completed",
        ]
    );
}

#[test]
fn a_text_only_model_is_not_offered_image_tools_and_reads_a_placeholder() {
    let setup = Setup::new();
    let model = text_model();
    let session = setup.session(&model);
    let client = Scripted::new(vec![
        vec![
            call("call_1", "run", serde_json::json!({"cmd": "image"})),
            done(),
        ],
        vec![call("call_2", "look", serde_json::json!({})), done()],
        vec![message("ok"), done()],
    ]);
    let mut agent = Agent::new(&setup.plugins, &session, &client, model);
    let mut events = Vec::new();
    agent.run_turn("look", &mut events).unwrap();
    let prompts = client.prompts.lock().unwrap();
    assert!(!prompts[0].parallel_tool_calls);
    let names: Vec<&str> = prompts[0].tools.iter().map(ToolDef::name).collect();
    assert_eq!(names, ["patch", "run"]);
    assert!(matches!(prompts[0].tools[0], ToolDef::Function { .. }));
    let (output, _) = tool_output(&prompts[1], "call_1");
    assert_eq!(
        output,
        [OutputContent::Text {
            text: wharf_runtime::pipeline::IMAGE_PLACEHOLDER.to_owned()
        }]
    );
    // Called anyway, the tool is refused by the pipeline.
    let (output, is_error) = tool_output(&prompts[2], "call_2");
    assert!(is_error);
    assert!(matches!(&output[0], OutputContent::Text { text }
        if text == "tool `look` needs `image_input`, which model `text-model` does not support"));
    assert!(matches!(
        item_details(&events)[2],
        ItemDetails::FileChange {
            status: Status::Declined,
            ..
        }
    ));
}

#[test]
fn an_image_model_reads_images() {
    let setup = Setup::new();
    let model = rich_model();
    let session = setup.session(&model);
    let client = Scripted::new(vec![
        vec![
            call("c", "run", serde_json::json!({"cmd": "image"})),
            done(),
        ],
        vec![message("ok"), done()],
    ]);
    let mut agent = Agent::new(&setup.plugins, &session, &client, model);
    agent.run_turn("look", &mut Vec::new()).unwrap();
    let prompts = client.prompts.lock().unwrap();
    assert_eq!(
        tool_output(&prompts[1], "c").0,
        [OutputContent::Image {
            mime_type: "image/png".to_owned(),
            data_base64: "AQID".to_owned()
        }]
    );
}

#[test]
fn cancelling_stops_a_running_call_and_fails_the_turn() {
    let setup = Setup::new();
    let model = text_model();
    let session = setup.session(&model);
    let (running_tx, running_rx) = mpsc::channel();
    *setup.commands.running.lock().unwrap() = Some(running_tx);
    let client = Scripted::new(vec![vec![
        call("call_1", "run", serde_json::json!({"cmd": "block"})),
        done(),
    ]]);
    let mut agent = Agent::new(&setup.plugins, &session, &client, model);
    let cancel = agent.cancel_token();
    let canceller = std::thread::spawn(move || {
        running_rx.recv().unwrap();
        cancel.cancel();
    });
    let mut events = Vec::new();
    let err = agent.run_turn("wait", &mut events).unwrap_err();
    canceller.join().unwrap();
    assert_eq!(err.message, "cancelled");
    assert_eq!(err.cause, Some(ModelError::Cancelled));
    assert!(*setup.commands.ended.lock().unwrap());
    assert_eq!(
        shape(&events)[2..],
        [
            "item.started:command_execution:in_progress",
            "item.completed:command_execution:cancelled",
            "turn.failed",
        ]
    );
    // The call has an output, so the conversation can go on.
    assert!(
        matches!(agent.history().last(), Some(ResponseItem::ToolOutput { call_id, .. }) if call_id == "call_1")
    );
}

#[test]
fn a_call_that_needs_approval_is_denied_when_nobody_can_approve() {
    let setup = Setup::new();
    let model = text_model();
    let mut session = setup.session(&model);
    session.approval_policy = Some(ApprovalPolicy::Untrusted);
    let client = Scripted::new(vec![
        vec![
            call("call_1", "run", serde_json::json!({"cmd": "rm -rf /"})),
            done(),
        ],
        vec![message("I was not allowed to."), done()],
    ]);
    let mut agent = Agent::new(&setup.plugins, &session, &client, model);
    let mut events = Vec::new();
    agent.run_turn("clean up", &mut events).unwrap();
    let prompts = client.prompts.lock().unwrap();
    let (output, is_error) = tool_output(&prompts[1], "call_1");
    assert!(is_error);
    assert!(matches!(&output[0], OutputContent::Text { text }
        if text.starts_with("denied: `run` needs approval under approval_policy `untrusted` (it runs commands)")));
    assert!(matches!(
        item_details(&events)[1],
        ItemDetails::CommandExecution {
            status: Status::Declined,
            ..
        }
    ));
}

#[test]
fn an_approver_decides() {
    struct Only(&'static str, AtomicBool);
    impl wharf_runtime::pipeline::Approver for Only {
        fn decide(
            &self,
            request: &wharf_runtime::pipeline::ApprovalRequest,
        ) -> wharf_runtime::pipeline::Decision {
            self.1.store(true, Ordering::SeqCst);
            if request.args.contains(self.0) {
                wharf_runtime::pipeline::Decision::Approve
            } else {
                wharf_runtime::pipeline::Decision::Deny { reason: None }
            }
        }
    }
    let setup = Setup::new();
    let model = text_model();
    let mut session = setup.session(&model);
    session.approval_policy = Some(ApprovalPolicy::Untrusted);
    let approver = Arc::new(Only("ls", AtomicBool::new(false)));
    session.approver = Some(approver.clone());
    let client = Scripted::new(vec![
        vec![call("a", "run", serde_json::json!({"cmd": "ls"})), done()],
        vec![call("b", "run", serde_json::json!({"cmd": "rm x"})), done()],
        vec![message("ok"), done()],
    ]);
    let mut agent = Agent::new(&setup.plugins, &session, &client, model);
    agent.run_turn("go", &mut Vec::new()).unwrap();
    let prompts = client.prompts.lock().unwrap();
    assert!(!tool_output(&prompts[1], "a").1);
    let (output, is_error) = tool_output(&prompts[2], "b");
    assert!(is_error);
    assert_eq!(
        output,
        [OutputContent::Text {
            text: "denied: the user declined to run `run`".to_owned()
        }]
    );
    assert!(approver.1.load(Ordering::SeqCst));
}

#[test]
fn a_stream_error_fails_the_turn() {
    let setup = Setup::new();
    let model = text_model();
    let session = setup.session(&model);
    let client = Scripted::new(vec![vec![message("partial")]]);
    let mut agent = Agent::new(&setup.plugins, &session, &client, model);
    let mut events = Vec::new();
    let err = agent.run_turn("hi", &mut events).unwrap_err();
    assert!(
        err.message.contains("ended before the response completed"),
        "{err:?}"
    );
    assert_eq!(shape(&events).last().unwrap(), "turn.failed");
}

#[test]
fn personality_adds_a_line_and_changes_per_turn() {
    let setup = Setup::new();
    let model = text_model();
    let session = setup.session(&model);
    let client = Scripted::new(vec![vec![message("a"), done()], vec![message("b"), done()]]);
    let mut agent = Agent::new(&setup.plugins, &session, &client, model);
    agent.set_personality(Personality::Pragmatic);
    agent.run_turn("one", &mut Vec::new()).unwrap();
    agent.set_personality(Personality::None);
    agent.run_turn("two", &mut Vec::new()).unwrap();
    let prompts = client.prompts.lock().unwrap();
    assert!(prompts[0].instructions.contains("Be direct and terse"));
    assert!(!prompts[1].instructions.contains("Be direct and terse"));
    assert!(prompts[1].instructions.starts_with(BASE_INSTRUCTIONS));
    // The second turn continues the conversation.
    assert_eq!(prompts[1].input.len(), 3);
}

#[test]
fn events_have_codex_exec_json_shapes() {
    let events = [
        Event::ThreadStarted {
            thread_id: "t".to_owned(),
        },
        Event::TurnStarted,
        Event::ItemCompleted {
            item: Item {
                id: "item_0".to_owned(),
                details: ItemDetails::AgentMessage {
                    text: "hi".to_owned(),
                },
                hooks: Vec::new(),
            },
        },
        Event::TurnFailed {
            error: TurnError {
                message: "cancelled".to_owned(),
                cause: None,
            },
        },
    ];
    let lines: Vec<String> = events
        .iter()
        .map(|e| serde_json::to_string(e).unwrap())
        .collect();
    assert_eq!(
        lines,
        [
            r#"{"type":"thread.started","thread_id":"t"}"#,
            r#"{"type":"turn.started"}"#,
            r#"{"type":"item.completed","item":{"id":"item_0","type":"agent_message","text":"hi"}}"#,
            r#"{"type":"turn.failed","error":{"message":"cancelled"}}"#,
        ]
    );
    for line in &lines {
        let back: Event = serde_json::from_str(line).unwrap();
        assert_eq!(&serde_json::to_string(&back).unwrap(), line);
    }
    assert!(new_thread_id().len() == 36);
}

mod budget;
mod compact;
mod progress;
mod replay;
