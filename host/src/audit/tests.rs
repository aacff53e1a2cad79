use std::path::Path;

use serde_json::{Value, json};
use wharf_config::features::FeatureRegistry;
use wharf_config::{ApprovalPolicy, Config, ConfigOptions};
use wharf_model::models::ModelInfo;
use wharf_runtime::pipeline::{self, ToolCall};

use super::*;
use crate::agent::tests::Setup;

fn config(home: &Path) -> Config {
    let options = ConfigOptions {
        wharf_home: home.to_path_buf(),
        cwd: home.to_path_buf(),
        ..ConfigOptions::default()
    };
    Config::load(&options, &FeatureRegistry::default()).unwrap()
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[test]
fn secrets_the_schema_marks_are_redacted_at_any_depth() {
    let cases = [
        (
            "writeOnly property",
            json!({"properties": {"token": {"type": "string", "writeOnly": true}}}),
            json!({"token": "sk-1", "name": "a"}),
            json!({"token": REDACTED, "name": "a"}),
        ),
        (
            "password format, nested",
            json!({"properties": {"auth": {"properties": {"pw": {"format": "password"}}}}}),
            json!({"auth": {"pw": "hunter2", "user": "me"}}),
            json!({"auth": {"pw": REDACTED, "user": "me"}}),
        ),
        (
            "items of an array",
            json!({"properties": {"keys": {"items": {"properties": {"v": {"writeOnly": true}}}}}}),
            json!({"keys": [{"v": "one", "k": 1}, {"v": "two"}]}),
            json!({"keys": [{"v": REDACTED, "k": 1}, {"v": REDACTED}]}),
        ),
        (
            "additionalProperties",
            json!({"properties": {"env": {"additionalProperties": {"writeOnly": true}}}}),
            json!({"env": {"A": "1", "B": "2"}}),
            json!({"env": {"A": REDACTED, "B": REDACTED}}),
        ),
        (
            "a $ref into $defs",
            json!({"$defs": {"secret": {"type": "string", "format": "password"}},
                   "properties": {"pw": {"$ref": "#/$defs/secret"}}}),
            json!({"pw": "x"}),
            json!({"pw": REDACTED}),
        ),
        (
            "anyOf",
            json!({"anyOf": [{"properties": {"pw": {"writeOnly": true}}}]}),
            json!({"pw": "x", "other": "y"}),
            json!({"pw": REDACTED, "other": "y"}),
        ),
        (
            "a whole object marked secret",
            json!({"properties": {"creds": {"writeOnly": true}}}),
            json!({"creds": {"user": "u", "pw": "p"}}),
            json!({"creds": REDACTED}),
        ),
        (
            "nothing marked",
            json!({"properties": {"cmd": {"type": "string"}}}),
            json!({"cmd": "ls"}),
            json!({"cmd": "ls"}),
        ),
        (
            "a $ref cycle ends",
            json!({"$defs": {"node": {"properties": {"next": {"$ref": "#/$defs/node"}}}},
                   "$ref": "#/$defs/node"}),
            json!({"next": {"next": {"next": 1}}}),
            json!({"next": {"next": {"next": 1}}}),
        ),
    ];
    for (what, schema, mut args, expected) in cases {
        // A record copies the arguments to redact them only where the
        // schema marks something: a schema that redacts must say so.
        let marked = record::marks_secret(&schema, 0);
        let original = args.clone();
        redact(&schema, &mut args);
        assert_eq!(args, expected, "{what}");
        assert_eq!(marked, args != original, "{what}");
    }
}

/// The records of calls run through the pipeline, one per call.
fn run_calls(
    setup: &Setup,
    policy: ApprovalPolicy,
    calls: &[(&str, Value)],
) -> (tempfile::TempDir, Vec<Value>) {
    let home = tempfile::tempdir().unwrap();
    let log = AuditLog::new(dir(home.path()), &config(home.path()), MAX_BYTES, KEEP);
    let mut session = setup.session(&ModelInfo::unknown("text-model"));
    session.approval_policy = Some(policy);
    for (n, (tool, args)) in calls.iter().enumerate() {
        let call = ToolCall {
            call_id: format!("c{n}").as_str().into(),
            tool: (*tool).to_owned(),
            args: args.to_string(),
        };
        let resolved = pipeline::resolve(&setup.plugins, &call);
        let outcome = match &resolved {
            Some(resolved) => pipeline::run(&setup.plugins, &session, resolved, None),
            None => pipeline::unknown_tool(&call),
        };
        assert_eq!(
            log.record(&session, &call, resolved.as_ref(), &outcome),
            None
        );
    }
    // Written behind the calls: flushed to be read.
    log.flush().unwrap();
    let records = lines(&dir(home.path()).join(FILE));
    (home, records)
}

fn decisions(record: &Value) -> Vec<String> {
    record["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| format!("{} {} {}", d["stage"], d["verdict"], d["by"]).replace('"', ""))
        .collect()
}

#[test]
fn a_record_says_what_each_stage_decided_and_never_holds_the_output() {
    let setup = Setup::new();
    let (_home, records) = run_calls(
        &setup,
        ApprovalPolicy::Never,
        &[
            ("run", json!({"cmd": "secret-output"})),
            ("nope", json!({"a": 1})),
        ],
    );
    let [ran, unknown] = records.as_slice() else {
        panic!("{records:?}");
    };
    assert_eq!(ran["session"], "thread-1");
    assert_eq!(ran["tool"], "run");
    assert_eq!(ran["plugin"], "commands");
    assert_eq!(ran["arguments"], json!({"cmd": "secret-output"}));
    assert_eq!(ran["approval_policy"], "never");
    assert_eq!(ran["sandbox"], "workspace-write");
    assert_eq!(
        decisions(ran),
        [
            "feature allow feature_flag",
            "model_capabilities allow model",
            "arguments allow schema",
            "approval allow policy",
            "grant allow grant",
            "invoke allow plugin",
        ]
    );
    assert_eq!(ran["outcome"]["status"], "ok");
    assert_eq!(ran["outcome"]["exit_code"], 0);
    assert!(ran["outcome"]["output_bytes"].as_u64().unwrap() > 0);
    assert_eq!(ran["grant"]["exec"], true);
    // The output (which repeats the command) is not in the record but
    // through the arguments.
    assert_eq!(ran.to_string().matches("secret-output").count(), 1);
    let time = ran["time"].as_str().unwrap();
    assert!(time.ends_with('Z') && time.len() == 24, "{time}");

    assert_eq!(decisions(unknown), ["resolve deny registry"]);
    assert_eq!(unknown["outcome"]["status"], "denied");
    assert_eq!(unknown["arguments"], json!({"unrecorded_bytes": 7}));
}

#[test]
fn a_call_nobody_can_approve_is_recorded_as_denied_by_the_approval_stage() {
    let setup = Setup::new();
    let (_home, records) = run_calls(
        &setup,
        ApprovalPolicy::Untrusted,
        &[("patch", json!({"input": "x"}))],
    );
    let [denied] = records.as_slice() else {
        panic!("{records:?}");
    };
    assert_eq!(
        decisions(denied).last().map(String::as_str),
        Some("approval deny no_approver")
    );
    assert_eq!(denied["outcome"]["status"], "denied");
    assert!(
        denied["outcome"]["error"]
            .as_str()
            .unwrap()
            .contains("needs approval"),
        "{denied}"
    );
    assert!(denied.get("grant").is_none());
}

#[test]
fn the_log_rotates_past_its_size_keeping_a_bounded_number_of_files() {
    let home = tempfile::tempdir().unwrap();
    let audit = dir(home.path());
    std::fs::create_dir_all(&audit).unwrap();
    let line = |n: usize| format!("{{\"n\":{n}}}\n");
    let log = AuditLog::new(audit.clone(), &config(home.path()), 100, 2);
    for n in 0..40 {
        log.append(line(n).as_bytes()).unwrap();
    }
    let names: Vec<String> = files(&audit)
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["audit.2.jsonl", "audit.1.jsonl", "audit.jsonl"]);
    // Oldest first, each file within its size, the newest lines kept.
    let numbers: Vec<u64> = files(&audit)
        .iter()
        .flat_map(|path| {
            assert!(std::fs::metadata(path).unwrap().len() <= 100);
            lines(path)
        })
        .map(|record| record["n"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers.last(), Some(&39));
    assert!(numbers.windows(2).all(|w| w[0] + 1 == w[1]), "{numbers:?}");
}

#[test]
fn concurrent_sessions_interleave_whole_lines() {
    let home = tempfile::tempdir().unwrap();
    let audit = dir(home.path());
    let config = config(home.path());
    let logs: Vec<AuditLog> = (0..4)
        .map(|_| AuditLog::new(audit.clone(), &config, 4096, 3))
        .collect();
    std::thread::scope(|scope| {
        for (writer, log) in logs.iter().enumerate() {
            scope.spawn(move || {
                for n in 0..200 {
                    let line = format!(
                        "{{\"writer\":{writer},\"n\":{n},\"pad\":\"{}\"}}\n",
                        "x".repeat(40)
                    );
                    log.append(line.as_bytes()).unwrap();
                }
            });
        }
    });
    for path in files(&audit) {
        // Every line is whole JSON.
        let records = lines(&path);
        assert!(!records.is_empty(), "{}", path.display());
    }
    assert!(audit.join("audit.3.jsonl").exists());
    assert!(!audit.join("audit.4.jsonl").exists());
}

#[test]
fn a_record_that_cannot_be_written_warns_once() {
    let setup = Setup::new();
    let home = tempfile::tempdir().unwrap();
    // The audit directory cannot be made: a file is in its place.
    std::fs::write(dir(home.path()), "").unwrap();
    let log = AuditLog::of(&config(home.path())).unwrap();
    let session = setup.session(&ModelInfo::unknown("text-model"));
    let call = ToolCall {
        call_id: "c".into(),
        tool: "run".to_owned(),
        args: json!({"cmd": "x"}).to_string(),
    };
    let outcome = pipeline::call(&setup.plugins, &session, &call);
    assert!(outcome.result.is_ok());
    let warning = log.record(&session, &call, None, &outcome).unwrap();
    assert!(warning.contains("cannot write the audit log"), "{warning}");
    assert_eq!(log.record(&session, &call, None, &outcome), None);
}

#[test]
fn the_log_is_this_users_only() {
    use std::os::unix::fs::PermissionsExt as _;
    let home = tempfile::tempdir().unwrap();
    let log = AuditLog::new(dir(home.path()), &config(home.path()), MAX_BYTES, KEEP);
    log.append(b"{}\n").unwrap();
    let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir(home.path())), 0o700);
    assert_eq!(mode(&dir(home.path()).join(FILE)), 0o600);
}

