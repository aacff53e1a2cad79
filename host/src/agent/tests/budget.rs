//! The budget of a tool output: what the model reads of a long output is
//! its head and tail, the cut marked, whether the call succeeded or
//! failed.

use super::*;

/// `say{text, fail}`: answers `text`, or fails with it.
struct Say {
    tools: Vec<ToolSpec>,
}

impl Plugin for Say {
    fn name(&self) -> &str {
        "commands"
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
        let text = args.value["text"].as_str().unwrap().to_owned();
        if args.value["fail"].as_bool().unwrap() {
            return Err(ToolError::Failed(text));
        }
        Ok(ToolOutput {
            content: vec![Content::Text(text)],
            ..ToolOutput::default()
        })
    }
}

#[test]
fn a_long_output_or_error_is_cut_to_the_budget() {
    let setup = Setup::new();
    let dir = tempfile::tempdir().unwrap();
    let mut plugins = Plugins::default();
    plugins.add_plugin(
        manifest(dir.path(), "commands", ""),
        Arc::new(Say {
            tools: vec![spec(
                "say",
                serde_json::json!({"type": "object"}),
                None,
                &[],
            )],
        }),
    );
    let long = format!("HEAD{}TAIL", "x".repeat(10_000));
    for fail in [false, true] {
        let model = text_model();
        let mut session = setup.session(&model);
        let mut fit = model_fit(&model);
        fit.truncation = wharf_runtime::pipeline::Truncation::Tokens(10);
        session.model = Some(fit);
        let client = Scripted::new(vec![
            vec![
                call("c", "say", serde_json::json!({"text": long, "fail": fail})),
                done(),
            ],
            vec![message("ok"), done()],
        ]);
        let mut agent = Agent::new(&plugins, &session, &client, model);
        agent.run_turn("go", &mut Vec::new()).unwrap();
        let prompts = client.prompts.lock().unwrap();
        let (output, is_error) = tool_output(&prompts[1], "c");
        assert_eq!(is_error, fail);
        let [OutputContent::Text { text }] = &output[..] else {
            panic!("{output:?}");
        };
        assert!(text.starts_with("HEAD"), "{fail}: {text}");
        assert!(text.ends_with("TAIL"), "{fail}: {text}");
        assert!(text.contains("tokens truncated"), "{fail}: {text}");
        assert!(text.len() < 100, "{fail}: {text}");
    }
}
