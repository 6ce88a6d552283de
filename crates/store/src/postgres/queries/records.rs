//! Whole-store import for `tandem migrate-store`, and bench seeding.

use super::*;

pub(crate) async fn import_conversation<C: GenericClient>(
    c: &C,
    r: &ConversationRecord,
) -> Result<()> {
    exec(
        c,
        "INSERT INTO conversations (id, token_hash, state, locale, customer_name, customer_email,
             assignee_id, needs, priority, queued_at, created_at, updated_at, channel, subject)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        &[
            &r.id.as_str(),
            &r.token_hash,
            &r.state.as_str(),
            &r.locale.as_str(),
            &r.customer.name,
            &r.customer.email,
            &r.assignee.map(|a| a.get()),
            &r.needs.as_ref().map(Json),
            &r.priority,
            &r.queued_at_ms,
            &r.created_at_ms,
            &r.updated_at_ms,
            &r.channel.as_str(),
            &r.subject,
        ],
    )
    .await?;
    Ok(())
}

/// Many messages in one statement (arrays unnested into rows), ids kept.
pub(crate) async fn import_messages<C: GenericClient>(c: &C, rows: &[Message]) -> Result<()> {
    let ids: Vec<i64> = rows.iter().map(|m| m.id.get()).collect();
    let convs: Vec<&str> = rows.iter().map(|m| m.conversation.as_str()).collect();
    let authors: Vec<&str> = rows.iter().map(|m| m.author.as_str()).collect();
    let agents: Vec<Option<i64>> = rows.iter().map(|m| m.agent.map(|a| a.get())).collect();
    let actions: Vec<Option<String>> = rows
        .iter()
        .map(|m| {
            m.action.and_then(|a| match serde_json::to_value(a) {
                Ok(serde_json::Value::String(s)) => Some(s),
                _ => None,
            })
        })
        .collect();
    let texts: Vec<&str> = rows.iter().map(|m| m.text.as_str()).collect();
    let times: Vec<i64> = rows.iter().map(|m| m.created_at_ms).collect();
    exec(
        c,
        "INSERT INTO messages (id, conversation_id, author, agent_id, action, text, created_at)
         SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::bigint[])",
        &[&ids, &convs, &authors, &agents, &actions, &texts, &times],
    )
    .await?;
    Ok(())
}

/// Many events in one statement, ids kept.
pub(crate) async fn import_events<C: GenericClient>(c: &C, rows: &[Event]) -> Result<()> {
    let ids: Vec<i64> = rows.iter().map(|e| e.id).collect();
    let convs: Vec<&str> = rows.iter().map(|e| e.conversation.as_str()).collect();
    let kinds: Vec<&str> = rows.iter().map(|e| e.kind.as_str()).collect();
    let data: Vec<String> = rows.iter().map(|e| e.data.to_string()).collect();
    let times: Vec<i64> = rows.iter().map(|e| e.created_at_ms).collect();
    exec(
        c,
        "INSERT INTO events (id, conversation_id, kind, data, created_at)
         SELECT i, c, k, d::jsonb, t FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[], $5::bigint[])
             AS u(i, c, k, d, t)",
        &[&ids, &convs, &kinds, &data, &times],
    )
    .await?;
    Ok(())
}

/// `tandem bench summary` only: the same synthetic desk as the SQLite backend's `seed_bench`.
pub(crate) async fn seed_bench<C: GenericClient>(
    c: &C,
    n: i64,
    from: i64,
    span: i64,
    agent: i64,
) -> Result<()> {
    const S: &str = "WITH t AS (SELECT i, 'bench_' || lpad(i::text, 8, '0') AS id,
        $2::bigint + i * $3::bigint / $1::bigint AS at FROM generate_series(0::bigint, $1::bigint - 1) AS i)";
    let n = n.max(1);
    exec(
        c,
        &format!(
            "{S} INSERT INTO conversations (id, token_hash, state, locale, customer_email, created_at, updated_at)
             SELECT id, 'bench', CASE WHEN i % 10 >= 7 THEN 'resolved' ELSE 'bot' END, 'de',
               CASE WHEN i % 3 = 0 THEN NULL ELSE 'c' || (i % 400000) || '@bench.example' END, at, at
             FROM t"
        ),
        &[&n, &from, &span],
    )
    .await?;
    exec(
        c,
        &format!(
            "{S} INSERT INTO messages (conversation_id, author, agent_id, action, text, created_at)
             SELECT id, 'customer', NULL::bigint, NULL, 'Hallo', at FROM t
             UNION ALL SELECT id, 'bot', NULL::bigint, 'answer', 'Hallo!', at + 1000 FROM t
             UNION ALL SELECT id, 'agent', $4::bigint, NULL, 'Ich helfe gern.', at + 60000 + (i % 600) * 1000
               FROM t WHERE i % 10 >= 7"
        ),
        &[&n, &from, &span, &agent],
    )
    .await?;
    exec(
        c,
        &format!(
            "{S} INSERT INTO events (conversation_id, kind, data, created_at)
             SELECT id, 'handoff', (CASE i % 4
                 WHEN 0 THEN '{{\"reasons\":[\"human_requested\"],\"skills\":[],\"locale\":\"de\"}}'
                 WHEN 1 THEN '{{\"reasons\":[\"complaint\"],\"skills\":[],\"locale\":\"de\"}}'
                 WHEN 2 THEN '{{\"reasons\":[\"low_confidence\"],\"skills\":[],\"locale\":\"de\"}}'
                 ELSE '{{\"reasons\":[\"negative_sentiment\",\"human_requested\"],\"skills\":[],\"locale\":\"de\"}}'
               END)::jsonb, at + 2000 FROM t WHERE i % 10 >= 7
             UNION ALL SELECT id, 'assigned', jsonb_build_object('agent', $4::bigint), at + 3000 FROM t WHERE i % 10 >= 7
             UNION ALL SELECT id, 'resolved', jsonb_build_object('by', $4::bigint), at + 90000 FROM t WHERE i % 10 >= 7
             UNION ALL SELECT id, 'rating', jsonb_build_object('score', 1 + i % 5, 'comment', NULL), at + 100000
               FROM t WHERE i % 5 = 2
             UNION ALL SELECT id, 'state', '{{\"from\":\"bot\",\"to\":\"queued\"}}'::jsonb, at + 2000 FROM t WHERE i % 10 >= 7
             UNION ALL SELECT id, 'state', '{{\"from\":\"queued\",\"to\":\"assigned\"}}'::jsonb, at + 3000 FROM t WHERE i % 10 >= 7
             UNION ALL SELECT id, 'state', '{{\"from\":\"assigned\",\"to\":\"resolved\"}}'::jsonb, at + 90000 FROM t WHERE i % 10 >= 7"
        ),
        &[&n, &from, &span, &agent],
    )
    .await?;
    exec(c, "ANALYZE", &[]).await?;
    Ok(())
}
