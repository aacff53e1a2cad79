//! wharf's `telemetry` capability: the host's `tracing` events named
//! `wharf.*` (`wharf.conversation_starts`, `wharf.api_request`,
//! `wharf.sse_event`, `wharf.user_prompt`, `wharf.tool_decision`,
//! `wharf.tool_result`, `wharf.plugin_load`, …) exported as OpenTelemetry
//! log records over OTLP, where `[otel] exporter` says.
//!
//! [`Telemetry::start`] with the [`Settings`] `[otel]` resolved to gives a
//! `tracing` layer and the handle that stops it. The layer only copies an
//! event's fields into a queue; the `wharf-otel` thread makes records of
//! them (within 200 ms), and the SDK's batch thread sends the records
//! (every second, or 512 at a time), so neither a tool call nor a turn ever
//! waits for the collector, nor makes a system call to export. A full
//! queue drops events rather than block. At exit [`Telemetry::shutdown`] sends what
//! is queued, waiting at most `[otel] flush_timeout_ms` however slow or
//! absent the collector is.

#![forbid(unsafe_code)]

mod exporter;
mod layer;
mod queue;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use opentelemetry::KeyValue;
use opentelemetry::logs::LoggerProvider as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::logs::{BatchConfigBuilder, BatchLogProcessor, SdkLoggerProvider};

pub use exporter::ExporterError;
pub use layer::ExportLayer;

/// The most records one export sends.
const MAX_BATCH: usize = 512;

/// Where and how to export (what `[otel]` says, once the host resolved
/// it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `deployment.environment`.
    pub environment: String,
    pub exporter: Exporter,
    /// How long an export, and the flush at exit, may take.
    pub flush_timeout: Duration,
}

/// A collector and how to reach it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exporter {
    /// OTLP over HTTP to `endpoint`, the full URL of the logs endpoint.
    OtlpHttp {
        endpoint: String,
        headers: BTreeMap<String, String>,
        /// JSON rather than protobuf.
        json: bool,
        tls: Tls,
    },
    /// OTLP over gRPC to `endpoint`.
    OtlpGrpc {
        endpoint: String,
        headers: BTreeMap<String, String>,
        tls: Tls,
    },
}

/// PEM files for TLS, as absolute paths.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tls {
    /// A CA trusted beside the system's roots.
    pub ca_certificate: Option<PathBuf>,
    /// A client certificate and its key: both or neither.
    pub client_certificate: Option<PathBuf>,
    pub client_private_key: Option<PathBuf>,
}

/// What every record says of the program that sent it.
#[derive(Debug, Clone)]
pub struct Service {
    /// `service.name`: `wharf`, or a custom build's name.
    pub name: String,
    /// `service.version`.
    pub version: String,
}

/// A running export: what [`Telemetry::shutdown`] flushes.
#[derive(Debug)]
pub struct Telemetry {
    provider: SdkLoggerProvider,
    flush_timeout: Duration,
    queue: Arc<queue::Queue>,
    thread: JoinHandle<()>,
}

impl Telemetry {
    /// Starts exporting as `settings` say. Fails when the exporter cannot
    /// be built (a TLS file that does not read, an endpoint that is not a
    /// URL); nothing is sent before the first batch, so a collector that
    /// is down is no error here.
    pub fn start(
        settings: &Settings,
        service: &Service,
    ) -> Result<(ExportLayer, Telemetry), ExporterError> {
        let exporter = exporter::build(&settings.exporter, settings.flush_timeout)?;
        // Each export gives up after the flush timeout (the exporter's own).
        // Room for four batches before records are dropped.
        let batch = BatchConfigBuilder::default()
            .with_max_export_batch_size(MAX_BATCH)
            .with_max_queue_size(4 * MAX_BATCH)
            .build();
        let processor = BatchLogProcessor::builder(exporter)
            .with_batch_config(batch)
            .build();
        let resource = Resource::builder_empty()
            .with_service_name(service.name.clone())
            .with_attributes([
                KeyValue::new("service.version", service.version.clone()),
                KeyValue::new("deployment.environment", settings.environment.clone()),
            ])
            .build();
        let provider = SdkLoggerProvider::builder()
            .with_resource(resource)
            .with_log_processor(processor)
            .build();
        let queue = Arc::new(queue::Queue::default());
        let thread = queue
            .start(provider.logger("wharf"))
            .map_err(ExporterError::Thread)?;
        let layer = ExportLayer::new(Arc::clone(&queue));
        let telemetry = Telemetry {
            provider,
            flush_timeout: settings.flush_timeout,
            queue,
            thread,
        };
        Ok((layer, telemetry))
    }

    /// Sends what is queued and stops, within the flush timeout. A
    /// collector that is down or hangs costs at most that long.
    pub fn shutdown(self) {
        // What waits in the layer's queue goes to the batch processor first.
        self.queue.finish();
        let _ = self.thread.join();
        // Nothing to tell the user: the session is over, and the records
        // that could not be sent are gone either way.
        let _ = self.provider.shutdown_with_timeout(self.flush_timeout);
    }
}
