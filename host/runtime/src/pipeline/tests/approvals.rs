//! The approval policies end to end through the pipeline: a plugin that
//! runs its `cmd` with `sh -c` under the call's sandbox (the real one), an
//! approver that answers as told and writes down what it was asked, and
//! rows of (policy, sandbox, answer, call) → what was asked, where the
//! command ran, what the model reads and whether the file was made.

use std::sync::Mutex;

use wharf_config::ApprovalPolicy::{self, Never, OnFailure, OnRequest, Untrusted};

use super::*;
use crate::plugin::{CommandRun, Display};

/// Runs `cmd` with `sh -c` in the call's sandbox, reporting the command
/// it ran; remembers the sandbox of every run.
#[derive(Default)]
struct Runner {
    tools: Vec<ToolSpec>,
    ran_under: Mutex<Vec<SandboxMode>>,
}

impl Runner {
    fn new() -> Runner {
        Runner {
            tools: vec![ToolSpec {
                name: "run".to_owned(),
                description: "runs cmd".to_owned(),
                input_schema: serde_json::json!({
                    "type": "object",
                    "properties": {
                        "cmd": { "type": "string" },
                        "sandbox_permissions": { "type": "string" },
                        "justification": { "type": "string" }
                    },
                    "required": ["cmd"],
                    "additionalProperties": false
                }),
                freeform_grammar: None,
                requires: Vec::new(),
                display: Display {
                    command: Some("/cmd".to_owned()),
                    ..Display::default()
                },
            }],
            ran_under: Mutex::new(Vec::new()),
        }
    }
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
        args: Args<'_>,
        grant: &Grant,
    ) -> Result<ToolOutput, ToolError> {
        self.ran_under
            .lock()
            .unwrap()
            .push(cx.sandbox.policy().mode());
        let cmd = args.value["cmd"].as_str().unwrap_or_default();
        let argv = vec!["sh".to_owned(), "-c".to_owned(), cmd.to_owned()];
        let request = crate::exec::ExecRequest {
            argv: argv.clone(),
            cwd: None,
            env: Vec::new(),
            stdin: None,
            timeout: Duration::from_secs(10),
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        let ran = crate::exec::run(&cx.sandbox, &cx.cwd, grant, deadline, request)
            .map_err(|err| ToolError::Failed(err.to_string()))?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&ran.stdout),
            String::from_utf8_lossy(&ran.stderr)
        );
        Ok(ToolOutput {
            content: vec![Content::Text(text)],
            command: Some(CommandRun {
                argv,
                exit_code: ran.exit_code,
                duration: Duration::ZERO,
            }),
            ..ToolOutput::default()
        })
    }
}

const RUNNER: &str = r#"
name = "runner"
version = "1.0.0"
api = "0.1.0"
kind = "wasm"
artifact = "runner.wasm"
[feature]
key = "double"
default_enabled = true
[capabilities]
exec = true
"#;

/// Answers every request with its decision and keeps the requests.
struct Answering {
    decision: Decision,
    asked: Mutex<Vec<ApprovalRequest>>,
}

impl Approver for Answering {
    fn decide(&self, request: &ApprovalRequest) -> Decision {
        self.asked.lock().unwrap().push(request.clone());
        self.decision.clone()
    }
}

/// What a request said, in short: (command, justification, retry).
type Asked = (Option<&'static str>, Option<&'static str>, bool);

struct Row {
    what: &'static str,
    policy: ApprovalPolicy,
    mode: SandboxMode,
    /// `None`: the session has no approver.
    answer: Option<Decision>,
    args: serde_json::Value,
    asked: &'static [Asked],
    /// The sandbox of each run of the command.
    ran: &'static [SandboxMode],
    /// A part of the output, or the stage and a part of the message.
    expected: Expected,
    /// Whether `made` exists in the cwd afterwards.
    made: bool,
}

const YES: Option<Decision> = Some(Decision::Approve);
const NO: Option<Decision> = Some(Decision::Deny { reason: None });

