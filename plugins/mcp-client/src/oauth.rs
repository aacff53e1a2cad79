//! OAuth for streamable-HTTP MCP servers: the login behind `wharf mcp
//! login`, and [`StoredAuth`], the bearer token a session sends.
//!
//! The protocol work — metadata discovery (`/.well-known/oauth-protected-resource`,
//! then the authorization server's `/.well-known/oauth-authorization-server`),
//! dynamic client registration, PKCE (S256), the code exchange and the
//! refresh grant — is rmcp's `auth` module, as in codex. What is wharf's is
//! around it: the loopback listener that receives the redirect (the
//! `state` is checked here, before the code goes anywhere), where tokens
//! are kept ([`CredentialStore`]), and refreshing them *before* they expire
//! rather than after a request failed.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rmcp::transport::auth::{
    AuthError, AuthorizationManager, AuthorizationMetadata, AuthorizationRequest,
    AuthorizationSession, CredentialStore as _, InMemoryCredentialStore, OAuthClientConfig,
    OAuthTokenResponse, StoredCredentials,
};
use serde::Deserialize;
use tokio::net::TcpListener;

use self::callback::wait_for_callback;
use crate::credentials::{CredentialError, CredentialKey, CredentialStore, StoredTokens};

mod callback;

/// How long `wharf mcp login` waits for the browser to come back.
pub const DEFAULT_LOGIN_TIMEOUT: Duration = Duration::from_secs(300);

/// Tokens with less than this left are refreshed before they are used, so
/// a request never leaves with a token that expires on the way.
pub const REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// The path of the redirect URI on the loopback listener.
const CALLBACK_PATH: &str = "/callback";

/// The name wharf registers itself under with authorization servers.
const CLIENT_NAME: &str = "wharf";

/// Why a login, a refresh or a logout failed.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    #[error("{server_url}: {step}: {source}")]
    Protocol {
        server_url: String,
        step: &'static str,
        #[source]
        source: Box<AuthError>,
    },
    #[error(
        "cannot listen for the authorization callback on 127.0.0.1:{port}: {source} (set `mcp_oauth_callback_port` to a free port, or remove it to use any)"
    )]
    Listen {
        port: u16,
        #[source]
        source: std::io::Error,
    },
    #[error("the authorization callback listener failed: {0}")]
    Callback(#[source] std::io::Error),
    #[error(
        "no authorization arrived within {} s; run `wharf mcp login` again and open the URL it prints",
        .0.as_secs()
    )]
    Timeout(Duration),
    #[error(
        "the authorization callback carried state `{received}`, not the one this login sent; it may come from another login or a forged link, so it was refused (run `wharf mcp login` again)"
    )]
    StateMismatch { received: String },
    #[error("the authorization server refused: {error}{}", description.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Denied {
        error: String,
        description: Option<String>,
    },
    #[error("the authorization callback has no `code` parameter")]
    MissingCode,
    #[error("{server_url}: the token response is not usable: {reason}")]
    TokenResponse { server_url: String, reason: String },
    #[error(
        "the access token for `{server}` has expired and there is no refresh token; run `wharf mcp login {server}`"
    )]
    Expired { server: String },
    #[error(
        "refreshing the access token for `{server}` failed: {source}; run `wharf mcp login {server}` if this persists"
    )]
    Refresh {
        server: String,
        #[source]
        source: Box<AuthError>,
    },
    #[error(transparent)]
    Credentials(#[from] CredentialError),
    #[error("{0}")]
    Internal(String),
}

/// What to log in to, and how.
#[derive(Debug, Clone)]
pub struct LoginRequest<'a> {
    /// The `[mcp_servers.NAME]` key the tokens are stored under.
    pub server_name: &'a str,
    /// The server's streamable-HTTP URL.
    pub server_url: &'a str,
    /// Scopes to ask for; empty: what the server's metadata suggests.
    pub scopes: &'a [String],
    /// `mcp_oauth_callback_port`; `None`: any free port.
    pub callback_port: Option<u16>,
    /// How long to wait for the redirect.
    pub timeout: Duration,
}

impl<'a> LoginRequest<'a> {
    pub fn new(server_name: &'a str, server_url: &'a str) -> LoginRequest<'a> {
        LoginRequest {
            server_name,
            server_url,
            scopes: &[],
            callback_port: None,
            timeout: DEFAULT_LOGIN_TIMEOUT,
        }
    }
}

