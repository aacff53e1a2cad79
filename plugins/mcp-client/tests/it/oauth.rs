//! OAuth against a real authorization server and a real protected MCP
//! server on 127.0.0.1 (`wharf_tests::oauth_server`): login, the stores,
//! refresh before expiry, logout, and the MCP client sending the token.
//! The test plays the browser: it GETs the URL login hands out, then the
//! `Location` it is redirected to, which is wharf's loopback listener.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt as _;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::json;
use wharf_plugin_mcp_client::credentials::{
    CREDENTIALS_FILE, CredentialKey, CredentialStore, StoreMode, StoredTokens,
    join_new_session_keyring,
};
use wharf_plugin_mcp_client::oauth::{
    LoginRequest, OAuthError, StoredAuth, auth_status, login, logout,
};
use wharf_plugin_mcp_client::{
    CallHooks, McpServer, ResultContent, ServerSpec, StartError, TransportSpec,
};
use wharf_tests::oauth_server::{BrowserResponse, OAuthServer, browser_get};

const NAME: &str = "docs";

/// What the browser does with the authorization server's redirect before
/// following it: nothing, or what an attacker would.
type Tamper = fn(String) -> String;

fn follow(location: String) -> String {
    location
}

/// Runs a login to `server` with `scopes`, playing the browser on a
/// thread of its own; returns the result and what the browser saw at
/// wharf's callback.
fn login_through_browser(
    server: &OAuthServer,
    store: &CredentialStore,
    scopes: &[String],
    tamper: Tamper,
) -> (Result<StoredTokens, OAuthError>, BrowserResponse) {
    let url = server.mcp_url();
    let mut request = LoginRequest::new(NAME, &url);
    request.scopes = scopes;
    request.timeout = Duration::from_secs(30);

    let browser: Mutex<Option<JoinHandle<BrowserResponse>>> = Mutex::new(None);
    let open_url = |auth_url: &str| {
        let auth_url = auth_url.to_owned();
        *browser.lock().unwrap() = Some(std::thread::spawn(move || {
            let authorize = browser_get(&auth_url).unwrap();
            assert_eq!(authorize.status, 302, "{}", authorize.body);
            let callback = tamper(authorize.location.expect("a Location header"));
            browser_get(&callback).unwrap()
        }));
    };
    // The current thread runs the login, so the keyring it writes is this
    // thread's (see join_new_session_keyring).
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let result = runtime.block_on(login(&request, store, &open_url));
    let page = browser
        .lock()
        .unwrap()
        .take()
        .expect("login handed out a URL")
        .join()
        .unwrap();
    (result, page)
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn scopes(names: &[&str]) -> Vec<String> {
    names.iter().map(|name| (*name).to_owned()).collect()
}

fn http_spec(url: &str, auth: Option<Arc<StoredAuth>>) -> ServerSpec {
    let mut spec = ServerSpec::new(
        NAME,
        TransportSpec::Http {
            url: url.to_owned(),
            headers: BTreeMap::new(),
            auth: auth.map(|auth| auth as Arc<dyn wharf_plugin_mcp_client::HttpAuth>),
        },
    );
    spec.startup_timeout = Duration::from_secs(20);
    spec
}

#[test]
fn login_stores_tokens_in_the_file_with_mode_0600() {
    let server = OAuthServer::start().unwrap();
    let home = tempfile::tempdir().unwrap();
    let store = CredentialStore::open(StoreMode::File, home.path()).unwrap();

    let (result, page) =
        login_through_browser(&server, &store, &scopes(&["read", "write"]), follow);
    let tokens = result.unwrap();
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("You can close this tab"),
        "{}",
        page.body
    );

    // What wharf sent: a loopback redirect URI, PKCE S256, the scopes.
    let register = &server.requests_to("/register")[0];
    let redirect_uri = register.param("redirect_uris").unwrap();
    assert!(
        redirect_uri.starts_with("http://127.0.0.1:"),
        "{redirect_uri}"
    );
    assert!(redirect_uri.ends_with("/callback"), "{redirect_uri}");
    let authorize = &server.requests_to("/authorize")[0];
    assert_eq!(authorize.param("scope"), Some("read write"));
    assert_eq!(authorize.param("code_challenge_method"), Some("S256"));
    assert_eq!(authorize.param("redirect_uri"), Some(redirect_uri));
    assert_eq!(server.token_grants(), ["authorization_code"]);

    // What was stored, and how.
    assert!(server.accepts(&tokens.access_token));
    assert_eq!(tokens.server_name, NAME);
    assert_eq!(tokens.server_url, server.mcp_url());
    assert_eq!(tokens.client_id, register_client_id(&server));
    assert_eq!(tokens.scopes, ["read", "write"]);
    assert_eq!(
        tokens.token_endpoint,
        format!("{}/token", server.base_url())
    );
    let expires_at = tokens.expires_at.unwrap();
    assert!(
        (now() + 3590..=now() + 3600).contains(&expires_at),
        "{expires_at}"
    );
    let path = home.path().join(CREDENTIALS_FILE);
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let key = CredentialKey::new(NAME, &server.mcp_url());
    assert_eq!(store.load(&key).unwrap(), Some(tokens));
    assert_eq!(auth_status(NAME, &server.mcp_url(), &store), "OAuth");
    assert_eq!(
        auth_status(NAME, "http://127.0.0.1:1/elsewhere", &store),
        "not logged in"
    );
}

