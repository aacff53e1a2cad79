//! The HTTP model clients against the scripted model server on 127.0.0.1:
//! the events they hand over, what they send, and how they retry.

use std::time::{Duration, Instant};

use serde_json::json;
use wharf_model::client::client_for_provider;
use wharf_model::client::{ChatClient, ClientConfig, ResponsesClient, Transport};
use wharf_model::models::{FetchResult, ModelProviderInfo, ModelsFetcher, WireApi};
use wharf_model::protocol::{
    ModelClient, ModelError, OutputContent, Prompt, ResponseEvent, ResponseItem, Role, ToolDef,
    Usage,
};
use wharf_tests::model_server::{Call, ModelServer, Reply, Turn};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Wire {
    Responses,
    Chat,
}

const WIRES: [Wire; 2] = [Wire::Responses, Wire::Chat];

/// Quick retries, so that tests of retrying take milliseconds.
pub(crate) fn config(server: &ModelServer) -> ClientConfig {
    ClientConfig {
        api_key: Some("sk-test".to_owned()),
        headers: [("X-Test".to_owned(), "yes".to_owned())].into(),
        request_max_retries: 2,
        stream_max_retries: 2,
        stream_idle_timeout: Duration::from_secs(20),
        retry_base_delay: Duration::from_millis(10),
        retry_max_delay: Duration::from_millis(50),
        ..ClientConfig::new(&server.base_url())
    }
}

fn client(wire: Wire, config: ClientConfig) -> Box<dyn ModelClient> {
    match wire {
        Wire::Responses => Box::new(ResponsesClient::new(config).unwrap()),
        Wire::Chat => Box::new(ChatClient::new(config).unwrap()),
    }
}

pub(crate) fn prompt() -> Prompt {
    Prompt {
        model: "test-model".to_owned(),
        instructions: "be brief".to_owned(),
        input: vec![ResponseItem::Message {
            role: Role::User,
            text: "hi".to_owned(),
            images: Vec::new(),
        }],
        tools: vec![ToolDef::Function {
            name: "exec_command".to_owned(),
            description: "run a command".to_owned(),
            parameters: json!({"type": "object", "properties": {"cmd": {"type": "string"}}}),
        }],
        parallel_tool_calls: true,
        reasoning: false,
        options: Default::default(),
    }
}

/// Every event of one response, and the error that ended it, if any.
pub(crate) fn run(
    client: &dyn ModelClient,
    prompt: &Prompt,
) -> (Vec<ResponseEvent>, Option<ModelError>) {
    let stream = client.stream(prompt).unwrap();
    let mut events = Vec::new();
    loop {
        match stream.next_timeout(Duration::from_secs(30)) {
            Err(_) => panic!("no event for 30 s; so far: {events:?}"),
            Ok(None) => return (events, None),
            Ok(Some(Ok(event))) => events.push(event),
            Ok(Some(Err(error))) => return (events, Some(error)),
        }
    }
}

pub(crate) fn items(events: &[ResponseEvent]) -> Vec<ResponseItem> {
    events
        .iter()
        .filter_map(|event| match event {
            ResponseEvent::OutputItemDone { item } => Some(item.clone()),
            _ => None,
        })
        .collect()
}

pub(crate) fn text_deltas(events: &[ResponseEvent]) -> String {
    events
        .iter()
        .filter_map(|event| match event {
            ResponseEvent::OutputTextDelta { delta } => Some(delta.as_str()),
            _ => None,
        })
        .collect()
}

pub(crate) fn count_created(events: &[ResponseEvent]) -> usize {
    events
        .iter()
        .filter(|event| matches!(event, ResponseEvent::Created))
        .count()
}

