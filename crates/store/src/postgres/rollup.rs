//! The PostgreSQL side of the analytics rollups (see `crate::rollup`): conversation snapshots,
//! the upserts of a write (row-level `n = n + excluded.n`, in one fixed order), the summary read
//! from rollup rows plus the exact edges, the queue series, and the rebuild.

use deadpool_postgres::GenericClient;
use desk::ConversationId;
use tokio_postgres::types::{Json, ToSql};
use tokio_postgres::Row;

use crate::rollup::{
    self, hour, queue_instants, queue_series, AgentsAndLoad, EventRow, Parts, Pending, Plan, Raw,
    Snapshot, Tally,
};
use crate::{QueuePoint, Result, StoreError, Summary};

/// The migration that introduced the rollups; the part after its `-- BACKFILL` line computes
/// them from the log.
pub(super) const MIGRATION: &str = include_str!("migrations/0005_rollups.sql");
const TABLES: &str = "rollup_segments, rollup_reasons, rollup_agents, rollup_waits,
    rollup_customer_hours, rollup_queue";
/// Advisory lock class of a customer's hours (the two-key form; the key is the e-mail's hash).
const CUSTOMER_LOCK: i32 = 0x7464_6d31;

type Params<'a> = [&'a (dyn ToSql + Sync)];

async fn query<C: GenericClient>(c: &C, sql: &str, params: &Params<'_>) -> Result<Vec<Row>> {
    let stmt = c.prepare_cached(sql).await?;
    Ok(c.query(&stmt, params).await?)
}

async fn one<C: GenericClient>(c: &C, sql: &str, params: &Params<'_>) -> Result<Row> {
    query(c, sql, params)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| StoreError::Backend("the query returned no row".into()))
}

async fn exec<C: GenericClient>(c: &C, sql: &str, params: &Params<'_>) -> Result<u64> {
    let stmt = c.prepare_cached(sql).await?;
    Ok(c.execute(&stmt, params).await?)
}

/// Recomputes every rollup from the log, in the caller's transaction. The rollup tables are
/// locked first: a write of another node that changes them waits until this commits and then
/// applies its change on top; one that committed before is in what this reads.
pub(crate) async fn rebuild<C: GenericClient>(c: &C) -> Result<()> {
    let backfill = rollup::backfill_of(MIGRATION)?;
    c.batch_execute(&format!(
        "LOCK TABLE {TABLES} IN EXCLUSIVE MODE; DELETE FROM rollup_segments;
         DELETE FROM rollup_reasons; DELETE FROM rollup_agents; DELETE FROM rollup_waits;
         DELETE FROM rollup_customer_hours; DELETE FROM rollup_queue;"
    ))
    .await?;
    c.batch_execute(backfill).await?;
    Ok(())
}

/// The snapshot query: events that matter (assignment-like ones reduced to their agent),
/// customer and agent message times, the e-mail key, of the conversations `{ids}` selects.
fn snapshot_sql(ids: &str) -> String {
    format!(
        "SELECT 0, conversation_id, id, kind,
             CASE WHEN kind IN ('assigned', 'reassigned', 'transferred')
                 THEN jsonb_build_object('agent', data->'agent', 'to', data->'to')
                 ELSE data END, created_at
         FROM events WHERE conversation_id {ids}
             AND kind IN ('handoff', 'rating', 'assigned', 'reassigned', 'transferred', 'state')
         UNION ALL SELECT 1, conversation_id, CASE WHEN author = 'agent' THEN 1 ELSE 0 END::bigint,
             NULL, NULL::jsonb, created_at FROM messages
             WHERE conversation_id {ids} AND author IN ('customer', 'agent')
         UNION ALL SELECT 2, id, 0::bigint, NULLIF(lower(trim(customer_email)), ''), NULL::jsonb,
             0::bigint FROM conversations WHERE id {ids}"
    )
}