/// Logs in to the server: discovers its authorization server, registers
/// wharf as a client, listens on 127.0.0.1 for the redirect, hands the
/// authorization URL to `open_url` (the CLI prints it), waits for the code,
/// exchanges it and stores the tokens in `store`.
pub async fn login(
    request: &LoginRequest<'_>,
    store: &CredentialStore,
    open_url: &(dyn Fn(&str) + Sync),
) -> Result<StoredTokens, OAuthError> {
    let server_url = request.server_url;
    let protocol = |step: &'static str| {
        move |source: AuthError| OAuthError::Protocol {
            server_url: server_url.to_owned(),
            step,
            source: Box::new(source),
        }
    };

    let port = request.callback_port.unwrap_or(0);
    let listener = TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|source| OAuthError::Listen { port, source })?;
    let port = listener
        .local_addr()
        .map_err(|source| OAuthError::Listen { port, source })?
        .port();
    let redirect_uri = format!("http://127.0.0.1:{port}{CALLBACK_PATH}");

    let mut manager = AuthorizationManager::new(server_url)
        .await
        .map_err(protocol("not a usable server URL"))?;
    let metadata = manager
        .resolve_metadata()
        .await
        .map_err(protocol("OAuth metadata discovery failed"))?
        .metadata;
    manager.set_metadata(metadata.clone());

    // Registering here rather than inside rmcp's session keeps the
    // client secret, if the server hands one out, for later refreshes.
    let scope_refs: Vec<&str> = request.scopes.iter().map(String::as_str).collect();
    let client = manager
        .register_client(CLIENT_NAME, &redirect_uri, &scope_refs)
        .await
        .map_err(protocol("dynamic client registration failed"))?;
    let mut authorization = AuthorizationRequest::new(&redirect_uri)
        .with_client_name(CLIENT_NAME)
        .with_preregistered_client(&client.client_id);
    if let Some(secret) = &client.client_secret {
        authorization = authorization.with_client_secret(secret);
    }
    if !request.scopes.is_empty() {
        authorization = authorization.with_scopes(request.scopes.iter().cloned());
    }
    let session = AuthorizationSession::new(manager, authorization)
        .await
        .map_err(|(_, source)| protocol("cannot start the authorization")(source))?;

    let auth_url = session.get_authorization_url().to_owned();
    let expected_state = query_param(&auth_url, "state").ok_or_else(|| {
        OAuthError::Internal(format!("the authorization URL has no `state`: {auth_url}"))
    })?;
    open_url(&auth_url);

    let callback = tokio::time::timeout(
        request.timeout,
        wait_for_callback(&listener, &expected_state),
    )
    .await
    .map_err(|_| OAuthError::Timeout(request.timeout))??;
    drop(listener);

    let response = session
        .handle_callback_with_issuer(&callback.code, &callback.state, callback.issuer.as_deref())
        .await
        .map_err(protocol("exchanging the authorization code failed"))?;
    let granted = session.auth_manager.get_current_scopes().await;
    let fields = TokenFields::of(&response, server_url)?;
    let tokens = StoredTokens {
        server_name: request.server_name.to_owned(),
        server_url: server_url.to_owned(),
        client_id: client.client_id,
        client_secret: client.client_secret,
        access_token: fields.access_token,
        refresh_token: fields.refresh_token,
        expires_at: fields.expires_in.map(|seconds| now() + seconds),
        scopes: fields.scopes.unwrap_or(granted),
        authorization_endpoint: metadata.authorization_endpoint,
        token_endpoint: metadata.token_endpoint,
        revocation_endpoint: metadata
            .additional_fields
            .get("revocation_endpoint")
            .and_then(|value| value.as_str())
            .map(str::to_owned),
        issuer: metadata.issuer,
    };
    store.save(&tokens)?;
    Ok(tokens)
}

/// What [`logout`] did.
#[derive(Debug, Default)]
pub struct Logout {
    /// Tokens were stored and are now deleted.
    pub removed: bool,
    /// The server advertises a revocation endpoint and refused or could
    /// not be reached; the tokens are deleted here all the same.
    pub revoke_error: Option<String>,
}

/// Deletes the server's tokens, first asking the authorization server to
/// revoke them when it advertises a revocation endpoint (RFC 7009).
pub async fn logout(
    server_name: &str,
    server_url: &str,
    store: &CredentialStore,
) -> Result<Logout, OAuthError> {
    let key = CredentialKey::new(server_name, server_url);
    let Some(tokens) = store.load(&key)? else {
        return Ok(Logout {
            removed: store.delete(&key)?,
            revoke_error: None,
        });
    };
    let revoke_error = match &tokens.revocation_endpoint {
        Some(endpoint) => revoke(endpoint, &tokens).await.err(),
        None => None,
    };
    Ok(Logout {
        removed: store.delete(&key)?,
        revoke_error,
    })
}

