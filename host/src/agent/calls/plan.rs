//! Plan reports: a tool's JSON output block of one documented shape,
//!
//! ```json
//! {"type": "plan", "explanation": "optional", "plan": [{"step": "…", "status": "pending"}]}
//! ```
//!
//! with `status` one of `pending`, `in_progress`, `completed`. Any plugin
//! may return one; the host turns it into [`Event::PlanUpdated`] and keeps
//! it out of what the model and people read of the output (the tool's
//! other blocks stay). A block of another shape, or not quite this one, is
//! ordinary JSON output. See `docs/plan-reports.md`.

use serde::Deserialize;
use wharf_runtime::pipeline::CallOutcome;
use wharf_runtime::plugin::Content;

use crate::agent::events::{Event, PlanStep};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Report {
    #[serde(rename = "type")]
    _kind: Kind,
    #[serde(default)]
    explanation: Option<String>,
    plan: Vec<PlanStep>,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Kind {
    Plan,
}

/// Takes the plan reports out of `outcome`'s output, in order, as the
/// events that show them.
pub(super) fn take_reports(outcome: &mut CallOutcome) -> Vec<Event> {
    let Ok(output) = &mut outcome.result else {
        return Vec::new();
    };
    let mut events = Vec::new();
    output.content.retain(|content| {
        let Content::Json(json) = content else {
            return true;
        };
        match report(json) {
            Some(event) => {
                events.push(event);
                false
            }
            None => true,
        }
    });
    events
}

/// The event of `json`, if it is a plan report.
fn report(json: &str) -> Option<Event> {
    let Report {
        explanation,
        plan,
        _kind: Kind::Plan,
    } = serde_json::from_str(json).ok()?;
    Some(Event::PlanUpdated { explanation, plan })
}

#[cfg(test)]
mod tests;
