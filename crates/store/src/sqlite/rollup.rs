//! The SQLite side of the analytics rollups (see `crate::rollup`): conversation snapshots, the
//! upserts of a write, the summary read from rollup rows plus the exact edges, the queue
//! series, and the rebuild.

use desk::ConversationId;
use rusqlite::{params, Connection};

use crate::rollup::{
    self, hour, queue_instants, queue_series, AgentsAndLoad, EventRow, Parts, Pending, Plan, Raw,
    Snapshot, Tally,
};
use crate::{QueuePoint, Result, StoreError, Summary};

/// The migration that introduced the rollups; the part after its `-- BACKFILL` line computes
/// them from the log.
pub(super) const MIGRATION: &str = include_str!("migrations/0006_rollups.sql");
const TABLES: [&str; 6] = [
    "rollup_segments",
    "rollup_reasons",
    "rollup_agents",
    "rollup_waits",
    "rollup_customer_hours",
    "rollup_queue",
];

/// Recomputes every rollup from the log, in the caller's transaction.
pub(crate) fn rebuild(c: &Connection) -> Result<()> {
    for t in TABLES {
        c.execute_batch(&format!("DELETE FROM {t}"))?;
    }
    c.execute_batch(rollup::backfill_of(MIGRATION)?)?;
    Ok(())
}

/// Whether the conversation already has a customer message in the hour of `at` (then another
/// one changes no rollup).
pub(crate) fn customer_wrote_in_hour(c: &Connection, id: &ConversationId, at: i64) -> Result<bool> {
    let h = hour(at);
    Ok(c.prepare_cached(
        // `+` keeps the planner on the conversation's index: by author and time it would scan
        // every customer message of the hour.
        "SELECT EXISTS (SELECT 1 FROM messages WHERE conversation_id = ?1 AND +author = 'customer'
             AND +created_at >= ?2 AND +created_at < ?3)",
    )?
    .query_row(params![id.as_str(), h, h + rollup::HOUR_MS], |r| r.get(0))?)
}

/// The snapshot query: events that matter (assignment-like ones reduced to their agent),
/// customer and agent message times, the e-mail key, of the conversations `{ids}` selects.
fn snapshot_sql(ids: &str) -> String {
    format!(
        "SELECT 0, conversation_id, id, kind,
             CASE WHEN kind IN ('assigned', 'reassigned', 'transferred')
                 THEN json_object('agent', json_extract(data, '$.agent'), 'to', json_extract(data, '$.to'))
                 ELSE data END, created_at
         FROM events WHERE conversation_id {ids}
             AND kind IN ('handoff', 'rating', 'assigned', 'reassigned', 'transferred', 'state')
         UNION ALL SELECT 1, conversation_id, author = 'agent', NULL, NULL, created_at FROM messages
             WHERE conversation_id {ids} AND author IN ('customer', 'agent')
         UNION ALL SELECT 2, id, 0, NULLIF(lower(trim(customer_email)), ''), NULL, 0
             FROM conversations WHERE id {ids}"
    )
}

fn raw_rows(
    rows: &mut rusqlite::Rows<'_>,
    out: &mut std::collections::BTreeMap<String, Raw>,
) -> Result<()> {
    while let Some(r) = rows.next()? {
        let raw = out.entry(r.get(1)?).or_default();
        match r.get::<_, i64>(0)? {
            0 => {
                let data: String = r.get(4)?;
                raw.events.push(EventRow {
                    id: r.get(2)?,
                    kind: r.get(3)?,
                    data: serde_json::from_str(&data).unwrap_or(serde_json::Value::Null),
                    at: r.get(5)?,
                });
            }
            1 => raw.messages.push((r.get::<_, i64>(2)? != 0, r.get(5)?)),
            _ => raw.key = r.get(3)?,
        }
    }
    Ok(())
}

/// The conversation as the rollups see it now.
pub(crate) fn snapshot(c: &Connection, id: &ConversationId) -> Result<Snapshot> {
    let mut stmt = c.prepare_cached(&snapshot_sql("= ?1"))?;
    let mut out = std::collections::BTreeMap::new();
    raw_rows(&mut stmt.query([id.as_str()])?, &mut out)?;
    Ok(out.into_values().next().unwrap_or_default().snapshot())
}

/// Snapshots of many conversations at once.
fn snapshots(c: &Connection, ids: &[String]) -> Result<Vec<Snapshot>> {
    let json = serde_json::to_string(ids).map_err(|e| StoreError::Backend(e.to_string()))?;
    let mut stmt = c.prepare_cached(&snapshot_sql("IN (SELECT value FROM json_each(?1))"))?;
    let mut out = std::collections::BTreeMap::new();
    raw_rows(&mut stmt.query([json])?, &mut out)?;
    Ok(out.into_values().map(Raw::snapshot).collect())
}