/// Revokes the refresh token (which takes its access tokens with it at
/// most servers), or the access token when there is none.
async fn revoke(endpoint: &str, tokens: &StoredTokens) -> Result<(), String> {
    let (token, hint) = match &tokens.refresh_token {
        Some(refresh) => (refresh.as_str(), "refresh_token"),
        None => (tokens.access_token.as_str(), "access_token"),
    };
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    form.append_pair("token", token)
        .append_pair("token_type_hint", hint)
        .append_pair("client_id", &tokens.client_id);
    // A token must not follow a redirect to another origin: a 307 or 308
    // would resend the form that carries it.
    let client = reqwest::Client::builder()
        .redirect(crate::http::redirect::policy())
        .build()
        .map_err(|err| format!("{endpoint}: cannot set up the HTTP client: {err}"))?;
    let mut request = client
        .post(endpoint)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.finish())
        .timeout(Duration::from_secs(10));
    if let Some(secret) = &tokens.client_secret {
        request = request.basic_auth(&tokens.client_id, Some(secret));
    }
    let response = request
        .send()
        .await
        .map_err(|err| match crate::http::redirect::find(&err) {
            Some(refused) => format!("{endpoint}: {refused}"),
            None => format!("{endpoint}: {err}"),
        })?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(format!("{endpoint}: HTTP {}", response.status()))
    }
}

/// Whether `server_name` at `server_url` has stored tokens: `"OAuth"` or
/// `"not logged in"`, for the auth column of `wharf mcp list`. A store
/// that cannot be read shows as not logged in; `wharf mcp login` reports
/// the reason.
pub fn auth_status(server_name: &str, server_url: &str, store: &CredentialStore) -> &'static str {
    match store.load(&CredentialKey::new(server_name, server_url)) {
        Ok(Some(_)) => "OAuth",
        Ok(None) | Err(_) => "not logged in",
    }
}

/// The bearer token of one server from the credential store, refreshed
/// before it expires (and the new tokens stored). The session's HTTP
/// transport asks it before every request.
pub struct StoredAuth {
    key: CredentialKey,
    store: Arc<CredentialStore>,
    /// The tokens last read or refreshed; the store is read again only
    /// when these are missing or due for a refresh (another process may
    /// have refreshed them, rotating the refresh token).
    current: Mutex<Option<StoredTokens>>,
}

impl StoredAuth {
    pub fn new(server_name: &str, server_url: &str, store: Arc<CredentialStore>) -> StoredAuth {
        StoredAuth {
            key: CredentialKey::new(server_name, server_url),
            store,
            current: Mutex::new(None),
        }
    }

    /// The access token to send; `None` when the user has not logged in
    /// (the request goes without one, and the server's 401 says so).
    pub fn token(&self) -> Result<Option<String>, OAuthError> {
        // Held through a refresh: concurrent requests wait for one refresh
        // instead of each spending the (possibly single-use) refresh token.
        let mut current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        let cached_is_fresh = current.as_ref().is_some_and(|tokens| !due(tokens));
        if !cached_is_fresh {
            *current = self.store.load(&self.key)?;
        }
        let Some(tokens) = current.as_ref() else {
            return Ok(None);
        };
        if !due(tokens) {
            return Ok(Some(tokens.access_token.clone()));
        }
        if tokens.refresh_token.is_none() {
            if tokens.expires_at.is_some_and(|at| at > now()) {
                return Ok(Some(tokens.access_token.clone()));
            }
            return Err(OAuthError::Expired {
                server: self.key.server_name.clone(),
            });
        }
        let refreshed = refresh_blocking(tokens)?;
        self.store.save(&refreshed)?;
        let access_token = refreshed.access_token.clone();
        *current = Some(refreshed);
        Ok(Some(access_token))
    }
}

impl crate::HttpAuth for StoredAuth {
    fn access_token(&self) -> Result<Option<String>, String> {
        self.token().map_err(|err| err.to_string())
    }
}

/// The tokens expire within [`REFRESH_MARGIN`].
fn due(tokens: &StoredTokens) -> bool {
    tokens
        .expires_at
        .is_some_and(|at| at <= now() + REFRESH_MARGIN.as_secs())
}

