//! The SQL of the PostgreSQL backend. Each function runs on the client or inside the transaction
//! it is given; the caller commits.

use deadpool_postgres::GenericClient;
use desk::routing::{self, Candidate, Rules, Waiting};
use desk::{
    Agent, AgentId, ConversationId, ConversationState, MessageId, Needs, Presence, Transition,
};
use tokio_postgres::types::Json;
use tokio_postgres::Row;

use crate::records::{reasons_json, transfer_from, transfer_target};
use crate::rollup::{Pending, Snapshot};

use super::rollup;
use crate::{
    AgentRecord, Appended, Assignee, Change, Conversation, ConversationRecord, Customer, Event,
    Message, NewAgent, NewConversation, NewMessage, Result, Session, SessionKind, StoreError,
};

pub(crate) use crate::now_ms;

fn bad_row(what: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("unreadable row: {what}"))
}

fn parse_text<T: std::str::FromStr<Err = String>>(s: &str) -> Result<T> {
    s.parse().map_err(bad_row)
}

fn conversation_id(s: &str) -> Result<ConversationId> {
    ConversationId::parse(s).ok_or_else(|| bad_row("bad conversation id"))
}

/// Runs one statement through the connection's statement cache.
async fn exec<C: GenericClient>(
    c: &C,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<u64> {
    let stmt = c.prepare_cached(sql).await?;
    Ok(c.execute(&stmt, params).await?)
}

async fn query<C: GenericClient>(
    c: &C,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<Vec<Row>> {
    let stmt = c.prepare_cached(sql).await?;
    Ok(c.query(&stmt, params).await?)
}

async fn query_opt<C: GenericClient>(
    c: &C,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<Option<Row>> {
    let stmt = c.prepare_cached(sql).await?;
    Ok(c.query_opt(&stmt, params).await?)
}

const AGENT_COLUMNS: &str =
    "id, name, email, role, locales, skills, competences, limits, capacity, presence";

fn agent_row(r: &Row) -> Result<Agent> {
    let capacity: i32 = r.try_get(8)?;
    Ok(Agent {
        id: AgentId(r.try_get(0)?),
        name: r.try_get(1)?,
        email: r.try_get(2)?,
        role: parse_text(r.try_get(3)?)?,
        locales: r.try_get::<_, Json<Vec<String>>>(4)?.0,
        skills: r.try_get::<_, Json<Vec<String>>>(5)?.0,
        competences: r.try_get::<_, Json<desk::Competences>>(6)?.0,
        limits: r.try_get::<_, Json<Vec<String>>>(7)?.0,
        capacity: capacity.max(0) as u32,
        presence: parse_text(r.try_get(9)?)?,
    })
}

fn capacity(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

pub(crate) async fn insert_agent<C: GenericClient>(c: &C, a: &NewAgent) -> Result<Agent> {
    let sql = format!(
        "INSERT INTO agents (name, email, password_hash, role, locales, skills, competences, limits, capacity, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING {AGENT_COLUMNS}"
    );
    let row = query_opt(
        c,
        &sql,
        &[
            &a.name,
            &a.email,
            &a.password_hash,
            &a.role.as_str(),
            &Json(&a.locales),
            &Json(&a.skills),
            &Json(&a.competences),
            &Json(&a.limits),
            &capacity(a.capacity),
            &now_ms(),
        ],
    )
    .await?
    .ok_or_else(|| StoreError::Backend("the insert returned no row".into()))?;
    agent_row(&row)
}

pub(crate) async fn import_agent<C: GenericClient>(c: &C, r: &AgentRecord) -> Result<()> {
    let a = &r.agent;
    exec(
        c,
        "INSERT INTO agents (id, name, email, password_hash, role, locales, skills, competences, limits, capacity, presence, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        &[
            &a.id.0,
            &a.name,
            &a.email,
            &r.password_hash,
            &a.role.as_str(),
            &Json(&a.locales),
            &Json(&a.skills),
            &Json(&a.competences),
            &Json(&a.limits),
            &capacity(a.capacity),
            &a.presence.as_str(),
            &r.created_at_ms,
        ],
    )
    .await?;
    Ok(())
}

pub(crate) async fn agent<C: GenericClient>(c: &C, id: AgentId) -> Result<Option<Agent>> {
    let sql = format!("SELECT {AGENT_COLUMNS} FROM agents WHERE id = $1");
    query_opt(c, &sql, &[&id.0])
        .await?
        .as_ref()
        .map(agent_row)
        .transpose()
}

pub(crate) async fn agent_credentials<C: GenericClient>(
    c: &C,
    email: &str,
) -> Result<Option<(Agent, String)>> {
    let sql =
        format!("SELECT {AGENT_COLUMNS}, password_hash FROM agents WHERE lower(email) = lower($1)");
    match query_opt(c, &sql, &[&email]).await? {
        Some(r) => Ok(Some((agent_row(&r)?, r.try_get(10)?))),
        None => Ok(None),
    }
}

pub(crate) async fn agents<C: GenericClient>(c: &C) -> Result<Vec<Agent>> {
    let sql = format!("SELECT {AGENT_COLUMNS} FROM agents ORDER BY id");
    query(c, &sql, &[]).await?.iter().map(agent_row).collect()
}

fn kind_str(kind: SessionKind) -> &'static str {
    match kind {
        SessionKind::Api => "api",
        SessionKind::Console => "console",
    }
}

pub(crate) async fn insert_session<C: GenericClient>(c: &C, s: &Session) -> Result<()> {
    // Expired sessions are swept whenever a new one starts.
    exec(
        c,
        "DELETE FROM sessions WHERE expires_at < $1",
        &[&now_ms()],
    )
    .await?;
    exec(
        c,
        "INSERT INTO sessions (token_hash, agent_id, kind, csrf, expires_at) VALUES ($1, $2, $3, $4, $5)",
        &[&s.token_hash, &s.agent.0, &kind_str(s.kind), &s.csrf, &s.expires_at_ms],
    )
    .await?;
    Ok(())
}

pub(crate) async fn session<C: GenericClient>(
    c: &C,
    token_hash: &str,
    now: i64,
) -> Result<Option<Session>> {
    let row = query_opt(
        c,
        "SELECT token_hash, agent_id, kind, csrf, expires_at FROM sessions
         WHERE token_hash = $1 AND expires_at > $2",
        &[&token_hash, &now],
    )
    .await?;
    let Some(r) = row else { return Ok(None) };
    Ok(Some(Session {
        token_hash: r.try_get(0)?,
        agent: AgentId(r.try_get(1)?),
        kind: if r.try_get::<_, &str>(2)? == "console" {
            SessionKind::Console
        } else {
            SessionKind::Api
        },
        csrf: r.try_get(3)?,
        expires_at_ms: r.try_get(4)?,
    }))
}

const CONVERSATION_SELECT: &str = "SELECT c.id, c.token_hash, c.state, c.locale, c.customer_name,
    c.customer_email, c.assignee_id, a.name, c.needs, c.created_at, c.updated_at, c.queued_at,
    c.assigned_at FROM conversations c LEFT JOIN agents a ON a.id = c.assignee_id";

fn conversation_row(r: &Row) -> Result<Conversation> {
    let assignee = match (
        r.try_get::<_, Option<i64>>(6)?,
        r.try_get::<_, Option<String>>(7)?,
    ) {
        (Some(id), Some(name)) => Some(Assignee {
            id: AgentId(id),
            name,
        }),
        _ => None,
    };
    Ok(Conversation {
        id: conversation_id(r.try_get(0)?)?,
        token_hash: r.try_get(1)?,
        state: parse_text(r.try_get(2)?)?,
        locale: r.try_get(3)?,
        customer: Customer {
            name: r.try_get(4)?,
            email: r.try_get(5)?,
        },
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

pub(crate) async fn assigned_to<C: GenericClient>(
    c: &C,
    agent: AgentId,
) -> Result<Vec<Conversation>> {
    let sql = format!(
        "{CONVERSATION_SELECT} WHERE c.assignee_id = $1 AND c.state = 'assigned' ORDER BY c.updated_at DESC"
    );
    query(c, &sql, &[&agent.0])
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

const QUEUE_ORDER: &str = "WHERE c.state = 'queued' ORDER BY c.priority DESC, c.queued_at ASC";

pub(crate) async fn queue<C: GenericClient>(c: &C) -> Result<Vec<Conversation>> {
    let sql = format!("{CONVERSATION_SELECT} {QUEUE_ORDER}");
    query(c, &sql, &[])
        .await?
        .iter()
        .map(conversation_row)
        .collect()
}

const MESSAGE_COLUMNS: &str = "id, conversation_id, author, agent_id, action, text, created_at";

fn message_row(r: &Row) -> Result<Message> {
    Ok(Message {
        id: MessageId(r.try_get(0)?),
        conversation: conversation_id(r.try_get(1)?)?,
        author: parse_text(r.try_get(2)?)?,
        agent: r.try_get::<_, Option<i64>>(3)?.map(AgentId),
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

pub(crate) async fn messages_by_ids<C: GenericClient>(
    c: &C,
    id: &ConversationId,
    ids: &[MessageId],
) -> Result<Vec<Message>> {
    let ids: Vec<i64> = ids.iter().map(|m| m.0).collect();
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = $1 AND id = ANY($2) ORDER BY id"
    );
    query(c, &sql, &[&id.as_str(), &ids])
        .await?
        .iter()
        .map(message_row)
        .collect()
}

fn action_text(m: &NewMessage) -> Option<String> {
    m.action.and_then(|a| match serde_json::to_value(a) {
        Ok(serde_json::Value::String(s)) => Some(s),
        _ => None,
    })
}

async fn insert_messages<C: GenericClient>(
    c: &C,
    id: &ConversationId,
    new: Vec<NewMessage>,
    now: i64,
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
                &m.agent.map(|a| a.0),
                &action_text(&m),
                &m.text,
                &now,
            ],
        )
        .await?
        .ok_or_else(|| StoreError::Backend("the insert returned no id".into()))?;
        out.push(Message {
            id: MessageId(row.try_get(0)?),
            conversation: id.clone(),
            author: m.author,
            agent: m.agent,
            text: m.text,
            action: m.action,
            created_at_ms: now,
        });
    }
    Ok(out)
}

async fn log_event<C: GenericClient>(
    c: &C,
    id: &ConversationId,
    kind: &str,
    data: serde_json::Value,
    now: i64,
) -> Result<()> {
    exec(
        c,
        "INSERT INTO events (conversation_id, kind, data, created_at) VALUES ($1, $2, $3, $4)",
        &[&id.as_str(), &kind, &Json(&data), &now],
    )
    .await?;
    Ok(())
}

/// The conversation's assignee (if any) has just finished it: their idle time starts now.
async fn finished<C: GenericClient>(c: &C, id: &ConversationId, now: i64) -> Result<()> {
    exec(
        c,
        "UPDATE agents SET idle_since = $2
         WHERE id = (SELECT assignee_id FROM conversations WHERE id = $1 AND state = 'assigned')",
        &[&id.as_str(), &now],
    )
    .await?;
    Ok(())
}

/// Applies a state change to the (locked) row and logs it.
async fn apply_change<C: GenericClient>(
    c: &C,
    id: &ConversationId,
    from: ConversationState,
    change: Change,
    now: i64,
) -> Result<ConversationState> {
    let transition = change.transition();
    let to = from.apply(transition).map_err(|_| StoreError::WrongState {
        expected: format!("a state that allows {transition:?}"),
        actual: from,
    })?;
    let (kind, data) = match &change {
        Change::Handoff(needs) => {
            exec(
                c,
                "UPDATE conversations SET state = $2, needs = $3, priority = $4, queued_at = $5,
                 assignee_id = NULL, updated_at = $5 WHERE id = $1",
                &[
                    &id.as_str(),
                    &to.as_str(),
                    &Json(needs),
                    &needs.priority,
                    &now,
                ],
            )
            .await?;
            (
                "handoff",
                serde_json::json!({"reasons": reasons_json(&needs.reasons), "skills": needs.skills, "locale": needs.locale}),
            )
        }
        Change::Resolve { by } => {
            finished(c, id, now).await?;
            exec(
                c,
                "UPDATE conversations SET state = $2, updated_at = $3 WHERE id = $1",
                &[&id.as_str(), &to.as_str(), &now],
            )
            .await?;
            ("resolved", serde_json::json!({"by": by.map(|a| a.0)}))
        }
        Change::Handback { by } => {
            finished(c, id, now).await?;
            exec(
                c,
                "UPDATE conversations SET state = $2, assignee_id = NULL, needs = NULL, updated_at = $3 WHERE id = $1",
                &[&id.as_str(), &to.as_str(), &now],
            )
            .await?;
            ("handback", serde_json::json!({"by": by.0}))
        }
        Change::Reopen => {
            exec(
                c,
                "UPDATE conversations SET state = $2, assignee_id = NULL, needs = NULL, updated_at = $3 WHERE id = $1",
                &[&id.as_str(), &to.as_str(), &now],
            )
            .await?;
            ("reopened", serde_json::json!({}))
        }
    };
    log_event(c, id, kind, data, now).await?;
    log_event(
        c,
        id,
        "state",
        serde_json::json!({"from": from.as_str(), "to": to.as_str()}),
        now,
    )
    .await?;
    Ok(to)
}

pub(crate) async fn insert_conversation<C: GenericClient>(
    c: &C,
    now: i64,
    new: NewConversation,
) -> Result<Appended> {
    exec(
        c,
        "INSERT INTO conversations (id, token_hash, state, locale, customer_name, customer_email, created_at, updated_at)
         VALUES ($1, $2, 'bot', $3, $4, $5, $6, $6)",
        &[
            &new.id.as_str(),
            &new.token_hash,
            &new.locale,
            &new.customer.name,
            &new.customer.email,
            &now,
        ],
    )
    .await?;
    log_event(
        c,
        &new.id,
        "created",
        serde_json::json!({"locale": new.locale}),
        now,
    )
    .await?;
    let messages = insert_messages(c, &new.id, new.messages, now).await?;
    let state_changed = new.change.is_some();
    if let Some(change) = new.change {
        apply_change(c, &new.id, ConversationState::Bot, change, now).await?;
    }
    let mut pending = Pending::default();
    rollup::record(c, &mut pending, &new.id, &Snapshot::default()).await?;
    rollup::flush(c, &pending).await?;
    let conversation = conversation(c, &new.id)
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok(Appended {
        conversation,
        messages,
        state_changed,
    })
}

pub(crate) async fn append<C: GenericClient>(
    c: &C,
    now: i64,
    id: &ConversationId,
    expect: &[ConversationState],
    new: Vec<NewMessage>,
    change: Option<Change>,
) -> Result<Appended> {
    // The row lock orders every write to this conversation, whichever node it comes through.
    let row = query_opt(
        c,
        "SELECT state FROM conversations WHERE id = $1 FOR UPDATE",
        &[&id.as_str()],
    )
    .await?
    .ok_or(StoreError::NotFound)?;
    let state: ConversationState = parse_text(row.try_get(0)?)?;
    if !expect.is_empty() && !expect.contains(&state) {
        return Err(StoreError::WrongState {
            expected: expect
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(" or "),
            actual: state,
        });
    }
    let state_changed = change.is_some();
    // The rollups change with a state change, an agent's message (the first response) or a
    // customer's first message in an hour; a snapshot before the write gives the difference.
    let tracked = state_changed
        || new.iter().any(|m| m.author == desk::Author::Agent)
        || (new.iter().any(|m| m.author == desk::Author::Customer)
            && !rollup::customer_wrote_in_hour(c, id, now).await?);
    let before = if tracked {
        Some(rollup::snapshot(c, id).await?)
    } else {
        None
    };
    if let Some(change) = change {
        apply_change(c, id, state, change, now).await?;
    } else {
        exec(
            c,
            "UPDATE conversations SET updated_at = $2 WHERE id = $1",
            &[&id.as_str(), &now],
        )
        .await?;
    }
    if new.iter().any(|m| m.author == desk::Author::Agent) {
        exec(
            c,
            "UPDATE conversations SET replied = true WHERE id = $1",
            &[&id.as_str()],
        )
        .await?;
    }
    let messages = insert_messages(c, id, new, now).await?;
    if let Some(before) = before {
        let mut pending = Pending::default();
        rollup::record(c, &mut pending, id, &before).await?;
        rollup::flush(c, &pending).await?;
    }
    let conversation = conversation(c, id).await?.ok_or(StoreError::NotFound)?;
    Ok(Appended {
        conversation,
        messages,
        state_changed,
    })
}

/// The online agents with their load and idle time, as the router sees them.
async fn online_candidates<C: GenericClient>(c: &C) -> Result<Vec<Candidate>> {
    let sql = format!(
        "SELECT {AGENT_COLUMNS}, (SELECT COUNT(*) FROM conversations c
             WHERE c.assignee_id = agents.id AND c.state = 'assigned'), idle_since
         FROM agents WHERE presence = $1 ORDER BY id"
    );
    let mut candidates: Vec<Candidate> = Vec::new();
    for r in query(c, &sql, &[&Presence::Online.as_str()]).await? {
        let load: i64 = r.try_get(10)?;
        candidates.push(Candidate {
            agent: agent_row(&r)?,
            load: load.max(0) as u32,
            idle_since_ms: r.try_get(11)?,
        });
    }
    Ok(candidates)
}

/// Moves every conversation whose assignee has not replied within `timeout_ms` of getting it to
/// another fit agent (never back to the same one). Holds the routing lock, so it never plans
/// against stale loads; the rows are locked, so a reply committed meanwhile wins.
pub(crate) async fn reassign_unanswered<C: GenericClient>(
    c: &C,
    lock: i64,
    rules: &Rules,
    now: i64,
    timeout_ms: i64,
) -> Result<Vec<Appended>> {
    let cutoff = now.saturating_sub(timeout_ms);
    let any: bool = query_opt(
        c,
        "SELECT EXISTS (SELECT 1 FROM conversations
             WHERE state = 'assigned' AND NOT replied AND assigned_at <= $1)",
        &[&cutoff],
    )
    .await?
    .map(|r| r.try_get(0))
    .transpose()?
    .unwrap_or(false);
    if !any {
        return Ok(Vec::new());
    }
    exec(c, "SELECT pg_advisory_xact_lock($1)", &[&lock]).await?;
    let sql = format!(
        "{CONVERSATION_SELECT} WHERE c.state = 'assigned' AND NOT c.replied AND c.assigned_at <= $1
         ORDER BY c.assigned_at FOR UPDATE OF c"
    );
    let stale: Vec<Conversation> = query(c, &sql, &[&cutoff])
        .await?
        .iter()
        .map(conversation_row)
        .collect::<Result<_>>()?;
    let mut candidates = online_candidates(c).await?;
    let mut out = Vec::new();
    let mut pending = Pending::default();
    for conv in stale {
        let Some(from) = conv.assignee.clone() else {
            continue;
        };
        let waiting = Waiting {
            key: (),
            needs: conv.handoff.clone().unwrap_or_default(),
            queued_at_ms: conv.queued_at_ms.unwrap_or(conv.updated_at_ms),
        };
        let Some((to, why)) = routing::reassign(&waiting, &mut candidates, from.id, rules, now)
        else {
            continue;
        };
        let before = rollup::snapshot(c, &conv.id).await?;
        exec(
            c,
            "UPDATE conversations SET assignee_id = $2, assigned_at = $3, replied = false,
             updated_at = $3 WHERE id = $1",
            &[&conv.id.as_str(), &to.0, &now],
        )
        .await?;
        exec(
            c,
            "UPDATE agents SET idle_since = $2 WHERE id = $1",
            &[&to.0, &now],
        )
        .await?;
        log_event(
            c,
            &conv.id,
            "reassigned",
            serde_json::json!({"from": from.id.0, "agent": to.0, "cause": "no_first_response", "why": why}),
            now,
        )
        .await?;
        let text = desk::replies::moved(&conv.locale, &from.name, &why.agent_name);
        let messages = insert_messages(c, &conv.id, vec![NewMessage::system(text)], now).await?;
        rollup::record(c, &mut pending, &conv.id, &before).await?;
        let conversation = conversation(c, &conv.id)
            .await?
            .ok_or(StoreError::NotFound)?;
        out.push(Appended {
            conversation,
            messages,
            state_changed: true,
        });
    }
    rollup::flush(c, &pending).await?;
    Ok(out)
}

/// Passes an assigned conversation from `by` to a colleague or a skill. Holds the routing lock
/// (the colleague's free capacity cannot change meanwhile) and the conversation's row lock.
pub(crate) async fn transfer<C: GenericClient>(
    c: &C,
    lock: i64,
    id: &ConversationId,
    by: AgentId,
    to: &crate::TransferTo,
    now: i64,
) -> Result<Appended> {
    exec(c, "SELECT pg_advisory_xact_lock($1)", &[&lock]).await?;
    query_opt(
        c,
        "SELECT 1 FROM conversations WHERE id = $1 FOR UPDATE",
        &[&id.as_str()],
    )
    .await?
    .ok_or(StoreError::NotFound)?;
    let conv = conversation(c, id).await?.ok_or(StoreError::NotFound)?;
    let from = transfer_from(&conv, by)?;
    let before = rollup::snapshot(c, id).await?;
    let mut needs = conv.handoff.clone().unwrap_or_default();
    let (text, data, state_changed) = match to {
        crate::TransferTo::Agent(to) => {
            let candidates = online_candidates(c).await?;
            let target = transfer_target(&candidates, *to, by, &needs)?;
            exec(
                c,
                "UPDATE conversations SET assignee_id = $2, assigned_at = $3, replied = false,
                 updated_at = $3 WHERE id = $1",
                &[&id.as_str(), &to.0, &now],
            )
            .await?;
            exec(
                c,
                "UPDATE agents SET idle_since = $2 WHERE id = $1 OR id = $3",
                &[&to.0, &now, &by.0],
            )
            .await?;
            (
                desk::replies::transferred(&conv.locale, &from, &target),
                serde_json::json!({"by": by.0, "to": to.0}),
                false,
            )
        }
        crate::TransferTo::Skill(skill) => {
            let to_state =
                conv.state
                    .apply(Transition::Requeue)
                    .map_err(|_| StoreError::WrongState {
                        expected: "assigned".into(),
                        actual: conv.state,
                    })?;
            if !needs.skills.contains(skill) {
                needs.skills.push(skill.clone());
            }
            finished(c, id, now).await?;
            // A fresh wait: the skill is required until the relaxation steps come round again.
            exec(
                c,
                "UPDATE conversations SET state = $2, assignee_id = NULL, needs = $3, queued_at = $4,
                 assigned_at = NULL, updated_at = $4 WHERE id = $1",
                &[&id.as_str(), &to_state.as_str(), &Json(&needs), &now],
            )
            .await?;
            log_event(
                c,
                id,
                "state",
                serde_json::json!({"from": conv.state.as_str(), "to": to_state.as_str()}),
                now,
            )
            .await?;
            (
                desk::replies::transferred_to_skill(&conv.locale, &from, skill),
                serde_json::json!({"by": by.0, "skill": skill}),
                true,
            )
        }
    };
    log_event(c, id, "transferred", data, now).await?;
    let messages = insert_messages(c, id, vec![NewMessage::system(text)], now).await?;
    let mut pending = Pending::default();
    rollup::record(c, &mut pending, id, &before).await?;
    rollup::flush(c, &pending).await?;
    let conversation = conversation(c, id).await?.ok_or(StoreError::NotFound)?;
    Ok(Appended {
        conversation,
        messages,
        state_changed,
    })
}

/// Routes the whole queue in one transaction. The advisory lock lets one node at a time plan,
/// so two plans never share an agent's free capacity; the queued rows are locked too, so a
/// conversation resolved meanwhile on another node is left alone.
pub(crate) async fn assign_queued<C: GenericClient>(
    c: &C,
    lock: i64,
    rules: &Rules,
    now: i64,
) -> Result<Vec<Appended>> {
    let waiting: bool = query_opt(
        c,
        "SELECT EXISTS (SELECT 1 FROM conversations WHERE state = 'queued')",
        &[],
    )
    .await?
    .map(|r| r.try_get(0))
    .transpose()?
    .unwrap_or(false);
    if !waiting {
        return Ok(Vec::new());
    }
    exec(c, "SELECT pg_advisory_xact_lock($1)", &[&lock]).await?;
    // Read Committed: these statements see everything committed before the lock was granted.
    let sql = format!("{CONVERSATION_SELECT} {QUEUE_ORDER} FOR UPDATE OF c");
    let queued: Vec<Conversation> = query(c, &sql, &[])
        .await?
        .iter()
        .map(conversation_row)
        .collect::<Result<_>>()?;
    if queued.is_empty() {
        return Ok(Vec::new());
    }
    let mut candidates = online_candidates(c).await?;
    let waiting: Vec<Waiting<usize>> = queued
        .iter()
        .enumerate()
        .map(|(i, conv)| Waiting {
            key: i,
            needs: conv.handoff.clone().unwrap_or_default(),
            queued_at_ms: conv.queued_at_ms.unwrap_or(conv.updated_at_ms),
        })
        .collect();
    let mut out = Vec::new();
    let mut pending = Pending::default();
    for a in routing::plan(&waiting, &mut candidates, rules, now) {
        let conv = &queued[a.key];
        let before = rollup::snapshot(c, &conv.id).await?;
        let agent_id = a.agent;
        let name = a.why.agent_name.clone();
        let to = conv
            .state
            .apply(Transition::Assign)
            .map_err(|_| StoreError::WrongState {
                expected: "queued".into(),
                actual: conv.state,
            })?;
        exec(
            c,
            "UPDATE conversations SET state = $2, assignee_id = $3, updated_at = $4, assigned_at = $4,
             replied = false WHERE id = $1",
            &[&conv.id.as_str(), &to.as_str(), &agent_id.0, &now],
        )
        .await?;
        exec(
            c,
            "UPDATE agents SET idle_since = $2 WHERE id = $1",
            &[&agent_id.0, &now],
        )
        .await?;
        log_event(
            c,
            &conv.id,
            "assigned",
            serde_json::json!({"agent": agent_id.0, "why": a.why}),
            now,
        )
        .await?;
        log_event(
            c,
            &conv.id,
            "state",
            serde_json::json!({"from": conv.state.as_str(), "to": to.as_str()}),
            now,
        )
        .await?;
        let text = desk::replies::assigned(&conv.locale, &name);
        let messages = insert_messages(c, &conv.id, vec![NewMessage::system(text)], now).await?;
        rollup::record(c, &mut pending, &conv.id, &before).await?;
        let conversation = conversation(c, &conv.id)
            .await?
            .ok_or(StoreError::NotFound)?;
        out.push(Appended {
            conversation,
            messages,
            state_changed: true,
        });
    }
    rollup::flush(c, &pending).await?;
    Ok(out)
}

pub(crate) async fn rate<C: GenericClient>(
    c: &C,
    now: i64,
    id: &ConversationId,
    score: u8,
    comment: Option<String>,
) -> Result<()> {
    // The row lock orders this with every other write to the conversation (its rollups).
    query_opt(
        c,
        "SELECT 1 FROM conversations WHERE id = $1 FOR UPDATE",
        &[&id.as_str()],
    )
    .await?
    .ok_or(StoreError::NotFound)?;
    let before = rollup::snapshot(c, id).await?;
    log_event(
        c,
        id,
        "rating",
        serde_json::json!({"score": score, "comment": comment}),
        now,
    )
    .await?;
    let mut pending = Pending::default();
    rollup::record(c, &mut pending, id, &before).await?;
    rollup::flush(c, &pending).await
}

fn event_row(r: &Row) -> Result<Event> {
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

/// One hit in the fixed window `now` falls in; returns the hits so far and whether this hit
/// opened the window (then the key's older windows are dropped).
pub(crate) async fn count_hit<C: GenericClient>(
    c: &C,
    key: &str,
    window_ms: i64,
) -> Result<(u32, bool)> {
    let window_ms = window_ms.max(1);
    let start = now_ms() / window_ms * window_ms;
    let hits: i32 = query_opt(
        c,
        "INSERT INTO rate_counters (key, window_start, hits) VALUES ($1, $2, 1)
         ON CONFLICT (key, window_start) DO UPDATE SET hits = rate_counters.hits + 1
         RETURNING hits",
        &[&key, &start],
    )
    .await?
    .ok_or_else(|| StoreError::Backend("the counter returned no row".into()))?
    .try_get(0)?;
    if hits == 1 {
        exec(
            c,
            "DELETE FROM rate_counters WHERE key = $1 AND window_start < $2",
            &[&key, &start],
        )
        .await?;
    }
    Ok((hits.max(0) as u32, hits == 1))
}

/// Drops counters of windows that closed more than an hour ago.
pub(crate) async fn sweep_counters<C: GenericClient>(c: &C) -> Result<()> {
    exec(
        c,
        "DELETE FROM rate_counters WHERE window_start < $1",
        &[&(now_ms() - 3_600_000)],
    )
    .await?;
    Ok(())
}

pub(crate) async fn import_conversation<C: GenericClient>(
    c: &C,
    r: &ConversationRecord,
) -> Result<()> {
    exec(
        c,
        "INSERT INTO conversations (id, token_hash, state, locale, customer_name, customer_email,
             assignee_id, needs, priority, queued_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        &[
            &r.id.as_str(),
            &r.token_hash,
            &r.state.as_str(),
            &r.locale,
            &r.customer.name,
            &r.customer.email,
            &r.assignee.map(|a| a.0),
            &r.needs.as_ref().map(Json),
            &r.priority,
            &r.queued_at_ms,
            &r.created_at_ms,
            &r.updated_at_ms,
        ],
    )
    .await?;
    Ok(())
}

/// Many messages in one statement (arrays unnested into rows), ids kept.
pub(crate) async fn import_messages<C: GenericClient>(c: &C, rows: &[Message]) -> Result<()> {
    let ids: Vec<i64> = rows.iter().map(|m| m.id.0).collect();
    let convs: Vec<&str> = rows.iter().map(|m| m.conversation.as_str()).collect();
    let authors: Vec<&str> = rows.iter().map(|m| m.author.as_str()).collect();
    let agents: Vec<Option<i64>> = rows.iter().map(|m| m.agent.map(|a| a.0)).collect();
    let actions: Vec<Option<String>> = rows
        .iter()
        .map(|m| {
            m.action.and_then(|a| match serde_json::to_value(a) {
                Ok(serde_json::Value::String(s)) => Some(s),
                _ => None,
            })
        })
        .collect();
    let texts: Vec<&str> = rows.iter().map(|m| m.text.as_str()).collect();
    let times: Vec<i64> = rows.iter().map(|m| m.created_at_ms).collect();
    exec(
        c,
        "INSERT INTO messages (id, conversation_id, author, agent_id, action, text, created_at)
         SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::bigint[])",
        &[&ids, &convs, &authors, &agents, &actions, &texts, &times],
    )
    .await?;
    Ok(())
}

/// Many events in one statement, ids kept.
pub(crate) async fn import_events<C: GenericClient>(c: &C, rows: &[Event]) -> Result<()> {
    let ids: Vec<i64> = rows.iter().map(|e| e.id).collect();
    let convs: Vec<&str> = rows.iter().map(|e| e.conversation.as_str()).collect();
    let kinds: Vec<&str> = rows.iter().map(|e| e.kind.as_str()).collect();
    let data: Vec<String> = rows.iter().map(|e| e.data.to_string()).collect();
    let times: Vec<i64> = rows.iter().map(|e| e.created_at_ms).collect();
    exec(
        c,
        "INSERT INTO events (id, conversation_id, kind, data, created_at)
         SELECT i, c, k, d::jsonb, t FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[], $5::bigint[])
             AS u(i, c, k, d, t)",
        &[&ids, &convs, &kinds, &data, &times],
    )
    .await?;
    Ok(())
}

/// `tandem bench summary` only: the same synthetic desk as the SQLite backend's `seed_bench`.
pub(crate) async fn seed_bench<C: GenericClient>(
    c: &C,
    n: i64,
    from: i64,
    span: i64,
    agent: i64,
) -> Result<()> {
    const S: &str = "WITH t AS (SELECT i, 'bench_' || lpad(i::text, 8, '0') AS id,
        $2::bigint + i * $3::bigint / $1::bigint AS at FROM generate_series(0::bigint, $1::bigint - 1) AS i)";
    let n = n.max(1);
    exec(
        c,
        &format!(
            "{S} INSERT INTO conversations (id, token_hash, state, locale, customer_email, created_at, updated_at)
             SELECT id, 'bench', CASE WHEN i % 10 >= 7 THEN 'resolved' ELSE 'bot' END, 'de',
               CASE WHEN i % 3 = 0 THEN NULL ELSE 'c' || (i % 400000) || '@bench.example' END, at, at
             FROM t"
        ),
        &[&n, &from, &span],
    )
    .await?;
    exec(
        c,
        &format!(
            "{S} INSERT INTO messages (conversation_id, author, agent_id, action, text, created_at)
             SELECT id, 'customer', NULL::bigint, NULL, 'Hallo', at FROM t
             UNION ALL SELECT id, 'bot', NULL::bigint, 'answer', 'Hallo!', at + 1000 FROM t
             UNION ALL SELECT id, 'agent', $4::bigint, NULL, 'Ich helfe gern.', at + 60000 + (i % 600) * 1000
               FROM t WHERE i % 10 >= 7"
        ),
        &[&n, &from, &span, &agent],
    )
    .await?;
    exec(
        c,
        &format!(
            "{S} INSERT INTO events (conversation_id, kind, data, created_at)
             SELECT id, 'handoff', (CASE i % 4
                 WHEN 0 THEN '{{\"reasons\":[\"human_requested\"],\"skills\":[],\"locale\":\"de\"}}'
                 WHEN 1 THEN '{{\"reasons\":[\"complaint\"],\"skills\":[],\"locale\":\"de\"}}'
                 WHEN 2 THEN '{{\"reasons\":[\"low_confidence\"],\"skills\":[],\"locale\":\"de\"}}'
                 ELSE '{{\"reasons\":[\"negative_sentiment\",\"human_requested\"],\"skills\":[],\"locale\":\"de\"}}'
               END)::jsonb, at + 2000 FROM t WHERE i % 10 >= 7
             UNION ALL SELECT id, 'assigned', jsonb_build_object('agent', $4::bigint), at + 3000 FROM t WHERE i % 10 >= 7
             UNION ALL SELECT id, 'resolved', jsonb_build_object('by', $4::bigint), at + 90000 FROM t WHERE i % 10 >= 7
             UNION ALL SELECT id, 'rating', jsonb_build_object('score', 1 + i % 5, 'comment', NULL), at + 100000
               FROM t WHERE i % 5 = 2
             UNION ALL SELECT id, 'state', '{{\"from\":\"bot\",\"to\":\"queued\"}}'::jsonb, at + 2000 FROM t WHERE i % 10 >= 7
             UNION ALL SELECT id, 'state', '{{\"from\":\"queued\",\"to\":\"assigned\"}}'::jsonb, at + 3000 FROM t WHERE i % 10 >= 7
             UNION ALL SELECT id, 'state', '{{\"from\":\"assigned\",\"to\":\"resolved\"}}'::jsonb, at + 90000 FROM t WHERE i % 10 >= 7"
        ),
        &[&n, &from, &span, &agent],
    )
    .await?;
    exec(c, "ANALYZE", &[]).await?;
    Ok(())
}
