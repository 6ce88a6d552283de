//! The e-mail channel's SQL on SQLite: the outbox, the customers' mail ids, attachments.

use desk::{Author, MailState};

use super::*;
use crate::sqlite::SqliteStore;
use crate::{Attachment, InboundMail, MailOutcome, MailStatus, Mailbox, OutboxMail, StoreError};

/// Run in the message's own insert: a bot or agent message of an e-mail conversation joins the
/// outbox; a customer's mail records its `Message-ID` (refusing one seen before) and attachments.
pub(crate) fn after_insert(
    c: &Connection,
    id: &ConversationId,
    message: i64,
    author: Author,
    mail: Option<&InboundMail>,
    now: i64,
) -> Result<()> {
    if matches!(author, Author::Bot | Author::Agent) {
        exec(
            c,
            "INSERT INTO outbox (message_id, conversation_id, state, next_at, created_at, updated_at)
             SELECT ?1, id, 'queued', ?3, ?3, ?3 FROM conversations WHERE id = ?2 AND channel = 'email'",
            params![message, id.as_str(), now],
        )?;
    }
    let Some(mail) = mail else { return Ok(()) };
    let seen = c
        .prepare_cached("SELECT 1 FROM mail_in WHERE mail_id = ?1")?
        .exists([&mail.mail_id])?;
    if seen {
        return Err(StoreError::Conflict("this mail was stored before".into()));
    }
    exec(
        c,
        "INSERT INTO mail_in (mail_id, conversation_id, message_id, received_at) VALUES (?1, ?2, ?3, ?4)",
        params![mail.mail_id, id.as_str(), message, now],
    )?;
    for a in &mail.attachments {
        exec(
            c,
            "INSERT INTO attachments (conversation_id, message_id, name, content_type, size, data, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![id.as_str(), message, a.name, a.content_type, a.size as i64, a.data, now],
        )?;
    }
    Ok(())
}

/// Erasure: what a customer's mails left besides their messages.
pub(crate) fn erase_mail(c: &Connection, id: &str) -> Result<()> {
    exec(
        c,
        "DELETE FROM attachments WHERE conversation_id = ?1",
        [id],
    )?;
    exec(c, "DELETE FROM mail_in WHERE conversation_id = ?1", [id])?;
    exec(
        c,
        "UPDATE outbox SET state = 'failed', last_error = 'erased'
         WHERE conversation_id = ?1 AND state IN ('queued', 'sending')",
        [id],
    )?;
    exec(
        c,
        "UPDATE conversations SET subject = NULL WHERE id = ?1",
        [id],
    )?;
    Ok(())
}

fn claim(c: &Connection, now: i64, lease: i64, limit: u32) -> Result<Vec<OutboxMail>> {
    let ids: Vec<i64> = c
        .prepare_cached(
            "UPDATE outbox SET state = 'sending', attempts = attempts + 1, next_at = ?2, updated_at = ?1
             WHERE message_id IN (SELECT message_id FROM outbox
                 WHERE state IN ('queued', 'sending') AND next_at <= ?1 ORDER BY next_at LIMIT ?3)
             RETURNING message_id",
        )?
        .query_map(params![now, now + lease, limit], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        out.push(outbox_mail(c, id)?);
    }
    out.sort_by_key(|m| m.message);
    Ok(out)
}

