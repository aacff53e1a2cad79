//! Compaction: a request that fills the context window past the limit
//! makes the model summarize the conversation, and the summary, after the
//! project instructions and the recent user messages, replaces it — before
//! the next request of the turn, or before the next turn.

use super::*;

fn done_with(input_tokens: u64, output_tokens: u64) -> ResponseEvent {
    ResponseEvent::Completed {
        response_id: "r".to_owned(),
        usage: Some(Usage {
            input_tokens,
            output_tokens,
            total_tokens: input_tokens + output_tokens,
            ..Usage::default()
        }),
    }
}

fn user(text: &str) -> ResponseItem {
    ResponseItem::text(Role::User, text)
}

fn summary(text: &str) -> ResponseItem {
    user(&format!("{SUMMARY_PREFIX}{text}"))
}

/// Events, and every history a compaction replaced the conversation with.
#[derive(Default)]
struct Recorder {
    events: Vec<Event>,
    compacted: Vec<Vec<ResponseItem>>,
}

impl Sink for Recorder {
    fn event(&mut self, event: &Event) {
        self.events.push(event.clone());
    }

    fn compacted(&mut self, history: &[ResponseItem]) {
        self.compacted.push(history.to_vec());
    }
}

fn compactions(events: &[Event]) -> Vec<(CompactTrigger, u64)> {
    events
        .iter()
        .filter_map(|event| match event {
            Event::Compacted {
                trigger,
                context_before,
            } => Some((*trigger, *context_before)),
            _ => None,
        })
        .collect()
}

/// Whether `prompt` asks for the summary: no tools, the compaction prompt
/// last.
fn is_compaction_request(prompt: &Prompt) -> bool {
    prompt.tools.is_empty() && prompt.input.last() == Some(&user(COMPACT_PROMPT))
}

#[test]
fn a_turn_that_fills_the_window_compacts_before_its_next_request() {
    let setup = Setup::new();
    let model = text_model();
    let session = setup.session(&model);
    let client = Scripted::new(vec![
        vec![
            call("call_1", "run", serde_json::json!({"cmd": "first output"})),
            done_with(900, 100),
        ],
        vec![message("the summary"), done_with(1000, 10)],
        vec![message("done"), done_with(50, 5)],
    ]);
    let mut agent = Agent::new(&setup.plugins, &session, &client, model);
    agent.set_auto_compact_limit(Some(1000));
    let mut sink = Recorder::default();
    let outcome = agent.run_turn("fix the bug", &mut sink).unwrap();
    assert_eq!(outcome.last_message.as_deref(), Some("done"));

    let prompts = client.prompts.lock().unwrap();
    assert_eq!(prompts.len(), 3);
    assert!(!prompts[0].tools.is_empty());
    // The summary is asked for over the whole conversation, calls answered.
    assert!(is_compaction_request(&prompts[1]), "{:?}", prompts[1]);
    assert_eq!(prompts[1].input.len(), 4);
    assert!(!tool_output(&prompts[1], "call_1").1);
    // The turn goes on from the summary: no call, no output.
    let expected = vec![user("fix the bug"), summary("the summary")];
    assert_eq!(prompts[2].input, expected);
    assert!(!prompts[2].tools.is_empty());
    assert_eq!(agent.history()[..2], expected[..]);
    assert_eq!(sink.compacted, [expected]);
    assert_eq!(compactions(&sink.events), [(CompactTrigger::Auto, 1000)]);
    // The summary is not an agent message.
    assert_eq!(
        shape(&sink.events),
        [
            "turn.started",
            "item.completed:user_message",
            "item.started:command_execution:in_progress",
            "item.completed:command_execution:completed",
            "compacted",
            "item.completed:agent_message",
            "turn.completed",
        ]
    );
}

