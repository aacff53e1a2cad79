//! `wharf mcp login|logout` through the real binary, against the OAuth
//! authorization server and protected MCP server of
//! `wharf_tests::oauth_server` on 127.0.0.1. The test plays the user: it
//! reads the URL wharf prints, "opens" it, and follows the redirect to
//! wharf's callback listener.

use std::io::{BufRead as _, BufReader, Read as _};
use std::os::unix::fs::PermissionsExt as _;
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use wharf_tests::oauth_server::{OAuthServer, browser_get};

use super::{Env, Output};

const PROMPT: &str = "Open this URL to authorize wharf: ";

/// `wharf mcp login ARGS…` with the user's part played: waits for the URL
/// on stderr, GETs it, follows the redirect to the callback; returns what
/// wharf printed and how it exited.
fn login(env: &Env, args: &[&str]) -> Output {
    let mut child = env
        .command(env!("CARGO_BIN_EXE_wharf"))
        .args(["mcp", "login"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let stderr = child.stderr.take().unwrap();

    // stderr is read on a thread: the URL arrives while wharf waits.
    let (url_tx, url_rx) = mpsc::channel();
    let stderr_reader = std::thread::spawn(move || {
        let mut text = String::new();
        for line in BufReader::new(stderr).lines() {
            let line = line.unwrap();
            if let Some(url) = line.strip_prefix(PROMPT) {
                let _ = url_tx.send(url.to_owned());
            }
            text.push_str(&line);
            text.push('\n');
        }
        text
    });

    if let Ok(url) = url_rx.recv_timeout(Duration::from_secs(60)) {
        let authorize = browser_get(&url).unwrap();
        assert_eq!(authorize.status, 302, "{}", authorize.body);
        let callback = browser_get(&authorize.location.unwrap()).unwrap();
        assert_eq!(callback.status, 200, "{}", callback.body);
    }

    let (done_tx, done_rx) = mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let status = child.wait().unwrap();
        let _ = done_tx.send(());
        status
    });
    // wharf exits right after the callback (or at once on an error).
    done_rx
        .recv_timeout(Duration::from_secs(60))
        .expect("wharf mcp login did not exit within 60 s");
    let status = waiter.join().unwrap();
    let mut out = String::new();
    stdout.read_to_string(&mut out).unwrap();
    Output {
        code: status.code().unwrap_or(-1),
        stdout: out,
        stderr: stderr_reader.join().unwrap(),
    }
}

fn config(server: &OAuthServer, scopes: &str) -> String {
    format!(
        "mcp_oauth_credentials_store = \"file\"\n\n\
         [mcp_servers.docs]\nurl = \"{}\"\n{scopes}\n\n\
         [mcp_servers.local]\ncommand = \"local-server\"\n",
        server.mcp_url()
    )
}

fn stored_entries(env: &Env) -> serde_json::Map<String, serde_json::Value> {
    let path = env.wharf_home().join(".credentials.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn login_with_scopes_flag_then_logout() {
    let server = OAuthServer::start().unwrap();
    let env = Env::new();
    env.write_config(&config(&server, "scopes = [\"read\"]"));

    let out = login(&env, &["docs", "--scopes", "write,admin"]).success();
    assert_eq!(out.stdout, "Logged in to docs.\n");
    assert!(out.stderr.contains(PROMPT), "{}", out.stderr);
    let file = env.wharf_home().join(".credentials.json");
    assert!(
        out.stderr
            .contains(&format!("Tokens are stored in {}.", file.display())),
        "{}",
        out.stderr
    );
    // --scopes, not the config's `scopes`, went to the authorization server.
    let authorize = &server.requests_to("/authorize")[0];
    assert_eq!(authorize.param("scope"), Some("write admin"));

    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let entries = stored_entries(&env);
    assert_eq!(entries.len(), 1);
    let (key, tokens) = entries.iter().next().unwrap();
    assert!(key.starts_with("docs|"), "{key}");
    assert_eq!(tokens["server_url"], server.mcp_url().as_str());
    assert_eq!(tokens["scopes"], serde_json::json!(["write", "admin"]));
    assert!(server.accepts(tokens["access_token"].as_str().unwrap()));
    let refresh_token = tokens["refresh_token"].as_str().unwrap().to_owned();

    // Listings say so, and sessions use the tokens.
    let auth = |env: &Env| {
        let out = env.wharf(&["mcp", "get", "docs", "--json"]).success();
        let server: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        server["auth_status"].as_str().unwrap().to_owned()
    };
    assert_eq!(auth(&env), "OAuth");
    let out = env
        .wharf(&[
            "tool",
            "call",
            "mcp__docs__echo",
            "--args",
            r#"{"message":"with a token"}"#,
        ])
        .success();
    assert!(out.stdout.contains("with a token"), "{}", out.stdout);

    let out = env.wharf(&["mcp", "logout", "docs"]).success();
    assert_eq!(out.stdout, "Logged out of docs.\n");
    assert!(stored_entries(&env).is_empty());
    assert!(!server.knows_refresh_token(&refresh_token));
    assert_eq!(auth(&env), "not logged in");

    let out = env.wharf(&["mcp", "logout", "docs"]).fails_with(1);
    assert!(
        out.stderr
            .starts_with("error: not logged in to MCP server `docs`: no tokens are stored for"),
        "{}",
        out.stderr
    );
}

#[test]
fn login_asks_for_the_configured_scopes_without_the_flag() {
    let server = OAuthServer::start().unwrap();
    let env = Env::new();
    env.write_config(&config(&server, "scopes = [\"read\", \"write\"]"));

    let out = login(&env, &["docs"]).success();
    assert_eq!(out.stdout, "Logged in to docs.\n");
    let authorize = &server.requests_to("/authorize")[0];
    assert_eq!(authorize.param("scope"), Some("read write"));
}

#[test]
fn login_to_a_stdio_server_or_an_unknown_name_is_a_usage_error() {
    let server = OAuthServer::start().unwrap();
    let env = Env::new();
    env.write_config(&config(&server, ""));

    let out = env.wharf(&["mcp", "login", "local"]).fails_with(2);
    assert!(
        out.stderr.starts_with(
            "error: MCP server `local` is a stdio server: OAuth login is only for streamable HTTP servers"
        ),
        "{}",
        out.stderr
    );
    let out = env.wharf(&["mcp", "logout", "nope"]).fails_with(2);
    assert_eq!(
        out.stderr,
        "error: no MCP server named `nope`; known: docs, local\n"
    );
    assert!(server.requests().is_empty());
}
