//! wharf's own log, `$WHARF_HOME/log/wharf.log`: a session leaves its
//! events there with their fields (and nothing on stdout or stderr),
//! `WHARF_LOG`/`RUST_LOG` choose what is written, and neither a prompt's
//! text, a tool's output, the API key nor an environment value reaches
//! it, at any level.

use std::os::unix::fs::PermissionsExt as _;
use std::path::PathBuf;

use serde_json::{Value, json};
use wharf_tests::model_server::{ModelServer, Reply, Turn};

use crate::{Env, provider_flags};

const PROMPT: &str = "show me PROMPT-MARKER-51c2";
const API_KEY: &str = "sk-LOGTEST-9e0d4b";
const ENV_SECRET: &str = "ENV-SECRET-77aa";
const FILE_SECRET: &str = "FILE-SECRET-3f1b";
const REPLY: &str = "REPLY-MARKER-c0de";

fn log_path(env: &Env) -> PathBuf {
    env.wharf_home().join("log").join("wharf.log")
}

fn read_log(env: &Env) -> String {
    std::fs::read_to_string(log_path(env)).unwrap_or_default()
}

/// A session that reads a file with a secret through `exec_command`, then
/// answers; run with `vars` (besides the API key and a secret variable).
fn session(env: &Env, vars: &[(&str, &str)]) -> (ModelServer, crate::Output) {
    std::fs::write(env.cwd().join("secret.txt"), format!("{FILE_SECRET}\n")).unwrap();
    let server = ModelServer::start([
        Turn::function_call(
            "exec_command",
            // Waits for the end of `cat` (not the default yield), so its
            // output is in the call's, however slow the machine.
            json!({ "cmd": "cat secret.txt", "login": false, "yield_time_ms": 30000 }),
        )
        .with_usage(12, 3)
        .into(),
        Turn::text(REPLY).with_usage(20, 4).into(),
    ])
    .unwrap();
    let mut args = provider_flags(&server, "responses");
    args.extend(
        [
            "-c",
            "model_providers.scripted.env_key=SCRIPTED_KEY",
            "-s",
            "workspace-write",
            "exec",
            "--json",
            "--skip-git-repo-check",
            "-m",
            "gpt-5.1-codex",
            PROMPT,
        ]
        .map(str::to_owned),
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut all = vec![("SCRIPTED_KEY", API_KEY), ("MY_SECRET", ENV_SECRET)];
    all.extend_from_slice(vars);
    let output = env.wharf_with_vars(&args, &all).success();
    (server, output)
}

/// The lines of `log` whose target is `target`.
fn lines<'a>(log: &'a str, target: &str) -> Vec<&'a str> {
    let needle = format!(" {target}: ");
    log.lines().filter(|line| line.contains(&needle)).collect()
}

#[test]
fn a_session_leaves_its_events_and_their_fields_in_the_log() {
    let env = Env::new();
    let (server, output) = session(&env, &[]);
    assert_eq!(server.bodies().len(), 2, "{}", output.stderr);
    // The request carried the key: the test would prove nothing otherwise.
    let auth = server.requests()[0]
        .header("authorization")
        .map(str::to_owned);
    assert_eq!(auth.as_deref(), Some(format!("Bearer {API_KEY}").as_str()));
    let events: Vec<Value> = output
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|err| panic!("{err}: {line}")))
        .collect();
    let thread_id = events[0]["thread_id"].as_str().unwrap().to_owned();

    let log = read_log(&env);
    let conversation = format!("conversation.id=\"{thread_id}\"");
    let prompt_length = format!("prompt_length={}", PROMPT.chars().count());
    // (target, what one of its lines holds)
    let expected: &[(&str, &[&str])] = &[
        ("wharf.start", &["wharf started", "app.version="]),
        (
            "wharf.plugin_load",
            &["plugin=\"unified-exec\"", "loaded=true", "duration_ms="],
        ),
        (
            "wharf.conversation_starts",
            &[&conversation, "model=\"gpt-5.1-codex\"", "app.version="],
        ),
        ("wharf.user_prompt", &[&prompt_length, &conversation]),
        (
            "wharf.api_request",
            &[
                "model request done",
                "attempt=1",
                "duration_ms=",
                // In its own span, within the turn's.
                ":model_request: ",
                &conversation,
            ],
        ),
        (
            "wharf.tool_result",
            &[
                "tool_name=\"exec_command\"",
                "success=true",
                "duration_ms=",
                "output_bytes=",
                &conversation,
            ],
        ),
        ("wharf.turn", &["turn completed", "input_tokens=32"]),
    ];
    for (target, fields) in expected {
        let found = lines(&log, target);
        assert!(
            found
                .iter()
                .any(|line| fields.iter().all(|field| line.contains(field))),
            "no {target} line with {fields:?} in:\n{log}"
        );
    }
    // A call let through has no decision line at the default filter (a
    // denial has; every decision is exported).
    assert!(lines(&log, "wharf.tool_decision").is_empty(), "{log}");
    // The log is the user's alone.
    let mode = std::fs::metadata(log_path(&env))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    // Nothing of it on the terminal's streams.
    for stream in [&output.stdout, &output.stderr] {
        assert!(!stream.contains("wharf.api_request"), "{stream}");
    }
}

