//! What every request carries and what `wharf exec`'s own flags do, seen
//! from the scripted model server: the requests are asserted, not only the
//! replies. The configuration's reasoning effort and summary, verbosity,
//! personality and `tools.web_search` on both wire APIs; `--output-schema`,
//! `-i`, `--ephemeral`, and the refusal to run outside a git repository
//! unless trusted or `--skip-git-repo-check` is given.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use wharf_tests::model_server::{ModelServer, Reply, Turn};

use crate::{Env, Output};

const SKIP: &str = "--skip-git-repo-check";

/// The flags that point wharf at `server` (provider `scripted`, `wire_api`)
/// with `settings` as `-c` overrides.
fn flags(server: &ModelServer, wire_api: &str, settings: &[&str]) -> Vec<String> {
    let mut flags = crate::provider_flags(server, wire_api);
    for setting in settings {
        flags.extend(["-c".to_owned(), (*setting).to_owned()]);
    }
    flags
}

/// `wharf <flags> exec <args>` in the working directory.
fn exec(env: &Env, flags: &[String], args: &[&str]) -> Output {
    let mut all: Vec<&str> = flags.iter().map(String::as_str).collect();
    all.push("exec");
    all.extend(args);
    env.wharf(&all)
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Each case: the wire API, the model, the settings; then what the one
/// request's body must hold at these JSON pointers (`null`: absent), and a
/// warning stderr must carry (empty: none).
#[test]
fn the_configuration_reaches_the_request_as_codex_sends_it() {
    let cases: [(&str, &str, &[&str], Value, &str); 7] = [
        (
            "responses",
            "gpt-5.1",
            &[
                "model_reasoning_effort=high",
                "model_reasoning_summary=detailed",
                "model_verbosity=low",
                "tools.web_search=true",
            ],
            json!({
                "/reasoning": {"effort": "high", "summary": "detailed"},
                "/include": ["reasoning.encrypted_content"],
                "/text": {"verbosity": "low"},
                "/tools/last": {"type": "web_search"},
            }),
            "",
        ),
        (
            "responses",
            "gpt-5.1-codex",
            &[],
            json!({
                "/reasoning": {"summary": "auto"},
                "/text": null,
                "/tools/last": "not web_search",
            }),
            "",
        ),
        (
            "responses",
            "gpt-5.1-codex",
            &["model_verbosity=high", "model_reasoning_summary=none"],
            json!({"/reasoning": {}, "/text": null}),
            "model_verbosity is not sent: the model gpt-5.1-codex does not take it",
        ),
        (
            "responses",
            "gpt-4.1",
            &["model_reasoning_effort=low", "model_verbosity=low"],
            json!({"/reasoning": null, "/include": null, "/text": null}),
            "model_verbosity is not sent: the model gpt-4.1 does not take it",
        ),
        (
            "chat",
            "gpt-5.1",
            &["model_reasoning_effort=minimal", "tools.web_search=true"],
            json!({
                "/reasoning_effort": "minimal",
                "/reasoning": null,
                "/tools/last": "not web_search",
            }),
            "tools.web_search needs a provider with wire_api = \"responses\"",
        ),
        (
            "chat",
            "gpt-4.1",
            &["model_reasoning_effort=high"],
            json!({"/reasoning_effort": null}),
            "",
        ),
        (
            "chat",
            "gpt-5.1",
            &["model_verbosity=low"],
            json!({"/text": null, "/verbosity": null}),
            "",
        ),
    ];
    for (wire_api, model, settings, expected, warning) in cases {
        let name = format!("{wire_api} {model} {settings:?}");
        let env = Env::new();
        let server = ModelServer::start([Turn::text("ok").into()]).unwrap();
        let output = exec(
            &env,
            &flags(&server, wire_api, settings),
            &[SKIP, "-m", model, "hi"],
        )
        .success();
        assert_eq!(output.stdout, "ok\n", "{name}");
        let body = &server.bodies()[0];
        for (pointer, want) in expected.as_object().unwrap() {
            let got = match pointer.strip_suffix("/last") {
                Some(list) => {
                    let last = body.pointer(list).and_then(Value::as_array).unwrap().last();
                    match last {
                        Some(tool) if tool["type"] == "web_search" => tool.clone(),
                        _ => json!("not web_search"),
                    }
                }
                None => body.pointer(pointer).cloned().unwrap_or(Value::Null),
            };
            assert_eq!(&got, want, "{name}: {pointer} in {body}");
        }
        if warning.is_empty() {
            for unexpected in ["model_verbosity is not sent", "tools.web_search needs"] {
                assert!(
                    !output.stderr.contains(unexpected),
                    "{name}: {}",
                    output.stderr
                );
            }
        } else {
            assert_eq!(
                output.stderr.matches(warning).count(),
                1,
                "{name}: {}",
                output.stderr
            );
        }
    }
}

/// `personality` changes the instructions of every request, on both wires.
#[test]
fn the_personality_is_in_the_instructions() {
    for wire_api in ["responses", "chat"] {
        let mut instructions = Vec::new();
        for personality in ["none", "pragmatic", "friendly"] {
            let env = Env::new();
            let server = ModelServer::start([Turn::text("ok").into()]).unwrap();
            let setting = format!("personality={personality}");
            exec(
                &env,
                &flags(&server, wire_api, &[&setting]),
                &[SKIP, "-m", "gpt-5.1", "hi"],
            )
            .success();
            let body = &server.bodies()[0];
            let text = match wire_api {
                "responses" => body["instructions"].as_str(),
                _ => body["messages"][0]["content"].as_str(),
            };
            instructions.push(text.unwrap().to_owned());
        }
        let [none, pragmatic, friendly] = &instructions[..] else {
            panic!("{instructions:?}")
        };
        assert!(
            pragmatic.contains("Be direct and terse") && !none.contains("Be direct and terse"),
            "{wire_api}: {pragmatic}"
        );
        assert!(
            friendly.contains("Be warm and encouraging") && !none.contains("Be warm"),
            "{wire_api}: {friendly}"
        );
    }
}

/// A web search the provider made is shown and goes back to it with the
/// next request (without its id, as codex sends it); it never fails the
/// turn.
#[test]
fn a_hosted_web_search_is_shown_and_sent_back() {
    let env = Env::new();
    let search = json!({"type": "web_search_call", "id": "ws_1", "status": "completed",
                        "action": {"type": "search", "query": "wharf \u{1b}[31mrelease"}});
    let server = ModelServer::start([
        Reply::events([
            json!({"type": "response.created", "response": {"id": "r1"}}),
            json!({"type": "response.output_item.done", "item": search}),
            json!({"type": "response.output_item.done", "item": {"type": "function_call",
                   "call_id": "c1", "name": "exec_command",
                   "arguments": json!({"cmd": "echo hi", "login": false}).to_string()}}),
            json!({"type": "response.completed", "response": {"id": "r1"}}),
        ]),
        Turn::text("Found it.").into(),
    ])
    .unwrap();
    let settings = ["tools.web_search=true"];
    let mut sandboxed = flags(&server, "responses", &settings);
    sandboxed.extend(["-s".to_owned(), "workspace-write".to_owned()]);
    let output = exec(
        &env,
        &sandboxed,
        &[SKIP, "-m", "gpt-5.1-codex", "look it up"],
    )
    .success();
    assert_eq!(output.stdout, "Found it.\n");
    assert!(
        output.stderr.contains(r"web search: wharf \x1b[31mrelease"),
        "{}",
        output.stderr
    );
    let bodies = server.bodies();
    let sent: Vec<&Value> = bodies[1]["input"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|item| item["type"] == "web_search_call")
        .collect();
    assert_eq!(
        sent,
        [&json!({"type": "web_search_call", "status": "completed",
                 "action": {"type": "search", "query": "wharf \u{1b}[31mrelease"}})]
    );

    // `--json` names it as codex's exec does.
    let env = Env::new();
    let server = ModelServer::start([Reply::events([
        json!({"type": "response.output_item.done", "item": search}),
        json!({"type": "response.output_item.done", "item": {"type": "message",
               "role": "assistant", "content": [{"type": "output_text", "text": "ok"}]}}),
        json!({"type": "response.completed", "response": {"id": "r1"}}),
    ])])
    .unwrap();
    let output = exec(
        &env,
        &flags(&server, "responses", &settings),
        &[SKIP, "--json", "-m", "gpt-5.1", "look"],
    )
    .success();
    let item = output
        .stdout
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .find(|event| event["item"]["type"] == "web_search")
        .unwrap_or_else(|| panic!("{}", output.stdout));
    assert_eq!(item["type"], "item.completed");
    assert_eq!(item["item"]["query"], "wharf \u{1b}[31mrelease");
}

const SCHEMA: &str = r#"{
  "type": "object",
  "properties": {"ok": {"type": "boolean"}, "files": {"type": "array", "items": {"type": "string"}}},
  "required": ["ok", "files"],
  "additionalProperties": false
}"#;