fn outbox_mail(c: &Connection, message: i64) -> Result<OutboxMail> {
    let mut mail = c
        .prepare_cached(
            "SELECT o.conversation_id, m.author, a.name, m.text, c.customer_email, c.customer_name,
                    c.subject, c.locale, o.attempts
             FROM outbox o JOIN messages m ON m.id = o.message_id
             JOIN conversations c ON c.id = o.conversation_id
             LEFT JOIN agents a ON a.id = m.agent_id WHERE o.message_id = ?1",
        )?
        .query_row([message], |r| {
            let conversation: String = r.get(0)?;
            Ok(OutboxMail {
                message: MessageId::new(message),
                conversation: ConversationId::parse(&conversation).ok_or_else(|| {
                    rusqlite::Error::FromSqlConversionFailure(
                        0,
                        rusqlite::types::Type::Text,
                        "bad conversation id".into(),
                    )
                })?,
                author: parse_text(&r.get::<_, String>(1)?)?,
                agent_name: r.get(2)?,
                text: r.get(3)?,
                to: r.get(4)?,
                customer_name: r.get(5)?,
                subject: r.get(6)?,
                locale: Locale::trusted(r.get(7)?),
                attempts: r.get(8)?,
                earlier: Vec::new(),
                theirs: Vec::new(),
            })
        })?;
    let conv = mail.conversation.as_str().to_owned();
    mail.earlier = c
        .prepare_cached(
            "SELECT message_id FROM outbox WHERE conversation_id = ?1 AND message_id < ?2
             AND state = 'sent' ORDER BY message_id",
        )?
        .query_map(params![conv, message], |r| r.get(0).map(MessageId::new))?
        .collect::<rusqlite::Result<_>>()?;
    mail.theirs = c
        .prepare_cached(
            "SELECT mail_id FROM mail_in WHERE conversation_id = ?1 AND message_id < ?2
             ORDER BY message_id",
        )?
        .query_map(params![conv, message], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(mail)
}

fn outcome(c: &Connection, message: i64, outcome: &MailOutcome, now: i64) -> Result<()> {
    let (state, next_at, error) = match outcome {
        MailOutcome::Sent => (MailState::Sent, now, None),
        MailOutcome::Retry { at_ms, error } => (MailState::Queued, *at_ms, Some(error)),
        MailOutcome::Failed { error } => (MailState::Failed, now, Some(error)),
        MailOutcome::Bounced { error } => (MailState::Bounced, now, Some(error)),
    };
    let n = exec(
        c,
        "UPDATE outbox SET state = ?2, next_at = ?3, last_error = ?4, updated_at = ?5
         WHERE message_id = ?1",
        params![message, state.as_str(), next_at, error, now],
    )?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

fn status(c: &Connection, id: &str) -> Result<Vec<MailStatus>> {
    Ok(c.prepare_cached(
        "SELECT message_id, state, attempts, last_error, updated_at FROM outbox
             WHERE conversation_id = ?1 ORDER BY message_id",
    )?
    .query_map([id], |r| {
        Ok(MailStatus {
            message: MessageId::new(r.get(0)?),
            state: parse_text(&r.get::<_, String>(1)?)?,
            attempts: r.get(2)?,
            last_error: r.get(3)?,
            updated_at_ms: r.get(4)?,
        })
    })?
    .collect::<rusqlite::Result<_>>()?)
}

const ATTACHMENT_COLUMNS: &str = "id, message_id, name, content_type, size, data IS NOT NULL";

fn attachment_row(r: &Row<'_>) -> rusqlite::Result<Attachment> {
    Ok(Attachment {
        id: r.get(0)?,
        message: r.get::<_, Option<i64>>(1)?.map(MessageId::new),
        name: r.get(2)?,
        content_type: r.get(3)?,
        size: r.get::<_, i64>(4)?.max(0) as u64,
        kept: r.get(5)?,
    })
}

#[async_trait::async_trait]
impl Mailbox for SqliteStore {
    async fn use_email(&self, id: &ConversationId, email: &str) -> Result<()> {
        let (id, email) = (id.as_str().to_owned(), email.to_owned());
        let now = self.clock.now_ms();
        self.writer
            .write(move |c| {
                let n = exec(
                    c,
                    "UPDATE conversations SET channel = 'email', customer_email = ?2, updated_at = ?3
                     WHERE id = ?1",
                    params![id, email, now],
                )?;
                if n == 0 {
                    return Err(StoreError::NotFound);
                }
                Ok(())
            })
            .await
    }

    async fn claim_mail(&self, now_ms: i64, lease_ms: i64, limit: u32) -> Result<Vec<OutboxMail>> {
        self.writer
            .write(move |c| claim(c, now_ms, lease_ms, limit))
            .await
    }

    async fn mail_outcome(&self, message: MessageId, result: MailOutcome) -> Result<()> {
        let now = self.clock.now_ms();
        self.writer
            .write(move |c| outcome(c, message.get(), &result, now))
            .await
    }

    async fn mail_status(&self, id: &ConversationId) -> Result<Vec<MailStatus>> {
        let id = id.as_str().to_owned();
        self.read(move |c| status(c, &id)).await
    }

    async fn mail_seen(&self, mail_id: &str) -> Result<Option<ConversationId>> {
        let mail_id = mail_id.to_owned();
        self.read(move |c| {
            let id: Option<String> = c
                .prepare_cached("SELECT conversation_id FROM mail_in WHERE mail_id = ?1")?
                .query_row([mail_id], |r| r.get(0))
                .optional()?;
            Ok(id.and_then(|s| ConversationId::parse(&s)))
        })
        .await
    }

    async fn attachments(&self, id: &ConversationId) -> Result<Vec<Attachment>> {
        let id = id.as_str().to_owned();
        self.read(move |c| {
            Ok(c.prepare_cached(&format!(
                "SELECT {ATTACHMENT_COLUMNS} FROM attachments WHERE conversation_id = ?1 ORDER BY id"
            ))?
            .query_map([id], attachment_row)?
            .collect::<rusqlite::Result<_>>()?)
        })
        .await
    }

    async fn attachment(
        &self,
        id: &ConversationId,
        attachment: i64,
    ) -> Result<Option<(Attachment, Vec<u8>)>> {
        let id = id.as_str().to_owned();
        self.read(move |c| {
            Ok(c.prepare_cached(&format!(
                "SELECT {ATTACHMENT_COLUMNS}, data FROM attachments
                 WHERE conversation_id = ?1 AND id = ?2 AND data IS NOT NULL"
            ))?
            .query_row(params![id, attachment], |r| {
                Ok((attachment_row(r)?, r.get::<_, Vec<u8>>(6)?))
            })
            .optional()?)
        })
        .await
    }

    async fn outbox_counts(&self) -> Result<Vec<(MailState, u64)>> {
        self.read(|c| {
            let rows: Vec<(String, i64)> = c
                .prepare_cached("SELECT state, COUNT(*) FROM outbox GROUP BY state")?
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            rows.into_iter()
                .map(|(s, n)| {
                    let state = s.parse().map_err(StoreError::Backend)?;
                    Ok((state, n.max(0) as u64))
                })
                .collect()
        })
        .await
    }
}
