//! The pipeline's decisions as one table: each row is a call and the stage
//! that decides it, run against a test-double plugin.

use std::path::Path;
use std::sync::Arc;

use wharf_sandbox::SandboxMode;

use super::*;
use crate::plugin::manifest::Manifest;
use crate::plugin::{FileChange, Plugin, ToolSpec};
use crate::registry::Plugins;
use wharf_config::features::FeatureRegistry;
use wharf_config::{Config, ConfigOptions};

mod approvals;
mod hooks;
mod write_path;

/// Echoes `text`; with `write` (a path), asks the host to write `text`
/// there (moved to `move_to` if given: an update with a move); with
/// `delete`, then asks it to delete that path; with `sleep_ms`, sleeps that
/// long first; with `fail`, returns that tool error.
struct Double {
    tools: Vec<ToolSpec>,
}

impl Double {
    fn new() -> Double {
        Double::with_tool("echo")
    }

    fn with_tool(name: &str) -> Double {
        Double {
            tools: vec![ToolSpec {
                display: crate::plugin::Display::default(),
                name: name.to_owned(),
                description: "echo".to_owned(),
                input_schema: serde_json::json!({
                    "type": "object",
                    "properties": {
                        "text": { "type": "string" },
                        "write": { "type": "string" },
                        "move_to": { "type": "string" },
                        "delete": { "type": "string" },
                        "sleep_ms": { "type": "integer" },
                        "fail": { "type": "string" }
                    },
                    "required": ["text"],
                    "additionalProperties": false
                }),
                freeform_grammar: None,
                requires: Vec::new(),
            }],
        }
    }
}

impl Plugin for Double {
    fn name(&self) -> &str {
        "double"
    }

    fn tools(&self) -> &[ToolSpec] {
        &self.tools
    }

    fn invoke(
        &self,
        _cx: &CallContext,
        _tool: &str,
        args: Args<'_>,
        _grant: &Grant,
    ) -> Result<ToolOutput, ToolError> {
        let args = args.value;
        if let Some(ms) = args["sleep_ms"].as_u64() {
            std::thread::sleep(Duration::from_millis(ms));
        }
        if let Some(message) = args["fail"].as_str() {
            return Err(ToolError::Failed(message.to_owned()));
        }
        let text = args["text"].as_str().unwrap_or_default().to_owned();
        let mut output = ToolOutput {
            content: vec![Content::Text(text.clone())],
            ..ToolOutput::default()
        };
        if let Some(path) = args["write"].as_str() {
            output.changes.push(match args["move_to"].as_str() {
                Some(to) => FileChange::Update {
                    path: path.to_owned(),
                    move_to: Some(to.to_owned()),
                    contents: text,
                },
                None => FileChange::Add {
                    path: path.to_owned(),
                    contents: text,
                },
            });
        }
        if let Some(path) = args["delete"].as_str() {
            output.changes.push(FileChange::Delete {
                path: path.to_owned(),
            });
        }
        Ok(output)
    }
}

const MANIFEST: &str = r#"
name = "double"
version = "1.0.0"
api = "0.1.0"
kind = "wasm"
artifact = "double.wasm"
[feature]
key = "double"
default_enabled = true
[capabilities]
fs.read = ["cwd"]
fs.write = ["cwd"]
"#;

struct Setup {
    dir: tempfile::TempDir,
    plugins: Plugins,
}

impl Setup {
    fn new() -> Setup {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("work/.git")).unwrap();
        std::fs::create_dir_all(dir.path().join("home")).unwrap();
        let (manifest, _) = Manifest::parse(&dir.path().join("plugin.toml"), MANIFEST).unwrap();
        let mut plugins = Plugins::default();
        plugins.add_plugin(manifest, Arc::new(Double::new()));
        Setup { dir, plugins }
    }

    fn cwd(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    fn session(&self, mode: SandboxMode, disable: &[&str]) -> Session {
        let mut registry =
            FeatureRegistry::from_toml(include_str!("../../../../cli/features.toml")).unwrap();
        registry
            .register(wharf_config::features::FeatureSpec {
                key: "double".to_owned(),
                stage: wharf_config::features::Stage::Experimental,
                default_enabled: true,
                description: String::new(),
            })
            .unwrap();
        let options = ConfigOptions {
            wharf_home: self.dir.path().join("home"),
            home_dir: Some(self.dir.path().to_path_buf()),
            cwd: self.cwd(),
            sandbox_mode: Some(mode),
            // The temp dir is below /tmp: keep /tmp out of the roots so that
            // "outside the workspace" means outside.
            overrides: vec!["sandbox_workspace_write.exclude_slash_tmp=true".to_owned()],
            disable: disable.iter().map(|k| (*k).to_owned()).collect(),
            ..ConfigOptions::default()
        };
        let config = Config::load(&options, &registry).unwrap();
        Session::new("s1", &config, None, None, Box::new(|_| None))
    }
}

/// What a row expects: the output text, or the deciding stage and a part
/// of its message.
type Expected = Result<&'static str, (Stage, &'static str)>;

