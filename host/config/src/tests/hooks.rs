//! `[hooks]`: every layer's hooks add up, in order; a project's only when
//! the project is trusted; `-c` adds its own; codex's events wharf lacks
//! warn.

use std::time::Duration;

use super::Fixture;
use crate::hooks::{DEFAULT_HOOK_TIMEOUT, HookEventName};

fn hook(event: &str, matcher: &str, command: &str, extra: &str) -> String {
    format!(
        "[[hooks.{event}]]\nmatcher = \"{matcher}\"\n[[hooks.{event}.hooks]]\ntype = \
         \"command\"\ncommand = \"{command}\"\n{extra}\n"
    )
}

/// (command, event, required, timeout) of each hook, in order.
fn loaded(config: &crate::Config) -> Vec<(String, HookEventName, bool, Duration)> {
    config
        .hooks
        .commands
        .iter()
        .map(|hook| {
            (
                hook.command.clone(),
                hook.event,
                hook.required,
                hook.timeout,
            )
        })
        .collect()
}

#[test]
fn every_layer_adds_its_hooks_project_first() {
    let fixture = Fixture::new();
    fixture.project_config(&hook("PreToolUse", "x", "project", ""));
    fixture.user_config(&hook(
        "PreToolUse",
        "",
        "user",
        "required = true\ntimeout = 5",
    ));
    // Untrusted: the project's hooks are not read.
    let config = fixture.load();
    assert_eq!(
        loaded(&config),
        [(
            "user".to_owned(),
            HookEventName::PreToolUse,
            true,
            Duration::from_secs(5)
        )]
    );
    fixture.trust();
    let config = fixture.load_with(|options| {
        options
            .overrides
            .push("hooks.SessionEnd=[{hooks=[{type=\"command\",command=\"flag\"}]}]".to_owned());
    });
    let config = config.unwrap();
    let commands: Vec<String> = loaded(&config).into_iter().map(|hook| hook.0).collect();
    assert_eq!(commands, ["project", "user", "flag"]);
    let project = &config.hooks.commands[0];
    assert!(
        project.matches("x") && !project.matches("xy"),
        "{project:?}"
    );
    assert_eq!(project.timeout, DEFAULT_HOOK_TIMEOUT);
    assert!(
        project.origin.contains(".wharf/config.toml:1:"),
        "{}",
        project.origin
    );
    assert!(config.hooks.commands[1].matches("anything"));
}

#[test]
fn events_and_handlers_wharf_does_not_run_warn() {
    let fixture = Fixture::new();
    let path = fixture.user_config(&format!(
        "{}{}",
        hook("Stop", "", "a", ""),
        "[[hooks.PreToolUse]]\n[[hooks.PreToolUse.hooks]]\ntype = \"prompt\"\n"
    ));
    let config = fixture.load();
    assert!(config.hooks.commands.is_empty());
    let at = path.display().to_string();
    assert!(
        config.warnings.iter().any(|w| w.starts_with(&at)
            && w.contains("`hooks.Stop`: wharf has no `Stop` event (ignored")),
        "{:?}",
        config.warnings
    );
    assert!(
        config
            .warnings
            .iter()
            .any(|w| w.contains("only `type = \"command\"` hooks run")),
        "{:?}",
        config.warnings
    );
}

#[test]
fn malformed_hooks_are_errors_with_their_place() {
    // (file, the start of the error after `file:`)
    let cases = [
        (
            "[hooks]\nPreToolUse = 3\n",
            "2:14: hooks.PreToolUse: invalid type",
        ),
        (
            "[[hooks.PreToolUse]]\n[[hooks.PreToolUse.hooks]]\ntype = \"shell\"\n",
            "3:8: hooks.PreToolUse.0.hooks.0.type: unknown variant `shell`",
        ),
        (
            "[[hooks.PreToolUse]]\nmatcher = \"(\"\n[[hooks.PreToolUse.hooks]]\ntype = \
             \"command\"\ncommand = \"x\"\n",
            "1:9: hooks.PreToolUse: `matcher` is not a regular expression",
        ),
        (
            "[[hooks.PreToolUse]]\n[[hooks.PreToolUse.hooks]]\ntype = \"command\"\ncommand = \
             \"x\"\ntimeout = 0\n",
            "1:9: hooks.PreToolUse: `timeout` is in seconds",
        ),
    ];
    for (text, expected) in cases {
        let fixture = Fixture::new();
        let path = fixture.user_config(text);
        let err = fixture.load_with(|_| {}).unwrap_err().to_string();
        let expected = format!("{}:{expected}", path.display());
        assert!(
            err.starts_with(&expected),
            "{text}\n{err}\nexpected {expected}"
        );
    }
}
