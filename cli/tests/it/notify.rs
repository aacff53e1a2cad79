//! `notify` through the binary against the scripted model server: after a
//! completed turn the program gets codex's payload as its last argument,
//! with the environment `[shell_environment_policy]` gives commands; a
//! failed turn notifies nobody; a program that cannot start is a warning;
//! and a trusted project's file cannot choose the program (it would run
//! outside the sandbox after every turn).

use std::path::Path;

use serde_json::{Value, json};
use wharf_tests::model_server::{ModelServer, Reply, Turn};

use crate::plan::{events, exec};
use crate::provider_flags;
use crate::{Env, display};

/// A `notify` setting: `sh -c SCRIPT FILE`, so that the script sees the
/// file as `$0` and the payload as `$1`.
fn notify_setting(script: &str, file: &Path) -> String {
    let argv = json!(["/bin/sh", "-c", script, display(file)]);
    format!("notify = {argv}\n")
}

/// Writes the payload to `file`.
fn payload_to(file: &Path) -> String {
    notify_setting(r#"printf '%s' "$1" > "$0""#, file)
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn a_completed_turn_notifies_with_codexs_payload() {
    let env = Env::new();
    let out = env.dir.path().join("payload.json");
    env.write_config(&payload_to(&out));
    let server = ModelServer::start([Turn::text("All done.").into()]).unwrap();
    let flags = provider_flags(&server, "responses");
    let output = exec(&env, &flags, &["--json"], "fix the bug").success();
    let thread_id = events(&output)
        .into_iter()
        .find(|event| event["type"] == "thread.started")
        .unwrap()["thread_id"]
        .clone();
    // wharf waits for its notifier before it exits.
    let payload = read_json(&out);
    let turn_id = payload["turn-id"].clone();
    assert!(
        turn_id.as_str().is_some_and(|id| !id.is_empty()),
        "{payload}"
    );
    assert_eq!(
        payload,
        json!({
            "type": "agent-turn-complete",
            "thread-id": thread_id,
            "turn-id": turn_id,
            "cwd": display(&env.cwd()),
            "input-messages": ["fix the bug"],
            "last-assistant-message": "All done."
        })
    );
    // Nothing of the notifier reached wharf's output.
    assert!(!output.stderr.contains("notify"), "{}", output.stderr);
}

#[test]
fn a_failed_turn_notifies_nobody() {
    let env = Env::new();
    let out = env.dir.path().join("payload.json");
    env.write_config(&payload_to(&out));
    let server = ModelServer::start([
        Reply::error(500, "overloaded"),
        Reply::error(500, "overloaded"),
    ])
    .unwrap();
    let output = exec(&env, &provider_flags(&server, "responses"), &[], "hi");
    assert_eq!(output.code, 1, "{}", output.stderr);
    assert!(!out.exists(), "notified after a failed turn");
}

#[test]
fn the_notifier_gets_the_commands_environment() {
    let env = Env::new();
    let out = env.dir.path().join("env.txt");
    env.write_config(&format!(
        "{}[shell_environment_policy]\nexclude = [\"DROP_ME\"]\nset = {{ ADDED = \"2\" }}\n",
        notify_setting(r#"env > "$0""#, &out)
    ));
    let server = ModelServer::start([Turn::text("ok").into()]).unwrap();
    let flags = provider_flags(&server, "responses");
    let mut args: Vec<&str> = flags.iter().map(String::as_str).collect();
    args.extend(["exec", "--skip-git-repo-check", "-m", "gpt-5.1-codex", "hi"]);
    let vars = [
        ("KEEP_ME", "1"),
        ("DROP_ME", "x"),
        ("OPENAI_API_KEY", "sk-test"),
        ("MY_SECRET", "y"),
    ];
    env.wharf_with_vars(&args, &vars).success();
    let seen = std::fs::read_to_string(&out).unwrap();
    let names: Vec<&str> = seen
        .lines()
        .filter_map(|line| line.split_once('=').map(|(name, _)| name))
        .collect();
    for present in ["KEEP_ME", "ADDED", "PATH"] {
        assert!(names.contains(&present), "{present} missing:\n{seen}");
    }
    for absent in ["DROP_ME", "OPENAI_API_KEY", "MY_SECRET"] {
        assert!(!names.contains(&absent), "{absent} leaked:\n{seen}");
    }
}

#[test]
fn a_notifier_that_cannot_start_is_a_warning() {
    let env = Env::new();
    let missing = env.dir.path().join("no-such-notifier");
    env.write_config(&format!("notify = [{:?}]\n", display(&missing)));
    let server = ModelServer::start([Turn::text("ok").into()]).unwrap();
    let output = exec(&env, &provider_flags(&server, "responses"), &[], "hi").success();
    assert_eq!(output.stdout, "ok\n");
    assert!(
        output.stderr.lines().any(|line| {
            line.starts_with("warning: notify: cannot run `") && line.contains("no-such-notifier")
        }),
        "{}",
        output.stderr
    );
}

#[test]
fn a_trusted_projects_notify_is_ignored() {
    let env = Env::new();
    let out = env.dir.path().join("payload.json");
    std::fs::create_dir_all(env.cwd().join(".git")).unwrap();
    let project_file = env.cwd().join(".wharf/config.toml");
    std::fs::create_dir_all(project_file.parent().unwrap()).unwrap();
    std::fs::write(&project_file, payload_to(&out)).unwrap();
    env.wharf(&["trust"]).success();
    let server = ModelServer::start([Turn::text("ok").into()]).unwrap();
    let output = exec(&env, &provider_flags(&server, "responses"), &[], "hi").success();
    assert!(!out.exists(), "the project's notify ran");
    assert!(
        output
            .stderr
            .lines()
            .any(|line| line.starts_with("warning: ")
                && line.contains("`notify`: a project file cannot choose a program")),
        "{}",
        output.stderr
    );
}
