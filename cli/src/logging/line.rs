//! The log's lines, formatted straight into the writer's queue:
//!
//! ```text
//! 2026-12-08T00:01:02.123456Z  INFO turn{model="m" conversation.id="t"}:model_request: wharf.api_request: message attempt=1
//! ```
//!
//! time (UTC, microseconds), level, the spans the event happened in with
//! their fields, the target, the message, the fields. A text field is
//! quoted; control characters anywhere are escaped, so no value can start
//! a line of its own or reach a terminal that shows the log raw.
//!
//! Written by hand rather than with `tracing_subscriber::fmt`: a line is
//! made on the thread of a tool call, and this costs that thread a third
//! of what the general formatter does.

use std::cell::RefCell;
use std::fmt::{self, Write as _};
use std::time::SystemTime;

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;
use wharf_host::clock::{Fraction, rfc3339};

use super::writer::Queue;

/// The layer writing wharf's log through `queue`.
pub(super) struct Lines {
    queue: Queue,
}

impl Lines {
    pub(super) fn new(queue: Queue) -> Lines {
        Lines { queue }
    }
}

/// A span's fields as its events show them: `name="value" name=1`.
struct SpanFields(String);

impl<S> Layer<S> for Lines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut fields = Fields::new(String::new());
        attrs.record(&mut fields);
        span.extensions_mut().insert(SpanFields(fields.text));
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut extensions = span.extensions_mut();
        if let Some(SpanFields(text)) = extensions.get_mut::<SpanFields>() {
            let mut fields = Fields::new(std::mem::take(text));
            values.record(&mut fields);
            *text = fields.text;
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        // The line is made in this thread's buffer, kept from line to
        // line (a new one if an event is logged while a line is made).
        let mut line = Fields::new(
            LINE.with(|kept| {
                kept.try_borrow_mut()
                    .map(|mut kept| std::mem::take(&mut *kept))
            })
            .unwrap_or_default(),
        );
        line.text.clear();
        self.write(event, &ctx, &mut line);
        // A write that fails is the writer's to report; never stderr's.
        let _ = self.queue.append(line.text.as_bytes());
        if line.text.capacity() <= MAX_KEPT {
            LINE.with(|kept| {
                if let Ok(mut kept) = kept.try_borrow_mut() {
                    *kept = line.text;
                }
            });
        }
    }
}

/// The largest line buffer a thread keeps.
const MAX_KEPT: usize = 64 * 1024;

thread_local! {
    static LINE: RefCell<String> = const { RefCell::new(String::new()) };
}

impl Lines {
    fn write<S>(&self, event: &Event<'_>, ctx: &Context<'_, S>, line: &mut Fields)
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let metadata = event.metadata();
        line.text
            .push_str(rfc3339(SystemTime::now(), Fraction::Micros).as_str());
        line.text.push_str(level(*metadata.level()));
        let mut in_span = false;
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                in_span = true;
                line.text.push_str(span.name());
                let extensions = span.extensions();
                if let Some(SpanFields(fields)) = extensions.get::<SpanFields>()
                    && !fields.is_empty()
                {
                    line.text.push('{');
                    line.text.push_str(fields);
                    line.text.push('}');
                }
                line.text.push(':');
            }
        }
        if in_span {
            line.text.push(' ');
        }
        line.text.push_str(metadata.target());
        line.text.push(':');
        event.record(line);
        line.text.push('\n');
    }
}

/// What a line's level reads as, padded as `fmt`'s (two spaces before
/// `INFO`, the line's time before it).
fn level(level: Level) -> &'static str {
    match level {
        Level::TRACE => " TRACE ",
        Level::DEBUG => " DEBUG ",
        Level::INFO => "  INFO ",
        Level::WARN => "  WARN ",
        Level::ERROR => " ERROR ",
    }
}

/// Fields written as `name=value`, each after a space (the message first,
/// bare).
struct Fields {
    text: String,
}

impl Fields {
    fn new(text: String) -> Fields {
        Fields { text }
    }

    fn name(&mut self, field: &Field) {
        if !self.text.is_empty() {
            self.text.push(' ');
        }
        self.text.push_str(field.name());
        self.text.push('=');
    }
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.text.push(' ');
            push_escaped(&mut self.text, value);
            return;
        }
        self.name(field);
        push_quoted(&mut self.text, value);
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.name(field);
        self.text.push_str(if value { "true" } else { "false" });
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.name(field);
        if value < 0 {
            self.text.push('-');
        }
        push_decimal(&mut self.text, value.unsigned_abs());
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.name(field);
        push_decimal(&mut self.text, value);
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            self.text.push(' ');
        } else {
            self.name(field);
        }
        let _ = write!(Escaping(&mut self.text), "{value:?}");
    }
}

/// `value` in decimal (a call's line holds a few numbers: this spares each
/// the formatting machinery).
fn push_decimal(text: &mut String, mut value: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    text.extend(digits[at..].iter().map(|&digit| char::from(digit)));
}

/// `value` in double quotes, escaped as Rust's `Debug` escapes a string.
fn push_quoted(text: &mut String, value: &str) {
    if value
        .bytes()
        .all(|byte| (b' '..=b'~').contains(&byte) && byte != b'"' && byte != b'\\')
    {
        text.push('"');
        text.push_str(value);
        text.push('"');
    } else {
        let _ = write!(text, "{value:?}");
    }
}

/// `value` with its control characters escaped.
fn push_escaped(text: &mut String, value: &str) {
    let _ = Escaping(text).write_str(value);
}

/// Writes what it is given with control characters escaped (`\n`,
/// `\u{1b}`), the rest as it is.
struct Escaping<'a>(&'a mut String);

impl fmt::Write for Escaping<'_> {
    fn write_str(&mut self, part: &str) -> fmt::Result {
        let mut rest = part;
        while let Some(at) = rest.find(char::is_control) {
            self.0.push_str(&rest[..at]);
            let control = rest[at..].chars().next().unwrap_or_default();
            self.0.extend(control.escape_debug());
            rest = &rest[at + control.len_utf8()..];
        }
        self.0.push_str(rest);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_cannot_break_a_line_or_carry_escapes() {
        let mut text = String::new();
        push_quoted(&mut text, "plain value");
        push_quoted(&mut text, "a \"quote\"\n\x1b[2J");
        push_escaped(&mut text, " message\nnext\x07 é");
        for number in [0, 7, 10, 1_234_567_890, u64::MAX] {
            text.push(' ');
            push_decimal(&mut text, number);
        }
        assert_eq!(
            text,
            "\"plain value\"\"a \\\"quote\\\"\\n\\u{1b}[2J\" message\\nnext\\u{7} é 0 7 10 \
             1234567890 18446744073709551615"
        );
    }
}
