//! MCP tools' approval modes and codex's granular approvals through the
//! pipeline: a session built from a real configuration, an MCP-kind plugin
//! double, and an approver that answers as told and writes down what it
//! was asked. Each row: (config, policy, tool, answer) → what was asked and
//! what the call became.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use serde_json::{Map, json};
use wharf_config::ApprovalPolicy::{self, Never, OnRequest, Untrusted};
use wharf_config::features::{FeatureRegistry, Stage as FeatureStage};
use wharf_config::{Config, ConfigOptions};

use crate::pipeline::{ApprovalRequest, Approver, Decision, Session, Stage, ToolCall, call};
use crate::plugin::elicitation::{ElicitationAnswer, ElicitationRequest};
use crate::plugin::grant::Grant;
use crate::plugin::manifest::{
    Capabilities, FeatureDecl, LimitWishes, Manifest, PluginKind, PluginName,
};
use crate::plugin::{Args, CallContext, Content, Display, Plugin, ToolError, ToolOutput, ToolSpec};
use crate::registry::Plugins;

/// The tools of an MCP server `docs`, as the MCP adapter offers them; a
/// call of `ask` asks the user a question (an elicitation) and says what
/// came back.
struct Server {
    tools: Vec<ToolSpec>,
}

impl Server {
    fn new() -> Server {
        let tool = |name: &str| ToolSpec {
            name: format!("mcp__docs__{name}"),
            description: String::new(),
            input_schema: json!({"type": "object"}),
            freeform_grammar: None,
            requires: Vec::new(),
            display: Display {
                label: Some(name.to_owned()),
                ..Display::default()
            },
        };
        Server {
            tools: ["search", "write", "other", "ask"].map(tool).into(),
        }
    }
}

impl Plugin for Server {
    fn name(&self) -> &str {
        "docs"
    }

    fn tools(&self) -> &[ToolSpec] {
        &self.tools
    }

    fn invoke(
        &self,
        cx: &CallContext,
        tool: &str,
        _args: Args<'_>,
        _grant: &Grant,
    ) -> Result<ToolOutput, ToolError> {
        let mut text = format!("ran {tool}");
        if tool == "mcp__docs__ask" {
            let request = ElicitationRequest {
                call_id: cx.call_id.clone(),
                plugin: "mcp-docs".to_owned(),
                tool: tool.to_owned(),
                message: "which branch?".to_owned(),
                fields: Vec::new(),
            };
            let answer = cx.elicitation.as_ref().map(|e| e.ask(&request));
            text.push_str(&format!("; answer: {answer:?}"));
        }
        Ok(ToolOutput {
            content: vec![Content::Text(text)],
            ..ToolOutput::default()
        })
    }
}

fn manifest() -> Manifest {
    Manifest {
        name: PluginName::try_from("mcp-docs".to_owned()).unwrap(),
        version: String::new(),
        api: "mcp".to_owned(),
        kind: PluginKind::Mcp,
        artifact: PathBuf::new(),
        sha256: None,
        description: None,
        required: false,
        feature: FeatureDecl {
            key: "mcp_client".to_owned(),
            stage: FeatureStage::Stable,
            default_enabled: true,
            replaced_by: None,
        },
        capabilities: Capabilities::default(),
        requires: Vec::new(),
        limits: LimitWishes::default(),
        hooks: None,
        path: PathBuf::new(),
    }
}

/// Answers with its decision (and accepts every form), keeping what it
/// was asked.
struct Answering {
    decision: Decision,
    asked: Mutex<Vec<String>>,
}

impl Approver for Answering {
    fn decide(&self, request: &ApprovalRequest) -> Decision {
        self.asked.lock().unwrap().push(request.reason.clone());
        self.decision.clone()
    }

    fn elicit(&self, request: &ElicitationRequest) -> ElicitationAnswer {
        self.asked.lock().unwrap().push(request.message.clone());
        ElicitationAnswer::Accept {
            content: Map::new(),
        }
    }
}

/// The server's configuration: `search` approved, `write` on `writes`,
/// everything else on `prompt`.
const SERVER: &[&str] = &[
    "mcp_servers.docs.command=\"docs-mcp\"",
    "mcp_servers.docs.default_tools_approval_mode=\"prompt\"",
    "mcp_servers.docs.tools.search.approval_mode=\"approve\"",
    "mcp_servers.docs.tools.write.approval_mode=\"writes\"",
];

