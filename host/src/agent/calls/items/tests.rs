//! What a call shows comes from its tool's spec, output and plugin, never
//! from its name or its text: each row would have gone the other way when
//! the agent read `cmd` arguments, "Process exited with code N" lines and
//! `mcp__` prefixes.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use wharf_runtime::pipeline::{CallOutcome, Timings, ToolCall};
use wharf_runtime::plugin::grant::Grant;
use wharf_runtime::plugin::manifest::{Manifest, PluginKind};
use wharf_runtime::plugin::{
    Args, CallContext, CommandRun, Content, Display, Plugin, ToolError, ToolOutput, ToolSpec,
};
use wharf_runtime::registry::Plugins;

use super::*;

fn spec(name: &str, display: Display, grammar: Option<&str>) -> ToolSpec {
    ToolSpec {
        name: name.to_owned(),
        description: String::new(),
        input_schema: json!({"type": "object"}),
        freeform_grammar: grammar.map(str::to_owned),
        requires: Vec::new(),
        display,
    }
}

fn shows(pointer: &str) -> Display {
    Display {
        command: Some(pointer.to_owned()),
        ..Display::default()
    }
}

#[test]
fn the_command_shown_is_the_argument_the_spec_points_at() {
    // (display hint, arguments) → what people see
    let cases = [
        (shows("/cmd"), json!({"cmd": "ls -l"}), "ls -l"),
        (
            shows("/command"),
            json!({"command": ["bash", "-lc", "make"]}),
            "bash -lc make",
        ),
        (
            shows("/job/argv"),
            json!({"job": {"argv": ["a", 1]}}),
            "a 1",
        ),
        // No hint: the host reads no argument by its name.
        (
            Display::default(),
            json!({"cmd": "ls"}),
            r#"run {"cmd":"ls"}"#,
        ),
        // A hint that points at nothing, or at something else than a
        // command line.
        (shows("/cmd"), json!({"line": "ls"}), r#"run {"line":"ls"}"#),
        (shows("/cmd"), json!({"cmd": 3}), r#"run {"cmd":3}"#),
    ];
    for (display, arguments, shown) in cases {
        let spec = spec("run", display, None);
        assert_eq!(command_text(&spec, &arguments), shown, "{arguments}");
    }
}

fn outcome(output: ToolOutput) -> CallOutcome {
    CallOutcome {
        call_id: "c".into(),
        tool: "run".to_owned(),
        plugin: None,
        result: Ok(output),
        applied: Vec::new(),
        timings: Timings::default(),
        decisions: Default::default(),
        grant: None,
    }
}

fn ran(exit_code: Option<i32>) -> Option<CommandRun> {
    Some(CommandRun {
        argv: vec!["true".to_owned()],
        exit_code,
        duration: Duration::ZERO,
    })
}

#[test]
fn success_is_the_exit_code_the_tool_reports_not_its_text() {
    let text = |text: &str| vec![Content::Text(text.to_owned())];
    // (text, command block, is_error) → (exit code, status)
    let cases = [
        (
            "Process exited with code 3",
            None,
            false,
            None,
            Status::Completed,
        ),
        (
            "Process exited with code 0",
            ran(Some(3)),
            false,
            Some(3),
            Status::Failed,
        ),
        ("", ran(Some(0)), false, Some(0), Status::Completed),
        // Still running: no exit code yet.
        ("", ran(None), false, None, Status::Completed),
        ("", ran(Some(0)), true, Some(0), Status::Failed),
        ("", None, true, None, Status::Failed),
    ];
    for (body, command, is_error, code, expected) in cases {
        let outcome = outcome(ToolOutput {
            content: text(body),
            is_error,
            command,
            ..ToolOutput::default()
        });
        assert_eq!(exit_code(&outcome), code, "{body:?}");
        assert_eq!(status(&outcome), expected, "{body:?}");
    }
}

#[test]
fn freeform_text_goes_into_the_argument_the_spec_names() {
    let named = Display {
        freeform_argument: Some("patch".to_owned()),
        ..Display::default()
    };
    let cases = [
        (
            Some(spec("edit", named, Some("start: /.+/"))),
            r#"{"patch":"x"}"#,
        ),
        // The plugin API's default, all WIT 0.1.0 can say.
        (
            Some(spec("edit", Display::default(), Some("start: /.+/"))),
            r#"{"input":"x"}"#,
        ),
        // No grammar, or no such tool: the text as it came, for the
        // pipeline to refuse.
        (Some(spec("edit", Display::default(), None)), r#""x""#),
        (None, r#""x""#),
    ];
    for (spec, args) in cases {
        assert_eq!(
            freeform_arguments(spec.as_ref(), "x").to_string(),
            args,
            "{spec:?}"
        );
    }
}

/// A plugin of any kind with one tool, never called.
struct Offering {
    name: &'static str,
    tools: Vec<ToolSpec>,
}

impl Plugin for Offering {
    fn name(&self) -> &str {
        self.name
    }

    fn tools(&self) -> &[ToolSpec] {
        &self.tools
    }

    fn invoke(
        &self,
        _: &CallContext,
        _: &str,
        _: Args<'_>,
        _: &Grant,
    ) -> Result<ToolOutput, ToolError> {
        Err(ToolError::Failed("not called".to_owned()))
    }
}

#[test]
fn an_mcp_call_is_known_by_its_plugin_not_by_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = |name: &str, kind: PluginKind| {
        let text = format!(
            "name = \"{name}\"\nversion = \"1\"\napi = \"0.1.0\"\nkind = \"wasm\"\n\
             artifact = \"a.wasm\"\n"
        );
        let mut manifest = Manifest::parse(&dir.path().join("plugin.toml"), &text)
            .unwrap()
            .0;
        manifest.kind = kind;
        manifest
    };
    let labelled = Display {
        label: Some("look up".to_owned()),
        ..Display::default()
    };
    let mut plugins = Plugins::default();
    plugins.add_plugin(
        manifest("mcp-docs", PluginKind::Mcp),
        Arc::new(Offering {
            name: "docs",
            tools: vec![spec("docs_lookup", labelled, None)],
        }),
    );
    plugins.add_plugin(
        manifest("spoof", PluginKind::Wasm),
        Arc::new(Offering {
            name: "spoof",
            tools: vec![spec("mcp__other__echo", Display::default(), None)],
        }),
    );
    let call = |tool: &str| ToolCall {
        call_id: "c".into(),
        tool: tool.to_owned(),
        args: "{}".to_owned(),
    };
    let details = |tool: &str| started_details(&call(tool), plugins.tool(tool), Some(&json!({})));
    match details("docs_lookup") {
        ItemDetails::McpToolCall { server, tool, .. } => {
            assert_eq!((server.as_str(), tool.as_str()), ("docs", "look up"));
        }
        other => panic!("{other:?}"),
    }
    for tool in ["mcp__other__echo", "mcp__nobody__echo"] {
        assert!(
            matches!(details(tool), ItemDetails::ToolCall { .. }),
            "{tool}: {:?}",
            details(tool)
        );
    }
}
