//! The call pipeline: the one function every tool call goes through,
//! whatever kind of plugin serves it (PRODUCT §4).
//!
//! In order: resolve the tool → feature gate → requirements → model
//! capabilities → arguments against the tool's JSON Schema → approval →
//! grant (the manifest's request ∩ the sandbox policy) → invoke with limits
//! (and again without the sandbox when it denied the call and the approver
//! agrees, see [`approval`]) → output cap and sanitizing for the model →
//! file changes checked and applied → a [`CallOutcome`] with timings. Requirements is a pass-through
//! stage until `requirements.toml` exists; model capabilities and approval
//! apply when the session has a model and an approval policy (the agent
//! loop), and let everything through otherwise (`wharf tool call`).

mod apply;
mod approval;
mod decisions;
mod fit;
mod hooks;
mod telemetry;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use wharf_cancel::CancelToken;
use wharf_sandbox::{PathEnv, PathRules, Sandbox};

use crate::hooks::{HookEvent, Hooks};
use crate::ids::{CallId, SessionId};
use crate::plugin::grant::{self, Grant, HostLimits};
use crate::plugin::manifest::PluginName;
use crate::plugin::{Args, CallContext, Content, Progress, ToolError, ToolOutput, ToolSpec};
use crate::registry::{Entry, NotOffered, Plugins};
use wharf_config::features::Features;
use wharf_config::mcp::McpToolApprovals;
use wharf_config::{ApprovalPolicy, ApprovalPrompts, Config};

pub use apply::{AppliedChange, ChangeKind};
pub use approval::{
    ApprovalRequest, Approver, Decision, JUSTIFICATION, REQUIRE_ESCALATED, SANDBOX_PERMISSIONS,
    ShownCommand, needs_approval, shown_command,
};
pub use decisions::{DecidedBy, Decisions, StageDecision, Verdict};
pub use fit::{IMAGE_PLACEHOLDER, ModelFit, Truncation};

/// Reads an environment variable; the session gets it from its embedder so
/// that tests never touch the process environment.
pub type EnvLookup = dyn Fn(&str) -> Option<String> + Send + Sync;

/// What every call of a session shares.
pub struct Session {
    pub session_id: SessionId,
    pub cwd: PathBuf,
    pub rules: PathRules,
    /// The policy commands run under, in this session's environment.
    pub sandbox: Arc<Sandbox>,
    pub features: Features,
    pub home_dir: Option<PathBuf>,
    pub limits: HostLimits,
    /// The model the calls are made for. `None` (`wharf tool call`): every
    /// tool may run and outputs reach the caller as the tool made them.
    pub model: Option<ModelFit>,
    /// When to ask before a call (see [`needs_approval`]). `None`: nothing
    /// asks (`wharf tool call` is the user's own explicit request).
    pub approval_policy: Option<ApprovalPolicy>,
    /// Who answers approval requests. `None` (`wharf exec`): nobody, so a
    /// call that needs approval is denied.
    pub approver: Option<Arc<dyn Approver>>,
    /// Which kinds of prompt may reach the approver (codex's granular
    /// approvals; all by default).
    pub approval_prompts: ApprovalPrompts,
    /// Each MCP server's tool approval modes, by the name of its plugin.
    pub mcp_tool_approvals: BTreeMap<String, McpToolApprovals>,
    /// Raised to stop the running calls (a cancelled turn); see
    /// [`CallContext::cancel`]. Never raised unless the embedder does.
    pub cancel: CancelToken,
    /// Whether each file change is recorded as a unified diff too
    /// ([`AppliedChange::diff`]), for a front end to show; it costs a read
    /// of every replaced or deleted file.
    pub record_diffs: bool,
    /// The hooks around the session's events, in order (none by default).
    pub hooks: Hooks,
    env: Box<EnvLookup>,
    /// Grants depend only on the plugin and the session: computed once.
    grants: Mutex<HashMap<String, Arc<Grant>>>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("session_id", &self.session_id)
            .field("cwd", &self.cwd)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// A session over `config`, with `tmpdir` (`$TMPDIR`) for the sandbox's
    /// writable roots and `env` to read the variables plugins may be granted.
    pub fn new(
        session_id: impl Into<SessionId>,
        config: &Config,
        home_dir: Option<PathBuf>,
        tmpdir: Option<PathBuf>,
        env: Box<EnvLookup>,
    ) -> Session {
        let path_env = PathEnv {
            cwd: config.cwd.clone(),
            tmpdir,
            protected: config.protected_paths(),
        };
        Session {
            session_id: session_id.into(),
            cwd: config.cwd.clone(),
            rules: PathRules::new(&config.sandbox_policy, &path_env),
            sandbox: Arc::new(config.sandbox(&path_env)),
            features: config.features.clone(),
            home_dir,
            limits: HostLimits::default(),
            model: None,
            approval_policy: None,
            approver: None,
            approval_prompts: config.approval_prompts,
            mcp_tool_approvals: config.mcp_tool_approvals(),
            cancel: CancelToken::new(),
            record_diffs: false,
            hooks: Hooks::default(),
            env,
            grants: Mutex::new(HashMap::new()),
        }
    }

