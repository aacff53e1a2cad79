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
