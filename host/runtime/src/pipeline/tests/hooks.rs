//! The hook stages as one table: a scripted hook answers one event one
//! way, and the call ends as the row says; a rewrite is checked against the
//! schema again, an output a hook writes is capped like the tool's, and a
//! required hook that fails after the call keeps its file changes from
//! being made.

use std::time::Instant;

use super::{Expected, Setup, assert_outcome};
use crate::hooks::{
    Hook, HookEvent, HookFailure, HookInput, HookKind, HookOutcome, HookSource, HookVerdict, Hooks,
};
use crate::pipeline::*;
use wharf_sandbox::SandboxMode;

/// A hook that answers `event` with `answer`.
struct Scripted {
    source: HookSource,
    event: HookEvent,
    answer: Result<HookVerdict, HookFailure>,
}

impl Hook for Scripted {
    fn source(&self) -> &HookSource {
        &self.source
    }

    fn wants(&self, event: HookEvent, _tool: Option<&str>) -> bool {
        event == self.event
    }

    fn run(&self, _input: &HookInput<'_>, _deadline: Instant) -> Result<HookVerdict, HookFailure> {
        self.answer.clone()
    }
}

fn scripted(
    event: HookEvent,
    answer: Result<HookVerdict, HookFailure>,
    required: bool,
) -> Arc<dyn Hook> {
    Arc::new(Scripted {
        source: HookSource {
            name: "h".to_owned(),
            kind: HookKind::Plugin,
            required,
        },
        event,
        answer,
    })
}

fn crashed() -> Result<HookVerdict, HookFailure> {
    Err(HookFailure::Crashed("boom".to_owned()))
}

