//! An OpenTelemetry collector for tests, on 127.0.0.1: it receives OTLP
//! logs over HTTP (protobuf or JSON, on `/v1/logs`) and over gRPC, decodes
//! each export with the OTLP message types, and keeps what arrived. A
//! hanging one accepts connections and never answers, as a stuck
//! collector would.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use opentelemetry_proto::tonic::collector::logs::v1::logs_service_server::{
    LogsService, LogsServiceServer,
};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use prost::Message as _;
use tokio_util::sync::CancellationToken;

/// How an export arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    HttpBinary,
    HttpJson,
    Grpc,
}

/// One export as it arrived.
#[derive(Debug, Clone)]
pub struct Export {
    pub transport: Transport,
    /// The request's path (gRPC: the method's).
    pub path: String,
    /// Header (or gRPC metadata) names, lowercase, and values.
    pub headers: BTreeMap<String, String>,
    pub request: ExportLogsServiceRequest,
}

/// One log record, flattened for assertions: values as text.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub event_name: String,
    pub severity_text: String,
    pub body: Option<String>,
    pub attributes: BTreeMap<String, String>,
    /// The resource's attributes (`service.name`, …).
    pub resource: BTreeMap<String, String>,
}

#[derive(Default)]
struct Shared {
    exports: Mutex<Vec<Export>>,
    /// Log records received so far, over every export.
    records: AtomicUsize,
}

impl Shared {
    fn push(&self, export: Export) {
        let records: usize = export
            .request
            .resource_logs
            .iter()
            .flat_map(|resource| &resource.scope_logs)
            .map(|scope| scope.log_records.len())
            .sum();
        self.records.fetch_add(records, Ordering::Relaxed);
        self.exports
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(export);
    }
}

/// A running receiver; stops when dropped.
pub struct OtlpReceiver {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: CancellationToken,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl OtlpReceiver {
    /// OTLP over HTTP: `POST /v1/logs`, protobuf or JSON by content type.
    pub fn http() -> io::Result<OtlpReceiver> {
        OtlpReceiver::start(Mode::Http)
    }

    /// OTLP over gRPC (plain HTTP/2).
    pub fn grpc() -> io::Result<OtlpReceiver> {
        OtlpReceiver::start(Mode::Grpc)
    }

    /// Accepts connections, reads nothing, answers nothing.
    pub fn hanging() -> io::Result<OtlpReceiver> {
        OtlpReceiver::start(Mode::Hang)
    }

