//! `wharf exec` as a user with a local model meets it: a provider serving
//! models wharf does not know, no usage reported, text streamed slowly,
//! answers that may be empty. Against the scripted model server on
//! 127.0.0.1 (Chat Completions, as llama.cpp and Ollama serve it).

use std::io::Read as _;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;
use wharf_tests::model_server::{ModelServer, Quirks, Turn};

use crate::Env;

/// `wharf exec` against `server` (provider `scripted`, Chat Completions),
/// with `extra` arguments before the prompt.
fn exec(env: &Env, server: &ModelServer, extra: &[&str], prompt: &str) -> crate::Output {
    let flags = crate::provider_flags(server, "chat");
    let mut args: Vec<&str> = flags.iter().map(String::as_str).collect();
    args.extend(["exec", "--skip-git-repo-check"]);
    args.extend_from_slice(extra);
    args.push(prompt);
    env.wharf(&args)
}

/// The names of the tools a Chat request offered.
fn offered(body: &Value) -> Vec<String> {
    body["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|tool| tool["function"]["name"].as_str().map(str::to_owned))
        .collect()
}

fn json_lines(stdout: &str) -> Vec<Value> {
    stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|err| panic!("{err}: {line}")))
        .collect()
}

#[test]
fn the_one_model_a_provider_serves_is_used_without_a_model_key() {
    let env = Env::new();
    let server = ModelServer::start([Turn::text("Hi.").into()]).unwrap();
    server.push_model_list(wharf_tests::model_server::Reply::openai_model_list(&[
        "smollm2-135m",
    ]));
    let output = exec(&env, &server, &[], "hello").success();
    assert_eq!(server.bodies()[0]["model"], "smollm2-135m");
    assert!(
        output
            .stderr
            .contains("model smollm2-135m: the only one provider `scripted` serves\n"),
        "{}",
        output.stderr
    );
    assert!(!output.stderr.contains("warning"), "{}", output.stderr);
}

#[test]
fn a_model_the_provider_does_not_list_is_warned_about_and_sent() {
    let env = Env::new();
    let server = ModelServer::start([Turn::text("Hi.").into()]).unwrap();
    server.push_model_list(wharf_tests::model_server::Reply::openai_model_list(&[
        "smollm2-135m",
        "qwen2.5-0.5b",
    ]));
    let output = exec(&env, &server, &["-m", "gpt-5.1-codex"], "hello").success();
    assert!(
        output.stderr.contains(
            "warning: provider `scripted` does not list the model gpt-5.1-codex (it serves \
             smollm2-135m, qwen2.5-0.5b); the request may fail: check -m or `model`\n"
        ),
        "{}",
        output.stderr
    );
    // The user's choice stands: the request says what was asked.
    assert_eq!(server.bodies()[0]["model"], "gpt-5.1-codex");

    // A listed model is not warned about.
    let server = ModelServer::start([Turn::text("Hi.").into()]).unwrap();
    server.push_model_list(wharf_tests::model_server::Reply::openai_model_list(&[
        "smollm2-135m",
        "qwen2.5-0.5b",
    ]));
    let env = Env::new();
    let output = exec(&env, &server, &["-m", "qwen2.5-0.5b"], "hello").success();
    assert!(!output.stderr.contains("warning"), "{}", output.stderr);
}

#[test]
fn usage_a_server_does_not_report_is_unknown_not_zero() {
    let quirks = Quirks {
        no_usage: true,
        ..Quirks::default()
    };
    let env = Env::new();
    let server = ModelServer::start_with(quirks, [Turn::text("Hi.").into()]).unwrap();
    let output = exec(&env, &server, &["-m", "local"], "hello").success();
    assert!(
        output
            .stderr
            .contains("tokens used: unknown (the provider reported no usage)\n"),
        "{}",
        output.stderr
    );

    let server = ModelServer::start_with(quirks, [Turn::text("Hi.").into()]).unwrap();
    let output = exec(&env, &server, &["-m", "local", "--json"], "hello").success();
    let events = json_lines(&output.stdout);
    let completed = events.last().unwrap();
    assert_eq!(completed["type"], "turn.completed");
    assert_eq!(completed["usage"], Value::Null, "{completed}");

    // Reported, it is the figure.
    let server = ModelServer::start([Turn::text("Hi.").with_usage(7, 3).into()]).unwrap();
    let output = exec(&env, &server, &["-m", "local", "--json"], "hello").success();
    let events = json_lines(&output.stdout);
    assert_eq!(events.last().unwrap()["usage"]["total_tokens"], 10);
}

