//! A server's elicitation, as the session's approver sees it: the client's
//! [`ElicitRequest`] becomes the runtime's [`ElicitationRequest`] (its form
//! read by [`parse_form`], so that a form nobody could show is declined
//! with the reason), and the approver's answer, checked against the form,
//! goes back.

use wharf_plugin_mcp_client::{ElicitReply, ElicitRequest};
use wharf_runtime::plugin::CallContext;
use wharf_runtime::plugin::elicitation::{ElicitationAnswer, ElicitationRequest, parse_form};

/// What the user (or nobody) answers to `request`, which `server` sent
/// while the call of `tool` in `cx` ran.
pub(crate) fn answer(
    cx: &CallContext,
    plugin: &str,
    tool: &str,
    request: &ElicitRequest,
) -> ElicitReply {
    let Some(elicitation) = &cx.elicitation else {
        return ElicitReply::Decline {
            reason: Some(
                "nobody can answer in this session (`wharf exec` and `wharf tool call` ask no one); \
                 the tool goes on without it"
                    .to_owned(),
            ),
        };
    };
    let fields = match parse_form(&request.schema) {
        Ok(mut fields) => {
            // In the server's order.
            let at = |name: &str| request.order.iter().position(|known| known == name);
            fields.sort_by_key(|field| at(&field.name));
            fields
        }
        Err(why) => {
            return ElicitReply::Decline {
                reason: Some(format!("wharf cannot show its form: {why}")),
            };
        }
    };
    let request = ElicitationRequest {
        call_id: cx.call_id.clone(),
        plugin: plugin.to_owned(),
        tool: tool.to_owned(),
        message: request.message.clone(),
        fields,
    };
    match elicitation.ask(&request) {
        ElicitationAnswer::Accept { content } => match request.check_answer(&content) {
            Ok(()) => ElicitReply::Accept(content),
            Err(why) => ElicitReply::Decline {
                reason: Some(format!("the answer does not fit the form: {why}")),
            },
        },
        ElicitationAnswer::Decline { reason } => ElicitReply::Decline { reason },
        ElicitationAnswer::Cancel => ElicitReply::Cancel,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::{Value, json};
    use wharf_runtime::plugin::elicitation::Elicitation;
    use wharf_sandbox::{PathEnv, Sandbox, SandboxPolicy};

    use super::*;

    fn context(elicitation: Option<Elicitation>) -> CallContext {
        let cwd = std::env::temp_dir();
        let env = PathEnv {
            cwd: cwd.clone(),
            tmpdir: None,
            protected: Vec::new(),
        };
        CallContext {
            call_id: "c1".into(),
            session_id: "s1".into(),
            cwd,
            sandbox: Arc::new(Sandbox::new(&SandboxPolicy::DangerFullAccess, &env)),
            cancel: Default::default(),
            progress: None,
            elicitation,
        }
    }

    fn object(value: Value) -> serde_json::Map<String, Value> {
        let Value::Object(map) = value else {
            unreachable!()
        };
        map
    }

    /// (what, the schema, what the approver answers, what goes back)
    #[test]
    fn the_approver_answers_within_the_form_or_the_server_is_told_no() {
        let form = json!({"type": "object", "properties": {
            "b": {"type": "integer", "maximum": 5}, "a": {"type": "string"}}});
        let decline = |why: &str| ElicitReply::Decline {
            reason: Some(why.to_owned()),
        };
        let cases = [
            (
                "an answer that fits goes back",
                form.clone(),
                ElicitationAnswer::Accept {
                    content: object(json!({"b": 3})),
                },
                ElicitReply::Accept(object(json!({"b": 3}))),
            ),
            (
                "an answer that does not fit is declined",
                form.clone(),
                ElicitationAnswer::Accept {
                    content: object(json!({"b": 9})),
                },
                decline("the answer does not fit the form: b: at most 5"),
            ),
            (
                "a field nobody can show declines the form unasked",
                json!({"type": "object", "properties": {"a": {"type": "null"}}}),
                ElicitationAnswer::Cancel,
                decline(
                    "wharf cannot show its form: field `a`: type `null` is not one a form can show",
                ),
            ),
            (
                "a cancel goes back",
                form.clone(),
                ElicitationAnswer::Cancel,
                ElicitReply::Cancel,
            ),
        ];
        for (what, schema, answer, expected) in cases {
            let asked = Arc::new(std::sync::Mutex::new(Vec::new()));
            let cx = context(Some(Elicitation::new({
                let asked = Arc::clone(&asked);
                move |request| {
                    asked.lock().unwrap().push(request.clone());
                    answer.clone()
                }
            })));
            let request = ElicitRequest {
                message: "which?".to_owned(),
                schema,
                order: vec!["b".to_owned(), "a".to_owned()],
            };
            let reply = super::answer(&cx, "mcp-srv", "mcp__srv__t", &request);
            assert_eq!(reply, expected, "{what}");
            if let Some(asked) = asked.lock().unwrap().first() {
                let names: Vec<&str> = asked.fields.iter().map(|f| f.name.as_str()).collect();
                assert_eq!(names, ["b", "a"], "{what}: in the server's order");
                assert_eq!(asked.plugin, "mcp-srv");
                assert_eq!(asked.call_id.to_string(), "c1");
            }
        }
        let reply = answer(
            &context(None),
            "mcp-srv",
            "t",
            &ElicitRequest {
                message: String::new(),
                schema: form,
                order: Vec::new(),
            },
        );
        assert!(
            matches!(&reply, ElicitReply::Decline { reason: Some(why) } if why.starts_with("nobody can answer")),
            "{reply:?}"
        );
    }
}
