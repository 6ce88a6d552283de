//! Customers' data as a whole: erasure (GDPR Art. 17).

use super::*;

/// Erases what identifies the customer with `email` and what they wrote: every message text of
/// their conversations (the bot's and agents' replies too, which may quote them), their rating
/// comments, their name and address, and the conversation tokens (so those answer 404). What
/// analytics count stays, without a person behind it: the rollups' customer key becomes
/// `pseudonym`. Returns how many conversations were erased.
pub(crate) fn erase_customer(c: &Connection, email: &str, pseudonym: &str) -> Result<u64> {
    let ids: Vec<String> = c
        .prepare_cached(
            "SELECT id FROM conversations WHERE lower(trim(customer_email)) = lower(trim(?1))",
        )?
        .query_map([email], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for id in &ids {
        anonymize(c, id)?;
    }
    exec(
        c,
        "UPDATE rollup_customer_hours SET key = ?2 WHERE key = lower(trim(?1))",
        params![email, pseudonym],
    )?;
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
    Ok(())
}

/// Retention: erases, as [`erase_customer`] does, every conversation resolved before `cutoff`
/// (not erased yet), and replaces the address of every customer whose last message is older
/// than `cutoff` in the analytics by a pseudonym. Returns how many conversations.
pub(crate) fn erase_resolved_before(c: &Connection, cutoff: i64) -> Result<u64> {
    let ids: Vec<String> = c
        .prepare_cached(
            "SELECT id FROM conversations
             WHERE state = 'resolved' AND updated_at < ?1 AND token_hash NOT LIKE 'erased:%'",
        )?
        .query_map([cutoff], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for id in &ids {
        anonymize(c, id)?;
    }
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
    Ok(ids.len() as u64)
}
