//! Customers' data as a whole: erasure (GDPR Art. 17).

use super::*;

/// Erases what identifies the customer with `email` and what they wrote (see the SQLite twin);
/// `c` is a transaction. Returns how many conversations were erased.
pub(crate) async fn erase_customer<C: GenericClient>(
    c: &C,
    email: &str,
    pseudonym: &str,
) -> Result<u64> {
    let n = anonymize_where(
        c,
        "lower(trim(customer_email)) = lower(trim($1))",
        &[&email],
    )
    .await?;
    exec(
        c,
        "UPDATE rollup_customer_hours SET key = $2 WHERE key = lower(trim($1))",
        &[&email, &pseudonym],
    )
    .await?;
    Ok(n)
}

/// Empties every conversation matching `clause` of what a person wrote or is (see the SQLite
/// twin); returns how many.
async fn anonymize_where<C: GenericClient>(
    c: &C,
    clause: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<u64> {
    let ids: Vec<String> = query(
        c,
        &format!("SELECT id FROM conversations WHERE {clause}"),
        params,
    )
    .await?
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
    super::mail::erase_mail(c, &ids).await?;
    Ok(ids.len() as u64)
}

/// Retention (see the SQLite twin); `c` is a transaction.
pub(crate) async fn erase_resolved_before<C: GenericClient>(c: &C, cutoff: i64) -> Result<u64> {
    let n = anonymize_where(
        c,
        "state = 'resolved' AND updated_at < $1 AND token_hash NOT LIKE 'erased:%'",
        &[&cutoff],
    )
    .await?;
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
    Ok(n)
}

pub(crate) async fn audit<C: GenericClient>(c: &C, e: &crate::AuditEntry) -> Result<()> {
    exec(
        c,
        "INSERT INTO audit (at, actor, action, target, address) VALUES ($1, $2, $3, $4, $5)",
        &[
            &e.at_ms,
            &e.actor.map(AgentId::get),
            &e.action,
            &e.target,
            &e.address,
        ],
    )
    .await?;
    Ok(())
}

pub(crate) async fn audit_log<C: GenericClient>(
    c: &C,
    from: i64,
    to: i64,
    actor: Option<AgentId>,
    limit: u32,
) -> Result<Vec<crate::AuditEntry>> {
    let rows = query(
        c,
        "SELECT at, actor, action, target, address FROM audit
         WHERE at >= $1 AND at < $2 AND ($3::BIGINT IS NULL OR actor = $3)
         ORDER BY at DESC, id DESC LIMIT $4",
        &[&from, &to, &actor.map(AgentId::get), &i64::from(limit)],
    )
    .await?;
    rows.iter()
        .map(|r| {
            Ok(crate::AuditEntry {
                at_ms: r.try_get(0)?,
                actor: r.try_get::<_, Option<i64>>(1)?.map(AgentId::new),
                action: r.try_get(2)?,
                target: r.try_get(3)?,
                address: r.try_get(4)?,
            })
        })
        .collect()
}
