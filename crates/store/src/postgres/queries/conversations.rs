//! Reading conversations, their messages and events; writing messages and events.

use super::*;

pub(crate) const CONVERSATION_SELECT: &str =
    "SELECT c.id, c.token_hash, c.state, c.locale, c.customer_name,
    c.customer_email, c.assignee_id, a.name, c.needs, c.created_at, c.updated_at, c.queued_at,
    c.assigned_at, c.channel, c.subject FROM conversations c LEFT JOIN agents a ON a.id = c.assignee_id";

pub(crate) fn conversation_row(r: &Row) -> Result<Conversation> {
    let assignee = match (
        r.try_get::<_, Option<i64>>(6)?,
        r.try_get::<_, Option<String>>(7)?,
    ) {
        (Some(id), Some(name)) => Some(Assignee {
            id: AgentId::new(id),
            name,
        }),
        _ => None,
    };
    Ok(Conversation {
        id: conversation_id(r.try_get(0)?)?,
        token_hash: r.try_get(1)?,
        state: parse_text(r.try_get(2)?)?,
        locale: Locale::trusted(r.try_get(3)?),
        customer: Customer {
            name: r.try_get(4)?,
            email: r.try_get(5)?,
        },
        channel: parse_text(r.try_get(13)?)?,
        subject: r.try_get(14)?,
        assignee,
        handoff: r.try_get::<_, Option<Json<Needs>>>(8)?.map(|j| j.0),
        created_at_ms: r.try_get(9)?,
        updated_at_ms: r.try_get(10)?,
        queued_at_ms: r.try_get(11)?,
        assigned_at_ms: r.try_get(12)?,
    })
}

pub(crate) async fn conversation<C: GenericClient>(
    c: &C,
    id: &ConversationId,
) -> Result<Option<Conversation>> {
    let sql = format!("{CONVERSATION_SELECT} WHERE c.id = $1");
    query_opt(c, &sql, &[&id.as_str()])
        .await?
        .as_ref()
        .map(conversation_row)
        .transpose()
}

/// The conversations of the customer with this e-mail (any case), oldest first.
pub(crate) async fn of_customer<C: GenericClient>(c: &C, email: &str) -> Result<Vec<Conversation>> {
    let sql = format!(
        "{CONVERSATION_SELECT} WHERE lower(trim(c.customer_email)) = lower(trim($1)) \
         ORDER BY c.created_at, c.id"
    );
    query(c, &sql, &[&email])
        .await?
        .iter()
        .map(conversation_row)
        .collect()
}

pub(crate) async fn assigned_to<C: GenericClient>(
    c: &C,
    agent: AgentId,
) -> Result<Vec<Conversation>> {
    let sql = format!(
        "{CONVERSATION_SELECT} WHERE c.assignee_id = $1 AND c.state = 'assigned' ORDER BY c.updated_at DESC"
    );
    query(c, &sql, &[&agent.get()])
        .await?
        .iter()
        .map(conversation_row)
        .collect()
}

pub(crate) async fn conversations_created<C: GenericClient>(
    c: &C,
    from: i64,
    to: i64,
    limit: u32,
) -> Result<Vec<Conversation>> {
    let sql = format!(
        "{CONVERSATION_SELECT} WHERE c.created_at >= $1 AND c.created_at < $2
         ORDER BY c.created_at, c.id LIMIT $3"
    );
    query(c, &sql, &[&from, &to, &i64::from(limit)])
        .await?
        .iter()
        .map(conversation_row)
        .collect()
}

pub(crate) const QUEUE_ORDER: &str =
    "WHERE c.state = 'queued' ORDER BY c.priority DESC, c.queued_at ASC";

pub(crate) async fn queue<C: GenericClient>(c: &C) -> Result<Vec<Conversation>> {
    let sql = format!("{CONVERSATION_SELECT} {QUEUE_ORDER}");
    query(c, &sql, &[])
        .await?
        .iter()
        .map(conversation_row)
        .collect()
}

pub(crate) const MESSAGE_COLUMNS: &str =
    "id, conversation_id, author, agent_id, action, text, created_at";

pub(crate) fn message_row(r: &Row) -> Result<Message> {
    Ok(Message {
        id: MessageId::new(r.try_get(0)?),
        conversation: conversation_id(r.try_get(1)?)?,
        author: parse_text(r.try_get(2)?)?,
        agent: r.try_get::<_, Option<i64>>(3)?.map(AgentId::new),
        action: r
            .try_get::<_, Option<&str>>(4)?
            .map(|a| serde_json::from_value(serde_json::Value::String(a.to_owned())))
            .transpose()
            .map_err(bad_row)?,
        text: r.try_get(5)?,
        created_at_ms: r.try_get(6)?,
    })
}

