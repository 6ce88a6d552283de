//! Customers' data as a whole: erasure (GDPR Art. 17).

use super::*;

/// Erases what identifies the customer with `email` and what they wrote (see the SQLite twin);
/// `c` is a transaction. Returns how many conversations were erased.
pub(crate) async fn erase_customer<C: GenericClient>(
    c: &C,
    email: &str,
    pseudonym: &str,
) -> Result<u64> {
    let rows = query(
        c,
        "SELECT id FROM conversations WHERE lower(trim(customer_email)) = lower(trim($1))",
        &[&email],
    )
    .await?;
    let ids: Vec<String> = rows
        .iter()
        .map(|r| r.try_get(0))
        .collect::<std::result::Result<_, _>>()?;
    anonymize(c, &ids).await?;
    exec(
        c,
        "UPDATE rollup_customer_hours SET key = $2 WHERE key = lower(trim($1))",
        &[&email, &pseudonym],
    )
    .await?;
    Ok(ids.len() as u64)
}

/// Empties the conversations `ids` of what a person wrote or is (see the SQLite twin).
async fn anonymize<C: GenericClient>(c: &C, ids: &[String]) -> Result<()> {
    exec(
        c,
        "UPDATE messages SET text = '' WHERE conversation_id = ANY($1)",
        &[&ids],
    )
    .await?;
    exec(
        c,
        "UPDATE events SET data = data - 'comment' WHERE conversation_id = ANY($1) AND kind = 'rating'",
        &[&ids],
    )
    .await?;
    exec(
        c,
        "UPDATE conversations SET customer_name = NULL, customer_email = NULL,
             token_hash = 'erased:' || id
         WHERE id = ANY($1)",
        &[&ids],
    )
    .await?;
    Ok(())
}

/// Retention (see the SQLite twin); `c` is a transaction.
pub(crate) async fn erase_resolved_before<C: GenericClient>(c: &C, cutoff: i64) -> Result<u64> {
    let rows = query(
        c,
        "SELECT id FROM conversations
         WHERE state = 'resolved' AND updated_at < $1 AND token_hash NOT LIKE 'erased:%'",
        &[&cutoff],
    )
    .await?;
    let ids: Vec<String> = rows
        .iter()
        .map(|r| r.try_get(0))
        .collect::<std::result::Result<_, _>>()?;
    anonymize(c, &ids).await?;
    let keys = query(
        c,
        "SELECT key FROM rollup_customer_hours WHERE key NOT LIKE 'erased:%'
         GROUP BY key HAVING MAX(hour) < $1",
        &[&cutoff],
    )
    .await?;
    for (n, row) in keys.iter().enumerate() {
        let key: String = row.try_get(0)?;
        exec(
            c,
            "UPDATE rollup_customer_hours SET key = $2 WHERE key = $1",
            &[&key, &format!("erased:expired:{cutoff}:{n}")],
        )
        .await?;
    }
    Ok(ids.len() as u64)
}
