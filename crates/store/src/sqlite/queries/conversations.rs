//! Reading conversations, their messages and events; writing messages and events.

use super::*;

pub(crate) const CONVERSATION_SELECT: &str =
    "SELECT c.id, c.token_hash, c.state, c.locale, c.customer_name,
    c.customer_email, c.assignee_id, a.name, c.needs, c.created_at, c.updated_at, c.queued_at,
    c.assigned_at, c.channel, c.subject FROM conversations c LEFT JOIN agents a ON a.id = c.assignee_id";

pub(crate) fn conversation_row(r: &Row<'_>) -> rusqlite::Result<Conversation> {
    let id: String = r.get(0)?;
    let assignee = match (r.get::<_, Option<i64>>(6)?, r.get::<_, Option<String>>(7)?) {
        (Some(id), Some(name)) => Some(Assignee {
            id: AgentId::new(id),
            name,
        }),
        _ => None,
    };
    let needs: Option<String> = r.get(8)?;
    Ok(Conversation {
        id: ConversationId::parse(&id).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                0,
                rusqlite::types::Type::Text,
                "bad conversation id".into(),
            )
        })?,
        token_hash: r.get(1)?,
        state: parse_text(&r.get::<_, String>(2)?)?,
        locale: Locale::trusted(r.get(3)?),
        customer: Customer {
            name: r.get(4)?,
            email: r.get(5)?,
        },
        channel: parse_text(&r.get::<_, String>(13)?)?,
        subject: r.get(14)?,
        assignee,
        handoff: needs.as_deref().map(parse_json::<Needs>).transpose()?,
        created_at_ms: r.get(9)?,
        updated_at_ms: r.get(10)?,
        queued_at_ms: r.get(11)?,
        assigned_at_ms: r.get(12)?,
    })
}

pub(crate) fn conversation(c: &Connection, id: &ConversationId) -> Result<Option<Conversation>> {
    let sql = format!("{CONVERSATION_SELECT} WHERE c.id = ?1");
    let mut stmt = c.prepare_cached(&sql)?;
    Ok(stmt.query_row([id.as_str()], conversation_row).optional()?)
}

