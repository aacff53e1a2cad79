//! Hooks that answer every way a hook can, well and badly, chosen by what
//! they are given: for `before-tool-call` the call's `text` argument, for
//! `after-tool-call` the output's text, for `user-prompt-submit` the
//! prompt, for the session events the session id.
//!
//! | given        | answer                                              |
//! |--------------|-----------------------------------------------------|
//! | `deny`       | deny, with a reason                                 |
//! | `rewrite`    | rewrite the arguments (`{"text":"rewritten"}`)      |
//! | `garbage`    | a rewrite that is not JSON                          |
//! | `array`      | a rewrite that is JSON but not an object            |
//! | `panic`      | panics (the message goes to the host first)         |
//! | `trap`       | traps with no message (`unreachable`)               |
//! | `loop`       | never answers                                       |
//! | `grow`       | allocates until the memory limit stops it           |
//! | `secret`     | (output) rewritten to `[redacted]`                  |
//! | `context`    | (prompt) adds context                               |
//! | anything else| allow / keep                                        |
//!
//! Built with wit-bindgen against `wit/0.2.0` directly: plugin-api cannot
//! answer what cannot be read.

#![cfg(target_arch = "wasm32")]

wit_bindgen::generate!({
    world: "plugin-with-hooks",
    path: "../../../wit/0.2.0",
});

use exports::wharf::plugin::hooks::{
    AfterDecision, BeforeDecision, Guest as Hooks, PromptDecision, SessionInfo, ToolCall,
};
use exports::wharf::plugin::tool::Guest as Tool;
use wharf::plugin::host::{self, LogLevel};
use wharf::plugin::types::{CallContext, Content, ToolError, ToolOutput, ToolSpec};

struct Probe;

impl Tool for Probe {
    fn describe() -> Vec<ToolSpec> {
        vec![ToolSpec {
            name: "hook_probe".to_owned(),
            description: "Echoes its text".to_owned(),
            input_schema:
                r#"{"type":"object","properties":{"text":{"type":"string"}},"required":["text"]}"#
                    .to_owned(),
            freeform_grammar: None,
            requires: Vec::new(),
        }]
    }

    fn invoke(_cx: CallContext, _name: String, args: String) -> Result<ToolOutput, ToolError> {
        Ok(ToolOutput {
            content: vec![Content::Text(text_of(&args))],
            is_error: false,
            changes: Vec::new(),
        })
    }
}

impl Hooks for Probe {
    fn before_tool_call(call: ToolCall) -> BeforeDecision {
        let given = text_of(&call.args_json);
        misbehave(&given);
        match given.as_str() {
            "deny" => BeforeDecision::Deny(format!("the probe refuses `{}`", call.tool)),
            "rewrite" => BeforeDecision::Rewrite(r#"{"text":"rewritten"}"#.to_owned()),
            "garbage" => BeforeDecision::Rewrite("{not json".to_owned()),
            "array" => BeforeDecision::Rewrite("[1, 2]".to_owned()),
            _ => BeforeDecision::Allow,
        }
    }

    fn after_tool_call(_call: ToolCall, output: ToolOutput) -> AfterDecision {
        let text: String = output
            .content
            .iter()
            .filter_map(|content| match content {
                Content::Text(text) => Some(text.as_str()),
                _ => None,
            })
            .collect();
        misbehave(&text);
        if text.contains("secret") {
            AfterDecision::Rewrite(vec![Content::Text("[redacted]".to_owned())])
        } else {
            AfterDecision::Keep
        }
    }

    fn session_start(info: SessionInfo, source: String) {
        misbehave(&info.session_id);
        host::log(
            LogLevel::Info,
            &format!("session {} ({source})", info.session_id),
        );
    }

    fn session_end(info: SessionInfo) {
        misbehave(&info.session_id);
    }

    fn user_prompt_submit(_info: SessionInfo, prompt: String) -> PromptDecision {
        misbehave(&prompt);
        match prompt.as_str() {
            "deny" => PromptDecision::Deny("the probe refuses this prompt".to_owned()),
            "context" => PromptDecision::AddContext("the probe adds this".to_owned()),
            _ => PromptDecision::Allow,
        }
    }
}

/// The ways a hook fails, by what it is given.
fn misbehave(given: &str) {
    match given {
        "panic" => {
            // What plugin-api's panic hook does: the message first, then
            // the trap.
            host::log(LogLevel::Error, "panic: the probe panics on purpose");
            panic!("the probe panics on purpose");
        }
        "trap" => std::process::abort(),
        "loop" => {
            let mut spins: u64 = 0;
            loop {
                spins = std::hint::black_box(spins.wrapping_add(1));
            }
        }
        "grow" => {
            let mut hoard: Vec<Vec<u8>> = Vec::new();
            loop {
                // Zeroed: fresh pages are not written, so the limit is
                // reached at once rather than after writing it all.
                hoard.push(vec![0; 16 << 20]);
                std::hint::black_box(&hoard);
            }
        }
        _ => {}
    }
}

/// The `text` of a JSON object, or `""`.
fn text_of(args: &str) -> String {
    serde_json::from_str::<serde_json::Value>(args)
        .ok()
        .and_then(|args| args.get("text")?.as_str().map(str::to_owned))
        .unwrap_or_default()
}

export!(Probe);