    /// The grant of `entry`'s plugin in this session.
    pub fn grant(&self, entry: &Entry) -> Arc<Grant> {
        let name = entry.manifest.name.to_string();
        if let Ok(grants) = self.grants.lock()
            && let Some(grant) = grants.get(&name)
        {
            return Arc::clone(grant);
        }
        let computed = Arc::new(grant::grant(
            &entry.manifest,
            &self.rules,
            grant::NetworkPolicy::of(self.sandbox.policy()),
            self.home_dir.as_deref(),
            &*self.env,
            &self.limits,
        ));
        if let Ok(mut grants) = self.grants.lock() {
            grants.insert(name, Arc::clone(&computed));
        }
        computed
    }
}

/// A request to run one tool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolCall {
    pub call_id: CallId,
    pub tool: String,
    /// The arguments as JSON text.
    pub args: String,
}

/// The pipeline's stages, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    Resolve,
    Feature,
    Requirements,
    ModelCapabilities,
    Arguments,
    /// The `before-tool-call` hooks.
    BeforeHooks,
    Approval,
    Grant,
    Invoke,
    /// The `after-tool-call` hooks.
    AfterHooks,
    Apply,
}

/// Why a call produced no output. Every one is a result the model can read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    #[error("unknown tool `{tool}`")]
    UnknownTool { tool: String },
    #[error("tool `{tool}` is not available: {reason}")]
    NotOffered { tool: String, reason: NotOffered },
    /// The session's model lacks a capability the tool needs (it was not
    /// offered, and was called anyway).
    #[error("tool `{tool}` needs `{requirement}`, which model `{model}` does not support")]
    Unsupported {
        tool: String,
        requirement: String,
        model: String,
    },
    #[error("invalid arguments: {0}")]
    InvalidArgs(String),
    /// The approval stage said no.
    #[error("denied: {0}")]
    NotApproved(String),
    /// A file change the grant or the sandbox does not allow; nothing was
    /// changed.
    #[error("denied: {0}")]
    Denied(String),
    /// A hook stopped the call; the reason names it.
    #[error("denied: {reason}")]
    Hook { event: HookEvent, reason: String },
    /// Applying allowed changes failed part-way.
    #[error("{0}")]
    Apply(String),
    #[error(transparent)]
    Tool(ToolError),
}

impl CallError {
    /// The stage that stopped the call.
    pub fn stage(&self) -> Stage {
        match self {
            CallError::UnknownTool { .. } => Stage::Resolve,
            CallError::NotOffered { .. } => Stage::Feature,
            CallError::Unsupported { .. } => Stage::ModelCapabilities,
            CallError::InvalidArgs(_) => Stage::Arguments,
            CallError::NotApproved(_) => Stage::Approval,
            CallError::Hook { event, .. } if *event == HookEvent::BeforeToolCall => {
                Stage::BeforeHooks
            }
            CallError::Hook { .. } => Stage::AfterHooks,
            CallError::Denied(_) | CallError::Apply(_) => Stage::Apply,
            CallError::Tool(_) => Stage::Invoke,
        }
    }
}