/// After a write to the conversation: its rollup changes since `before`, and any new hour of its
/// customer, into `pending`.
pub(crate) fn record(
    c: &Connection,
    pending: &mut Pending,
    id: &ConversationId,
    before: &Snapshot,
) -> Result<()> {
    let after = snapshot(c, id)?;
    pending.change(before, &after);
    if let Some(key) = &after.key {
        for &h in after.hours.iter().filter(|h| !before.hours.contains(h)) {
            let new = c
                .prepare_cached(
                    "INSERT INTO rollup_customer_hours (key, hour) VALUES (?1, ?2)
                     ON CONFLICT DO NOTHING",
                )?
                .execute(params![key, h])?;
            if new == 0 {
                continue;
            }
            let (prev, next): (Option<i64>, Option<i64>) = c
                .prepare_cached(
                    "SELECT (SELECT MAX(hour) FROM rollup_customer_hours WHERE key = ?1 AND hour < ?2),
                            (SELECT MIN(hour) FROM rollup_customer_hours WHERE key = ?1 AND hour > ?2)",
                )?
                .query_row(params![key, h], |r| Ok((r.get(0)?, r.get(1)?)))?;
            pending.customer_hour(prev, h, next);
        }
    }
    Ok(())
}

/// Applies a write's rollup changes (the single writer: no other write runs meanwhile).
pub(crate) fn flush(c: &Connection, p: &Pending) -> Result<()> {
    for (s, r) in p.segs() {
        c.prepare_cached(
            "INSERT INTO rollup_segments (grain, unit, prev, conversations, handed_off, anonymous,
                 customers, rated, rating_sum) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT (grain, unit, prev) DO UPDATE SET
                 conversations = conversations + excluded.conversations,
                 handed_off = handed_off + excluded.handed_off,
                 anonymous = anonymous + excluded.anonymous,
                 customers = customers + excluded.customers,
                 rated = rated + excluded.rated,
                 rating_sum = rating_sum + excluded.rating_sum",
        )?
        .execute(params![
            s.grain,
            s.unit,
            s.prev,
            r.conversations,
            r.handed_off,
            r.anonymous,
            r.customers,
            r.rated,
            r.rating_sum
        ])?;
    }
    for ((s, reason), t) in p.reasons() {
        c.prepare_cached(
            "INSERT INTO rollup_reasons (grain, unit, prev, reason, conversations, rated, rating_sum)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (grain, unit, prev, reason) DO UPDATE SET
                 conversations = conversations + excluded.conversations,
                 rated = rated + excluded.rated, rating_sum = rating_sum + excluded.rating_sum",
        )?
        .execute(params![s.grain, s.unit, s.prev, reason, t.n, t.rated, t.rating_sum])?;
    }
    for ((s, agent), t) in p.agents() {
        c.prepare_cached(
            "INSERT INTO rollup_agents (grain, unit, prev, agent, handled, rated, rating_sum)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (grain, unit, prev, agent) DO UPDATE SET
                 handled = handled + excluded.handled,
                 rated = rated + excluded.rated, rating_sum = rating_sum + excluded.rating_sum",
        )?
        .execute(params![
            s.grain,
            s.unit,
            s.prev,
            agent,
            t.n,
            t.rated,
            t.rating_sum
        ])?;
    }
    for ((s, bucket), n) in p.waits() {
        c.prepare_cached(
            "INSERT INTO rollup_waits (grain, unit, prev, bucket, n) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (grain, unit, prev, bucket) DO UPDATE SET n = n + excluded.n",
        )?
        .execute(params![s.grain, s.unit, s.prev, bucket, n])?;
    }
    for (h, (enq, deq)) in p.queue() {
        c.prepare_cached(
            "INSERT INTO rollup_queue (hour, enqueued, dequeued) VALUES (?1, ?2, ?3)
             ON CONFLICT (hour) DO UPDATE SET enqueued = enqueued + excluded.enqueued,
                 dequeued = dequeued + excluded.dequeued",
        )?
        .execute(params![h, enq, deq])?;
    }
    Ok(())
}

