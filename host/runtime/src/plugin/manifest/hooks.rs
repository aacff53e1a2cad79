//! `[hooks]`: the events a WASM plugin's `wharf:plugin/hooks` export is
//! called for, and for which tools.
//!
//! ```toml
//! [hooks]
//! events = ["before-tool-call"]
//! tools = ["run_command", "edit_files"]
//! required = false
//! ```

use serde::Deserialize;

/// `[hooks]` as written.
#[derive(Deserialize)]
pub(super) struct HooksToml {
    #[serde(default)]
    events: Vec<HookedEvent>,
    tools: Option<Vec<String>>,
    #[serde(default)]
    required: bool,
}

/// An event a manifest may list, by its WIT name: the runtime's
/// `hooks::HookEvent` as the manifest knows it (the manifest does not
/// depend on the hooks' runtime types, which depend on the plugin's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HookedEvent {
    SessionStart,
    UserPromptSubmit,
    BeforeToolCall,
    AfterToolCall,
    SessionEnd,
}

impl HookedEvent {
    pub const ALL: [HookedEvent; 5] = [
        HookedEvent::SessionStart,
        HookedEvent::UserPromptSubmit,
        HookedEvent::BeforeToolCall,
        HookedEvent::AfterToolCall,
        HookedEvent::SessionEnd,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            HookedEvent::SessionStart => "session-start",
            HookedEvent::UserPromptSubmit => "user-prompt-submit",
            HookedEvent::BeforeToolCall => "before-tool-call",
            HookedEvent::AfterToolCall => "after-tool-call",
            HookedEvent::SessionEnd => "session-end",
        }
    }

    /// Whether the event is about a tool call (what `tools` narrows).
    pub fn is_tool_event(self) -> bool {
        matches!(
            self,
            HookedEvent::BeforeToolCall | HookedEvent::AfterToolCall
        )
    }
}

/// Which events a plugin hooks, and for which tools.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookSelection {
    /// In the order of [`HookedEvent::ALL`], each once.
    pub events: Vec<HookedEvent>,
    /// The tools whose events it sees, by exact name; `None`: every tool.
    /// Session and prompt events are not about a tool and always seen.
    pub tools: Option<Vec<String>>,
    /// A failure (a trap, a missed deadline, an unreadable answer) stops
    /// the event instead of being skipped with a warning.
    pub required: bool,
}

impl HookSelection {
    /// One line for `wharf plugin add`: `hooks: before-tool-call of run_command
    /// (required: …)`.
    pub fn describe(&self) -> String {
        let events: Vec<&str> = self.events.iter().map(|event| event.as_str()).collect();
        let tools = match &self.tools {
            Some(tools) => format!(" of {}", tools.join(", ")),
            None => " of every tool".to_owned(),
        };
        let tool_events = self.events.iter().any(|event| event.is_tool_event());
        format!(
            "hooks: {}{}{}",
            events.join(", "),
            if tool_events { tools.as_str() } else { "" },
            if self.required {
                " (required: a failure stops the event)"
            } else {
                ""
            }
        )
    }

    pub fn wants(&self, event: HookedEvent, tool: Option<&str>) -> bool {
        self.events.contains(&event)
            && match (&self.tools, tool) {
                (Some(tools), Some(tool)) => tools.iter().any(|name| name == tool),
                _ => true,
            }
    }
}

/// Checks `[hooks]` of a plugin with `api` and `kind`: the message of the
/// error, which the caller places at the table.
pub(super) fn selection(raw: HooksToml, api: &str, wasm: bool) -> Result<HookSelection, String> {
    if !wasm {
        return Err(
            "only WASM plugins export hooks (a command hook goes in config.toml's `[hooks]`)"
                .to_owned(),
        );
    }
    if api == "0.1.0" {
        return Err(
            "wharf:plugin@0.1.0 has no hooks; set `api = \"0.2.0\"` and rebuild the plugin \
             against wit/0.2.0 (world `plugin-with-hooks`)"
                .to_owned(),
        );
    }
    let mut events = raw.events;
    events.sort();
    events.dedup();
    if events.is_empty() {
        return Err(format!(
            "no `events`: list the events to hook ({})",
            HookedEvent::ALL.map(HookedEvent::as_str).join(", ")
        ));
    }
    Ok(HookSelection {
        events,
        tools: raw.tools,
        required: raw.required,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (the table, `api`, whether the plugin is WASM, the events, tools and
    /// `required` it selects, or a part of the error)
    type Case = (
        &'static str,
        &'static str,
        bool,
        Result<Selected, &'static str>,
    );
    type Selected = (
        &'static [HookedEvent],
        Option<&'static [&'static str]>,
        bool,
    );

    fn parse(toml_text: &str, api: &str, wasm: bool) -> Result<HookSelection, String> {
        let raw: HooksToml = toml::from_str(toml_text).map_err(|err| err.message().to_owned())?;
        selection(raw, api, wasm)
    }

    #[test]
    fn hooks_tables_and_what_they_select() {
        use HookedEvent::*;
        let cases: &[Case] = &[
            (
                r#"events = ["after-tool-call", "before-tool-call", "before-tool-call"]"#,
                "0.2.0",
                true,
                Ok((&[BeforeToolCall, AfterToolCall], None, false)),
            ),
            (
                "events = [\"before-tool-call\"]\ntools = [\"run_command\"]\nrequired = true",
                "0.2.0",
                true,
                Ok((&[BeforeToolCall], Some(&["run_command"]), true)),
            ),
            (
                r#"events = ["before-tool-call"]"#,
                "0.1.0",
                true,
                Err("wharf:plugin@0.1.0 has no hooks"),
            ),
            (
                r#"events = ["before-tool-call"]"#,
                "1",
                false,
                Err("only WASM plugins export hooks"),
            ),
            ("required = true", "0.2.0", true, Err("no `events`")),
            (
                r#"events = ["pre-tool-use"]"#,
                "0.2.0",
                true,
                Err("unknown variant `pre-tool-use`"),
            ),
        ];
        for (text, api, wasm, expected) in cases {
            let got = parse(text, api, *wasm);
            match (expected, got) {
                (Ok((events, tools, required)), Ok(selection)) => {
                    assert_eq!(selection.events, *events, "{text}");
                    assert_eq!(
                        selection.tools,
                        tools.map(|tools| tools.iter().map(|t| (*t).to_owned()).collect()),
                        "{text}"
                    );
                    assert_eq!(selection.required, *required, "{text}");
                }
                (Err(expected), Err(message)) => {
                    assert!(message.contains(expected), "{text}: {message}");
                }
                (expected, got) => panic!("{text}: expected {expected:?}, got {got:?}"),
            }
        }
    }

    #[test]
    fn a_selection_wants_its_events_of_its_tools() {
        let selection = HookSelection {
            events: vec![HookedEvent::BeforeToolCall, HookedEvent::SessionStart],
            tools: Some(vec!["run_command".to_owned()]),
            required: false,
        };
        let cases = [
            (HookedEvent::BeforeToolCall, Some("run_command"), true),
            (HookedEvent::BeforeToolCall, Some("edit_files"), false),
            (HookedEvent::AfterToolCall, Some("run_command"), false),
            (HookedEvent::SessionStart, None, true),
            (HookedEvent::SessionEnd, None, false),
        ];
        for (event, tool, wanted) in cases {
            assert_eq!(selection.wants(event, tool), wanted, "{event:?} {tool:?}");
        }
    }
}
