//! Agents and their sessions.

use super::*;

pub(crate) const AGENT_COLUMNS: &str =
    "id, name, email, role, locales, skills, competences, limits, capacity, presence";

pub(crate) fn agent_row(r: &Row<'_>) -> rusqlite::Result<Agent> {
    Ok(Agent {
        id: AgentId::new(r.get(0)?),
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

pub(crate) fn insert_agent(c: &Connection, now: i64, a: &NewAgent) -> Result<Agent> {
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
            now
        ],
    )?;
    agent(c, AgentId::new(c.last_insert_rowid()))?.ok_or(StoreError::NotFound)
}

pub(crate) fn agent(c: &Connection, id: AgentId) -> Result<Option<Agent>> {
    let sql = format!("SELECT {AGENT_COLUMNS} FROM agents WHERE id = ?1");
    Ok(c.query_row(&sql, [id.get()], agent_row).optional()?)
}

pub(crate) fn agent_credentials(c: &Connection, email: &str) -> Result<Option<(Agent, String)>> {
    let sql = format!(
        "SELECT {AGENT_COLUMNS}, password_hash FROM agents WHERE email = ?1 AND disabled = 0"
    );
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

pub(crate) fn insert_session(c: &Connection, now: i64, s: &Session) -> Result<()> {
    let kind = match s.kind {
        SessionKind::Api => "api",
        SessionKind::Console => "console",
    };
    // Expired sessions are swept whenever a new one starts.
    exec(c, "DELETE FROM sessions WHERE expires_at < ?1", [now])?;
    exec(
        c,
        "INSERT INTO sessions (token_hash, agent_id, kind, csrf, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![s.token_hash, s.agent.get(), kind, s.csrf, s.expires_at_ms],
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
                agent: AgentId::new(r.get(1)?),
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

/// A new password hash for an agent, and the end of every session they have (the writer runs
/// both in one savepoint).
pub(crate) fn set_password(c: &Connection, id: AgentId, hash: &str) -> Result<()> {
    let n = exec(
        c,
        "UPDATE agents SET password_hash = ?1 WHERE id = ?2",
        params![hash, id.get()],
    )?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    exec(c, "DELETE FROM sessions WHERE agent_id = ?1", [id.get()])?;
    Ok(())
}

/// Disables an agent (offline, every session ended) or enables them again.
pub(crate) fn set_disabled(c: &Connection, id: AgentId, disabled: bool) -> Result<()> {
    let n = exec(
        c,
        "UPDATE agents SET disabled = ?1,
             presence = CASE WHEN ?1 THEN 'offline' ELSE presence END
         WHERE id = ?2",
        params![disabled, id.get()],
    )?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    if disabled {
        exec(c, "DELETE FROM sessions WHERE agent_id = ?1", [id.get()])?;
    }
    Ok(())
}

/// Forgets who an agent was: name, e-mail, password, skills and limits go; the row stays,
/// disabled, so their messages keep an author id.
pub(crate) fn erase_agent(c: &Connection, id: AgentId) -> Result<()> {
    let n = exec(
        c,
        "UPDATE agents SET name = 'deleted agent ' || id, email = 'deleted-' || id || '@invalid',
             password_hash = '', skills = '[]', limits = '[]', disabled = 1, presence = 'offline'
         WHERE id = ?1",
        [id.get()],
    )?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    exec(c, "DELETE FROM sessions WHERE agent_id = ?1", [id.get()])?;
    Ok(())
}

/// The agents who are disabled.
pub(crate) fn disabled_agents(c: &Connection) -> Result<Vec<AgentId>> {
    let mut stmt = c.prepare_cached("SELECT id FROM agents WHERE disabled = 1 ORDER BY id")?;
    let rows = stmt.query_map([], |r| r.get::<_, i64>(0))?;
    Ok(rows
        .map(|r| r.map(AgentId::new))
        .collect::<rusqlite::Result<_>>()?)
}
