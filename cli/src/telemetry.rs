//! The `telemetry` capability in this binary: where `[otel]` names an
//! exporter and the `telemetry` feature is on (or the requirements force
//! the `[otel]`), wharf's events are exported from the start of the
//! command to its end (`wharf_plugin_telemetry`).

use tracing_subscriber::Layer as _;
use tracing_subscriber::filter::filter_fn;
use wharf_config::otel::{OtelConfig, OtelExporter, OtelTls, OtlpHttpProtocol};
use wharf_config::{Config, ConfigOptions};
use wharf_plugin_telemetry::{
    ExportLayer, Exporter as Collector, Service, Settings, Telemetry, Tls,
};

use crate::logging::{Exporter, Shutdown};
use crate::terminal::safe;

/// The feature key that turns the export off.
const FEATURE: &str = "telemetry";

/// The exporter the configuration of `options` asks for, if any. A
/// configuration that does not load exports nothing here (the command
/// reports why); an exporter that cannot be built is a warning.
pub fn exporter(options: &ConfigOptions) -> Option<(Exporter, Shutdown)> {
    let registry = crate::first_party::feature_registry().ok()?;
    // Installed plugins' feature keys are not known yet: only this one's
    // flags matter here.
    let mut options = options.clone();
    options.enable.retain(|key| key == FEATURE);
    options.disable.retain(|key| key == FEATURE);
    let config = Config::load(&options, &registry).ok()?;
    if !config.otel.exports() {
        return None;
    }
    if !config.otel.forced && !config.features.enabled(FEATURE) {
        return None;
    }
    let build = crate::build_info::current();
    let service = Service {
        name: build.name.to_owned(),
        version: build.version.to_owned(),
    };
    match Telemetry::start(&settings(&config.otel)?, &service) {
        Ok((layer, telemetry)) => {
            let layer = layer.with_filter(filter_fn(ExportLayer::exports));
            Some((Box::new(layer), Box::new(move || telemetry.shutdown())))
        }
        Err(err) => {
            eprintln!(
                "warning: {}; nothing is exported this run",
                safe(&err.to_string())
            );
            None
        }
    }
}

/// The plugin's settings from the effective `[otel]`; `None` for `none`.
fn settings(otel: &OtelConfig) -> Option<Settings> {
    let tls = |tls: &OtelTls| Tls {
        ca_certificate: tls.ca_certificate.clone(),
        client_certificate: tls.client_certificate.clone(),
        client_private_key: tls.client_private_key.clone(),
    };
    let exporter = match &otel.exporter {
        OtelExporter::None => return None,
        OtelExporter::OtlpHttp {
            endpoint,
            headers,
            protocol,
            tls: files,
        } => Collector::OtlpHttp {
            endpoint: endpoint.clone(),
            headers: headers.clone(),
            json: *protocol == OtlpHttpProtocol::Json,
            tls: tls(files),
        },
        OtelExporter::OtlpGrpc {
            endpoint,
            headers,
            tls: files,
        } => Collector::OtlpGrpc {
            endpoint: endpoint.clone(),
            headers: headers.clone(),
            tls: tls(files),
        },
    };
    Some(Settings {
        environment: otel.environment.clone(),
        exporter,
        flush_timeout: otel.flush_timeout,
    })
}
