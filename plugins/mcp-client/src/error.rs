//! Why a server did not start, and why a call produced no result.

use std::time::Duration;

use rmcp::service::{ClientInitializeError, ServiceError};
use rmcp::transport::DynamicTransportError;
use rmcp::transport::streamable_http_client::StreamableHttpError;

/// Why [`crate::McpServer::start`] (or a restart) failed. Every message
/// names the server and says what failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StartError {
    #[error(
        "mcp server `{server}`: command `{command}` not found (check `command` in \
         [mcp_servers.{server}] and the PATH it is given)"
    )]
    CommandNotFound { server: String, command: String },
    #[error("mcp server `{server}`: cannot start `{command}`: {message}")]
    Spawn {
        server: String,
        command: String,
        message: String,
    },
    /// The process ended before it answered `initialize` and listed its
    /// tools.
    #[error("mcp server `{server}` {status} before it was ready{}", stderr_suffix(.stderr))]
    Exited {
        server: String,
        /// `exited with status 1`, `was killed by signal 9 (SIGKILL)`.
        status: String,
        /// The end of what it wrote to stderr.
        stderr: String,
    },
    #[error("mcp server `{server}`: {phase} timed out after {} (raise startup_timeout_sec if it is slow to start){}", seconds(*.after), stderr_suffix(.stderr))]
    Timeout {
        server: String,
        /// `initialize` or `tools/list`.
        phase: &'static str,
        after: Duration,
        stderr: String,
    },
    #[error(
        "mcp server `{server}` ({url}) answered 401 Unauthorized: log in with \
         `wharf mcp login {server}`, or check its bearer_token_env_var and http_headers"
    )]
    Unauthorized { server: String, url: String },
    #[error("mcp server `{server}` ({url}): {message}")]
    Http {
        server: String,
        url: String,
        message: String,
    },
    #[error("mcp server `{server}`: invalid HTTP header `{name}`: {message}")]
    Header {
        server: String,
        name: String,
        message: String,
    },
    /// The server answered, but not as MCP requires.
    #[error("mcp server `{server}`: {phase} failed: {message}{}", stderr_suffix(.stderr))]
    Protocol {
        server: String,
        phase: &'static str,
        message: String,
        stderr: String,
    },
    #[error("the MCP client cannot run: {0}")]
    Runtime(String),
}

/// Why [`crate::McpServer::call`] returned no result. A tool that ran and
/// failed is not an error here: it is a [`crate::CallResult`] with
/// `is_error`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    #[error("cancelled")]
    Cancelled,
    /// The call outlived `tool_timeout`; the server was told to stop.
    #[error("timed out after {} (tool_timeout_sec)", seconds(*.0))]
    Timeout(Duration),
    /// The server died or the connection broke (the message names the
    /// server and, for stdio, its exit status and the end of its stderr).
    /// The next call restarts it.
    #[error("{0}")]
    Disconnected(String),
    /// The server answered with a JSON-RPC error.
    #[error("{0}")]
    Protocol(String),
    /// The server refused the credentials (HTTP 401).
    #[error("{0}")]
    Unauthorized(String),
    /// The name is not one of [`crate::McpServer::tools`] (unknown, or
    /// filtered out by `enabled_tools`/`disabled_tools`).
    #[error("{0}")]
    UnknownTool(String),
    /// MCP arguments are a JSON object.
    #[error("{0}")]
    InvalidArguments(String),
    /// The server had died and starting it again failed; this counts as a
    /// restart.
    #[error("restarting: {0}")]
    Restart(StartError),
    /// The server died again after this many restarts: it is not started
    /// again for this session.
    #[error(
        "the server stopped and was restarted {0} times already; it is not restarted again \
         (start a new session to try again)"
    )]
    RestartLimit(u32),
}

/// `10 s`, `1.5 s`, `250 ms`: how a person writes a timeout.
pub(crate) fn seconds(duration: Duration) -> String {
    let millis = duration.as_millis();
    if millis < 1000 {
        format!("{millis} ms")
    } else if millis.is_multiple_of(1000) {
        format!("{} s", millis / 1000)
    } else {
        format!("{:.1} s", duration.as_secs_f64())
    }
}

/// `outer: inner: innermost`, leaving out a source whose message its
/// parent already includes.
pub(crate) fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = next_source(err);
    while let Some(error) = source {
        let message = error.to_string();
        if !text.contains(&message) {
            text.push_str(": ");
            text.push_str(&message);
        }
        source = next_source(error);
    }
    text
}

/// `err`'s source, also where rmcp does not link it: its HTTP client's
/// error (which holds the cause, e.g. "connection refused").
pub(crate) fn next_source<'a>(
    err: &'a (dyn std::error::Error + 'static),
) -> Option<&'a (dyn std::error::Error + 'static)> {
    match err.downcast_ref::<StreamableHttpError<reqwest::Error>>() {
        Some(StreamableHttpError::Client(client)) => Some(client),
        _ => err.source(),
    }
}

/// What a transport reported, without rmcp's `Transport [<type name>]`
/// wrapper, which means nothing to a user.
pub(crate) fn transport_detail(err: &DynamicTransportError) -> String {
    chain(err.error.as_ref())
}

pub(crate) fn init_detail(err: &ClientInitializeError) -> String {
    match err {
        ClientInitializeError::TransportError { error, context } => {
            format!("{} ({context})", transport_detail(error))
        }
        other => chain(other),
    }
}

pub(crate) fn service_detail(err: &ServiceError) -> String {
    match err {
        ServiceError::TransportSend(error) => transport_detail(error),
        other => chain(other),
    }
}

fn stderr_suffix(stderr: &str) -> String {
    if stderr.is_empty() {
        String::new()
    } else {
        format!("; its stderr ends with:\n{stderr}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_config_values() {
        assert_eq!(seconds(Duration::from_secs(10)), "10 s");
        assert_eq!(seconds(Duration::from_millis(1500)), "1.5 s");
        assert_eq!(seconds(Duration::from_millis(250)), "250 ms");
    }

    #[test]
    fn messages_name_the_server_and_the_remedy() {
        let timeout = StartError::Timeout {
            server: "docs".to_owned(),
            phase: "initialize",
            after: Duration::from_secs(10),
            stderr: String::new(),
        };
        assert_eq!(
            timeout.to_string(),
            "mcp server `docs`: initialize timed out after 10 s \
             (raise startup_timeout_sec if it is slow to start)"
        );
        let exited = StartError::Exited {
            server: "docs".to_owned(),
            status: "exited with status 3".to_owned(),
            stderr: "boom".to_owned(),
        };
        assert_eq!(
            exited.to_string(),
            "mcp server `docs` exited with status 3 before it was ready; its stderr ends with:\nboom"
        );
        let unauthorized = StartError::Unauthorized {
            server: "docs".to_owned(),
            url: "http://127.0.0.1:1/mcp".to_owned(),
        };
        assert!(unauthorized.to_string().contains("wharf mcp login docs"));
    }
}
