//! What a running call reports of its progress becomes an `item.progress`
//! event of the call's item, in the sink the agent shares with its turn,
//! between the item's start and its completion: one call at a time on the
//! agent's thread, and calls in parallel on their own.

use super::*;

/// `step{}` reports `half`, then `all`, and answers `stepped`.
struct Steps {
    tools: Vec<ToolSpec>,
}

impl Plugin for Steps {
    fn name(&self) -> &str {
        "commands"
    }

    fn tools(&self) -> &[ToolSpec] {
        &self.tools
    }

    fn invoke(
        &self,
        cx: &CallContext,
        _tool: &str,
        _args: Args<'_>,
        _grant: &Grant,
    ) -> Result<ToolOutput, ToolError> {
        for message in ["half", "all"] {
            if let Some(progress) = &cx.progress {
                progress.report(message);
            }
        }
        Ok(ToolOutput {
            content: vec![Content::Text("stepped".to_owned())],
            ..ToolOutput::default()
        })
    }
}

/// The turn's events, into the same list as the calls' progress.
struct Locked(SharedSink);

impl Sink for Locked {
    fn event(&mut self, event: &Event) {
        self.0.lock().unwrap().event(event);
    }
}

#[test]
fn progress_is_an_event_of_the_calls_item() {
    // (model, whether its calls run in parallel)
    for (model, parallel) in [(text_model(), false), (rich_model(), true)] {
        let setup = Setup::new();
        let mut plugins = Plugins::default();
        plugins.add_plugin(
            // The feature key the setup's session knows.
            manifest(setup.dir.path(), "commands", "exec = false"),
            Arc::new(Steps {
                tools: vec![spec(
                    "step",
                    serde_json::json!({"type": "object"}),
                    None,
                    &[],
                )],
            }),
        );
        let session = setup.session(&model);
        let client = Scripted::new(vec![
            vec![
                call("call_a", "step", serde_json::json!({})),
                call("call_b", "step", serde_json::json!({})),
                done(),
            ],
            vec![message("ok"), done()],
        ]);
        let events: Arc<Mutex<Vec<Event>>> = Arc::default();
        let shared: SharedSink = events.clone();
        let mut agent = Agent::new(&plugins, &session, &client, model.clone())
            .with_progress(Arc::clone(&shared));
        agent.run_turn("go", &mut Locked(shared)).unwrap();
        assert_eq!(
            client.prompts.lock().unwrap()[0].parallel_tool_calls,
            parallel
        );

        let events = events.lock().unwrap().clone();
        let started: Vec<(usize, String)> = events
            .iter()
            .enumerate()
            .filter_map(|(at, event)| match event {
                Event::ItemStarted { item } => Some((at, item.id.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(started.len(), 2, "{parallel}: {events:?}");
        for (start, id) in started {
            let progress: Vec<(usize, &str)> = events
                .iter()
                .enumerate()
                .filter_map(|(at, event)| match event {
                    Event::ItemProgress {
                        item_id,
                        tool,
                        message,
                    } if *item_id == id => {
                        assert_eq!(tool, "step");
                        Some((at, message.as_str()))
                    }
                    _ => None,
                })
                .collect();
            let end = events
                .iter()
                .position(|event| matches!(event, Event::ItemCompleted { item } if item.id == id))
                .unwrap();
            let messages: Vec<&str> = progress.iter().map(|(_, message)| *message).collect();
            assert_eq!(messages, ["half", "all"], "{parallel} {id}: {events:?}");
            assert!(
                progress.iter().all(|(at, _)| start < *at && *at < end),
                "{parallel} {id}: {events:?}"
            );
        }
    }
}
