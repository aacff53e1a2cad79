//! The `telemetry` capability through the binary, against a real OTLP
//! collector on loopback (`wharf_tests::otlp_receiver`) that decodes what
//! arrives: over HTTP (protobuf and JSON) and gRPC, with the events named
//! `wharf.*`, their attributes, the prompt redacted unless asked for, and
//! a collector that hangs or is down costing at most the flush timeout.

use std::time::{Duration, Instant};

use serde_json::json;
use wharf_tests::model_server::{ModelServer, Turn};
use wharf_tests::otlp_receiver::{OtlpReceiver, Record, Transport};

use crate::{Env, Output, provider_flags};

const PROMPT: &str = "count the files PROMPT-7d1e";

/// One `wharf exec` that runs a command through `exec_command`, then
/// answers, with `[otel]` as `otel` (a TOML table's body) and `extra`
/// arguments before `exec`, and `vars` in its environment.
fn session(env: &Env, otel: &str, extra: &[&str], vars: &[(&str, &str)]) -> (ModelServer, Output) {
    env.write_config(&format!("[otel]\n{otel}\n"));
    let server = ModelServer::start([
        Turn::function_call(
            "exec_command",
            json!({ "cmd": "echo hi", "login": false, "yield_time_ms": 30000 }),
        )
        .with_usage(12, 3)
        .into(),
        Turn::text("done").with_usage(20, 4).into(),
    ])
    .unwrap();
    let mut args = provider_flags(&server, "responses");
    args.extend(extra.iter().map(|arg| (*arg).to_owned()));
    args.extend(
        [
            "exec",
            "--skip-git-repo-check",
            "-m",
            "gpt-5.1-codex",
            PROMPT,
        ]
        .map(str::to_owned),
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = env.wharf_with_vars(&args, vars).success();
    (server, output)
}

fn named<'a>(records: &'a [Record], event_name: &str) -> Vec<&'a Record> {
    records
        .iter()
        .filter(|record| record.event_name == event_name)
        .collect()
}

