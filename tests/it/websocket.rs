//! The Responses API's WebSocket transport against the scripted model
//! server on 127.0.0.1: what it sends, that it keeps one connection across
//! turns, and that its retries, errors, fallback and cancellation mean what
//! they mean over HTTP.

use std::time::{Duration, Instant};

use serde_json::json;
use wharf_model::client::{ClientConfig, ResponsesClient, Transport, client_for_provider};
use wharf_model::models::{ModelProviderInfo, WireApi};
use wharf_model::protocol::{ModelClient, ModelError, ResponseEvent, ResponseItem, Role, ToolDef};
use wharf_tests::model_server::{Call, ModelServer, Reply, Turn};

use crate::clients::{config, count_created, items, prompt, run, text_deltas};

fn websocket(config: ClientConfig) -> ResponsesClient {
    ResponsesClient::with_transport(config, Transport::WebSocket).unwrap()
}

fn warnings(events: &[ResponseEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|event| match event {
            ResponseEvent::Warning { message } => Some(message.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_turn_streams_the_same_events_as_over_http() {
    let turn = Turn::new()
        .with_reasoning("thinking hard")
        .with_text("hello there")
        .with_call(Call::function("exec_command", json!({"cmd": "ls"})).with_id("c1"))
        .with_call(Call::custom("apply_patch", "*** Begin Patch\n*** End Patch").with_id("c2"))
        .with_usage(120, 7);
    let mut prompt = prompt();
    prompt.tools.push(ToolDef::Freeform {
        name: "apply_patch".to_owned(),
        description: "edit files".to_owned(),
        grammar: "start: patch".to_owned(),
    });
    let over_http = ModelServer::start([turn.clone().into()]).unwrap();
    let (expected, error) = run(&ResponsesClient::new(config(&over_http)).unwrap(), &prompt);
    assert_eq!(error, None);

    let server = ModelServer::start([turn.into()]).unwrap();
    let (events, error) = run(&websocket(config(&server)), &prompt);
    assert_eq!(error, None);
    assert_eq!(events, expected);
    // The events are complete, not merely equal.
    assert_eq!(text_deltas(&events), "hello there");
    assert_eq!(items(&events).len(), 4, "{events:?}");
    assert!(matches!(
        events.last(),
        Some(ResponseEvent::Completed { usage: Some(usage), .. }) if usage.total_tokens == 127
    ));

    assert_eq!(server.websocket_connections(), 1);
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.websocket, Some(1));
    assert_eq!(
        (request.method.as_str(), request.path.as_str()),
        ("GET", "/v1/responses")
    );
    assert_eq!(request.header("authorization"), Some("Bearer sk-test"));
    assert_eq!(request.header("x-test"), Some("yes"));
    assert_eq!(
        request.header("openai-beta"),
        Some("responses_websockets=2026-02-06")
    );
    // The frame is the POST body with its type.
    let mut body = over_http.bodies()[0].clone();
    body["type"] = json!("response.create");
    assert_eq!(request.body, body);
}

#[test]
fn turns_reuse_one_connection() {
    let server = ModelServer::start([Turn::text("one").into(), Turn::text("two").into()]).unwrap();
    let client = websocket(config(&server));
    for expected in ["one", "two"] {
        let (events, error) = run(&client, &prompt());
        assert_eq!(error, None);
        assert_eq!(text_deltas(&events), expected);
    }
    assert_eq!(server.request_count(), 2);
    assert_eq!(server.websocket_connections(), 1);
    let carried: Vec<Option<usize>> = server.requests().iter().map(|r| r.websocket).collect();
    assert_eq!(carried, [Some(1), Some(1)]);
    // The server pinged before each turn; the client answered both.
    assert!(server.wait_for_pongs(2, Duration::from_secs(10)));
}

#[test]
fn a_kept_connection_the_server_closed_is_replaced_without_a_retry() {
    let server =
        ModelServer::start([Turn::text("one").then_close(), Turn::text("two").into()]).unwrap();
    // No retries at all: replacing the dead connection must not need one.
    let client = websocket(ClientConfig {
        request_max_retries: 0,
        stream_max_retries: 0,
        ..config(&server)
    });
    for expected in ["one", "two"] {
        let (events, error) = run(&client, &prompt());
        assert_eq!(error, None, "{expected}");
        assert_eq!(text_deltas(&events), expected);
        assert_eq!(count_created(&events), 1);
    }
    assert_eq!(server.websocket_connections(), 2);
}

#[test]
fn a_connection_cut_mid_turn_is_reopened_and_the_turn_retried() {
    let turn = Turn::new()
        .with_text("first part")
        .with_call(Call::function("exec_command", json!({"cmd": "make"})).with_id("c1"));
    let server = ModelServer::start([turn.clone().cut_mid_item(), turn.into()]).unwrap();
    let (events, error) = run(&websocket(config(&server)), &prompt());
    assert_eq!(error, None);
    assert_eq!(server.request_count(), 2);
    assert_eq!(server.websocket_connections(), 2);
    // The partial text, `Created` again, then the whole response once.
    assert_eq!(count_created(&events), 2, "{events:?}");
    let restart = events
        .iter()
        .rposition(|event| matches!(event, ResponseEvent::Created))
        .unwrap();
    assert!(items(&events[..restart]).is_empty(), "{events:?}");
    assert_eq!(
        items(&events),
        [
            ResponseItem::Message {
                role: Role::Assistant,
                text: "first part".to_owned(),
                images: Vec::new(),
            },
            ResponseItem::FunctionCall {
                call_id: "c1".to_owned(),
                name: "exec_command".to_owned(),
                arguments: r#"{"cmd":"make"}"#.to_owned()
            },
        ]
    );
}

#[test]
fn a_connection_cut_on_every_attempt_is_dropped() {
    let turn = Turn::text("never finished");
    let server = ModelServer::start([
        turn.clone().cut_mid_item(),
        turn.clone().cut_mid_item(),
        turn.cut_mid_item(),
    ])
    .unwrap();
    let (events, error) = run(&websocket(config(&server)), &prompt());
    assert!(matches!(error, Some(ModelError::Dropped(_))), "{error:?}");
    assert_eq!(count_created(&events), 3);
    assert!(items(&events).is_empty());
    assert_eq!(server.websocket_connections(), 3);
}

#[test]
fn an_idle_connection_fails_after_the_retries() {
    let idle = Duration::from_millis(300);
    let turn = Turn::text("silence");
    let server = ModelServer::start([
        turn.clone().idle_mid_item(Duration::from_secs(30)),
        turn.idle_mid_item(Duration::from_secs(30)),
    ])
    .unwrap();
    let config = ClientConfig {
        stream_idle_timeout: idle,
        stream_max_retries: 1,
        ..config(&server)
    };
    let start = Instant::now();
    let (events, error) = run(&websocket(config), &prompt());
    let elapsed = start.elapsed();
    assert_eq!(error, Some(ModelError::Idle(idle)));
    assert_eq!(count_created(&events), 2);
    assert_eq!(server.request_count(), 2);
    assert_eq!(server.websocket_connections(), 2);
    assert!(elapsed >= idle * 2, "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
}

/// What an `error` event with a status does: the replies, then the
/// expected error (`None`: the last reply's text arrives) and requests.
#[test]
fn error_events_mean_their_http_status() {
    let cases: Vec<(Vec<Reply>, Option<ModelError>, usize)> = vec![
        (
            vec![Reply::error(429, "slow down"), Turn::text("ok").into()],
            None,
            2,
        ),
        (
            vec![
                Reply::error(500, "boom"),
                Reply::error(503, "still down"),
                Reply::error(500, "boom again"),
            ],
            Some(ModelError::RetriesExhausted {
                status: 500,
                attempts: 3,
                message: "boom again".to_owned(),
            }),
            3,
        ),
        (
            vec![Reply::error(401, "Incorrect API key provided")],
            Some(ModelError::Unauthorized {
                status: 401,
                message: "Incorrect API key provided".to_owned(),
            }),
            1,
        ),
        (
            vec![Reply::error(400, "bad input")],
            Some(ModelError::Http {
                status: 400,
                message: "bad input".to_owned(),
            }),
            1,
        ),
        (
            vec![
                Reply::events([json!({"type": "error", "status": 400, "error": {
                    "code": "websocket_connection_limit_reached",
                    "message": "too many connections"}})]),
                Turn::text("ok").into(),
            ],
            None,
            2,
        ),
    ];
    for (replies, expected, requests) in cases {
        let server = ModelServer::start(replies.clone()).unwrap();
        let (events, error) = run(&websocket(config(&server)), &prompt());
        assert_eq!(error, expected, "{replies:?}");
        assert_eq!(server.request_count(), requests, "{replies:?}");
        if expected.is_none() {
            assert_eq!(text_deltas(&events), "ok", "{replies:?}");
            // An error event is an answer like a 429: no `Created` for it.
            assert_eq!(count_created(&events), 1, "{replies:?}: {events:?}");
        } else {
            assert!(events.is_empty(), "{replies:?}: {events:?}");
        }
    }
}

#[test]
fn an_error_event_honors_retry_after() {
    let server = ModelServer::start([Reply::rate_limited(1), Turn::text("waited").into()]).unwrap();
    let start = Instant::now();
    let (events, error) = run(&websocket(config(&server)), &prompt());
    let elapsed = start.elapsed();
    assert_eq!(error, None);
    assert_eq!(text_deltas(&events), "waited");
    // The backoff alone would have waited ~10 ms.
    assert!(elapsed >= Duration::from_secs(1), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
}

#[test]
fn an_upgrade_refused_401_is_unauthorized() {
    let server = ModelServer::start([
        Reply::reject_upgrade(401, "Incorrect API key provided"),
        Turn::text("never reached").into(),
    ])
    .unwrap();
    let (events, error) = run(&websocket(config(&server)), &prompt());
    assert!(events.is_empty(), "{events:?}");
    assert_eq!(
        error,
        Some(ModelError::Unauthorized {
            status: 401,
            message: "Incorrect API key provided".to_owned()
        })
    );
    assert_eq!(server.request_count(), 1);
    assert_eq!(server.websocket_connections(), 0);
}

#[test]
fn an_upgrade_refused_503_is_retried() {
    let server = ModelServer::start([
        Reply::reject_upgrade(503, "busy"),
        Turn::text("connected").into(),
    ])
    .unwrap();
    let (events, error) = run(&websocket(config(&server)), &prompt());
    assert_eq!(error, None);
    assert_eq!(text_deltas(&events), "connected");
    assert_eq!(server.websocket_connections(), 1);
}

#[test]
fn a_server_without_websocket_gets_http_for_the_rest_of_the_client() {
    let server = ModelServer::start([
        Reply::reject_upgrade(404, "no such endpoint"),
        Turn::text("over http").into(),
        Turn::text("still http").into(),
    ])
    .unwrap();
    let client = websocket(config(&server));
    let (events, error) = run(&client, &prompt());
    assert_eq!(error, None);
    assert_eq!(text_deltas(&events), "over http");
    let warned = warnings(&events);
    assert_eq!(warned.len(), 1, "{events:?}");
    assert!(
        warned[0].contains("does not take WebSocket connections")
            && warned[0].contains("404")
            && warned[0].contains("no such endpoint")
            && warned[0].contains("using HTTP"),
        "{}",
        warned[0]
    );
    // The warning comes before the attempt that uses HTTP.
    assert!(matches!(events[0], ResponseEvent::Warning { .. }));

    let (events, error) = run(&client, &prompt());
    assert_eq!(error, None);
    assert_eq!(text_deltas(&events), "still http");
    assert_eq!(warnings(&events), Vec::<String>::new());

    let requests: Vec<(String, Option<usize>)> = server
        .requests()
        .iter()
        .map(|request| (request.method.clone(), request.websocket))
        .collect();
    let expected = [("GET", None), ("POST", None), ("POST", None)];
    assert_eq!(
        requests,
        expected.map(|(method, websocket)| (method.to_owned(), websocket))
    );
    assert_eq!(server.websocket_connections(), 0);
}

#[test]
fn cancelling_mid_stream_stops_at_once_and_drops_the_connection() {
    let server = ModelServer::start([
        Turn::text("a long answer").idle_mid_item(Duration::from_secs(30)),
        Turn::text("next").into(),
    ])
    .unwrap();
    let client = websocket(config(&server));
    let stream = client.stream(&prompt()).unwrap();
    // Wait for the first delta: the response is under way.
    loop {
        match stream.next_timeout(Duration::from_secs(10)) {
            Ok(Some(Ok(ResponseEvent::OutputTextDelta { .. }))) => break,
            Ok(Some(Ok(_))) => {}
            other => panic!("no delta: {other:?}"),
        }
    }
    let start = Instant::now();
    stream.cancel();
    // The producer stops and the channel closes, long before the 30 s of
    // silence (and the 20 s idle timeout) are over.
    loop {
        match stream.next_timeout(Duration::from_secs(5)) {
            Ok(None) => break,
            Ok(Some(_)) => {}
            Err(err) => panic!("the stream did not end after the cancel: {err}"),
        }
    }
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    // The cancelled response's connection is not reused.
    let (events, error) = run(&client, &prompt());
    assert_eq!(error, None);
    assert_eq!(text_deltas(&events), "next");
    assert_eq!(server.websocket_connections(), 2);
}

#[test]
fn a_provider_entry_picks_the_transport_chat_always_uses_http() {
    for (wire_api, method, connections) in
        [(WireApi::Responses, "GET", 1), (WireApi::Chat, "POST", 0)]
    {
        let server = ModelServer::start([Turn::text("hi").into()]).unwrap();
        let provider = ModelProviderInfo::new("local", &server.base_url(), wire_api);
        let client: Box<dyn ModelClient> =
            client_for_provider(&provider, Transport::WebSocket, &|_: &str| None).unwrap();
        let (events, error) = run(&*client, &prompt());
        assert_eq!(error, None, "{wire_api:?}");
        assert_eq!(text_deltas(&events), "hi");
        assert_eq!(server.requests()[0].method, method, "{wire_api:?}");
        assert_eq!(server.websocket_connections(), connections, "{wire_api:?}");
    }
}
