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
    }
    exec(
        c,
        "UPDATE rollup_customer_hours SET key = ?2 WHERE key = lower(trim(?1))",
        params![email, pseudonym],
    )?;
    Ok(ids.len() as u64)
}