/// Rows of `table` for the whole hours of a plan: hourly rows at the ends, daily rows inside,
/// only segments whose previous customer message is before the range (`?1`..`?4`: `h_a`,
/// `d_a`, `d_b`, `h_b`).
fn ranged(table: &str) -> String {
    format!(
        "(SELECT * FROM {table} WHERE grain = 0 AND unit >= ?1 AND unit < ?2 AND prev < ?1
          UNION ALL SELECT * FROM {table} WHERE grain = 1 AND unit >= ?2 AND unit < ?3 AND prev < ?1
          UNION ALL SELECT * FROM {table} WHERE grain = 0 AND unit >= ?3 AND unit < ?4 AND prev < ?1)"
    )
}

fn u(n: i64) -> u64 {
    n.max(0) as u64
}

/// The figures of the whole hours of `plan`, from rollup rows.
fn rollup_parts(c: &Connection, plan: &Plan) -> Result<Parts> {
    let p = params![plan.h_a, plan.d_a, plan.d_b, plan.h_b];
    let mut parts = c
        .prepare_cached(&format!(
            "SELECT COALESCE(SUM(conversations), 0), COALESCE(SUM(handed_off), 0),
                 COALESCE(SUM(anonymous + customers), 0), COALESCE(SUM(rated), 0),
                 COALESCE(SUM(rating_sum), 0) FROM {}",
            ranged("rollup_segments")
        ))?
        .query_row(p, |r| {
            Ok(Parts {
                conversations: u(r.get(0)?),
                handed_off: u(r.get(1)?),
                customers: u(r.get(2)?),
                rated: r.get(3)?,
                rating_sum: r.get(4)?,
                ..Parts::default()
            })
        })?;
    let tally = |r: &rusqlite::Row<'_>| -> rusqlite::Result<Tally> {
        Ok(Tally {
            n: r.get(1)?,
            rated: r.get(2)?,
            rating_sum: r.get(3)?,
        })
    };
    let mut stmt = c.prepare_cached(&format!(
        "SELECT reason, SUM(conversations), SUM(rated), SUM(rating_sum) FROM {} GROUP BY reason",
        ranged("rollup_reasons")
    ))?;
    for row in stmt.query_map(p, |r| Ok((r.get::<_, String>(0)?, tally(r)?)))? {
        let (k, t) = row?;
        parts.reasons.insert(k, t);
    }
    let mut stmt = c.prepare_cached(&format!(
        "SELECT agent, SUM(handled), SUM(rated), SUM(rating_sum) FROM {} GROUP BY agent",
        ranged("rollup_agents")
    ))?;
    for row in stmt.query_map(p, |r| Ok((r.get::<_, i64>(0)?, tally(r)?)))? {
        let (k, t) = row?;
        parts.agents.insert(k, t);
    }
    let mut stmt = c.prepare_cached(&format!(
        "SELECT bucket, SUM(n) FROM {} GROUP BY bucket",
        ranged("rollup_waits")
    ))?;
    for row in stmt.query_map(p, |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))? {
        let (k, n) = row?;
        if n > 0 {
            parts.waits.insert(k, n as u64);
        }
    }
    Ok(parts)
}

/// The conversations with a customer message in `[?1, ?2)` or `[?3, ?4)` and none in
/// `[?2, ?3)`.
const SCOPE: &str = "WITH scope AS (SELECT x.id FROM (
        SELECT conversation_id AS id FROM messages
            WHERE author = 'customer' AND created_at >= ?1 AND created_at < ?2
        UNION SELECT conversation_id FROM messages
            WHERE author = 'customer' AND created_at >= ?3 AND created_at < ?4) x
    WHERE NOT EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = x.id
        AND m.author = 'customer' AND m.created_at >= ?2 AND m.created_at < ?3))";
/// The agent an assignment-like event gave the conversation to.
const HANDLER: &str = "COALESCE(json_extract(e.data, '$.agent'), json_extract(e.data, '$.to'))";
/// The latest rating of each conversation of the scope.
const RATED: &str = ", rated AS (SELECT e.conversation_id AS id, MAX(e.id) AS eid FROM scope s
    JOIN events e ON e.conversation_id = s.id AND e.kind = 'rating' GROUP BY e.conversation_id)";
/// Distinct customers of the scope, from scratch (the summary's definition).
const ALL_CUSTOMERS: &str = "(SELECT COUNT(DISTINCT
        COALESCE(NULLIF(lower(trim(c.customer_email)), ''), 'id:' || c.id))
    FROM scope s JOIN conversations c ON c.id = s.id)";

