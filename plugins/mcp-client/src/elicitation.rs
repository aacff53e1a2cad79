//! Elicitation: a server asks the user for input (`elicitation/create`: a
//! message and a requested schema) while one of its tools runs. wharf
//! advertises form elicitation and hands each request to the running
//! call's caller ([`CallHooks::elicit`](crate::CallHooks::elicit)), whose
//! answer goes back to the server.
//!
//! A request names no call (over stdio MCP has no place for it): it goes
//! to the call on this connection that started last and is still running.
//! With none running, or in URL mode (not advertised), it is declined and
//! the server's log says so; so is a request the caller declines with a
//! reason (`wharf exec` has nobody to ask, a form it cannot show).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use rmcp::model::{
    ElicitRequestParams, ElicitResult, ElicitationAction, PrimitiveSchemaDefinition,
};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

use crate::names::shown;
use crate::server_log::LogRelay;

/// What a server asks the user.
#[derive(Debug, Clone, PartialEq)]
pub struct ElicitRequest {
    /// The server's message, as sent (escape it to show it).
    pub message: String,
    /// The requested schema, as sent: an object schema of flat fields.
    pub schema: Value,
    /// Its fields' names in the server's order (`schema`'s object sorts
    /// them).
    pub order: Vec<String>,
}

/// The answer to an [`ElicitRequest`].
#[derive(Debug, Clone, PartialEq)]
pub enum ElicitReply {
    /// The values, by field name.
    Accept(serde_json::Map<String, Value>),
    /// No; `reason`, when given, says why nobody was asked, and is logged
    /// (the protocol has no place for it).
    Decline { reason: Option<String> },
    /// Stop what the server was doing.
    Cancel,
}

/// One request on its way to a call, and where the answer goes.
pub(crate) struct Ask {
    pub request: ElicitRequest,
    pub reply: oneshot::Sender<ElicitReply>,
}

/// The calls running on one connection, which its requests go to.
#[derive(Clone, Default)]
pub(crate) struct ElicitRouter {
    calls: Arc<Mutex<Vec<Running>>>,
    next: Arc<AtomicU64>,
}

/// A running call: its tool, and where its requests go.
struct Running {
    id: u64,
    tool: String,
    asks: mpsc::UnboundedSender<Ask>,
}

/// A running call's requests; it stops receiving them when dropped.
pub(crate) struct Asks {
    pub asks: mpsc::UnboundedReceiver<Ask>,
    id: u64,
    router: ElicitRouter,
}

impl Drop for Asks {
    fn drop(&mut self) {
        self.router.lock().retain(|running| running.id != self.id);
    }
}

impl ElicitRouter {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Running>> {
        self.calls.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The requests that arrive while the call of `tool` runs.
    pub(crate) fn subscribe(&self, tool: &str) -> Asks {
        let (tx, asks) = mpsc::unbounded_channel();
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        self.lock().push(Running {
            id,
            tool: tool.to_owned(),
            asks: tx,
        });
        Asks {
            asks,
            id,
            router: self.clone(),
        }
    }

