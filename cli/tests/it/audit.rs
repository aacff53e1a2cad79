//! The audit log through the real binary: what a call's record holds (and
//! never holds), which stage and what decided a denial, secrets redacted,
//! rotation, `wharf audit`, and tools that try to change the log.

use serde_json::{Value, json};
use wharf_tests::mcp_servers::PYTHON_STDIO_SERVER;
use wharf_tests::model_server::{ModelServer, Turn};

use super::*;
use crate::escapes::on_a_terminal;

const WORKSPACE_WRITE: &[&str] = &["-s", "workspace-write"];

fn audit_file(env: &Env) -> PathBuf {
    env.wharf_home().join("audit/audit.jsonl")
}

fn records(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// The only record of the log, after one call.
#[track_caller]
fn only_record(env: &Env) -> Value {
    let mut all = records(&audit_file(env));
    assert_eq!(all.len(), 1, "{all:?}");
    all.remove(0)
}

fn decisions(record: &Value) -> Vec<String> {
    record["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| format!("{} {} {}", d["stage"], d["verdict"], d["by"]).replace('"', ""))
        .collect()
}

fn command_args(cmd: &str) -> String {
    json!({ "cmd": cmd, "login": false }).to_string()
}

fn tool_call(env: &Env, flags: &[&str], tool: &str, args: &str) -> Output {
    let mut words = flags.to_vec();
    words.extend(["tool", "call", tool, "--args", args]);
    env.wharf(&words)
}

#[test]
fn an_allowed_call_is_recorded_without_its_output() {
    let env = Env::new();
    // The output says `marker-7`; the arguments do not.
    tool_call(
        &env,
        WORKSPACE_WRITE,
        "exec_command",
        &command_args("printf 'mark%s' er-7"),
    )
    .success();
    let record = only_record(&env);
    assert_eq!(record["tool"], "exec_command");
    assert_eq!(record["plugin"], "unified-exec");
    assert_eq!(record["origin"], "builtin");
    assert!(record["session"].as_str().unwrap().starts_with("tool-"));
    assert_eq!(record["arguments"]["cmd"], "printf 'mark%s' er-7");
    assert_eq!(
        decisions(&record),
        [
            "feature allow feature_flag",
            "model_capabilities allow no_model",
            "arguments allow schema",
            "approval allow no_policy",
            "grant allow grant",
            "invoke allow plugin",
        ]
    );
    assert_eq!(record["outcome"]["status"], "ok");
    assert_eq!(record["outcome"]["exit_code"], 0);
    assert!(record["outcome"]["output_bytes"].as_u64().unwrap() > 0);
    assert!(record["timings_us"]["total"].as_u64().unwrap() > 0);
    let text = std::fs::read_to_string(audit_file(&env)).unwrap();
    assert!(!text.contains("marker-7"), "{text}");
}

/// A model's calls in `wharf exec` are recorded under the thread's id,
/// with the artifact's sha256 of a WASM plugin.
#[test]
fn a_models_calls_are_recorded_with_the_plugins_sha256() {
    let env = Env::new();
    let plan = json!({"plan": [{"step": "Audit", "status": "in_progress"}]});
    let server = ModelServer::start([
        Turn::function_call("update_plan", plan).into(),
        Turn::text("Done.").into(),
    ])
    .unwrap();
    let mut args: Vec<String> = provider_flags(&server, "responses");
    args.extend(
        [
            "exec",
            "--skip-git-repo-check",
            "--json",
            "-m",
            "gpt-5.1-codex",
            "plan",
        ]
        .map(str::to_owned),
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = env.wharf(&args).success();
    let thread = output
        .stdout
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .find(|event| event["type"] == "thread.started")
        .unwrap()["thread_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let record = only_record(&env);
    assert_eq!(record["session"], thread.as_str());
    assert_eq!(record["tool"], "update_plan");
    assert_eq!(record["origin"], "builtin");
    let sha = record["sha256"].as_str().unwrap();
    assert!(
        sha.len() == 64 && sha.chars().all(|c| c.is_ascii_hexdigit()),
        "{sha}"
    );
    assert!(decisions(&record).contains(&"model_capabilities allow model".to_owned()));
    assert_eq!(record["outcome"]["status"], "ok");
}

/// Under `untrusted`, a command that writes needs approval: refused with
/// nobody to ask, refused by the user who says no, run when they say yes;
/// each record names the approval stage and who decided.
#[test]
fn an_approval_records_the_stage_and_who_decided() {
    let flags = ["-a", "untrusted", "-s", "workspace-write"];
    let env = Env::new();
    tool_call(&env, &flags, "exec_command", &command_args("touch made")).fails_with(1);
    let record = only_record(&env);
    assert_eq!(
        decisions(&record).last().map(String::as_str),
        Some("approval deny no_approver")
    );
    assert_eq!(record["outcome"]["status"], "denied");
    assert!(
        record["outcome"]["error"]
            .as_str()
            .unwrap()
            .contains("needs approval"),
        "{record}"
    );
    assert!(record.get("grant").is_none(), "{record}");

    for (answer, expected) in [("n", "approval deny user"), ("y", "approval allow user")] {
        let env = Env::new();
        let mut words = vec![env!("CARGO_BIN_EXE_wharf")];
        words.extend(flags);
        let args = command_args("touch made");
        words.extend(["tool", "call", "exec_command", "--args", &args]);
        let line: Vec<String> = words.into_iter().map(shell_quote).collect();
        on_a_terminal(&env, &line.join(" "), &format!("{answer}\n"));
        let record = only_record(&env);
        assert!(
            decisions(&record).contains(&expected.to_owned()),
            "{answer}: {record}"
        );
        assert_eq!(env.cwd().join("made").exists(), answer == "y");
    }
}

#[test]
fn a_call_refused_by_the_sandbox_is_recorded_so() {
    let env = Env::new();
    let outside = env.home().join("outside.txt");
    // A command the sandbox denies a write.
    tool_call(
        &env,
        WORKSPACE_WRITE,
        "exec_command",
        &command_args(&format!("touch {}", outside.display())),
    );
    // A patch outside the writable roots: no change is made.
    let patch = format!(
        "*** Begin Patch\n*** Add File: {}\n+x\n*** End Patch\n",
        outside.display()
    );
    tool_call(
        &env,
        WORKSPACE_WRITE,
        "apply_patch",
        &json!({ "input": patch }).to_string(),
    )
    .fails_with(1);
    assert!(!outside.exists());
    let all = records(&audit_file(&env));
    let [command, patch] = all.as_slice() else {
        panic!("{all:?}");
    };
    assert_eq!(
        decisions(command).last().map(String::as_str),
        Some("invoke deny sandbox")
    );
    assert_eq!(command["outcome"]["status"], "failed");
    assert_eq!(
        decisions(patch).last().map(String::as_str),
        Some("apply deny sandbox")
    );
    assert_eq!(patch["outcome"]["status"], "denied");
    assert!(patch["outcome"].get("changes").is_none(), "{patch}");
}

/// An MCP server's tool whose schema marks arguments secret, nested:
/// `format: password` and `writeOnly`. It answers with what it got.
const SECRET_SERVER: &str = r#"
for method, id, params in requests():
    if method == "initialize":
        answer_initialize(id, params, "secrets", {"tools": {}})
    elif method == "tools/list":
        send({"jsonrpc": "2.0", "id": id, "result": {"tools": [{
            "name": "login", "description": "logs in",
            "inputSchema": {"type": "object", "properties": {
                "user": {"type": "string"},
                "auth": {"type": "object", "properties": {
                    "password": {"type": "string", "format": "password"},
                    "tokens": {"type": "array", "items": {"type": "string", "writeOnly": True}}}}}}}]}})
    elif method == "tools/call":
        send({"jsonrpc": "2.0", "id": id, "result": {
            "content": [{"type": "text", "text": json.dumps(params.get("arguments"))}]}})
    elif id is not None:
        send({"jsonrpc": "2.0", "id": id, "error": {"code": -32601, "message": "no"}})
"#;

#[test]
fn secret_arguments_are_redacted_however_deep() {
    let env = Env::new();
    let script = env.cwd().join("secret_server.py");
    std::fs::write(&script, format!("{PYTHON_STDIO_SERVER}{SECRET_SERVER}")).unwrap();
    env.write_config(&format!(
        "[mcp_servers.secrets]\ncommand = \"python3\"\nargs = [{:?}]\n",
        script.display().to_string()
    ));
    let args = json!({
        "user": "alice",
        "auth": {"password": "hunter2-pw", "tokens": ["tok-one", "tok-two"]}
    });
    let called = env
        .wharf(&[
            "tool",
            "call",
            "mcp__secrets__login",
            "--args",
            &args.to_string(),
        ])
        .success();
    assert!(called.stdout.contains("hunter2-pw"), "{}", called.stdout);
    let record = only_record(&env);
    assert_eq!(
        record["arguments"],
        json!({"user": "alice", "auth": {"password": "[redacted]", "tokens": ["[redacted]", "[redacted]"]}})
    );
    assert_eq!(record["plugin"], "mcp-secrets");
    assert_eq!(
        record["mcp"],
        json!({"server": "secrets", "command": "python3"})
    );
    let text = std::fs::read_to_string(audit_file(&env)).unwrap();
    for secret in ["hunter2-pw", "tok-one", "tok-two"] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
}

/// A full log is rotated at the next call: `audit.jsonl` becomes
/// `audit.1.jsonl`, and so on, the fifth dropped; `wharf audit` reads them
/// oldest first.
#[test]
fn the_log_rotates_and_is_read_oldest_first() {
    let env = Env::new();
    tool_call(&env, &[], "update_plan", r#"{"plan": []}"#).success();
    let template = only_record(&env);
    let line = |session: &str| {
        let mut record = template.clone();
        record["session"] = session.into();
        format!("{record}\n")
    };
    let dir = env.wharf_home().join("audit");
    for n in 1..=5 {
        std::fs::write(dir.join(format!("audit.{n}.jsonl")), line(&format!("r{n}"))).unwrap();
    }
    let full = line("full");
    let copies = usize::try_from(16 * 1024 * 1024 / full.len() as u64 + 1).unwrap();
    std::fs::write(dir.join("audit.jsonl"), full.repeat(copies)).unwrap();

    tool_call(&env, &[], "update_plan", r#"{"plan": []}"#).success();
    let listed = env.wharf(&["audit", "--json"]).success();
    assert!(listed.stderr.is_empty(), "{}", listed.stderr);
    let sessions: Vec<String> = listed
        .stdout
        .lines()
        .map(|line| {
            serde_json::from_str::<Value>(line).unwrap()["session"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(sessions.len(), 4 + copies + 1);
    assert_eq!(sessions[..4], ["r4", "r3", "r2", "r1"]);
    assert!(sessions[4..4 + copies].iter().all(|s| s == "full"));
    assert!(sessions.last().unwrap().starts_with("tool-"));
    assert_eq!(records(&dir.join("audit.jsonl")).len(), 1);
    assert!(!dir.join("audit.6.jsonl").exists());
}

#[test]
fn wharf_audit_filters_by_session_escapes_and_skips_corrupt_lines() {
    let env = Env::new();
    tool_call(&env, &[], "update_plan", r#"{"plan": []}"#).success();
    tool_call(&env, &[], "update_plan", r#"{"plan": 1}"#).fails_with(2);
    let all = records(&audit_file(&env));
    let first = all[0]["session"].as_str().unwrap().to_owned();
    assert_ne!(all[1]["session"], first.as_str());
    // A record whose text would drive the terminal, and a broken line.
    let mut forged = all[0].clone();
    forged["tool"] = "\u{1b}]0;pwned\u{7}".into();
    let mut text = std::fs::read_to_string(audit_file(&env)).unwrap();
    text.push_str(&format!("{forged}\nnot json\n"));
    std::fs::write(audit_file(&env), text).unwrap();

    let shown = env.wharf(&["audit", "--session", &first]).success();
    let lines: Vec<&str> = shown.stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{}", shown.stdout);
    assert!(lines[0].contains(&first) && lines[0].contains("update_plan  allowed  ok"));
    assert!(lines[1].contains(r"\x1b]0;pwned\x07"), "{}", lines[1]);
    assert!(!shown.stdout.contains('\u{1b}'));
    let at = format!(
        "{}:4: not an audit record (skipped)",
        audit_file(&env).display()
    );
    assert!(shown.stderr.contains(&at), "{}", shown.stderr);

    let denied = env.wharf(&["audit"]).success();
    assert!(
        denied
            .stdout
            .contains("denied at arguments by schema  denied: invalid arguments"),
        "{}",
        denied.stdout
    );
    let json = env
        .wharf(&["audit", "--json", "--session", &first])
        .success();
    let kept: Vec<Value> = json
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(kept[1]["tool"], "\u{1b}]0;pwned\u{7}");
}

/// What a tool tries against the log.
const ATTACKS: &[&str] = &[
    ": > AUDIT",
    "echo '{\"forged\":1}' >> AUDIT",
    "truncate -s 0 AUDIT",
    "rm -f AUDIT",
    "mv AUDIT AUDIT.old",
    "mv $(dirname AUDIT) $(dirname AUDIT).old",
];

/// `wharf -s workspace-write tool call TOOL --args ARGS` as `user`, with
/// `home` as wharf's home.
fn call_as(env: &Env, user: User, home: &Path, tool: &str, args: &str) {
    let mut command = env.wharf_as(user);
    command
        .env("WHARF_HOME", home)
        .args(WORKSPACE_WRITE)
        .args(["tool", "call", tool, "--args", args])
        .output()
        .unwrap();
}

/// Commands and patches that try to write, truncate, remove or move the
/// log, as root and as nobody, with wharf's home apart from the working
/// directory (a workspace-write session) and inside it (read-only, as
/// wharf makes it then): the log keeps every record, whole.
#[test]
fn a_tool_cannot_write_or_truncate_the_audit_log() {
    for user in users() {
        for inside in [false, true] {
            let env = env_for(user);
            let home = if inside {
                let home = env.cwd().join("state/.wharf");
                std::fs::create_dir_all(&home).unwrap();
                if user == User::Nobody {
                    chown_tree(&env.cwd().join("state"));
                }
                home
            } else {
                env.wharf_home()
            };
            let what = format!("{user:?}, home inside the working directory: {inside}");
            let audit = home.join("audit/audit.jsonl");
            call_as(&env, user, &home, "update_plan", r#"{"plan": []}"#);
            let before = std::fs::read_to_string(&audit).unwrap();
            assert_eq!(before.lines().count(), 1, "{what}");
            let path = audit.display().to_string();
            let mut calls = 1;
            for attack in ATTACKS {
                let script = attack.replace("AUDIT", &path);
                call_as(&env, user, &home, "exec_command", &command_args(&script));
                calls += 1;
            }
            for patch in [
                format!("*** Begin Patch\n*** Delete File: {path}\n*** End Patch\n"),
                format!("*** Begin Patch\n*** Add File: {path}.new\n+forged\n*** End Patch\n"),
                format!(
                    "*** Begin Patch\n*** Update File: {path}\n@@\n-{}\n+forged\n*** End Patch\n",
                    before.trim_end()
                ),
            ] {
                let args = json!({ "input": patch }).to_string();
                call_as(&env, user, &home, "apply_patch", &args);
                calls += 1;
            }
            let after = std::fs::read_to_string(&audit).unwrap();
            assert!(after.starts_with(&before), "{what}: {after}");
            // One record per call, each whole: nothing was added, cut or
            // replaced but by wharf.
            let kept = records(&audit);
            assert_eq!(kept.len(), calls, "{what}: {after}");
            assert!(
                kept.iter().all(|r| r["tool"].is_string()),
                "{what}: {after}"
            );
            // Each attempt was refused (by the sandbox, or the plugin could
            // not even read the file).
            let refused = kept[1..]
                .iter()
                .filter(|r| r["outcome"]["status"] != "ok")
                .count();
            assert_eq!(refused, calls - 1, "{what}: {after}");
            assert!(!home.join("audit.old").exists(), "{what}");
            assert!(!home.join("audit/audit.jsonl.old").exists(), "{what}");
            assert!(!home.join("audit/audit.jsonl.new").exists(), "{what}");
        }
    }
}

/// A log that cannot be written is a warning, and the call goes on.
#[test]
fn a_log_that_cannot_be_written_is_a_warning_not_a_failure() {
    let env = Env::new();
    // The audit directory cannot be made: a file is in its place.
    std::fs::write(env.wharf_home().join("audit"), "").unwrap();
    let output = tool_call(&env, &[], "update_plan", r#"{"plan": []}"#).success();
    assert_eq!(
        output.stderr.matches("cannot write the audit log").count(),
        1,
        "{}",
        output.stderr
    );
    assert!(output.stdout.contains("Plan updated"), "{}", output.stdout);
    // Turned off, nothing is tried.
    let off = tool_call(
        &env,
        &["-c", "audit.enabled=false"],
        "update_plan",
        r#"{"plan": []}"#,
    )
    .success();
    assert!(!off.stderr.contains("audit"), "{}", off.stderr);
}

/// A trusted project's file cannot turn the log off: the key is ignored
/// with a warning, and the call is recorded.
#[test]
fn a_project_file_cannot_turn_the_log_off() {
    let env = Env::new();
    std::fs::create_dir_all(env.cwd().join(".wharf")).unwrap();
    std::fs::write(
        env.cwd().join(".wharf/config.toml"),
        "[audit]\nenabled = false\n",
    )
    .unwrap();
    env.wharf(&["trust"]).success();
    let output = tool_call(&env, &[], "update_plan", r#"{"plan": []}"#).success();
    assert!(
        output
            .stderr
            .contains("`audit.enabled`: a project file cannot change the audit log"),
        "{}",
        output.stderr
    );
    only_record(&env);
}