/// The figures of `[from, to)` recounted from the log with the summary's own queries (the
/// oracle of the rollups; first responses exact to the millisecond).
fn exact_parts(c: &Connection, from: i64, to: i64) -> Result<Parts> {
    let p = params![from, to, to, to];
    let mut parts = c
        .prepare_cached(&format!(
            "{SCOPE}{RATED} SELECT (SELECT COUNT(*) FROM scope),
             (SELECT COUNT(*) FROM scope s WHERE EXISTS
                (SELECT 1 FROM events e WHERE e.conversation_id = s.id AND e.kind = 'handoff')),
             {ALL_CUSTOMERS},
             (SELECT COUNT(*) FROM rated),
             (SELECT COALESCE(SUM(json_extract(e.data, '$.score')), 0)
                FROM rated x JOIN events e ON e.id = x.eid)"
        ))?
        .query_row(p, |r| {
            Ok(Parts {
                conversations: u(r.get(0)?),
                handed_off: u(r.get(1)?),
                customers: u(r.get(2)?),
                rated: r.get(3)?,
                rating_sum: r.get(4)?,
                ..Parts::default()
            })
        })?;
    let mut stmt = c.prepare_cached(&format!(
        "{SCOPE} SELECT r.value, COUNT(DISTINCT e.conversation_id) FROM scope s
         JOIN events e ON e.conversation_id = s.id AND e.kind = 'handoff',
         json_each(e.data, '$.reasons') r GROUP BY r.value"
    ))?;
    for row in stmt.query_map(p, |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))? {
        let (k, n) = row?;
        parts.reasons.entry(k).or_default().n += n;
    }
    let mut stmt = c.prepare_cached(&format!(
        "{SCOPE}{RATED}, hr AS (SELECT DISTINCT e.conversation_id AS id, r.value AS reason
           FROM rated x JOIN events e ON e.conversation_id = x.id AND e.kind = 'handoff',
           json_each(e.data, '$.reasons') r)
         SELECT hr.reason, COUNT(*), COALESCE(SUM(json_extract(re.data, '$.score')), 0)
         FROM hr JOIN rated x ON x.id = hr.id JOIN events re ON re.id = x.eid
         GROUP BY hr.reason"
    ))?;
    for row in stmt.query_map(p, |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, i64>(2)?,
        ))
    })? {
        let (k, rated, sum) = row?;
        let t = parts.reasons.entry(k).or_default();
        t.rated += rated;
        t.rating_sum += sum;
    }
    let mut stmt = c.prepare_cached(&format!(
        "{SCOPE}, h AS (SELECT e.conversation_id AS id, MIN(e.created_at) AS at FROM scope s
           JOIN events e ON e.conversation_id = s.id AND e.kind = 'handoff'
           GROUP BY e.conversation_id)
         SELECT wait, COUNT(*) FROM (SELECT (SELECT MIN(m.created_at) FROM messages m
             WHERE m.conversation_id = h.id AND m.author = 'agent' AND m.created_at >= h.at)
             - h.at AS wait FROM h) w
         WHERE wait IS NOT NULL GROUP BY wait"
    ))?;
    for row in stmt.query_map(p, |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))? {
        let (w, n) = row?;
        parts.waits.insert(w, u(n));
    }
    let mut stmt = c.prepare_cached(&format!(
        "{SCOPE} SELECT {HANDLER} AS agent, COUNT(DISTINCT e.conversation_id) FROM scope s
         JOIN events e ON e.conversation_id = s.id
           AND e.kind IN ('assigned', 'reassigned', 'transferred')
         WHERE {HANDLER} IS NOT NULL GROUP BY agent"
    ))?;
    for row in stmt.query_map(p, |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))? {
        let (a, n) = row?;
        parts.agents.entry(a).or_default().n += n;
    }
    let mut stmt = c.prepare_cached(&format!(
        "{SCOPE}{RATED}, handler AS (SELECT e.conversation_id AS id, MAX(e.id) AS eid
           FROM rated x JOIN events e ON e.conversation_id = x.id
           AND e.kind IN ('assigned', 'reassigned', 'transferred')
           WHERE {HANDLER} IS NOT NULL GROUP BY e.conversation_id)
         SELECT {HANDLER} AS agent, COUNT(*), COALESCE(SUM(json_extract(re.data, '$.score')), 0)
         FROM rated x JOIN events re ON re.id = x.eid
         JOIN handler h ON h.id = x.id JOIN events e ON e.id = h.eid GROUP BY agent"
    ))?;
    for row in stmt.query_map(p, |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, i64>(2)?,
        ))
    })? {
        let (a, rated, sum) = row?;
        let t = parts.agents.entry(a).or_default();
        t.rated += rated;
        t.rating_sum += sum;
    }
    Ok(parts)
}