pub(crate) fn conversations_where(
    c: &Connection,
    clause: &str,
    p: impl rusqlite::Params,
) -> Result<Vec<Conversation>> {
    let sql = format!("{CONVERSATION_SELECT} WHERE {clause}");
    let mut stmt = c.prepare_cached(&sql)?;
    let rows = stmt.query_map(p, conversation_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn assigned_to(c: &Connection, agent: AgentId) -> Result<Vec<Conversation>> {
    conversations_where(
        c,
        "c.assignee_id = ?1 AND c.state = 'assigned' ORDER BY c.updated_at DESC",
        [agent.get()],
    )
}

/// The conversations of the customer with this e-mail (any case), oldest first.
pub(crate) fn of_customer(c: &Connection, email: &str) -> Result<Vec<Conversation>> {
    conversations_where(
        c,
        "lower(trim(c.customer_email)) = lower(trim(?1)) ORDER BY c.created_at, c.id",
        [email],
    )
}

pub(crate) fn conversations_created(
    c: &Connection,
    from: i64,
    to: i64,
    limit: u32,
) -> Result<Vec<Conversation>> {
    conversations_where(
        c,
        "c.created_at >= ?1 AND c.created_at < ?2 ORDER BY c.created_at, c.id LIMIT ?3",
        params![from, to, limit],
    )
}

pub(crate) fn queue(c: &Connection) -> Result<Vec<Conversation>> {
    conversations_where(
        c,
        "c.state = 'queued' ORDER BY c.priority DESC, c.queued_at ASC",
        [],
    )
}

pub(crate) fn message_row(r: &Row<'_>) -> rusqlite::Result<Message> {
    let conv: String = r.get(1)?;
    Ok(Message {
        id: MessageId::new(r.get(0)?),
        conversation: ConversationId::parse(&conv).ok_or(rusqlite::Error::InvalidQuery)?,
        author: parse_text(&r.get::<_, String>(2)?)?,
        agent: r.get::<_, Option<i64>>(3)?.map(AgentId::new),
        action: r
            .get::<_, Option<String>>(4)?
            .map(|a| parse_json(&format!("\"{a}\"")))
            .transpose()?,
        text: r.get(5)?,
        created_at_ms: r.get(6)?,
    })
}

pub(crate) fn messages(c: &Connection, id: &ConversationId) -> Result<Vec<Message>> {
    let mut stmt = c.prepare_cached(
        "SELECT id, conversation_id, author, agent_id, action, text, created_at
         FROM messages WHERE conversation_id = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([id.as_str()], message_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn latest_messages(
    c: &Connection,
    id: &ConversationId,
    n: usize,
) -> Result<Vec<Message>> {
    // The limit is written into the statement: as a bound parameter, SQLite prepared the
    // statement again on every run (measured: a sixth of the desk's time).
    let mut stmt = c.prepare_cached(&format!(
        "SELECT id, conversation_id, author, agent_id, action, text, created_at
         FROM messages WHERE conversation_id = ?1 ORDER BY id DESC LIMIT {n}"
    ))?;
    let rows = stmt.query_map([id.as_str()], message_row)?;
    let mut latest = rows.collect::<rusqlite::Result<Vec<_>>>()?;
    latest.reverse();
    Ok(latest)
}

pub(crate) fn messages_by_ids(
    c: &Connection,
    id: &ConversationId,
    ids: &[MessageId],
) -> Result<Vec<Message>> {
    let (Some(lo), Some(hi)) = (ids.iter().min(), ids.iter().max()) else {
        return Ok(Vec::new());
    };
    let mut stmt = c.prepare_cached(
        "SELECT id, conversation_id, author, agent_id, action, text, created_at
         FROM messages WHERE conversation_id = ?1 AND id BETWEEN ?2 AND ?3 ORDER BY id",
    )?;
    let rows = stmt.query_map(params![id.as_str(), lo.get(), hi.get()], message_row)?;
    let all: Vec<Message> = rows.collect::<rusqlite::Result<_>>()?;
    Ok(all.into_iter().filter(|m| ids.contains(&m.id)).collect())
}

pub(crate) fn insert_messages(
    c: &Connection,
    id: &ConversationId,
    new: Vec<NewMessage>,
    now: i64,
) -> Result<Vec<Message>> {
    let mut stmt = c.prepare_cached(
        "INSERT INTO messages (conversation_id, author, agent_id, action, text, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    let mut out = Vec::with_capacity(new.len());
    for m in new {
        let action = m.action.map(|a| json(&a).trim_matches('"').to_owned());
        stmt.execute(params![
            id.as_str(),
            m.author.as_str(),
            m.agent.map(|a| a.get()),
            action,
            m.text,
            now
        ])?;
        let message = c.last_insert_rowid();
        super::mail::after_insert(c, id, message, m.author, m.mail.as_ref(), now)?;
        out.push(Message::stored(MessageId::new(message), id, m, now));
    }
    Ok(out)
}

pub(crate) fn log_event(
    c: &Connection,
    id: &ConversationId,
    event: &NewEvent,
    now: i64,
) -> Result<()> {
    let mut stmt = c.prepare_cached(
        "INSERT INTO events (conversation_id, kind, data, created_at) VALUES (?1, ?2, ?3, ?4)",
    )?;
    stmt.execute(params![
        id.as_str(),
        event.kind.as_str(),
        event.data.to_string(),
        now
    ])?;
    Ok(())
}

pub(crate) fn log_events(
    c: &Connection,
    id: &ConversationId,
    events: &[NewEvent],
    now: i64,
) -> Result<()> {
    events.iter().try_for_each(|e| log_event(c, id, e, now))
}

pub(crate) fn events(c: &Connection, id: &ConversationId) -> Result<Vec<Event>> {
    let mut stmt = c.prepare_cached(
        "SELECT id, kind, data, created_at FROM events WHERE conversation_id = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([id.as_str()], |r| {
        Ok(Event {
            id: r.get(0)?,
            conversation: id.clone(),
            kind: r.get(1)?,
            data: parse_json(&r.get::<_, String>(2)?)?,
            created_at_ms: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
