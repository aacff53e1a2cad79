//! The saved sessions as picker items: how long ago, the first prompt, the
//! directory.

use wharf_host::rollout::SessionSummary;

use crate::picker::{Picker, PickerItem};

/// A picker of `sessions` (newest first, as given), ages relative to
/// `now` (Unix seconds).
pub fn picker(sessions: &[SessionSummary], now: i64) -> Picker {
    let items = sessions
        .iter()
        .map(|session| {
            let age = unix_seconds(&session.meta.timestamp)
                .map_or_else(|| "?".to_owned(), |then| age(now - then));
            let prompt = session
                .first_prompt
                .as_deref()
                .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
                .unwrap_or_else(|| "(no prompt)".to_owned());
            PickerItem::new(
                format!("{age:<8} {prompt}"),
                session.meta.cwd.display().to_string(),
                false,
            )
        })
        .collect();
    let mut picker = Picker::new("Resume a session", items);
    picker.footer = "↑↓ select · Enter resume · Esc close".to_owned();
    picker
}

/// `seconds` as "just now", "5m ago", "3h ago", "2d ago".
pub fn age(seconds: i64) -> String {
    match seconds {
        ..60 => "just now".to_owned(),
        60..3600 => format!("{}m ago", seconds / 60),
        3600..86_400 => format!("{}h ago", seconds / 3600),
        _ => format!("{}d ago", seconds / 86_400),
    }
}

/// `2026-12-07T11:00:00Z` (UTC, optional fraction) as Unix seconds.
pub fn unix_seconds(timestamp: &str) -> Option<i64> {
    let (date, time) = timestamp.trim_end_matches('Z').split_once('T')?;
    let mut date_parts = date.splitn(3, '-').map(str::parse::<i64>);
    let (year, month, day) = (
        date_parts.next()?.ok()?,
        date_parts.next()?.ok()?,
        date_parts.next()?.ok()?,
    );
    let time = time.split('.').next()?;
    let mut time_parts = time.splitn(3, ':').map(str::parse::<i64>);
    let (hour, minute, second) = (
        time_parts.next()?.ok()?,
        time_parts.next()?.ok()?,
        time_parts.next()?.ok()?,
    );
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second)
}

/// Days since 1970-01-01 of a proleptic Gregorian date: counted in eras of
/// 400 years (146 097 days), each year starting in March so that the leap
/// day comes last.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_index = if month > 2 { month - 3 } else { month + 9 };
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Now, in Unix seconds.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests;