/// Where the time of a call went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timings {
    /// Everything before the plugin runs: lookup, gates, validation, grant.
    pub checks: Duration,
    /// The plugin, including a fresh instance.
    pub invoke: Duration,
    /// Checking and applying file changes.
    pub apply: Duration,
    pub total: Duration,
}

/// What happened to one call: what telemetry, audit, `wharf exec --json`
/// and the agent loop consume.
#[derive(Debug, Clone)]
pub struct CallOutcome {
    pub call_id: CallId,
    pub tool: String,
    /// The plugin that served it, once resolved.
    pub plugin: Option<PluginName>,
    pub result: Result<ToolOutput, CallError>,
    /// The file changes the host made, in order.
    pub applied: Vec<AppliedChange>,
    pub timings: Timings,
    /// What each stage decided and what decided it, in order.
    pub decisions: Decisions,
    /// The call's grant, once the grant stage gave it one.
    pub grant: Option<Arc<Grant>>,
}

/// Runs `call` through every stage.
pub fn call(plugins: &Plugins, session: &Session, call: &ToolCall) -> CallOutcome {
    call_reporting(plugins, session, call, None)
}

/// [`call`], the plugin reporting its progress to `progress`.
pub fn call_reporting(
    plugins: &Plugins,
    session: &Session,
    call: &ToolCall,
    progress: Option<Progress>,
) -> CallOutcome {
    match resolve(plugins, call) {
        Some(resolved) => run(plugins, session, &resolved, progress),
        None => unknown_tool(call),
    }
}

/// The outcome of a call whose tool no plugin offers.
pub fn unknown_tool(call: &ToolCall) -> CallOutcome {
    let outcome = CallOutcome {
        call_id: call.call_id.clone(),
        tool: call.tool.clone(),
        plugin: None,
        result: Err(CallError::UnknownTool {
            tool: call.tool.clone(),
        }),
        applied: Vec::new(),
        timings: Timings::default(),
        decisions: Decisions::one(StageDecision {
            stage: Stage::Resolve,
            verdict: Verdict::Deny,
            by: DecidedBy::Registry,
        }),
        grant: None,
    };
    telemetry::record(None, &outcome);
    outcome
}

/// `text` as a call's arguments: its JSON value, or why it is not JSON.
pub fn parse_args(text: &str) -> Result<serde_json::Value, String> {
    serde_json::from_str(text).map_err(|err| format!("the arguments are not JSON: {err}"))
}

/// A call resolved once: its plugin, its tool's spec and its arguments,
/// parsed once. Every stage reads this, and so can whoever shows the call
/// before it runs (the agent).
#[derive(Debug)]
pub struct Resolved<'a> {
    pub call: &'a ToolCall,
    pub entry: &'a Entry,
    pub spec: &'a ToolSpec,
    /// The arguments, or why they are not JSON (the arguments stage
    /// refuses the call then).
    pub args: Result<serde_json::Value, String>,
}

/// `call`'s tool and arguments; `None` when no plugin offers the tool.
pub fn resolve<'a>(plugins: &'a Plugins, call: &'a ToolCall) -> Option<Resolved<'a>> {
    let (entry, spec) = plugins.tool(&call.tool)?;
    let args = parse_args(&call.args);
    Some(Resolved {
        call,
        entry,
        spec,
        args,
    })
}

