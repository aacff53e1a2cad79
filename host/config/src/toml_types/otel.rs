//! `[otel]` as written (see `crate::otel` for what it means).

use std::collections::BTreeMap;
use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `[otel]` as written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OtelToml {
    /// The deployment environment every event names
    /// (`deployment.environment`, default `dev`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// Where events go: `"none"` (the default), `{ otlp-http = { … } }` or
    /// `{ otlp-grpc = { … } }`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exporter: Option<OtelExporterToml>,
    /// Send the text of your prompts in `wharf.user_prompt` (default
    /// `false`: the text is `[REDACTED]`, its length is sent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_user_prompt: Option<bool>,
    /// How long wharf waits at exit for the last events to be sent, and
    /// each export at most (default 2000).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flush_timeout_ms: Option<u64>,
}

/// `[otel] exporter`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum OtelExporterToml {
    /// Export nothing.
    None,
    /// OTLP over HTTP: `endpoint` is the full URL of the logs endpoint
    /// (e.g. `https://collector.example.com:4318/v1/logs`).
    OtlpHttp {
        endpoint: String,
        /// Headers sent with every export (e.g. an API key).
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        headers: BTreeMap<String, String>,
        /// `binary` (protobuf, the default) or `json`.
        #[serde(default)]
        protocol: OtlpHttpProtocol,
        #[serde(skip_serializing_if = "Option::is_none")]
        tls: Option<OtelTlsToml>,
    },
    /// OTLP over gRPC: `endpoint` is the collector's URL (e.g.
    /// `https://collector.example.com:4317`).
    OtlpGrpc {
        endpoint: String,
        /// Metadata sent with every export.
        #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
        headers: BTreeMap<String, String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        tls: Option<OtelTlsToml>,
    },
}

/// How OTLP over HTTP encodes what it sends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum OtlpHttpProtocol {
    #[default]
    Binary,
    Json,
}

/// TLS for an exporter whose endpoint is `https://`: a private CA, and a
/// client certificate for collectors that ask for one. Relative paths are
/// read from wharf's home.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct OtelTlsToml {
    /// A PEM file of the CA that signed the collector's certificate
    /// (trusted beside the system's roots).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_certificate: Option<PathBuf>,
    /// A PEM client certificate; needs `client-private-key`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_certificate: Option<PathBuf>,
    /// The PEM private key of `client-certificate`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_private_key: Option<PathBuf>,
}