/// The figures of the conversations with customer messages only in the partial hours at the
/// ends of a range (`[b0, b1)`, `[b2, b3)`; the rollups counted `[b1, b2)`), one by one from
/// their snapshots: the same definitions as the rollups' upkeep.
fn edge_parts(c: &Connection, b: [i64; 4]) -> Result<Parts> {
    let ids = c
        .prepare_cached(&format!("{SCOPE} SELECT id FROM scope"))?
        .query_map(params![b[0], b[1], b[2], b[3]], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    if ids.is_empty() {
        return Ok(Parts::default());
    }
    let snaps = snapshots(c, &ids)?;
    let keys: std::collections::BTreeSet<&str> =
        snaps.iter().filter_map(|s| s.key.as_deref()).collect();
    let json = serde_json::to_string(&keys).map_err(|e| StoreError::Backend(e.to_string()))?;
    let counted = c
        .prepare_cached(
            "SELECT DISTINCT key FROM rollup_customer_hours
             WHERE key IN (SELECT value FROM json_each(?1)) AND hour >= ?2 AND hour < ?3",
        )?
        .query_map(params![json, b[1], b[2]], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Parts::of_conversations(&snaps, &counted))
}

/// The agents, and how many conversations each has assigned now.
fn agents_and_load(c: &Connection) -> Result<AgentsAndLoad> {
    let mut stmt = c.prepare_cached("SELECT id, name FROM agents ORDER BY id")?;
    let agents = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut stmt = c.prepare_cached(
        "SELECT assignee_id, COUNT(*) FROM conversations
         WHERE state = 'assigned' AND assignee_id IS NOT NULL GROUP BY assignee_id",
    )?;
    let load = stmt
        .query_map([], |r| Ok((r.get(0)?, u(r.get(1)?))))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((agents, load))
}

/// Queue length over `[from, to)` (see `rollup::queue_instants`).
fn queue_length(c: &Connection, from: i64, to: i64, now: i64) -> Result<Vec<QueuePoint>> {
    let instants = queue_instants(from, to, now);
    let (Some(&first), Some(&last)) = (instants.first(), instants.last()) else {
        return Ok(Vec::new());
    };
    let base: i64 = c
        .prepare_cached(
            "SELECT COALESCE(SUM(enqueued - dequeued), 0) FROM rollup_queue WHERE hour < ?1",
        )?
        .query_row([hour(first)], |r| r.get(0))?;
    let hours = c
        .prepare_cached(
            "SELECT hour, enqueued - dequeued FROM rollup_queue
             WHERE hour >= ?1 AND hour < ?2 ORDER BY hour",
        )?
        .query_map([hour(first), hour(last)], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<Vec<(i64, i64)>>>()?;
    queue_series(&instants, base, &hours, |t| {
        Ok(c.prepare_cached(
            "SELECT COALESCE(SUM(CASE
                 WHEN json_extract(data, '$.to') = 'queued' AND json_extract(data, '$.from') <> 'queued' THEN 1
                 WHEN json_extract(data, '$.from') = 'queued' AND json_extract(data, '$.to') <> 'queued' THEN -1
                 ELSE 0 END), 0)
             FROM events WHERE kind = 'state' AND created_at >= ?1 AND created_at < ?2",
        )?
        .query_row([hour(t), t], |r| r.get(0))?)
    })
}

/// The summary: rollup rows for the whole hours, the log for the partial hours at the ends.
pub(crate) fn summary(c: &Connection, from: i64, to: i64, now: i64) -> Result<Summary> {
    let plan = Plan::new(from, to);
    let mut parts = if plan.exact {
        Parts::default()
    } else {
        rollup_parts(c, &plan)?
    };
    let (h_a, h_b) = plan.core();
    parts.merge(edge_parts(c, [from, h_a, h_b, to])?);
    let (agents, load) = agents_and_load(c)?;
    let queue = queue_length(c, from, to, now)?;
    Ok(parts.into_summary(from, to, agents, load, queue))
}

/// The summary from scratch (tests and checks).
pub(crate) fn summary_exact(c: &Connection, from: i64, to: i64, now: i64) -> Result<Summary> {
    let parts = exact_parts(c, from, to)?;
    let (agents, load) = agents_and_load(c)?;
    let queue = queue_length(c, from, to, now)?;
    Ok(parts.into_summary(from, to, agents, load, queue))
}

/// Every rollup row that is not all zeros, as text, sorted (tests compare a rebuild with the
/// rows kept write by write).
pub(crate) fn dump(c: &Connection) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for sql in rollup::dump_queries() {
        let mut stmt = c.prepare(&sql)?;
        for row in stmt.query_map([], |r| r.get::<_, String>(0))? {
            out.push(row?);
        }
    }
    Ok(out)
}
