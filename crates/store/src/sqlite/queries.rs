//! The SQL of the SQLite backend. Each function runs inside the caller's transaction or read.

use desk::routing::{self, Candidate, Rules, Waiting};
use desk::{
    Agent, AgentId, Author, ConversationId, ConversationState, MessageId, Needs, Transition,
};
use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::records::{reasons_json, transfer_from, transfer_target};
use crate::rollup::{Pending, Snapshot};

use super::rollup;
use crate::{
    AgentRecord, Appended, Assignee, Change, Conversation, ConversationRecord, Customer, Event,
    Message, NewAgent, NewConversation, NewMessage, Result, Session, SessionKind, StoreError,
};

pub(crate) use crate::now_ms;

/// Executes one statement through the connection's statement cache: hot paths never re-parse SQL.
fn exec<P: rusqlite::Params>(c: &Connection, sql: &str, params: P) -> rusqlite::Result<usize> {
    c.prepare_cached(sql)?.execute(params)
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

fn parse_json<T: serde::de::DeserializeOwned>(s: &str) -> rusqlite::Result<T> {
    serde_json::from_str(s).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })
}

fn parse_text<T: std::str::FromStr<Err = String>>(s: &str) -> rusqlite::Result<T> {
    s.parse().map_err(|e: String| {
        rusqlite::Error::FromSqlConversionFailure(
            0,
            rusqlite::types::Type::Text,
            Box::<dyn std::error::Error + Send + Sync>::from(e),
        )
    })
}

const AGENT_COLUMNS: &str =
    "id, name, email, role, locales, skills, competences, limits, capacity, presence";

fn agent_row(r: &Row<'_>) -> rusqlite::Result<Agent> {
    Ok(Agent {
        id: AgentId(r.get(0)?),
        name: r.get(1)?,
        email: r.get(2)?,
        role: parse_text(&r.get::<_, String>(3)?)?,
        locales: parse_json(&r.get::<_, String>(4)?)?,
        skills: parse_json(&r.get::<_, String>(5)?)?,
        competences: parse_json(&r.get::<_, String>(6)?)?,
        limits: parse_json(&r.get::<_, String>(7)?)?,
        capacity: r.get(8)?,
        presence: parse_text(&r.get::<_, String>(9)?)?,
    })
}

pub(crate) fn insert_agent(c: &Connection, a: &NewAgent) -> Result<Agent> {
    exec(
        c,
        "INSERT INTO agents (name, email, password_hash, role, locales, skills, competences, limits, capacity, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            a.name,
            a.email,
            a.password_hash,
            a.role.as_str(),
            json(&a.locales),
            json(&a.skills),
            json(&a.competences),
            json(&a.limits),
            a.capacity,
            now_ms()
        ],
    )?;
    agent(c, AgentId(c.last_insert_rowid()))?.ok_or(StoreError::NotFound)
}

pub(crate) fn agent(c: &Connection, id: AgentId) -> Result<Option<Agent>> {
    let sql = format!("SELECT {AGENT_COLUMNS} FROM agents WHERE id = ?1");
    Ok(c.query_row(&sql, [id.0], agent_row).optional()?)
}

pub(crate) fn agent_credentials(c: &Connection, email: &str) -> Result<Option<(Agent, String)>> {
    let sql = format!("SELECT {AGENT_COLUMNS}, password_hash FROM agents WHERE email = ?1");
    Ok(
        c.query_row(&sql, [email], |r| Ok((agent_row(r)?, r.get(10)?)))
            .optional()?,
    )
}