/// What every export of a session must hold, whatever the transport.
fn check_session_events(records: &[Record]) {
    for name in [
        "wharf.conversation_starts",
        "wharf.user_prompt",
        "wharf.api_request",
        "wharf.sse_event",
        "wharf.tool_decision",
        "wharf.tool_result",
        "wharf.plugin_load",
    ] {
        assert!(
            !named(records, name).is_empty(),
            "no {name} among {:#?}",
            records.iter().map(|r| &r.event_name).collect::<Vec<_>>()
        );
    }
    let starts = named(records, "wharf.conversation_starts")[0];
    assert_eq!(starts.attributes["model"], "gpt-5.1-codex");
    assert!(!starts.attributes["conversation.id"].is_empty());
    assert_eq!(starts.attributes["app.version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(starts.resource["service.name"], "wharf");
    let result = named(records, "wharf.tool_result")
        .into_iter()
        .find(|record| record.attributes["tool_name"] == "exec_command")
        .expect("the exec_command call's result");
    assert_eq!(result.attributes["success"], "true");
    assert_eq!(result.attributes["plugin"], "unified-exec");
    assert!(result.attributes.contains_key("duration_ms"));
    // The turn's span gives its events the conversation and the model.
    assert_eq!(
        result.attributes["conversation.id"],
        starts.attributes["conversation.id"]
    );
    let decision = named(records, "wharf.tool_decision")[0];
    assert!(decision.attributes.contains_key("stage"));
    assert!(decision.attributes.contains_key("decision"));
    let loads = named(records, "wharf.plugin_load");
    assert!(
        loads
            .iter()
            .any(|load| load.attributes["plugin"] == "apply-patch"
                && load.attributes.contains_key("duration_ms")),
        "{loads:#?}"
    );
}

#[test]
fn events_reach_an_otlp_http_collector_as_protobuf_with_the_prompt_redacted() {
    let env = Env::new();
    let receiver = OtlpReceiver::http().unwrap();
    let otel = format!(
        "environment = \"ci\"\n\
         exporter = {{ otlp-http = {{ endpoint = \"{}\", headers = {{ \"x-api-key\" = \"k-123\" }} }} }}",
        receiver.http_endpoint()
    );
    let (_server, output) = session(&env, &otel, &[], &[]);
    // Flushed at exit: everything is there once the command returns.
    let records = receiver.records();
    check_session_events(&records);
    let exports = receiver.exports();
    assert!(exports.iter().all(|e| e.transport == Transport::HttpBinary));
    assert!(exports.iter().all(|e| e.path == "/v1/logs"));
    assert_eq!(exports[0].headers["x-api-key"], "k-123");
    let prompt = named(&records, "wharf.user_prompt")[0];
    assert_eq!(prompt.attributes["prompt"], "[REDACTED]");
    assert_eq!(
        prompt.attributes["prompt_length"],
        PROMPT.chars().count().to_string()
    );
    assert_eq!(records[0].resource["deployment.environment"], "ci");
    // No exported record holds the prompt's text.
    let all = format!("{records:?}");
    assert!(!all.contains("PROMPT-7d1e"), "{all}");
    assert!(!output.stderr.contains("otel"), "{}", output.stderr);
}

#[test]
fn log_user_prompt_sends_the_text_over_otlp_http_json() {
    let env = Env::new();
    let receiver = OtlpReceiver::http().unwrap();
    let otel = format!(
        "log_user_prompt = true\n\
         exporter = {{ otlp-http = {{ endpoint = \"{}\", protocol = \"json\" }} }}",
        receiver.http_endpoint()
    );
    session(&env, &otel, &[], &[]);
    let records = receiver.records();
    check_session_events(&records);
    assert!(
        receiver
            .exports()
            .iter()
            .all(|e| e.transport == Transport::HttpJson)
    );
    assert_eq!(
        named(&records, "wharf.user_prompt")[0].attributes["prompt"],
        PROMPT
    );
}

#[test]
fn events_reach_an_otlp_grpc_collector_with_their_metadata() {
    let env = Env::new();
    let receiver = OtlpReceiver::grpc().unwrap();
    let otel = format!(
        "exporter = {{ otlp-grpc = {{ endpoint = \"{}\", headers = {{ \"x-tenant\" = \"acme\" }} }} }}",
        receiver.grpc_endpoint()
    );
    session(&env, &otel, &[], &[]);
    check_session_events(&receiver.records());
    let exports = receiver.exports();
    assert!(exports.iter().all(|e| e.transport == Transport::Grpc));
    assert_eq!(exports[0].headers["x-tenant"], "acme");
}

/// A collector that accepts and never answers, or one that is not there:
/// the session ends normally, and the hanging one costs at most the flush
/// timeout at exit (the export would wait forever otherwise).
#[test]
fn a_hanging_or_absent_collector_costs_at_most_the_flush_timeout() {
    let hanging = OtlpReceiver::hanging().unwrap();
    let absent = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        format!("http://127.0.0.1:{port}")
    };
    for (endpoint, grpc) in [
        (hanging.http_endpoint(), false),
        (hanging.grpc_endpoint(), true),
        (format!("{absent}/v1/logs"), false),
        (absent.clone(), true),
    ] {
        let env = Env::new();
        let kind = if grpc { "otlp-grpc" } else { "otlp-http" };
        let otel = format!(
            "flush_timeout_ms = 500\nexporter = {{ {kind} = {{ endpoint = \"{endpoint}\" }} }}"
        );
        let started = Instant::now();
        let (_server, output) = session(&env, &otel, &[], &[]);
        let took = started.elapsed();
        assert!(
            took < Duration::from_secs(20),
            "{kind} to {endpoint}: took {took:?}"
        );
        assert!(output.stdout.contains("done"), "{}", output.stdout);
        assert!(
            !output.stderr.contains("otel") && !output.stderr.contains("OTLP"),
            "a collector's trouble is not the user's: {}",
            output.stderr
        );
    }
}

/// `--disable telemetry` turns the user's export off; a forced `[otel]`
/// from the requirements exports all the same.
#[test]
fn the_feature_turns_the_users_export_off_but_not_a_forced_one() {
    let receiver = OtlpReceiver::http().unwrap();
    let otel = format!(
        "exporter = {{ otlp-http = {{ endpoint = \"{}\" }} }}",
        receiver.http_endpoint()
    );
    let env = Env::new();
    session(&env, &otel, &["--disable", "telemetry"], &[]);
    assert_eq!(receiver.records(), []);

    let forced = OtlpReceiver::http().unwrap();
    let env = Env::new();
    let requirements = env.home().join("requirements.toml");
    std::fs::write(
        &requirements,
        format!(
            "[otel]\nenvironment = \"fleet\"\nexporter = {{ otlp-http = {{ endpoint = \"{}\" }} }}\n",
            forced.http_endpoint()
        ),
    )
    .unwrap();
    let vars = [("WHARF_REQUIREMENTS", requirements.to_str().unwrap())];
    session(&env, &otel, &["--disable", "telemetry"], &vars);
    // The requirements' collector, not the user's.
    assert_eq!(receiver.records(), []);
    let records = forced.records();
    check_session_events(&records);
    assert_eq!(records[0].resource["deployment.environment"], "fleet");
}

/// An exporter that cannot be built (a TLS file that is not there, a
/// client certificate without its key) is one warning naming the key and
/// the file; the session runs, nothing is exported.
#[test]
fn a_tls_file_that_does_not_read_is_a_warning_and_no_export() {
    let receiver = OtlpReceiver::http().unwrap();
    for (tls, expected) in [
        (
            "tls = { ca-certificate = \"certs/missing-ca.pem\" }",
            "[otel] ca-certificate: cannot read ",
        ),
        (
            "tls = { client-certificate = \"/etc/hostname\" }",
            "[otel] tls: `client-certificate` and `client-private-key` go together",
        ),
    ] {
        let env = Env::new();
        let otel = format!(
            "exporter = {{ otlp-http = {{ endpoint = \"{}\", {tls} }} }}",
            receiver.http_endpoint()
        );
        let (_server, output) = session(&env, &otel, &[], &[]);
        assert!(
            output.stderr.contains(expected)
                && output.stderr.contains("nothing is exported this run"),
            "{}",
            output.stderr
        );
        if tls.contains("missing-ca") {
            assert!(
                output.stderr.contains(
                    &env.wharf_home()
                        .join("certs/missing-ca.pem")
                        .display()
                        .to_string()
                ),
                "the path is read from $WHARF_HOME: {}",
                output.stderr
            );
        }
        assert!(output.stdout.contains("done"));
    }
    assert_eq!(receiver.records(), []);
}