fn raw_rows(rows: Vec<Row>) -> Result<std::collections::BTreeMap<String, Raw>> {
    let mut out = std::collections::BTreeMap::<String, Raw>::new();
    for r in rows {
        let raw = out.entry(r.try_get(1)?).or_default();
        match r.try_get::<_, i32>(0)? {
            0 => raw.events.push(EventRow {
                id: r.try_get(2)?,
                kind: r.try_get(3)?,
                data: r.try_get::<_, Json<serde_json::Value>>(4)?.0,
                at: r.try_get(5)?,
            }),
            1 => raw
                .messages
                .push((r.try_get::<_, i64>(2)? != 0, r.try_get(5)?)),
            _ => raw.key = r.try_get(3)?,
        }
    }
    Ok(out)
}

/// The conversation as the rollups see it now (read under its row lock).
pub(crate) async fn snapshot<C: GenericClient>(c: &C, id: &ConversationId) -> Result<Snapshot> {
    let rows = query(c, &snapshot_sql("= $1"), &[&id.as_str()]).await?;
    Ok(raw_rows(rows)?
        .into_values()
        .next()
        .unwrap_or_default()
        .snapshot())
}

/// Snapshots of many conversations at once.
async fn snapshots<C: GenericClient>(c: &C, ids: &[String]) -> Result<Vec<Snapshot>> {
    let rows = query(c, &snapshot_sql("= ANY($1)"), &[&ids]).await?;
    Ok(raw_rows(rows)?.into_values().map(Raw::snapshot).collect())
}

/// After a write to the (locked) conversation: its rollup changes since `before`, and any new
/// hour of its customer (under that customer's advisory lock, so two nodes never place two
/// hours of one customer at once), into `pending`.
pub(crate) async fn record<C: GenericClient>(
    c: &C,
    pending: &mut Pending,
    id: &ConversationId,
    before: &Snapshot,
) -> Result<()> {
    let after = snapshot(c, id).await?;
    pending.change(before, &after);
    if let Some(key) = &after.key {
        let new: Vec<i64> = after
            .hours
            .iter()
            .copied()
            .filter(|h| !before.hours.contains(h))
            .collect();
        if new.is_empty() {
            return Ok(());
        }
        exec(
            c,
            "SELECT pg_advisory_xact_lock($1, hashtext($2))",
            &[&CUSTOMER_LOCK, key],
        )
        .await?;
        for h in new {
            let inserted = exec(
                c,
                "INSERT INTO rollup_customer_hours (key, hour) VALUES ($1, $2)
                 ON CONFLICT DO NOTHING",
                &[key, &h],
            )
            .await?;
            if inserted == 0 {
                continue;
            }
            let r = one(
                c,
                "SELECT (SELECT MAX(hour) FROM rollup_customer_hours WHERE key = $1 AND hour < $2),
                        (SELECT MIN(hour) FROM rollup_customer_hours WHERE key = $1 AND hour > $2)",
                &[key, &h],
            )
            .await?;
            pending.customer_hour(r.try_get(0)?, h, r.try_get(1)?);
        }
    }
    Ok(())
}

