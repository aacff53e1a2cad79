//! Times as the logs write them: RFC 3339, UTC
//! (`2026-12-08T00:01:02.123456Z`). A log line is made on the thread of a
//! tool call, so the date and time of day are made once a second per
//! thread and only the fraction per line.

use std::cell::Cell;
use std::time::{SystemTime, UNIX_EPOCH};

/// How many digits of the second a time is written with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fraction {
    Millis,
    Micros,
}

/// A time as text (at most `YYYY-MM-DDTHH:MM:SS.ffffffZ`).
pub struct Rfc3339 {
    bytes: [u8; 27],
    len: usize,
}

impl Rfc3339 {
    pub fn as_str(&self) -> &str {
        // Only ASCII digits and separators are ever written.
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or_default()
    }
}

/// The second the last time of this thread was in, and its text up to the
/// fraction (`2026-12-08T00:01:02.`).
#[derive(Clone, Copy)]
struct Second {
    unix: u64,
    text: [u8; 20],
}

thread_local! {
    static SECOND: Cell<Second> = const { Cell::new(Second { unix: u64::MAX, text: [0; 20] }) };
}

/// `time` in RFC 3339, UTC, with `fraction`'s digits.
pub fn rfc3339(time: SystemTime, fraction: Fraction) -> Rfc3339 {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let unix = since.as_secs();
    let mut second = SECOND.get();
    if second.unix != unix {
        second = Second {
            unix,
            text: date_and_time(unix),
        };
        SECOND.set(second);
    }
    let mut bytes = [0; 27];
    bytes[..20].copy_from_slice(&second.text);
    let (value, digits) = match fraction {
        Fraction::Millis => (since.subsec_millis(), 3),
        Fraction::Micros => (since.subsec_micros(), 6),
    };
    put_digits(&mut bytes[20..20 + digits], value);
    bytes[20 + digits] = b'Z';
    Rfc3339 {
        bytes,
        len: 21 + digits,
    }
}

/// `YYYY-MM-DDTHH:MM:SS.` of the second `unix`.
fn date_and_time(unix: u64) -> [u8; 20] {
    let ((year, month, day), (hour, minute, second)) = crate::rollout::utc(unix);
    let mut text = *b"0000-00-00T00:00:00.";
    put_digits(&mut text[0..4], u32::try_from(year).unwrap_or(0).min(9999));
    put_digits(&mut text[5..7], month);
    put_digits(&mut text[8..10], day);
    put_digits(&mut text[11..13], hour);
    put_digits(&mut text[14..16], minute);
    put_digits(&mut text[17..19], second);
    text
}

/// Writes `value`'s last `digits.len()` decimal digits, zero-padded.
fn put_digits(digits: &mut [u8], mut value: u32) {
    for digit in digits.iter_mut().rev() {
        *digit = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn times_are_utc_with_the_digits_asked() {
        let cases = [
            (0, 0, "1970-01-01T00:00:00.000000Z"),
            (951_782_400, 7, "2000-02-29T00:00:00.000007Z"),
            (1_709_251_199, 999_999, "2024-02-29T23:59:59.999999Z"),
            (1_796_688_062, 123_456, "2026-12-08T00:01:02.123456Z"),
            (4_107_542_400, 0, "2100-03-01T00:00:00.000000Z"),
        ];
        for (seconds, micros, expected) in cases {
            let time = UNIX_EPOCH + Duration::new(seconds, micros * 1000);
            assert_eq!(rfc3339(time, Fraction::Micros).as_str(), expected);
            // Made again from the second kept.
            let millis = format!("{}Z", &expected[..23]);
            assert_eq!(rfc3339(time, Fraction::Millis).as_str(), millis);
            assert_eq!(rfc3339(time, Fraction::Micros).as_str(), expected);
        }
    }
}