pub(crate) async fn messages<C: GenericClient>(c: &C, id: &ConversationId) -> Result<Vec<Message>> {
    let sql =
        format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = $1 ORDER BY id");
    query(c, &sql, &[&id.as_str()])
        .await?
        .iter()
        .map(message_row)
        .collect()
}

pub(crate) async fn latest_messages<C: GenericClient>(
    c: &C,
    id: &ConversationId,
    n: usize,
) -> Result<Vec<Message>> {
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = $1 ORDER BY id DESC LIMIT $2"
    );
    let mut latest = query(c, &sql, &[&id.as_str(), &(n as i64)])
        .await?
        .iter()
        .map(message_row)
        .collect::<Result<Vec<_>>>()?;
    latest.reverse();
    Ok(latest)
}

/// The changes of a batch of notices in one round trip (two statements, pipelined).
pub(crate) async fn changes<C: GenericClient>(
    c: &C,
    notices: &[crate::ChangeNotice],
) -> Result<Vec<Appended>> {
    let ids: Vec<&str> = notices.iter().map(|n| n.conversation.as_str()).collect();
    let message_ids: Vec<i64> = notices
        .iter()
        .flat_map(|n| n.messages.iter().map(|m| m.get()))
        .collect();
    let conversations_sql = format!("{CONVERSATION_SELECT} WHERE c.id = ANY($1)");
    let messages_sql =
        format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ANY($1) ORDER BY id");
    let (by_conversation, by_message): (
        [&(dyn tokio_postgres::types::ToSql + Sync); 1],
        [&(dyn tokio_postgres::types::ToSql + Sync); 1],
    ) = ([&ids], [&message_ids]);
    let (conversations, messages) = tokio::try_join!(
        query(c, &conversations_sql, &by_conversation),
        query(c, &messages_sql, &by_message)
    )?;
    let conversations = conversations
        .iter()
        .map(|r| conversation_row(r).map(|c| (c.id.clone(), c)))
        .collect::<Result<std::collections::HashMap<_, _>>>()?;
    let mut messages = messages
        .iter()
        .map(|r| message_row(r).map(|m| (m.id, m)))
        .collect::<Result<std::collections::HashMap<_, _>>>()?;
    Ok(notices
        .iter()
        .filter_map(|n| {
            let conversation = conversations.get(&n.conversation)?.clone();
            let messages = n
                .messages
                .iter()
                .filter_map(|id| messages.remove(id))
                .filter(|m| m.conversation == n.conversation)
                .collect();
            Some(Appended {
                conversation,
                messages,
                state_changed: n.state_changed,
            })
        })
        .collect())
}

pub(crate) async fn messages_by_ids<C: GenericClient>(
    c: &C,
    id: &ConversationId,
    ids: &[MessageId],
) -> Result<Vec<Message>> {
    let ids: Vec<i64> = ids.iter().map(|m| m.get()).collect();
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = $1 AND id = ANY($2) ORDER BY id"
    );
    query(c, &sql, &[&id.as_str(), &ids])
        .await?
        .iter()
        .map(message_row)
        .collect()
}

pub(crate) fn action_text(m: &NewMessage) -> Option<String> {
    m.action.and_then(|a| match serde_json::to_value(a) {
        Ok(serde_json::Value::String(s)) => Some(s),
        _ => None,
    })
}

/// Inserts the messages of one step. Without a customer's mail among them they go in as one
/// statement (a multi-row insert from arrays; identities are handed out in the order of the
/// rows, so sorted ids match the messages in order), and the bot's and agents' messages of an
/// e-mail conversation (`mail_out`) join the outbox in a second one.
pub(crate) async fn insert_messages<C: GenericClient>(
    c: &C,
    id: &ConversationId,
    new: Vec<NewMessage>,
    now: i64,
    mail_out: bool,
) -> Result<Vec<Message>> {
    if new.iter().any(|m| m.mail.is_some()) {
        return insert_one_by_one(c, id, new, now, mail_out).await;
    }
    if new.is_empty() {
        return Ok(Vec::new());
    }
    let columns = Columns::of(&new);
    let mut ids: Vec<i64> = query(
        c,
        "INSERT INTO messages (conversation_id, author, agent_id, action, text, created_at)
         SELECT $1, a, g, x, t, $6
         FROM unnest($2::text[], $3::bigint[], $4::text[], $5::text[]) WITH ORDINALITY AS m(a, g, x, t, n)
         ORDER BY n RETURNING id",
        &[
            &id.as_str(),
            &columns.authors,
            &columns.agents,
            &columns.actions,
            &columns.texts,
            &now,
        ],
    )
    .await?
    .iter()
    .map(|r| r.try_get(0))
    .collect::<std::result::Result<_, _>>()?;
    ids.sort_unstable();
    if mail_out {
        let replies: Vec<i64> = ids
            .iter()
            .zip(&new)
            .filter(|(_, m)| matches!(m.author, desk::Author::Bot | desk::Author::Agent))
            .map(|(i, _)| *i)
            .collect();
        super::mail::queue(c, id, &replies, now).await?;
    }
    stored(id, ids, new, now)
}

