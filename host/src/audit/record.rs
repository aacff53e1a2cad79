//! One record of the audit log, as JSON: what a call was, what each stage
//! decided, and how it ended — with the secrets its tool's schema marks
//! replaced, and nothing of its output but the size.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use serde::Serialize;
use serde::ser::{SerializeMap as _, Serializer};
use serde_json::{Value, json};
use wharf_config::{Config, McpTransport};
use wharf_runtime::pipeline::{
    AppliedChange, CallError, CallOutcome, ChangeKind, Decisions, Resolved, Session, Timings,
    ToolCall,
};
use wharf_runtime::plugin::grant::Grant;
use wharf_runtime::plugin::manifest::PluginKind;
use wharf_runtime::plugin::{Content, ToolError};
use wharf_runtime::registry::Origin;

use crate::clock::{self, Fraction};

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

/// The part of a record that is the same for every call of a tool in a
/// session (the session, the tool, its plugin, what the session runs
/// under and the plugin's grant), serialized once: a session computes a
/// plugin's grant once, so the same `Arc` comes back with every call.
#[derive(Default)]
pub(super) struct Contexts(Mutex<Vec<Context>>);

/// How many contexts are kept (a session uses a few tools under a few
/// policies: past this, they are made again).
const MAX_CONTEXTS: usize = 256;

/// One tool's [`Contexts`] entry: what it is for, and its JSON, the
/// members without the braces, after a comma.
struct Context {
    grant: Arc<Grant>,
    session: String,
    tool: String,
    plugin: Option<String>,
    origin: Option<&'static str>,
    sha256: Option<String>,
    approval_policy: Option<&'static str>,
    sandbox: &'static str,
    json: Vec<u8>,
}

impl Context {
    /// Whether this is the context of `record` with `grant`: every value
    /// is compared (a plugin replaced during the session has another
    /// sha256), the grant as the same `Arc`.
    fn is_of(&self, record: &ContextRecord<'_>, grant: &Arc<Grant>) -> bool {
        Arc::ptr_eq(&self.grant, grant)
            && self.tool == record.tool
            && self.session == record.session
            && self.plugin.as_deref() == record.plugin
            && self.origin == record.origin
            && self.sha256.as_deref() == record.sha256
            && self.approval_policy == record.approval_policy
            && self.sandbox == record.sandbox
    }
}

impl Contexts {
    /// Calls `write` with the context of `record` serialized, or `None`
    /// when it has no grant (it is then written with the rest).
    fn with<R>(
        &self,
        record: &ContextRecord<'_>,
        grant: Option<&Arc<Grant>>,
        write: impl FnOnce(Option<&[u8]>) -> R,
    ) -> R {
        let Some(grant) = grant else {
            return write(None);
        };
        let mut known = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let found = known
            .iter()
            .position(|context| context.is_of(record, grant));
        let at = match found {
            Some(at) => at,
            None => {
                let mut json = Vec::with_capacity(512);
                let record = ContextRecord {
                    grant: Some(GrantRecord(grant)),
                    ..*record
                };
                if serde_json::to_writer(&mut json, &record).is_err() || json.len() < 2 {
                    return write(None);
                }
                // `{members}` becomes `,members`.
                json[0] = b',';
                json.pop();
                if known.len() >= MAX_CONTEXTS {
                    known.clear();
                }
                known.push(Context {
                    grant: Arc::clone(grant),
                    session: record.session.to_owned(),
                    tool: record.tool.to_owned(),
                    plugin: record.plugin.map(str::to_owned),
                    origin: record.origin,
                    sha256: record.sha256.map(str::to_owned),
                    approval_policy: record.approval_policy,
                    sandbox: record.sandbox,
                    json,
                });
                known.len() - 1
            }
        };
        write(Some(&known[at].json))
    }
}