/// `--output-schema`: the schema goes in the request (Responses
/// `text.format`, Chat `response_format`), and the final message is
/// checked: JSON matching it exits 0, anything else exits 1 naming what
/// failed.
#[test]
fn an_output_schema_constrains_and_checks_the_final_message() {
    let schema: Value = serde_json::from_str(SCHEMA).unwrap();
    let cases = [
        (r#"{"ok": true, "files": ["a.rs"]}"#, 0, ""),
        (
            "Sure! Here it is.",
            1,
            "the final message is not JSON (expected value at line 1 column 1)",
        ),
        (
            r#"{"ok": "yes", "files": []}"#,
            1,
            r#"does not match the output schema"#,
        ),
        (r#"{"files": []}"#, 1, r#""ok" is a required property"#),
        // What the model wrote reaches the terminal escaped.
        (
            r#"{"ok": true, "files": [], "\u001b]0;pwned\u0007": 1}"#,
            1,
            r"\u001b]0;pwned\u0007",
        ),
    ];
    for wire_api in ["responses", "chat"] {
        for (reply, code, problem) in cases {
            let name = format!("{wire_api}: {reply}");
            let env = Env::new();
            let path = write(&env.cwd(), "schema.json", SCHEMA.as_bytes());
            let server = ModelServer::start([Turn::text(reply).into()]).unwrap();
            let output = exec(
                &env,
                &flags(&server, wire_api, &[]),
                &[
                    SKIP,
                    "-m",
                    "gpt-5.1",
                    "--output-schema",
                    "schema.json",
                    "list",
                ],
            );
            assert_eq!(output.code, code, "{name}: {}", output.stderr);
            // The answer is printed either way: a script can show it.
            assert_eq!(output.stdout, format!("{reply}\n"), "{name}");
            if code == 0 {
                assert!(
                    !output.stderr.contains("error"),
                    "{name}: {}",
                    output.stderr
                );
            } else {
                assert!(
                    !output.stderr.contains('\u{1b}'),
                    "{name}: {:?}",
                    output.stderr
                );
                assert!(
                    output.stderr.contains(problem)
                        && output.stderr.contains(&path.display().to_string()),
                    "{name}: {}",
                    output.stderr
                );
            }
            let body = &server.bodies()[0];
            let sent = match wire_api {
                "responses" => &body["text"]["format"],
                _ => &body["response_format"],
            };
            let expected = match wire_api {
                "responses" => json!({"type": "json_schema", "name": "wharf_output_schema",
                                      "strict": true, "schema": schema}),
                _ => json!({"type": "json_schema", "json_schema": {"name": "wharf_output_schema",
                            "strict": true, "schema": schema}}),
            };
            assert_eq!(sent, &expected, "{name}");
        }
    }
}

/// A schema that cannot be used stops exec before any request, naming
/// the file and what is wrong with it.
#[test]
fn a_bad_output_schema_is_refused_before_any_request() {
    let cases: [(Option<&str>, &str); 3] = [
        (None, "cannot read the output schema"),
        (Some("{\"type\": \"object\","), "is not JSON"),
        (Some(r#"{"type": 12}"#), "is not a valid JSON Schema"),
    ];
    for (text, problem) in cases {
        let env = Env::new();
        let path = env.cwd().join("schema.json");
        if let Some(text) = text {
            std::fs::write(&path, text).unwrap();
        }
        let server = ModelServer::start([Turn::text("{}").into()]).unwrap();
        let output = exec(
            &env,
            &flags(&server, "responses", &[]),
            &[SKIP, "--output-schema", "schema.json", "list"],
        )
        .fails_with(1);
        assert!(
            output.stderr.contains(problem) && output.stderr.contains(&path.display().to_string()),
            "{problem}: {}",
            output.stderr
        );
        assert_eq!(server.request_count(), 0, "{problem}");
        assert!(crate::exec::rollouts(&env).is_empty(), "{problem}");
    }
}

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01";
const JPEG: &[u8] = &[0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F'];

/// `-i` attaches images to the prompt, before its text: `input_image`
/// data URLs on Responses, `image_url` parts on Chat; the type comes from
/// the bytes (a JPEG named `.png` is sent as a JPEG).
#[test]
fn images_are_attached_to_the_prompt_on_both_wires() {
    let png = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAAB";
    let jpeg = "data:image/jpeg;base64,/9j/4AAQSkZJRg==";
    for wire_api in ["responses", "chat"] {
        let env = Env::new();
        write(&env.cwd(), "shot.png", PNG);
        write(&env.cwd(), "photo.png", JPEG);
        let server = ModelServer::start([Turn::text("A pixel.").into()]).unwrap();
        let output = exec(
            &env,
            &flags(&server, wire_api, &[]),
            &[
                SKIP,
                "-m",
                "gpt-5.1",
                "what is this?",
                "-i",
                "shot.png,photo.png",
            ],
        )
        .success();
        assert_eq!(output.stdout, "A pixel.\n");
        let body = &server.bodies()[0];
        let (user, expected) = match wire_api {
            "responses" => (
                body["input"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .rfind(|item| item["role"] == "user")
                    .unwrap(),
                json!([
                    {"type": "input_image", "image_url": png},
                    {"type": "input_image", "image_url": jpeg},
                    {"type": "input_text", "text": "what is this?"},
                ]),
            ),
            _ => (
                body["messages"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .rfind(|message| message["role"] == "user")
                    .unwrap(),
                json!([
                    {"type": "image_url", "image_url": {"url": png}},
                    {"type": "image_url", "image_url": {"url": jpeg}},
                    {"type": "text", "text": "what is this?"},
                ]),
            ),
        };
        assert_eq!(user["content"], expected, "{wire_api}");
    }
}

/// What `-i` refuses, before any request and without a session file: a
/// model without image input (named), a missing file, a file that is not
/// an image (named, whatever its extension).
#[test]
fn images_are_refused_before_any_request() {
    let cases: [(&str, &str, &str); 6] = [
        (
            "qwen3:8b",
            "shot.png",
            "the model qwen3:8b does not read images",
        ),
        (
            "mystery-model",
            "shot.png",
            "the model mystery-model does not read images",
        ),
        (
            "gpt-5.1",
            "missing.png",
            "cannot read the image {cwd}/missing.png",
        ),
        (
            "gpt-5.1",
            "notes.png",
            "{cwd}/notes.png is not an image a model reads",
        ),
        // A directory, and a device that never ends: refused, not read
        // whole.
        ("gpt-5.1", "..", "cannot read the image {cwd}/.."),
        (
            "gpt-5.1",
            "/dev/zero",
            "the image /dev/zero is larger than 20 MiB",
        ),
    ];
    for (model, image, problem) in cases {
        let env = Env::new();
        write(&env.cwd(), "shot.png", PNG);
        write(&env.cwd(), "notes.png", b"<svg/> not a png");
        let problem = problem.replace("{cwd}", &env.cwd().display().to_string());
        let server = ModelServer::start([Turn::text("no").into()]).unwrap();
        let output = exec(
            &env,
            &flags(&server, "responses", &[]),
            &[SKIP, "-m", model, "look", "--image", image],
        )
        .fails_with(1);
        assert!(
            output.stderr.contains(&problem),
            "{problem}: {}",
            output.stderr
        );
        assert_eq!(server.request_count(), 0, "{problem}");
        assert!(crate::exec::rollouts(&env).is_empty(), "{problem}");
    }
}

/// `--ephemeral` writes no session file, for a new session and for a
/// resumed one; without it, the file is there.
#[test]
fn an_ephemeral_session_writes_no_rollout() {
    let env = Env::new();
    let server = ModelServer::start([
        Turn::text("one").into(),
        Turn::text("two").into(),
        Turn::text("three").into(),
    ])
    .unwrap();
    let flags = flags(&server, "responses", &[]);
    let output = exec(&env, &flags, &[SKIP, "--ephemeral", "first"]).success();
    assert_eq!(output.stdout, "one\n");
    assert!(
        crate::exec::rollouts(&env).is_empty(),
        "{:?}",
        crate::exec::rollouts(&env)
    );
    assert!(!output.stderr.contains("rollout"), "{}", output.stderr);

    exec(&env, &flags, &[SKIP, "second"]).success();
    let saved = crate::exec::rollouts(&env);
    assert_eq!(saved.len(), 1);
    let before = std::fs::read_to_string(&saved[0]).unwrap();
    // One more turn of it, ephemeral: the file stays as it was.
    let output = exec(
        &env,
        &flags,
        &["resume", SKIP, "--ephemeral", "--last", "third"],
    )
    .success();
    assert_eq!(output.stdout, "three\n");
    assert_eq!(std::fs::read_to_string(&saved[0]).unwrap(), before);
    assert_eq!(crate::exec::rollouts(&env), saved);
    // The resumed request did carry the saved conversation.
    let third = server.bodies()[2]["input"].to_string();
    assert!(third.contains("second") && third.contains("two"), "{third}");
}

/// Outside a git repository, exec (and exec resume) refuses unless
/// `--skip-git-repo-check` is given or the user trusted the directory;
/// inside a repository (at any depth) it runs.
#[test]
fn exec_runs_in_a_git_repository_a_trusted_project_or_when_told() {
    const REFUSAL: &str = "not inside a trusted directory or a git repository";
    // (setup, args after `exec`, refused)
    let cases: [(&str, &[&str], bool); 6] = [
        ("plain", &["hi"], true),
        ("plain", &[SKIP, "hi"], false),
        ("repository", &["hi"], false),
        ("trusted", &["hi"], false),
        ("plain", &["resume", "--last", "hi"], true),
        ("plain", &["resume", SKIP, "--last", "hi"], false),
    ];
    for (setup, args, refused) in cases {
        let name = format!("{setup} {args:?}");
        let env = Env::new();
        let server =
            ModelServer::start([Turn::text("one").into(), Turn::text("two").into()]).unwrap();
        let flags = flags(&server, "responses", &[]);
        let mut cwd = env.cwd();
        match setup {
            "repository" => {
                std::fs::create_dir(cwd.join(".git")).unwrap();
                cwd = cwd.join("src").join("deep");
                std::fs::create_dir_all(&cwd).unwrap();
            }
            "trusted" => {
                env.wharf(&["trust"]).success();
            }
            _ => {}
        }
        if args[0] == "resume" {
            exec(&env, &flags, &[SKIP, "before"]).success();
        }
        let requests = server.request_count();
        let mut all: Vec<String> = vec!["-C".to_owned(), cwd.display().to_string()];
        all.extend(flags.iter().cloned());
        all.push("exec".to_owned());
        all.extend(args.iter().map(|arg| (*arg).to_owned()));
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        let output = env.wharf(&all);
        if refused {
            let output = output.fails_with(1);
            assert!(
                output.stderr.contains(REFUSAL) && output.stderr.contains(SKIP),
                "{name}: {}",
                output.stderr
            );
            assert_eq!(server.request_count(), requests, "{name}");
        } else {
            let output = output.success();
            assert!(
                !output.stderr.contains(REFUSAL),
                "{name}: {}",
                output.stderr
            );
            assert_eq!(server.request_count(), requests + 1, "{name}");
        }
    }
}
