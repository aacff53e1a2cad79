//! One record of the audit log, as JSON: what a call was, what each stage
//! decided, and how it ended — with the secrets its tool's schema marks
//! replaced, and nothing of its output but the size.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};
use wharf_config::{Config, McpTransport};
use wharf_runtime::pipeline::{CallError, CallOutcome, Resolved, Session, ToolCall};
use wharf_runtime::plugin::Content;
use wharf_runtime::plugin::grant::Grant;
use wharf_runtime::plugin::manifest::PluginKind;
use wharf_runtime::registry::Origin;

/// What a secret argument's value becomes.
pub const REDACTED: &str = "[redacted]";

/// The MCP servers of a session by plugin name: the server's name and its
/// identity (`command` of a stdio server, `url` of an HTTP one), which is
/// what an MCP plugin has instead of an artifact.
pub(super) struct McpServers(BTreeMap<String, Value>);

impl McpServers {
    pub(super) fn of(config: &Config) -> McpServers {
        let servers = config.mcp_servers.values().map(|server| {
            // The MCP adapter names a server's plugin so.
            let plugin = format!("mcp-{}", server.name.to_ascii_lowercase());
            let identity = match &server.transport {
                McpTransport::Stdio { command, .. } => json!({ "command": command }),
                McpTransport::Http { url, .. } => json!({ "url": url }),
            };
            let mut value = json!({ "server": server.name });
            if let (Some(value), Value::Object(identity)) = (value.as_object_mut(), identity) {
                value.extend(identity);
            }
            (plugin, value)
        });
        McpServers(servers.collect())
    }
}

/// The record of `outcome`, as one line of JSON without its newline.
pub(super) fn record(
    session: &Session,
    call: &ToolCall,
    resolved: Option<&Resolved<'_>>,
    outcome: &CallOutcome,
    mcp: &McpServers,
) -> Vec<u8> {
    let mut record = Map::new();
    record.insert("time".into(), now().into());
    record.insert("session".into(), session.session_id.as_str().into());
    record.insert("call_id".into(), outcome.call_id.as_str().into());
    record.insert("tool".into(), call.tool.as_str().into());
    if let Some(resolved) = resolved {
        let manifest = &resolved.entry.manifest;
        record.insert("plugin".into(), manifest.name.as_str().into());
        if manifest.kind == PluginKind::Mcp {
            if let Some(server) = mcp.0.get(manifest.name.as_str()) {
                record.insert("mcp".into(), server.clone());
            }
        } else {
            let origin = match resolved.entry.origin {
                Origin::Embedded => "builtin",
                Origin::Installed { .. } => "installed",
            };
            record.insert("origin".into(), origin.into());
            // A builtin native plugin is linked in: it has no artifact.
            if !resolved.entry.sha256.is_empty() {
                record.insert("sha256".into(), resolved.entry.sha256.as_str().into());
            }
        }
    }
    record.insert("arguments".into(), arguments(call, resolved));
    if let Some(policy) = session.approval_policy {
        record.insert("approval_policy".into(), policy.as_str().into());
    }
    record.insert(
        "sandbox".into(),
        session.sandbox.policy().mode().as_str().into(),
    );
    if let Some(grant) = &outcome.grant {
        record.insert("grant".into(), grant_json(grant));
    }
    let decisions: Vec<Value> = outcome
        .decisions
        .iter()
        .map(|decision| {
            json!({
                "stage": decision.stage.as_str(),
                "verdict": decision.verdict.as_str(),
                "by": decision.by.as_str(),
            })
        })
        .collect();
    record.insert("decisions".into(), decisions.into());
    let micros = |d: std::time::Duration| u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
    record.insert(
        "timings_us".into(),
        json!({
            "checks": micros(outcome.timings.checks),
            "invoke": micros(outcome.timings.invoke),
            "apply": micros(outcome.timings.apply),
            "total": micros(outcome.timings.total),
        }),
    );
    record.insert("outcome".into(), outcome_json(outcome));
    serde_json::to_vec(&Value::Object(record)).unwrap_or_default()
}

/// The call's arguments with secrets redacted; only their size when no
/// schema can say what is secret (an unknown tool) or they are not JSON.
fn arguments(call: &ToolCall, resolved: Option<&Resolved<'_>>) -> Value {
    match resolved.map(|resolved| (resolved, &resolved.args)) {
        Some((resolved, Ok(args))) => {
            let mut args = args.clone();
            redact(&resolved.spec.input_schema, &mut args);
            args
        }
        Some((_, Err(_))) | None => json!({ "unrecorded_bytes": call.args.len() }),
    }
}

/// Replaces with [`REDACTED`] every value of `value` that `schema` marks
/// secret: `"writeOnly": true` or `"format": "password"`, at any depth
/// through `properties`, `additionalProperties`, `items`, `prefixItems`,
/// `allOf`/`anyOf`/`oneOf` and local `$ref`s (`#/$defs/…`).
pub fn redact(schema: &Value, value: &mut Value) {
    redact_at(schema, schema, value, 0);
}

