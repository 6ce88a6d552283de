//! Rate-limit counters.

use super::*;

/// The hits of the fixed window that `now` falls in.
pub(crate) fn hits(c: &Connection, now: i64, key: &str, window_ms: i64) -> Result<u32> {
    let window_ms = window_ms.max(1);
    let start = now / window_ms * window_ms;
    Ok(
        c.prepare_cached("SELECT hits FROM rate_counters WHERE key = ?1 AND window_start = ?2")?
            .query_row(params![key, start], |r| r.get(0))
            .optional()?
            .unwrap_or(0),
    )
}

/// One hit in the fixed window that `now` falls in; old windows are swept as new ones open.
pub(crate) fn count_hit(c: &Connection, now: i64, key: &str, window_ms: i64) -> Result<u32> {
    let window_ms = window_ms.max(1);
    let start = now / window_ms * window_ms;
    let hits: u32 = c
        .prepare_cached(
            "INSERT INTO rate_counters (key, window_start, hits) VALUES (?1, ?2, 1)
             ON CONFLICT (key, window_start) DO UPDATE SET hits = hits + 1 RETURNING hits",
        )?
        .query_row(params![key, start], |r| r.get(0))?;
    if hits == 1 {
        exec(
            c,
            "DELETE FROM rate_counters WHERE key = ?1 AND window_start < ?2",
            params![key, start],
        )?;
    }
    Ok(hits)
}
