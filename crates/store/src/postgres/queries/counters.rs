//! Rate-limit counters.

use super::*;

/// One hit in the fixed window `now` falls in; returns the hits so far and whether this hit
/// opened the window (then the key's older windows are dropped).
pub(crate) async fn count_hit<C: GenericClient>(
    c: &C,
    now: i64,
    key: &str,
    window_ms: i64,
) -> Result<(u32, bool)> {
    let window_ms = window_ms.max(1);
    let start = now / window_ms * window_ms;
    let hits: i32 = query_opt(
        c,
        "INSERT INTO rate_counters (key, window_start, hits) VALUES ($1, $2, 1)
         ON CONFLICT (key, window_start) DO UPDATE SET hits = rate_counters.hits + 1
         RETURNING hits",
        &[&key, &start],
    )
    .await?
    .ok_or_else(|| StoreError::Backend("the counter returned no row".into()))?
    .try_get(0)?;
    if hits == 1 {
        exec(
            c,
            "DELETE FROM rate_counters WHERE key = $1 AND window_start < $2",
            &[&key, &start],
        )
        .await?;
    }
    Ok((hits.max(0) as u32, hits == 1))
}

/// The hits of the fixed window that `now` falls in.
pub(crate) async fn hits<C: GenericClient>(
    c: &C,
    now: i64,
    key: &str,
    window_ms: i64,
) -> Result<u32> {
    let window_ms = window_ms.max(1);
    let start = now / window_ms * window_ms;
    let hits: Option<i32> = match query_opt(
        c,
        "SELECT hits FROM rate_counters WHERE key = $1 AND window_start = $2",
        &[&key, &start],
    )
    .await?
    {
        Some(row) => Some(row.try_get(0)?),
        None => None,
    };
    Ok(hits.unwrap_or(0).max(0) as u32)
}

/// Drops counters of windows that closed more than an hour ago.
pub(crate) async fn sweep_counters<C: GenericClient>(c: &C, now: i64) -> Result<()> {
    exec(
        c,
        "DELETE FROM rate_counters WHERE window_start < $1",
        &[&(now - 3_600_000)],
    )
    .await?;
    Ok(())
}