fn register_client_id(server: &OAuthServer) -> String {
    server.requests_to("/authorize")[0]
        .param("client_id")
        .unwrap()
        .to_owned()
}

#[test]
fn login_stores_tokens_in_the_kernel_keyring() {
    join_new_session_keyring().unwrap();
    let service = format!("wharf-test oauth-login {} {}", std::process::id(), now());
    let store = CredentialStore::keyutils(&service).unwrap();
    let server = OAuthServer::start().unwrap();

    let (result, _) = login_through_browser(&server, &store, &[], follow);
    let tokens = result.unwrap();

    // Another session keyring (another wharf process) finds them too.
    join_new_session_keyring().unwrap();
    let later = CredentialStore::keyutils(&service).unwrap();
    let key = CredentialKey::new(NAME, &server.mcp_url());
    assert_eq!(later.load(&key).unwrap(), Some(tokens));
    assert!(later.delete(&key).unwrap());
}

#[test]
fn a_callback_with_another_state_is_refused() {
    let server = OAuthServer::start().unwrap();
    let home = tempfile::tempdir().unwrap();
    let store = CredentialStore::open(StoreMode::File, home.path()).unwrap();

    let (result, page) = login_through_browser(&server, &store, &[], |location| {
        let (start, _) = location.split_once("state=").unwrap();
        format!("{start}state=forged")
    });
    match result {
        Err(OAuthError::StateMismatch { received }) => assert_eq!(received, "forged"),
        other => panic!("expected a state mismatch, got {other:?}"),
    }
    assert_eq!(page.status, 400);
    assert!(
        page.body.contains("not the one this login sent"),
        "{}",
        page.body
    );
    // The code never reached the token endpoint, and nothing was stored.
    assert!(server.token_grants().is_empty());
    assert!(!home.path().join(CREDENTIALS_FILE).exists());
}

#[test]
fn a_denied_authorization_is_an_error_naming_the_reason() {
    let server = OAuthServer::start().unwrap();
    let home = tempfile::tempdir().unwrap();
    let store = CredentialStore::open(StoreMode::File, home.path()).unwrap();

    let (result, page) = login_through_browser(&server, &store, &[], |location| {
        let (callback, query) = location.split_once('?').unwrap();
        let state = query
            .split('&')
            .find(|pair| pair.starts_with("state="))
            .unwrap();
        format!("{callback}?error=access_denied&error_description=the+user+said+no&{state}")
    });
    let err = result.unwrap_err();
    assert_eq!(
        err.to_string(),
        "the authorization server refused: access_denied (the user said no)"
    );
    assert_eq!(page.status, 400);
    assert!(page.body.contains("access_denied"), "{}", page.body);
}

#[test]
fn an_http_server_with_stored_auth_calls_echo() {
    let server = OAuthServer::start().unwrap();
    let home = tempfile::tempdir().unwrap();
    let store = Arc::new(CredentialStore::open(StoreMode::File, home.path()).unwrap());
    login_through_browser(&server, &store, &[], follow)
        .0
        .unwrap();

    let auth = Arc::new(StoredAuth::new(NAME, &server.mcp_url(), Arc::clone(&store)));
    let mcp = McpServer::start(http_spec(&server.mcp_url(), Some(auth))).unwrap();
    assert_eq!(mcp.tools()[0].name, "echo");
    let result = mcp
        .call(
            "echo",
            json!({"message": "hello over OAuth"}),
            &CallHooks::none(),
        )
        .unwrap();
    assert!(!result.is_error);
    assert_eq!(
        result.content,
        [ResultContent::Text("hello over OAuth".to_owned())]
    );
    mcp.shutdown();
    // The token was good for an hour: no refresh was needed.
    assert_eq!(server.token_grants(), ["authorization_code"]);
}