/// Writes the record of `outcome` in `line`, as one line of JSON without
/// its newline (nothing if it cannot be serialized). Serialized from
/// borrowed parts: the only copy is of arguments a secret must be
/// redacted from.
pub(super) fn write(
    line: &mut Vec<u8>,
    session: &Session,
    call: &ToolCall,
    resolved: Option<&Resolved<'_>>,
    outcome: &CallOutcome,
    (mcp, contexts): (&McpServers, &Contexts),
) {
    let mut context = ContextRecord {
        session: session.session_id.as_str(),
        tool: &call.tool,
        plugin: None,
        origin: None,
        sha256: None,
        mcp: None,
        approval_policy: session.approval_policy.map(|policy| policy.as_str()),
        sandbox: session.sandbox.policy().mode().as_str(),
        grant: None,
    };
    if let Some(resolved) = resolved {
        let manifest = &resolved.entry.manifest;
        context.plugin = Some(manifest.name.as_str());
        if manifest.kind == PluginKind::Mcp {
            context.mcp = mcp.0.get(manifest.name.as_str());
        } else {
            context.origin = Some(match resolved.entry.origin {
                Origin::Embedded => "builtin",
                Origin::Installed { .. } => "installed",
            });
            // A builtin native plugin is linked in: it has no artifact.
            context.sha256 = Some(resolved.entry.sha256.as_str()).filter(|sha| !sha.is_empty());
        }
    }
    let start = line.len();
    let written = contexts.with(&context, outcome.grant.as_ref(), |cached| {
        let time = clock::rfc3339(SystemTime::now(), Fraction::Millis);
        let head = Head {
            time: time.as_str(),
            call_id: outcome.call_id.as_str(),
        };
        serde_json::to_writer(&mut *line, &head)?;
        // `{head}` goes on with the context's members, then the call's.
        line.pop();
        match cached {
            Some(json) => line.extend_from_slice(json),
            None => {
                let at = line.len();
                serde_json::to_writer(&mut *line, &context)?;
                line[at] = b',';
                line.pop();
            }
        }
        let at = line.len();
        serde_json::to_writer(
            &mut *line,
            &Arguments {
                arguments: arguments(call, resolved),
            },
        )?;
        line[at] = b',';
        line.pop();
        write_decisions(line, &outcome.decisions);
        let at = line.len();
        serde_json::to_writer(
            &mut *line,
            &Ended {
                hooks: outcome.decisions.hooks(),
                timings_us: TimingsRecord::of(&outcome.timings),
                outcome: OutcomeRecord::of(outcome),
            },
        )?;
        line[at] = b',';
        Ok::<_, serde_json::Error>(())
    });
    if written.is_err() {
        line.truncate(start);
    }
}

/// A record is `Head`, then `ContextRecord`, then `Arguments`, the
/// decisions, then `Ended`, each one's members after the last's.
#[derive(Serialize)]
struct Head<'a> {
    /// RFC 3339, UTC, to the millisecond.
    time: &'a str,
    call_id: &'a str,
}

#[derive(Clone, Copy, Serialize)]
struct ContextRecord<'a> {
    session: &'a str,
    tool: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    plugin: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    origin: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sha256: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    mcp: Option<&'a Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    approval_policy: Option<&'static str>,
    sandbox: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    grant: Option<GrantRecord<'a>>,
}

#[derive(Serialize)]
struct Arguments<'a> {
    arguments: ArgumentsRecord<'a>,
}

#[derive(Serialize)]
struct Ended<'a> {
    /// Which hooks ran and what each decided.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    hooks: &'a [wharf_runtime::hooks::HookDecision],
    timings_us: TimingsRecord,
    outcome: OutcomeRecord<'a>,
}

/// Text that is serialized as what it displays, without a copy.
struct Shown<T>(T);

impl<T: std::fmt::Display> Serialize for Shown<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

/// What the call may touch: paths, variable names (never their values),
/// limits.
#[derive(Clone, Copy)]
struct GrantRecord<'a>(&'a Grant);

impl Serialize for GrantRecord<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let grant = self.0;
        let mut map = serializer.serialize_map(Some(8))?;
        map.serialize_entry("read_roots", &Paths(&grant.read_roots))?;
        map.serialize_entry("write_roots", &Paths(&grant.write_roots))?;
        map.serialize_entry("env", &Seq(grant.env.iter().map(|(name, _)| name)))?;
        map.serialize_entry("exec", &grant.exec)?;
        map.serialize_entry("network", &Seq(grant.network.iter().map(Shown)))?;
        let timeout_ms = u64::try_from(grant.timeout.as_millis()).unwrap_or(u64::MAX);
        map.serialize_entry("timeout_ms", &timeout_ms)?;
        map.serialize_entry("memory_bytes", &grant.memory_bytes)?;
        map.serialize_entry("output_bytes", &grant.output_bytes)?;
        map.end()
    }
}

struct Paths<'a>(&'a [std::path::PathBuf]);

impl Serialize for Paths<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(|path| Shown(path.display())))
    }
}

/// An iterator serialized as a sequence (it is cloned to be walked).
struct Seq<I>(I);

impl<I> Serialize for Seq<I>
where
    I: Iterator + Clone,
    I::Item: Serialize,
{
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.clone())
    }
}