pub(crate) fn agents(c: &Connection) -> Result<Vec<Agent>> {
    let sql = format!("SELECT {AGENT_COLUMNS} FROM agents ORDER BY id");
    let mut stmt = c.prepare_cached(&sql)?;
    let rows = stmt.query_map([], agent_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn insert_session(c: &Connection, s: &Session) -> Result<()> {
    let kind = match s.kind {
        SessionKind::Api => "api",
        SessionKind::Console => "console",
    };
    // Expired sessions are swept whenever a new one starts.
    exec(c, "DELETE FROM sessions WHERE expires_at < ?1", [now_ms()])?;
    exec(
        c,
        "INSERT INTO sessions (token_hash, agent_id, kind, csrf, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![s.token_hash, s.agent.0, kind, s.csrf, s.expires_at_ms],
    )?;
    Ok(())
}

pub(crate) fn session(c: &Connection, token_hash: &str, now: i64) -> Result<Option<Session>> {
    let mut stmt = c.prepare_cached(
        "SELECT token_hash, agent_id, kind, csrf, expires_at FROM sessions
         WHERE token_hash = ?1 AND expires_at > ?2",
    )?;
    Ok(stmt
        .query_row(params![token_hash, now], |r| {
            Ok(Session {
                token_hash: r.get(0)?,
                agent: AgentId(r.get(1)?),
                kind: if r.get::<_, String>(2)? == "console" {
                    SessionKind::Console
                } else {
                    SessionKind::Api
                },
                csrf: r.get(3)?,
                expires_at_ms: r.get(4)?,
            })
        })
        .optional()?)
}

const CONVERSATION_SELECT: &str = "SELECT c.id, c.token_hash, c.state, c.locale, c.customer_name,
    c.customer_email, c.assignee_id, a.name, c.needs, c.created_at, c.updated_at, c.queued_at,
    c.assigned_at FROM conversations c LEFT JOIN agents a ON a.id = c.assignee_id";

fn conversation_row(r: &Row<'_>) -> rusqlite::Result<Conversation> {
    let id: String = r.get(0)?;
    let assignee = match (r.get::<_, Option<i64>>(6)?, r.get::<_, Option<String>>(7)?) {
        (Some(id), Some(name)) => Some(Assignee {
            id: AgentId(id),
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
        locale: r.get(3)?,
        customer: Customer {
            name: r.get(4)?,
            email: r.get(5)?,
        },
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

fn conversations_where(
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
        [agent.0],
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

fn message_row(r: &Row<'_>) -> rusqlite::Result<Message> {
    let conv: String = r.get(1)?;
    Ok(Message {
        id: MessageId(r.get(0)?),
        conversation: ConversationId::parse(&conv).ok_or(rusqlite::Error::InvalidQuery)?,
        author: parse_text(&r.get::<_, String>(2)?)?,
        agent: r.get::<_, Option<i64>>(3)?.map(AgentId),
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
    let rows = stmt.query_map(params![id.as_str(), lo.0, hi.0], message_row)?;
    let all: Vec<Message> = rows.collect::<rusqlite::Result<_>>()?;
    Ok(all.into_iter().filter(|m| ids.contains(&m.id)).collect())
}

fn insert_messages(
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
            m.agent.map(|a| a.0),
            action,
            m.text,
            now
        ])?;
        out.push(Message {
            id: MessageId(c.last_insert_rowid()),
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

fn log_event(
    c: &Connection,
    id: &ConversationId,
    kind: &str,
    data: serde_json::Value,
    now: i64,
) -> Result<()> {
    let mut stmt = c.prepare_cached(
        "INSERT INTO events (conversation_id, kind, data, created_at) VALUES (?1, ?2, ?3, ?4)",
    )?;
    stmt.execute(params![id.as_str(), kind, data.to_string(), now])?;
    Ok(())
}

/// The conversation's assignee (if any) has just finished it: their idle time starts now.
fn finished(c: &Connection, id: &ConversationId, now: i64) -> Result<()> {
    exec(
        c,
        "UPDATE agents SET idle_since = ?2
         WHERE id = (SELECT assignee_id FROM conversations WHERE id = ?1 AND state = 'assigned')",
        params![id.as_str(), now],
    )?;
    Ok(())
}

/// Applies a state change to the row and logs it. The caller has checked the current state.
fn apply_change(
    c: &Connection,
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
    match &change {
        Change::Handoff(needs) => {
            exec(
                c,
                "UPDATE conversations SET state = ?2, needs = ?3, priority = ?4, queued_at = ?5,
                 assignee_id = NULL, updated_at = ?5 WHERE id = ?1",
                params![id.as_str(), to.as_str(), json(needs), needs.priority, now],
            )?;
            log_event(
                c,
                id,
                "handoff",
                serde_json::json!({"reasons": reasons_json(&needs.reasons), "skills": needs.skills, "locale": needs.locale}),
                now,
            )?;
        }
        Change::Resolve { by } => {
            finished(c, id, now)?;
            exec(
                c,
                "UPDATE conversations SET state = ?2, updated_at = ?3 WHERE id = ?1",
                params![id.as_str(), to.as_str(), now],
            )?;
            log_event(
                c,
                id,
                "resolved",
                serde_json::json!({"by": by.map(|a| a.0)}),
                now,
            )?;
        }
        Change::Handback { by } => {
            finished(c, id, now)?;
            exec(
        c,
                "UPDATE conversations SET state = ?2, assignee_id = NULL, needs = NULL, updated_at = ?3 WHERE id = ?1",
                params![id.as_str(), to.as_str(), now],
            )?;
            log_event(c, id, "handback", serde_json::json!({"by": by.0}), now)?;
        }
        Change::Reopen => {
            exec(
        c,
                "UPDATE conversations SET state = ?2, assignee_id = NULL, needs = NULL, updated_at = ?3 WHERE id = ?1",
                params![id.as_str(), to.as_str(), now],
            )?;
            log_event(c, id, "reopened", serde_json::json!({}), now)?;
        }
    }
    log_event(
        c,
        id,
        "state",
        serde_json::json!({"from": from.as_str(), "to": to.as_str()}),
        now,
    )?;
    Ok(to)
}

pub(crate) fn insert_conversation(
    c: &Connection,
    now: i64,
    new: NewConversation,
) -> Result<Appended> {
    exec(
        c,
        "INSERT INTO conversations (id, token_hash, state, locale, customer_name, customer_email, created_at, updated_at)
         VALUES (?1, ?2, 'bot', ?3, ?4, ?5, ?6, ?6)",
        params![
            new.id.as_str(),
            new.token_hash,
            new.locale,
            new.customer.name,
            new.customer.email,
            now
        ],
    )?;
    log_event(
        c,
        &new.id,
        "created",
        serde_json::json!({"locale": new.locale}),
        now,
    )?;
    let messages = insert_messages(c, &new.id, new.messages, now)?;
    let state_changed = new.change.is_some();
    if let Some(change) = new.change {
        apply_change(c, &new.id, ConversationState::Bot, change, now)?;
    }
    let mut pending = Pending::default();
    rollup::record(c, &mut pending, &new.id, &Snapshot::default())?;
    rollup::flush(c, &pending)?;
    let conversation = conversation(c, &new.id)?.ok_or(StoreError::NotFound)?;
    Ok(Appended {
        conversation,
        messages,
        state_changed,
    })
}

pub(crate) fn append(
    c: &Connection,
    now: i64,
    id: &ConversationId,
    expect: &[ConversationState],
    new: Vec<NewMessage>,
    change: Option<Change>,
) -> Result<Appended> {
    let state: String = c
        .prepare_cached("SELECT state FROM conversations WHERE id = ?1")?
        .query_row([id.as_str()], |r| r.get(0))
        .optional()?
        .ok_or(StoreError::NotFound)?;
    let state: ConversationState = parse_text(&state)?;
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
        || new.iter().any(|m| m.author == Author::Agent)
        || (new.iter().any(|m| m.author == Author::Customer)
            && !rollup::customer_wrote_in_hour(c, id, now)?);
    let before = if tracked {
        Some(rollup::snapshot(c, id)?)
    } else {
        None
    };
    if let Some(change) = change {
        apply_change(c, id, state, change, now)?;
    } else {
        exec(
            c,
            "UPDATE conversations SET updated_at = ?2 WHERE id = ?1",
            params![id.as_str(), now],
        )?;
    }
    if new.iter().any(|m| m.author == Author::Agent) {
        exec(
            c,
            "UPDATE conversations SET replied = 1 WHERE id = ?1",
            [id.as_str()],
        )?;
    }
    let messages = insert_messages(c, id, new, now)?;
    if let Some(before) = before {
        let mut pending = Pending::default();
        rollup::record(c, &mut pending, id, &before)?;
        rollup::flush(c, &pending)?;
    }
    let conversation = conversation(c, id)?.ok_or(StoreError::NotFound)?;
    Ok(Appended {
        conversation,
        messages,
        state_changed,
    })
}

/// The online agents with their load and idle time, as the router sees them.
fn online_candidates(c: &Connection) -> Result<Vec<Candidate>> {
    let sql = format!(
        "SELECT {AGENT_COLUMNS}, idle_since, (SELECT COUNT(*) FROM conversations c
             WHERE c.assignee_id = agents.id AND c.state = 'assigned')
         FROM agents WHERE presence = 'online' ORDER BY id"
    );
    let mut stmt = c.prepare_cached(&sql)?;
    let rows = stmt.query_map([], |r| {
        Ok(Candidate {
            agent: agent_row(r)?,
            idle_since_ms: r.get(10)?,
            load: r.get(11)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Moves every conversation whose assignee has not replied within `timeout_ms` of getting it to
/// another fit agent (never back to the same one), in one step of the single writer. A
/// conversation nobody else fits stays where it is.
pub(crate) fn reassign_unanswered(
    c: &Connection,
    rules: &Rules,
    now: i64,
    timeout_ms: i64,
) -> Result<Vec<Appended>> {
    let stale = conversations_where(
        c,
        "c.state = 'assigned' AND c.replied = 0 AND c.assigned_at <= ?1 ORDER BY c.assigned_at",
        [now.saturating_sub(timeout_ms)],
    )?;
    if stale.is_empty() {
        return Ok(Vec::new());
    }
    let mut candidates = online_candidates(c)?;
    let mut out = Vec::new();
    let mut pending = Pending::default();
    for conv in stale {
        let Some(from) = conv.assignee.clone() else {
            continue;
        };
        let Some((to, why)) =
            routing::reassign(&conv_waiting(&conv), &mut candidates, from.id, rules, now)
        else {
            continue;
        };
        let before = rollup::snapshot(c, &conv.id)?;
        exec(
            c,
            "UPDATE conversations SET assignee_id = ?2, assigned_at = ?3, replied = 0, updated_at = ?3
             WHERE id = ?1",
            params![conv.id.as_str(), to.0, now],
        )?;
        exec(
            c,
            "UPDATE agents SET idle_since = ?2 WHERE id = ?1",
            params![to.0, now],
        )?;
        log_event(
            c,
            &conv.id,
            "reassigned",
            serde_json::json!({"from": from.id.0, "agent": to.0, "cause": "no_first_response", "why": why}),
            now,
        )?;
        let text = desk::replies::moved(&conv.locale, &from.name, &why.agent_name);
        let messages = insert_messages(c, &conv.id, vec![NewMessage::system(text)], now)?;
        rollup::record(c, &mut pending, &conv.id, &before)?;
        let conversation = conversation(c, &conv.id)?.ok_or(StoreError::NotFound)?;
        out.push(Appended {
            conversation,
            messages,
            state_changed: true,
        });
    }
    rollup::flush(c, &pending)?;
    Ok(out)
}

/// Passes an assigned conversation from `by` to a colleague or a skill, in one step of the
/// single writer (so the colleague's free capacity cannot change meanwhile).
pub(crate) fn transfer(
    c: &Connection,
    id: &ConversationId,
    by: AgentId,
    to: &crate::TransferTo,
    now: i64,
) -> Result<Appended> {
    let conv = conversation(c, id)?.ok_or(StoreError::NotFound)?;
    let from = transfer_from(&conv, by)?;
    let before = rollup::snapshot(c, id)?;
    let mut needs = conv.handoff.clone().unwrap_or_default();
    let (text, data, state_changed) = match to {
        crate::TransferTo::Agent(to) => {
            let candidates = online_candidates(c)?;
            let target = transfer_target(&candidates, *to, by, &needs)?;
            exec(
                c,
                "UPDATE conversations SET assignee_id = ?2, assigned_at = ?3, replied = 0, updated_at = ?3
                 WHERE id = ?1",
                params![id.as_str(), to.0, now],
            )?;
            exec(
                c,
                "UPDATE agents SET idle_since = ?2 WHERE id IN (?1, ?3)",
                params![to.0, now, by.0],
            )?;
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
            finished(c, id, now)?;
            // A fresh wait: the skill is required until the relaxation steps come round again.
            exec(
                c,
                "UPDATE conversations SET state = ?2, assignee_id = NULL, needs = ?3, queued_at = ?4,
                 assigned_at = NULL, updated_at = ?4 WHERE id = ?1",
                params![id.as_str(), to_state.as_str(), json(&needs), now],
            )?;
            log_event(
                c,
                id,
                "state",
                serde_json::json!({"from": conv.state.as_str(), "to": to_state.as_str()}),
                now,
            )?;
            (
                desk::replies::transferred_to_skill(&conv.locale, &from, skill),
                serde_json::json!({"by": by.0, "skill": skill}),
                true,
            )
        }
    };
    log_event(c, id, "transferred", data, now)?;
    let messages = insert_messages(c, id, vec![NewMessage::system(text)], now)?;
    let mut pending = Pending::default();
    rollup::record(c, &mut pending, id, &before)?;
    rollup::flush(c, &pending)?;
    let conversation = conversation(c, id)?.ok_or(StoreError::NotFound)?;
    Ok(Appended {
        conversation,
        messages,
        state_changed,
    })
}

fn conv_waiting(conv: &Conversation) -> Waiting<()> {
    Waiting {
        key: (),
        needs: conv.handoff.clone().unwrap_or_default(),
        queued_at_ms: conv.queued_at_ms.unwrap_or(conv.updated_at_ms),
    }
}

/// Routes the whole queue in one step of the single writer, so no conversation is assigned twice
/// and no agent goes over capacity.
pub(crate) fn assign_queued(c: &Connection, rules: &Rules, now: i64) -> Result<Vec<Appended>> {
    let queued = queue(c)?;
    if queued.is_empty() {
        return Ok(Vec::new());
    }
    let mut candidates = online_candidates(c)?;
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
        let before = rollup::snapshot(c, &conv.id)?;
        let to = conv
            .state
            .apply(Transition::Assign)
            .map_err(|_| StoreError::WrongState {
                expected: "queued".into(),
                actual: conv.state,
            })?;
        exec(
            c,
            "UPDATE conversations SET state = ?2, assignee_id = ?3, updated_at = ?4, assigned_at = ?4,
             replied = 0 WHERE id = ?1",
            params![conv.id.as_str(), to.as_str(), a.agent.0, now],
        )?;
        exec(
            c,
            "UPDATE agents SET idle_since = ?2 WHERE id = ?1",
            params![a.agent.0, now],
        )?;
        log_event(
            c,
            &conv.id,
            "assigned",
            serde_json::json!({"agent": a.agent.0, "why": a.why}),
            now,
        )?;
        log_event(
            c,
            &conv.id,
            "state",
            serde_json::json!({"from": conv.state.as_str(), "to": to.as_str()}),
            now,
        )?;
        let text = desk::replies::assigned(&conv.locale, &a.why.agent_name);
        let messages = insert_messages(
            c,
            &conv.id,
            vec![NewMessage {
                author: Author::System,
                agent: None,
                text,
                action: None,
            }],
            now,
        )?;
        rollup::record(c, &mut pending, &conv.id, &before)?;
        let conversation = conversation(c, &conv.id)?.ok_or(StoreError::NotFound)?;
        out.push(Appended {
            conversation,
            messages,
            state_changed: true,
        });
    }
    rollup::flush(c, &pending)?;
    Ok(out)
}

pub(crate) fn rate(
    c: &Connection,
    now: i64,
    id: &ConversationId,
    score: u8,
    comment: Option<String>,
) -> Result<()> {
    let exists: Option<i64> = c
        .query_row(
            "SELECT 1 FROM conversations WHERE id = ?1",
            [id.as_str()],
            |r| r.get(0),
        )
        .optional()?;
    if exists.is_none() {
        return Err(StoreError::NotFound);
    }
    let before = rollup::snapshot(c, id)?;
    log_event(
        c,
        id,
        "rating",
        serde_json::json!({"score": score, "comment": comment}),
        now,
    )?;
    let mut pending = Pending::default();
    rollup::record(c, &mut pending, id, &before)?;
    rollup::flush(c, &pending)
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

/// One hit in the fixed window that `now` falls in; old windows are swept as new ones open.
pub(crate) fn count_hit(c: &Connection, key: &str, window_ms: i64) -> Result<u32> {
    let window_ms = window_ms.max(1);
    let start = now_ms() / window_ms * window_ms;
    let hits: u32 = c
        .prepare_cached(
            "INSERT INTO rate_counters (key, window_start, hits) VALUES (?1, ?2, 1)
             ON CONFLICT (key, window_start) DO UPDATE SET hits = hits + 1 RETURNING hits",
        )?
        .query_row(params![key, start], |r| r.get(0))?;
    if hits == 1 {
        exec(
            c,
            "DELETE FROM rate_counters WHERE key = ?1 AND window_start < ?2",
            params![key, start],
        )?;
    }
    Ok(hits)
}

pub(crate) fn export_agents(c: &Connection) -> Result<Vec<AgentRecord>> {
    let sql = format!("SELECT {AGENT_COLUMNS}, password_hash, created_at FROM agents ORDER BY id");
    let mut stmt = c.prepare(&sql)?;
    let rows = stmt.query_map([], |r| {
        Ok(AgentRecord {
            agent: agent_row(r)?,
            password_hash: r.get(10)?,
            created_at_ms: r.get(11)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn export_sessions(c: &Connection) -> Result<Vec<Session>> {
    let mut stmt = c.prepare(
        "SELECT token_hash, agent_id, kind, csrf, expires_at FROM sessions ORDER BY token_hash",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(Session {
            token_hash: r.get(0)?,
            agent: AgentId(r.get(1)?),
            kind: if r.get::<_, String>(2)? == "console" {
                SessionKind::Console
            } else {
                SessionKind::Api
            },
            csrf: r.get(3)?,
            expires_at_ms: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn export_conversations(c: &Connection) -> Result<Vec<ConversationRecord>> {
    let mut stmt = c.prepare(
        "SELECT id, token_hash, state, locale, customer_name, customer_email, assignee_id, needs,
         priority, queued_at, created_at, updated_at FROM conversations ORDER BY created_at, id",
    )?;
    let rows = stmt.query_map([], |r| {
        let id: String = r.get(0)?;
        let needs: Option<String> = r.get(7)?;
        Ok(ConversationRecord {
            id: ConversationId::parse(&id).ok_or(rusqlite::Error::InvalidQuery)?,
            token_hash: r.get(1)?,
            state: parse_text(&r.get::<_, String>(2)?)?,
            locale: r.get(3)?,
            customer: Customer {
                name: r.get(4)?,
                email: r.get(5)?,
            },
            assignee: r.get::<_, Option<i64>>(6)?.map(AgentId),
            needs: needs.as_deref().map(parse_json::<Needs>).transpose()?,
            priority: r.get(8)?,
            queued_at_ms: r.get(9)?,
            created_at_ms: r.get(10)?,
            updated_at_ms: r.get(11)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn export_messages(c: &Connection, after: i64, limit: u32) -> Result<Vec<Message>> {
    let mut stmt = c.prepare_cached(
        "SELECT id, conversation_id, author, agent_id, action, text, created_at
         FROM messages WHERE id > ?1 ORDER BY id LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![after, limit], message_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub(crate) fn export_events(c: &Connection, after: i64, limit: u32) -> Result<Vec<Event>> {
    let mut stmt = c.prepare_cached(
        "SELECT id, conversation_id, kind, data, created_at FROM events
         WHERE id > ?1 ORDER BY id LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![after, limit], |r| {
        let conv: String = r.get(1)?;
        Ok(Event {
            id: r.get(0)?,
            conversation: ConversationId::parse(&conv).ok_or(rusqlite::Error::InvalidQuery)?,
            kind: r.get(2)?,
            data: parse_json(&r.get::<_, String>(3)?)?,
            created_at_ms: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// `tandem bench summary` only: `n` synthetic conversations over `[from, from + span)`, 30 %
/// handed off for one of four reason sets (queued, assigned to `agent`, answered, resolved, with
/// their `state` events), a fifth rated; a third without e-mail, the rest spread over 400,000
/// returning customers. Ids start `bench_`. The rollups are left to `rollup::rebuild`.
pub(crate) fn seed_bench(c: &Connection, n: i64, from: i64, span: i64, agent: i64) -> Result<()> {
    const S: &str =
        "WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i + 1 < ?1),
        t(i, id, at) AS (SELECT i, printf('bench_%08d', i), ?2 + i * ?3 / ?1 FROM s)";
    let n = n.max(1);
    exec(
        c,
        &format!(
            "{S} INSERT INTO conversations (id, token_hash, state, locale, customer_email, created_at, updated_at)
             SELECT id, 'bench', CASE WHEN i % 10 >= 7 THEN 'resolved' ELSE 'bot' END, 'de',
               CASE WHEN i % 3 = 0 THEN NULL ELSE 'c' || (i % 400000) || '@bench.example' END, at, at
             FROM t"
        ),
        params![n, from, span],
    )?;
    exec(
        c,
        &format!(
            "{S} INSERT INTO messages (conversation_id, author, agent_id, action, text, created_at)
             SELECT id, 'customer', NULL, NULL, 'Hallo', at FROM t
             UNION ALL SELECT id, 'bot', NULL, 'answer', 'Hallo!', at + 1000 FROM t
             UNION ALL SELECT id, 'agent', ?4, NULL, 'Ich helfe gern.', at + 60000 + (i % 600) * 1000
               FROM t WHERE i % 10 >= 7"
        ),
        params![n, from, span, agent],
    )?;
    exec(
        c,
        &format!(
            "{S} INSERT INTO events (conversation_id, kind, data, created_at)
             SELECT id, 'handoff', CASE i % 4
                 WHEN 0 THEN '{{\"reasons\":[\"human_requested\"],\"skills\":[],\"locale\":\"de\"}}'
                 WHEN 1 THEN '{{\"reasons\":[\"complaint\"],\"skills\":[],\"locale\":\"de\"}}'
                 WHEN 2 THEN '{{\"reasons\":[\"low_confidence\"],\"skills\":[],\"locale\":\"de\"}}'
                 ELSE '{{\"reasons\":[\"negative_sentiment\",\"human_requested\"],\"skills\":[],\"locale\":\"de\"}}'
               END, at + 2000 FROM t WHERE i % 10 >= 7
             UNION ALL SELECT id, 'assigned', '{{\"agent\":' || ?4 || '}}', at + 3000 FROM t WHERE i % 10 >= 7
             UNION ALL SELECT id, 'resolved', '{{\"by\":' || ?4 || '}}', at + 90000 FROM t WHERE i % 10 >= 7
             UNION ALL SELECT id, 'rating', '{{\"score\":' || (1 + i % 5) || ',\"comment\":null}}', at + 100000
               FROM t WHERE i % 5 = 2
             UNION ALL SELECT id, 'state', '{{\"from\":\"bot\",\"to\":\"queued\"}}', at + 2000 FROM t WHERE i % 10 >= 7
             UNION ALL SELECT id, 'state', '{{\"from\":\"queued\",\"to\":\"assigned\"}}', at + 3000 FROM t WHERE i % 10 >= 7
             UNION ALL SELECT id, 'state', '{{\"from\":\"assigned\",\"to\":\"resolved\"}}', at + 90000 FROM t WHERE i % 10 >= 7"
        ),
        params![n, from, span, agent],
    )?;
    Ok(())
}