/// Applies a write's rollup changes: one statement per table, rows in key order.
pub(crate) async fn flush<C: GenericClient>(c: &C, p: &Pending) -> Result<()> {
    let segs: Vec<_> = p.segs().collect();
    if !segs.is_empty() {
        let col =
            |f: fn(&rollup::SegRow) -> i64| segs.iter().map(|(_, r)| f(r)).collect::<Vec<_>>();
        let (g, u, pr): (Vec<i64>, Vec<i64>, Vec<i64>) = (
            segs.iter().map(|(s, _)| s.grain).collect(),
            segs.iter().map(|(s, _)| s.unit).collect(),
            segs.iter().map(|(s, _)| s.prev).collect(),
        );
        exec(
            c,
            "INSERT INTO rollup_segments AS t (grain, unit, prev, conversations, handed_off,
                 anonymous, customers, rated, rating_sum)
             SELECT * FROM UNNEST($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[],
                 $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[])
             ON CONFLICT (grain, unit, prev) DO UPDATE SET
                 conversations = t.conversations + excluded.conversations,
                 handed_off = t.handed_off + excluded.handed_off,
                 anonymous = t.anonymous + excluded.anonymous,
                 customers = t.customers + excluded.customers,
                 rated = t.rated + excluded.rated,
                 rating_sum = t.rating_sum + excluded.rating_sum",
            &[
                &g,
                &u,
                &pr,
                &col(|r| r.conversations),
                &col(|r| r.handed_off),
                &col(|r| r.anonymous),
                &col(|r| r.customers),
                &col(|r| r.rated),
                &col(|r| r.rating_sum),
            ],
        )
        .await?;
    }
    let reasons: Vec<_> = p.reasons().collect();
    if !reasons.is_empty() {
        let seg =
            |f: fn(&rollup::Seg) -> i64| reasons.iter().map(|((s, _), _)| f(s)).collect::<Vec<_>>();
        let names: Vec<&str> = reasons.iter().map(|((_, r), _)| r.as_str()).collect();
        let tally = |f: fn(&Tally) -> i64| reasons.iter().map(|(_, t)| f(t)).collect::<Vec<_>>();
        exec(
            c,
            "INSERT INTO rollup_reasons AS t (grain, unit, prev, reason, conversations, rated,
                 rating_sum)
             SELECT * FROM UNNEST($1::bigint[], $2::bigint[], $3::bigint[], $4::text[],
                 $5::bigint[], $6::bigint[], $7::bigint[])
             ON CONFLICT (grain, unit, prev, reason) DO UPDATE SET
                 conversations = t.conversations + excluded.conversations,
                 rated = t.rated + excluded.rated, rating_sum = t.rating_sum + excluded.rating_sum",
            &[
                &seg(|s| s.grain),
                &seg(|s| s.unit),
                &seg(|s| s.prev),
                &names,
                &tally(|t| t.n),
                &tally(|t| t.rated),
                &tally(|t| t.rating_sum),
            ],
        )
        .await?;
    }
    let agents: Vec<_> = p.agents().collect();
    if !agents.is_empty() {
        let seg =
            |f: fn(&rollup::Seg) -> i64| agents.iter().map(|((s, _), _)| f(s)).collect::<Vec<_>>();
        let ids: Vec<i64> = agents.iter().map(|((_, a), _)| *a).collect();
        let tally = |f: fn(&Tally) -> i64| agents.iter().map(|(_, t)| f(t)).collect::<Vec<_>>();
        exec(
            c,
            "INSERT INTO rollup_agents AS t (grain, unit, prev, agent, handled, rated, rating_sum)
             SELECT * FROM UNNEST($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[],
                 $5::bigint[], $6::bigint[], $7::bigint[])
             ON CONFLICT (grain, unit, prev, agent) DO UPDATE SET
                 handled = t.handled + excluded.handled,
                 rated = t.rated + excluded.rated, rating_sum = t.rating_sum + excluded.rating_sum",
            &[
                &seg(|s| s.grain),
                &seg(|s| s.unit),
                &seg(|s| s.prev),
                &ids,
                &tally(|t| t.n),
                &tally(|t| t.rated),
                &tally(|t| t.rating_sum),
            ],
        )
        .await?;
    }
    let waits: Vec<_> = p.waits().collect();
    if !waits.is_empty() {
        let seg =
            |f: fn(&rollup::Seg) -> i64| waits.iter().map(|((s, _), _)| f(s)).collect::<Vec<_>>();
        let buckets: Vec<i64> = waits.iter().map(|((_, b), _)| *b).collect();
        let ns: Vec<i64> = waits.iter().map(|(_, n)| **n).collect();
        exec(
            c,
            "INSERT INTO rollup_waits AS t (grain, unit, prev, bucket, n)
             SELECT * FROM UNNEST($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[],
                 $5::bigint[])
             ON CONFLICT (grain, unit, prev, bucket) DO UPDATE SET n = t.n + excluded.n",
            &[
                &seg(|s| s.grain),
                &seg(|s| s.unit),
                &seg(|s| s.prev),
                &buckets,
                &ns,
            ],
        )
        .await?;
    }
    let queue: Vec<_> = p.queue().collect();
    if !queue.is_empty() {
        let hours: Vec<i64> = queue.iter().map(|(h, _)| **h).collect();
        let enq: Vec<i64> = queue.iter().map(|(_, q)| q.0).collect();
        let deq: Vec<i64> = queue.iter().map(|(_, q)| q.1).collect();
        exec(
            c,
            "INSERT INTO rollup_queue AS t (hour, enqueued, dequeued)
             SELECT * FROM UNNEST($1::bigint[], $2::bigint[], $3::bigint[])
             ON CONFLICT (hour) DO UPDATE SET enqueued = t.enqueued + excluded.enqueued,
                 dequeued = t.dequeued + excluded.dequeued",
            &[&hours, &enq, &deq],
        )
        .await?;
    }
    Ok(())
}