#[test]
fn a_turn_under_the_limit_or_without_one_does_not_compact() {
    for limit in [Some(1001), None] {
        let setup = Setup::new();
        let model = text_model();
        let session = setup.session(&model);
        let client = Scripted::new(vec![
            vec![
                call("call_1", "run", serde_json::json!({"cmd": "x"})),
                done_with(900, 100),
            ],
            vec![message("done"), done_with(1000, 100)],
            vec![message("again"), done_with(10, 1)],
        ]);
        let mut agent = Agent::new(&setup.plugins, &session, &client, model);
        agent.set_auto_compact_limit(limit);
        let mut sink = Recorder::default();
        agent.run_turn("one", &mut sink).unwrap();
        // A turn that ends needs no room: the next one compacts first (see
        // below), unless there is no limit.
        let prompts = client.prompts.lock().unwrap();
        assert_eq!(prompts.len(), 2, "{limit:?}");
        assert!(compactions(&sink.events).is_empty(), "{limit:?}");
        drop(prompts);
        if limit.is_none() {
            agent.run_turn("two", &mut sink).unwrap();
            assert!(compactions(&sink.events).is_empty());
        }
    }
}

#[test]
fn a_turn_after_one_that_filled_the_window_compacts_first() {
    let setup = Setup::new();
    let model = text_model();
    let session = setup.session(&model);
    let client = Scripted::new(vec![
        vec![message("answer one"), done_with(1500, 20)],
        vec![message("summary of one"), done_with(1500, 10)],
        vec![message("answer two"), done_with(30, 3)],
    ]);
    let mut agent = Agent::new(&setup.plugins, &session, &client, model);
    agent.set_auto_compact_limit(Some(1000));
    let mut sink = Recorder::default();
    agent.run_turn("one", &mut sink).unwrap();
    // The thread goes to another Agent between turns, as a session does.
    let state = agent.into_state();
    assert_eq!(state.context_used, 1520);
    let mut agent = Agent::new(&setup.plugins, &session, &client, text_model()).with_state(state);
    agent.set_auto_compact_limit(Some(1000));
    agent.run_turn("two", &mut sink).unwrap();

    let prompts = client.prompts.lock().unwrap();
    assert!(is_compaction_request(&prompts[1]));
    assert_eq!(
        prompts[1].input[..2],
        [
            user("one"),
            ResponseItem::text(Role::Assistant, "answer one")
        ]
    );
    // The new input follows the summary.
    assert_eq!(
        prompts[2].input,
        [user("one"), summary("summary of one"), user("two")]
    );
    assert_eq!(compactions(&sink.events), [(CompactTrigger::Auto, 1520)]);
}

#[test]
fn a_failed_compaction_fails_the_turn_and_keeps_the_conversation() {
    let setup = Setup::new();
    let model = text_model();
    let session = setup.session(&model);
    for (answer, expected) in [
        // The stream ends before `completed`.
        (
            vec![message("half a summary")],
            "compacting the conversation failed",
        ),
        (vec![done_with(10, 0)], "without a summary"),
    ] {
        let client = Scripted::new(vec![
            vec![
                call("call_1", "run", serde_json::json!({"cmd": "x"})),
                done_with(2000, 1),
            ],
            answer,
        ]);
        let mut agent = Agent::new(&setup.plugins, &session, &client, text_model());
        agent.set_auto_compact_limit(Some(1000));
        let mut sink = Recorder::default();
        let err = agent.run_turn("go", &mut sink).unwrap_err();
        assert!(err.message.contains(expected), "{err:?}");
        assert_eq!(shape(&sink.events).last().unwrap(), "turn.failed");
        assert!(sink.compacted.is_empty());
        assert_eq!(agent.history().len(), 3, "{:?}", agent.history());
    }
}

#[test]
fn compacting_when_asked_keeps_the_project_instructions_first() {
    let setup = Setup::new();
    let model = text_model();
    let session = setup.session(&model);
    let instructions = user("# AGENTS.md instructions for /repo\n\nuse tabs");
    let history = vec![
        instructions.clone(),
        user("one"),
        ResponseItem::FunctionCall {
            call_id: "c".to_owned(),
            name: "run".to_owned(),
            arguments: "{}".to_owned(),
        },
        ResponseItem::ToolOutput {
            call_id: "c".to_owned(),
            output: vec![OutputContent::Text {
                text: "a long output".to_owned(),
            }],
            is_error: false,
        },
        summary("an older summary"),
        user("two"),
        ResponseItem::text(Role::Assistant, "ok"),
    ];
    let client = Scripted::new(vec![vec![message("new summary"), done_with(100, 10)]]);
    let mut agent =
        Agent::new(&setup.plugins, &session, &client, model).with_history(history.clone());
    let mut sink = Recorder::default();
    agent.compact(&mut sink).unwrap();

    let prompts = client.prompts.lock().unwrap();
    assert!(is_compaction_request(&prompts[0]));
    assert_eq!(prompts[0].input[..history.len()], history[..]);
    // The older summary is summarized again, not kept as a user message.
    assert_eq!(
        agent.history(),
        [
            instructions,
            user("one"),
            user("two"),
            summary("new summary")
        ]
    );
    // A resumed conversation's use is estimated.
    assert_eq!(
        compactions(&sink.events),
        [(CompactTrigger::Manual, estimate_tokens(&history))]
    );
}

