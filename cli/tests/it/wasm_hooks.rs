//! A WASM plugin's hooks (`wharf:plugin/hooks@0.2.0`) as the runtime runs
//! them: tests/guests/hooks answers each event every way a hook can, well
//! and badly (a deny, a rewrite, a rewrite that is not JSON, a panic, a
//! trap, a loop past the deadline, a memory bomb), and each answer must
//! become its verdict or its failure. A plugin whose manifest asks for
//! hooks it cannot give is refused when it is loaded. And in a session,
//! through the binary: what the model then reads.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use wharf_runtime::hooks::{
    Hook, HookEvent, HookFailure, HookInput, HookKind, HookToolCall, HookVerdict,
};
use wharf_runtime::plugin::manifest::{HookSelection, HookedEvent, Manifest};
use wharf_runtime::plugin::{Content, ToolOutput};
use wharf_runtime::wasm::{WasmHook, WasmRuntime};
use wharf_tests::model_server::{ModelServer, Turn};

use crate::{Env, display, input_messages, provider_flags};

const HOOKS_MANIFEST: &str = include_str!("../../../tests/guests/hooks/plugin.toml");

/// The hook guest, with its manifest's `[hooks]` (`tools` narrowed by
/// `tools` when given).
fn probe(tools: Option<&[&str]>) -> WasmHook {
    let manifest_path = Path::new("/plugins/hooks/plugin.toml");
    let (manifest, _) = Manifest::parse(manifest_path, HOOKS_MANIFEST).unwrap();
    let mut selection: HookSelection = manifest.hooks.unwrap();
    selection.tools = tools.map(|tools| tools.iter().map(|t| (*t).to_owned()).collect());
    let bytes = std::fs::read(env!("WHARF_TEST_HOOKS_WASM")).unwrap();
    let runtime = WasmRuntime::new(None).unwrap();
    let plugin = runtime.load("hooks", &bytes).unwrap();
    WasmHook::new(Arc::new(plugin), selection).unwrap()
}

/// What a test expects of a hook's answer.
#[derive(Debug)]
enum Expect {
    Verdict(HookVerdict),
    Crashed(&'static str),
    TimedOut,
    Garbage(&'static str),
}

fn check(hook: &WasmHook, input: &HookInput<'_>, expected: &Expect, what: &str) {
    // Only a hook that never answers waits for its deadline: the others
    // get a generous one, so that a busy machine does not turn their
    // answer into a timeout.
    let allowed = match expected {
        Expect::TimedOut => Duration::from_millis(500),
        _ => Duration::from_secs(20),
    };
    let deadline = Instant::now() + allowed;
    let started = Instant::now();
    let answer = hook.run(input, deadline);
    match (expected, &answer) {
        (Expect::Verdict(verdict), Ok(got)) => assert_eq!(got, verdict, "{what}"),
        (Expect::Crashed(text), Err(HookFailure::Crashed(message))) => {
            assert!(message.contains(text), "{what}: {message}");
        }
        (Expect::TimedOut, Err(HookFailure::TimedOut(allowed))) => {
            assert!(
                *allowed <= Duration::from_millis(500),
                "{what}: {allowed:?}"
            );
            // Stopped at its deadline, not long after.
            assert!(started.elapsed() < Duration::from_secs(5), "{what}");
        }
        (Expect::Garbage(text), Err(HookFailure::Garbage(message))) => {
            assert!(message.contains(text), "{what}: {message}");
        }
        _ => panic!("{what}: expected {expected:?}, got {answer:?}"),
    }
}

fn call<'a>(args: &'a serde_json::Value) -> HookToolCall<'a> {
    HookToolCall {
        session_id: "s1",
        call_id: "c1",
        cwd: Path::new("/work"),
        tool: "exec_command",
        plugin: "unified-exec",
        args,
    }
}

#[test]
fn before_tool_call_answers_and_failures() {
    let hook = probe(None);
    assert_eq!(hook.source().name, "hooks");
    assert_eq!(hook.source().kind, HookKind::Plugin);
    assert!(!hook.source().required);
    let cases = [
        ("allow", Expect::Verdict(HookVerdict::Continue)),
        (
            "deny",
            Expect::Verdict(HookVerdict::Deny(
                "the probe refuses `exec_command`".to_owned(),
            )),
        ),
        (
            "rewrite",
            Expect::Verdict(HookVerdict::RewriteArgs(
                serde_json::json!({"text": "rewritten"}),
            )),
        ),
        ("garbage", Expect::Garbage("not JSON")),
        ("array", Expect::Garbage("not a JSON object")),
        (
            "panic",
            Expect::Crashed("it panicked: the probe panics on purpose"),
        ),
        ("trap", Expect::Crashed("unreachable")),
        ("loop", Expect::TimedOut),
        ("grow", Expect::Crashed("memory limit")),
    ];
    for (text, expected) in &cases {
        let args = serde_json::json!({ "text": text });
        check(
            &hook,
            &HookInput::BeforeToolCall(call(&args)),
            expected,
            text,
        );
    }
}

#[test]
fn after_tool_call_keeps_or_rewrites_the_output() {
    let hook = probe(None);
    let args = serde_json::json!({});
    let cases = [
        ("ok", Expect::Verdict(HookVerdict::Continue)),
        (
            "the secret is 42",
            Expect::Verdict(HookVerdict::RewriteOutput(vec![Content::Text(
                "[redacted]".to_owned(),
            )])),
        ),
        ("panic", Expect::Crashed("it panicked")),
        ("loop", Expect::TimedOut),
    ];
    for (text, expected) in &cases {
        let output = ToolOutput {
            content: vec![Content::Text((*text).to_owned())],
            ..ToolOutput::default()
        };
        let input = HookInput::AfterToolCall {
            call: call(&args),
            output: &output,
        };
        check(&hook, &input, expected, text);
    }
}

