//! `[otel]`: where the `telemetry` capability exports wharf's events.
//! Nothing leaves the machine unless a layer names an exporter: the
//! default is `"none"`. A project file cannot set it (a repository must
//! not send the session's events to an address of its choosing), and a
//! forced `[otel]` in the requirements replaces whatever the layers say.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::layer::{FileLayer, Layered};
pub use crate::toml_types::otel::{OtelExporterToml, OtelTlsToml, OtelToml, OtlpHttpProtocol};
use crate::{Project, Source};

/// How long wharf waits at exit for the last events to reach the
/// collector, unless `[otel] flush_timeout_ms` says.
pub const DEFAULT_FLUSH_TIMEOUT: Duration = Duration::from_secs(2);

/// The effective `[otel]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtelConfig {
    pub environment: String,
    pub exporter: OtelExporter,
    pub log_user_prompt: bool,
    pub flush_timeout: Duration,
    /// The requirements forced this `[otel]` (the `telemetry` feature
    /// cannot turn it off then).
    pub forced: bool,
}

/// Where events go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OtelExporter {
    None,
    OtlpHttp {
        endpoint: String,
        headers: BTreeMap<String, String>,
        protocol: OtlpHttpProtocol,
        tls: OtelTls,
    },
    OtlpGrpc {
        endpoint: String,
        headers: BTreeMap<String, String>,
        tls: OtelTls,
    },
}

/// TLS files, as absolute paths.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OtelTls {
    pub ca_certificate: Option<PathBuf>,
    pub client_certificate: Option<PathBuf>,
    pub client_private_key: Option<PathBuf>,
}

impl Default for OtelConfig {
    fn default() -> OtelConfig {
        OtelConfig {
            environment: "dev".to_owned(),
            exporter: OtelExporter::None,
            log_user_prompt: false,
            flush_timeout: DEFAULT_FLUSH_TIMEOUT,
            forced: false,
        }
    }
}

impl OtelConfig {
    /// `[otel]` from `otel`, the merged layers; the keys a project file set
    /// are ignored with a warning.
    pub(crate) fn resolve(
        otel: Option<&OtelToml>,
        effective: &Layered,
        project: &Project,
        wharf_home: &Path,
        warnings: &mut Vec<String>,
    ) -> OtelConfig {
        let Some(otel) = otel else {
            return OtelConfig::default();
        };
        let project_file = project.file.as_ref().map(|file| file.path.as_path());
        let mut forced = false;
        let mut from_project = Vec::new();
        for (key, source) in &effective.sources {
            if key.first().map(String::as_str) != Some("otel") {
                continue;
            }
            match source {
                Source::Requirements(_) => forced = true,
                Source::Project(at) => from_project.push(at.to_string()),
                Source::Profile { at, .. } if Some(at.path.as_path()) == project_file => {
                    from_project.push(at.to_string());
                }
                _ => {}
            }
        }
        if !from_project.is_empty() && !forced {
            warnings.push(format!(
                "{}: `[otel]`: a project file cannot choose where telemetry goes (ignored; set \
                 it in your own config.toml)",
                from_project.join(", ")
            ));
            return OtelConfig::default();
        }
        let tls = |tls: &Option<OtelTlsToml>| {
            let tls = tls.clone().unwrap_or_default();
            let absolute = |path: Option<PathBuf>| path.map(|path| wharf_home.join(path));
            OtelTls {
                ca_certificate: absolute(tls.ca_certificate),
                client_certificate: absolute(tls.client_certificate),
                client_private_key: absolute(tls.client_private_key),
            }
        };
        let exporter = match &otel.exporter {
            None | Some(OtelExporterToml::None) => OtelExporter::None,
            Some(OtelExporterToml::OtlpHttp {
                endpoint,
                headers,
                protocol,
                tls: files,
            }) => OtelExporter::OtlpHttp {
                endpoint: endpoint.clone(),
                headers: headers.clone(),
                protocol: *protocol,
                tls: tls(files),
            },
            Some(OtelExporterToml::OtlpGrpc {
                endpoint,
                headers,
                tls: files,
            }) => OtelExporter::OtlpGrpc {
                endpoint: endpoint.clone(),
                headers: headers.clone(),
                tls: tls(files),
            },
        };
        OtelConfig {
            environment: otel.environment.clone().unwrap_or_else(|| "dev".to_owned()),
            exporter,
            log_user_prompt: otel.log_user_prompt.unwrap_or(false),
            flush_timeout: otel
                .flush_timeout_ms
                .map_or(DEFAULT_FLUSH_TIMEOUT, Duration::from_millis),
            forced,
        }
    }

    /// Whether events leave the machine.
    pub fn exports(&self) -> bool {
        self.exporter != OtelExporter::None
    }
}

impl OtelExporter {
    /// `otlp-http (binary) to URL`, for `config show` and warnings.
    pub fn describe(&self) -> String {
        match self {
            OtelExporter::None => "none".to_owned(),
            OtelExporter::OtlpHttp {
                endpoint, protocol, ..
            } => {
                let protocol = match protocol {
                    OtlpHttpProtocol::Binary => "binary",
                    OtlpHttpProtocol::Json => "json",
                };
                format!("otlp-http ({protocol}) to {endpoint}")
            }
            OtelExporter::OtlpGrpc { endpoint, .. } => format!("otlp-grpc to {endpoint}"),
        }
    }
}

/// A project file's own `[otel]`: ignored, with a warning naming where.
pub(crate) fn drop_project_otel(file: &mut FileLayer) {
    if file.layered.remove("otel").is_some() {
        let key = vec!["otel".to_owned()];
        let at = file
            .key_locations
            .get(&key)
            .map_or_else(String::new, |at| format!("{at}: "));
        file.warnings.push(format!(
            "{at}`[otel]`: a project file cannot choose where telemetry goes (ignored; set it in \
             your own config.toml)"
        ));
    }
}
