//! A stdio server's stdout on its way to rmcp, one line at a time.
//!
//! rmcp drops a line longer than its limit, a line that is not JSON and a
//! message nested deeper than serde_json parses, and waits on: the call
//! then hangs until its timeout and reports "timed out". Here every line
//! is checked before rmcp sees it: at most [`MAX_MESSAGE_BYTES`] (never
//! buffering more), a JSON-RPC object (or a batch), nested less than
//! [`MAX_DEPTH`] levels. The first line that is not ends the stream: the
//! [`Violation`] is kept for the error message, then rmcp reads the end of
//! its input, which fails the pending call or `initialize` at once.

use std::fmt;
use std::sync::{Arc, OnceLock};

use serde::Deserialize;
use serde::de::IgnoredAny;
use tokio::io::{
    AsyncBufReadExt as _, AsyncRead, AsyncWrite, AsyncWriteExt as _, BufReader, ReadHalf,
    SimplexStream,
};

/// The longest line (one message, its newline included) read from a
/// server: rmcp's own limit, so that rmcp never drops one silently.
pub(crate) const MAX_MESSAGE_BYTES: usize = rmcp::transport::async_rw::DEFAULT_MAX_LINE_LENGTH;

/// Nesting depth at which serde_json stops parsing (its recursion limit)
/// and rmcp drops the message.
pub(crate) const MAX_DEPTH: usize = 128;

/// Bytes between the checker and rmcp: the rest waits in the pipe, so a
/// server writing fast is slowed down rather than buffered.
const RELAY_BUFFER: usize = 64 * 1024;

/// How much of a line that is not a message the error shows.
const SHOWN_BYTES: usize = 80;

/// Why a server's stdout was cut off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Violation {
    TooLarge { limit: usize },
    TooDeep,
    NotJsonRpc { start: String },
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Violation::TooLarge { limit } => write!(
                f,
                "the server wrote a message larger than {} MiB to stdout, more than wharf reads \
                 in one message",
                limit / (1024 * 1024)
            ),
            Violation::TooDeep => write!(
                f,
                "the server wrote a message nested {MAX_DEPTH} levels deep or more to stdout, \
                 deeper than the JSON parser reads"
            ),
            Violation::NotJsonRpc { start } => write!(
                f,
                "the server wrote something that is not a JSON-RPC message to stdout: `{start}` \
                 (an MCP server writes only MCP messages to stdout; logs go to stderr)"
            ),
        }
    }
}

/// Where the violation that ended a stream is kept, once there is one.
pub(crate) type Verdict = Arc<OnceLock<Violation>>;

/// What rmcp reads instead of the server's stdout.
pub(crate) type Checked = ReadHalf<SimplexStream>;

/// Starts checking `stdout` on the runtime; rmcp reads the lines that
/// pass from the returned reader.
pub(crate) fn check_lines<R>(stdout: R) -> (Checked, Verdict)
where
    R: AsyncRead + Unpin + Send + 'static,
{
    let (reader, writer) = tokio::io::simplex(RELAY_BUFFER);
    let verdict = Verdict::default();
    let kept = Arc::clone(&verdict);
    tokio::spawn(async move {
        let mut writer = writer;
        if let Err(violation) = relay(stdout, &mut writer, MAX_MESSAGE_BYTES).await {
            // Set before rmcp can see the end, so that whoever reports the
            // failure finds the reason.
            let _ = kept.set(violation);
        }
        let _ = writer.shutdown().await;
    });
    (reader, verdict)
}

/// Copies the lines of `input` that are messages to `output` until the
/// end of either, or the first line that is not.
async fn relay<R, W>(input: R, output: &mut W, limit: usize) -> Result<(), Violation>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut input = BufReader::with_capacity(RELAY_BUFFER, input);
    let mut line = Vec::new();
    loop {
        let Ok(available) = input.fill_buf().await else {
            return Ok(());
        };
        if available.is_empty() {
            // rmcp drops an unterminated last line too; the exit says more.
            return Ok(());
        }
        let newline = available.iter().position(|byte| *byte == b'\n');
        let take = newline.map_or(available.len(), |at| at + 1);
        if line.len().saturating_add(take) > limit {
            return Err(Violation::TooLarge { limit });
        }
        line.extend_from_slice(&available[..take]);
        input.consume(take);
        // Not JSON from its first byte: no need to wait for the newline
        // (a server that writes a banner without one would hang the call).
        if let Some(first) = line.iter().find(|byte| !byte.is_ascii_whitespace())
            && !matches!(first, b'{' | b'[')
        {
            return Err(not_json_rpc(&line));
        }
        if newline.is_none() {
            continue;
        }
        check(&line)?;
        if output.write_all(&line).await.is_err() {
            // rmcp stopped reading: the session is closing.
            return Ok(());
        }
        line.clear();
        if line.capacity() > RELAY_BUFFER {
            line = Vec::new();
        }
    }
}

/// What rmcp needs to see in a message's first level.
#[derive(Deserialize)]
struct Envelope {
    jsonrpc: String,
}

