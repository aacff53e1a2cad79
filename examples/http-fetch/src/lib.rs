//! `fetch`: GET a URL through `wasi:http` and return its status and the
//! start of its body. The host decides whether the request leaves: only to
//! the `host:port` entries of `plugin.toml`'s `network`, and only when the
//! sandbox has network.

use serde::Deserialize;
use wharf_plugin_api::{Args, Context, Output, Tool, ToolError, ToolSpec};

use wasi::http::outgoing_handler;
use wasi::http::types::{Fields, Method, OutgoingRequest, Scheme};
use wasi::io::streams::StreamError;

/// The most of a body the tool returns.
const MAX_BODY_BYTES: usize = 64 * 1024;

#[derive(Deserialize)]
struct FetchArgs {
    url: String,
}

pub struct Fetch;

impl Tool for Fetch {
    const NAME: &'static str = "fetch";

    fn spec() -> ToolSpec {
        ToolSpec::new("Fetches a web page (GET) from a host this plugin may reach.").input_schema(
            serde_json::json!({
                "type": "object",
                "properties": {
                    "url": { "type": "string", "description": "An http:// or https:// URL" }
                },
                "required": ["url"],
                "additionalProperties": false,
            }),
        )
    }

    fn call(_cx: &Context, args: Args) -> Result<Output, ToolError> {
        let FetchArgs { url } = args.parse()?;
        Ok(match fetch(&url) {
            Ok((status, body)) => Output::text(format!("{status}\n{body}")),
            Err(err) => Output::error(format!("cannot fetch {url}: {err}")),
        })
    }
}

/// The status and the first [`MAX_BODY_BYTES`] of the body of `GET url`.
fn fetch(url: &str) -> Result<(u16, String), String> {
    let (scheme, rest) = match url.split_once("://") {
        Some(("http", rest)) => (Scheme::Http, rest),
        Some(("https", rest)) => (Scheme::Https, rest),
        _ => return Err("the URL must start with http:// or https://".to_owned()),
    };
    let (authority, path) = match rest.find('/') {
        Some(at) => rest.split_at(at),
        None => (rest, "/"),
    };
    let request = OutgoingRequest::new(Fields::new());
    let built = request.set_method(&Method::Get).is_ok()
        && request.set_scheme(Some(&scheme)).is_ok()
        && request.set_authority(Some(authority)).is_ok()
        && request.set_path_with_query(Some(path)).is_ok();
    if !built {
        return Err("the URL is not valid".to_owned());
    }
    let pending = outgoing_handler::handle(request, None).map_err(|err| describe(&err))?;
    pending.subscribe().block();
    let response = match pending.get() {
        Some(Ok(Ok(response))) => response,
        Some(Ok(Err(err))) => return Err(describe(&err)),
        Some(Err(())) | None => return Err("no response".to_owned()),
    };
    let status = response.status();
    let body = response.consume().map_err(|()| "no body".to_owned())?;
    let mut bytes = Vec::new();
    {
        let stream = body.stream().map_err(|()| "no body".to_owned())?;
        while bytes.len() < MAX_BODY_BYTES {
            match stream.blocking_read(4096) {
                Ok(chunk) => bytes.extend(chunk),
                Err(StreamError::Closed) => break,
                Err(StreamError::LastOperationFailed(err)) => return Err(err.to_debug_string()),
            }
        }
    }
    bytes.truncate(MAX_BODY_BYTES);
    Ok((status, String::from_utf8_lossy(&bytes).into_owned()))
}

/// The host's message for a refusal, or the error's name.
fn describe(err: &wasi::http::types::ErrorCode) -> String {
    match err {
        wasi::http::types::ErrorCode::InternalError(Some(message)) => message.clone(),
        other => format!("{other:?}"),
    }
}

wharf_plugin_api::plugin!(Fetch);