fn rows() -> Vec<Row> {
    use SandboxMode::{DangerFullAccess, ReadOnly, WorkspaceWrite};
    use serde_json::json;
    let escalated = |cmd: &str| {
        json!({
            "cmd": cmd,
            "sandbox_permissions": "require_escalated",
            "justification": "it writes outside the workspace"
        })
    };
    vec![
        Row {
            what: "untrusted: a known-safe command runs without asking",
            policy: Untrusted,
            mode: ReadOnly,
            answer: NO,
            args: json!({"cmd": "echo hi && pwd"}),
            asked: &[],
            ran: &[ReadOnly],
            expected: Ok("hi"),
            made: false,
        },
        Row {
            what: "untrusted: a safe command joined to an unsafe one asks",
            policy: Untrusted,
            mode: WorkspaceWrite,
            answer: NO,
            args: json!({"cmd": "ls; touch made"}),
            asked: &[(Some("ls; touch made"), None, false)],
            ran: &[],
            expected: Err((Stage::Approval, "the user declined to run `run`")),
            made: false,
        },
        Row {
            what: "untrusted: a substitution inside a safe command asks",
            policy: Untrusted,
            mode: WorkspaceWrite,
            answer: NO,
            args: json!({"cmd": "echo $(touch made)"}),
            asked: &[(Some("echo $(touch made)"), None, false)],
            ran: &[],
            expected: Err((Stage::Approval, "declined")),
            made: false,
        },
        Row {
            what: "untrusted: an approved command runs in the sandbox",
            policy: Untrusted,
            mode: WorkspaceWrite,
            answer: YES,
            args: json!({"cmd": "touch made"}),
            asked: &[(Some("touch made"), None, false)],
            ran: &[WorkspaceWrite],
            expected: Ok(""),
            made: true,
        },
        Row {
            what: "untrusted without an approver: nobody can approve",
            policy: Untrusted,
            mode: WorkspaceWrite,
            answer: None,
            args: json!({"cmd": "touch made"}),
            asked: &[],
            ran: &[],
            expected: Err((
                Stage::Approval,
                "needs approval under approval_policy `untrusted` (it runs commands), and nobody can approve",
            )),
            made: false,
        },
        Row {
            what: "on-failure: a write the sandbox denied asks, and approved runs again without it",
            policy: OnFailure,
            mode: ReadOnly,
            answer: YES,
            args: json!({"cmd": "touch made"}),
            asked: &[(Some("touch made"), None, true)],
            ran: &[ReadOnly, DangerFullAccess],
            expected: Ok(""),
            made: true,
        },
        Row {
            what: "on-failure: declined, the sandbox's failure stands",
            policy: OnFailure,
            mode: ReadOnly,
            answer: NO,
            args: json!({"cmd": "touch made"}),
            asked: &[(Some("touch made"), None, true)],
            ran: &[ReadOnly],
            expected: Ok("Read-only file system"),
            made: false,
        },
        Row {
            what: "on-failure: a failure of its own asks nothing",
            policy: OnFailure,
            mode: ReadOnly,
            answer: YES,
            args: json!({"cmd": "echo broken; exit 3"}),
            asked: &[],
            ran: &[ReadOnly],
            expected: Ok("broken"),
            made: false,
        },
        Row {
            what: "on-failure: a success asks nothing",
            policy: OnFailure,
            mode: WorkspaceWrite,
            answer: YES,
            args: json!({"cmd": "touch made"}),
            asked: &[],
            ran: &[WorkspaceWrite],
            expected: Ok(""),
            made: true,
        },
        Row {
            what: "on-failure without an approver: the failure stands",
            policy: OnFailure,
            mode: ReadOnly,
            answer: None,
            args: json!({"cmd": "touch made"}),
            asked: &[],
            ran: &[ReadOnly],
            expected: Ok("Read-only file system"),
            made: false,
        },
        Row {
            what: "never: a sandbox denial goes back to the model",
            policy: Never,
            mode: ReadOnly,
            answer: YES,
            args: json!({"cmd": "touch made"}),
            asked: &[],
            ran: &[ReadOnly],
            expected: Ok("Read-only file system"),
            made: false,
        },
        Row {
            what: "on-request: a denial is the model's to handle",
            policy: OnRequest,
            mode: ReadOnly,
            answer: YES,
            args: json!({"cmd": "touch made"}),
            asked: &[],
            ran: &[ReadOnly],
            expected: Ok("Read-only file system"),
            made: false,
        },
        Row {
            what: "on-request: escalation asks with the justification and runs outside",
            policy: OnRequest,
            mode: ReadOnly,
            answer: YES,
            args: escalated("touch made"),
            asked: &[(
                Some("touch made"),
                Some("it writes outside the workspace"),
                false,
            )],
            ran: &[DangerFullAccess],
            expected: Ok(""),
            made: true,
        },
        Row {
            what: "on-request: escalation declined runs nothing",
            policy: OnRequest,
            mode: ReadOnly,
            answer: NO,
            args: escalated("touch made"),
            asked: &[(
                Some("touch made"),
                Some("it writes outside the workspace"),
                false,
            )],
            ran: &[],
            expected: Err((Stage::Approval, "the user declined to run `run`")),
            made: false,
        },
        Row {
            what: "on-request: escalation without an approver",
            policy: OnRequest,
            mode: ReadOnly,
            answer: None,
            args: escalated("touch made"),
            asked: &[],
            ran: &[],
            expected: Err((Stage::Approval, "nobody can approve in this session")),
            made: false,
        },
        Row {
            what: "on-request: escalation without a sandbox to leave asks nothing",
            policy: OnRequest,
            mode: DangerFullAccess,
            answer: NO,
            args: escalated("touch made"),
            asked: &[],
            ran: &[DangerFullAccess],
            expected: Ok(""),
            made: true,
        },
        Row {
            what: "never: escalation is refused",
            policy: Never,
            mode: ReadOnly,
            answer: YES,
            args: escalated("touch made"),
            asked: &[],
            ran: &[],
            expected: Err((
                Stage::Approval,
                "escalation is not allowed under approval_policy never",
            )),
            made: false,
        },
        Row {
            what: "untrusted: escalation is refused, even of a safe command",
            policy: Untrusted,
            mode: ReadOnly,
            answer: YES,
            args: escalated("ls"),
            asked: &[],
            ran: &[],
            expected: Err((
                Stage::Approval,
                "you should not ask for escalated permissions if the approval policy is untrusted",
            )),
            made: false,
        },
        Row {
            what: "on-failure: escalation is refused",
            policy: OnFailure,
            mode: ReadOnly,
            answer: YES,
            args: escalated("touch made"),
            asked: &[],
            ran: &[],
            expected: Err((
                Stage::Approval,
                "approval policy is on-failure; reject command",
            )),
            made: false,
        },
        Row {
            what: "untrusted: an approved command the sandbox denied asks again to retry",
            policy: Untrusted,
            mode: ReadOnly,
            answer: YES,
            args: json!({"cmd": "touch made"}),
            asked: &[
                (Some("touch made"), None, false),
                (Some("touch made"), None, true),
            ],
            ran: &[ReadOnly, DangerFullAccess],
            expected: Ok(""),
            made: true,
        },
    ]
}