#[test]
fn every_event_kind_is_mapped() {
    for wire in WIRES {
        let turn = Turn::new()
            .with_reasoning("thinking hard")
            .with_text("hello there")
            .with_call(Call::function("exec_command", json!({"cmd": "ls"})).with_id("c1"))
            .with_call(Call::custom("apply_patch", "*** Begin Patch\n*** End Patch").with_id("c2"))
            .with_usage(120, 7);
        let server = ModelServer::start([turn.into()]).unwrap();
        let mut prompt = prompt();
        prompt.tools.push(ToolDef::Freeform {
            name: "apply_patch".to_owned(),
            description: "edit files".to_owned(),
            grammar: "start: patch".to_owned(),
        });
        let (events, error) = run(&*client(wire, config(&server)), &prompt);
        assert_eq!(error, None, "{wire:?}");
        let reasoning: String = events
            .iter()
            .filter_map(|event| match event {
                ResponseEvent::ReasoningSummaryDelta { delta } => Some(delta.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(reasoning, "thinking hard", "{wire:?}");
        assert_eq!(text_deltas(&events), "hello there", "{wire:?}");
        assert_eq!(events.first(), Some(&ResponseEvent::Created), "{wire:?}");
        assert_eq!(
            items(&events),
            vec![
                ResponseItem::Reasoning {
                    summary: vec!["thinking hard".to_owned()],
                    // The Responses API names its items; Chat has none.
                    id: matches!(wire, Wire::Responses).then(|| "item_1_0".to_owned()),
                    encrypted_content: None,
                },
                ResponseItem::Message {
                    role: Role::Assistant,
                    text: "hello there".to_owned(),
                    images: Vec::new(),
                },
                ResponseItem::FunctionCall {
                    call_id: "c1".to_owned(),
                    name: "exec_command".to_owned(),
                    arguments: r#"{"cmd":"ls"}"#.to_owned()
                },
                ResponseItem::CustomToolCall {
                    call_id: "c2".to_owned(),
                    name: "apply_patch".to_owned(),
                    input: "*** Begin Patch\n*** End Patch".to_owned()
                },
            ],
            "{wire:?}"
        );
        let (response_id, usage) = match events.last() {
            Some(ResponseEvent::Completed { response_id, usage }) => (response_id, usage),
            other => panic!("{wire:?}: the last event is {other:?}"),
        };
        assert_eq!(
            response_id,
            if wire == Wire::Responses {
                "resp_1"
            } else {
                "chatcmpl-1"
            }
        );
        assert_eq!(
            *usage,
            Some(Usage {
                input_tokens: 120,
                output_tokens: 7,
                total_tokens: 127,
                ..Usage::default()
            }),
            "{wire:?}"
        );

        let requests = server.requests();
        assert_eq!(requests.len(), 1);
        let request = &requests[0];
        let path = match wire {
            Wire::Responses => "/v1/responses",
            Wire::Chat => "/v1/chat/completions",
        };
        assert_eq!(
            (request.method.as_str(), request.path.as_str()),
            ("POST", path)
        );
        assert_eq!(request.header("authorization"), Some("Bearer sk-test"));
        assert_eq!(request.header("x-test"), Some("yes"));
        assert_eq!(request.header("accept"), Some("text/event-stream"));
        assert_eq!(request.body["model"], json!("test-model"));
        assert_eq!(request.body["stream"], json!(true));
    }
}

#[test]
fn parallel_calls_arrive_in_order() {
    for wire in WIRES {
        let server = ModelServer::start([Turn::calls([
            Call::function("exec_command", json!({"cmd": "a"})),
            Call::function("exec_command", json!({"cmd": "b"})),
            Call::function("exec_command", json!({"cmd": "c"})),
        ])
        .into()])
        .unwrap();
        let (events, error) = run(&*client(wire, config(&server)), &prompt());
        assert_eq!(error, None);
        let calls: Vec<(String, String)> = items(&events)
            .into_iter()
            .map(|item| match item {
                ResponseItem::FunctionCall {
                    call_id, arguments, ..
                } => (call_id, arguments),
                other => panic!("{wire:?}: {other:?}"),
            })
            .collect();
        let expected: Vec<(String, String)> = ["a", "b", "c"]
            .iter()
            .enumerate()
            .map(|(n, cmd)| (format!("call_{}", n + 1), format!(r#"{{"cmd":"{cmd}"}}"#)))
            .collect();
        assert_eq!(calls, expected, "{wire:?}");
        assert_eq!(server.bodies()[0]["parallel_tool_calls"], json!(true));
    }
}

#[test]
fn tool_outputs_are_sent_in_the_wire_format() {
    let mut prompt = prompt();
    prompt.input.extend([
        ResponseItem::FunctionCall {
            call_id: "c1".to_owned(),
            name: "exec_command".to_owned(),
            arguments: r#"{"cmd":"ls"}"#.to_owned(),
        },
        ResponseItem::CustomToolCall {
            call_id: "c2".to_owned(),
            name: "apply_patch".to_owned(),
            input: "*** Begin Patch".to_owned(),
        },
        ResponseItem::ToolOutput {
            call_id: "c1".to_owned(),
            output: vec![
                OutputContent::Text {
                    text: "a.png".to_owned(),
                },
                OutputContent::Image {
                    mime_type: "image/png".to_owned(),
                    data_base64: "iVBORw0K".to_owned(),
                },
            ],
            is_error: false,
        },
        ResponseItem::ToolOutput {
            call_id: "c2".to_owned(),
            output: vec![OutputContent::Text {
                text: "Success.".to_owned(),
            }],
            is_error: false,
        },
    ]);
    let server = ModelServer::start([Turn::text("ok").into(), Turn::text("ok").into()]).unwrap();
    for wire in WIRES {
        let (_, error) = run(&*client(wire, config(&server)), &prompt);
        assert_eq!(error, None);
    }
    let bodies = server.bodies();
    assert_eq!(
        bodies[0]["input"],
        json!([
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]},
            {"type": "function_call", "call_id": "c1", "name": "exec_command", "arguments": "{\"cmd\":\"ls\"}"},
            {"type": "custom_tool_call", "call_id": "c2", "name": "apply_patch", "input": "*** Begin Patch"},
            {"type": "function_call_output", "call_id": "c1", "output": [
                {"type": "input_text", "text": "a.png"},
                {"type": "input_image", "image_url": "data:image/png;base64,iVBORw0K"},
            ]},
            {"type": "custom_tool_call_output", "call_id": "c2", "output": "Success."},
        ])
    );
    assert_eq!(
        bodies[0]["tools"],
        json!([{"type": "function", "name": "exec_command", "description": "run a command",
                "strict": false,
                "parameters": {"type": "object", "properties": {"cmd": {"type": "string"}}}}])
    );
    assert_eq!(bodies[0]["store"], json!(false));
    assert_eq!(
        bodies[1]["messages"],
        json!([
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "", "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "exec_command", "arguments": "{\"cmd\":\"ls\"}"}},
                {"id": "c2", "type": "function", "function": {"name": "apply_patch",
                 "arguments": "{\"input\":\"*** Begin Patch\"}"}},
            ]},
            {"role": "tool", "tool_call_id": "c1", "content": "a.png"},
            {"role": "tool", "tool_call_id": "c2", "content": "Success."},
        ])
    );
}

#[test]
fn rate_limit_then_success_honors_retry_after() {
    for wire in WIRES {
        let server =
            ModelServer::start([Reply::rate_limited(1), Turn::text("after the wait").into()])
                .unwrap();
        let start = Instant::now();
        let (events, error) = run(&*client(wire, config(&server)), &prompt());
        let elapsed = start.elapsed();
        assert_eq!(error, None, "{wire:?}");
        assert_eq!(text_deltas(&events), "after the wait");
        assert_eq!(server.request_count(), 2);
        // The backoff alone would have waited ~10 ms.
        assert!(elapsed >= Duration::from_secs(1), "{wire:?}: {elapsed:?}");
        assert!(elapsed < Duration::from_secs(10), "{wire:?}: {elapsed:?}");
    }
}

#[test]
fn server_errors_on_every_attempt_exhaust_the_retries() {
    for wire in WIRES {
        let server = ModelServer::start([
            Reply::error(500, "boom"),
            Reply::error(503, "still down"),
            Reply::error(500, "boom again"),
            Turn::text("never reached").into(),
        ])
        .unwrap();
        let (events, error) = run(&*client(wire, config(&server)), &prompt());
        assert_eq!(events, Vec::new(), "{wire:?}");
        assert_eq!(
            error,
            Some(ModelError::RetriesExhausted {
                status: 500,
                attempts: 3,
                message: "boom again".to_owned()
            }),
            "{wire:?}"
        );
        assert_eq!(server.request_count(), 3);
        assert_eq!(server.remaining(), 1);
    }
}

#[test]
fn a_stream_cut_mid_item_is_retried_without_duplicates() {
    for wire in WIRES {
        let turn = Turn::new()
            .with_text("first part")
            .with_call(Call::function("exec_command", json!({"cmd": "make"})).with_id("c1"));
        let server = ModelServer::start([turn.clone().cut_mid_item(), turn.into()]).unwrap();
        let (events, error) = run(&*client(wire, config(&server)), &prompt());
        assert_eq!(error, None, "{wire:?}");
        assert_eq!(server.request_count(), 2);
        // The first attempt's partial text, then `Created` again (reset),
        // then the whole response once.
        assert_eq!(count_created(&events), 2, "{wire:?}: {events:?}");
        let restart = events
            .iter()
            .rposition(|event| matches!(event, ResponseEvent::Created))
            .unwrap();
        assert_eq!(text_deltas(&events[restart..]), "first part");
        assert!(items(&events[..restart]).is_empty(), "{wire:?}: {events:?}");
        assert_eq!(
            items(&events),
            vec![
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
            ],
            "{wire:?}"
        );
        assert!(matches!(
            events.last(),
            Some(ResponseEvent::Completed { .. })
        ));
    }
}

#[test]
fn a_stream_cut_on_every_attempt_is_dropped() {
    let turn = Turn::text("never finished");
    let server = ModelServer::start([
        turn.clone().cut_mid_item(),
        turn.clone().cut_mid_item(),
        turn.cut_mid_item(),
    ])
    .unwrap();
    let (events, error) = run(&*client(Wire::Responses, config(&server)), &prompt());
    assert!(matches!(error, Some(ModelError::Dropped(_))), "{error:?}");
    assert_eq!(count_created(&events), 3);
    assert!(items(&events).is_empty());
    assert_eq!(server.request_count(), 3);
}

#[test]
fn an_idle_stream_fails_within_bounded_time() {
    for wire in WIRES {
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
        let (events, error) = run(&*client(wire, config), &prompt());
        let elapsed = start.elapsed();
        assert_eq!(error, Some(ModelError::Idle(idle)), "{wire:?}");
        assert_eq!(count_created(&events), 2, "{wire:?}");
        assert_eq!(server.request_count(), 2);
        // Two idle periods and a short backoff, nowhere near the 30 s.
        assert!(elapsed >= idle * 2, "{wire:?}: {elapsed:?}");
        assert!(elapsed < Duration::from_secs(5), "{wire:?}: {elapsed:?}");
    }
}

#[test]
fn unauthorized_fails_at_once_with_the_providers_message() {
    for (status, wire) in [(401, Wire::Responses), (403, Wire::Chat)] {
        let server = ModelServer::start([
            Reply::error(status, "Incorrect API key provided: sk-te**."),
            Turn::text("never reached").into(),
        ])
        .unwrap();
        let (events, error) = run(&*client(wire, config(&server)), &prompt());
        assert!(events.is_empty());
        assert_eq!(
            error,
            Some(ModelError::Unauthorized {
                status,
                message: "Incorrect API key provided: sk-te**.".to_owned()
            })
        );
        assert_eq!(server.request_count(), 1);
    }
}

#[test]
fn other_client_errors_are_not_retried() {
    let server = ModelServer::start([Reply::Status {
        status: 400,
        headers: Vec::new(),
        body: "plain text: bad request".to_owned(),
    }])
    .unwrap();
    let (_, error) = run(&*client(Wire::Chat, config(&server)), &prompt());
    assert_eq!(
        error,
        Some(ModelError::Http {
            status: 400,
            message: "plain text: bad request".to_owned()
        })
    );
    assert_eq!(server.request_count(), 1);
}

#[test]
fn a_refused_connection_is_retried_then_reported() {
    // A port that was free a moment ago: nothing listens there now.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = ClientConfig {
        request_max_retries: 1,
        retry_base_delay: Duration::from_millis(10),
        ..ClientConfig::new(&format!("http://127.0.0.1:{port}/v1"))
    };
    let (events, error) = run(&*client(Wire::Responses, config), &prompt());
    assert!(events.is_empty());
    match error {
        Some(ModelError::Connect(message)) => {
            assert!(message.contains("refused"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_failed_response_is_retried_only_when_transient() {
    let failed = |code: &str, message: &str| {
        Reply::events([
            json!({"type": "response.created", "response": {"id": "r"}}),
            json!({"type": "response.output_text.delta", "delta": "par"}),
            json!({"type": "response.failed", "response": {"id": "r", "status": "failed",
                   "error": {"code": code, "message": message}}}),
        ])
    };
    let server = ModelServer::start([
        failed("rate_limit_exceeded", "slow down"),
        Turn::text("fine").into(),
        failed("context_length_exceeded", "the input is too long"),
        Turn::text("never reached").into(),
    ])
    .unwrap();
    let client = client(Wire::Responses, config(&server));
    let (events, error) = run(&*client, &prompt());
    assert_eq!(error, None);
    assert_eq!(count_created(&events), 2);
    assert_eq!(items(&events).len(), 1);

    let (_, error) = run(&*client, &prompt());
    assert_eq!(
        error,
        Some(ModelError::Protocol(
            "the provider failed the response (context_length_exceeded): the input is too long"
                .to_owned()
        ))
    );
    assert_eq!(server.request_count(), 3);
}

#[test]
fn chat_error_chunks_are_reported() {
    let server = ModelServer::start([Reply::events([
        json!({"error": {"message": "model 'x' not found"}}),
        json!("[DONE]"),
    ])])
    .unwrap();
    let (_, error) = run(&*client(Wire::Chat, config(&server)), &prompt());
    assert_eq!(
        error,
        Some(ModelError::Protocol(
            "the provider failed the response: model 'x' not found".to_owned()
        ))
    );
}

#[test]
fn dropping_the_stream_stops_the_retries() {
    let server = ModelServer::start([Reply::rate_limited(30), Turn::text("late").into()]).unwrap();
    let client = client(Wire::Responses, config(&server));
    let stream = client.stream(&prompt()).unwrap();
    assert!(server.wait_for_requests(1, Duration::from_secs(5)));
    drop(stream);
    // The client would retry after 30 s; cancelled, it never does. Dropping
    // the client returns at once, not after the wait.
    let start = Instant::now();
    drop(client);
    assert!(start.elapsed() < Duration::from_secs(2));
    assert_eq!(server.request_count(), 1);
}

#[test]
fn the_clients_fetch_the_model_list_for_the_models_manager() {
    let list = r#"{"models": [{"slug": "m"}]}"#;
    let server = ModelServer::start([]).unwrap();
    for reply in [
        Reply::Status {
            status: 200,
            headers: vec![("ETag".to_owned(), "\"v1\"".to_owned())],
            body: list.to_owned(),
        },
        Reply::Status {
            status: 304,
            headers: Vec::new(),
            body: String::new(),
        },
        Reply::error(500, "down"),
    ] {
        server.push_model_list(reply);
    }
    let client = ChatClient::new(config(&server)).unwrap();
    let url = format!("{}/models", server.base_url());
    assert_eq!(
        client.fetch(&url, None),
        Ok(FetchResult::Fresh {
            body: list.to_owned(),
            etag: Some("\"v1\"".to_owned())
        })
    );
    assert_eq!(
        client.fetch(&url, Some("\"v1\"")),
        Ok(FetchResult::NotModified)
    );
    let error = client.fetch(&url, None).unwrap_err();
    assert!(error.contains("500") && error.contains("down"), "{error}");
    let requests = server.model_list_requests();
    assert_eq!(requests[0].method, "GET");
    assert_eq!(requests[0].header("authorization"), Some("Bearer sk-test"));
    assert_eq!(requests[0].header("if-none-match"), None);
    assert_eq!(requests[1].header("if-none-match"), Some("\"v1\""));
}

#[test]
fn a_provider_entry_picks_its_wire_api_key_and_query() {
    for (wire_api, path) in [
        (WireApi::Responses, "/v1/responses?api-version=1"),
        (WireApi::Chat, "/v1/chat/completions?api-version=1"),
    ] {
        let server = ModelServer::start([Turn::text("hi").into()]).unwrap();
        let mut provider = ModelProviderInfo::new("local", &server.base_url(), wire_api);
        provider.env_key = Some("LOCAL_KEY".to_owned());
        provider.query_params = [("api-version".to_owned(), "1".to_owned())].into();
        let env = |name: &str| (name == "LOCAL_KEY").then(|| "sk-local".to_owned());
        let client = client_for_provider(&provider, Transport::Http, &env).unwrap();
        let (events, error) = run(&*client, &prompt());
        assert_eq!(error, None);
        assert_eq!(text_deltas(&events), "hi");
        let request = &server.requests()[0];
        assert_eq!(request.path, path);
        assert_eq!(request.header("authorization"), Some("Bearer sk-local"));
    }
}