#[test]
fn the_answer_is_shown_once_as_it_streams_and_json_keeps_its_items() {
    let env = Env::new();
    let answer = "The answer, in two deltas.";
    let server = ModelServer::start([Turn::text(answer).into()]).unwrap();
    let output = exec(&env, &server, &["-m", "local"], "hello").success();
    // stdout is a pipe: the answer is there for scripts.
    assert_eq!(output.stdout, format!("{answer}\n"));
    assert_eq!(
        output.stderr.matches(answer).count(),
        1,
        "{}",
        output.stderr
    );
    assert!(
        output.stderr.contains(&format!("\nagent: {answer}\n")),
        "{}",
        output.stderr
    );

    let server = ModelServer::start([Turn::text(answer).into()]).unwrap();
    let output = exec(&env, &server, &["-m", "local", "--json"], "hello").success();
    let kinds: Vec<String> = json_lines(&output.stdout)
        .iter()
        .map(|event| {
            let item = event["item"]["type"].as_str().unwrap_or("");
            format!("{} {item}", event["type"].as_str().unwrap_or("?"))
                .trim()
                .to_owned()
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "thread.started",
            "turn.started",
            "item.completed user_message",
            "item.completed agent_message",
            "turn.completed",
        ]
    );
    assert!(!output.stderr.contains(answer), "{}", output.stderr);
}

/// What a child wrote on stderr so far, read on a thread.
fn collect_stderr(child: &mut std::process::Child) -> Arc<Mutex<Vec<u8>>> {
    let collected = Arc::new(Mutex::new(Vec::new()));
    let mut stderr = child.stderr.take().unwrap();
    let sink = Arc::clone(&collected);
    std::thread::spawn(move || {
        let mut buffer = [0u8; 256];
        while let Ok(read) = stderr.read(&mut buffer) {
            if read == 0 {
                break;
            }
            sink.lock().unwrap().extend_from_slice(&buffer[..read]);
        }
    });
    collected
}

