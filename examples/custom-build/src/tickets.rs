//! `acme_ticket`: checks an ACME ticket id and gives it back in its one
//! canonical form (`ACME-1234`), with the tracker's link. Any casing,
//! spacing or separator the model or a commit message used is accepted;
//! anything else is an error output the model reads.

use serde::{Deserialize, Serialize};
use wharf_plugin_api::{Args, Context, Output, Tool, ToolError, ToolSpec};

/// The tracker's project keys.
const PROJECTS: &[&str] = &["ACME", "OPS", "SEC"];

/// Where a ticket's page is.
const TRACKER: &str = "https://tracker.acme.example/browse";

pub struct AcmeTicket;

#[derive(Deserialize)]
struct Input {
    id: String,
}

#[derive(Debug, PartialEq, Eq, Serialize)]
struct Ticket {
    id: String,
    url: String,
}

/// `id` normalized (`acme 42`, `Acme_42`, ` ACME-0042 ` → `ACME-42`), or
/// why it is not a ticket id.
fn normalize(id: &str) -> Result<Ticket, String> {
    let id = id.trim();
    let split = id
        .find(|c: char| c.is_ascii_digit())
        .ok_or_else(|| format!("`{id}` has no ticket number (expected e.g. ACME-1234)"))?;
    let (project, number) = id.split_at(split);
    let project = project
        .trim_end_matches(['-', '_', ' ', '#'])
        .to_ascii_uppercase();
    if !PROJECTS.contains(&project.as_str()) {
        return Err(format!(
            "`{id}`: unknown project `{project}` (known: {})",
            PROJECTS.join(", ")
        ));
    }
    let number: u32 = number
        .parse()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("`{id}`: `{number}` is not a ticket number"))?;
    let id = format!("{project}-{number}");
    Ok(Ticket {
        url: format!("{TRACKER}/{id}"),
        id,
    })
}

impl Tool for AcmeTicket {
    const NAME: &'static str = "acme_ticket";

    fn spec() -> ToolSpec {
        ToolSpec::new(
            "Checks an ACME ticket id and returns its canonical form (PROJECT-NUMBER) \
             and its tracker link. Use it before writing a ticket id in a commit \
             message, a branch name or a comment.",
        )
        .input_schema(serde_json::json!({
            "type": "object",
            "properties": {
                "id": { "type": "string", "description": "The ticket id as written, e.g. `acme 42`." }
            },
            "required": ["id"],
            "additionalProperties": false
        }))
    }

    fn call(_cx: &Context, args: Args) -> Result<Output, ToolError> {
        let input: Input = args.parse()?;
        Ok(match normalize(&input.id) {
            Ok(ticket) => Output::text(format!("{} {}", ticket.id, ticket.url)).with_json(&ticket),
            Err(message) => Output::error(message),
        })
    }
}

pub mod plugin {
    wharf_plugin_api::native_plugin!(builtin: super::AcmeTicket);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_normalize_or_say_why_not() {
        // (as written, the canonical id or the error)
        let cases = [
            ("ACME-1234", Ok("ACME-1234")),
            ("acme 42", Ok("ACME-42")),
            (" Ops_0007 ", Ok("OPS-7")),
            ("sec#9", Ok("SEC-9")),
            (
                "ACME-",
                Err("`ACME-` has no ticket number (expected e.g. ACME-1234)"),
            ),
            (
                "JIRA-1",
                Err("`JIRA-1`: unknown project `JIRA` (known: ACME, OPS, SEC)"),
            ),
            ("ACME-0", Err("`ACME-0`: `0` is not a ticket number")),
            ("ACME-12b", Err("`ACME-12b`: `12b` is not a ticket number")),
        ];
        for (written, expected) in cases {
            let got = normalize(written);
            let got = got.as_ref().map(|t| t.id.as_str()).map_err(String::as_str);
            assert_eq!(got, expected, "{written}");
        }
        assert_eq!(
            normalize("acme 42").unwrap().url,
            "https://tracker.acme.example/browse/ACME-42"
        );
    }
}
