use std::path::Path;
use std::time::{Duration, Instant};

use wharf_config::ConfigOptions;
use wharf_config::features::FeatureRegistry;
use wharf_model::models::ModelInfo;
use wharf_sandbox::{PathEnv, Sandbox, SandboxPolicy};

use super::{Notifier, Payload};
use crate::agent::tests::{Scripted, done, message};
use crate::agent::{Event, TurnOutcome};
use crate::session::Configured;

fn sandbox(cwd: &Path) -> Sandbox {
    let env = PathEnv {
        cwd: cwd.to_path_buf(),
        tmpdir: None,
        protected: Vec::new(),
    };
    Sandbox::new(&SandboxPolicy::DangerFullAccess, &env)
}

/// `sh -c SCRIPT FILE PAYLOAD`: the script sees the file as `$0` and the
/// payload as `$1`.
fn shell(script: &str, file: &Path) -> Vec<String> {
    ["/bin/sh", "-c", script]
        .into_iter()
        .map(str::to_owned)
        .chain([file.display().to_string()])
        .collect()
}

#[test]
fn the_payload_is_codexs() {
    let payload = Payload::AgentTurnComplete {
        thread_id: "t".to_owned(),
        turn_id: "u".to_owned(),
        cwd: "/w".to_owned(),
        input_messages: vec!["fix it".to_owned()],
        last_assistant_message: None,
    };
    assert_eq!(
        serde_json::to_value(&payload).unwrap(),
        serde_json::json!({
            "type": "agent-turn-complete",
            "thread-id": "t",
            "turn-id": "u",
            "cwd": "/w",
            "input-messages": ["fix it"],
            "last-assistant-message": null
        })
    );
}

#[test]
fn the_notifier_gets_the_payload_as_its_last_argument() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("payload.json");
    let notifier = Notifier::new(
        shell(r#"printf '%s' "$1" > "$0""#, &out),
        sandbox(dir.path()),
    );
    let outcome = TurnOutcome {
        last_message: Some("done".to_owned()),
        ..TurnOutcome::default()
    };
    let mut events: Vec<Event> = Vec::new();
    notifier.turn_completed("thread-1", "fix the bug", &outcome, &mut events);
    assert_eq!(events, []);
    notifier.finish();
    let payload: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(payload["type"], "agent-turn-complete");
    assert_eq!(payload["thread-id"], "thread-1");
    assert_eq!(payload["cwd"], dir.path().display().to_string());
    assert_eq!(
        payload["input-messages"],
        serde_json::json!(["fix the bug"])
    );
    assert_eq!(payload["last-assistant-message"], "done");
    assert!(payload["turn-id"].as_str().is_some_and(|id| !id.is_empty()));
}

#[test]
fn a_notifier_that_cannot_start_is_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-notifier");
    let notifier = Notifier::new(vec![missing.display().to_string()], sandbox(dir.path()));
    let mut events: Vec<Event> = Vec::new();
    notifier.turn_completed("t", "hi", &TurnOutcome::default(), &mut events);
    let [Event::Error { message }] = events.as_slice() else {
        panic!("{events:?}");
    };
    assert!(message.starts_with("notify: cannot run `"), "{message}");
    assert!(message.contains("no-such-notifier"), "{message}");
    assert!(message.contains("config.toml"), "{message}");
}

/// A notifier that never ends, and a process it left in the background,
/// are killed at the deadline; the session's end waits for that, no more.
#[test]
fn a_hung_notifier_is_killed_at_its_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let pid_file = dir.path().join("pid");
    let notifier = Notifier::new(
        shell(
            r#"sleep 1000 & echo $! > "$0.tmp"; mv "$0.tmp" "$0"; wait"#,
            &pid_file,
        ),
        sandbox(dir.path()),
    )
    .with_timeout(Duration::from_secs(2));
    let started = Instant::now();
    let mut events: Vec<Event> = Vec::new();
    notifier.turn_completed("t", "hi", &TurnOutcome::default(), &mut events);
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "the turn waited"
    );
    notifier.finish();
    let waited = started.elapsed();
    assert!(waited >= Duration::from_secs(2), "{waited:?}");
    assert!(waited < Duration::from_secs(8), "{waited:?}");
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    let stat = Path::new("/proc").join(pid.trim()).join("stat");
    // Killed: gone, or a zombie until its new parent reaps it.
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match std::fs::read_to_string(&stat) {
            Err(_) => break,
            Ok(stat)
                if stat
                    .rsplit(')')
                    .next()
                    .unwrap_or("")
                    .trim_start()
                    .starts_with('Z') =>
            {
                break;
            }
            Ok(stat) => assert!(Instant::now() < deadline, "still running: {stat}"),
        }
        std::thread::yield_now();
    }
}

/// The hook `wharf exec` and the interactive driver both go through:
/// every completed turn of [`crate::session::Host::run_turn`] notifies.
#[test]
fn every_turn_the_host_runs_notifies() {
    let dir = tempfile::tempdir().unwrap();
    let (home, cwd) = (dir.path().join("home"), dir.path().join("work"));
    std::fs::create_dir_all(&home).unwrap();
    std::fs::create_dir_all(&cwd).unwrap();
    let out = dir.path().join("payloads");
    let argv = serde_json::json!(shell(r#"printf '%s\n' "$1" >> "$0""#, &out));
    std::fs::write(home.join("config.toml"), format!("notify = {argv}\n")).unwrap();
    let registry = FeatureRegistry::from_toml(include_str!("../../../cli/features.toml")).unwrap();
    let options = ConfigOptions {
        wharf_home: home,
        cwd,
        ..ConfigOptions::default()
    };
    let host = Configured::load(options, registry, &[])
        .unwrap()
        .session()
        .model(ModelInfo::unknown("a-model"))
        .build()
        .unwrap();
    let client = Scripted::new(vec![
        vec![message("one"), done()],
        vec![message("two"), done()],
    ]);
    let mut agent = host.agent(&client).unwrap();
    host.run_turn(&mut agent, "first").unwrap();
    host.run_turn(&mut agent, "second").unwrap();
    let thread_id = agent.thread_id().to_owned();
    drop(agent);
    // The session's end waits for its notifiers.
    drop(host);
    let mut payloads: Vec<serde_json::Value> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    payloads.sort_by_key(|payload| payload["input-messages"].to_string());
    let seen: Vec<(&str, &str, &str)> = payloads
        .iter()
        .map(|payload| {
            (
                payload["thread-id"].as_str().unwrap(),
                payload["input-messages"][0].as_str().unwrap(),
                payload["last-assistant-message"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (thread_id.as_str(), "first", "one"),
            (thread_id.as_str(), "second", "two")
        ]
    );
    assert_ne!(payloads[0]["turn-id"], payloads[1]["turn-id"]);
}