/// Rows of `table` for the whole hours of a plan: hourly rows at the ends, daily rows inside,
/// only segments whose previous customer message is before the range (`$1`..`$4`: `h_a`,
/// `d_a`, `d_b`, `h_b`).
fn ranged(table: &str) -> String {
    format!(
        "(SELECT * FROM {table} WHERE grain = 0 AND unit >= $1 AND unit < $2 AND prev < $1
          UNION ALL SELECT * FROM {table} WHERE grain = 1 AND unit >= $2 AND unit < $3 AND prev < $1
          UNION ALL SELECT * FROM {table} WHERE grain = 0 AND unit >= $3 AND unit < $4 AND prev < $1) r"
    )
}

fn u(n: i64) -> u64 {
    n.max(0) as u64
}

fn tally(r: &Row) -> Result<Tally> {
    Ok(Tally {
        n: r.try_get(1)?,
        rated: r.try_get(2)?,
        rating_sum: r.try_get(3)?,
    })
}

/// The figures of the whole hours of `plan`, from rollup rows.
async fn rollup_parts<C: GenericClient>(c: &C, plan: &Plan) -> Result<Parts> {
    let p: [&(dyn ToSql + Sync); 4] = [&plan.h_a, &plan.d_a, &plan.d_b, &plan.h_b];
    let r = one(
        c,
        &format!(
            "SELECT COALESCE(SUM(conversations), 0)::bigint, COALESCE(SUM(handed_off), 0)::bigint,
                 COALESCE(SUM(anonymous + customers), 0)::bigint, COALESCE(SUM(rated), 0)::bigint,
                 COALESCE(SUM(rating_sum), 0)::bigint FROM {}",
            ranged("rollup_segments")
        ),
        &p,
    )
    .await?;
    let mut parts = Parts {
        conversations: u(r.try_get(0)?),
        handed_off: u(r.try_get(1)?),
        customers: u(r.try_get(2)?),
        rated: r.try_get(3)?,
        rating_sum: r.try_get(4)?,
        ..Parts::default()
    };
    for r in query(
        c,
        &format!(
            "SELECT reason, SUM(conversations)::bigint, SUM(rated)::bigint,
                 SUM(rating_sum)::bigint FROM {} GROUP BY reason",
            ranged("rollup_reasons")
        ),
        &p,
    )
    .await?
    {
        parts.reasons.insert(r.try_get(0)?, tally(&r)?);
    }
    for r in query(
        c,
        &format!(
            "SELECT agent, SUM(handled)::bigint, SUM(rated)::bigint, SUM(rating_sum)::bigint
             FROM {} GROUP BY agent",
            ranged("rollup_agents")
        ),
        &p,
    )
    .await?
    {
        parts.agents.insert(r.try_get(0)?, tally(&r)?);
    }
    for r in query(
        c,
        &format!(
            "SELECT bucket, SUM(n)::bigint FROM {} GROUP BY bucket",
            ranged("rollup_waits")
        ),
        &p,
    )
    .await?
    {
        let n: i64 = r.try_get(1)?;
        if n > 0 {
            parts.waits.insert(r.try_get(0)?, n as u64);
        }
    }
    Ok(parts)
}