/// Writes `,"decisions":[{"stage":…,"verdict":…,"by":…},…]`, each stage
/// in order. Written by hand, a call's most repeated part: every name is
/// one of wharf's own identifiers (`[a-z_]`), which JSON takes as it is.
fn write_decisions(line: &mut Vec<u8>, decisions: &Decisions) {
    line.extend_from_slice(b",\"decisions\":[");
    for (n, decision) in decisions.iter().enumerate() {
        if n > 0 {
            line.push(b',');
        }
        for (key, value) in [
            ("{\"stage\":\"", decision.stage.as_str()),
            ("\",\"verdict\":\"", decision.verdict.as_str()),
            ("\",\"by\":\"", decision.by.as_str()),
        ] {
            debug_assert!(value.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'));
            line.extend_from_slice(key.as_bytes());
            line.extend_from_slice(value.as_bytes());
        }
        line.extend_from_slice(b"\"}");
    }
    line.push(b']');
}

#[derive(Serialize)]
struct TimingsRecord {
    checks: u64,
    invoke: u64,
    apply: u64,
    total: u64,
}

impl TimingsRecord {
    fn of(timings: &Timings) -> TimingsRecord {
        let micros = |d: std::time::Duration| u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        TimingsRecord {
            checks: micros(timings.checks),
            invoke: micros(timings.invoke),
            apply: micros(timings.apply),
            total: micros(timings.total),
        }
    }
}

/// How the call ended: `ok`, `failed` (the tool said so, its command exited
/// with another code than 0, or a change could not be made), `denied` (a
/// stage refused it) or `cancelled`. Never the output, only its size.
#[derive(Serialize)]
struct OutcomeRecord<'a> {
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<Shown<&'a CallError>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exit_code: Option<Option<i32>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    output_bytes: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    changes: Option<ChangesRecord<'a>>,
}

impl OutcomeRecord<'_> {
    fn of(outcome: &CallOutcome) -> OutcomeRecord<'_> {
        let changes = (!outcome.applied.is_empty()).then_some(ChangesRecord(&outcome.applied));
        match &outcome.result {
            Ok(output) => {
                let exit_code = output.command.as_ref().map(|ran| ran.exit_code);
                let failed = output.is_error || exit_code.is_some_and(|code| code != Some(0));
                OutcomeRecord {
                    status: if failed { "failed" } else { "ok" },
                    error: None,
                    exit_code,
                    output_bytes: Some(output.content.iter().map(Content::len).sum()),
                    changes,
                }
            }
            Err(err) => OutcomeRecord {
                status: match err {
                    CallError::Tool(ToolError::Cancelled) => "cancelled",
                    CallError::Tool(_) | CallError::Apply(_) => "failed",
                    CallError::UnknownTool { .. }
                    | CallError::NotOffered { .. }
                    | CallError::Unsupported { .. }
                    | CallError::InvalidArgs(_)
                    | CallError::NotApproved(_)
                    | CallError::Hook { .. }
                    | CallError::Denied(_) => "denied",
                },
                error: Some(Shown(err)),
                exit_code: None,
                output_bytes: None,
                changes,
            },
        }
    }
}

struct ChangesRecord<'a>(&'a [AppliedChange]);

impl Serialize for ChangesRecord<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(|change| ChangeRecord {
            kind: match change.kind {
                ChangeKind::Added => "added",
                ChangeKind::Modified => "modified",
                ChangeKind::Deleted => "deleted",
            },
            path: Shown(change.path.display()),
        }))
    }
}

#[derive(Serialize)]
struct ChangeRecord<'a> {
    kind: &'static str,
    path: Shown<std::path::Display<'a>>,
}

/// The call's arguments as the record holds them.
#[derive(Serialize)]
#[serde(untagged)]
enum ArgumentsRecord<'a> {
    /// As they came: the tool's schema marks nothing secret.
    AsCalled(&'a Value),
    /// A copy with every secret redacted.
    Redacted(Value),
    /// No schema can say what is secret (an unknown tool) or they are not
    /// JSON: only their size.
    Unrecorded { unrecorded_bytes: usize },
}

/// The call's arguments with secrets redacted; copied only when the tool's
/// schema marks something secret.
fn arguments<'a>(call: &ToolCall, resolved: Option<&'a Resolved<'_>>) -> ArgumentsRecord<'a> {
    match resolved.map(|resolved| (resolved, &resolved.args)) {
        Some((resolved, Ok(args))) => {
            let schema = &resolved.spec.input_schema;
            if !marks_secret(schema, 0) {
                return ArgumentsRecord::AsCalled(args);
            }
            let mut args = args.clone();
            redact(schema, &mut args);
            ArgumentsRecord::Redacted(args)
        }
        Some((_, Err(_))) | None => ArgumentsRecord::Unrecorded {
            unrecorded_bytes: call.args.len(),
        },
    }
}

/// Whether anything in `schema` is marked secret, however it is reached
/// (what [`redact`] looks at is always part of `schema`); too deep a
/// schema counts as marking something.
pub(super) fn marks_secret(schema: &Value, depth: usize) -> bool {
    if depth > MAX_DEPTH {
        return true;
    }
    match schema {
        Value::Object(fields) => {
            is_secret(schema) || fields.values().any(|sub| marks_secret(sub, depth + 1))
        }
        Value::Array(items) => items.iter().any(|sub| marks_secret(sub, depth + 1)),
        Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => false,
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
