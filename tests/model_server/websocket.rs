//! The WebSocket side of the scripted model server: the Responses API's
//! WebSocket transport on the same port as HTTP.
//!
//! The upgrade request has already been read (and its headers parsed) by
//! the HTTP side when it turns out to be one, so the handshake is answered
//! here with tungstenite's accept key rather than by `accept_hdr`, which
//! would want to read the request itself; the connection then becomes a
//! tungstenite server socket.

use std::io::{self, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::Ordering;

use serde_json::{Value, json};
use tungstenite::protocol::Role;
use tungstenite::{Bytes, Message, WebSocket};

use super::{
    Call, RecordedRequest, Reply, Shared, StreamEnd, call_id, error_body, lock, record,
    responses_events, stay_silent, write_status,
};

/// Answers the upgrade `handshake`, then every `response.create` frame on
/// the connection with the next reply, until the client closes it.
pub(super) fn serve(
    mut stream: TcpStream,
    handshake: RecordedRequest,
    shared: &Shared,
) -> io::Result<()> {
    let refusal = {
        let mut replies = lock(&shared.replies);
        match replies.front() {
            Some(Reply::RejectUpgrade { .. }) => replies.pop_front(),
            _ => None,
        }
    };
    if let Some(Reply::RejectUpgrade { status, body }) = refusal {
        record(shared, handshake);
        let headers = [("Content-Type".to_owned(), "application/json".to_owned())];
        return write_status(&mut stream, status, &headers, &body);
    }
    let Some(key) = handshake.header("sec-websocket-key") else {
        let body = error_body(400, "a WebSocket upgrade needs Sec-WebSocket-Key");
        return write_status(&mut stream, 400, &[], &body);
    };
    let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
    write!(
        stream,
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {accept}\r\n\r\n"
    )?;
    stream.flush()?;
    let connection = shared.websocket_connections.fetch_add(1, Ordering::SeqCst) + 1;
    let mut socket = WebSocket::from_raw_socket(stream, Role::Server, None);
    loop {
        // An error here is the client going away: the connection is over.
        let Ok(message) = socket.read() else {
            return Ok(());
        };
        let text = match message {
            Message::Text(text) => text.as_str().to_owned(),
            Message::Close(_) => return Ok(()),
            Message::Pong(_) => {
                shared.websocket_pongs.fetch_add(1, Ordering::SeqCst);
                let _requests = lock(&shared.requests);
                shared.changed.notify_all();
                continue;
            }
            _ => continue,
        };
        let request = RecordedRequest {
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
            websocket: Some(connection),
            ..handshake.clone()
        };
        let number = record(shared, request);
        let reply = lock(&shared.replies).pop_front();
        let Some(reply) = reply else {
            let message =
                format!("the model server has no scripted reply left for request {number}");
            send(
                &mut socket,
                &error_event(400, &[], &error_body(400, &message)),
            )?;
            continue;
        };
        match reply {
            Reply::Status {
                status,
                headers,
                body,
            } => send(&mut socket, &error_event(status, &headers, &body))?,
            Reply::RejectUpgrade { status, body } => {
                send(&mut socket, &error_event(status, &[], &body))?;
            }
            Reply::Frames(frames) => {
                for data in frames.iter().filter_map(|frame| sse_data(frame)) {
                    socket.send(Message::text(data)).map_err(io::Error::other)?;
                }
            }
            Reply::Stream { turn, end } => {
                let usage = (!shared.quirks.no_usage).then_some(turn.usage);
                let rendered =
                    responses_events(&turn, number, usage, |call: &Call| call_id(shared, call));
                // A client must answer it while it reads the response.
                socket
                    .send(Message::Ping(Bytes::from_static(b"wharf")))
                    .map_err(io::Error::other)?;
                let count = match end {
                    StreamEnd::Complete | StreamEnd::CompleteThenClose => rendered.events.len(),
                    StreamEnd::CutMidItem | StreamEnd::IdleMidItem(_) => rendered.mid_item + 1,
                };
                for event in rendered.events.iter().take(count) {
                    send(&mut socket, event)?;
                }
                match end {
                    StreamEnd::Complete => {}
                    StreamEnd::CompleteThenClose => {
                        // A close frame, then what the client still sends
                        // (its pong, its own close) is read until it hangs
                        // up: closing with unread data would reset the
                        // connection, and a reset can destroy the end of
                        // the response before the client has read it.
                        let _ = socket.close(None);
                        let _ = socket.flush();
                        let _ = socket
                            .get_mut()
                            .set_read_timeout(Some(std::time::Duration::from_secs(5)));
                        while socket.read().is_ok() {}
                        return Ok(());
                    }
                    StreamEnd::CutMidItem => {
                        // No close frame: the connection just ends.
                        return socket.get_mut().shutdown(Shutdown::Both);
                    }
                    StreamEnd::IdleMidItem(silence) => {
                        stay_silent(shared, silence);
                        return socket.get_mut().shutdown(Shutdown::Both);
                    }
                }
            }
        }
    }
}

fn send(socket: &mut WebSocket<TcpStream>, event: &Value) -> io::Result<()> {
    socket
        .send(Message::text(event.to_string()))
        .map_err(io::Error::other)
}

/// An error reply as the WebSocket transport says it: an `error` event
/// with the status, the body's `error` object and the reply's headers.
fn error_event(status: u16, headers: &[(String, String)], body: &str) -> Value {
    let error = serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|body| body.get("error").cloned())
        .unwrap_or_else(|| json!({ "message": body }));
    let headers: serde_json::Map<String, Value> = headers
        .iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), Value::from(value.as_str())))
        .collect();
    json!({ "type": "error", "status": status, "error": error, "headers": headers })
}

/// The `data:` of a hand-written SSE frame; `[DONE]` (Chat's end marker)
/// has no WebSocket form.
fn sse_data(frame: &str) -> Option<String> {
    let data: Vec<&str> = frame
        .lines()
        .filter_map(|line| line.strip_prefix("data:"))
        .map(|data| data.strip_prefix(' ').unwrap_or(data))
        .collect();
    let data = data.join("\n");
    (!data.is_empty() && data != "[DONE]").then_some(data)
}