#[test]
fn approval_policies() {
    for row in rows() {
        let setup = Setup::new();
        let (manifest, _) = Manifest::parse(&setup.dir.path().join("plugin.toml"), RUNNER).unwrap();
        let runner = Arc::new(Runner::new());
        let mut plugins = Plugins::default();
        plugins.add_plugin(manifest, Arc::clone(&runner) as Arc<dyn Plugin>);
        let mut session = setup.session(row.mode, &[]);
        session.approval_policy = Some(row.policy);
        let approver = row.answer.clone().map(|decision| {
            Arc::new(Answering {
                decision,
                asked: Mutex::new(Vec::new()),
            })
        });
        session.approver = approver
            .clone()
            .map(|approver| approver as Arc<dyn Approver>);
        let call = ToolCall {
            call_id: "c1".into(),
            tool: "run".to_owned(),
            args: row.args.to_string(),
        };
        let outcome = super::call(&plugins, &session, &call);
        let what = row.what;
        match (&outcome.result, &row.expected) {
            (Ok(output), Ok(part)) => {
                assert!(output.text().contains(part), "{what}: {}", output.text());
            }
            _ => assert_outcome(what, &outcome, &row.expected),
        }
        let asked: Vec<(Option<String>, Option<String>, bool)> = approver
            .map(|approver| approver.asked.lock().unwrap().clone())
            .unwrap_or_default()
            .into_iter()
            .map(|request| {
                assert_eq!(request.call_id.as_str(), "c1", "{what}");
                assert_eq!(request.plugin, "runner", "{what}");
                assert_eq!(request.args, call.args, "{what}");
                (
                    request.command,
                    request.justification,
                    request.retry_without_sandbox,
                )
            })
            .collect();
        let expected: Vec<(Option<String>, Option<String>, bool)> = row
            .asked
            .iter()
            .map(|(command, justification, retry)| {
                (
                    command.map(str::to_owned),
                    justification.map(str::to_owned),
                    *retry,
                )
            })
            .collect();
        assert_eq!(asked, expected, "{what}");
        assert_eq!(*runner.ran_under.lock().unwrap(), row.ran, "{what}");
        assert_eq!(setup.cwd().join("made").exists(), row.made, "{what}");
    }
}

