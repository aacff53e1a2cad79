//! An OAuth-protected MCP server on 127.0.0.1, for the tests of `wharf mcp
//! login` and of the tokens a session sends. One origin plays both roles:
//!
//! - the **authorization server**: `/.well-known/oauth-authorization-server`,
//!   dynamic client registration (`POST /register`), `GET /authorize`
//!   (answers at once with a 302 to the client's redirect URI: the test is
//!   the user who clicked "allow"), `POST /token` (the authorization-code
//!   grant with PKCE S256 checked, and the refresh-token grant, which
//!   rotates the refresh token), `POST /revoke`;
//! - the **protected resource**: `/.well-known/oauth-protected-resource[/mcp]`
//!   and `/mcp`, rmcp's streamable-HTTP server with one `echo` tool behind
//!   a bearer check that answers `401` with `WWW-Authenticate: Bearer
//!   resource_metadata="…"` when the token is missing, unknown or expired.
//!
//! Tokens live `expires_in` seconds ([`OAuthServer::start_with_lifetime`]);
//! a lifetime under wharf's refresh margin makes every use a refresh.
//! Every request to the authorization endpoints is recorded
//! ([`OAuthServer::requests`]) so tests can check what the client sent.
//!
//! [`browser_get`] is the test's browser: one `GET`, redirects not followed.

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::io::{self, BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{ServerCapabilities, ServerConfig};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ServerHandler, schemars, tool, tool_handler, tool_router};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use tokio_util::sync::CancellationToken;

/// The scopes the protected resource advertises.
pub const SCOPES_SUPPORTED: [&str; 3] = ["read", "write", "admin"];

/// The server. Dropping it stops it (open MCP sessions included).
pub struct OAuthServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: CancellationToken,
    thread: Option<JoinHandle<()>>,
}

/// A request to one of the authorization server's endpoints (or `/mcp`).
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub method: String,
    /// Without the query.
    pub path: String,
    /// The query (`GET`), the form or the JSON object's string fields (`POST`).
    pub params: BTreeMap<String, String>,
    /// The `Authorization` header, if any.
    pub authorization: Option<String>,
    /// The status the server answered with.
    pub status: u16,
}

impl RecordedRequest {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }
}

struct Shared {
    base_url: String,
    lifetime: Duration,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    next_id: u64,
    /// client_id → its redirect URIs.
    clients: HashMap<String, Vec<String>>,
    codes: HashMap<String, PendingCode>,
    /// access token → when it stops working.
    access_tokens: HashMap<String, Instant>,
    /// refresh token → client_id and scope.
    refresh_tokens: HashMap<String, (String, String)>,
    requests: Vec<RecordedRequest>,
}

struct PendingCode {
    client_id: String,
    redirect_uri: String,
    challenge: String,
    scope: String,
}

impl State {
    fn id(&mut self, prefix: &str) -> String {
        self.next_id += 1;
        format!("{prefix}-{}", self.next_id)
    }
}

impl OAuthServer {
    /// Access tokens live an hour.
    pub fn start() -> io::Result<OAuthServer> {
        OAuthServer::start_with_lifetime(Duration::from_secs(3600))
    }