/// Runs a resolved call through the stages after resolution.
pub fn run(
    plugins: &Plugins,
    session: &Session,
    resolved: &Resolved<'_>,
    progress: Option<Progress>,
) -> CallOutcome {
    let started = Instant::now();
    let (call, entry) = (resolved.call, resolved.entry);
    let mut outcome = CallOutcome {
        call_id: call.call_id.clone(),
        tool: call.tool.clone(),
        plugin: Some(entry.manifest.name.clone()),
        result: Err(CallError::UnknownTool {
            tool: call.tool.clone(),
        }),
        applied: Vec::new(),
        timings: Timings::default(),
        decisions: Decisions::for_a_call(),
        grant: None,
    };
    let checked = check(plugins, resolved, session, &mut outcome.decisions);
    outcome.timings.checks = started.elapsed();
    let (grant, args, placement) = match checked {
        Ok(checked) => {
            outcome.decisions.allow(Stage::Grant, DecidedBy::Grant);
            outcome.grant = Some(Arc::clone(&checked.0));
            checked
        }
        Err(err) => {
            outcome.result = Err(err);
            outcome.timings.total = started.elapsed();
            telemetry::record(Some(&session.session_id), &outcome);
            return outcome;
        }
    };

    let unrestricted = || Arc::new(session.sandbox.unrestricted());
    let mut cx = CallContext {
        call_id: call.call_id.clone(),
        session_id: session.session_id.clone(),
        cwd: session.cwd.clone(),
        sandbox: match placement {
            approval::Placement::Sandboxed => Arc::clone(&session.sandbox),
            approval::Placement::Unsandboxed => unrestricted(),
        },
        cancel: session.cancel.clone(),
        progress,
        elicitation: approval::elicitation(session),
    };
    // A cancel ends what the plugin keeps for the session (its processes),
    // so that a call waiting on them returns now, not at its timeout.
    let _end_on_cancel = session.cancel.on_cancel({
        let plugin = Arc::clone(&entry.plugin);
        let session_id = session.session_id.clone();
        move || plugin.end_session(&session_id)
    });
    let mut invoked = Instant::now();
    let rewritten = matches!(args, Cow::Owned(_)).then_some(&*args);
    let text = hooks::args_text(&call.args, rewritten);
    let value = &*args;
    let args = Args { text: &text, value };
    let mut result = entry.plugin.invoke(&cx, &call.tool, args, &grant);
    decisions::invoked(&mut outcome.decisions, &result, &cx.sandbox);
    // Denied by the sandbox and approved to run without it: the same call
    // again, whose outcome replaces the first.
    if placement == approval::Placement::Sandboxed
        && let Ok(output) = &result
        && approval::approves_retry(resolved, session, value, output, &mut outcome.decisions)
    {
        cx.sandbox = unrestricted();
        invoked = Instant::now();
        result = entry.plugin.invoke(&cx, &call.tool, args, &grant);
        decisions::invoked(&mut outcome.decisions, &result, &cx.sandbox);
    }
    outcome.timings.invoke = invoked.elapsed();

    let result = hooks::after(resolved, session, value, result, &mut outcome.decisions);
    let applying = Instant::now();
    outcome.result = match result {
        Err(err) => Err(err),
        Ok(mut output) => {
            cap_output(&mut output, grant.output_bytes);
            if let Some(model) = &session.model {
                sanitize_for_model(&mut output, model);
            }
            let changes = std::mem::take(&mut output.changes);
            // The call's deadline, as the plugin had it.
            let deadline = invoked + grant.timeout;
            let applied = apply::apply(
                &changes,
                &grant,
                &session.rules,
                deadline,
                session.record_diffs,
                &mut outcome.applied,
            );
            match applied {
                Ok(()) if changes.is_empty() => Ok(output),
                Ok(()) => {
                    outcome.decisions.allow(Stage::Apply, DecidedBy::Grant);
                    Ok(output)
                }
                Err((err, by)) => {
                    outcome.decisions.deny(Stage::Apply, by);
                    Err(err)
                }
            }
        }
    };
    outcome.timings.apply = applying.elapsed();
    outcome.timings.total = started.elapsed();
    telemetry::record(Some(&session.session_id), &outcome);
    outcome
}