/// The conversations with a customer message in `[$1, $2)` or `[$3, $4)` and none in
/// `[$2, $3)`.
const SCOPE: &str = "WITH scope AS (SELECT x.id FROM (
        SELECT conversation_id AS id FROM messages
            WHERE author = 'customer' AND created_at >= $1 AND created_at < $2
        UNION SELECT conversation_id FROM messages
            WHERE author = 'customer' AND created_at >= $3 AND created_at < $4) x
    WHERE NOT EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = x.id
        AND m.author = 'customer' AND m.created_at >= $2 AND m.created_at < $3))";
/// The agent an assignment-like event gave the conversation to.
const HANDLER: &str = "COALESCE(e.data->>'agent', e.data->>'to')::bigint";
/// The latest rating of each conversation of the scope.
const RATED: &str = ", rated AS (SELECT e.conversation_id AS id, MAX(e.id) AS eid FROM scope s
    JOIN events e ON e.conversation_id = s.id AND e.kind = 'rating' GROUP BY e.conversation_id)";
/// Distinct customers of the scope, from scratch (the summary's definition).
const ALL_CUSTOMERS: &str = "(SELECT COUNT(DISTINCT
        COALESCE(NULLIF(lower(trim(c.customer_email)), ''), 'id:' || c.id))
    FROM scope s JOIN conversations c ON c.id = s.id)";

