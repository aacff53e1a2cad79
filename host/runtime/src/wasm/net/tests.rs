use std::net::SocketAddr;

use wasmtime_wasi::sockets::SocketAddrUse;

use super::*;

fn allowlist(entries: &[&str]) -> Allowlist {
    let entries: Vec<HostPort> = entries.iter().map(|entry| entry.parse().unwrap()).collect();
    Allowlist::new(&entries)
}

#[test]
fn hosts_match_names_patterns_and_addresses_at_their_port() {
    let list = allowlist(&[
        "api.example.com:443",
        "*.docs.example.com:443",
        "127.0.0.1:8080",
        "[::1]:8080",
        "LocalHost:9000",
    ]);
    let cases: &[(&str, u16, bool)] = &[
        ("api.example.com", 443, true),
        ("API.Example.com.", 443, true),
        ("api.example.com", 80, false),
        ("example.com", 443, false),
        ("xapi.example.com", 443, false),
        ("a.docs.example.com", 443, true),
        ("a.b.docs.example.com", 443, true),
        ("docs.example.com", 443, false),
        ("adocs.example.com", 443, false),
        ("a.docs.example.com", 8443, false),
        ("127.0.0.1", 8080, true),
        ("127.0.0.2", 8080, false),
        ("127.0.0.1", 8081, false),
        ("[::1]", 8080, true),
        ("[::ffff:127.0.0.1]", 8080, true),
        ("localhost", 9000, true),
        // A name is not the address it resolves to, nor the reverse.
        ("localhost", 8080, false),
        ("127.0.0.1", 9000, false),
        ("2130706433", 8080, false),
    ];
    let mut failures = Vec::new();
    for (host, port, expected) in cases {
        let actual = list.allows_host(&normalize(host), *port);
        if actual != *expected {
            failures.push(format!("{host}:{port}: expected {expected}, got {actual}"));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn sockets_reach_only_listed_addresses_and_what_listed_names_resolve_to() {
    let list = allowlist(&["localhost:9000", "127.0.0.3:53", "*.localhost:9001"]);
    let cases: &[(&str, SocketAddrUse, bool)] = &[
        ("127.0.0.1:9000", SocketAddrUse::TcpConnect, true),
        ("127.0.0.1:9001", SocketAddrUse::TcpConnect, false),
        ("127.0.0.2:9000", SocketAddrUse::TcpConnect, false),
        ("127.0.0.3:53", SocketAddrUse::UdpSend, true),
        ("127.0.0.3:54", SocketAddrUse::UdpSend, false),
        ("127.0.0.3:53", SocketAddrUse::UdpReceive, true),
        ("127.0.0.4:53", SocketAddrUse::UdpReceive, false),
        ("0.0.0.0:0", SocketAddrUse::TcpBind, true),
        ("[::]:0", SocketAddrUse::UdpBind, true),
        ("0.0.0.0:9000", SocketAddrUse::TcpBind, false),
        ("127.0.0.1:0", SocketAddrUse::TcpBind, false),
        ("127.0.0.1:9000", SocketAddrUse::TcpListen, false),
        ("127.0.0.1:9000", SocketAddrUse::TcpAccept, false),
    ];
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut failures = Vec::new();
    for (addr, usage, expected) in cases {
        let addr: SocketAddr = addr.parse().unwrap();
        let actual = runtime.block_on(list.allows_socket(addr, *usage));
        if actual != *expected {
            failures.push(format!(
                "{addr} {usage:?}: expected {expected}, got {actual}"
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
    assert!(
        !runtime.block_on(
            Allowlist::default()
                .allows_socket("127.0.0.1:9000".parse().unwrap(), SocketAddrUse::TcpConnect)
        )
    );
}
