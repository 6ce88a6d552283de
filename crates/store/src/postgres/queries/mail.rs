//! The e-mail channel's SQL on PostgreSQL (see the SQLite twin for what each step means).

use desk::MailState;

use super::*;
use crate::postgres::PgStore;
use crate::{Attachment, InboundMail, MailOutcome, MailStatus, Mailbox, OutboxMail, StoreError};

/// Bot and agent messages of an e-mail conversation join the outbox (in their own transaction).
pub(crate) async fn queue<C: GenericClient>(
    c: &C,
    id: &ConversationId,
    messages: &[i64],
    now: i64,
) -> Result<()> {
    if messages.is_empty() {
        return Ok(());
    }
    exec(
        c,
        "INSERT INTO outbox (message_id, conversation_id, state, next_at, created_at, updated_at)
         SELECT m, $2, 'queued', $3, $3, $3 FROM unnest($1::bigint[]) AS m",
        &[&messages, &id.as_str(), &now],
    )
    .await?;
    Ok(())
}

/// A customer's mail: its `Message-ID` (a second delivery is refused whole) and attachments.
pub(crate) async fn received<C: GenericClient>(
    c: &C,
    id: &ConversationId,
    message: i64,
    mail: &InboundMail,
    now: i64,
) -> Result<()> {
    let n = exec(
        c,
        "INSERT INTO mail_in (mail_id, conversation_id, message_id, received_at)
         VALUES ($1, $2, $3, $4) ON CONFLICT (mail_id) DO NOTHING",
        &[&mail.mail_id, &id.as_str(), &message, &now],
    )
    .await?;
    if n == 0 {
        return Err(StoreError::Conflict("this mail was stored before".into()));
    }
    for a in &mail.attachments {
        exec(
            c,
            "INSERT INTO attachments (conversation_id, message_id, name, content_type, size, data, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[&id.as_str(), &message, &a.name, &a.content_type, &(a.size as i64), &a.data, &now],
        )
        .await?;
    }
    Ok(())
}

pub(crate) async fn erase_mail<C: GenericClient>(c: &C, ids: &[String]) -> Result<()> {
    exec(
        c,
        "DELETE FROM attachments WHERE conversation_id = ANY($1)",
        &[&ids],
    )
    .await?;
    exec(
        c,
        "DELETE FROM mail_in WHERE conversation_id = ANY($1)",
        &[&ids],
    )
    .await?;
    exec(
        c,
        "UPDATE outbox SET state = 'failed', last_error = 'erased'
         WHERE conversation_id = ANY($1) AND state IN ('queued', 'sending')",
        &[&ids],
    )
    .await?;
    exec(
        c,
        "UPDATE conversations SET subject = NULL WHERE id = ANY($1)",
        &[&ids],
    )
    .await?;
    Ok(())
}

async fn outbox_mail<C: GenericClient>(c: &C, message: i64) -> Result<OutboxMail> {
    let r = query_opt(
        c,
        "SELECT o.conversation_id, m.author, a.name, m.text, c.customer_email, c.customer_name,
                c.subject, c.locale, o.attempts
         FROM outbox o JOIN messages m ON m.id = o.message_id
         JOIN conversations c ON c.id = o.conversation_id
         LEFT JOIN agents a ON a.id = m.agent_id WHERE o.message_id = $1",
        &[&message],
    )
    .await?
    .ok_or(StoreError::NotFound)?;
    let conversation = conversation_id(r.try_get(0)?)?;
    let earlier = query(
        c,
        "SELECT message_id FROM outbox WHERE conversation_id = $1 AND message_id < $2
         AND state = 'sent' ORDER BY message_id",
        &[&conversation.as_str(), &message],
    )
    .await?
    .iter()
    .map(|r| r.try_get(0).map(MessageId::new))
    .collect::<std::result::Result<_, _>>()?;
    let theirs = query(
        c,
        "SELECT mail_id FROM mail_in WHERE conversation_id = $1 AND message_id < $2
         ORDER BY message_id",
        &[&conversation.as_str(), &message],
    )
    .await?
    .iter()
    .map(|r| r.try_get(0))
    .collect::<std::result::Result<_, _>>()?;
    Ok(OutboxMail {
        message: MessageId::new(message),
        conversation,
        author: parse_text(r.try_get(1)?)?,
        agent_name: r.try_get(2)?,
        text: r.try_get(3)?,
        to: r.try_get(4)?,
        customer_name: r.try_get(5)?,
        subject: r.try_get(6)?,
        locale: Locale::trusted(r.try_get(7)?),
        attempts: r.try_get::<_, i32>(8)?.max(0) as u32,
        earlier,
        theirs,
    })
}

fn attachment_row(r: &Row) -> Result<Attachment> {
    Ok(Attachment {
        id: r.try_get(0)?,
        message: r.try_get::<_, Option<i64>>(1)?.map(MessageId::new),
        name: r.try_get(2)?,
        content_type: r.try_get(3)?,
        size: r.try_get::<_, i64>(4)?.max(0) as u64,
        kept: r.try_get(5)?,
    })
}

