//! Hooks (`WHARF_BENCH=hooks`): the trivial call with one WASM
//! `before-tool-call` hook (the hook test guest, which allows it) against
//! the same call with no hook (target: ≤ 30 µs p50 added), and with one
//! command hook (`exit 0`, a process in the sandbox) for scale. Samples
//! alternate between the sessions so that drift falls on all of them.

use std::sync::Arc;
use std::time::{Duration, Instant};

use wharf_config::Config;
use wharf_config::hooks::{CommandHookConfig, HookEventName};
use wharf_runtime::hooks::Hooks;
use wharf_runtime::hooks::command::CommandHook;
use wharf_runtime::pipeline::{self, Session};
use wharf_runtime::plugin::manifest::{HookSelection, HookedEvent};
use wharf_runtime::registry::Plugins;
use wharf_runtime::wasm::{WasmHook, WasmRuntime};

const HOOKS_WASM: &[u8] = include_bytes!(env!("WHARF_TEST_HOOKS_WASM"));

pub fn hook_calls(plugins: &Arc<Plugins>, config: &Config) {
    let runtime = WasmRuntime::new(None).unwrap();
    let probe = Arc::new(runtime.load("hooks", HOOKS_WASM).unwrap());
    let selection = HookSelection {
        events: vec![HookedEvent::BeforeToolCall],
        tools: None,
        required: false,
    };
    let wasm = WasmHook::new(probe, selection).unwrap();
    let session = |hooks: Hooks| {
        let mut session = Session::new("bench", config, None, None, Box::new(|_| None));
        session.hooks = hooks;
        session
    };
    let none = session(Hooks::default());
    let with_wasm = session(Hooks::new(vec![Arc::new(wasm)]));
    let sandbox = Arc::clone(&none.sandbox);
    let command = CommandHookConfig {
        event: HookEventName::PreToolUse,
        matcher: None,
        command: "exit 0".to_owned(),
        timeout: Duration::from_secs(10),
        required: false,
        name: "exit-0".to_owned(),
        origin: "bench".to_owned(),
    };
    let with_command = session(Hooks::new(vec![Arc::new(CommandHook::new(
        &command, sandbox,
    ))]));

    let call = super::echo_call("echo_text");
    let time = |session: &Session| {
        let started = Instant::now();
        let outcome = pipeline::call(plugins, session, &call);
        let elapsed = started.elapsed();
        assert!(outcome.result.is_ok(), "{:?}", outcome.result);
        elapsed
    };
    for _ in 0..500 {
        time(&none);
        time(&with_wasm);
    }
    let (mut bare, mut hooked) = (Vec::new(), Vec::new());
    for _ in 0..10_000 {
        bare.push(time(&none));
        hooked.push(time(&with_wasm));
    }
    let commands: Vec<Duration> = (0..200).map(|_| time(&with_command)).collect();
    bare.sort();
    hooked.sort();
    let p50 = |samples: &[Duration]| super::percentile(samples, 0.5).as_secs_f64() * 1e6;
    let added = p50(&hooked) - p50(&bare);
    super::report("trivial call, no hook", bare);
    super::report("trivial call, one WASM before-tool-call hook", hooked);
    println!("  one WASM before-tool-call hook adds {added:.1} µs p50 (target ≤ 30 µs)");
    super::report("trivial call, one command hook (`exit 0`)", commands);
}
