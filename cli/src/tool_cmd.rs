//! `wharf tool list|call`: the tools, and one call through the policy
//! pipeline with no model involved (for plugin authors and scripts).

use std::io::IsTerminal as _;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Subcommand;
use serde::Serialize;
use serde_json::json;
use wharf_config::ApprovalPolicy;
use wharf_runtime::pipeline::{CallError, CallOutcome, ToolCall};
use wharf_runtime::plugin::manifest::PluginName;
use wharf_runtime::plugin::{Content, ToolError};
use wharf_runtime::registry::Skipped;

use crate::plugin_dev::DevPlugin;
use crate::printer::Printer;
use crate::terminal::{TerminalApprover, safe};
use crate::{GlobalArgs, UsageError};

#[derive(Debug, Subcommand)]
pub enum ToolCommand {
    /// Every tool of every loaded plugin, and whether its feature is on.
    List {
        /// Print JSON (with input schemas) instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Run one tool through the full policy pipeline and print its output.
    ///
    /// Exits 0 on success, 1 when the tool (or a policy) returned an error,
    /// 2 when the command line is wrong (unknown tool, arguments that are not
    /// JSON or do not match the tool's schema).
    Call {
        /// The tool's name, as `wharf tool list` shows it.
        name: String,
        /// The arguments, a JSON object.
        #[arg(long, value_name = "JSON", default_value = "{}")]
        args: String,
        /// Print the whole outcome as JSON.
        #[arg(long)]
        json: bool,
        /// Call a tool of the plugin under development in this directory
        /// (built if needed, checked, not installed): `wharf plugin dev`.
        #[arg(long, value_name = "DIR")]
        plugin: Option<std::path::PathBuf>,
    },
}

pub fn run(command: ToolCommand, global: &GlobalArgs) -> anyhow::Result<ExitCode> {
    match command {
        ToolCommand::List { json } => list(global, json),
        ToolCommand::Call {
            name,
            args,
            json,
            plugin,
        } => {
            let dev = match plugin {
                Some(dir) => Some(crate::plugin_dev::prepare(global, &dir)?),
                None => None,
            };
            call(global, &name, args, json, dev)
        }
    }
}

#[derive(Serialize)]
struct ToolRow<'a> {
    name: &'a str,
    plugin: &'a str,
    feature: &'a str,
    enabled: bool,
    description: &'a str,
    input_schema: &'a serde_json::Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    freeform_grammar: Option<&'a str>,
    requires: &'a [String],
    /// Why its plugin was not loaded (then `description` says it too).
    #[serde(skip_serializing_if = "Option::is_none")]
    skipped: Option<&'a str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    blocked: bool,
}

/// The schema of a tool not loaded: not known.
static NO_SCHEMA: serde_json::Value = serde_json::Value::Null;

/// A tool of a plugin that was skipped (blocked): its name, as far as it is known
/// without loading the plugin, and the plugin's reason.
fn skipped_row<'a>(skipped: &'a Skipped, tool: &'a str) -> ToolRow<'a> {
    ToolRow {
        name: tool,
        plugin: &skipped.name,
        feature: "",
        enabled: false,
        description: &skipped.reason,
        input_schema: &NO_SCHEMA,
        freeform_grammar: None,
        requires: &[],
        skipped: Some(&skipped.reason),
        blocked: skipped.blocked,
    }
}

fn list(global: &GlobalArgs, json: bool) -> anyhow::Result<ExitCode> {
    let host = crate::session::start(
        crate::session::session(global.configure()?).id(crate::session::tool_session_id()),
    )?;
    let mut rows = Vec::new();
    for entry in &host.plugins().entries {
        let enabled = host
            .plugins()
            .offered(entry, &host.config().features)
            .is_ok();
        for spec in entry.plugin.tools() {
            rows.push(ToolRow {
                name: &spec.name,
                plugin: entry.manifest.name.as_str(),
                feature: entry.feature_key(),
                enabled,
                description: &spec.description,
                input_schema: &spec.input_schema,
                freeform_grammar: spec.freeform_grammar.as_deref(),
                requires: &spec.requires,
                skipped: None,
                blocked: false,
            });
        }
    }
    // The tools of a plugin the requirements block are listed, off, with
    // the reason.
    for skipped in host.plugins().skipped.iter().filter(|s| s.blocked) {
        rows.extend(skipped.tools.iter().map(|tool| skipped_row(skipped, tool)));
    }
    rows.sort_by_key(|row| row.name);
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(ExitCode::SUCCESS);
    }
    let width = rows
        .iter()
        .map(|row| row.name.len())
        .max()
        .unwrap_or(0)
        .max(4);
    let plugin_width = rows
        .iter()
        .map(|row| row.plugin.len())
        .max()
        .unwrap_or(0)
        .max(6);
    println!(
        "{:width$}  {:plugin_width$}  STATE  DESCRIPTION",
        "TOOL", "PLUGIN"
    );
    for row in &rows {
        let state = if row.enabled { "on" } else { "off" };
        let summary = safe(row.description.lines().next().unwrap_or_default());
        // Names are checked when tools are loaded; shown safe all the same.
        println!(
            "{:width$}  {:plugin_width$}  {state:5}  {summary}",
            safe(row.name),
            safe(row.plugin)
        );
    }
    if let Some(report) = crate::session::compile_report(&host) {
        println!("{report}");
    }
    Ok(ExitCode::SUCCESS)
}

