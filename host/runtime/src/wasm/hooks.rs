//! A WASM plugin's `wharf:plugin/hooks@0.2.0` export as a [`Hook`]: each
//! event runs in a fresh instance under the limits of a tool call (the
//! epoch deadline, the memory cap), and its answer becomes a
//! [`HookVerdict`] — or a [`HookFailure`]: a trap is `Crashed` (with the
//! guest's panic message when it sent one), a missed deadline `TimedOut`,
//! a rewrite that is not a JSON object `Garbage`.
//!
//! A hook runs with no access of its own (no files, commands or network):
//! what it decides on is the event it is given.

use std::sync::Arc;
use std::time::{Duration, Instant};

use wharf_cancel::CancelToken;

use super::call::{Stopped, run_until};
use super::v0_2_0::{self, wit_hooks};
use super::{WasmError, WasmPlugin};
use crate::hooks::{
    Hook, HookEvent, HookFailure, HookInput, HookKind, HookSource, HookToolCall, HookVerdict,
};
use crate::plugin::grant::{Grant, HostLimits};
use crate::plugin::manifest::{HookSelection, HookedEvent};

/// The hooks of one WASM plugin.
pub struct WasmHook {
    plugin: Arc<WasmPlugin>,
    source: HookSource,
    selection: HookSelection,
}

impl std::fmt::Debug for WasmHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasmHook")
            .field("source", &self.source)
            .field("selection", &self.selection)
            .finish_non_exhaustive()
    }
}