#[track_caller]
fn assert_outcome(what: &str, outcome: &CallOutcome, expected: &Expected) {
    match (&outcome.result, expected) {
        (Ok(output), Ok(text)) => assert_eq!(output.text(), *text, "{what}"),
        (Err(err), Err((stage, message))) => {
            assert_eq!(err.stage(), *stage, "{what}: {err}");
            assert!(err.to_string().contains(message), "{what}: {err}");
        }
        (result, expected) => panic!("{what}: got {result:?}, expected {expected:?}"),
    }
}

/// (what, sandbox, disabled features, tool, args, expected, file written)
type Row = (
    &'static str,
    SandboxMode,
    &'static [&'static str],
    &'static str,
    &'static str,
    Expected,
    Option<&'static str>,
);

#[test]
fn decisions() {
    use SandboxMode::{ReadOnly, WorkspaceWrite};
    let rows: &[Row] = &[
        (
            "plain call",
            ReadOnly,
            &[],
            "echo",
            r#"{"text":"hi"}"#,
            Ok("hi"),
            None,
        ),
        (
            "unknown tool",
            ReadOnly,
            &[],
            "nope",
            "{}",
            Err((Stage::Resolve, "unknown tool `nope`")),
            None,
        ),
        (
            "feature off",
            ReadOnly,
            &["double"],
            "echo",
            r#"{"text":"hi"}"#,
            Err((Stage::Feature, "feature `double` is disabled")),
            None,
        ),
        (
            "arguments not JSON",
            ReadOnly,
            &[],
            "echo",
            "{text",
            Err((Stage::Arguments, "the arguments are not JSON")),
            None,
        ),
        (
            "missing required argument",
            ReadOnly,
            &[],
            "echo",
            "{}",
            Err((Stage::Arguments, "\"text\" is a required property")),
            None,
        ),
        (
            "wrong argument type",
            ReadOnly,
            &[],
            "echo",
            r#"{"text":3}"#,
            Err((Stage::Arguments, "/text: 3 is not of type \"string\"")),
            None,
        ),
        (
            "tool error",
            ReadOnly,
            &[],
            "echo",
            r#"{"text":"x","fail":"boom"}"#,
            Err((Stage::Invoke, "boom")),
            None,
        ),
        (
            "write in read-only mode",
            ReadOnly,
            &[],
            "echo",
            r#"{"text":"x","write":"a.txt"}"#,
            Err((
                Stage::Apply,
                "denied: writes are not allowed in read-only mode",
            )),
            None,
        ),
        (
            "write in the workspace",
            WorkspaceWrite,
            &[],
            "echo",
            r#"{"text":"x","write":"a.txt"}"#,
            Ok("x"),
            Some("a.txt"),
        ),
        (
            "write outside the workspace",
            WorkspaceWrite,
            &[],
            "echo",
            r#"{"text":"x","write":"../b.txt"}"#,
            Err((Stage::Apply, "is outside the writable roots")),
            None,
        ),
        (
            "write into .git",
            WorkspaceWrite,
            &[],
            "echo",
            r#"{"text":"x","write":".git/config"}"#,
            Err((Stage::Apply, "is inside the protected path")),
            None,
        ),
    ];
    for (what, mode, disabled, tool, args, expected, written) in rows {
        let setup = Setup::new();
        let session = setup.session(*mode, disabled);
        let call = ToolCall {
            call_id: "c1".into(),
            tool: (*tool).to_owned(),
            args: (*args).to_owned(),
        };
        let outcome = super::call(&setup.plugins, &session, &call);
        assert_outcome(what, &outcome, expected);
        let files: Vec<String> = std::fs::read_dir(setup.cwd())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name != ".git")
            .collect();
        match written {
            Some(name) => assert_eq!(files, [*name], "{what}"),
            None => assert!(files.is_empty(), "{what}: {files:?}"),
        }
        assert!(
            !Path::new(&setup.dir.path().join("b.txt")).exists(),
            "{what}"
        );
    }
}

#[test]
fn output_is_capped() {
    let mut output = ToolOutput {
        content: vec![Content::Text("a".repeat(10)), Content::Text("é".repeat(10))],
        ..ToolOutput::default()
    };
    cap_output(&mut output, 15);
    assert_eq!(
        output.content,
        [
            Content::Text("a".repeat(10)),
            Content::Text("éé".to_owned()),
            Content::Text("[output truncated: 30 bytes exceed the limit of 15 bytes]".to_owned()),
        ]
    );
}