    /// Access tokens are issued with `expires_in` = `lifetime` and refused
    /// by `/mcp` after it.
    pub fn start_with_lifetime(lifetime: Duration) -> io::Result<OAuthServer> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            base_url: format!("http://{addr}"),
            lifetime,
            state: Mutex::new(State::default()),
        });
        let stop = CancellationToken::new();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let thread = std::thread::Builder::new()
            .name("oauth-server".into())
            .spawn({
                let shared = Arc::clone(&shared);
                let stop = stop.clone();
                move || runtime.block_on(serve(listener, shared, stop))
            })?;
        Ok(OAuthServer {
            addr,
            shared,
            stop,
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT`, the issuer.
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// The protected MCP endpoint, what `[mcp_servers.NAME] url` names.
    pub fn mcp_url(&self) -> String {
        format!("http://{}/mcp", self.addr)
    }

    /// Every request so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().requests.clone()
    }

    /// The requests to `path`, in order.
    pub fn requests_to(&self, path: &str) -> Vec<RecordedRequest> {
        self.requests()
            .into_iter()
            .filter(|request| request.path == path)
            .collect()
    }

    /// The `grant_type` of every `/token` request, in order.
    pub fn token_grants(&self) -> Vec<String> {
        self.requests_to("/token")
            .iter()
            .filter_map(|request| request.param("grant_type").map(str::to_owned))
            .collect()
    }

    /// Whether `/mcp` would accept this access token now.
    pub fn accepts(&self, access_token: &str) -> bool {
        self.shared
            .lock()
            .access_tokens
            .get(access_token)
            .is_some_and(|expiry| Instant::now() < *expiry)
    }

    /// Whether this refresh token can still be used.
    pub fn knows_refresh_token(&self, refresh_token: &str) -> bool {
        self.shared
            .lock()
            .refresh_tokens
            .contains_key(refresh_token)
    }
}

impl Drop for OAuthServer {
    fn drop(&mut self) {
        self.stop.cancel();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn record(&self, request: RecordedRequest) {
        self.lock().requests.push(request);
    }

    fn resource_metadata_url(&self) -> String {
        format!("{}/.well-known/oauth-protected-resource/mcp", self.base_url)
    }
}

type Body = BoxBody<Bytes, Infallible>;
type Mcp = StreamableHttpService<EchoServer, LocalSessionManager>;

async fn serve(listener: std::net::TcpListener, shared: Arc<Shared>, stop: CancellationToken) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        return;
    };
    let mcp: Mcp = StreamableHttpService::new(
        || Ok(EchoServer::new()),
        Arc::default(),
        StreamableHttpServerConfig::default()
            .with_sse_keep_alive(None)
            .with_cancellation_token(stop.child_token()),
    );
    loop {
        let stream = tokio::select! {
            () = stop.cancelled() => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => continue,
            },
        };
        let shared = Arc::clone(&shared);
        let mcp = mcp.clone();
        let stop = stop.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let shared = Arc::clone(&shared);
                let mcp = mcp.clone();
                async move { Ok::<_, Infallible>(route(request, &shared, &mcp).await) }
            });
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service);
            tokio::select! {
                () = stop.cancelled() => {}
                _ = connection => {}
            }
        });
    }
}

async fn route(request: Request<Incoming>, shared: &Shared, mcp: &Mcp) -> Response<Body> {
    let path = request.uri().path().to_owned();
    if path == "/mcp" {
        return protected_mcp(request, shared, mcp).await;
    }
    let method = request.method().clone();
    let authorization = header(&request, "authorization");
    let query = request.uri().query().unwrap_or_default().to_owned();
    let is_json = header(&request, "content-type").is_some_and(|t| t.contains("json"));
    let body = match request.into_body().collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => Bytes::new(),
    };
    let params = if method == Method::GET {
        form_params(query.as_bytes())
    } else if is_json {
        json_string_fields(&body)
    } else {
        form_params(&body)
    };

    let response = match (&method, path.as_str()) {
        (&Method::GET, "/.well-known/oauth-protected-resource")
        | (&Method::GET, "/.well-known/oauth-protected-resource/mcp") => json_response(
            StatusCode::OK,
            &json!({
                "resource": format!("{}/mcp", shared.base_url),
                "authorization_servers": [shared.base_url],
                "scopes_supported": SCOPES_SUPPORTED,
                "bearer_methods_supported": ["header"],
            }),
        ),
        (&Method::GET, "/.well-known/oauth-authorization-server") => json_response(
            StatusCode::OK,
            &json!({
                "issuer": shared.base_url,
                "authorization_endpoint": format!("{}/authorize", shared.base_url),
                "token_endpoint": format!("{}/token", shared.base_url),
                "registration_endpoint": format!("{}/register", shared.base_url),
                "revocation_endpoint": format!("{}/revoke", shared.base_url),
                "scopes_supported": SCOPES_SUPPORTED,
                "response_types_supported": ["code"],
                "grant_types_supported": ["authorization_code", "refresh_token"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["none"],
            }),
        ),
        (&Method::POST, "/register") => register(shared, &body),
        (&Method::GET, "/authorize") => authorize(shared, &params),
        (&Method::POST, "/token") => token(shared, &params, authorization.as_deref()),
        (&Method::POST, "/revoke") => revoke(shared, &params),
        _ => text_response(StatusCode::NOT_FOUND, "not found"),
    };
    shared.record(RecordedRequest {
        method: method.to_string(),
        path,
        params,
        authorization,
        status: response.status().as_u16(),
    });
    response
}

/// `/mcp`: rmcp's server for a request with a live access token, a 401
/// challenge pointing at the resource metadata otherwise.
async fn protected_mcp(request: Request<Incoming>, shared: &Shared, mcp: &Mcp) -> Response<Body> {
    let authorization = header(&request, "authorization");
    let token = authorization
        .as_deref()
        .and_then(|value| value.strip_prefix("Bearer "));
    let live = token.is_some_and(|token| {
        shared
            .lock()
            .access_tokens
            .get(token)
            .is_some_and(|expiry| Instant::now() < *expiry)
    });
    shared.record(RecordedRequest {
        method: request.method().to_string(),
        path: "/mcp".to_owned(),
        params: BTreeMap::new(),
        authorization: authorization.clone(),
        status: if live { 200 } else { 401 },
    });
    if live {
        return mcp.handle(request).await;
    }
    let mut challenge = format!(
        "Bearer resource_metadata=\"{}\"",
        shared.resource_metadata_url()
    );
    if token.is_some() {
        challenge.push_str(", error=\"invalid_token\"");
    }
    let mut response = json_response(
        StatusCode::UNAUTHORIZED,
        &json!({"error": "unauthorized", "error_description": "log in first"}),
    );
    if let Ok(value) = challenge.parse() {
        response.headers_mut().insert("www-authenticate", value);
    }
    response
}

fn register(shared: &Shared, body: &[u8]) -> Response<Body> {
    let Ok(request) = serde_json::from_slice::<Value>(body) else {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_client_metadata");
    };
    let redirect_uris: Vec<String> = request["redirect_uris"]
        .as_array()
        .map(|uris| {
            uris.iter()
                .filter_map(|uri| uri.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let loopback_only = !redirect_uris.is_empty()
        && redirect_uris.iter().all(|uri| {
            uri.starts_with("http://127.0.0.1:") || uri.starts_with("http://localhost:")
        });
    if !loopback_only {
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_redirect_uri");
    }
    let mut state = shared.lock();
    let client_id = state.id("client");
    state
        .clients
        .insert(client_id.clone(), redirect_uris.clone());
    json_response(
        StatusCode::CREATED,
        &json!({
            "client_id": client_id,
            "client_name": request["client_name"],
            "redirect_uris": redirect_uris,
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
        }),
    )
}

/// The user says yes at once: a code bound to the client, the redirect
/// URI and the PKCE challenge, sent back with the client's `state`.
fn authorize(shared: &Shared, params: &BTreeMap<String, String>) -> Response<Body> {
    let param = |name: &str| params.get(name).map(String::as_str).unwrap_or_default();
    let mut state = shared.lock();
    let Some(redirect_uris) = state.clients.get(param("client_id")) else {
        return text_response(StatusCode::BAD_REQUEST, "unknown client_id");
    };
    if !redirect_uris.iter().any(|uri| uri == param("redirect_uri")) {
        return text_response(StatusCode::BAD_REQUEST, "redirect_uri was not registered");
    }
    if param("response_type") != "code"
        || param("code_challenge_method") != "S256"
        || param("code_challenge").is_empty()
    {
        return text_response(
            StatusCode::BAD_REQUEST,
            "response_type=code with an S256 code_challenge is required",
        );
    }
    let code = state.id("code");
    state.codes.insert(
        code.clone(),
        PendingCode {
            client_id: param("client_id").to_owned(),
            redirect_uri: param("redirect_uri").to_owned(),
            challenge: param("code_challenge").to_owned(),
            scope: param("scope").to_owned(),
        },
    );
    let mut location = param("redirect_uri").to_owned();
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("code", &code)
        .append_pair("state", param("state"));
    location.push(if location.contains('?') { '&' } else { '?' });
    location.push_str(&query.finish());
    let mut response = text_response(StatusCode::FOUND, "redirecting");
    if let Ok(value) = location.parse() {
        response.headers_mut().insert("location", value);
    }
    response
}

fn token(
    shared: &Shared,
    params: &BTreeMap<String, String>,
    authorization: Option<&str>,
) -> Response<Body> {
    let param = |name: &str| params.get(name).map(String::as_str).unwrap_or_default();
    let client_id = match params.get("client_id") {
        Some(id) => id.clone(),
        None => basic_auth_user(authorization).unwrap_or_default(),
    };
    let mut state = shared.lock();
    let (client, scope) = match param("grant_type") {
        "authorization_code" => {
            let Some(pending) = state.codes.remove(param("code")) else {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
            };
            let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(Sha256::digest(param("code_verifier").as_bytes()));
            if pending.client_id != client_id
                || pending.redirect_uri != param("redirect_uri")
                || pending.challenge != challenge
            {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
            }
            (pending.client_id, pending.scope)
        }
        "refresh_token" => {
            // Rotated: a refresh token works once.
            let Some((client, scope)) = state.refresh_tokens.remove(param("refresh_token")) else {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
            };
            if client != client_id {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
            }
            (client, scope)
        }
        _ => return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type"),
    };
    let access_token = state.id("access");
    let refresh_token = state.id("refresh");
    state
        .access_tokens
        .insert(access_token.clone(), Instant::now() + shared.lifetime);
    state
        .refresh_tokens
        .insert(refresh_token.clone(), (client, scope.clone()));
    let mut response = json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": shared.lifetime.as_secs(),
        "refresh_token": refresh_token,
    });
    if !scope.is_empty() {
        response["scope"] = scope.into();
    }
    json_response(StatusCode::OK, &response)
}

fn revoke(shared: &Shared, params: &BTreeMap<String, String>) -> Response<Body> {
    let token = params.get("token").map(String::as_str).unwrap_or_default();
    let mut state = shared.lock();
    state.access_tokens.remove(token);
    state.refresh_tokens.remove(token);
    text_response(StatusCode::OK, "")
}

fn header(request: &Request<Incoming>, name: &str) -> Option<String> {
    request
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

fn basic_auth_user(authorization: Option<&str>) -> Option<String> {
    let encoded = authorization?.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let user = text.split(':').next()?;
    let user = url::form_urlencoded::parse(format!("u={user}").as_bytes())
        .next()
        .map(|(_, value)| value.into_owned())?;
    Some(user)
}

fn form_params(bytes: &[u8]) -> BTreeMap<String, String> {
    url::form_urlencoded::parse(bytes)
        .map(|(key, value)| (key.into_owned(), value.into_owned()))
        .collect()
}

fn json_string_fields(bytes: &[u8]) -> BTreeMap<String, String> {
    let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(bytes) else {
        return BTreeMap::new();
    };
    object
        .into_iter()
        .filter_map(|(key, value)| match value {
            Value::String(text) => Some((key, text)),
            Value::Array(items) => Some((
                key,
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(" "),
            )),
            _ => None,
        })
        .collect()
}

fn json_response(status: StatusCode, body: &Value) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())).boxed());
    *response.status_mut() = status;
    response.headers_mut().insert(
        "content-type",
        hyper::header::HeaderValue::from_static("application/json"),
    );
    response
}

fn oauth_error(status: StatusCode, error: &str) -> Response<Body> {
    json_response(status, &json!({ "error": error }))
}

fn text_response(status: StatusCode, text: &str) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from(text.to_owned())).boxed());
    *response.status_mut() = status;
    response
}

/// The one tool the protected server offers.
#[derive(Debug, serde::Deserialize, schemars::JsonSchema)]
struct EchoArgs {
    /// Returned as is.
    message: String,
}

/// An MCP server with one tool, `echo`: behind the bearer check here, and
/// on stdio in the `wharf-test-mcp-echo` binary.
#[derive(Debug, Clone)]
pub struct EchoServer {
    tool_router: ToolRouter<Self>,
}

impl Default for EchoServer {
    fn default() -> EchoServer {
        EchoServer::new()
    }
}

impl EchoServer {
    pub fn new() -> EchoServer {
        EchoServer {
            tool_router: Self::tool_router(),
        }
    }
}

#[tool_router]
impl EchoServer {
    #[tool(description = "Returns the message it was given")]
    fn echo(&self, Parameters(EchoArgs { message }): Parameters<EchoArgs>) -> String {
        message
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for EchoServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
    }
}

/// What [`browser_get`] got back.
#[derive(Debug, Clone)]
pub struct BrowserResponse {
    pub status: u16,
    /// The `Location` header of a redirect.
    pub location: Option<String>,
    pub body: String,
}

/// One `GET` of an `http://127.0.0.1:PORT/…` URL, as a browser would send
/// it, without following a redirect: the test walks the login flow one
/// hop at a time (authorize → `Location` → wharf's callback listener).
pub fn browser_get(url: &str) -> io::Result<BrowserResponse> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, format!("not http: {url}")))?;
    let (authority, target) = match rest.find('/') {
        Some(slash) => (&rest[..slash], &rest[slash..]),
        None => (rest, "/"),
    };
    let mut stream = TcpStream::connect(authority)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(
        stream,
        "GET {target} HTTP/1.1\r\nHost: {authority}\r\nAccept: text/html\r\nConnection: close\r\n\r\n"
    )?;
    let mut reader = BufReader::new(stream);
    let mut status_line = String::new();
    reader.read_line(&mut status_line)?;
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("no HTTP status line from {url}: {status_line:?}"),
            )
        })?;
    let mut location = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("location")
        {
            location = Some(value.trim().to_owned());
        }
    }
    let mut body = String::new();
    reader.read_to_string(&mut body)?;
    Ok(BrowserResponse {
        status,
        location,
        body,
    })
}