#[test]
fn a_token_about_to_expire_is_refreshed_first_and_stored() {
    // 30 s left is under the 60 s margin: the first use refreshes.
    let server = OAuthServer::start_with_lifetime(Duration::from_secs(30)).unwrap();
    let home = tempfile::tempdir().unwrap();
    let store = Arc::new(CredentialStore::open(StoreMode::File, home.path()).unwrap());
    let first = login_through_browser(&server, &store, &scopes(&["read"]), follow)
        .0
        .unwrap();

    let auth = StoredAuth::new(NAME, &server.mcp_url(), Arc::clone(&store));
    let token = auth.token().unwrap().unwrap();
    assert_eq!(
        server.token_grants(),
        ["authorization_code", "refresh_token"]
    );
    assert_ne!(token, first.access_token);
    assert!(server.accepts(&token));

    let refresh = &server.requests_to("/token")[1];
    assert_eq!(
        refresh.param("refresh_token"),
        first.refresh_token.as_deref()
    );
    assert_eq!(refresh.param("client_id"), Some(first.client_id.as_str()));
    // The server rotated the refresh token; the new pair is what is stored.
    let stored = store
        .load(&CredentialKey::new(NAME, &server.mcp_url()))
        .unwrap()
        .unwrap();
    assert_eq!(stored.access_token, token);
    assert_ne!(stored.refresh_token, first.refresh_token);
    assert!(server.knows_refresh_token(stored.refresh_token.as_deref().unwrap()));
    assert_eq!(stored.scopes, ["read"]);
    assert_eq!(stored.client_id, first.client_id);

    // And the MCP client uses refreshed tokens without anyone logging in.
    let mcp = McpServer::start(http_spec(
        &server.mcp_url(),
        Some(Arc::new(StoredAuth::new(NAME, &server.mcp_url(), store))),
    ))
    .unwrap();
    let result = mcp
        .call("echo", json!({"message": "fresh"}), &CallHooks::none())
        .unwrap();
    assert_eq!(result.content, [ResultContent::Text("fresh".to_owned())]);
    mcp.shutdown();
}

#[test]
fn a_token_with_time_left_is_not_refreshed() {
    let server = OAuthServer::start().unwrap();
    let home = tempfile::tempdir().unwrap();
    let store = Arc::new(CredentialStore::open(StoreMode::File, home.path()).unwrap());
    let tokens = login_through_browser(&server, &store, &[], follow)
        .0
        .unwrap();

    let auth = StoredAuth::new(NAME, &server.mcp_url(), store);
    assert_eq!(auth.token().unwrap(), Some(tokens.access_token.clone()));
    assert_eq!(auth.token().unwrap(), Some(tokens.access_token));
    assert_eq!(server.token_grants(), ["authorization_code"]);
}

#[test]
fn logout_revokes_and_removes_the_tokens_and_the_next_connect_gets_the_401_hint() {
    let server = OAuthServer::start().unwrap();
    let home = tempfile::tempdir().unwrap();
    let store = Arc::new(CredentialStore::open(StoreMode::File, home.path()).unwrap());
    let tokens = login_through_browser(&server, &store, &[], follow)
        .0
        .unwrap();

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let outcome = runtime
        .block_on(logout(NAME, &server.mcp_url(), &store))
        .unwrap();
    assert!(outcome.removed);
    assert_eq!(outcome.revoke_error, None);
    let revoke = &server.requests_to("/revoke")[0];
    assert_eq!(revoke.param("token"), tokens.refresh_token.as_deref());
    assert!(!server.knows_refresh_token(tokens.refresh_token.as_deref().unwrap()));
    let key = CredentialKey::new(NAME, &server.mcp_url());
    assert_eq!(store.load(&key).unwrap(), None);
    assert_eq!(
        auth_status(NAME, &server.mcp_url(), &store),
        "not logged in"
    );

    let auth = Arc::new(StoredAuth::new(NAME, &server.mcp_url(), Arc::clone(&store)));
    let Err(err) = McpServer::start(http_spec(&server.mcp_url(), Some(auth))) else {
        panic!("the server let a session in without a token");
    };
    assert!(matches!(err, StartError::Unauthorized { .. }), "{err:?}");
    assert!(err.to_string().contains("wharf mcp login docs"), "{err}");
    let unauthorized = server.requests_to("/mcp");
    assert_eq!(unauthorized.last().unwrap().status, 401);
    assert_eq!(unauthorized.last().unwrap().authorization, None);

    // A second logout finds nothing.
    let again = runtime
        .block_on(logout(NAME, &server.mcp_url(), &store))
        .unwrap();
    assert!(!again.removed);
}
