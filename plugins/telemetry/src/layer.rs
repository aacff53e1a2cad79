//! The `tracing` layer that turns wharf's events into OpenTelemetry log
//! records: the event's target (`wharf.tool_result`) is the record's event
//! name, its message the body, its fields the attributes, with the
//! `conversation.id` and `model` of the spans it happened in (the app's
//! version is the resource's `service.version`). Events of other targets
//! (the libraries') are not exported.
//!
//! A call thread only copies the event's fields ([`Captured`]) into a
//! queue ([`queue`]); the `wharf-otel` thread makes the records and hands
//! them to the SDK's batch processor.

use std::sync::Arc;
use std::time::SystemTime;

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

use crate::queue::{Captured, Queue, Value};

/// The prefix of every exported event's target.
const PREFIX: &str = "wharf.";

/// Span fields every event inside the span carries.
const INHERITED: &[&str] = &["conversation.id", "model"];

/// Exports the `wharf.*` events; see the module's documentation.
#[derive(Debug)]
pub struct ExportLayer {
    queue: Arc<Queue>,
}

impl ExportLayer {
    pub(crate) fn new(queue: Arc<Queue>) -> ExportLayer {
        ExportLayer { queue }
    }

    /// Whether events of `metadata` are exported.
    pub fn exports(metadata: &Metadata<'_>) -> bool {
        metadata.target().starts_with(PREFIX)
    }
}

/// The fields of a span that its events inherit.
struct Inherited(Vec<(&'static str, Arc<str>)>);

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
            .fields
            .iter()
            .filter_map(|(name, value)| {
                let name = INHERITED.iter().find(|known| *known == name)?;
                let text = match value {
                    Value::Text { start, end } => &fields.text[*start as usize..*end as usize],
                    _ => return None,
                };
                Some((*name, Arc::from(text)))
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
        let time = SystemTime::now();
        let mut fields = Fields::default();
        event.record(&mut fields);
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope {
                let extensions = span.extensions();
                let Some(Inherited(inherited)) = extensions.get::<Inherited>() else {
                    continue;
                };
                for (name, value) in inherited {
                    // The innermost span's value, unless the event has its own.
                    if !fields.fields.iter().any(|(field, _)| field == name) {
                        fields.fields.push((name, Value::Shared(Arc::clone(value))));
                    }
                }
            }
        }
        self.queue.push(Captured {
            time,
            target: metadata.target(),
            level: *metadata.level(),
            message: fields.message,
            fields: fields.fields,
            text: fields.text,
        });
    }
}

/// An event's or a span's fields, as they are captured.
#[derive(Default)]
struct Fields {
    message: Option<String>,
    fields: Vec<(&'static str, Value)>,
    text: String,
}

impl Fields {
    fn push_text(&mut self, field: &Field, text: impl FnOnce(&mut String)) {
        if field.name() == "message" {
            let mut message = String::new();
            text(&mut message);
            self.message = Some(message);
            return;
        }
        if self.fields.capacity() == 0 {
            self.fields.reserve(16);
            self.text.reserve(128);
        }
        let start = self.text.len();
        text(&mut self.text);
        // Past 4 GiB of text an event's fields are not worth keeping.
        let (Ok(start), Ok(end)) = (u32::try_from(start), u32::try_from(self.text.len())) else {
            self.text.truncate(start);
            return;
        };
        self.fields.push((field.name(), Value::Text { start, end }));
    }

    fn push(&mut self, field: &Field, value: Value) {
        if self.fields.capacity() == 0 {
            self.fields.reserve(16);
        }
        self.fields.push((field.name(), value));
    }
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.push_text(field, |text| text.push_str(value));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.push(field, Value::Bool(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.push(field, Value::I64(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        // OTLP integers are signed; a count past i64 is text.
        match i64::try_from(value) {
            Ok(value) => self.push(field, Value::I64(value)),
            Err(_) => self.push_text(field, |text| text.push_str(&value.to_string())),
        }
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.push(field, Value::F64(value));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        use std::fmt::Write as _;
        self.push_text(field, |text| {
            let _ = write!(text, "{value:?}");
        });
    }
}
