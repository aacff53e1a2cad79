//! A plugin that tries the network every way a WASM guest can: an HTTP
//! request through `wasi:http/outgoing-handler` (following redirects itself,
//! as wasi:http does not), a TCP connection and a UDP datagram through
//! `wasi:sockets`, and a name lookup. Only wharf's network tests
//! (`cli/tests/it/network.rs`) install it. Every tool reports what it
//! managed to do, so that a test sees an escape as output.

use serde::Deserialize;
use wharf_plugin_api::{Args, Context, Output, Tool, ToolError, ToolSpec};

use wasi::http::outgoing_handler;
use wasi::http::types::{Fields, Method, OutgoingRequest, Scheme};
use wasi::io::streams::StreamError;

fn spec(description: &str, properties: &[(&str, &str)]) -> ToolSpec {
    let props: serde_json::Map<String, serde_json::Value> = properties
        .iter()
        .map(|(name, ty)| ((*name).to_owned(), serde_json::json!({ "type": ty })))
        .collect();
    let required: Vec<&str> = properties.iter().map(|(name, _)| *name).collect();
    ToolSpec::new(description).input_schema(serde_json::json!({
        "type": "object",
        "properties": props,
        "required": required,
        "additionalProperties": false,
    }))
}

#[derive(Deserialize)]
struct GetArgs {
    url: String,
    /// How many redirects to follow.
    follow: u32,
}

/// `GET url` through wasi:http; prints the status and the body.
pub struct Get;

impl Tool for Get {
    const NAME: &'static str = "get";

    fn spec() -> ToolSpec {
        spec(
            "GETs a URL with wasi:http, following up to `follow` redirects.",
            &[("url", "string"), ("follow", "integer")],
        )
    }

    fn call(_cx: &Context, args: Args) -> Result<Output, ToolError> {
        let GetArgs { mut url, follow } = args.parse()?;
        let mut hops = 0;
        loop {
            match get(&url) {
                Ok((status, Some(location), _))
                    if (300..400).contains(&status) && hops < follow =>
                {
                    hops += 1;
                    url = location;
                }
                Ok((status, _, body)) => return Ok(Output::text(format!("{status} {body}"))),
                Err(err) => return Ok(Output::error(format!("GET {url}: {err}"))),
            }
        }
    }
}

/// The status, `Location` and body of `GET url`.
fn get(url: &str) -> Result<(u16, Option<String>, String), String> {
    let (scheme, rest) = match url.split_once("://") {
        Some(("http", rest)) => (Scheme::Http, rest),
        Some(("https", rest)) => (Scheme::Https, rest),
        _ => return Err("not an http(s) URL".to_owned()),
    };
    let (authority, path) = match rest.find('/') {
        Some(at) => rest.split_at(at),
        None => (rest, "/"),
    };
    let request = OutgoingRequest::new(Fields::new());
    let set = request.set_method(&Method::Get).is_ok()
        && request.set_scheme(Some(&scheme)).is_ok()
        && request.set_authority(Some(authority)).is_ok()
        && request.set_path_with_query(Some(path)).is_ok();
    if !set {
        return Err("cannot build the request".to_owned());
    }
    let pending = outgoing_handler::handle(request, None).map_err(|err| format!("{err:?}"))?;
    pending.subscribe().block();
    let response = match pending.get() {
        Some(Ok(Ok(response))) => response,
        Some(Ok(Err(err))) => return Err(format!("{err:?}")),
        Some(Err(())) | None => return Err("no response".to_owned()),
    };
    let status = response.status();
    let location = response
        .headers()
        .get("location")
        .first()
        .map(|value| String::from_utf8_lossy(value).into_owned());
    let body = response.consume().map_err(|()| "no body".to_owned())?;
    let mut text = Vec::new();
    {
        let stream = body.stream().map_err(|()| "no body stream".to_owned())?;
        loop {
            match stream.blocking_read(4096) {
                Ok(bytes) => text.extend(bytes),
                Err(StreamError::Closed) => break,
                Err(StreamError::LastOperationFailed(err)) => {
                    return Err(err.to_debug_string());
                }
            }
        }
    }
    Ok((
        status,
        location,
        String::from_utf8_lossy(&text).into_owned(),
    ))
}

#[derive(Deserialize)]
struct AddrArg {
    addr: String,
}

/// A TCP connection with `std::net`: sends a request line and reads the
/// first line of the answer.
pub struct Tcp;

impl Tool for Tcp {
    const NAME: &'static str = "tcp";

    fn spec() -> ToolSpec {
        spec(
            "Connects with TCP and speaks HTTP/1.0.",
            &[("addr", "string")],
        )
    }

    fn call(_cx: &Context, args: Args) -> Result<Output, ToolError> {
        use std::io::{Read, Write};
        let AddrArg { addr } = args.parse()?;
        let mut stream = match std::net::TcpStream::connect(&addr) {
            Ok(stream) => stream,
            Err(err) => return Ok(Output::error(format!("cannot connect to {addr}: {err}"))),
        };
        let mut answer = String::new();
        let exchanged = stream
            .write_all(b"GET / HTTP/1.0\r\n\r\n")
            .and_then(|()| stream.read_to_string(&mut answer));
        Ok(match exchanged {
            Ok(_) => Output::text(answer.lines().next().unwrap_or("").to_owned()),
            Err(err) => Output::error(format!("connected to {addr}, then: {err}")),
        })
    }
}

/// A UDP datagram with `std::net`.
pub struct Udp;

impl Tool for Udp {
    const NAME: &'static str = "udp";

    fn spec() -> ToolSpec {
        spec("Sends a UDP datagram.", &[("addr", "string")])
    }

    fn call(_cx: &Context, args: Args) -> Result<Output, ToolError> {
        let AddrArg { addr } = args.parse()?;
        let sent = std::net::UdpSocket::bind("0.0.0.0:0")
            .and_then(|socket| socket.send_to(b"wharf-net-test", &addr));
        Ok(match sent {
            Ok(bytes) => Output::text(format!("sent {bytes} bytes to {addr}")),
            Err(err) => Output::error(format!("cannot send to {addr}: {err}")),
        })
    }
}

/// A name lookup with `std::net`.
pub struct Resolve;

impl Tool for Resolve {
    const NAME: &'static str = "resolve";

    fn spec() -> ToolSpec {
        spec("Looks a name up.", &[("addr", "string")])
    }

    fn call(_cx: &Context, args: Args) -> Result<Output, ToolError> {
        use std::net::ToSocketAddrs;
        let AddrArg { addr } = args.parse()?;
        Ok(match addr.to_socket_addrs() {
            Ok(found) => Output::text(
                found
                    .map(|found| found.to_string())
                    .collect::<Vec<_>>()
                    .join(" "),
            ),
            Err(err) => Output::error(format!("cannot resolve {addr}: {err}")),
        })
    }
}

wharf_plugin_api::plugin!(Get, Tcp, Udp, Resolve);