/// The retry's request says what failed: the command and the line of its
/// output that shows the sandbox's denial.
#[test]
fn a_retry_request_names_the_command_and_the_denial() {
    let setup = Setup::new();
    let (manifest, _) = Manifest::parse(&setup.dir.path().join("plugin.toml"), RUNNER).unwrap();
    let mut plugins = Plugins::default();
    plugins.add_plugin(manifest, Arc::new(Runner::new()));
    let mut session = setup.session(SandboxMode::ReadOnly, &[]);
    session.approval_policy = Some(OnFailure);
    let approver = Arc::new(Answering {
        decision: Decision::Deny { reason: None },
        asked: Mutex::new(Vec::new()),
    });
    session.approver = Some(Arc::clone(&approver) as Arc<dyn Approver>);
    let call = ToolCall {
        call_id: "c1".into(),
        tool: "run".to_owned(),
        args: r#"{"cmd":"echo first; touch made"}"#.to_owned(),
    };
    super::call(&plugins, &session, &call);
    let asked = approver.asked.lock().unwrap();
    assert_eq!(asked.len(), 1);
    assert!(
        asked[0]
            .reason
            .starts_with("`echo first; touch made` failed in the sandbox: touch: "),
        "{}",
        asked[0].reason
    );
    assert!(
        asked[0].reason.ends_with("Read-only file system"),
        "{}",
        asked[0].reason
    );
}

/// A plugin that edits files, called with its freeform argument: the
/// request carries the text as the patch, and no command.
#[test]
fn a_request_for_a_file_edit_carries_the_patch() {
    let setup = Setup::new();
    let (manifest, _) = Manifest::parse(&setup.dir.path().join("plugin.toml"), MANIFEST).unwrap();
    let mut double = Double::new();
    double.tools[0].freeform_grammar = Some("start: /.+/".to_owned());
    double.tools[0].display.freeform_argument = Some("text".to_owned());
    let mut plugins = Plugins::default();
    plugins.add_plugin(manifest, Arc::new(double));
    let mut session = setup.session(SandboxMode::WorkspaceWrite, &[]);
    session.approval_policy = Some(Untrusted);
    let approver = Arc::new(Answering {
        decision: Decision::Deny {
            reason: Some("not now".to_owned()),
        },
        asked: Mutex::new(Vec::new()),
    });
    session.approver = Some(Arc::clone(&approver) as Arc<dyn Approver>);
    let patch = "*** Begin Patch\n*** Add File: a.txt\n+hi\n*** End Patch";
    let call = ToolCall {
        call_id: "c1".into(),
        tool: "echo".to_owned(),
        args: serde_json::json!({ "text": patch, "write": "a.txt" }).to_string(),
    };
    let outcome = super::call(&plugins, &session, &call);
    assert_outcome(
        "declined with a reason",
        &outcome,
        &Err((Stage::Approval, "the user declined to run `echo`: not now")),
    );
    let asked = approver.asked.lock().unwrap();
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].reason, "it edits files");
    assert_eq!(asked[0].patch.as_deref(), Some(patch));
    assert_eq!(asked[0].command, None);
    assert!(!setup.cwd().join("a.txt").exists());
}

/// (what, policy, sandbox, the approver's answer, arguments, decisions).
type DecisionRow = (
    &'static str,
    Option<ApprovalPolicy>,
    SandboxMode,
    Option<Decision>,
    serde_json::Value,
    &'static [&'static str],
);

