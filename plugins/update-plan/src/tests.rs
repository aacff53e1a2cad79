use wharf_plugin_api::{Args, Context, Tool, ToolError};

use super::UpdatePlan;

fn call(args: &str) -> Result<String, ToolError> {
    UpdatePlan::call(&Context::new("/work"), Args::new(args)).map(|output| output.as_text())
}

#[test]
fn a_plan_comes_back_as_text_and_a_report() {
    let cases = [
        (
            r#"{"plan":[{"step":"read","status":"completed"},{"step":"fix","status":"in_progress"}]}"#,
            "Plan updated\n{\"type\":\"plan\",\"plan\":[{\"step\":\"read\",\"status\":\"completed\"},{\"step\":\"fix\",\"status\":\"in_progress\"}]}",
        ),
        (
            r#"{"explanation":"why","plan":[]}"#,
            "Plan updated\n{\"type\":\"plan\",\"explanation\":\"why\",\"plan\":[]}",
        ),
    ];
    for (args, expected) in cases {
        assert_eq!(call(args).unwrap(), expected, "{args}");
    }
}

#[test]
fn a_bad_plan_is_an_error_the_model_reads() {
    let cases = [
        (
            r#"{"plan":[{"step":"a","status":"in_progress"},{"step":"b","status":"pending"},{"step":"c","status":"in_progress"}]}"#,
            "at most one step can be in_progress, and steps 1, 3 are",
        ),
        (
            r#"{"plan":[{"step":"  ","status":"pending"}]}"#,
            "step 1 has no text",
        ),
        (
            r#"{"plan":[{"step":"a","status":"done"}]}"#,
            "unknown variant",
        ),
        (r#"{"plan":[],"extra":1}"#, "unknown field"),
        (r#"{"explanation":"no plan"}"#, "missing field `plan`"),
    ];
    for (args, expected) in cases {
        match call(args) {
            Err(ToolError::InvalidArgs(message)) => {
                assert!(message.contains(expected), "{args}: {message}");
            }
            other => panic!("{args}: {other:?}"),
        }
    }
}
