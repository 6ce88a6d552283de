//! Whole-store export for `tandem migrate-store`, and bench seeding.

use super::*;

pub(crate) fn export_agents(c: &Connection) -> Result<Vec<AgentRecord>> {
    let sql = format!("SELECT {AGENT_COLUMNS}, password_hash, created_at FROM agents ORDER BY id");
    let mut stmt = c.prepare(&sql)?;
    let rows = stmt.query_map([], |r| {
        Ok(AgentRecord {
            agent: agent_row(r)?,
            password_hash: r.get(10)?,
            created_at_ms: r.get(11)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn export_sessions(c: &Connection) -> Result<Vec<Session>> {
    let mut stmt = c.prepare(
        "SELECT token_hash, agent_id, kind, csrf, expires_at FROM sessions ORDER BY token_hash",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(Session {
            token_hash: r.get(0)?,
            agent: AgentId::new(r.get(1)?),
            kind: if r.get::<_, String>(2)? == "console" {
                SessionKind::Console
            } else {
                SessionKind::Api
            },
            csrf: r.get(3)?,
            expires_at_ms: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn export_conversations(c: &Connection) -> Result<Vec<ConversationRecord>> {
    let mut stmt = c.prepare(
        "SELECT id, token_hash, state, locale, customer_name, customer_email, assignee_id, needs,
         priority, queued_at, created_at, updated_at, channel, subject
         FROM conversations ORDER BY created_at, id",
    )?;
    let rows = stmt.query_map([], |r| {
        let id: String = r.get(0)?;
        let needs: Option<String> = r.get(7)?;
        Ok(ConversationRecord {
            id: ConversationId::parse(&id).ok_or(rusqlite::Error::InvalidQuery)?,
            token_hash: r.get(1)?,
            state: parse_text(&r.get::<_, String>(2)?)?,
            locale: Locale::trusted(r.get(3)?),
            customer: Customer {
                name: r.get(4)?,
                email: r.get(5)?,
            },
            channel: parse_text(&r.get::<_, String>(12)?)?,
            subject: r.get(13)?,
            assignee: r.get::<_, Option<i64>>(6)?.map(AgentId::new),
            needs: needs.as_deref().map(parse_json::<Needs>).transpose()?,
            priority: r.get(8)?,
            queued_at_ms: r.get(9)?,
            created_at_ms: r.get(10)?,
            updated_at_ms: r.get(11)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn export_messages(c: &Connection, after: i64, limit: u32) -> Result<Vec<Message>> {
    let mut stmt = c.prepare_cached(
        "SELECT id, conversation_id, author, agent_id, action, text, created_at
         FROM messages WHERE id > ?1 ORDER BY id LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![after, limit], message_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn export_events(c: &Connection, after: i64, limit: u32) -> Result<Vec<Event>> {
    let mut stmt = c.prepare_cached(
        "SELECT id, conversation_id, kind, data, created_at FROM events
         WHERE id > ?1 ORDER BY id LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![after, limit], |r| {
        let conv: String = r.get(1)?;
        Ok(Event {
            id: r.get(0)?,
            conversation: ConversationId::parse(&conv).ok_or(rusqlite::Error::InvalidQuery)?,
            kind: r.get(2)?,
            data: parse_json(&r.get::<_, String>(3)?)?,
            created_at_ms: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// `tandem bench summary` only: `n` synthetic conversations over `[from, from + span)`, 30 %
/// handed off for one of four reason sets (queued, assigned to `agent`, answered, resolved, with
/// their `state` events), a fifth rated; a third without e-mail, the rest spread over 400,000
/// returning customers. Ids start `bench_`. The rollups are left to `rollup::rebuild`.
pub(crate) fn seed_bench(c: &Connection, n: i64, from: i64, span: i64, agent: i64) -> Result<()> {
    const S: &str =
        "WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i + 1 < ?1),
        t(i, id, at) AS (SELECT i, printf('bench_%08d', i), ?2 + i * ?3 / ?1 FROM s)";
    let n = n.max(1);
    exec(
        c,
        &format!(
            "{S} INSERT INTO conversations (id, token_hash, state, locale, customer_email, created_at, updated_at)
             SELECT id, 'bench', CASE WHEN i % 10 >= 7 THEN 'resolved' ELSE 'bot' END, 'de',
               CASE WHEN i % 3 = 0 THEN NULL ELSE 'c' || (i % 400000) || '@bench.example' END, at, at
             FROM t"
        ),
        params![n, from, span],
    )?;
    exec(
        c,
        &format!(
            "{S} INSERT INTO messages (conversation_id, author, agent_id, action, text, created_at)
             SELECT id, 'customer', NULL, NULL, 'Hallo', at FROM t
             UNION ALL SELECT id, 'bot', NULL, 'answer', 'Hallo!', at + 1000 FROM t
             UNION ALL SELECT id, 'agent', ?4, NULL, 'Ich helfe gern.', at + 60000 + (i % 600) * 1000
               FROM t WHERE i % 10 >= 7"
        ),
        params![n, from, span, agent],
    )?;
    exec(
        c,
        &format!(
            "{S} INSERT INTO events (conversation_id, kind, data, created_at)
             SELECT id, 'handoff', CASE i % 4
                 WHEN 0 THEN '{{\"reasons\":[\"human_requested\"],\"skills\":[],\"locale\":\"de\"}}'
                 WHEN 1 THEN '{{\"reasons\":[\"complaint\"],\"skills\":[],\"locale\":\"de\"}}'
                 WHEN 2 THEN '{{\"reasons\":[\"low_confidence\"],\"skills\":[],\"locale\":\"de\"}}'
                 ELSE '{{\"reasons\":[\"negative_sentiment\",\"human_requested\"],\"skills\":[],\"locale\":\"de\"}}'
               END, at + 2000 FROM t WHERE i % 10 >= 7
             UNION ALL SELECT id, 'assigned', '{{\"agent\":' || ?4 || '}}', at + 3000 FROM t WHERE i % 10 >= 7
             UNION ALL SELECT id, 'resolved', '{{\"by\":' || ?4 || '}}', at + 90000 FROM t WHERE i % 10 >= 7
             UNION ALL SELECT id, 'rating', '{{\"score\":' || (1 + i % 5) || ',\"comment\":null}}', at + 100000
               FROM t WHERE i % 5 = 2
             UNION ALL SELECT id, 'state', '{{\"from\":\"bot\",\"to\":\"queued\"}}', at + 2000 FROM t WHERE i % 10 >= 7
             UNION ALL SELECT id, 'state', '{{\"from\":\"queued\",\"to\":\"assigned\"}}', at + 3000 FROM t WHERE i % 10 >= 7
             UNION ALL SELECT id, 'state', '{{\"from\":\"assigned\",\"to\":\"resolved\"}}', at + 90000 FROM t WHERE i % 10 >= 7"
        ),
        params![n, from, span, agent],
    )?;
    Ok(())
}