/// What is the same for every call of a tool is serialized once, and made
/// again when it changes (here the session's policy): a record never
/// carries another call's context.
#[test]
fn a_tools_context_is_serialized_once_and_again_when_it_changes() {
    let setup = Setup::new();
    let home = tempfile::tempdir().unwrap();
    let log = AuditLog::new(dir(home.path()), &config(home.path()), MAX_BYTES, KEEP);
    let mut session = setup.session(&ModelInfo::unknown("text-model"));
    for (n, policy) in [
        ApprovalPolicy::Never,
        ApprovalPolicy::Never,
        ApprovalPolicy::OnRequest,
    ]
    .into_iter()
    .enumerate()
    {
        session.approval_policy = Some(policy);
        let call = ToolCall {
            call_id: format!("c{n}").as_str().into(),
            tool: "run".to_owned(),
            args: json!({"cmd": "true"}).to_string(),
        };
        let resolved = pipeline::resolve(&setup.plugins, &call).unwrap();
        let outcome = pipeline::run(&setup.plugins, &session, &resolved, None);
        assert_eq!(log.record(&session, &call, Some(&resolved), &outcome), None);
    }
    log.flush().unwrap();
    let records = lines(&dir(home.path()).join(FILE));
    let [first, second, third] = records.as_slice() else {
        panic!("{records:?}");
    };
    let context = |record: &Value| {
        let mut record = record.clone();
        for varies in ["time", "call_id", "timings_us"] {
            record.as_object_mut().unwrap().remove(varies);
        }
        record
    };
    assert_eq!(context(first), context(second));
    assert_eq!(second["call_id"], "c1");
    assert_eq!(first["approval_policy"], "never");
    assert_eq!(third["approval_policy"], "on-request");
    assert_eq!(third["grant"], first["grant"]);
    assert_eq!(third["plugin"], "commands");
}