fn session(dir: &tempfile::TempDir, overrides: &[&str]) -> Session {
    let registry =
        FeatureRegistry::from_toml(include_str!("../../../../../../cli/features.toml")).unwrap();
    std::fs::create_dir_all(dir.path().join("work/.git")).unwrap();
    std::fs::create_dir_all(dir.path().join("home")).unwrap();
    let options = ConfigOptions {
        wharf_home: dir.path().join("home"),
        home_dir: Some(dir.path().to_path_buf()),
        cwd: dir.path().join("work"),
        overrides: overrides.iter().map(|o| (*o).to_owned()).collect(),
        ..ConfigOptions::default()
    };
    let config = Config::load(&options, &registry).unwrap();
    Session::new("s1", &config, None, None, Box::new(|_| None))
}

struct Row {
    what: &'static str,
    /// `-c` overrides beside the server's.
    config: &'static [&'static str],
    policy: ApprovalPolicy,
    tool: &'static str,
    /// `None`: no approver.
    answer: Option<Decision>,
    /// What the approver was asked: the reasons and form messages.
    asked: &'static [&'static str],
    /// A part of the output, or a part of the approval stage's refusal.
    expected: Result<&'static str, &'static str>,
}

const YES: Option<Decision> = Some(Decision::Approve);
const NO: Option<Decision> = Some(Decision::Deny { reason: None });
const PROMPTED: &str = "its MCP server sets approval_mode `prompt` for it";

fn rows() -> Vec<Row> {
    let granular_no_mcp = &["approval_policy={ granular = { mcp_elicitations = false } }"][..];
    vec![
        Row {
            what: "approve: runs without asking, even under untrusted",
            config: &[],
            policy: Untrusted,
            tool: "search",
            answer: NO,
            asked: &[],
            expected: Ok("ran mcp__docs__search"),
        },
        Row {
            what: "prompt: asks, and approved runs",
            config: &[],
            policy: OnRequest,
            tool: "other",
            answer: YES,
            asked: &[PROMPTED],
            expected: Ok("ran mcp__docs__other"),
        },
        Row {
            what: "prompt: declined runs nothing",
            config: &[],
            policy: OnRequest,
            tool: "other",
            answer: NO,
            asked: &[PROMPTED],
            expected: Err("the user declined to run `mcp__docs__other`"),
        },
        Row {
            what: "prompt: nobody can approve in exec",
            config: &[],
            policy: OnRequest,
            tool: "other",
            answer: None,
            asked: &[],
            expected: Err("is set to approval_mode `prompt` (ask before each call), and nobody"),
        },
        Row {
            what: "writes: asks before every call (no annotations to tell)",
            config: &[],
            policy: OnRequest,
            tool: "write",
            answer: YES,
            asked: &["its MCP server sets approval_mode `writes` for it"],
            expected: Ok("ran mcp__docs__write"),
        },
        Row {
            what: "never: a tool set to prompt is refused without asking",
            config: &[],
            policy: Never,
            tool: "other",
            answer: YES,
            asked: &[],
            expected: Err("and approval_policy `never` asks nothing"),
        },
        Row {
            what: "granular mcp_elicitations = false: a tool set to prompt is refused",
            config: granular_no_mcp,
            policy: OnRequest,
            tool: "other",
            answer: YES,
            asked: &[],
            expected: Err("approval_policy.granular.mcp_elicitations = false refuses MCP prompts"),
        },
        Row {
            what: "auto: the policy decides, and on-request asks nothing of an MCP tool",
            config: &["mcp_servers.docs.default_tools_approval_mode=\"auto\""],
            policy: OnRequest,
            tool: "other",
            answer: NO,
            asked: &[],
            expected: Ok("ran mcp__docs__other"),
        },
        Row {
            what: "an elicitation reaches the approver",
            config: &[],
            policy: OnRequest,
            tool: "ask",
            answer: YES,
            asked: &[PROMPTED, "which branch?"],
            expected: Ok("answer: Some(Accept"),
        },
        Row {
            what: "granular mcp_elicitations = false: an elicitation is declined unasked",
            config: &[
                "approval_policy={ granular = { mcp_elicitations = false } }",
                "mcp_servers.docs.tools.ask.approval_mode=\"approve\"",
            ],
            policy: OnRequest,
            tool: "ask",
            answer: YES,
            asked: &[],
            expected: Ok("mcp_elicitations = false declines without asking"),
        },
    ]
}

