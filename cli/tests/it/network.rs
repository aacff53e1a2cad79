//! Network grants of WASM plugins, through the real binary, against HTTP
//! servers on loopback. The `net` test plugin (`tests/guests/net`) tries
//! every way out: wasi:http (following redirects itself), TCP and UDP
//! through wasi:sockets, name lookups. What its manifest's `network` asks
//! for ∩ the sandbox's network setting is all it may reach; every other
//! attempt is refused with a message naming the `host:port`, and the
//! servers it must not reach see no connection at all.

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{TcpListener, TcpStream, UdpSocket};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::json;

use super::*;

const NET_MANIFEST: &str = include_str!("../../../tests/guests/net/plugin.toml");

/// The sandbox with network on.
const NETWORK_ON: &[&str] = &[
    "-s",
    "workspace-write",
    "-c",
    "sandbox_workspace_write.network_access=true",
];

/// An HTTP/1.1 server on `ip`:0 that answers `/hello` with `hello from
/// PORT` and `/redirect?URL` with a 302 to URL, counting connections.
struct Server {
    port: u16,
    connections: Arc<AtomicUsize>,
}

impl Server {
    fn start(ip: &str) -> Server {
        let listener = TcpListener::bind((ip, 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let connections = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&connections);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                counted.fetch_add(1, Ordering::SeqCst);
                std::thread::spawn(move || answer(stream, port));
            }
        });
        Server { port, connections }
    }

    fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