#[test]
fn the_compaction_request_asks_for_prose_without_tools() {
    let setup = Setup::new();
    let model = text_model();
    let session = setup.session(&model);
    let client = Scripted::new(vec![vec![message("s"), done_with(1, 1)]]);
    let mut agent =
        Agent::new(&setup.plugins, &session, &client, model).with_history(vec![user("one")]);
    agent.set_options(RequestOptions {
        output_schema: Some(serde_json::json!({"type": "object"})),
        web_search: true,
        verbosity: Some(wharf_config::Verbosity::Low),
        ..RequestOptions::default()
    });
    agent.compact(&mut Vec::new()).unwrap();
    let prompts = client.prompts.lock().unwrap();
    assert!(prompts[0].tools.is_empty());
    assert!(!prompts[0].parallel_tool_calls);
    let expected = RequestOptions {
        output_schema: None,
        web_search: false,
        ..agent.options().clone()
    };
    assert_eq!(prompts[0].options, expected);
}

/// The user messages a compacted history keeps: the newest first within
/// the budget (4 bytes a token), the one that does not fit cut, none older.
#[test]
fn recent_user_messages_are_kept_within_a_budget() {
    let long = "x".repeat(200);
    let cases: &[(&[&str], u64, &[&str])] = &[
        (&["a", "b", "c"], 100, &["a", "b", "c"]),
        // "bbbb" and "cccc" take a token each.
        (&["aaaa", "bbbb", "cccc"], 2, &["bbbb", "cccc"]),
        (
            &[&long, "cccc"],
            11,
            &[
                "xxxxxxxxxxxxxxxxxxxx…40 tokens truncated…xxxxxxxxxxxxxxxxxxxx",
                "cccc",
            ],
        ),
        (&["a", "b"], 0, &[]),
    ];
    for (messages, budget, kept) in cases {
        let history: Vec<ResponseItem> = messages.iter().map(|text| user(text)).collect();
        let new = crate::agent::compact::replacement(&history, "s", *budget);
        let mut expected: Vec<ResponseItem> = kept.iter().map(|text| user(text)).collect();
        expected.push(summary("s"));
        assert_eq!(new, expected, "{messages:?} within {budget}");
    }
}

/// A resumed conversation has no token counts: its size is estimated (4
/// bytes a token), and one past the limit compacts before the next turn.
#[test]
fn a_resumed_conversation_past_the_limit_compacts_first() {
    let setup = Setup::new();
    let model = text_model();
    let session = setup.session(&model);
    for (bytes, compacts) in [(8000, true), (3000, false)] {
        let history = vec![user(&"x".repeat(bytes))];
        let client = Scripted::new(vec![
            vec![message("summary"), done_with(10, 1)],
            vec![message("done"), done_with(10, 1)],
        ]);
        let mut agent =
            Agent::new(&setup.plugins, &session, &client, text_model()).with_history(history);
        agent.set_auto_compact_limit(Some(1000));
        let mut sink = Recorder::default();
        agent.run_turn("next", &mut sink).unwrap();
        let prompts = client.prompts.lock().unwrap();
        assert_eq!(is_compaction_request(&prompts[0]), compacts, "{bytes}");
        assert_eq!(
            compactions(&sink.events),
            if compacts {
                vec![(CompactTrigger::Auto, 2000)]
            } else {
                vec![]
            }
        );
    }
}