/// The figures of `[from, to)` recounted from the log with the summary's own queries (the
/// oracle of the rollups; first responses exact to the millisecond).
async fn exact_parts<C: GenericClient>(c: &C, from: i64, to: i64) -> Result<Parts> {
    let p: [&(dyn ToSql + Sync); 4] = [&from, &to, &to, &to];
    let r = one(
        c,
        &format!(
            "{SCOPE}{RATED} SELECT (SELECT COUNT(*) FROM scope),
             (SELECT COUNT(*) FROM scope s WHERE EXISTS
                (SELECT 1 FROM events e WHERE e.conversation_id = s.id AND e.kind = 'handoff')),
             {ALL_CUSTOMERS},
             (SELECT COUNT(*) FROM rated),
             (SELECT COALESCE(SUM((e.data->>'score')::bigint), 0)::bigint
                FROM rated x JOIN events e ON e.id = x.eid)"
        ),
        &p,
    )
    .await?;
    let mut parts = Parts {
        conversations: u(r.try_get(0)?),
        handed_off: u(r.try_get(1)?),
        customers: u(r.try_get(2)?),
        rated: r.try_get(3)?,
        rating_sum: r.try_get(4)?,
        ..Parts::default()
    };
    for r in query(
        c,
        &format!(
            "{SCOPE} SELECT r.reason, COUNT(DISTINCT e.conversation_id) FROM scope s
             JOIN events e ON e.conversation_id = s.id AND e.kind = 'handoff',
             jsonb_array_elements_text(e.data->'reasons') AS r(reason)
             GROUP BY r.reason"
        ),
        &p,
    )
    .await?
    {
        parts.reasons.entry(r.try_get(0)?).or_default().n += r.try_get::<_, i64>(1)?;
    }
    for r in query(
        c,
        &format!(
            "{SCOPE}{RATED}, hr AS (SELECT DISTINCT e.conversation_id AS id, r.reason
               FROM rated x JOIN events e ON e.conversation_id = x.id AND e.kind = 'handoff',
               jsonb_array_elements_text(e.data->'reasons') AS r(reason))
             SELECT hr.reason, COUNT(*), COALESCE(SUM((re.data->>'score')::bigint), 0)::bigint
             FROM hr JOIN rated x ON x.id = hr.id JOIN events re ON re.id = x.eid
             GROUP BY hr.reason"
        ),
        &p,
    )
    .await?
    {
        let t = parts.reasons.entry(r.try_get(0)?).or_default();
        t.rated += r.try_get::<_, i64>(1)?;
        t.rating_sum += r.try_get::<_, i64>(2)?;
    }
    for r in query(
        c,
        &format!(
            "{SCOPE}, h AS (SELECT e.conversation_id AS id, MIN(e.created_at) AS at FROM scope s
               JOIN events e ON e.conversation_id = s.id AND e.kind = 'handoff'
               GROUP BY e.conversation_id)
             SELECT wait, COUNT(*) FROM (SELECT (SELECT MIN(m.created_at) FROM messages m
                 WHERE m.conversation_id = h.id AND m.author = 'agent' AND m.created_at >= h.at)
                 - h.at AS wait FROM h) w
             WHERE wait IS NOT NULL GROUP BY wait"
        ),
        &p,
    )
    .await?
    {
        parts
            .waits
            .insert(r.try_get(0)?, u(r.try_get::<_, i64>(1)?));
    }
    for r in query(
        c,
        &format!(
            "{SCOPE} SELECT {HANDLER} AS agent, COUNT(DISTINCT e.conversation_id) FROM scope s
             JOIN events e ON e.conversation_id = s.id
               AND e.kind IN ('assigned', 'reassigned', 'transferred')
             WHERE {HANDLER} IS NOT NULL GROUP BY agent"
        ),
        &p,
    )
    .await?
    {
        parts.agents.entry(r.try_get(0)?).or_default().n += r.try_get::<_, i64>(1)?;
    }
    for r in query(
        c,
        &format!(
            "{SCOPE}{RATED}, handler AS (SELECT e.conversation_id AS id, MAX(e.id) AS eid
               FROM rated x JOIN events e ON e.conversation_id = x.id
               AND e.kind IN ('assigned', 'reassigned', 'transferred')
               WHERE {HANDLER} IS NOT NULL GROUP BY e.conversation_id)
             SELECT {HANDLER} AS agent, COUNT(*),
                 COALESCE(SUM((re.data->>'score')::bigint), 0)::bigint
             FROM rated x JOIN events re ON re.id = x.eid
             JOIN handler h ON h.id = x.id JOIN events e ON e.id = h.eid GROUP BY agent"
        ),
        &p,
    )
    .await?
    {
        let t = parts.agents.entry(r.try_get(0)?).or_default();
        t.rated += r.try_get::<_, i64>(1)?;
        t.rating_sum += r.try_get::<_, i64>(2)?;
    }
    Ok(parts)
}

/// The figures of the conversations with customer messages only in the partial hours at the
/// ends of a range (`[b0, b1)`, `[b2, b3)`; the rollups counted `[b1, b2)`), one by one from
/// their snapshots: the same definitions as the rollups' upkeep.
async fn edge_parts<C: GenericClient>(c: &C, b: [i64; 4]) -> Result<Parts> {
    let ids = query(
        c,
        &format!("{SCOPE} SELECT id FROM scope"),
        &[&b[0], &b[1], &b[2], &b[3]],
    )
    .await?
    .iter()
    .map(|r| Ok(r.try_get::<_, String>(0)?))
    .collect::<Result<Vec<_>>>()?;
    if ids.is_empty() {
        return Ok(Parts::default());
    }
    let snaps = snapshots(c, &ids).await?;
    let keys: Vec<&str> = snaps.iter().filter_map(|s| s.key.as_deref()).collect();
    let counted = query(
        c,
        "SELECT DISTINCT key FROM rollup_customer_hours
         WHERE key = ANY($1) AND hour >= $2 AND hour < $3",
        &[&keys, &b[1], &b[2]],
    )
    .await?
    .iter()
    .map(|r| Ok(r.try_get::<_, String>(0)?))
    .collect::<Result<_>>()?;
    Ok(Parts::of_conversations(&snaps, &counted))
}

