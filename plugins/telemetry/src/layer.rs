//! The `tracing` layer that turns wharf's events into OpenTelemetry log
//! records: the event's target (`wharf.tool_result`) is the record's event
//! name, its message the body, its fields the attributes, with the
//! `conversation.id` and `model` of the spans it happened in (the app's
//! version is the resource's `service.version`). Events of other targets
//! (the libraries') are not exported.

use std::time::SystemTime;

use opentelemetry::logs::{AnyValue, LogRecord as _, Logger as _, Severity};
use opentelemetry_sdk::logs::{SdkLogRecord, SdkLogger};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

/// The prefix of every exported event's target.
const PREFIX: &str = "wharf.";

/// Span fields every event inside the span carries.
const INHERITED: &[&str] = &["conversation.id", "model"];

/// Exports the `wharf.*` events; see the module's documentation.
#[derive(Debug)]
pub struct ExportLayer {
    logger: SdkLogger,
}

impl ExportLayer {
    pub(crate) fn new(logger: SdkLogger) -> ExportLayer {
        ExportLayer { logger }
    }

    /// Whether events of `metadata` are exported.
    pub fn exports(metadata: &Metadata<'_>) -> bool {
        metadata.target().starts_with(PREFIX)
    }
}

/// The fields of a span that its events inherit.
struct Inherited(Vec<(&'static str, AnyValue)>);

impl<S> Layer<S> for ExportLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if !Self::exports(attrs.metadata()) {
            return;
        }
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        let inherited: Vec<_> = fields
            .attributes
            .into_iter()
            .filter_map(|(name, value)| {
                let name = INHERITED.iter().find(|known| **known == name)?;
                Some((*name, value))
            })
            .collect();
        if let Some(span) = ctx.span(id)
            && !inherited.is_empty()
        {
            span.extensions_mut().insert(Inherited(inherited));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let metadata = event.metadata();
        if !Self::exports(metadata) {
            return;
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        let mut record: SdkLogRecord = self.logger.create_log_record();
        record.set_timestamp(SystemTime::now());
        // The event name says what the target would (records without a
        // target share one scope, so an export groups them cheaply).
        record.set_event_name(metadata.target());
        let (number, text) = severity(*metadata.level());
        record.set_severity_number(number);
        record.set_severity_text(text);
        if let Some(message) = fields.message {
            record.set_body(AnyValue::from(message));
        }
        let has = |name: &str| fields.attributes.iter().any(|(field, _)| *field == name);
        if let Some(scope) = ctx.event_scope(event) {
            let mut seen: Vec<&'static str> = Vec::new();
            for span in scope {
                let extensions = span.extensions();
                let Some(Inherited(inherited)) = extensions.get::<Inherited>() else {
                    continue;
                };
                for (name, value) in inherited {
                    // The innermost span's value, unless the event has its own.
                    if !has(name) && !seen.contains(name) {
                        seen.push(name);
                        record.add_attribute(*name, value.clone());
                    }
                }
            }
        }
        for (name, value) in fields.attributes {
            record.add_attribute(name, value);
        }
        self.logger.emit(record);
    }
}

fn severity(level: Level) -> (Severity, &'static str) {
    match level {
        Level::TRACE => (Severity::Trace, "TRACE"),
        Level::DEBUG => (Severity::Debug, "DEBUG"),
        Level::INFO => (Severity::Info, "INFO"),
        Level::WARN => (Severity::Warn, "WARN"),
        Level::ERROR => (Severity::Error, "ERROR"),
    }
}

/// An event's or a span's fields, as record attributes.
#[derive(Default)]
struct Fields {
    message: Option<String>,
    attributes: Vec<(&'static str, AnyValue)>,
}

impl Fields {
    fn push(&mut self, field: &Field, value: AnyValue) {
        self.attributes.push((field.name(), value));
    }
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = Some(value.to_owned());
        } else {
            self.push(field, AnyValue::from(value.to_owned()));
        }
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.push(field, AnyValue::from(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.push(field, AnyValue::from(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        // OTLP integers are signed; a count past i64 is a string.
        let value =
            i64::try_from(value).map_or_else(|_| AnyValue::from(value.to_string()), AnyValue::from);
        self.push(field, value);
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.push(field, AnyValue::from(value));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let text = format!("{value:?}");
        if field.name() == "message" {
            self.message = Some(text);
        } else {
            self.push(field, AnyValue::from(text));
        }
    }
}
