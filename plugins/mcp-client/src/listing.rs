//! `tools/list`, read tool by tool: a tool the server describes badly is
//! skipped with its name and why, not the whole list.
//!
//! rmcp parses a page as a whole; when one tool of it does not fit its
//! types (`inputSchema: 5`), the page arrives as raw JSON and is read here
//! one tool at a time.

use rmcp::RoleClient;
use rmcp::model::{ClientRequest, CustomRequest, JsonObject, ServerResult, Tool};
use rmcp::service::{Peer, ServiceError};
use serde_json::Value;

use crate::names::{ListedTool, shown};

/// Every tool of every page, and what was wrong with the tools that have
/// no name to skip them by.
pub(crate) struct Listing {
    pub tools: Vec<ListedTool>,
    pub warnings: Vec<String>,
}

/// Lists every page of the server's tools.
pub(crate) async fn list_tools(peer: &Peer<RoleClient>) -> Result<Listing, ServiceError> {
    let mut listing = Listing {
        tools: Vec::new(),
        warnings: Vec::new(),
    };
    let mut cursor: Option<String> = None;
    loop {
        let params = cursor
            .take()
            .map(|cursor| serde_json::json!({ "cursor": cursor }));
        let request = ClientRequest::CustomRequest(CustomRequest::new("tools/list", params));
        let next = match peer.send_request(request).await? {
            ServerResult::ListToolsResult(page) => {
                listing.tools.extend(page.tools.into_iter().map(typed));
                page.next_cursor
            }
            ServerResult::CustomResult(raw) => raw_page(raw.0, &mut listing)?,
            // `{}`: a page without tools (rmcp reads it as an empty result).
            ServerResult::EmptyResult(_) => None,
            _ => return Err(ServiceError::UnexpectedResponse),
        };
        match next {
            Some(next) => cursor = Some(next),
            None => return Ok(listing),
        }
    }
}

/// A tool rmcp could parse: only its schema's `type` is left to check.
fn typed(tool: Tool) -> ListedTool {
    let mut listed = ListedTool {
        name: tool.name.into_owned(),
        title: tool.title,
        description: tool.description.map(|text| text.into_owned()),
        input_schema: Value::Null,
        problem: None,
    };
    match object_schema(&tool.input_schema) {
        Ok(()) => {
            let schema = std::sync::Arc::unwrap_or_clone(tool.input_schema);
            listed.input_schema = with_object_type(schema);
        }
        Err(problem) => listed.problem = Some(problem),
    }
    listed
}

/// A page rmcp could not parse: each tool on its own. Returns the next
/// cursor.
fn raw_page(page: Value, listing: &mut Listing) -> Result<Option<String>, ServiceError> {
    let Value::Object(mut page) = page else {
        return Err(ServiceError::UnexpectedResponse);
    };
    let Some(Value::Array(tools)) = page.remove("tools") else {
        return Err(ServiceError::UnexpectedResponse);
    };
    let before = listing.tools.len();
    for (index, tool) in tools.into_iter().enumerate() {
        match raw_tool(tool) {
            Ok(tool) => listing.tools.push(tool),
            Err(why) => listing.warnings.push(format!(
                "the server's tool #{} is skipped: {why}",
                before + index + 1
            )),
        }
    }
    Ok(match page.remove("nextCursor") {
        Some(Value::String(cursor)) => Some(cursor),
        _ => None,
    })
}

/// One raw tool; `Err` only when it has no name to be named by.
fn raw_tool(tool: Value) -> Result<ListedTool, String> {
    let Value::Object(mut tool) = tool else {
        return Err(format!("it is {}, not an object", kind(&tool)));
    };
    let name = match tool.remove("name") {
        Some(Value::String(name)) => name,
        Some(other) => return Err(format!("its name is {}, not a string", kind(&other))),
        None => return Err("it has no name".to_owned()),
    };
    let mut listed = ListedTool {
        name,
        title: None,
        description: None,
        input_schema: Value::Null,
        problem: None,
    };
    match tool.remove("description") {
        Some(Value::String(text)) => listed.description = Some(text),
        None | Some(Value::Null) => {}
        Some(other) => {
            listed.problem = Some(format!("its description is {}, not a string", kind(&other)));
            return Ok(listed);
        }
    }
    if let Some(Value::String(title)) = tool.remove("title") {
        listed.title = Some(title);
    }
    match tool.remove("inputSchema") {
        Some(Value::Object(schema)) => match object_schema(&schema) {
            Ok(()) => listed.input_schema = with_object_type(schema),
            Err(problem) => listed.problem = Some(problem),
        },
        None | Some(Value::Null) => listed.input_schema = with_object_type(JsonObject::new()),
        Some(other) => {
            listed.problem = Some(format!(
                "its input schema is {}, not a JSON Schema object",
                kind(&other)
            ));
        }
    }
    Ok(listed)
}

/// MCP arguments are a JSON object: a schema for anything else describes
/// a tool that can never be called.
fn object_schema(schema: &JsonObject) -> Result<(), String> {
    match schema.get("type") {
        None => Ok(()),
        Some(Value::String(kind)) if kind == "object" => Ok(()),
        Some(Value::String(kind)) => Err(format!(
            "its input schema is for `{}` values, but MCP arguments are an object",
            shown(kind)
        )),
        Some(other) => Err(format!(
            "its input schema's `type` is {}, not \"object\"",
            kind(other)
        )),
    }
}

/// The schema with `"type": "object"` (models require it at the top; an
/// MCP tool's arguments are an object anyway).
fn with_object_type(mut schema: JsonObject) -> Value {
    schema
        .entry("type")
        .or_insert_with(|| Value::String("object".to_owned()));
    Value::Object(schema)
}

/// `a number`, `an array`…: what a JSON value is, without its content
/// (which may be huge, or anything).
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(tool: Value) -> Option<String> {
        raw_tool(tool).map(|tool| tool.problem).unwrap_or_else(Some)
    }

    #[test]
    fn raw_tools_are_judged_one_by_one() {
        let cases = [
            (serde_json::json!({"name": "ok"}), None),
            (
                serde_json::json!({"name": "ok", "inputSchema": {"properties": {}}}),
                None,
            ),
            (
                serde_json::json!({"name": "five", "inputSchema": 5}),
                Some("its input schema is a number, not a JSON Schema object"),
            ),
            (
                serde_json::json!({"name": "s", "inputSchema": {"type": "string"}}),
                Some("its input schema is for `string` values, but MCP arguments are an object"),
            ),
            (
                serde_json::json!({"name": "t", "inputSchema": {"type": ["object", "null"]}}),
                Some("its input schema's `type` is an array, not \"object\""),
            ),
            (
                serde_json::json!({"name": "d", "description": 3}),
                Some("its description is a number, not a string"),
            ),
            (
                serde_json::json!({"name": 3}),
                Some("its name is a number, not a string"),
            ),
            (serde_json::json!({}), Some("it has no name")),
            (
                serde_json::json!("x"),
                Some("it is a string, not an object"),
            ),
        ];
        for (tool, expected) in cases {
            assert_eq!(problem(tool.clone()).as_deref(), expected, "{tool}");
        }
    }

    #[test]
    fn a_schema_without_type_is_given_object() {
        let tool = raw_tool(serde_json::json!({"name": "a", "inputSchema": {"properties": {}}}));
        assert_eq!(
            tool.map(|tool| tool.input_schema).ok(),
            Some(serde_json::json!({"type": "object", "properties": {}}))
        );
    }
}
