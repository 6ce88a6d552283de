//! The team's actions, without HTTP: an agent's presence and limits, and a new agent's account
//! checked. The API (`api::agents`) and the pages (console, admin) call these, so both apply the
//! same rules and route the queue the same way; refusals are [`DeskError`]s.

use desk::{AgentId, Competences, Locale, Presence, Role, Skill};
use store::NewAgent;

use crate::audit;
use crate::flow;
use crate::service::{DeskError, DeskResult};
use crate::state::AppState;
use crate::wire;

/// Sets an agent's presence; an agent coming online may take queued conversations at once.
pub async fn set_presence(state: &AppState, id: AgentId, presence: Presence) -> DeskResult<()> {
    state.store.set_presence(id, presence).await?;
    if presence == Presence::Online {
        flow::route(state).await;
    }
    Ok(())
}

/// Checks and stores an agent's limits and capacity, then routes the queue.
pub async fn set_limits(
    state: &AppState,
    id: AgentId,
    limits: Vec<String>,
    capacity: u32,
) -> DeskResult<()> {
    if !(1..=100).contains(&capacity) {
        return Err(DeskError::invalid("capacity must be 1–100"));
    }
    let limits: Vec<String> = limits
        .into_iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    if limits.len() > 50 || limits.iter().any(|l| l.chars().count() > 64) {
        return Err(DeskError::invalid(
            "at most 50 limits of at most 64 characters",
        ));
    }
    state.store.set_limits(id, limits, capacity).await?;
    flow::route(state).await;
    Ok(())
}

/// Validates an agent account from the API or the admin form.
pub fn validate_new_agent(
    body: wire::NewAgent,
    password_hash: impl FnOnce(&str) -> DeskResult<String>,
) -> DeskResult<NewAgent> {
    let name = desk::text::clean(&body.name).unwrap_or_default();
    let email = body.email.trim().to_owned();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(DeskError::invalid("name must be 1–200 characters"));
    }
    let email = desk::Email::parse(&email)
        .map_err(|why| DeskError::invalid(format!("email {why}")))?
        .into_string();
    desk::password::check(&body.password).map_err(DeskError::invalid)?;
    let role = match body.role.as_deref() {
        None => Role::Agent,
        Some(r) => r
            .parse()
            .map_err(|_| DeskError::invalid("role must be agent or admin"))?,
    };
    let competences = match body.competences {
        Some(c) => Competences {
            self_: c.self_,
            people: c.people,
            situational: c.situational,
        },
        None => Competences::default(),
    };
    competences.validate().map_err(DeskError::invalid)?;
    let capacity = body.capacity.unwrap_or(3);
    if !(1..=100).contains(&capacity) {
        return Err(DeskError::invalid("capacity must be 1–100"));
    }
    let clean = |v: Vec<String>| -> Vec<String> {
        v.into_iter()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect()
    };
    let locales = parsed(clean(body.locales), "locales", Locale::parse)?;
    let skills = parsed(clean(body.skills), "skills", Skill::parse)?;
    Ok(NewAgent {
        password_hash: password_hash(&body.password)?,
        name,
        email,
        role,
        locales: if locales.is_empty() {
            Locale::german_and_english()
        } else {
            locales
        },
        skills,
        competences,
        limits: clean(body.limits),
        capacity,
    })
}

/// Each of `items` parsed as a word of the desk, or which one is wrong and why.
fn parsed<W>(
    items: Vec<String>,
    field: &str,
    parse: fn(&str) -> Result<W, &'static str>,
) -> DeskResult<Vec<W>> {
    items
        .iter()
        .map(|s| parse(s).map_err(|why| DeskError::invalid(format!("{field}: {s:?} {why}"))))
        .collect()
}

/// An admin disables another agent (or enables them again). Disabling takes them offline and
/// ends their sessions, so their streams close at their next check.
pub async fn set_disabled(
    state: &AppState,
    admin: &desk::Agent,
    id: AgentId,
    disabled: bool,
    address: std::net::IpAddr,
) -> DeskResult<()> {
    if disabled && admin.id == id {
        return Err(DeskError::Forbidden(
            "admins cannot disable themselves".into(),
        ));
    }
    state.store.set_disabled(id, disabled).await?;
    let action = if disabled {
        "agent_disabled"
    } else {
        "agent_enabled"
    };
    audit::record(
        state,
        Some(admin.id),
        action,
        audit::agent(id),
        Some(address),
    )
    .await;
    if disabled {
        requeue_all(state, id).await?;
    }
    Ok(())
}

/// Sends every conversation assigned to `agent` back to the queue, where routing gives it to a
/// colleague who fits.
async fn requeue_all(state: &AppState, agent: AgentId) -> DeskResult<()> {
    for c in state.store.assigned_to(agent).await? {
        if c.state == desk::ConversationState::Assigned {
            flow::transfer(state, &c, agent, store::TransferTo::Queue).await?;
        }
    }
    Ok(())
}

/// An admin deletes another agent: who they were is forgotten, the account is disabled.
pub async fn erase(
    state: &AppState,
    admin: &desk::Agent,
    id: AgentId,
    address: std::net::IpAddr,
) -> DeskResult<()> {
    if admin.id == id {
        return Err(DeskError::Forbidden(
            "admins cannot delete themselves".into(),
        ));
    }
    state.store.erase_agent(id).await?;
    audit::record(
        state,
        Some(admin.id),
        "agent_deleted",
        audit::agent(id),
        Some(address),
    )
    .await;
    requeue_all(state, id).await?;
    Ok(())
}

/// An agent changes their own password: the current one proves it is them, the new one follows
/// the desk's rules (`desk::password`). Every session of theirs ends, this one included.
pub async fn change_password(
    state: &AppState,
    agent: &desk::Agent,
    current: &str,
    new: &str,
) -> DeskResult<()> {
    let (_, hash) = state
        .store
        .agent_credentials(&agent.email)
        .await?
        .ok_or(DeskError::NotFound)?;
    let current = current.to_owned();
    let proven = tokio::task::spawn_blocking(move || crate::auth::verify_password(&current, &hash))
        .await
        .unwrap_or(false);
    if !proven {
        return Err(DeskError::Forbidden("the current password is wrong".into()));
    }
    desk::password::check(new).map_err(DeskError::invalid)?;
    let hash = password_hash(new)?;
    state.store.set_password(agent.id, hash).await?;
    tracing::info!(agent = agent.id.get(), "password changed");
    Ok(())
}

/// The stored hash of a new agent's password (argon2id), as [`validate_new_agent`] takes it.
pub fn password_hash(password: &str) -> DeskResult<String> {
    crate::auth::hash_password(password).map_err(|_| DeskError::Internal)
}
