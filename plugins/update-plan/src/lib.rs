//! `update_plan`: the model records its plan — steps and their statuses —
//! as codex's tool of that name does. The tool checks the plan and hands
//! it back to the host as a *plan report*, a JSON output block of this
//! shape (any plugin may return one; see `docs/plan-reports.md`):
//!
//! ```json
//! {"type": "plan", "explanation": "…", "plan": [{"step": "…", "status": "in_progress"}]}
//! ```
//!
//! The host shows the report as a `plan.updated` event and keeps it out of
//! what the model reads, which is the text `Plan updated`.

#![forbid(unsafe_code)]

use serde::{Deserialize, Serialize};
use wharf_plugin_api::{Args, Context, Output, Tool, ToolError, ToolSpec};

/// The tool.
pub struct UpdatePlan;

/// The arguments, which are also the report (with its `type`).
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<String>,
    pub plan: Vec<Step>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub step: String,
    pub status: Status,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pending,
    InProgress,
    Completed,
}

/// The report: the plan, tagged as one.
#[derive(Serialize)]
struct Report<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(flatten)]
    plan: &'a Plan,
}

/// What the model reads back.
pub const UPDATED: &str = "Plan updated";

impl Plan {
    /// Why the plan cannot be taken, if it cannot: a step with no text, or
    /// more than one step in progress.
    pub fn problem(&self) -> Option<String> {
        if let Some(index) = self
            .plan
            .iter()
            .position(|step| step.step.trim().is_empty())
        {
            return Some(format!(
                "step {} has no text; describe each step in a few words",
                index + 1
            ));
        }
        let in_progress: Vec<String> = self
            .plan
            .iter()
            .enumerate()
            .filter(|(_, step)| step.status == Status::InProgress)
            .map(|(index, _)| (index + 1).to_string())
            .collect();
        if in_progress.len() > 1 {
            return Some(format!(
                "at most one step can be in_progress, and steps {} are; mark the others \
                 pending or completed",
                in_progress.join(", ")
            ));
        }
        None
    }
}

impl Tool for UpdatePlan {
    const NAME: &'static str = "update_plan";

    fn spec() -> ToolSpec {
        ToolSpec::new(
            "Updates the task plan.\n\
             Send an optional explanation and the whole plan: a list of steps, each with a \
             status. At most one step can be in_progress at a time.",
        )
        .input_schema(serde_json::json!({
            "type": "object",
            "properties": {
                "explanation": { "type": "string" },
                "plan": {
                    "type": "array",
                    "description": "The list of steps",
                    "items": {
                        "type": "object",
                        "properties": {
                            "step": { "type": "string" },
                            "status": {
                                "type": "string",
                                "description": "One of: pending, in_progress, completed",
                                "enum": ["pending", "in_progress", "completed"]
                            }
                        },
                        "required": ["step", "status"],
                        "additionalProperties": false
                    }
                }
            },
            "required": ["plan"],
            "additionalProperties": false
        }))
    }

    fn call(_cx: &Context, args: Args) -> Result<Output, ToolError> {
        let plan: Plan = args.parse()?;
        if let Some(problem) = plan.problem() {
            return Err(ToolError::InvalidArgs(problem));
        }
        let report = Report {
            kind: "plan",
            plan: &plan,
        };
        Ok(Output::text(UPDATED).with_json(&report))
    }
}

wharf_plugin_api::plugin!(UpdatePlan);

#[cfg(test)]
mod tests;
