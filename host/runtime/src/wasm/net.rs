//! A WASM plugin's network: the grant's `host:port` patterns, checked by
//! the host on every way out of the guest.
//!
//! - `wasi:http/outgoing-handler` ([`http`]): the host checks the request's
//!   scheme, host and port against the allowlist, resolves an allowed name
//!   itself, connects only to the addresses that name resolved to, and
//!   does TLS for `https`. wasi:http follows no redirect: a guest that
//!   follows one sends a new request, checked like any other.
//! - `wasi:sockets` ([`Allowlist::allows_socket`]): TCP connections and UDP
//!   datagrams only to a listed IP address, or to an address a listed name
//!   (not a `*.` pattern) resolves to on the host, at the listed port. The
//!   guest gets no name lookup at all (`ip-name-lookup` stays off: a lookup
//!   of any name would carry data out through DNS); it connects to
//!   addresses. No grant: no socket at all.
//!
//! Every refusal says which `host:port` was refused and that the manifest's
//! `network` and the sandbox's network setting decide.

pub(crate) mod http;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use wasmtime_wasi::sockets::SocketAddrUse;

use crate::plugin::manifest::HostPort;

/// The grant's network entries, shared by a call's HTTP hooks and socket
/// checks.
#[derive(Debug, Clone, Default)]
pub(crate) struct Allowlist(Arc<[Entry]>);

/// One `host:port` pattern, its host normalized (lowercase, no trailing
/// dot, no brackets).
#[derive(Debug)]
struct Entry {
    host: Host,
    port: u16,
}

#[derive(Debug, PartialEq, Eq)]
enum Host {
    Ip(IpAddr),
    Name(String),
    /// `*.suffix`: any name ending in `.suffix`, never `suffix` itself.
    Below(String),
}

impl Allowlist {
    pub(crate) fn new(entries: &[HostPort]) -> Allowlist {
        let entries: Vec<Entry> = entries
            .iter()
            .map(|entry| {
                let host = normalize(&entry.host);
                let host = match host.strip_prefix("*.") {
                    Some(suffix) => Host::Below(suffix.to_owned()),
                    None => match host.parse::<IpAddr>() {
                        Ok(ip) => Host::Ip(ip.to_canonical()),
                        Err(_) => Host::Name(host),
                    },
                };
                Entry {
                    host,
                    port: entry.port,
                }
            })
            .collect();
        Allowlist(entries.into())
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether a request to `host` (as written in a URL, normalized by
    /// [`normalize`]) at `port` is allowed: a name matches a name entry or
    /// a `*.` pattern, an IP address only an entry of that address.
    pub(crate) fn allows_host(&self, host: &str, port: u16) -> bool {
        let ip = host.parse::<IpAddr>().ok().map(|ip| ip.to_canonical());
        self.0
            .iter()
            .filter(|entry| entry.port == port)
            .any(|entry| match (&entry.host, ip) {
                (Host::Ip(allowed), Some(ip)) => *allowed == ip,
                (Host::Name(name), None) => name == host,
                (Host::Below(suffix), None) => host
                    .strip_suffix(suffix.as_str())
                    .and_then(|rest| rest.strip_suffix('.'))
                    .is_some_and(|label| !label.is_empty()),
                (Host::Ip(_), None) | (Host::Name(_) | Host::Below(_), Some(_)) => false,
            })
    }

    /// Whether the guest may use a socket at `addr` for `usage`: connect
    /// and send only to an address of the allowlist (see the module's
    /// documentation); bind only to an unspecified address and an
    /// ephemeral port (what a connect or a send does implicitly); never
    /// listen or accept.
    pub(crate) async fn allows_socket(&self, addr: SocketAddr, usage: SocketAddrUse) -> bool {
        let allowed = match usage {
            SocketAddrUse::TcpBind | SocketAddrUse::UdpBind => {
                addr.ip().is_unspecified() && addr.port() == 0
            }
            SocketAddrUse::TcpListen | SocketAddrUse::TcpAccept => false,
            SocketAddrUse::TcpConnect | SocketAddrUse::UdpSend | SocketAddrUse::UdpReceive => {
                self.allows_address(addr).await
            }
        };
        if !allowed {
            tracing::info!(
                target: "wharf::plugin::network",
                "{}",
                refused(&addr.to_string(), socket_use(usage))
            );
        }
        allowed
    }

    /// Whether `addr` is a listed address, or one a listed name resolves to
    /// now (on the host), at a listed port.
    async fn allows_address(&self, addr: SocketAddr) -> bool {
        let ip = addr.ip().to_canonical();
        for entry in self.0.iter().filter(|entry| entry.port == addr.port()) {
            match &entry.host {
                Host::Ip(allowed) if *allowed == ip => return true,
                Host::Name(name) => {
                    if let Ok(resolved) = tokio::net::lookup_host((name.as_str(), entry.port)).await
                        && resolved
                            .map(|found| found.ip().to_canonical())
                            .any(|found| found == ip)
                    {
                        return true;
                    }
                }
                Host::Ip(_) | Host::Below(_) => {}
            }
        }
        false
    }
}

fn socket_use(usage: SocketAddrUse) -> &'static str {
    match usage {
        SocketAddrUse::TcpBind => "a TCP bind to",
        SocketAddrUse::TcpListen => "a TCP listen on",
        SocketAddrUse::TcpAccept => "a TCP accept from",
        SocketAddrUse::TcpConnect => "a TCP connection to",
        SocketAddrUse::UdpBind => "a UDP bind to",
        SocketAddrUse::UdpSend => "a UDP datagram to",
        SocketAddrUse::UdpReceive => "a UDP datagram from",
    }
}

/// `host` as compared: lowercase, without brackets or a trailing dot.
pub(crate) fn normalize(host: &str) -> String {
    let host = host
        .strip_prefix('[')
        .and_then(|inner| inner.strip_suffix(']'))
        .unwrap_or(host);
    host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase()
}

/// The message of a refusal of `target` (`host:port`, or an address), with
/// what was attempted (`an HTTP request to`).
pub(crate) fn refused(target: &str, what: &str) -> String {
    format!(
        "network: {what} {target} refused: it is not in the plugin's network grant (the \
         manifest's `network` entries and the sandbox's network setting decide)"
    )
}

#[cfg(test)]
mod tests;
