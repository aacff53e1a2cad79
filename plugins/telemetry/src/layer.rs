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

use std::cell::RefCell;
use std::sync::Arc;
use std::time::SystemTime;

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::{Event, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

use crate::queue::{Buffers, Captured, Queue, Text, Value};

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
        let mut fields = Fields(Captured::empty(None));
        attrs.record(&mut fields);
        let span_fields = &fields.0;
        let inherited: Vec<_> = span_fields
            .fields
            .iter()
            .filter_map(|(name, value)| {
                let name = INHERITED.iter().find(|known| *known == name)?;
                let Value::Text(text) = value else {
                    return None;
                };
                Some((*name, Arc::from(span_fields.text(*text))))
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
        let spare = SPARE.with(|spare| {
            spare
                .try_borrow_mut()
                .ok()
                .and_then(|mut spare| spare.pop())
        });
        let mut fields = Fields(Captured::empty(spare));
        event.record(&mut fields);
        let Fields(mut captured) = fields;
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope {
                let extensions = span.extensions();
                let Some(Inherited(inherited)) = extensions.get::<Inherited>() else {
                    continue;
                };
                for (name, value) in inherited {
                    // The innermost span's value, unless the event has its own.
                    if !captured.fields.iter().any(|(field, _)| field == name) {
                        captured
                            .fields
                            .push((name, Value::Shared(Arc::clone(value))));
                    }
                }
            }
        }
        captured.time = time;
        captured.target = metadata.target();
        captured.level = *metadata.level();
        SPARE.with(|spare| match spare.try_borrow_mut() {
            Ok(mut spare) => self.queue.push(captured, &mut spare),
            // An event recorded while this thread captures another.
            Err(_) => self.queue.push(captured, &mut Vec::new()),
        });
    }
}

thread_local! {
    /// Buffers of emitted events, for this thread's next captures.
    static SPARE: RefCell<Vec<Buffers>> = const { RefCell::new(Vec::new()) };
}

/// An event's or a span's fields, as they are captured.
struct Fields(Captured);

impl Fields {
    fn push_text(&mut self, field: &Field, text: impl FnOnce(&mut String)) {
        let captured = &mut self.0;
        if captured.fields.capacity() == 0 {
            captured.fields.reserve(16);
            captured.text.reserve(128);
        }
        let start = captured.text.len();
        text(&mut captured.text);
        // Past 4 GiB of text an event's fields are not worth keeping.
        let (Ok(start), Ok(end)) = (u32::try_from(start), u32::try_from(captured.text.len()))
        else {
            captured.text.truncate(start);
            return;
        };
        let text = Text { start, end };
        if field.name() == "message" {
            captured.message = Some(text);
        } else {
            captured.fields.push((field.name(), Value::Text(text)));
        }
    }

    fn push(&mut self, field: &Field, value: Value) {
        let captured = &mut self.0;
        if captured.fields.capacity() == 0 {
            captured.fields.reserve(16);
        }
        captured.fields.push((field.name(), value));
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
