//! The loopback listener the browser is redirected to at the end of a
//! login: it takes the `code` only with the `state` this login sent, and
//! shows the user a page saying how it went.

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

use super::{CALLBACK_PATH, OAuthError};

/// How long one connection may take to send its request line (a browser's
/// speculative connection sends nothing).
const READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// What the browser brought back.
pub(super) struct Callback {
    pub(super) code: String,
    pub(super) state: String,
    pub(super) issuer: Option<String>,
}

/// Serves the loopback listener until the redirect arrives: other paths
/// (a browser's `/favicon.ico`) get a 404 and the wait goes on; the
/// callback gets a page saying how it went, and ends the wait.
pub(super) async fn wait_for_callback(
    listener: &TcpListener,
    expected_state: &str,
) -> Result<Callback, OAuthError> {
    loop {
        let (mut stream, _) = listener.accept().await.map_err(OAuthError::Callback)?;
        let Ok(Ok(Some(target))) =
            tokio::time::timeout(READ_TIMEOUT, read_request_target(&mut stream)).await
        else {
            continue;
        };
        match parse_callback(&target, expected_state) {
            None => {
                respond(
                    &mut stream,
                    "404 Not Found",
                    "Not found",
                    "This is wharf's login callback.",
                )
                .await
            }
            Some(Ok(callback)) => {
                respond(
                    &mut stream,
                    "200 OK",
                    "Logged in",
                    "wharf received the authorization. You can close this tab.",
                )
                .await;
                return Ok(callback);
            }
            Some(Err(err)) => {
                respond(
                    &mut stream,
                    "400 Bad Request",
                    "Login failed",
                    &format!("wharf could not log in: {err}"),
                )
                .await;
                return Err(err);
            }
        }
    }
}

/// The callback's parameters; `None` for a request to another path.
fn parse_callback(target: &str, expected_state: &str) -> Option<Result<Callback, OAuthError>> {
    let url = url::Url::parse(&format!("http://127.0.0.1{target}")).ok()?;
    if url.path() != CALLBACK_PATH {
        return None;
    }
    let param = |name: &str| {
        url.query_pairs()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    };
    if let Some(error) = param("error") {
        return Some(Err(OAuthError::Denied {
            error,
            description: param("error_description"),
        }));
    }
    let state = param("state").unwrap_or_default();
    if state != expected_state {
        return Some(Err(OAuthError::StateMismatch { received: state }));
    }
    let Some(code) = param("code") else {
        return Some(Err(OAuthError::MissingCode));
    };
    Some(Ok(Callback {
        code,
        state,
        issuer: param("iss"),
    }))
}

/// The request target of a `GET` (`/callback?code=…`), read up to the end
/// of the headers; `None` for anything else.
async fn read_request_target(stream: &mut TcpStream) -> std::io::Result<Option<String>> {
    const LIMIT: usize = 16 * 1024;
    let mut head = Vec::new();
    let mut buffer = [0u8; 2048];
    while !head.windows(4).any(|window| window == b"\r\n\r\n") {
        let read = stream.read(&mut buffer).await?;
        if read == 0 || head.len() + read > LIMIT {
            return Ok(None);
        }
        head.extend_from_slice(&buffer[..read]);
    }
    let head = String::from_utf8_lossy(&head);
    let mut request_line = head.lines().next().unwrap_or_default().split(' ');
    match (request_line.next(), request_line.next()) {
        (Some("GET"), Some(target)) => Ok(Some(target.to_owned())),
        _ => Ok(None),
    }
}

async fn respond(stream: &mut TcpStream, status: &str, title: &str, message: &str) {
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>wharf: {title}</title></head>\
         <body><h1>{title}</h1><p>{}</p></body></html>\n",
        escape_html(message)
    );
    let response = format!(
        "HTTP/1.1 {status}\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\n\
         cache-control: no-store\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    // The browser going away early changes nothing for the login.
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

fn escape_html(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (request target, what the listener makes of it)
    const CASES: &[(&str, &str)] = &[
        ("/callback?code=c1&state=s1", "code c1, issuer -"),
        (
            "/callback?state=s1&code=c%2F1&iss=http%3A%2F%2Fas",
            "code c/1, issuer http://as",
        ),
        ("/favicon.ico", "not the callback"),
        ("/callback/other?code=c1&state=s1", "not the callback"),
        ("/callback?code=c1", "state mismatch: ``"),
        ("/callback?code=c1&state=s2", "state mismatch: `s2`"),
        ("/callback?state=s1", "no code"),
        (
            "/callback?error=access_denied&state=s1",
            "denied: access_denied",
        ),
    ];

    #[test]
    fn callback_requests_are_read_as_expected() {
        for (target, expected) in CASES {
            let actual = match parse_callback(target, "s1") {
                None => "not the callback".to_owned(),
                Some(Ok(callback)) => format!(
                    "code {}, issuer {}",
                    callback.code,
                    callback.issuer.as_deref().unwrap_or("-")
                ),
                Some(Err(OAuthError::StateMismatch { received })) => {
                    format!("state mismatch: `{received}`")
                }
                Some(Err(OAuthError::MissingCode)) => "no code".to_owned(),
                Some(Err(OAuthError::Denied { error, .. })) => format!("denied: {error}"),
                Some(Err(other)) => format!("other: {other}"),
            };
            assert_eq!(&actual, expected, "{target}");
        }
    }

    #[test]
    fn pages_escape_what_they_echo() {
        assert_eq!(
            escape_html("<script>alert('x') & \"y\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
    }
}
