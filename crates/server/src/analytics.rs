//! The questions analytics answers, without HTTP: the time range of a summary, as the API and
//! the dashboard both take it. The figures themselves come from the store's rollups.

use serde::Deserialize;
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};
use utoipa::IntoParams;

/// The default range: the last 30 days.
pub const DEFAULT_DAYS: i64 = 30;
const DAY_MS: i64 = 86_400_000;

/// The bounds of a range, as given: RFC 3339, unix milliseconds, or a date (`YYYY-MM-DD`; as
/// `to`, the whole day is included).
#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct RangeIn {
    pub from: Option<String>,
    pub to: Option<String>,
}

fn parse_bound(name: &str, raw: &str, end: bool) -> Result<i64, String> {
    let raw = raw.trim();
    if !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit()) {
        return raw
            .parse::<i64>()
            .map_err(|_| format!("{name}: unix milliseconds out of range"));
    }
    if let Ok(t) = OffsetDateTime::parse(raw, &Rfc3339) {
        return i64::try_from(t.unix_timestamp_nanos() / 1_000_000)
            .map_err(|_| format!("{name}: out of range"));
    }
    let date_format = time::macros::format_description!("[year]-[month]-[day]");
    if let Ok(d) = Date::parse(raw, &date_format) {
        let ms = d.midnight().assume_utc().unix_timestamp() * 1000;
        return Ok(if end { ms + DAY_MS } else { ms });
    }
    Err(format!(
        "{name}: expected RFC 3339 (2026-01-31T00:00:00Z), a date (2026-01-31) or unix milliseconds"
    ))
}

impl RangeIn {
    /// `[from, to)` in unix ms; empty bounds take the defaults (to: now, from: 30 days before).
    pub fn resolve(&self, now_ms: i64) -> Result<(i64, i64), String> {
        let to = match given(self.to.as_deref()) {
            Some(raw) => parse_bound("to", raw, true)?,
            None => now_ms,
        };
        let from = match given(self.from.as_deref()) {
            Some(raw) => parse_bound("from", raw, false)?,
            None => to.saturating_sub(DEFAULT_DAYS * DAY_MS),
        };
        if from >= to {
            return Err("from must be before to".into());
        }
        Ok((from, to))
    }
}

fn given(v: Option<&str>) -> Option<&str> {
    v.filter(|s| !s.trim().is_empty())
}