/// How deep schemas are followed: `$ref` cycles end here.
const MAX_DEPTH: usize = 32;

fn redact_at(root: &Value, schema: &Value, value: &mut Value, depth: usize) {
    if depth > MAX_DEPTH {
        return;
    }
    let schema = resolve(root, schema);
    if is_secret(schema) {
        *value = Value::String(REDACTED.to_owned());
        return;
    }
    for combinator in ["allOf", "anyOf", "oneOf"] {
        for sub in schema
            .get(combinator)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            redact_at(root, sub, value, depth + 1);
        }
    }
    match value {
        Value::Object(fields) => {
            let properties = schema.get("properties").and_then(Value::as_object);
            let additional = schema.get("additionalProperties").filter(|s| s.is_object());
            for (name, field) in fields.iter_mut() {
                if let Some(sub) = properties.and_then(|p| p.get(name)).or(additional) {
                    redact_at(root, sub, field, depth + 1);
                }
            }
        }
        Value::Array(items) => {
            let prefix = schema.get("prefixItems").and_then(Value::as_array);
            let rest = schema.get("items").filter(|s| s.is_object());
            for (n, item) in items.iter_mut().enumerate() {
                if let Some(sub) = prefix.and_then(|p| p.get(n)).or(rest) {
                    redact_at(root, sub, item, depth + 1);
                }
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => {}
    }
}

fn is_secret(schema: &Value) -> bool {
    schema.get("writeOnly") == Some(&Value::Bool(true))
        || schema.get("format").and_then(Value::as_str) == Some("password")
}

/// `schema`, or what its local `$ref` (`#/$defs/…`, `#/definitions/…`)
/// points to in `root`.
fn resolve<'s>(root: &'s Value, schema: &'s Value) -> &'s Value {
    let Some(pointer) = schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix('#'))
    else {
        return schema;
    };
    root.pointer(pointer).unwrap_or(schema)
}

/// What the call may touch: paths, variable names (never their values),
/// limits.
fn grant_json(grant: &Grant) -> Value {
    let paths = |paths: &[std::path::PathBuf]| -> Vec<String> {
        paths.iter().map(|p| p.display().to_string()).collect()
    };
    let env: Vec<&str> = grant.env.iter().map(|(name, _)| name.as_str()).collect();
    let network: Vec<String> = grant.network.iter().map(ToString::to_string).collect();
    json!({
        "read_roots": paths(&grant.read_roots),
        "write_roots": paths(&grant.write_roots),
        "env": env,
        "exec": grant.exec,
        "network": network,
        "timeout_ms": u64::try_from(grant.timeout.as_millis()).unwrap_or(u64::MAX),
        "memory_bytes": grant.memory_bytes,
        "output_bytes": grant.output_bytes,
    })
}

/// How the call ended: `ok`, `failed` (the tool said so, its command exited
/// with another code than 0, or a change could not be made), `denied` (a
/// stage refused it) or `cancelled`.
fn outcome_json(outcome: &CallOutcome) -> Value {
    let mut out = Map::new();
    let changes: Vec<Value> = outcome
        .applied
        .iter()
        .map(|change| {
            let kind = match change.kind {
                wharf_runtime::pipeline::ChangeKind::Added => "added",
                wharf_runtime::pipeline::ChangeKind::Modified => "modified",
                wharf_runtime::pipeline::ChangeKind::Deleted => "deleted",
            };
            json!({ "kind": kind, "path": change.path.display().to_string() })
        })
        .collect();
    match &outcome.result {
        Ok(output) => {
            let exited = output.command.as_ref().map(|ran| ran.exit_code);
            let status = if output.is_error || exited.is_some_and(|code| code != Some(0)) {
                "failed"
            } else {
                "ok"
            };
            out.insert("status".into(), status.into());
            let bytes: usize = output.content.iter().map(Content::len).sum();
            out.insert("output_bytes".into(), bytes.into());
            if let Some(ran) = &output.command {
                out.insert("exit_code".into(), ran.exit_code.into());
            }
        }
        Err(err) => {
            let status = match err {
                CallError::Tool(wharf_runtime::plugin::ToolError::Cancelled) => "cancelled",
                CallError::Tool(_) | CallError::Apply(_) => "failed",
                CallError::UnknownTool { .. }
                | CallError::NotOffered { .. }
                | CallError::Unsupported { .. }
                | CallError::InvalidArgs(_)
                | CallError::NotApproved(_)
                | CallError::Denied(_) => "denied",
            };
            out.insert("status".into(), status.into());
            out.insert("error".into(), err.to_string().into());
        }
    }
    if !changes.is_empty() {
        out.insert("changes".into(), changes.into());
    }
    Value::Object(out)
}

/// Now in RFC 3339, UTC, to the millisecond.
fn now() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let ((y, mo, d), (h, mi, s)) = crate::rollout::utc(now.as_secs());
    let ms = now.subsec_millis();
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}Z")
}