/// New messages as the column arrays of a multi-row insert (`unnest`).
pub(crate) struct Columns<'a> {
    pub authors: Vec<&'a str>,
    pub agents: Vec<Option<i64>>,
    pub actions: Vec<Option<String>>,
    pub texts: Vec<&'a str>,
}

impl<'a> Columns<'a> {
    pub fn of(new: &'a [NewMessage]) -> Self {
        Columns {
            authors: new.iter().map(|m| m.author.as_str()).collect(),
            agents: new.iter().map(|m| m.agent.map(|a| a.get())).collect(),
            actions: new.iter().map(action_text).collect(),
            texts: new.iter().map(|m| m.text.as_str()).collect(),
        }
    }
}

/// The new messages as stored under `ids` (ascending, one per message, in their order).
pub(crate) fn stored(
    id: &ConversationId,
    ids: Vec<i64>,
    new: Vec<NewMessage>,
    now: i64,
) -> Result<Vec<Message>> {
    if ids.len() != new.len() {
        return Err(StoreError::Backend(
            "the insert returned too few ids".into(),
        ));
    }
    Ok(ids
        .into_iter()
        .zip(new)
        .map(|(message, m)| Message::stored(MessageId::new(message), id, m, now))
        .collect())
}

/// A customer's mail (its id and attachments are written with it), one message at a time.
async fn insert_one_by_one<C: GenericClient>(
    c: &C,
    id: &ConversationId,
    new: Vec<NewMessage>,
    now: i64,
    mail_out: bool,
) -> Result<Vec<Message>> {
    let mut out = Vec::with_capacity(new.len());
    for m in new {
        let row = query_opt(
            c,
            "INSERT INTO messages (conversation_id, author, agent_id, action, text, created_at)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            &[
                &id.as_str(),
                &m.author.as_str(),
                &m.agent.map(|a| a.get()),
                &action_text(&m),
                &m.text,
                &now,
            ],
        )
        .await?
        .ok_or_else(|| StoreError::Backend("the insert returned no id".into()))?;
        let message: i64 = row.try_get(0)?;
        if mail_out && matches!(m.author, desk::Author::Bot | desk::Author::Agent) {
            super::mail::queue(c, id, &[message], now).await?;
        }
        if let Some(mail) = &m.mail {
            super::mail::received(c, id, message, mail, now).await?;
        }
        out.push(Message::stored(MessageId::new(message), id, m, now));
    }
    Ok(out)
}

pub(crate) async fn log_event<C: GenericClient>(
    c: &C,
    id: &ConversationId,
    event: &NewEvent,
    now: i64,
) -> Result<()> {
    exec(
        c,
        "INSERT INTO events (conversation_id, kind, data, created_at) VALUES ($1, $2, $3, $4)",
        &[&id.as_str(), &event.kind.as_str(), &Json(&event.data), &now],
    )
    .await?;
    Ok(())
}

pub(crate) async fn log_events<C: GenericClient>(
    c: &C,
    id: &ConversationId,
    events: &[NewEvent],
    now: i64,
) -> Result<()> {
    for e in events {
        log_event(c, id, e, now).await?;
    }
    Ok(())
}

pub(crate) fn event_row(r: &Row) -> Result<Event> {
    Ok(Event {
        id: r.try_get(0)?,
        conversation: conversation_id(r.try_get(1)?)?,
        kind: r.try_get(2)?,
        data: r.try_get::<_, Json<serde_json::Value>>(3)?.0,
        created_at_ms: r.try_get(4)?,
    })
}

pub(crate) async fn events<C: GenericClient>(c: &C, id: &ConversationId) -> Result<Vec<Event>> {
    query(
        c,
        "SELECT id, conversation_id, kind, data, created_at FROM events
         WHERE conversation_id = $1 ORDER BY id",
        &[&id.as_str()],
    )
    .await?
    .iter()
    .map(event_row)
    .collect()
}
