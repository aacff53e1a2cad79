//! The `telemetry` capability in this binary: where `[otel]` names an
//! exporter and the `telemetry` feature is on (or the requirements force
//! the `[otel]`), wharf's events are exported from the start of the
//! command to its end (`wharf_plugin_telemetry`).

use tracing_subscriber::Layer as _;
use tracing_subscriber::filter::filter_fn;
use wharf_config::{Config, ConfigOptions};
use wharf_plugin_telemetry::{ExportLayer, Service, Telemetry};

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
    match Telemetry::start(&config.otel, &service) {
        Ok(Some((layer, telemetry))) => {
            let layer = layer.with_filter(filter_fn(ExportLayer::exports));
            Some((Box::new(layer), Box::new(move || telemetry.shutdown())))
        }
        Ok(None) => None,
        Err(err) => {
            eprintln!(
                "warning: {}; nothing is exported this run",
                safe(&err.to_string())
            );
            None
        }
    }
}