#[test]
fn hook_decisions() {
    use HookEvent::{AfterToolCall as After, BeforeToolCall as Before};
    let rewrite = |args: serde_json::Value| Ok(HookVerdict::RewriteArgs(args));
    let output = |text: &str| {
        Ok(HookVerdict::RewriteOutput(vec![Content::Text(
            text.to_owned(),
        )]))
    };
    // (what, event, answer, required, args, expected, the hook's outcome,
    // file written)
    type Row = (
        &'static str,
        HookEvent,
        Result<HookVerdict, HookFailure>,
        bool,
        &'static str,
        Expected,
        HookOutcome,
        Option<&'static str>,
    );
    let rows: Vec<Row> = vec![
        (
            "allow",
            Before,
            Ok(HookVerdict::Continue),
            false,
            r#"{"text":"hi"}"#,
            Ok("hi"),
            HookOutcome::Allow,
            None,
        ),
        (
            "deny",
            Before,
            Ok(HookVerdict::Deny("no".to_owned())),
            false,
            r#"{"text":"hi"}"#,
            Err((Stage::BeforeHooks, "denied: no (hook `h`)")),
            HookOutcome::Deny,
            None,
        ),
        (
            "rewrite",
            Before,
            rewrite(serde_json::json!({"text": "new"})),
            false,
            r#"{"text":"hi"}"#,
            Ok("new"),
            HookOutcome::RewriteArgs,
            None,
        ),
        (
            "a rewrite that writes where the call did not, checked by the grant",
            Before,
            rewrite(serde_json::json!({"text": "x", "write": "/etc/passwd"})),
            false,
            r#"{"text":"hi"}"#,
            Err((Stage::Apply, "is outside the writable roots")),
            HookOutcome::RewriteArgs,
            None,
        ),
        (
            "a rewrite the schema refuses, skipped",
            Before,
            rewrite(serde_json::json!({"nope": 1})),
            false,
            r#"{"text":"hi"}"#,
            Ok("hi"),
            HookOutcome::Skipped,
            None,
        ),
        (
            "a rewrite the schema refuses, required",
            Before,
            rewrite(serde_json::json!({"nope": 1})),
            true,
            r#"{"text":"hi"}"#,
            Err((
                Stage::BeforeHooks,
                "rewrote the arguments to ones the tool's schema refuses",
            )),
            HookOutcome::Failed,
            None,
        ),
        (
            "an answer the event does not take",
            Before,
            output("x"),
            true,
            r#"{"text":"hi"}"#,
            Err((
                Stage::BeforeHooks,
                "before-tool-call takes no rewrite-output answer",
            )),
            HookOutcome::Failed,
            None,
        ),
        (
            "crash, skipped",
            Before,
            crashed(),
            false,
            r#"{"text":"hi"}"#,
            Ok("hi"),
            HookOutcome::Skipped,
            None,
        ),
        (
            "rewrite the output",
            After,
            output("short"),
            false,
            r#"{"text":"hi"}"#,
            Ok("short"),
            HookOutcome::RewriteOutput,
            None,
        ),
        (
            "crash after the call, required: nothing is written",
            After,
            crashed(),
            true,
            r#"{"text":"hi","write":"made.txt"}"#,
            Err((
                Stage::AfterHooks,
                "the required hook `h` failed: crashed: boom",
            )),
            HookOutcome::Failed,
            None,
        ),
        (
            "crash after the call, skipped: the call goes on",
            After,
            crashed(),
            false,
            r#"{"text":"hi","write":"made.txt"}"#,
            Ok("hi"),
            HookOutcome::Skipped,
            Some("made.txt"),
        ),
    ];
    for (what, event, answer, required, args, expected, outcome_of_hook, written) in rows {
        let setup = Setup::new();
        let mut session = setup.session(SandboxMode::WorkspaceWrite, &[]);
        session.hooks = Hooks::new(vec![scripted(event, answer, required)]);
        let call = ToolCall {
            call_id: "c1".into(),
            tool: "echo".to_owned(),
            args: args.to_owned(),
        };
        let outcome = super::call(&setup.plugins, &session, &call);
        assert_outcome(what, &outcome, &expected);
        let hooks = outcome.decisions.hooks();
        assert_eq!(hooks.len(), 1, "{what}");
        assert_eq!(hooks[0].outcome, outcome_of_hook, "{what}: {hooks:?}");
        assert_eq!(hooks[0].event, event, "{what}");
        assert_eq!(
            setup.cwd().join("made.txt").exists(),
            written.is_some(),
            "{what}"
        );
    }
}

#[test]
fn an_output_a_hook_writes_is_capped_like_the_tools() {
    let setup = Setup::new();
    let mut session = setup.session(SandboxMode::WorkspaceWrite, &[]);
    let huge = "x".repeat(64 * 1024 * 1024);
    session.hooks = Hooks::new(vec![scripted(
        HookEvent::AfterToolCall,
        Ok(HookVerdict::RewriteOutput(vec![Content::Text(
            huge.clone(),
        )])),
        false,
    )]);
    let call = ToolCall {
        call_id: "c1".into(),
        tool: "echo".to_owned(),
        args: r#"{"text":"hi"}"#.to_owned(),
    };
    let outcome = super::call(&setup.plugins, &session, &call);
    let output = outcome.result.unwrap();
    let text = output.text();
    assert!(text.len() < huge.len(), "{}", text.len());
    assert!(
        text.contains("[output truncated:"),
        "{}",
        &text[text.len() - 100..]
    );
}

#[test]
fn without_hooks_nothing_is_recorded() {
    let setup = Setup::new();
    let session = setup.session(SandboxMode::WorkspaceWrite, &[]);
    let call = ToolCall {
        call_id: "c1".into(),
        tool: "echo".to_owned(),
        args: r#"{"text":"hi"}"#.to_owned(),
    };
    let outcome = super::call(&setup.plugins, &session, &call);
    assert!(outcome.decisions.hooks().is_empty());
    assert!(
        outcome
            .decisions
            .iter()
            .all(|d| !matches!(d.stage, Stage::BeforeHooks | Stage::AfterHooks))
    );
}
