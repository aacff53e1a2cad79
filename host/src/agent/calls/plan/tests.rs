use wharf_runtime::pipeline::{CallOutcome, Timings};
use wharf_runtime::plugin::{Content, ToolOutput};

use super::take_reports;
use crate::agent::events::{Event, PlanStatus, PlanStep};

fn outcome(content: Vec<Content>) -> CallOutcome {
    CallOutcome {
        call_id: "call_1".into(),
        tool: "any".to_owned(),
        plugin: None,
        result: Ok(ToolOutput {
            content,
            ..ToolOutput::default()
        }),
        applied: Vec::new(),
        timings: Timings::default(),
        decisions: Default::default(),
        grant: None,
    }
}

fn json(text: &str) -> Content {
    Content::Json(text.to_owned())
}

/// (the output's blocks, the events taken, the blocks left)
#[test]
fn plan_reports_become_events_and_leave_the_output() {
    let step = |step: &str, status| PlanStep {
        step: step.to_owned(),
        status,
    };
    let plan_json = r#"{"type":"plan","explanation":"why","plan":[{"step":"a","status":"completed"},{"step":"b","status":"in_progress"}]}"#;
    let plan_event = Event::PlanUpdated {
        explanation: Some("why".to_owned()),
        plan: vec![
            step("a", PlanStatus::Completed),
            step("b", PlanStatus::InProgress),
        ],
    };
    let not_plans = [
        // Another type, no type, a wrong status, an extra field, a step
        // that is not a step, not JSON, a plan that is not a list.
        r#"{"type":"todo","plan":[]}"#,
        r#"{"plan":[]}"#,
        r#"{"type":"plan","plan":[{"step":"a","status":"done"}]}"#,
        r#"{"type":"plan","plan":[],"more":1}"#,
        r#"{"type":"plan","plan":["a"]}"#,
        r#"{"type":"plan","plan":[{"step":"a","status":"pen"#,
        r#"{"type":"plan","plan":{}}"#,
    ];
    let cases: Vec<(Vec<Content>, Vec<Event>, Vec<Content>)> = vec![
        (
            vec![Content::Text("Plan updated".to_owned()), json(plan_json)],
            vec![plan_event.clone()],
            vec![Content::Text("Plan updated".to_owned())],
        ),
        (
            vec![json(r#"{"type":"plan","plan":[]}"#), json(plan_json)],
            vec![
                Event::PlanUpdated {
                    explanation: None,
                    plan: Vec::new(),
                },
                plan_event,
            ],
            Vec::new(),
        ),
        // Text of the plan's shape is text.
        (
            vec![Content::Text(plan_json.to_owned())],
            Vec::new(),
            vec![Content::Text(plan_json.to_owned())],
        ),
        (
            not_plans.iter().map(|text| json(text)).collect(),
            Vec::new(),
            not_plans.iter().map(|text| json(text)).collect(),
        ),
    ];
    for (content, events, left) in cases {
        let mut outcome = outcome(content.clone());
        assert_eq!(take_reports(&mut outcome), events, "{content:?}");
        assert_eq!(outcome.result.unwrap().content, left, "{content:?}");
    }
}