/// Calls `name`; with `dev`, in a session that also offers that plugin
/// under development, whose log lines are printed on stderr.
pub(crate) fn call(
    global: &GlobalArgs,
    name: &str,
    args: String,
    json: bool,
    dev: Option<DevPlugin>,
) -> anyhow::Result<ExitCode> {
    let (configured, dev) = match dev {
        Some(dev) => (dev.configured, Some(dev.started)),
        None => (global.configure()?, None),
    };
    let show_logs = dev.is_some();
    let cwd = configured.config.cwd.clone();
    let mut session = crate::session::session(configured)
        .id(crate::session::tool_session_id())
        // Progress is shown as it comes, on stderr (the people's channel,
        // also with `--json`, whose outcome keeps it in its logs).
        .events(Printer::new(false, cwd));
    if let Some(started) = dev {
        session = session.plugins_from(move |_| Ok(vec![started]));
    }
    // A call typed by the user runs without asking (its own `never`),
    // unless `-a` says otherwise or the requirements do not allow `never`:
    // then it asks on a terminal and is denied without one.
    let config = &session.configured().config;
    let policy = if global.approval.is_some() {
        config.approval_policy
    } else {
        let (policy, warning) = config
            .requirements
            .allowed_approval_policy(ApprovalPolicy::Never, "this command's default");
        if let Some(warning) = warning {
            eprintln!("warning: {}", safe(&warning));
        }
        (policy != ApprovalPolicy::Never).then_some(policy)
    };
    if policy.is_some() {
        session = session.approval_policy(policy);
        if std::io::stdin().is_terminal() {
            session = session.approver(Arc::new(TerminalApprover));
        }
    }
    let host = crate::session::start(session)?;
    if host.plugins().tool(name).is_none()
        && let Some(skipped) = host
            .plugins()
            .skipped
            .iter()
            .filter(|skipped| skipped.blocked)
            .find(|skipped| skipped.tools.iter().any(|tool| tool == name))
    {
        anyhow::bail!(
            "tool `{name}` is not available: plugin `{}` was not loaded: {}",
            safe(&skipped.name),
            safe(&skipped.reason)
        );
    }
    if host.plugins().tool(name).is_none() {
        let mut known: Vec<&str> = host
            .plugins()
            .entries
            .iter()
            .flat_map(|entry| entry.plugin.tools().iter().map(|spec| spec.name.as_str()))
            .collect();
        known.sort_unstable();
        return Err(UsageError(format!(
            "unknown tool `{name}`; known: {}",
            known.join(", ")
        ))
        .into());
    }
    let call = ToolCall {
        call_id: "cli".into(),
        tool: name.to_owned(),
        args,
    };
    let outcome = host.call(&call);
    // The session is this one call: what it started (an exec_command
    // session still running) ends with it, not after wharf exits.
    host.end();
    // Arguments typed on the command line are a usage error, whether the
    // schema check or the tool itself rejects them.
    if let Err(CallError::InvalidArgs(message) | CallError::Tool(ToolError::InvalidArgs(message))) =
        &outcome.result
    {
        return Err(UsageError(format!("invalid arguments for `{name}`: {message}")).into());
    }
    if show_logs && let Ok(output) = &outcome.result {
        for line in &output.logs {
            eprintln!("log: {}", safe(line));
        }
    }
    let failed = match &outcome.result {
        Ok(output) => output.is_error,
        Err(_) => true,
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&outcome_json(&outcome))?);
    } else {
        print_outcome(&outcome);
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn print_outcome(outcome: &CallOutcome) {
    match &outcome.result {
        Ok(output) => {
            for content in &output.content {
                match content {
                    Content::Text(text) | Content::Json(text) => {
                        println!("{}", safe(text.strip_suffix('\n').unwrap_or(text)));
                    }
                    Content::Image { mime_type, data } => {
                        println!("[image: {}, {} bytes]", safe(mime_type), data.len());
                    }
                }
            }
        }
        Err(err) => eprintln!("error: {}", safe(&err.to_string())),
    }
}

fn outcome_json(outcome: &CallOutcome) -> serde_json::Value {
    let micros = |d: std::time::Duration| u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
    let timings = json!({
        "checks_us": micros(outcome.timings.checks),
        "invoke_us": micros(outcome.timings.invoke),
        "apply_us": micros(outcome.timings.apply),
        "total_us": micros(outcome.timings.total),
    });
    let applied: Vec<String> = outcome.applied.iter().map(ToString::to_string).collect();
    let mut value = json!({
        "call_id": outcome.call_id,
        "tool": outcome.tool,
        "plugin": outcome.plugin.as_ref().map(PluginName::as_str),
        "applied": applied,
        "timings": timings,
    });
    if !outcome.decisions.hooks().is_empty() {
        value["hooks"] = json!(outcome.decisions.hooks());
    }
    match &outcome.result {
        Ok(output) => {
            let content: Vec<serde_json::Value> = output
                .content
                .iter()
                .map(|content| match content {
                    Content::Text(text) => json!({ "type": "text", "text": text }),
                    Content::Json(text) => json!({
                        "type": "json",
                        "json": serde_json::from_str::<serde_json::Value>(text)
                            .unwrap_or_else(|_| serde_json::Value::String(text.clone())),
                    }),
                    Content::Image { mime_type, data } => {
                        json!({ "type": "image", "mime_type": mime_type, "bytes": data.len() })
                    }
                })
                .collect();
            value["ok"] = json!(!output.is_error);
            value["is_error"] = json!(output.is_error);
            value["content"] = json!(content);
            value["logs"] = json!(output.logs);
        }
        Err(err) => {
            value["ok"] = json!(false);
            value["error"] = json!({ "stage": format!("{:?}", err.stage()).to_lowercase(), "message": err.to_string() });
        }
    }
    value
}
