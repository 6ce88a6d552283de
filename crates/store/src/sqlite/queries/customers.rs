//! Customers' data as a whole: erasure (GDPR Art. 17).

use super::*;

/// Erases what identifies the customer with `email` and what they wrote: every message text of
/// their conversations (the bot's and agents' replies too, which may quote them), their rating
/// comments, their name and address, and the conversation tokens (so those answer 404). What
/// analytics count stays, without a person behind it: the rollups' customer key becomes
/// `pseudonym`. Returns how many conversations were erased.
pub(crate) fn erase_customer(c: &Connection, email: &str, pseudonym: &str) -> Result<u64> {
    let n = anonymize_where(c, "lower(trim(customer_email)) = lower(trim(?1))", [email])?;
    exec(
        c,
        "UPDATE rollup_customer_hours SET key = ?2 WHERE key = lower(trim(?1))",
        params![email, pseudonym],
    )?;
    Ok(n)
}

/// [`anonymize`]s every conversation matching `clause`; returns how many.
fn anonymize_where(c: &Connection, clause: &str, p: impl rusqlite::Params) -> Result<u64> {
    let ids: Vec<String> = c
        .prepare_cached(&format!("SELECT id FROM conversations WHERE {clause}"))?
        .query_map(p, |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for id in &ids {
        anonymize(c, id)?;
    }
    Ok(ids.len() as u64)
}

/// Empties one conversation of what a person wrote or is: message texts, rating comments, the
/// customer's name and address, the token.
fn anonymize(c: &Connection, id: &str) -> Result<()> {
    exec(
        c,
        "UPDATE messages SET text = '' WHERE conversation_id = ?1",
        [id],
    )?;
    exec(
        c,
        "UPDATE events SET data = json_remove(data, '$.comment')
         WHERE conversation_id = ?1 AND kind = 'rating'",
        [id],
    )?;
    exec(
        c,
        "UPDATE conversations SET customer_name = NULL, customer_email = NULL,
             token_hash = 'erased:' || id
         WHERE id = ?1",
        [id],
    )?;
    super::mail::erase_mail(c, id)
}

/// Retention: erases, as [`erase_customer`] does, every conversation resolved before `cutoff`
/// (not erased yet), and replaces the address of every customer whose last message is older
/// than `cutoff` in the analytics by a pseudonym. Returns how many conversations.
pub(crate) fn erase_resolved_before(c: &Connection, cutoff: i64) -> Result<u64> {
    let n = anonymize_where(
        c,
        "state = 'resolved' AND updated_at < ?1 AND token_hash NOT LIKE 'erased:%'",
        [cutoff],
    )?;
    let keys: Vec<String> = c
        .prepare_cached(
            "SELECT key FROM rollup_customer_hours WHERE key NOT LIKE 'erased:%'
             GROUP BY key HAVING MAX(hour) < ?1",
        )?
        .query_map([cutoff], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for (n, key) in keys.iter().enumerate() {
        exec(
            c,
            "UPDATE rollup_customer_hours SET key = ?2 WHERE key = ?1",
            params![key, format!("erased:expired:{cutoff}:{n}")],
        )?;
    }
    Ok(n)
}

pub(crate) fn audit(c: &Connection, e: &crate::AuditEntry) -> Result<()> {
    exec(
        c,
        "INSERT INTO audit (at, actor, action, target, address) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            e.at_ms,
            e.actor.map(AgentId::get),
            e.action,
            e.target,
            e.address
        ],
    )?;
    Ok(())
}

pub(crate) fn audit_log(
    c: &Connection,
    from: i64,
    to: i64,
    actor: Option<AgentId>,
    limit: u32,
) -> Result<Vec<crate::AuditEntry>> {
    let mut stmt = c.prepare_cached(
        "SELECT at, actor, action, target, address FROM audit
         WHERE at >= ?1 AND at < ?2 AND (?3 IS NULL OR actor = ?3)
         ORDER BY at DESC, id DESC LIMIT ?4",
    )?;
    let rows = stmt.query_map(params![from, to, actor.map(AgentId::get), limit], |r| {
        Ok(crate::AuditEntry {
            at_ms: r.get(0)?,
            actor: r.get::<_, Option<i64>>(1)?.map(AgentId::new),
            action: r.get(2)?,
            target: r.get(3)?,
            address: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