/// The stages before the plugin runs; returns the call's grant, its
/// checked arguments and where it runs.
fn check<'r>(
    plugins: &Plugins,
    resolved: &'r Resolved<'_>,
    session: &Session,
    decisions: &mut Decisions,
) -> Result<(Arc<Grant>, Cow<'r, serde_json::Value>, approval::Placement), CallError> {
    let (call, entry) = (resolved.call, resolved.entry);
    // Feature gate.
    if let Err(reason) = plugins.offered(entry, &session.features) {
        decisions.deny(Stage::Feature, DecidedBy::FeatureFlag);
        return Err(CallError::NotOffered {
            tool: call.tool.clone(),
            reason,
        });
    }
    decisions.allow(Stage::Feature, DecidedBy::FeatureFlag);
    // Requirements (allowlists, pins): filled in by the requirements issue.
    // Model capabilities: a tool is not offered to a model that lacks what
    // it `requires`; called anyway, it is refused here.
    if let Some(model) = &session.model
        && let Some(missing) = resolved
            .spec
            .requires
            .iter()
            .find(|requirement| !model.meets(requirement))
    {
        decisions.deny(Stage::ModelCapabilities, DecidedBy::Model);
        return Err(CallError::Unsupported {
            tool: call.tool.clone(),
            requirement: missing.clone(),
            model: model.slug.clone(),
        });
    }
    let by = match session.model {
        Some(_) => DecidedBy::Model,
        None => DecidedBy::NoModel,
    };
    decisions.allow(Stage::ModelCapabilities, by);
    let args = check_args(resolved).inspect_err(|_| {
        decisions.deny(Stage::Arguments, DecidedBy::Schema);
    })?;
    decisions.allow(Stage::Arguments, DecidedBy::Schema);
    let args = match hooks::before(resolved, session, args, decisions)? {
        Some(rewritten) => Cow::Owned(rewritten),
        None => Cow::Borrowed(args),
    };
    let placement = approval::check(resolved, session, &args, decisions)?;
    Ok((session.grant(entry), args, placement))
}

/// The arguments, checked against the tool's JSON Schema.
fn check_args<'r>(resolved: &'r Resolved<'_>) -> Result<&'r serde_json::Value, CallError> {
    let value = resolved
        .args
        .as_ref()
        .map_err(|err| CallError::InvalidArgs(err.clone()))?;
    let Some(validator) = resolved.entry.validator(&resolved.spec.name) else {
        return Ok(value);
    };
    let problems = schema_problems(validator, value);
    if problems.is_empty() {
        Ok(value)
    } else {
        Err(CallError::InvalidArgs(problems.join("; ")))
    }
}

/// What keeps `value` from matching the schema of `validator`, at most
/// five problems, each with the JSON pointer of where it is (`/plan/0:
/// …`); empty when it matches.
pub fn schema_problems(
    validator: &jsonschema::Validator,
    value: &serde_json::Value,
) -> Vec<String> {
    validator
        .iter_errors(value)
        .take(5)
        .map(|err| {
            let at = err.instance_path().to_string();
            if at.is_empty() {
                err.to_string()
            } else {
                format!("{at}: {err}")
            }
        })
        .collect()
}

/// Fits `output` to what `model` reads: images become a placeholder for a
/// model without image input, text is cut to its truncation policy.
fn sanitize_for_model(output: &mut ToolOutput, model: &ModelFit) {
    for content in &mut output.content {
        match content {
            Content::Image { .. } if !model.image_input => {
                *content = Content::Text(IMAGE_PLACEHOLDER.to_owned());
            }
            Content::Image { .. } => {}
            Content::Text(text) | Content::Json(text) => {
                let cut = model.truncate(text);
                if cut.len() != text.len() {
                    *content = Content::Text(cut);
                }
            }
        }
    }
}

/// Truncates `output` to `max_bytes` of content, saying so in the output.
fn cap_output(output: &mut ToolOutput, max_bytes: usize) {
    let total: usize = output.content.iter().map(Content::len).sum();
    if total <= max_bytes {
        return;
    }
    let mut budget = max_bytes;
    let mut kept = Vec::new();
    for content in output.content.drain(..) {
        let len = content.len();
        if len <= budget {
            budget -= len;
            kept.push(content);
            continue;
        }
        if let Content::Text(text) | Content::Json(text) = &content {
            let mut end = budget;
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            kept.push(Content::Text(
                text.get(..end).unwrap_or_default().to_owned(),
            ));
        }
        budget = 0;
    }
    kept.push(Content::Text(format!(
        "[output truncated: {total} bytes exceed the limit of {max_bytes} bytes]"
    )));
    output.content = kept;
}