#[test]
fn mcp_approval_modes_and_granular_prompts() {
    for row in rows() {
        let dir = tempfile::tempdir().unwrap();
        let overrides: Vec<&str> = SERVER.iter().chain(row.config).copied().collect();
        let mut session = session(&dir, &overrides);
        session.approval_policy = Some(row.policy);
        let approver = row.answer.clone().map(|decision| {
            Arc::new(Answering {
                decision,
                asked: Mutex::new(Vec::new()),
            })
        });
        session.approver = approver.clone().map(|a| a as Arc<dyn Approver>);
        let mut plugins = Plugins::default();
        plugins.add_plugin(manifest(), Arc::new(Server::new()));
        let tool_call = ToolCall {
            call_id: "c1".into(),
            tool: format!("mcp__docs__{}", row.tool),
            args: "{}".to_owned(),
        };
        let outcome = call(&plugins, &session, &tool_call);
        let what = row.what;
        match (&outcome.result, row.expected) {
            (Ok(output), Ok(part)) => {
                assert!(output.text().contains(part), "{what}: {}", output.text());
            }
            (Err(err), Err(part)) => {
                assert_eq!(err.stage(), Stage::Approval, "{what}: {err}");
                assert!(err.to_string().contains(part), "{what}: {err}");
            }
            (result, expected) => panic!("{what}: got {result:?}, expected {expected:?}"),
        }
        let asked = approver
            .map(|approver| approver.asked.lock().unwrap().clone())
            .unwrap_or_default();
        assert_eq!(asked, row.asked, "{what}");
    }
}

/// A plugin that runs commands (it only says it ran: the approval stage
/// decides before it is called).
struct Runner {
    tools: Vec<ToolSpec>,
}

impl Plugin for Runner {
    fn name(&self) -> &str {
        "runner"
    }

    fn tools(&self) -> &[ToolSpec] {
        &self.tools
    }

    fn invoke(
        &self,
        cx: &CallContext,
        _tool: &str,
        _args: Args<'_>,
        _grant: &Grant,
    ) -> Result<ToolOutput, ToolError> {
        let mode = cx.sandbox.policy().mode();
        Ok(ToolOutput {
            content: vec![Content::Text(format!("ran under {mode:?}"))],
            ..ToolOutput::default()
        })
    }
}

/// codex's granular `sandbox_approval = false` refuses a command's request
/// to run outside the sandbox without asking; `true` (or a named policy)
/// lets the approver decide.
#[test]
fn granular_sandbox_approval_decides_whether_escalation_is_asked() {
    let rows: [(&[&str], Result<&str, &str>, usize); 3] = [
        (
            &["approval_policy={ granular = { sandbox_approval = false } }"],
            Err("approval_policy.granular.sandbox_approval = false refuses that without asking"),
            0,
        ),
        (
            &["approval_policy={ granular = { sandbox_approval = true } }"],
            Ok("ran under DangerFullAccess"),
            1,
        ),
        (&[], Ok("ran under DangerFullAccess"), 1),
    ];
    for (config, expected, asked) in rows {
        let dir = tempfile::tempdir().unwrap();
        let mut session = session(&dir, config);
        // What the front ends do: the configured policy, on-request for
        // a granular table.
        session.approval_policy = Some(OnRequest);
        let approver = Arc::new(Answering {
            decision: Decision::Approve,
            asked: Mutex::new(Vec::new()),
        });
        session.approver = Some(Arc::clone(&approver) as Arc<dyn Approver>);
        let mut manifest = manifest();
        manifest.name = PluginName::try_from("runner".to_owned()).unwrap();
        manifest.kind = PluginKind::Wasm;
        manifest.capabilities.exec = true;
        let runner = Runner {
            tools: vec![ToolSpec {
                name: "run".to_owned(),
                description: String::new(),
                input_schema: json!({"type": "object"}),
                freeform_grammar: None,
                requires: Vec::new(),
                display: Display::default(),
            }],
        };
        let mut plugins = Plugins::default();
        plugins.add_plugin(manifest, Arc::new(runner));
        let args = json!({
            "sandbox_permissions": "require_escalated",
            "justification": "it writes outside"
        });
        let tool_call = ToolCall {
            call_id: "c1".into(),
            tool: "run".to_owned(),
            args: args.to_string(),
        };
        let outcome = call(&plugins, &session, &tool_call);
        match (&outcome.result, expected) {
            (Ok(output), Ok(part)) => assert!(output.text().contains(part), "{}", output.text()),
            (Err(err), Err(part)) => {
                assert_eq!(err.stage(), Stage::Approval, "{err}");
                assert!(err.to_string().contains(part), "{err}");
            }
            (result, expected) => panic!("{config:?}: got {result:?}, expected {expected:?}"),
        }
        assert_eq!(approver.asked.lock().unwrap().len(), asked, "{config:?}");
    }
}
