//! Record and replay (`wharf_model::replay`) around a real agent turn.

use wharf_model::models::ModelInfo;
use wharf_model::protocol::{ResponseEvent, ResponseItem};
use wharf_model::replay::*;

use super::{Scripted, Setup, call, done, message};
use crate::agent::Agent;

fn script() -> Vec<Vec<ResponseEvent>> {
    vec![
        vec![
            ResponseEvent::Created,
            ResponseEvent::OutputTextDelta {
                delta: "x".to_owned(),
            },
            call("call_1", "run", serde_json::json!({"cmd": "ls"})),
            done(),
        ],
        vec![message("done"), done()],
    ]
}

#[test]
fn a_recorded_session_replays_with_tools_really_running() {
    let setup = Setup::new();
    let model = ModelInfo::unknown("text-model");
    let session = setup.session(&model);
    let path = setup.dir.path().join("rec.jsonl");

    let recorder = RecordingClient::create(Scripted::new(script()), &path).unwrap();
    let mut agent = Agent::new(&setup.plugins, &session, &recorder, model.clone());
    let recorded = agent.run_turn("list", &mut Vec::new()).unwrap();

    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<RecordedRequest> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0].request, 1);
    assert_eq!(lines[0].model, "text-model");
    assert_eq!(lines[0].events, script()[0]);
    assert_eq!(lines[1].prompt.tool_outputs, ["call_1"]);
    assert_eq!(lines[1].prompt.last_item, "tool_output");
    assert_eq!(lines[1].prompt.input_items, 3);

    let replay = ReplayClient::load(&path).unwrap();
    assert_eq!(replay.model(), "text-model");
    let mut agent = Agent::new(&setup.plugins, &session, &replay, model);
    let mut events = Vec::new();
    let replayed = agent.run_turn("list", &mut events).unwrap();
    assert_eq!(replayed, recorded);
    // The tool ran again: its output is in the conversation.
    assert!(agent.history().iter().any(|item| matches!(item,
        ResponseItem::ToolOutput { output, .. }
            if matches!(&output[0], wharf_model::protocol::OutputContent::Text { text } if text.ends_with("ls")))));

    // A third request is more than the recording holds.
    let err = agent.run_turn("again", &mut Vec::new()).unwrap_err();
    assert!(
        err.message
            .starts_with("the session asked for request 3 but the recording")
            && err.message.ends_with("holds 2 requests"),
        "{}",
        err.message
    );
}

#[test]
fn a_different_request_is_reported() {
    let setup = Setup::new();
    let model = ModelInfo::unknown("text-model");
    let session = setup.session(&model);
    let path = setup.dir.path().join("rec.jsonl");
    let recorder = RecordingClient::create(Scripted::new(script()), &path).unwrap();
    Agent::new(&setup.plugins, &session, &recorder, model.clone())
        .run_turn("list", &mut Vec::new())
        .unwrap();

    // The replayed model's first answer calls with another id, as if the
    // session had gone another way.
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replacen("\"call_1\"", "\"call_9\"", 1);
    std::fs::write(&path, text).unwrap();
    let replay = ReplayClient::load(&path).unwrap();
    let err = Agent::new(&setup.plugins, &session, &replay, model)
        .run_turn("list", &mut Vec::new())
        .unwrap_err();
    assert!(
        err.message
            .starts_with("request 2 differs from the recording")
            && err
                .message
                .ends_with("expected tool outputs for [\"call_1\"], got [\"call_9\"]"),
        "{}",
        err.message
    );
}

#[test]
fn a_recorded_call_of_a_tool_not_offered_is_reported() {
    let setup = Setup::new();
    let model = ModelInfo::unknown("text-model");
    let session = setup.session(&model);
    let path = setup.dir.path().join("rec.jsonl");
    let recorder = RecordingClient::create(Scripted::new(script()), &path).unwrap();
    Agent::new(&setup.plugins, &session, &recorder, model.clone())
        .run_turn("list", &mut Vec::new())
        .unwrap();
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("\\\"run\\\"", "x")
        .replace("\"name\":\"run\"", "\"name\":\"gone\"");
    std::fs::write(&path, text).unwrap();
    let replay = ReplayClient::load(&path).unwrap();
    let err = Agent::new(&setup.plugins, &session, &replay, model)
        .run_turn("list", &mut Vec::new())
        .unwrap_err();
    assert!(
        err.message
            .contains("calls `gone`, which this session does not offer"),
        "{}",
        err.message
    );
}

#[test]
fn a_bad_recording_names_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.jsonl");
    std::fs::write(&path, "").unwrap();
    assert!(matches!(
        ReplayClient::load(&path),
        Err(RecordingError::Empty { .. })
    ));
    std::fs::write(&path, "{}\n").unwrap();
    let err = ReplayClient::load(&path).unwrap_err();
    assert!(
        err.to_string()
            .contains("r.jsonl:1: not a recorded request"),
        "{err}"
    );
}