#[test]
fn text_reaches_stderr_while_the_model_is_still_writing() {
    let env = Env::new();
    let answer = "Streaming, slowly, as a CPU model writes.";
    // The first reply stops in the middle of the message for long enough
    // to look at stderr, then drops; the retry answers whole.
    let server = ModelServer::start([
        Turn::text(answer).idle_mid_item(Duration::from_secs(4)),
        Turn::text(answer).into(),
    ])
    .unwrap();
    let flags = crate::provider_flags(&server, "chat");
    let mut child = env
        .command(env!("CARGO_BIN_EXE_wharf"))
        .args(&flags)
        .args(["exec", "--skip-git-repo-check", "-m", "local", "hello"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = collect_stderr(&mut child);
    let first_half = "agent: Streaming, slowly,";
    let deadline = Instant::now() + Duration::from_secs(30);
    let seen = loop {
        let text = String::from_utf8_lossy(&stderr.lock().unwrap()).into_owned();
        if text.contains(first_half) || Instant::now() > deadline {
            break text;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    // Shown before the response completed: only the first request was made
    // and the message is not complete on stderr.
    assert!(seen.contains(first_half), "{seen}");
    assert!(!seen.contains(answer), "{seen}");
    assert_eq!(server.request_count(), 1);

    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    assert!(child.wait().unwrap().success());
    assert_eq!(stdout, format!("{answer}\n"));
    let text = String::from_utf8_lossy(&stderr.lock().unwrap()).into_owned();
    assert!(
        text.contains("(the response was interrupted and starts again)\nagent: "),
        "{text}"
    );
    assert!(text.contains(&format!("agent: {answer}\n")), "{text}");
}

#[test]
fn an_empty_final_answer_is_a_warning() {
    let env = Env::new();
    let server = ModelServer::start([Turn::new().into()]).unwrap();
    let output = exec(&env, &server, &["-m", "local"], "hello").success();
    assert_eq!(output.stdout, "");
    assert!(
        output.stderr.contains(
            "warning: the model's final answer is empty (it ended the turn without text)\n"
        ),
        "{}",
        output.stderr
    );
    // An answer is not warned about.
    let server = ModelServer::start([Turn::text("Done.").into()]).unwrap();
    let output = exec(&env, &server, &["-m", "local"], "hello").success();
    assert!(!output.stderr.contains("empty"), "{}", output.stderr);
}

#[test]
fn a_model_wharf_does_not_know_gets_the_command_tool_the_features_choose() {
    let env = Env::new();
    let server = ModelServer::start([Turn::text("ok").into()]).unwrap();
    exec(&env, &server, &["-m", "mystery-model"], "hello").success();
    let tools = offered(&server.bodies()[0]);
    assert!(tools.iter().any(|t| t == "exec_command"), "{tools:?}");
    assert!(!tools.iter().any(|t| t == "shell"), "{tools:?}");

    let server = ModelServer::start([Turn::text("ok").into()]).unwrap();
    let flags = crate::provider_flags(&server, "chat");
    let mut args: Vec<&str> = flags.iter().map(String::as_str).collect();
    args.extend([
        "--disable",
        "unified_exec",
        "exec",
        "--skip-git-repo-check",
        "-m",
        "mystery-model",
        "hello",
    ]);
    env.wharf(&args).success();
    let tools = offered(&server.bodies()[0]);
    assert!(tools.iter().any(|t| t == "shell"), "{tools:?}");
    assert!(!tools.iter().any(|t| t == "exec_command"), "{tools:?}");
}

/// A recording of a real llama-cpp-python session (see
/// `cli/tests/fixtures/llama-cpp/README.md`).
fn recorded(name: &str) -> String {
    format!(
        "{}/tests/fixtures/llama-cpp/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// `wharf exec --replay` of recording `name` with the feature flags it was
/// recorded with, in a workspace holding `notes.txt`.
fn replay(env: &Env, name: &str, disabled: &[&str], prompt: &str) -> crate::Output {
    std::fs::write(env.cwd().join("notes.txt"), "hello from wharf\n").unwrap();
    let path = recorded(name);
    let mut args = Vec::new();
    for feature in disabled {
        args.extend(["--disable", feature]);
    }
    args.extend([
        "-s",
        "workspace-write",
        "exec",
        "--skip-git-repo-check",
        "--replay",
        &path,
        prompt,
    ]);
    env.wharf(&args)
}

#[test]
fn a_recorded_llama_cpp_answer_replays() {
    let env = Env::new();
    let output = replay(
        &env,
        "text-answer.jsonl",
        &[
            "unified_exec",
            "shell_tool",
            "apply_patch",
            "plan_tool",
            "view_image",
        ],
        "Say hello in one short sentence.",
    )
    .success();
    assert!(
        output
            .stdout
            .ends_with("\"I'm here to help with your coding challenges.\"\n"),
        "{}",
        output.stdout
    );
    assert!(
        output.stderr.contains("model smollm2-135m")
            && output.stderr.contains("tokens used: 204\n"),
        "{}",
        output.stderr
    );
}

#[test]
fn a_recorded_llama_cpp_tool_session_runs_its_calls_for_real() {
    let env = Env::new();
    let output = replay(
        &env,
        "shell-call.jsonl",
        &["unified_exec", "apply_patch", "plan_tool", "view_image"],
        "Call the shell tool with command [\"cat\", \"notes.txt\"], then tell me what the file \
         says.",
    );
    // The model never answered: the replay runs out after its four calls.
    assert_eq!(output.code, 1, "{}", output.stderr);
    let stderr = &output.stderr;
    for shown in [
        "the command is empty: put the program and its arguments in `command`",
        "/directory_to_edit/indexed-file.html,: no such directory",
        "&#34;bash: command not found",
        "/../*/*file.html: no such directory",
        "the session asked for request 5 but the recording",
    ] {
        assert!(stderr.contains(shown), "{shown:?} not in:\n{stderr}");
    }
}
