use std::time::Duration;

use wharf_sandbox::RunOutput;

use super::verdict;
use crate::hooks::{HookEvent, HookFailure, HookVerdict};
use crate::plugin::Content;

fn ran(exit_code: Option<i32>, stdout: &str, stderr: &str) -> RunOutput {
    RunOutput {
        exit_code,
        signal: exit_code.is_none().then_some(9),
        stdout: stdout.as_bytes().to_vec(),
        stderr: stderr.as_bytes().to_vec(),
        stdout_dropped: 0,
        stderr_dropped: 0,
        timed_out: false,
        wall_time: Duration::ZERO,
    }
}

type Case = (
    HookEvent,
    Option<i32>,
    &'static str,
    &'static str,
    Result<HookVerdict, HookFailure>,
);

fn deny(reason: &str) -> Result<HookVerdict, HookFailure> {
    Ok(HookVerdict::Deny(reason.to_owned()))
}

fn garbage(message: &str) -> Result<HookVerdict, HookFailure> {
    Err(HookFailure::Garbage(message.to_owned()))
}

#[test]
fn answers_are_read_as_codex_writes_them() {
    use HookEvent::*;
    let cases: &[Case] = &[
        (BeforeToolCall, Some(0), "", "", Ok(HookVerdict::Continue)),
        (
            BeforeToolCall,
            Some(0),
            " \n",
            "noise",
            Ok(HookVerdict::Continue),
        ),
        (
            BeforeToolCall,
            Some(2),
            "",
            "no secrets\n",
            deny("no secrets"),
        ),
        (
            BeforeToolCall,
            Some(0),
            r#"{"decision":"block","reason":"r"}"#,
            "",
            deny("r"),
        ),
        (
            BeforeToolCall,
            Some(0),
            r#"{"decision":"approve"}"#,
            "",
            Ok(HookVerdict::Continue),
        ),
        (
            BeforeToolCall,
            Some(0),
            r#"{"continue":false,"stopReason":"s"}"#,
            "",
            deny("s"),
        ),
        (
            BeforeToolCall,
            Some(0),
            r#"{"hookSpecificOutput":{"hookEventName":"PreToolUse","permissionDecision":"deny","permissionDecisionReason":"p"}}"#,
            "",
            deny("p"),
        ),
        (
            BeforeToolCall,
            Some(0),
            r#"{"hookSpecificOutput":{"permissionDecision":"ask"}}"#,
            "",
            Ok(HookVerdict::Continue),
        ),
        (
            BeforeToolCall,
            Some(0),
            r#"{"hookSpecificOutput":{"updatedInput":{"text":"x"}}}"#,
            "",
            Ok(HookVerdict::RewriteArgs(serde_json::json!({"text": "x"}))),
        ),
        (
            BeforeToolCall,
            Some(0),
            "sure, go ahead",
            "",
            garbage("stdout is not a JSON object: sure, go ahead"),
        ),
        (
            BeforeToolCall,
            Some(0),
            r#"{"decision":"maybe"}"#,
            "",
            garbage("`decision` must be `block` or `approve`, not `maybe`"),
        ),
        (
            BeforeToolCall,
            Some(0),
            r#"{"reason":3,"decision":"block"}"#,
            "",
            garbage("`reason` must be a string, not 3"),
        ),
        (
            BeforeToolCall,
            Some(1),
            "",
            "boom\nmore",
            Err(HookFailure::Crashed("exit status 1: boom".to_owned())),
        ),
        (
            BeforeToolCall,
            None,
            "",
            "",
            Err(HookFailure::Crashed("killed by signal 9".to_owned())),
        ),
        (
            AfterToolCall,
            Some(2),
            "",
            "hidden",
            Ok(HookVerdict::RewriteOutput(vec![Content::Text(
                "hidden".to_owned(),
            )])),
        ),
        (
            AfterToolCall,
            Some(0),
            r#"{"hookSpecificOutput":{"updatedToolOutput":"short"}}"#,
            "",
            Ok(HookVerdict::RewriteOutput(vec![Content::Text(
                "short".to_owned(),
            )])),
        ),
        (
            UserPromptSubmit,
            Some(0),
            "plain context\n",
            "",
            Ok(HookVerdict::AddContext("plain context".to_owned())),
        ),
        (
            UserPromptSubmit,
            Some(0),
            r#"{"hookSpecificOutput":{"additionalContext":"ctx"}}"#,
            "",
            Ok(HookVerdict::AddContext("ctx".to_owned())),
        ),
        (UserPromptSubmit, Some(2), "", "not that", deny("not that")),
        (
            SessionStart,
            Some(0),
            "hello",
            "",
            Ok(HookVerdict::Continue),
        ),
        (
            SessionEnd,
            Some(2),
            "",
            "ignored",
            Ok(HookVerdict::Continue),
        ),
    ];
    for (event, code, stdout, stderr, expected) in cases {
        assert_eq!(
            &verdict(*event, &ran(*code, stdout, stderr)),
            expected,
            "{event} exit {code:?} stdout {stdout:?}"
        );
    }
}