    /// Answers `params` from server `server`: asks the latest running
    /// call, or declines, saying why on `log`.
    pub(crate) async fn answer(
        &self,
        server: &str,
        params: ElicitRequestParams,
        log: &LogRelay,
    ) -> ElicitResult {
        let (message, schema, order) = match params {
            ElicitRequestParams::FormElicitationParams {
                message,
                requested_schema,
                ..
            } => {
                let order = requested_schema
                    .property_order
                    .clone()
                    .unwrap_or_else(|| requested_schema.properties.keys().cloned().collect());
                let schema = serde_json::to_value(requested_schema).unwrap_or_default();
                (message, schema, order)
            }
            ElicitRequestParams::UrlElicitationParams { message, url, .. } => {
                log.line(&format!(
                    "mcp server `{server}` asked the user to open {} ({}); declined: \
                     wharf does not open URLs for servers",
                    shown(&url),
                    shown(&message)
                ));
                return ElicitResult::new(ElicitationAction::Decline);
            }
            _ => {
                log.line(&format!(
                    "mcp server `{server}` asked for input in a mode wharf does not know; declined"
                ));
                return ElicitResult::new(ElicitationAction::Decline);
            }
        };
        let request = ElicitRequest {
            message,
            schema,
            order,
        };
        let what = asked(&request);
        let latest = self
            .lock()
            .last()
            .map(|running| (running.tool.clone(), running.asks.clone()));
        let Some((tool, calls)) = latest else {
            log.line(&format!(
                "mcp server `{server}` asked for input while none of its tools ran ({what}); \
                 declined"
            ));
            return ElicitResult::new(ElicitationAction::Decline);
        };
        let (reply, answer) = oneshot::channel();
        let sent = calls.send(Ask { request, reply }).is_ok();
        let answer = match sent {
            true => answer.await.ok(),
            false => None,
        };
        match answer.unwrap_or(ElicitReply::Decline {
            reason: Some(format!("the call of `{tool}` ended before anyone answered")),
        }) {
            ElicitReply::Accept(content) => {
                ElicitResult::new(ElicitationAction::Accept).with_content(Value::Object(content))
            }
            ElicitReply::Decline { reason } => {
                if let Some(reason) = reason {
                    log.line(&format!(
                        "mcp server `{server}` asked for input during `{}` ({what}); declined: {}",
                        shown(&tool),
                        shown(&reason)
                    ));
                }
                ElicitResult::new(ElicitationAction::Decline)
            }
            ElicitReply::Cancel => ElicitResult::new(ElicitationAction::Cancel),
        }
    }
}

impl ElicitRouter {
    /// A request rmcp could not read as one (its schema has a field that
    /// is not flat, say): declined, and the log says what it asked and why.
    pub(crate) fn unreadable(&self, server: &str, params: Option<Value>, log: &LogRelay) -> Value {
        let params = params.unwrap_or_default();
        let schema = params.get("requestedSchema").cloned().unwrap_or_default();
        // The first field rmcp cannot read names the problem best.
        let properties = schema.get("properties").and_then(Value::as_object);
        let flat = |property: &Value| {
            serde_json::from_value::<PrimitiveSchemaDefinition>(property.clone()).is_ok()
        };
        let why = match properties.and_then(|all| all.iter().find(|(_, p)| !flat(p))) {
            Some((name, _)) => {
                format!("field `{name}` is not a string, number, integer, boolean or enum")
            }
            None => match serde_json::from_value::<ElicitRequestParams>(params.clone()) {
                Err(err) => err.to_string(),
                Ok(_) => "it is not a request wharf reads".to_owned(),
            },
        };
        let order = schema
            .get("properties")
            .and_then(Value::as_object)
            .map(|properties| properties.keys().cloned().collect())
            .unwrap_or_default();
        let request = ElicitRequest {
            message: params
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            schema,
            order,
        };
        let during = match self.lock().last() {
            Some(running) => format!(" during `{}`", shown(&running.tool)),
            None => String::new(),
        };
        log.line(&format!(
            "mcp server `{server}` asked for input{during} ({}); declined: its form is not one \
             wharf can show: {}",
            asked(&request),
            shown(&why)
        ));
        serde_json::json!({ "action": "decline" })
    }
}

/// What a request asks, for a log line: its message and its fields' names,
/// escaped and cut short.
fn asked(request: &ElicitRequest) -> String {
    const MESSAGE_CHARS: usize = 200;
    const FIELDS_SHOWN: usize = 8;
    let mut message: String = request.message.chars().take(MESSAGE_CHARS).collect();
    if request.message.chars().count() > MESSAGE_CHARS {
        message.push('…');
    }
    let names = &request.order;
    let mut fields: Vec<String> = names
        .iter()
        .take(FIELDS_SHOWN)
        .map(|name| shown(name))
        .collect();
    if names.len() > FIELDS_SHOWN {
        fields.push(format!("and {} more", names.len() - FIELDS_SHOWN));
    }
    format!("\"{}\", fields: {}", shown(&message), fields.join(", "))
}
