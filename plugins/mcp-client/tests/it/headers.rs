//! HTTP headers and credentials: each server gets its own, the OAuth hook
//! is asked per request, a 401 says how to log in.

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use serde_json::json;
use wharf_plugin_mcp_client::{
    CallError, CallHooks, HttpAuth, McpServer, ServerSpec, StartError, TransportSpec,
};

use wharf_tests::mcp_servers::EverythingHttp;

pub(crate) type Headers = BTreeMap<String, String>;

/// A loopback HTTP server that answers every request with one canned
/// response and records the request headers (names lowercased).
pub(crate) struct Recorder {
    pub(crate) url: String,
    port: u16,
    requests: Arc<Mutex<Vec<Headers>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Recorder {
    pub(crate) fn start(response: &'static str) -> Recorder {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (seen, stopped) = (Arc::clone(&requests), Arc::clone(&stop));
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopped.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut stream) = stream else { continue };
                // Recorded before answering: the client acts on the answer.
                if let Some(headers) = read_request(&stream) {
                    seen.lock().unwrap().push(headers);
                    let _ = stream.write_all(response.as_bytes());
                }
            }
        });
        Recorder {
            url: format!("http://127.0.0.1:{port}/mcp"),
            port,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    pub(crate) fn requests(&self) -> Vec<Headers> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Reads one request, head and body; its headers.
fn read_request(stream: &TcpStream) -> Option<Headers> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut headers = Headers::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).ok()? == 0 || line == "\r\n" {
            break;
        }
        let (name, value) = line.trim_end().split_once(':')?;
        headers.insert(name.to_ascii_lowercase(), value.trim().to_owned());
    }
    let length: usize = headers
        .get("content-length")
        .and_then(|length| length.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(headers)
}

const UNAUTHORIZED: &str = "HTTP/1.1 401 Unauthorized\r\nContent-Type: text/plain\r\n\
    Content-Length: 12\r\nConnection: close\r\n\r\nunauthorized";
const CHALLENGE: &str = "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm=\"mcp\"\r\n\
    Content-Length: 0\r\nConnection: close\r\n\r\n";
const SERVER_ERROR: &str = "HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\n\
    Content-Length: 4\r\nConnection: close\r\n\r\noops";

pub(crate) fn spec(
    name: &str,
    url: &str,
    headers: &[(&str, &str)],
    auth: Option<Arc<dyn HttpAuth>>,
) -> ServerSpec {
    let headers = headers
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect();
    ServerSpec::new(
        name,
        TransportSpec::Http {
            url: url.to_owned(),
            headers,
            auth,
        },
    )
}

#[test]
fn each_server_gets_only_its_own_headers() {
    let alpha = Recorder::start(UNAUTHORIZED);
    let beta = Recorder::start(SERVER_ERROR);
    let results = McpServer::start_all(vec![
        spec("alpha", &alpha.url, &[("X-Api-Key", "alpha-key")], None),
        spec(
            "beta",
            &beta.url,
            &[
                ("X-Api-Key", "beta-key"),
                ("Authorization", "Bearer beta-token"),
            ],
            None,
        ),
    ]);
    let [Err(alpha_err), Err(beta_err)] = results.as_slice() else {
        panic!("servers answering 401 and 500 started");
    };
    assert!(
        matches!(alpha_err, StartError::Unauthorized { .. }),
        "{alpha_err:?}"
    );
    assert!(
        alpha_err.to_string().contains("`wharf mcp login alpha`"),
        "{alpha_err}"
    );
    assert!(matches!(beta_err, StartError::Http { .. }), "{beta_err:?}");
    assert!(beta_err.to_string().contains("HTTP 500"), "{beta_err}");

    let alpha_requests = alpha.requests();
    assert!(!alpha_requests.is_empty());
    for headers in &alpha_requests {
        assert_eq!(
            headers.get("x-api-key").map(String::as_str),
            Some("alpha-key")
        );
        assert_eq!(headers.get("authorization"), None, "{headers:?}");
    }
    let beta_requests = beta.requests();
    assert!(!beta_requests.is_empty());
    for headers in &beta_requests {
        assert_eq!(
            headers.get("x-api-key").map(String::as_str),
            Some("beta-key")
        );
        assert_eq!(
            headers.get("authorization").map(String::as_str),
            Some("Bearer beta-token")
        );
    }
}

/// Hands out `token-1`, `token-2`… and counts; fails while `failing`.
#[derive(Default)]
struct CountingAuth {
    asked: AtomicUsize,
    failing: AtomicBool,
}

impl HttpAuth for CountingAuth {
    fn access_token(&self) -> Result<Option<String>, String> {
        if self.failing.load(Ordering::SeqCst) {
            return Err("the refresh token was revoked".to_owned());
        }
        let n = self.asked.fetch_add(1, Ordering::SeqCst) + 1;
        Ok(Some(format!("token-{n}")))
    }
}

#[test]
fn the_oauth_token_wins_and_a_challenge_asks_to_log_in() {
    let recorder = Recorder::start(CHALLENGE);
    let auth = Arc::new(CountingAuth::default());
    let hook: Arc<dyn HttpAuth> = auth.clone();
    let result = McpServer::start(spec(
        "docs",
        &recorder.url,
        &[("Authorization", "Bearer static")],
        Some(hook),
    ));
    let Err(err) = result else {
        panic!("a server answering 401 started");
    };
    assert!(matches!(err, StartError::Unauthorized { .. }), "{err:?}");
    assert!(err.to_string().contains("`wharf mcp login docs`"), "{err}");
    let requests = recorder.requests();
    assert_eq!(
        requests[0].get("authorization").map(String::as_str),
        Some("Bearer token-1")
    );
}

#[test]
fn the_oauth_hook_is_asked_before_every_request() {
    let fixture = EverythingHttp::start().unwrap();
    let auth = Arc::new(CountingAuth::default());
    let hook: Arc<dyn HttpAuth> = auth.clone();
    let server = McpServer::start(spec("web", &fixture.url, &[], Some(hook))).unwrap();
    let echo = || server.call("echo", json!({"message": "x"}), &CallHooks::none());
    let mut asked = auth.asked.load(Ordering::SeqCst);
    assert!(asked >= 2, "initialize and tools/list asked {asked} times");
    for _ in 0..2 {
        echo().unwrap();
        let now = auth.asked.load(Ordering::SeqCst);
        assert!(now > asked, "a call did not ask for a token");
        asked = now;
    }
    auth.failing.store(true, Ordering::SeqCst);
    let outcome = echo();
    let Err(CallError::Unauthorized(message)) = outcome else {
        panic!("a call without a token did not fail as unauthorized: {outcome:?}");
    };
    assert!(
        message.contains("the refresh token was revoked")
            && message.contains("wharf mcp login web"),
        "{message}"
    );
}
