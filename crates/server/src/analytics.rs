//! The questions analytics answers, without HTTP: the time range of a summary, as the API and
//! the dashboard both take it. The figures themselves come from the store's rollups.

use serde::Deserialize;
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime};
use utoipa::IntoParams;

/// The default range: the last 30 days.
pub const DEFAULT_DAYS: i64 = 30;
const DAY_MS: i64 = 86_400_000;
/// The latest instant a bound may name: the end of the year 9999 (what RFC 3339 can write).
pub const LATEST_MS: i64 = 253_402_300_800_000;
/// The longest range the dashboard draws (its per-bucket chart reads the store once a bucket):
/// three years and a day.
pub const MAX_DASHBOARD_DAYS: i64 = 3 * 366;

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
        return Ok(if end { ms.saturating_add(DAY_MS) } else { ms });
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
        if !(0..=LATEST_MS).contains(&from) || !(0..=LATEST_MS).contains(&to) {
            return Err("from and to must lie between 1970 and the end of 9999".into());
        }
        if from >= to {
            return Err("from must be before to".into());
        }
        Ok((from, to))
    }

    /// As [`RangeIn::resolve`], at most `max_days` long.
    pub fn resolve_within(&self, now_ms: i64, max_days: i64) -> Result<(i64, i64), String> {
        let (from, to) = self.resolve(now_ms)?;
        if to - from > max_days.saturating_mul(DAY_MS) {
            return Err(format!("the range may span at most {max_days} days"));
        }
        Ok((from, to))
    }
}

fn given(v: Option<&str>) -> Option<&str> {
    v.filter(|s| !s.trim().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn range(from: &str, to: &str) -> RangeIn {
        RangeIn {
            from: Some(from.into()),
            to: Some(to.into()),
        }
    }

    #[test]
    fn bounds_parse_in_every_form() {
        assert_eq!(range("1000", "2000").resolve(0), Ok((1000, 2000)));
        assert_eq!(
            range("1970-01-01T00:00:01Z", "1970-01-02").resolve(0),
            Ok((1000, 86_400_000 * 2))
        );
        assert_eq!(
            RangeIn::default().resolve(31 * 86_400_000),
            Ok((86_400_000, 31 * 86_400_000))
        );
        assert!(range("yesterday", "").resolve(0).is_err());
        assert!(range("2000", "1000").resolve(0).is_err());
        assert!(range("99999999999999999999999", "").resolve(0).is_err());
    }

    #[test]
    fn bounds_beyond_the_calendar_and_overlong_dashboard_ranges_are_refused() {
        // The review's request: it used to loop without end on the dashboard.
        assert!(range("0", "9223372036854775807").resolve(0).is_err());
        assert!(range("0", "9999-12-31").resolve(0).is_ok());
        let three_years = range("2020-01-01", "2022-12-31");
        assert!(three_years.resolve_within(0, MAX_DASHBOARD_DAYS).is_ok());
        let err = range("2020-01-01", "2024-01-01")
            .resolve_within(0, MAX_DASHBOARD_DAYS)
            .expect_err("four years");
        assert!(err.contains("1098 days"), "{err}");
    }

    proptest! {
        /// Whatever a client sends, resolving answers (never panics), and what it accepts is a
        /// non-empty range inside the calendar.
        #[test]
        fn any_bounds_resolve_or_are_refused(
            from in "[0-9]{0,25}|[0-9]{4}-[0-9]{2}-[0-9]{2}|\\PC{0,30}",
            to in "[0-9]{0,25}|[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}:[0-9]{2}Z)?|\\PC{0,30}",
            now in 0i64..=LATEST_MS,
        ) {
            let r = RangeIn { from: Some(from), to: Some(to) };
            if let Ok((a, b)) = r.resolve(now) {
                prop_assert!(0 <= a && a < b && b <= LATEST_MS);
            }
            if let Ok((a, b)) = r.resolve_within(now, MAX_DASHBOARD_DAYS) {
                prop_assert!(b - a <= MAX_DASHBOARD_DAYS * DAY_MS);
            }
        }
    }
}