#[test]
fn a_replaced_plugin_is_offered_only_while_its_replacement_is_on_and_loaded() {
    let setup = Setup::new();
    let manifest = |text: &str| {
        Manifest::parse(&setup.dir.path().join("plugin.toml"), text)
            .unwrap()
            .0
    };
    let replaced = MANIFEST.replace(
        "default_enabled = true",
        "default_enabled = true\nreplaced_by = \"unified_exec\"",
    );
    let successor = MANIFEST
        .replace("name = \"double\"", "name = \"successor\"")
        .replace("key = \"double\"", "key = \"unified_exec\"");
    let echo = ToolCall {
        call_id: "c".into(),
        tool: "echo".to_owned(),
        args: r#"{"text":"hi"}"#.to_owned(),
    };

    let mut plugins = Plugins::default();
    plugins.add_plugin(manifest(&replaced), Arc::new(Double::new()));
    // Without the replacing plugin loaded, its feature alone hides nothing
    // (a custom build without unified_exec keeps the shell tool).
    let alone = call(&plugins, &setup.session(SandboxMode::ReadOnly, &[]), &echo);
    assert_eq!(alone.result.unwrap().text(), "hi");

    plugins.add_plugin(manifest(&successor), Arc::new(Double::with_tool("echo2")));
    let replaced = call(&plugins, &setup.session(SandboxMode::ReadOnly, &[]), &echo);
    let err = replaced.result.unwrap_err();
    assert_eq!(err.stage(), Stage::Feature);
    assert_eq!(
        err.to_string(),
        "tool `echo` is not available: feature `unified_exec` is on and replaces `double` \
         (turn it off with `--disable unified_exec`)"
    );
    let session = setup.session(SandboxMode::ReadOnly, &["unified_exec"]);
    assert_eq!(call(&plugins, &session, &echo).result.unwrap().text(), "hi");
}

/// The stages that depend on the session's model and approval policy, as
/// rows: (what, approval policy, model reads images, tool, expected).
#[test]
fn model_and_approval_decisions() {
    use wharf_config::ApprovalPolicy::{self, Never, OnFailure, OnRequest, Untrusted};
    type PolicyRow = (
        &'static str,
        Option<ApprovalPolicy>,
        Option<bool>,
        &'static str,
        Expected,
    );
    let rows: &[PolicyRow] = &[
        ("no model, no policy", None, None, "look", Ok("hi")),
        (
            "text-only model, image tool",
            Some(Never),
            Some(false),
            "look",
            Err((
                Stage::ModelCapabilities,
                "tool `look` needs `image_input`, which model `m` does not support",
            )),
        ),
        (
            "image model, image tool",
            Some(Never),
            Some(true),
            "look",
            Ok("hi"),
        ),
        ("never asks", Some(Never), Some(false), "echo", Ok("hi")),
        (
            "on-request asks nothing up front",
            Some(OnRequest),
            Some(false),
            "echo",
            Ok("hi"),
        ),
        (
            "on-failure asks nothing up front",
            Some(OnFailure),
            Some(false),
            "echo",
            Ok("hi"),
        ),
        (
            "untrusted: a plugin that writes files needs approval",
            Some(Untrusted),
            Some(false),
            "echo",
            Err((
                Stage::Approval,
                "denied: `echo` needs approval under approval_policy `untrusted` (it edits files), and nobody can approve",
            )),
        ),
        (
            "untrusted: a read-only plugin needs none",
            Some(Untrusted),
            Some(true),
            "look",
            Ok("hi"),
        ),
    ];
    let setup = Setup::new();
    let mut plugins = Plugins::default();
    let manifest = |text: String| {
        Manifest::parse(&setup.dir.path().join("plugin.toml"), &text)
            .unwrap()
            .0
    };
    plugins.add_plugin(manifest(MANIFEST.to_owned()), Arc::new(Double::new()));
    let mut looker = Double::with_tool("look");
    looker.tools[0].requires = vec!["image_input".to_owned()];
    let looker_manifest = MANIFEST
        .replace("name = \"double\"", "name = \"looker\"")
        .replace("fs.write = [\"cwd\"]", "");
    plugins.add_plugin(manifest(looker_manifest), Arc::new(looker));
    for (what, policy, images, tool, expected) in rows {
        let mut session = setup.session(SandboxMode::ReadOnly, &[]);
        session.approval_policy = *policy;
        session.model = images.map(|image_input| ModelFit {
            slug: "m".to_owned(),
            image_input,
            truncation: Truncation::Bytes(10_000),
        });
        let call = ToolCall {
            call_id: "c1".into(),
            tool: (*tool).to_owned(),
            args: r#"{"text":"hi"}"#.to_owned(),
        };
        let outcome = super::call(&plugins, &session, &call);
        assert_outcome(what, &outcome, expected);
    }
}

#[test]
fn outputs_are_fitted_to_the_model() {
    let model = ModelFit {
        slug: "m".to_owned(),
        image_input: false,
        truncation: Truncation::Bytes(10),
    };
    let mut output = ToolOutput {
        content: vec![
            Content::Text("0123456789abcdef".to_owned()),
            Content::Image {
                mime_type: "image/png".to_owned(),
                data: vec![1],
            },
        ],
        ..ToolOutput::default()
    };
    sanitize_for_model(&mut output, &model);
    assert_eq!(
        output.content,
        [
            Content::Text("01234…6 chars truncated…bcdef".to_owned()),
            Content::Text(IMAGE_PLACEHOLDER.to_owned()),
        ]
    );
}