/// What each stage decided and what decided it, as recorded on the
/// outcome: rows of (policy, sandbox, answer, command) → the decisions
/// from the approval stage on (the earlier ones are always the same).
#[test]
fn each_decision_names_what_decided_it() {
    use SandboxMode::{ReadOnly, WorkspaceWrite};
    use serde_json::json;
    let approved_before = Some(Decision::ApprovedBefore);
    let escalated = json!({
        "cmd": "touch made",
        "sandbox_permissions": "require_escalated",
        "justification": "it writes"
    });
    let rows: Vec<DecisionRow> = vec![
        (
            "no policy",
            None,
            WorkspaceWrite,
            None,
            json!({"cmd": "true"}),
            &[
                "approval allow no_policy",
                "grant allow grant",
                "invoke allow plugin",
            ],
        ),
        (
            "never asks",
            Some(Never),
            WorkspaceWrite,
            None,
            json!({"cmd": "true"}),
            &[
                "approval allow policy",
                "grant allow grant",
                "invoke allow plugin",
            ],
        ),
        (
            "nobody to ask",
            Some(Untrusted),
            WorkspaceWrite,
            None,
            json!({"cmd": "touch made"}),
            &["approval deny no_approver"],
        ),
        (
            "the user says no",
            Some(Untrusted),
            WorkspaceWrite,
            NO,
            json!({"cmd": "touch made"}),
            &["approval deny user"],
        ),
        (
            "the user says yes",
            Some(Untrusted),
            WorkspaceWrite,
            YES,
            json!({"cmd": "touch made"}),
            &[
                "approval allow user",
                "grant allow grant",
                "invoke allow plugin",
            ],
        ),
        (
            "yes for the session, earlier",
            Some(Untrusted),
            WorkspaceWrite,
            approved_before,
            json!({"cmd": "touch made"}),
            &[
                "approval allow session_approval",
                "grant allow grant",
                "invoke allow plugin",
            ],
        ),
        (
            "escalation refused by the policy",
            Some(Never),
            WorkspaceWrite,
            YES,
            escalated,
            &["approval deny policy"],
        ),
        (
            "denied by the sandbox, retried",
            Some(OnFailure),
            ReadOnly,
            YES,
            json!({"cmd": "touch made"}),
            &[
                "approval allow policy",
                "grant allow grant",
                "invoke deny sandbox",
                "approval allow user",
                "invoke allow plugin",
            ],
        ),
        (
            "denied by the sandbox, not retried",
            Some(OnFailure),
            ReadOnly,
            NO,
            json!({"cmd": "touch made"}),
            &[
                "approval allow policy",
                "grant allow grant",
                "invoke deny sandbox",
                "approval deny user",
            ],
        ),
    ];
    for (what, policy, mode, answer, args, expected) in rows {
        let setup = Setup::new();
        let (manifest, _) = Manifest::parse(&setup.dir.path().join("plugin.toml"), RUNNER).unwrap();
        let mut plugins = Plugins::default();
        plugins.add_plugin(manifest, Arc::new(Runner::new()));
        let mut session = setup.session(mode, &[]);
        session.approval_policy = policy;
        session.approver = answer.map(|decision| {
            Arc::new(Answering {
                decision,
                asked: Mutex::new(Vec::new()),
            }) as Arc<dyn Approver>
        });
        let call = ToolCall {
            call_id: "c1".into(),
            tool: "run".to_owned(),
            args: args.to_string(),
        };
        let outcome = super::call(&plugins, &session, &call);
        let decisions: Vec<String> = outcome
            .decisions
            .iter()
            .map(|d| {
                format!(
                    "{} {} {}",
                    d.stage.as_str(),
                    d.verdict.as_str(),
                    d.by.as_str()
                )
            })
            .collect();
        let mut all = vec![
            "feature allow feature_flag".to_owned(),
            "model_capabilities allow no_model".to_owned(),
            "arguments allow schema".to_owned(),
        ];
        all.extend(expected.iter().map(|d| (*d).to_owned()));
        assert_eq!(decisions, all, "{what}");
        assert_eq!(
            outcome.grant.is_some(),
            expected.contains(&"grant allow grant"),
            "{what}"
        );
    }
}

/// A call stopped before approval: the stage that stopped it is the last
/// decision, and no grant was given.
#[test]
fn an_early_denial_is_the_last_decision() {
    let rows: [(&str, &[&str], &str, &[&str]); 3] = [
        (
            "feature off",
            &["double"],
            r#"{"cmd": "true"}"#,
            &["feature deny feature_flag"],
        ),
        (
            "arguments against the schema",
            &[],
            r#"{"command": "true"}"#,
            &[
                "feature allow feature_flag",
                "model_capabilities allow no_model",
                "arguments deny schema",
            ],
        ),
        (
            "arguments that are not JSON",
            &[],
            "{",
            &[
                "feature allow feature_flag",
                "model_capabilities allow no_model",
                "arguments deny schema",
            ],
        ),
    ];
    for (what, disable, args, expected) in rows {
        let setup = Setup::new();
        let (manifest, _) = Manifest::parse(&setup.dir.path().join("plugin.toml"), RUNNER).unwrap();
        let mut plugins = Plugins::default();
        plugins.add_plugin(manifest, Arc::new(Runner::new()));
        let session = setup.session(SandboxMode::WorkspaceWrite, disable);
        let call = ToolCall {
            call_id: "c1".into(),
            tool: "run".to_owned(),
            args: args.to_owned(),
        };
        let outcome = super::call(&plugins, &session, &call);
        let decisions: Vec<String> = outcome
            .decisions
            .iter()
            .map(|d| {
                format!(
                    "{} {} {}",
                    d.stage.as_str(),
                    d.verdict.as_str(),
                    d.by.as_str()
                )
            })
            .collect();
        assert_eq!(decisions, expected, "{what}");
        assert!(outcome.grant.is_none(), "{what}");
    }
}
