//! Redirects: a configured header or token never reaches another origin.

use std::sync::Arc;

use wharf_plugin_mcp_client::{HttpAuth, McpServer, StartError};

use crate::headers::{Recorder, spec};

/// A token from the OAuth hook (or a bearer token from the environment).
struct Token;

impl HttpAuth for Token {
    fn access_token(&self) -> Result<Option<String>, String> {
        Ok(Some("secret-token".to_owned()))
    }
}

/// A redirect's status line, the configured headers, whether an OAuth
/// hook hands out a token.
type Case = (&'static str, &'static [(&'static str, &'static str)], bool);

/// `status` to `location`; the string lives as long as the test binary,
/// as the recorder's canned answer must.
fn redirect(status: &str, location: &str) -> &'static str {
    let response = format!(
        "HTTP/1.1 {status}\r\nLocation: {location}\r\nContent-Length: 0\r\n\
         Connection: close\r\n\r\n"
    );
    Box::leak(response.into_boxed_str())
}

#[test]
fn a_redirect_to_another_origin_is_not_followed() {
    let cases: &[Case] = &[
        (
            "307 Temporary Redirect",
            &[("X-Api-Key", "secret-key")],
            false,
        ),
        (
            "308 Permanent Redirect",
            &[("X-Api-Key", "secret-key")],
            false,
        ),
        ("302 Found", &[("X-Api-Key", "secret-key")], false),
        ("307 Temporary Redirect", &[], true),
        (
            "307 Temporary Redirect",
            &[("Authorization", "Bearer secret-token")],
            false,
        ),
    ];
    for (status, headers, oauth) in cases {
        let elsewhere = Recorder::start(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\
             Connection: close\r\n\r\n{}",
        );
        let origin = Recorder::start(redirect(status, &elsewhere.url));
        let auth: Option<Arc<dyn HttpAuth>> = oauth.then(|| Arc::new(Token) as Arc<dyn HttpAuth>);
        let result = McpServer::start(spec("docs", &origin.url, headers, auth));
        let case = format!("{status} with {headers:?}, oauth {oauth}");
        assert!(!origin.requests().is_empty(), "{case}: nothing was sent");
        let leaked = elsewhere.requests();
        assert!(
            leaked.is_empty(),
            "{case}: the other origin received {leaked:?}"
        );
        let Err(err) = result else {
            panic!("{case}: a server redirecting elsewhere started");
        };
        assert!(matches!(err, StartError::Http { .. }), "{case}: {err:?}");
        let message = err.to_string();
        let code = &status[..3];
        let from = origin.url.trim_end_matches("/mcp");
        let to = elsewhere.url.trim_end_matches("/mcp");
        for part in [
            "mcp server `docs`",
            &format!("HTTP {code}"),
            &format!("from {from} to {to}"),
            "does not follow cross-origin redirects for MCP",
            "set `url` in [mcp_servers.docs] to the final URL",
        ] {
            assert!(
                message.contains(part),
                "{case}: `{part}` is not in: {message}"
            );
        }
    }
}