/// Whether one line (its newline included) is a message rmcp can read;
/// blank lines pass (rmcp skips them).
fn check(line: &[u8]) -> Result<(), Violation> {
    let text = line.trim_ascii();
    if text.is_empty() {
        return Ok(());
    }
    if depth(text) >= MAX_DEPTH {
        return Err(Violation::TooDeep);
    }
    let is_message = if text.starts_with(b"[") {
        serde_json::from_slice::<IgnoredAny>(text).is_ok()
    } else {
        serde_json::from_slice::<Envelope>(text).is_ok_and(|envelope| envelope.jsonrpc == "2.0")
    };
    if is_message {
        Ok(())
    } else {
        Err(not_json_rpc(text))
    }
}

/// Whether the data of an HTTP server's SSE event is a message rmcp can
/// read; if not, why, for the error message.
pub(crate) fn check_event(data: &str) -> Result<(), String> {
    check(data.as_bytes()).map_err(|violation| match violation {
        Violation::TooLarge { .. } | Violation::TooDeep => format!(
            "the server sent an event nested {MAX_DEPTH} levels deep or more, deeper than the \
             JSON parser reads"
        ),
        Violation::NotJsonRpc { start } => {
            format!("the server sent an event that is not a JSON-RPC message: `{start}`")
        }
    })
}

/// The deepest nesting of arrays and objects in `json` (strings skipped),
/// counted as serde_json counts against its recursion limit.
fn depth(json: &[u8]) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let (mut in_string, mut escaped) = (false, false);
    for byte in json {
        if in_string {
            match (escaped, byte) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

fn not_json_rpc(line: &[u8]) -> Violation {
    Violation::NotJsonRpc {
        start: shown(line.trim_ascii()),
    }
}

/// The first bytes of `bytes` as text a terminal shows as it is: control
/// characters, bidi overrides and other invisible characters escaped, and
/// `…` when cut.
fn shown(bytes: &[u8]) -> String {
    let cut = bytes.len() > SHOWN_BYTES;
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(SHOWN_BYTES)]);
    let mut shown: String = text.chars().flat_map(char::escape_debug).collect();
    if cut {
        shown.push('…');
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn lines_pass_until_one_is_not_a_message() {
        let msg = "{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{\"text\":\"a [ { \\\" \"}}";
        let deep = format!(
            "{{\"jsonrpc\":\"2.0\",\"x\":{}{}}}",
            "[".repeat(126),
            "]".repeat(126)
        );
        let too_deep = deep.replacen('[', "[[", 1).replacen(']', "]]", 1);
        // The boundary is serde_json's, which rmcp parses with.
        assert!(serde_json::from_str::<serde_json::Value>(&deep).is_ok());
        assert!(serde_json::from_str::<serde_json::Value>(&too_deep).is_err());
        // (input, what reaches rmcp, how the stream ends)
        let cases: Vec<(String, String, Result<(), Violation>)> = vec![
            (
                format!("{msg}\n\n{msg}\n"),
                format!("{msg}\n\n{msg}\n"),
                Ok(()),
            ),
            (format!("[{msg}]\n"), format!("[{msg}]\n"), Ok(())),
            ("  \r\n".to_owned(), "  \r\n".to_owned(), Ok(())),
            (format!("{msg}\n{msg}"), format!("{msg}\n"), Ok(())),
            (
                format!("{msg}\n{}", "x".repeat(200)),
                format!("{msg}\n"),
                Err(not_json("x".repeat(80) + "…")),
            ),
            (
                format!("Starting \u{1b}]52;c;aGk=\u{7} \u{202e}up\n{msg}\n"),
                String::new(),
                Err(not_json(
                    "Starting \\u{1b}]52;c;aGk=\\u{7} \\u{202e}up".to_owned(),
                )),
            ),
            (
                "{\"id\":1}\n".to_owned(),
                String::new(),
                Err(not_json("{\\\"id\\\":1}".to_owned())),
            ),
            (
                "{\"jsonrpc\":\"2.0\"\n".to_owned(),
                String::new(),
                Err(not_json("{\\\"jsonrpc\\\":\\\"2.0\\\"".to_owned())),
            ),
            (format!("{deep}\n"), format!("{deep}\n"), Ok(())),
            (
                format!("{too_deep}\n"),
                String::new(),
                Err(Violation::TooDeep),
            ),
            (
                format!("{msg}\n{msg}{}\n", " ".repeat(2000)),
                format!("{msg}\n"),
                Err(Violation::TooLarge { limit: 1024 }),
            ),
        ];
        for (input, passed, expected) in &cases {
            let mut output = Vec::new();
            let outcome = relay(input.as_bytes(), &mut output, 1024).await;
            assert_eq!(&outcome, expected, "{input:?}");
            assert_eq!(
                String::from_utf8_lossy(&output),
                passed.as_str(),
                "{input:?}"
            );
        }
    }

    fn not_json(start: String) -> Violation {
        Violation::NotJsonRpc { start }
    }
}