/// The agents, and how many conversations each has assigned now.
async fn agents_and_load<C: GenericClient>(c: &C) -> Result<AgentsAndLoad> {
    let agents = query(c, "SELECT id, name FROM agents ORDER BY id", &[])
        .await?
        .iter()
        .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
        .collect::<Result<Vec<_>>>()?;
    let load = query(
        c,
        "SELECT assignee_id, COUNT(*) FROM conversations
         WHERE state = 'assigned' AND assignee_id IS NOT NULL GROUP BY assignee_id",
        &[],
    )
    .await?
    .iter()
    .map(|r| Ok((r.try_get(0)?, u(r.try_get(1)?))))
    .collect::<Result<Vec<_>>>()?;
    Ok((agents, load))
}

/// Queue length over `[from, to)` (see `rollup::queue_instants`).
async fn queue_length<C: GenericClient>(
    c: &C,
    from: i64,
    to: i64,
    now: i64,
) -> Result<Vec<QueuePoint>> {
    let instants = queue_instants(from, to, now);
    let (Some(&first), Some(&last)) = (instants.first(), instants.last()) else {
        return Ok(Vec::new());
    };
    let (first_hour, last_hour) = (hour(first), hour(last));
    let base: i64 = one(
        c,
        "SELECT COALESCE(SUM(enqueued - dequeued), 0)::bigint FROM rollup_queue WHERE hour < $1",
        &[&first_hour],
    )
    .await?
    .try_get(0)?;
    let hours = query(
        c,
        "SELECT hour, enqueued - dequeued FROM rollup_queue
         WHERE hour >= $1 AND hour < $2 ORDER BY hour",
        &[&first_hour, &last_hour],
    )
    .await?
    .iter()
    .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
    .collect::<Result<Vec<(i64, i64)>>>()?;
    // The only instant off the hour is the last one.
    let partial = if hour(last) == last {
        0
    } else {
        one(
            c,
            "SELECT COALESCE(SUM(CASE
                 WHEN data->>'to' = 'queued' AND data->>'from' <> 'queued' THEN 1
                 WHEN data->>'from' = 'queued' AND data->>'to' <> 'queued' THEN -1
                 ELSE 0 END), 0)::bigint
             FROM events WHERE kind = 'state' AND created_at >= $1 AND created_at < $2",
            &[&last_hour, &last],
        )
        .await?
        .try_get(0)?
    };
    queue_series(&instants, base, &hours, |t| {
        if t == last {
            Ok(partial)
        } else {
            Err(StoreError::Backend("a queue instant off the hour".into()))
        }
    })
}

/// The summary: rollup rows for the whole hours, the log for the partial hours at the ends.
pub(crate) async fn summary<C: GenericClient>(
    c: &C,
    from: i64,
    to: i64,
    now: i64,
) -> Result<Summary> {
    let plan = Plan::new(from, to);
    let mut parts = if plan.exact {
        Parts::default()
    } else {
        rollup_parts(c, &plan).await?
    };
    let (h_a, h_b) = plan.core();
    parts.merge(edge_parts(c, [from, h_a, h_b, to]).await?);
    let (agents, load) = agents_and_load(c).await?;
    let queue = queue_length(c, from, to, now).await?;
    Ok(parts.into_summary(from, to, agents, load, queue))
}

/// The summary from scratch (tests and checks).
pub(crate) async fn summary_exact<C: GenericClient>(
    c: &C,
    from: i64,
    to: i64,
    now: i64,
) -> Result<Summary> {
    let parts = exact_parts(c, from, to).await?;
    let (agents, load) = agents_and_load(c).await?;
    let queue = queue_length(c, from, to, now).await?;
    Ok(parts.into_summary(from, to, agents, load, queue))
}

/// Every rollup row that is not all zeros, as text, in key order.
pub(crate) async fn dump<C: GenericClient>(c: &C) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for sql in rollup::dump_queries() {
        for r in c.query(&sql, &[]).await? {
            out.push(r.try_get(0)?);
        }
    }
    Ok(out)
}
