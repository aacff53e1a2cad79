//! `wharf audit [--session ID] [--json]`: the audit log's records, oldest
//! first, across its rotated files (`wharf_host::audit`).

use std::fmt::Write as _;
use std::io::{BufRead as _, BufReader, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;
use serde_json::Value;
use wharf_host::audit;

use crate::GlobalArgs;
use crate::terminal::safe;

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Only the calls of this session (a thread id, or `tool-PID` for
    /// `wharf tool call`).
    #[arg(long, value_name = "ID")]
    session: Option<String>,
    /// Print the records as they are written: one JSON object per line.
    #[arg(long)]
    json: bool,
}

pub fn run(args: AuditArgs, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    let options = global.options()?;
    let dir = audit::dir(&options.wharf_home);
    let mut stdout = std::io::stdout().lock();
    for path in audit::files(&dir) {
        print_file(&path, &args, &mut stdout)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints the records of `path` that `args` select; a line that is not a
/// record is skipped with a warning naming it.
fn print_file(path: &Path, args: &AuditArgs, out: &mut impl Write) -> anyhow::Result<()> {
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    for (n, line) in BufReader::new(file).split(b'\n').enumerate() {
        let line = line.with_context(|| format!("cannot read {}", path.display()))?;
        if line.is_empty() {
            continue;
        }
        let record = match serde_json::from_slice::<Value>(&line) {
            Ok(record @ Value::Object(_)) => record,
            Ok(_) | Err(_) => {
                eprintln!(
                    "warning: {}:{}: not an audit record (skipped)",
                    path.display(),
                    n + 1
                );
                continue;
            }
        };
        if let Some(session) = &args.session
            && record["session"].as_str() != Some(session.as_str())
        {
            continue;
        }
        if args.json {
            out.write_all(&line)?;
            out.write_all(b"\n")?;
        } else {
            writeln!(out, "{}", human(&record))?;
        }
    }
    Ok(())
}

/// One line for people: time, session, tool, the decision that stopped
/// the call (or `allowed`), and the outcome; every field from the record
/// shown [`safe`].
fn human(record: &Value) -> String {
    let text = |value: &Value| safe(value.as_str().unwrap_or("?")).into_owned();
    let denied = record["decisions"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|decision| decision["verdict"] == "deny");
    let decision = match denied {
        Some(decision) => format!(
            "denied at {} by {}",
            text(&decision["stage"]),
            text(&decision["by"])
        ),
        None => "allowed".to_owned(),
    };
    let outcome = &record["outcome"];
    let mut result = text(&outcome["status"]);
    if let Some(code) = outcome["exit_code"].as_i64() {
        let _ = write!(result, " (exit {code})");
    }
    if let Some(error) = outcome["error"].as_str() {
        let first = error.lines().next().unwrap_or_default();
        let _ = write!(result, ": {}", safe(first));
    }
    format!(
        "{}  {}  {}  {decision}  {result}",
        text(&record["time"]),
        text(&record["session"]),
        text(&record["tool"]),
    )
}
