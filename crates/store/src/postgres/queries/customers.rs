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
    exec(
        c,
        "UPDATE rollup_customer_hours SET key = $2 WHERE key = lower(trim($1))",
        &[&email, &pseudonym],
    )
    .await?;
    Ok(ids.len() as u64)
}