/// Refreshes on a thread of its own with its own runtime: the transport
/// asks for a token from synchronous code that may be running on any
/// runtime's worker (where blocking on another future would panic), and a
/// refresh is rare enough that a thread per refresh costs nothing.
fn refresh_blocking(tokens: &StoredTokens) -> Result<StoredTokens, OAuthError> {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|err| {
                        OAuthError::Internal(format!("cannot start a runtime to refresh: {err}"))
                    })?;
                runtime.block_on(refresh(tokens))
            })
            .join()
            .unwrap_or_else(|_| {
                Err(OAuthError::Internal(
                    "the token refresh thread panicked".to_owned(),
                ))
            })
    })
}

/// The refresh-token grant, with the endpoints and client stored at login
/// (no discovery round trips).
async fn refresh(tokens: &StoredTokens) -> Result<StoredTokens, OAuthError> {
    let failed = |source: AuthError| OAuthError::Refresh {
        server: tokens.server_name.clone(),
        source: Box::new(source),
    };
    let mut manager = AuthorizationManager::new(tokens.server_url.as_str())
        .await
        .map_err(failed)?;
    let mut metadata = AuthorizationMetadata::default();
    metadata.authorization_endpoint = tokens.authorization_endpoint.clone();
    metadata.token_endpoint = tokens.token_endpoint.clone();
    metadata.issuer = tokens.issuer.clone();
    manager.set_metadata(metadata);
    // The redirect URI plays no part in a refresh; the client needs one.
    let mut client = OAuthClientConfig::new(&tokens.client_id, "http://127.0.0.1/callback");
    if let Some(secret) = &tokens.client_secret {
        client = client.with_client_secret(secret);
    }
    manager.configure_client(client).map_err(failed)?;
    let credentials = InMemoryCredentialStore::new();
    credentials
        .save(
            StoredCredentials::new(
                tokens.client_id.clone(),
                Some(token_response(tokens)?),
                tokens.scopes.clone(),
                Some(now()),
            )
            .with_issuer(tokens.issuer.clone()),
        )
        .await
        .map_err(failed)?;
    manager.set_credential_store(credentials);

    let response = manager.refresh_token().await.map_err(failed)?;
    let fields = TokenFields::of(&response, &tokens.server_url)?;
    Ok(StoredTokens {
        access_token: fields.access_token,
        // rmcp keeps the old refresh token when the server sends none.
        refresh_token: fields
            .refresh_token
            .or_else(|| tokens.refresh_token.clone()),
        expires_at: fields.expires_in.map(|seconds| now() + seconds),
        scopes: fields.scopes.unwrap_or_else(|| tokens.scopes.clone()),
        ..tokens.clone()
    })
}

/// The stored tokens as the token response rmcp's refresh starts from.
fn token_response(tokens: &StoredTokens) -> Result<OAuthTokenResponse, OAuthError> {
    let mut response = serde_json::json!({
        "access_token": tokens.access_token,
        "token_type": "bearer",
        "refresh_token": tokens.refresh_token,
    });
    if let Some(at) = tokens.expires_at {
        response["expires_in"] = at.saturating_sub(now()).into();
    }
    if !tokens.scopes.is_empty() {
        response["scope"] = tokens.scopes.join(" ").into();
    }
    serde_json::from_value(response).map_err(|err| {
        OAuthError::Internal(format!("cannot rebuild the stored token response: {err}"))
    })
}

/// The fields wharf keeps from a token response, read through its JSON
/// form (the response type is the `oauth2` crate's, which wharf does not
/// depend on directly).
#[derive(Deserialize)]
struct TokenFields {
    access_token: String,
    refresh_token: Option<String>,
    expires_in: Option<u64>,
    #[serde(default, rename = "scope", deserialize_with = "space_separated")]
    scopes: Option<Vec<String>>,
}

impl TokenFields {
    fn of(response: &OAuthTokenResponse, server_url: &str) -> Result<TokenFields, OAuthError> {
        serde_json::to_value(response)
            .and_then(serde_json::from_value)
            .map_err(|err| OAuthError::TokenResponse {
                server_url: server_url.to_owned(),
                reason: err.to_string(),
            })
    }
}

fn space_separated<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Vec<String>>, D::Error> {
    let scope: Option<String> = Option::deserialize(deserializer)?;
    Ok(scope.map(|scope| scope.split_whitespace().map(str::to_owned).collect()))
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs())
        .unwrap_or(0)
}

fn query_param(url: &str, name: &str) -> Option<String> {
    let url = url::Url::parse(url).ok()?;
    url.query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}
