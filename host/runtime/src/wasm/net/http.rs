//! `wasi:http/outgoing-handler` for a plugin: wasmtime-wasi-http's hooks
//! with wharf's own sender. Nothing leaves unless the request's host and
//! port are in the grant; an allowed name is resolved here and the
//! connection goes only to what it resolved to (never a second lookup by
//! someone else), over TLS done here for `https`.

use std::future::{Future, poll_fn};
use std::net::{IpAddr, SocketAddr};
use std::pin::pin;
use std::sync::{Arc, OnceLock};
use std::task::Poll;
use std::time::Duration;

use http::uri::Scheme;
use http_body_util::BodyExt;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use wasmtime_wasi_http::io::TokioIo;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

use super::{Allowlist, normalize, refused};

/// How long a connection may take when the guest sets no timeout; the
/// call's deadline bounds everything anyway.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// The hooks of one call: its allowlist.
#[derive(Debug, Default)]
pub(crate) struct NetHooks {
    pub(crate) allowlist: Allowlist,
}

type ConnectionDone = Box<dyn Future<Output = Result<(), Error>> + Send>;

impl WasiHttpHooks for NetHooks {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn Future<Output = Result<(), Error>> + Send>,
    ) -> Box<dyn Future<Output = Result<(http::Response<WasiBody>, ConnectionDone), Error>> + Send>
    {
        drop(fut);
        let allowlist = self.allowlist.clone();
        Box::new(async move { send(&allowlist, request, options).await })
    }
}

/// Checks `request` against `allowlist` and sends it.
async fn send(
    allowlist: &Allowlist,
    mut request: http::Request<WasiBody>,
    options: Option<RequestOptions>,
) -> Result<(http::Response<WasiBody>, ConnectionDone), Error> {
    let uri = request.uri();
    let tls = match uri.scheme() {
        Some(scheme) if *scheme == Scheme::HTTPS => true,
        Some(scheme) if *scheme == Scheme::HTTP => false,
        _ => return Err(Error::HttpProtocolError),
    };
    let authority = uri.authority().ok_or(Error::HttpRequestUriInvalid)?;
    let host = normalize(authority.host());
    let port = authority.port_u16().unwrap_or(if tls { 443 } else { 80 });
    let target = match host.parse::<IpAddr>() {
        Ok(IpAddr::V6(_)) => format!("[{host}]:{port}"),
        _ => format!("{host}:{port}"),
    };
    if !allowlist.allows_host(&host, port) {
        let message = refused(&target, "an HTTP request to");
        tracing::info!(target: "wharf::plugin::network", "{message}");
        return Err(Error::InternalError(Some(message)));
    }
    let connect_timeout = options
        .and_then(|options| options.connect_timeout)
        .unwrap_or(CONNECT_TIMEOUT);
    let stream = tokio::time::timeout(connect_timeout, connect(&host, port))
        .await
        .map_err(|_| Error::ConnectionTimeout)??;
    let stream: Box<dyn Stream> = if tls {
        Box::new(handshake_tls(&host, stream).await?)
    } else {
        Box::new(stream)
    };
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(Error::from)?;
    // The request line carries only the path: the authority went into the
    // `Host` header and the connection.
    let path = uri_path(request.uri());
    *request.uri_mut() = path;

    let mut connection = Box::pin(connection);
    let mut finished = false;
    let response = {
        let mut sending = pin!(sender.send_request(request));
        poll_fn(|cx| {
            if let Poll::Ready(result) = sending.as_mut().poll(cx) {
                return Poll::Ready(result.map_err(Error::from));
            }
            if !finished && let Poll::Ready(result) = connection.as_mut().poll(cx) {
                finished = true;
                if let Err(err) = result {
                    return Poll::Ready(Err(Error::from(err)));
                }
                // The connection closed cleanly: the request's end is near.
                return sending.as_mut().poll(cx).map_err(Error::from);
            }
            Poll::Pending
        })
        .await?
    };
    let done: ConnectionDone = Box::new(async move {
        if finished {
            Ok(())
        } else {
            connection.await.map_err(Error::from)
        }
    });
    Ok((
        response.map(|body| body.map_err(Error::from).boxed_unsync()),
        done,
    ))
}

/// A connection to `host:port`: an IP address as it is, a name to the
/// first of the addresses it resolves to here that accepts.
async fn connect(host: &str, port: u16) -> Result<TcpStream, Error> {
    let addresses: Vec<SocketAddr> = match host.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => tokio::net::lookup_host((host, port))
            .await
            .map_err(|_| Error::DnsError {
                rcode: None,
                info_code: None,
            })?
            .collect(),
    };
    let mut last = Error::DestinationNotFound;
    for address in addresses {
        match TcpStream::connect(address).await {
            Ok(stream) => return Ok(stream),
            Err(err) if err.kind() == std::io::ErrorKind::ConnectionRefused => {
                last = Error::ConnectionRefused;
            }
            Err(err) => last = Error::Connect(err),
        }
    }
    Err(last)
}

trait Stream: AsyncRead + AsyncWrite + Send + Unpin {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin> Stream for T {}

async fn handshake_tls(
    host: &str,
    stream: TcpStream,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, Error> {
    use rustls::pki_types::ServerName;
    let config = tls_config()?;
    let name = match host.parse::<IpAddr>() {
        Ok(ip) => ServerName::from(ip),
        Err(_) => {
            ServerName::try_from(host.to_owned()).map_err(|_| Error::HttpRequestUriInvalid)?
        }
    };
    tokio_rustls::TlsConnector::from(config)
        .connect(name, stream)
        .await
        .map_err(Error::Tls)
}

/// rustls as the model clients set it up: the process's crypto provider
/// if one is installed, else aws-lc-rs, and the platform's verifier; made
/// once per process.
fn tls_config() -> Result<Arc<rustls::ClientConfig>, Error> {
    static CONFIG: OnceLock<Result<Arc<rustls::ClientConfig>, String>> = OnceLock::new();
    let config = CONFIG.get_or_init(|| {
        use rustls_platform_verifier::BuilderVerifierExt;
        let provider = rustls::crypto::CryptoProvider::get_default()
            .cloned()
            .unwrap_or_else(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|err| err.to_string())?
            .with_platform_verifier()
            .map_err(|err| err.to_string())?
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    });
    config
        .clone()
        .map_err(|err| Error::InternalError(Some(format!("cannot set up TLS: {err}"))))
}

/// `uri` in origin form: its path and query only.
fn uri_path(uri: &http::Uri) -> http::Uri {
    let path = uri.path_and_query().map_or("/", |path| path.as_str());
    path.parse().unwrap_or_else(|_| http::Uri::from_static("/"))
}