const ATTACHMENT_COLUMNS: &str = "id, message_id, name, content_type, size, data IS NOT NULL";

#[async_trait::async_trait]
impl Mailbox for PgStore {
    async fn use_email(&self, id: &ConversationId, email: &str) -> Result<()> {
        let n = exec(
            &self.client().await?,
            "UPDATE conversations SET channel = 'email', customer_email = $2, updated_at = $3
             WHERE id = $1",
            &[&id.as_str(), &email, &self.clock.now_ms()],
        )
        .await?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn claim_mail(&self, now_ms: i64, lease_ms: i64, limit: u32) -> Result<Vec<OutboxMail>> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        // SKIP LOCKED: two nodes sending at once never claim the same mail.
        let ids: Vec<i64> = query(
            &tx,
            "UPDATE outbox SET state = 'sending', attempts = attempts + 1, next_at = $2, updated_at = $1
             WHERE message_id IN (SELECT message_id FROM outbox
                 WHERE state IN ('queued', 'sending') AND next_at <= $1
                 ORDER BY next_at LIMIT $3 FOR UPDATE SKIP LOCKED)
             RETURNING message_id",
            &[&now_ms, &(now_ms + lease_ms), &i64::from(limit)],
        )
        .await?
        .iter()
        .map(|r| r.try_get(0))
        .collect::<std::result::Result<_, _>>()?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.push(outbox_mail(&tx, id).await?);
        }
        tx.commit().await?;
        out.sort_by_key(|m| m.message);
        Ok(out)
    }

    async fn mail_outcome(&self, message: MessageId, outcome: MailOutcome) -> Result<()> {
        let now = self.clock.now_ms();
        let (state, next_at, error) = match &outcome {
            MailOutcome::Sent => (MailState::Sent, now, None),
            MailOutcome::Retry { at_ms, error } => (MailState::Queued, *at_ms, Some(error)),
            MailOutcome::Failed { error } => (MailState::Failed, now, Some(error)),
            MailOutcome::Bounced { error } => (MailState::Bounced, now, Some(error)),
        };
        let n = exec(
            &self.client().await?,
            "UPDATE outbox SET state = $2, next_at = $3, last_error = $4, updated_at = $5
             WHERE message_id = $1",
            &[&message.get(), &state.as_str(), &next_at, &error, &now],
        )
        .await?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn mail_status(&self, id: &ConversationId) -> Result<Vec<MailStatus>> {
        query(
            &self.client().await?,
            "SELECT message_id, state, attempts, last_error, updated_at FROM outbox
             WHERE conversation_id = $1 ORDER BY message_id",
            &[&id.as_str()],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(MailStatus {
                message: MessageId::new(r.try_get(0)?),
                state: parse_text(r.try_get(1)?)?,
                attempts: r.try_get::<_, i32>(2)?.max(0) as u32,
                last_error: r.try_get(3)?,
                updated_at_ms: r.try_get(4)?,
            })
        })
        .collect()
    }

    async fn mail_seen(&self, mail_id: &str) -> Result<Option<ConversationId>> {
        let row = query_opt(
            &self.client().await?,
            "SELECT conversation_id FROM mail_in WHERE mail_id = $1",
            &[&mail_id],
        )
        .await?;
        row.map(|r| conversation_id(r.try_get(0)?)).transpose()
    }

    async fn attachments(&self, id: &ConversationId) -> Result<Vec<Attachment>> {
        query(
            &self.client().await?,
            &format!(
                "SELECT {ATTACHMENT_COLUMNS} FROM attachments WHERE conversation_id = $1 ORDER BY id"
            ),
            &[&id.as_str()],
        )
        .await?
        .iter()
        .map(attachment_row)
        .collect()
    }

    async fn attachment(
        &self,
        id: &ConversationId,
        attachment: i64,
    ) -> Result<Option<(Attachment, Vec<u8>)>> {
        let row = query_opt(
            &self.client().await?,
            &format!(
                "SELECT {ATTACHMENT_COLUMNS}, data FROM attachments
                 WHERE conversation_id = $1 AND id = $2 AND data IS NOT NULL"
            ),
            &[&id.as_str(), &attachment],
        )
        .await?;
        row.map(|r| Ok((attachment_row(&r)?, r.try_get::<_, Vec<u8>>(6)?)))
            .transpose()
    }

    async fn outbox_counts(&self) -> Result<Vec<(MailState, u64)>> {
        query(
            &self.client().await?,
            "SELECT state, COUNT(*) FROM outbox GROUP BY state",
            &[],
        )
        .await?
        .iter()
        .map(|r| {
            let state = parse_text(r.try_get(0)?)?;
            Ok((state, r.try_get::<_, i64>(1)?.max(0) as u64))
        })
        .collect()
    }
}