fn answer(stream: TcpStream, port: u16) {
    let mut reader = BufReader::new(stream);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    loop {
        let mut header = String::new();
        match reader.read_line(&mut header) {
            Ok(0) | Err(_) => break,
            Ok(_) if header == "\r\n" => break,
            Ok(_) => {}
        }
    }
    let path = request_line.split(' ').nth(1).unwrap_or("/");
    let response = match path.strip_prefix("/redirect?") {
        Some(to) => format!(
            "HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        ),
        None => {
            let body = format!("hello from {port}");
            format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
        }
    };
    let _ = reader.get_mut().write_all(response.as_bytes());
}

/// An `Env` with the net plugin installed, asking for `network`.
fn net_env(network: &[String]) -> Env {
    let env = Env::new();
    let dir = env.wharf_home().join("plugins").join("net");
    std::fs::create_dir_all(&dir).unwrap();
    let entries = serde_json::to_string(network).unwrap();
    std::fs::write(
        dir.join("plugin.toml"),
        NET_MANIFEST.replace("NETWORK", &entries),
    )
    .unwrap();
    std::fs::copy(
        env!("WHARF_TEST_NET_WASM"),
        dir.join("wharf_test_guest_net.wasm"),
    )
    .unwrap();
    env
}

fn call(env: &Env, sandbox: &[&str], tool: &str, args: &serde_json::Value) -> Output {
    let args = args.to_string();
    let mut argv: Vec<&str> = sandbox.to_vec();
    argv.extend(["--enable", "net", "tool", "call", tool, "--args", &args]);
    env.wharf(&argv)
}

fn get(env: &Env, sandbox: &[&str], url: &str, follow: u32) -> Output {
    call(
        env,
        sandbox,
        "get",
        &json!({ "url": url, "follow": follow }),
    )
}

/// A tool's own failure: exit code 1, its message on stdout.
trait ToolFailed {
    fn tool_failed(self) -> Output;
}

impl ToolFailed for Output {
    fn tool_failed(self) -> Output {
        assert_eq!(self.code, 1, "{}", shown(&self));
        self
    }
}

fn shown(output: &Output) -> String {
    format!(
        "exit {}, stdout {:?}, stderr {:?}",
        output.code, output.stdout, output.stderr
    )
}

fn refused(what: &str, target: &str) -> String {
    format!(
        "network: {what} {target} refused: it is not in the plugin's network grant (the \
         manifest's `network` entries and the sandbox's network setting decide)"
    )
}

#[test]
fn an_allowed_request_reaches_the_local_server_by_address_and_by_name() {
    let server = Server::start("127.0.0.1");
    let port = server.port;
    let env = net_env(&[format!("127.0.0.1:{port}"), format!("localhost:{port}")]);
    for url in [
        format!("http://127.0.0.1:{port}/hello"),
        format!("http://localhost:{port}/hello"),
    ] {
        let output = get(&env, NETWORK_ON, &url, 0).success();
        assert_eq!(output.stdout, format!("200 hello from {port}\n"), "{url}");
    }
    assert_eq!(server.connections(), 2);
}

#[test]
fn a_port_not_in_the_allowlist_is_refused_before_any_connection() {
    let allowed = Server::start("127.0.0.1");
    let other = Server::start("127.0.0.1");
    let env = net_env(&[format!("127.0.0.1:{}", allowed.port)]);
    let url = format!("http://127.0.0.1:{}/hello", other.port);
    let output = get(&env, NETWORK_ON, &url, 0).tool_failed();
    let target = format!("127.0.0.1:{}", other.port);
    assert!(
        output
            .stdout
            .contains(&refused("an HTTP request to", &target)),
        "{}",
        shown(&output)
    );
    // The TCP way to the same port is refused too.
    let output = call(&env, NETWORK_ON, "tcp", &json!({ "addr": target })).tool_failed();
    assert!(
        output
            .stdout
            .starts_with(&format!("cannot connect to {target}:")),
        "{}",
        shown(&output)
    );
    assert_eq!(other.connections(), 0);
}

/// `localhost:PORT` grants the name at that port: not another loopback
/// address, not another port, not the address written instead of the name
/// for HTTP; for sockets, only what the name resolves to on the host.
#[test]
fn a_name_grants_only_what_it_resolves_to_at_its_port() {
    let server = Server::start("127.0.0.1");
    let elsewhere = Server::start("127.0.0.2");
    let port = server.port;
    let env = net_env(&[format!("localhost:{port}")]);
    let cases = [
        (
            format!("http://127.0.0.2:{port}/hello"),
            format!("127.0.0.2:{port}"),
        ),
        (
            format!("http://localhost:{}/hello", elsewhere.port),
            format!("localhost:{}", elsewhere.port),
        ),
        (
            format!("http://127.0.0.1:{port}/hello"),
            format!("127.0.0.1:{port}"),
        ),
    ];
    for (url, target) in cases {
        let output = get(&env, NETWORK_ON, &url, 0).tool_failed();
        assert!(
            output
                .stdout
                .contains(&refused("an HTTP request to", &target)),
            "{url}: {}",
            shown(&output)
        );
    }
    for addr in [
        format!("127.0.0.2:{port}"),
        format!("127.0.0.2:{}", elsewhere.port),
        format!("127.0.0.1:{}", elsewhere.port),
    ] {
        let output = call(&env, NETWORK_ON, "tcp", &json!({ "addr": addr })).tool_failed();
        assert!(
            output
                .stdout
                .starts_with(&format!("cannot connect to {addr}:")),
            "{}",
            shown(&output)
        );
    }
    assert_eq!((server.connections(), elsewhere.connections()), (0, 0));
    // What the name resolves to is reachable with a socket.
    let addr = format!("127.0.0.1:{port}");
    let output = call(&env, NETWORK_ON, "tcp", &json!({ "addr": addr })).success();
    assert_eq!(output.stdout, "HTTP/1.1 200 OK\n");
    // The guest itself resolves nothing, even an allowed name.
    let output = call(
        &env,
        NETWORK_ON,
        "resolve",
        &json!({ "addr": format!("localhost:{port}") }),
    )
    .tool_failed();
    assert!(
        output
            .stdout
            .starts_with(&format!("cannot resolve localhost:{port}:")),
        "{}",
        shown(&output)
    );
}

#[test]
fn a_redirect_to_a_host_not_in_the_allowlist_ends_refused() {
    let allowed = Server::start("127.0.0.1");
    let other = Server::start("127.0.0.1");
    let env = net_env(&[format!("127.0.0.1:{}", allowed.port)]);
    let url = format!(
        "http://127.0.0.1:{}/redirect?http://127.0.0.1:{}/hello",
        allowed.port, other.port
    );
    let output = get(&env, NETWORK_ON, &url, 1).tool_failed();
    let target = format!("127.0.0.1:{}", other.port);
    assert!(
        output
            .stdout
            .contains(&refused("an HTTP request to", &target)),
        "{}",
        shown(&output)
    );
    assert_eq!((allowed.connections(), other.connections()), (1, 0));
    // A redirect within the allowlist is followed.
    let url = format!(
        "http://127.0.0.1:{0}/redirect?http://127.0.0.1:{0}/hello",
        allowed.port
    );
    let output = get(&env, NETWORK_ON, &url, 1).success();
    assert_eq!(output.stdout, format!("200 hello from {}\n", allowed.port));
}

/// No grant — none asked, or the sandbox's network off — means no socket
/// and no request at all.
#[test]
fn without_a_grant_there_is_no_socket_and_no_request() {
    let server = Server::start("127.0.0.1");
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    udp.set_nonblocking(true).unwrap();
    let udp_addr = udp.local_addr().unwrap().to_string();
    let tcp_addr = format!("127.0.0.1:{}", server.port);
    let asked = [tcp_addr.clone(), udp_addr.clone()];
    let cases: [(&[String], &[&str]); 3] = [
        (&[], NETWORK_ON),
        (&asked, &[]),
        (&asked, &["-s", "workspace-write"]),
    ];
    for (network, sandbox) in cases {
        let env = net_env(network);
        let output = call(&env, sandbox, "tcp", &json!({ "addr": tcp_addr })).tool_failed();
        assert!(
            output
                .stdout
                .starts_with(&format!("cannot connect to {tcp_addr}:")),
            "{network:?} {sandbox:?}: {}",
            shown(&output)
        );
        let output = call(&env, sandbox, "udp", &json!({ "addr": udp_addr })).tool_failed();
        assert!(
            output
                .stdout
                .starts_with(&format!("cannot send to {udp_addr}:")),
            "{network:?} {sandbox:?}: {}",
            shown(&output)
        );
        let url = format!("http://{tcp_addr}/hello");
        let output = get(&env, sandbox, &url, 0).tool_failed();
        assert!(
            output
                .stdout
                .contains(&refused("an HTTP request to", &tcp_addr)),
            "{network:?} {sandbox:?}: {}",
            shown(&output)
        );
    }
    assert_eq!(server.connections(), 0);
    let mut buf = [0u8; 64];
    let received = udp.recv_from(&mut buf);
    assert!(
        matches!(&received, Err(err) if err.kind() == std::io::ErrorKind::WouldBlock),
        "the UDP socket received {received:?}"
    );
    // With the grant, the datagram goes.
    let env = net_env(&asked);
    let output = call(&env, NETWORK_ON, "udp", &json!({ "addr": udp_addr })).success();
    assert_eq!(output.stdout, format!("sent 14 bytes to {udp_addr}\n"));
}

#[test]
fn plugin_list_shows_requested_and_granted_hosts_and_why_not() {
    let env = net_env(&[
        "api.example.com:443".to_owned(),
        "*.docs.example.com:443".to_owned(),
    ]);
    let on = env
        .wharf(&[NETWORK_ON, &["--enable", "net", "plugin", "list"]].concat())
        .success();
    assert!(
        on.stdout
            .contains("  network requested: api.example.com:443, *.docs.example.com:443\n")
            && on
                .stdout
                .contains("  network: api.example.com:443, *.docs.example.com:443\n"),
        "{}",
        on.stdout
    );
    let off = env.wharf(&["--enable", "net", "plugin", "list"]).success();
    assert!(
        off.stdout.contains("  network: none\n")
            && off.stdout.contains(
                "  denied: network api.example.com:443: the sandbox is read-only, which has no \
                 network (use `--sandbox workspace-write` with \
                 `sandbox_workspace_write.network_access = true`)\n"
            ),
        "{}",
        off.stdout
    );
}

/// examples/http-fetch as a user meets it: `wharf plugin add` says what it
/// asks for and what it gets, and its `fetch` reaches the server the
/// manifest names (here the test's, on its own port).
#[test]
fn the_example_fetches_from_its_allowed_local_server() {
    let server = Server::start("127.0.0.1");
    let other = Server::start("127.0.0.1");
    let manifest = include_str!("../../../examples/http-fetch/plugin.toml")
        .replace("127.0.0.1:8080", &format!("127.0.0.1:{}", server.port));
    let source = tempfile::tempdir().unwrap();
    std::fs::write(source.path().join("plugin.toml"), manifest).unwrap();
    std::fs::copy(
        env!("WHARF_EXAMPLE_HTTP_FETCH_WASM"),
        source.path().join("wharf_example_http_fetch.wasm"),
    )
    .unwrap();
    let env = Env::new();
    let dir = display(source.path());
    let added = env
        .wharf(&[NETWORK_ON, &["plugin", "add", &dir]].concat())
        .success();
    let granted = format!("127.0.0.1:{}", server.port);
    assert!(
        added.stdout.contains(&format!("  network: {granted}\n"))
            && added
                .stdout
                .contains(&format!("  network granted: {granted}\n")),
        "{}",
        added.stdout
    );
    let fetch = |url: &str| {
        let args = json!({ "url": url }).to_string();
        env.wharf(&[NETWORK_ON, &["tool", "call", "fetch", "--args", &args]].concat())
    };
    let output = fetch(&format!("http://{granted}/")).success();
    assert_eq!(output.stdout, format!("200\nhello from {}\n", server.port));
    let elsewhere = format!("127.0.0.1:{}", other.port);
    let output = fetch(&format!("http://{elsewhere}/")).tool_failed();
    assert_eq!(
        output.stdout,
        format!(
            "cannot fetch http://{elsewhere}/: {}\n",
            refused("an HTTP request to", &elsewhere)
        )
    );
    assert_eq!((server.connections(), other.connections()), (1, 0));
}
