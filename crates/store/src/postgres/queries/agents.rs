//! Agents and their sessions.

use super::*;

pub(crate) const AGENT_COLUMNS: &str =
    "id, name, email, role, locales, skills, competences, limits, capacity, presence";

pub(crate) fn agent_row(r: &Row) -> Result<Agent> {
    let capacity: i32 = r.try_get(8)?;
    Ok(Agent {
        id: AgentId::new(r.try_get(0)?),
        name: r.try_get(1)?,
        email: r.try_get(2)?,
        role: parse_text(r.try_get(3)?)?,
        locales: r.try_get::<_, Json<Vec<Locale>>>(4)?.0,
        skills: r.try_get::<_, Json<Vec<desk::Skill>>>(5)?.0,
        competences: r.try_get::<_, Json<desk::Competences>>(6)?.0,
        limits: r.try_get::<_, Json<Vec<String>>>(7)?.0,
        capacity: capacity.max(0) as u32,
        presence: parse_text(r.try_get(9)?)?,
    })
}

pub(crate) fn capacity(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

pub(crate) async fn insert_agent<C: GenericClient>(c: &C, now: i64, a: &NewAgent) -> Result<Agent> {
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
            &now,
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
            &a.id.get(),
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
    query_opt(c, &sql, &[&id.get()])
        .await?
        .as_ref()
        .map(agent_row)
        .transpose()
}

pub(crate) async fn agent_credentials<C: GenericClient>(
    c: &C,
    email: &str,
) -> Result<Option<(Agent, String)>> {
    let sql = format!(
        "SELECT {AGENT_COLUMNS}, password_hash FROM agents \
         WHERE lower(email) = lower($1) AND NOT disabled"
    );
    match query_opt(c, &sql, &[&email]).await? {
        Some(r) => Ok(Some((agent_row(&r)?, r.try_get(10)?))),
        None => Ok(None),
    }
}

pub(crate) async fn agents<C: GenericClient>(c: &C) -> Result<Vec<Agent>> {
    let sql = format!("SELECT {AGENT_COLUMNS} FROM agents ORDER BY id");
    query(c, &sql, &[]).await?.iter().map(agent_row).collect()
}

pub(crate) fn kind_str(kind: SessionKind) -> &'static str {
    match kind {
        SessionKind::Api => "api",
        SessionKind::Console => "console",
    }
}

pub(crate) async fn insert_session<C: GenericClient>(c: &C, now: i64, s: &Session) -> Result<()> {
    // Expired sessions are swept whenever a new one starts.
    exec(c, "DELETE FROM sessions WHERE expires_at < $1", &[&now]).await?;
    exec(
        c,
        "INSERT INTO sessions (token_hash, agent_id, kind, csrf, expires_at) VALUES ($1, $2, $3, $4, $5)",
        &[&s.token_hash, &s.agent.get(), &kind_str(s.kind), &s.csrf, &s.expires_at_ms],
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
        agent: AgentId::new(r.try_get(1)?),
        kind: if r.try_get::<_, &str>(2)? == "console" {
            SessionKind::Console
        } else {
            SessionKind::Api
        },
        csrf: r.try_get(3)?,
        expires_at_ms: r.try_get(4)?,
    }))
}

/// A new password hash for an agent, and the end of every session they have (`c` is a
/// transaction).
pub(crate) async fn set_password<C: GenericClient>(c: &C, id: AgentId, hash: &str) -> Result<()> {
    let n = exec(
        c,
        "UPDATE agents SET password_hash = $1 WHERE id = $2",
        &[&hash, &id.get()],
    )
    .await?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    exec(c, "DELETE FROM sessions WHERE agent_id = $1", &[&id.get()]).await?;
    Ok(())
}

/// Disables an agent (offline, every session ended) or enables them again (`c` is a
/// transaction).
pub(crate) async fn set_disabled<C: GenericClient>(
    c: &C,
    id: AgentId,
    disabled: bool,
) -> Result<()> {
    let n = exec(
        c,
        "UPDATE agents SET disabled = $1,
             presence = CASE WHEN $1 THEN 'offline' ELSE presence END
         WHERE id = $2",
        &[&disabled, &id.get()],
    )
    .await?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    if disabled {
        exec(c, "DELETE FROM sessions WHERE agent_id = $1", &[&id.get()]).await?;
    }
    Ok(())
}

/// Forgets who an agent was (see the SQLite twin); `c` is a transaction.
pub(crate) async fn erase_agent<C: GenericClient>(c: &C, id: AgentId) -> Result<()> {
    let n = exec(
        c,
        "UPDATE agents SET name = 'deleted agent ' || id, email = 'deleted-' || id || '@invalid',
             password_hash = '', skills = '[]', limits = '[]', disabled = TRUE,
             presence = 'offline'
         WHERE id = $1",
        &[&id.get()],
    )
    .await?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    exec(c, "DELETE FROM sessions WHERE agent_id = $1", &[&id.get()]).await?;
    Ok(())
}

/// The agents who are disabled.
pub(crate) async fn disabled_agents<C: GenericClient>(c: &C) -> Result<Vec<AgentId>> {
    let rows = query(c, "SELECT id FROM agents WHERE disabled ORDER BY id", &[]).await?;
    rows.iter()
        .map(|r| Ok(AgentId::new(r.try_get(0)?)))
        .collect()
}
