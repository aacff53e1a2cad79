//! Redirects: a configured header or token never reaches another origin.

use std::sync::Arc;

use wharf_plugin_mcp_client::credentials::{CredentialStore, StoreMode, StoredTokens};
use wharf_plugin_mcp_client::oauth::{StoredAuth, logout};
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

/// Tokens stored for `docs` at `server_url`, due for a refresh, whose
/// token and revocation endpoints are `endpoint`.
fn stored(server_url: &str, endpoint: &str) -> StoredTokens {
    StoredTokens {
        server_name: "docs".to_owned(),
        server_url: server_url.to_owned(),
        client_id: "wharf-client".to_owned(),
        client_secret: Some("client-secret".to_owned()),
        access_token: "old-access".to_owned(),
        refresh_token: Some("refresh-secret".to_owned()),
        // Expired: the first use refreshes.
        expires_at: Some(1),
        scopes: Vec::new(),
        authorization_endpoint: format!("{endpoint}/authorize"),
        token_endpoint: endpoint.to_owned(),
        revocation_endpoint: Some(endpoint.to_owned()),
        issuer: None,
    }
}

#[test]
fn refresh_and_revocation_do_not_follow_a_redirect_to_another_origin() {
    let elsewhere = Recorder::start(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\
         Connection: close\r\n\r\n{}",
    );
    let endpoint = Recorder::start(redirect("307 Temporary Redirect", &elsewhere.url));
    let home = tempfile::tempdir().unwrap();
    let store = Arc::new(CredentialStore::open(StoreMode::File, home.path()).unwrap());
    let server_url = "http://127.0.0.1:9/mcp";
    store.save(&stored(server_url, &endpoint.url)).unwrap();

    // The refresh (rmcp's OAuth client) sends the refresh token and the
    // client secret to the token endpoint.
    let auth = StoredAuth::new("docs", server_url, Arc::clone(&store));
    let refreshed = auth.token();
    assert!(refreshed.is_err(), "{refreshed:?}");
    assert_eq!(endpoint.requests().len(), 1);

    // Revocation (wharf's own request) sends the refresh token.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let outcome = runtime
        .block_on(logout("docs", server_url, &store))
        .unwrap();
    assert!(outcome.removed);
    let error = outcome.revoke_error.unwrap_or_default();
    let from = endpoint.url.trim_end_matches("/mcp");
    let to = elsewhere.url.trim_end_matches("/mcp");
    assert!(
        error.contains(&format!(
            "HTTP 307 with a redirect from {from} to {to}, another origin"
        )),
        "{error}"
    );
    assert_eq!(endpoint.requests().len(), 2);

    let leaked = elsewhere.requests();
    assert!(leaked.is_empty(), "the other origin received {leaked:?}");
}