impl WasmHook {
    /// `plugin`'s hooks for `selection`. Prepares the component now (a
    /// warm start otherwise waits for the first call) to refuse one that
    /// cannot hook: a 0.1.0 component, or one that exports no `hooks`.
    pub fn new(plugin: Arc<WasmPlugin>, selection: HookSelection) -> Result<WasmHook, WasmError> {
        let prepared = plugin.prepared().map_err(WasmError::Hooks)?;
        let events = || {
            selection
                .events
                .iter()
                .map(|event| event.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        match prepared.latest() {
            None => {
                return Err(WasmError::Hooks(format!(
                    "its manifest asks for hooks ({}), but the component targets \
                     wharf:plugin@{}, which has none; rebuild it against wharf:plugin@0.2.0 \
                     and set `api = \"0.2.0\"`",
                    events(),
                    plugin.api_version()
                )));
            }
            Some(latest) if !latest.exports_hooks() => {
                return Err(WasmError::Hooks(format!(
                    "its manifest asks for hooks ({}), but the component does not export \
                     `wharf:plugin/hooks@0.2.0`; export it (world `plugin-with-hooks`) or \
                     remove `[hooks]` from plugin.toml",
                    events()
                )));
            }
            Some(_) => {}
        }
        let source = HookSource {
            name: plugin.name.clone(),
            kind: HookKind::Plugin,
            required: selection.required,
        };
        Ok(WasmHook {
            plugin,
            source,
            selection,
        })
    }
}

impl Hook for WasmHook {
    fn source(&self) -> &HookSource {
        &self.source
    }

    fn wants(&self, event: HookEvent, tool: Option<&str>) -> bool {
        self.selection.wants(hooked(event), tool)
    }

    /// Must not be called from inside a tokio runtime, as
    /// [`crate::plugin::Plugin::invoke`] of a WASM plugin.
    fn run(&self, input: &HookInput<'_>, deadline: Instant) -> Result<HookVerdict, HookFailure> {
        let prepared = self
            .plugin
            .prepared()
            .map_err(|reason| HookFailure::Crashed(format!("cannot be loaded: {reason}")))?;
        let Some(latest) = prepared.latest() else {
            return Err(HookFailure::Crashed(
                "a wharf:plugin@0.1.0 component has no hooks".to_owned(),
            ));
        };
        let mut grant = Grant::none(&HostLimits::default());
        grant.timeout = grant
            .timeout
            .min(deadline.saturating_duration_since(Instant::now()));
        let allowed = grant.timeout;
        let (mut store, deadline) = self.plugin.store(&grant, None);
        let answered = run_until(deadline, &CancelToken::new(), async {
            let Some(guest) = latest.hooks(&mut store).await else {
                return Ok(Err(HookFailure::Crashed(
                    "the component exports no hooks".to_owned(),
                )));
            };
            call(&guest?, &mut store, input).await
        });
        match answered {
            Ok(Ok(answer)) => answer,
            Ok(Err(err)) => Err(self.failure(&store, deadline, allowed, &grant, &err)),
            Err(Stopped::Deadline) => Err(HookFailure::TimedOut(allowed)),
            Err(stopped @ (Stopped::Cancelled | Stopped::NoRuntime)) => {
                Err(HookFailure::Crashed(stopped.error(&grant).to_string()))
            }
        }
    }
}

impl WasmHook {
    /// Why the hook's instance trapped.
    fn failure(
        &self,
        store: &wasmtime::Store<super::state::CallState>,
        deadline: Instant,
        allowed: Duration,
        grant: &Grant,
        err: &wasmtime::Error,
    ) -> HookFailure {
        if store.data().limiter.exceeded {
            HookFailure::Crashed(format!(
                "it reached its memory limit of {} MiB",
                grant.memory_bytes >> 20
            ))
        } else if let Some(panic) = store.data().log.panic() {
            tracing::warn!(
                target: "wharf.plugin_panic",
                plugin = self.plugin.name.as_str(),
                hook = true,
                message = panic,
            );
            HookFailure::Crashed(format!("it panicked: {panic}"))
        } else if Instant::now() >= deadline {
            HookFailure::TimedOut(allowed)
        } else {
            HookFailure::Crashed(err.root_cause().to_string())
        }
    }
}

/// `event` as a manifest names it.
fn hooked(event: HookEvent) -> HookedEvent {
    match event {
        HookEvent::SessionStart => HookedEvent::SessionStart,
        HookEvent::UserPromptSubmit => HookedEvent::UserPromptSubmit,
        HookEvent::BeforeToolCall => HookedEvent::BeforeToolCall,
        HookEvent::AfterToolCall => HookedEvent::AfterToolCall,
        HookEvent::SessionEnd => HookedEvent::SessionEnd,
    }
}

/// Calls the export `input` is for, and reads its answer.
async fn call(
    guest: &wit_hooks::Guest,
    store: &mut wasmtime::Store<super::state::CallState>,
    input: &HookInput<'_>,
) -> wasmtime::Result<Result<HookVerdict, HookFailure>> {
    Ok(match input {
        HookInput::BeforeToolCall(call) => {
            match guest
                .call_before_tool_call(&mut *store, &tool_call(call))
                .await?
            {
                wit_hooks::BeforeDecision::Allow => Ok(HookVerdict::Continue),
                wit_hooks::BeforeDecision::Deny(reason) => Ok(HookVerdict::Deny(reason)),
                wit_hooks::BeforeDecision::Rewrite(json) => rewritten_args(&json),
            }
        }
        HookInput::AfterToolCall { call, output } => {
            let output = v0_2_0::tool_output_to_wit(output);
            match guest
                .call_after_tool_call(&mut *store, &tool_call(call), &output)
                .await?
            {
                wit_hooks::AfterDecision::Keep => Ok(HookVerdict::Continue),
                wit_hooks::AfterDecision::Rewrite(content) => Ok(HookVerdict::RewriteOutput(
                    content.into_iter().map(v0_2_0::content).collect(),
                )),
            }
        }
        HookInput::SessionStart {
            session_id,
            cwd,
            source,
        } => {
            guest
                .call_session_start(&mut *store, &session_info(session_id, cwd), source)
                .await?;
            Ok(HookVerdict::Continue)
        }
        HookInput::SessionEnd { session_id, cwd } => {
            guest
                .call_session_end(&mut *store, &session_info(session_id, cwd))
                .await?;
            Ok(HookVerdict::Continue)
        }
        HookInput::UserPromptSubmit {
            session_id,
            cwd,
            prompt,
        } => match guest
            .call_user_prompt_submit(&mut *store, &session_info(session_id, cwd), prompt)
            .await?
        {
            wit_hooks::PromptDecision::Allow => Ok(HookVerdict::Continue),
            wit_hooks::PromptDecision::Deny(reason) => Ok(HookVerdict::Deny(reason)),
            wit_hooks::PromptDecision::AddContext(text) => Ok(HookVerdict::AddContext(text)),
        },
    })
}

/// A rewrite's arguments: a JSON object, or garbage.
fn rewritten_args(json: &str) -> Result<HookVerdict, HookFailure> {
    match serde_json::from_str::<serde_json::Value>(json) {
        Ok(args) if args.is_object() => Ok(HookVerdict::RewriteArgs(args)),
        Ok(_) => Err(HookFailure::Garbage(
            "a rewrite of the arguments that is not a JSON object".to_owned(),
        )),
        Err(err) => Err(HookFailure::Garbage(format!(
            "a rewrite of the arguments that is not JSON ({err})"
        ))),
    }
}

fn tool_call(call: &HookToolCall<'_>) -> wit_hooks::ToolCall {
    wit_hooks::ToolCall {
        call_id: call.call_id.to_owned(),
        session_id: call.session_id.to_owned(),
        cwd: call.cwd.to_string_lossy().into_owned(),
        tool: call.tool.to_owned(),
        plugin: call.plugin.to_owned(),
        args_json: call.args.to_string(),
    }
}

fn session_info(session_id: &str, cwd: &std::path::Path) -> wit_hooks::SessionInfo {
    wit_hooks::SessionInfo {
        session_id: session_id.to_owned(),
        cwd: cwd.to_string_lossy().into_owned(),
    }
}
