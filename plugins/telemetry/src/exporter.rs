//! The OTLP exporters `[otel] exporter` names: over HTTP (protobuf or
//! JSON) through a blocking client on the batch thread, and over gRPC
//! through tonic on a one-thread runtime of its own.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::{Exporter as Settings, Tls};
use opentelemetry_otlp::tonic_types::metadata::MetadataMap;
use opentelemetry_otlp::tonic_types::transport::{Certificate, ClientTlsConfig, Identity};
use opentelemetry_otlp::{
    LogExporter, Protocol, WithExportConfig as _, WithHttpConfig as _, WithTonicConfig as _,
};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::LogBatch;

/// Why an exporter could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ExporterError {
    #[error("[otel] {key}: cannot read {}: {source}", path.display())]
    ReadTls {
        key: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("[otel] tls: {0}")]
    Tls(String),
    #[error("[otel] exporter: {0}")]
    Build(String),
    #[error("[otel] cannot start the export thread: {0}")]
    Thread(std::io::Error),
}

/// Either exporter, as the batch processor sees it.
#[derive(Debug)]
pub(crate) enum Exporter {
    Http(LogExporter),
    Grpc(OnRuntime),
}

/// The gRPC exporter with the runtime its channel runs on; each export
/// is driven there, from the batch thread.
pub(crate) struct OnRuntime {
    exporter: LogExporter,
    runtime: tokio::runtime::Runtime,
}

impl fmt::Debug for OnRuntime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OnRuntime")
            .field("exporter", &self.exporter)
            .finish_non_exhaustive()
    }
}

impl opentelemetry_sdk::logs::LogExporter for Exporter {
    async fn export(&self, batch: LogBatch<'_>) -> OTelSdkResult {
        match self {
            Exporter::Http(exporter) => exporter.export(batch).await,
            // The batch thread is no runtime's: block here on tonic's.
            Exporter::Grpc(grpc) => grpc.runtime.block_on(grpc.exporter.export(batch)),
        }
    }

    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        match self {
            Exporter::Http(exporter) => exporter.shutdown_with_timeout(timeout),
            Exporter::Grpc(grpc) => grpc.exporter.shutdown_with_timeout(timeout),
        }
    }

    fn set_resource(&mut self, resource: &Resource) {
        match self {
            Exporter::Http(exporter) => exporter.set_resource(resource),
            Exporter::Grpc(grpc) => grpc.exporter.set_resource(resource),
        }
    }
}

/// Builds the exporter `settings` name; each export gives up after
/// `timeout`.
pub(crate) fn build(settings: &Settings, timeout: Duration) -> Result<Exporter, ExporterError> {
    match settings {
        Settings::OtlpHttp {
            endpoint,
            headers,
            json,
            tls,
        } => {
            let client = http_client(tls, timeout)?;
            let protocol = if *json {
                Protocol::HttpJson
            } else {
                Protocol::HttpBinary
            };
            LogExporter::builder()
                .with_http()
                .with_endpoint(endpoint.clone())
                .with_protocol(protocol)
                .with_timeout(timeout)
                .with_headers(headers.clone().into_iter().collect::<HashMap<_, _>>())
                .with_http_client(client)
                .build()
                .map(Exporter::Http)
                .map_err(|err| ExporterError::Build(err.to_string()))
        }
        Settings::OtlpGrpc {
            endpoint,
            headers,
            tls,
        } => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_name("wharf-otlp-grpc")
                .enable_all()
                .build()
                .map_err(|err| ExporterError::Build(format!("cannot start its runtime: {err}")))?;
            let mut metadata = MetadataMap::new();
            for (name, value) in headers {
                let key = name
                    .parse::<tonic::metadata::MetadataKey<_>>()
                    .map_err(|_| {
                        ExporterError::Build(format!("header `{name}` is not a valid name"))
                    })?;
                let value = value.parse().map_err(|_| {
                    ExporterError::Build(format!("header `{name}`: not a valid value"))
                })?;
                metadata.insert(key, value);
            }
            let mut builder = LogExporter::builder()
                .with_tonic()
                .with_endpoint(endpoint.clone())
                .with_protocol(Protocol::Grpc)
                .with_timeout(timeout)
                .with_metadata(metadata);
            if endpoint.starts_with("https://") {
                builder = builder.with_tls_config(tonic_tls(tls)?);
            }
            // The channel is made (lazily) on the runtime it will run on.
            let exporter = {
                let _entered = runtime.enter();
                builder.build()
            }
            .map_err(|err| ExporterError::Build(err.to_string()))?;
            Ok(Exporter::Grpc(OnRuntime { exporter, runtime }))
        }
    }
}

fn read(key: &'static str, path: &Path) -> Result<Vec<u8>, ExporterError> {
    std::fs::read(path).map_err(|source| ExporterError::ReadTls {
        key,
        path: path.to_path_buf(),
        source,
    })
}

/// A client certificate and its private key, both PEM.
struct ClientIdentity {
    certificate: Vec<u8>,
    key: Vec<u8>,
}

/// The client certificate and key, both or neither.
fn client_identity(tls: &Tls) -> Result<Option<ClientIdentity>, ExporterError> {
    match (&tls.client_certificate, &tls.client_private_key) {
        (None, None) => Ok(None),
        (Some(certificate), Some(key)) => Ok(Some(ClientIdentity {
            certificate: read("client-certificate", certificate)?,
            key: read("client-private-key", key)?,
        })),
        _ => Err(ExporterError::Tls(
            "`client-certificate` and `client-private-key` go together".to_owned(),
        )),
    }
}

/// The blocking HTTP client, with `tls`'s CA and identity. Built on a
/// thread of its own: reqwest's blocking client must not be made inside
/// an async runtime.
fn http_client(tls: &Tls, timeout: Duration) -> Result<reqwest::blocking::Client, ExporterError> {
    let ca = tls
        .ca_certificate
        .as_deref()
        .map(|path| read("ca-certificate", path))
        .transpose()?;
    let identity = client_identity(tls)?;
    let build = move || -> Result<reqwest::blocking::Client, ExporterError> {
        let mut builder = reqwest::blocking::Client::builder().timeout(timeout);
        if let Some(ca) = ca {
            let certificate = reqwest::Certificate::from_pem(&ca)
                .map_err(|err| ExporterError::Tls(format!("ca-certificate: {err}")))?;
            builder = builder.add_root_certificate(certificate);
        }
        if let Some(ClientIdentity { certificate, key }) = identity {
            let mut pem = certificate;
            pem.push(b'\n');
            pem.extend_from_slice(&key);
            let identity = reqwest::Identity::from_pem(&pem)
                .map_err(|err| ExporterError::Tls(format!("client certificate: {err}")))?;
            builder = builder.identity(identity);
        }
        builder
            .build()
            .map_err(|err| ExporterError::Build(format!("HTTP client: {err}")))
    };
    std::thread::Builder::new()
        .name("wharf-otlp-http".to_owned())
        .spawn(build)
        .map_err(|err| ExporterError::Build(format!("HTTP client: {err}")))?
        .join()
        .map_err(|_| ExporterError::Build("HTTP client: its thread panicked".to_owned()))?
}

fn tonic_tls(tls: &Tls) -> Result<ClientTlsConfig, ExporterError> {
    let mut config = ClientTlsConfig::new().with_enabled_roots();
    if let Some(ca) = &tls.ca_certificate {
        config = config.ca_certificate(Certificate::from_pem(read("ca-certificate", ca)?));
    }
    if let Some(ClientIdentity { certificate, key }) = client_identity(tls)? {
        config = config.identity(Identity::from_pem(certificate, key));
    }
    Ok(config)
}