#[test]
fn no_prompt_output_key_or_environment_value_is_logged_at_any_level() {
    for filter in ["", "info", "trace"] {
        let env = Env::new();
        let vars: &[(&str, &str)] = if filter.is_empty() {
            &[]
        } else {
            &[("WHARF_LOG", filter)]
        };
        let (_server, output) = session(&env, vars);
        // The secret file was read, and its text reached the model's side.
        assert!(output.stdout.contains(FILE_SECRET), "{}", output.stdout);
        let log = read_log(&env);
        assert!(
            log.contains("wharf.tool_result"),
            "WHARF_LOG={filter}:\n{log}"
        );
        // At trace, every streamed event is there (its kind, not its text).
        if filter == "trace" {
            for text in ["wharf.sse_event", "event.kind=", "input_token_count=12"] {
                assert!(log.contains(text), "no {text:?} in:\n{log}");
            }
        }
        for secret in [
            PROMPT,
            "PROMPT-MARKER",
            API_KEY,
            ENV_SECRET,
            FILE_SECRET,
            REPLY,
        ] {
            assert!(
                !log.contains(secret),
                "WHARF_LOG={filter:?}: {secret:?} is in the log:\n{log}"
            );
        }
    }
}

/// The variables of a run.
type Vars = &'static [(&'static str, &'static str)];

#[test]
fn wharf_log_then_rust_log_choose_what_is_written() {
    // (variables, whether the log directory exists, what the log holds,
    // what it does not)
    let cases: &[(Vars, bool, &[&str], &[&str])] = &[
        (&[], true, &["wharf.start", "wharf.plugin_load"], &[]),
        (&[("WHARF_LOG", "off")], false, &[], &[]),
        (&[("RUST_LOG", "off")], false, &[], &[]),
        (
            &[("WHARF_LOG", "off"), ("RUST_LOG", "debug")],
            false,
            &[],
            &[],
        ),
        (
            &[("WHARF_LOG", "wharf.plugin_load=info")],
            true,
            &["wharf.plugin_load"],
            &["wharf.start"],
        ),
        (
            &[("RUST_LOG", "wharf.start=info")],
            true,
            &["wharf.start"],
            &["wharf.plugin_load"],
        ),
        // Below every event: nothing written.
        (&[("WHARF_LOG", "error")], true, &[], &["wharf"]),
    ];
    for (vars, exists, holds, lacks) in cases {
        let env = Env::new();
        let output = env.wharf_with_vars(&["tool", "list"], vars).success();
        assert_eq!(
            env.wharf_home().join("log").exists(),
            *exists,
            "{vars:?}: {}",
            output.stderr
        );
        let log = read_log(&env);
        for text in *holds {
            assert!(log.contains(text), "{vars:?}: no {text:?} in:\n{log}");
        }
        for text in *lacks {
            assert!(!log.contains(text), "{vars:?}: {text:?} in:\n{log}");
        }
        assert!(
            !output.stderr.contains("warning"),
            "{vars:?}: {}",
            output.stderr
        );
    }
}

#[test]
fn a_filter_that_does_not_parse_is_one_warning_and_the_default() {
    let env = Env::new();
    let output = env
        .wharf_with_vars(&["tool", "list"], &[("WHARF_LOG", "wharf=loud")])
        .success();
    let warnings: Vec<&str> = output
        .stderr
        .lines()
        .filter(|line| line.starts_with("warning:"))
        .collect();
    assert_eq!(warnings.len(), 1, "{}", output.stderr);
    assert!(warnings[0].contains("WHARF_LOG"), "{}", warnings[0]);
    assert!(read_log(&env).contains("wharf.plugin_load"));
}

#[test]
fn a_log_directory_that_cannot_be_made_is_one_warning_and_the_command_runs() {
    for user in crate::users() {
        let env = crate::env_for(user);
        // A file where the directory goes: no user, root included, can
        // make the directory.
        std::fs::write(env.wharf_home().join("log"), "not a directory").unwrap();
        let mut command = env.wharf_as(user);
        let output = command.args(["tool", "list"]).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{user:?}: {stderr}");
        assert!(
            String::from_utf8_lossy(&output.stdout).contains("exec_command"),
            "{user:?}"
        );
        let warnings: Vec<&str> = stderr
            .lines()
            .filter(|line| line.starts_with("warning:"))
            .collect();
        assert_eq!(warnings.len(), 1, "{user:?}: {stderr}");
        assert!(
            warnings[0].contains("cannot write wharf's log"),
            "{user:?}: {stderr}"
        );
    }
}

#[test]
fn a_providers_error_cannot_forge_log_lines_or_reach_a_terminal_raw() {
    let env = Env::new();
    let forged =
        "bad request\n2026-01-01T00:00:00Z  INFO wharf.tool_result: FORGED \x1b[2J\x1b]0;title\x07";
    let server = ModelServer::start([Reply::error(400, forged)]).unwrap();
    let mut args = provider_flags(&server, "responses");
    args.extend(["exec", "--skip-git-repo-check", "-m", "gpt-5.1-codex", "hi"].map(str::to_owned));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = env.wharf(&args).fails_with(1);
    let log = read_log(&env);
    // The message is logged, on the line of its event, escaped.
    let failed = lines(&log, "wharf.api_request");
    assert!(
        failed.iter().any(|line| line.contains("FORGED")),
        "{}\n{log}",
        output.stderr
    );
    assert!(
        !log.lines().any(|line| line.starts_with("2026-01-01")),
        "a forged line:\n{log}"
    );
    assert!(!log.contains('\x1b') && !log.contains('\x07'), "{log:?}");
}