    fn start(mode: Mode) -> io::Result<OtlpReceiver> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::default());
        let stop = CancellationToken::new();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let thread = std::thread::Builder::new()
            .name("otlp-receiver".into())
            .spawn({
                let shared = Arc::clone(&shared);
                let stop = stop.clone();
                move || runtime.block_on(serve(mode, listener, shared, stop))
            })?;
        Ok(OtlpReceiver {
            addr,
            shared,
            stop,
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT/v1/logs`: what `otlp-http`'s endpoint names.
    pub fn http_endpoint(&self) -> String {
        format!("http://{}/v1/logs", self.addr)
    }

    /// `http://127.0.0.1:PORT`: what `otlp-grpc`'s endpoint names.
    pub fn grpc_endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every export so far.
    pub fn exports(&self) -> Vec<Export> {
        self.shared
            .exports
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// How many log records arrived so far (cheap: for polling).
    pub fn record_count(&self) -> usize {
        self.shared.records.load(Ordering::Relaxed)
    }

    /// Every record of every export so far, in order.
    pub fn records(&self) -> Vec<Record> {
        let mut records = Vec::new();
        for export in self.exports() {
            for resource_logs in &export.request.resource_logs {
                let resource = resource_logs
                    .resource
                    .as_ref()
                    .map(|resource| flatten(&resource.attributes))
                    .unwrap_or_default();
                for scope in &resource_logs.scope_logs {
                    for record in &scope.log_records {
                        records.push(Record {
                            event_name: record.event_name.clone(),
                            severity_text: record.severity_text.clone(),
                            body: record.body.as_ref().map(text),
                            attributes: flatten(&record.attributes),
                            resource: resource.clone(),
                        });
                    }
                }
            }
        }
        records
    }

    /// Waits up to `timeout` until some record is named `event_name`.
    pub fn wait_for(&self, event_name: &str, timeout: Duration) -> Option<Record> {
        let deadline = Instant::now() + timeout;
        loop {
            let found = self
                .records()
                .into_iter()
                .find(|record| record.event_name == event_name);
            if found.is_some() || Instant::now() >= deadline {
                return found;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for OtlpReceiver {
    fn drop(&mut self) {
        self.stop.cancel();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn flatten(attributes: &[KeyValue]) -> BTreeMap<String, String> {
    attributes
        .iter()
        .map(|kv| {
            (
                kv.key.clone(),
                kv.value.as_ref().map(text).unwrap_or_default(),
            )
        })
        .collect()
}

/// A value as text: strings as they are, the rest as Rust prints them.
fn text(value: &AnyValue) -> String {
    match &value.value {
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::BoolValue(b)) => b.to_string(),
        Some(any_value::Value::IntValue(i)) => i.to_string(),
        Some(any_value::Value::DoubleValue(d)) => d.to_string(),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    }
}

#[derive(Clone, Copy)]
enum Mode {
    Http,
    Grpc,
    Hang,
}

async fn serve(
    mode: Mode,
    listener: std::net::TcpListener,
    shared: Arc<Shared>,
    stop: CancellationToken,
) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        return;
    };
    if let Mode::Grpc = mode {
        let incoming = tokio_stream::wrappers::TcpListenerStream::new(listener);
        let service = LogsServiceServer::new(Grpc(shared));
        let _ = tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming_shutdown(incoming, stop.cancelled())
            .await;
        return;
    }
    let mut held = Vec::new();
    loop {
        let stream = tokio::select! {
            () = stop.cancelled() => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => continue,
            },
        };
        if let Mode::Hang = mode {
            held.push(stream);
            continue;
        }
        let shared = Arc::clone(&shared);
        let stop = stop.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| {
                let shared = Arc::clone(&shared);
                async move { Ok::<_, Infallible>(receive_http(request, &shared).await) }
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

async fn receive_http(request: Request<Incoming>, shared: &Shared) -> Response<Full<Bytes>> {
    let path = request.uri().path().to_owned();
    let headers: BTreeMap<String, String> = request
        .headers()
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let content_type = headers.get("content-type").cloned().unwrap_or_default();
    let Ok(body) = request.into_body().collect().await else {
        return answer(StatusCode::BAD_REQUEST, "unreadable body");
    };
    let body = body.to_bytes();
    let (transport, decoded) = if content_type.starts_with("application/json") {
        (
            Transport::HttpJson,
            serde_json::from_slice::<ExportLogsServiceRequest>(&body).map_err(|e| e.to_string()),
        )
    } else {
        (
            Transport::HttpBinary,
            ExportLogsServiceRequest::decode(body).map_err(|e| e.to_string()),
        )
    };
    match decoded {
        Ok(request) => {
            shared.push(Export {
                transport,
                path,
                headers,
                request,
            });
            let response = ExportLogsServiceResponse::default();
            let body = if transport == Transport::HttpJson {
                serde_json::to_vec(&response).unwrap_or_default()
            } else {
                response.encode_to_vec()
            };
            let mut ok = Response::new(Full::new(Bytes::from(body)));
            if let Ok(value) = content_type.parse() {
                ok.headers_mut().insert("content-type", value);
            }
            ok
        }
        Err(err) => answer(StatusCode::BAD_REQUEST, &err),
    }
}

fn answer(status: StatusCode, text: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(text.to_owned())));
    *response.status_mut() = status;
    response
}

struct Grpc(Arc<Shared>);

#[tonic::async_trait]
impl LogsService for Grpc {
    async fn export(
        &self,
        request: tonic::Request<ExportLogsServiceRequest>,
    ) -> Result<tonic::Response<ExportLogsServiceResponse>, tonic::Status> {
        let headers = request
            .metadata()
            .clone()
            .into_headers()
            .iter()
            .map(|(name, value)| {
                (
                    name.as_str().to_owned(),
                    String::from_utf8_lossy(value.as_bytes()).into_owned(),
                )
            })
            .collect();
        self.0.push(Export {
            transport: Transport::Grpc,
            path: "/opentelemetry.proto.collector.logs.v1.LogsService/Export".to_owned(),
            headers,
            request: request.into_inner(),
        });
        Ok(tonic::Response::new(ExportLogsServiceResponse::default()))
    }
}