#[test]
fn prompt_and_session_events() {
    let hook = probe(None);
    let cwd = Path::new("/work");
    let prompts = [
        ("hello", Expect::Verdict(HookVerdict::Continue)),
        (
            "deny",
            Expect::Verdict(HookVerdict::Deny(
                "the probe refuses this prompt".to_owned(),
            )),
        ),
        (
            "context",
            Expect::Verdict(HookVerdict::AddContext("the probe adds this".to_owned())),
        ),
        ("trap", Expect::Crashed("unreachable")),
    ];
    for (prompt, expected) in &prompts {
        let input = HookInput::UserPromptSubmit {
            session_id: "s1",
            cwd,
            prompt,
        };
        check(&hook, &input, expected, prompt);
    }
    // The session events take no answer; their session id picks the
    // probe's behaviour.
    let sessions = [
        ("s1", Expect::Verdict(HookVerdict::Continue)),
        ("panic", Expect::Crashed("it panicked")),
        ("loop", Expect::TimedOut),
    ];
    for (session_id, expected) in &sessions {
        let start = HookInput::SessionStart {
            session_id,
            cwd,
            source: "startup",
        };
        check(&hook, &start, expected, session_id);
        let end = HookInput::SessionEnd { session_id, cwd };
        check(&hook, &end, expected, session_id);
    }
}

#[test]
fn a_hook_is_called_for_its_events_and_tools_only() {
    let hook = probe(Some(&["shell"]));
    let cases = [
        (HookEvent::BeforeToolCall, Some("shell"), true),
        (HookEvent::BeforeToolCall, Some("exec_command"), false),
        (HookEvent::AfterToolCall, Some("shell"), true),
        (HookEvent::UserPromptSubmit, None, true),
    ];
    for (event, tool, wanted) in cases {
        assert_eq!(hook.wants(event, tool), wanted, "{event} {tool:?}");
    }
}

#[test]
fn a_deadline_already_near_is_the_hooks_deadline() {
    let hook = probe(None);
    let args = serde_json::json!({ "text": "loop" });
    let started = Instant::now();
    let answer = hook.run(
        &HookInput::BeforeToolCall(call(&args)),
        Instant::now() + Duration::from_millis(50),
    );
    assert!(
        matches!(answer, Err(HookFailure::TimedOut(allowed)) if allowed <= Duration::from_millis(50)),
        "{answer:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn a_component_that_cannot_hook_is_refused_when_loaded() {
    let runtime = WasmRuntime::new(None).unwrap();
    let selection = HookSelection {
        events: vec![HookedEvent::BeforeToolCall],
        tools: None,
        required: false,
    };
    let legacy = std::fs::read(env!("WHARF_TEST_LEGACY_WASM")).unwrap();
    let plugin = runtime.load("legacy", &legacy).unwrap();
    assert_eq!(plugin.api_version(), "0.1.0");
    let err = WasmHook::new(Arc::new(plugin), selection).unwrap_err();
    assert_eq!(
        err.to_string(),
        "its manifest asks for hooks (before-tool-call), but the component targets \
         wharf:plugin@0.1.0, which has none; rebuild it against wharf:plugin@0.2.0 and set \
         `api = \"0.2.0\"`"
    );
}

/// The output the model was given for `call_id` in `body`.
fn tool_output(body: &serde_json::Value, call_id: &str) -> String {
    body["input"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|item| item["type"] == "function_call_output" && item["call_id"] == call_id)
        .map(|item| item["output"].to_string())
        .unwrap_or_else(|| panic!("no output of {call_id}: {body}"))
}

#[test]
fn in_a_turn_the_model_reads_what_a_plugins_hooks_answered() {
    let env = Env::new();
    let source = tempfile::tempdir().unwrap();
    std::fs::write(source.path().join("plugin.toml"), HOOKS_MANIFEST).unwrap();
    std::fs::copy(
        env!("WHARF_TEST_HOOKS_WASM"),
        source.path().join("wharf_test_guest_hooks.wasm"),
    )
    .unwrap();
    env.wharf(&["plugin", "add", &display(source.path())])
        .success();
    let server = ModelServer::start([
        Turn::function_call("hook_probe", serde_json::json!({ "text": "deny" })).into(),
        Turn::function_call("hook_probe", serde_json::json!({ "text": "a secret" })).into(),
        Turn::text("done").into(),
    ])
    .unwrap();
    let mut args: Vec<String> = vec!["--enable".to_owned(), "hooks_probe".to_owned()];
    args.extend(provider_flags(&server, "responses"));
    args.extend(
        [
            "exec",
            "--skip-git-repo-check",
            "-m",
            "gpt-5.1-codex",
            "context",
        ]
        .map(str::to_owned),
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    env.wharf(&args).success();
    let bodies = server.bodies();
    // user-prompt-submit added context, which the model reads.
    let developer = input_messages(&bodies[0], "developer");
    assert!(
        developer.iter().any(|text| text == "the probe adds this"),
        "{developer:?}"
    );
    // before-tool-call denied the first call: its reason is the output.
    let denied = tool_output(&bodies[1], "call_1");
    assert!(
        denied.contains("the probe refuses `hook_probe` (hook `hooks`)"),
        "{denied}"
    );
    // after-tool-call rewrote the second call's output.
    let rewritten = tool_output(&bodies[2], "call_2");
    assert!(rewritten.contains("[redacted]"), "{rewritten}");
    assert!(!rewritten.contains("a secret"), "{rewritten}");
}
