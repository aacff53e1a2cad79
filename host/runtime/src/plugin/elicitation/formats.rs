//! The string formats of an elicitation form, checked as far as a person
//! typing them needs: the plugin checks its own answer again.

/// Whether `text` is in `format` (formats wharf does not know pass).
pub(super) fn check(format: &str, text: &str) -> Result<(), String> {
    let valid = match format {
        "email" => is_email(text),
        "uri" => is_uri(text),
        "date" => is_date(text),
        "date-time" => is_date_time(text),
        _ => true,
    };
    match valid {
        true => Ok(()),
        false => Err(match format {
            "email" => "expected an email address (name@example.com)".to_owned(),
            "uri" => "expected a URI (https://example.com)".to_owned(),
            "date" => "expected a date (YYYY-MM-DD)".to_owned(),
            _ => "expected a date and time (YYYY-MM-DDThh:mm:ssZ)".to_owned(),
        }),
    }
}

fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !text.chars().any(char::is_whitespace)
}

/// A scheme (a letter, then letters, digits, `+`, `-`, `.`), a colon and
/// something after it.
fn is_uri(text: &str) -> bool {
    let Some((scheme, rest)) = text.split_once(':') else {
        return false;
    };
    let mut chars = scheme.chars();
    chars
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        && !rest.is_empty()
        && !text.chars().any(char::is_whitespace)
}

fn digits(text: &str) -> Option<u32> {
    (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

/// `YYYY-MM-DD`, a day that exists.
fn is_date(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    let [year, month, day] = parts.as_slice() else {
        return false;
    };
    if year.len() != 4 || month.len() != 2 || day.len() != 2 {
        return false;
    }
    let (Some(year), Some(month), Some(day)) = (digits(year), digits(month), digits(day)) else {
        return false;
    };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

/// `YYYY-MM-DDThh:mm:ss[.fraction](Z|±hh:mm)` (RFC 3339).
fn is_date_time(text: &str) -> bool {
    let Some((date, time)) = text.split_once(['T', 't']) else {
        return false;
    };
    if !is_date(date) {
        return false;
    }
    let (clock, offset) = if let Some(clock) = time.strip_suffix(['Z', 'z']) {
        (clock, None)
    } else if let Some(at) = time.rfind(['+', '-']) {
        (&time[..at], Some(&time[at + 1..]))
    } else {
        return false;
    };
    let clock = clock.split_once('.').map_or(clock, |(whole, fraction)| {
        if digits(fraction).is_some() {
            whole
        } else {
            ""
        }
    });
    let hms = |text: &str, parts: usize, limits: [u32; 3]| {
        let fields: Vec<&str> = text.split(':').collect();
        fields.len() == parts
            && fields
                .iter()
                .zip(limits)
                .all(|(field, limit)| field.len() == 2 && digits(field).is_some_and(|n| n <= limit))
    };
    hms(clock, 3, [23, 59, 60]) && offset.is_none_or(|offset| hms(offset, 2, [23, 59, 0]))
}
